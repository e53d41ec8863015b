//! `wasmcert serve`: the Kubernetes validating admission webhook (HTTPS).

use anyhow::{Context, Result, bail};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use wasmcert_webhook::{Admitter, Config, Metrics, RegistryFetch, ServeOptions, State};

/// Serve a validating admission webhook that decides on Wasm workloads with policies.
///
/// Answers `admission.k8s.io/v1` AdmissionReviews of Pods, Deployments, StatefulSets,
/// DaemonSets, ReplicaSets, Jobs and CronJobs on `POST /validate`. Pods on a Wasm runtime
/// class (`--runtime-class`) must name every image by digest (`IMAGE@sha256:...`; a tag can
/// move after admission, so tags are denied unless `--allow-tags`); each image is pulled and
/// analysed (or vouched for by a signed analysis stored beside it, tag
/// `sha256-<hex>.wasmcert`), and decided by the policies; the answer carries the uid,
/// `allowed`, and a 403 status listing the rule ids. Decisions are cached by digest, policy
/// hash and day. Registry credentials (`--registry-auth`, docs/oci.md#credentials) are sent
/// only to the hosts they name.
///
/// `GET /healthz` answers 200 while the process serves (liveness); `GET /readyz` 503 until the
/// policies are loaded and the HTTPS listener is up, then 200 (readiness); `GET /metrics`
/// (`--metrics-path`) the Prometheus metrics, always on the HTTPS listener and, with
/// `--metrics-addr`, also over plain HTTP on a listener of their own, which also answers the
/// probes (from before the policies load) and never takes a review; `GET /stats` the counters
/// as JSON. Metrics, labels and example alerts: docs/webhook.md#metrics-and-probes. Manifests:
/// docs/webhook.md.
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert serve --policy pack:baseline --listen 0.0.0.0:8443 \\
      --tls-cert /tls/tls.crt --tls-key /tls/tls.key
  wasmcert serve --policy prod.toml --runtime-class wasmtime-spin --analysis-key ci.pub \\
      --listen 127.0.0.1:8443 --tls-cert c.pem --tls-key k.pem --fail-open
  wasmcert serve --policy pack:baseline --registry-auth /auth/.dockerconfigjson \\
      --tls-cert c.pem --tls-key k.pem
  wasmcert serve --policy pack:baseline --tls-cert c.pem --tls-key k.pem \\
      --metrics-addr 0.0.0.0:9090      # Prometheus and probes: http://POD:9090/metrics, /readyz

Exit status:
  0  stopped by SIGTERM or Ctrl-C
  2  bad policy, unreadable certificate or key or registry auth file, address in use,
     bad metrics path")]
pub struct Opts {
    /// Policy file or `pack:NAME`; repeat to apply several (every one must allow).
    #[arg(long = "policy", short = 'p', value_name = "FILE", required = true)]
    pub policies: Vec<String>,
    /// Address to listen on (port 0 picks a free one, printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// PEM certificate chain of the webhook's TLS identity.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// PEM private key of that certificate.
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// A runtimeClassName that runs Wasm; repeatable. Default: wasmtime, wasmtime-spin, spin,
    /// wasmedge, wasmer, wasm, crun-wasm, wws, lunatic, slight.
    #[arg(long = "runtime-class", value_name = "NAME")]
    pub runtime_classes: Vec<String>,
    /// Allow (with a warning) when an image cannot be checked; the default denies.
    #[arg(long)]
    pub fail_open: bool,
    /// Deadline of one review, milliseconds; keep it below the webhook's timeoutSeconds.
    #[arg(long, value_name = "MS", default_value_t = 8000)]
    pub deadline_ms: u64,
    /// Largest AdmissionReview accepted, bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 3 << 20)]
    pub max_request_bytes: usize,
    /// Admit images named by tag only, resolving the tag for the decision. By default they are
    /// denied (`image-digest-required`): the kubelet pulls the tag again later, so what runs
    /// may not be what was checked. Prefer pinning tags to digests with a mutating webhook.
    #[arg(long)]
    pub allow_tags: bool,
    /// Seconds a tag's resolution to a digest is reused (with `--allow-tags`).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub tag_ttl: u64,
    /// Registry credentials: a Docker `config.json` (or a Kubernetes `.dockerconfigjson`),
    /// `{"auths": {"HOST[:PORT]": {"auth": "<base64 user:password>"}}}`. Each host's
    /// credentials go to that host only. Default: `WASMCERT_REGISTRY_AUTH_FILE`, else
    /// Docker's own file; plus `WASMCERT_REGISTRY_USERNAME`/`PASSWORD` for
    /// `WASMCERT_REGISTRY_HOST`.
    #[arg(long, value_name = "FILE")]
    pub registry_auth: Option<PathBuf>,
    /// Public key (PEM) trusted to sign analyses stored beside artifacts; repeatable.
    #[arg(long, value_name = "PUB")]
    pub analysis_key: Vec<PathBuf>,
    /// A signed conformance report for `runtime-certification-required`; repeatable.
    #[arg(long, value_name = "BUNDLE")]
    pub runtime_report: Vec<PathBuf>,
    /// Largest Wasm layer pulled, bytes.
    #[arg(long, value_name = "BYTES", default_value_t = wasmcert_oci::DEFAULT_MAX_LAYER)]
    pub max_artifact_bytes: u64,
    /// Analyse without validating function bodies (faster first decisions).
    #[arg(long)]
    pub no_validate: bool,
    /// Also serve the metrics, `/healthz` and `/readyz` over plain HTTP (no TLS) on this
    /// address, for Prometheus and the kubelet's probes (port 0 picks a free one, printed on
    /// stderr). It starts before the policies load, so `/readyz` there answers 503 until they
    /// are; it never takes a review. Default: none (the metrics and probes are on the HTTPS
    /// listener only).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Path of the Prometheus metrics (text format 0.0.4), on the HTTPS listener and on
    /// `--metrics-addr`.
    #[arg(long, value_name = "PATH", default_value = "/metrics")]
    pub metrics_path: String,
}

