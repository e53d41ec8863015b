//! Rego policies, evaluated with regorus. The convention (docs/policy/rego.md):
//!
//! - `input` is the Analysis JSON document (docs/analysis-schema.md);
//! - `data.wasmcert.deny` is a set of `{"id": RULE-ID, "msg": TEXT}` (optionally `"unit"`):
//!   any element denies the subject;
//! - `data.wasmcert.warn`, the same shape, reports without denying.
//!
//! The policy is parsed and compiled once; each evaluation sets the input and reads the two
//! rules. A time limit bounds an evaluation, because the input (a hostile module's imports) can
//! make a policy's comprehensions large.

use crate::Finding;
use crate::location::{LineIndex, Location, PolicyError};
use crate::rules::Level;
use regorus::Engine;
use std::sync::Mutex;
use std::time::Duration;
use wasmcert_analyzer::Analysis;

/// Wall-clock budget of one evaluation; the target is 2 ms, a real policy needs far less.
const EVAL_LIMIT: Duration = Duration::from_secs(2);
/// Elements read from one rule: more is a policy bug (or a hostile input multiplying them).
const MAX_RESULTS: usize = 10_000;

pub struct RegoPolicy {
    pub file: String,
    source: String,
    engine: Mutex<Engine>,
    rules: Vec<(&'static str, Level)>,
}

impl std::fmt::Debug for RegoPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoPolicy")
            .field("file", &self.file)
            .finish()
    }
}

/// regorus reports parse errors as `--> FILE:LINE:COL`, the source line with a caret, then
/// `error: MESSAGE`; keep the position and the message.
fn parse_error(file: &str, e: &dyn std::fmt::Display) -> PolicyError {
    let text = e.to_string();
    let at = text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("-->")?.trim();
        let rest = rest.strip_prefix(file)?;
        let mut it = rest.trim_start_matches(':').splitn(2, ':');
        Some((
            it.next()?.trim().parse().ok()?,
            it.next()?.trim().parse().ok()?,
        ))
    });
    let message = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error:"))
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| {
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("invalid Rego")
                .to_string()
        });
    PolicyError {
        file: file.to_string(),
        at,
        message,
    }
}

pub fn load(text: &str, file: &str) -> Result<RegoPolicy, PolicyError> {
    let mut engine = Engine::new();
    engine
        .add_policy(file.to_string(), text.to_string())
        .map_err(|e| parse_error(file, &e))?;
    let packages = engine.get_packages().map_err(|e| parse_error(file, &e))?;
    if !packages.iter().any(|p| p == "data.wasmcert") {
        return Err(PolicyError {
            file: file.to_string(),
            at: Some((1, 1)),
            message: format!(
                "a wasmcert Rego policy is `package wasmcert` (found {})",
                packages.join(", ")
            ),
        });
    }
    let mut rules = Vec::new();
    for (name, level) in [("deny", Level::Deny), ("warn", Level::Warn)] {
        if engine
            .has_declared_rule_rooted_at(file, name)
            .unwrap_or(false)
        {
            rules.push((name, level));
        }
    }
    if rules.is_empty() {
        return Err(PolicyError {
            file: file.to_string(),
            at: Some((1, 1)),
            message: "the policy defines neither `deny` nor `warn`".into(),
        });
    }
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: EVAL_LIMIT,
        check_interval: std::num::NonZeroU32::new(256).expect("non-zero"),
    });
    Ok(RegoPolicy {
        file: file.to_string(),
        source: text.to_string(),
        engine: Mutex::new(engine),
        rules,
    })
}

impl RegoPolicy {
    /// Where the rule id first appears as a string literal, so a finding points at the rule
    /// that produced it; line 1 when the id is computed.
    fn locate(&self, id: &str) -> Location {
        let (line, column) = self
            .source
            .find(&format!("\"{id}\""))
            .map(|off| LineIndex::new(&self.source).line_col(&self.source, off))
            .unwrap_or((1, 1));
        Location {
            file: self.file.clone(),
            line,
            column,
        }
    }

    pub fn evaluate(&self, a: &Analysis) -> Result<Vec<Finding>, crate::Error> {
        use crate::Error;
        let input = serde_json::to_value(a)?;
        let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        engine.set_input(regorus::Value::from(input));
        let mut findings = Vec::new();
        for (name, level) in &self.rules {
            let value = engine
                .eval_rule(format!("data.wasmcert.{name}"))
                .map_err(|e| Error::Evaluation {
                    file: self.file.clone(),
                    rule: name,
                    detail: e.to_string(),
                })?;
            if value == regorus::Value::Undefined {
                continue;
            }
            let json = serde_json::to_value(&value)?;
            let bad = |problem: String| Error::RegoResult {
                file: self.file.clone(),
                problem,
            };
            let items = match json {
                serde_json::Value::Array(v) => v,
                other => {
                    return Err(bad(format!(
                        "data.wasmcert.{name} must be a set of {{id, msg}}, got {other}"
                    )));
                }
            };
            if items.len() > MAX_RESULTS {
                return Err(bad(format!(
                    "data.wasmcert.{name} has {} elements (more than {MAX_RESULTS})",
                    items.len()
                )));
            }
            for item in items {
                let id = item.get("id").and_then(|v| v.as_str());
                let msg = item.get("msg").and_then(|v| v.as_str());
                let (Some(id), Some(msg)) = (id, msg) else {
                    return Err(bad(format!(
                        "an element of data.wasmcert.{name} lacks a string `id` or `msg`: {item}"
                    )));
                };
                findings.push(Finding {
                    rule: id.to_string(),
                    level: *level,
                    message: msg.to_string(),
                    unit: item
                        .get("unit")
                        .and_then(|v| v.as_str())
                        .map(str::to_string),
                    policy: self.locate(id),
                    excepted: None,
                });
            }
        }
        Ok(findings)
    }
}
