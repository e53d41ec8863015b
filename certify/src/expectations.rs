//! Known failures per runtime (`certify/expectations/<runtime>.toml`): a listed case that
//! fails is reported as `expected-failure` (not a failure of the run); a listed case that
//! passes is a failure ("fixed? remove it from the list"), so the lists stay honest.
//!
//! ```toml
//! [[known]]
//! case = "sandbox/absolute-path"
//! outcome = "escaped"        # the outcome label it is expected to have
//! reason = "node:wasi is documented as not a sandbox"
//! ```

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use wasmcert_report::conformance::Outcome;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    known: Vec<Known>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    pub case: String,
    /// `fail`, `escaped`, `crashed`, `timeout`, `error`, or `any`.
    #[serde(default = "any")]
    pub outcome: String,
    pub reason: String,
}

/// The outcome's own explanation, kept beside the listed reason.
fn detail(o: &Outcome) -> String {
    match o {
        Outcome::Fail { why } | Outcome::Escaped { why } | Outcome::Error { why } => why.clone(),
        Outcome::Crashed { signal } => format!("signal {signal}"),
        Outcome::Timeout => "killed at the deadline".into(),
        other => other.label().into(),
    }
}

/// Outcome labels an entry may name.
const OUTCOMES: &[&str] = &["any", "fail", "escaped", "crashed", "timeout", "error"];

fn any() -> String {
    "any".into()
}

#[derive(Debug, Default, Clone)]
pub struct Expectations {
    /// runtime → case → entry.
    by_runtime: BTreeMap<String, BTreeMap<String, Known>>,
}

impl Expectations {
    pub fn none() -> Self {
        Expectations::default()
    }

    /// Load `dir/<runtime>.toml` if it exists.
    pub fn load(dir: &Path, runtime: &str) -> Result<Self> {
        let path = dir.join(format!("{runtime}.toml"));
        let mut e = Expectations::default();
        if !path.is_file() {
            return Ok(e);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let f: File = toml::from_str(&text)
            .with_context(|| format!("{}: invalid expectations", path.display()))?;
        let mut map = BTreeMap::new();
        for k in f.known {
            if !OUTCOMES.contains(&k.outcome.as_str()) {
                bail!(
                    "{}: `{}`: outcome must be one of {}, not {:?}",
                    path.display(),
                    k.case,
                    OUTCOMES.join(", "),
                    k.outcome
                );
            }
            if map.contains_key(&k.case) {
                bail!("{}: `{}` listed twice", path.display(), k.case);
            }
            map.insert(k.case.clone(), k);
        }
        e.by_runtime.insert(runtime.to_string(), map);
        Ok(e)
    }

    pub fn listed(&self, runtime: &str) -> impl Iterator<Item = &Known> {
        self.by_runtime
            .get(runtime)
            .into_iter()
            .flat_map(|m| m.values())
    }

    pub fn apply(&self, runtime: &str, case: &str, outcome: Outcome) -> Outcome {
        let Some(k) = self.by_runtime.get(runtime).and_then(|m| m.get(case)) else {
            return outcome;
        };
        let matches = k.outcome == "any" || k.outcome == outcome.label();
        match outcome {
            Outcome::Pass => Outcome::Fail {
                why: format!(
                    "listed as a known failure ({}) but passed: remove it from the expectations file",
                    k.reason
                ),
            },
            Outcome::NotSupported { .. } => outcome,
            o if o.is_failure() && matches => Outcome::ExpectedFailure {
                why: format!("{}: {} [observed: {}]", o.label(), k.reason, detail(&o)),
            },
            o => o,
        }
    }
}
