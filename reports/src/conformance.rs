//! The conformance report of a `wasmcert certify` run: which runtime (and which exact build),
//! which suite (and its digest), the outcome of every case with its evidence, and a summary
//! per category. Deterministic: maps are sorted, and the only wall-clock value is the named
//! `started_at` field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub runtime: RuntimeInfo,
    pub suite: SuiteInfo,
    pub host: HostInfo,
    /// RFC 3339 UTC time the run started: the one wall-clock field.
    pub started_at: String,
    /// `category/case-id` → result.
    pub cases: BTreeMap<String, CaseResult>,
    /// category → outcome → count.
    pub summary: BTreeMap<String, BTreeMap<String, u32>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct SuiteInfo {
    pub name: String,
    /// SHA-256 over the case files in a stable order (see `docs/report-format.md`).
    pub digest: String,
    pub cases: u32,
    /// `K/N` when this report covers one shard.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    pub os: String,
    pub arch: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    /// A listed expected failure (see `certify/expectations/<runtime>.toml`).
    ExpectedFailure {
        why: String,
    },
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
    },
    Error {
        why: String,
    },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::ExpectedFailure { .. } => "expected-failure",
            Outcome::Fail { .. } => "fail",
            Outcome::Escaped { .. } => "escaped",
            Outcome::Crashed { .. } => "crashed",
            Outcome::Timeout => "timeout",
            Outcome::NotSupported { .. } => "not-supported",
            Outcome::Error { .. } => "error",
        }
    }

    /// Outcomes that make `certify` exit 1.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Outcome::Fail { .. }
                | Outcome::Escaped { .. }
                | Outcome::Crashed { .. }
                | Outcome::Timeout
                | Outcome::Error { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub category: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

impl Report {
    /// Recompute the per-category summary from the cases.
    pub fn summarize(&mut self) {
        let mut s: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
        for r in self.cases.values() {
            *s.entry(r.category.clone())
                .or_default()
                .entry(r.outcome.label().to_string())
                .or_default() += 1;
        }
        self.summary = s;
    }

    pub fn failures(&self) -> usize {
        self.cases
            .values()
            .filter(|c| c.outcome.is_failure())
            .count()
    }
}
