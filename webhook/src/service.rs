//! The admission decision: which pods are judged, how each image is resolved, fetched (or
//! vouched for by a signed analysis), analysed and decided, what is cached, and what happens
//! when any of it fails or runs out of time.

use crate::Error;
use crate::admission;
use crate::metrics::{Cache, Metrics, Reason, RegistryOp};
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmcert_analyzer::{Analysis, Options};
use wasmcert_oci::{Artifact, ErrorKind, FetchOptions, Source};
use wasmcert_policy::{Bundle, Level, Policy};

/// At most this many images are judged in one pod (more is refused).
pub const MAX_IMAGES: usize = 64;
/// Decisions kept; past this the cache is cleared (entries are cheap to recompute).
pub const MAX_CACHE: usize = 100_000;
/// The rule id of the denial of an image named by tag only (see [`Config::allow_tags`]).
pub const DIGEST_REQUIRED: &str = "image-digest-required";
/// The media type of a signed analysis stored beside an artifact.
pub const ANALYSIS_LAYER_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Where images come from. The registry is the real one; tests can put artifacts in memory.
pub trait Fetch: Send + Sync {
    /// The manifest digest an image resolves to now.
    fn resolve<'a>(
        &'a self,
        image: &'a Source,
    ) -> BoxFuture<'a, Result<String, wasmcert_oci::Error>>;
    /// The verified artifact of an image pinned by digest.
    fn fetch<'a>(
        &'a self,
        image: &'a Source,
    ) -> BoxFuture<'a, Result<Artifact, wasmcert_oci::Error>>;
    /// A signed analysis stored beside the artifact (tag `sha256-<hex>.wasmcert`), if any.
    fn attestation<'a>(
        &'a self,
        image: &'a Source,
        manifest_digest: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, wasmcert_oci::Error>>;
}

/// The registry, through `wasmcert-oci`.
pub struct RegistryFetch(pub FetchOptions);

impl Fetch for RegistryFetch {
    fn resolve<'a>(
        &'a self,
        image: &'a Source,
    ) -> BoxFuture<'a, Result<String, wasmcert_oci::Error>> {
        Box::pin(wasmcert_oci::registry::resolve(image, &self.0))
    }
    fn fetch<'a>(
        &'a self,
        image: &'a Source,
    ) -> BoxFuture<'a, Result<Artifact, wasmcert_oci::Error>> {
        Box::pin(wasmcert_oci::registry::fetch(image, &self.0))
    }
    fn attestation<'a>(
        &'a self,
        image: &'a Source,
        manifest_digest: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, wasmcert_oci::Error>> {
        Box::pin(async move {
            let Source::Registry {
                registry,
                repository,
                ..
            } = image
            else {
                return Ok(None);
            };
            let tag = attestation_tag(manifest_digest);
            let src = Source::Registry {
                registry: registry.clone(),
                repository: repository.clone(),
                tag: Some(tag),
                digest: None,
            };
            wasmcert_oci::registry::fetch_single_layer(&src, &self.0, ANALYSIS_LAYER_TYPE).await
        })
    }
}

/// The tag a signed analysis of manifest `sha256:<hex>` is stored under.
pub fn attestation_tag(manifest_digest: &str) -> String {
    format!("{}.wasmcert", manifest_digest.replace(':', "-"))
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `runtimeClassName`s that run Wasm: only their pods are judged.
    pub runtime_classes: Vec<String>,
    /// Allow (with a warning) when an image cannot be checked; default: deny.
    pub fail_open: bool,
    /// The whole review must finish within this (below the API server's timeout).
    pub deadline: Duration,
    /// Admit images named by tag only (resolved to a digest for the decision). Off by default:
    /// the kubelet pulls the tag again later, so what runs may not be what was checked.
    pub allow_tags: bool,
    /// How long a tag's resolution to a digest is reused (with `allow_tags`).
    pub tag_ttl: Duration,
    /// Keys trusted to sign analyses stored beside artifacts (PEM).
    pub analysis_keys: Vec<Vec<u8>>,
    /// Validate function bodies when analysing (slower, finds features in code).
    pub validate: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            runtime_classes: [
                "wasmtime",
                "wasmtime-spin",
                "spin",
                "wasmedge",
                "wasmer",
                "wasm",
                "crun-wasm",
                "wws",
                "lunatic",
                "slight",
            ]
            .map(String::from)
            .to_vec(),
            fail_open: false,
            deadline: Duration::from_secs(8),
            allow_tags: false,
            tag_ttl: Duration::from_secs(60),
            analysis_keys: Vec::new(),
            validate: true,
        }
    }
}

