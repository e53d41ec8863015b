//! `wasmcert certify` end to end: the built-in suites against the embedded engine and the
//! command-line runtimes CI installs (wasmtime CLI, wamr, node). Each runtime must pass every
//! case except those listed in `certify/expectations/<runtime>.toml` (passed with --expectations), and every listed case
//! must still fail (the run exits 1 when a listed case starts passing), so the lists stay
//! honest. CI installs the runtimes (`scripts/install-validators.sh`,
//! `scripts/install-old-wasmtime.sh`; node is on the machine image); elsewhere a missing
//! runtime skips its test with a message.

mod common;

use common::root;
use std::path::PathBuf;
use std::process::Command;

fn tool(name: &str) -> Option<PathBuf> {
    let local = root().join(".ci/tools/bin").join(name);
    if local.exists() {
        return Some(local);
    }
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    });
    if found.is_none() {
        return common::not_installed(name, "scripts/install-validators.sh");
    }
    found
}

fn certify(args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![root().join(".ci/tools/bin")];
    dirs.extend(std::env::split_paths(&path));
    path = std::env::join_paths(dirs).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
        .current_dir(root())
        .env("PATH", path)
        .arg("certify")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (o.status.code().unwrap_or(-1), v, stderr)
}

/// Cases no holding known-failure entry accounts for (what makes certify exit 1).
fn unexplained(v: &serde_json::Value) -> Vec<String> {
    v["verdict"]["unexplained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| format!("{id}: {}", v["cases"][id.as_str().unwrap()]))
        .collect()
}

fn outcome<'a>(v: &'a serde_json::Value, case: &str) -> &'a str {
    v["cases"][case]["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("no case {case}"))
}

