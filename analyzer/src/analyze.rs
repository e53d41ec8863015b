//! The single pass over a binary: wasmparser's `Parser` drives, the `Validator` (unless
//! `--no-validate`) checks every payload, and one `Frame` per module/component collects facts.
//! Function bodies are validated afterwards in parallel with rayon, as `wasm-tools validate`
//! does, and report which proposals their operators use.

use crate::classify::classify;
use crate::custom;
use crate::custom_sections::custom_section;
use crate::features;
use crate::findings::FindingCode;
use crate::finish::finish_unit;
use crate::graph::{drop_findings_on_borrowed_memories, link_host_imports};
use crate::model::*;
use crate::types::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use wasmparser::{
    Chunk, CompositeInnerType, Encoding, ExternalKind, FuncToValidate, FuncValidatorAllocations,
    FunctionBody, Parser, Payload, TypeRef, ValidPayload, Validator, ValidatorResources,
    WasmFeatures,
};

/// Components may nest components; past this depth the input is refused. Real toolchains
/// produce 3-4 levels; the bound keeps our frame stack (and wasmparser's) small.
pub const MAX_NESTING: usize = 64;
/// Custom sections larger than this get the `custom-section-large` finding.
pub(crate) const LARGE_CUSTOM_SECTION: u64 = 16 << 20;
/// `memory-initial-large` threshold.
pub(crate) const LARGE_INITIAL_MEMORY: u64 = 1 << 30;
/// Imports and exports kept per unit: each costs at least 3 input bytes, so this is only
/// reached by absurd inputs, and it keeps the JSON of such a file bounded.
pub(crate) const MAX_ITEMS: usize = 1_000_000;
/// Inputs (and code) smaller than this are hashed and validated on the calling thread: for
/// them, waking rayon's workers costs more than the second core gives back.
pub(crate) const PARALLEL_BYTES: usize = 256 << 10;
/// Delimiters hashed per signature (wasmsign2's own limit on hashes).
pub(crate) const MAX_DELIMITERS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {offset}")]
pub struct Error {
    pub message: String,
    pub offset: u64,
}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        Error {
            message: e.message().to_string(),
            offset: e.offset() as u64,
        }
    }
}

/// How to analyse.
#[derive(Debug, Clone)]
pub struct Options {
    /// Validate every function body (and learn the features they use). Off: headers only.
    pub validate: bool,
    /// The path to record in `subject.path`.
    pub path: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            validate: true,
            path: "-".into(),
        }
    }
}

pub(crate) struct Frame<'a> {
    pub(crate) unit: Unit,
    pub(crate) start: usize,
    // Core modules.
    pub(crate) types: Vec<Option<String>>,
    pub(crate) func_types: Vec<u32>,
    pub(crate) imported_funcs: u32,
    pub(crate) features: BTreeSet<&'static str>,
    // Components: per type index, the function names an instance type exports.
    pub(crate) comp_types: Vec<Option<Vec<String>>>,
    pub(crate) child_modules: u32,
    pub(crate) child_components: u32,
    pub(crate) sections_seen: u32,
    /// The first signature section: its data, where it ends, its offset, whether it is the
    /// unit's first section.
    pub(crate) signature: Option<(custom::SignatureData, usize, usize, bool)>,
    pub(crate) delimiters: Vec<usize>,
    pub(crate) claims_ranges: Vec<(usize, usize)>,
    pub(crate) claims: Vec<Claims>,
    pub(crate) worlds: Vec<(String, usize, &'a [u8])>,
    pub(crate) findings: Vec<Finding>,
    /// Components: the instance graph, resolved when the component ends.
    pub(crate) graph: crate::graph::Graph,
}

impl<'a> Frame<'a> {
    fn new(path: String, kind: Kind, start: usize) -> Self {
        Frame {
            unit: Unit {
                path,
                kind,
                offset: start as u64,
                size: 0,
                name: None,
                imports: Vec::new(),
                exports: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                functions: 0,
                start_function: None,
                data_segments: 0,
                element_segments: 0,
                tags: 0,
                features: Vec::new(),
                target_features: Vec::new(),
                custom_sections: Vec::new(),
                producers: BTreeMap::new(),
                metadata: Metadata::default(),
                dependencies: None,
                debug: DebugInfo::default(),
                dylink: None,
                linking_version: None,
                signatures: Vec::new(),
                claims: Vec::new(),
                worlds: Vec::new(),
            },
            start,
            types: Vec::new(),
            func_types: Vec::new(),
            imported_funcs: 0,
            features: BTreeSet::new(),
            comp_types: Vec::new(),
            child_modules: 0,
            child_components: 0,
            sections_seen: 0,
            signature: None,
            delimiters: Vec::new(),
            claims_ranges: Vec::new(),
            claims: Vec::new(),
            worlds: Vec::new(),
            findings: Vec::new(),
            graph: crate::graph::Graph::default(),
        }
    }

