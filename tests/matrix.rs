//! The compatibility matrix: the committed one is what the committed signed bundles render to,
//! unverifiable bundles are refused and never shown, staleness is marked, sharded runs merge
//! into exactly the unsharded report, and matrix.html works in a real browser (headless Debian
//! chromium driven by playwright-core; the screenshot is kept under target/test-artifacts/).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn committed_bundles() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("docs/matrix/bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".sigstore.json"))
        .collect();
    v.sort();
    v
}

fn project_key() -> PathBuf {
    root().join("docs/matrix/wasmcert-project.pub")
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Render the committed bundles with the settings recorded in the committed matrix.
fn rerender(out: &Path) -> Output {
    let m = json(&root().join("docs/matrix/matrix.json"));
    let mut c = bin();
    c.arg("matrix")
        .arg("--key")
        .arg(project_key())
        .args(committed_bundles())
        .arg("--out")
        .arg(out)
        .args(["--as-of", m["as_of"].as_str().unwrap()])
        .args(["--max-age-days", &m["max_age_days"].to_string()]);
    if let Some(d) = m["current_suite_digest"].as_str() {
        c.args(["--suite-digest", d]);
    }
    c.output().unwrap()
}

#[test]
fn the_committed_matrix_is_what_the_committed_bundles_render_to() {
    let dir = tempfile::tempdir().unwrap();
    let o = rerender(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in ["matrix.md", "matrix.json", "matrix.html"] {
        let fresh = std::fs::read_to_string(dir.path().join(f)).unwrap();
        let committed = std::fs::read_to_string(root().join("docs/matrix").join(f)).unwrap();
        assert!(
            fresh == committed,
            "docs/matrix/{f} is stale: it no longer matches the committed bundles; \
             re-render it (wasmcert matrix --key docs/matrix/wasmcert-project.pub \
             docs/matrix/bundles/*.sigstore.json --out docs/matrix --as-of …) or run \
             scripts/publish-matrix.sh"
        );
    }
    let m = json(&root().join("docs/matrix/matrix.json"));
    let runtimes: Vec<&str> = m["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(runtimes.len() >= 4, "{runtimes:?}");
    for want in ["embedded", "wasmtime", "wamr", "node", "wasmtime-py-33"] {
        assert!(runtimes.contains(&want), "{want} missing from {runtimes:?}");
    }
    assert_eq!(m["refused"].as_array().unwrap().len(), 0);
    // The known-vulnerable reference is shown as such: its GHSA-2r75 case did not pass.
    let case = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "sandbox/ro-files-truncate")
        .unwrap();
    let col = runtimes
        .iter()
        .position(|r| *r == "wasmtime-py-33")
        .unwrap();
    assert_ne!(case["cells"][col]["outcome"], "pass");
    // Every bundle verifies with the committed public key on its own, too.
    for b in committed_bundles() {
        let o = bin()
            .arg("verify")
            .arg("--key")
            .arg(project_key())
            .arg(&b)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}: {}", b.display(), text(&o));
    }
}

/// A report from a committed bundle (the signed predicate), for re-signing in tests.
fn report_of(bundle: &Path) -> serde_json::Value {
    let b = json(bundle);
    let payload = B64
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    st["predicate"].clone()
}

fn sign_with_test_key(report: &Path) -> PathBuf {
    let o = bin()
        .env("WASMCERT_PASSWORD", "wasmcert-test")
        .arg("sign")
        .arg("--key")
        .arg(root().join("reports/tests/keys/test.key"))
        .arg(report)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    report.with_file_name(format!(
        "{}.sigstore.json",
        report.file_stem().unwrap().to_string_lossy()
    ))
}

#[test]
fn unverifiable_bundles_are_refused_and_stale_reports_marked() {
    let dir = tempfile::tempdir().unwrap();
    let bundles = committed_bundles();
    // A tampered copy (payload changed after signing).
    let mut t = json(&bundles[0]);
    let mut report = report_of(&bundles[0]);
    report["runtime"]["name"] = "tampered".into();
    let st = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "x", "digest": {"sha256": "00"}}],
        "predicateType": "https://wasmcert.dev/conformance-report/v1",
        "predicate": report,
    });
    t["dsseEnvelope"]["payload"] = B64.encode(st.to_string()).into();
    let tampered = dir.path().join("tampered.sigstore.json");
    std::fs::write(&tampered, t.to_string()).unwrap();
    // A validly signed report, by a key that is not trusted.
    let r = dir.path().join("other-vendor.json");
    let mut other = report_of(&bundles[1]);
    other["runtime"]["name"] = "unknown-vendor".into();
    std::fs::write(&r, other.to_string()).unwrap();
    let untrusted = sign_with_test_key(&r);
    // An old duplicate of a trusted report: superseded, not a second column.
    let out = dir.path().join("out");
    let o = bin()
        .arg("matrix")
        .arg("--key")
        .arg(project_key())
        .args(&bundles)
        .arg(&tampered)
        .arg(&untrusted)
        .arg(&bundles[0])
        .arg("--out")
        .arg(&out)
        .args([
            "--as-of",
            "2030-01-01",
            "--max-age-days",
            "30",
            "--suite-digest",
            &"ab".repeat(32),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = text(&o);
    assert!(
        err.contains("refused: tampered.sigstore.json: not verified by any given key"),
        "{err}"
    );
    assert!(
        err.contains("refused: other-vendor.sigstore.json: not verified"),
        "{err}"
    );
    let m = json(&out.join("matrix.json"));
    let names: Vec<&str> = m["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), bundles.len(), "{names:?}");
    assert!(!names.contains(&"tampered") && !names.contains(&"unknown-vendor"));
    let refused = m["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 3, "{refused:#?}");
    assert!(
        refused
            .iter()
            .any(|r| r["reason"].as_str().unwrap().starts_with("superseded by"))
    );
    // Everything is stale: too old for 30 days on 2030-01-01, and another suite digest.
    for r in m["runtimes"].as_array().unwrap() {
        let why = r["stale"].as_array().unwrap();
        assert_eq!(why.len(), 2, "{why:?}");
    }
    let md = std::fs::read_to_string(out.join("matrix.md")).unwrap();
    assert!(md.contains("**stale**") && md.contains("## Refused bundles"));
    assert!(md.contains("- tampered.sigstore.json: not verified by any given key"));
    let html = std::fs::read_to_string(out.join("matrix.html")).unwrap();
    assert!(
        !html.contains("unknown-vendor"),
        "a refused report never shows as a result"
    );
    assert!(
        !html.contains("src=") && !html.contains("href=\"http"),
        "self-contained"
    );
    browser(&out, "matrix-refused-stale.png");

    // Bad usage: no bundles, a non-key, a bad date.
    let o = bin()
        .args(["matrix", "--key"])
        .arg(project_key())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin()
        .arg("matrix")
        .arg("--key")
        .arg(&bundles[0])
        .arg(&bundles[0])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = bin()
        .arg("matrix")
        .arg("--key")
        .arg(project_key())
        .arg(&bundles[0])
        .args(["--as-of", "tomorrow", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--as-of \"tomorrow\": expected YYYY-MM-DD"));
}

fn certify(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("{name}.json"));
    let o = bin()
        .args(["certify", "--format", "json", "--output"])
        .arg(&out)
        .args(["--expectations", "certify/expectations"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.code() == Some(0),
        "certify {extra:?}: {}",
        text(&o)
    );
    out
}

/// What must be equal between a merged and an unsharded report: everything but the one
/// wall-clock field and the per-case durations.
fn comparable(mut r: serde_json::Value) -> serde_json::Value {
    r["started_at"] = serde_json::Value::Null;
    for (_, c) in r["cases"].as_object_mut().unwrap() {
        c["evidence"]["duration_ms"] = serde_json::Value::Null;
    }
    r
}

#[test]
fn sharded_certification_merges_into_the_unsharded_report() {
    let dir = tempfile::tempdir().unwrap();
    let filter = ["--filter", "^(wasi|sandbox)/"];
    let whole = certify(dir.path(), "whole", &filter);
    let shards: Vec<PathBuf> = (1..=3)
        .map(|k| {
            let s = format!("{k}/3");
            certify(
                dir.path(),
                &format!("shard{k}"),
                &[filter[0], filter[1], "--shard", &s],
            )
        })
        .collect();
    let merge = |inputs: &[&PathBuf], out: &Path| {
        let o = bin()
            .args(["report", "merge"])
            .args(inputs)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        json(out)
    };
    let a = merge(
        &[&shards[0], &shards[1], &shards[2]],
        &dir.path().join("m1.json"),
    );
    let b = merge(
        &[&shards[2], &shards[0], &shards[1]],
        &dir.path().join("m2.json"),
    );
    assert_eq!(
        std::fs::read(dir.path().join("m1.json")).unwrap(),
        std::fs::read(dir.path().join("m2.json")).unwrap(),
        "merging is order-independent, byte for byte"
    );
    assert_eq!(a, b);
    let w = json(&whole);
    assert_eq!(a["suite"]["shard"], serde_json::Value::Null);
    assert_eq!(a["suite"]["cases"], w["suite"]["cases"]);
    assert_eq!(comparable(a.clone()), comparable(w), "merged = unsharded");

    // Missing and duplicated shards are errors.
    let o = bin()
        .args(["report", "merge"])
        .arg(&shards[0])
        .arg(&shards[1])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("shard 3/3 is missing"), "{}", text(&o));
    let o = bin()
        .args(["report", "merge"])
        .args([&shards[0], &shards[0], &shards[1], &shards[2]])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("given twice"));

    // Signed shards merge after verification; a tampered one is refused (exit 1).
    let signed: Vec<PathBuf> = shards.iter().map(|s| sign_with_test_key(s)).collect();
    let o = bin()
        .args(["report", "merge", "--key"])
        .arg(root().join("reports/tests/keys/test.pub"))
        .args(&signed)
        .arg("-o")
        .arg(dir.path().join("m3.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&dir.path().join("m3.json")), a);
    let o = bin()
        .args(["report", "merge"])
        .args(&signed)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("give --key"));
    // With --key, an unsigned shard among signed ones is refused: a signed merge must not
    // launder unverified content; --allow-unsigned is the explicit way to accept it.
    let mixed = [&signed[0], &signed[1], &shards[2]];
    let o = bin()
        .args(["report", "merge", "--key"])
        .arg(root().join("reports/tests/keys/test.pub"))
        .args(mixed)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not signed"), "{}", text(&o));
    let o = bin()
        .args(["report", "merge", "--allow-unsigned", "--key"])
        .arg(root().join("reports/tests/keys/test.pub"))
        .args(mixed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = bin()
        .args(["report", "merge", "--key"])
        .arg(project_key())
        .args(&signed)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("INVALID"));
}

/// Run the browser check on a rendered matrix directory (skips outside CI when the browser
/// tools are missing).
fn browser(dir: &Path, shot: &str) {
    let pw = root().join(".ci/tools/playwright/node_modules/playwright-core");
    if !pw.is_dir() || !Path::new("/usr/bin/chromium").exists() {
        common::not_installed::<()>(
            "chromium / playwright-core",
            "scripts/install-browser-tools.sh",
        );
        return;
    }
    let artifacts = root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join(shot);
    let o = Command::new("node")
        .arg(root().join("scripts/test-matrix-browser.mjs"))
        .arg(dir)
        .arg(&png)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "browser check failed:\n{}", text(&o));
    let png_bytes = std::fs::read(&png).unwrap();
    assert!(png_bytes.starts_with(b"\x89PNG") && png_bytes.len() > 10_000);
}

#[test]
fn the_published_matrix_works_in_a_real_browser() {
    browser(&root().join("docs/matrix"), "matrix.png");
}

/// Sign `report` (JSON) with `key` (password `pw`) into `<dir>/<name>.sigstore.json`, with the
/// signing library directly, as a hostile vendor's own tool would: `wasmcert sign` itself
/// refuses to sign a malformed report.
fn sign_as(dir: &Path, name: &str, report: &serde_json::Value, key: &Path, pw: &str) -> PathBuf {
    use wasmcert_report::sign;
    let subject = sign::Subject {
        name: report["runtime"]["name"].as_str().unwrap().into(),
        sha256: report["runtime"]["binary_sha256"].as_str().unwrap().into(),
    };
    let pem = std::fs::read(key).unwrap();
    let bundle = sign::sign(
        &pem,
        pw.as_bytes(),
        &subject,
        sign::REPORT_PREDICATE,
        report,
    )
    .unwrap();
    let out = dir.join(format!("{name}.sigstore.json"));
    std::fs::write(&out, bundle).unwrap();
    out
}

/// Reports signed by trusted keys are still hostile input (security issue items 7, 8, 16): a
/// report from the future is refused, a second trusted key cannot supersede the first key's
/// report of the same build, and case ids that carry markup, a line break or a table cell
/// break are refused on read, so nothing of theirs reaches matrix.md or matrix.html.
#[test]
fn hostile_signed_reports_cannot_hide_evidence_or_inject_markup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A second trusted signer.
    let o = bin()
        .env("WASMCERT_PASSWORD", "second")
        .arg("keygen")
        .arg("--output-key-prefix")
        .arg(d.join("second"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let test_key = root().join("reports/tests/keys/test.key");
    let wamr = committed_bundles()
        .into_iter()
        .find(|b| b.ends_with("wamr.sigstore.json"))
        .unwrap();
    let genuine = report_of(&wamr);
    assert!(genuine["verdict"]["containment"]["count"].as_u64().unwrap() > 0);
    let a = sign_as(d, "genuine", &genuine, &test_key, "wasmcert-test");
    // The same build, a clean bill of health, signed by the other key, newer.
    let mut clean = genuine.clone();
    for (_, c) in clean["cases"].as_object_mut().unwrap() {
        *c = serde_json::json!({"category": c["category"], "outcome": "pass", "evidence": c["evidence"]});
    }
    clean["started_at"] = "2026-12-20T00:00:00Z".into();
    let b = sign_as(d, "clean", &clean, &d.join("second.key"), "second");
    // A future date, to win every "newest" contest and never go stale.
    let mut future = genuine.clone();
    future["started_at"] = "2099-01-01T00:00:00Z".into();
    let f = sign_as(d, "future", &future, &test_key, "wasmcert-test");
    // Case ids that would inject into the Markdown table.
    let mut bundles = vec![a, b, f];
    for (name, id) in [
        ("script", "sandbox/x\n<script>alert(1)</script>"),
        ("cell", "sandbox/a` | ✅ pass | ✅ pass"),
        ("html", "sandbox/<img src=x onerror=alert(1)>"),
    ] {
        let mut r = genuine.clone();
        let c = r["cases"]["sandbox/create-outside"].clone();
        r["cases"][id] = c;
        bundles.push(sign_as(d, name, &r, &test_key, "wasmcert-test"));
    }
    let out = d.join("out");
    let o = bin()
        .arg("matrix")
        .arg("--key")
        .arg(root().join("reports/tests/keys/test.pub"))
        .arg("--key")
        .arg(d.join("second.pub"))
        .args(&bundles)
        .args(["--out"])
        .arg(&out)
        .args(["--as-of", "2026-12-31"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let m = json(&out.join("matrix.json"));
    let refused: Vec<(String, String)> = m["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["bundle"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |b: &str| {
        refused
            .iter()
            .find(|(n, _)| n == b)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{b} not refused: {refused:?}"))
    };
    assert!(reason("future.sigstore.json").contains("after the matrix date 2026-12-31"));
    for b in ["script", "cell", "html"] {
        assert!(
            reason(&format!("{b}.sigstore.json")).contains("is not `sandbox/<name>`"),
            "{b}: {refused:?}"
        );
    }
    assert_eq!(refused.len(), 4, "{refused:?}");
    // Both signers' reports are shown, side by side: the genuine escapes are not hidden.
    let cols: Vec<&serde_json::Value> = m["runtimes"].as_array().unwrap().iter().collect();
    assert_eq!(cols.len(), 2, "{cols:?}");
    assert!(
        cols.iter()
            .all(|c| c["id"].as_str().unwrap().starts_with("wamr ["))
    );
    assert!(
        cols.iter()
            .any(|c| c["summary"]["escaped"].as_u64().unwrap_or(0) > 0)
    );
    let md = std::fs::read_to_string(out.join("matrix.md")).unwrap();
    let html = std::fs::read_to_string(out.join("matrix.html")).unwrap();
    for text in [&md, &html] {
        assert!(!text.contains("<script>alert") && !text.contains("<img"));
    }
    assert!(md.contains("🚨 ESCAPED"));
    browser(&out, "matrix-hostile.png");
}

/// A version 1 report (its escapes read `expected-failure`) is refused by every reader, with
/// the reason and what to do, never read as if its outcomes were observed.
#[test]
fn version_1_reports_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let fx = root().join("tests/fixtures/report-v1");
    let bundle = fx.join("wamr.sigstore.json");
    let key = fx.join("project-2026-11.pub");
    let reason = "schema_version 1";
    // matrix: refused, named, not shown.
    let o = bin()
        .arg("matrix")
        .arg("--key")
        .arg(&key)
        .arg(&bundle)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let m = json(&dir.path().join("matrix.json"));
    assert_eq!(m["runtimes"].as_array().unwrap().len(), 0);
    let why = m["refused"][0]["reason"].as_str().unwrap();
    assert!(
        why.contains(reason) && why.contains("run `wasmcert certify` again"),
        "{why}"
    );
    // report merge: an input error.
    let o = bin()
        .args(["report", "merge", "--key"])
        .arg(&key)
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains(reason), "{}", text(&o));
    // verify: the signature is fine, the document is not readable.
    let o = bin()
        .arg("verify")
        .arg("--key")
        .arg(&key)
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("schema_version is Some(1)"),
        "{}",
        text(&o)
    );
    // check --runtime-report: the certification rule is not satisfied, and says why.
    std::fs::write(
        dir.path().join("p.toml"),
        format!(
            "version = 1\n[rules.runtime-certification-required]\nkeys = [{:?}]\n",
            key.display().to_string()
        ),
    )
    .unwrap();
    let wasm = wat::parse_str("(module)").unwrap();
    std::fs::write(dir.path().join("m.wasm"), wasm).unwrap();
    let o = bin()
        .arg("check")
        .arg("--policy")
        .arg(dir.path().join("p.toml"))
        .arg("--runtime-report")
        .arg(&bundle)
        .arg(dir.path().join("m.wasm"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(reason), "{}", text(&o));
}
