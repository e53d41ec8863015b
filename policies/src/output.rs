//! What `wasmcert check` prints: the check report (JSON, versioned), a readable summary, and
//! SARIF 2.1.0 with the rule id, the level, the subject and the policy location of each result.

use crate::{Finding, Level, Location, Policy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wasmcert_analyzer::Analysis;

/// Version of the check report document (docs/policy/check.md).
pub const CHECK_SCHEMA_VERSION: u32 = 1;
const HELP_BASE: &str = "https://github.com/wasmcert/wasmcert/blob/main/docs/policy/rules/";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub schema_version: u32,
    pub tool: Tool,
    pub policies: Vec<PolicyRef>,
    /// Every subject allowed by every policy, and no input error.
    pub allowed: bool,
    pub subjects: Vec<SubjectDecision>,
    /// Findings about the policies themselves (expired or unused exceptions).
    pub policy_findings: Vec<Finding>,
    /// Inputs that could not be analysed.
    pub errors: Vec<InputError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub file: String,
    pub sha256: String,
    /// `toml` or `rego`.
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectDecision {
    pub path: String,
    pub sha256: String,
    pub kind: String,
    pub allowed: bool,
    /// Findings of every policy, deny first.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputError {
    pub path: String,
    pub message: String,
}

impl CheckReport {
    pub fn new(policies: &[Policy]) -> CheckReport {
        CheckReport {
            schema_version: CHECK_SCHEMA_VERSION,
            tool: Tool {
                name: "wasmcert".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            policies: policies
                .iter()
                .map(|p| PolicyRef {
                    file: p.file.clone(),
                    sha256: p.sha256.clone(),
                    language: if p.is_rego() { "rego" } else { "toml" }.into(),
                })
                .collect(),
            allowed: true,
            subjects: Vec::new(),
            policy_findings: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn push(&mut self, a: &Analysis, allowed: bool, findings: Vec<Finding>) {
        self.allowed &= allowed;
        self.subjects.push(SubjectDecision {
            path: a.subject.path.clone(),
            sha256: a.subject.sha256.clone(),
            kind: a.subject.kind.as_str().into(),
            allowed,
            findings,
        });
    }

    pub fn error(&mut self, path: &str, message: &str) {
        self.allowed = false;
        self.errors.push(InputError {
            path: path.into(),
            message: message.into(),
        });
    }

    pub fn human(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        for s in &self.subjects {
            let deny = s
                .findings
                .iter()
                .filter(|f| f.level == Level::Deny && f.excepted.is_none())
                .count();
            let warn = s
                .findings
                .iter()
                .filter(|f| f.level == Level::Warn && f.excepted.is_none())
                .count();
            let excepted = s.findings.iter().filter(|f| f.excepted.is_some()).count();
            let mut counts = Vec::new();
            for (n, what) in [(deny, "denied"), (warn, "warning"), (excepted, "excepted")] {
                if n > 0 {
                    counts.push(format!(
                        "{n} {what}{}",
                        if what == "warning" && n > 1 { "s" } else { "" }
                    ));
                }
            }
            let _ = writeln!(
                o,
                "{}: {}{}",
                s.path,
                if s.allowed { "allowed" } else { "DENIED" },
                if counts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", counts.join(", "))
                }
            );
            for f in &s.findings {
                finding_line(&mut o, f);
            }
        }
        for f in &self.policy_findings {
            let _ = writeln!(o, "policy: {} {}: {}", f.level.as_str(), f.rule, f.message);
            let _ = writeln!(o, "        --> {}", f.policy);
        }
        for e in &self.errors {
            let _ = writeln!(o, "{}: ERROR {}", e.path, e.message);
        }
        let _ = writeln!(
            o,
            "\nresult: {} ({}, {} denied, {})",
            if self.allowed { "ALLOWED" } else { "DENIED" },
            plural(self.subjects.len(), "subject"),
            self.subjects.iter().filter(|s| !s.allowed).count(),
            plural(self.errors.len(), "error")
        );
        o
    }

    /// SARIF 2.1.0: one result per finding. The primary location is the subject (artifact);
    /// `relatedLocations[0]` is the policy line. Excepted findings carry an external
    /// suppression with the exception's reason.
    pub fn sarif(&self) -> Value {
        let mut ids: Vec<(String, String)> = crate::rules::RULES
            .iter()
            .chain(crate::rules::META_RULES)
            .map(|r| (r.id.as_str().to_string(), r.title.to_string()))
            .collect();
        for f in self
            .subjects
            .iter()
            .flat_map(|s| &s.findings)
            .chain(&self.policy_findings)
        {
            if !ids.iter().any(|(i, _)| *i == f.rule) {
                ids.push((f.rule.clone(), format!("Rego rule {}", f.rule)));
            }
        }
        ids.sort();
        let rules: Vec<Value> = ids
            .iter()
            .map(|(id, title)| {
                let mut r = json!({
                    "id": id,
                    "name": id,
                    "shortDescription": { "text": title },
                });
                if crate::rules::lookup(id).is_some() {
                    r["helpUri"] = json!(format!("{HELP_BASE}{id}.md"));
                }
                r
            })
            .collect();
        let mut artifacts: Vec<Value> = Vec::new();
        let mut results = Vec::new();
        let policy_uri = |l: &Location| l.file.clone();
        for (si, s) in self.subjects.iter().enumerate() {
            artifacts.push(json!({
                "location": { "uri": s.path },
                "hashes": { "sha-256": s.sha256 },
                "roles": ["analysisTarget"],
            }));
            for f in &s.findings {
                let mut loc = json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": s.path, "index": si },
                        "region": { "startLine": 1 },
                    },
                });
                if let Some(u) = &f.unit {
                    loc["logicalLocations"] = json!([{ "name": u, "kind": "module" }]);
                }
                results.push(result(f, &ids, loc, &s.sha256, &policy_uri));
            }
        }
        for f in &self.policy_findings {
            let loc = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": policy_uri(&f.policy) },
                    "region": { "startLine": f.policy.line, "startColumn": f.policy.column },
                },
            });
            results.push(result(f, &ids, loc, "", &policy_uri));
        }
        let notifications: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                json!({
                    "level": "error",
                    "message": { "text": format!("{}: {}", e.path, e.message) },
                    "locations": [{ "physicalLocation": { "artifactLocation": { "uri": e.path } } }],
                })
            })
            .collect();
        json!({
            "$schema": wasmcert_report::sarif::SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "wasmcert",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/wasmcert/wasmcert",
                    "rules": rules,
                }},
                "artifacts": artifacts,
                "results": results,
                "invocations": [{
                    "executionSuccessful": self.errors.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
            }],
        })
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn finding_line(o: &mut String, f: &Finding) {
    use std::fmt::Write;
    let level = match (&f.excepted, f.level) {
        (Some(_), _) => "excepted",
        (None, Level::Deny) => "deny",
        (None, Level::Warn) => "warn",
        (None, Level::Allow) => "allow",
    };
    let _ = writeln!(o, "  {level:<8} {}: {}", f.rule, f.message);
    let unit = f
        .unit
        .as_ref()
        .map_or(String::new(), |u| format!(" (unit {u})"));
    let _ = writeln!(o, "           --> {}{unit}", f.policy);
    if let Some(e) = &f.excepted {
        let _ = writeln!(o, "           excepted by {}: {}", e.exception, e.reason);
    }
}

