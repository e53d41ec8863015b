//! Decoders for the custom sections wasmcert reports on.
//!
//! Every decoder reads only the section's own bytes (already bounded by the file) and caps
//! the number of entries it keeps, so a hostile section cannot make us allocate more than a
//! small multiple of its size.

use crate::model::{Claims, Dependency, Metadata, SignatureEntry, SignedHashSet};
use base64::Engine;
use wasmparser::{BinaryReader, BinaryReaderError};

/// Why a custom section does not decode. Not a failure of the analysis: the section is
/// reported with a finding carrying this message.
#[derive(Debug, thiserror::Error)]
pub enum SectionError {
    #[error("{message} at byte {offset}")]
    Binary { message: String, offset: usize },
    #[error("unsupported signature spec version {0}")]
    SignatureVersion(u32),
    #[error("unsupported hash function {0} (only 1 = SHA-256)")]
    HashFunction(u32),
    #[error("{count} {what} (more than {max})")]
    TooMany {
        count: u32,
        what: &'static str,
        max: u32,
    },
    #[error("claims are not UTF-8")]
    ClaimsNotUtf8,
    #[error("claims are not a JWT (expected three dot-separated parts)")]
    NotJwt,
    #[error("JWT part is not base64url: {0}")]
    JwtBase64(base64::DecodeError),
    #[error("JWT part is not JSON: {0}")]
    JwtJson(serde_json::Error),
    /// wasm-metadata's message (it reports errors as text, with their causes).
    #[error("{0}")]
    Metadata(String),
    #[error("component-type section nests too deeply")]
    NestsTooDeeply,
}

impl From<BinaryReaderError> for SectionError {
    fn from(e: BinaryReaderError) -> Self {
        SectionError::Binary {
            message: e.message().to_string(),
            offset: e.offset(),
        }
    }
}

/// wasmsign2 caps: more hash sets or signatures than this is treated as malformed.
const MAX_HASHES: u32 = 64;
const MAX_SIGNATURES: u32 = 256;

/// A parsed wasmsign2 `signature` section (format of wasm-signatures/wasmsign2 and the
/// tool-conventions `Signatures.md`).
pub struct SignatureData {
    pub spec_version: u8,
    pub content_type: u8,
    pub hash_function: u8,
    pub sets: Vec<SignedHashSet>,
}

pub fn parse_signature(data: &[u8], offset: usize) -> Result<SignatureData, SectionError> {
    let mut r = BinaryReader::new(data, offset);
    let spec_version = r.read_var_u32()?;
    let content_type = r.read_var_u32()?;
    let hash_function = r.read_var_u32()?;
    if spec_version != 1 {
        return Err(SectionError::SignatureVersion(spec_version));
    }
    if hash_function != 1 {
        return Err(SectionError::HashFunction(hash_function));
    }
    let count = r.read_var_u32()?;
    if count > MAX_HASHES {
        return Err(SectionError::TooMany {
            count,
            what: "signed hash sets",
            max: MAX_HASHES,
        });
    }
    let mut sets = Vec::new();
    for _ in 0..count {
        let len = r.read_var_u32()? as usize;
        let set = r.read_bytes(len)?;
        let mut s = BinaryReader::new(set, 0);
        let n = s.read_var_u32()?;
        if n > MAX_HASHES {
            return Err(SectionError::TooMany {
                count: n,
                what: "hashes in a set",
                max: MAX_HASHES,
            });
        }
        let mut hashes = Vec::new();
        for _ in 0..n {
            hashes.push(hex::encode(s.read_bytes(32)?));
        }
        let nsig = s.read_var_u32()?;
        if nsig > MAX_SIGNATURES {
            return Err(SectionError::TooMany {
                count: nsig,
                what: "signatures in a set",
                max: MAX_SIGNATURES,
            });
        }
        let mut signatures = Vec::new();
        for _ in 0..nsig {
            let len = s.read_var_u32()? as usize;
            let sig = s.read_bytes(len)?;
            let mut g = BinaryReader::new(sig, 0);
            let key_len = g.read_var_u32()? as usize;
            let key_id = g.read_bytes(key_len)?;
            let algorithm = g.read_u8()?;
            let length = g.read_var_u32()?;
            let bytes = g.read_bytes(length as usize)?;
            signatures.push(SignatureEntry {
                key_id: hex::encode(key_id),
                algorithm,
                length,
                signature: hex::encode(bytes),
            });
        }
        sets.push(SignedHashSet { hashes, signatures });
    }
    Ok(SignatureData {
        spec_version: spec_version as u8,
        content_type: content_type as u8,
        hash_function: hash_function as u8,
        sets,
    })
}

/// Decode a wasmCloud claims JWT (`header.payload.signature`, base64url JSON). The signature is
/// not verified here; `computed_hash` is filled in by the caller.
pub fn parse_claims(section: &str, data: &[u8]) -> Result<Claims, SectionError> {
    let text = std::str::from_utf8(data).map_err(|_| SectionError::ClaimsNotUtf8)?;
    let mut parts = text.trim().split('.');
    let (Some(h), Some(p), Some(_s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SectionError::NotJwt);
    };
    let decode = |s: &str| -> Result<serde_json::Value, SectionError> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(SectionError::JwtBase64)?;
        serde_json::from_slice(&raw).map_err(SectionError::JwtJson)
    };
    let header = decode(h)?;
    let payload = decode(p)?;
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let wascap = payload.get("wascap").cloned().unwrap_or_default();
    let list = |k: &str| -> Vec<String> {
        let mut v: Vec<String> = wascap
            .get(k)
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .take(1024)
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    Ok(Claims {
        section: section.to_string(),
        algorithm: s(&header, "alg"),
        issuer: s(&payload, "iss"),
        subject: s(&payload, "sub"),
        issued_at: payload.get("iat").and_then(|x| x.as_i64()),
        expires: payload.get("exp").and_then(|x| x.as_i64()),
        name: s(&wascap, "name"),
        module_hash: s(&wascap, "hash"),
        computed_hash: String::new(),
        capabilities: list("caps"),
        tags: list("tags"),
    })
}

