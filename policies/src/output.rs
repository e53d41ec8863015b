//! What `wasmcert check` prints: the check report (JSON, versioned), a readable summary, and
//! SARIF 2.1.0 with the rule id, the level, the subject and the policy location of each result.

use crate::{Finding, Level, Location, Policy};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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
        use wasmcert_report::sarif::model::*;
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
        let rules: Vec<Rule> = ids
            .iter()
            .map(|(id, title)| Rule {
                id: id.clone(),
                name: id.clone(),
                short_description: Message::new(title.clone()),
                help_uri: crate::rules::lookup(id).map(|_| format!("{HELP_BASE}{id}.md")),
                default_configuration: None,
            })
            .collect();
        let mut artifacts = Vec::new();
        let mut results = Vec::new();
        for (si, s) in self.subjects.iter().enumerate() {
            artifacts.push(Artifact {
                location: ArtifactLocation {
                    uri: s.path.clone(),
                    index: None,
                },
                length: None,
                hashes: Hashes {
                    sha256: s.sha256.clone(),
                },
                roles: vec!["analysisTarget"],
            });
            for f in &s.findings {
                let loc = Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: s.path.clone(),
                            index: Some(si),
                        },
                        region: Some(Region {
                            start_line: 1,
                            ..Region::default()
                        }),
                    },
                    logical_locations: f
                        .unit
                        .iter()
                        .map(|u| LogicalLocation {
                            name: u.clone(),
                            kind: "module",
                        })
                        .collect(),
                };
                results.push(result(f, &ids, loc, &s.sha256));
            }
        }
        for f in &self.policy_findings {
            let loc = Location {
                physical_location: policy_location(&f.policy),
                logical_locations: Vec::new(),
            };
            results.push(result(f, &ids, loc, ""));
        }
        let errors: Vec<(&str, &str)> = self
            .errors
            .iter()
            .map(|e| (e.path.as_str(), e.message.as_str()))
            .collect();
        Log::new(rules, artifacts, results, &errors).to_value()
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

/// A policy line as a SARIF physical location.
fn policy_location(l: &Location) -> wasmcert_report::sarif::model::PhysicalLocation {
    use wasmcert_report::sarif::model::*;
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: l.file.clone(),
            index: None,
        },
        region: Some(Region {
            start_line: l.line as u64,
            start_column: Some(l.column as u64),
            ..Region::default()
        }),
    }
}

fn result(
    f: &Finding,
    ids: &[(String, String)],
    location: wasmcert_report::sarif::model::Location,
    digest: &str,
) -> wasmcert_report::sarif::model::SarifResult {
    use sha2::{Digest, Sha256};
    use wasmcert_report::sarif::model::*;
    let fp = Sha256::digest(format!(
        "{digest}\0{}\0{}\0{}\0{}",
        f.policy.file,
        f.rule,
        f.unit.as_deref().unwrap_or(""),
        f.message
    ));
    SarifResult {
        rule_id: f.rule.clone(),
        level: if f.level == Level::Deny {
            "error"
        } else {
            "warning"
        },
        message: Message::new(f.message.clone()),
        locations: vec![location],
        related_locations: vec![RelatedLocation {
            id: 0,
            message: Message::new(format!("policy rule `{}`", f.rule)),
            physical_location: policy_location(&f.policy),
        }],
        partial_fingerprints: [("wasmcert-policy/v1", hex::encode(&fp[..16]))]
            .into_iter()
            .collect(),
        properties: Some(Properties {
            policy: f.policy.to_string(),
            level: f.level.as_str(),
        }),
        rule_index: ids.iter().position(|(id, _)| *id == f.rule),
        suppressions: f
            .excepted
            .iter()
            .map(|e| Suppression {
                kind: "external",
                justification: e.reason.clone(),
                location: SuppressionLocation {
                    physical_location: policy_location(&e.exception),
                },
            })
            .collect(),
    }
}
