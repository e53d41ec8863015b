//! SARIF 2.1.0 for analyses: one run, one rule per finding code (stable `ruleId`s), results
//! located in the binary with `startLine: 1` plus a byte offset, as GitHub code scanning accepts.

use serde_json::{Value, json};
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

/// Render analyses (and the inputs that failed) as one SARIF log.
pub fn render(analyses: &[Analysis], errors: &[InputError<'_>]) -> Value {
    let rules: Vec<Value> = FindingCode::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.code(),
                "name": c.code(),
                "shortDescription": { "text": c.title() },
                "helpUri": format!("{HELP_BASE}{}.md", c.code()),
                "defaultConfiguration": { "level": level(c.severity()) },
            })
        })
        .collect();
    let mut artifacts = Vec::new();
    let mut results = Vec::new();
    for (ai, a) in analyses.iter().enumerate() {
        artifacts.push(json!({
            "location": { "uri": a.subject.path },
            "length": a.subject.size,
            "hashes": { "sha-256": a.subject.sha256 },
        }));
        for f in &a.findings {
            let rule_index = FindingCode::ALL.iter().position(|c| *c == f.code);
            let mut region = json!({ "startLine": 1 });
            if let Some(o) = f.offset {
                region["byteOffset"] = json!(o);
                region["byteLength"] = json!(1);
            }
            let mut r = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": a.subject.path, "index": ai },
                        "region": region,
                    },
                    "logicalLocations": [{ "name": f.unit, "kind": "module" }],
                }],
                "partialFingerprints": {
                    // Distinct per finding: two unbounded memories are two alerts.
                    "wasmcert/v1": fingerprint(&a.subject.sha256, f.code.code(), &f.unit, &f.message, f.offset),
                },
            });
            if let Some(i) = rule_index {
                r["ruleIndex"] = json!(i);
            }
            results.push(r);
        }
    }
    let notifications: Vec<Value> = errors
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
        "$schema": SARIF_SCHEMA,
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
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
        }],
    })
}
