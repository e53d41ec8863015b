//! The registry of finding codes. Codes are stable kebab-case ids; each has a page in
//! `docs/findings/<code>.md` (a test in the CLI crate checks every page exists).

use crate::model::Severity;

/// `(code, default severity, one-line title)`, sorted by code.
pub const FINDINGS: &[(&str, Severity, &str)] = &[
    (
        "claims-hash-mismatch",
        Severity::Error,
        "wasmCloud claims were issued for different module content",
    ),
    (
        "custom-section-large",
        Severity::Info,
        "a custom section is larger than 16 MiB",
    ),
    (
        "debug-info-present",
        Severity::Info,
        "DWARF debug sections or a source map reference are present",
    ),
    (
        "declared-capability-not-imported",
        Severity::Info,
        "the embedded WIT world declares an import the module does not use",
    ),
    (
        "invalid-custom-section",
        Severity::Warning,
        "a known custom section could not be decoded",
    ),
    (
        "memory-initial-large",
        Severity::Warning,
        "a memory starts at 1 GiB or more",
    ),
    (
        "memory-unbounded",
        Severity::Warning,
        "a memory has no maximum size",
    ),
    (
        "multiple-wasi-versions",
        Severity::Info,
        "WASI interfaces of more than one generation (e.g. 0.2 and 0.3) are imported",
    ),
    (
        "oci-config-mismatch",
        Severity::Error,
        "the OCI artifact's config disagrees with the Wasm binary it ships (e.g. hides an import)",
    ),
    (
        "shared-memory",
        Severity::Warning,
        "a memory is shared between threads",
    ),
    (
        "signature-hash-mismatch",
        Severity::Error,
        "the module changed after it was signed",
    ),
    (
        "signature-not-first",
        Severity::Warning,
        "a signature section is not the first section, so it signs nothing before it",
    ),
    (
        "signature-partial",
        Severity::Warning,
        "sections were appended after signing and are not covered by the signature",
    ),
    (
        "start-function",
        Severity::Info,
        "a start function runs on instantiation",
    ),
    (
        "table-unbounded",
        Severity::Info,
        "a table has no maximum size",
    ),
    (
        "undeclared-import",
        Severity::Warning,
        "an import is not declared by the embedded WIT world",
    ),
    (
        "unknown-host-import",
        Severity::Warning,
        "an import wasmcert cannot classify",
    ),
    (
        "unknown-wasi-function",
        Severity::Warning,
        "an import from a WASI preview1 module that WASI does not define",
    ),
    (
        "wasi-unstable",
        Severity::Warning,
        "imports the deprecated `wasi_unstable` ABI",
    ),
    (
        "wizer-initializer-exported",
        Severity::Warning,
        "exports the Wizer pre-initialisation hook, callable again at run time",
    ),
];

/// The documented order of findings: severity descending, then code, unit and offset
/// (findings without an offset first); ties keep their order.
pub fn sort(findings: &mut [crate::model::Finding]) {
    findings.sort_by(|a, b| {
        (b.severity, &a.code, &a.unit, a.offset).cmp(&(a.severity, &b.code, &b.unit, b.offset))
    });
}

pub fn lookup(code: &str) -> Option<(Severity, &'static str)> {
    FINDINGS
        .binary_search_by(|(c, _, _)| c.cmp(&code))
        .ok()
        .map(|i| (FINDINGS[i].1, FINDINGS[i].2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_kebab_case() {
        assert!(FINDINGS.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, _, _) in FINDINGS {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{code}"
            );
        }
    }
}
