//! Command-line runtimes described as data (`certify/adapters/<name>.toml`), and the process
//! hygiene every invocation gets: own process group, wall-clock kill of the whole group, a
//! resident-memory cap, capped output, stdin from the case (or empty), environment cleared to
//! `PATH` plus the host secret the oracle watches for (granted variables reach the guest
//! through the adapter's `env` flag, never through the runtime's environment).

use crate::error::{Error, Result};
use crate::runtime::{
    End, Exit, Identity, Missing, OUTPUT_CAP, Prepared, RawRun, Runtime, Session, Spawn,
};
use crate::stream::Pipe;
use crate::testsuite::{Needs, Proposal, WasiVersion, World};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Built-in adapters: name → TOML.
pub const BUILTIN: &[(&str, &str)] = &[
    ("jco", include_str!("../adapters/jco.toml")),
    ("node", include_str!("../adapters/node.toml")),
    ("wamr", include_str!("../adapters/wamr.toml")),
    ("wasmedge", include_str!("../adapters/wasmedge.toml")),
    ("wasmer", include_str!("../adapters/wasmer.toml")),
    ("wasmtime", include_str!("../adapters/wasmtime.toml")),
    ("wazero", include_str!("../adapters/wazero.toml")),
];

/// Files shipped with the built-in adapters, materialised next to the run when used.
const LAUNCHERS: &[(&str, &str)] = &[
    ("node-wasi.mjs", include_str!("../adapters/node-wasi.mjs")),
    ("wasmtime-py.py", include_str!("../adapters/wasmtime-py.py")),
    // Shared by the JavaScript WASI launchers below (imported as `./js-wasi-common.mjs`).
    (
        "js-wasi-common.mjs",
        include_str!("../adapters/js-wasi-common.mjs"),
    ),
    (
        "browser-wasi-shim.mjs",
        include_str!("../adapters/browser-wasi-shim.mjs"),
    ),
    ("wasm-util.mjs", include_str!("../adapters/wasm-util.mjs")),
    ("wasi-js.mjs", include_str!("../adapters/wasi-js.mjs")),
    (
        "wasmer-wasi.mjs",
        include_str!("../adapters/wasmer-wasi.mjs"),
    ),
    ("pywasm-wasi.py", include_str!("../adapters/pywasm-wasi.py")),
    ("wasmer-py.py", include_str!("../adapters/wasmer-py.py")),
    ("wasmer-sdk.py", include_str!("../adapters/wasmer-sdk.py")),
    ("jco-run.mjs", include_str!("../adapters/jco-run.mjs")),
];

