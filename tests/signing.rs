//! keygen / sign / verify end to end, plus an independent check with the `openssl` CLI over
//! the DSSE PAE rebuilt from the envelope (the same bytes any DSSE verifier signs).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
mod common;

use common::{bin, root};
use std::path::Path;
use std::process::Command;

fn wasmcert(dir: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(dir)
        .env("WASMCERT_PASSWORD", "correct horse")
        .args(args)
        .output()
        .unwrap()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = wasmcert(dir.path(), &["keygen", "--output-key-prefix", "ci"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let wasm = wat::parse_file(root().join("analyzer/tests/fixtures/preview1-hello.wat")).unwrap();
    std::fs::write(dir.path().join("app.wasm"), wasm).unwrap();
    dir
}

#[test]
fn keygen_writes_an_encrypted_key_only_the_owner_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = setup();
    let key = std::fs::read_to_string(dir.path().join("ci.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    assert!(!key.contains("correct horse"));
    assert_eq!(
        std::fs::metadata(dir.path().join("ci.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(
        std::fs::read_to_string(dir.path().join("ci.pub"))
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    // Refuses to overwrite.
    assert_eq!(
        wasmcert(dir.path(), &["keygen", "--output-key-prefix", "ci"])
            .status
            .code(),
        Some(2)
    );
}

/// `keygen --force` over a world-readable file writes a new 0600 file (the old file's mode is
/// never kept), and a symlink (dangling or not) at a key path is refused, not followed.
#[test]
fn keygen_force_never_keeps_a_readable_mode_nor_follows_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("k.key"), "old").unwrap();
    std::fs::set_permissions(d.join("k.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = wasmcert(d, &["keygen", "--force", "--output-key-prefix", "k"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mode = std::fs::metadata(d.join("k.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(d.join("k.key"))
            .unwrap()
            .contains("ENCRYPTED")
    );
    // A dangling symlink where the key would go: it would create the target elsewhere.
    let target = d.join("elsewhere/stolen.key");
    std::fs::create_dir(d.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(&target, d.join("l.key")).unwrap();
    for force in [false, true] {
        let mut args = vec!["keygen", "--output-key-prefix", "l"];
        if force {
            args.insert(1, "--force");
        }
        let o = wasmcert(d, &args);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("is a symlink"));
        assert!(!target.exists());
    }
}

/// Nothing malformed is signed: a report whose digest is not hex (it would become the in-toto
/// subject), a report of another schema version, an analysis with a bad subject digest.
#[test]
fn sign_refuses_documents_with_invalid_digests_or_versions() {
    let dir = setup();
    let d = dir.path();
    let o = wasmcert(
        d,
        &[
            "certify",
            "--filter",
            "^wasi/args",
            "--format",
            "json",
            "-o",
            "r.json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    for (what, edit) in [
        (
            "not a SHA-256 digest",
            ("/runtime/binary_sha256", serde_json::json!("<b>sha</b>")),
        ),
        (
            "schema_version 1",
            ("/schema_version", serde_json::json!(1)),
        ),
        (
            "is not `wasi/<name>`",
            (
                "/cases/wasi~1args-echo/category",
                serde_json::json!("wasi\n"),
            ),
        ),
    ] {
        let mut bad = good.clone();
        *bad.pointer_mut(edit.0).unwrap() = edit.1;
        std::fs::write(d.join("bad.json"), bad.to_string()).unwrap();
        let o = wasmcert(d, &["sign", "--key", "ci.key", "bad.json"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(
            err.contains(what) || err.contains("category"),
            "{what}: {err}"
        );
        assert!(!d.join("bad.sigstore.json").exists());
    }
    let o = wasmcert(
        d,
        &["analyze", "--format", "json", "-o", "a.json", "app.wasm"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("a.json")).unwrap()).unwrap();
    a["subject"]["sha256"] = "<b>sha</b>".into();
    std::fs::write(d.join("a.json"), a.to_string()).unwrap();
    let o = wasmcert(d, &["sign", "--key", "ci.key", "a.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a SHA-256 digest"));
}

#[test]
fn signed_analysis_verifies_and_every_tamper_is_rejected() {
    let dir = setup();
    let d = dir.path();
    let o = wasmcert(
        d,
        &[
            "analyze",
            "--format",
            "json",
            "--output",
            "app.json",
            "--sign-key",
            "ci.key",
            "app.wasm",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ok = wasmcert(
        d,
        &[
            "verify",
            "--key",
            "ci.pub",
            "--artifact",
            "app.wasm",
            "app.sigstore.json",
        ],
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("https://wasmcert.dev/analysis/v1"));

    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("app.sigstore.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"],
        serde_json::json!([])
    );
    let statement: serde_json::Value = serde_json::from_slice(
        &B64.decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");

    // Tampers: a byte of the payload (sampled across it), the signature, the key, the subject.
    let payload = B64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let step = (payload.len() / 25).max(1);
    for i in (0..payload.len()).step_by(step) {
        let mut p = payload.clone();
        p[i] ^= 0x20;
        let mut t = bundle.clone();
        t["dsseEnvelope"]["payload"] = B64.encode(&p).into();
        std::fs::write(d.join("t.json"), t.to_string()).unwrap();
        let r = wasmcert(d, &["verify", "--key", "ci.pub", "t.json"]);
        assert_eq!(
            r.status.code(),
            Some(1),
            "payload byte {i} tampered still verifies"
        );
    }
    let mut t = bundle.clone();
    let mut sig = B64
        .decode(t["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let n = sig.len();
    sig[n - 1] ^= 1;
    t["dsseEnvelope"]["signatures"][0]["sig"] = B64.encode(&sig).into();
    std::fs::write(d.join("t.json"), t.to_string()).unwrap();
    assert_eq!(
        wasmcert(d, &["verify", "--key", "ci.pub", "t.json"])
            .status
            .code(),
        Some(1)
    );
    assert!(
        wasmcert(d, &["keygen", "--output-key-prefix", "other"])
            .status
            .success()
    );
    assert_eq!(
        wasmcert(d, &["verify", "--key", "other.pub", "app.sigstore.json"])
            .status
            .code(),
        Some(1)
    );
    std::fs::write(d.join("other.wasm"), b"\0asm\x01\0\0\0").unwrap();
    assert_eq!(
        wasmcert(
            d,
            &[
                "verify",
                "--key",
                "ci.pub",
                "--artifact",
                "other.wasm",
                "app.sigstore.json"
            ]
        )
        .status
        .code(),
        Some(1)
    );
    // Input errors are 2.
    assert_eq!(
        wasmcert(d, &["verify", "--key", "app.wasm", "app.sigstore.json"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        wasmcert(d, &["verify", "--key", "ci.pub", "missing.json"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn openssl_verifies_the_signature_over_the_pae() {
    if Command::new("openssl").arg("version").output().is_err() {
        common::not_installed::<()>("the openssl CLI", "apt-get install openssl");
        return;
    }
    let dir = setup();
    let d = dir.path();
    let o = wasmcert(
        d,
        &[
            "certify",
            "--filter",
            "^wasi/exit-code-4",
            "--format",
            "json",
            "-o",
            "report.json",
            "--sign-key",
            "ci.key",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("report.sigstore.json")).unwrap()).unwrap();
    let env = &bundle["dsseEnvelope"];
    let payload = B64.decode(env["payload"].as_str().unwrap()).unwrap();
    let ty = env["payloadType"].as_str().unwrap();
    let mut pae = format!("DSSEv1 {} {} {} ", ty.len(), ty, payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    std::fs::write(d.join("pae.bin"), &pae).unwrap();
    std::fs::write(
        d.join("sig.der"),
        B64.decode(env["signatures"][0]["sig"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let verify = |file: &str| {
        Command::new("openssl")
            .current_dir(d)
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "ci.pub",
                "-signature",
                "sig.der",
                file,
            ])
            .output()
            .unwrap()
    };
    let ok = verify("pae.bin");
    assert!(
        ok.status.success(),
        "openssl rejected: {}",
        String::from_utf8_lossy(&ok.stdout)
    );
    pae[40] ^= 1;
    std::fs::write(d.join("bad.bin"), &pae).unwrap();
    assert!(
        !verify("bad.bin").status.success(),
        "openssl accepted a tampered PAE"
    );
}

/// The independent verifiers installed by `scripts/install-verifiers.sh`: securesystemslib's
/// DSSE verification (PyPI) and `@sigstore/verify` over the whole bundle (npm), offline with
/// the public key. Both must accept our bundle and reject tampers, a swapped key and a wrong
/// subject.
#[test]
fn independent_verifiers_accept_our_bundles_and_reject_tampers() {
    let root = root();
    let installed = root.join(".ci/tools/verifiers-venv/bin/python").exists()
        && root
            .join(".ci/tools/node/node_modules/@sigstore/verify")
            .exists();
    if !installed {
        common::not_installed::<()>("the verifiers", "scripts/install-verifiers.sh");
        return;
    }
    let dir = setup();
    let d = dir.path();
    // A certified run on the embedded engine, signed.
    let o = wasmcert(
        d,
        &[
            "certify",
            "--filter",
            "^wasi/(args|exit-code-[04]|stdin|env|clock|random)",
            "--format",
            "json",
            "--output",
            "app.json",
            "--sign-key",
            "ci.key",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        wasmcert(d, &["keygen", "--output-key-prefix", "other"])
            .status
            .success()
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("app.json")).unwrap()).unwrap();
    let digest = report["runtime"]["binary_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        wasmcert(d, &["verify", "--key", "ci.pub", "app.sigstore.json"])
            .status
            .code(),
        Some(0)
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("app.sigstore.json")).unwrap()).unwrap();
    // A sweep of one-byte tampers: six payload positions and four signature positions.
    let payload = B64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let sig = B64
        .decode(
            bundle["dsseEnvelope"]["signatures"][0]["sig"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let mut tampers = Vec::new();
    for k in 0..6 {
        let mut p = payload.clone();
        p[k * (payload.len() - 1) / 5] ^= 1;
        let mut t = bundle.clone();
        t["dsseEnvelope"]["payload"] = B64.encode(&p).into();
        let name = format!("payload-{k}.json");
        std::fs::write(d.join(&name), t.to_string()).unwrap();
        tampers.push(name);
    }
    for k in 0..4 {
        let mut s = sig.clone();
        s[k * (sig.len() - 1) / 3] ^= 1;
        let mut t = bundle.clone();
        t["dsseEnvelope"]["signatures"][0]["sig"] = B64.encode(&s).into();
        let name = format!("sig-{k}.json");
        std::fs::write(d.join(&name), t.to_string()).unwrap();
        tampers.push(name);
    }
    for t in &tampers {
        assert_eq!(
            wasmcert(d, &["verify", "--key", "ci.pub", t]).status.code(),
            Some(1),
            "wasmcert verify accepted {t}"
        );
    }
    for script in [
        "scripts/verify-bundle-securesystemslib.py",
        "scripts/verify-bundle-sigstore.mjs",
    ] {
        let run = |bundle: &str, key: &str, subject: &str| {
            let prog = if script.ends_with(".py") {
                "python3"
            } else {
                "node"
            };
            Command::new(prog)
                .current_dir(d)
                .arg(root.join(script))
                .args([bundle, key, subject])
                .output()
                .unwrap()
        };
        let ok = run("app.sigstore.json", "ci.pub", &digest);
        assert!(
            ok.status.success(),
            "{script} rejected a valid bundle: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        for t in &tampers {
            assert_eq!(
                run(t, "ci.pub", &digest).status.code(),
                Some(1),
                "{script} accepted {t}"
            );
        }
        assert_eq!(
            run("app.sigstore.json", "other.pub", &digest).status.code(),
            Some(1),
            "{script} accepted another key"
        );
        assert_eq!(
            run("app.sigstore.json", "ci.pub", &"0".repeat(64))
                .status
                .code(),
            Some(1),
            "{script} accepted a wrong subject"
        );
    }
}

#[test]
fn committed_bundle_still_verifies_with_the_committed_test_key() {
    let reports = root().join("reports/tests");
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_file(root().join("analyzer/tests/fixtures/preview1-hello.wat")).unwrap();
    std::fs::write(dir.path().join("hello.wasm"), wasm).unwrap();
    let o = bin()
        .arg("verify")
        .arg("--key")
        .arg(reports.join("keys/test.pub"))
        .arg("--artifact")
        .arg(dir.path().join("hello.wasm"))
        .arg(reports.join("data/hello.sigstore.json"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
