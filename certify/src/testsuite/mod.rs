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
//! [`run`] executes a loaded test against a runtime; [`http`] holds the HTTP client and the
//! endpoint servers the operations need.

pub mod http;
pub mod run;

use crate::case::{Case, Expect, Limits, Module, Run as CaseRun, Setup, Spec as CaseSpec};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
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

const LEGACY_KEYS: &[&str] = &["args", "root", "env", "exit_code", "stderr", "stdout"];
const CONFIG_KEYS: &[&str] = &["operations", "proposals", "world", "servers"];

struct Ctx<'a> {
    file: &'a Path,
    items: usize,
}

impl Ctx<'_> {
    fn err(&self, what: impl std::fmt::Display) -> Error {
        Error::suite(self.file, what)
    }

    fn count(&mut self, n: usize) -> Result<()> {
        self.items += n;
        if self.items > MAX_SPEC_ITEMS {
            return Err(self.err(format!(
                "more than {MAX_SPEC_ITEMS} arguments, variables, operations and other items"
            )));
        }
        Ok(())
    }

    /// `obj.get(key, default)` for a string; a present `null` or another type is refused
    /// (upstream would crash or compare against it).
    fn string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        default: &str,
        at: &str,
    ) -> Result<String> {
        match obj.get(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(self.err(format!("{at}`{key}` must be a string, not {}", kind(v)))),
        }
    }

    fn strings(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Result<Vec<String>> {
        match obj.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => {
                self.count(a.len())?;
                a.iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        v => Err(self.err(format!(
                            "{at}`{key}` must be a list of strings, not hold {}",
                            kind(v)
                        ))),
                    })
                    .collect()
            }
            Some(v) => Err(self.err(format!("{at}`{key}` must be a list, not {}", kind(v)))),
        }
    }

    /// A JSON object of strings, in document order.
    fn string_map(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Vec<(String, String)>> {
        match obj.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(m)) => {
                self.count(m.len())?;
                m.iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), s.clone())),
                        v => Err(self.err(format!(
                            "{at}`{key}`: the value of {k:?} must be a string, not {}",
                            kind(v)
                        ))),
                    })
                    .collect()
            }
            Some(v) => Err(self.err(format!("{at}`{key}` must be an object, not {}", kind(v)))),
        }
    }

    fn int(&self, obj: &Map<String, Value>, key: &str, default: i64, at: &str) -> Result<i64> {
        match obj.get(key) {
            None => Ok(default),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or(default)),
            Some(v) => Err(self.err(format!("{at}`{key}` must be an integer, not {}", kind(v)))),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Python's truthiness of a JSON value (upstream's `bool(config.get("debug"))`).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// A header name or value that would break the message framing is refused.
fn check_header(ctx: &Ctx<'_>, at: &str, name: &str, value: &str) -> Result<()> {
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token || value.contains(['\r', '\n', '\0']) {
        return Err(ctx.err(format!(
            "{at}header {name:?}: {value:?} is not a valid header"
        )));
    }
    Ok(())
}

fn parse_run(ctx: &mut Ctx<'_>, obj: &Map<String, Value>, at: &str) -> Result<RunOp> {
    let args = ctx.strings(obj, "args", at)?;
    let env = ctx.string_map(obj, "env", at)?;
    for (k, _) in &env {
        if k.is_empty() || k.contains(['=', '\0']) {
            return Err(ctx.err(format!("{at}environment variable name {k:?} is not valid")));
        }
    }
    let root = match obj.get("root") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => {
            check_relative(ctx, s)?;
            Some(s.clone())
        }
        Some(v) => return Err(ctx.err(format!("{at}`root` must be a string, not {}", kind(v)))),
    };
    Ok(RunOp { args, env, root })
}

/// A fixture path: relative, below the spec's directory, without `..`.
fn check_relative(ctx: &Ctx<'_>, p: &str) -> Result<()> {
    let path = Path::new(p);
    if p.contains('\0')
        || path.is_absolute()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(ctx.err(format!(
            "`root` {p:?} must be a relative path inside the suite directory: refused"
        )));
    }
    Ok(())
}

fn parse_response(ctx: &mut Ctx<'_>, v: Option<&Value>, at: &str) -> Result<ExpectedResponse> {
    let empty = Map::new();
    let obj = match v {
        None => &empty,
        Some(Value::Object(o)) => o,
        Some(v) => {
            return Err(ctx.err(format!("{at}`response` must be an object, not {}", kind(v))));
        }
    };
    Ok(ExpectedResponse {
        status: ctx.int(obj, "status", 200, at)?,
        headers: ctx.string_map(obj, "headers", at)?,
        body: ctx.string(obj, "body", "", at)?,
    })
}

