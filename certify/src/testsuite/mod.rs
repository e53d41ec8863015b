//! The WASI testsuite format (github WebAssembly/wasi-testsuite), read exactly as upstream's
//! reference runner reads it (`test-runner/wasi_test_runner/test_case.py` and
//! `test_suite_runner.py` on upstream `main`; docs/wasi-testsuite.md cites the lines):
//!
//! - a suite is a directory with an optional `manifest.json` (`name`, `version`) and every
//!   `NAME.wasm` in it, each with an optional spec `NAME.json`;
//! - a spec is *legacy* (`args`, `env`, `root`, `exit_code`, `stdout`, `stderr`), turned into
//!   the operations `run`, `read`, `wait`, or *operation style* (`operations`, `proposals`,
//!   `world`, `servers`); without a spec the test is `run` then `wait` for exit status 0;
//! - `root` is a directory next to the spec, preopened as the guest's `/`; every test gets a
//!   fresh copy of it (upstream's CI copies the fixtures per test too).
//!
//! Everything here comes from a directory the certifying party may not control: file sizes,
//! counts, nesting and every path are bounded or checked before anything is read, and nothing
//! is read from outside the suite's directory (a symlink that leads out is refused).
//!
//! The model is here; `spec.rs` parses and validates a spec as upstream does, `load.rs` finds
//! suites and reads their tests and fixtures. [`run`] executes a loaded test against a
//! runtime; [`http`] holds the HTTP client and the endpoint servers the operations need.

pub mod http;
mod load;
pub mod run;
mod spec;

pub use load::load_wasi_testsuite;
pub use spec::parse_testsuite_spec;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Spec files larger than this are refused: real ones are a few hundred bytes, and a hostile
/// testsuite directory must not make the loader read a disk image.
pub const MAX_SPEC_BYTES: u64 = 1 << 20;
/// `manifest.json` is two short strings.
const MAX_MANIFEST_BYTES: u64 = 64 << 10;
/// Items per spec: arguments, variables, operations, servers, endpoints, headers, chunks
/// (real specs have a few dozen).
const MAX_SPEC_ITEMS: usize = 4096;
/// Tests per loaded directory (upstream has 127 in all) and suites found below it.
const MAX_TESTS: usize = 10_000;
const MAX_SUITES: usize = 1_000;
/// How deep and how wide suite discovery looks below the directory given.
const MAX_DISCOVERY_DEPTH: usize = 8;
const MAX_DISCOVERY_DIRS: usize = 10_000;
/// A test module larger than this is refused (upstream's largest is 3.2 MB).
pub const MAX_WASM_BYTES: u64 = 256 << 20;
/// Fixture bounds: entries per fixture dir, bytes per file, bytes kept in memory for the whole
/// load (fixtures are snapshotted once and planted per test), nesting. Upstream's fixtures are
/// a handful of files of a few bytes.
const MAX_FIXTURE_ENTRIES: usize = 10_000;
const MAX_FIXTURE_FILE: u64 = 16 << 20;
const MAX_FIXTURE_TOTAL: u64 = 64 << 20;
const MAX_FIXTURE_DEPTH: usize = 32;
/// Default cases at once per core (`certify --jobs`): a test mostly waits on its runtime (a
/// service's graceful shutdown takes a second of `wasmtime serve`'s time, not the CPU's).
pub const JOBS_PER_CORE: usize = 4;
/// The runner's own bound on a whole test (upstream's reads and socket operations have none).
pub const TEST_DEADLINE_MS: u64 = 30_000;

/// Defines a closed vocabulary of upstream strings, once.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// Upstream's spelling.
            pub fn label(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.label() == s)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

vocabulary!(
    /// The WASI version a suite targets (`manifest.json` `version`).
    WasiVersion { P1 = "wasm32-wasip1", P2 = "wasm32-wasip2", P3 = "wasm32-wasip3" }
);
vocabulary!(
    /// The world a test's component targets (`world`).
    World { CliCommand = "wasi:cli/command", HttpService = "wasi:http/service" }
);
vocabulary!(
    /// A WASI proposal a test needs enabled (`proposals`).
    Proposal { Http = "http", Sockets = "sockets" }
);

