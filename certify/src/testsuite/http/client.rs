//! The `requests` side: what `requests.request(method, url, headers, data, timeout=5)` sends
//! to a guest's `wasi:http/service` and how the answer is read.

use super::{Fields, read_body, read_head};
use crate::testsuite::RequestOp;
use std::io::{BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

/// `requests`' `timeout=5`: for connecting and for each read.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// `requests` follows at most 30 redirects.
const MAX_REDIRECTS: usize = 30;

/// The answer to a `request`, as `requests` presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Names as received; values of repeated fields joined with `, `.
    pub headers: Vec<(String, String)>,
    /// `response.text`.
    pub text: String,
}

impl Response {
    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// upstream's `join_http_url`: the service's base URL and the operation's path.
pub fn join_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if path.starts_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

/// `requests`' `requote_uri`: percent-escapes of unreserved characters are decoded, then
/// everything outside the URI's reserved and unreserved sets is escaped (a `%` that does not
/// start an escape included).
fn requote(target: &str) -> String {
    let b = target.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&x| hex(x)),
                b.get(i + 2).and_then(|&x| hex(x)),
            ) {
                let v = (h * 16 + l) as u8;
                if v.is_ascii_alphanumeric() || b"-._~".contains(&v) {
                    out.push(v as char);
                } else {
                    out.push_str(&target[i..i + 3]);
                }
                i += 3;
                continue;
            }
            out.push_str("%25");
        } else if c.is_ascii_alphanumeric() || b"-._~!#$&'()*+,/:;=?@[]".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
        i += 1;
    }
    out
}

/// `http://HOST:PORT/...` split into the address, the authority as written and the request
/// target (fragment dropped, escaped as `requests` escapes it).
fn split_url(url: &str) -> Result<(SocketAddr, String, String), RequestError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| RequestError::Refused(format!("{url:?} is not an http:// URL")))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let mut target = rest[end..].split('#').next().unwrap_or("").to_string();
    if target.is_empty() || target.starts_with('?') {
        target.insert(0, '/');
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| RequestError::Refused(format!("bad port in {url:?}")))?,
        ),
        None => (authority, 80),
    };
    // The service prints a loopback address; names are not resolved (no DNS from a test).
    let ip: Ipv4Addr = match host {
        "localhost" => Ipv4Addr::LOCALHOST,
        h => h.parse().map_err(|_| {
            RequestError::Refused(format!(
                "{host:?} is not an IPv4 address (names are not resolved)"
            ))
        })?,
    };
    Ok((
        SocketAddr::V4(SocketAddrV4::new(ip, port)),
        authority.to_string(),
        requote(&target),
    ))
}

/// Why a `request` got no answer to compare.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request cannot be made as asked (the URL, a header, a redirect, the deadline).
    #[error("{0}")]
    Refused(String),
    /// The exchange failed: what was being done and the error, on one line (a failed
    /// operation quotes it whole).
    #[error("{doing}: {error}")]
    Io {
        doing: String,
        error: std::io::Error,
    },
    /// The socket could not be set up.
    #[error(transparent)]
    Socket(std::io::Error),
}

impl RequestError {
    fn io(doing: &str) -> impl FnOnce(std::io::Error) -> RequestError {
        let doing = doing.to_string();
        move |error| RequestError::Io { doing, error }
    }
}

/// `requests`' header check: no line breaks, no leading whitespace in a value.
fn valid_header(name: &str, value: &str) -> bool {
    let n = name.as_bytes();
    !n.is_empty()
        && !n[0].is_ascii_whitespace()
        && !name.contains([':', '\r', '\n'])
        && (value.is_empty()
            || (!value.as_bytes()[0].is_ascii_whitespace() && !value.contains(['\r', '\n'])))
}

