//! The webhook's Prometheus metrics (`GET /metrics`, text exposition format 0.0.4): reviews by
//! decision and reason class, review latency, decision and tag cache lookups, registry request
//! latency and errors by class, policy evaluation time, reviews in flight.
//!
//! Every label value comes from one of the enums below, so the number of series is fixed when
//! the server starts (every combination is created then, at zero, so `rate()` and alerts see
//! them before the first event). Nothing a pod controls (an image, a pod or namespace name, a
//! registry host, an error message) ever becomes a label: a cluster could otherwise grow the
//! metrics without bound, and the API server's objects would leak to whoever scrapes.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::{Duration, Instant};
use wasmcert_oci::{Error, ErrorKind};

/// The `Content-Type` of `GET /metrics`: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the review latency buckets, seconds: a cached decision takes well under a
/// millisecond, a first decision what a pull and an analysis take, at most the deadline (8 s by
/// default, below the API server's 10 s).
const REVIEW_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Registry requests: loopback and in-cluster mirrors answer in milliseconds, the Internet in
/// tens to hundreds; a layer pull is bounded by several request timeouts.
const REGISTRY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Policy evaluation of one analysis (every policy): tens of microseconds for native policies,
/// up to Rego's time limit.
const POLICY_BUCKETS: [f64; 12] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0,
];