fn parse_op(ctx: &mut Ctx<'_>, i: usize, v: &Value) -> Result<Op> {
    let Value::Object(obj) = v else {
        return Err(ctx.err(format!("operation {i} must be an object, not {}", kind(v))));
    };
    let ty = match obj.get("type") {
        Some(Value::String(s)) => s.as_str(),
        other => {
            return Err(ctx.err(format!(
                "operation {i}: unsupported operation type {}",
                other
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "None".into())
            )));
        }
    };
    let at = format!("operation {i} ({ty}): ");
    let at = at.as_str();
    let id = |ctx: &Ctx<'_>, default: &str| ctx.string(obj, "id", default, at);
    let required_id = |ctx: &Ctx<'_>| match obj.get("id") {
        Some(Value::String(s)) => Ok(s.clone()),
        None => Err(ctx.err(format!("{at}requires an `id`"))),
        Some(v) => Err(ctx.err(format!("{at}`id` must be a string, not {}", kind(v)))),
    };
    Ok(match ty {
        "run" => Op::Run(parse_run(ctx, obj, at)?),
        "wait" => Op::Wait {
            exit_code: ctx.int(obj, "exit_code", 0, at)?,
        },
        "read" => Op::Read {
            id: id(ctx, "stdout")?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "write" => Op::Write {
            id: id(ctx, "write")?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "connect" => {
            let proto = ctx.string(obj, "protocol_type", "tcp", at)?;
            if !matches!(proto.as_str(), "tcp" | "udp" | "http") {
                return Err(ctx.err(format!("{at}unknown protocol_type {proto:?}")));
            }
            if proto != "tcp" {
                // Upstream's validator: only tcp can be connected.
                return Err(ctx.err(format!("{at}protocol_type {proto:?} is not supported")));
            }
            Op::Connect {
                id: id(ctx, "server")?,
            }
        }
        "send" => Op::Send {
            id: required_id(ctx)?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "recv" => Op::Recv {
            id: required_id(ctx)?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "request" => {
            let method = ctx.string(obj, "method", "GET", at)?;
            if method.is_empty()
                || !method
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                return Err(ctx.err(format!("{at}method {method:?} is not an HTTP method token")));
            }
            let path = ctx.string(obj, "path", "/", at)?;
            if path.contains(['\r', '\n', '\0']) {
                return Err(ctx.err(format!("{at}path {path:?} holds a line break")));
            }
            let headers = ctx.string_map(obj, "headers", at)?;
            Op::Request(RequestOp {
                method,
                path,
                headers,
                body: ctx.string(obj, "body", "", at)?,
                response: parse_response(ctx, obj.get("response"), at)?,
            })
        }
        "kill" => {
            let name = ctx.string(obj, "signal", "SIGTERM", at)?;
            let Some((_, number)) = SIGNALS.iter().find(|(n, _)| *n == name) else {
                return Err(ctx.err(format!("{at}unknown signal name {name:?}")));
            };
            Op::Kill {
                signal: Signal {
                    name,
                    number: *number,
                },
            }
        }
        other => return Err(ctx.err(format!("operation {i}: unsupported operation type {other}"))),
    })
}

fn parse_endpoint(ctx: &mut Ctx<'_>, v: &Value, at: &str) -> Result<Endpoint> {
    let Value::Object(obj) = v else {
        return Err(ctx.err(format!(
            "{at}an endpoint must be an object, not {}",
            kind(v)
        )));
    };
    let method = ctx.string(obj, "method", "GET", at)?.to_uppercase();
    if !["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"].contains(&method.as_str()) {
        return Err(ctx.err(format!("{at}unknown endpoint method {method:?}")));
    }
    let path = ctx.string(obj, "path", "/", at)?;
    let mode = match ctx.string(obj, "mode", "static", at)?.as_str() {
        "static" => EndpointMode::Static,
        "echo-body" => EndpointMode::EchoBody,
        "echo-headers" => EndpointMode::EchoHeaders,
        m => return Err(ctx.err(format!("{at}unknown endpoint mode {m:?}"))),
    };
    if mode != EndpointMode::Static {
        if obj.contains_key("response") {
            return Err(ctx.err(format!(
                "{at}an endpoint in an echo mode takes no `response`"
            )));
        }
        return Ok(Endpoint {
            method,
            path,
            mode,
            response: None,
        });
    }
    let response = match obj.get("response") {
        None => EndpointResponse {
            status: 200,
            headers: Vec::new(),
            body: String::new(),
            chunks: None,
            trailers: Vec::new(),
        },
        Some(Value::String(body)) => EndpointResponse {
            status: 200,
            headers: Vec::new(),
            body: body.clone(),
            chunks: None,
            trailers: Vec::new(),
        },
        Some(Value::Object(r)) => {
            let status = ctx.int(r, "status", 200, at)?;
            let status = u16::try_from(status)
                .ok()
                .filter(|s| (100..=999).contains(s))
                .ok_or_else(|| ctx.err(format!("{at}status {status} is not an HTTP status")))?;
            let headers = ctx.string_map(r, "headers", at)?;
            let body = ctx.string(r, "body", "", at)?;
            let chunks = match r.get("chunks") {
                None | Some(Value::Null) => None,
                Some(_) => {
                    if r.contains_key("body") {
                        return Err(
                            ctx.err(format!("{at}a response takes `body` or `chunks`, not both"))
                        );
                    }
                    Some(ctx.strings(r, "chunks", at)?)
                }
            };
            let trailers = ctx.string_map(r, "trailers", at)?;
            if !trailers.is_empty() && chunks.is_none() {
                return Err(ctx.err(format!("{at}`trailers` need `chunks`")));
            }
            for (k, v) in headers.iter().chain(&trailers) {
                check_header(ctx, at, k, v)?;
            }
            EndpointResponse {
                status,
                headers,
                body,
                chunks,
                trailers,
            }
        }
        Some(v) => {
            return Err(ctx.err(format!(
                "{at}an endpoint's `response` must be a string or an object, not {}",
                kind(v)
            )));
        }
    };
    Ok(Endpoint {
        method,
        path,
        mode,
        response: Some(response),
    })
}

fn parse_server(ctx: &mut Ctx<'_>, i: usize, v: &Value) -> Result<Server> {
    let Value::Object(obj) = v else {
        return Err(ctx.err(format!("server {i} must be an object, not {}", kind(v))));
    };
    let at = format!("server {i}: ");
    let at = at.as_str();
    let name = match obj.get("name") {
        Some(Value::String(s))
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            s.clone()
        }
        _ => {
            return Err(ctx.err(format!(
                "{at}`name` must be a non-empty string of [A-Za-z0-9_]"
            )));
        }
    };
    let closed = match ctx.string(obj, "kind", "listening", at)?.as_str() {
        "listening" => false,
        "closed" => true,
        k => return Err(ctx.err(format!("{at}unknown server kind {k:?}"))),
    };
    if closed {
        if obj.contains_key("endpoints") {
            return Err(ctx.err(format!(
                "{at}a server of kind `closed` takes no `endpoints`"
            )));
        }
        return Ok(Server {
            name,
            closed,
            endpoints: Vec::new(),
        });
    }
    let endpoints = match obj.get("endpoints") {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            ctx.count(a.len())?;
            a.iter()
                .map(|e| parse_endpoint(ctx, e, at))
                .collect::<Result<_>>()?
        }
        Some(v) => return Err(ctx.err(format!("{at}`endpoints` must be a list, not {}", kind(v)))),
    };
    Ok(Server {
        name,
        closed,
        endpoints,
    })
}

