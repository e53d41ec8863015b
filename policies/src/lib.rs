#![doc = include_str!("../README.md")]

pub mod decide;
mod error;
pub mod eval;
pub mod keys;
pub mod location;
pub mod native;
pub mod output;
pub mod pattern;
pub mod rego;
pub mod rules;

pub use decide::{Decisions, Verdict, decide_all};
pub use error::{Error, KeyError, chain};
pub use location::{Location, PolicyError};
pub use rules::{Level, RULES, RuleId};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;
use wasmcert_analyzer::Analysis;

/// Policy files larger than this are refused: a policy is written by hand, and the bound keeps
/// a wrong path (a module, an image) from being parsed as TOML.
pub const MAX_POLICY_FILE: u64 = 4 << 20;

/// A signed bundle handed to a policy: a signed analysis (for `signature-required`) or a
/// signed conformance report (for `runtime-certification-required`).
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Where it came from, for messages.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One reason a policy gives about a subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule id (`capability-denied`, or a Rego policy's own id).
    pub rule: String,
    /// `deny` or `warn` (an `allow` rule never reports).
    pub level: Level,
    pub message: String,
    /// The unit of the subject the finding is about (`/`, `/module[0]`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<String>,
    /// The policy line that caused it.
    pub policy: Location,
    /// Set when an exception covers the finding: it is reported but does not deny.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub excepted: Option<Excepted>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excepted {
    pub reason: String,
    pub exception: Location,
}

/// A policy's decision on one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// False when any finding is at level `deny` and not excepted.
    pub allowed: bool,
    pub findings: Vec<Finding>,
    /// Indices of the exceptions that covered a finding (for `exception-unused`).
    #[serde(skip)]
    pub used_exceptions: BTreeSet<usize>,
}

impl Decision {
    fn new(mut findings: Vec<Finding>, used_exceptions: BTreeSet<usize>) -> Decision {
        findings.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.unit.cmp(&b.unit))
                .then_with(|| a.message.cmp(&b.message))
        });
        findings.dedup();
        let allowed = !findings
            .iter()
            .any(|f| f.level == Level::Deny && f.excepted.is_none());
        Decision {
            allowed,
            findings,
            used_exceptions,
        }
    }
}

#[derive(Debug)]
enum Inner {
    Native(native::NativePolicy),
    // Boxed: the regorus engine is large, and policies are few.
    Rego(Box<rego::RegoPolicy>),
}

/// A loaded, compiled policy (native TOML or Rego). Parse and compile once; evaluate many.
#[derive(Debug)]
pub struct Policy {
    pub file: String,
    /// SHA-256 of the policy text: part of the webhook's decision cache key.
    pub sha256: String,
    inner: Inner,
    /// `YYYY-MM-DD` pinned by [`Policy::set_today`]; otherwise the date (UTC) is read at each
    /// evaluation, so a long-running webhook stops honouring an exception the day it expires.
    today: Option<String>,
}

/// The language of a policy file, by extension: `.rego` is Rego, anything else native TOML.
pub fn is_rego(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rego")
}

fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_string()
}

