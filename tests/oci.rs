//! OCI inputs end to end: `analyze`, `sbom` and `check` read Wasm artifacts from image-layout
//! directories and from a real registry on loopback (docker-registry, pushed with skopeo),
//! accept the CNCF and the legacy media types, verify every digest (a tampered blob is never
//! analysed), refuse two Wasm layers, and flag a config that hides an import.
//!
//! Then the attacks of the security review, each performed against a fake registry on
//! loopback (`common::fake_registry`) or a crafted layout, each now failing safe: credentials
//! lured to a token realm on another host, manifests, tokens and layers that never end or
//! declare 10 GB (exit 2, quickly, bounded memory), and a FIFO or a symlink in a layout.

mod common;
use base64::Engine;
use common::fake_registry::{FakeRegistry, respond, serve_layout, stream_declared, stream_forever};
use common::registry::{Registry, tools_present};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use wasmcert_oci::layout::{Write, write};

/// The CLI with no registry credentials from this machine: no Docker config, no
/// `WASMCERT_REGISTRY_*` (tests that want credentials set them).
fn bin() -> Command {
    let mut c = common::bin();
    c.env("DOCKER_CONFIG", "/nonexistent/wasmcert-test")
        .env_remove("WASMCERT_REGISTRY_AUTH_FILE")
        .env_remove("WASMCERT_REGISTRY_USERNAME")
        .env_remove("WASMCERT_REGISTRY_PASSWORD")
        .env_remove("WASMCERT_REGISTRY_HOST")
        .env_remove("WASMCERT_INSECURE_REGISTRIES");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `wasmcert analyze INPUT` refuses it: exit 2 and an error containing `msg`.
fn assert_refused(input: &str, msg: &str) {
    let o = bin().args(["analyze", input]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{input}: {}", text(&o));
    assert!(text(&o).contains(msg), "{input}: {}", text(&o));
}

fn module() -> Vec<u8> {
    wat::parse_str(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1 1)
  (func (export "_start")))"#,
    )
    .unwrap()
}

fn component() -> Vec<u8> {
    wat::parse_str(
        r#"(component
  (import "wasi:cli/stdout@0.2.0" (instance (export "get-stdout" (func))))
  (import "wasi:sockets/tcp@0.2.0" (instance
    (export "tcp-socket" (type $r (sub resource)))
    (export "[method]tcp-socket.start-connect" (func (param "self" (borrow $r)))))))"#,
    )
    .unwrap()
}

const CNCF: &str = "application/vnd.wasm.config.v0+json";
const LEGACY: &str = "application/vnd.wasm.config.v1+json";

/// A layout with the fixtures: good (CNCF), legacy types, two layers, a lying config.
fn fixtures(dir: &Path) {
    let m = module();
    let c = component();
    let layer_digest = wasmcert_oci::sha256(&m);
    let config = json!({
        "architecture": "wasm", "os": "wasip1", "layerDigests": [layer_digest],
    });
    let cfg = serde_json::to_vec(&config).unwrap();
    write(
        dir,
        &Write {
            tag: "good",
            config_media_type: CNCF,
            config: &cfg,
            layers: &[("application/wasm", &m)],
        },
    )
    .unwrap();
    write(
        dir,
        &Write {
            tag: "legacy",
            config_media_type: LEGACY,
            config: b"{}",
            layers: &[("application/vnd.wasm.content.layer.v1+wasm", &m)],
        },
    )
    .unwrap();
    write(
        dir,
        &Write {
            tag: "legacy-component",
            config_media_type: LEGACY,
            config: b"{}",
            layers: &[(
                "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
                &c,
            )],
        },
    )
    .unwrap();
    write(
        dir,
        &Write {
            tag: "two-layers",
            config_media_type: CNCF,
            config: &cfg,
            layers: &[("application/wasm", &m), ("application/wasm", &c)],
        },
    )
    .unwrap();
    let lying = serde_json::to_vec(&json!({
        "architecture": "wasm", "os": "wasip2",
        "layerDigests": [wasmcert_oci::sha256(&c)],
        "component": { "imports": ["wasi:cli/stdout@0.2.0"], "exports": [] },
    }))
    .unwrap();
    write(
        dir,
        &Write {
            tag: "lying-config",
            config_media_type: CNCF,
            config: &lying,
            layers: &[("application/wasm", &c)],
        },
    )
    .unwrap();
    write(
        dir,
        &Write {
            tag: "image",
            config_media_type: "application/vnd.oci.image.config.v1+json",
            config: b"{}",
            layers: &[("application/vnd.oci.image.layer.v1.tar", b"tar")],
        },
    )
    .unwrap();
}

