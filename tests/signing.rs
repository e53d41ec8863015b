//! keygen / sign / verify end to end, plus an independent check with the `openssl` CLI over
//! the DSSE PAE rebuilt from the envelope (the same bytes any DSSE verifier signs).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::Path;
use std::process::Command;

fn wasmcert(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wasmcert"))
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
    let wasm = wat::parse_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("analyzer/tests/fixtures/preview1-hello.wat"),
    )
    .unwrap();
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
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl CLI missing in CI"
        );
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let installed = root.join(".ci/tools/verifiers-venv/bin/python").exists()
        && root
            .join(".ci/tools/node/node_modules/@sigstore/verify")
            .exists();
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "verifiers missing in CI: run scripts/install-verifiers.sh"
        );
        eprintln!("skipping: scripts/install-verifiers.sh not run");
        return;
    }
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
    assert!(o.status.success());
    assert!(
        wasmcert(d, &["keygen", "--output-key-prefix", "other"])
            .status
            .success()
    );
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(d.join("app.wasm")).unwrap(),
        ))
    };
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("app.sigstore.json")).unwrap()).unwrap();
    let mut payload = B64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let mid = payload.len() / 2;
    payload[mid] ^= 1;
    let mut tampered = bundle.clone();
    tampered["dsseEnvelope"]["payload"] = B64.encode(&payload).into();
    std::fs::write(d.join("tampered.json"), tampered.to_string()).unwrap();
    let mut sig = B64
        .decode(
            bundle["dsseEnvelope"]["signatures"][0]["sig"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    sig[10] ^= 1;
    let mut badsig = bundle.clone();
    badsig["dsseEnvelope"]["signatures"][0]["sig"] = B64.encode(&sig).into();
    std::fs::write(d.join("badsig.json"), badsig.to_string()).unwrap();
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
        for (bundle, key, subject, what) in [
            (
                "tampered.json",
                "ci.pub",
                digest.as_str(),
                "a tampered payload",
            ),
            (
                "badsig.json",
                "ci.pub",
                digest.as_str(),
                "a tampered signature",
            ),
            (
                "app.sigstore.json",
                "other.pub",
                digest.as_str(),
                "another key",
            ),
            (
                "app.sigstore.json",
                "ci.pub",
                &"0".repeat(64),
                "a wrong subject",
            ),
        ] {
            assert_eq!(
                run(bundle, key, subject).status.code(),
                Some(1),
                "{script} accepted {what}"
            );
        }
    }
}