/// Python's `signal.Signals` members on Linux, the names a `kill` may use.
const SIGNALS: &[(&str, i32)] = &[
    ("SIGABRT", libc::SIGABRT),
    ("SIGALRM", libc::SIGALRM),
    ("SIGBUS", libc::SIGBUS),
    ("SIGCHLD", libc::SIGCHLD),
    ("SIGCLD", libc::SIGCHLD),
    ("SIGCONT", libc::SIGCONT),
    ("SIGFPE", libc::SIGFPE),
    ("SIGHUP", libc::SIGHUP),
    ("SIGILL", libc::SIGILL),
    ("SIGINT", libc::SIGINT),
    ("SIGIO", libc::SIGIO),
    ("SIGIOT", libc::SIGABRT),
    ("SIGKILL", libc::SIGKILL),
    ("SIGPIPE", libc::SIGPIPE),
    ("SIGPOLL", libc::SIGIO),
    ("SIGPROF", libc::SIGPROF),
    ("SIGPWR", libc::SIGPWR),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGRTMAX", 64),
    ("SIGRTMIN", 34),
    ("SIGSEGV", libc::SIGSEGV),
    ("SIGSTKFLT", libc::SIGSTKFLT),
    ("SIGSTOP", libc::SIGSTOP),
    ("SIGSYS", libc::SIGSYS),
    ("SIGTERM", libc::SIGTERM),
    ("SIGTRAP", libc::SIGTRAP),
    ("SIGTSTP", libc::SIGTSTP),
    ("SIGTTIN", libc::SIGTTIN),
    ("SIGTTOU", libc::SIGTTOU),
    ("SIGURG", libc::SIGURG),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGVTALRM", libc::SIGVTALRM),
    ("SIGWINCH", libc::SIGWINCH),
    ("SIGXCPU", libc::SIGXCPU),
    ("SIGXFSZ", libc::SIGXFSZ),
];

/// A signal a `kill` operation sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub name: String,
    pub number: i32,
}

/// `run`: start the guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunOp {
    pub args: Vec<String>,
    /// In the spec's order (upstream passes them in that order).
    pub env: Vec<(String, String)>,
    /// A directory relative to the spec's, preopened as the guest's `/`.
    pub root: Option<String>,
}

/// The response a `request` expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedResponse {
    pub status: i64,
    /// A subset: names compared case-insensitively, values exactly.
    pub headers: Vec<(String, String)>,
    /// The whole body, exactly (upstream's default is the empty body).
    pub body: String,
}

/// `request`: an HTTP request to the guest's service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOp {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub response: ExpectedResponse,
}

/// One operation of a test, in upstream's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Run(RunOp),
    /// Wait for the guest to end and compare its exit status.
    Wait {
        exit_code: i64,
    },
    /// Read `payload`'s length in characters from `id` (`stdout`/`stderr`) and compare.
    Read {
        id: String,
        payload: String,
    },
    /// Write `payload` to `id` (`stdin`).
    Write {
        id: String,
        payload: String,
    },
    /// Read `HOST:PORT` from the guest's stdout and connect to it (TCP).
    Connect {
        id: String,
    },
    Send {
        id: String,
        payload: String,
    },
    Recv {
        id: String,
        payload: String,
    },
    Request(RequestOp),
    Kill {
        signal: Signal,
    },
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Run(_) => "run",
            Op::Wait { .. } => "wait",
            Op::Read { .. } => "read",
            Op::Write { .. } => "write",
            Op::Connect { .. } => "connect",
            Op::Send { .. } => "send",
            Op::Recv { .. } => "recv",
            Op::Request(_) => "request",
            Op::Kill { .. } => "kill",
        }
    }
}

/// How an endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointMode {
    Static,
    EchoBody,
    EchoHeaders,
}