    pub(crate) fn finding(&mut self, code: FindingCode, message: String, offset: Option<usize>) {
        self.findings.push(Finding {
            code,
            severity: code.severity(),
            unit: self.unit.path.clone(),
            message,
            offset: offset.map(|o| o as u64),
        });
    }

    pub(crate) fn func_type_text(&self, idx: u32) -> String {
        self.types
            .get(idx as usize)
            .and_then(|t| t.clone())
            .unwrap_or_else(|| format!("(func (type {idx}))"))
    }
}

/// Analyse one binary. `bytes` is the whole file; nothing is copied from it except names and
/// the facts in the result.
pub fn analyze(bytes: &[u8], opts: &Options) -> Result<Analysis, Error> {
    // SHA-256 runs on a second core while the first parses; below `PARALLEL_BYTES` handing
    // work to another thread costs more than it saves.
    let (digest, parsed) = if bytes.len() < PARALLEL_BYTES {
        (
            hex::encode(Sha256::digest(bytes)),
            walk(bytes, opts.validate),
        )
    } else {
        rayon::join(
            || hex::encode(Sha256::digest(bytes)),
            || walk(bytes, opts.validate),
        )
    };
    let (mut units, mut findings) = parsed?;
    let root = &units[0];
    let subject = Subject {
        path: opts.path.clone(),
        sha256: digest,
        size: bytes.len() as u64,
        kind: root.kind,
        name: root.name.clone(),
    };
    let (capabilities, abis, cap_findings) = classify(&units);
    findings.extend(cap_findings);
    let mut all_features = BTreeSet::new();
    for u in &units {
        all_features.extend(u.features.iter().cloned());
    }
    for u in &mut units {
        u.custom_sections.sort_by_key(|c| c.offset);
    }
    crate::findings::sort(&mut findings);
    Ok(Analysis {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "wasmcert".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        subject,
        validated: opts.validate,
        capabilities,
        abis,
        features: all_features.into_iter().collect(),
        units,
        findings,
        oci: None,
    })
}

