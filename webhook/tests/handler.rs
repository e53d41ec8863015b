//! The admission handler on real AdmissionReview documents (tests/data/, in the shape the API
//! server sends), with artifacts served from memory: which pods are judged, the response
//! (uid, allowed, 403 with rule ids), caching by digest, fail-closed and fail-open, the
//! deadline, and signed analyses standing in for a pull; and the metrics each review records.

use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wasmcert_analyzer::OciInfo;
use wasmcert_oci::{Artifact, Error, ErrorKind, Source};
use wasmcert_webhook::metrics::{Cache, Lookup, Reason, RegistryErrorClass, RegistryOp};
use wasmcert_webhook::{Admitter, Config, Fetch};

const REG: &str = "registry.example.com";

fn digest_of(name: &str) -> String {
    wasmcert_oci::sha256(name.as_bytes())
}

fn artifact(name: &str, wat: &str) -> Artifact {
    let wasm = wat::parse_str(wat).unwrap();
    Artifact {
        info: OciInfo {
            reference: format!("oci://{REG}/wasm/{name}@{}", digest_of(name)),
            manifest_digest: digest_of(name),
            manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            config_digest: wasmcert_oci::sha256(b"{}"),
            config_media_type: "application/vnd.wasm.config.v0+json".into(),
            layer_digest: wasmcert_oci::sha256(&wasm),
            layer_media_type: "application/wasm".into(),
        },
        config: serde_json::json!({}),
        wasm,
    }
}

/// Artifacts in memory, by repository; counts pulls; can be slow or broken.
#[derive(Default)]
struct MapFetch {
    artifacts: HashMap<String, Artifact>,
    attestations: HashMap<String, Vec<u8>>,
    fetches: Arc<AtomicU64>,
    resolves: Arc<AtomicU64>,
    delay: Option<Duration>,
}

fn repo(s: &Source) -> String {
    match s {
        Source::Registry { repository, .. } => repository.clone(),
        Source::Layout { .. } => String::new(),
    }
}

impl Fetch for MapFetch {
    fn resolve<'a>(&'a self, image: &'a Source) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            self.resolves.fetch_add(1, Ordering::SeqCst);
            match self.artifacts.get(&repo(image)) {
                Some(a) => Ok(a.info.manifest_digest.clone()),
                None => Err(Error::new(ErrorKind::NotFound, "manifest unknown")),
            }
        })
    }
    fn fetch<'a>(&'a self, image: &'a Source) -> BoxFuture<'a, Result<Artifact, Error>> {
        Box::pin(async move {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            if let Some(d) = self.delay {
                tokio::time::sleep(d).await;
            }
            self.artifacts
                .get(&repo(image))
                .cloned()
                .ok_or_else(|| Error::new(ErrorKind::NotFound, "manifest unknown"))
        })
    }
    fn attestation<'a>(
        &'a self,
        _image: &'a Source,
        manifest_digest: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, Error>> {
        Box::pin(async move { Ok(self.attestations.get(manifest_digest).cloned()) })
    }
}

const GOOD: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1 1) (func (export "_start")))"#;
const LISTENER: &str = r#"(module
  (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1 1) (func (export "_start")))"#;

fn fetcher() -> MapFetch {
    let mut f = MapFetch::default();
    f.artifacts
        .insert("wasm/good".into(), artifact("good", GOOD));
    f.artifacts
        .insert("wasm/listener".into(), artifact("listener", LISTENER));
    f
}

fn policy(spec: &str) -> wasmcert_policy::Policy {
    wasmcert_policy::load_spec(spec).unwrap()
}

fn review_doc(file: &str, app: &str, init: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    std::fs::read_to_string(path)
        .unwrap()
        .replace("IMAGE_APP", app)
        .replace("IMAGE_INIT", init)
        .into_bytes()
}