/// Send `op` to the service at `base` and read the answer, as upstream's runner does with
/// `requests` (redirects are followed on the same host and port only).
pub fn request(base: &str, op: &RequestOp, deadline: Instant) -> Result<Response, RequestError> {
    for (k, v) in &op.headers {
        if !valid_header(k, v) {
            return Err(RequestError::Refused(format!(
                "invalid header {k:?}: {v:?}"
            )));
        }
    }
    let mut url = join_url(base, &op.path);
    let mut method = op.method.to_uppercase();
    let mut body = op.body.as_bytes().to_vec();
    let mut send_body = !body.is_empty();
    let (origin, _, _) = split_url(&url)?;
    for _ in 0..=MAX_REDIRECTS {
        let (addr, authority, target) = split_url(&url)?;
        if addr != origin {
            return Err(RequestError::Refused(format!(
                "a redirect to another host ({url}) is not followed"
            )));
        }
        let (status, headers, raw) = exchange(
            addr,
            &authority,
            &target,
            &method,
            &op.headers,
            send_body.then_some(&body[..]),
            deadline,
        )?;
        let location = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        if let (true, Some(loc)) = (matches!(status, 301 | 302 | 303 | 307 | 308), location) {
            url = if loc.starts_with("http://") {
                loc
            } else if loc.starts_with('/') {
                format!("http://{authority}{loc}")
            } else {
                let dir = target.rsplit_once('/').map_or("", |(d, _)| d);
                format!("http://{authority}{dir}/{loc}")
            };
            // `requests`' rebuild_method: 303 and 302 become GET (HEAD stays), 301 turns POST
            // into GET; the body goes with the method.
            if (matches!(status, 302 | 303) && method != "HEAD")
                || (status == 301 && method == "POST")
            {
                method = "GET".into();
                body.clear();
                send_body = false;
            }
            continue;
        }
        return Ok(Response {
            status,
            text: text(&headers, &raw),
            headers: joined(headers),
        });
    }
    Err(RequestError::Refused(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

/// Repeated header fields joined with `, `, in first-appearance order.
fn joined(headers: Vec<(String, Vec<u8>)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in headers {
        // Python's http.client decodes header bytes as ISO-8859-1.
        let v: String = v.iter().map(|&b| b as char).collect();
        match out.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&k)) {
            Some((_, old)) => {
                old.push_str(", ");
                old.push_str(&v);
            }
            None => out.push((k, v)),
        }
    }
    out
}

/// `requests`' `response.text`: the charset of `Content-Type`, ISO-8859-1 for `text/*`
/// without one, UTF-8 otherwise (where `requests` guesses, a guess that is UTF-8 for the text a
/// test compares).
fn text(headers: &[(String, Vec<u8>)], body: &[u8]) -> String {
    let ct = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
    let latin1 = |b: &[u8]| b.iter().map(|&c| c as char).collect::<String>();
    let Some(ct) = ct else {
        return String::from_utf8_lossy(body).into_owned();
    };
    let mut parts = ct.split(';');
    let media = parts.next().unwrap_or("").trim().to_string();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| v.trim().trim_matches(['\'', '"']).to_ascii_lowercase())
    });
    match charset.as_deref() {
        Some("iso-8859-1" | "latin-1" | "latin1" | "iso8859-1" | "l1") => latin1(body),
        Some(_) => String::from_utf8_lossy(body).into_owned(),
        None if media.contains("text") => latin1(body),
        None => String::from_utf8_lossy(body).into_owned(),
    }
}

/// One request on a fresh connection, one response read to its end.
fn exchange(
    addr: SocketAddr,
    authority: &str,
    target: &str,
    method: &str,
    extra: &[(String, String)],
    body: Option<&[u8]>,
    deadline: Instant,
) -> Result<(u16, Fields, Vec<u8>), RequestError> {
    let left = || deadline.saturating_duration_since(Instant::now());
    if left().is_zero() {
        return Err(RequestError::Refused("the runner's deadline passed".into()));
    }
    let mut s =
        TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT.min(left())).map_err(|error| {
            RequestError::Io {
                doing: format!("connecting to {addr}"),
                error,
            }
        })?;
    let _ = s.set_nodelay(true);
    s.set_read_timeout(Some(
        REQUEST_TIMEOUT.min(left()).max(Duration::from_millis(1)),
    ))
    .map_err(RequestError::Socket)?;
    s.set_write_timeout(Some(REQUEST_TIMEOUT))
        .map_err(RequestError::Socket)?;
    // `requests`' default headers (Host first, from urllib3), then the spec's, which replace
    // a default of the same name in its place.
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), authority.into()),
        (
            "User-Agent".into(),
            format!("wasmcert/{}", env!("CARGO_PKG_VERSION")),
        ),
        // `requests` offers gzip and deflate and decodes them; no testsuite service compresses,
        // and a body this client cannot decode must not pass as text.
        ("Accept-Encoding".into(), "identity".into()),
        ("Accept".into(), "*/*".into()),
        ("Connection".into(), "keep-alive".into()),
    ];
    for (k, v) in extra {
        match headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
            Some(h) => *h = (k.clone(), v.clone()),
            None => headers.push((k.clone(), v.clone())),
        }
    }
    match body {
        Some(b) => headers.push(("Content-Length".into(), b.len().to_string())),
        None if method != "GET" && method != "HEAD" => {
            headers.push(("Content-Length".into(), "0".into()))
        }
        None => {}
    }
    let mut msg = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (k, v) in &headers {
        msg.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    msg.extend_from_slice(b"\r\n");
    if let Some(b) = body {
        msg.extend_from_slice(b);
    }
    s.write_all(&msg)
        .map_err(RequestError::io("sending the request"))?;
    let mut r = BufReader::new(s);
    loop {
        let (status, headers) =
            read_head(&mut r).map_err(RequestError::io("reading the response"))?;
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let no_body = method == "HEAD" || status == 204 || status == 304 || status < 200;
        let raw = if no_body {
            Vec::new()
        } else {
            read_body(&mut r, &headers, true)
                .map_err(RequestError::io("reading the response body"))?
                .0
        };
        return Ok((status, headers, raw));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_joined_and_requoted_as_requests_does() {
        assert_eq!(
            join_url("http://127.0.0.1:1/", "/a"),
            "http://127.0.0.1:1/a"
        );
        assert_eq!(
            join_url("http://127.0.0.1:1//", "a"),
            "http://127.0.0.1:1/a"
        );
        assert_eq!(requote("/a b/%41%2F%zz?q=ü"), "/a%20b/A%2F%25zz?q=%C3%BC");
        let (_, auth, target) = split_url("http://127.0.0.1:8/x?y#frag").unwrap();
        assert_eq!((auth.as_str(), target.as_str()), ("127.0.0.1:8", "/x?y"));
        assert!(split_url("http://example.com/").is_err());
    }
}
