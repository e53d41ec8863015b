//! The endpoints: the HTTPS listener, rustls (ring) in front of hyper's HTTP/1.1 server, where
//! `POST /validate` takes an AdmissionReview; and an optional plain-HTTP listener for
//! Prometheus and the kubelet's probes. Both answer `GET /healthz` (alive), `GET /readyz` (the
//! policy is loaded and the HTTPS listener is up) and `GET <metrics path>` (Prometheus text);
//! the HTTPS one also `GET /stats` (the counters as JSON). The plain one never takes a review.
//! Every input is bounded: the TLS handshake and the headers in time, the body in size and
//! time, the number of connections served at once.

use crate::Error;
use crate::metrics::{self, Metrics, Reason};
use crate::service::Admitter;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Bytes};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 1024;
/// Connections to the plain-HTTP listener at once: a few Prometheus servers and the kubelet.
const MAX_METRICS_CONNECTIONS: usize = 64;
/// Time for a client to finish the TLS handshake and send its headers.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The paths a metrics path may not take.
pub const RESERVED_PATHS: [&str; 4] = ["/validate", "/healthz", "/readyz", "/stats"];

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Largest AdmissionReview accepted (the API server's objects are at most a few MiB).
    pub max_request_bytes: usize,
}

/// What the listeners share: the metrics, the admitter once the policies are loaded, and
/// whether the HTTPS listener is up.
pub struct State {
    metrics: Arc<Metrics>,
    metrics_path: String,
    admitter: OnceLock<Arc<Admitter>>,
    tls_ready: AtomicBool,
}