/// A decision on one image, cached by (manifest digest, policies, day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// Rule ids of the findings that deny, sorted.
    pub denied_rules: Vec<String>,
    /// `rule: message` of those findings (the first few).
    pub reasons: Vec<String>,
    /// `rule: message` of warnings.
    pub warnings: Vec<String>,
    /// Whether a signed analysis was used instead of pulling the module.
    pub from_attestation: bool,
}

/// The counters of `GET /stats` (the Prometheus metrics are in [`Metrics`]).
#[derive(Debug, Default)]
pub struct Stats {
    pub reviews: std::sync::atomic::AtomicU64,
    pub cache_hits: std::sync::atomic::AtomicU64,
    pub pulls: std::sync::atomic::AtomicU64,
    pub attestations: std::sync::atomic::AtomicU64,
}

pub struct Admitter {
    pub config: Config,
    policies: Vec<Policy>,
    /// Hash of every policy's text: a policy change never reuses old decisions.
    policy_hash: String,
    fetch: Box<dyn Fetch>,
    cache: Mutex<HashMap<String, Verdict>>,
    tags: Mutex<HashMap<String, (String, Instant)>>,
    pub stats: Stats,
    metrics: Arc<Metrics>,
}

/// Why a review could not even be read: answered with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadReview(pub String);

fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_string()
}

/// How one image's decision came about, for the review's reason class.
enum Outcome {
    /// Decided now (`false`) or reused from the cache (`true`).
    Decided(Verdict, bool),
    /// Could not be checked.
    Failed(Reason, Error),
}

impl Admitter {
    pub fn new(config: Config, policies: Vec<Policy>, fetch: Box<dyn Fetch>) -> Admitter {
        Admitter::with_metrics(config, policies, fetch, Arc::new(Metrics::new()))
    }

    /// An admitter recording into `metrics` (the server's, created before the policies are
    /// loaded so that `/metrics` and `/readyz` answer while they load).
    pub fn with_metrics(
        config: Config,
        policies: Vec<Policy>,
        fetch: Box<dyn Fetch>,
        metrics: Arc<Metrics>,
    ) -> Admitter {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for p in &policies {
            h.update(p.sha256.as_bytes());
            h.update([0]);
        }
        Admitter {
            config,
            policies,
            policy_hash: hex::encode(h.finalize()),
            fetch,
            cache: Mutex::new(HashMap::new()),
            tags: Mutex::new(HashMap::new()),
            stats: Stats::default(),
            metrics,
        }
    }

    /// The metrics this admitter records into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Answer one AdmissionReview (the request body). `Err` only for a body that is not a
    /// review at all; every decision, including failures to check, is an `Ok` response.
    /// Recorded in [`Admitter::metrics`].
    pub async fn review(&self, body: &[u8]) -> Result<Value, BadReview> {
        let timer = self.metrics.review();
        let (answer, reason) = self.judge(body).await;
        timer.finish(reason);
        answer
    }

