//! The HTTPS endpoint: rustls (ring) in front of hyper's HTTP/1.1 server. `POST /validate`
//! takes an AdmissionReview; `GET /healthz` answers `ok`; `GET /stats` the counters. Every
//! input is bounded: the TLS handshake and the headers in time, the body in size and time,
//! the number of connections served at once.

use crate::service::Admitter;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 1024;
/// Time for a client to finish the TLS handshake and send its headers.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Largest AdmissionReview accepted (the API server's objects are at most a few MiB).
    pub max_request_bytes: usize,
}

/// Read the certificate chain and key; errors name the file.
pub fn tls_config(cert: &PathBuf, key: &PathBuf) -> Result<rustls::ServerConfig, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: not a PEM private key: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not make a TLS identity: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("a static response builds")
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a static response builds")
}

async fn handle(
    admitter: Arc<Admitter>,
    max: usize,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    use std::sync::atomic::Ordering::Relaxed;
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/stats") => {
            let s = &admitter.stats;
            let body = serde_json::json!({
                "reviews": s.reviews.load(Relaxed),
                "cache_hits": s.cache_hits.load(Relaxed),
                "pulls": s.pulls.load(Relaxed),
                "attestations": s.attestations.load(Relaxed),
            });
            json_response(StatusCode::OK, body.to_string().into_bytes())
        }
        (&Method::POST, "/validate") => {
            if req
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .is_some_and(|n| n > max)
            {
                return Ok(text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the review is too large\n",
                ));
            }
            let deadline = admitter.config.deadline;
            let body =
                match tokio::time::timeout(deadline, Limited::new(req.into_body(), max).collect())
                    .await
                {
                    Ok(Ok(b)) => b.to_bytes(),
                    Ok(Err(_)) => {
                        return Ok(text(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "the review is too large\n",
                        ));
                    }
                    Err(_) => {
                        return Ok(text(
                            StatusCode::REQUEST_TIMEOUT,
                            "the review was not sent in time\n",
                        ));
                    }
                };
            match admitter.review(&body).await {
                Ok(v) => json_response(StatusCode::OK, serde_json::to_vec(&v).unwrap_or_default()),
                Err(e) => text(StatusCode::BAD_REQUEST, &format!("{e}\n")),
            }
        }
        (_, "/validate") => text(StatusCode::METHOD_NOT_ALLOWED, "POST an AdmissionReview\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    })
}

/// Serve until `shutdown` resolves. `bound` receives the address once listening (port 0 picks
/// a free one).
pub async fn serve(
    admitter: Arc<Admitter>,
    opts: ServeOptions,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let tls = TlsAcceptor::from(Arc::new(tls_config(&opts.tls_cert, &opts.tls_key)?));
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if let Some(b) = bound {
        let _ = b.send(addr);
    }
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            p = slots.clone().acquire_owned() => p.map_err(|e| e.to_string())?,
        };
        let (tcp, _) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        let _ = tcp.set_nodelay(true);
        let tls = tls.clone();
        let admitter = admitter.clone();
        let max = opts.max_request_bytes;
        tokio::spawn(async move {
            let _permit = permit;
            let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await
            else {
                return;
            };
            let service = hyper::service::service_fn(move |req| handle(admitter.clone(), max, req));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
