//! Runs cases in parallel against one runtime and judges each with the same rules: escape
//! evidence first, then runner-level failures (crash, timeout, memory cap), then the case's
//! expectations. Produces the conformance [`Report`].

use crate::case::Case;
use crate::expectations::Expectations;
use crate::runtime::{End, Prepared, RawRun, Runtime};
use crate::workdir::WorkDir;
use crate::world::{Componentizer, WasiWorld};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;
use wasmcert_report::conformance::{
    CaseResult, Evidence, HostInfo, Outcome, Report, RuntimeInfo, SuiteInfo, ToolInfo,
};

/// Default runtime deadline when a case sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of stdout/stderr kept as evidence in the report.
const EVIDENCE_BYTES: usize = 512;

/// Called with the case id and its outcome as each case finishes.
pub type Progress = Box<dyn Fn(&str, &Outcome) + Send + Sync>;

pub struct RunOptions {
    pub jobs: usize,
    pub suite_name: String,
    pub suite_digest: String,
    pub shard: Option<String>,
    pub started_at: String,
    /// How the cases run: core modules (p1) or command components made from them (p2).
    pub world: WasiWorld,
    /// Called after each case (progress display).
    pub progress: Option<Progress>,
}

pub fn run(
    cases: &[Case],
    runtime: &dyn Runtime,
    expectations: &Expectations,
    opts: &RunOptions,
) -> Report {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build();
    let components = Componentizer::default();
    let job = |c: &Case| {
        let r = run_case_in(c, runtime, expectations, opts.world, &components);
        if let Some(p) = &opts.progress {
            p(&c.id, &r.outcome);
        }
        (c.id.clone(), r)
    };
    let results: Vec<(String, CaseResult)> = match pool {
        Ok(pool) => pool.install(|| cases.par_iter().map(job).collect()),
        Err(_) => cases.iter().map(job).collect(),
    };
    let id = runtime.identity();
    let mut report = Report {
        schema_version: wasmcert_report::conformance::REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "wasmcert".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        runtime: RuntimeInfo {
            name: id.name.clone(),
            version: id.version.clone(),
            binary_sha256: id.binary_sha256.clone(),
            adapter: id.adapter.clone(),
            flags: {
                let mut f = id.flags.clone();
                if opts.world == WasiWorld::P2 {
                    f.push(format!("component-adapter={}", crate::world::ADAPTER));
                }
                f
            },
        },
        suite: SuiteInfo {
            name: opts.suite_name.clone(),
            digest: opts.suite_digest.clone(),
            cases: cases.len() as u32,
            shard: opts.shard.clone(),
            expectations: expectations.info().cloned(),
            world: opts.world,
        },
        host: HostInfo {
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
        },
        started_at: opts.started_at.clone(),
        verdict: Default::default(),
        cases: results.into_iter().collect::<BTreeMap<_, _>>(),
        summary: BTreeMap::new(),
    };
    report.summarize();
    report
}

/// Evidence without what differs from run to run: the case's temp directory and its random
/// secrets become placeholders, so the same runtime gives the same report (and shards merge
/// into exactly the unsharded report). Escape detection reads the raw output, not this.
pub(crate) fn redact(work: &WorkDir, text: &str) -> String {
    let mut out = text.replace(&work.secret, "<file-secret>");
    out = out.replace(&work.env_secret, "<env-secret>");
    let path = work.path().to_string_lossy().into_owned();
    if !path.is_empty() {
        out = out.replace(&path, "<work>");
    }
    if let Ok(canon) = std::fs::canonicalize(work.path()) {
        let canon = canon.to_string_lossy().into_owned();
        if canon != path {
            out = out.replace(&canon, "<work>");
        }
    }
    out
}

pub(crate) fn head(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(EVIDENCE_BYTES)]).into_owned()
}

pub fn run_case(case: &Case, runtime: &dyn Runtime, expectations: &Expectations) -> CaseResult {
    run_case_in(
        case,
        runtime,
        expectations,
        WasiWorld::P1,
        &Componentizer::default(),
    )
}

