//! Independent validators, installed by `scripts/install-validators.sh` (which `.ci/run` calls):
//! CycloneDX 1.6 (cyclonedx-python-lib), SPDX 2.3 (spdx-tools), SARIF 2.1.0 (the OASIS JSON
//! schema) and the `wasm-tools` CLI as a second opinion on import lists. In CI a missing tool
//! fails the test; on a developer machine without them the test says so and returns.

mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tools() -> Option<PathBuf> {
    let dir = std::env::var_os("WASMCERT_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".ci/tools"));
    if dir.join("venv/bin/python").is_file() && dir.join("bin/wasm-tools").is_file() {
        return Some(dir);
    }
    common::not_installed("validators", "scripts/install-validators.sh")
}

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root().join("analyzer/tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let wasm = wat::parse_file(&p).unwrap();
        let dst = dir.join(p.file_name().unwrap()).with_extension("wasm");
        std::fs::write(&dst, wasm).unwrap();
        out.push(dst);
    }
    out
}

fn wasmcert(args: &[&str], path: &Path) -> Vec<u8> {
    let o = bin()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?} {}: {}",
        path.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn validate(tools: &Path, kind: &str, files: &[PathBuf]) {
    let o = Command::new(tools.join("venv/bin/python"))
        .arg(root().join("scripts/validate.py"))
        .arg(kind)
        .args(files)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{kind} rejected:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn sboms_and_sarif_pass_the_official_validators() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inputs = fixtures(dir.path());
    for kind in ["cyclonedx", "spdx"] {
        let mut outs = Vec::new();
        for p in &inputs {
            let out = p.with_extension(format!("{kind}.json"));
            std::fs::write(&out, wasmcert(&["sbom", "--format", kind], p)).unwrap();
            outs.push(out);
        }
        assert_eq!(outs.len(), inputs.len());
        validate(&tools, kind, &outs);
    }
    let sarif = dir.path().join("all.sarif");
    std::fs::write(
        &sarif,
        wasmcert(&["analyze", "--format", "sarif"], dir.path()),
    )
    .unwrap();
    validate(&tools, "sarif", &[sarif]);
}

#[test]
fn validators_reject_a_broken_document() {
    // Guards against a validator that accepts everything.
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let p = &fixtures(dir.path())[0];
    let mut v: serde_json::Value =
        serde_json::from_slice(&wasmcert(&["sbom", "--format", "cyclonedx"], p)).unwrap();
    v["specVersion"] = 16.into();
    let f = dir.path().join("bad.cdx.json");
    std::fs::write(&f, v.to_string()).unwrap();
    let o = Command::new(tools.join("venv/bin/python"))
        .arg(root().join("scripts/validate.py"))
        .arg("cyclonedx")
        .arg(&f)
        .output()
        .unwrap();
    assert!(!o.status.success());
}

/// Import names as `wasm-tools print` shows them: `module#name` for core modules, `name` for the
/// top level of a component.
fn wasm_tools_imports(tools: &Path, wasm: &Path) -> Vec<String> {
    let o = Command::new(tools.join("bin/wasm-tools"))
        .arg("print")
        .arg(wasm)
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let component = text.starts_with("(component");
    let mut out = Vec::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let l = line.trim_start();
        let Some(rest) = l.strip_prefix("(import \"") else {
            continue;
        };
        let (first, rest) = rest.split_once('"').unwrap();
        if component {
            if indent == 2 {
                out.push(first.to_string());
            }
        } else if let Some(rest) = rest.strip_prefix(" \"") {
            out.push(format!("{first}#{}", rest.split_once('"').unwrap().0));
        }
    }
    out
}

#[test]
fn import_lists_match_wasm_tools() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    for p in fixtures(dir.path()) {
        let v: serde_json::Value =
            serde_json::from_slice(&wasmcert(&["analyze", "--format", "json"], &p)).unwrap();
        let ours: Vec<String> = v["units"][0]["imports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| match i["module"].as_str() {
                Some(m) => format!("{m}#{}", i["name"].as_str().unwrap()),
                None => i["name"].as_str().unwrap().to_string(),
            })
            .collect();
        assert_eq!(ours, wasm_tools_imports(&tools, &p), "{}", p.display());
    }
}