impl Policy {
    /// Read, parse and compile a policy file. Key and report paths in it are relative to the
    /// file's directory.
    pub fn load(path: &Path) -> Result<Policy, Error> {
        let file = path.display().to_string();
        let err = |message: String| PolicyError {
            file: file.clone(),
            at: None,
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
        if meta.len() > MAX_POLICY_FILE {
            return Err(Error::from(err(format!(
                "{} bytes: larger than the {MAX_POLICY_FILE}-byte bound for a policy",
                meta.len()
            ))));
        }
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| err(format!("not UTF-8: {e}")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Policy::from_text(&text, &file, base, is_rego(path))
    }

    /// Compile policy text. `file` names it in messages; `base` anchors relative paths.
    pub fn from_text(text: &str, file: &str, base: &Path, rego: bool) -> Result<Policy, Error> {
        let inner = if rego {
            Inner::Rego(Box::new(rego::load(text, file)?))
        } else {
            let raw = native::parse_raw(text, file)?;
            Inner::Native(native::compile(&raw, text, file, base)?)
        };
        let mut p = Policy {
            file: file.to_string(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            inner,
            today: None,
        };
        p.prepare(&[]);
        Ok(p)
    }

    /// Pin "today" (`YYYY-MM-DD`) for exception expiry; tests and reproducible runs.
    pub fn set_today(&mut self, date: &str) {
        self.today = Some(date.to_string());
    }

    pub fn is_rego(&self) -> bool {
        matches!(self.inner, Inner::Rego(_))
    }

    /// Verify the signed conformance reports for `runtime-certification-required` once (the
    /// verdict does not depend on the subject). Reports named in the policy are always
    /// included; `reports` adds the ones given on the command line.
    pub fn prepare(&mut self, reports: &[Bundle]) {
        let Inner::Native(n) = &mut self.inner else {
            return;
        };
        let mut all: Vec<&Bundle> = n.policy_reports.iter().collect();
        all.extend(reports);
        let now = std::time::SystemTime::now();
        for r in &mut n.rules {
            if let native::Check::RuntimeCertification(c) = &mut r.check {
                let verdict = eval::certify_verdict(c, &all, now);
                c.verdict = Some(verdict);
            }
        }
    }

    /// Decide on one analysed subject. `attestations` are signed analyses that may vouch for
    /// it. Errors come from Rego evaluation only (a policy bug or the time limit).
    pub fn evaluate(
        &self,
        analysis: &Analysis,
        attestations: &[Bundle],
    ) -> Result<Decision, Error> {
        match &self.inner {
            Inner::Rego(r) => Ok(Decision::new(r.evaluate(analysis)?, BTreeSet::new())),
            Inner::Native(n) => {
                let mut findings = eval::evaluate(n, analysis, attestations);
                let mut used = BTreeSet::new();
                self.apply_exceptions(n, analysis, &mut findings, &mut used);
                Ok(Decision::new(findings, used))
            }
        }
    }

    fn apply_exceptions(
        &self,
        n: &native::NativePolicy,
        a: &Analysis,
        findings: &mut [Finding],
        used: &mut BTreeSet<usize>,
    ) {
        let today = self.today.clone().unwrap_or_else(today);
        let file_name = Path::new(&a.subject.path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned());
        for (i, e) in n.exceptions.iter().enumerate() {
            if e.expires.as_ref().is_some_and(|d| *d < today) {
                continue;
            }
            let digest_ok = e.digest.as_ref().is_none_or(|d| *d == a.subject.sha256);
            let name_ok = e.name.as_ref().is_none_or(|g| {
                g.is_match(&a.subject.path) || file_name.as_ref().is_some_and(|f| g.is_match(f))
            });
            if !(digest_ok && name_ok) {
                continue;
            }
            for f in findings.iter_mut() {
                if f.excepted.is_some() {
                    continue;
                }
                if e.rules.as_ref().is_none_or(|r| r.contains(&f.rule)) {
                    f.excepted = Some(Excepted {
                        reason: e.reason.clone(),
                        exception: e.at.clone(),
                    });
                    used.insert(i);
                }
            }
        }
    }

    /// Findings about the policy itself after a run: expired exceptions, and exceptions that
    /// covered nothing in any subject (`used` is the union of the decisions' used sets).
    pub fn meta_findings(&self, used: &BTreeSet<usize>) -> Vec<Finding> {
        let Inner::Native(n) = &self.inner else {
            return Vec::new();
        };
        let today = self.today.clone().unwrap_or_else(today);
        let mut out = Vec::new();
        for (i, e) in n.exceptions.iter().enumerate() {
            let (rule, message) = if e.expires.as_ref().is_some_and(|d| *d < today) {
                (
                    rules::RuleId::ExceptionExpired.as_str(),
                    format!(
                        "the exception ({}) expired on {}; it no longer applies",
                        e.reason,
                        e.expires.as_deref().unwrap_or("")
                    ),
                )
            } else if !used.contains(&i) {
                (
                    rules::RuleId::ExceptionUnused.as_str(),
                    format!(
                        "the exception ({}) suppressed no finding (nothing matched, or an earlier exception covered it); remove it or fix its `digest`/`name`/`rules`",
                        e.reason
                    ),
                )
            } else {
                continue;
            };
            out.push(Finding {
                rule: rule.into(),
                level: Level::Warn,
                message,
                unit: None,
                policy: e.at.clone(),
                excepted: None,
            });
        }
        out
    }

    /// The rule ids this policy enforces (native: the rules not at `allow`).
    pub fn rule_ids(&self) -> Vec<String> {
        match &self.inner {
            Inner::Native(n) => n.rules.iter().map(|r| r.id.as_str().to_string()).collect(),
            Inner::Rego(_) => Vec::new(),
        }
    }
}

/// The shipped packs, embedded so `--policy pack:NAME` and `wasmcert init --pack NAME` work
/// from any directory: `(name, file name, text)`.
pub const PACKS: &[(&str, &str, &str)] = &[
    (
        "baseline",
        "baseline.toml",
        include_str!("../packs/baseline.toml"),
    ),
    (
        "baseline-rego",
        "baseline.rego",
        include_str!("../packs/baseline.rego"),
    ),
    (
        "edge-function",
        "edge-function.toml",
        include_str!("../packs/edge-function.toml"),
    ),
    (
        "no-filesystem",
        "no-filesystem.toml",
        include_str!("../packs/no-filesystem.toml"),
    ),
    (
        "no-network",
        "no-network.toml",
        include_str!("../packs/no-network.toml"),
    ),
    (
        "strict",
        "strict.toml",
        include_str!("../packs/strict.toml"),
    ),
];

/// The commented template `wasmcert init` writes.
pub const TEMPLATE: &str = include_str!("../template.toml");

/// Load a policy given on the command line: a file path, or `pack:NAME` for a shipped pack.
pub fn load_spec(spec: &str) -> Result<Policy, Error> {
    if let Some(name) = spec.strip_prefix("pack:") {
        let Some((_, file, text)) = PACKS.iter().find(|(n, _, _)| *n == name) else {
            return Err(Error::from(PolicyError {
                file: spec.to_string(),
                at: None,
                message: format!(
                    "no such pack; shipped packs: {}",
                    PACKS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                ),
            }));
        };
        let shown = format!("pack:{name}/{file}");
        return Policy::from_text(text, &shown, Path::new("."), file.ends_with(".rego"));
    }
    Policy::load(Path::new(spec))
}
