//! The CI integrations of `wasmcert check`, run for real: the pre-commit hooks
//! (`.pre-commit-hooks.yaml` through PyPI `pre-commit try-repo`), the GitHub Action's check
//! script with a real `wasmcert`, and `action.yml` against the Actions schema (npm
//! `@action-validator/cli`). Tools come from `scripts/install-policy-tools.sh` (`.ci/run`);
//! in CI a missing tool fails the test, elsewhere the test says so and returns.

mod common;

use common::root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tool(rel: &str) -> Option<PathBuf> {
    let p = root().join(".ci/tools").join(rel);
    if p.is_file() {
        return Some(p);
    }
    common::not_installed(rel, "scripts/install-policy-tools.sh")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// PATH with the wasmcert under test first.
fn path_with_wasmcert() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_wasmcert")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn module(dir: &Path, name: &str, fixture: &str) -> PathBuf {
    let src = root()
        .join("policies/tests/fixtures")
        .join(format!("{fixture}.wat"));
    let p = dir.join(name);
    std::fs::write(&p, wat::parse_file(src).unwrap()).unwrap();
    p
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
}

#[test]
fn pre_commit_hook_runs_wasmcert_on_staged_modules() {
    let Some(pre_commit) = tool("policy-venv/bin/pre-commit") else {
        return;
    };
    // The hook definitions are read from a git repository: a copy of ours with just the
    // hooks file, so the test does not depend on the checkout's state.
    let hooks = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join(".pre-commit-hooks.yaml"),
        hooks.path().join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(hooks.path(), &["init", "-q"]);
    git(hooks.path(), &["add", "."]);
    git(hooks.path(), &["commit", "-qm", "hooks"]);

    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q"]);
    module(work.path(), "edge.wasm", "edge-handler");
    std::fs::write(work.path().join("README.md"), "not wasm\n").unwrap();
    git(work.path(), &["add", "."]);
    let home = tempfile::tempdir().unwrap();
    let try_repo = |files: &[&str]| {
        Command::new(&pre_commit)
            .args([
                "try-repo",
                hooks.path().to_str().unwrap(),
                "wasmcert-check-system",
                "--files",
            ])
            .args(files)
            .current_dir(work.path())
            .env("PATH", path_with_wasmcert())
            .env("PRE_COMMIT_HOME", home.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = try_repo(&["edge.wasm", "README.md"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("wasmcert check (wasmcert on PATH)") && text(&o).contains("Passed"));

    module(work.path(), "net.wasm", "net-client");
    git(work.path(), &["add", "."]);
    let o = try_repo(&["edge.wasm", "net.wasm"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("Failed"), "{out}");
    assert!(
        out.contains("net.wasm: DENIED") && out.contains("capability-denied"),
        "{out}"
    );
    // Only files matching `\.wasm$` are passed: a README alone skips the hook.
    let o = try_repo(&["README.md"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("(no files to check)Skipped"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_hook_file_declares_both_hooks_on_wasm_files() {
    let y = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    for id in ["id: wasmcert-check\n", "id: wasmcert-check-system\n"] {
        assert!(y.contains(id), "{id}");
    }
    assert_eq!(y.matches("files: '\\.wasm$'").count(), 2);
    assert_eq!(y.matches("entry: wasmcert check").count(), 2);
    assert!(y.contains("language: rust") && y.contains("language: system"));
}

#[test]
fn action_yml_is_a_valid_action() {
    let Some(validator) = tool("action-validator/node_modules/.bin/action-validator") else {
        return;
    };
    let o = Command::new(validator)
        .arg(root().join("action.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // The validator really validates: a broken copy fails.
    let dir = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(root().join("action.yml"))
        .unwrap()
        .replace("using: composite", "using: compost");
    std::fs::write(dir.path().join("action.yml"), broken).unwrap();
    let o = Command::new(tool("action-validator/node_modules/.bin/action-validator").unwrap())
        .arg(dir.path().join("action.yml"))
        .output()
        .unwrap();
    assert!(!o.status.success());
}

fn action_check(env: &[(&str, &str)], out: &Path, cwd: &Path) -> (Output, String) {
    let mut c = Command::new(root().join("scripts/action-check.sh"));
    c.env("PATH", path_with_wasmcert())
        .env("GITHUB_OUTPUT", out)
        .current_dir(cwd)
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    let outputs = std::fs::read_to_string(out).unwrap_or_default();
    (o, outputs)
}

#[test]
fn the_action_check_step_records_the_decision_and_writes_sarif() {
    let dir = tempfile::tempdir().unwrap();
    module(dir.path(), "edge.wasm", "edge-handler");
    module(dir.path(), "net.wasm", "net-client");
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "version = 1\n[rules.capability-denied]\ncapabilities = [\"net-*\"]\n",
    )
    .unwrap();

    let out = dir.path().join("out1");
    let (o, outputs) = action_check(
        &[
            ("WASMCERT_PATHS", "edge.wasm\n"),
            ("WASMCERT_POLICY", "pack:baseline\n  p.toml  \n"),
            ("WASMCERT_SARIF", "wasmcert.sarif"),
        ],
        &out,
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("edge.wasm: allowed"));
    assert_eq!(outputs, "exit=0\nallowed=true\nsarif-written=true\n");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("wasmcert.sarif")).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");

    // Denied: the step itself succeeds (so the SARIF upload runs) and records exit 1.
    let out = dir.path().join("out2");
    let (o, outputs) = action_check(
        &[
            ("WASMCERT_PATHS", "edge.wasm\nnet.wasm"),
            ("WASMCERT_POLICY", "p.toml"),
            ("WASMCERT_SARIF", "denied.sarif"),
        ],
        &out,
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("net.wasm: DENIED"));
    assert_eq!(outputs, "exit=1\nallowed=false\nsarif-written=true\n");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("denied.sarif")).unwrap()).unwrap();
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());

    // A bad policy: exit 2 recorded, the error in the log.
    std::fs::write(&policy, "version = 3\n").unwrap();
    let out = dir.path().join("out3");
    let (o, outputs) = action_check(
        &[
            ("WASMCERT_PATHS", "edge.wasm"),
            ("WASMCERT_POLICY", "p.toml"),
            ("WASMCERT_SARIF", ""),
        ],
        &out,
        dir.path(),
    );
    assert!(
        text(&o).contains("p.toml:1:11: unsupported policy version 3"),
        "{}",
        text(&o)
    );
    assert_eq!(outputs, "exit=2\nallowed=false\nsarif-written=false\n");
    // No paths at all is an error, not a pass.
    let out = dir.path().join("out4");
    let (_, outputs) = action_check(&[("WASMCERT_PATHS", "  \n")], &out, dir.path());
    assert!(outputs.starts_with("exit=2\n"), "{outputs}");
}
