//! Known-failure lists per runtime (`<dir>/<runtime>.toml`, or one file), applied only when
//! `certify --expectations PATH` names them. An entry annotates a case's result with
//! [`Known`]; it never replaces the observed outcome, and the summaries and the verdict count
//! what was observed. A listed case whose outcome is not the listed one (it passed, say) makes
//! the entry stale and the run fail, so the lists stay honest.
//!
//! ```toml
//! [[known]]
//! case = "sandbox/absolute-path"
//! outcome = "escaped"        # the observed outcome it is expected to have, or "any"
//! reason = "node:wasi is documented as not a sandbox"
//! advisory = "GHSA-…"        # optional: the public advisory it matches
//! ```

use crate::error::{Error, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wasmcert_report::conformance::{ExpectationsInfo, Known, Outcome, OutcomeKind};

/// An expectations file is a short hand-written list; a larger one is refused.
const MAX_FILE: u64 = 1 << 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    known: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    case: String,
    #[serde(default = "any")]
    outcome: String,
    reason: String,
    #[serde(default)]
    advisory: Option<String>,
}

fn any() -> String {
    "any".into()
}

/// What an entry expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Any failure (`fail`, `escaped`, `crashed`, `timeout`, `error`).
    AnyFailure,
    Kind(OutcomeKind),
}

impl Expected {
    fn label(self) -> &'static str {
        match self {
            Expected::AnyFailure => "any",
            Expected::Kind(k) => k.label(),
        }
    }
    fn holds(self, observed: OutcomeKind) -> bool {
        match self {
            Expected::AnyFailure => observed.is_failure(),
            Expected::Kind(k) => k == observed,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Listed {
    pub expected: Expected,
    pub reason: String,
    pub advisory: Option<String>,
}

/// The known-failure list of one runtime; empty unless loaded.
#[derive(Debug, Default, Clone)]
pub struct Expectations {
    /// case id → entry.
    entries: BTreeMap<String, Listed>,
    /// The file read, for the report.
    info: Option<ExpectationsInfo>,
}

impl Expectations {
    pub fn none() -> Self {
        Expectations::default()
    }

    /// Load the list for `runtime` from `path`: a file, or a directory holding
    /// `<runtime>.toml`. A directory without that file gives an empty list (and the report
    /// says no list was applied).
    pub fn load(path: &Path, runtime: &str) -> Result<Self> {
        let file: PathBuf = if path.is_dir() {
            let f = path.join(format!("{runtime}.toml"));
            if !f.is_file() {
                return Ok(Expectations::default());
            }
            f
        } else {
            path.to_path_buf()
        };
        let origin = file.display().to_string();
        let meta = std::fs::metadata(&file).map_err(Error::io("reading", &file))?;
        if meta.len() > MAX_FILE {
            return Err(Error::Expectations {
                origin,
                why: format!(
                    "{} bytes, more than an expectations file may hold ({MAX_FILE})",
                    meta.len()
                ),
            });
        }
        let bytes = std::fs::read(&file).map_err(Error::io("reading", &file))?;
        let text = std::str::from_utf8(&bytes).map_err(Error::invalid::<std::str::Utf8Error>(
            format!("{origin}: not UTF-8"),
        ))?;
        Self::parse(text, &origin).map(|mut e| {
            e.info = Some(ExpectationsInfo {
                file: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                sha256: hex::encode(Sha256::digest(&bytes)),
            });
            e
        })
    }

    /// Parse a list; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let f: File = toml::from_str(text).map_err(Error::invalid::<toml::de::Error>(format!(
            "{origin}: invalid expectations"
        )))?;
        let refuse = |why: String| Error::Expectations {
            origin: origin.to_string(),
            why,
        };
        let mut entries = BTreeMap::new();
        for k in f.known {
            let expected = if k.outcome == "any" {
                Expected::AnyFailure
            } else {
                match k.outcome.parse::<OutcomeKind>() {
                    Ok(kind) if kind.is_failure() => Expected::Kind(kind),
                    Ok(kind) => {
                        return Err(refuse(format!(
                            "`{}`: a known failure cannot expect `{kind}`",
                            k.case
                        )));
                    }
                    Err(e) => return Err(refuse(format!("`{}`: {e} (or `any`)", k.case))),
                }
            };
            if entries.contains_key(&k.case) {
                return Err(refuse(format!("`{}` listed twice", k.case)));
            }
            entries.insert(
                k.case,
                Listed {
                    expected,
                    reason: k.reason,
                    advisory: k.advisory,
                },
            );
        }
        Ok(Expectations {
            entries,
            info: None,
        })
    }

    /// The file applied, for the report; `None` when no list was loaded.
    pub fn info(&self) -> Option<&ExpectationsInfo> {
        self.info.as_ref()
    }

    /// Case ids listed.
    pub fn cases(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The annotation for a case's observed outcome; `None` when the case is not listed.
    pub fn annotate(&self, case: &str, outcome: &Outcome) -> Option<Known> {
        let e = self.entries.get(case)?;
        Some(Known {
            expected: e.expected.label().to_string(),
            reason: e.reason.clone(),
            advisory: e.advisory.clone(),
            holds: e.expected.holds(outcome.kind()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_annotates_and_never_replaces() {
        let e = Expectations::parse(
            "[[known]]\ncase = \"s/a\"\noutcome = \"escaped\"\nreason = \"r\"\nadvisory = \"GHSA-x\"\n\
             [[known]]\ncase = \"s/b\"\nreason = \"any\"\n",
            "t.toml",
        )
        .unwrap();
        let escaped = Outcome::Escaped { why: "leak".into() };
        let k = e.annotate("s/a", &escaped).unwrap();
        assert!(k.holds);
        assert_eq!(k.advisory.as_deref(), Some("GHSA-x"));
        // Listed as escaped, observed pass: the entry is stale.
        assert!(!e.annotate("s/a", &Outcome::Pass).unwrap().holds);
        // Listed as escaped, observed fail: not what the list says.
        let fail = Outcome::Fail { why: "x".into() };
        assert!(!e.annotate("s/a", &fail).unwrap().holds);
        assert!(e.annotate("s/b", &fail).unwrap().holds);
        assert!(!e.annotate("s/b", &Outcome::Pass).unwrap().holds);
        assert!(e.annotate("s/c", &fail).is_none());
    }

    #[test]
    fn bad_lists_are_refused() {
        for (text, msg) in [
            (
                "[[known]]\ncase = \"a\"\noutcome = \"escape\"\nreason = \"r\"\n",
                "unknown outcome \"escape\"",
            ),
            (
                "[[known]]\ncase = \"a\"\noutcome = \"pass\"\nreason = \"r\"\n",
                "cannot expect `pass`",
            ),
            (
                "[[known]]\ncase = \"a\"\nreason = \"r\"\n[[known]]\ncase = \"a\"\nreason = \"r\"\n",
                "listed twice",
            ),
            ("[[known]]\ncase = \"a\"\n", "invalid expectations"),
        ] {
            let e = Expectations::parse(text, "t.toml").unwrap_err();
            let e = e.with_causes().to_string();
            assert!(e.contains(msg), "{e}");
        }
    }
}