/// Resident memory a runtime may use before the runner kills it. Real runtimes reach 6-8 GiB
/// in seconds on some limits cases; the cap keeps a 2-core CI machine alive.
pub const RSS_CAP: u64 = 2 << 30;

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

    fn expand(template: &[String], vars: &[(&str, String)]) -> Vec<String> {
        template
            .iter()
            .map(|t| {
                let mut s = t.clone();
                for (k, v) in vars {
                    s = s.replace(&format!("{{{k}}}"), v);
                }
                s
            })
            .collect()
    }

    /// The adapter's `[precompile]` step, if any: the module to run, or how the step ended (a
    /// crash or hang is the runtime's; an error exit or no output is a refusal).
    #[allow(clippy::type_complexity)]
    fn precompile(
        &self,
        wasm: &Path,
        work: &Path,
        deadline: Duration,
    ) -> Result<std::result::Result<PathBuf, (End, Vec<u8>, Vec<u8>, Vec<String>)>> {
        let Some(pc) = &self.adapter.precompile else {
            return Ok(Ok(wasm.to_path_buf()));
        };
        let compiled = wasm.with_extension(&pc.extension);
        let args = Self::expand(
            &pc.args,
            &[
                ("module", wasm.to_string_lossy().into_owned()),
                ("compiled", compiled.to_string_lossy().into_owned()),
            ],
        );
        let prog =
            resolve(&pc.program).ok_or_else(|| Error::PrecompilerNotFound(pc.program.clone()))?;
        let mut cmd = Command::new(prog);
        cmd.args(&args).current_dir(work.join("cwd"));
        let (end, out, err) = supervise(cmd, None, deadline, &[], self.rss_cap)?;
        if let End::Signaled(_) | End::TimedOut | End::MemoryCap(_) = end {
            return Ok(Err((end, out, err, args)));
        }
        if !matches!(end, End::Exited(0)) || !compiled.is_file() {
            let why = format!("precompilation failed: {}", String::from_utf8_lossy(&err));
            return Ok(Err((End::Refused(why), out, err, args)));
        }
        Ok(Ok(compiled))
    }

    /// A literal template element, with `{launcher:NAME}` replaced.
    fn literal(&self, t: &str) -> String {
        let mut s = t.to_string();
        for (name, _) in LAUNCHERS {
            s = s.replace(
                &format!("{{launcher:{name}}}"),
                &self.launchers.path().join(name).to_string_lossy(),
            );
        }
        s
    }

    /// The argv of a WASI testsuite run, from `[wasi_testsuite]`.
    fn wasi_argv(&self, s: &Spawn<'_>) -> Result<Vec<String>> {
        let Some(w) = &self.adapter.wasi_testsuite else {
            return Err(Error::Unsupported(
                "the adapter has no [wasi_testsuite] section".into(),
            ));
        };
        let template = w.worlds.get(s.world.label()).ok_or_else(|| {
            Error::Unsupported(format!(
                "the adapter does not declare the world {}",
                s.world
            ))
        })?;
        let version = w.versions.get(s.version.label()).ok_or_else(|| {
            Error::Unsupported(format!("the adapter does not declare {}", s.version))
        })?;
        let mut fragments = String::new();
        for p in Proposal::ALL {
            if s.proposals.contains(p)
                && let Some(f) = w.proposals.get(p.label())
            {
                fragments.push_str(f);
            }
        }
        let mut argv = Vec::new();
        for c in template {
            match c.as_str() {
                "{version}" => {
                    argv.extend(version.iter().map(|v| v.replace("{proposals}", &fragments)))
                }
                "{env}" => {
                    for (k, v) in s.env {
                        let Some(t) = &self.adapter.flags.env else {
                            return Err(Error::Unsupported(
                                "adapter cannot pass environment variables".into(),
                            ));
                        };
                        argv.extend(Self::expand(t, &[("key", k.clone()), ("value", v.clone())]));
                    }
                }
                "{root}" => {
                    if let Some(root) = s.root {
                        let Some(t) = &w.root else {
                            return Err(Error::Unsupported(
                                "adapter cannot preopen a directory as the guest's /".into(),
                            ));
                        };
                        argv.extend(Self::expand(
                            t,
                            &[("host", root.to_string_lossy().into_owned())],
                        ));
                    }
                }
                "{module}" => argv.push(s.module.to_string_lossy().into_owned()),
                "{args}" => argv.extend(s.args.iter().cloned()),
                other => argv.push(self.literal(other)),
            }
        }
        Ok(argv)
    }

    fn argv(&self, p: &Prepared<'_>, module: &Path) -> Result<Vec<String>> {
        let spec = &p.case.spec;
        let f = &self.adapter.flags;
        let mut limits = Vec::new();
        if let (Some(t), Some(b)) = (&f.memory_limit, spec.limits.memory_bytes) {
            limits.extend(Self::expand(
                t,
                &[("bytes", b.to_string()), ("pages", (b / 65536).to_string())],
            ));
        }
        if let (Some(t), Some(e)) = (&f.table_limit, spec.limits.table_elements) {
            limits.extend(Self::expand(t, &[("elements", e.to_string())]));
        }
        if let (Some(t), Some(fuel)) = (&f.fuel, spec.limits.fuel) {
            limits.extend(Self::expand(t, &[("fuel", fuel.to_string())]));
        }
        if let Some(t) = &f.timeout {
            let ms = p.timeout.as_millis() as u64;
            limits.extend(Self::expand(
                t,
                &[("ms", ms.to_string()), ("s", ms.div_ceil(1000).to_string())],
            ));
        }
        limits.extend(f.always.iter().cloned());
        let mut dirs = Vec::new();
        for d in &spec.run.dirs {
            let t = if d.read_only() {
                f.dir_ro.as_ref()
            } else if d.read_only_files() {
                f.dir_ro_files.as_ref()
            } else {
                f.dir.as_ref()
            };
            let Some(t) = t else {
                return Err(Error::Unsupported(
                    "adapter cannot express this preopen".into(),
                ));
            };
            let host = p.work.join(&d.host).to_string_lossy().into_owned();
            dirs.extend(Self::expand(
                t,
                &[("host", host), ("guest", d.guest.clone())],
            ));
        }
        let mut env = Vec::new();
        for (k, v) in &spec.run.env {
            let Some(t) = &f.env else {
                return Err(Error::Unsupported(
                    "adapter cannot pass environment variables".into(),
                ));
            };
            env.extend(Self::expand(t, &[("key", k.clone()), ("value", v.clone())]));
        }
        let network = match (&spec.run.network, &f.network) {
            (None, _) => Vec::new(),
            (Some(_), Some(t)) => t.clone(),
            (Some(_), None) => {
                return Err(Error::Unsupported(
                    "adapter cannot grant the network".into(),
                ));
            }
        };
        let mut argv = Vec::new();
        for c in &self.adapter.command {
            match c.as_str() {
                "{limits}" => argv.extend(limits.iter().cloned()),
                "{network}" => argv.extend(network.iter().cloned()),
                "{dirs}" => argv.extend(dirs.iter().cloned()),
                "{env}" => argv.extend(env.iter().cloned()),
                "{args}" => argv.extend(p.args()),
                "{module}" => argv.push(module.to_string_lossy().into_owned()),
                other => argv.push(self.literal(other)),
            }
        }
        Ok(argv)
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

/// Run `cmd` in its own process group with a wall-clock deadline, an RSS cap and capped
/// output; kill the whole group at the end so nothing is left behind.
pub fn supervise(
    mut cmd: Command,
    stdin: Option<Vec<u8>>,
    deadline: Duration,
    env: &[(&str, &str)],
    rss_cap: u64,
) -> Result<(End, Vec<u8>, Vec<u8>)> {
    cmd.env_clear();
    cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.process_group(0);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd
        .spawn()
        .map_err(Error::io_doing("starting the runtime"))?;
    let pid = child.id() as i32;
    if let (Some(data), Some(mut sin)) = (stdin, child.stdin.take()) {
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = sin.write_all(&data);
        });
    }
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let start = Instant::now();
    // A waiter thread blocks in wait(2) so the exit is seen at once; this thread wakes every
    // 50 ms to enforce the deadline and the memory cap (killing the group ends the wait).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let mut killed: Option<End> = None;
    let end = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(status) => {
                let status = status.map_err(Error::io_doing("waiting for the runtime"))?;
                if let Some(k) = killed {
                    break k;
                }
                break match (status.code(), status.signal()) {
                    (Some(c), _) => End::Exited(c),
                    (None, Some(s)) => End::Signaled(s),
                    _ => End::Signaled(0),
                };
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break End::Signaled(0),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if killed.is_some() {
            continue;
        }
        if start.elapsed() > deadline {
            kill_group(pid);
            killed = Some(End::TimedOut);
        } else if let Some(rss) = group_rss_bytes(pid)
            && rss > rss_cap
        {
            kill_group(pid);
            killed = Some(End::MemoryCap(rss));
        }
    };
    // Grandchildren (a launcher's runtime, a shell's jobs) go with the group.
    kill_group(pid);
    // A process that left the group (setsid) may still hold the pipes open: give the readers
    // a moment, then keep what they have and move on rather than block.
    let stdout = out.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    let stderr = err.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    Ok((end, stdout, stderr))
}

