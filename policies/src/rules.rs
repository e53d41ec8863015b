//! The registry of native rule ids. Ids are stable kebab-case; each has a page in
//! `docs/policy/rules/<id>.md` (a test checks every page exists, and that the template and the
//! reference list every field).

use serde::{Deserialize, Serialize};

/// What a rule does when it fires: `deny` fails the check, `warn` reports without failing,
/// `allow` turns the rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

/// Every rule id, native and meta: one enum, so a misspelt id does not compile. Declared in
/// the byte order of the kebab-case ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    CapabilityDenied,
    CapabilityNotAllowed,
    DependencyBanned,
    ExceptionExpired,
    ExceptionUnused,
    FeatureDenied,
    ImportDenied,
    ImportNotAllowed,
    KindNotAllowed,
    MemoryLimit,
    MemoryMaximumRequired,
    ModuleSize,
    ProducerBanned,
    ProducersRequired,
    RuntimeCertificationRequired,
    SbomRequired,
    SignatureRequired,
    TableLimit,
}

impl RuleId {
    /// The stable kebab-case id (`[rules.<id>]`, findings, SARIF rule ids, docs pages).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::CapabilityDenied => "capability-denied",
            RuleId::CapabilityNotAllowed => "capability-not-allowed",
            RuleId::DependencyBanned => "dependency-banned",
            RuleId::ExceptionExpired => "exception-expired",
            RuleId::ExceptionUnused => "exception-unused",
            RuleId::FeatureDenied => "feature-denied",
            RuleId::ImportDenied => "import-denied",
            RuleId::ImportNotAllowed => "import-not-allowed",
            RuleId::KindNotAllowed => "kind-not-allowed",
            RuleId::MemoryLimit => "memory-limit",
            RuleId::MemoryMaximumRequired => "memory-maximum-required",
            RuleId::ModuleSize => "module-size",
            RuleId::ProducerBanned => "producer-banned",
            RuleId::ProducersRequired => "producers-required",
            RuleId::RuntimeCertificationRequired => "runtime-certification-required",
            RuleId::SbomRequired => "sbom-required",
            RuleId::SignatureRequired => "signature-required",
            RuleId::TableLimit => "table-limit",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One native rule: its id, a one-line title, and the keys its `[rules.<id>]` table takes
/// (besides `level`).
pub struct Rule {
    pub id: RuleId,
    pub title: &'static str,
    pub fields: &'static [&'static str],
}

/// Every native rule, sorted by id.
pub const RULES: &[Rule] = &[
    Rule {
        id: RuleId::CapabilityDenied,
        title: "the module is granted a capability the policy denies",
        fields: &["capabilities"],
    },
    Rule {
        id: RuleId::CapabilityNotAllowed,
        title: "the module is granted a capability outside the policy's allow list",
        fields: &["capabilities"],
    },
    Rule {
        id: RuleId::DependencyBanned,
        title: "the embedded SBOM (.dep-v0) lists a banned dependency version",
        fields: &["dependencies"],
    },
    Rule {
        id: RuleId::FeatureDenied,
        title: "the module uses a WebAssembly feature the policy forbids",
        fields: &["features"],
    },
    Rule {
        id: RuleId::ImportDenied,
        title: "the module imports something matching a denied pattern",
        fields: &["imports"],
    },
    Rule {
        id: RuleId::ImportNotAllowed,
        title: "the module imports something no allowed pattern matches",
        fields: &["imports"],
    },
    Rule {
        id: RuleId::KindNotAllowed,
        title: "the binary is of a kind (module, component, ...) the policy does not admit",
        fields: &["kinds"],
    },
    Rule {
        id: RuleId::MemoryLimit,
        title: "a memory can grow past the policy's cap",
        fields: &["max-pages", "max-bytes"],
    },
    Rule {
        id: RuleId::MemoryMaximumRequired,
        title: "a memory declares no maximum size",
        fields: &[],
    },
    Rule {
        id: RuleId::ModuleSize,
        title: "the file is larger than the policy's cap",
        fields: &["max-bytes"],
    },
    Rule {
        id: RuleId::ProducerBanned,
        title: "a banned producer (language, tool or SDK version) built the module",
        fields: &["producers"],
    },
    Rule {
        id: RuleId::ProducersRequired,
        title: "the module has no producers section",
        fields: &[],
    },
    Rule {
        id: RuleId::RuntimeCertificationRequired,
        title: "no verified conformance report certifies the target runtime",
        fields: &[
            "keys",
            "reports",
            "runtime",
            "categories",
            "forbid",
            "max-age-days",
            "suite-digest",
        ],
    },
    Rule {
        id: RuleId::SbomRequired,
        title: "the module embeds no SBOM (cargo-auditable .dep-v0)",
        fields: &[],
    },
    Rule {
        id: RuleId::SignatureRequired,
        title: "no valid signature by a listed key covers the module",
        fields: &["keys", "accept"],
    },
    Rule {
        id: RuleId::TableLimit,
        title: "a table can grow past the policy's cap",
        fields: &["max-elements"],
    },
];

/// Findings about the policy itself (reported once per run, not per subject).
pub const META_RULES: &[Rule] = &[
    Rule {
        id: RuleId::ExceptionExpired,
        title: "an exception is past its `expires` date and no longer applies",
        fields: &[],
    },
    Rule {
        id: RuleId::ExceptionUnused,
        title: "an exception matched no finding in this run",
        fields: &[],
    },
];

pub fn lookup(id: &str) -> Option<&'static Rule> {
    RULES.iter().chain(META_RULES).find(|r| r.id.as_str() == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_unique_kebab_case() {
        for list in [RULES, META_RULES] {
            assert!(list.windows(2).all(|w| w[0].id.as_str() < w[1].id.as_str()));
        }
        for r in RULES.iter().chain(META_RULES) {
            assert!(
                r.id.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.id
            );
            assert!(
                RULES
                    .iter()
                    .chain(META_RULES)
                    .filter(|o| o.id == r.id)
                    .count()
                    == 1
            );
        }
    }
}
