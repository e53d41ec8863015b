//! A hostile (or merely scripted) registry for attack tests: a plain HTTP/1.1 server on a
//! loopback address that records every request (method, target, headers) and answers with a
//! handler the test writes: 401 challenges naming a token realm elsewhere, manifests that never
//! end, a 10 GB `Content-Length`, or an OCI layout served the way a registry serves it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

pub type Handler = dyn Fn(&Request, &mut TcpStream) + Send + Sync;

pub struct FakeRegistry {
    /// `ip:port`, as a reference names the registry.
    pub addr: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeRegistry {
    /// Listen on `ip` (a free port) and answer every request with `handler`.
    pub fn start(
        ip: &str,
        handler: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static,
    ) -> FakeRegistry {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        // The threads live as long as the test process; the listener is never closed.
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(stream) = conn else { continue };
                let handler = handler.clone();
                let recorded = recorded.clone();
                std::thread::spawn(move || serve_connection(stream, &*handler, &recorded));
            }
        });
        FakeRegistry { addr, requests }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve_connection(mut stream: TcpStream, handler: &Handler, recorded: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        // A TLS ClientHello (record type 22) is recorded as method `TLS` and hung up on: this
        // server only speaks plain HTTP.
        if reader.fill_buf().ok().and_then(|b| b.first().copied()) == Some(0x16) {
            recorded.lock().unwrap().push(Request {
                method: "TLS".into(),
                target: String::new(),
                headers: Vec::new(),
            });
            return;
        }
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let mut req = Request {
            method: method.to_string(),
            target: target.to_string(),
            headers: Vec::new(),
        };
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                req.headers
                    .push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        recorded.lock().unwrap().push(req.clone());
        handler(&req, &mut stream);
        if stream.flush().is_err() {
            return;
        }
    }
}

/// A complete response with a `Content-Length`.
pub fn respond(s: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

/// A 200 whose chunked body never ends (until the client hangs up): what a registry does to
/// make a client that buffers bodies grow without bound.
pub fn stream_forever(s: &mut TcpStream, content_type: &str) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    if s.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b'a'; 64 << 10];
    let framed = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk,
        b"\r\n".to_vec(),
    ]
    .concat();
    // At most 64 GiB, far past any cap, so a client that does not stop is noticed.
    for _ in 0..(1u64 << 20) {
        if s.write_all(&framed).is_err() {
            return;
        }
    }
}

/// A 200 that declares `length` bytes and sends them as fast as the client reads.
pub fn stream_declared(s: &mut TcpStream, content_type: &str, length: u64) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    );
    if s.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b'a'; 64 << 10];
    let mut sent = 0u64;
    while sent < length {
        let n = chunk.len().min((length - sent) as usize);
        if s.write_all(&chunk[..n]).is_err() {
            return;
        }
        sent += n as u64;
    }
}

/// Answer a distribution API GET from an OCI layout directory (the repository name is
/// ignored): manifests by tag or digest, blobs by digest, 404 otherwise.
pub fn serve_layout(dir: &Path, req: &Request, s: &mut TcpStream) {
    let path = req.path();
    let not_found = |s: &mut TcpStream| {
        respond(
            s,
            "404 Not Found",
            &[("Content-Type", "application/json")],
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#,
        )
    };
    let blob = |digest: &str| {
        std::fs::read(
            dir.join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .ok()
    };
    if let Some((_, reference)) = path.rsplit_once("/manifests/") {
        let digest = if reference.starts_with("sha256:") {
            Some(reference.to_string())
        } else {
            let index: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
            index["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == reference)
                .map(|m| m["digest"].as_str().unwrap().to_string())
        };
        match digest
            .as_deref()
            .and_then(|d| blob(d).map(|b| (d.to_string(), b)))
        {
            Some((d, bytes)) => {
                let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let mt = m["mediaType"]
                    .as_str()
                    .unwrap_or("application/vnd.oci.image.manifest.v1+json");
                respond(
                    s,
                    "200 OK",
                    &[("Content-Type", mt), ("Docker-Content-Digest", &d)],
                    &bytes,
                )
            }
            None => not_found(s),
        }
    } else if let Some((_, digest)) = path.rsplit_once("/blobs/") {
        match blob(digest) {
            Some(bytes) => respond(
                s,
                "200 OK",
                &[("Content-Type", "application/octet-stream")],
                &bytes,
            ),
            None => not_found(s),
        }
    } else if path == "/v2/" {
        respond(s, "200 OK", &[], b"{}")
    } else {
        not_found(s)
    }
}
