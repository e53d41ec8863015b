//! HTTP/1.1 for the WASI testsuite's operations, with the behaviour of upstream's reference
//! runner (docs/wasi-testsuite.md lists the few deliberate differences):
//!
//! - [`request`]: what `requests.request(method, url, headers, data, timeout=5)` sends to a
//!   guest's `wasi:http/service` and how the answer is read (`status_code`, the
//!   case-insensitive `headers` with repeated fields joined by `, `, `text` decoded by the
//!   charset rules of `requests`);
//! - [`Servers`]: the endpoint servers of a spec's `servers` (upstream's
//!   `ThreadingHTTPServer` with `_EndpointRequestHandler`): one request per connection,
//!   routed on the method and the raw request target, `static`, `echo-body` and
//!   `echo-headers` answers, chunked bodies and trailers both ways.
//!
//! Both sides read hostile bytes (a guest's service, a guest's outbound requests): header
//! sections, bodies and chunk sizes are bounded, every read has a timeout.
//!
//! `client.rs` is the `requests` side, `server.rs` the endpoint servers; this file reads the
//! HTTP/1.1 messages both receive.

mod client;
mod server;

pub use client::{RequestError, Response, join_url, request};
pub use server::Servers;

use std::io::{BufRead, Read};

/// A header section larger than this is refused (Python's line limit is 64 KiB).
const MAX_HEAD: usize = 64 << 10;
/// Header fields per message (Python's `http.client` allows 100).
const MAX_HEADERS: usize = 100;
/// A body larger than this is refused (the testsuite's bodies are a few bytes).
const MAX_BODY: usize = 16 << 20;

/// Header fields as received: names as written, values as bytes.
type Fields = Vec<(String, Vec<u8>)>;
type Head = (u16, Fields);
/// Trailer fields: lower-cased names, text values.
type Trailers = Vec<(String, String)>;

fn read_line<R: BufRead>(r: &mut R, budget: &mut usize) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if n > *budget {
        return Err(std::io::Error::other("header section too large"));
    }
    *budget -= n;
    Ok(line)
}

fn trim_eol(mut l: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r' | b'\n'] = l {
        l = rest;
    }
    l
}

/// Header fields up to the blank line (continuation lines folded into the field before).
fn read_fields<R: BufRead>(
    r: &mut R,
    budget: &mut usize,
) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let line = read_line(r, budget)?;
        if line.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = trim_eol(&line);
        if l.is_empty() {
            return Ok(fields);
        }
        if matches!(l[0], b' ' | b'\t') {
            if let Some((_, v)) = fields.last_mut() {
                v.extend_from_slice(l);
            }
            continue;
        }
        let Some(colon) = l.iter().position(|&b| b == b':') else {
            return Err(std::io::Error::other("a header line without `:`"));
        };
        let name = String::from_utf8_lossy(&l[..colon]).trim().to_string();
        let mut v = &l[colon + 1..];
        while let [b' ' | b'\t', rest @ ..] = v {
            v = rest;
        }
        fields.push((name, v.to_vec()));
        if fields.len() > MAX_HEADERS {
            return Err(std::io::Error::other("more than 100 header fields"));
        }
    }
}

