//! `wasmcert certify` end to end: the built-in suites against the embedded engine and the
//! command-line runtimes CI installs (wasmtime CLI, wamr, node). Each runtime must pass every
//! case except those listed in `certify/expectations/<runtime>.toml`, and every listed case
//! must still fail (the run exits 1 when a listed case starts passing), so the lists stay
//! honest. CI installs the runtimes (`scripts/install-validators.sh`,
//! `scripts/install-old-wasmtime.sh`; node is on the machine image); elsewhere a missing
//! runtime skips its test with a message.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} missing in CI: run scripts/install-validators.sh"
        );
        eprintln!("skipping: {name} not installed");
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

fn failures(v: &serde_json::Value) -> Vec<String> {
    v["cases"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, c)| {
            !matches!(
                c["outcome"].as_str(),
                Some("pass" | "not-supported" | "expected-failure")
            )
        })
        .map(|(id, c)| format!("{id}: {}", c))
        .collect()
}

fn outcome<'a>(v: &'a serde_json::Value, case: &str) -> &'a str {
    v["cases"][case]["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("no case {case}"))
}

#[test]
fn embedded_passes_the_builtin_suites() {
    let (code, v, err) = certify(&[]);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    let cats = v["summary"].as_object().unwrap();
    for (cat, min) in [("sandbox", 20), ("wasi", 15), ("limits", 10)] {
        let n: u64 = cats[cat]
            .as_object()
            .unwrap()
            .values()
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert!(n >= min, "{cat}: {n} cases, want at least {min}");
    }
    // Embedded supports every control except read-only files in a writable directory
    // (wasmtime-wasi 48 has no DirPerms/FilePerms split).
    for (id, c) in v["cases"].as_object().unwrap() {
        if c["outcome"] == "not-supported" {
            assert!(
                id.starts_with("sandbox/ro-files-"),
                "{id} not supported on embedded"
            );
        }
    }
    assert_eq!(v["runtime"]["name"], "embedded");
    assert_eq!(v["suite"]["digest"].as_str().unwrap().len(), 64);
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

#[test]
fn wasmtime_cli_matches_its_expectations() {
    if tool("wasmtime").is_none() {
        return;
    }
    let (code, v, err) = certify(&["--runtime", "wasmtime"]);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    // Current wasmtime contains every sandbox case it can express.
    for (id, c) in v["cases"].as_object().unwrap() {
        assert_ne!(c["outcome"], "escaped", "{id}");
    }
}

#[test]
fn wamr_matches_its_expectations() {
    if tool("wamr").is_none() || tool("wamrc").is_none() {
        return;
    }
    let (code, v, err) = certify(&["--runtime", "wamr"]);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
}

#[test]
fn node_wasi_is_caught_escaping() {
    if tool("node").is_none() {
        return;
    }
    let (code, v, err) = certify(&["--runtime", "node"]);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    // node:wasi is documented as no sandbox: the suite must show it (as listed expected
    // failures whose outcome was an escape).
    let escapes = v["cases"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| {
            c["outcome"] == "expected-failure"
                && c["why"].as_str().unwrap_or("").starts_with("escaped")
        })
        .count();
    assert!(escapes >= 3, "node:wasi escapes caught: {escapes}");
    assert_eq!(
        outcome(&v, "sandbox/symlink-relative-file"),
        "expected-failure"
    );
}

fn python_embedding(version: &str) -> Option<PathBuf> {
    let py = root().join(format!(".ci/tools/wasmtime-py-{version}/bin/python"));
    if py.exists() {
        return Some(py);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "wasmtime-py-{version} missing in CI: run scripts/install-old-wasmtime.sh"
    );
    eprintln!("skipping: wasmtime-py-{version} not installed (scripts/install-old-wasmtime.sh)");
    None
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
        certify(&[
            "--adapter",
            &format!("certify/adapters/{adapter}.toml"),
            "--runtime-path",
            &py,
        ])
    };
    let (code, v, err) = run("wasmtime-py-33", &old);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    for case in [
        "sandbox/ro-files-truncate",
        "sandbox/ro-files-rw-cross-preopen",
    ] {
        assert_eq!(
            outcome(&v, case),
            "expected-failure",
            "33.0.0 must be flagged on {case}"
        );
        assert!(
            v["cases"][case]["why"]
                .as_str()
                .unwrap()
                .starts_with("fail")
        );
    }
    let (code, v, err) = run("wasmtime-py-46", &fixed);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    for case in [
        "sandbox/ro-files-truncate",
        "sandbox/ro-files-rw-cross-preopen",
        "sandbox/ro-truncate",
        "sandbox/ro-rw-cross-preopen",
    ] {
        assert_eq!(outcome(&v, case), "pass", "46.0.1 on {case}");
    }
    let (code, v, err) = run("wasmtime-py", &current);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    assert_eq!(outcome(&v, "sandbox/ro-truncate"), "pass");
}

/// The generated stress suite: wasm-smith modules with huge memories, deep recursion, long
/// loops, many tables and random host calls. The embedded engine and the wasmtime CLI end every
/// run themselves inside the limits; the same seed reproduces the same cases, and a shell
/// "runtime" that ignores the limits (sleeps, as a runaway guest would) is caught as a timeout.
#[test]
fn generated_stress_suite_holds_on_embedded_and_the_wasmtime_cli() {
    let (code, v, err) = certify(&["--generated", "60", "--seed", "11"]);
    assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["generated"]["pass"], 60, "{}", v["summary"]);
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
        assert_eq!(failures(&v), Vec::<String>::new(), "{err}");
        assert_eq!(code, 0);
        assert_eq!(v["summary"]["generated"]["pass"], 30);
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
    assert_eq!(v["summary"]["generated"]["timeout"], 2, "{}", v["summary"]);
}
