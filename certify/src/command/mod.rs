//! Command-line runtimes described as data (`certify/adapters/<name>.toml`), and the process
//! hygiene every invocation gets: own process group, wall-clock kill of the whole group, a
//! resident-memory cap, capped output, stdin from the case (or empty), environment cleared to
//! `PATH` plus the host secret the oracle watches for (granted variables reach the guest
//! through the adapter's `env` flag, never through the runtime's environment).

mod argv;
mod session;
mod supervise;

pub use session::{CommandSession, Ended};
pub use supervise::{RSS_CAP, supervise};

use crate::error::{Error, Result};
use crate::runtime::{End, Exit, Identity, Missing, Prepared, RawRun, Runtime, Session, Spawn};
use crate::testsuite::{Needs, Proposal, WasiVersion, World};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use supervise::Classifier;

/// Built-in adapters: name → TOML.
pub const BUILTIN: &[(&str, &str)] = &[
    ("jco", include_str!("../../adapters/jco.toml")),
    ("node", include_str!("../../adapters/node.toml")),
    ("wamr", include_str!("../../adapters/wamr.toml")),
    ("wasmedge", include_str!("../../adapters/wasmedge.toml")),
    ("wasmer", include_str!("../../adapters/wasmer.toml")),
    ("wasmtime", include_str!("../../adapters/wasmtime.toml")),
    ("wazero", include_str!("../../adapters/wazero.toml")),
];

/// Files shipped with the built-in adapters, materialised next to the run when used.
const LAUNCHERS: &[(&str, &str)] = &[
    (
        "node-wasi.mjs",
        include_str!("../../adapters/node-wasi.mjs"),
    ),
    (
        "wasmtime-py.py",
        include_str!("../../adapters/wasmtime-py.py"),
    ),
    // Shared by the JavaScript WASI launchers below (imported as `./js-wasi-common.mjs`).
    (
        "js-wasi-common.mjs",
        include_str!("../../adapters/js-wasi-common.mjs"),
    ),
    (
        "browser-wasi-shim.mjs",
        include_str!("../../adapters/browser-wasi-shim.mjs"),
    ),
    (
        "wasm-util.mjs",
        include_str!("../../adapters/wasm-util.mjs"),
    ),
    ("wasi-js.mjs", include_str!("../../adapters/wasi-js.mjs")),
    (
        "wasmer-wasi.mjs",
        include_str!("../../adapters/wasmer-wasi.mjs"),
    ),
    (
        "pywasm-wasi.py",
        include_str!("../../adapters/pywasm-wasi.py"),
    ),
    ("wasmer-py.py", include_str!("../../adapters/wasmer-py.py")),
    (
        "wasmer-sdk.py",
        include_str!("../../adapters/wasmer-sdk.py"),
    ),
    ("jco-run.mjs", include_str!("../../adapters/jco-run.mjs")),
];

/// How long `program --version` may take: a runtime that hangs on it has no version.
const VERSION_PROBE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adapter {
    pub name: String,
    /// Program name (looked up in PATH) or path.
    pub program: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "version_args")]
    pub version_args: Vec<String>,
    /// The argument template. Literal strings, plus the placeholders `{limits}`, `{network}`,
    /// `{dirs}`, `{env}`, `{module}` (the .wasm, or the precompiled file), `{args}` (guest
    /// arguments) and `{launcher:NAME}` (a file shipped with the built-in adapters).
    pub command: Vec<String>,
    #[serde(default)]
    pub flags: Flags,
    pub precompile: Option<Precompile>,
    #[serde(default)]
    pub results: Results,
    /// Whether the runtime passes the runner's stdin to the guest.
    #[serde(default = "yes")]
    pub stdin: bool,
    /// What the runtime runs of the WASI testsuite, and how (docs/wasi-testsuite.md).
    pub wasi_testsuite: Option<WasiTestsuite>,
    /// The worlds `command` runs cases in (`certify --world`): `p1` (a core module for
    /// `{module}`), `p2` (a `wasi:cli/command` component). Default: `["p1"]`.
    #[serde(default = "p1_only")]
    pub worlds: Vec<crate::world::WasiWorld>,
}

