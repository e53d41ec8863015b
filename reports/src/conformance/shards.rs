//! Merging the reports of `certify --shard K/N` runs into the unsharded report.

use super::Report;
use std::collections::BTreeMap;

/// Why shards could not be merged: which input is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(pub String);

/// Parse a `K/N` shard label.
fn shard_of(r: &Report) -> Option<(u32, u32)> {
    let (k, n) = r.suite.shard.as_deref()?.split_once('/')?;
    Some((k.parse().ok()?, n.parse().ok()?))
}

/// Merge the reports of `certify --shard K/N` runs (K = 1..N) into the report an unsharded run
/// of the same suite on the same runtime produces: same runtime, suite, host and tool; every
/// shard exactly once; disjoint cases. The result does not depend on the order of `shards`;
/// its `started_at` is the earliest shard's. Errors say which input is wrong and why.
pub fn merge(shards: &[(String, Report)]) -> Result<Report, ShardError> {
    let fail = |why: String| Err(ShardError(why));
    let Some((first_name, first)) = shards.first() else {
        return fail("nothing to merge".into());
    };
    let mut by_k: BTreeMap<u32, (&String, &Report)> = BTreeMap::new();
    let mut n_all = None;
    for (name, r) in shards {
        let Some((k, n)) = shard_of(r) else {
            return fail(format!(
                "{name}: not a shard report (suite.shard is {:?}; make shards with certify --shard K/N)",
                r.suite.shard
            ));
        };
        if k == 0 || k > n {
            return fail(format!("{name}: shard {k}/{n} is out of range"));
        }
        if *n_all.get_or_insert(n) != n {
            return fail(format!(
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
                return fail(format!("{name}: its {what} differs from {first_name}'s"));
            }
        }
        if by_k.insert(k, (name, r)).is_some() {
            return fail(format!("{name}: shard {k}/{n} is given twice"));
        }
    }
    let n = n_all.unwrap_or(0);
    if let Some(missing) = (1..=n).find(|k| !by_k.contains_key(k)) {
        return fail(format!("shard {missing}/{n} is missing"));
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
                return fail(format!("{name}: case {id} is in two shards"));
            }
        }
    }
    merged.summarize();
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::*;

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
                .0
                .contains("shard 2/2 is missing")
        );
        assert!(
            merge(&[a.clone(), a.clone()])
                .unwrap_err()
                .0
                .contains("given twice")
        );
        let mut other = b.clone();
        other.1.runtime.version = "2".into();
        assert!(
            merge(&[a.clone(), other])
                .unwrap_err()
                .0
                .contains("runtime differs")
        );
        let three = shard(2, 3, &["c/1"], "2026-01-01T00:00:00Z");
        assert!(
            merge(&[a.clone(), three])
                .unwrap_err()
                .0
                .contains("of 2 shards")
        );
        let dup = shard(2, 2, &["a/1"], "2026-01-01T00:00:00Z");
        assert!(
            merge(&[a.clone(), dup])
                .unwrap_err()
                .0
                .contains("case a/1 is in two shards")
        );
        let mut whole = a.clone();
        whole.1.suite.shard = None;
        assert!(
            merge(&[whole])
                .unwrap_err()
                .0
                .contains("not a shard report")
        );
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
