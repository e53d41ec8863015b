//! `wasmcert serve` end to end: the HTTPS webhook (a self-signed certificate from the openssl
//! CLI) in front of a real registry on loopback (docker-registry, artifacts pushed with
//! skopeo), driven with curl the way the API server drives it: AdmissionReviews in, decisions
//! out; plus health, oversized and malformed requests, and a clean stop on SIGTERM. Then
//! the attacks of the security review against the webhook, with fake registries on loopback:
//! credentials lured elsewhere, endless and huge manifests (denied, fail-closed, bounded
//! memory), and tags (denied unless `--allow-tags`). And the operator's side: a burst of
//! reviews of every kind, then `/metrics` scraped from both listeners and parsed by an
//! independent parser (PyPI prometheus-client, from scripts/install-policy-tools.sh), whose
//! counters must add up to the reviews sent; `/readyz` 503 while the policy loads (the policy
//! file is a named pipe the test writes when it chooses), 200 after.

mod common;
use base64::Engine;
use common::fake_registry::{FakeRegistry, respond, stream_declared, stream_forever};
use common::registry::{Registry, tools_present};
use common::root;
use common::webhook::{
    Server, certificate, get, get_plain, parse_metrics, post, prometheus_parser, review, samples,
    wait_line,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use wasmcert_oci::layout::{Write, write};

#[test]
fn the_webhook_decides_on_pods_from_a_real_registry() {
    if !tools_present() {
        return;
    }
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let good = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
             (memory (export "memory") 1 1) (func (export "_start")))"#,
    )
    .unwrap();
    let bad = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
             (memory (export "memory") 1 1) (func (export "_start")))"#,
    )
    .unwrap();
    let cfg = br#"{"architecture":"wasm","os":"wasip1"}"#;
    for (tag, wasm) in [("good", &good), ("listener", &bad)] {
        write(
            dir.path(),
            &Write {
                tag,
                config_media_type: "application/vnd.wasm.config.v0+json",
                config: cfg,
                layers: &[("application/wasm", wasm)],
            },
        )
        .unwrap();
        reg.push(dir.path(), tag, "wasm/app");
    }
    let (cert, key) = certificate(dir.path());
    // The pods name images by tag: this test is about resolving tags, so it allows them.
    let server = Server::start(&["--policy", "pack:baseline", "--allow-tags"], &cert, &key);
    assert_eq!(get(&server.addr, &cert, "/healthz"), "ok\n");

    let (code, body) = post(
        &server.addr,
        &cert,
        &review(&format!("{}/wasm/app:good", reg.addr)),
    );
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(v["response"]["allowed"], true, "{body}");

    let listener = format!("{}/wasm/app:listener", reg.addr);
    let (code, body) = post(&server.addr, &cert, &review(&listener));
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["response"]["allowed"], false);
    assert_eq!(v["response"]["status"]["code"], 403);
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("capability-denied"),
        "{body}"
    );

    // Repeats are answered from the cache; pulls happened once per image.
    for _ in 0..5 {
        let (code, _) = post(&server.addr, &cert, &review(&listener));
        assert_eq!(code, 200);
    }
    let stats: serde_json::Value =
        serde_json::from_str(&get(&server.addr, &cert, "/stats")).unwrap();
    assert_eq!(stats["pulls"], 2, "{stats}");
    assert_eq!(stats["cache_hits"], 5, "{stats}");

    // A missing image is denied (fail-closed) and names the image.
    let (_, body) = post(
        &server.addr,
        &cert,
        &review(&format!("{}/wasm/app:nope", reg.addr)),
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["response"]["allowed"], false);
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("wasm/app:nope could not be checked")
    );

    // Malformed and oversized requests are refused at the HTTP level.
    let (code, _) = post(&server.addr, &cert, b"{ not json");
    assert_eq!(code, 400);
    let (code, _) = post(&server.addr, &cert, &vec![b' '; 4 << 20]);
    assert_eq!(code, 413);

    assert_eq!(server.stop(), Some(0), "SIGTERM stops it cleanly");

    // A signed analysis stored beside the artifact stands in for the pull: sign the analysis
    // of `listener` in "CI", push it under `sha256-<hex>.wasmcert`, and admit with a policy
    // that requires that signature.
    let out = dir.path().join("analysis.json");
    let o = common::bin()
        .env("WASMCERT_PASSWORD", "wasmcert-test")
        .args(["analyze", "--format", "json", "--sign-key"])
        .arg(root().join("reports/tests/keys/test.key"))
        .arg("-o")
        .arg(&out)
        .arg(format!("oci://{listener}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let manifest = a["oci"]["manifest_digest"].as_str().unwrap();
    let tag = format!("{}.wasmcert", manifest.replace(':', "-"));
    let bundle = std::fs::read(dir.path().join("analysis.sigstore.json")).unwrap();
    let att = dir.path().join("att");
    write(
        &att,
        &Write {
            tag: &tag,
            config_media_type: "application/vnd.wasmcert.analysis.config.v1+json",
            config: b"{}",
            layers: &[("application/vnd.dev.sigstore.bundle.v0.3+json", &bundle)],
        },
    )
    .unwrap();
    reg.push(&att, &tag, "wasm/app");
    std::fs::copy(
        root().join("reports/tests/keys/test.pub"),
        dir.path().join("ci.pub"),
    )
    .unwrap();
    let policy = dir.path().join("signed.toml");
    std::fs::write(
        &policy,
        "version = 1\n[rules.signature-required]\nkeys = [\"ci.pub\"]\naccept = [\"attestation\"]\n",
    )
    .unwrap();
    let key_arg = dir.path().join("ci.pub");
    let server = Server::start(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--analysis-key",
            key_arg.to_str().unwrap(),
            "--allow-tags",
        ],
        &cert,
        &key,
    );
    let (_, body) = post(&server.addr, &cert, &review(&listener));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["response"]["allowed"], true, "{body}");
    let (_, body) = post(
        &server.addr,
        &cert,
        &review(&format!("{}/wasm/app:good", reg.addr)),
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["response"]["allowed"], false, "{body}");
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("signature-required"),
        "{body}"
    );
    let stats: serde_json::Value =
        serde_json::from_str(&get(&server.addr, &cert, "/stats")).unwrap();
    assert_eq!(stats["attestations"], 1, "{stats}");
    assert_eq!(
        stats["pulls"], 1,
        "only the unsigned image was pulled: {stats}"
    );
}