/// One case in `world`, its components made (and kept) by `components`.
pub fn run_case_in(
    case: &Case,
    runtime: &dyn Runtime,
    expectations: &Expectations,
    world: WasiWorld,
    components: &Componentizer,
) -> CaseResult {
    let (outcome, evidence) = execute(case, runtime, world, components);
    CaseResult {
        category: case.category.clone(),
        known: expectations.annotate(&case.id, &outcome),
        outcome,
        evidence,
    }
}

fn execute(
    case: &Case,
    runtime: &dyn Runtime,
    world: WasiWorld,
    components: &Componentizer,
) -> (Outcome, Evidence) {
    if let Some(test) = &case.wasi {
        return crate::testsuite::run::execute(case, test, runtime);
    }
    if let Some(why) = &case.unsupported {
        return (
            Outcome::NotSupported {
                why: why.clone(),
                missing: None,
            },
            Evidence::default(),
        );
    }
    let mut needs: Vec<&str> = case.spec.requires.iter().map(String::as_str).collect();
    if !case.spec.run.dirs.is_empty() {
        needs.push("dirs");
    }
    if case.spec.run.dirs.iter().any(|d| d.read_only()) {
        needs.push("read-only-dirs");
    }
    if case.spec.run.dirs.iter().any(|d| d.read_only_files()) {
        needs.push("read-only-files");
    }
    if !case.spec.run.env.is_empty() {
        needs.push("env");
    }
    if case.spec.run.network.is_some() {
        needs.push("network");
    }
    if case.spec.run.stdin.is_some() {
        needs.push("stdin");
    }
    if let Some(missing) = needs.iter().find(|f| !runtime.supports(f)) {
        return (
            Outcome::NotSupported {
                why: format!("the runtime cannot express `{missing}`"),
                missing: Some(missing.to_string()),
            },
            Evidence::default(),
        );
    }
    let wasm = match case.wasm() {
        Ok(w) => w,
        Err(e) => {
            return (
                Outcome::Error {
                    why: e.with_causes().to_string(),
                },
                Evidence::default(),
            );
        }
    };
    if world == WasiWorld::P2
        && let Some(o) = case.spec.p2.as_ref().filter(|o| o.not_applicable)
    {
        return (
            Outcome::NotSupported {
                why: format!("not applicable as a WASI 0.2 component: {}", o.why),
                missing: Some("component".into()),
            },
            Evidence::default(),
        );
    }
    // The case as it runs in this world: as a component, its `[p2]` overlay (if any).
    let overlaid;
    let case = match (&case.p2, world) {
        (Some(spec), WasiWorld::P2) => {
            overlaid = Case {
                spec: spec.as_ref().clone(),
                ..case.clone()
            };
            &overlaid
        }
        _ => case,
    };
    let wasm = match (world, &case.spec.component) {
        (WasiWorld::P1, Some(w)) => {
            return (
                Outcome::NotSupported {
                    why: format!(
                        "a component-native case (world `{w}`, WASI 0.2 interfaces no preview1 \
                         module can import): it runs with --world p2"
                    ),
                    missing: Some("component".into()),
                },
                Evidence::default(),
            );
        }
        (WasiWorld::P2, Some(w)) => {
            let wit = case
                .dir
                .parent()
                .and_then(|d| d.parent())
                .map(|d| d.join("wit"))
                .unwrap_or_default();
            match components.guest(&wasm, &wit, w) {
                Ok(c) => c.as_ref().clone(),
                Err(e) => {
                    return (
                        Outcome::Error {
                            why: format!("{e} (suite WIT {})", wit.display()),
                        },
                        Evidence::default(),
                    );
                }
            }
        }
        (WasiWorld::P1, None) => wasm,
        (WasiWorld::P2, None) => match components.get(&wasm) {
            Ok(c) => c.as_ref().clone(),
            // Not the runtime's doing: the case has no WASI 0.2 form (it imports outside
            // preview1, or is not a command). Said as such, and counted as coverage.
            Err(e) => {
                return (
                    Outcome::NotSupported {
                        why: e.to_string(),
                        missing: Some("component".into()),
                    },
                    Evidence::default(),
                );
            }
        },
    };
    let work = match WorkDir::new(&case.spec, &wasm) {
        Ok(w) => w,
        Err(e) => {
            return (
                Outcome::Error {
                    why: format!("setting up the work dir: {}", e.with_causes()),
                },
                Evidence::default(),
            );
        }
    };
    let wasm_path = work.module_path();
    let timeout = case
        .spec
        .limits
        .timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_TIMEOUT);
    // The network canaries, for a case that tells its guest where they are.
    let wants_canary = case.spec.run.args.iter().any(|a| a.contains("{canary_"));
    let canaries = if wants_canary {
        match crate::canary::Canaries::start() {
            Ok(c) => Some(c),
            Err(e) => {
                return (
                    Outcome::Error {
                        why: format!("starting the network canaries: {e}"),
                    },
                    Evidence::default(),
                );
            }
        }
    } else {
        None
    };
    let prepared = Prepared {
        case,
        work: work.path(),
        wasm_path,
        wasm: &wasm,
        env_secret: &work.env_secret,
        timeout,
        world,
        canary: canaries.as_ref().map(|c| (c.tcp_port, c.udp_port)),
    };
    let raw = runtime.run(&prepared);
    let contacts = canaries.map(|c| c.finish()).unwrap_or_default();
    let raw = match raw {
        Ok(r) => r,
        Err(e) => {
            return (
                Outcome::Error {
                    why: e.with_causes().to_string(),
                },
                Evidence::default(),
            );
        }
    };
    let evidence = Evidence {
        exit_code: match raw.end {
            End::Exited(c) => Some(c),
            _ => None,
        },
        signal: match raw.end {
            End::Signaled(s) => Some(s),
            _ => None,
        },
        trap: match &raw.end {
            End::Trapped(t) | End::Refused(t) => Some(redact(
                &work,
                &t.chars().take(EVIDENCE_BYTES).collect::<String>(),
            )),
            _ => None,
        },
        stdout_head: redact(&work, &head(&raw.stdout)),
        stderr_head: redact(&work, &head(&raw.stderr)),
        duration_ms: raw.duration.as_millis() as u64,
    };
    let outcome = match judge(case, &work, &raw, &contacts) {
        Outcome::Fail { why } => Outcome::Fail {
            why: redact(&work, &why),
        },
        Outcome::Error { why } => Outcome::Error {
            why: redact(&work, &why),
        },
        other => other,
    };
    // `work` is dropped here: the temp dir and everything the guest made in it go away.
    (outcome, evidence)
}

