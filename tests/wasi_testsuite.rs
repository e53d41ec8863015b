//! `wasmcert certify --wasi-testsuite DIR`: upstream's WASI testsuite run as upstream's
//! reference runner runs it (docs/wasi-testsuite.md).
//!
//! `tests/fixtures/wasi-testsuite/` is a pinned subset of upstream's prebuilt suite (its
//! UPSTREAM file names the commit) plus hand-written specs around the same modules for spec
//! features no prebuilt test uses. The verdicts asserted below are the reference runner's
//! (`scripts/wasi-testsuite-side-by-side.sh UPSTREAM tests/fixtures/wasi-testsuite` agrees on
//! all 50 with the wasmtime CLI 49.0.3 that `scripts/install-validators.sh` installs). CI
//! installs that CLI; elsewhere a missing one skips its test with a message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::root;

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/wasi-testsuite")
}

fn wasmtime() -> Option<PathBuf> {
    let local = root().join(".ci/tools/bin/wasmtime");
    if local.exists() {
        return Some(local);
    }
    common::not_installed(
        "the wasmtime CLI (.ci/tools/bin/wasmtime)",
        "scripts/install-validators.sh",
    )
}

/// `wasmcert certify ARGS --format json`, with a compile cache of its own.
fn certify(cache: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
        .current_dir(root())
        .env("WASMCERT_CACHE_DIR", cache)
        .arg("certify")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&o.stderr));
    });
    (o, v)
}

fn outcomes(v: &serde_json::Value) -> BTreeMap<String, String> {
    v["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, c)| (k.clone(), c["outcome"].as_str().unwrap().to_string()))
        .collect()
}

const AS: &str = "wasi-assemblyscript-tests-wasm32-wasip1";
const C: &str = "wasi-c-tests-wasm32-wasip1";
const P1: &str = "wasi-rust-tests-wasm32-wasip1";
const P3: &str = "wasi-rust-tests-wasm32-wasip3";
const OURS1: &str = "wasmcert-hand-written-specs-wasm32-wasip1";
const OURS3: &str = "wasmcert-hand-written-specs-wasm32-wasip3";

/// The tests upstream's reference runner fails on the wasmtime CLI 49.0.3, with why.
const REFERENCE_FAILURES: &[(&str, &str)] = &[
    // wasmtime 49 answers 500: the request reaches the guest without a scheme.
    (
        "wasi-rust-tests-wasm32-wasip3/http-service-uri",
        "expected status 200, got 500",
    ),
    // No spec, so no `-Sinherit-network`: the guest is denied the network and panics.
    (
        "wasi-rust-tests-wasm32-wasip3/sockets-tcp-properties",
        "expected exit code 0",
    ),
    // Hand-written: the stderr prefix does not match.
    (
        "wasmcert-hand-written-specs-wasm32-wasip1/stderr-mismatch",
        "expected \"abort: somewhere else\" on stderr",
    ),
    // Hand-written: `kill` sends SIGTERM by default, which `wasmtime serve` dies of.
    (
        "wasmcert-hand-written-specs-wasm32-wasip3/kill-default-exit-0",
        "died on signal 15",
    ),
];

fn sha256sums_hold(dir: &Path) {
    use sha2::{Digest, Sha256};
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut n = 0;
    for line in sums.lines() {
        let (sum, path) = line.split_once("  ").unwrap();
        let got = hex::encode(Sha256::digest(std::fs::read(dir.join(path)).unwrap()));
        assert_eq!(got, sum, "{path} differs from SHA256SUMS");
        n += 1;
    }
    assert!(n > 40, "{n} files in SHA256SUMS");
}

#[test]
fn the_pinned_subset_gets_upstream_s_verdicts_on_the_wasmtime_cli() {
    sha256sums_hold(&fixtures());
    let Some(wasmtime) = wasmtime() else { return };
    let cache = tempfile::tempdir().unwrap();
    let dir = fixtures();
    let (o, v) = certify(
        cache.path(),
        &[
            "--runtime",
            "wasmtime",
            "--runtime-path",
            wasmtime.to_str().unwrap(),
            "--wasi-testsuite",
            dir.to_str().unwrap(),
            // The compile cache starts cold and `wait` allows 5 s, compilation included (as
            // upstream's does): no more compilers at once than a small CI machine has room for.
            "--jobs",
            "4",
        ],
    );
    let got = outcomes(&v);
    assert_eq!(got.len(), 50, "{got:#?}");
    for (id, outcome) in &got {
        match REFERENCE_FAILURES.iter().find(|(f, _)| f == id) {
            Some((_, why)) => {
                assert_eq!(outcome, "fail", "{id}: {}", v["cases"][id]);
                let text = v["cases"][id]["why"].as_str().unwrap();
                assert!(text.contains(why), "{id}: {text}");
            }
            None => assert_eq!(outcome, "pass", "{id}: {}", v["cases"][id]),
        }
    }
    for suite in [AS, C, P1, P3, OURS1, OURS3] {
        assert!(
            got.keys().any(|k| k.starts_with(&format!("{suite}/"))),
            "{suite}"
        );
    }
    assert_eq!(
        o.status.code(),
        Some(1),
        "the reference's failures fail the run"
    );
    assert_eq!(
        v["suite"]["name"],
        "WASI AssemblyScript tests [wasm32-wasip1] + WASI C tests [wasm32-wasip1] + WASI Rust tests [wasm32-wasip1] + WASI Rust tests [wasm32-wasip3] + wasmcert hand-written specs [wasm32-wasip1] + wasmcert hand-written specs [wasm32-wasip3]"
    );
    // Every test ran on a fresh copy of its fixtures: the committed ones are untouched (the
    // C tests write `*.cleanup` files, p3 tests leave `*.cleanup` symlinks behind).
    sha256sums_hold(&dir);
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".cleanup"),
                "{} left behind",
                e.path().display()
            );
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
}