impl Opts {
    pub fn run(&self) -> Result<ExitCode> {
        if self.deadline_ms == 0 {
            bail!("--deadline-ms must be positive");
        }
        wasmcert_webhook::server::check_metrics_path(&self.metrics_path)
            .context("--metrics-path")?;
        wasmcert_oci::registry::install_crypto_provider();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the runtime")?;
        let metrics = Arc::new(Metrics::new());
        let state = Arc::new(State::new(metrics.clone(), &self.metrics_path));
        // The metrics listener comes up first, so that its `/readyz` says "not yet" while the
        // policies load. It stops with the runtime.
        if let Some(addr) = self.metrics_addr {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let server = rt.spawn(wasmcert_webhook::serve_metrics(
                state.clone(),
                addr,
                Some(tx),
                std::future::pending(),
            ));
            match rt.block_on(rx) {
                Ok(bound) => eprintln!(
                    "wasmcert serve: metrics on http://{bound}{}",
                    self.metrics_path
                ),
                Err(_) => {
                    let stopped = rt
                        .block_on(server)
                        .map_err(|e| anyhow::anyhow!("the metrics server stopped: {e}"))?;
                    let e = match stopped {
                        Err(e) => anyhow::Error::new(e),
                        Ok(()) => anyhow::anyhow!("the metrics server stopped"),
                    };
                    return Err(e.context("--metrics-addr"));
                }
            }
        }
        let mut policies = Vec::new();
        let mut reports = Vec::new();
        for r in &self.runtime_report {
            reports.push(wasmcert_policy::Bundle {
                name: r.display().to_string(),
                bytes: std::fs::read(r).with_context(|| format!("reading {}", r.display()))?,
            });
        }
        for spec in &self.policies {
            let mut p = wasmcert_policy::load_spec(spec)?;
            p.prepare(&reports);
            policies.push(p);
        }
        let mut analysis_keys = Vec::new();
        for k in &self.analysis_key {
            let pem = std::fs::read(k).with_context(|| format!("reading {}", k.display()))?;
            wasmcert_report::sign::public_key_hint(&pem)
                .with_context(|| format!("{}", k.display()))?;
            analysis_keys.push(pem);
        }
        wasmcert_webhook::server::tls_config(&self.tls_cert, &self.tls_key)?;
        let mut config = Config {
            fail_open: self.fail_open,
            deadline: Duration::from_millis(self.deadline_ms),
            allow_tags: self.allow_tags,
            tag_ttl: Duration::from_secs(self.tag_ttl),
            analysis_keys,
            validate: !self.no_validate,
            ..Config::default()
        };
        if !self.runtime_classes.is_empty() {
            config.runtime_classes = self.runtime_classes.clone();
        }
        // Unreadable credentials stop the server now, not at the first review.
        let credentials = wasmcert_oci::Credentials::from_env(self.registry_auth.as_deref())
            .context("reading the registry credentials")?;
        let fetch = wasmcert_oci::FetchOptions {
            max_layer: self.max_artifact_bytes,
            credentials: Ok(credentials),
            ..wasmcert_oci::FetchOptions::default()
        };
        state.policy_loaded(Arc::new(Admitter::with_metrics(
            config,
            policies,
            Box::new(RegistryFetch(fetch)),
            metrics,
        )));
        let opts = ServeOptions {
            listen: self.listen,
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            max_request_bytes: self.max_request_bytes,
        };
        rt.block_on(async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let server = tokio::spawn(wasmcert_webhook::serve(state, opts, Some(tx), shutdown()));
            if let Ok(addr) = rx.await {
                eprintln!("wasmcert serve: listening on https://{addr}/validate");
            }
            server
                .await
                .map_err(|e| anyhow::anyhow!("the server stopped: {e}"))?
                .map_err(anyhow::Error::new)
        })?;
        eprintln!("wasmcert serve: stopped");
        Ok(ExitCode::SUCCESS)
    }
}

/// SIGTERM (what Kubernetes sends) or Ctrl-C.
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
