//! The conformance report of a `wasmcert certify` run: which runtime (and which exact build),
//! which suite (and its digest), the observed outcome of every case with its evidence, a
//! summary per category and a verdict a reader cannot miss. Deterministic: maps are sorted,
//! and the only wall-clock value is the named `started_at` field.
//!
//! The observed outcome is never replaced: a known-failure list (`certify --expectations`)
//! only adds a [`Known`] annotation beside it, and the summaries and the verdict count what
//! was observed.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Version 2: outcomes are always observed (`expected-failure` is gone; known failures are
/// the separate `known` field), summaries are `{outcomes, known}` per category, and the
/// report carries a `verdict`.
pub const REPORT_SCHEMA_VERSION: u32 = 2;

/// The outcome vocabulary, defined once. Declared from the most to the least severe, so the
/// derived order is the severity order every renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// The guest reached host state it was not granted (a canary secret, a file outside its
    /// preopens, a write through a read-only grant).
    Escaped,
    /// The runtime process died on a signal.
    Crashed,
    /// Killed at the runner's deadline.
    Timeout,
    /// The runtime behaved otherwise than the case expects.
    Fail,
    /// The case could not be run (setup or adapter error).
    Error,
    /// The runtime cannot express a control the case needs.
    NotSupported,
    Pass,
}

impl OutcomeKind {
    /// Every outcome, most severe first.
    pub const ALL: [OutcomeKind; 7] = [
        OutcomeKind::Escaped,
        OutcomeKind::Crashed,
        OutcomeKind::Timeout,
        OutcomeKind::Fail,
        OutcomeKind::Error,
        OutcomeKind::NotSupported,
        OutcomeKind::Pass,
    ];

    /// The kebab-case id used in JSON, JUnit types, CSS classes and policies.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Escaped => "escaped",
            OutcomeKind::Crashed => "crashed",
            OutcomeKind::Timeout => "timeout",
            OutcomeKind::Fail => "fail",
            OutcomeKind::Error => "error",
            OutcomeKind::NotSupported => "not-supported",
            OutcomeKind::Pass => "pass",
        }
    }

    /// The label for people.
    pub fn title(self) -> &'static str {
        match self {
            OutcomeKind::Escaped => "Escaped",
            OutcomeKind::Crashed => "Crashed",
            OutcomeKind::Timeout => "Timeout",
            OutcomeKind::Fail => "Fail",
            OutcomeKind::Error => "Error",
            OutcomeKind::NotSupported => "Not supported",
            OutcomeKind::Pass => "Pass",
        }
    }

    /// Outcomes that fail a certification.
    pub fn is_failure(self) -> bool {
        !matches!(self, OutcomeKind::Pass | OutcomeKind::NotSupported)
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A name that is not in a vocabulary (outcome, world), with the names that are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownName(pub String);

impl std::str::FromStr for OutcomeKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        OutcomeKind::ALL
            .into_iter()
            .find(|k| k.label() == s)
            .ok_or_else(|| {
                UnknownName(format!(
                    "unknown outcome {s:?}; known: {}",
                    OutcomeKind::ALL.map(OutcomeKind::label).join(", ")
                ))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub runtime: RuntimeInfo,
    pub suite: SuiteInfo,
    pub host: HostInfo,
    /// RFC 3339 UTC time the run started: the one wall-clock field.
    pub started_at: String,
    /// What the run found, severity first: recomputed from `cases` by [`Report::summarize`].
    pub verdict: Verdict,
    /// `category/case-id` → result.
    pub cases: BTreeMap<String, CaseResult>,
    /// category → observed outcome counts (and how many of them a known-failure list names).
    pub summary: BTreeMap<String, CategorySummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeInfo {
    pub name: String,
    pub version: String,
    /// SHA-256 of the runtime binary; for `embedded`, of the engine's crate name and version.
    pub binary_sha256: String,
    /// The adapter and flags used, as run.
    pub adapter: String,
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteInfo {
    pub name: String,
    /// SHA-256 over the case files in a stable order (see `docs/report-format.md`).
    pub digest: String,
    pub cases: u32,
    /// `K/N` when this report covers one shard.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<String>,
    /// The known-failure list applied (`certify --expectations`), by file name and SHA-256;
    /// absent when none was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expectations: Option<ExpectationsInfo>,
    /// How the cases ran: as preview1 core modules (`p1`, the default, not written) or as
    /// WASI 0.2 command components made from them with the preview1 command adapter (`p2`).
    #[serde(skip_serializing_if = "WasiWorld::is_p1", default)]
    pub world: WasiWorld,
}

/// The WASI world a certification exercised (`certify --world`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum WasiWorld {
    /// Each case's core module, importing `wasi_snapshot_preview1`.
    #[default]
    P1,
    /// Each case's module made a `wasi:cli/command` component (WASI 0.2) with the preview1
    /// command adapter, so the runtime's WASI 0.2 host runs it.
    P2,
}

impl WasiWorld {
    pub const ALL: [WasiWorld; 2] = [WasiWorld::P1, WasiWorld::P2];

    /// The id used in JSON and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            WasiWorld::P1 => "p1",
            WasiWorld::P2 => "p2",
        }
    }

    /// The label for people.
    pub fn title(self) -> &'static str {
        match self {
            WasiWorld::P1 => "WASI preview1 (core modules)",
            WasiWorld::P2 => "WASI 0.2 (components)",
        }
    }

    pub fn is_p1(&self) -> bool {
        *self == WasiWorld::P1
    }
}

