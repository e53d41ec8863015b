//! End-to-end tests of the `wasmcert` binary: exit codes, formats, inputs, error messages.

mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixture_dir() -> PathBuf {
    root().join("analyzer/tests/fixtures")
}

/// Compile fixtures into `dir` as `.wasm`, return their paths.
fn compile(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| {
            let wasm = wat::parse_file(fixture_dir().join(format!("{n}.wat"))).unwrap();
            let p = dir.join(format!("{n}.wasm"));
            std::fs::write(&p, wasm).unwrap();
            p
        })
        .collect()
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn analyze_human_output_lists_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let p = compile(dir.path(), &["preview1-hello"]);
    let o = run(bin().arg("analyze").arg(&p[0]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("kind        core-module"), "{out}");
    assert!(
        out.contains("stdio") && out.contains("wasi_snapshot_preview1#fd_write"),
        "{out}"
    );
    assert!(out.contains("findings    none"), "{out}");
}

#[test]
fn analyze_json_single_file_is_an_object_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let p = compile(dir.path(), &["component-wasi-p2"]);
    let a = run(bin().args(["analyze", "--format", "json"]).arg(&p[0]));
    let b = run(bin().args(["analyze", "-f", "json"]).arg(&p[0]));
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(
        a.stdout, b.stdout,
        "same input must give byte-identical JSON"
    );
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["subject"]["kind"], "component");
    assert!(
        v["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "http-incoming")
    );
}

#[test]
fn directories_are_searched_recursively_and_give_an_array() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("nested/deeper");
    std::fs::create_dir_all(&sub).unwrap();
    compile(dir.path(), &["wizer"]);
    compile(&sub, &["limits"]);
    std::fs::write(dir.path().join("notes.txt"), "not wasm").unwrap();
    let o = run(bin().args(["analyze", "--format", "json"]).arg(dir.path()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subject"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2);
    assert!(
        paths[0].ends_with("nested/deeper/limits.wasm") && paths[1].ends_with("wizer.wasm"),
        "{paths:?}"
    );
}

#[test]
fn one_bad_input_fails_with_exit_2_and_the_others_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let good = compile(dir.path(), &["preview1-hello", "wizer"]);
    let bad = dir.path().join("truncated.wasm");
    let bytes = std::fs::read(&good[0]).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(bin()
        .args(["analyze", "--format", "json"])
        .arg(&good[0])
        .arg(&bad)
        .arg(&good[1])
        .arg(dir.path().join("missing.wasm")));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("error: {}: ", bad.display())) && err.contains(" at byte "),
        "{err}"
    );
    assert!(err.contains("missing.wasm: cannot open"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[test]
fn malformed_inputs_exit_2_with_a_located_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8], &str)] = &[
        ("magic.wasm", b"\0asn\x01\0\0\0", "bad magic number"),
        ("empty.wasm", b"", "too short"),
        (
            "pastend.wasm",
            b"\0asm\x01\0\0\0\x01\xff\xff\xff\x0f\x01",
            "at byte",
        ),
        (
            "count.wasm",
            b"\0asm\x01\0\0\0\x01\x06\xff\xff\xff\xff\x0f\x00",
            "at byte",
        ),
        ("text.wasm", b"(module)", "not a WebAssembly binary"),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = run(bin().arg("analyze").arg(&p));
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!("error: {}: ", p.display())) && err.contains(want),
            "{name}: {err}"
        );
    }
}

#[test]
fn stdin_is_read_with_a_dash() {
    let wasm = wat::parse_file(fixture_dir().join("wasi-threads.wat")).unwrap();
    let mut child = bin()
        .args(["analyze", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&wasm).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["subject"]["path"], "-");
    assert!(
        v["features"]
            .as_array()
            .unwrap()
            .contains(&"threads".into())
    );
}

#[test]
fn output_file_and_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let p = compile(dir.path(), &["limits"]);
    let out = dir.path().join("out.sarif");
    let o = run(bin()
        .args(["analyze", "--quiet", "--format", "sarif", "--output"])
        .arg(&out)
        .arg(&p[0]));
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"memory-unbounded") && ids.contains(&"start-function"),
        "{ids:?}"
    );
    let start = results
        .iter()
        .find(|r| r["ruleId"] == "start-function")
        .unwrap();
    let region = &start["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 1);
    assert!(region["byteOffset"].as_u64().unwrap() > 8);

    let q = run(bin().args(["analyze", "-q"]).arg(&p[0]));
    assert_eq!(q.status.code(), Some(0));
    assert!(q.stdout.is_empty());
}

#[test]
fn sbom_formats_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let p = compile(dir.path(), &["preview1-hello"]);
    for fmt in ["cyclonedx", "spdx"] {
        let a = run(bin()
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["sbom", "--format", fmt])
            .arg(&p[0]));
        let b = run(bin()
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["sbom", "--format", fmt])
            .arg(&p[0]));
        assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
        assert_eq!(a.stdout, b.stdout, "{fmt}");
        let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
        if fmt == "spdx" {
            assert_eq!(v["creationInfo"]["created"], "2023-11-14T22:13:20Z");
            assert_eq!(v["packages"][0]["licenseDeclared"], "Apache-2.0 OR MIT");
        } else {
            assert_eq!(v["specVersion"], "1.6");
            assert_eq!(v["metadata"]["component"]["version"], "1.2.3");
        }
    }
    let o = run(bin()
        .args(["sbom", "--format", "spdx"])
        .arg(dir.path().join("nope.wasm")));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_status() {
    let o = run(bin().arg("analyze"));
    assert_eq!(o.status.code(), Some(2));
    let o = run(bin().args(["analyze", "--format", "xml", "x.wasm"]));
    assert_eq!(o.status.code(), Some(2));
    for sub in ["analyze", "sbom"] {
        let h = stdout(&run(bin().args([sub, "--help"])));
        assert!(
            h.contains("Examples:") && h.contains("Exit status:"),
            "{sub}: {h}"
        );
    }
}

#[test]
fn closed_stdout_is_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let p = compile(dir.path(), &["preview1-all"]);
    let mut child = bin()
        .args(["analyze", "--format", "json"])
        .arg(&p[0])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn every_finding_code_has_a_docs_page() {
    for code in wasmcert_analyzer::findings::FindingCode::ALL {
        let page = root().join(format!("docs/findings/{code}.md"));
        assert!(page.is_file(), "missing {}", page.display());
    }
}

#[test]
fn sarif_fingerprints_are_distinct_per_finding() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("two.wasm");
    std::fs::write(
        &p,
        wat::parse_str("(module (memory 1) (memory 2))").unwrap(),
    )
    .unwrap();
    let o = run(bin().args(["analyze", "--format", "sarif"]).arg(&p));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fps: std::collections::BTreeSet<String> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "memory-unbounded")
        .map(|r| {
            r["partialFingerprints"]["wasmcert/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(fps.len(), 2);
}

#[test]
fn single_failed_input_prints_no_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.wasm");
    std::fs::write(&p, b"nope").unwrap();
    let o = run(bin().args(["analyze", "--format", "json"]).arg(&p));
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
}
