//! The raw document, as written. `Spanned` keeps the byte range of every value a finding can
//! point at; `deny_unknown_fields` turns a typo into an error at its line and column.

use crate::location::{LineIndex, PolicyError};
use crate::rules::Level;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The only format version this wasmcert reads.
pub const FORMAT_VERSION: i64 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPolicy {
    pub version: Spanned<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub rules: RawRules,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Spanned<RawException>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability_denied: Option<Spanned<CapabilityList>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability_not_allowed: Option<Spanned<CapabilityList>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency_banned: Option<Spanned<DependencyBans>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_denied: Option<Spanned<FeatureList>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_denied: Option<Spanned<ImportList>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_not_allowed: Option<Spanned<ImportList>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_not_allowed: Option<Spanned<KindList>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<Spanned<MemoryLimit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_maximum_required: Option<Spanned<LevelOnly>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_size: Option<Spanned<SizeLimit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer_banned: Option<Spanned<ProducerBans>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producers_required: Option<Spanned<LevelOnly>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_certification_required: Option<Spanned<Certification>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom_required: Option<Spanned<LevelOnly>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_required: Option<Spanned<SignatureRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_limit: Option<Spanned<TableLimit>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LevelOnly {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CapabilityList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    pub capabilities: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImportList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    pub imports: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FeatureList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    pub features: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KindList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    /// The kinds admitted.
    pub kinds: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MemoryLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    /// In 64 KiB pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pages: Option<Spanned<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<Spanned<u64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TableLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    pub max_elements: Spanned<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SizeLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    pub max_bytes: Spanned<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignatureRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    /// Public keys, paths relative to the policy file.
    pub keys: Spanned<Vec<Spanned<String>>>,
    /// `embedded` (wasmsign2 signature section) and/or `attestation` (signed analysis bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProducerBans {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    pub producers: Vec<Spanned<ProducerBan>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProducerBan {
    /// Tool name glob (`rustc`, `clang`, `wasm-bindgen`, `Go`, ...).
    pub name: Spanned<String>,
    /// Version range; absent: every version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Spanned<String>>,
    /// `language`, `processed-by` or `sdk`; absent: any field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DependencyBans {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    pub dependencies: Vec<Spanned<DependencyBan>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DependencyBan {
    /// Package name glob.
    pub name: Spanned<String>,
    /// Version range; absent: every version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Spanned<String>>,
    /// Why (an advisory id, say); printed with the finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Certification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Spanned<Level>>,
    /// Public keys whose signature on a report is trusted, relative to the policy file.
    pub keys: Spanned<Vec<Spanned<String>>>,
    /// Signed report bundles, relative to the policy file (more come from `--runtime-report`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<Spanned<String>>,
    /// Glob over the certified runtime's name; absent: any runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Spanned<String>>,
    /// Categories that must be in the report with no forbidden outcome; default `["sandbox"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Spanned<Vec<Spanned<String>>>>,
    /// Outcomes that disqualify a report; default `["escaped"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid: Option<Spanned<Vec<Spanned<String>>>>,
    /// A report older than this (by its `started_at`) does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<Spanned<u64>>,
    /// The report must be made with exactly this suite (`suite.digest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_digest: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawException {
    /// Subject sha256, `sha256:HEX` or `HEX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Spanned<String>>,
    /// Glob over the subject path as given (also tried against the file name alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Spanned<String>>,
    /// Rule ids the exception covers; absent: every rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Spanned<Vec<Spanned<String>>>>,
    pub reason: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Spanned<toml::value::Datetime>>,
}

/// Parse the text of a policy (no compilation: for round-trip tests and the fuzzer).
pub fn parse_raw(text: &str, file: &str) -> Result<RawPolicy, PolicyError> {
    let idx = LineIndex::new(text);
    toml::from_str::<RawPolicy>(text).map_err(|e| PolicyError {
        file: file.to_string(),
        at: e.span().map(|s| idx.line_col(text, s.start)),
        message: e.message().trim().to_string(),
    })
}