/// `[results]`, compiled: how a normal exit of the runtime process reads.
#[derive(Clone)]
struct Classifier {
    trap_exit_codes: Vec<i32>,
    trap_re: Option<regex::Regex>,
    refused_re: Option<regex::Regex>,
}

impl Classifier {
    /// A refusal, a trap, or the guest's status.
    fn classify(&self, end: End, stderr: &[u8]) -> End {
        if let End::Exited(code) = end {
            let err = String::from_utf8_lossy(stderr);
            if code != 0 && self.refused_re.as_ref().is_some_and(|r| r.is_match(&err)) {
                return End::Refused(summary(&err));
            }
            if self.trap_exit_codes.contains(&code)
                || (code != 0 && self.trap_re.as_ref().is_some_and(|r| r.is_match(&err)))
            {
                return End::Trapped(summary(&err));
            }
        }
        end
    }
}

/// What the waiter and the watchdog of a session share.
#[derive(Default)]
struct Watch {
    /// The raw end, once the process was reaped.
    status: Option<std::process::ExitStatus>,
    /// Why the runner killed it, if it did.
    killed: Option<End>,
}

/// A testsuite guest run by a command-line runtime: the same hygiene as [`supervise`] (own
/// process group, cleared environment, the runner's deadline and memory cap, capped output
/// read continuously), with its streams open while operations run.
pub struct CommandSession {
    pid: i32,
    stdin: Option<std::process::ChildStdin>,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
    watch: Arc<(Mutex<Watch>, Condvar)>,
    deadline: Instant,
    command: Vec<String>,
    results: Classifier,
    exit: Option<Exit>,
}