fn walk(bytes: &[u8], validate: bool) -> Result<(Vec<Unit>, Vec<Finding>), Error> {
    if bytes.len() < 8 {
        return Err(Error {
            message: format!(
                "file is too short to be WebAssembly ({} bytes, a header needs 8)",
                bytes.len()
            ),
            offset: 0,
        });
    }
    if &bytes[..4] != b"\0asm" {
        return Err(Error {
            message: "not a WebAssembly binary (bad magic number; text `.wat` is not accepted)"
                .into(),
            offset: 0,
        });
    }
    let mut validator = validate.then(|| Validator::new_with_features(WasmFeatures::all()));
    let mut parser = Parser::new(0);
    let mut parsers: Vec<Parser> = Vec::new();
    let mut frames: Vec<Frame<'_>> = Vec::new();
    let mut units: Vec<Option<Unit>> = Vec::new();
    let mut unit_index: Vec<usize> = Vec::new();
    let mut findings = Vec::new();
    let mut pending: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>, usize)> =
        Vec::new();
    let mut frame_features: Vec<u32> = Vec::new();
    let mut pos = 0usize;
    let mut next_path: Option<(String, Kind)> = Some(("/".to_string(), Kind::CoreModule));

    loop {
        let (payload, consumed) = match parser.parse(&bytes[pos..], true)? {
            Chunk::Parsed { consumed, payload } => (payload, consumed),
            Chunk::NeedMoreData(_) => {
                return Err(Error {
                    message: "unexpected end of file".into(),
                    offset: bytes.len() as u64,
                });
            }
        };
        let section_start = pos;
        pos += consumed;

        if let Some(v) = validator.as_mut() {
            match v.payload(&payload)? {
                ValidPayload::Func(func, body) => {
                    let idx = *unit_index.last().unwrap_or(&0);
                    pending.push((func, body, idx));
                }
                ValidPayload::Ok | ValidPayload::Parser(_) | ValidPayload::End(_) => {}
            }
        }

        match payload {
            Payload::Version { encoding, .. } => {
                let (path, _) = next_path
                    .take()
                    .unwrap_or_else(|| ("/".into(), Kind::CoreModule));
                let kind = match encoding {
                    Encoding::Module => Kind::CoreModule,
                    Encoding::Component => Kind::Component,
                };
                if frames.len() >= MAX_NESTING {
                    return Err(Error {
                        message: format!("components nest more than {MAX_NESTING} levels deep"),
                        offset: section_start as u64,
                    });
                }
                let mut f = Frame::new(path, kind, section_start);
                if kind == Kind::Component {
                    f.features.insert("component-model");
                }
                unit_index.push(units.len());
                units.push(None);
                frame_features.push(0);
                frames.push(f);
            }
            Payload::End(end) => {
                let Some(mut f) = frames.pop() else {
                    return Err(Error {
                        message: "unbalanced end of module".into(),
                        offset: end as u64,
                    });
                };
                let idx = unit_index.pop().unwrap_or(0);
                f.unit.size = (end - f.start) as u64;
                finish_unit(&mut f, bytes, end);
                if f.unit.kind == Kind::Component {
                    // Its modules have ended: trace their imports through the graph.
                    f.graph.resolve(&mut units);
                    link_host_imports(&mut f.unit, &units);
                    drop_findings_on_borrowed_memories(&mut findings, &units, &f.unit.path);
                }
                findings.append(&mut f.findings);
                units[idx] = Some(f.unit);
                match parsers.pop() {
                    Some(p) => parser = p,
                    None => break,
                }
            }
            other => {
                let Some(f) = frames.last_mut() else {
                    return Err(Error {
                        message: "section outside of a module".into(),
                        offset: section_start as u64,
                    });
                };
                f.sections_seen += 1;
                match other {
                    Payload::ModuleSection { parser: p, .. } => {
                        let path = format!("{}module[{}]", slash(&f.unit.path), f.child_modules);
                        f.child_modules += 1;
                        f.graph.module(&path);
                        next_path = Some((path, Kind::CoreModule));
                        parsers.push(std::mem::replace(&mut parser, p));
                    }
                    Payload::ComponentSection { parser: p, .. } => {
                        let path =
                            format!("{}component[{}]", slash(&f.unit.path), f.child_components);
                        f.child_components += 1;
                        f.graph.component(&path);
                        next_path = Some((path, Kind::Component));
                        parsers.push(std::mem::replace(&mut parser, p));
                    }
                    Payload::CodeSectionStart { size, range, .. } if validator.is_none() => {
                        // Headers only: jump over every function body.
                        let end = pos.saturating_add(size as usize);
                        if end > bytes.len() {
                            return Err(Error {
                                message: "code section extends past the end of the file".into(),
                                offset: range.start as u64,
                            });
                        }
                        parser.skip_section();
                        pos = end;
                    }
                    other => section(f, other, bytes, section_start, pos)?,
                }
            }
        }
    }

    // Validate function bodies in parallel; report the error at the lowest offset so the
    // message does not depend on thread scheduling.
    let check =
        |allocs: &mut FuncValidatorAllocations,
         (func, body, idx): (FuncToValidate<ValidatorResources>, FunctionBody<'_>, usize)| {
            let mut v = func.into_validator(std::mem::take(allocs));
            let r = features::validate_body(&mut v, &body);
            *allocs = v.into_allocations();
            r.map(|bits| (idx, bits)).map_err(Error::from)
        };
    let body_bytes: usize = pending.iter().map(|(_, b, _)| b.range().len()).sum();
    let results: Vec<Result<(usize, u32), Error>> = if body_bytes < PARALLEL_BYTES {
        let mut allocs = FuncValidatorAllocations::default();
        pending.into_iter().map(|p| check(&mut allocs, p)).collect()
    } else {
        pending
            .into_par_iter()
            .map_init(FuncValidatorAllocations::default, check)
            .collect()
    };
    let mut first_err: Option<Error> = None;
    for r in results {
        match r {
            Ok((idx, bits)) => {
                if let Some(b) = frame_features.get_mut(idx) {
                    *b |= bits;
                }
            }
            Err(e) => {
                if first_err.as_ref().is_none_or(|f| e.offset < f.offset) {
                    first_err = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let mut out = Vec::with_capacity(units.len());
    for (i, u) in units.into_iter().enumerate() {
        let Some(mut u) = u else {
            return Err(Error {
                message: "module or component is missing its end".into(),
                offset: bytes.len() as u64,
            });
        };
        let mut set: BTreeSet<String> = u.features.drain(..).collect();
        set.extend(features::names(frame_features[i]).map(str::to_string));
        u.features = set.into_iter().collect();
        out.push(u);
    }
    if out.is_empty() {
        return Err(Error {
            message: "empty input".into(),
            offset: 0,
        });
    }
    Ok((out, findings))
}

pub(crate) fn slash(p: &str) -> String {
    if p.ends_with('/') {
        p.to_string()
    } else {
        format!("{p}/")
    }
}

pub(crate) fn push_capped<T>(v: &mut Vec<T>, item: T, offset: usize) -> Result<(), Error> {
    if v.len() >= MAX_ITEMS {
        return Err(Error {
            message: format!("more than {MAX_ITEMS} imports or exports in one unit"),
            offset: offset as u64,
        });
    }
    v.push(item);
    Ok(())
}

fn section<'a>(
    f: &mut Frame<'a>,
    payload: Payload<'a>,
    bytes: &'a [u8],
    section_start: usize,
    section_end: usize,
) -> Result<(), Error> {
    match payload {
        Payload::TypeSection(r) => {
            for rec in r {
                let rec = rec?;
                let explicit = rec.is_explicit_rec_group();
                for sub in rec.into_types() {
                    if explicit || !sub.is_final || sub.supertype_idx.is_some() {
                        f.features.insert("gc");
                    }
                    match &sub.composite_type.inner {
                        CompositeInnerType::Func(ft) => {
                            if ft.results().len() > 1 {
                                f.features.insert("multi-value");
                            }
                            for v in ft.params().iter().chain(ft.results()) {
                                valtype_features(v, &mut f.features);
                            }
                            f.types.push(Some(func_type_text(ft)));
                        }
                        CompositeInnerType::Cont(_) => {
                            f.features.insert("stack-switching");
                            f.types.push(None);
                        }
                        _ => {
                            f.features.insert("gc");
                            f.types.push(None);
                        }
                    }
                    if f.types.len() > MAX_ITEMS {
                        return Err(Error {
                            message: format!("more than {MAX_ITEMS} types"),
                            offset: section_start as u64,
                        });
                    }
                }
            }
        }
        Payload::ImportSection(r) => {
            for imp in r.into_imports_with_offsets() {
                let (off, imp) = imp?;
                let (kind, ty) = match imp.ty {
                    TypeRef::Func(i) | TypeRef::FuncExact(i) => {
                        f.imported_funcs += 1;
                        f.func_types.push(i);
                        ("func", f.func_type_text(i))
                    }
                    TypeRef::Table(t) => {
                        reftype_features(&t.element_type, &mut f.features);
                        let index = f.unit.tables.len() as u32;
                        push_capped(&mut f.unit.tables, table(index, true, &t), off)?;
                        ("table", table_text(&t))
                    }
                    TypeRef::Memory(m) => {
                        let index = f.unit.memories.len() as u32;
                        push_capped(&mut f.unit.memories, memory(index, true, &m), off)?;
                        ("memory", memory_text(&m))
                    }
                    TypeRef::Global(g) => {
                        if g.mutable {
                            f.features.insert("mutable-global");
                        }
                        valtype_features(&g.content_type, &mut f.features);
                        let index = f.unit.globals.len() as u32;
                        push_capped(
                            &mut f.unit.globals,
                            Global {
                                index,
                                imported: true,
                                ty: g.content_type.to_string(),
                                mutable: g.mutable,
                            },
                            off,
                        )?;
                        ("global", global_text(&g))
                    }
                    TypeRef::Tag(t) => {
                        f.features.insert("exceptions");
                        f.unit.tags += 1;
                        (
                            "tag",
                            format!("(tag {})", f.func_type_text(t.func_type_idx)),
                        )
                    }
                };
                push_capped(
                    &mut f.unit.imports,
                    Import {
                        module: Some(imp.module.to_string()),
                        name: imp.name.to_string(),
                        kind: kind.into(),
                        ty,
                        resolution: None,
                        reached_by: Vec::new(),
                    },
                    off,
                )?;
            }
        }
        Payload::FunctionSection(r) => {
            f.unit.functions = r.count();
            for t in r {
                f.func_types.push(t?);
                if f.func_types.len() > MAX_ITEMS * 4 {
                    return Err(Error {
                        message: "too many functions".into(),
                        offset: section_start as u64,
                    });
                }
            }
        }
        Payload::TableSection(r) => {
            for t in r {
                let t = t?;
                reftype_features(&t.ty.element_type, &mut f.features);
                if let wasmparser::TableInit::Expr(e) = &t.init {
                    features::const_expr_features(e, &mut f.features);
                    f.features.insert("function-references");
                }
                let index = f.unit.tables.len() as u32;
                push_capped(
                    &mut f.unit.tables,
                    table(index, false, &t.ty),
                    section_start,
                )?;
            }
        }
        Payload::MemorySection(r) => {
            for m in r {
                let m = m?;
                let index = f.unit.memories.len() as u32;
                push_capped(
                    &mut f.unit.memories,
                    memory(index, false, &m),
                    section_start,
                )?;
            }
        }
        Payload::TagSection(r) => {
            f.features.insert("exceptions");
            f.unit.tags += r.count();
        }
        Payload::GlobalSection(r) => {
            for g in r {
                let g = g?;
                valtype_features(&g.ty.content_type, &mut f.features);
                features::const_expr_features(&g.init_expr, &mut f.features);
                let index = f.unit.globals.len() as u32;
                push_capped(
                    &mut f.unit.globals,
                    Global {
                        index,
                        imported: false,
                        ty: g.ty.content_type.to_string(),
                        mutable: g.ty.mutable,
                    },
                    section_start,
                )?;
            }
        }
        Payload::ExportSection(r) => {
            for e in r {
                let e = e?;
                let (kind, ty) = match e.kind {
                    ExternalKind::Func | ExternalKind::FuncExact => {
                        let ty = f
                            .func_types
                            .get(e.index as usize)
                            .map(|t| f.func_type_text(*t));
                        ("func", ty)
                    }
                    ExternalKind::Table => ("table", None),
                    ExternalKind::Memory => ("memory", None),
                    ExternalKind::Global => {
                        if f.unit
                            .globals
                            .get(e.index as usize)
                            .is_some_and(|g| g.mutable)
                        {
                            f.features.insert("mutable-global");
                        }
                        ("global", None)
                    }
                    ExternalKind::Tag => ("tag", None),
                };
                push_capped(
                    &mut f.unit.exports,
                    Export {
                        name: e.name.to_string(),
                        kind: kind.into(),
                        index: e.index,
                        ty,
                    },
                    section_start,
                )?;
            }
        }
        Payload::StartSection { func, range } => {
            f.unit.start_function = Some(func);
            f.finding(
                FindingCode::StartFunction,
                format!("function {func} runs automatically when the module is instantiated"),
                Some(range.start),
            );
        }
        Payload::ElementSection(r) => {
            f.unit.element_segments = r.count();
            for e in r {
                let e = e?;
                match e.kind {
                    wasmparser::ElementKind::Passive | wasmparser::ElementKind::Declared => {
                        f.features.insert("bulk-memory");
                    }
                    wasmparser::ElementKind::Active {
                        table_index,
                        offset_expr,
                    } => {
                        if table_index.is_some_and(|t| t != 0) {
                            f.features.insert("reference-types");
                        }
                        features::const_expr_features(&offset_expr, &mut f.features);
                    }
                }
            }
        }
        Payload::DataCountSection { .. } => {
            f.features.insert("bulk-memory");
        }
        Payload::DataSection(r) => {
            f.unit.data_segments = r.count();
            for d in r {
                let d = d?;
                match d.kind {
                    wasmparser::DataKind::Passive => {
                        f.features.insert("bulk-memory");
                    }
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => {
                        if memory_index != 0 {
                            f.features.insert("multi-memory");
                        }
                        features::const_expr_features(&offset_expr, &mut f.features);
                    }
                }
            }
        }
        Payload::CodeSectionStart { .. } | Payload::CodeSectionEntry(_) => {}
        Payload::CustomSection(c) => custom_section(f, c, bytes, section_start, section_end),
        p @ (Payload::ComponentTypeSection(_)
        | Payload::ComponentAliasSection(_)
        | Payload::ComponentImportSection(_)
        | Payload::ComponentExportSection(_)
        | Payload::ComponentCanonicalSection(_)
        | Payload::ComponentStartSection { .. }
        | Payload::InstanceSection(_)
        | Payload::ComponentInstanceSection(_)
        | Payload::CoreTypeSection(_)) => crate::component::section(f, p, section_start)?,
        Payload::UnknownSection { id, range, .. } => {
            return Err(Error {
                message: format!("unknown section id {id}"),
                offset: range.start as u64,
            });
        }
        _ => {}
    }
    Ok(())
}