fn p1_only() -> Vec<crate::world::WasiWorld> {
    vec![crate::world::WasiWorld::P1]
}

/// `[wasi_testsuite]`: the WASI versions, worlds and proposals a runtime runs and how to
/// express each, for `certify --wasi-testsuite`. A test needing anything not declared here is
/// `not-supported`, naming what is missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WasiTestsuite {
    /// World (`wasi:cli/command`, `wasi:http/service`) → the argument template of a run:
    /// literals and the whole-element placeholders `{version}`, `{env}`, `{root}`, `{module}`,
    /// `{args}`, plus `{launcher:NAME}` inside literals.
    pub worlds: BTreeMap<String, Vec<String>>,
    /// WASI version (`wasm32-wasip1`, ...) → the arguments `{version}` expands to. Inside
    /// them, `{proposals}` is replaced by the fragments of the test's proposals.
    pub versions: BTreeMap<String, Vec<String>>,
    /// Proposal (`http`, `sockets`) → the text `{proposals}` gets for it (in this order:
    /// http, sockets). A proposal that is not listed is not supported.
    #[serde(default)]
    pub proposals: BTreeMap<String, String>,
    /// How to preopen a directory as the guest's `/` (`{host}`). Absent: tests with a `root`
    /// are not supported.
    pub root: Option<Vec<String>>,
    /// How long a `wait` waits for the guest to end (upstream's adapter `get_timeout_seconds`,
    /// 5 s by default).
    #[serde(default = "wait_timeout_ms")]
    pub wait_timeout_ms: u64,
    /// Variables for the runtime process's own environment (never the guest's), e.g. where its
    /// compile cache is. `{cache}` expands to a directory wasmcert keeps for this adapter.
    #[serde(default)]
    pub runtime_env: BTreeMap<String, String>,
}

fn wait_timeout_ms() -> u64 {
    5_000
}

fn version_args() -> Vec<String> {
    vec!["--version".into()]
}

fn yes() -> bool {
    true
}

/// How to express each control; an absent entry means the runtime cannot.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    /// Per preopen: `{host}` (absolute host path), `{guest}`.
    pub dir: Option<Vec<String>>,
    pub dir_ro: Option<Vec<String>>,
    /// A preopen whose directory is writable but whose files are read-only (`ro-files`).
    pub dir_ro_files: Option<Vec<String>>,
    /// Per variable: `{key}`, `{value}`.
    pub env: Option<Vec<String>>,
    /// `{bytes}`, `{pages}`.
    pub memory_limit: Option<Vec<String>>,
    /// `{elements}`.
    pub table_limit: Option<Vec<String>>,
    /// `{fuel}`.
    pub fuel: Option<Vec<String>>,
    /// `{ms}`, `{s}` (whole seconds, rounded up).
    pub timeout: Option<Vec<String>>,
    /// Always added (after `{limits}`).
    #[serde(default)]
    pub always: Vec<String>,
    /// `[run] network = "inherit"`: what grants the guest the host's network (TCP, UDP, name
    /// lookups), at `{network}` in `command`. Absent: the runtime cannot grant it.
    pub network: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Precompile {
    pub program: String,
    /// `{module}` is the .wasm, `{compiled}` the output file.
    pub args: Vec<String>,
    /// Extension of the compiled file.
    #[serde(default = "aot")]
    pub extension: String,
}

fn aot() -> String {
    "aot".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// Exit codes that mean the guest trapped.
    #[serde(default)]
    pub trap_exit_codes: Vec<i32>,
    /// A regex on stderr meaning the guest trapped (checked when the exit code is non-zero).
    pub trap_stderr: Option<String>,
    /// A regex on stderr meaning the module was refused before it ran.
    pub refused_stderr: Option<String>,
}

