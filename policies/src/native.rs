//! Native policies: the TOML format (`version = 1`), parsed strictly with spans so every error
//! and every finding names its line and column, then compiled once (globs, ranges, keys) into a
//! [`NativePolicy`] that evaluates an Analysis without allocating much more than its findings.
//!
//! The format is documented in `docs/policy/format.md` and `policies/template.toml`.
//!
//! `raw.rs` is the document as written, `compile.rs` turns it into the model below.

mod compile;
mod raw;

pub use compile::compile;
pub use raw::*;

use crate::keys::PublicKey;
use crate::location::Location;
use crate::pattern::{Glob, ImportPattern, Range};
use crate::rules::{Level, RuleId};
use wasmcert_report::conformance::OutcomeKind;

/// A compiled native policy: patterns built, keys loaded, reports verified.
#[derive(Debug)]
pub struct NativePolicy {
    pub file: String,
    pub name: Option<String>,
    pub(crate) rules: Vec<Compiled>,
    pub(crate) exceptions: Vec<Exception>,
    /// Reports named by the policy, read at load (verified with the rule's keys when the
    /// evaluation is prepared).
    pub(crate) policy_reports: Vec<crate::Bundle>,
}

#[derive(Debug)]
pub(crate) struct Compiled {
    pub id: RuleId,
    pub level: Level,
    /// Where the rule's table starts.
    pub at: Location,
    pub check: Check,
}

/// A pattern with the place it was written.
#[derive(Debug)]
pub(crate) struct At<T> {
    pub value: T,
    pub at: Location,
}

#[derive(Debug)]
pub(crate) enum Check {
    CapabilityDenied(Vec<At<Glob>>),
    CapabilityNotAllowed(Vec<At<Glob>>, Location),
    DependencyBanned(Vec<At<Ban>>),
    FeatureDenied(Vec<At<String>>),
    ImportDenied(Vec<At<ImportPattern>>),
    ImportNotAllowed(Vec<At<ImportPattern>>, Location),
    KindNotAllowed(Vec<String>, Location),
    MemoryLimit { max_bytes: u64, at: Location },
    MemoryMaximumRequired,
    ModuleSize { max_bytes: u64, at: Location },
    ProducerBanned(Vec<At<ProducerMatch>>),
    ProducersRequired,
    RuntimeCertification(Box<CertificationCheck>),
    SbomRequired,
    SignatureRequired(SignatureCheck),
    TableLimit { max_elements: u64, at: Location },
}

#[derive(Debug)]
pub(crate) struct Ban {
    pub name: Glob,
    pub range: Option<Range>,
    pub reason: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ProducerMatch {
    pub name: Glob,
    pub range: Option<Range>,
    pub field: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug)]
pub(crate) struct SignatureCheck {
    pub keys: Vec<(PublicKey, Location)>,
    pub embedded: bool,
    pub attestation: bool,
}

#[derive(Debug)]
pub(crate) struct CertificationCheck {
    pub keys: Vec<(PublicKey, Location)>,
    pub runtime: Option<Glob>,
    pub categories: Vec<String>,
    pub forbid: Vec<OutcomeKind>,
    pub max_age_days: Option<u64>,
    pub suite_digest: Option<String>,
    /// Set by [`crate::Policy::prepare`].
    pub verdict: Option<CertVerdict>,
}

/// Whether a verified conformance report certifies the runtime a policy asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertVerdict {
    /// The report that certifies it (`runtime version certified by bundle (key ...)`).
    Certified(String),
    /// Why no given report does, one reason per report.
    Refused(String),
}

#[derive(Debug)]
pub(crate) struct Exception {
    pub digest: Option<String>,
    pub name: Option<Glob>,
    pub rules: Option<Vec<String>>,
    pub reason: String,
    pub expires: Option<String>,
    pub at: Location,
}
