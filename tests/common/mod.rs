//! Helpers shared by the integration tests: where the repository is, the binary under test,
//! the one rule for tools a test needs but the machine may lack, and the registries
//! (`registry`: a real one on loopback; `fake_registry`: a scripted, hostile one).
// Every test binary compiles this module and uses a part of it.
#![allow(dead_code)]

pub mod fake_registry;
pub mod registry;
pub mod webhook;

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The repository root: fixtures, suites, docs and the installed tools (`.ci/tools/`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `wasmcert` binary under test, run from the repository root with stdin closed (no test
/// answers a prompt; one that feeds stdin sets its own).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wasmcert"));
    c.stdin(Stdio::null()).current_dir(root());
    c
}

/// A tool a test needs is not installed. In CI, where the install scripts ran, that fails the
/// test; elsewhere the test is skipped with a message naming the script that installs it.
/// Returns `None`, for `let Some(tool) = ... else { return }`.
pub fn not_installed<T>(what: &str, install: &str) -> Option<T> {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} missing in CI: run {install}"
    );
    eprintln!("skipping: {what} not installed (run {install})");
    None
}
