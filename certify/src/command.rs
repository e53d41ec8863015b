//! Command-line runtimes described as data (`certify/adapters/<name>.toml`), and the process
//! hygiene every invocation gets: own process group, wall-clock kill of the whole group, a
//! resident-memory cap, capped output, stdin from the case (or empty), environment cleared to
//! `PATH` plus the host secret the oracle watches for (granted variables reach the guest
//! through the adapter's `env` flag, never through the runtime's environment).

use crate::runtime::{End, Identity, OUTPUT_CAP, Prepared, RawRun, Runtime};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Built-in adapters: name → TOML.
pub const BUILTIN: &[(&str, &str)] = &[
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
    /// The argument template. Literal strings, plus the placeholders `{limits}`, `{dirs}`,
    /// `{env}`, `{module}` (the .wasm, or the precompiled file), `{args}` (guest arguments)
    /// and `{launcher:NAME}` (a file shipped with the built-in adapters).
    pub command: Vec<String>,
    #[serde(default)]
    pub flags: Flags,
    pub precompile: Option<Precompile>,
    #[serde(default)]
    pub results: Results,
    /// Whether the runtime passes the runner's stdin to the guest.
    #[serde(default = "yes")]
    pub stdin: bool,
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
    let a: Adapter = toml::from_str(text).with_context(|| format!("{origin}: invalid adapter"))?;
    for r in [&a.results.trap_stderr, &a.results.refused_stderr]
        .into_iter()
        .flatten()
    {
        regex::Regex::new(r).with_context(|| format!("{origin}: invalid regex {r:?}"))?;
    }
    if !a.command.iter().any(|c| c == "{module}") {
        bail!("{origin}: `command` must contain \"{{module}}\"");
    }
    Ok(a)
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
    trap_re: Option<regex::Regex>,
    refused_re: Option<regex::Regex>,
    launchers: tempfile::TempDir,
    rss_cap: u64,
}

impl CommandRuntime {
    /// `program` overrides the adapter's program (e.g. `--runtime-path`).
    pub fn new(adapter: Adapter, program: Option<PathBuf>) -> Result<Self> {
        let program = match program {
            // The runtime starts in the case's work dir: make a relative path absolute first (without
            // resolving symlinks: a venv's `bin/python` must stay the venv's).
            Some(p) => {
                std::path::absolute(&p).with_context(|| format!("runtime path {}", p.display()))?
            }
            None => resolve(&adapter.program).with_context(|| {
                format!(
                    "runtime `{}`: program `{}` not found in PATH",
                    adapter.name, adapter.program
                )
            })?,
        };
        let bytes =
            std::fs::read(&program).with_context(|| format!("reading {}", program.display()))?;
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
            .tempdir()?;
        for (name, text) in LAUNCHERS {
            std::fs::write(launchers.path().join(name), text)?;
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
            adapter,
            program,
            identity,
            trap_re,
            refused_re,
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
                bail!("adapter cannot express this preopen")
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
                bail!("adapter cannot pass environment variables")
            };
            env.extend(Self::expand(t, &[("key", k.clone()), ("value", v.clone())]));
        }
        let mut argv = Vec::new();
        for c in &self.adapter.command {
            match c.as_str() {
                "{limits}" => argv.extend(limits.iter().cloned()),
                "{dirs}" => argv.extend(dirs.iter().cloned()),
                "{env}" => argv.extend(env.iter().cloned()),
                "{args}" => argv.extend(p.args()),
                "{module}" => argv.push(module.to_string_lossy().into_owned()),
                other => {
                    let mut s = other.to_string();
                    for (name, _) in LAUNCHERS {
                        s = s.replace(
                            &format!("{{launcher:{name}}}"),
                            &self.launchers.path().join(name).to_string_lossy(),
                        );
                    }
                    argv.push(s);
                }
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
            _ => false,
        }
    }

    fn run(&self, p: &Prepared<'_>) -> Result<RawRun> {
        let start = Instant::now();
        let mut module = p.wasm_path.clone();
        if let Some(pc) = &self.adapter.precompile {
            let compiled = p.wasm_path.with_extension(&pc.extension);
            let args = Self::expand(
                &pc.args,
                &[
                    ("module", p.wasm_path.to_string_lossy().into_owned()),
                    ("compiled", compiled.to_string_lossy().into_owned()),
                ],
            );
            let prog = resolve(&pc.program)
                .with_context(|| format!("precompiler `{}` not found in PATH", pc.program))?;
            let mut cmd = Command::new(prog);
            cmd.args(&args).current_dir(p.work.join("cwd"));
            let r = supervise(
                cmd,
                None,
                p.timeout * 4 + Duration::from_secs(5),
                &[],
                self.rss_cap,
            )?;
            // A precompiler that crashes or hangs is the runtime crashing or hanging; one that
            // exits with an error refused the module.
            if let End::Signaled(_) | End::TimedOut | End::MemoryCap(_) = r.0 {
                return Ok(RawRun {
                    end: r.0,
                    stdout: r.1,
                    stderr: r.2,
                    duration: start.elapsed(),
                    command: args,
                });
            }
            if !matches!(r.0, End::Exited(0)) || !compiled.is_file() {
                return Ok(RawRun {
                    end: End::Refused(format!(
                        "precompilation failed: {}",
                        String::from_utf8_lossy(&r.2)
                    )),
                    stdout: r.1,
                    stderr: r.2,
                    duration: start.elapsed(),
                    command: args,
                });
            }
            module = compiled;
        }
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
        let (mut end, stdout, stderr) = supervise(cmd, stdin, deadline, &env, self.rss_cap)?;
        if let End::Exited(code) = end {
            let err = String::from_utf8_lossy(&stderr);
            if code != 0 && self.refused_re.as_ref().is_some_and(|r| r.is_match(&err)) {
                end = End::Refused(summary(&err));
            } else if self.adapter.results.trap_exit_codes.contains(&code)
                || (code != 0 && self.trap_re.as_ref().is_some_and(|r| r.is_match(&err)))
            {
                end = End::Trapped(summary(&err));
            }
        }
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
    let mut child = cmd.spawn().context("starting the runtime")?;
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
                let status = status.context("waiting for the runtime")?;
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