pub fn parse_adapter(text: &str, origin: &str) -> Result<Adapter> {
    let a: Adapter = toml::from_str(text).map_err(Error::invalid::<toml::de::Error>(format!(
        "{origin}: invalid adapter"
    )))?;
    for r in [&a.results.trap_stderr, &a.results.refused_stderr]
        .into_iter()
        .flatten()
    {
        regex::Regex::new(r).map_err(Error::invalid::<regex::Error>(format!(
            "{origin}: invalid regex {r:?}"
        )))?;
    }
    let refuse = |why: &str| Error::Adapter {
        origin: origin.to_string(),
        why: why.to_string(),
    };
    if !a.command.iter().any(|c| c == "{module}") {
        return Err(refuse("`command` must contain \"{module}\""));
    }
    if a.flags.network.is_some() && !a.command.iter().any(|c| c == "{network}") {
        return Err(refuse(
            "[flags] network is set, so `command` must contain \"{network}\"",
        ));
    }
    if a.worlds.is_empty() {
        return Err(refuse(
            "`worlds` is empty: list the worlds `command` runs (\"p1\", \"p2\")",
        ));
    }
    if let Some(w) = &a.wasi_testsuite {
        check_wasi_testsuite(w).map_err(Error::invalid::<Error>(format!(
            "{origin}: invalid [wasi_testsuite]"
        )))?;
    }
    Ok(a)
}

