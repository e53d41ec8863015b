//! Reading a conformance report from outside: the schema version, the shape, the id and
//! digest grammar, and signed bundles verified with the given keys.

use super::{REPORT_SCHEMA_VERSION, Report};

/// Why a conformance report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error(
        "a schema_version {0} report; this wasmcert reads version {REPORT_SCHEMA_VERSION}. \
         Version 1 reports folded known failures into the outcome (`expected-failure`), \
         hiding what was observed: run `wasmcert certify` again to make a version \
         {REPORT_SCHEMA_VERSION} report"
    )]
    Version(u64),
    #[error("no schema_version: not a wasmcert conformance report")]
    NoVersion,
    #[error("not a valid version {REPORT_SCHEMA_VERSION} conformance report: {0}")]
    Shape(#[source] serde_json::Error),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// A report field that breaks what renderers and policies rely on (an id outside the grammar,
/// a digest that is not hex), with the field and value named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Longest case id or category accepted from a report.
const MAX_ID: usize = 200;

/// The grammar of case ids (`category/name`) and categories: letters, digits and `._+-`,
/// no empty segment, at most 200 characters. Reports come from vendors: an id that could
/// carry markup, a line break or a path into a rendered matrix is refused on read.
pub fn check_case_id(id: &str, category: &str) -> Result<(), Invalid> {
    let segment = |s: &str| {
        !s.is_empty()
            && s.len() <= MAX_ID
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
            && s != "."
            && s != ".."
    };
    if !segment(category) {
        return Err(Invalid(format!(
            "category {category:?} is not a valid category (letters, digits and ._+- only)"
        )));
    }
    match id.split_once('/') {
        Some((cat, name)) if cat == category && segment(name) => Ok(()),
        _ => Err(Invalid(format!(
            "case id {id:?} is not `{category}/<name>` (letters, digits and ._+- only)"
        ))),
    }
}

/// 64 lower-case hex digits: the only digest form reports and subjects carry.
pub fn check_sha256(what: &str, d: &str) -> Result<(), Invalid> {
    if d.len() == 64 && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "{what} {:?} is not a SHA-256 digest (64 lower-case hex digits)",
            d.chars().take(80).collect::<String>()
        )))
    }
}

impl Report {
    /// Check what the renderers and policies rely on: case ids and categories in the id
    /// grammar, digests as hex.
    pub fn validate(&self) -> Result<(), Invalid> {
        check_sha256("runtime.binary_sha256", &self.runtime.binary_sha256)?;
        check_sha256("suite.digest", &self.suite.digest)?;
        if let Some(e) = &self.suite.expectations {
            check_sha256("suite.expectations.sha256", &e.sha256)?;
        }
        for (id, c) in &self.cases {
            check_case_id(id, &c.category)?;
        }
        Ok(())
    }
}

/// Read a conformance report (JSON), refusing other schema versions with a clear message.
pub fn read_report(value: serde_json::Value) -> Result<Report, ReadError> {
    match value.get("schema_version").map(serde_json::Value::as_u64) {
        None => return Err(ReadError::NoVersion),
        Some(Some(v)) if v == u64::from(REPORT_SCHEMA_VERSION) => {}
        Some(Some(v)) => return Err(ReadError::Version(v)),
        Some(None) => return Err(ReadError::NoVersion),
    }
    let r: Report = serde_json::from_value(value).map_err(ReadError::Shape)?;
    r.validate().map_err(ReadError::Invalid)?;
    Ok(r)
}

/// Read a conformance report from JSON bytes.
pub fn read_report_bytes(bytes: &[u8]) -> Result<Report, ReadError> {
    read_report(serde_json::from_slice(bytes).map_err(ReadError::Json)?)
}

/// Why a signed bundle gave no report.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not verified by any given key ({0})")]
    NotVerified(String),
    #[error("a {0} statement, not a conformance report")]
    NotAReport(String),
    #[error("the signed report: {0}")]
    Report(#[source] ReadError),
}

/// A report read from a bundle that a given key verified.
pub struct VerifiedReport {
    pub report: Report,
    /// Index of the key (in the slice given) that verified the bundle.
    pub key: usize,
    pub verified: crate::sign::Verified,
}

/// Verify a Sigstore bundle with the first of `keys` (PEM) that verifies it and read the
/// conformance report it signs: the one routine the matrix, `report merge` and the policy
/// engine share.
pub fn verify_report(bundle: &[u8], keys: &[&[u8]]) -> Result<VerifiedReport, BundleError> {
    let mut last = String::from("no key given");
    for (i, pem) in keys.iter().enumerate() {
        match crate::sign::verify(bundle, pem, None) {
            Ok(v) => {
                if v.predicate_type != crate::sign::REPORT_PREDICATE {
                    return Err(BundleError::NotAReport(v.predicate_type));
                }
                let mut st: serde_json::Value = serde_json::from_slice(&v.payload)
                    .map_err(|e| BundleError::Report(ReadError::Json(e)))?;
                let report = read_report(st["predicate"].take()).map_err(BundleError::Report)?;
                return Ok(VerifiedReport {
                    report,
                    key: i,
                    verified: v,
                });
            }
            Err(crate::sign::Error::Version {
                found: Some(found), ..
            }) => return Err(BundleError::Report(ReadError::Version(found))),
            Err(e) => last = e.to_string(),
        }
    }
    Err(BundleError::NotVerified(last))
}
