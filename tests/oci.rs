//! OCI inputs end to end: `analyze`, `sbom` and `check` read Wasm artifacts from image-layout
//! directories and from a real registry on loopback (docker-registry, pushed with skopeo),
//! accept the CNCF and the legacy media types, verify every digest (a tampered blob is never
//! analysed), refuse two Wasm layers, and flag a config that hides an import.

mod common;
use common::registry::{Registry, tools_present};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use wasmcert_oci::layout::{Write, write};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wasmcert"));
    c.stdin(Stdio::null());
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
