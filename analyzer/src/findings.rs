//! The registry of finding codes: one enum, so a code that does not exist is a compile error
//! (cargo-deny's `enum Code` habit). Codes are stable kebab-case ids in the JSON; each has a
//! page in `docs/findings/<code>.md` (a test in the CLI crate checks every page exists).

use crate::model::Severity;
use serde::{Deserialize, Serialize};

/// Every finding code. Declared in the byte order of their kebab-case ids, so the derived
/// order is the documented sort order of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// wasmCloud claims were issued for different module content
    ClaimsHashMismatch,
    /// a custom section is larger than 16 MiB
    CustomSectionLarge,
    /// DWARF debug sections or a source map reference are present
    DebugInfoPresent,
    /// the embedded WIT world declares an import the module does not use
    DeclaredCapabilityNotImported,
    /// a known custom section could not be decoded
    InvalidCustomSection,
    /// a memory starts at 1 GiB or more
    MemoryInitialLarge,
    /// a memory has no maximum size
    MemoryUnbounded,
    /// WASI interfaces of more than one generation (e.g. 0.2 and 0.3) are imported
    MultipleWasiVersions,
    /// the OCI artifact's config disagrees with the Wasm binary it ships (e.g. hides an import)
    OciConfigMismatch,
    /// a memory is shared between threads
    SharedMemory,
    /// the module changed after it was signed
    SignatureHashMismatch,
    /// a signature section is not the first section, so it signs nothing before it
    SignatureNotFirst,
    /// sections were appended after signing and are not covered by the signature
    SignaturePartial,
    /// a start function runs on instantiation
    StartFunction,
    /// a table has no maximum size
    TableUnbounded,
    /// an import is not declared by the embedded WIT world
    UndeclaredImport,
    /// an import wasmcert cannot classify
    UnknownHostImport,
    /// an import from a WASI preview1 module that WASI does not define
    UnknownWasiFunction,
    /// imports the deprecated `wasi_unstable` ABI
    WasiUnstable,
    /// exports the Wizer pre-initialisation hook, callable again at run time
    WizerInitializerExported,
}

impl FindingCode {
    /// Every code, sorted.
    pub const ALL: [FindingCode; 20] = [
        FindingCode::ClaimsHashMismatch,
        FindingCode::CustomSectionLarge,
        FindingCode::DebugInfoPresent,
        FindingCode::DeclaredCapabilityNotImported,
        FindingCode::InvalidCustomSection,
        FindingCode::MemoryInitialLarge,
        FindingCode::MemoryUnbounded,
        FindingCode::MultipleWasiVersions,
        FindingCode::OciConfigMismatch,
        FindingCode::SharedMemory,
        FindingCode::SignatureHashMismatch,
        FindingCode::SignatureNotFirst,
        FindingCode::SignaturePartial,
        FindingCode::StartFunction,
        FindingCode::TableUnbounded,
        FindingCode::UndeclaredImport,
        FindingCode::UnknownHostImport,
        FindingCode::UnknownWasiFunction,
        FindingCode::WasiUnstable,
        FindingCode::WizerInitializerExported,
    ];