impl fmt::Display for WasiWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl std::str::FromStr for WasiWorld {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        WasiWorld::ALL
            .into_iter()
            .find(|w| w.label() == s)
            .ok_or_else(|| UnknownName(format!("unknown world {s:?}; known: p1, p2")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationsInfo {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostInfo {
    pub os: String,
    pub arch: String,
}

/// What was observed, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail {
        why: String,
    },
    /// `why` holds the escape evidence (which secret leaked, which host state changed).
    Escaped {
        why: String,
    },
    Crashed {
        signal: i32,
    },
    Timeout,
    NotSupported {
        why: String,
        /// The control the runtime cannot express (`dirs`, `memory-limit`, ...), when that is
        /// the reason.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        missing: Option<String>,
    },
    Error {
        why: String,
    },
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Pass => OutcomeKind::Pass,
            Outcome::Fail { .. } => OutcomeKind::Fail,
            Outcome::Escaped { .. } => OutcomeKind::Escaped,
            Outcome::Crashed { .. } => OutcomeKind::Crashed,
            Outcome::Timeout => OutcomeKind::Timeout,
            Outcome::NotSupported { .. } => OutcomeKind::NotSupported,
            Outcome::Error { .. } => OutcomeKind::Error,
        }
    }

    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    pub fn is_failure(&self) -> bool {
        self.kind().is_failure()
    }

    /// The explanation for people: the evidence, the reason, or the signal.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Pass => String::new(),
            Outcome::Fail { why }
            | Outcome::Escaped { why }
            | Outcome::NotSupported { why, .. }
            | Outcome::Error { why } => why.clone(),
            Outcome::Crashed { signal } => format!("the runtime died on signal {signal}"),
            Outcome::Timeout => "killed at the runner's deadline".into(),
        }
    }
}

/// A known-failure entry that names this case: an annotation beside the observed outcome,
/// never a replacement for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    /// The outcome the list expects (`any` matches every failure).
    pub expected: String,
    pub reason: String,
    /// A public advisory (GHSA-…, CVE-…) the entry cites.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub advisory: Option<String>,
    /// Whether the observed outcome is the one listed. A listed case that passed (or failed
    /// otherwise) does not hold: the list is stale and the run fails.
    pub holds: bool,
}

// No deny_unknown_fields here: serde does not support it together with `flatten`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub category: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub known: Option<Known>,
    pub evidence: Evidence,
}

