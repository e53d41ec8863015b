//! `wasmcert check` and `wasmcert init` end to end: exit codes, many paths and policies, error
//! messages with file:line:column, the JSON report, and SARIF validated against the official
//! SARIF 2.1.0 schema.

mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Compile policy and analyzer fixtures into `dir`.
fn compile(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| {
            let src = [
                root()
                    .join("policies/tests/fixtures")
                    .join(format!("{n}.wat")),
                root()
                    .join("analyzer/tests/fixtures")
                    .join(format!("{n}.wat")),
            ]
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("no fixture {n}"));
            let p = dir.join(format!("{n}.wasm"));
            std::fs::write(&p, wat::parse_file(&src).unwrap()).unwrap();
            p
        })
        .collect()
}

#[test]
fn exit_status_is_0_allowed_1_denied_2_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = compile(dir.path(), &["edge-handler", "net-client"]);
    let ok = run(bin()
        .args(["check", "--policy", "pack:baseline"])
        .arg(&f[0]));
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("edge-handler.wasm: allowed"));
    let denied = run(bin().args(["check", "-p", "pack:baseline"]).arg(&f[1]));
    assert_eq!(denied.status.code(), Some(1));
    let out = text(&denied.stdout);
    assert!(
        out.contains("net-client.wasm: DENIED (1 denied, 1 warning)"),
        "{out}"
    );
    assert!(
        out.contains("deny     capability-denied: capability `net-listen` is denied"),
        "{out}"
    );
    assert!(out.contains("--> pack:baseline/baseline.toml:12:"), "{out}");
    // Warnings alone do not fail.
    let warn_only = dir.path().join("warn.toml");
    std::fs::write(
        &warn_only,
        "version = 1\n[rules.memory-maximum-required]\nlevel = \"warn\"\n",
    )
    .unwrap();
    let o = run(bin().arg("check").arg("-p").arg(&warn_only).arg(&f[1]));
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("allowed (1 warning)"));
}

#[test]
fn bad_policies_exit_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = compile(dir.path(), &["edge-handler"]);
    let p = dir.path().join("p.toml");
    std::fs::write(
        &p,
        "version = 1\n\n[rules.capability-denied]\ncapabilites = [\"net-*\"]\n",
    )
    .unwrap();
    let o = run(bin().arg("check").arg("-p").arg(&p).arg(&f[0]));
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {}:4:1: unknown field `capabilites`",
            p.display()
        )),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("Stack backtrace"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "nothing is checked with a bad policy");
    let rego = dir.path().join("p.rego");
    std::fs::write(
        &rego,
        "package wasmcert\nimport rego.v1\ndeny contains x if {\n  x :=\n}\n",
    )
    .unwrap();
    let o = run(bin().arg("check").arg("-p").arg(&rego).arg(&f[0]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).starts_with(&format!("error: {}:4:5: expecting", rego.display())),
        "{}",
        text(&o.stderr)
    );
    let o = run(bin().args(["check", "-p", "pack:nope"]).arg(&f[0]));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("shipped packs: baseline"));
    let o = run(bin()
        .args(["check", "-p", "/no/such/policy.toml"])
        .arg(&f[0]));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("/no/such/policy.toml: cannot read"));
}

