//! Text renderings of core types (the `ty` of imports and exports) and the features their
//! value and reference types imply.

use crate::model::{Memory, Table};
use std::collections::BTreeSet;
use wasmparser::{RefType, ValType};

pub(crate) fn memory_text(m: &wasmparser::MemoryType) -> String {
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

pub(crate) fn table_text(t: &wasmparser::TableType) -> String {
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

pub(crate) fn global_text(g: &wasmparser::GlobalType) -> String {
    if g.mutable {
        format!("(global (mut {}))", g.content_type)
    } else {
        format!("(global {})", g.content_type)
    }
}

pub(crate) fn func_type_text(f: &wasmparser::FuncType) -> String {
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

pub(crate) fn valtype_features(v: &ValType, out: &mut BTreeSet<&'static str>) {
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

pub(crate) fn reftype_features(r: &RefType, out: &mut BTreeSet<&'static str>) {
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

pub(crate) fn memory(index: u32, imported: bool, m: &wasmparser::MemoryType) -> Memory {
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

pub(crate) fn table(index: u32, imported: bool, t: &wasmparser::TableType) -> Table {
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