/// Case id → observed outcome.
fn outcomes(v: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    v["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, c)| (id.clone(), c["outcome"].as_str().unwrap().to_string()))
        .collect()
}

fn ids(t: &serde_json::Value) -> Vec<&str> {
    t["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

/// Certify a runtime as a user does (no flag beyond the runtime) and as the project pins it
/// (`--expectations certify/expectations`). The list changes the exit status only: every
/// observed outcome, the summary and the verdict are the same in both runs; without the list
/// any failure exits 1; with it the run exits 0, and every non-passing case carries a holding
/// `known` annotation beside its observed outcome.
/// Check a report against docs/report.schema.json with an independent validator (Python
/// jsonschema, installed by scripts/install-validators.sh).
fn validate_report(v: &serde_json::Value) {
    let py = root().join(".ci/tools/venv/bin/python");
    if !py.is_file() {
        common::not_installed::<()>("the validators venv", "scripts/install-validators.sh");
        return;
    }
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), serde_json::to_vec(v).unwrap()).unwrap();
    let o = Command::new(py)
        .arg(root().join("scripts/validate.py"))
        .arg("report")
        .arg(f.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "report does not match docs/report.schema.json:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

fn certify_pinned(args: &[&str]) -> serde_json::Value {
    // One runtime at a time: the full suites of several runtimes at once on a 2-core CI
    // machine starve each other (node's V8 once died reserving a memory under that load),
    // and the point here is to compare two runs of the same runtime.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (code, plain, err) = certify(args);
    validate_report(&plain);
    let mut pinned_args = args.to_vec();
    pinned_args.extend(["--expectations", "certify/expectations"]);
    let (pinned_code, pinned, err2) = certify(&pinned_args);
    validate_report(&pinned);
    assert_eq!(
        outcomes(&plain),
        outcomes(&pinned),
        "the list changed an outcome"
    );
    let strip = |v: &serde_json::Value| {
        let mut s = v["verdict"].clone();
        s["unexplained"] = serde_json::Value::Null;
        for t in ["containment", "stability", "conformance", "errors"] {
            s[t]["known"] = serde_json::Value::Null;
        }
        s
    };
    assert_eq!(strip(&plain), strip(&pinned));
    let failing = plain["verdict"]["result"] == "fail";
    assert_eq!(code, if failing { 1 } else { 0 }, "{err}");
    assert!(plain["suite"].get("expectations").is_none());
    assert_eq!(unexplained(&pinned), Vec::<String>::new(), "{err2}");
    assert_eq!(pinned_code, 0, "{err2}");
    for (id, c) in pinned["cases"].as_object().unwrap() {
        if !matches!(c["outcome"].as_str(), Some("pass" | "not-supported")) {
            assert_eq!(c["known"]["holds"], true, "{id}: {c}");
            assert_eq!(plain["cases"][id].get("known"), None);
        }
    }
    pinned
}

#[test]
fn embedded_contains_every_case_and_fails_only_its_documented_conformance_cases() {
    let v = certify_pinned(&[]);
    let cats = v["summary"].as_object().unwrap();
    for (cat, min) in [("sandbox", 20), ("wasi", 15), ("limits", 10)] {
        let n: u64 = cats[cat]["outcomes"]
            .as_object()
            .unwrap()
            .values()
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert!(n >= min, "{cat}: {n} cases, want at least {min}");
    }
    let verdict = &v["verdict"];
    assert_eq!(verdict["containment"]["count"], 0, "{verdict}");
    assert_eq!(verdict["stability"]["count"], 0, "{verdict}");
    // wasmtime 48 deliberately ignores preview1 rights and refuses exit statuses >= 126:
    // reported as failures, every time.
    assert_eq!(
        ids(&verdict["conformance"]),
        ["sandbox/rights-escalation-inheriting", "wasi/exit-code-255"]
    );
    // Embedded supports every control except read-only files in a writable directory
    // (wasmtime-wasi 48 has no DirPerms/FilePerms split); the component-native cases (network,
    // sandbox/p2-*) run with --world p2 (tests/certify_components.rs).
    for (id, c) in v["cases"].as_object().unwrap() {
        if c["outcome"] == "not-supported" {
            if c["missing"] == "component" {
                assert!(
                    c["why"].as_str().unwrap().contains("--world p2"),
                    "{id}: {c}"
                );
                continue;
            }
            assert!(
                id.starts_with("sandbox/ro-files-"),
                "{id} not supported on embedded"
            );
            assert_eq!(c["missing"], "read-only-files");
        }
    }
    assert_eq!(verdict["coverage"]["missing"]["read-only-files"], 2);
    assert_eq!(v["runtime"]["name"], "embedded");
    assert_eq!(v["suite"]["digest"].as_str().unwrap().len(), 64);
    assert_eq!(v["suite"]["expectations"]["file"], "embedded.toml");
}

#[test]
fn the_human_output_starts_with_the_verdict() {
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
        .current_dir(root())
        .args(["certify", "--filter", "^wasi/(exit-code-255|args)"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("verdict      FAIL: 0 escaped, 0 crashed or hung, 1 failed"),
        "{text}"
    );
    assert!(text.contains("\n  containment  0 escapes\n"), "{text}");
    assert!(
        text.contains("\nfail           wasi/exit-code-255: expected exit code 255"),
        "{text}"
    );
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
        .current_dir(root())
        .args([
            "certify",
            "--filter",
            "^wasi/args",
            "--expectations",
            "no/such/dir",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--expectations no/such/dir"));
}

#[test]
fn filter_and_shards_partition_the_suite() {
    let (_, all, _) = certify(&["--filter", "^wasi/"]);
    let all: Vec<String> = all["cases"].as_object().unwrap().keys().cloned().collect();
    assert!(all.iter().all(|k| k.starts_with("wasi/")));
    let mut merged = Vec::new();
    for k in 1..=3 {
        let (_, v, _) = certify(&["--filter", "^wasi/", "--shard", &format!("{k}/3")]);
        assert_eq!(v["suite"]["shard"], format!("{k}/3"));
        merged.extend(v["cases"].as_object().unwrap().keys().cloned());
    }
    merged.sort();
    assert_eq!(merged, all);
}

/// Every trap class the suite has is read as a trap from the runtime's own report, and a
/// guest's exit 1 after trap-like stderr stays an exit status.
fn assert_traps_read_right(v: &serde_json::Value) {
    let traps: Vec<&String> = v["cases"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|id| id.starts_with("wasi/trap-"))
        .collect();
    assert!(traps.len() >= 8, "{traps:?}");
    for id in traps {
        let c = &v["cases"][id.as_str()];
        if c.get("known").is_none() {
            assert_eq!(c["outcome"], "pass", "{id}: {c}");
            assert!(c["evidence"]["trap"].is_string(), "{id}: {c}");
        }
    }
    assert_eq!(outcome(v, "wasi/exit-1-not-a-trap"), "pass");
}

#[test]
fn wasmtime_cli_contains_every_case() {
    if tool("wasmtime").is_none() {
        return;
    }
    let v = certify_pinned(&["--runtime", "wasmtime"]);
    assert_eq!(v["verdict"]["containment"]["count"], 0);
    assert_eq!(v["verdict"]["stability"]["count"], 0);
    assert_eq!(
        ids(&v["verdict"]["conformance"]),
        ["sandbox/rights-escalation-inheriting", "wasi/exit-code-255"]
    );
    assert_traps_read_right(&v);
}

#[test]
fn wamr_escapes_are_reported_as_escapes() {
    if tool("wamr").is_none() || tool("wamrc").is_none() {
        return;
    }
    let v = certify_pinned(&["--runtime", "wamr"]);
    let escaped = ids(&v["verdict"]["containment"]);
    assert!(escaped.len() >= 13, "{escaped:?}");
    for id in [
        "sandbox/delete-outside",
        "sandbox/create-outside",
        "sandbox/symlink-chain",
    ] {
        assert!(escaped.contains(&id), "{id}: {escaped:?}");
        assert_eq!(outcome(&v, id), "escaped");
    }
    let sandbox_escapes = v["summary"]["sandbox"]["outcomes"]["escaped"]
        .as_u64()
        .unwrap();
    assert!(sandbox_escapes >= 13);
    assert_eq!(v["summary"]["sandbox"]["known"]["escaped"], sandbox_escapes);
    assert_traps_read_right(&v);
    assert_eq!(
        v["cases"]["wasi/trap-oob-load"]["evidence"]["trap"]
            .as_str()
            .unwrap()
            .trim_end(),
        "Error: AOT execution failed: OutOfBoundsMemoryAccess"
    );
}

#[test]
fn node_wasi_escapes_are_reported_as_escapes_and_its_limits_run() {
    if tool("node").is_none() {
        return;
    }
    let v = certify_pinned(&["--runtime", "node"]);
    // node:wasi is documented as no sandbox: the suite must show it.
    let escaped = ids(&v["verdict"]["containment"]);
    assert!(escaped.len() >= 7, "{escaped:?}");
    assert_eq!(outcome(&v, "sandbox/symlink-relative-file"), "escaped");
    // V8's own memory and table caps are expressed (--wasm-max-mem-pages,
    // --wasm-max-table-size before the launcher).
    for id in [
        "limits/memory-grow-cap",
        "limits/memory-initial-huge",
        "limits/table-grow-cap",
        "limits/table-initial-huge",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    let missing = v["verdict"]["coverage"]["missing"].as_object().unwrap();
    assert!(!missing.contains_key("memory-limit") && !missing.contains_key("table-limit"));
    assert_traps_read_right(&v);
}

fn python_embedding(version: &str) -> Option<PathBuf> {
    let py = root().join(format!(".ci/tools/wasmtime-py-{version}/bin/python"));
    if py.exists() {
        return Some(py);
    }
    common::not_installed(
        &format!("wasmtime-py-{version}"),
        "scripts/install-old-wasmtime.sh",
    )
}

/// An old wasmtime (33.0.0, through the Python embedding) must be flagged for the read-only
/// preopen escalations fixed later (GHSA-2r75-cxrj-cmph truncation, GHSA-4ch3-9j33-3pmj link
/// and rename), and a fixed release (46.0.1) and the current one must pass them.
#[test]
fn old_wasmtime_is_flagged_for_read_only_preopen_escalations() {
    let (Some(old), Some(fixed), Some(current)) = (
        python_embedding("33"),
        python_embedding("46"),
        python_embedding("current"),
    ) else {
        return;
    };
    let run = |adapter: &str, py: &PathBuf| {
        let py = py.to_string_lossy().into_owned();
        certify_pinned(&[
            "--adapter",
            &format!("certify/adapters/{adapter}.toml"),
            "--runtime-path",
            &py,
        ])
    };
    let v = run("wasmtime-py-33", &old);
    for (case, advisory) in [
        ("sandbox/ro-files-truncate", "GHSA-2r75-cxrj-cmph"),
        ("sandbox/ro-files-rw-cross-preopen", "GHSA-4ch3-9j33-3pmj"),
    ] {
        assert_eq!(
            outcome(&v, case),
            "escaped",
            "33.0.0 must be flagged on {case}"
        );
        assert_eq!(v["cases"][case]["known"]["advisory"], advisory);
        assert!(
            v["cases"][case]["why"]
                .as_str()
                .unwrap()
                .contains("preopened read-only (ro-files) was written")
        );
    }
    let v = run("wasmtime-py-46", &fixed);
    for case in [
        "sandbox/ro-files-truncate",
        "sandbox/ro-files-rw-cross-preopen",
        "sandbox/ro-truncate",
        "sandbox/ro-rw-cross-preopen",
    ] {
        assert_eq!(outcome(&v, case), "pass", "46.0.1 on {case}");
    }
    let v = run("wasmtime-py", &current);
    assert_eq!(outcome(&v, "sandbox/ro-truncate"), "pass");
}

/// The generated stress suite: wasm-smith modules with huge memories, deep recursion, long
/// loops, many tables and random host calls. The embedded engine and the wasmtime CLI end every
/// run themselves inside the limits; the same seed reproduces the same cases, and a shell
/// "runtime" that ignores the limits (sleeps, as a runaway guest would) is caught as a timeout.
#[test]
fn generated_stress_suite_holds_on_embedded_and_the_wasmtime_cli() {
    let (code, v, err) = certify(&["--generated", "60", "--seed", "11"]);
    assert_eq!(unexplained(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    assert_eq!(
        v["summary"]["generated"]["outcomes"]["pass"], 60,
        "{}",
        v["summary"]
    );
    assert_eq!(v["suite"]["name"], "wasmcert-generated (seed 11, 60 cases)");
    let ids: Vec<String> = v["cases"].as_object().unwrap().keys().cloned().collect();
    assert!(ids[0].starts_with("generated/s11-00000-memory"), "{ids:?}");
    // Reproducible: the same seed gives the same suite digest; another seed another one.
    let (_, again, _) = certify(&[
        "--generated",
        "60",
        "--seed",
        "11",
        "--filter",
        "s11-0000[0-4]",
    ]);
    assert_eq!(again["cases"].as_object().unwrap().len(), 5);
    let (_, same, _) = certify(&["--generated", "60", "--seed", "11", "--jobs", "1"]);
    assert_eq!(same["suite"]["digest"], v["suite"]["digest"]);
    let (_, other, _) = certify(&["--generated", "60", "--seed", "12", "--filter", "^$"]);
    assert_ne!(other["suite"]["digest"], v["suite"]["digest"]);
    // The modules can be written out to reproduce a finding by hand.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (_, _, _) = certify(&[
        "--generated",
        "60",
        "--seed",
        "11",
        "--filter",
        "s11-00003",
        "--save-generated",
        out,
    ]);
    let saved: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(saved.len(), 1);

    if tool("wasmtime").is_some() {
        let (code, v, err) =
            certify(&["--runtime", "wasmtime", "--generated", "30", "--seed", "11"]);
        assert_eq!(unexplained(&v), Vec::<String>::new(), "{err}");
        assert_eq!(code, 0);
        assert_eq!(v["summary"]["generated"]["outcomes"]["pass"], 30);
    }

    // A runtime that does not enforce the CPU limit is caught: the runner's deadline fires.
    let adapter = dir.path().join("sleepy.toml");
    std::fs::write(
        &adapter,
        "name = \"sleepy\"\nprogram = \"/bin/sh\"\nversion_args = [\"-c\", \"echo sleepy 1\"]\ncommand = [\"-c\", \"sleep 30\", \"{limits}\", \"{module}\"]\n[flags]\nmemory_limit = [\"m{bytes}\"]\ntable_limit = [\"t{elements}\"]\nfuel = [\"f{fuel}\"]\n",
    )
    .unwrap();
    let (code, v, err) = certify(&[
        "--adapter",
        adapter.to_str().unwrap(),
        "--generated",
        "2",
        "--seed",
        "11",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        v["summary"]["generated"]["outcomes"]["timeout"], 2,
        "{}",
        v["summary"]
    );
}

/// A WASI implementation that is a library, installed by `scripts/install-runtimes.sh` under
/// `.ci/tools/<dir>/` with the interpreter that runs its launcher at `bin/<bin>` (a node symlink
/// beside `node_modules/`, or a venv's python). `None` (the test is skipped with a message) when
/// it is not installed, except in CI, where that is a failure.
fn library_runtime(dir: &str, bin: &str, why: &str) -> Option<PathBuf> {
    let p = root().join(".ci/tools").join(dir).join("bin").join(bin);
    if p.exists() {
        return Some(p);
    }
    common::not_installed(&format!("{dir}{why}"), "scripts/install-runtimes.sh")
}

/// A handful of cases on a library runtime's adapter, as a user runs them and as the project
/// pins them (its known-failure list must account for every failure). The full suite runs in
/// scripts/publish-matrix.sh; these catch adapter drift (a launcher that no longer drives the
/// package, a trap or refusal no longer recognised) in seconds.
fn certify_library(adapter: &str, runtime: &std::path::Path, cases: &[&str]) -> serde_json::Value {
    let adapter = format!("certify/adapters/{adapter}.toml");
    let runtime = runtime.to_string_lossy().into_owned();
    let filter = format!("^({})$", cases.join("|"));
    let v = certify_pinned(&[
        "--adapter",
        &adapter,
        "--runtime-path",
        &runtime,
        "--filter",
        &filter,
    ]);
    assert_eq!(v["cases"].as_object().unwrap().len(), cases.len(), "{v}");
    v
}

/// The case was run to its end and the runtime's own trap report was recognised.
fn assert_trapped(v: &serde_json::Value, case: &str) {
    let c = &v["cases"][case];
    assert!(c["evidence"]["trap"].is_string(), "{case}: {c}");
}

#[test]
fn browser_wasi_shim_adapter_runs_its_in_memory_model() {
    let Some(node) = library_runtime("browser-wasi-shim", "node", "") else {
        return;
    };
    let v = certify_library(
        "browser-wasi-shim",
        &node,
        &[
            "wasi/exit-code-42",
            "wasi/file-create-readback",
            "sandbox/dotdot-parent",
            "sandbox/ro-files-truncate",
            "sandbox/symlink-relative-file",
            "wasi/trap-oob-load",
            "wasi/exit-1-not-a-trap",
        ],
    );
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("@bjorn3/browser_wasi_shim "),
        "{}",
        v["runtime"]
    );
    // The preopen is read into the shim's model and written back (file-create-readback checks
    // the host file); `..` stays inside the model; read-only files are the shim's own.
    for id in [
        "wasi/exit-code-42",
        "wasi/file-create-readback",
        "sandbox/dotdot-parent",
        "sandbox/ro-files-truncate",
        "wasi/trap-oob-load",
        "wasi/exit-1-not-a-trap",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    // The model has no symbolic links: the planted ones are not imported.
    assert_eq!(outcome(&v, "sandbox/symlink-relative-file"), "fail");
    assert_trapped(&v, "wasi/trap-oob-load");
}

#[test]
fn wasm_util_adapter_reports_its_escapes() {
    let Some(node) = library_runtime("wasm-util", "node", "") else {
        return;
    };
    let v = certify_library(
        "wasm-util",
        &node,
        &[
            "wasi/unknown-wasi-import",
            "sandbox/symlink-dir-write-through",
            "wasi/trap-oob-load",
            "wasi/exit-code-42",
        ],
    );
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("@tybys/wasm-util "),
        "{}",
        v["runtime"]
    );
    assert_eq!(outcome(&v, "wasi/unknown-wasi-import"), "pass");
    assert_eq!(outcome(&v, "sandbox/symlink-dir-write-through"), "escaped");
    // Pointer 0 is NULL to the polyfill: the guest's output (iovec at address 0) is lost, but
    // the trap and the exit status are still read right.
    assert_eq!(outcome(&v, "wasi/trap-oob-load"), "fail");
    assert_trapped(&v, "wasi/trap-oob-load");
    assert_eq!(v["cases"]["wasi/exit-code-42"]["evidence"]["exit_code"], 42);
}

#[test]
fn wasi_js_adapter_reports_its_escapes() {
    let Some(node) = library_runtime("wasi-js", "node", "") else {
        return;
    };
    let v = certify_library(
        "wasi-js",
        &node,
        &[
            "wasi/exit-code-42",
            "wasi/env-isolation",
            "sandbox/dotdot-parent",
            "wasi/trap-div-zero",
            "wasi/exit-1-not-a-trap",
        ],
    );
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("wasi-js "),
        "{}",
        v["runtime"]
    );
    for id in [
        "wasi/exit-code-42",
        "wasi/env-isolation",
        "wasi/trap-div-zero",
        "wasi/exit-1-not-a-trap",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    // No containment at all: `..` reads the secret.
    assert_eq!(outcome(&v, "sandbox/dotdot-parent"), "escaped");
    assert_trapped(&v, "wasi/trap-div-zero");
}

#[test]
fn wasmer_wasi_js_adapter_runs_its_memfs() {
    let Some(node) = library_runtime("wasmer-wasi", "node", "") else {
        return;
    };
    let v = certify_library(
        "wasmer-wasi",
        &node,
        &[
            "wasi/exit-code-42",
            "wasi/stdin-echo",
            "wasi/env-isolation",
            "wasi/fd-prestat",
            "wasi/trap-oob-store",
            "wasi/unknown-wasi-import",
        ],
    );
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("@wasmer/wasi "),
        "{}",
        v["runtime"]
    );
    for id in [
        "wasi/exit-code-42",
        "wasi/stdin-echo",
        "wasi/env-isolation",
        "wasi/trap-oob-store",
        "wasi/unknown-wasi-import",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    // fd 3 is always the MemFS root "/", the case's preopen fd 4 "sandbox".
    assert_eq!(
        v["cases"]["wasi/fd-prestat"]["evidence"]["stdout_head"],
        "/\nsandbox\nend errno=8\n"
    );
    assert_trapped(&v, "wasi/trap-oob-store");
}

#[test]
fn pywasm_adapter_reports_its_escapes() {
    let Some(py) = library_runtime("pywasm", "python", "") else {
        return;
    };
    let v = certify_library(
        "pywasm",
        &py,
        &[
            "wasi/exit-code-42",
            "sandbox/dotdot-parent",
            "sandbox/symlink-relative-file",
            "wasi/trap-div-zero",
            "wasi/unknown-wasi-import",
        ],
    );
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("pywasm "),
        "{}",
        v["runtime"]
    );
    for id in [
        "wasi/exit-code-42",
        "sandbox/dotdot-parent",
        "wasi/trap-div-zero",
        "wasi/unknown-wasi-import",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    // `..` is refused lexically, but the host follows a planted link out of the preopen.
    assert_eq!(outcome(&v, "sandbox/symlink-relative-file"), "escaped");
    assert_trapped(&v, "wasi/trap-div-zero");
}

#[test]
fn wasmer_python_adapter_runs() {
    let Some(py) = library_runtime(
        "wasmer-py",
        "python",
        " (wasmer==1.1.0 has native wheels for Python 3.10 only; without a Python 3.10 it cannot be installed)",
    ) else {
        return;
    };
    let v = certify_library(
        "wasmer-py",
        &py,
        &[
            "wasi/exit-code-42",
            "wasi/env-isolation",
            "sandbox/no-ambient-preopen",
            "wasi/trap-oob-load",
            "wasi/unknown-wasi-import",
        ],
    );
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("wasmer-python 1.1.0 "),
        "{}",
        v["runtime"]
    );
    for id in [
        "wasi/exit-code-42",
        "wasi/env-isolation",
        "wasi/trap-oob-load",
        "wasi/unknown-wasi-import",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    // fd 3 is wasmer's virtual root "/", preopened whether or not a directory is granted.
    assert_eq!(outcome(&v, "sandbox/no-ambient-preopen"), "fail");
    assert_trapped(&v, "wasi/trap-oob-load");
}

#[test]
fn wasmer_sdk_adapter_runs_commands_in_its_sandbox() {
    let Some(py) = library_runtime("wasmer-sdk-py", "python", "") else {
        return;
    };
    let v = certify_library(
        "wasmer-sdk",
        &py,
        &[
            "wasi/exit-code-42",
            "wasi/stdin-echo",
            "wasi/env-none-granted",
            "wasi/trap-oob-load",
            "wasi/unknown-wasi-import",
            "limits/cpu-sleep-in-hostcall",
            "sandbox/dotdot-parent",
        ],
    );
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("wasmer-sdk "),
        "{}",
        v["runtime"]
    );
    for id in [
        "wasi/exit-code-42",
        "wasi/stdin-echo",
        "wasi/env-none-granted",
        "wasi/trap-oob-load",
        "wasi/unknown-wasi-import",
        "limits/cpu-sleep-in-hostcall",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    // A sandbox cannot preopen a host directory.
    assert_eq!(outcome(&v, "sandbox/dotdot-parent"), "not-supported");
    assert_trapped(&v, "wasi/trap-oob-load");
}
