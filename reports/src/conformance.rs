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
                            evidence: Evidence::default(),
                        },
                    )
                })
                .collect(),
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
        assert_eq!(m.summary["a"]["pass"], 2);
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
}
