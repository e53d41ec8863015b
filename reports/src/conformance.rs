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

impl std::str::FromStr for OutcomeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OutcomeKind::ALL
            .into_iter()
            .find(|k| k.label() == s)
            .ok_or_else(|| {
                format!(
                    "unknown outcome {s:?}; known: {}",
                    OutcomeKind::ALL.map(OutcomeKind::label).join(", ")
                )
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
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        WasiWorld::ALL
            .into_iter()
            .find(|w| w.label() == s)
            .ok_or_else(|| format!("unknown world {s:?}; known: p1, p2"))
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

/// Why a conformance report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error(
        "a schema_version {0} report; this wasmcert reads version {REPORT_SCHEMA_VERSION}. \
         Version 1 reports folded known failures into the outcome (`expected-failure`), \
         hiding what was observed: run `wasmcert certify` again to make a version \
         {REPORT_SCHEMA_VERSION} report"
    )]
    Version(u64),
    #[error("no schema_version: not a wasmcert conformance report")]
    NoVersion,
    #[error("not a valid version {REPORT_SCHEMA_VERSION} conformance report: {0}")]
    Shape(#[source] serde_json::Error),
    #[error("{0}")]
    Invalid(String),
}

/// Longest case id or category accepted from a report.
const MAX_ID: usize = 200;

/// The grammar of case ids (`category/name`) and categories: letters, digits and `._+-`,
/// no empty segment, at most 200 characters. Reports come from vendors: an id that could
/// carry markup, a line break or a path into a rendered matrix is refused on read.
pub fn check_case_id(id: &str, category: &str) -> Result<(), String> {
    let segment = |s: &str| {
        !s.is_empty()
            && s.len() <= MAX_ID
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
            && s != "."
            && s != ".."
    };
    if !segment(category) {
        return Err(format!(
            "category {category:?} is not a valid category (letters, digits and ._+- only)"
        ));
    }
    match id.split_once('/') {
        Some((cat, name)) if cat == category && segment(name) => Ok(()),
        _ => Err(format!(
            "case id {id:?} is not `{category}/<name>` (letters, digits and ._+- only)"
        )),
    }
}

/// 64 lower-case hex digits: the only digest form reports and subjects carry.
pub fn check_sha256(what: &str, d: &str) -> Result<(), String> {
    if d.len() == 64 && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(format!(
            "{what} {:?} is not a SHA-256 digest (64 lower-case hex digits)",
            d.chars().take(80).collect::<String>()
        ))
    }
}

impl Report {
    /// Check what the renderers and policies rely on: case ids and categories in the id
    /// grammar, digests as hex.
    pub fn validate(&self) -> Result<(), String> {
        check_sha256("runtime.binary_sha256", &self.runtime.binary_sha256)?;
        check_sha256("suite.digest", &self.suite.digest)?;
        if let Some(e) = &self.suite.expectations {
            check_sha256("suite.expectations.sha256", &e.sha256)?;
        }
        for (id, c) in &self.cases {
            check_case_id(id, &c.category)?;
        }
        Ok(())
    }
}

/// Read a conformance report (JSON), refusing other schema versions with a clear message.
pub fn read_report(value: serde_json::Value) -> Result<Report, ReadError> {
    match value.get("schema_version").map(serde_json::Value::as_u64) {
        None => return Err(ReadError::NoVersion),
        Some(Some(v)) if v == u64::from(REPORT_SCHEMA_VERSION) => {}
        Some(Some(v)) => return Err(ReadError::Version(v)),
        Some(None) => return Err(ReadError::NoVersion),
    }
    let r: Report = serde_json::from_value(value).map_err(ReadError::Shape)?;
    r.validate().map_err(ReadError::Invalid)?;
    Ok(r)
}

/// Read a conformance report from JSON bytes.
pub fn read_report_bytes(bytes: &[u8]) -> Result<Report, ReadError> {
    read_report(serde_json::from_slice(bytes).map_err(ReadError::Json)?)
}

/// Why a signed bundle gave no report.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not verified by any given key ({0})")]
    NotVerified(String),
    #[error("a {0} statement, not a conformance report")]
    NotAReport(String),
    #[error("the signed report: {0}")]
    Report(#[source] ReadError),
}

/// A report read from a bundle that a given key verified.
pub struct VerifiedReport {
    pub report: Report,
    /// Index of the key (in the slice given) that verified the bundle.
    pub key: usize,
    pub verified: crate::sign::Verified,
}

