//! `wasmcert certify --wasi-testsuite DIR` runs a directory in the WASI testsuite format
//! unchanged: `manifest.json`, `NAME.wasm`, optional `NAME.json` (args, env, dirs, exit_code,
//! stdout/stderr compared as prefixes; a missing spec means exit 0).

use std::path::Path;
use std::process::Command;

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

/// Open `fs-tests.dir/file.txt` under the first preopen and print it.
fn reader() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 100) "file.txt")
            (func (export "_start")
              (if (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 8) (i32.const 0)
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

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn runs_a_wasi_testsuite_directory_unchanged() {
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
    write(d, "reads-dir.wasm", &reader());
    write(
        d,
        "reads-dir.json",
        br#"{"dirs": ["fs-tests.dir"], "stdout": "fixture contents"}"#,
    );
    std::fs::create_dir(d.join("fs-tests.dir")).unwrap();
    write(&d.join("fs-tests.dir"), "file.txt", b"fixture contents\n");
    write(d, "ops.wasm", &printer("", 0));
    write(d, "ops.json", br#"{"operations": [{"type": "run"}]}"#);

    let o = Command::new(env!("CARGO_BIN_EXE_wasmcert"))
        .args(["certify", "--format", "json", "--wasi-testsuite"])
        .arg(d)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let outcome = |id: &str| {
        v["cases"][format!("mini-wasi-tests/{id}")]["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(outcome("hello"), "pass");
    assert_eq!(outcome("exit-three"), "pass");
    assert_eq!(
        outcome("no-spec-fails"),
        "fail",
        "a missing spec means exit 0"
    );
    assert_eq!(outcome("wrong-prefix"), "fail");
    assert_eq!(
        outcome("reads-dir"),
        "pass",
        "{}",
        v["cases"]["mini-wasi-tests/reads-dir"]
    );
    assert_eq!(outcome("ops"), "not-supported");
    assert_eq!(v["suite"]["name"], "Mini WASI tests");
    assert_eq!(o.status.code(), Some(1), "failures make the run exit 1");
    // The fixture dir is copied into the work dir, never modified in place.
    assert_eq!(
        std::fs::read(d.join("fs-tests.dir/file.txt")).unwrap(),
        b"fixture contents\n"
    );
}

#[test]
fn certify_usage_errors_exit_2() {
    for args in [
        &["certify", "--runtime", "no-such-runtime"][..],
        &["certify", "--shard", "3/2"],
        &["certify", "--filter", "("],
        &["certify", "--suite", "/nonexistent/suite"],
        &["certify", "--adapter", "/nonexistent/adapter.toml"],
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