    /// [`Admitter::review`] without the metrics of the review itself (the server times the
    /// whole request, body included), with the reason class of the answer.
    pub(crate) async fn judge(&self, body: &[u8]) -> (Result<Value, BadReview>, Reason) {
        use std::sync::atomic::Ordering::Relaxed;
        self.stats.reviews.fetch_add(1, Relaxed);
        let review: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                let e = BadReview(format!("the body is not JSON: {e}"));
                return (Err(e), Reason::BadRequest);
            }
        };
        if review["kind"] != "AdmissionReview" {
            let e = BadReview("not an AdmissionReview".into());
            return (Err(e), Reason::BadRequest);
        }
        let req = &review["request"];
        let Some(uid) = req["uid"].as_str() else {
            let e = BadReview("the review has no request.uid".into());
            return (Err(e), Reason::BadRequest);
        };
        if matches!(req["operation"].as_str(), Some("DELETE" | "CONNECT")) {
            return (
                Ok(admission::response(uid, true, None, &[])),
                Reason::Skipped,
            );
        }
        let kind = req["kind"]["kind"].as_str().unwrap_or("");
        let Some(spec) = admission::pod_spec(kind, &req["object"]) else {
            return (
                Ok(admission::response(uid, true, None, &[])),
                Reason::Skipped,
            );
        };
        let class = spec["runtimeClassName"].as_str().unwrap_or("");
        if !self.config.runtime_classes.iter().any(|c| c == class) {
            // Not a Wasm workload: not this webhook's business.
            let answer = admission::response(uid, true, None, &[]);
            return (Ok(answer), Reason::OtherRuntime);
        }
        let images = match admission::images(spec, MAX_IMAGES) {
            Ok(i) => i,
            Err(e) => {
                let answer = admission::response(uid, false, Some(&format!("wasmcert: {e}")), &[]);
                return (Ok(answer), Reason::InvalidPod);
            }
        };
        let decide_all = futures_util::future::join_all(images.iter().map(|i| self.outcome(i)));
        let outcomes = match tokio::time::timeout(self.config.deadline, decide_all).await {
            Ok(v) => v,
            Err(_) => {
                let msg = format!(
                    "wasmcert: the images could not be checked within {} ms",
                    self.config.deadline.as_millis()
                );
                let answer = if self.config.fail_open {
                    admission::response(uid, true, None, &[format!("{msg}; allowed (fail-open)")])
                } else {
                    admission::response(
                        uid,
                        false,
                        Some(&format!("{msg}; denied (fail-closed)")),
                        &[],
                    )
                };
                return (Ok(answer), Reason::Timeout);
            }
        };
        let mut denied = Vec::new();
        let mut warnings = Vec::new();
        // The reason class: the first denial, else the first failure, else whether anything
        // was evaluated for this review.
        let (mut denial, mut failure, mut evaluated) = (None, None, false);
        for (image, o) in images.iter().zip(&outcomes) {
            match o {
                Outcome::Decided(v, cached) => {
                    evaluated |= !cached;
                    warnings.extend(v.warnings.iter().map(|w| format!("{image}: {w}")));
                    if !v.allowed {
                        denial.get_or_insert(if v.denied_rules == [DIGEST_REQUIRED] {
                            Reason::DigestRequired
                        } else {
                            Reason::PolicyDenied
                        });
                        denied.push(format!(
                            "{image} denied by {} ({})",
                            v.denied_rules.join(", "),
                            v.reasons.join("; ")
                        ));
                    }
                }
                Outcome::Failed(reason, e) => {
                    failure.get_or_insert(*reason);
                    if self.config.fail_open {
                        warnings.push(format!(
                            "{image} could not be checked, allowed (fail-open): {e}"
                        ));
                    } else {
                        denied.push(format!("{image} could not be checked (fail-closed): {e}"));
                    }
                }
            }
        }
        let reason = denial.or(failure).unwrap_or(if evaluated {
            Reason::PolicyAllowed
        } else {
            Reason::Cached
        });
        if denied.is_empty() {
            return (Ok(admission::response(uid, true, None, &warnings)), reason);
        }
        let mut message = format!(
            "wasmcert denied {} of {} images: {}",
            denied.len(),
            images.len(),
            denied.join(" | ")
        );
        if message.len() > 2048 {
            let cut = (0..=2048)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        let answer = admission::response(uid, false, Some(&message), &warnings);
        (Ok(answer), reason)
    }

    /// The digest an image resolves to, reusing a tag's resolution for `tag_ttl`.
    async fn digest_of(&self, source: &Source) -> Result<String, wasmcert_oci::Error> {
        if let Source::Registry {
            digest: Some(d), ..
        } = source
        {
            return Ok(d.clone());
        }
        let key = source.display();
        let fresh = self
            .tags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .filter(|(_, at)| at.elapsed() < self.config.tag_ttl)
            .map(|(d, _)| d.clone());
        self.metrics.cache_lookup(Cache::Tag, fresh.is_some());
        if let Some(d) = fresh {
            return Ok(d);
        }
        let d = self
            .metrics
            .registry(RegistryOp::Resolve, self.fetch.resolve(source))
            .await?;
        let mut tags = self.tags.lock().unwrap_or_else(|p| p.into_inner());
        if tags.len() >= MAX_CACHE {
            tags.clear();
        }
        tags.insert(key, (d.clone(), Instant::now()));
        Ok(d)
    }

    /// Decide on one container image.
    pub async fn decide(&self, image: &str) -> Result<Verdict, Error> {
        match self.outcome(image).await {
            Outcome::Decided(v, _) => Ok(v),
            Outcome::Failed(_, e) => Err(e),
        }
    }

    async fn outcome(&self, image: &str) -> Outcome {
        match self.decide_classified(image).await {
            Ok((v, cached)) => Outcome::Decided(v, cached),
            Err((reason, e)) => Outcome::Failed(reason, e),
        }
    }

    /// Decide on one container image: the verdict and whether it came from the cache, or why
    /// the image could not be checked.
    async fn decide_classified(&self, image: &str) -> Result<(Verdict, bool), (Reason, Error)> {
        use std::sync::atomic::Ordering::Relaxed;
        let registry_error = |e: wasmcert_oci::Error| {
            let reason = match e.kind {
                ErrorKind::NotWasm => Reason::NotWasm,
                _ => Reason::RegistryError,
            };
            (reason, Error::Registry(e))
        };
        let reference = admission::image_reference(image);
        let source = match wasmcert_oci::parse(&reference) {
            Some(Ok(s)) => s,
            Some(Err(e)) => return Err((Reason::InvalidReference, Error::Registry(e))),
            None => {
                let e = Error::NotAnImage(image.to_string());
                return Err((Reason::InvalidReference, e));
            }
        };
        if !self.config.allow_tags && matches!(&source, Source::Registry { digest: None, .. }) {
            // A policy decision, not a failure to check: denied even with `fail_open`.
            let verdict = Verdict {
                allowed: false,
                denied_rules: vec![DIGEST_REQUIRED.into()],
                reasons: vec![format!(
                    "{DIGEST_REQUIRED}: the image is named by tag only; a tag can move after \
                     admission and the kubelet pulls it again later, so name the image by digest \
                     (IMAGE@sha256:...) or have a mutating webhook pin it (serve --allow-tags \
                     admits tags)"
                )],
                warnings: Vec::new(),
                from_attestation: false,
            };
            return Ok((verdict, false));
        }
        let digest = self.digest_of(&source).await.map_err(registry_error)?;
        let key = format!("{digest}\0{}\0{}", self.policy_hash, today());
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        self.metrics.cache_lookup(Cache::Decision, cached.is_some());
        if let Some(v) = cached {
            self.stats.cache_hits.fetch_add(1, Relaxed);
            return Ok((v, true));
        }
        let Source::Registry {
            registry,
            repository,
            ..
        } = &source
        else {
            let e = Error::NotRegistry;
            return Err((Reason::InvalidReference, e));
        };
        let pinned = Source::Registry {
            registry: registry.clone(),
            repository: repository.clone(),
            tag: None,
            digest: Some(digest.clone()),
        };
        let (analysis, bundles, from_attestation) = match self
            .signed_analysis(&pinned, &digest)
            .await
            .map_err(registry_error)?
        {
            Some((a, bundle)) => {
                self.stats.attestations.fetch_add(1, Relaxed);
                (a, vec![bundle], true)
            }
            None => {
                self.stats.pulls.fetch_add(1, Relaxed);
                let artifact = self
                    .metrics
                    .registry(RegistryOp::Fetch, self.fetch.fetch(&pinned))
                    .await
                    .map_err(registry_error)?;
                let validate = self.config.validate;
                let path = pinned.display();
                // Analysis is CPU work: off the reactor threads.
                let a = tokio::task::spawn_blocking(move || {
                    let mut a =
                        wasmcert_analyzer::analyze(&artifact.wasm, &Options { validate, path })
                            .map_err(Error::Analysis)?;
                    wasmcert_oci::annotate(&mut a, &artifact);
                    Ok::<_, Error>(a)
                })
                .await
                .map_err(Error::Join)
                .and_then(|r| r)
                .map_err(|e| (Reason::NotWasm, e))?;
                (a, Vec::new(), false)
            }
        };
        let mut verdict = Verdict {
            allowed: true,
            denied_rules: Vec::new(),
            reasons: Vec::new(),
            warnings: Vec::new(),
            from_attestation,
        };
        let started = Instant::now();
        let decided = wasmcert_policy::decide_all(&self.policies, [(&analysis, &bundles[..])])
            .subjects
            .pop()
            .expect("one subject, one decision");
        self.metrics.policy_evaluated(started.elapsed());
        let decided = decided.map_err(|e| (Reason::PolicyError, Error::Policy(e)))?;
        verdict.allowed = decided.allowed;
        for f in decided.findings.iter().filter(|f| f.excepted.is_none()) {
            match f.level {
                Level::Deny => {
                    if !verdict.denied_rules.contains(&f.rule) {
                        verdict.denied_rules.push(f.rule.clone());
                    }
                    if verdict.reasons.len() < 4 {
                        verdict.reasons.push(format!("{}: {}", f.rule, f.message));
                    }
                }
                _ => {
                    if verdict.warnings.len() < 4 {
                        verdict.warnings.push(format!("{}: {}", f.rule, f.message));
                    }
                }
            }
        }
        verdict.denied_rules.sort();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHE {
            cache.clear();
        }
        cache.insert(key, verdict.clone());
        Ok((verdict, false))
    }

    /// A signed analysis stored beside the artifact that a trusted key verifies for the
    /// artifact's layer; its analysis then stands in for pulling and analysing the module.
    async fn signed_analysis(
        &self,
        pinned: &Source,
        manifest_digest: &str,
    ) -> Result<Option<(Analysis, Bundle)>, wasmcert_oci::Error> {
        if self.config.analysis_keys.is_empty() {
            return Ok(None);
        }
        let Some(bytes) = self
            .metrics
            .registry(
                RegistryOp::Attestation,
                self.fetch.attestation(pinned, manifest_digest),
            )
            .await?
        else {
            return Ok(None);
        };
        let keys: Vec<&[u8]> = self
            .config
            .analysis_keys
            .iter()
            .map(Vec::as_slice)
            .collect();
        let Ok(v) = wasmcert_report::signed::verify_analysis(&bytes, &keys, None) else {
            return Ok(None);
        };
        // The analysis must be of the layer this manifest ships, and must say so.
        let a = v.analysis;
        let layer_ok = a
            .oci
            .as_ref()
            .is_some_and(|o| o.manifest_digest == manifest_digest)
            && v.verified
                .subjects
                .iter()
                .any(|s| s.sha256 == a.subject.sha256);
        if layer_ok {
            return Ok(Some((
                a,
                Bundle {
                    name: attestation_tag(manifest_digest),
                    bytes,
                },
            )));
        }
        Ok(None)
    }
}