#[test]
fn serve_refuses_a_bad_certificate_or_policy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), "not a certificate").unwrap();
    let o = common::bin()
        .args(["serve", "--policy", "pack:baseline", "--tls-cert"])
        .arg(dir.path().join("c.pem"))
        .arg("--tls-key")
        .arg(dir.path().join("c.pem"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("c.pem"));
    let (cert, key) = certificate(dir.path());
    std::fs::write(dir.path().join("p.toml"), "version = 7\n").unwrap();
    let o = common::bin()
        .arg("serve")
        .arg("--policy")
        .arg(dir.path().join("p.toml"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unsupported policy version 7"));
    // An unreadable registry auth file stops it at start, naming the file.
    std::fs::write(dir.path().join("auth.json"), "{\"auths\": []}").unwrap();
    let o = common::bin()
        .args(["serve", "--policy", "pack:baseline", "--registry-auth"])
        .arg(dir.path().join("auth.json"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("auth.json: `auths` is not an object"), "{e}");
}

fn denial(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["response"]["allowed"], false, "{body}");
    v["response"]["status"]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The security review's attacks on `wasmcert serve`, each from a pod naming a hostile
/// registry: item 3, a manifest that never ends and one that declares 10 GB (denied
/// fail-closed within the deadline, the server's peak RSS under 100 MB); item 1, credentials
/// configured for a registry lured to a token realm on another host, and a registry asking
/// for Basic credentials it was not given (denied; no credentials arrive); item 6, an image
/// named by tag only (denied by default, nothing fetched).
#[test]
fn hostile_registries_are_denied_fail_closed_without_leaks_or_growth() {
    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    let endless = FakeRegistry::start("127.0.0.1", |_, s| stream_forever(s, MANIFEST));
    let huge = FakeRegistry::start("127.0.0.1", |_, s| stream_declared(s, MANIFEST, 10 << 30));
    let realm = FakeRegistry::start("127.0.0.2", |_, s| {
        respond(s, "200 OK", &[], br#"{"token":"t"}"#)
    });
    let challenge = format!(r#"Bearer realm="http://{}/token""#, realm.addr);
    let lure = FakeRegistry::start("127.0.0.1", move |_, s| {
        respond(
            s,
            "401 Unauthorized",
            &[("WWW-Authenticate", &challenge)],
            b"",
        )
    });
    let basic = FakeRegistry::start("127.0.0.1", |_, s| {
        respond(
            s,
            "401 Unauthorized",
            &[("WWW-Authenticate", r#"Basic realm="r""#)],
            b"",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let password = "hunter2-secret";
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("alice:{password}"));
    let auth = dir.path().join("dockerconfig.json");
    std::fs::write(
        &auth,
        serde_json::json!({"auths": {lure.addr.clone(): {"auth": b64.clone()}}}).to_string(),
    )
    .unwrap();
    let (cert, key) = certificate(dir.path());
    let server = Server::start(
        &[
            "--policy",
            "pack:baseline",
            "--registry-auth",
            auth.to_str().unwrap(),
        ],
        &cert,
        &key,
    );
    let pinned = |reg: &FakeRegistry| format!("{}/wasm/app@sha256:{}", reg.addr, "ab".repeat(32));

    let lured = format!("another host ({})", realm.addr);
    for (reg, msg) in [
        (
            &endless,
            "a manifest longer than the 4194304-byte manifest cap",
        ),
        (&huge, "declares a 10737418240-byte manifest"),
        (&lure, lured.as_str()),
        (&basic, "requires credentials and none are configured"),
    ] {
        let t = std::time::Instant::now();
        let (code, body) = post(&server.addr, &cert, &review(&pinned(reg)));
        assert_eq!(code, 200, "{body}");
        let m = denial(&body);
        assert!(
            m.contains(&format!(
                "{} could not be checked (fail-closed)",
                pinned(reg)
            )) && m.contains(msg),
            "{m}"
        );
        assert!(
            t.elapsed() < std::time::Duration::from_secs(9),
            "{:?}",
            t.elapsed()
        );
    }
    let peak = server.peak_rss_kib();
    assert!(peak < 100 << 10, "the webhook's peak RSS is {peak} KiB");
    let leaked = |r: &common::fake_registry::Request| {
        r.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("authorization") || v.contains(&b64) || v.contains(password)
        })
    };
    assert!(
        !realm.requests().iter().any(leaked),
        "{:?}",
        realm.requests()
    );
    assert!(!basic.requests().is_empty() && !basic.requests().iter().any(leaked));

    // A tag: denied by default, without a single request to the registry.
    let before = endless.requests().len();
    let tagged = format!("{}/wasm/app:v1", endless.addr);
    let (_, body) = post(&server.addr, &cert, &review(&tagged));
    let m = denial(&body);
    assert!(
        m.contains(&format!("{tagged} denied by image-digest-required")),
        "{m}"
    );
    assert_eq!(endless.requests().len(), before);
    // The metrics (on the HTTPS listener by default) class each failure; nothing a pod named
    // is in them.
    let metrics = get(&server.addr, &cert, "/metrics");
    for line in [
        "wasmcert_webhook_registry_errors_total{operation=\"fetch\",class=\"too-large\"} 2",
        "wasmcert_webhook_registry_errors_total{operation=\"fetch\",class=\"auth\"} 2",
        "wasmcert_webhook_reviews_total{decision=\"error\",reason=\"registry-error\"} 4",
        "wasmcert_webhook_reviews_total{decision=\"denied\",reason=\"digest-required\"} 1",
        "wasmcert_webhook_review_duration_seconds_count 5",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line}:\n{metrics}");
    }
    for reg in [&endless, &huge, &lure, &basic, &realm] {
        assert!(!metrics.contains(&reg.addr));
    }
    assert_eq!(server.stop(), Some(0));
}

/// Send every review in `bodies` to `/validate` from one curl process, `parallel` at a time
/// over kept-alive connections, as the API server's replicas would; the HTTP statuses.
fn post_all(addr: &str, cert: &Path, bodies: &[Vec<u8>], parallel: usize) -> Vec<u16> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::new();
    for (i, b) in bodies.iter().enumerate() {
        let f = dir.path().join(format!("{i}.json"));
        std::fs::write(&f, b).unwrap();
        if i > 0 {
            config.push_str("next\n");
        }
        config.push_str(&format!(
            "url = \"https://{addr}/validate?i={i}\"\ncacert = \"{}\"\nheader = \"Content-Type: application/json\"\n\
             data-binary = \"@{}\"\noutput = \"/dev/null\"\nwrite-out = \"%{{url_effective}} %{{http_code}}\\n\"\nmax-time = 20\n",
            cert.display(),
            f.display()
        ));
    }
    let k = dir.path().join("curl.cfg");
    std::fs::write(&k, config).unwrap();
    let o = Command::new("curl")
        .args([
            "-sS",
            "--parallel",
            "--parallel-max",
            &parallel.to_string(),
            "-K",
        ])
        .arg(&k)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Transfers finish in any order: each line names its body by `?i=`.
    let mut codes = vec![0; bodies.len()];
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        let (url, code) = line.rsplit_once(' ').unwrap();
        let i: usize = url.rsplit_once("?i=").unwrap().1.parse().unwrap();
        codes[i] = code.parse().unwrap();
    }
    codes
}

/// The load-test path with a known N: a burst of N reviews of every kind (allowed, cached,
/// denied by a policy and for a tag, other runtimes, deletes, images missing from the
/// registry, bodies that are not reviews), 8 at a time; then `/metrics` from the plain
/// listener and from the HTTPS one, each parsed by PyPI prometheus-client. The review counter
/// must be N, its decisions must add up to what was sent, the latency histogram must have
/// counted N, and the cache and registry counters must match the decisions made.
#[test]
fn metrics_after_n_reviews_add_up_under_an_independent_parser() {
    if !tools_present() {
        return;
    }
    let Some(python) = prometheus_parser() else {
        return;
    };
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let good = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
             (memory (export "memory") 1 1) (func (export "_start")))"#,
    )
    .unwrap();
    let bad = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
             (memory (export "memory") 1 1) (func (export "_start")))"#,
    )
    .unwrap();
    let mut digests = BTreeMap::new();
    for (tag, wasm) in [("good", &good), ("listener", &bad)] {
        let d = write(
            dir.path(),
            &Write {
                tag,
                config_media_type: "application/vnd.wasm.config.v0+json",
                config: br#"{"architecture":"wasm","os":"wasip1"}"#,
                layers: &[("application/wasm", wasm)],
            },
        )
        .unwrap();
        reg.push(dir.path(), tag, "wasm/app");
        digests.insert(tag, format!("{}/wasm/app@{d}", reg.addr));
    }
    let gone = format!("{}/wasm/app@sha256:{}", reg.addr, "0f".repeat(32));
    let (cert, key) = certificate(dir.path());
    // Pinned digests, tags denied (the default).
    let server = Server::start(
        &["--policy", "pack:baseline", "--metrics-addr", "127.0.0.1:0"],
        &cert,
        &key,
    );
    let plain = server.metrics.clone().unwrap();
    assert_eq!(get_plain(&plain, "/readyz"), (200, "ok\n".into()));
    assert_eq!(get_plain(&plain, "/healthz"), (200, "ok\n".into()));
    assert_eq!(get(&server.addr, &cert, "/readyz"), "ok\n");
    let doc = |file: &str, image: &str| {
        std::fs::read_to_string(root().join("webhook/tests/data").join(file))
            .unwrap()
            .replace("IMAGE_APP", image)
            .replace("IMAGE_INIT", image)
            .into_bytes()
    };
    let tagged = format!("{}/wasm/app:good", reg.addr);
    let kinds: [(Vec<u8>, usize, u16); 7] = [
        (doc("pod-wasm.json", &digests["good"]), 40, 200),
        (doc("pod-wasm.json", &digests["listener"]), 20, 200),
        (doc("pod-wasm.json", &tagged), 10, 200),
        (doc("pod-runc.json", ""), 10, 200),
        (doc("pod-delete.json", &digests["listener"]), 5, 200),
        (doc("pod-wasm.json", &gone), 5, 200),
        (b"{ not a review".to_vec(), 5, 400),
    ];
    // Interleaved, so that every kind is in flight with the others.
    let mut bodies = Vec::new();
    let mut expected_codes = Vec::new();
    let most = kinds.iter().map(|k| k.1).max().unwrap();
    for round in 0..most {
        for (body, count, code) in &kinds {
            if round < *count {
                bodies.push(body.clone());
                expected_codes.push(*code);
            }
        }
    }
    let n = bodies.len();
    assert_eq!(n, 95);
    let codes = post_all(&server.addr, &cert, &bodies, 8);
    assert_eq!(codes, expected_codes);

    let (code, text) = get_plain(&plain, "/metrics");
    assert_eq!(code, 200);
    let m = parse_metrics(&python, &text);
    let reviews = samples(
        &m,
        "wasmcert_webhook_reviews",
        "wasmcert_webhook_reviews_total",
    );
    let count = |labels: &str| reviews.get(labels).copied().unwrap_or(-1.0);
    let total: f64 = reviews.values().sum();
    assert_eq!(total, n as f64, "{reviews:?}");
    let by_decision = |d: &str| -> f64 {
        reviews
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("decision={d},")))
            .map(|(_, v)| v)
            .sum()
    };
    assert_eq!(by_decision("allowed"), 55.0, "{reviews:?}");
    assert_eq!(by_decision("denied"), 30.0, "{reviews:?}");
    assert_eq!(by_decision("error"), 10.0, "{reviews:?}");
    // Two replicas of a first review may both miss the cache: only the sum is exact.
    let (fresh, cached) = (
        count("decision=allowed,reason=policy-allowed"),
        count("decision=allowed,reason=cached"),
    );
    assert!(fresh >= 1.0 && fresh + cached == 40.0, "{reviews:?}");
    for (labels, want) in [
        ("decision=denied,reason=policy-denied", 20.0),
        ("decision=denied,reason=digest-required", 10.0),
        ("decision=allowed,reason=other-runtime", 10.0),
        ("decision=allowed,reason=skipped", 5.0),
        ("decision=error,reason=registry-error", 5.0),
        ("decision=error,reason=bad-request", 5.0),
        ("decision=error,reason=timeout", 0.0),
        ("decision=error,reason=cancelled", 0.0),
    ] {
        assert_eq!(count(labels), want, "{labels}: {reviews:?}");
    }

    // The latency histogram counted every review, and its buckets are cumulative.
    let family = "wasmcert_webhook_review_duration_seconds";
    let hcount = samples(&m, family, &format!("{family}_count"));
    assert_eq!(hcount[""], n as f64);
    assert!(samples(&m, family, &format!("{family}_sum"))[""] > 0.0);
    let mut buckets: Vec<(f64, f64)> = samples(&m, family, &format!("{family}_bucket"))
        .into_iter()
        .map(|(le, v)| {
            let le = le.strip_prefix("le=").unwrap();
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            (bound, v)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, n as f64));
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    assert_eq!(
        m["wasmcert_webhook_review_duration_seconds"]["type"],
        "histogram"
    );
    let in_flight = samples(
        &m,
        "wasmcert_webhook_reviews_in_flight",
        "wasmcert_webhook_reviews_in_flight",
    );
    assert_eq!(in_flight[""], 0.0);

    // Every pinned Wasm pod looked its image up in the decision cache once; every miss pulled
    // (5 of them from a digest the registry does not have) and the others were evaluated.
    let cache = samples(
        &m,
        "wasmcert_webhook_cache_lookups",
        "wasmcert_webhook_cache_lookups_total",
    );
    let (hits, misses) = (
        cache["cache=decision,result=hit"],
        cache["cache=decision,result=miss"],
    );
    assert_eq!(hits + misses, 65.0, "{cache:?}");
    assert!(misses >= 7.0, "{cache:?}");
    assert_eq!(
        cache["cache=tag,result=hit"] + cache["cache=tag,result=miss"],
        0.0
    );
    let family = "wasmcert_webhook_registry_request_duration_seconds";
    let fetches = samples(&m, family, &format!("{family}_count"));
    assert_eq!(fetches["operation=fetch"], misses, "{fetches:?}");
    assert_eq!(
        fetches["operation=resolve"], 0.0,
        "pinned: nothing resolved"
    );
    let errors = samples(
        &m,
        "wasmcert_webhook_registry_errors",
        "wasmcert_webhook_registry_errors_total",
    );
    assert_eq!(errors["class=not-found,operation=fetch"], 5.0, "{errors:?}");
    assert_eq!(errors.values().sum::<f64>(), 5.0, "{errors:?}");
    let family = "wasmcert_webhook_policy_evaluation_duration_seconds";
    let evaluated = samples(&m, family, &format!("{family}_count"));
    assert_eq!(evaluated[""], misses - 5.0);

    // The HTTPS listener serves the same metrics (nothing happened in between).
    let over_tls = parse_metrics(&python, &get(&server.addr, &cert, "/metrics"));
    assert_eq!(
        samples(
            &over_tls,
            "wasmcert_webhook_reviews",
            "wasmcert_webhook_reviews_total"
        ),
        reviews
    );
    // Nothing of the reviews (an image, a registry, a pod) is a label.
    for leak in [reg.addr.as_str(), "edge-fn", "nginx", "705ab4f5", "sha256"] {
        assert!(!text.contains(leak), "{leak} in the metrics");
    }
    // The plain listener takes no review.
    assert_eq!(get_plain(&plain, "/validate").0, 404);
    assert_eq!(server.stop(), Some(0));
}

