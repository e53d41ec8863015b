//! SARIF 2.1.0 for analyses: one run, one rule per finding code (stable `ruleId`s), results
//! located in the binary with `startLine: 1` plus a byte offset, as GitHub code scanning accepts.

use serde_json::Value;
use wasmcert_analyzer::{Analysis, Severity, findings::FindingCode};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const HELP_BASE: &str = "https://github.com/wasmcert/wasmcert/blob/main/docs/findings/";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Info => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn fingerprint(digest: &str, code: &str, unit: &str, message: &str, offset: Option<u64>) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("{digest}\0{code}\0{unit}\0{message}\0{offset:?}"));
    hex::encode(&h[..16])
}

/// An input that could not be analysed, reported as a tool execution notification.
pub struct InputError<'a> {
    pub path: &'a str,
    pub message: &'a str,
}

/// The SARIF 2.1.0 objects wasmcert writes, typed: `analyze` and `check` both build a [`Log`]
/// from these. Field order is the order written (serde_json keeps it), optional fields are
/// left out when empty.
pub mod model {
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone, Serialize)]
    pub struct Log {
        #[serde(rename = "$schema")]
        pub schema: &'static str,
        pub version: &'static str,
        pub runs: Vec<Run>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Run {
        pub tool: Tool,
        pub artifacts: Vec<Artifact>,
        pub results: Vec<SarifResult>,
        pub invocations: Vec<Invocation>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Tool {
        pub driver: Driver,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Driver {
        pub name: &'static str,
        pub semantic_version: &'static str,
        pub information_uri: &'static str,
        pub rules: Vec<Rule>,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Rule {
        pub id: String,
        pub name: String,
        pub short_description: Message,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub help_uri: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub default_configuration: Option<Configuration>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Configuration {
        pub level: &'static str,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Message {
        pub text: String,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Artifact {
        pub location: ArtifactLocation,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub length: Option<u64>,
        pub hashes: Hashes,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub roles: Vec<&'static str>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Hashes {
        #[serde(rename = "sha-256")]
        pub sha256: String,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SarifResult {
        pub rule_id: String,
        pub level: &'static str,
        pub message: Message,
        pub locations: Vec<Location>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub related_locations: Vec<RelatedLocation>,
        pub partial_fingerprints: BTreeMap<&'static str, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub properties: Option<Properties>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub rule_index: Option<usize>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub suppressions: Vec<Suppression>,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Location {
        pub physical_location: PhysicalLocation,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub logical_locations: Vec<LogicalLocation>,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PhysicalLocation {
        pub artifact_location: ArtifactLocation,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub region: Option<Region>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct ArtifactLocation {
        pub uri: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub index: Option<usize>,
    }

    #[derive(Debug, Clone, Default, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Region {
        pub start_line: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub start_column: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub byte_offset: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub byte_length: Option<u64>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct LogicalLocation {
        pub name: String,
        pub kind: &'static str,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RelatedLocation {
        pub id: u32,
        pub message: Message,
        pub physical_location: PhysicalLocation,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Properties {
        pub policy: String,
        pub level: &'static str,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Suppression {
        pub kind: &'static str,
        pub justification: String,
        pub location: SuppressionLocation,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SuppressionLocation {
        pub physical_location: PhysicalLocation,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Invocation {
        pub execution_successful: bool,
        pub tool_execution_notifications: Vec<Notification>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct Notification {
        pub level: &'static str,
        pub message: Message,
        pub locations: Vec<NotificationLocation>,
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct NotificationLocation {
        pub physical_location: PhysicalLocation,
    }

    impl Message {
        pub fn new(text: impl Into<String>) -> Message {
            Message { text: text.into() }
        }
    }

    impl PhysicalLocation {
        pub fn uri(uri: impl Into<String>) -> PhysicalLocation {
            PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri.into(),
                    index: None,
                },
                region: None,
            }
        }
    }

    impl Log {
        /// One run of wasmcert with these rules, artifacts, results, and an invocation whose
        /// notifications are the inputs that failed (`path: message`).
        pub fn new(
            rules: Vec<Rule>,
            artifacts: Vec<Artifact>,
            results: Vec<SarifResult>,
            errors: &[(&str, &str)],
        ) -> Log {
            let notifications = errors
                .iter()
                .map(|(path, message)| Notification {
                    level: "error",
                    message: Message::new(format!("{path}: {message}")),
                    locations: vec![NotificationLocation {
                        physical_location: PhysicalLocation::uri(*path),
                    }],
                })
                .collect();
            Log {
                schema: super::SARIF_SCHEMA,
                version: "2.1.0",
                runs: vec![Run {
                    tool: Tool {
                        driver: Driver {
                            name: "wasmcert",
                            semantic_version: env!("CARGO_PKG_VERSION"),
                            information_uri: "https://github.com/wasmcert/wasmcert",
                            rules,
                        },
                    },
                    artifacts,
                    results,
                    invocations: vec![Invocation {
                        execution_successful: errors.is_empty(),
                        tool_execution_notifications: notifications,
                    }],
                }],
            }
        }

        pub fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}

/// Render analyses (and the inputs that failed) as one SARIF log.
pub fn render(analyses: &[Analysis], errors: &[InputError<'_>]) -> Value {
    use model::*;
    let rules: Vec<Rule> = FindingCode::ALL
        .iter()
        .map(|c| Rule {
            id: c.code().into(),
            name: c.code().into(),
            short_description: Message::new(c.title()),
            help_uri: Some(format!("{HELP_BASE}{}.md", c.code())),
            default_configuration: Some(Configuration {
                level: level(c.severity()),
            }),
        })
        .collect();
    let mut artifacts = Vec::new();
    let mut results = Vec::new();
    for (ai, a) in analyses.iter().enumerate() {
        artifacts.push(Artifact {
            location: ArtifactLocation {
                uri: a.subject.path.clone(),
                index: None,
            },
            length: Some(a.subject.size),
            hashes: Hashes {
                sha256: a.subject.sha256.clone(),
            },
            roles: Vec::new(),
        });
        for f in &a.findings {
            results.push(SarifResult {
                rule_id: f.code.code().into(),
                level: level(f.severity),
                message: Message::new(f.message.clone()),
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: a.subject.path.clone(),
                            index: Some(ai),
                        },
                        region: Some(Region {
                            start_line: 1,
                            byte_offset: f.offset,
                            byte_length: f.offset.map(|_| 1),
                            ..Region::default()
                        }),
                    },
                    logical_locations: vec![LogicalLocation {
                        name: f.unit.clone(),
                        kind: "module",
                    }],
                }],
                related_locations: Vec::new(),
                // Distinct per finding: two unbounded memories are two alerts.
                partial_fingerprints: [(
                    "wasmcert/v1",
                    fingerprint(
                        &a.subject.sha256,
                        f.code.code(),
                        &f.unit,
                        &f.message,
                        f.offset,
                    ),
                )]
                .into_iter()
                .collect(),
                properties: None,
                rule_index: FindingCode::ALL.iter().position(|c| *c == f.code),
                suppressions: Vec::new(),
            });
        }
    }
    let errors: Vec<(&str, &str)> = errors.iter().map(|e| (e.path, e.message)).collect();
    Log::new(rules, artifacts, results, &errors).to_value()
}
