//! What a runtime adapter does: run one prepared case and say what happened, as raw facts.
//! Judging (Pass/Fail/Escaped...) is the runner's job, the same for every runtime.

use crate::case::Case;
use crate::stream::Pipe;
use crate::testsuite::{Needs, Proposal, WasiVersion, World};
use crate::world::WasiWorld;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// `P2`: `wasm` is a `wasi:cli/command` component made from the case's module.
    pub world: WasiWorld,
    /// The ports of the runner's network canaries (TCP, UDP), when the case has them.
    pub canary: Option<(u16, u16)>,
}

impl Prepared<'_> {
    /// The guest arguments with `{work}` expanded to the absolute work dir (cases use it to
    /// hand the guest a host path it must not be able to open), and `{canary_tcp_port}`,
    /// `{canary_udp_port}` to the ports of the runner's canaries.
    pub fn args(&self) -> Vec<String> {
        let work = self.work.to_string_lossy();
        let (tcp, udp) = self.canary.unwrap_or_default();
        self.case
            .spec
            .run
            .args
            .iter()
            .map(|a| {
                a.replace("{work}", &work)
                    .replace("{canary_tcp_port}", &tcp.to_string())
                    .replace("{canary_udp_port}", &udp.to_string())
            })
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
    fn run(&self, p: &Prepared<'_>) -> crate::Result<RawRun>;
    /// The worlds [`Runtime::run`] runs cases in (`certify --world`).
    fn worlds(&self) -> &[WasiWorld] {
        &[WasiWorld::P1]
    }
    /// WASI testsuite: what keeps this runtime from running a test that needs `needs`
    /// (`None`: nothing). The first thing missing is named, never a failure.
    fn wasi_missing(&self, needs: &Needs) -> Option<Missing> {
        Some(Missing {
            missing: needs.version.label().into(),
            why: format!(
                "the runtime `{}` does not run WASI testsuite tests",
                self.identity().name
            ),
        })
    }
    /// WASI testsuite: how long a `wait` waits for the guest to end (upstream's adapter
    /// `get_timeout_seconds`: 5 s unless the adapter says otherwise).
    fn wasi_wait_timeout(&self) -> Duration {
        Duration::from_secs(5)
    }
    /// WASI testsuite: start the guest for a `run` operation, with its streams open.
    fn spawn(&self, s: &Spawn<'_>) -> crate::Result<Box<dyn Session>> {
        let _ = s;
        Err(crate::Error::Unsupported(format!(
            "the runtime `{}` does not run WASI testsuite tests",
            self.identity().name
        )))
    }
}

/// What a runtime lacks for a test: a WASI version, a world, a proposal or a control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// `wasm32-wasip3`, `wasi:http/service`, `proposal:http`, `root-dir`, `env`, `args`, `stdin`.
    pub missing: String,
    pub why: String,
}

/// One `run` of a WASI testsuite test, ready to start.
pub struct Spawn<'a> {
    pub work: &'a Path,
    /// The module, `<work>/bin/<test name>.wasm`: a symlink to the suite's file (checked at
    /// load to lie inside the testsuite directory).
    pub module: &'a Path,
    pub version: WasiVersion,
    pub world: World,
    pub proposals: &'a [Proposal],
    pub args: &'a [String],
    /// The spec's variables in its order, then the servers' addresses.
    pub env: &'a [(String, String)],
    /// The fresh copy of the fixture to preopen as the guest's `/`.
    pub root: Option<&'a Path>,
    /// `debug`: `DEBUG=true` in the runtime process's environment.
    pub debug: bool,
    pub env_secret: &'a str,
    /// The runner kills the guest at this instant, whatever it is doing.
    pub deadline: Instant,
}

/// How a testsuite guest ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub end: End,
    /// What upstream's runner compares with `exit_code`: Python's `returncode`, the process's
    /// exit status or minus the signal that ended it. `None` when there is no process status
    /// (the embedded engine's traps and refusals).
    pub returncode: Option<i32>,
}

/// A running testsuite guest: its streams, signals and end.
pub trait Session: Send {
    /// The command line (or a description of the run), for evidence.
    fn command(&self) -> &[String];
    fn stdout(&self) -> Arc<Pipe>;
    fn stderr(&self) -> Arc<Pipe>;
    /// Write to the guest's stdin, within the runner's deadline.
    fn write_stdin(&mut self, data: &[u8]) -> std::io::Result<()>;
    /// End of file on stdin.
    fn close_stdin(&mut self);
    /// Send a signal to the guest (the runtime process, not its group).
    fn signal(&mut self, sig: i32) -> std::io::Result<()>;
    /// Wait at most `timeout` for the guest to end; `None` if it is still running.
    fn wait(&mut self, timeout: Duration) -> Option<Exit>;
    /// End it now (SIGKILL), as upstream's cleanup does with a guest still running.
    fn kill(&mut self);
}

/// Output kept per stream; the rest is read and dropped so a flooding guest cannot exhaust
/// memory or block on a full pipe.
pub const OUTPUT_CAP: usize = 1 << 20;