impl State {
    /// Nothing loaded yet: `/readyz` answers 503 and `/validate` 503 until
    /// [`State::policy_loaded`] and [`serve`] has its TLS listener up. `metrics_path` must be
    /// valid ([`check_metrics_path`]).
    pub fn new(metrics: Arc<Metrics>, metrics_path: &str) -> State {
        State {
            metrics,
            metrics_path: metrics_path.to_string(),
            admitter: OnceLock::new(),
            tls_ready: AtomicBool::new(false),
        }
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The policies are loaded: reviews go to `admitter` (built with this state's metrics).
    /// Only the first call counts.
    pub fn policy_loaded(&self, admitter: Arc<Admitter>) {
        debug_assert!(Arc::ptr_eq(admitter.metrics(), &self.metrics));
        let _ = self.admitter.set(admitter);
    }

    /// `Ok` when ready to take reviews, else what is missing.
    pub fn readiness(&self) -> Result<(), Error> {
        let mut missing = Vec::new();
        if self.admitter.get().is_none() {
            missing.push("the policy is not loaded");
        }
        if !self.tls_ready.load(Ordering::Acquire) {
            missing.push("the HTTPS listener is not up");
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::NotReady(missing))
        }
    }
}

/// A metrics path: absolute, plain (letters, digits, `/`, `-`, `_`, `.`), at most 128 bytes,
/// and none of the other endpoints.
pub fn check_metrics_path(path: &str) -> Result<(), Error> {
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if !path.starts_with('/') || path.len() < 2 || path.len() > 128 || !plain {
        return Err(Error::MetricsPath(path.to_string()));
    }
    if RESERVED_PATHS.contains(&path) {
        return Err(Error::ReservedPath(path.to_string()));
    }
    Ok(())
}

/// Read the certificate chain and key; errors name the file.
pub fn tls_config(cert: &PathBuf, key: &PathBuf) -> Result<rustls::ServerConfig, Error> {
    let pem = |path: &PathBuf, what| {
        let path = path.display().to_string();
        move |source| Error::Pem { path, what, source }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(pem(cert, "cannot read the certificate chain"))?
        .collect::<Result<_, _>>()
        .map_err(pem(cert, "not a PEM certificate chain"))?;
    if certs.is_empty() {
        return Err(Error::NoCertificate(cert.display().to_string()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(pem(key, "not a PEM private key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Tls)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(Error::Tls)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn respond(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a static response builds")
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    respond(status, "text/plain", body.as_bytes().to_vec())
}

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listener {
    Https,
    /// The plain-HTTP metrics and probes listener.
    Plain,
}

async fn handle<B>(
    state: Arc<State>,
    on: Listener,
    max: usize,
    req: Request<B>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use std::sync::atomic::Ordering::Relaxed;
    let path = req.uri().path();
    Ok(match (req.method(), path) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/readyz") => match state.readiness() {
            Ok(()) => text(StatusCode::OK, "ok\n"),
            Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("{why}\n")),
        },
        (&Method::GET, p) if p == state.metrics_path => respond(
            StatusCode::OK,
            metrics::CONTENT_TYPE,
            state.metrics.encode().into_bytes(),
        ),
        (_, _) if on == Listener::Plain => text(StatusCode::NOT_FOUND, "not found\n"),
        (&Method::GET, "/stats") => {
            let body = match state.admitter.get() {
                Some(a) => serde_json::json!({
                    "reviews": a.stats.reviews.load(Relaxed),
                    "cache_hits": a.stats.cache_hits.load(Relaxed),
                    "pulls": a.stats.pulls.load(Relaxed),
                    "attestations": a.stats.attestations.load(Relaxed),
                }),
                None => serde_json::json!({}),
            };
            respond(
                StatusCode::OK,
                "application/json",
                body.to_string().into_bytes(),
            )
        }
        (&Method::POST, "/validate") => {
            let Some(admitter) = state.admitter.get().cloned() else {
                return Ok(text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the policy is not loaded yet\n",
                ));
            };
            // Timed from here: reading the body is part of answering.
            let timer = state.metrics.review();
            if req
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .is_some_and(|n| n > max)
            {
                timer.finish(Reason::BadRequest);
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
                        timer.finish(Reason::BadRequest);
                        return Ok(text(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "the review is too large\n",
                        ));
                    }
                    Err(_) => {
                        timer.finish(Reason::BadRequest);
                        return Ok(text(
                            StatusCode::REQUEST_TIMEOUT,
                            "the review was not sent in time\n",
                        ));
                    }
                };
            let (answer, reason) = admitter.judge(&body).await;
            timer.finish(reason);
            match answer {
                Ok(v) => respond(
                    StatusCode::OK,
                    "application/json",
                    serde_json::to_vec(&v).unwrap_or_default(),
                ),
                Err(e) => text(StatusCode::BAD_REQUEST, &format!("{e}\n")),
            }
        }
        (_, "/validate") => text(StatusCode::METHOD_NOT_ALLOWED, "POST an AdmissionReview\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    })
}

/// Accept connections until `shutdown` resolves, at most `max` at once, each served by
/// `serve_one` on its own task.
async fn accept_loop<F, Fut>(
    listener: TcpListener,
    max: usize,
    shutdown: impl std::future::Future<Output = ()>,
    serve_one: F,
) -> Result<(), Error>
where
    F: Fn(TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(max));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            p = slots.clone().acquire_owned() => p?,
        };
        let (tcp, _) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        let _ = tcp.set_nodelay(true);
        let conn = serve_one(tcp);
        tokio::spawn(async move {
            let _permit = permit;
            conn.await;
        });
    }
}

/// Serve HTTPS until `shutdown` resolves. `bound` receives the address once listening (port
/// 0 picks a free one); from then on the state counts TLS as ready.
pub async fn serve(
    state: Arc<State>,
    opts: ServeOptions,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let tls = TlsAcceptor::from(Arc::new(tls_config(&opts.tls_cert, &opts.tls_key)?));
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|source| Error::Listen {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::LocalAddr)?;
    state.tls_ready.store(true, Ordering::Release);
    if let Some(b) = bound {
        let _ = b.send(addr);
    }
    let max = opts.max_request_bytes;
    accept_loop(listener, MAX_CONNECTIONS, shutdown, move |tcp| {
        let tls = tls.clone();
        let state = state.clone();
        async move {
            let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await
            else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                handle(state.clone(), Listener::Https, max, req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await
}

/// Serve `/healthz`, `/readyz` and the metrics over plain HTTP on `listen` until `shutdown`
/// resolves (no reviews). `bound` receives the address once listening.
pub async fn serve_metrics(
    state: Arc<State>,
    listen: SocketAddr,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::LocalAddr)?;
    if let Some(b) = bound {
        let _ = b.send(addr);
    }
    accept_loop(listener, MAX_METRICS_CONNECTIONS, shutdown, move |tcp| {
        let state = state.clone();
        async move {
            // GETs only: no request body is ever read here.
            let service = hyper::service::service_fn(move |req| {
                handle(state.clone(), Listener::Plain, 0, req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{Config, Fetch};
    use futures_util::future::BoxFuture;
    use wasmcert_oci::{Artifact, Error, ErrorKind, Source};

    struct NoRegistry;

    impl Fetch for NoRegistry {
        fn resolve<'a>(&'a self, _: &'a Source) -> BoxFuture<'a, Result<String, Error>> {
            Box::pin(async { Err(Error::new(ErrorKind::Transport, "no registry")) })
        }
        fn fetch<'a>(&'a self, _: &'a Source) -> BoxFuture<'a, Result<Artifact, Error>> {
            Box::pin(async { Err(Error::new(ErrorKind::Transport, "no registry")) })
        }
        fn attestation<'a>(
            &'a self,
            _: &'a Source,
            _: &'a str,
        ) -> BoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
            Box::pin(async { Ok(None) })
        }
    }

    fn get(
        state: &Arc<State>,
        on: Listener,
        method: Method,
        path: &str,
        body: &'static str,
    ) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let res = handle(state.clone(), on, 1 << 20, req).await.unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8(body.to_vec()).unwrap())
        })
    }

    #[test]
    fn readyz_is_503_until_the_policy_is_loaded_and_tls_is_up() {
        let metrics = Arc::new(Metrics::new());
        let state = Arc::new(State::new(metrics.clone(), "/metrics"));
        for on in [Listener::Https, Listener::Plain] {
            assert_eq!(
                get(&state, on, Method::GET, "/healthz", ""),
                (StatusCode::OK, "ok\n".into()),
                "alive from the start"
            );
            let (code, why) = get(&state, on, Method::GET, "/readyz", "");
            assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                why,
                "the policy is not loaded; the HTTPS listener is not up\n"
            );
            let (code, text) = get(&state, on, Method::GET, "/metrics", "");
            assert_eq!(code, StatusCode::OK, "metrics from the start");
            assert!(text.contains("wasmcert_webhook_reviews_in_flight 0"));
        }
        // A review before the policy is loaded is refused, and not counted as one.
        let (code, _) = get(&state, Listener::Https, Method::POST, "/validate", "{}");
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        let policy = wasmcert_policy::load_spec("pack:baseline").unwrap();
        state.policy_loaded(Arc::new(Admitter::with_metrics(
            Config::default(),
            vec![policy],
            Box::new(NoRegistry),
            metrics.clone(),
        )));
        let (code, why) = get(&state, Listener::Plain, Method::GET, "/readyz", "");
        assert_eq!(
            (code, why.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the HTTPS listener is not up\n"
            )
        );
        state.tls_ready.store(true, Ordering::Release);
        for on in [Listener::Https, Listener::Plain] {
            assert_eq!(
                get(&state, on, Method::GET, "/readyz", ""),
                (StatusCode::OK, "ok\n".into())
            );
        }
        let (code, _) = get(&state, Listener::Https, Method::POST, "/validate", "{ no");
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert_eq!(metrics.reviews(Reason::BadRequest), 1);
        assert_eq!(metrics.in_flight(), 0);
    }

    #[test]
    fn the_plain_listener_takes_no_review_and_the_metrics_path_is_configurable() {
        let metrics = Arc::new(Metrics::new());
        let state = Arc::new(State::new(metrics.clone(), "/internal/prom"));
        let policy = wasmcert_policy::load_spec("pack:baseline").unwrap();
        state.policy_loaded(Arc::new(Admitter::with_metrics(
            Config::default(),
            vec![policy],
            Box::new(NoRegistry),
            metrics.clone(),
        )));
        state.tls_ready.store(true, Ordering::Release);
        for path in ["/validate", "/stats", "/metrics"] {
            let (code, _) = get(&state, Listener::Plain, Method::POST, path, "{}");
            assert_eq!(code, StatusCode::NOT_FOUND, "{path}");
            let (code, _) = get(&state, Listener::Plain, Method::GET, path, "");
            assert_eq!(code, StatusCode::NOT_FOUND, "{path}");
        }
        for on in [Listener::Https, Listener::Plain] {
            let (code, text) = get(&state, on, Method::GET, "/internal/prom", "");
            assert_eq!(code, StatusCode::OK);
            assert!(text.starts_with("# HELP wasmcert_webhook_"), "{text}");
        }
        assert_eq!(metrics.reviews(Reason::BadRequest), 0);
    }

    #[test]
    fn oversized_reviews_count_as_bad_requests() {
        let metrics = Arc::new(Metrics::new());
        let state = Arc::new(State::new(metrics.clone(), "/metrics"));
        let policy = wasmcert_policy::load_spec("pack:baseline").unwrap();
        state.policy_loaded(Arc::new(Admitter::with_metrics(
            Config::default(),
            vec![policy],
            Box::new(NoRegistry),
            metrics.clone(),
        )));
        let req = Request::builder()
            .method(Method::POST)
            .uri("/validate")
            .body(Full::new(Bytes::from(vec![b' '; 64])))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let res = rt
            .block_on(handle(state, Listener::Https, 16, req))
            .unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(metrics.reviews(Reason::BadRequest), 1);
    }

    #[test]
    fn metrics_paths_are_checked() {
        assert!(check_metrics_path("/metrics").is_ok());
        assert!(check_metrics_path("/wasmcert/metrics_v1.txt").is_ok());
        for bad in [
            "",
            "/",
            "metrics",
            "/healthz",
            "/readyz",
            "/validate",
            "/stats",
            "/a?b",
            "/a b",
        ] {
            assert!(check_metrics_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_metrics_path(&format!("/{}", "a".repeat(200))).is_err());
    }
}