/// Parse and validate the text of a spec (`NAME.json`) as upstream's `Config.from_file` and
/// `TestCaseValidator` do. `file` names it in errors. Pure (no filesystem): the loader and the
/// `wasi_testsuite_spec` fuzz target use it.
pub fn parse_testsuite_spec(text: &str, file: &Path) -> Result<TestSpec> {
    if text.len() as u64 > MAX_SPEC_BYTES {
        return Err(Error::suite(
            file,
            format!(
                "{} bytes, larger than the {MAX_SPEC_BYTES}-byte bound for a test spec",
                text.len()
            ),
        ));
    }
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::suite(file, format!("invalid test spec: {e}")))?;
    let mut ctx = Ctx { file, items: 0 };
    let Value::Object(obj) = &v else {
        return Err(ctx.err(format!("a test spec must be an object, not {}", kind(&v))));
    };
    let present = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    let op_style = present("operations") || present("proposals") || present("servers");
    let has = |keys: &[&str]| obj.keys().any(|k| keys.contains(&k.as_str()));
    if has(CONFIG_KEYS) && has(LEGACY_KEYS) {
        return Err(
            ctx.err("cannot mix configuration styles (legacy keys and operation-style keys)")
        );
    }
    let expected = if op_style { CONFIG_KEYS } else { LEGACY_KEYS };
    let ignored_keys: Vec<String> = obj
        .keys()
        .filter(|k| !expected.contains(&k.as_str()))
        .cloned()
        .collect();
    let mut spec = if op_style {
        let operations = match obj.get("operations") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                ctx.count(a.len())?;
                a.iter()
                    .enumerate()
                    .map(|(i, o)| parse_op(&mut ctx, i, o))
                    .collect::<Result<_>>()?
            }
            Some(v) => return Err(ctx.err(format!("`operations` must be a list, not {}", kind(v)))),
        };
        let proposals = match obj.get("proposals") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                ctx.count(a.len())?;
                a.iter()
                    .map(|p| {
                        p.as_str()
                            .and_then(Proposal::parse)
                            .ok_or_else(|| ctx.err(format!("unknown proposal {p}")))
                    })
                    .collect::<Result<_>>()?
            }
            Some(v) => return Err(ctx.err(format!("`proposals` must be a list, not {}", kind(v)))),
        };
        let servers: Vec<Server> = match obj.get("servers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                ctx.count(a.len())?;
                a.iter()
                    .enumerate()
                    .map(|(i, s)| parse_server(&mut ctx, i, s))
                    .collect::<Result<_>>()?
            }
            Some(v) => return Err(ctx.err(format!("`servers` must be a list, not {}", kind(v)))),
        };
        let mut names: Vec<String> = servers.iter().map(|s| s.name.to_uppercase()).collect();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ctx.err(format!("duplicate server name {}", w[0])));
        }
        let world = match obj.get("world") {
            None => World::CliCommand,
            Some(w) => w
                .as_str()
                .and_then(World::parse)
                .ok_or_else(|| ctx.err(format!("unknown WASI world {w}")))?,
        };
        TestSpec {
            style: Style::Operations,
            operations,
            proposals,
            world,
            servers,
            debug: truthy(obj.get("debug")),
            ignored_keys,
            fixture_dirs: Vec::new(),
            env: BTreeMap::new(),
        }
    } else {
        let run = parse_run(&mut ctx, obj, "")?;
        let mut operations = vec![Op::Run(run)];
        for id in ["stdout", "stderr"] {
            match obj.get(id) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => operations.push(Op::Read {
                    id: id.into(),
                    payload: s.clone(),
                }),
                Some(v) => return Err(ctx.err(format!("`{id}` must be a string, not {}", kind(v)))),
            }
        }
        operations.push(Op::Wait {
            exit_code: ctx.int(obj, "exit_code", 0, "")?,
        });
        TestSpec {
            style: Style::Legacy,
            operations,
            proposals: Vec::new(),
            world: World::CliCommand,
            servers: Vec::new(),
            debug: false,
            ignored_keys,
            fixture_dirs: Vec::new(),
            env: BTreeMap::new(),
        }
    };
    for op in &spec.operations {
        if let Op::Run(r) = op {
            if let Some(root) = &r.root
                && !spec.fixture_dirs.contains(root)
            {
                spec.fixture_dirs.push(root.clone());
            }
            spec.env.extend(r.env.iter().cloned());
        }
    }
    validate(&spec).map_err(|e| ctx.err(e))?;
    Ok(spec)
}