/// A `static` endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Chunked transfer encoding, one chunk each.
    pub chunks: Option<Vec<String>>,
    pub trailers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Upper case.
    pub method: String,
    /// The raw request target, query included, matched exactly.
    pub path: String,
    pub mode: EndpointMode,
    pub response: Option<EndpointResponse>,
}

/// An HTTP server the runner stands up for the guest's outbound requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    /// `closed`: an address nothing listens on.
    pub closed: bool,
    pub endpoints: Vec<Endpoint>,
}

impl Server {
    /// The variable the guest finds the server's `127.0.0.1:PORT` in.
    pub fn env_var(&self) -> String {
        format!("HTTP_SERVER_{}", self.name.to_uppercase())
    }
}

/// Which of upstream's forms a spec is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No `NAME.json`: `run`, then `wait` for 0.
    Default,
    Legacy,
    Operations,
}

/// A parsed, validated test spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSpec {
    pub style: Style,
    pub operations: Vec<Op>,
    pub proposals: Vec<Proposal>,
    pub world: World,
    pub servers: Vec<Server>,
    /// `debug`: the runtime process gets `DEBUG=true` (not the guest).
    pub debug: bool,
    /// Keys upstream ignores with a warning.
    pub ignored_keys: Vec<String>,
    /// Every `root` the runs name, relative to the spec's directory (checked: relative, no
    /// `..`).
    pub fixture_dirs: Vec<String>,
    /// Every variable the runs grant (checked: non-empty names without `=` or NUL).
    pub env: BTreeMap<String, String>,
}

impl Default for TestSpec {
    fn default() -> Self {
        TestSpec {
            style: Style::Default,
            operations: vec![Op::Run(RunOp::default()), Op::Wait { exit_code: 0 }],
            proposals: Vec::new(),
            world: World::CliCommand,
            servers: Vec::new(),
            debug: false,
            ignored_keys: Vec::new(),
            fixture_dirs: Vec::new(),
            env: BTreeMap::new(),
        }
    }
}

/// What a runtime must be able to express to run a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    pub version: WasiVersion,
    pub world: World,
    pub proposals: Vec<Proposal>,
    /// A run preopens a `root`.
    pub root: bool,
    /// A run grants variables (or the test has servers, whose addresses are variables).
    pub env: bool,
    /// A run passes arguments.
    pub args: bool,
    /// The test writes to stdin.
    pub stdin: bool,
}

impl TestSpec {
    pub fn needs(&self, version: WasiVersion) -> Needs {
        let runs = || {
            self.operations.iter().filter_map(|o| match o {
                Op::Run(r) => Some(r),
                _ => None,
            })
        };
        let mut proposals = self.proposals.clone();
        proposals.sort();
        proposals.dedup();
        Needs {
            version,
            world: self.world,
            proposals,
            root: runs().any(|r| r.root.is_some()),
            env: runs().any(|r| !r.env.is_empty()) || !self.servers.is_empty(),
            args: runs().any(|r| !r.args.is_empty()),
            stdin: self
                .operations
                .iter()
                .any(|o| matches!(o, Op::Write { .. })),
        }
    }
}

/// A fixture directory, snapshotted once at load and planted fresh for every test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fixture {
    /// Entries relative to the fixture dir, parents before children.
    Dir(Vec<(String, FixtureEntry)>),
    /// Nothing (or not a directory) at that path: the runtime is handed a path that does not
    /// exist, as upstream hands it the path it computed.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixtureEntry {
    Dir,
    File(Arc<[u8]>),
    /// Copied as a symlink with the same target, never followed.
    Symlink(PathBuf),
}

/// One test of a WASI testsuite directory, loaded.
#[derive(Debug, Clone)]
pub struct Test {
    pub name: String,
    /// The suite's manifest name (upstream's expectation files key on it).
    pub suite: String,
    pub version: WasiVersion,
    pub spec: TestSpec,
    /// The fixture of each `root` the runs name, by its relative path.
    pub fixtures: BTreeMap<String, Arc<Fixture>>,
    /// The module, resolved (inside the testsuite directory).
    pub module: PathBuf,
}