fn result(
    f: &Finding,
    ids: &[(String, String)],
    location: Value,
    digest: &str,
    policy_uri: &dyn Fn(&Location) -> String,
) -> Value {
    use sha2::{Digest, Sha256};
    let fp = Sha256::digest(format!(
        "{digest}\0{}\0{}\0{}\0{}",
        f.policy.file,
        f.rule,
        f.unit.as_deref().unwrap_or(""),
        f.message
    ));
    let mut r = json!({
        "ruleId": f.rule,
        "level": if f.level == Level::Deny { "error" } else { "warning" },
        "message": { "text": f.message },
        "locations": [location],
        "relatedLocations": [{
            "id": 0,
            "message": { "text": format!("policy rule `{}`", f.rule) },
            "physicalLocation": {
                "artifactLocation": { "uri": policy_uri(&f.policy) },
                "region": { "startLine": f.policy.line, "startColumn": f.policy.column },
            },
        }],
        "partialFingerprints": { "wasmcert-policy/v1": hex::encode(&fp[..16]) },
        "properties": { "policy": f.policy.to_string(), "level": f.level.as_str() },
    });
    if let Some(i) = ids.iter().position(|(id, _)| *id == f.rule) {
        r["ruleIndex"] = json!(i);
    }
    if let Some(e) = &f.excepted {
        r["suppressions"] = json!([{
            "kind": "external",
            "justification": e.reason,
            "location": {
                "physicalLocation": {
                    "artifactLocation": { "uri": policy_uri(&e.exception) },
                    "region": { "startLine": e.exception.line, "startColumn": e.exception.column },
                },
            },
        }]);
    }
    r
}