/// Verify a Sigstore bundle with the first of `keys` (PEM) that verifies it and read the
/// conformance report it signs: the one routine the matrix, `report merge` and the policy
/// engine share.
pub fn verify_report(bundle: &[u8], keys: &[&[u8]]) -> Result<VerifiedReport, BundleError> {
    let mut last = String::from("no key given");
    for (i, pem) in keys.iter().enumerate() {
        match crate::sign::verify(bundle, pem, None) {
            Ok(v) => {
                if v.predicate_type != crate::sign::REPORT_PREDICATE {
                    return Err(BundleError::NotAReport(v.predicate_type));
                }
                let mut st: serde_json::Value = serde_json::from_slice(&v.payload)
                    .map_err(|e| BundleError::Report(ReadError::Json(e)))?;
                let report = read_report(st["predicate"].take()).map_err(BundleError::Report)?;
                return Ok(VerifiedReport {
                    report,
                    key: i,
                    verified: v,
                });
            }
            Err(crate::sign::Error::Version {
                found: Some(found), ..
            }) => return Err(BundleError::Report(ReadError::Version(found))),
            Err(e) => last = e.to_string(),
        }
    }
    Err(BundleError::NotVerified(last))
}
/// Parse a `K/N` shard label.
fn shard_of(r: &Report) -> Option<(u32, u32)> {
    let (k, n) = r.suite.shard.as_deref()?.split_once('/')?;
    Some((k.parse().ok()?, n.parse().ok()?))
}