impl CommandSession {
    fn start(
        mut cmd: Command,
        env: &[(&str, &str)],
        deadline: Instant,
        rss_cap: u64,
        command: Vec<String>,
        results: Classifier,
    ) -> Result<CommandSession> {
        cmd.env_clear();
        cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.process_group(0);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(Error::io_doing("starting the runtime"))?;
        let pid = child.id() as i32;
        let stdout = Pipe::new();
        let stderr = Pipe::new();
        stdout.pump(child.stdout.take());
        stderr.pump(child.stderr.take());
        let stdin = child.stdin.take();
        if let Some(sin) = &stdin {
            use std::os::fd::AsRawFd;
            // Writes wait with poll(2) until the runner's deadline instead of blocking.
            // SAFETY: fcntl on a pipe fd we own; no memory is involved.
            #[allow(unsafe_code)]
            unsafe {
                let fd = sin.as_raw_fd();
                let flags = libc::fcntl(fd, libc::F_GETFL);
                libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        let watch = Arc::new((Mutex::new(Watch::default()), Condvar::new()));
        // The waiter blocks in wait(2), so the end is seen at once; then the group goes.
        let w = watch.clone();
        std::thread::spawn(move || {
            let status = child.wait();
            kill_group(pid);
            let (m, cv) = &*w;
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            g.status = Some(status.unwrap_or_else(|_| std::process::ExitStatus::from_raw(9)));
            cv.notify_all();
        });
        // The watchdog wakes every 50 ms for the deadline and the memory cap.
        let w = watch.clone();
        std::thread::spawn(move || {
            let (m, cv) = &*w;
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            while g.status.is_none() {
                g = cv
                    .wait_timeout(g, Duration::from_millis(50))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                if g.status.is_some() || g.killed.is_some() {
                    continue;
                }
                if Instant::now() > deadline {
                    kill_group(pid);
                    g.killed = Some(End::TimedOut);
                } else {
                    drop(g);
                    let rss = group_rss_bytes(pid).filter(|r| *r > rss_cap);
                    g = m.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(rss) = rss
                        && g.status.is_none()
                    {
                        kill_group(pid);
                        g.killed = Some(End::MemoryCap(rss));
                    }
                }
            }
        });
        Ok(CommandSession {
            pid,
            stdin,
            stdout,
            stderr,
            watch,
            deadline,
            command,
            results,
            exit: None,
        })
    }

    fn running(&self) -> bool {
        self.exit.is_none()
            && self
                .watch
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .status
                .is_none()
    }
}

impl Session for CommandSession {
    fn command(&self) -> &[String] {
        &self.command
    }

    fn stdout(&self) -> Arc<Pipe> {
        self.stdout.clone()
    }

    fn stderr(&self) -> Arc<Pipe> {
        self.stderr.clone()
    }

    fn write_stdin(&mut self, data: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let Some(sin) = self.stdin.as_mut() else {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        };
        let mut rest = data;
        while !rest.is_empty() {
            match sin.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let left = self.deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(std::io::ErrorKind::TimedOut.into());
                    }
                    let mut pfd = libc::pollfd {
                        fd: sin.as_raw_fd(),
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: poll(2) on one pollfd we own, for a bounded time.
                    #[allow(unsafe_code)]
                    unsafe {
                        libc::poll(&mut pfd, 1, left.as_millis().min(1000) as i32);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn close_stdin(&mut self) {
        self.stdin = None;
    }

    fn signal(&mut self, sig: i32) -> std::io::Result<()> {
        if !self.running() {
            // Python's send_signal on a reaped process does nothing.
            return Ok(());
        }
        // SAFETY: kill(2) on the runtime's own pid (still unreaped: the waiter holds it).
        #[allow(unsafe_code)]
        let r = unsafe { libc::kill(self.pid, sig) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    fn wait(&mut self, timeout: Duration) -> Option<Exit> {
        if let Some(e) = &self.exit {
            return Some(e.clone());
        }
        let until = Instant::now() + timeout;
        let (status, killed) = {
            let (m, cv) = &*self.watch;
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            while g.status.is_none() {
                let now = Instant::now();
                if now >= until {
                    return None;
                }
                g = cv
                    .wait_timeout(g, until - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            (g.status?, g.killed.clone())
        };
        // Upstream's communicate() reads both streams to their end; the readers finish when
        // the group is gone (a process that left the group is given until the deadline).
        let grace = Instant::now() + Duration::from_secs(2);
        self.stdout
            .wait_closed(grace.min(self.deadline.max(Instant::now())));
        self.stderr
            .wait_closed(grace.min(self.deadline.max(Instant::now())));
        let returncode = status.code().or_else(|| status.signal().map(|s| -s));
        let end = match killed {
            Some(k) => k,
            None => match (status.code(), status.signal()) {
                (Some(c), _) => self
                    .results
                    .classify(End::Exited(c), &self.stderr.contents()),
                (None, Some(s)) => End::Signaled(s),
                _ => End::Signaled(0),
            },
        };
        let exit = Exit { end, returncode };
        self.exit = Some(exit.clone());
        self.stdin = None;
        Some(exit)
    }

    fn kill(&mut self) {
        if self.running() {
            kill_group(self.pid);
        }
    }
}

impl Drop for CommandSession {
    fn drop(&mut self) {
        self.stdin = None;
        if self.running() {
            kill_group(self.pid);
        }
    }
}

/// A testsuite run that ended before it started (a failed `[precompile]` step).
pub struct Ended {
    exit: Exit,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
    command: Vec<String>,
}

impl Ended {
    pub fn new(exit: Exit, out: &[u8], err: &[u8], command: Vec<String>) -> Ended {
        let (stdout, stderr) = (Pipe::new(), Pipe::new());
        stdout.feed(out);
        stdout.close();
        stderr.feed(err);
        stderr.close();
        Ended {
            exit,
            stdout,
            stderr,
            command,
        }
    }
}

impl Session for Ended {
    fn command(&self) -> &[String] {
        &self.command
    }
    fn stdout(&self) -> Arc<Pipe> {
        self.stdout.clone()
    }
    fn stderr(&self) -> Arc<Pipe> {
        self.stderr.clone()
    }
    fn write_stdin(&mut self, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
    fn close_stdin(&mut self) {}
    fn signal(&mut self, _: i32) -> std::io::Result<()> {
        Ok(())
    }
    fn wait(&mut self, _: Duration) -> Option<Exit> {
        Some(self.exit.clone())
    }
    fn kill(&mut self) {}
}

/// The informative part of a runtime's error output: the last non-empty lines (where the
/// cause of an error chain is), joined on one line.
fn summary(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(3);
    lines[start..].join(" | ")
}

fn reader<R: Read + Send + 'static>(r: Option<R>) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut r) = r {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = OUTPUT_CAP.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created for the
    // runtime (process_group(0) made its pid the group id); no memory is involved.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Resident memory of the whole process group (a launcher's children count too), from
/// `/proc/<pid>/stat`: field 5 is the process group, field 24 the resident pages.
fn group_rss_bytes(pgid: i32) -> Option<u64> {
    let page = 4096u64;
    let mut total = 0u64;
    let mut seen = false;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name (field 2) may contain spaces; fields after the last ')' are fixed.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // rest starts at field 3 (state): pgrp is field 5 -> index 2, rss field 24 -> index 21.
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid) {
            seen = true;
            total += fields
                .get(21)
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
                * page;
        }
    }
    seen.then_some(total)
}