/// Upstream's `TestCaseValidator`: a dry run that checks every operation has what it needs (a
/// running guest, a stream of the right kind) and that the spec ends with no guest running.
fn validate(spec: &TestSpec) -> Result<()> {
    #[derive(PartialEq, Clone, Copy, Debug)]
    enum Kind {
        Readable,
        Writable,
        Socket,
    }
    let mut running = false;
    let mut streams: BTreeMap<String, Kind> = BTreeMap::new();
    let stream =
        |streams: &BTreeMap<String, Kind>, i: usize, op: &str, id: &str, want: Kind| match streams
            .get(id)
        {
            None => Err(Error::Rule(format!(
                "operation {i} ({op}): no such stream: {id}"
            ))),
            Some(k) if *k != want => Err(Error::Rule(format!(
                "operation {i} ({op}): expected a {want:?} stream, but `{id}` is {k:?}"
            ))),
            Some(_) => Ok(()),
        };
    for (i, op) in spec.operations.iter().enumerate() {
        let name = op.name();
        if !matches!(op, Op::Run(_)) && !running {
            return Err(Error::Rule(format!(
                "operation {i} ({name}): no process running"
            )));
        }
        match op {
            Op::Run(_) => {
                if running {
                    return Err(Error::Rule(format!(
                        "operation {i} (run): process still running"
                    )));
                }
                for (id, k) in [
                    ("stdin", Kind::Writable),
                    ("stdout", Kind::Readable),
                    ("stderr", Kind::Readable),
                ] {
                    if streams.insert(id.into(), k).is_some() {
                        return Err(Error::Rule(format!(
                            "operation {i} (run): stream exists: {id}"
                        )));
                    }
                }
                running = true;
            }
            Op::Write { id, .. } => stream(&streams, i, name, id, Kind::Writable)?,
            Op::Read { id, .. } => stream(&streams, i, name, id, Kind::Readable)?,
            Op::Connect { id } => {
                if streams.insert(id.clone(), Kind::Socket).is_some() {
                    return Err(Error::Rule(format!(
                        "operation {i} (connect): stream exists: {id}"
                    )));
                }
            }
            Op::Send { id, .. } | Op::Recv { id, .. } => {
                stream(&streams, i, name, id, Kind::Socket)?
            }
            Op::Wait { .. } => {
                running = false;
                streams.clear();
            }
            Op::Request(_) | Op::Kill { .. } => {}
        }
    }
    if running || !streams.is_empty() {
        return Err(Error::Rule(
            "the operations must end with `wait` (a process is still running)".into(),
        ));
    }
    Ok(())
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

/// `manifest.json`, or upstream's defaults without one.
fn read_manifest(dir: &Path, canon: &Path) -> Result<(String, WasiVersion)> {
    let dir_name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let (mut name, mut version) = match dir_name.as_deref().and_then(WasiVersion::parse) {
        Some(v) => (
            dir.parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            v,
        ),
        None => (dir.display().to_string(), WasiVersion::P1),
    };
    let path = dir.join("manifest.json");
    let Some(text) = read_file(canon, &path, MAX_MANIFEST_BYTES)? else {
        return Ok((name, version));
    };
    let v: Value = serde_json::from_slice(&text).map_err(Error::invalid::<serde_json::Error>(
        format!("{}: invalid JSON", path.display()),
    ))?;
    let Value::Object(obj) = v else {
        return Err(Error::suite(&path, "a manifest must be an object"));
    };
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("name", Value::String(s)) => name = s,
            ("version", Value::String(s)) if WasiVersion::parse(&s).is_some() => {
                version = WasiVersion::parse(&s).unwrap_or(version)
            }
            ("name" | "version", v) => {
                return Err(Error::suite(&path, format!("invalid `{k}`: {v}")));
            }
            (k, v) => {
                return Err(Error::suite(
                    &path,
                    format!("unexpected manifest option: {k}={v}"),
                ));
            }
        }
    }
    Ok((name, version))
}

