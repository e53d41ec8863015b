//! Work that needs the whole unit, done when it ends: memory and table findings, wasmsign2
//! signature coverage, wascap claims hashes, embedded WIT worlds against the real imports.

use crate::analyze::*;
use crate::capabilities as caps;
use crate::custom;
use crate::findings::FindingCode;
use crate::model::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Work that needs the whole unit: signatures, claims hashes, worlds, memory findings.
pub(crate) fn finish_unit(f: &mut Frame<'_>, bytes: &[u8], end: usize) {
    for m in f.unit.memories.clone() {
        if m.maximum_pages.is_none() && !m.imported {
            f.finding(
                FindingCode::MemoryUnbounded,
                format!(
                    "memory {} has no maximum: it can grow until the runtime's limit",
                    m.index
                ),
                None,
            );
        }
        if m.shared {
            f.features.insert("threads");
            f.finding(
                FindingCode::SharedMemory,
                format!("memory {} is shared between threads", m.index),
                None,
            );
        }
        if m.memory64 {
            f.features.insert("memory64");
        }
        if m.page_size != 65536 {
            f.features.insert("custom-page-sizes");
        }
        if m.initial_bytes() >= LARGE_INITIAL_MEMORY {
            f.finding(
                FindingCode::MemoryInitialLarge,
                format!("memory {} starts at {} bytes", m.index, m.initial_bytes()),
                None,
            );
        }
    }
    if f.unit.memories.len() > 1 {
        f.features.insert("multi-memory");
    }
    if f.unit.tables.len() > 1 {
        f.features.insert("reference-types");
    }
    for t in f.unit.tables.clone() {
        if t.table64 {
            f.features.insert("memory64");
        }
        if t.maximum.is_none() && !t.imported {
            f.finding(
                FindingCode::TableUnbounded,
                format!("table {} has no maximum", t.index),
                None,
            );
        }
    }
    for e in f.unit.exports.clone() {
        if e.name == "wizer.initialize" || e.name == "wizer-initialize" {
            f.finding(
                FindingCode::WizerInitializerExported,
                format!("export `{}` is Wizer's pre-initialisation hook; strip it after pre-initialising", e.name),
                None,
            );
        }
    }
    let d = &f.unit.debug;
    if !d.dwarf_sections.is_empty()
        || d.source_mapping_url.is_some()
        || d.external_debug_info.is_some()
    {
        let mut names = d.dwarf_sections.clone();
        names.sort();
        names.dedup();
        let what = if names.is_empty() {
            "a source map or external debug info reference".to_string()
        } else {
            format!("DWARF debug sections ({})", names.join(", "))
        };
        f.finding(
            FindingCode::DebugInfoPresent,
            format!("the binary carries {what}"),
            None,
        );
    }
    f.unit.debug.dwarf_sections.sort();
    f.unit.debug.dwarf_sections.dedup();

    // wasmsign2: rolling SHA-256 over everything after the signature section, snapshotted at
    // each delimiter and at the end.
    if let Some((sig, sig_end, sig_offset, first)) = f.signature.take() {
        let mut hasher = Sha256::new();
        let mut at = sig_end;
        let mut computed = Vec::new();
        for &d in &f.delimiters {
            hasher.update(&bytes[at..d]);
            at = d;
            computed.push(hex::encode(hasher.clone().finalize()));
        }
        let trailing = at < end;
        if trailing {
            hasher.update(&bytes[at..end]);
            computed.push(hex::encode(hasher.finalize()));
        }
        let signed: BTreeSet<&String> = sig.sets.iter().flat_map(|s| s.hashes.iter()).collect();
        let last = computed.last();
        // wasmsign2's rule: the signature section comes first and covers the unit from the
        // first byte after the header. One that follows other sections covers nothing: the
        // code before it would run unsigned while the hash after it matches.
        let coverage = if !first {
            "not-first"
        } else if last.is_some_and(|h| signed.contains(h)) {
            "full"
        } else if computed.iter().any(|h| signed.contains(h)) {
            "partial"
        } else {
            "mismatch"
        };
        match coverage {
            "partial" => f.finding(
                FindingCode::SignaturePartial,
                "sections after the last signed delimiter are not covered by the signature".into(),
                Some(sig_offset),
            ),
            "mismatch" => f.finding(
                FindingCode::SignatureHashMismatch,
                "no signed hash matches the module content: it was modified after signing".into(),
                Some(sig_offset),
            ),
            _ => {}
        }
        f.unit.signatures.push(Signature {
            offset: sig_offset as u64,
            spec_version: sig.spec_version,
            content_type: sig.content_type,
            hash_function: sig.hash_function,
            signed_hash_sets: sig.sets,
            computed_hashes: computed,
            coverage: coverage.into(),
        });
    }

    // wascap hashes the module with its claims sections removed (upper-case hex).
    if !f.claims.is_empty() {
        let mut h = Sha256::new();
        let mut at = f.start;
        for &(s, e) in &f.claims_ranges {
            h.update(&bytes[at..s]);
            at = e;
        }
        h.update(&bytes[at..end]);
        let computed = hex::encode_upper(h.finalize());
        for mut c in std::mem::take(&mut f.claims) {
            c.computed_hash = computed.clone();
            if let Some(claimed) = &c.module_hash
                && !claimed.eq_ignore_ascii_case(&computed)
            {
                f.finding(
                    FindingCode::ClaimsHashMismatch,
                    format!("claims in `{}` were issued for module hash {claimed}, the module hashes to {computed}", c.section),
                    None,
                );
            }
            f.unit.claims.push(c);
        }
    }

    // Embedded WIT worlds against the unit's real imports.
    let imported: BTreeSet<String> = f
        .unit
        .imports
        .iter()
        .map(|i| i.module.clone().unwrap_or_else(|| i.name.clone()))
        .filter(|n| caps::parse_interface(n).is_some())
        .collect();
    for (name, offset, data) in std::mem::take(&mut f.worlds) {
        match custom::parse_world(data, offset) {
            Ok((decl_imports, decl_exports)) => {
                let declared: BTreeSet<&String> = decl_imports
                    .iter()
                    .filter(|n| caps::parse_interface(n).is_some())
                    .collect();
                let declared_not_imported: Vec<String> = declared
                    .iter()
                    .filter(|d| !imported.contains(**d))
                    .map(|s| s.to_string())
                    .collect();
                let imported_not_declared: Vec<String> = imported
                    .iter()
                    .filter(|i| !declared.contains(i))
                    .cloned()
                    .collect();
                for d in &declared_not_imported {
                    f.finding(
                        FindingCode::DeclaredCapabilityNotImported,
                        format!("world in `{name}` declares `{d}` but the unit does not import it"),
                        Some(offset),
                    );
                }
                for i in &imported_not_declared {
                    f.finding(
                        FindingCode::UndeclaredImport,
                        format!("`{i}` is imported but the world in `{name}` does not declare it"),
                        Some(offset),
                    );
                }
                f.unit.worlds.push(World {
                    section: name,
                    declared_imports: decl_imports,
                    declared_exports: decl_exports,
                    declared_not_imported,
                    imported_not_declared,
                });
            }
            Err(e) => f.finding(
                FindingCode::InvalidCustomSection,
                format!("custom section `{name}` could not be decoded: {e}"),
                Some(offset),
            ),
        }
    }
    f.unit.features = f.features.iter().map(|s| s.to_string()).collect();
}