/// `target_features`: a vector of `(prefix byte, name)`.
pub fn parse_target_features(data: &[u8], offset: usize) -> Result<Vec<String>, SectionError> {
    let mut r = BinaryReader::new(data, offset);
    let n = r.read_var_u32()?;
    let mut out = Vec::new();
    for _ in 0..n {
        let prefix = r.read_u8()?;
        let name = r.read_string()?;
        out.push(format!("{}{name}", prefix as char));
    }
    out.sort();
    Ok(out)
}

/// A section whose payload is one length-prefixed string (`sourceMappingURL`,
/// `external_debug_info`).
pub fn parse_string(data: &[u8], offset: usize) -> Result<String, SectionError> {
    let mut r = BinaryReader::new(data, offset);
    Ok(r.read_string()?.to_owned())
}

/// Decode one OCI-annotation style metadata section (`authors`, `licenses`, ...) or the
/// cargo-auditable `.dep-v0` section with the `wasm-metadata` crate, which bounds the
/// decompressed size of `.dep-v0` at 2 MiB.
///
/// `wasm-metadata` only decodes these sections from a whole binary, so we hand it a module made
/// of the wasm header and this one section: decoding cost is the section's, not the file's.
pub fn parse_metadata_section(
    raw_section: &[u8],
    meta: &mut Metadata,
    deps: &mut Option<Vec<Dependency>>,
) -> Result<(), SectionError> {
    let mut mini = Vec::with_capacity(8 + raw_section.len());
    mini.extend_from_slice(b"\0asm\x01\0\0\0");
    mini.extend_from_slice(raw_section);
    let payload = wasm_metadata::Payload::from_binary(&mini)
        .map_err(|e| SectionError::Metadata(format!("{e:#}")))?;
    let m = payload.metadata();
    if let Some(v) = &m.authors {
        meta.authors = Some(v.to_string());
    }
    if let Some(v) = &m.description {
        meta.description = Some(v.to_string());
    }
    if let Some(v) = &m.licenses {
        meta.licenses = Some(v.to_string());
    }
    if let Some(v) = &m.source {
        meta.source = Some(v.to_string());
    }
    if let Some(v) = &m.homepage {
        meta.homepage = Some(v.to_string());
    }
    if let Some(v) = &m.revision {
        meta.revision = Some(v.to_string());
    }
    if let Some(v) = &m.version {
        meta.version = Some(v.to_string());
    }
    if let Some(d) = &m.dependencies {
        let info = d.version_info();
        let list = info
            .packages
            .iter()
            .map(|p| Dependency {
                name: p.name.clone(),
                version: p.version.to_string(),
                source: match &p.source {
                    auditable_serde::Source::CratesIo => "crates.io".into(),
                    auditable_serde::Source::Git => "git".into(),
                    auditable_serde::Source::Local => "local".into(),
                    auditable_serde::Source::Registry => "registry".into(),
                    auditable_serde::Source::Other(s) => s.clone(),
                    _ => "unknown".into(),
                },
                kind: match p.kind {
                    auditable_serde::DependencyKind::Build => "build".into(),
                    _ => "runtime".into(),
                },
                root: p.root,
                dependencies: p.dependencies.clone(),
            })
            .collect();
        *deps = Some(list);
    }
    Ok(())
}

/// Names a `component-type*` section (a component encoding a WIT world) declares as imports
/// and exports. Worlds are component types nested inside component types; every `import` decl
/// is a declared import, every instance-typed `export` a declared export.
pub fn parse_world(data: &[u8], offset: usize) -> Result<(Vec<String>, Vec<String>), SectionError> {
    use wasmparser::{ComponentType, ComponentTypeDeclaration, ComponentTypeRef, Parser, Payload};
    fn walk(
        decls: &[ComponentTypeDeclaration<'_>],
        depth: u32,
        imports: &mut Vec<String>,
        exports: &mut Vec<String>,
    ) {
        if depth > 16 {
            return;
        }
        for d in decls {
            match d {
                ComponentTypeDeclaration::Type(ComponentType::Component(inner)) => {
                    walk(inner, depth + 1, imports, exports)
                }
                ComponentTypeDeclaration::Import(i) => imports.push(i.name.name.to_string()),
                ComponentTypeDeclaration::Export {
                    name,
                    ty: ComponentTypeRef::Instance(_) | ComponentTypeRef::Func(_),
                } => exports.push(name.name.to_string()),
                _ => {}
            }
        }
    }
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let err = |e: BinaryReaderError| SectionError::Binary {
        message: e.message().to_string(),
        offset: e.offset() + offset,
    };
    let mut depth = 0u32;
    for payload in Parser::new(0).parse_all(data) {
        match payload.map_err(err)? {
            Payload::ComponentSection { .. } | Payload::ModuleSection { .. } => {
                depth += 1;
                if depth > 16 {
                    return Err(SectionError::NestsTooDeeply);
                }
            }
            Payload::ComponentTypeSection(r) => {
                for ty in r {
                    if let ComponentType::Component(decls) = ty.map_err(err)? {
                        walk(&decls, 0, &mut imports, &mut exports);
                    }
                }
            }
            _ => {}
        }
    }
    imports.sort();
    imports.dedup();
    exports.sort();
    exports.dedup();
    Ok((imports, exports))
}