/// Read a file of the suite: it must be a regular file (through symlinks that stay inside the
/// directory given, `canon`) of at most `max` bytes. `None` when it does not exist.
fn read_file(canon: &Path, path: &Path, max: u64) -> Result<Option<Vec<u8>>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", path)(e)),
    };
    if meta.file_type().is_symlink() {
        inside(canon, path)?;
    }
    let meta = std::fs::metadata(path).map_err(Error::io("reading", path))?;
    if !meta.is_file() {
        return Err(Error::suite(path, "not a regular file"));
    }
    if meta.len() > max {
        return Err(Error::suite(
            path,
            format!("{} bytes, larger than the {max}-byte bound", meta.len()),
        ));
    }
    let mut buf = Vec::new();
    use std::io::Read;
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut buf))
        .map_err(Error::io("reading", path))?;
    if buf.len() as u64 > max {
        return Err(Error::suite(
            path,
            format!("larger than the {max}-byte bound"),
        ));
    }
    Ok(Some(buf))
}

/// The canonical form of `path`, which must lie inside `canon` (the directory given to the
/// loader): a path that is, or passes through, a symlink leading out of it is refused.
fn inside(canon: &Path, path: &Path) -> Result<PathBuf> {
    let real = std::fs::canonicalize(path).map_err(Error::io("resolving", path))?;
    if !real.starts_with(canon) {
        return Err(outside(path, &real));
    }
    Ok(real)
}

/// A path that leads out of the directory given to the loader.
fn outside(path: &Path, real: &Path) -> Error {
    Error::Rule(format!(
        "{} leads outside the testsuite directory (to {}): refused",
        path.display(),
        real.display()
    ))
}

/// A fixture that breaks a rule or a bound.
fn fixture(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Fixture {
        dir: path.to_path_buf(),
        why: why.to_string(),
    }
}

/// Snapshot a fixture dir: every entry, bounded; symlinks recorded, never followed.
fn snapshot_fixture(canon: &Path, dir: &Path, rel: &str, total: &mut u64) -> Result<Fixture> {
    let path = dir.join(rel);
    // The fixture dir itself, or a directory on the way to it, may be a link inside the
    // testsuite directory; one leading outside is refused, whatever it points at, and whether
    // or not what it names exists.
    let mut at = dir.to_path_buf();
    for c in Path::new(rel).components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let real = match std::fs::canonicalize(&at) {
                    Ok(real) => real,
                    // A dangling link: where it points still decides.
                    Err(_) => {
                        let target = std::fs::read_link(&at).map_err(Error::io("reading", &at))?;
                        let base = at
                            .parent()
                            .and_then(|p| std::fs::canonicalize(p).ok())
                            .unwrap_or_default();
                        lexical(&base, &target)
                    }
                };
                if !real.starts_with(canon) {
                    return Err(outside(&at, &real));
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Fixture::Missing),
        Err(e) => return Err(Error::io("fixture", &path)(e)),
    };
    let real = inside(canon, &path)?;
    if !meta.is_dir() && !std::fs::metadata(&real).is_ok_and(|m| m.is_dir()) {
        return Ok(Fixture::Missing);
    }
    let mut entries = Vec::new();
    let mut stack = vec![(real.clone(), String::new(), 0usize)];
    while let Some((d, r, depth)) = stack.pop() {
        if depth > MAX_FIXTURE_DEPTH {
            return Err(fixture(
                &path,
                format!("nests deeper than {MAX_FIXTURE_DEPTH} levels"),
            ));
        }
        let mut children = Vec::new();
        for e in std::fs::read_dir(&d).map_err(Error::io("reading", &d))? {
            let e = e.map_err(Error::io("reading", &d))?;
            children.push(e);
            if entries.len() + children.len() > MAX_FIXTURE_ENTRIES {
                return Err(fixture(
                    &path,
                    format!("more than {MAX_FIXTURE_ENTRIES} entries"),
                ));
            }
        }
        children.sort_by_key(|e| e.file_name());
        for e in children {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                return Err(fixture(&d, "a file name is not UTF-8"));
            };
            let r = if r.is_empty() {
                name.to_string()
            } else {
                format!("{r}/{name}")
            };
            let ft = e.file_type().map_err(Error::io("reading", e.path()))?;
            if ft.is_symlink() {
                let t = std::fs::read_link(e.path()).map_err(Error::io("reading", e.path()))?;
                if !link_stays_inside(&r, &t) {
                    return Err(fixture(
                        &path,
                        format!(
                            "the symlink {r} points outside the fixture ({}): refused",
                            t.display()
                        ),
                    ));
                }
                entries.push((r, FixtureEntry::Symlink(t)));
            } else if ft.is_dir() {
                entries.push((r.clone(), FixtureEntry::Dir));
                stack.push((e.path(), r, depth + 1));
            } else if ft.is_file() {
                let bytes = read_nofollow(&e.path(), MAX_FIXTURE_FILE)?;
                *total += bytes.len() as u64;
                if *total > MAX_FIXTURE_TOTAL {
                    return Err(Error::Rule(format!(
                        "fixtures hold more than {MAX_FIXTURE_TOTAL} bytes in all"
                    )));
                }
                entries.push((r, FixtureEntry::File(bytes.into())));
            } else {
                return Err(fixture(
                    &path,
                    format!("{r} is not a file, directory or symlink"),
                ));
            }
        }
    }
    // Parents before children, whatever order the walk took.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Fixture::Dir(entries))
}

