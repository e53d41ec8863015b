//! The decision of several policies on several subjects: the one loop `wasmcert check` and the
//! admission webhook share, so "allowed" means the same thing in CI and at admission.

use crate::{Bundle, Error, Finding, Policy};
use std::collections::BTreeSet;
use wasmcert_analyzer::Analysis;

/// Every policy's decision on one subject, together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every policy allows the subject (no `deny` finding that no exception covers).
    pub allowed: bool,
    /// The findings of every policy, deny first, then by rule and unit (each policy's own order
    /// otherwise).
    pub findings: Vec<Finding>,
}

/// The decisions of a run over many subjects.
#[derive(Debug)]
pub struct Decisions {
    /// One per subject, in the order given: the verdict, or the error of a policy that could
    /// not be evaluated on it (the last one, when several fail).
    pub subjects: Vec<Result<Verdict, Error>>,
    /// Findings about the policies themselves once every subject was decided: expired
    /// exceptions, and exceptions that covered nothing in any subject.
    pub policy_findings: Vec<Finding>,
}

/// Decide on every subject (an analysis and the signed analyses that may vouch for it) with
/// every policy. A subject is allowed when every policy allows it.
pub fn decide_all<'a, I>(policies: &[Policy], subjects: I) -> Decisions
where
    I: IntoIterator<Item = (&'a Analysis, &'a [Bundle])>,
{
    let mut used: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); policies.len()];
    let subjects = subjects
        .into_iter()
        .map(|(analysis, attestations)| {
            let mut allowed = true;
            let mut findings = Vec::new();
            let mut failed = None;
            for (i, p) in policies.iter().enumerate() {
                match p.evaluate(analysis, attestations) {
                    Ok(d) => {
                        allowed &= d.allowed;
                        findings.extend(d.findings);
                        used[i].extend(d.used_exceptions);
                    }
                    Err(e) => failed = Some(e),
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
            // Stable: within one level, rule and unit, each policy's own order is kept.
            findings.sort_by(|x: &Finding, y: &Finding| {
                y.level
                    .cmp(&x.level)
                    .then_with(|| x.rule.cmp(&y.rule))
                    .then_with(|| x.unit.cmp(&y.unit))
            });
            Ok(Verdict { allowed, findings })
        })
        .collect();
    let policy_findings = policies
        .iter()
        .zip(&used)
        .flat_map(|(p, u)| p.meta_findings(u))
        .collect();
    Decisions {
        subjects,
        policy_findings,
    }
}