#[test]
fn many_paths_and_policies_in_one_call_with_a_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let f = compile(dir.path(), &["edge-handler", "fs-tool", "net-client"]);
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0\x01\xff").unwrap();
    let o = run(bin()
        .args([
            "check",
            "-p",
            "pack:no-network",
            "-p",
            "pack:edge-function",
            "-f",
            "json",
        ])
        .arg(&f[0])
        .arg(&junk)
        .arg(dir.path().join("missing.wasm"))
        .arg(&f[1])
        .arg(&f[2]));
    assert_eq!(o.status.code(), Some(2), "bad inputs win over denials");
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("error: {}: ", junk.display())) && err.contains("at byte"),
        "{err}"
    );
    assert!(err.contains("missing.wasm: cannot open"), "{err}");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["allowed"], false);
    assert_eq!(r["policies"].as_array().unwrap().len(), 2);
    let subjects = r["subjects"].as_array().unwrap();
    let decided: Vec<(&str, bool)> = subjects
        .iter()
        .map(|s| {
            (
                Path::new(s["path"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap(),
                s["allowed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decided,
        [
            ("edge-handler.wasm", true),
            ("fs-tool.wasm", false),
            ("net-client.wasm", false)
        ]
    );
    // fs-tool: allowed by no-network, denied by edge-function; findings name their policy.
    let fs = &subjects[1]["findings"];
    assert!(
        fs.as_array()
            .unwrap()
            .iter()
            .all(|f| f["policy"]["file"] == "pack:edge-function/edge-function.toml")
    );
    assert_eq!(r["errors"].as_array().unwrap().len(), 2);
    // Directories expand: the same three modules (plus junk) from the directory.
    std::fs::remove_file(&junk).unwrap();
    let o = run(bin()
        .args(["check", "-p", "pack:no-filesystem", "-q"])
        .arg(dir.path()));
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "--quiet prints nothing");
}

#[test]
fn exceptions_and_unused_exceptions_in_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let f = compile(dir.path(), &["net-client"]);
    let p = dir.path().join("p.toml");
    std::fs::write(
        &p,
        "version = 1\n[rules.capability-denied]\ncapabilities = [\"net-listen\"]\n\n[[exceptions]]\nname = \"net-client.wasm\"\nreason = \"reviewed in SEC-7\"\n\n[[exceptions]]\nname = \"other.wasm\"\nreason = \"stale\"\n",
    )
    .unwrap();
    let o = run(bin().arg("check").arg("-p").arg(&p).arg(&f[0]));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let out = text(&o.stdout);
    assert!(
        out.contains("net-client.wasm: allowed (1 excepted)"),
        "{out}"
    );
    assert!(out.contains("excepted by"), "{out}");
    assert!(out.contains("reviewed in SEC-7"), "{out}");
    assert!(out.contains("policy: warn exception-unused"), "{out}");
    assert!(out.contains(&format!("--> {}:9:1", p.display())), "{out}");
}

fn tools() -> Option<PathBuf> {
    let dir = root().join(".ci/tools");
    if dir.join("venv/bin/python").is_file() && dir.join("sarif-schema-2.1.0.json").is_file() {
        return Some(dir);
    }
    common::not_installed("validators", "scripts/install-validators.sh")
}

#[test]
fn sarif_is_valid_and_carries_rule_level_subject_and_policy_location() {
    let dir = tempfile::tempdir().unwrap();
    let f = compile(dir.path(), &["net-client", "edge-handler", "fs-tool"]);
    let p = dir.path().join("p.toml");
    std::fs::write(
        &p,
        "version = 1\n[rules.capability-denied]\ncapabilities = [\"net-*\"]\n[rules.memory-maximum-required]\nlevel = \"warn\"\n[[exceptions]]\nname = \"fs-tool.wasm\"\nreason = \"r\"\n[[exceptions]]\nname = \"nothing\"\nreason = \"unused\"\n",
    )
    .unwrap();
    let sarif = dir.path().join("out.sarif");
    let o = run(bin()
        .arg("check")
        .arg("-p")
        .arg(&p)
        .arg("-p")
        .arg("pack:baseline-rego")
        .args(["--format", "sarif", "--output"])
        .arg(&sarif)
        .args(&f));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let run0 = &log["runs"][0];
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"capability-denied") && rules.contains(&"exception-unused"));
    let results = run0["results"].as_array().unwrap();
    let denied = results
        .iter()
        .find(|r| r["ruleId"] == "capability-denied" && r["level"] == "error")
        .expect("a capability-denied error");
    let loc = &denied["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("net-client.wasm")
    );
    let rel = &denied["relatedLocations"][0]["physicalLocation"];
    assert!(
        rel["artifactLocation"]["uri"].as_str().unwrap() == p.display().to_string()
            || rel["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("pack:")
    );
    assert!(rel["region"]["startLine"].as_u64().unwrap() >= 1);
    assert_eq!(
        rules[denied["ruleIndex"].as_u64().unwrap() as usize],
        "capability-denied"
    );
    let warn = results
        .iter()
        .find(|r| r["ruleId"] == "memory-maximum-required")
        .unwrap();
    assert_eq!(warn["level"], "warning");
    // fs-tool has no finding of this policy to except, so both exceptions are unused.
    let unused: Vec<u64> = results
        .iter()
        .filter(|r| r["ruleId"] == "exception-unused")
        .map(|r| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(unused, [6, 9]);
    assert!(
        results
            .iter()
            .all(|r| r["partialFingerprints"]["wasmcert-policy/v1"].is_string())
    );

    let Some(tools) = tools() else { return };
    let v = Command::new(tools.join("venv/bin/python"))
        .arg(root().join("scripts/validate.py"))
        .arg("sarif")
        .arg(&sarif)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}{}", text(&v.stdout), text(&v.stderr));
    assert!(text(&v.stdout).contains("OK sarif"));
}

#[test]
fn sarif_suppressions_for_excepted_findings_validate_too() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = compile(dir.path(), &["net-client"]);
    let p = dir.path().join("p.toml");
    std::fs::write(&p, "version = 1\n[rules.capability-denied]\ncapabilities = [\"net-*\"]\n[[exceptions]]\nname = \"*.wasm\"\nreason = \"sandboxed by the host\"\n").unwrap();
    let sarif = dir.path().join("s.sarif");
    let o = run(bin()
        .arg("check")
        .arg("-p")
        .arg(&p)
        .args(["-f", "sarif", "-o"])
        .arg(&sarif)
        .arg(&f[0]));
    assert_eq!(o.status.code(), Some(0));
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let r = &log["runs"][0]["results"][0];
    assert_eq!(r["suppressions"][0]["kind"], "external");
    assert_eq!(
        r["suppressions"][0]["justification"],
        "sandboxed by the host"
    );
    let v = Command::new(tools.join("venv/bin/python"))
        .arg(root().join("scripts/validate.py"))
        .arg("sarif")
        .arg(&sarif)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}{}", text(&v.stdout), text(&v.stderr));
}

