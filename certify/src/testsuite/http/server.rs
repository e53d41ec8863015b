//! The endpoint servers of a spec's `servers` (upstream's `ThreadingHTTPServer` with
//! `_EndpointRequestHandler`): one request per connection, routed on the method and the raw
//! request target, `static`, `echo-body` and `echo-headers` answers, chunked bodies and
//! trailers both ways.

use super::{MAX_HEAD, header, read_body, read_fields, read_line, trim_eol};
use crate::testsuite::{Endpoint, EndpointMode, Server};
use std::io::{BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

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
