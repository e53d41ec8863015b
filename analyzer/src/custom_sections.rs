//! The custom sections wasmcert reads, dispatched by name: producers, target features, names,
//! metadata and `.dep-v0`, wasmsign2 signatures and delimiters, wascap claims, WIT worlds,
//! dylink and linking, DWARF. Decoding itself is in `custom.rs`.

use crate::analyze::*;
use crate::custom;
use crate::findings::FindingCode;
use crate::model::*;
use wasmparser::KnownCustom;

pub(crate) fn custom_section<'a>(
    f: &mut Frame<'a>,
    c: wasmparser::CustomSectionReader<'a>,
    bytes: &'a [u8],
    section_start: usize,
    section_end: usize,
) {
    let name = c.name().to_string();
    let size = c.data().len() as u64;
    f.unit.custom_sections.push(CustomSection {
        name: name.clone(),
        offset: c.data_offset() as u64,
        size,
    });
    if size > LARGE_CUSTOM_SECTION {
        f.finding(
            FindingCode::CustomSectionLarge,
            format!("custom section `{name}` is {size} bytes"),
            Some(section_start),
        );
    }
    let bad = |f: &mut Frame<'_>, why: String| {
        f.finding(
            FindingCode::InvalidCustomSection,
            format!("custom section `{name}` could not be decoded: {why}"),
            Some(c.data_offset()),
        );
    };
    match c.as_known() {
        KnownCustom::Name(r) => {
            f.unit.debug.names = true;
            for n in r {
                match n {
                    Ok(wasmparser::Name::Module { name, .. }) => {
                        f.unit.name = Some(name.to_string())
                    }
                    Ok(_) => {}
                    Err(e) => {
                        bad(f, e.message().to_string());
                        break;
                    }
                }
            }
            return;
        }
        KnownCustom::ComponentName(r) => {
            f.unit.debug.names = true;
            for n in r {
                match n {
                    Ok(wasmparser::ComponentName::Component { name, .. }) => {
                        f.unit.name = Some(name.to_string())
                    }
                    Ok(_) => {}
                    Err(e) => {
                        bad(f, e.message().to_string());
                        break;
                    }
                }
            }
            return;
        }
        KnownCustom::Producers(_) => {
            match wasm_metadata::Producers::from_bytes(c.data(), c.data_offset()) {
                Ok(p) => {
                    for (field, values) in p.iter() {
                        let e = f.unit.producers.entry(field.clone()).or_default();
                        for (k, v) in values.iter() {
                            e.insert(k.clone(), v.clone());
                        }
                    }
                }
                Err(e) => bad(f, format!("{e:#}")),
            }
            return;
        }
        KnownCustom::Dylink0(r) => {
            f.unit.kind = if f.unit.kind == Kind::CoreModule {
                Kind::DylinkLibrary
            } else {
                f.unit.kind
            };
            let mut d = Dylink {
                memory_size: 0,
                memory_alignment: 0,
                table_size: 0,
                table_alignment: 0,
                needed: Vec::new(),
            };
            for s in r {
                match s {
                    Ok(wasmparser::Dylink0Subsection::MemInfo(m)) => {
                        d.memory_size = m.memory_size;
                        d.memory_alignment = m.memory_alignment;
                        d.table_size = m.table_size;
                        d.table_alignment = m.table_alignment;
                    }
                    Ok(wasmparser::Dylink0Subsection::Needed(n)) => {
                        d.needed.extend(n.iter().take(4096).map(|s| s.to_string()))
                    }
                    Ok(_) => {}
                    Err(e) => {
                        bad(f, e.message().to_string());
                        break;
                    }
                }
            }
            f.unit.dylink = Some(d);
            return;
        }
        KnownCustom::Linking(r) => {
            if f.unit.kind == Kind::CoreModule {
                f.unit.kind = Kind::RelocatableObject;
            }
            f.unit.linking_version = Some(r.version());
            return;
        }
        // wasmparser decodes only what it understands; a section with a well-known name that
        // it could not decode is malformed (or of a version wasmparser does not read).
        KnownCustom::Unknown if name == "producers" => {
            bad(f, "not a valid producers section".into());
            return;
        }
        KnownCustom::Unknown if name == "linking" => {
            if f.unit.kind == Kind::CoreModule {
                f.unit.kind = Kind::RelocatableObject;
            }
            match wasmparser::BinaryReader::new(c.data(), c.data_offset()).read_var_u32() {
                Ok(v) => {
                    f.unit.linking_version = Some(v);
                    bad(
                        f,
                        format!("linking section version {v} (only version 2 is decoded)"),
                    );
                }
                Err(e) => bad(f, e.message().to_string()),
            }
            return;
        }
        _ => {}
    }
    let raw = &bytes[section_start..section_end];
    match name.as_str() {
        "dylink" if f.unit.kind == Kind::CoreModule => f.unit.kind = Kind::DylinkLibrary,
        "target_features" => match custom::parse_target_features(c.data(), c.data_offset()) {
            Ok(v) => f.unit.target_features = v,
            Err(e) => bad(f, e.to_string()),
        },
        "sourceMappingURL" => match custom::parse_string(c.data(), c.data_offset()) {
            Ok(v) => f.unit.debug.source_mapping_url = Some(v),
            Err(e) => bad(f, e.to_string()),
        },
        "external_debug_info" => match custom::parse_string(c.data(), c.data_offset()) {
            Ok(v) => f.unit.debug.external_debug_info = Some(v),
            Err(e) => bad(f, e.to_string()),
        },
        "authors" | "description" | "licenses" | "source" | "homepage" | "revision" | "version"
        | ".dep-v0" => {
            if let Err(e) =
                custom::parse_metadata_section(raw, &mut f.unit.metadata, &mut f.unit.dependencies)
            {
                bad(f, e.to_string())
            }
        }
        "signature" => {
            if f.sections_seen != 1 {
                f.finding(
                    FindingCode::SignatureNotFirst,
                    "the `signature` section is not the first section: it cannot cover what precedes it".into(),
                    Some(c.data_offset()),
                );
            }
            match custom::parse_signature(c.data(), c.data_offset()) {
                Ok(s) => {
                    if f.signature.is_none() {
                        f.signature = Some((s, section_end, c.data_offset(), f.sections_seen == 1));
                    }
                }
                Err(e) => bad(f, e.to_string()),
            }
        }
        "signature_delimiter" if f.signature.is_some() && f.delimiters.len() < MAX_DELIMITERS => {
            f.delimiters.push(section_end)
        }
        "jwt" | "wasmcloud_jwt" => {
            f.claims_ranges.push((section_start, section_end));
            match custom::parse_claims(&name, c.data()) {
                Ok(cl) => f.claims.push(cl),
                Err(e) => bad(f, e.to_string()),
            }
        }
        n if n.starts_with(".debug_") => {
            f.unit.debug.dwarf_sections.push(n.to_string());
        }
        n if n.starts_with("component-type") => {
            f.worlds.push((n.to_string(), c.data_offset(), c.data()));
        }
        _ => {}
    }
}