#[test]
fn init_writes_the_template_or_a_pack_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(bin().arg("init").current_dir(dir.path()));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let written = std::fs::read_to_string(dir.path().join("wasmcert.toml")).unwrap();
    assert_eq!(
        written,
        std::fs::read_to_string(root().join("policies/template.toml")).unwrap()
    );
    let o = run(bin().arg("init").current_dir(dir.path()));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("wasmcert.toml exists (use --force to overwrite)"));
    // The written template is a working policy.
    let f = compile(dir.path(), &["edge-handler"]);
    let o = run(bin()
        .args(["check", "-p", "wasmcert.toml"])
        .arg(&f[0])
        .current_dir(dir.path()));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let o = run(bin()
        .args(["init", "--pack", "strict", "-o", "s.toml"])
        .current_dir(dir.path()));
    assert_eq!(o.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(dir.path().join("s.toml"))
            .unwrap()
            .contains("name = \"strict\"")
    );
    let o = run(bin()
        .args(["init", "--pack", "baseline-rego"])
        .current_dir(dir.path()));
    assert_eq!(o.status.code(), Some(0));
    assert!(dir.path().join("wasmcert.rego").is_file());
    let o = run(bin()
        .args(["init", "--pack", "nope"])
        .current_dir(dir.path()));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_documents_exit_status_and_examples() {
    for cmd in ["check", "init"] {
        let o = run(bin().args([cmd, "--help"]));
        let h = text(&o.stdout);
        assert!(
            h.contains("Exit status:") && h.contains("Examples:"),
            "{cmd}: {h}"
        );
    }
}