#[test]
fn the_embedded_engine_runs_wasip1_and_wasip3_and_names_what_it_lacks() {
    let cache = tempfile::tempdir().unwrap();
    let dir = fixtures();
    // One case at a time: in a debug build, compiling the wasip3 components in parallel
    // starves the in-process executor past the deadlines of the small cases beside them.
    let (_, v) = certify(
        cache.path(),
        &["--wasi-testsuite", dir.to_str().unwrap(), "--jobs", "1"],
    );
    let service = [
        "http-service-echo",
        "http-service-uri",
        "http-client",
        "http-client-chunked",
        "http-client-path",
        "http-client-send-errors",
        "kill-default",
        "kill-default-exit-0",
    ];
    for (id, outcome) in outcomes(&v) {
        let case = &v["cases"][&id];
        let name = id.rsplit('/').next().unwrap();
        if service.contains(&name) {
            // No HTTP server in process: wasmtime-wasi-http is not embedded.
            assert_eq!(outcome, "not-supported", "{id}");
            assert_eq!(case["missing"], "wasi:http/service", "{id}");
        } else if name == "http-fields" {
            assert_eq!(outcome, "not-supported", "{id}");
            assert_eq!(case["missing"], "proposal:http", "{id}");
            assert!(
                case["why"].as_str().unwrap().contains("wasi:http"),
                "{case}"
            );
        } else if name == "stderr-mismatch" {
            assert_eq!(outcome, "fail", "{case}");
        } else if name == "stderr-prefix" {
            // The AssemblyScript abort exits with 255, which wasmtime refuses (`exit with
            // invalid exit status`): the CLI's process exits 1, the embedded engine has no
            // process status to compare with `exit_code`.
            assert_eq!(outcome, "fail", "{case}");
            assert!(
                case["why"]
                    .as_str()
                    .unwrap()
                    .contains("invalid exit status"),
                "{case}"
            );
        } else {
            // Every wasm32-wasip1 module, and the wasm32-wasip3 components in the CLI world
            // (stdio while the guest runs, a `root`, sockets) on wasmtime 48 in process.
            assert_eq!(outcome, "pass", "{id}: {case}");
        }
    }
    assert_eq!(v["verdict"]["coverage"]["missing"]["wasi:http/service"], 8);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Print `text` to stdout, then exit with `code`.
fn printer(text: &str, code: i32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 64) "{escaped}")
            (func (export "_start")
              (i32.store (i32.const 0) (i32.const 64))
              (i32.store (i32.const 4) (i32.const {len}))
              (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
              (call $exit (i32.const {code}))))"#,
        len = text.len(),
        escaped = text.replace('\n', "\\n")
    ))
    .unwrap()
}

