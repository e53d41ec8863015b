//! The single pass over a binary: wasmparser's `Parser` drives, the `Validator` (unless
//! `--no-validate`) checks every payload, and one `Frame` per module/component collects facts.
//! Function bodies are validated afterwards in parallel with rayon, as `wasm-tools validate`
//! does, and report which proposals their operators use.

use crate::capabilities as caps;
use crate::custom;
use crate::features;
use crate::findings::FindingCode;
use crate::model::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use wasmparser::{
    Chunk, ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentType,
    ComponentTypeRef, CompositeInnerType, Encoding, ExternalKind, FuncToValidate,
    FuncValidatorAllocations, FunctionBody, InstanceTypeDeclaration, KnownCustom, Parser, Payload,
    RefType, TypeRef, ValType, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

/// Components may nest components; past this depth the input is refused. Real toolchains
/// produce 3-4 levels; the bound keeps our frame stack (and wasmparser's) small.
pub const MAX_NESTING: usize = 64;
/// Custom sections larger than this get the `custom-section-large` finding.
const LARGE_CUSTOM_SECTION: u64 = 16 << 20;
/// `memory-initial-large` threshold.
const LARGE_INITIAL_MEMORY: u64 = 1 << 30;
/// Imports and exports kept per unit: each costs at least 3 input bytes, so this is only
/// reached by absurd inputs, and it keeps the JSON of such a file bounded.
const MAX_ITEMS: usize = 1_000_000;
/// Inputs (and code) smaller than this are hashed and validated on the calling thread: for
/// them, waking rayon's workers costs more than the second core gives back.
const PARALLEL_BYTES: usize = 256 << 10;
/// Delimiters hashed per signature (wasmsign2's own limit on hashes).
const MAX_DELIMITERS: usize = 64;

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

struct Frame<'a> {
    unit: Unit,
    start: usize,
    // Core modules.
    types: Vec<Option<String>>,
    func_types: Vec<u32>,
    imported_funcs: u32,
    features: BTreeSet<&'static str>,
    // Components: per type index, the function names an instance type exports.
    comp_types: Vec<Option<Vec<String>>>,
    child_modules: u32,
    child_components: u32,
    sections_seen: u32,
    /// The first signature section: its data, where it ends, its offset, whether it is the
    /// unit's first section.
    signature: Option<(custom::SignatureData, usize, usize, bool)>,
    delimiters: Vec<usize>,
    claims_ranges: Vec<(usize, usize)>,
    claims: Vec<Claims>,
    worlds: Vec<(String, usize, &'a [u8])>,
    findings: Vec<Finding>,
    /// Components: the instance graph, resolved when the component ends.
    graph: crate::graph::Graph,
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

    fn finding(&mut self, code: FindingCode, message: String, offset: Option<usize>) {
        self.findings.push(Finding {
            code,
            severity: code.severity(),
            unit: self.unit.path.clone(),
            message,
            offset: offset.map(|o| o as u64),
        });
    }

    fn func_type_text(&self, idx: u32) -> String {
        self.types
            .get(idx as usize)
            .and_then(|t| t.clone())
            .unwrap_or_else(|| format!("(func (type {idx}))"))
    }
}

fn memory_text(m: &wasmparser::MemoryType) -> String {
    let mut s = String::from("(memory");
    if m.memory64 {
        s.push_str(" i64");
    }
    s.push_str(&format!(" {}", m.initial));
    if let Some(max) = m.maximum {
        s.push_str(&format!(" {max}"));
    }
    if m.shared {
        s.push_str(" shared");
    }
    if let Some(p) = m.page_size_log2 {
        s.push_str(&format!(" (pagesize {})", 1u64 << p.min(63)));
    }
    s.push(')');
    s
}

fn table_text(t: &wasmparser::TableType) -> String {
    let mut s = String::from("(table");
    if t.table64 {
        s.push_str(" i64");
    }
    s.push_str(&format!(" {}", t.initial));
    if let Some(max) = t.maximum {
        s.push_str(&format!(" {max}"));
    }
    s.push_str(&format!(" {})", t.element_type));
    s
}

fn global_text(g: &wasmparser::GlobalType) -> String {
    if g.mutable {
        format!("(global (mut {}))", g.content_type)
    } else {
        format!("(global {})", g.content_type)
    }
}

fn func_type_text(f: &wasmparser::FuncType) -> String {
    let mut s = String::from("(func");
    if !f.params().is_empty() {
        s.push_str(" (param");
        for p in f.params() {
            s.push_str(&format!(" {p}"));
        }
        s.push(')');
    }
    if !f.results().is_empty() {
        s.push_str(" (result");
        for r in f.results() {
            s.push_str(&format!(" {r}"));
        }
        s.push(')');
    }
    s.push(')');
    s
}

fn valtype_features(v: &ValType, out: &mut BTreeSet<&'static str>) {
    match v {
        ValType::V128 => {
            out.insert("simd");
        }
        // A reference as a *value* (param, result, global, local) needs reference types even
        // for funcref; only tables of funcref are MVP.
        ValType::Ref(r) if *r == RefType::FUNCREF => {
            out.insert("reference-types");
        }
        ValType::Ref(r) => reftype_features(r, out),
        _ => {}
    }
}

fn reftype_features(r: &RefType, out: &mut BTreeSet<&'static str>) {
    if *r == RefType::FUNCREF {
        return;
    }
    if *r == RefType::EXTERNREF {
        out.insert("reference-types");
        return;
    }
    if r.is_concrete_type_ref() || !r.is_nullable() {
        out.insert("function-references");
    } else {
        out.insert("gc");
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

fn slash(p: &str) -> String {
    if p.ends_with('/') {
        p.to_string()
    } else {
        format!("{p}/")
    }
}

fn push_capped<T>(v: &mut Vec<T>, item: T, offset: usize) -> Result<(), Error> {
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
        // Components.
        Payload::ComponentTypeSection(r) => {
            for t in r {
                let t = t?;
                let entry = match t {
                    ComponentType::Instance(decls) => Some(
                        decls
                            .iter()
                            .filter_map(|d| match d {
                                InstanceTypeDeclaration::Export {
                                    name,
                                    ty: ComponentTypeRef::Func(_),
                                } => Some(name.name.to_string()),
                                _ => None,
                            })
                            .collect(),
                    ),
                    _ => None,
                };
                f.comp_types.push(entry);
            }
        }
        Payload::ComponentAliasSection(r) => {
            for a in r {
                let a = a?;
                f.graph.alias(&a);
                match a {
                    ComponentAlias::InstanceExport {
                        kind: ComponentExternalKind::Type,
                        ..
                    }
                    | ComponentAlias::Outer {
                        kind: ComponentOuterAliasKind::Type,
                        ..
                    } => f.comp_types.push(None),
                    _ => {}
                }
            }
        }
        Payload::ComponentImportSection(r) => {
            for i in r {
                let i = i?;
                f.graph.import(i.name.name, &i.ty);
                let (kind, ty) = component_ref(f, &i.ty);
                if matches!(i.ty, ComponentTypeRef::Type(_)) {
                    f.comp_types.push(None);
                }
                push_capped(
                    &mut f.unit.imports,
                    Import {
                        module: None,
                        name: i.name.name.to_string(),
                        kind,
                        ty,
                        resolution: None,
                        reached_by: Vec::new(),
                    },
                    section_start,
                )?;
            }
        }
        Payload::ComponentExportSection(r) => {
            for e in r {
                let e = e?;
                f.graph.export(e.kind, e.index);
                if e.kind == ComponentExternalKind::Type {
                    f.comp_types.push(None);
                }
                let ty = e.ty.as_ref().map(|t| component_ref(f, t).1);
                push_capped(
                    &mut f.unit.exports,
                    Export {
                        name: e.name.name.to_string(),
                        kind: component_kind(e.kind).into(),
                        index: e.index,
                        ty,
                    },
                    section_start,
                )?;
            }
        }
        Payload::ComponentCanonicalSection(r) => {
            for c in r {
                let c = c?;
                if canon_options(&c).contains(&wasmparser::CanonicalOption::Async) {
                    f.features.insert("component-model-async");
                }
                f.graph.canonical(&c);
            }
        }
        Payload::ComponentStartSection { range, .. } => {
            f.finding(
                FindingCode::StartFunction,
                "the component has a start function".into(),
                Some(range.start),
            );
        }
        Payload::InstanceSection(r) => {
            for i in r {
                f.graph.core_instance(&i?);
            }
        }
        Payload::ComponentInstanceSection(r) => {
            for i in r {
                f.graph.component_instance(&i?);
            }
        }
        Payload::CoreTypeSection(_) => {}
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

/// The canonical options of a canonical function, where it has any.
fn canon_options(c: &wasmparser::CanonicalFunction) -> &[wasmparser::CanonicalOption] {
    use wasmparser::CanonicalFunction as C;
    match c {
        C::Lift { options, .. }
        | C::Lower { options, .. }
        | C::TaskReturn { options, .. }
        | C::StreamRead { options, .. }
        | C::StreamWrite { options, .. }
        | C::FutureRead { options, .. }
        | C::FutureWrite { options, .. }
        | C::ErrorContextNew { options, .. }
        | C::ErrorContextDebugMessage { options, .. } => options,
        _ => &[],
    }
}

/// Record on each component-level import the core imports that reach it (`unit module#name`).
fn link_host_imports(component: &mut Unit, units: &[Option<Unit>]) {
    let prefix = slash(&component.path);
    for u in units.iter().flatten() {
        // Only this component's own modules (`<component>/module[N]`).
        let Some(rest) = u.path.strip_prefix(&prefix) else {
            continue;
        };
        if !rest.starts_with("module[") || rest.contains('/') {
            continue;
        }
        for imp in &u.imports {
            let Some(crate::model::Resolution::Host { from }) = &imp.resolution else {
                continue;
            };
            let target = from.split('#').next().unwrap_or(from);
            if let Some(ci) = component
                .imports
                .iter_mut()
                .find(|ci| ci.module.is_none() && ci.name == target)
            {
                let via = format!("{} {}", u.path, imp.display_name());
                if !ci.reached_by.contains(&via) && ci.reached_by.len() < MAX_REACHED_BY {
                    ci.reached_by.push(via);
                }
            }
        }
    }
    for ci in &mut component.imports {
        ci.reached_by.sort();
    }
}

/// Core imports listed per component import; more are not recorded (the count of a real
/// component's lowerings of one interface is in the tens).
const MAX_REACHED_BY: usize = 4096;

/// Findings about an imported memory belong to its definition: drop those reported on the
/// modules of `component` that borrow a memory another of its modules defines.
fn drop_findings_on_borrowed_memories(
    findings: &mut Vec<Finding>,
    units: &[Option<Unit>],
    component: &str,
) {
    let prefix = slash(component);
    let borrowed: Vec<(String, u32)> = units
        .iter()
        .flatten()
        .filter(|u| {
            u.path
                .strip_prefix(&prefix)
                .is_some_and(|r| r.starts_with("module[") && !r.contains('/'))
        })
        .flat_map(|u| {
            u.memories
                .iter()
                .filter(|m| m.imported && m.defined_in.is_some())
                .map(|m| (u.path.clone(), m.index))
        })
        .collect();
    findings.retain(|f| {
        !(matches!(
            f.code,
            FindingCode::SharedMemory | FindingCode::MemoryInitialLarge
        ) && borrowed.iter().any(|(unit, index)| {
            f.unit == *unit && f.message.starts_with(&format!("memory {index} "))
        }))
    });
}

fn component_kind(k: ComponentExternalKind) -> &'static str {
    match k {
        ComponentExternalKind::Module => "module",
        ComponentExternalKind::Func => "func",
        ComponentExternalKind::Value => "value",
        ComponentExternalKind::Type => "type",
        ComponentExternalKind::Instance => "instance",
        ComponentExternalKind::Component => "component",
    }
}

fn component_ref(f: &Frame<'_>, t: &ComponentTypeRef) -> (String, String) {
    match t {
        ComponentTypeRef::Instance(i) => {
            let ty = match f.comp_types.get(*i as usize) {
                Some(Some(funcs)) => format!("(instance {})", funcs.join(" ")),
                _ => format!("(instance (type {i}))"),
            };
            ("instance".into(), ty)
        }
        ComponentTypeRef::Func(i) => ("func".into(), format!("(func (type {i}))")),
        ComponentTypeRef::Module(i) => ("module".into(), format!("(core module (type {i}))")),
        ComponentTypeRef::Component(i) => ("component".into(), format!("(component (type {i}))")),
        ComponentTypeRef::Type(_) => ("type".into(), "(type (sub resource))".into()),
        ComponentTypeRef::Value(_) => ("value".into(), "(value)".into()),
    }
}

fn memory(index: u32, imported: bool, m: &wasmparser::MemoryType) -> Memory {
    Memory {
        index,
        imported,
        initial_pages: m.initial,
        maximum_pages: m.maximum,
        shared: m.shared,
        memory64: m.memory64,
        page_size: 1u64 << m.page_size_log2.unwrap_or(16).min(63),
        defined_in: None,
    }
}

fn table(index: u32, imported: bool, t: &wasmparser::TableType) -> Table {
    Table {
        index,
        imported,
        element_type: t.element_type.to_string(),
        initial: t.initial,
        maximum: t.maximum,
        table64: t.table64,
        defined_in: None,
    }
}

fn custom_section<'a>(
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
            Err(e) => bad(f, e),
        },
        "sourceMappingURL" => match custom::parse_string(c.data(), c.data_offset()) {
            Ok(v) => f.unit.debug.source_mapping_url = Some(v),
            Err(e) => bad(f, e),
        },
        "external_debug_info" => match custom::parse_string(c.data(), c.data_offset()) {
            Ok(v) => f.unit.debug.external_debug_info = Some(v),
            Err(e) => bad(f, e),
        },
        "authors" | "description" | "licenses" | "source" | "homepage" | "revision" | "version"
        | ".dep-v0" => {
            if let Err(e) =
                custom::parse_metadata_section(raw, &mut f.unit.metadata, &mut f.unit.dependencies)
            {
                bad(f, e)
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
                Err(e) => bad(f, e),
            }
        }
        "signature_delimiter" if f.signature.is_some() && f.delimiters.len() < MAX_DELIMITERS => {
            f.delimiters.push(section_end)
        }
        "jwt" | "wasmcloud_jwt" => {
            f.claims_ranges.push((section_start, section_end));
            match custom::parse_claims(&name, c.data()) {
                Ok(cl) => f.claims.push(cl),
                Err(e) => bad(f, e),
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

/// Work that needs the whole unit: signatures, claims hashes, worlds, memory findings.
fn finish_unit(f: &mut Frame<'_>, bytes: &[u8], end: usize) {
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

/// Map every unit's imports (and handler exports) to capabilities and ABIs.
fn classify(units: &[Unit]) -> (Vec<Capability>, Vec<String>, Vec<Finding>) {
    let mut grants: BTreeMap<&'static str, BTreeSet<Grant>> = BTreeMap::new();
    let mut abis: BTreeSet<String> = BTreeSet::new();
    let mut findings = Vec::new();
    let mut generations: BTreeSet<String> = BTreeSet::new();
    let mut grant = |cap: &'static str, unit: &str, import: String, export: bool| {
        grants.entry(cap).or_default().insert(Grant {
            unit: unit.to_string(),
            import,
            export,
        });
    };
    let mut finding = |code: FindingCode, unit: &str, message: String| {
        findings.push(Finding {
            code,
            severity: code.severity(),
            unit: unit.into(),
            message,
            offset: None,
        });
    };
    for u in units {
        // `emcc -O3` renames the import module to `a` and names to `a`, `b`, ...
        let minified = !u.imports.is_empty()
            && u.imports.iter().all(|i| {
                i.module.as_deref() == Some("a") && i.name.len() <= 2
                    || i.module.as_deref().is_some_and(caps::is_preview1_module)
            })
            && u.imports.iter().any(|i| i.module.as_deref() == Some("a"));
        let opens_files = u.imports.iter().any(|i| {
            i.name == "path_open" && i.module.as_deref().is_some_and(caps::is_preview1_module)
        });
        for imp in &u.imports {
            // A core import a component satisfies itself is wiring, and one that reaches a
            // component-level import is granted there (`reached_by`): neither is a host
            // import of its own.
            if imp.resolution.is_some() {
                continue;
            }
            let display = imp.display_name();
            match &imp.module {
                Some(m) if caps::is_preview1_module(m) => {
                    abis.insert(if m == "wasi_unstable" {
                        "wasi-unstable".into()
                    } else {
                        "wasi-preview1".into()
                    });
                    match caps::preview1(&imp.name) {
                        Some(list) => {
                            // fd_read/fd_write reach a file only through a descriptor from
                            // path_open (preopens are directories): without it, they are stdio.
                            let file_io = matches!(imp.name.as_str(), "fd_read" | "fd_write");
                            for c in list {
                                if file_io && c.starts_with("fs-") && !opens_files {
                                    continue;
                                }
                                grant(c, &u.path, display.clone(), false);
                            }
                        }
                        None => {
                            grant("unknown-host-import", &u.path, display.clone(), false);
                            finding(
                                FindingCode::UnknownWasiFunction,
                                &u.path,
                                format!("`{display}` is not a function of {m}"),
                            );
                        }
                    }
                }
                Some(m)
                    if m == "wasi"
                        && (imp.name == "thread-spawn" || imp.name == "thread_spawn") =>
                {
                    abis.insert("wasi-threads".into());
                    grant("threads", &u.path, display.clone(), false);
                }
                Some(m) if imp.kind == "memory" && imp.ty.contains("shared") => {
                    let _ = m;
                    grant("threads", &u.path, display.clone(), false);
                }
                Some(m) if imp.kind == "memory" || imp.kind == "table" || imp.kind == "global" => {
                    // Linear memory, tables and globals provided by the host grant no I/O.
                    let _ = m;
                }
                module => {
                    // Core imports named after a WIT interface (wit-bindgen output), or
                    // component imports.
                    let iface_name = module.clone().unwrap_or_else(|| imp.name.clone());
                    if let Some(iface) = caps::parse_interface(&iface_name) {
                        let funcs: Vec<String> = match module {
                            Some(_) => vec![imp.name.clone()],
                            None => instance_funcs(&imp.ty),
                        };
                        let mapped = if iface.namespace == "wasi" {
                            caps::wasi_interface(iface.package, iface.interface, &funcs)
                        } else {
                            None
                        };
                        match mapped {
                            Some(list) => {
                                if let Some(g) = caps::wasi_generation(&iface.version)
                                    .filter(|_| caps::is_wasi_release_package(iface.package))
                                {
                                    generations.insert(g.clone());
                                    abis.insert(g);
                                }
                                for c in list {
                                    grant(c, &u.path, display.clone(), false);
                                }
                            }
                            None => {
                                grant("unknown-host-import", &u.path, display.clone(), false);
                                finding(
                                    FindingCode::UnknownHostImport,
                                    &u.path,
                                    format!(
                                        "`{display}` is not an interface wasmcert can classify"
                                    ),
                                );
                            }
                        }
                        continue;
                    }
                    if let Some(m) = module {
                        if let Some(abi) = caps::toolchain_import(m, &imp.name, minified) {
                            abis.insert(abi.abi.into());
                            for c in abi.caps {
                                grant(c, &u.path, display.clone(), false);
                            }
                            continue;
                        }
                        // Canonical ABI intrinsics (resource handles, tasks, streams) that
                        // wit-bindgen imports are not host access; other `$root` imports are
                        // world-level host functions and stay opaque.
                        let intrinsic = imp.name.starts_with('[')
                            && !imp.name.starts_with("[method]")
                            && !imp.name.starts_with("[static]")
                            && !imp.name.starts_with("[constructor]");
                        if m.starts_with("[export]")
                            || m.starts_with("__main_module__")
                            || (m == "$root" && intrinsic)
                        {
                            continue;
                        }
                    } else if imp.kind == "type" {
                        continue;
                    }
                    grant("unknown-host-import", &u.path, display.clone(), false);
                    finding(
                        FindingCode::UnknownHostImport,
                        &u.path,
                        format!("`{display}` is an opaque host import"),
                    );
                }
            }
        }
        for e in &u.exports {
            if let Some(iface) = caps::parse_interface(&e.name)
                && iface.namespace == "wasi"
                && let Some(c) = caps::wasi_export(iface.package, iface.interface)
            {
                grant(c, &u.path, e.name.clone(), true);
            }
        }
    }
    if generations.len() > 1 {
        let list: Vec<String> = generations.into_iter().collect();
        finding(
            FindingCode::MultipleWasiVersions,
            "/",
            format!("imports WASI interfaces from {}", list.join(" and ")),
        );
    }
    if abis.contains("wasi-unstable") {
        finding(
            FindingCode::WasiUnstable,
            "/",
            "imports `wasi_unstable`, the pre-preview1 ABI with different struct layouts".into(),
        );
    }
    let capabilities = grants
        .into_iter()
        .map(|(id, g)| {
            let (risk, description) = caps::lookup(id).unwrap_or((Risk::High, "unknown"));
            Capability {
                id: id.into(),
                risk,
                description: description.into(),
                granted_by: g.into_iter().collect(),
            }
        })
        .collect();
    (capabilities, abis.into_iter().collect(), findings)
}

/// Function names out of our `(instance a b c)` rendering of an instance type.
fn instance_funcs(ty: &str) -> Vec<String> {
    match ty
        .strip_prefix("(instance ")
        .and_then(|s| s.strip_suffix(')'))
    {
        Some(list) if !list.starts_with("(type") => list
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}