/// Merge the reports of `certify --shard K/N` runs (K = 1..N) into the report an unsharded run
/// of the same suite on the same runtime produces: same runtime, suite, host and tool; every
/// shard exactly once; disjoint cases. The result does not depend on the order of `shards`;
/// its `started_at` is the earliest shard's. Errors say which input is wrong and why.
pub fn merge(shards: &[(String, Report)]) -> Result<Report, String> {
    let Some((first_name, first)) = shards.first() else {
        return Err("nothing to merge".into());
    };
    let mut by_k: BTreeMap<u32, (&String, &Report)> = BTreeMap::new();
    let mut n_all = None;
    for (name, r) in shards {
        let Some((k, n)) = shard_of(r) else {
            return Err(format!(
                "{name}: not a shard report (suite.shard is {:?}; make shards with certify --shard K/N)",
                r.suite.shard
            ));
        };
        if k == 0 || k > n {
            return Err(format!("{name}: shard {k}/{n} is out of range"));
        }
        if *n_all.get_or_insert(n) != n {
            return Err(format!(
                "{name}: shard {k}/{n}, but {first_name} is of {} shards",
                n_all.unwrap_or(0)
            ));
        }
        for (what, same) in [
            ("schema_version", r.schema_version == first.schema_version),
            ("tool", r.tool == first.tool),
            ("runtime", r.runtime == first.runtime),
            ("host", r.host == first.host),
            ("suite name", r.suite.name == first.suite.name),
            ("suite digest", r.suite.digest == first.suite.digest),
            ("world", r.suite.world == first.suite.world),
            (
                "expectations",
                r.suite.expectations == first.suite.expectations,
            ),
        ] {
            if !same {
                return Err(format!("{name}: its {what} differs from {first_name}'s"));
            }
        }
        if by_k.insert(k, (name, r)).is_some() {
            return Err(format!("{name}: shard {k}/{n} is given twice"));
        }
    }
    let n = n_all.unwrap_or(0);
    if let Some(missing) = (1..=n).find(|k| !by_k.contains_key(k)) {
        return Err(format!("shard {missing}/{n} is missing"));
    }
    let mut merged = first.clone();
    merged.suite.shard = None;
    merged.suite.cases = 0;
    merged.cases = BTreeMap::new();
    merged.started_at = by_k
        .values()
        .map(|(_, r)| r.started_at.clone())
        .min()
        .unwrap_or_default();
    for (name, r) in by_k.values() {
        merged.suite.cases += r.suite.cases;
        for (id, c) in &r.cases {
            if merged.cases.insert(id.clone(), c.clone()).is_some() {
                return Err(format!("{name}: case {id} is in two shards"));
            }
        }
    }
    merged.summarize();
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(k: u32, n: u32, ids: &[&str], at: &str) -> (String, Report) {
        let mut r = Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: ToolInfo {
                name: "wasmcert".into(),
                version: "0.1.0".into(),
            },
            runtime: RuntimeInfo {
                name: "embedded".into(),
                version: "1".into(),
                binary_sha256: "00".into(),
                adapter: "embedded".into(),
                flags: vec![],
            },
            suite: SuiteInfo {
                name: "s".into(),
                digest: "d".into(),
                cases: ids.len() as u32,
                shard: Some(format!("{k}/{n}")),
                expectations: None,
                world: Default::default(),
            },
            host: HostInfo {
                os: "linux".into(),
                arch: "x86_64".into(),
            },
            started_at: at.into(),
            cases: ids
                .iter()
                .map(|id| {
                    (
                        id.to_string(),
                        CaseResult {
                            category: id.split('/').next().unwrap().into(),
                            outcome: Outcome::Pass,
                            known: None,
                            evidence: Evidence::default(),
                        },
                    )
                })
                .collect(),
            verdict: Verdict::default(),
            summary: BTreeMap::new(),
        };
        r.summarize();
        (format!("shard{k}.json"), r)
    }

    #[test]
    fn merge_checks_the_shards_fit_together() {
        let a = shard(1, 2, &["a/1", "b/1"], "2026-01-02T00:00:00Z");
        let b = shard(2, 2, &["a/2"], "2026-01-01T00:00:00Z");
        let m = merge(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(m, merge(&[b.clone(), a.clone()]).unwrap());
        assert_eq!(m.suite.cases, 3);
        assert_eq!(m.suite.shard, None);
        assert_eq!(m.started_at, "2026-01-01T00:00:00Z");
        assert_eq!(m.summary["a"].outcomes[&OutcomeKind::Pass], 2);
        assert_eq!(m.verdict.passed, 3);
        assert!(
            merge(std::slice::from_ref(&a))
                .unwrap_err()
                .contains("shard 2/2 is missing")
        );
        assert!(
            merge(&[a.clone(), a.clone()])
                .unwrap_err()
                .contains("given twice")
        );
        let mut other = b.clone();
        other.1.runtime.version = "2".into();
        assert!(
            merge(&[a.clone(), other])
                .unwrap_err()
                .contains("runtime differs")
        );
        let three = shard(2, 3, &["c/1"], "2026-01-01T00:00:00Z");
        assert!(
            merge(&[a.clone(), three])
                .unwrap_err()
                .contains("of 2 shards")
        );
        let dup = shard(2, 2, &["a/1"], "2026-01-01T00:00:00Z");
        assert!(
            merge(&[a.clone(), dup])
                .unwrap_err()
                .contains("case a/1 is in two shards")
        );
        let mut whole = a.clone();
        whole.1.suite.shard = None;
        assert!(merge(&[whole]).unwrap_err().contains("not a shard report"));
        assert!(merge(&[]).is_err());
    }

    #[test]
    fn known_failures_annotate_and_the_verdict_counts_what_was_observed() {
        let (_, mut r) = shard(1, 1, &["sandbox/a", "sandbox/b", "limits/c"], "t");
        r.suite.shard = None;
        r.runtime.binary_sha256 = "ab".repeat(32);
        r.suite.digest = "cd".repeat(32);
        let a = r.cases.get_mut("sandbox/a").unwrap();
        a.outcome = Outcome::Escaped {
            why: "read the secret".into(),
        };
        a.known = Some(Known {
            expected: "escaped".into(),
            reason: "r".into(),
            advisory: Some("GHSA-2r75-cxrj-cmph".into()),
            holds: true,
        });
        r.cases.get_mut("limits/c").unwrap().outcome = Outcome::Crashed { signal: 11 };
        r.summarize();
        assert_eq!(r.verdict.result, VerdictResult::Fail);
        assert_eq!(r.verdict.containment.count, 1);
        assert_eq!(r.verdict.containment.known, 1);
        assert_eq!(r.verdict.containment.cases, ["sandbox/a"]);
        assert_eq!(r.verdict.stability.cases, ["limits/c"]);
        assert_eq!(r.verdict.unexplained, ["limits/c"]);
        assert_eq!(r.summary["sandbox"].outcomes[&OutcomeKind::Escaped], 1);
        assert_eq!(r.summary["sandbox"].known[&OutcomeKind::Escaped], 1);
        assert_eq!(r.failures(), 1);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["cases"]["sandbox/a"]["outcome"], "escaped");
        assert_eq!(
            json["cases"]["sandbox/a"]["known"]["advisory"],
            "GHSA-2r75-cxrj-cmph"
        );
        assert_eq!(json["summary"]["sandbox"]["outcomes"]["escaped"], 1);
        assert_eq!(json["verdict"]["containment"]["count"], 1);
        assert_eq!(read_report(json.clone()).unwrap(), r);

        let mut old = json.clone();
        old["schema_version"] = 1.into();
        let e = read_report(old).unwrap_err().to_string();
        assert!(
            e.contains("schema_version 1") && e.contains("expected-failure"),
            "{e}"
        );
        let mut bad = json.clone();
        bad["cases"]["sandbox/x\n<script>"] = bad["cases"]["sandbox/a"].clone();
        let e = read_report(bad).unwrap_err().to_string();
        assert!(e.contains("is not `sandbox/<name>`"), "{e}");
        let mut bad = json;
        bad["runtime"]["binary_sha256"] = "<b>sha</b>".into();
        let e = read_report(bad).unwrap_err().to_string();
        assert!(e.contains("not a SHA-256 digest"), "{e}");
    }
}
