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

use super::{Endpoint, EndpointMode, RequestOp, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A header section larger than this is refused (Python's line limit is 64 KiB).
const MAX_HEAD: usize = 64 << 10;
/// Header fields per message (Python's `http.client` allows 100).
const MAX_HEADERS: usize = 100;
/// A body larger than this is refused (the testsuite's bodies are a few bytes).
const MAX_BODY: usize = 16 << 20;
/// `requests`' `timeout=5`: for connecting and for each read.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// `requests` follows at most 30 redirects.
const MAX_REDIRECTS: usize = 30;
/// Connections an endpoint server serves at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 64;
/// The pause between a reply's header block and its body. Upstream's handler (Python) sends them
/// in two `send`s a few hundred microseconds apart, so the body reaches the guest's HTTP client
/// after the headers; wasmtime 49.0.3 loses a body that comes late (upstream's verdict on
/// `http-client-trailers`), and without the pause the body would ride with the headers often
/// enough to hide that. One millisecond per reply that has a body; nothing waits on it.
const BODY_AFTER_HEAD: Duration = Duration::from_millis(1);
/// How long an endpoint server waits for a request's bytes.
const SERVER_READ_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Header fields as received: names as written, values as bytes.
type Fields = Vec<(String, Vec<u8>)>;
type Head = (u16, Fields);
/// Trailer fields: lower-cased names, text values.
type Trailers = Vec<(String, String)>;

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

/// The endpoint servers of a test, listening until dropped.
pub struct Servers {
    /// `HTTP_SERVER_<NAME>` → `127.0.0.1:PORT`, in the spec's order.
    pub env: Vec<(String, String)>,
    running: Vec<(SocketAddr, Arc<AtomicBool>)>,
}

impl Servers {
    /// Stand up every server of `specs`: a listening one on `127.0.0.1:0`; a closed one is an
    /// address that was bound, read and released, so nothing listens there.
    pub fn start(specs: &[Server]) -> std::io::Result<Servers> {
        let mut servers = Servers {
            env: Vec::new(),
            running: Vec::new(),
        };
        for spec in specs {
            let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            let addr = l.local_addr()?;
            servers.env.push((spec.env_var(), addr.to_string()));
            if spec.closed {
                drop(l);
                continue;
            }
            let stop = Arc::new(AtomicBool::new(false));
            servers.running.push((addr, stop.clone()));
            let routes = Arc::new(spec.endpoints.clone());
            std::thread::Builder::new()
                .name("wasmcert-endpoint".into())
                .spawn(move || serve(l, routes, stop))?;
        }
        Ok(servers)
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for (addr, stop) in &self.running {
            stop.store(true, Ordering::SeqCst);
            // Wake the accept loop so it sees the flag.
            let _ = TcpStream::connect_timeout(addr, Duration::from_millis(200));
        }
    }
}

fn serve(l: TcpListener, routes: Arc<Vec<Endpoint>>, stop: Arc<AtomicBool>) {
    let active = Arc::new(AtomicUsize::new(0));
    for conn in l.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (routes, mine) = (routes.clone(), active.clone());
        let spawned = std::thread::Builder::new()
            .name("wasmcert-endpoint-conn".into())
            .spawn(move || {
                let _ = handle(conn, &routes);
                mine.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        418 => "I'm a Teapot",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// One connection, one request, one reply, then close (upstream's handler sets
/// `close_connection` and `Connection: close` on every reply).
fn handle(conn: TcpStream, routes: &[Endpoint]) -> std::io::Result<()> {
    conn.set_read_timeout(Some(SERVER_READ_TIMEOUT))?;
    conn.set_write_timeout(Some(SERVER_READ_TIMEOUT))?;
    let mut w = conn.try_clone()?;
    let r = BufReader::new(conn);
    let result = answer(r, &mut w, routes);
    // socketserver's shutdown_request: end of the writing side first, then close.
    let _ = w.shutdown(std::net::Shutdown::Write);
    result
}

/// Read the request and write the reply. Writes are issued as Python's handler issues them
/// (the header block in one `send`, the body in another, each chunk and trailer line in its
/// own, Nagle left on): runtimes' HTTP clients have been seen to depend on that timing.
fn answer(
    mut r: BufReader<TcpStream>,
    w: &mut TcpStream,
    routes: &[Endpoint],
) -> std::io::Result<()> {
    let w = &mut *w;
    let mut budget = MAX_HEAD;
    let line = read_line(&mut r, &mut budget)?;
    let l = String::from_utf8_lossy(trim_eol(&line)).into_owned();
    if l.is_empty() {
        return Ok(());
    }
    let words: Vec<&str> = l.split_whitespace().collect();
    let [method, target, version] = words[..] else {
        return reply(w, "GET", 400, &[], b"");
    };
    if !version.starts_with("HTTP/") {
        return reply(w, method, 400, &[], b"");
    }
    let fields = match read_fields(&mut r, &mut budget) {
        Ok(f) => f,
        Err(_) => return reply(w, method, 431, &[], b""),
    };
    if version == "HTTP/1.1"
        && header(&fields, "expect").is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"))
    {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    if !METHODS.contains(&method) {
        return reply(w, method, 501, &[], b"");
    }
    let (body, trailers) = read_body(&mut r, &fields, false)?;
    let Some(ep) = routes
        .iter()
        .rev()
        .find(|e| e.method == method && e.path == target)
    else {
        return reply(w, method, 404, &[], b"");
    };
    match ep.mode {
        EndpointMode::EchoBody => reply(w, method, 200, &[], &body),
        EndpointMode::EchoHeaders => {
            let mut echoed: Vec<(String, Vec<u8>)> = vec![
                ("x-request-method".into(), method.as_bytes().to_vec()),
                ("x-request-path".into(), target.as_bytes().to_vec()),
            ];
            let mut names: Vec<String> = Vec::new();
            for (k, _) in &fields {
                let k = k.to_lowercase();
                if !names.contains(&k) {
                    names.push(k);
                }
            }
            for n in names {
                for (k, v) in &fields {
                    if k.eq_ignore_ascii_case(&n) {
                        echoed.push((format!("x-echo-{n}"), v.clone()));
                    }
                }
            }
            for (k, v) in trailers {
                echoed.push((format!("x-trailer-{k}"), v.into_bytes()));
            }
            reply(w, method, 200, &echoed, b"")
        }
        EndpointMode::Static => {
            let Some(resp) = &ep.response else {
                return reply(w, method, 200, &[], b"");
            };
            let headers: Vec<(String, Vec<u8>)> = resp
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
                .collect();
            match &resp.chunks {
                None => reply(w, method, resp.status, &headers, resp.body.as_bytes()),
                Some(chunks) => {
                    let mut head = status_line(resp.status);
                    for (k, v) in &headers {
                        head.extend_from_slice(k.as_bytes());
                        head.extend_from_slice(b": ");
                        head.extend_from_slice(v);
                        head.extend_from_slice(b"\r\n");
                    }
                    head.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                    if !resp.trailers.is_empty() {
                        let names: Vec<&str> =
                            resp.trailers.iter().map(|(k, _)| k.as_str()).collect();
                        head.extend_from_slice(
                            format!("Trailer: {}\r\n", names.join(", ")).as_bytes(),
                        );
                    }
                    head.extend_from_slice(b"Connection: close\r\n\r\n");
                    w.write_all(&head)?;
                    if method != "HEAD" {
                        std::thread::sleep(BODY_AFTER_HEAD);
                        for c in chunks {
                            let mut chunk = format!("{:x}\r\n", c.len()).into_bytes();
                            chunk.extend_from_slice(c.as_bytes());
                            chunk.extend_from_slice(b"\r\n");
                            w.write_all(&chunk)?;
                        }
                        w.write_all(b"0\r\n")?;
                        for (k, v) in &resp.trailers {
                            w.write_all(format!("{k}: {v}\r\n").as_bytes())?;
                        }
                        w.write_all(b"\r\n")?;
                    }
                    Ok(())
                }
            }
        }
    }
}

fn status_line(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes()
}

fn reply(
    w: &mut TcpStream,
    method: &str,
    status: u16,
    headers: &[(String, Vec<u8>)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut msg = status_line(status);
    for (k, v) in headers {
        msg.extend_from_slice(k.as_bytes());
        msg.extend_from_slice(b": ");
        msg.extend_from_slice(v);
        msg.extend_from_slice(b"\r\n");
    }
    msg.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    w.write_all(&msg)?;
    if method != "HEAD" && !body.is_empty() {
        std::thread::sleep(BODY_AFTER_HEAD);
        w.write_all(body)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite::{EndpointResponse, ExpectedResponse};

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