/// Open `file.txt` in the first preopen (the root, fd 3) and print it.
fn reader() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 100) "file.txt")
            (func (export "_start")
              (if (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 8) (i32.const 0)
                    (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200))
                (then unreachable))
              (i32.store (i32.const 0) (i32.const 300))
              (i32.store (i32.const 4) (i32.const 100))
              (drop (call $r (i32.load (i32.const 200)) (i32.const 0) (i32.const 1) (i32.const 8)))
              (i32.store (i32.const 4) (i32.load (i32.const 8)))
              (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap()
}

/// Copy stdin to stdout until end of file, then exit 0.
fn echo() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "_start")
              (loop $more
                (i32.store (i32.const 0) (i32.const 100))
                (i32.store (i32.const 4) (i32.const 1000))
                (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
                (if (i32.load (i32.const 8))
                  (then
                    (i32.store (i32.const 4) (i32.load (i32.const 8)))
                    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
                    (br $more))))))"#,
    )
    .unwrap()
}

fn mini_suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "manifest.json", br#"{"name": "Mini WASI tests"}"#);
    write(d, "hello.wasm", &printer("hello world\n", 0));
    write(d, "hello.json", br#"{"stdout": "hello"}"#);
    write(d, "exit-three.wasm", &printer("", 3));
    write(d, "exit-three.json", br#"{"exit_code": 3}"#);
    write(d, "no-spec-fails.wasm", &printer("", 7));
    write(d, "wrong-prefix.wasm", &printer("goodbye\n", 0));
    write(d, "wrong-prefix.json", br#"{"stdout": "hello"}"#);
    write(d, "reads-root.wasm", &reader());
    write(
        d,
        "reads-root.json",
        br#"{"root": "fs-tests.dir", "stdout": "fixture contents"}"#,
    );
    std::fs::create_dir(d.join("fs-tests.dir")).unwrap();
    write(&d.join("fs-tests.dir"), "file.txt", b"fixture contents\n");
    write(d, "echo.wasm", &echo());
    write(
        d,
        "echo.json",
        br#"{"operations": [{"type": "run"}, {"type": "write", "id": "stdin", "payload": "ping\r\n"}, {"type": "read", "payload": "ping\n"}, {"type": "write", "id": "stdin", "payload": "pong"}, {"type": "read", "payload": "pong"}, {"type": "wait"}]}"#,
    );
    write(d, "echo-killed.wasm", &echo());
    write(
        d,
        "echo-killed.json",
        br#"{"operations": [{"type": "run"}, {"type": "kill"}, {"type": "wait", "exit_code": -15}]}"#,
    );
    dir
}

#[test]
fn a_directory_runs_unchanged_with_upstream_s_meaning() {
    let suite = mini_suite();
    let d = suite.path();
    let cache = tempfile::tempdir().unwrap();
    let (o, v) = certify(cache.path(), &["--wasi-testsuite", d.to_str().unwrap()]);
    let got = outcomes(&v);
    let outcome = |id: &str| got[&format!("mini-wasi-tests/{id}")].as_str();
    assert_eq!(outcome("hello"), "pass", "a stdout prefix");
    assert_eq!(outcome("exit-three"), "pass");
    assert_eq!(
        outcome("no-spec-fails"),
        "fail",
        "a missing spec means exit 0"
    );
    assert_eq!(outcome("wrong-prefix"), "fail");
    assert_eq!(
        outcome("reads-root"),
        "pass",
        "`root` is the guest's /: {v}"
    );
    assert_eq!(
        outcome("echo"),
        "pass",
        "stdin and stdout while the guest runs: {v}"
    );
    assert_eq!(outcome("echo-killed"), "pass", "kill sends SIGTERM: {v}");
    assert_eq!(v["suite"]["name"], "Mini WASI tests");
    assert_eq!(o.status.code(), Some(1), "failures make the run exit 1");
    // The fixture dir is copied for every test, never modified in place.
    assert_eq!(
        std::fs::read(d.join("fs-tests.dir/file.txt")).unwrap(),
        b"fixture contents\n"
    );
    // The same on the wasmtime CLI.
    let Some(wasmtime) = wasmtime() else { return };
    let (_, w) = certify(
        cache.path(),
        &[
            "--runtime",
            "wasmtime",
            "--runtime-path",
            wasmtime.to_str().unwrap(),
            "--wasi-testsuite",
            d.to_str().unwrap(),
        ],
    );
    assert_eq!(outcomes(&w), got, "{w}");
}

#[test]
fn a_symlinked_fixture_cannot_bring_a_host_file_into_a_report() {
    let refused = |setup: &dyn Fn(&Path), what: &str| {
        let suite = tempfile::tempdir().unwrap();
        let d = suite.path();
        write(d, "manifest.json", br#"{"name": "hostile"}"#);
        write(d, "t.wasm", &reader());
        write(d, "t.json", br#"{"root": "fx", "stdout": "root:"}"#);
        setup(d);
        let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
            .args(["certify", "--format", "json", "--wasi-testsuite"])
            .arg(d)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {stderr}");
        assert!(o.stdout.is_empty(), "{what}: no report at all");
        assert!(stderr.contains("refused"), "{what}: {stderr}");
        assert!(!stderr.contains("root:x:0:0"), "{what}: {stderr}");
    };
    let link = |target: &str, at: &Path| std::os::unix::fs::symlink(target, at).unwrap();
    refused(
        &|d| link("/etc", &d.join("fx")),
        "the fixture is a link out",
    );
    refused(
        &|d| {
            std::fs::create_dir(d.join("fx")).unwrap();
            link("/etc/passwd", &d.join("fx/file.txt"));
        },
        "a link out inside the fixture",
    );
    refused(
        &|d| {
            std::fs::create_dir(d.join("fx")).unwrap();
            link("../../../../../../../etc/passwd", &d.join("fx/file.txt"));
        },
        "a relative link climbing out of the fixture",
    );
    refused(
        &|d| {
            link("/etc", &d.join("sub"));
            write(d, "t.json", br#"{"root": "sub/ssl"}"#);
        },
        "a fixture path through a link out",
    );
    refused(
        &|d| {
            std::fs::remove_file(d.join("t.wasm")).unwrap();
            link("/etc/passwd", &d.join("t.wasm"));
        },
        "a module that is a link out",
    );
    refused(
        &|d| {
            write(d, "t.json", br#"{"root": "../fx"}"#);
        },
        "a root above the suite",
    );

    // Links that stay inside are kept, as links.
    let suite = tempfile::tempdir().unwrap();
    let d = suite.path();
    write(d, "manifest.json", br#"{"name": "inside"}"#);
    write(d, "t.wasm", &reader());
    write(d, "t.json", br#"{"root": "fx", "stdout": "real"}"#);
    std::fs::create_dir_all(d.join("real.dir")).unwrap();
    write(&d.join("real.dir"), "data", b"real data\n");
    link("real.dir", &d.join("fx"));
    link("data", &d.join("real.dir/file.txt"));
    let cache = tempfile::tempdir().unwrap();
    let (o, v) = certify(cache.path(), &["--wasi-testsuite", d.to_str().unwrap()]);
    assert_eq!(outcomes(&v)["inside/t"], "pass", "{v}");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn not_supported_names_the_missing_version_world_proposal_or_control() {
    // An adapter that declares wasip1 and wasip3 in the CLI world, the http proposal, no
    // root and no way to pass variables: nothing it lacks may run, each names what it lacks.
    let dir = tempfile::tempdir().unwrap();
    let adapter = dir.path().join("partial.toml");
    std::fs::write(
        &adapter,
        r#"name = "partial"
program = "/bin/sh"
version_args = ["-c", "echo partial 1"]
command = ["{module}"]

[wasi_testsuite]
[wasi_testsuite.worlds]
"wasi:cli/command" = ["-c", "exit 0", "sh", "{version}", "{module}", "{args}"]
[wasi_testsuite.versions]
wasm32-wasip1 = []
wasm32-wasip3 = []
[wasi_testsuite.proposals]
http = ""
"#,
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let fx = fixtures();
    let (_, v) = certify(
        cache.path(),
        &[
            "--adapter",
            adapter.to_str().unwrap(),
            "--wasi-testsuite",
            fx.to_str().unwrap(),
            "--filter",
            "/(http-service-echo|sockets-echo|cli-env|lseek|random|http-fields)$",
        ],
    );
    let missing = |id: &str| {
        let c = &v["cases"][id];
        assert_eq!(c["outcome"], "not-supported", "{id}: {c}");
        (
            c["missing"].as_str().unwrap().to_string(),
            c["why"].as_str().unwrap().to_string(),
        )
    };
    let (m, why) = missing(&format!("{P3}/http-service-echo"));
    assert_eq!(m, "wasi:http/service");
    assert!(
        why.contains("does not declare the world wasi:http/service"),
        "{why}"
    );
    assert_eq!(missing(&format!("{P3}/sockets-echo")).0, "proposal:sockets");
    assert_eq!(missing(&format!("{P3}/cli-env")).0, "env");
    assert_eq!(missing(&format!("{C}/lseek")).0, "root-dir");
    // What it does declare runs (the "runtime" exits 0 at once).
    assert_eq!(v["cases"][format!("{P3}/random")]["outcome"], "pass");
    assert_eq!(v["cases"][format!("{P3}/http-fields")]["outcome"], "pass");
    assert_eq!(v["verdict"]["coverage"]["not_supported"], 4);

    // An adapter without a [wasi_testsuite] section says so.
    let bare = dir.path().join("bare.toml");
    std::fs::write(
        &bare,
        "name = \"bare\"\nprogram = \"/bin/sh\"\nversion_args = [\"-c\", \"echo bare 1\"]\ncommand = [\"{module}\"]\n",
    )
    .unwrap();
    let (o, v) = certify(
        cache.path(),
        &[
            "--adapter",
            bare.to_str().unwrap(),
            "--wasi-testsuite",
            fx.to_str().unwrap(),
            "--filter",
            "assemblyscript",
        ],
    );
    for (id, c) in v["cases"].as_object().unwrap() {
        assert_eq!(c["outcome"], "not-supported", "{id}");
        assert_eq!(c["missing"], "wasm32-wasip1");
        assert!(
            c["why"].as_str().unwrap().contains("no [wasi_testsuite]"),
            "{c}"
        );
    }
    assert_eq!(o.status.code(), Some(0), "not-supported is never a failure");
}

#[test]
fn an_invalid_spec_stops_the_run_as_upstream_s_does() {
    let suite = mini_suite();
    let d = suite.path();
    for (spec, what) in [
        (
            &br#"{"args": [], "operations": []}"#[..],
            "cannot mix configuration styles",
        ),
        (
            br#"{"operations": [{"type": "run"}]}"#,
            "must end with `wait`",
        ),
        (
            br#"{"operations": [{"type": "teleport"}]}"#,
            "unsupported operation type teleport",
        ),
        (br#"{"proposals": ["threads"]}"#, "unknown proposal"),
    ] {
        write(d, "bad.wasm", &printer("", 0));
        write(d, "bad.json", spec);
        let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
            .args(["certify", "--wasi-testsuite"])
            .arg(d)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("bad.json") && stderr.contains(what),
            "{stderr}"
        );
    }
}

#[test]
fn certify_usage_errors_exit_2() {
    for args in [
        &["certify", "--runtime", "no-such-runtime"][..],
        &["certify", "--shard", "3/2"],
        &["certify", "--filter", "("],
        &["certify", "--suite", "/nonexistent/suite"],
        &["certify", "--adapter", "/nonexistent/adapter.toml"],
        &["certify", "--wasi-testsuite", "/nonexistent/suite"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
}