impl CaseResult {
    /// A failure no holding known-failure entry accounts for, or a stale entry: what makes
    /// `certify` exit 1.
    pub fn unexplained(&self) -> bool {
        match &self.known {
            Some(k) => !k.holds,
            None => self.outcome.is_failure(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signal: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub trap: Option<String>,
    /// The first bytes of stdout/stderr (lossy UTF-8, at most 512 bytes each).
    pub stdout_head: String,
    pub stderr_head: String,
    /// Wall time of the runtime invocation, milliseconds. Not deterministic; it is evidence.
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySummary {
    /// Observed outcome → count.
    pub outcomes: BTreeMap<OutcomeKind, u32>,
    /// Observed outcome → how many of those cases a holding known-failure entry names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub known: BTreeMap<OutcomeKind, u32>,
}

/// Cases of one kind of finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    pub count: u32,
    /// How many of them a holding known-failure entry names (they still count).
    pub known: u32,
    /// Their case ids, sorted.
    pub cases: Vec<String>,
}

impl Tally {
    fn add(&mut self, id: &str, known: bool) {
        self.count += 1;
        self.known += u32::from(known);
        self.cases.push(id.to_string());
    }
}

/// The headline of a report, severity first: containment (escapes), stability (crashes and
/// hangs), conformance (failed expectations), errors (cases that could not run) and coverage
/// (what the runtime cannot express).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// `pass` when no case escaped, crashed, timed out, failed or errored, else `fail`; known
    /// failures do not change it.
    pub result: VerdictResult,
    pub containment: Tally,
    pub stability: Tally,
    pub conformance: Tally,
    pub errors: Tally,
    pub coverage: Coverage,
    pub passed: u32,
    pub total: u32,
    /// Cases no holding known-failure entry accounts for, plus stale entries: non-empty means
    /// `certify` exits 1.
    pub unexplained: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictResult {
    #[default]
    Pass,
    Fail,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub not_supported: u32,
    /// Control the runtime lacks → how many cases needed it.
    pub missing: BTreeMap<String, u32>,
    pub cases: Vec<String>,
}

impl Report {
    /// Recompute the per-category summary and the verdict from the cases.
    pub fn summarize(&mut self) {
        let mut s: BTreeMap<String, CategorySummary> = BTreeMap::new();
        let mut v = Verdict::default();
        for (id, r) in &self.cases {
            let kind = r.outcome.kind();
            let known = r.known.as_ref().is_some_and(|k| k.holds);
            let cat = s.entry(r.category.clone()).or_default();
            *cat.outcomes.entry(kind).or_default() += 1;
            if known {
                *cat.known.entry(kind).or_default() += 1;
            }
            v.total += 1;
            match &r.outcome {
                Outcome::Escaped { .. } => v.containment.add(id, known),
                Outcome::Crashed { .. } | Outcome::Timeout => v.stability.add(id, known),
                Outcome::Fail { .. } => v.conformance.add(id, known),
                Outcome::Error { .. } => v.errors.add(id, known),
                Outcome::NotSupported { missing, .. } => {
                    v.coverage.not_supported += 1;
                    v.coverage.cases.push(id.clone());
                    if let Some(m) = missing {
                        *v.coverage.missing.entry(m.clone()).or_default() += 1;
                    }
                }
                Outcome::Pass => v.passed += 1,
            }
            if r.unexplained() {
                v.unexplained.push(id.clone());
            }
        }
        v.result = if v.containment.count + v.stability.count + v.conformance.count + v.errors.count
            == 0
        {
            VerdictResult::Pass
        } else {
            VerdictResult::Fail
        };
        self.summary = s;
        self.verdict = v;
    }

    /// Cases that make `certify` exit 1: failures no holding known entry accounts for, and
    /// stale entries.
    pub fn failures(&self) -> usize {
        self.cases.values().filter(|c| c.unexplained()).count()
    }
}

mod read;
mod shards;
pub use read::{
    BundleError, Invalid, ReadError, VerifiedReport, check_case_id, check_sha256, read_report,
    read_report_bytes, verify_report,
};
pub use shards::{ShardError, merge};
