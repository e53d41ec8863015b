//! `wasmcert serve` end to end: the HTTPS webhook (a self-signed certificate from the openssl
//! CLI) in front of a real registry on loopback (docker-registry, artifacts pushed with
//! skopeo), driven with curl the way the API server drives it: AdmissionReviews in, decisions
//! out; plus health, oversized and malformed requests, and a clean stop on SIGTERM. Then
//! the attacks of the security review against the webhook, with fake registries on loopback:
//! credentials lured elsewhere, endless and huge manifests (denied, fail-closed, bounded
//! memory), and tags (denied unless `--allow-tags`).

mod common;
use base64::Engine;
use common::fake_registry::{FakeRegistry, respond, stream_declared, stream_forever};
use common::registry::{Registry, tools_present};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use wasmcert_oci::layout::{Write, write};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("tls.crt"), dir.join("tls.key"));
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=wasmcert-webhook",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (c, k)
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&str], cert: &Path, key: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            // No registry credentials from this machine; tests pass --registry-auth.
            .env("DOCKER_CONFIG", "/nonexistent/wasmcert-test")
            .env_remove("WASMCERT_REGISTRY_AUTH_FILE")
            .env_remove("WASMCERT_REGISTRY_USERNAME")
            .env_remove("WASMCERT_REGISTRY_PASSWORD")
            .env_remove("WASMCERT_REGISTRY_HOST")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(rest) = line.strip_prefix("wasmcert serve: listening on https://") {
                break rest.trim_end_matches("/validate").to_string();
            }
        };
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr }
    }

    /// Peak resident memory of the server so far, KiB (`VmHWM`).
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    fn stop(mut self) -> Option<i32> {
        unsafe_kill(self.child.id() as i32);
        let status = self.child.wait().unwrap();
        status.code()
    }
}

#[allow(unsafe_code)]
fn unsafe_kill(pid: i32) {
    // SAFETY: sending SIGTERM to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POST a body with curl; returns (HTTP status, body).
fn post(addr: &str, cert: &Path, body: &[u8]) -> (u16, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("body.json");
    std::fs::write(&f, body).unwrap();
    let o = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(cert)
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{}", f.display()))
        .arg(format!("https://{addr}/validate"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let (body, code) = out.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_string())
}

fn get(addr: &str, cert: &Path, path: &str) -> String {
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(cert)
        .arg(format!("https://{addr}{path}"))
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap()
}

fn review(image: &str) -> Vec<u8> {
    std::fs::read_to_string(root().join("webhook/tests/data/pod-wasm.json"))
        .unwrap()
        .replace("IMAGE_APP", image)
        .replace("IMAGE_INIT", image)
        .into_bytes()
}

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
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
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
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
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
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
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
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
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
    assert_eq!(server.stop(), Some(0));
}