fn judge(
    case: &Case,
    work: &WorkDir,
    raw: &RawRun,
    contacts: &[crate::canary::Contact],
) -> Outcome {
    if let Some(evidence) = work.evidence(&raw.stdout, &raw.stderr) {
        return Outcome::Escaped { why: evidence };
    }
    if case.spec.run.network.is_none() && !contacts.is_empty() {
        return Outcome::Escaped {
            why: format!(
                "the guest reached the runner's network canary without a network grant: {}",
                contacts
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
    }
    match &raw.end {
        End::Signaled(s) => return Outcome::Crashed { signal: *s },
        End::TimedOut => return Outcome::Timeout,
        End::MemoryCap(rss) => {
            return Outcome::Fail {
                why: format!(
                    "the runtime used {rss} bytes of resident memory, past the runner's cap"
                ),
            };
        }
        _ => {}
    }
    if let Some(p) = case
        .spec
        .expect
        .canary
        .iter()
        .find(|p| !contacts.iter().any(|c| c.proto == p.as_str()))
    {
        return Outcome::Fail {
            why: format!(
                "with the network granted, the guest never reached the {p} canary{}",
                match check(case, work, raw) {
                    Ok(()) => String::new(),
                    Err(Mismatch(why)) => format!(" ({why})"),
                }
            ),
        };
    }
    match check(case, work, raw) {
        Ok(()) => Outcome::Pass,
        Err(Mismatch(why)) => Outcome::Fail { why },
    }
}

fn check(case: &Case, work: &WorkDir, raw: &RawRun) -> Result<(), Mismatch> {
    let e = &case.spec.expect;
    let stdout = String::from_utf8_lossy(&raw.stdout);
    let stderr = String::from_utf8_lossy(&raw.stderr);
    let describe = |end: &End| match end {
        End::Exited(c) => format!("exited with {c}"),
        End::Trapped(t) => format!("trapped ({t})"),
        End::Refused(t) => format!("was refused ({t})"),
        other => format!("{other:?}"),
    };
    if e.refused == Some(true) && !matches!(raw.end, End::Refused(_)) {
        return mismatch(format!(
            "expected the module to be refused, but it {}",
            describe(&raw.end)
        ));
    }
    if e.trap == Some(true) && !matches!(raw.end, End::Trapped(_) | End::Refused(_)) {
        return mismatch(format!(
            "expected a trap, but the guest {}",
            describe(&raw.end)
        ));
    }
    if e.trap == Some(false) && matches!(raw.end, End::Trapped(_)) {
        return mismatch(format!(
            "expected no trap, but the guest {}",
            describe(&raw.end)
        ));
    }
    // `settles`: any end of the run's own is fine (an exit of any status, a trap, a refusal);
    // every other key present must still hold.
    let settles = e.settles == Some(true);
    if settles && !matches!(raw.end, End::Exited(_) | End::Trapped(_) | End::Refused(_)) {
        return mismatch(format!("the run did not settle: {}", describe(&raw.end)));
    }
    if !settles
        && e.refused != Some(true)
        && e.trap != Some(true)
        && matches!(raw.end, End::Refused(_))
    {
        return mismatch(format!("the module {}", describe(&raw.end)));
    }
    if let Some(code) = e.exit_code
        && raw.end != End::Exited(code)
    {
        return mismatch(format!(
            "expected exit code {code}, but the guest {}",
            describe(&raw.end)
        ));
    }
    check_stream(
        "stdout",
        &stdout,
        e.stdout.as_deref(),
        e.stdout_prefix.as_deref(),
        &e.stdout_contains,
        &e.stdout_not_contains,
    )?;
    check_stream(
        "stderr",
        &stderr,
        e.stderr.as_deref(),
        e.stderr_prefix.as_deref(),
        &e.stderr_contains,
        &[],
    )?;
    for f in &e.files_present {
        if std::fs::symlink_metadata(work.path().join(f)).is_err() {
            return mismatch(format!("{f} should exist"));
        }
    }
    for f in &e.files_absent {
        if std::fs::symlink_metadata(work.path().join(f)).is_ok() {
            return mismatch(format!("{f} should not exist"));
        }
    }
    for f in &e.file_contents {
        match std::fs::read(work.path().join(&f.path)) {
            Ok(b) if b == f.content.as_bytes() => {}
            Ok(b) => {
                return mismatch(format!(
                    "{} holds {:?}, expected {:?}",
                    f.path,
                    clip(&String::from_utf8_lossy(&b)),
                    f.content
                ));
            }
            Err(_) => return mismatch(format!("{} cannot be read", f.path)),
        }
    }
    Ok(())
}

/// The output expectations of one stream: exact text, prefix, substrings present and absent.
fn check_stream(
    name: &str,
    text: &str,
    exact: Option<&str>,
    prefix: Option<&str>,
    contains: &[String],
    not_contains: &[String],
) -> Result<(), Mismatch> {
    if let Some(s) = exact
        && text != s
    {
        return mismatch(format!(
            "{name} was {:?}, expected {:?}",
            clip(text),
            clip(s)
        ));
    }
    if let Some(s) = prefix
        && !text.starts_with(s)
    {
        return mismatch(format!(
            "{name} {:?} does not start with {:?}",
            clip(text),
            clip(s)
        ));
    }
    if let Some(s) = contains.iter().find(|s| !text.contains(s.as_str())) {
        return mismatch(format!("{name} {:?} does not contain {s:?}", clip(text)));
    }
    if let Some(s) = not_contains.iter().find(|s| text.contains(s.as_str())) {
        return mismatch(format!("{name} contains {s:?}"));
    }
    Ok(())
}

/// Why a run does not meet its case's expectations, said for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mismatch(String);

fn mismatch(why: String) -> Result<(), Mismatch> {
    Err(Mismatch(why))
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}
