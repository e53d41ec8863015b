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

/// One native rule: its id, a one-line title, and the keys its `[rules.<id>]` table takes
/// (besides `level`).
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub fields: &'static [&'static str],
}

/// Every native rule, sorted by id.
pub const RULES: &[Rule] = &[
    Rule {
        id: "capability-denied",
        title: "the module is granted a capability the policy denies",
        fields: &["capabilities"],
    },
    Rule {
        id: "capability-not-allowed",
        title: "the module is granted a capability outside the policy's allow list",
        fields: &["capabilities"],
    },
    Rule {
        id: "dependency-banned",
        title: "the embedded SBOM (.dep-v0) lists a banned dependency version",
        fields: &["dependencies"],
    },
    Rule {
        id: "feature-denied",
        title: "the module uses a WebAssembly feature the policy forbids",
        fields: &["features"],
    },
    Rule {
        id: "import-denied",
        title: "the module imports something matching a denied pattern",
        fields: &["imports"],
    },
    Rule {
        id: "import-not-allowed",
        title: "the module imports something no allowed pattern matches",
        fields: &["imports"],
    },
    Rule {
        id: "kind-not-allowed",
        title: "the binary is of a kind (module, component, ...) the policy does not admit",
        fields: &["kinds"],
    },
    Rule {
        id: "memory-limit",
        title: "a memory can grow past the policy's cap",
        fields: &["max-pages", "max-bytes"],
    },
    Rule {
        id: "memory-maximum-required",
        title: "a memory declares no maximum size",
        fields: &[],
    },
    Rule {
        id: "module-size",
        title: "the file is larger than the policy's cap",
        fields: &["max-bytes"],
    },
    Rule {
        id: "producer-banned",
        title: "a banned producer (language, tool or SDK version) built the module",
        fields: &["producers"],
    },
    Rule {
        id: "producers-required",
        title: "the module has no producers section",
        fields: &[],
    },
    Rule {
        id: "runtime-certification-required",
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
        id: "sbom-required",
        title: "the module embeds no SBOM (cargo-auditable .dep-v0)",
        fields: &[],
    },
    Rule {
        id: "signature-required",
        title: "no valid signature by a listed key covers the module",
        fields: &["keys", "accept"],
    },
    Rule {
        id: "table-limit",
        title: "a table can grow past the policy's cap",
        fields: &["max-elements"],
    },
];

/// Findings about the policy itself (reported once per run, not per subject).
pub const META_RULES: &[Rule] = &[
    Rule {
        id: "exception-expired",
        title: "an exception is past its `expires` date and no longer applies",
        fields: &[],
    },
    Rule {
        id: "exception-unused",
        title: "an exception matched no finding in this run",
        fields: &[],
    },
];

pub fn lookup(id: &str) -> Option<&'static Rule> {
    RULES.iter().chain(META_RULES).find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_unique_kebab_case() {
        for list in [RULES, META_RULES] {
            assert!(list.windows(2).all(|w| w[0].id < w[1].id));
        }
        for r in RULES.iter().chain(META_RULES) {
            assert!(
                r.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
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