fn check_wasi_testsuite(w: &WasiTestsuite) -> Result<()> {
    for (world, template) in &w.worlds {
        if World::parse(world).is_none() {
            return Err(Error::Rule(format!(
                "unknown world {world:?} (known: {})",
                World::ALL
                    .iter()
                    .map(|w| w.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !template.iter().any(|c| c == "{module}") {
            return Err(Error::Rule(format!(
                "the template of {world} must contain \"{{module}}\""
            )));
        }
    }
    for v in w.versions.keys() {
        if WasiVersion::parse(v).is_none() {
            return Err(Error::Rule(format!(
                "unknown WASI version {v:?} (known: {})",
                WasiVersion::ALL
                    .iter()
                    .map(|v| v.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    for p in w.proposals.keys() {
        if Proposal::parse(p).is_none() {
            return Err(Error::Rule(format!(
                "unknown proposal {p:?} (known: {})",
                Proposal::ALL
                    .iter()
                    .map(|p| p.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    if w.wait_timeout_ms == 0 || w.wait_timeout_ms > crate::testsuite::TEST_DEADLINE_MS {
        return Err(Error::Rule(format!(
            "wait_timeout_ms must be between 1 and {}",
            crate::testsuite::TEST_DEADLINE_MS
        )));
    }
    for k in w.runtime_env.keys() {
        if k.is_empty() || k.contains(['=', '\0']) || k == "PATH" || k == "WASMCERT_HOST_SECRET" {
            return Err(Error::Rule(format!("runtime_env cannot set {k:?}")));
        }
    }
    Ok(())
}

/// Where runtimes keep their compile caches between runs (`{cache}` in `runtime_env`):
/// `$WASMCERT_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmcert`, else `~/.cache/wasmcert`, else the
/// system temp dir; one directory per adapter name, private to the user.
pub fn cache_dir(adapter: &str) -> PathBuf {
    let base = std::env::var_os("WASMCERT_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("wasmcert")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/wasmcert")))
        .unwrap_or_else(|| std::env::temp_dir().join("wasmcert-cache"));
    let name: String = adapter
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = base.join(name);
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir);
    dir
}

pub fn builtin(name: &str) -> Option<Result<Adapter>> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, t)| parse_adapter(t, &format!("built-in adapter {n}")))
}

/// Find `program` in PATH (or take it as a path).
pub fn resolve(program: &str) -> Option<PathBuf> {
    let p = Path::new(program);
    if p.components().count() > 1 {
        return p.is_file().then(|| p.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|c| c.is_file())
    })
}

pub struct CommandRuntime {
    adapter: Adapter,
    program: PathBuf,
    identity: Identity,
    results: Classifier,
    launchers: tempfile::TempDir,
    rss_cap: u64,
    /// `[wasi_testsuite].runtime_env`, `{cache}` expanded.
    wasi_env: Vec<(String, String)>,
}

impl CommandRuntime {
    /// `program` overrides the adapter's program (e.g. `--runtime-path`).
    pub fn new(adapter: Adapter, program: Option<PathBuf>) -> Result<Self> {
        let program = match program {
            // The runtime starts in the case's work dir: make a relative path absolute first (without
            // resolving symlinks: a venv's `bin/python` must stay the venv's).
            Some(p) => std::path::absolute(&p).map_err(Error::io("runtime path", &p))?,
            None => resolve(&adapter.program).ok_or_else(|| Error::ProgramNotFound {
                runtime: adapter.name.clone(),
                program: adapter.program.clone(),
            })?,
        };
        let bytes = std::fs::read(&program).map_err(Error::io("reading", &program))?;
        // The version probe is a run of the runtime like any other: cleared environment (a
        // secret in the caller's environment must not end up in a signed report's
        // `runtime.version`), own process group, deadline, output cap.
        let mut probe = Command::new(&program);
        probe.args(&adapter.version_args);
        let version = supervise(probe, None, VERSION_PROBE_DEADLINE, &[], RSS_CAP)
            .ok()
            .and_then(|(end, out, err)| {
                matches!(end, End::Exited(_)).then(|| {
                    let text = if out.is_empty() { err } else { out };
                    let line = String::from_utf8_lossy(&text)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    line.chars().take(200).collect::<String>()
                })
            })
            .unwrap_or_default();
        let launchers = tempfile::Builder::new()
            .prefix("wasmcert-launchers-")
            .tempdir()
            .map_err(Error::io_doing("creating the launchers' directory"))?;
        for (name, text) in LAUNCHERS {
            let p = launchers.path().join(name);
            std::fs::write(&p, text).map_err(Error::io("writing", &p))?;
        }
        let mut flags: Vec<String> = adapter.command.clone();
        flags.extend(adapter.flags.always.iter().cloned());
        let identity = Identity {
            name: adapter.name.clone(),
            version,
            binary_sha256: hex::encode(Sha256::digest(&bytes)),
            adapter: format!("command:{}", adapter.name),
            flags,
        };
        let trap_re = adapter
            .results
            .trap_stderr
            .as_deref()
            .map(regex::Regex::new)
            .transpose()?;
        let refused_re = adapter
            .results
            .refused_stderr
            .as_deref()
            .map(regex::Regex::new)
            .transpose()?;
        Ok(CommandRuntime {
            wasi_env: adapter
                .wasi_testsuite
                .as_ref()
                .map(|w| {
                    let cache = if w.runtime_env.values().any(|v| v.contains("{cache}")) {
                        cache_dir(&adapter.name).to_string_lossy().into_owned()
                    } else {
                        String::new()
                    };
                    w.runtime_env
                        .iter()
                        .map(|(k, v)| (k.clone(), v.replace("{cache}", &cache)))
                        .collect()
                })
                .unwrap_or_default(),
            results: Classifier {
                trap_exit_codes: adapter.results.trap_exit_codes.clone(),
                trap_re,
                refused_re,
            },
            adapter,
            program,
            identity,
            launchers,
            rss_cap: RSS_CAP,
        })
    }

    /// Change the resident-memory cap (default [`RSS_CAP`]).
    pub fn with_rss_cap(mut self, bytes: u64) -> Self {
        self.rss_cap = bytes;
        self
    }
}

impl Runtime for CommandRuntime {
    fn identity(&self) -> &Identity {
        &self.identity
    }

    fn supports(&self, feature: &str) -> bool {
        let f = &self.adapter.flags;
        match feature {
            "dirs" => f.dir.is_some(),
            "read-only-dirs" => f.dir_ro.is_some(),
            "read-only-files" => f.dir_ro_files.is_some(),
            "env" => f.env.is_some(),
            "memory-limit" => f.memory_limit.is_some(),
            "table-limit" => f.table_limit.is_some(),
            "cpu-limit" => f.fuel.is_some() || f.timeout.is_some(),
            "stdin" => self.adapter.stdin,
            "args" => self.adapter.command.iter().any(|c| c == "{args}"),
            "network" => f.network.is_some(),
            _ => false,
        }
    }

    fn worlds(&self) -> &[crate::world::WasiWorld] {
        &self.adapter.worlds
    }

    fn wasi_missing(&self, n: &Needs) -> Option<Missing> {
        let name = &self.adapter.name;
        let miss = |missing: String, why: String| Some(Missing { missing, why });
        let Some(w) = &self.adapter.wasi_testsuite else {
            return miss(
                n.version.label().into(),
                format!(
                    "the adapter `{name}` declares no WASI testsuite support (no [wasi_testsuite])"
                ),
            );
        };
        if !w.versions.contains_key(n.version.label()) {
            return miss(
                n.version.label().into(),
                format!(
                    "the adapter `{name}` does not declare the WASI version {}",
                    n.version
                ),
            );
        }
        let Some(template) = w.worlds.get(n.world.label()) else {
            return miss(
                n.world.label().into(),
                format!(
                    "the adapter `{name}` does not declare the world {}",
                    n.world
                ),
            );
        };
        if let Some(p) = n
            .proposals
            .iter()
            .find(|p| !w.proposals.contains_key(p.label()))
        {
            return miss(
                format!("proposal:{p}"),
                format!("the adapter `{name}` does not declare the proposal {p}"),
            );
        }
        let has = |ph: &str| template.iter().any(|c| c == ph);
        if n.root && (w.root.is_none() || !has("{root}")) {
            return miss(
                "root-dir".into(),
                format!(
                    "the adapter `{name}` cannot preopen a directory as the guest's / (`root`)"
                ),
            );
        }
        if n.env && (self.adapter.flags.env.is_none() || !has("{env}")) {
            return miss("env".into(), "the runtime cannot express `env`".into());
        }
        if n.args && !has("{args}") {
            return miss("args".into(), "the runtime cannot express `args`".into());
        }
        if n.stdin && !self.adapter.stdin {
            return miss("stdin".into(), "the runtime cannot express `stdin`".into());
        }
        None
    }

    fn wasi_wait_timeout(&self) -> Duration {
        Duration::from_millis(
            self.adapter
                .wasi_testsuite
                .as_ref()
                .map_or(wait_timeout_ms(), |w| w.wait_timeout_ms),
        )
    }

    fn spawn(&self, s: &Spawn<'_>) -> Result<Box<dyn Session>> {
        let left = s.deadline.saturating_duration_since(Instant::now());
        let module = match self.precompile(s.module, s.work, left)? {
            Ok(m) => m,
            Err((end, out, err, command)) => {
                return Ok(Box::new(Ended::new(
                    Exit {
                        end,
                        returncode: None,
                    },
                    &out,
                    &err,
                    command,
                )));
            }
        };
        let s = &Spawn {
            module: &module,
            ..*s
        };
        let argv = self.wasi_argv(s)?;
        let mut cmd = Command::new(&self.program);
        cmd.args(&argv).current_dir(s.work.join("cwd"));
        let mut env: Vec<(&str, &str)> = vec![("WASMCERT_HOST_SECRET", s.env_secret)];
        env.extend(self.wasi_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if s.debug {
            env.push(("DEBUG", "true"));
        }
        let mut command = vec![self.program.to_string_lossy().into_owned()];
        command.extend(argv);
        Ok(Box::new(CommandSession::start(
            cmd,
            &env,
            s.deadline,
            self.rss_cap,
            command,
            self.results.clone(),
        )?))
    }

    fn run(&self, p: &Prepared<'_>) -> Result<RawRun> {
        let start = Instant::now();
        let module =
            match self.precompile(&p.wasm_path, p.work, p.timeout * 4 + Duration::from_secs(5))? {
                Ok(m) => m,
                Err((end, stdout, stderr, command)) => {
                    return Ok(RawRun {
                        end,
                        stdout,
                        stderr,
                        duration: start.elapsed(),
                        command,
                    });
                }
            };
        let argv = self.argv(p, &module)?;
        let mut cmd = Command::new(&self.program);
        cmd.args(&argv).current_dir(p.work.join("cwd"));
        let stdin = p
            .case
            .spec
            .run
            .stdin
            .as_ref()
            .map(|s| s.as_bytes().to_vec());
        let env = [("WASMCERT_HOST_SECRET", p.env_secret)];
        let deadline = p.timeout * 2 + Duration::from_secs(1);
        let (end, stdout, stderr) = supervise(cmd, stdin, deadline, &env, self.rss_cap)?;
        let end = self.results.classify(end, &stderr);
        let mut command = vec![self.program.to_string_lossy().into_owned()];
        command.extend(argv);
        Ok(RawRun {
            end,
            stdout,
            stderr,
            duration: start.elapsed(),
            command,
        })
    }
}