fn read_head<R: BufRead>(r: &mut R) -> std::io::Result<Head> {
    let mut budget = MAX_HEAD;
    let line = read_line(r, &mut budget)?;
    let l = String::from_utf8_lossy(trim_eol(&line)).into_owned();
    let mut words = l.splitn(3, ' ');
    let (v, code) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if !v.starts_with("HTTP/") {
        return Err(std::io::Error::other(format!(
            "not an HTTP response: {l:?}"
        )));
    }
    let status = code
        .parse::<u16>()
        .map_err(|_| std::io::Error::other(format!("bad status line {l:?}")))?;
    Ok((status, read_fields(r, &mut budget)?))
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// A message body: chunked (with trailers, names lower-cased), by `Content-Length`, or (a
/// response without either) up to the end of the connection.
fn read_body<R: BufRead>(
    r: &mut R,
    headers: &[(String, Vec<u8>)],
    to_eof: bool,
) -> std::io::Result<(Vec<u8>, Trailers)> {
    let chunked = header(headers, "transfer-encoding").is_some_and(|v| {
        String::from_utf8_lossy(v)
            .to_ascii_lowercase()
            .contains("chunked")
    });
    let mut body = Vec::new();
    if chunked {
        let mut budget = MAX_HEAD;
        loop {
            let line = read_line(r, &mut budget)?;
            if line.is_empty() {
                return Ok((body, Vec::new()));
            }
            let size = String::from_utf8_lossy(trim_eol(&line));
            let size = size.split(';').next().unwrap_or("").trim().to_string();
            let size = usize::from_str_radix(size.trim_start_matches("0x"), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
            if size == 0 {
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(std::io::Error::other("body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf)?;
        }
        // Trailers, like headers, up to a blank line; later names replace earlier ones.
        let mut trailers: Vec<(String, String)> = Vec::new();
        loop {
            let line = read_line(r, &mut budget)?;
            let l = trim_eol(&line);
            if line.is_empty() || l.is_empty() {
                return Ok((body, trailers));
            }
            let text = String::from_utf8_lossy(l);
            let (k, v) = text.split_once(':').unwrap_or((&text, ""));
            let (k, v) = (k.trim().to_lowercase(), v.trim().to_string());
            match trailers.iter_mut().find(|(n, _)| *n == k) {
                Some(t) => t.1 = v,
                None => trailers.push((k, v)),
            }
            if trailers.len() > MAX_HEADERS {
                return Err(std::io::Error::other("more than 100 trailer fields"));
            }
        }
    }
    match header(headers, "content-length") {
        Some(v) => {
            let n: usize = String::from_utf8_lossy(v)
                .trim()
                .parse()
                .map_err(|_| std::io::Error::other("bad Content-Length"))?;
            if n > MAX_BODY {
                return Err(std::io::Error::other("body too large"));
            }
            body.resize(n, 0);
            r.read_exact(&mut body)?;
        }
        None if to_eof => {
            r.take(MAX_BODY as u64 + 1).read_to_end(&mut body)?;
            if body.len() > MAX_BODY {
                return Err(std::io::Error::other("body too large"));
            }
        }
        None => {}
    }
    Ok((body, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite::{
        Endpoint, EndpointMode, EndpointResponse, ExpectedResponse, RequestOp, Server,
    };
    use std::time::{Duration, Instant};

    fn get(path: &str) -> RequestOp {
        RequestOp {
            method: "get".into(),
            path: path.into(),
            headers: vec![("X-Multi".into(), "a".into())],
            body: String::new(),
            response: ExpectedResponse {
                status: 200,
                headers: Vec::new(),
                body: String::new(),
            },
        }
    }

    #[test]
    fn endpoint_servers_answer_as_upstream_s_handler() {
        let spec = Server {
            name: "main".into(),
            closed: false,
            endpoints: vec![
                Endpoint {
                    method: "GET".into(),
                    path: "/s?x=1".into(),
                    mode: EndpointMode::Static,
                    response: Some(EndpointResponse {
                        status: 201,
                        headers: vec![("content-type".into(), "text/plain".into())],
                        body: "caf\u{e9}".into(),
                        chunks: None,
                        trailers: Vec::new(),
                    }),
                },
                Endpoint {
                    method: "GET".into(),
                    path: "/c".into(),
                    mode: EndpointMode::Static,
                    response: Some(EndpointResponse {
                        status: 200,
                        headers: Vec::new(),
                        body: String::new(),
                        chunks: Some(vec!["one".into(), "two".into()]),
                        trailers: vec![("x-sum".into(), "1".into())],
                    }),
                },
                Endpoint {
                    method: "GET".into(),
                    path: "/h".into(),
                    mode: EndpointMode::EchoHeaders,
                    response: None,
                },
                Endpoint {
                    method: "POST".into(),
                    path: "/b".into(),
                    mode: EndpointMode::EchoBody,
                    response: None,
                },
            ],
        };
        let closed = Server {
            name: "dead".into(),
            closed: true,
            endpoints: Vec::new(),
        };
        let s = Servers::start(&[spec, closed]).unwrap();
        assert_eq!(s.env[0].0, "HTTP_SERVER_MAIN");
        assert_eq!(s.env[1].0, "HTTP_SERVER_DEAD");
        let base = format!("http://{}", s.env[0].1);
        let soon = Instant::now() + Duration::from_secs(10);
        let r = request(&base, &get("/s?x=1"), soon).unwrap();
        assert_eq!(r.status, 201);
        // text/plain without a charset reads as ISO-8859-1, as `requests` reads it.
        assert_eq!(r.text, "caf\u{c3}\u{a9}");
        assert_eq!(r.header("Connection"), Some("close"));
        let r = request(&base, &get("/c"), soon).unwrap();
        assert_eq!(r.text, "onetwo");
        assert_eq!(r.header("trailer"), Some("x-sum"));
        let r = request(&base, &get("/h"), soon).unwrap();
        assert_eq!(r.header("x-request-method"), Some("GET"));
        assert_eq!(r.header("x-echo-x-multi"), Some("a"));
        assert_eq!(
            r.header("x-echo-host").map(|h| h.starts_with("127.0.0.1:")),
            Some(true)
        );
        let mut post = get("/b");
        post.method = "POST".into();
        post.body = "echo me".into();
        assert_eq!(request(&base, &post, soon).unwrap().text, "echo me");
        assert_eq!(request(&base, &get("/nope"), soon).unwrap().status, 404);
        let dead = format!("http://{}", s.env[1].1);
        assert!(request(&dead, &get("/"), soon).is_err());
    }
}
