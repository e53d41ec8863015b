//! The default `wasmcert analyze` output: a readable summary per subject.

use std::fmt::Write;
use wasmcert_analyzer::{Analysis, Risk, Unit};

fn risk(r: Risk) -> &'static str {
    match r {
        Risk::None => "none",
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "HIGH",
    }
}

/// How many imports/exports to list per unit before summarising the rest.
const LIST_LIMIT: usize = 40;

pub fn render(a: &Analysis) -> String {
    let mut o = String::new();
    let s = &a.subject;
    let _ = writeln!(o, "{}", s.path);
    let _ = writeln!(o, "  kind        {}", s.kind.as_str());
    if let Some(n) = &s.name {
        let _ = writeln!(o, "  name        {n}");
    }
    let _ = writeln!(o, "  size        {} bytes", s.size);
    let _ = writeln!(o, "  sha256      {}", s.sha256);
    let _ = writeln!(
        o,
        "  validated   {}",
        if a.validated {
            "yes"
        } else {
            "no (--no-validate)"
        }
    );
    if !a.abis.is_empty() {
        let _ = writeln!(o, "  abi         {}", a.abis.join(", "));
    }
    if !a.features.is_empty() {
        let _ = writeln!(o, "  features    {}", a.features.join(", "));
    }
    if a.capabilities.is_empty() {
        let _ = writeln!(o, "  capabilities  none");
    } else {
        let _ = writeln!(o, "  capabilities");
        let w = a.capabilities.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for c in &a.capabilities {
            let mut by: Vec<String> = c.granted_by.iter().map(|g| g.import.clone()).collect();
            by.dedup();
            let shown = by.len().min(4);
            let mut list = by[..shown].join(", ");
            if by.len() > shown {
                let _ = write!(list, ", +{} more", by.len() - shown);
            }
            let _ = writeln!(o, "    {:<6} {:<w$}  {list}", risk(c.risk), c.id);
        }
    }
    for u in &a.units {
        unit(&mut o, u, a.units.len() > 1);
    }
    if a.findings.is_empty() {
        let _ = writeln!(o, "  findings    none");
    } else {
        let _ = writeln!(o, "  findings");
        for f in &a.findings {
            let at = f.offset.map(|x| format!(" (byte {x})")).unwrap_or_default();
            let _ = writeln!(
                o,
                "    {:<7} {} [{}] {}{at}",
                f.severity.as_str(),
                f.code,
                f.unit,
                f.message
            );
        }
    }
    o
}

fn unit(o: &mut String, u: &Unit, show_path: bool) {
    if show_path {
        let _ = writeln!(
            o,
            "  unit {} ({}, {} bytes at {})",
            u.path,
            u.kind.as_str(),
            u.size,
            u.offset
        );
    }
    let _ = writeln!(o, "    imports ({})", u.imports.len());
    for i in u.imports.iter().take(LIST_LIMIT) {
        let _ = writeln!(o, "      {} {} {}", i.kind, i.display_name(), i.ty);
    }
    if u.imports.len() > LIST_LIMIT {
        let _ = writeln!(
            o,
            "      ... {} more (see --format json)",
            u.imports.len() - LIST_LIMIT
        );
    }
    let _ = writeln!(o, "    exports ({})", u.exports.len());
    for e in u.exports.iter().take(LIST_LIMIT) {
        let _ = writeln!(
            o,
            "      {} {}{}",
            e.kind,
            e.name,
            e.ty.as_ref().map(|t| format!(" {t}")).unwrap_or_default()
        );
    }
    if u.exports.len() > LIST_LIMIT {
        let _ = writeln!(
            o,
            "      ... {} more (see --format json)",
            u.exports.len() - LIST_LIMIT
        );
    }
    for m in &u.memories {
        let max = m
            .maximum_pages
            .map(|x| x.to_string())
            .unwrap_or_else(|| "unbounded".into());
        let _ = writeln!(
            o,
            "    memory {}{}: {} .. {} pages of {} bytes{}{}",
            m.index,
            if m.imported { " (imported)" } else { "" },
            m.initial_pages,
            max,
            m.page_size,
            if m.shared { ", shared" } else { "" },
            if m.memory64 { ", 64-bit" } else { "" },
        );
    }
    for t in &u.tables {
        let max = t
            .maximum
            .map(|x| x.to_string())
            .unwrap_or_else(|| "unbounded".into());
        let _ = writeln!(
            o,
            "    table {}{}: {} .. {} {}",
            t.index,
            if t.imported { " (imported)" } else { "" },
            t.initial,
            max,
            t.element_type
        );
    }
    if u.functions > 0 || u.data_segments > 0 || u.element_segments > 0 {
        let _ = writeln!(
            o,
            "    functions {}, globals {}, data segments {}, element segments {}{}",
            u.functions,
            u.globals.len(),
            u.data_segments,
            u.element_segments,
            u.start_function
                .map(|s| format!(", start function {s}"))
                .unwrap_or_default()
        );
    }
    if !u.producers.is_empty() {
        let mut parts = Vec::new();
        for (field, tools) in &u.producers {
            let t: Vec<String> = tools
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() {
                        k.clone()
                    } else {
                        format!("{k} {v}")
                    }
                })
                .collect();
            parts.push(format!("{field}: {}", t.join(", ")));
        }
        let _ = writeln!(o, "    producers   {}", parts.join("; "));
    }
    let md = &u.metadata;
    for (k, v) in [
        ("authors", &md.authors),
        ("description", &md.description),
        ("licenses", &md.licenses),
        ("source", &md.source),
        ("homepage", &md.homepage),
        ("revision", &md.revision),
        ("version", &md.version),
    ] {
        if let Some(v) = v {
            let _ = writeln!(o, "    {k:<11} {v}");
        }
    }
    if let Some(d) = &u.dependencies {
        let _ = writeln!(o, "    sbom        {} crates from .dep-v0", d.len());
    }
    if !u.custom_sections.is_empty() {
        let list: Vec<String> = u
            .custom_sections
            .iter()
            .map(|c| format!("{} ({} B)", c.name, c.size))
            .collect();
        let _ = writeln!(o, "    custom      {}", list.join(", "));
    }
    for s in &u.signatures {
        let _ = writeln!(
            o,
            "    signature   wasmsign2, {} signature set(s), coverage {}",
            s.signed_hash_sets.len(),
            s.coverage
        );
    }
    for c in &u.claims {
        let _ = writeln!(
            o,
            "    claims      {} issuer {} (not verified)",
            c.section,
            c.issuer.as_deref().unwrap_or("?")
        );
    }
    for w in &u.worlds {
        let _ = writeln!(
            o,
            "    world       {}: {} declared imports, {} unused, {} undeclared",
            w.section,
            w.declared_imports.len(),
            w.declared_not_imported.len(),
            w.imported_not_declared.len()
        );
    }
}
