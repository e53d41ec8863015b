//! What a runtime adapter does: run one prepared case and say what happened, as raw facts.
//! Judging (Pass/Fail/Escaped...) is the runner's job, the same for every runtime.

use crate::case::Case;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the guest ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Exit status (`proc_exit(n)` or 0 after `_start` returned).
    Exited(i32),
    /// The guest trapped (or the runtime reported an execution error).
    Trapped(String),
    /// The module was refused before running (link/instantiation failure).
    Refused(String),
    /// The runtime process died on a signal the runner did not send.
    Signaled(i32),
    /// The runner's wall-clock deadline expired and it killed the runtime.
    TimedOut,
    /// The runtime went past the runner's resident-memory cap and was killed.
    MemoryCap(u64),
}

#[derive(Debug, Clone)]
pub struct RawRun {
    pub end: End,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub duration: Duration,
    /// The command line used (CLI adapters), for the report's evidence.
    pub command: Vec<String>,
}

/// A case ready to run: its work dir and compiled module.
pub struct Prepared<'a> {
    pub case: &'a Case,
    pub work: &'a Path,
    pub wasm_path: PathBuf,
    pub wasm: &'a [u8],
    /// The runtime process's environment secret (CLI adapters put it in the environment).
    pub env_secret: &'a str,
    /// The runtime's own deadline (the runner kills at 2x + 1 s).
    pub timeout: Duration,
}

impl Prepared<'_> {
    /// The guest arguments with `{work}` expanded to the absolute work dir (cases use it to
    /// hand the guest a host path it must not be able to open).
    pub fn args(&self) -> Vec<String> {
        let work = self.work.to_string_lossy();
        self.case
            .spec
            .run
            .args
            .iter()
            .map(|a| a.replace("{work}", &work))
            .collect()
    }
}

/// Identity of a runtime for the report.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub version: String,
    pub binary_sha256: String,
    pub adapter: String,
    pub flags: Vec<String>,
}

pub trait Runtime: Send + Sync {
    fn identity(&self) -> &Identity;
    /// Whether the runtime can express a control named in a case's `requires`.
    fn supports(&self, feature: &str) -> bool;
    fn run(&self, p: &Prepared<'_>) -> anyhow::Result<RawRun>;
}

/// Output kept per stream; the rest is read and dropped so a flooding guest cannot exhaust
/// memory or block on a full pipe.
pub const OUTPUT_CAP: usize = 1 << 20;