/// The configuration of the tests that name images by tag (and so test tag resolution):
/// tags are denied by default, `allow_tags` (`serve --allow-tags`) admits them.
fn tags_allowed() -> Config {
    Config {
        allow_tags: true,
        ..Config::default()
    }
}

fn admitter(pack: &str) -> Admitter {
    Admitter::new(tags_allowed(), vec![policy(pack)], Box::new(fetcher()))
}

/// The decision on `pod-wasm.json` with these images for its container and init container.
async fn review_pod(a: &Admitter, app: &str, init: &str) -> Value {
    a.review(&review_doc("pod-wasm.json", app, init))
        .await
        .unwrap()
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn response(v: &Value) -> &Value {
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    &v["response"]
}

#[test]
fn wasm_pods_are_judged_and_denials_name_the_rules() {
    let f = fetcher();
    let fetches = f.fetches.clone();
    let a = Admitter::new(tags_allowed(), vec![policy("pack:baseline")], Box::new(f));
    run(async {
        let good = format!("{REG}/wasm/good:1.0");
        let bad = format!("{REG}/wasm/listener:2.1");
        let v = review_pod(&a, &good, &good).await;
        let r = response(&v);
        assert_eq!(r["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(r["allowed"], true, "{r}");
        assert!(r.get("status").is_none());

        let v = review_pod(&a, &bad, &good).await;
        let r = response(&v);
        assert_eq!(r["allowed"], false);
        assert_eq!(r["status"]["code"], 403);
        let msg = r["status"]["message"].as_str().unwrap();
        assert!(msg.starts_with("wasmcert denied 1 of 2 images:"), "{msg}");
        assert!(
            msg.contains(&format!("{bad} denied by capability-denied")),
            "{msg}"
        );
        assert!(msg.contains("net-listen"), "{msg}");
        // The init container is judged too.
        let v = review_pod(&a, &good, &bad).await;
        assert_eq!(response(&v)["allowed"], false);

        // Cached by digest: the two images were pulled once each.
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        assert!(a.stats.cache_hits.load(Ordering::SeqCst) >= 3);
    });
}

#[test]
fn other_pods_and_operations_are_not_judged() {
    let f = fetcher();
    let fetches = f.fetches.clone();
    let a = Admitter::new(tags_allowed(), vec![policy("pack:strict")], Box::new(f));
    run(async {
        let v = a
            .review(&review_doc("pod-runc.json", "", ""))
            .await
            .unwrap();
        assert_eq!(response(&v)["allowed"], true);
        assert_eq!(response(&v)["uid"], "e911857d-c318-11e8-bbad-025000000001");
        let v = a
            .review(&review_doc(
                "pod-delete.json",
                &format!("{REG}/wasm/listener:1"),
                "",
            ))
            .await
            .unwrap();
        assert_eq!(response(&v)["allowed"], true);
        assert_eq!(fetches.load(Ordering::SeqCst), 0, "nothing was pulled");
    });
}

#[test]
fn workload_templates_are_judged() {
    let a = admitter("pack:baseline");
    run(async {
        for file in ["deployment-wasm.json", "cronjob-wasm.json"] {
            let v = a
                .review(&review_doc(file, &format!("{REG}/wasm/listener:9"), ""))
                .await
                .unwrap();
            assert_eq!(response(&v)["allowed"], false, "{file}");
            let v = a
                .review(&review_doc(file, &format!("{REG}/wasm/good:9"), ""))
                .await
                .unwrap();
            assert_eq!(response(&v)["allowed"], true, "{file}");
        }
    });
}

#[test]
fn failures_deny_by_default_and_allow_with_a_warning_when_fail_open() {
    run(async {
        let missing = format!("{REG}/wasm/gone:1");
        let closed = admitter("pack:baseline");
        let v = review_pod(&closed, &missing, &missing).await;
        let r = response(&v);
        assert_eq!(r["allowed"], false);
        assert!(
            r["status"]["message"]
                .as_str()
                .unwrap()
                .contains("could not be checked (fail-closed): manifest unknown")
        );

        let open = Admitter::new(
            Config {
                fail_open: true,
                ..tags_allowed()
            },
            vec![policy("pack:baseline")],
            Box::new(fetcher()),
        );
        let v = review_pod(&open, &missing, &missing).await;
        let r = response(&v);
        assert_eq!(r["allowed"], true);
        assert!(
            r["warnings"][0]
                .as_str()
                .unwrap()
                .contains("allowed (fail-open)")
        );
        // A denial is a denial even when failing open.
        let v = open
            .review(&review_doc(
                "pod-wasm.json",
                &format!("{REG}/wasm/listener:1"),
                &missing,
            ))
            .await
            .unwrap();
        assert_eq!(response(&v)["allowed"], false);
        // Failing open or closed, a failure to check is an `error` review.
        assert_eq!(closed.metrics().reviews(Reason::RegistryError), 1);
        assert_eq!(open.metrics().reviews(Reason::RegistryError), 1);
        assert_eq!(open.metrics().reviews(Reason::PolicyDenied), 1);
    });
}

/// Every review is counted once, with the reason class of its answer; cache lookups and
/// registry errors are counted by kind. Sequential, so every count is exact.
#[test]
fn every_review_is_counted_once_with_its_reason_class() {
    let mut f = fetcher();
    let mut junk = artifact("junk", GOOD);
    junk.wasm = b"\0asm but not really".to_vec();
    junk.info.layer_digest = wasmcert_oci::sha256(&junk.wasm);
    f.artifacts.insert("wasm/junk".into(), junk);
    let a = Admitter::new(tags_allowed(), vec![policy("pack:baseline")], Box::new(f));
    let good = format!("{REG}/wasm/good:1.0");
    let listener = format!("{REG}/wasm/listener:1");
    let gone = format!("{REG}/wasm/gone:1");
    let junk = format!("{REG}/wasm/junk:1");
    let no_image = {
        let doc = String::from_utf8(review_doc("pod-wasm.json", "x", "y")).unwrap();
        let mut v: Value = serde_json::from_str(&doc).unwrap();
        v["request"]["object"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("image");
        v.to_string().into_bytes()
    };
    let expected = [
        (
            review_doc("pod-wasm.json", &good, &good),
            Reason::PolicyAllowed,
        ),
        (review_doc("pod-wasm.json", &good, &good), Reason::Cached),
        (
            review_doc("pod-wasm.json", &listener, &listener),
            Reason::PolicyDenied,
        ),
        (
            review_doc("pod-wasm.json", &listener, &listener),
            Reason::PolicyDenied,
        ),
        (review_doc("pod-runc.json", "", ""), Reason::OtherRuntime),
        (
            review_doc("pod-delete.json", &listener, ""),
            Reason::Skipped,
        ),
        (
            review_doc("pod-wasm.json", &gone, &gone),
            Reason::RegistryError,
        ),
        (review_doc("pod-wasm.json", &junk, &junk), Reason::NotWasm),
        (b"not json".to_vec(), Reason::BadRequest),
        (no_image, Reason::InvalidPod),
        (
            review_doc("pod-wasm.json", "Not An Image!", "Not An Image!"),
            Reason::InvalidReference,
        ),
        // The init container cannot be checked, the app is denied: a denial comes first.
        (
            review_doc("pod-wasm.json", &listener, &gone),
            Reason::PolicyDenied,
        ),
    ];
    run(async {
        for (doc, reason) in &expected {
            let before = a.metrics().reviews(*reason);
            let _ = a.review(doc).await;
            assert_eq!(
                a.metrics().reviews(*reason),
                before + 1,
                "{reason}: {}",
                String::from_utf8_lossy(doc)
            );
        }
    });
    let m = a.metrics();
    let total: u64 = Reason::ALL.iter().map(|r| m.reviews(*r)).sum();
    assert_eq!(total, expected.len() as u64);
    assert_eq!(m.in_flight(), 0);
    let text = m.encode();
    assert!(
        text.contains(&format!(
            "wasmcert_webhook_review_duration_seconds_count {}\n",
            expected.len()
        )),
        "{text}"
    );
    // Tags: good, listener, gone, junk missed once each, gone again (not cached: it failed);
    // good, listener twice hit.
    assert_eq!(m.cache_lookups(Cache::Tag, Lookup::Miss), 5);
    assert_eq!(m.cache_lookups(Cache::Tag, Lookup::Hit), 3);
    // Decisions: good, listener, junk missed; good, listener twice hit.
    assert_eq!(m.cache_lookups(Cache::Decision, Lookup::Miss), 3);
    assert_eq!(m.cache_lookups(Cache::Decision, Lookup::Hit), 3);
    // The fake registry's missing tags are classed by their kind, not by its wording.
    assert_eq!(
        m.registry_errors(RegistryOp::Resolve, RegistryErrorClass::NotFound),
        2
    );
    assert_eq!(
        m.registry_errors(RegistryOp::Resolve, RegistryErrorClass::Other),
        0
    );
    assert!(text.contains(
        "wasmcert_webhook_registry_request_duration_seconds_count{operation=\"resolve\"} 5\n"
    ));
    assert!(text.contains(
        "wasmcert_webhook_registry_request_duration_seconds_count{operation=\"fetch\"} 3\n"
    ));
    // Policies ran on good and listener (junk did not analyse).
    assert!(text.contains("wasmcert_webhook_policy_evaluation_duration_seconds_count 2\n"));
    // Nothing from the reviews (an image, a pod name, a uid) is in the metrics.
    for secret in ["registry.example.com", "edge-fn", "705ab4f5", "wasm/"] {
        assert!(!text.contains(secret), "{secret}");
    }

    // Tags denied (the default) are their own reason.
    let strict = Admitter::new(
        Config::default(),
        vec![policy("pack:baseline")],
        Box::new(fetcher()),
    );
    run(async {
        review_pod(&strict, &good, &good).await;
    });
    assert_eq!(strict.metrics().reviews(Reason::DigestRequired), 1);
    assert_eq!(
        strict
            .metrics()
            .cache_lookups(Cache::Decision, Lookup::Miss),
        0
    );
}

#[test]
fn the_deadline_bounds_a_review() {
    let mut f = fetcher();
    f.delay = Some(Duration::from_secs(5));
    let a = Admitter::new(
        Config {
            deadline: Duration::from_millis(200),
            ..tags_allowed()
        },
        vec![policy("pack:baseline")],
        Box::new(f),
    );
    run(async {
        let t = std::time::Instant::now();
        let v = a
            .review(&review_doc(
                "pod-wasm.json",
                &format!("{REG}/wasm/good:1"),
                &format!("{REG}/wasm/good:1"),
            ))
            .await
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        let r = response(&v);
        assert_eq!(r["allowed"], false);
        assert!(
            r["status"]["message"]
                .as_str()
                .unwrap()
                .contains("within 200 ms; denied (fail-closed)")
        );
    });
    let m = a.metrics();
    assert_eq!(m.reviews(Reason::Timeout), 1);
    // The pull cut by the deadline is counted, as cancelled.
    assert_eq!(
        m.registry_errors(RegistryOp::Fetch, RegistryErrorClass::Cancelled),
        1
    );
    assert_eq!(m.in_flight(), 0);
}

#[test]
fn bad_reviews_are_errors_and_odd_pods_are_denied() {
    let a = admitter("pack:baseline");
    run(async {
        assert!(a.review(b"not json").await.is_err());
        assert!(a.review(br#"{"kind": "Pod"}"#).await.is_err());
        assert!(
            a.review(br#"{"kind": "AdmissionReview", "request": {}}"#)
                .await
                .unwrap_err()
                .0
                .contains("uid")
        );
        // A container without an image on a Wasm runtime class.
        let doc = String::from_utf8(review_doc("pod-wasm.json", "x", "y")).unwrap();
        let mut v: Value = serde_json::from_str(&doc).unwrap();
        v["request"]["object"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("image");
        let r = a.review(v.to_string().as_bytes()).await.unwrap();
        assert_eq!(response(&r)["allowed"], false);
        assert!(
            response(&r)["status"]["message"]
                .as_str()
                .unwrap()
                .contains("has no image")
        );
    });
}

#[test]
fn a_policy_change_never_reuses_a_decision() {
    run(async {
        let bad = format!("{REG}/wasm/listener:1");
        let lenient = admitter("pack:no-filesystem");
        let v = review_pod(&lenient, &bad, &bad).await;
        assert_eq!(response(&v)["allowed"], true);
        let strict = admitter("pack:no-network");
        let v = review_pod(&strict, &bad, &bad).await;
        assert_eq!(response(&v)["allowed"], false);
    });
}

#[test]
fn a_signed_analysis_beside_the_artifact_stands_in_for_the_pull() {
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/keys");
    let pem = std::fs::read(keys.join("test.key")).unwrap();
    let signer = wasmcert_report::sign::Signer::load(&pem, b"wasmcert-test").unwrap();
    let art = artifact("good", GOOD);
    let mut analysis = wasmcert_analyzer::analyze(&art.wasm, &Default::default()).unwrap();
    analysis.oci = Some(art.info.clone());
    let bundle = signer
        .sign(
            &wasmcert_report::sign::Subject {
                name: art.info.reference.clone(),
                sha256: analysis.subject.sha256.clone(),
            },
            wasmcert_report::sign::ANALYSIS_PREDICATE,
            &serde_json::to_value(&analysis).unwrap(),
        )
        .unwrap();
    let mut f = fetcher();
    f.attestations
        .insert(art.info.manifest_digest.clone(), bundle.into_bytes());
    let fetches = f.fetches.clone();
    let public = std::fs::read(keys.join("test.pub")).unwrap();
    // The policy requires a signature by the same key: the signed analysis satisfies it too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(keys.join("test.pub"), dir.path().join("ci.pub")).unwrap();
    let p = wasmcert_policy::Policy::from_text(
        "version = 1\n[rules.signature-required]\nkeys = [\"ci.pub\"]\naccept = [\"attestation\"]\n",
        "p.toml",
        dir.path(),
        false,
    )
    .unwrap();
    let a = Admitter::new(
        Config {
            analysis_keys: vec![public],
            ..tags_allowed()
        },
        vec![p],
        Box::new(f),
    );
    run(async {
        let good = format!("{REG}/wasm/good:1");
        let v = review_pod(&a, &good, &good).await;
        assert_eq!(response(&v)["allowed"], true, "{v}");
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            0,
            "the module was never pulled"
        );
        assert_eq!(a.stats.attestations.load(Ordering::SeqCst), 1);
        // Without a signed analysis the policy denies the unsigned listener.
        let bad = format!("{REG}/wasm/listener:1");
        let v = review_pod(&a, &bad, &bad).await;
        let msg = response(&v)["status"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.contains("signature-required"), "{msg}");
    });
}

/// Item 6 of the security review: the kubelet pulls a tag again after admission, so a tag can
/// be moved to another artifact between the decision and the pull. By default an image named
/// by tag only is denied, without being resolved or pulled, even when failing open; a digest
/// (with or without a tag) is judged; `allow_tags` restores tag resolution.
#[test]
fn a_tag_only_reference_is_denied_by_default() {
    run(async {
        for fail_open in [false, true] {
            let f = fetcher();
            let (fetches, resolves) = (f.fetches.clone(), f.resolves.clone());
            let a = Admitter::new(
                Config {
                    fail_open,
                    ..Config::default()
                },
                vec![policy("pack:baseline")],
                Box::new(f),
            );
            let good = format!("{REG}/wasm/good:1.0");
            let v = review_pod(&a, &good, &good).await;
            let r = response(&v);
            assert_eq!(r["allowed"], false, "{r}");
            assert_eq!(r["status"]["code"], 403);
            let msg = r["status"]["message"].as_str().unwrap();
            assert!(
                msg.contains(&format!("{good} denied by image-digest-required")),
                "{msg}"
            );
            assert!(msg.contains("name the image by digest"), "{msg}");
            // A short name is a tag (`latest`) too.
            let v = review_pod(&a, "nginx", "nginx").await;
            assert_eq!(response(&v)["allowed"], false);
            assert_eq!(resolves.load(Ordering::SeqCst), 0, "no tag was resolved");
            assert_eq!(fetches.load(Ordering::SeqCst), 0, "nothing was pulled");

            // By digest, with or without a tag beside it: judged as usual.
            let pinned = format!("{REG}/wasm/good@{}", digest_of("good"));
            let both = format!("{REG}/wasm/good:1.0@{}", digest_of("good"));
            let v = review_pod(&a, &pinned, &both).await;
            assert_eq!(response(&v)["allowed"], true, "{v}");
            let listener = format!("{REG}/wasm/listener@{}", digest_of("listener"));
            let v = review_pod(&a, &listener, &pinned).await;
            let msg = response(&v)["status"]["message"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(msg.contains("denied by capability-denied"), "{msg}");
        }
        // With allow_tags the tag is resolved and judged.
        let a = admitter("pack:baseline");
        let good = format!("{REG}/wasm/good:1.0");
        let v = review_pod(&a, &good, &good).await;
        assert_eq!(response(&v)["allowed"], true, "{v}");
    });
}

/// Item 12 of the security review: `kubectl debug` adds an ephemeral container through the
/// `pods/ephemeralcontainers` subresource; the API server sends an UPDATE whose object is the
/// whole Pod (kind Pod, subResource `ephemeralcontainers`) with the new container in
/// `spec.ephemeralContainers`. Its image is judged like any other.
#[test]
fn an_ephemeral_container_added_by_kubectl_debug_is_judged() {
    let f = fetcher();
    let fetches = f.fetches.clone();
    let a = Admitter::new(
        Config::default(),
        vec![policy("pack:baseline")],
        Box::new(f),
    );
    let good = format!("{REG}/wasm/good@{}", digest_of("good"));
    let listener = format!("{REG}/wasm/listener@{}", digest_of("listener"));
    let doc = |debug: &str| {
        let text = String::from_utf8(review_doc("pod-ephemeral.json", &good, "")).unwrap();
        text.replace("IMAGE_DEBUG", debug).into_bytes()
    };
    let raw: Value = serde_json::from_slice(&doc("x")).unwrap();
    assert_eq!(raw["request"]["subResource"], "ephemeralcontainers");
    assert_eq!(raw["request"]["kind"]["kind"], "Pod");
    assert_eq!(raw["request"]["operation"], "UPDATE");
    run(async {
        let v = a.review(&doc(&listener)).await.unwrap();
        let r = response(&v);
        assert_eq!(r["uid"], "3c2a0e7d-6a44-4f0b-9a53-0b5e3c8d1f20");
        assert_eq!(r["allowed"], false, "{r}");
        let msg = r["status"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("{listener} denied by capability-denied")),
            "{msg}"
        );
        let v = a.review(&doc(&good)).await.unwrap();
        assert_eq!(response(&v)["allowed"], true, "{v}");
        // The usual debugging image, by tag, is denied like any tag.
        let v = a.review(&doc("busybox:1.36")).await.unwrap();
        let msg = response(&v)["status"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("busybox:1.36 denied by image-digest-required"),
            "{msg}"
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    });
}