    /// The stable kebab-case id.
    pub fn code(self) -> &'static str {
        match self {
            FindingCode::ClaimsHashMismatch => "claims-hash-mismatch",
            FindingCode::CustomSectionLarge => "custom-section-large",
            FindingCode::DebugInfoPresent => "debug-info-present",
            FindingCode::DeclaredCapabilityNotImported => "declared-capability-not-imported",
            FindingCode::InvalidCustomSection => "invalid-custom-section",
            FindingCode::MemoryInitialLarge => "memory-initial-large",
            FindingCode::MemoryUnbounded => "memory-unbounded",
            FindingCode::MultipleWasiVersions => "multiple-wasi-versions",
            FindingCode::OciConfigMismatch => "oci-config-mismatch",
            FindingCode::SharedMemory => "shared-memory",
            FindingCode::SignatureHashMismatch => "signature-hash-mismatch",
            FindingCode::SignatureNotFirst => "signature-not-first",
            FindingCode::SignaturePartial => "signature-partial",
            FindingCode::StartFunction => "start-function",
            FindingCode::TableUnbounded => "table-unbounded",
            FindingCode::UndeclaredImport => "undeclared-import",
            FindingCode::UnknownHostImport => "unknown-host-import",
            FindingCode::UnknownWasiFunction => "unknown-wasi-function",
            FindingCode::WasiUnstable => "wasi-unstable",
            FindingCode::WizerInitializerExported => "wizer-initializer-exported",
        }
    }

    /// The default severity.
    pub fn severity(self) -> Severity {
        match self {
            FindingCode::ClaimsHashMismatch => Severity::Error,
            FindingCode::CustomSectionLarge => Severity::Info,
            FindingCode::DebugInfoPresent => Severity::Info,
            FindingCode::DeclaredCapabilityNotImported => Severity::Info,
            FindingCode::InvalidCustomSection => Severity::Warning,
            FindingCode::MemoryInitialLarge => Severity::Warning,
            FindingCode::MemoryUnbounded => Severity::Warning,
            FindingCode::MultipleWasiVersions => Severity::Info,
            FindingCode::OciConfigMismatch => Severity::Error,
            FindingCode::SharedMemory => Severity::Warning,
            FindingCode::SignatureHashMismatch => Severity::Error,
            FindingCode::SignatureNotFirst => Severity::Warning,
            FindingCode::SignaturePartial => Severity::Warning,
            FindingCode::StartFunction => Severity::Info,
            FindingCode::TableUnbounded => Severity::Info,
            FindingCode::UndeclaredImport => Severity::Warning,
            FindingCode::UnknownHostImport => Severity::Warning,
            FindingCode::UnknownWasiFunction => Severity::Warning,
            FindingCode::WasiUnstable => Severity::Warning,
            FindingCode::WizerInitializerExported => Severity::Warning,
        }
    }

    /// The one-line title (SARIF rule description, docs index).
    pub fn title(self) -> &'static str {
        match self {
            FindingCode::ClaimsHashMismatch => {
                "wasmCloud claims were issued for different module content"
            }
            FindingCode::CustomSectionLarge => "a custom section is larger than 16 MiB",
            FindingCode::DebugInfoPresent => {
                "DWARF debug sections or a source map reference are present"
            }
            FindingCode::DeclaredCapabilityNotImported => {
                "the embedded WIT world declares an import the module does not use"
            }
            FindingCode::InvalidCustomSection => "a known custom section could not be decoded",
            FindingCode::MemoryInitialLarge => "a memory starts at 1 GiB or more",
            FindingCode::MemoryUnbounded => "a memory has no maximum size",
            FindingCode::MultipleWasiVersions => {
                "WASI interfaces of more than one generation (e.g. 0.2 and 0.3) are imported"
            }
            FindingCode::OciConfigMismatch => {
                "the OCI artifact's config disagrees with the Wasm binary it ships (e.g. hides an import)"
            }
            FindingCode::SharedMemory => "a memory is shared between threads",
            FindingCode::SignatureHashMismatch => "the module changed after it was signed",
            FindingCode::SignatureNotFirst => {
                "a signature section is not the first section, so it signs nothing before it"
            }
            FindingCode::SignaturePartial => {
                "sections were appended after signing and are not covered by the signature"
            }
            FindingCode::StartFunction => "a start function runs on instantiation",
            FindingCode::TableUnbounded => "a table has no maximum size",
            FindingCode::UndeclaredImport => "an import is not declared by the embedded WIT world",
            FindingCode::UnknownHostImport => "an import wasmcert cannot classify",
            FindingCode::UnknownWasiFunction => {
                "an import from a WASI preview1 module that WASI does not define"
            }
            FindingCode::WasiUnstable => "imports the deprecated `wasi_unstable` ABI",
            FindingCode::WizerInitializerExported => {
                "exports the Wizer pre-initialisation hook, callable again at run time"
            }
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The documented order of findings: severity descending, then code, unit and offset
/// (findings without an offset first); ties keep their order.
pub fn sort(findings: &mut [crate::model::Finding]) {
    findings.sort_by(|a, b| {
        (b.severity, a.code, &a.unit, a.offset).cmp(&(a.severity, b.code, &b.unit, b.offset))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_kebab_case_and_round_trip() {
        assert!(
            FindingCode::ALL
                .windows(2)
                .all(|w| w[0].code() < w[1].code() && w[0] < w[1])
        );
        for c in FindingCode::ALL {
            assert!(
                c.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{c}"
            );
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.code()));
            assert_eq!(serde_json::from_str::<FindingCode>(&json).unwrap(), c);
        }
    }
}
