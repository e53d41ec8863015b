//! Signed wasmcert documents, typed: which document a JSON value is before it is signed (a
//! conformance report or an analysis, and the in-toto subject each names), and the analysis a
//! key verifies in a bundle (the twin of [`crate::conformance::verify_report`]).

use crate::conformance::{self, ReadError};
use crate::sign::{self, ANALYSIS_PREDICATE, REPORT_PREDICATE, Subject};
use serde_json::Value;
use wasmcert_analyzer::Analysis;

/// The two documents wasmcert signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A conformance report (`wasmcert certify`); its subject is the runtime binary.
    Report,
    /// An analysis (`wasmcert analyze`); its subject is the module.
    Analysis,
}

impl Document {
    /// The in-toto predicate type the document is signed under.
    pub fn predicate_type(self) -> &'static str {
        match self {
            Document::Report => REPORT_PREDICATE,
            Document::Analysis => ANALYSIS_PREDICATE,
        }
    }
}

/// Why a JSON document cannot be signed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// It looks like a conformance report but does not read as one.
    #[error(transparent)]
    Report(#[from] ReadError),
    /// It looks like an analysis but its subject is not a module digest.
    #[error(transparent)]
    Subject(crate::conformance::Invalid),
    #[error("not a wasmcert report or analysis (no runtime/cases or subject/units)")]
    Unknown,
}

/// Which document `doc` is and the subject its statement names. A report is read as a report
/// first (schema version, case ids, digests), so nothing malformed is ever signed.
pub fn subject_of(doc: &Value) -> Result<(Document, Subject), DocumentError> {
    if doc.get("runtime").is_some() && doc.get("cases").is_some() {
        let r = conformance::read_report(doc.clone())?;
        Ok((
            Document::Report,
            Subject {
                name: r.runtime.name.clone(),
                sha256: r.runtime.binary_sha256.clone(),
            },
        ))
    } else if doc.get("subject").is_some() && doc.get("units").is_some() {
        let s = &doc["subject"];
        conformance::check_sha256("subject.sha256", s["sha256"].as_str().unwrap_or(""))
            .map_err(DocumentError::Subject)?;
        Ok((
            Document::Analysis,
            Subject {
                name: s["path"].as_str().unwrap_or("module").into(),
                sha256: s["sha256"].as_str().unwrap_or("").into(),
            },
        ))
    } else {
        Err(DocumentError::Unknown)
    }
}

/// Why a signed bundle gave no analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisBundleError {
    #[error("not verified by any given key ({0})")]
    NotVerified(String),
    #[error("a {0} statement, not an analysis")]
    NotAnAnalysis(String),
    #[error("the signed analysis is not an analysis document")]
    Analysis(#[source] serde_json::Error),
}

/// An analysis read from a bundle that a given key verified.
#[derive(Debug)]
pub struct VerifiedAnalysis {
    pub analysis: Analysis,
    /// Index of the key (in the slice given) that verified the bundle.
    pub key: usize,
    pub verified: sign::Verified,
}

/// Verify a Sigstore bundle with the first of `keys` (PEM) that verifies it and read the
/// analysis it signs. With `artifact_sha256`, that digest must be a subject of the statement.
pub fn verify_analysis(
    bundle: &[u8],
    keys: &[&[u8]],
    artifact_sha256: Option<&str>,
) -> Result<VerifiedAnalysis, AnalysisBundleError> {
    let mut last = String::from("no key given");
    for (i, pem) in keys.iter().enumerate() {
        match sign::verify(bundle, pem, artifact_sha256) {
            Ok(v) => {
                if v.predicate_type != ANALYSIS_PREDICATE {
                    return Err(AnalysisBundleError::NotAnAnalysis(v.predicate_type));
                }
                #[derive(serde::Deserialize)]
                struct Statement {
                    predicate: Analysis,
                }
                let st: Statement =
                    serde_json::from_slice(&v.payload).map_err(AnalysisBundleError::Analysis)?;
                return Ok(VerifiedAnalysis {
                    analysis: st.predicate,
                    key: i,
                    verified: v,
                });
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(AnalysisBundleError::NotVerified(last))
}
