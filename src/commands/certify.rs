//! `wasmcert certify`: run the certification suites against a runtime.

use crate::output::emit;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasmcert_certify::case::load_cases;
use wasmcert_certify::command::{CommandRuntime, builtin, parse_adapter};
use wasmcert_certify::embedded::Embedded;
use wasmcert_certify::runner::{RunOptions, run};
use wasmcert_certify::{Expectations, Runtime, suite_digest};
use wasmcert_report::certification;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A summary table per category and the cases that did not pass.
    Human,
    /// The conformance report (docs/report-format.md).
    Json,
    /// JUnit XML, one testsuite per category, for CI dashboards.
    Junit,
}

/// Run the certification suites (sandbox escapes, WASI behaviour, resource limits) against a
/// WebAssembly runtime, judged by a containment oracle, and report every case with evidence.
#[derive(Args)]
#[command(
    after_help = "Runtimes: `embedded` (default: wasmtime in process, no install needed) or a built-in
command adapter: wasmtime, wamr, node, wasmer, wasmedge, wazero, jco (WASI 0.2 components
only, `--world p2`); `--adapter FILE` for any other.

Examples:
  wasmcert certify                                   # the built-in suites on the embedded engine
  wasmcert certify --runtime wasmtime --filter '^sandbox/'
  wasmcert certify --runtime node --format json -o node.json
  wasmcert certify --world p2                         # the same cases as WASI 0.2 components
  wasmcert certify --runtime jco --world p2           # jco (preview2-shim on Node)
  wasmcert certify --runtime wamr --expectations certify/expectations   # known failures annotated
  wasmcert certify --adapter my-runtime.toml --jobs 4
  wasmcert certify --wasi-testsuite wasi-testsuite/tests/c/testsuite
  wasmcert certify --shard 2/4 --format json -o shard2.json
  wasmcert certify --generated 200 --seed 7           # wasm-smith stress cases, reproducible
  wasmcert certify --generated 200 --seed 7 --filter 's7-00042' --save-generated out/

Every output starts with the verdict: escapes (containment), crashes and timeouts
(stability), failures (conformance), and what the runtime cannot express (coverage). The
outcome of a case is always what was observed; a known-failure list (--expectations) only
annotates it.

Exit status:
  0  every case passed or is not supported by the runtime; with --expectations, also when
     every other case is a failure the list names with the observed outcome
  1  a case escaped, crashed, timed out, failed or could not run (and no list names it), or a
     listed case no longer fails as listed (a stale entry)
  2  usage error (unknown runtime, bad suite, adapter or expectations file)"
)]
pub struct Opts {
    /// Runtime to certify: `embedded` or a built-in adapter name.
    #[arg(long, default_value = "embedded", conflicts_with = "adapter")]
    pub runtime: String,
    /// An adapter TOML describing a command-line runtime (see docs/adapters.md).
    #[arg(long, value_name = "FILE")]
    pub adapter: Option<PathBuf>,
    /// Path of the runtime binary, instead of looking the adapter's program up in PATH.
    #[arg(long, value_name = "PATH")]
    pub runtime_path: Option<PathBuf>,
    /// Suite directory (`<category>/<case>/case.toml`); default: the built-in `suites/`.
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
    /// Run upstream's WASI testsuite instead, as its reference runner runs it: one suite
    /// (manifest.json + NAME.wasm + NAME.json) or a directory with suites below it
    /// (docs/wasi-testsuite.md).
    #[arg(long, value_name = "DIR", conflicts_with = "suite")]
    pub wasi_testsuite: Option<PathBuf>,
    /// Run N generated stress cases (wasm-smith modules with huge memories, deep recursion,
    /// long loops, many tables, random host calls) in the `generated` category: the runtime
    /// must end each run itself inside the case limits. Replaces the built-in suites unless
    /// --suite or --wasi-testsuite is given too.
    #[arg(long, value_name = "N")]
    pub generated: Option<usize>,
    /// Seed of the generated cases; the same seed gives the same modules.
    #[arg(long, value_name = "S", default_value_t = 1, requires = "generated")]
    pub seed: u64,
    /// Write the generated modules (after --filter) to DIR as <case>.wasm, to reproduce a
    /// finding outside wasmcert.
    #[arg(long, value_name = "DIR", requires = "generated")]
    pub save_generated: Option<PathBuf>,
    /// The WASI world to certify: `p1` runs each case's preview1 core module; `p2` makes each
    /// a `wasi:cli/command` component with the preview1 command adapter (as `wasm-tools
    /// component new --adapt` does) and runs it on the runtime's WASI 0.2 host. The report
    /// records the world; a case that cannot be made a component is `not-supported`.
    #[arg(
        long,
        value_name = "WORLD",
        default_value = "p1",
        conflicts_with = "wasi_testsuite"
    )]
    pub world: wasmcert_certify::world::WasiWorld,
    /// Only cases whose id (`category/case`) matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,
    /// Cases run in parallel; default: the number of cores (4 per core with --wasi-testsuite,
    /// whose cases mostly wait on the runtime).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Run shard K of N (1-based), by position in case-id order.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// A known-failure list to annotate results with: a TOML file, or a directory holding
    /// `<runtime>.toml` (the project's own lists are in `certify/expectations/`). Off by
    /// default. Listed cases keep their observed outcome; the run exits 0 when every
    /// non-passing case is listed with the outcome observed.
    #[arg(long, value_name = "PATH")]
    pub expectations: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Sign the report with this encrypted private key (`wasmcert keygen`); writes
    /// `FILE.sigstore.json` beside --output, or `<runtime>.sigstore.json`. Password from
    /// WASMCERT_PASSWORD or a prompt.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
}

pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let (k, n) = s.split_once('/').context("--shard takes K/N, e.g. 2/4")?;
    let (k, n): (usize, usize) = (k.parse().context("shard K")?, n.parse().context("shard N")?);
    if n == 0 || k == 0 || k > n {
        bail!("--shard {s}: need 1 <= K <= N");
    }
    Ok((k, n))
}

pub fn runtime(
    name: &str,
    adapter: Option<&Path>,
    path: Option<PathBuf>,
) -> Result<Box<dyn Runtime>> {
    if let Some(file) = adapter {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading adapter {}", file.display()))?;
        return Ok(Box::new(CommandRuntime::new(
            parse_adapter(&text, &file.display().to_string())?,
            path,
        )?));
    }
    if name == "embedded" {
        return Ok(Box::new(Embedded::new()?));
    }
    match builtin(name) {
        Some(a) => Ok(Box::new(CommandRuntime::new(a?, path)?)),
        None => bail!(
            "unknown runtime `{name}`: use `embedded`, one of {}, or --adapter FILE",
            wasmcert_certify::command::BUILTIN
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Opts {
    pub fn run(&self) -> Result<ExitCode> {
        let (suite_name, cases) = match self.generated {
            None => load_cases(
                self.suite.as_deref(),
                self.wasi_testsuite.as_deref(),
                self.filter.as_deref(),
            )?,
            Some(n) => {
                if n > wasmcert_certify::generated::MAX_GENERATED {
                    bail!(
                        "--generated {n}: at most {} cases per run",
                        wasmcert_certify::generated::MAX_GENERATED
                    );
                }
                let mut generated = wasmcert_certify::generated::generate(n, self.seed);
                if let Some(f) = &self.filter {
                    let re = regex::Regex::new(f)
                        .with_context(|| format!("--filter {f:?} is not a valid regex"))?;
                    generated.retain(|c| re.is_match(&c.id));
                }
                if let Some(dir) = &self.save_generated {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                    for c in &generated {
                        let name = c.id.replace('/', "-");
                        let p = dir.join(format!("{name}.wasm"));
                        std::fs::write(&p, c.wasm()?)
                            .with_context(|| format!("writing {}", p.display()))?;
                    }
                }
                let name = format!("wasmcert-generated (seed {}, {n} cases)", self.seed);
                if self.suite.is_some() || self.wasi_testsuite.is_some() {
                    let (base, mut cases) = load_cases(
                        self.suite.as_deref(),
                        self.wasi_testsuite.as_deref(),
                        self.filter.as_deref(),
                    )?;
                    cases.extend(generated);
                    cases.sort_by(|a, b| a.id.cmp(&b.id));
                    (format!("{base} + {name}"), cases)
                } else {
                    (name, generated)
                }
            }
        };
        let digest = suite_digest(&cases);
        let cases = match &self.shard {
            Some(s) => {
                let (k, n) = parse_shard(s)?;
                wasmcert_certify::case::shard(cases, k, n)
            }
            None => cases,
        };
        let rt = runtime(
            &self.runtime,
            self.adapter.as_deref(),
            self.runtime_path.clone(),
        )?;
        if !rt.worlds().contains(&self.world) {
            bail!(
                "the runtime `{}` does not run the {} world ({}); it runs: {}",
                rt.identity().name,
                self.world,
                self.world.title(),
                rt.worlds()
                    .iter()
                    .map(|w| w.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let expectations = match &self.expectations {
            Some(p) => {
                if !p.exists() {
                    bail!("--expectations {}: no such file or directory", p.display());
                }
                // A directory holds one list per runtime and world: `<runtime>.toml` (p1),
                // `<runtime>.p2.toml` (--world p2).
                let name = match self.world {
                    wasmcert_certify::world::WasiWorld::P1 => rt.identity().name.clone(),
                    w => format!("{}.{w}", rt.identity().name),
                };
                Expectations::load(p, &name)?
            }
            None => Expectations::none(),
        };
        let total = cases.len();
        let done = AtomicUsize::new(0);
        let tty = std::io::stderr().is_terminal();
        let progress: Option<wasmcert_certify::runner::Progress> = if tty {
            Some(Box::new(move |id, o| {
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                eprint!("\r\x1b[2K[{n}/{total}] {:<15} {id}", o.label());
            }))
        } else {
            None
        };
        let opts = RunOptions {
            jobs: self.jobs.unwrap_or_else(|| {
                let cores = std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2);
                // WASI testsuite cases spend most of their time waiting on the runtime (a
                // service's graceful shutdown, a server's answer), not computing.
                if self.wasi_testsuite.is_some() {
                    cores * wasmcert_certify::testsuite::JOBS_PER_CORE
                } else {
                    cores
                }
            }),
            suite_name,
            suite_digest: digest,
            shard: self.shard.clone(),
            world: self.world,
            started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            progress,
        };
        let report = run(&cases, rt.as_ref(), &expectations, &opts);
        if tty {
            eprint!("\r\x1b[2K");
        }
        let color = self.output.is_none() && std::io::stdout().is_terminal();
        let text = match self.format {
            Format::Human => certification::human(&report, color),
            Format::Json => serde_json::to_string_pretty(&report)? + "\n",
            Format::Junit => certification::junit(&report),
        };
        emit(self.output.as_deref(), &text)?;
        if let Some(key) = &self.sign_key {
            let out = match &self.output {
                Some(o) => crate::signing::bundle_path(o),
                None => PathBuf::from(format!("{}.sigstore.json", report.runtime.name)),
            };
            crate::signing::sign_document(key, &serde_json::to_value(&report)?, &out)?;
            eprintln!("signed report: {}", out.display());
        }
        Ok(if report.failures() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}
