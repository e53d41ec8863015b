//! Components are graphs: a core import inside a component is a host import only when it
//! traces to a component-level import. Tested on components wit-component builds from a
//! preview1 module and the wasmtime preview1 adapters (what `wasm-tools component new --adapt`
//! makes), on a nested component, and on real components published on PyPI
//! (hyperlight-sandbox's JavaScript and Python guests, installed by
//! scripts/install-components.sh).

mod common;

use common::{bin, root};
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn analyze(path: &Path) -> serde_json::Value {
    let o = bin()
        .args(["analyze", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A preview1 command that prints, made into a WASI 0.2 component with the command adapter.
fn hello_component(adapter: &[u8], name: &str) -> Vec<u8> {
    let module = wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "hello\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 6))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    let _ = name;
    wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .adapter("wasi_snapshot_preview1", adapter)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap()
}

fn unknown_grants(a: &serde_json::Value) -> Vec<String> {
    a["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "unknown-host-import")
        .flat_map(|c| c["granted_by"].as_array().unwrap().iter())
        .map(|g| {
            format!(
                "{} {}",
                g["unit"].as_str().unwrap(),
                g["import"].as_str().unwrap()
            )
        })
        .collect()
}

/// Core imports of the component's modules with no resolution.
fn unresolved(a: &serde_json::Value) -> Vec<String> {
    a["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["path"] != "/")
        .flat_map(|u| {
            u["imports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|i| i.get("resolution").is_none())
                .map(move |i| format!("{} {}#{}", u["path"], i["module"], i["name"]))
        })
        .collect()
}

#[test]
fn adapter_wiring_is_internal_and_host_imports_are_the_components() {
    use wasi_preview1_component_adapter_provider as adapters;
    let dir = tempfile::tempdir().unwrap();
    for (name, adapter) in [
        ("command", adapters::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER),
        ("reactor", adapters::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER),
    ] {
        let p = dir.path().join(format!("hello-{name}.wasm"));
        std::fs::write(&p, hello_component(adapter, name)).unwrap();
        let a = analyze(&p);
        assert_eq!(a["units"][0]["kind"], "component");
        assert!(
            a["units"].as_array().unwrap().len() >= 3,
            "{name}: main, adapter, shims"
        );
        // Every core import of every module is traced: none is left to guess.
        assert_eq!(unresolved(&a), Vec::<String>::new(), "{name}");
        // The adapter's wiring (the main module's memory, `reset_adapter_state`, the shim
        // tables) never shows up as a host import.
        assert_eq!(unknown_grants(&a), Vec::<String>::new(), "{name}");
        let main = &a["units"][1];
        let fd_write = main["imports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "fd_write")
            .unwrap();
        assert_eq!(
            fd_write["resolution"]["via"], "internal",
            "{name}: {fd_write}"
        );
        // The adapter's own WASI 0.2 imports reach the component's imports.
        let stdout = a["units"][0]["imports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"].as_str().unwrap().starts_with("wasi:cli/stdout@"))
            .unwrap_or_else(|| panic!("{name}: no wasi:cli/stdout import"));
        assert!(
            !stdout["reached_by"].as_array().unwrap().is_empty(),
            "{name}: {stdout}"
        );
        // A memory borrowed from the main module is the main module's: it is reported once.
        let borrowed: Vec<&serde_json::Value> = a["units"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|u| u["memories"].as_array().into_iter().flatten())
            .filter(|m| m["imported"] == true)
            .collect();
        assert!(
            borrowed.iter().all(|m| m.get("defined_in").is_some()),
            "{name}: {borrowed:?}"
        );
        // The shipped packs allow a plain WASI 0.2 CLI component that only prints. (The
        // preview1 adapter imports wasi:filesystem for real, so `no-filesystem` denies it, as
        // it should.)
        for pack in ["baseline", "no-network"] {
            let o = bin()
                .args([
                    "check",
                    "--policy",
                    &format!("pack:{pack}"),
                    "--format",
                    "json",
                ])
                .arg(&p)
                .output()
                .unwrap();
            assert_eq!(
                o.status.code(),
                Some(0),
                "{name}, pack:{pack}: {}",
                text(&o)
            );
        }
        // `strict` denies it for what the module is (no SBOM, an uncapped memory), each once,
        // on the definition: never for the adapter's wiring.
        let o = bin()
            .args(["check", "--policy", "pack:strict", "--format", "json"])
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let rules: Vec<String> = v
            .pointer("/results/0/findings")
            .or_else(|| v.pointer("/inputs/0/findings"))
            .and_then(|f| f.as_array())
            .map(|f| {
                f.iter()
                    .map(|x| x["rule"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let text = v.to_string();
        for rule in ["memory-limit", "memory-maximum-required"] {
            assert_eq!(
                text.matches(&format!("\"rule\":\"{rule}\"")).count(),
                1,
                "{name}: {rule} once: {rules:?} {v}"
            );
        }
        assert!(!text.contains("unknown-host-import"), "{name}: {v}");
    }
}

#[test]
fn nested_component_imports_trace_to_the_enclosing_components() {
    let wasm = wat::parse_str(
        r#"(component
          (import "wasi:cli/stdout@0.2.0" (instance $out (export "get-stdout" (func (result u32)))))
          (import "acme:tools/run" (func $run))
          (component $inner
            (import "wasi:cli/stdout@0.2.0" (instance (export "get-stdout" (func (result u32)))))
            (import "run" (func))
            (import "private" (instance)))
          (instance $priv)
          (instance (instantiate $inner
            (with "wasi:cli/stdout@0.2.0" (instance $out))
            (with "run" (func $run))
            (with "private" (instance $priv)))))"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nested.wasm");
    std::fs::write(&p, wasm).unwrap();
    let a = analyze(&p);
    let inner = a["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["path"] == "/component[0]")
        .unwrap();
    let res = |name: &str| {
        inner["imports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()["resolution"]
            .clone()
    };
    assert_eq!(res("wasi:cli/stdout@0.2.0")["via"], "host");
    assert_eq!(
        res("wasi:cli/stdout@0.2.0")["from"],
        "wasi:cli/stdout@0.2.0"
    );
    assert_eq!(res("run")["from"], "acme:tools/run");
    assert_eq!(res("private")["via"], "internal");
    // The only opaque host import is the enclosing component's own `acme:tools/run`.
    assert_eq!(unknown_grants(&a), ["/ acme:tools/run"]);
}

/// The real thing: hyperlight-sandbox's published guests (PyPI), componentized by their
/// toolchains. Their one host interface outside WASI is `hyperlight:sandbox/tools`.
#[test]
fn published_components_have_one_opaque_host_import() {
    let dir = root().join(".ci/tools/components");
    let guests = [
        "hyperlight-sandbox-javascript-guest/js-sandbox.wasm",
        "hyperlight-sandbox-python-guest/python-sandbox.wasm",
    ];
    if !dir.join(guests[0]).is_file() {
        common::not_installed::<()>("the published components", "scripts/install-components.sh");
        return;
    }
    for g in guests {
        let a = analyze(&dir.join(g));
        assert_eq!(unresolved(&a), Vec::<String>::new(), "{g}");
        assert_eq!(unknown_grants(&a), ["/ hyperlight:sandbox/tools"], "{g}");
    }
}