/// An enum whose variants are label values: kebab-case codes with a description (the docs
/// table in `docs/webhook.md#metrics` lists them; a test checks it does).
macro_rules! label_values {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $code:literal : $desc:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            /// Every value, in the order of the docs.
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            /// The label value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $code,)+ }
            }

            /// What the value means, for the docs.
            pub fn description(self) -> &'static str {
                match self { $($name::$v => $desc,)+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl EncodeLabelValue for $name {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

label_values! {
    /// What a review answered.
    Decision {
        Allowed = "allowed": "the object is admitted",
        Denied = "denied": "the object is refused by a rule (a policy, a tag, an invalid pod)",
        Error = "error": "something could not be checked; denied, or allowed with a warning under `--fail-open`",
    }
}

label_values! {
    /// Why a review answered what it did. Each reason belongs to one [`Decision`]. A pod with
    /// several images takes the reason of its first denied image, else of its first image that
    /// could not be checked, else `policy-allowed` if any image was evaluated for this review,
    /// else `cached`.
    Reason {
        PolicyAllowed = "policy-allowed": "every image allowed by the policies, at least one evaluated for this review",
        Cached = "cached": "every image allowed by a decision reused from the cache",
        OtherRuntime = "other-runtime": "a pod whose runtimeClassName is not a Wasm runtime class, not judged",
        Skipped = "skipped": "a DELETE or CONNECT, or a kind without a pod template, not judged",
        PolicyDenied = "policy-denied": "an image denied by a policy rule",
        DigestRequired = "digest-required": "an image named by tag only (`image-digest-required`)",
        InvalidPod = "invalid-pod": "a container without an image, or more than 64 images",
        RegistryError = "registry-error": "an image could not be resolved, pulled or verified",
        NotWasm = "not-wasm": "an artifact that is not a Wasm artifact, or whose Wasm layer does not analyse",
        InvalidReference = "invalid-reference": "an image that is not a registry image reference",
        PolicyError = "policy-error": "a policy failed to evaluate (a Rego error or its time limit)",
        Timeout = "timeout": "the review did not finish within `--deadline-ms`",
        BadRequest = "bad-request": "not an AdmissionReview (HTTP 400), too large (413) or not sent in time (408)",
        Cancelled = "cancelled": "the client closed the connection before the answer",
    }
}

impl Reason {
    /// The decision this reason comes with.
    pub fn decision(self) -> Decision {
        use Reason::*;
        match self {
            PolicyAllowed | Cached | OtherRuntime | Skipped => Decision::Allowed,
            PolicyDenied | DigestRequired | InvalidPod => Decision::Denied,
            RegistryError | NotWasm | InvalidReference | PolicyError | Timeout | BadRequest
            | Cancelled => Decision::Error,
        }
    }
}

label_values! {
    /// The webhook's caches.
    Cache {
        Decision = "decision": "decisions by manifest digest, policy set and day",
        Tag = "tag": "a tag's resolution to a digest, reused for `--tag-ttl` (with `--allow-tags`)",
    }
}

label_values! {
    /// A cache lookup's result.
    Lookup {
        Hit = "hit": "found (and, for a tag, still fresh)",
        Miss = "miss": "not found: resolved, or pulled, analysed and evaluated",
    }
}

label_values! {
    /// The registry requests of a decision.
    RegistryOp {
        Resolve = "resolve": "a tag's manifest, for its digest (with `--allow-tags`)",
        Fetch = "fetch": "the artifact: manifest, config and Wasm layer, every digest checked",
        Attestation = "attestation": "a signed analysis stored beside the artifact (with `--analysis-key`)",
    }
}

label_values! {
    /// Why a registry request failed.
    RegistryErrorClass {
        Timeout = "timeout": "the registry did not answer or send the body in time",
        Unreachable = "unreachable": "no connection: DNS, TCP or TLS failed",
        Auth = "auth": "a 401, missing or refused credentials, or a token realm refused",
        NotFound = "not-found": "the manifest or a blob is not there (404)",
        TooLarge = "too-large": "a body declared or sent over its cap",
        Integrity = "integrity": "a manifest or blob that does not match its digest or size",
        NotWasm = "not-wasm": "not a Wasm artifact: its config type, no or several Wasm layers, an index without one",
        Status = "status": "any other HTTP error status",
        Cancelled = "cancelled": "the review ended first (its deadline passed or its client left)",
        Other = "other": "anything else (a malformed manifest, say)",
    }
}

impl RegistryErrorClass {
    /// The class of an error from `wasmcert-oci`, by its kind (never by its message: a
    /// hostile registry chooses the text it sends back, not the kind of failure we saw). The
    /// class is a fixed label, never the text.
    pub fn of(e: &Error) -> RegistryErrorClass {
        match e.kind {
            ErrorKind::Timeout => RegistryErrorClass::Timeout,
            ErrorKind::Transport => RegistryErrorClass::Unreachable,
            ErrorKind::Unauthorized => RegistryErrorClass::Auth,
            ErrorKind::NotFound => RegistryErrorClass::NotFound,
            ErrorKind::TooLarge => RegistryErrorClass::TooLarge,
            ErrorKind::Integrity => RegistryErrorClass::Integrity,
            ErrorKind::NotWasm => RegistryErrorClass::NotWasm,
            ErrorKind::Status => RegistryErrorClass::Status,
            ErrorKind::Invalid | ErrorKind::Io => RegistryErrorClass::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReviewLabels {
    decision: Decision,
    reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: Cache,
    result: Lookup,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OpLabels {
    operation: RegistryOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RegistryErrorLabels {
    operation: RegistryOp,
    class: RegistryErrorClass,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn registry_histogram() -> Histogram {
    Histogram::new(REGISTRY_BUCKETS)
}

/// The metrics of one server. Cheap to update from every review (atomics, and a short lock per
/// histogram observation); `encode` renders them for a scrape.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reviews: Family<ReviewLabels, Counter>,
    review_duration: Histogram,
    in_flight: Gauge,
    cache: Family<CacheLabels, Counter>,
    registry_duration: HistogramFamily<OpLabels>,
    registry_errors: Family<RegistryErrorLabels, Counter>,
    policy_duration: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Register every metric, with every label combination at zero.
    pub fn new() -> Metrics {
        let reviews = Family::<ReviewLabels, Counter>::default();
        for &reason in Reason::ALL {
            let _ = reviews.get_or_create(&ReviewLabels {
                decision: reason.decision(),
                reason,
            });
        }
        let cache = Family::<CacheLabels, Counter>::default();
        for &c in Cache::ALL {
            for &result in Lookup::ALL {
                let _ = cache.get_or_create(&CacheLabels { cache: c, result });
            }
        }
        let registry_duration: HistogramFamily<OpLabels> =
            Family::new_with_constructor(registry_histogram as fn() -> Histogram);
        let registry_errors = Family::<RegistryErrorLabels, Counter>::default();
        for &operation in RegistryOp::ALL {
            let _ = registry_duration.get_or_create(&OpLabels { operation });
            for &class in RegistryErrorClass::ALL {
                let _ = registry_errors.get_or_create(&RegistryErrorLabels { operation, class });
            }
        }
        let m = Metrics {
            registry: Registry::with_prefix("wasmcert_webhook"),
            reviews,
            review_duration: Histogram::new(REVIEW_BUCKETS),
            in_flight: Gauge::default(),
            cache,
            registry_duration,
            registry_errors,
            policy_duration: Histogram::new(POLICY_BUCKETS),
        };
        m.register()
    }

    fn register(mut self) -> Metrics {
        let r = &mut self.registry;
        r.register(
            "reviews",
            "AdmissionReviews answered, by decision and reason class",
            self.reviews.clone(),
        );
        r.register_with_unit(
            "review_duration",
            "Time to answer an AdmissionReview, from its first byte read to the answer",
            Unit::Seconds,
            self.review_duration.clone(),
        );
        r.register(
            "reviews_in_flight",
            "AdmissionReviews being answered now",
            self.in_flight.clone(),
        );
        r.register(
            "cache_lookups",
            "Lookups in the decision and tag caches, by result",
            self.cache.clone(),
        );
        r.register_with_unit(
            "registry_request_duration",
            "Time of the registry requests of a decision (a fetch is the manifest, config and layer), finished or not",
            Unit::Seconds,
            self.registry_duration.clone(),
        );
        r.register(
            "registry_errors",
            "Failed registry requests, by operation and error class",
            self.registry_errors.clone(),
        );
        r.register_with_unit(
            "policy_evaluation_duration",
            "Time to evaluate every policy on one image's analysis",
            Unit::Seconds,
            self.policy_duration.clone(),
        );
        self
    }

    /// The metrics in the Prometheus text format 0.0.4 ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }

    /// Start timing a review: it is in flight until the timer is finished or dropped (a review
    /// dropped unfinished, because its client left, counts as `cancelled`).
    pub fn review(&self) -> ReviewTimer<'_> {
        self.in_flight.inc();
        ReviewTimer {
            metrics: self,
            started: Instant::now(),
            reason: None,
        }
    }

    /// Reviews answered with `reason` so far.
    pub fn reviews(&self, reason: Reason) -> u64 {
        self.reviews
            .get_or_create(&ReviewLabels {
                decision: reason.decision(),
                reason,
            })
            .get()
    }

    /// Reviews being answered now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.get()
    }

    /// Lookups in `cache` with `result` so far.
    pub fn cache_lookups(&self, cache: Cache, result: Lookup) -> u64 {
        self.cache
            .get_or_create(&CacheLabels { cache, result })
            .get()
    }

    /// Failed `operation` requests of `class` so far.
    pub fn registry_errors(&self, operation: RegistryOp, class: RegistryErrorClass) -> u64 {
        self.registry_errors
            .get_or_create(&RegistryErrorLabels { operation, class })
            .get()
    }

    pub(crate) fn cache_lookup(&self, cache: Cache, hit: bool) {
        let result = if hit { Lookup::Hit } else { Lookup::Miss };
        self.cache
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    pub(crate) fn policy_evaluated(&self, took: Duration) {
        self.policy_duration.observe(took.as_secs_f64());
    }

    /// Run one registry request, timing it and classing its error. A request dropped before it
    /// finishes (the review's deadline passed) is timed too, and counted as `cancelled`.
    pub(crate) async fn registry<T>(
        &self,
        operation: RegistryOp,
        request: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        struct Guard<'a> {
            metrics: &'a Metrics,
            operation: RegistryOp,
            started: Instant,
            class: Option<Option<RegistryErrorClass>>,
        }
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                let m = self.metrics;
                let op = self.operation;
                m.registry_duration
                    .get_or_create(&OpLabels { operation: op })
                    .observe(self.started.elapsed().as_secs_f64());
                let class = match self.class {
                    Some(c) => c,
                    None => Some(RegistryErrorClass::Cancelled),
                };
                if let Some(class) = class {
                    m.registry_errors
                        .get_or_create(&RegistryErrorLabels {
                            operation: op,
                            class,
                        })
                        .inc();
                }
            }
        }
        let mut guard = Guard {
            metrics: self,
            operation,
            started: Instant::now(),
            class: None,
        };
        let result = request.await;
        guard.class = Some(result.as_ref().err().map(RegistryErrorClass::of));
        result
    }
}

/// A review being answered (see [`Metrics::review`]).
#[derive(Debug)]
pub struct ReviewTimer<'a> {
    metrics: &'a Metrics,
    started: Instant,
    reason: Option<Reason>,
}

impl ReviewTimer<'_> {
    /// The review was answered, for `reason`.
    pub fn finish(mut self, reason: Reason) {
        self.reason = Some(reason);
    }
}

impl Drop for ReviewTimer<'_> {
    fn drop(&mut self) {
        let m = self.metrics;
        let reason = self.reason.unwrap_or(Reason::Cancelled);
        m.reviews
            .get_or_create(&ReviewLabels {
                decision: reason.decision(),
                reason,
            })
            .inc();
        m.review_duration
            .observe(self.started.elapsed().as_secs_f64());
        m.in_flight.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn codes<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| f(*v)).collect()
    }

    #[test]
    fn label_values_are_unique_kebab_case_and_described() {
        let sets = [
            codes(Decision::ALL, Decision::as_str),
            codes(Reason::ALL, Reason::as_str),
            codes(Cache::ALL, Cache::as_str),
            codes(Lookup::ALL, Lookup::as_str),
            codes(RegistryOp::ALL, RegistryOp::as_str),
            codes(RegistryErrorClass::ALL, RegistryErrorClass::as_str),
        ];
        for set in &sets {
            let unique: HashSet<_> = set.iter().collect();
            assert_eq!(unique.len(), set.len(), "{set:?}");
            for c in set {
                assert!(
                    !c.is_empty()
                        && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                        && !c.starts_with('-')
                        && !c.ends_with('-'),
                    "{c} is not kebab-case"
                );
            }
        }
        for r in Reason::ALL {
            assert!(!r.description().is_empty());
        }
        // Every decision has at least one reason.
        for d in Decision::ALL {
            assert!(Reason::ALL.iter().any(|r| r.decision() == *d), "{d}");
        }
    }

    #[test]
    fn every_series_exists_at_zero_and_the_count_is_fixed() {
        let m = Metrics::new();
        let text = m.encode();
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        let histogram = |buckets: usize| buckets + 1 + 2; // +Inf, _sum, _count
        let expected = Reason::ALL.len()
            + histogram(REVIEW_BUCKETS.len())
            + 1
            + Cache::ALL.len() * Lookup::ALL.len()
            + RegistryOp::ALL.len() * histogram(REGISTRY_BUCKETS.len())
            + RegistryOp::ALL.len() * RegistryErrorClass::ALL.len()
            + histogram(POLICY_BUCKETS.len());
        assert_eq!(series, expected, "{text}");
        assert!(text.contains(
            "wasmcert_webhook_reviews_total{decision=\"denied\",reason=\"digest-required\"} 0\n"
        ));
        assert!(text.contains("# TYPE wasmcert_webhook_review_duration_seconds histogram\n"));
        assert!(text.contains("wasmcert_webhook_reviews_in_flight 0\n"));
    }

    /// `docs/webhook.md#metrics-and-probes` names every metric, every label value and the
    /// number of series.
    #[test]
    fn the_docs_list_every_metric_and_label_value() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/webhook.md"),
        )
        .unwrap();
        let section = docs
            .split_once("## Metrics and probes")
            .expect("docs/webhook.md has a Metrics and probes section")
            .1;
        let section = section.split_once("\n## ").map_or(section, |s| s.0);
        let text = Metrics::new().encode();
        let names: HashSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert_eq!(names.len(), 7);
        for name in names {
            assert!(section.contains(&format!("| `{name}` |")), "{name}");
        }
        for (label, code) in [
            codes(Decision::ALL, Decision::as_str),
            codes(Reason::ALL, Reason::as_str),
            codes(Cache::ALL, Cache::as_str),
            codes(Lookup::ALL, Lookup::as_str),
            codes(RegistryOp::ALL, RegistryOp::as_str),
            codes(RegistryErrorClass::ALL, RegistryErrorClass::as_str),
        ]
        .iter()
        .flat_map(|set| set.iter().map(move |c| (set, c)))
        {
            assert!(
                section.contains(&format!("`{code}`")),
                "{code} of {label:?}"
            );
        }
        for r in Reason::ALL {
            let row = format!("| `{r}` | {} |", r.decision());
            assert!(section.contains(&row), "{row}");
        }
        for c in RegistryErrorClass::ALL {
            assert!(section.contains(&format!("| `{c}` |")), "{c}");
        }
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        assert!(
            section.contains(&format!("{series} series")),
            "the docs give another number of series than {series}"
        );
    }

    #[test]
    fn a_dropped_review_is_cancelled_and_leaves_flight() {
        let m = Metrics::new();
        let t = m.review();
        assert_eq!(m.in_flight(), 1);
        drop(t);
        m.review().finish(Reason::Cached);
        assert_eq!(m.in_flight(), 0);
        assert_eq!(m.reviews(Reason::Cancelled), 1);
        assert_eq!(m.reviews(Reason::Cached), 1);
        assert!(
            m.encode()
                .contains("wasmcert_webhook_review_duration_seconds_count 2\n")
        );
    }

    #[test]
    fn registry_requests_are_timed_classed_and_cancellations_counted() {
        let m = Metrics::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let ok: Result<u8, Error> = m.registry(RegistryOp::Fetch, async { Ok(1) }).await;
            assert_eq!(ok.unwrap(), 1);
            let e = m
                .registry::<u8>(RegistryOp::Resolve, async {
                    Err(Error::new(
                        ErrorKind::NotFound,
                        "cannot pull the manifest: v1 is not in r/a (404)",
                    ))
                })
                .await;
            assert!(e.is_err());
            let slow = m.registry::<u8>(RegistryOp::Fetch, std::future::pending());
            let cut = tokio::time::timeout(Duration::from_millis(5), slow).await;
            assert!(cut.is_err());
        });
        assert_eq!(
            m.registry_errors(RegistryOp::Resolve, RegistryErrorClass::NotFound),
            1
        );
        assert_eq!(
            m.registry_errors(RegistryOp::Fetch, RegistryErrorClass::Cancelled),
            1
        );
        let text = m.encode();
        assert!(
            text.contains(
                "wasmcert_webhook_registry_request_duration_seconds_count{operation=\"fetch\"} 2\n"
            ),
            "{text}"
        );
    }

    /// Every kind of `wasmcert-oci` error has its class, whatever the message says: a
    /// registry that answers a 500 with a body saying "401 token realm (404)" is `status`.
    #[test]
    fn registry_errors_of_wasmcert_oci_are_classed_by_kind() {
        use RegistryErrorClass::*;
        let hostile = "the registry answered 500: 401 token realm (404) timed out no Wasm layer";
        for (kind, class) in [
            (ErrorKind::Timeout, Timeout),
            (ErrorKind::Transport, Unreachable),
            (ErrorKind::Unauthorized, Auth),
            (ErrorKind::NotFound, NotFound),
            (ErrorKind::TooLarge, TooLarge),
            (ErrorKind::Integrity, Integrity),
            (ErrorKind::NotWasm, NotWasm),
            (ErrorKind::Status, Status),
            (ErrorKind::Invalid, Other),
            (ErrorKind::Io, Other),
        ] {
            assert_eq!(
                RegistryErrorClass::of(&Error::new(kind, hostile)),
                class,
                "{kind:?}"
            );
        }
    }
}