/// `target` taken from `base` without the filesystem: `..` removes a component.
fn lexical(base: &Path, target: &Path) -> PathBuf {
    let mut out = if target.is_absolute() {
        PathBuf::from("/")
    } else {
        base.to_path_buf()
    };
    for c in target.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// Whether a symlink at `rel` (inside a fixture) with `target` resolves inside the fixture,
/// read lexically: relative, and never climbing above the fixture's top. A fixture must not hand
/// a runtime that follows links a way to a host file, which would then land in the report.
fn link_stays_inside(rel: &str, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth = rel.split('/').count() - 1;
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Read a regular file without following a symlink put in its place since it was listed.
fn read_nofollow(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(Error::io("reading fixture", path))?;
    let m = f.metadata().map_err(Error::io("reading fixture", path))?;
    if !m.is_file() {
        return Err(fixture(path, "not a regular file"));
    }
    if m.len() > max {
        return Err(fixture(
            path,
            format!("{} bytes, larger than the {max}-byte bound", m.len()),
        ));
    }
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(Error::io("reading fixture", path))?;
    if buf.len() as u64 > max {
        return Err(fixture(path, format!("larger than the {max}-byte bound")));
    }
    Ok(buf)
}

/// A name usable in a case id: `[A-Za-z0-9._+-]`, runs of anything else become one `-`.
fn sanitize(s: &str, lower: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') {
            out.push(if lower { c.to_ascii_lowercase() } else { c });
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    out.chars().take(200).collect()
}

/// The suites of `dir`: `dir` itself when it holds a `manifest.json` or a `*.wasm`, else every
/// directory below it that holds a `manifest.json` (as upstream's `run-tests` finds them),
/// without following symlinks.
fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let is_suite = |d: &Path| -> Result<bool> {
        if std::fs::symlink_metadata(d.join("manifest.json")).is_ok() {
            return Ok(true);
        }
        Ok(std::fs::read_dir(d)
            .map_err(Error::io("cannot read test suite directory", d))?
            .filter_map(|e| e.ok())
            .any(|e| e.path().extension().is_some_and(|x| x == "wasm")))
    };
    if is_suite(dir)? {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    let mut visited = 0usize;
    while let Some((d, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_DISCOVERY_DIRS {
            return Err(Error::suite(
                dir,
                format!("more than {MAX_DISCOVERY_DIRS} directories below it"),
            ));
        }
        if std::fs::symlink_metadata(d.join("manifest.json")).is_ok() {
            found.push(d.clone());
            if found.len() > MAX_SUITES {
                return Err(Error::suite(
                    dir,
                    format!("more than {MAX_SUITES} suites below it"),
                ));
            }
            continue;
        }
        if depth >= MAX_DISCOVERY_DEPTH {
            continue;
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(Error::suite(
            dir,
            "no WASI testsuite here (no manifest.json or *.wasm in it, and no manifest.json below it)",
        ));
    }
    Ok(found)
}

/// Load a directory in the WASI testsuite format: one suite, or every suite below it. Returns
/// the suite name (the manifest's; several joined with ` + `) and the cases, sorted by id.
pub fn load_wasi_testsuite(dir: &Path) -> Result<(String, Vec<Case>)> {
    let mut names = Vec::new();
    let mut empty = Vec::new();
    let mut cases = Vec::new();
    let mut total = 0u64;
    // Nothing is read from outside the directory given: a path that leads out of it through a
    // symlink is refused, whatever it points at.
    let boundary =
        std::fs::canonicalize(dir).map_err(Error::io("cannot read test suite directory", dir))?;
    for suite in discover(dir)? {
        let (name, mut c) = load_suite(&suite, &boundary, &mut total)?;
        // A manifest without tests (upstream keeps one among its sources) adds nothing.
        if c.is_empty() {
            empty.push(name);
            continue;
        }
        names.push(name);
        cases.append(&mut c);
        if cases.len() > MAX_TESTS {
            return Err(Error::suite(dir, format!("more than {MAX_TESTS} tests")));
        }
    }
    if names.is_empty() {
        names = empty;
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(w) = cases.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(Error::suite(
            dir,
            format!(
                "two tests have the case id {} (suite names or test names collide)",
                w[0].id
            ),
        ));
    }
    Ok((names.join(" + "), cases))
}

fn load_suite(dir: &Path, canon: &Path, total: &mut u64) -> Result<(String, Vec<Case>)> {
    let (name, version) = read_manifest(dir, canon)?;
    let category = match sanitize(&name, true) {
        s if s.is_empty() => "wasi-testsuite".to_string(),
        s => s,
    };
    let mut wasm = Vec::new();
    for e in std::fs::read_dir(dir).map_err(Error::io("reading", dir))? {
        let p = e.map_err(Error::io("reading", dir))?.path();
        if p.extension().is_some_and(|x| x == "wasm") {
            wasm.push(p);
            if wasm.len() > MAX_TESTS {
                return Err(Error::suite(dir, format!("more than {MAX_TESTS} tests")));
            }
        }
    }
    wasm.sort();
    let mut fixtures: BTreeMap<String, Arc<Fixture>> = BTreeMap::new();
    let mut cases = Vec::new();
    for w in wasm {
        let stem = w
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The module: a regular file inside the suite, of bounded size (read when it runs).
        let real = inside(canon, &w)?;
        let meta = std::fs::metadata(&w).map_err(Error::io("reading", &w))?;
        if !meta.is_file() || meta.len() > MAX_WASM_BYTES {
            return Err(Error::suite(
                &w,
                format!("not a regular file of at most {MAX_WASM_BYTES} bytes"),
            ));
        }
        let spec_path = w.with_extension("json");
        let spec = match read_file(canon, &spec_path, MAX_SPEC_BYTES)? {
            Some(bytes) => parse_testsuite_spec(
                std::str::from_utf8(&bytes).map_err(Error::invalid::<std::str::Utf8Error>(
                    format!("{}: not UTF-8", spec_path.display()),
                ))?,
                &spec_path,
            )?,
            None => TestSpec::default(),
        };
        let mut mine = BTreeMap::new();
        for rel in &spec.fixture_dirs {
            let f = match fixtures.get(rel) {
                Some(f) => f.clone(),
                None => {
                    let f = Arc::new(snapshot_fixture(canon, dir, rel, total)?);
                    fixtures.insert(rel.clone(), f.clone());
                    f
                }
            };
            mine.insert(rel.clone(), f);
        }
        let test_name = sanitize(&stem, false);
        if test_name.is_empty() {
            return Err(Error::suite(&w, "the test name gives an empty case id"));
        }
        cases.push(Case {
            id: format!("{category}/{test_name}"),
            category: category.clone(),
            dir: dir.to_path_buf(),
            module: Module::Wasm(w.clone()),
            spec: case_spec(&stem, &w, version, &spec),
            unsupported: None,
            p2: None,
            wasi: Some(Arc::new(Test {
                name: stem,
                suite: name.clone(),
                version,
                spec,
                fixtures: mine,
                module: real,
            })),
        });
    }
    Ok((name, cases))
}

/// The case as `suites list` and the report describe it.
fn case_spec(stem: &str, w: &Path, version: WasiVersion, spec: &TestSpec) -> CaseSpec {
    let mut about = vec![version.label().to_string()];
    if spec.world != World::CliCommand {
        about.push(spec.world.label().into());
    }
    if !spec.proposals.is_empty() {
        about.push(format!(
            "proposals {}",
            spec.proposals
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    let ops: Vec<&str> = spec.operations.iter().map(Op::name).collect();
    about.push(match spec.style {
        Style::Default => "no spec".into(),
        Style::Legacy => format!("legacy spec: {}", ops.join(" ")),
        Style::Operations if ops.is_empty() => "operations: none (nothing runs)".into(),
        Style::Operations => format!("operations: {}", ops.join(" ")),
    });
    if !spec.ignored_keys.is_empty() {
        about.push(format!("ignored keys: {}", spec.ignored_keys.join(", ")));
    }
    CaseSpec {
        summary: format!("WASI testsuite `{stem}` ({})", about.join("; ")),
        source: w.display().to_string(),
        run: CaseRun::default(),
        limits: Limits {
            timeout_ms: Some(TEST_DEADLINE_MS),
            ..Limits::default()
        },
        requires: Vec::new(),
        component: None,
        setup: Setup::default(),
        expect: Expect::default(),
        p2: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TestSpec> {
        parse_testsuite_spec(text, Path::new("t.json"))
    }

    #[test]
    fn legacy_specs_become_run_read_wait() {
        let s = parse(r#"{"args": ["a"], "env": {"B": "1", "A": "2"}, "root": "fs.dir", "stdout": "hi", "stderr": "", "exit_code": 3}"#).unwrap();
        assert_eq!(s.style, Style::Legacy);
        assert_eq!(
            s.operations,
            vec![
                Op::Run(RunOp {
                    args: vec!["a".into()],
                    env: vec![("B".into(), "1".into()), ("A".into(), "2".into())],
                    root: Some("fs.dir".into()),
                }),
                Op::Read {
                    id: "stdout".into(),
                    payload: "hi".into()
                },
                Op::Read {
                    id: "stderr".into(),
                    payload: "".into()
                },
                Op::Wait { exit_code: 3 },
            ]
        );
        assert_eq!(s.fixture_dirs, ["fs.dir"]);
        // `world` alone is a legacy spec with an ignored key; `dirs` is ignored too.
        let s = parse(r#"{"world": "wasi:http/service", "dirs": ["x"]}"#).unwrap();
        assert_eq!(s.style, Style::Legacy);
        assert_eq!(s.world, World::CliCommand);
        assert_eq!(s.ignored_keys, ["world", "dirs"]);
        // null `stdout` is not checked; an empty root is no root.
        let s = parse(r#"{"stdout": null, "root": ""}"#).unwrap();
        assert_eq!(s.operations.len(), 2);
        assert!(s.fixture_dirs.is_empty());
    }

    #[test]
    fn operation_style_specs_keep_their_operations() {
        let s = parse(r#"{"proposals": ["sockets"], "operations": [{"type": "run"}, {"type": "connect", "id": "e"}, {"type": "send", "id": "e", "payload": "x"}, {"type": "recv", "id": "e", "payload": "x"}, {"type": "kill"}, {"type": "wait", "exit_code": 1}]}"#).unwrap();
        assert_eq!(s.style, Style::Operations);
        assert_eq!(s.proposals, [Proposal::Sockets]);
        assert!(
            matches!(&s.operations[4], Op::Kill { signal } if signal.name == "SIGTERM" && signal.number == libc::SIGTERM)
        );
        // Operation style without `operations` runs nothing.
        let s = parse(r#"{"proposals": ["http"]}"#).unwrap();
        assert!(s.operations.is_empty());
        let s = parse(r#"{"proposals": ["http"], "world": "wasi:http/service", "debug": 1, "servers": [{"name": "main", "endpoints": [{"method": "get", "response": "ok"}, {"path": "/e", "mode": "echo-body"}]}, {"name": "dead", "kind": "closed"}]}"#).unwrap();
        assert!(s.debug);
        assert_eq!(s.servers[0].endpoints[0].method, "GET");
        assert_eq!(s.servers[0].env_var(), "HTTP_SERVER_MAIN");
        assert!(s.servers[1].closed);
        assert_eq!(s.ignored_keys, ["debug"]);
    }

    #[test]
    fn invalid_specs_are_refused_as_upstream_refuses_them() {
        for bad in [
            r#"{"args": [], "operations": []}"#,
            r#"{"operations": [{"type": "nope"}]}"#,
            r#"{"operations": [{"type": "run"}]}"#,
            r#"{"operations": [{"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "run"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "read", "id": "stdin"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "write", "payload": "x"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "send", "id": "s"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "send"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "connect", "protocol_type": "udp"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "connect", "id": "stdout"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "kill", "signal": "SIGNOPE"}, {"type": "wait"}]}"#,
            r#"{"proposals": ["threads"]}"#,
            r#"{"proposals": [], "world": "wasi:cli/other"}"#,
            r#"{"servers": [{"name": "a"}, {"name": "A"}]}"#,
            r#"{"servers": [{"name": "a-b"}]}"#,
            r#"{"servers": [{"name": "a", "kind": "closed", "endpoints": []}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"mode": "echo-body", "response": "x"}]}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"response": {"body": "x", "chunks": []}}]}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"response": {"trailers": {"a": "b"}}}]}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"method": "BREW"}]}]}"#,
            r#"{"root": "../etc"}"#,
            r#"{"root": "/etc"}"#,
            r#"{"env": {"A=B": "c"}}"#,
            r#"{"args": [null]}"#,
            r#"{"exit_code": null}"#,
            r#"[]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn sanitized_names_fit_case_ids() {
        assert_eq!(
            sanitize("WASI Rust tests [wasm32-wasip3]", true),
            "wasi-rust-tests-wasm32-wasip3"
        );
        assert_eq!(sanitize("Mini WASI tests", true), "mini-wasi-tests");
        assert_eq!(sanitize("a b", false), "a-b");
    }
}