fn analyze_json(input: &str) -> (Output, serde_json::Value) {
    let o = bin()
        .args(["analyze", "--format", "json", input])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o, v)
}

#[test]
fn layout_inputs_are_verified_and_analysed() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let d = dir.path().display();

    let (o, a) = analyze_json(&format!("oci-layout:{d}:good"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(a["subject"]["path"], format!("oci-layout:{d}:good"));
    assert_eq!(a["oci"]["config_media_type"], CNCF);
    assert_eq!(a["oci"]["layer_media_type"], "application/wasm");
    assert_eq!(a["oci"]["layer_digest"], wasmcert_oci::sha256(&module()));
    assert!(
        a["oci"]["manifest_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        a["subject"]["sha256"],
        wasmcert_oci::sha256(&module())["sha256:".len()..]
    );
    assert!(
        a["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "net-listen")
    );

    for tag in ["legacy", "legacy-component"] {
        let (o, a) = analyze_json(&format!("oci-layout:{d}:{tag}"));
        assert_eq!(o.status.code(), Some(0), "{tag}: {}", text(&o));
        assert_eq!(a["oci"]["config_media_type"], LEGACY);
    }
    assert_refused(
        &format!("oci-layout:{d}:two-layers"),
        "2 Wasm layers: a Wasm artifact has exactly one",
    );
    assert_refused(&format!("oci-layout:{d}:image"), "is not a Wasm artifact's");
    assert_refused(
        &format!("oci-layout:{d}:nope"),
        "no manifest tagged nope in the layout (tags: good, legacy",
    );
    // A layout with several manifests needs a tag.
    assert_refused(&format!("oci-layout:{d}"), "name one with :TAG");

    // The lying config hides the sockets import.
    let (o, a) = analyze_json(&format!("oci-layout:{d}:lying-config"));
    assert_eq!(o.status.code(), Some(0));
    let f: Vec<&serde_json::Value> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "oci-config-mismatch")
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("`wasi:sockets/tcp@0.2.0`")
    );
    assert_eq!(f[0]["severity"], "error");

    // Tamper with the good layer's blob in the layout: refused, never analysed.
    let blob = dir
        .path()
        .join("blobs/sha256")
        .join(&wasmcert_oci::sha256(&module())["sha256:".len()..]);
    let mut bytes = std::fs::read(&blob).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let (o, a) = analyze_json(&format!("oci-layout:{d}:good"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("does not match its digest") && text(&o).contains("tampered"),
        "{}",
        text(&o)
    );
    assert!(a.is_null(), "nothing is printed for a tampered artifact");
}

#[test]
fn registry_inputs_for_analyze_sbom_and_check() {
    if !tools_present() {
        return;
    }
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    for tag in [
        "good",
        "legacy",
        "legacy-component",
        "two-layers",
        "lying-config",
    ] {
        reg.push(dir.path(), tag, "wasm/app");
    }
    let r = |tag: &str| format!("oci://{}/wasm/app:{tag}", reg.addr);

    let (o, a) = analyze_json(&r("good"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(a["subject"]["path"], r("good"));
    let manifest = a["oci"]["manifest_digest"].as_str().unwrap().to_string();
    // By digest too, and the digest must match.
    let by_digest = format!("oci://{}/wasm/app@{manifest}", reg.addr);
    let (o, b) = analyze_json(&by_digest);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(b["oci"]["manifest_digest"], manifest);
    let wrong = format!("oci://{}/wasm/app@sha256:{}", reg.addr, "0".repeat(64));
    assert_refused(&wrong, "cannot pull the manifest");

    for tag in ["legacy", "legacy-component"] {
        let (o, _) = analyze_json(&r(tag));
        assert_eq!(o.status.code(), Some(0), "{tag}: {}", text(&o));
    }
    assert_refused(&r("two-layers"), "2 Wasm layers");
    let (_, a) = analyze_json(&r("lying-config"));
    assert!(
        a["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "oci-config-mismatch")
    );

    // sbom and check take the same references; many paths mix files and artifacts.
    let o = bin()
        .args(["sbom", "--format", "cyclonedx", &r("good")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let local = dir.path().join("m.wasm");
    std::fs::write(&local, wat::parse_str("(module)").unwrap()).unwrap();
    let o = bin()
        .args(["check", "--policy", "pack:no-network", "-f", "json"])
        .arg(&local)
        .arg(r("good"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["subjects"][0]["allowed"], true);
    assert_eq!(v["subjects"][1]["allowed"], false);
    assert_eq!(v["subjects"][1]["path"], r("good"));

    // A tampered blob in the registry's storage: refused, never analysed.
    let layer = wasmcert_oci::sha256(&module());
    let p = reg.blob_path(&layer);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&p, bytes).unwrap();
    let o = bin()
        .args(["analyze", "--format", "json", &r("good")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty());
    assert!(
        text(&o).contains("does not match its digest") && text(&o).contains("tampered"),
        "{}",
        text(&o)
    );
    // A missing tag and an unreachable registry are errors that name the reference.
    let o = bin().args(["analyze", &r("missing")]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains(&r("missing")), "{}", text(&o));
}

/// How a bounded run of the CLI ended.
struct Bounded {
    code: Option<i32>,
    text: String,
    elapsed: Duration,
    /// Peak resident memory of the child, KiB (`wait4`'s `ru_maxrss`; on Linux it also
    /// counts this test process's resident set when the child was spawned, so it is an
    /// upper bound).
    max_rss_kib: u64,
}

/// Run `cmd`, killing it after `limit` (then the test fails: it hung); output to files so a
/// chatty child never blocks on a pipe.
#[allow(unsafe_code)]
fn run_bounded(mut cmd: Command, limit: Duration) -> Bounded {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    cmd.stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    let start = Instant::now();
    // Reaped below with wait4 (for its rusage), not with Child::wait.
    let pid = cmd.spawn().unwrap().id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value of the plain C struct wait4 fills.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child, with pointers to locals we own.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if start.elapsed() > limit {
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut ru);
            }
            panic!(
                "{cmd:?} did not finish within {limit:?}: {}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Bounded {
        code: if libc::WIFEXITED(status) {
            Some(libc::WEXITSTATUS(status))
        } else {
            None
        },
        text: format!(
            "{}{}",
            std::fs::read_to_string(&out).unwrap_or_default(),
            std::fs::read_to_string(&err).unwrap_or_default()
        ),
        elapsed: start.elapsed(),
        max_rss_kib: ru.ru_maxrss as u64,
    }
}

/// A Docker `config.json` giving `user:password` to `host`.
fn auth_file(dir: &Path, host: &str, user: &str, password: &str) -> std::path::PathBuf {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let p = dir.join("config.json");
    std::fs::write(&p, json!({"auths": {host: {"auth": b64}}}).to_string()).unwrap();
    p
}

const PASSWORD: &str = "hunter2-secret";

/// Whether a request carried any credentials: an Authorization header, or the password in
/// any form (plain or in a Basic header's base64).
fn carries_secret(r: &common::fake_registry::Request) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}"));
    r.header("authorization").is_some()
        || r.target.contains(PASSWORD)
        || r.headers
            .iter()
            .any(|(_, v)| v.contains(PASSWORD) || v.contains(&b64))
}

/// Security review item 1: a registry that the CLI (or a pod, through `serve`) names answers
/// 401 with a Bearer challenge whose realm is on another host over plain HTTP. With
/// credentials configured for the registry, they must never reach that host: the pull fails
/// with a clear error and the realm host sees no request carrying them. Also: the environment
/// credentials need the host they are for, and a registry with no credentials configured gets
/// none (the credentials of another host are not sent to it).
#[test]
fn registry_credentials_never_reach_another_host() {
    // The thief: records every request (Authorization headers included) on another address.
    let realm = FakeRegistry::start("127.0.0.2", |_, s| {
        respond(
            s,
            "200 OK",
            &[("Content-Type", "application/json")],
            br#"{"token":"t"}"#,
        )
    });
    let realm_url = format!("http://{}/token", realm.addr);
    let challenge = format!(r#"Bearer realm="{realm_url}",service="fake""#);
    let registry = FakeRegistry::start("127.0.0.1", move |_, s| {
        respond(
            s,
            "401 Unauthorized",
            &[
                ("WWW-Authenticate", &challenge),
                ("Content-Type", "application/json"),
            ],
            br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let input = format!("oci://{}/wasm/app:v1", registry.addr);

    // From an auth file bound to the registry's host.
    let file = auth_file(dir.path(), &registry.addr, "alice", PASSWORD);
    let mut c = bin();
    c.env("WASMCERT_REGISTRY_AUTH_FILE", &file)
        .args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(
        o.text.contains(&input)
            && o.text.contains(&format!("another host ({})", realm.addr))
            && o.text.contains("refusing"),
        "{}",
        o.text
    );
    // From the environment, bound by WASMCERT_REGISTRY_HOST.
    let mut c = bin();
    c.env("WASMCERT_REGISTRY_USERNAME", "alice")
        .env("WASMCERT_REGISTRY_PASSWORD", PASSWORD)
        .env("WASMCERT_REGISTRY_HOST", &registry.addr)
        .args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(o.text.contains("another host"), "{}", o.text);
    let stolen: Vec<_> = realm
        .requests()
        .into_iter()
        .filter(carries_secret)
        .collect();
    assert!(
        stolen.is_empty(),
        "credentials reached the realm: {stolen:?}"
    );
    assert!(
        !registry.requests().iter().any(carries_secret),
        "nothing was sent before the challenge"
    );

    // The old environment variables alone no longer send credentials anywhere.
    let before = registry.requests().len();
    let mut c = bin();
    c.env("WASMCERT_REGISTRY_USERNAME", "alice")
        .env("WASMCERT_REGISTRY_PASSWORD", PASSWORD)
        .args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(
        o.text.contains("WASMCERT_REGISTRY_HOST is not"),
        "{}",
        o.text
    );
    assert_eq!(registry.requests().len(), before, "no request was made");

    // A registry asking for Basic credentials gets none of another host's.
    let basic = FakeRegistry::start("127.0.0.1", |r, s| {
        if r.header("authorization").is_some() {
            respond(s, "404 Not Found", &[], b"")
        } else {
            respond(
                s,
                "401 Unauthorized",
                &[("WWW-Authenticate", r#"Basic realm="x""#)],
                b"",
            )
        }
    });
    let mut c = bin();
    c.env("WASMCERT_REGISTRY_AUTH_FILE", &file)
        .args(["analyze", &format!("oci://{}/wasm/app:v1", basic.addr)]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(
        o.text
            .contains("requires credentials and none are configured"),
        "{}",
        o.text
    );
    assert!(!basic.requests().is_empty());
    assert!(!basic.requests().iter().any(carries_secret));

    // An unreadable auth file is an error naming it, before any request.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let mut c = bin();
    c.env("WASMCERT_REGISTRY_AUTH_FILE", &bad)
        .args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(
        o.text.contains("bad.json: not a JSON auth file"),
        "{}",
        o.text
    );
}

/// The other side of item 1: credentials configured for a registry do work there, through a
/// token realm on the registry's own origin (Basic to the realm, then the Bearer token to the
/// registry), pulling and verifying a real artifact served from a layout.
#[test]
fn registry_credentials_work_on_their_own_host() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let layout = dir.path().to_path_buf();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}"))
    );
    // The realm is on the registry's own origin (its URL is made from the Host header).
    let registry = FakeRegistry::start("127.0.0.1", move |r, s| {
        let host = r.header("host").unwrap_or("").to_string();
        if r.path() == "/token" {
            if r.header("authorization") == Some(basic.as_str()) {
                respond(s, "200 OK", &[], br#"{"token":"good-token"}"#)
            } else {
                respond(s, "401 Unauthorized", &[], b"")
            }
        } else if r.header("authorization") == Some("Bearer good-token") {
            serve_layout(&layout, r, s)
        } else {
            let challenge = format!(r#"Bearer realm="http://{host}/token",service="fake""#);
            respond(
                s,
                "401 Unauthorized",
                &[("WWW-Authenticate", &challenge)],
                b"",
            )
        }
    });
    let file = auth_file(dir.path(), &registry.addr, "alice", PASSWORD);
    let mut c = bin();
    c.env("WASMCERT_REGISTRY_AUTH_FILE", &file).args([
        "analyze",
        "--format",
        "json",
        &format!("oci://{}/wasm/app:good", registry.addr),
    ]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(0), "{}", o.text);
    assert!(
        o.text.contains(&wasmcert_oci::sha256(&module())),
        "{}",
        o.text
    );
    let reqs = registry.requests();
    assert!(
        reqs.iter()
            .any(|r| r.path() == "/token"
                && r.target.contains("scope=repository%3Awasm%2Fapp%3Apull"))
    );
    // Without credentials the same registry is refused, and says so.
    let o = run_bounded(
        {
            let mut c = bin();
            c.args(["analyze", &format!("oci://{}/wasm/app:good", registry.addr)]);
            c
        },
        Duration::from_secs(60),
    );
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(o.text.contains("token service"), "{}", o.text);
}

/// Security review item 3: registries that send a manifest that never ends (chunked, no
/// length), declare a 10 GB manifest, stream a token response forever, or send a layer past its
/// descriptor's size. Each is refused quickly with exit 2 and a message saying which cap, and
/// the process stays small (peak RSS under 100 MB; before, the manifest was buffered whole).
#[test]
fn endless_and_huge_registry_bodies_are_refused_with_bounded_memory() {
    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    let endless = FakeRegistry::start("127.0.0.1", |_, s| stream_forever(s, MANIFEST));
    let huge = FakeRegistry::start("127.0.0.1", |_, s| stream_declared(s, MANIFEST, 10 << 30));
    let token = FakeRegistry::start("127.0.0.1", |r, s| {
        if r.path() == "/token" {
            stream_forever(s, "application/json")
        } else {
            let host = r.header("host").unwrap_or("").to_string();
            let challenge = format!(r#"Bearer realm="http://{host}/token""#);
            respond(
                s,
                "401 Unauthorized",
                &[("WWW-Authenticate", &challenge)],
                b"",
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let layout = dir.path().to_path_buf();
    let layer = wasmcert_oci::sha256(&module());
    let long_layer = FakeRegistry::start("127.0.0.1", move |r, s| {
        if r.path().ends_with(&format!("/blobs/{layer}")) {
            stream_forever(s, "application/octet-stream")
        } else {
            serve_layout(&layout, r, s)
        }
    });
    let cases = [
        (
            &endless,
            "a manifest longer than the 4194304-byte manifest cap",
        ),
        (&huge, "declares a 10737418240-byte manifest"),
        (&token, "a token response longer than the 262144-byte cap"),
        (&long_layer, "a layer longer than its descriptor's"),
    ];
    for (reg, msg) in cases {
        let input = format!("oci://{}/wasm/app:good", reg.addr);
        let mut c = bin();
        c.args(["analyze", &input]);
        let o = run_bounded(c, Duration::from_secs(60));
        assert_eq!(o.code, Some(2), "{input}: {}", o.text);
        assert!(
            o.text.contains(&input) && o.text.contains(msg),
            "{input}: {}",
            o.text
        );
        assert!(
            o.elapsed < Duration::from_secs(20),
            "{input}: took {:?}",
            o.elapsed
        );
        assert!(
            o.max_rss_kib < 100 << 10,
            "{input}: peak RSS {} KiB",
            o.max_rss_kib
        );
    }
}

/// Security review item 11: "loopback means plain HTTP" was a string prefix, so any name
/// starting with `127.` went out over plain HTTP. `127.1` is such a name (the URL parser and
/// the C resolver read it as 127.0.0.1, so it reaches the fake here); it is not an IP address
/// literal, so it is now spoken to over HTTPS: the fake, which only speaks plain HTTP, sees a
/// TLS handshake and never a plain-HTTP GET.
#[test]
fn a_name_that_merely_starts_with_127_is_not_plain_http() {
    let fake = FakeRegistry::start("127.0.0.1", |_, s| respond(s, "404 Not Found", &[], b"{}"));
    let port = fake.addr.rsplit_once(':').unwrap().1;
    let input = format!("oci://127.1:{port}/wasm/app:v1");
    let mut c = bin();
    c.args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(2), "{}", o.text);
    let methods: Vec<String> = fake.requests().into_iter().map(|r| r.method).collect();
    assert!(
        !methods.iter().any(|m| m == "GET"),
        "a plain-HTTP request went out: {methods:?}"
    );
    assert!(
        methods.iter().any(|m| m == "TLS"),
        "HTTPS was tried: {methods:?}"
    );
    // The literal address is loopback, and plain HTTP.
    let mut c = bin();
    c.args(["analyze", &format!("oci://127.0.0.1:{port}/wasm/app:v1")]);
    let o = run_bounded(c, Duration::from_secs(60));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(fake.requests().iter().any(|r| r.method == "GET"));
}

/// Security review item 14: a FIFO where a blob should be made `analyze` wait forever for a
/// writer; a symlink made it read whatever it points at outside the layout. Both are refused
/// at once (exit 2, the file named), well within the time limit.
#[test]
fn a_fifo_or_a_symlink_in_a_layout_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let blob = dir
        .path()
        .join("blobs/sha256")
        .join(&wasmcert_oci::sha256(&module())["sha256:".len()..]);
    let input = format!("oci-layout:{}:good", dir.path().display());

    std::fs::remove_file(&blob).unwrap();
    let o = Command::new("mkfifo").arg(&blob).output().unwrap();
    assert!(o.status.success());
    let mut c = bin();
    c.args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(30));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(
        o.text
            .contains(&format!("the layer {} is a FIFO", blob.display())),
        "{}",
        o.text
    );

    std::fs::remove_file(&blob).unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), module()).unwrap();
    std::os::unix::fs::symlink(outside.path(), &blob).unwrap();
    let mut c = bin();
    c.args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(30));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(
        o.text
            .contains(&format!("the layer {} is a symbolic link", blob.display())),
        "{}",
        o.text
    );
    // A symlink to a device that never ends: refused the same way, not read.
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &blob).unwrap();
    let mut c = bin();
    c.args(["analyze", &input]);
    let o = run_bounded(c, Duration::from_secs(30));
    assert_eq!(o.code, Some(2), "{}", o.text);
    assert!(o.text.contains("is a symbolic link"), "{}", o.text);
}