/// `/readyz` is 503 until the policy is loaded: the policy file is a named pipe, so `serve`
/// waits in its read until the test writes the policy. Meanwhile the metrics listener is up,
/// alive (`/healthz` 200), not ready (`/readyz` 503), and its metrics parse; once the policy
/// is written the HTTPS listener comes up and both listeners answer `/readyz` 200.
#[test]
fn readyz_is_503_while_the_policy_loads_then_200() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let fifo = dir.path().join("policy.toml");
    let o = Command::new("mkfifo").arg(&fifo).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (mut server, mut lines) = Server::spawn(
        &[
            "--policy",
            fifo.to_str().unwrap(),
            "--metrics-addr",
            "127.0.0.1:0",
            "--metrics-path",
            "/internal/metrics",
        ],
        &cert,
        &key,
    );
    let m = wait_line(&mut lines, "wasmcert serve: metrics on http://");
    let plain = m.strip_suffix("/internal/metrics").unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(
            get_plain(&plain, "/readyz"),
            (
                503,
                "the policy is not loaded; the HTTPS listener is not up\n".into()
            )
        );
        assert_eq!(get_plain(&plain, "/healthz"), (200, "ok\n".into()));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (code, text) = get_plain(&plain, "/internal/metrics");
    assert_eq!(code, 200);
    assert_eq!(
        get_plain(&plain, "/metrics").0,
        404,
        "the path is configurable"
    );
    if let Some(python) = prometheus_parser() {
        let parsed = parse_metrics(&python, &text);
        let reviews = samples(
            &parsed,
            "wasmcert_webhook_reviews",
            "wasmcert_webhook_reviews_total",
        );
        assert_eq!(reviews.len(), 14, "every reason, at zero: {reviews:?}");
        assert!(reviews.values().all(|v| *v == 0.0));
    }
    // Opening the pipe for writing lets the server's read go on.
    std::fs::write(
        &fifo,
        "version = 1\n[rules.capability-denied]\ncapabilities = [\"net-listen\"]\n",
    )
    .unwrap();
    server.listening(lines);
    assert_eq!(get_plain(&plain, "/readyz"), (200, "ok\n".into()));
    assert_eq!(get(&server.addr, &cert, "/readyz"), "ok\n");
    assert_eq!(get(&server.addr, &cert, "/healthz"), "ok\n");
    let (code, body) = post(
        &server.addr,
        &cert,
        &std::fs::read(root().join("webhook/tests/data/pod-runc.json")).unwrap(),
    );
    assert_eq!(code, 200, "{body}");
    let (_, text) = get_plain(&plain, "/internal/metrics");
    assert!(
        text.contains(
            "wasmcert_webhook_reviews_total{decision=\"allowed\",reason=\"other-runtime\"} 1\n"
        ),
        "{text}"
    );
    assert_eq!(server.stop(), Some(0));
}
