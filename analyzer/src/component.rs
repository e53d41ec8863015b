//! Component sections: types, aliases, imports, exports, canonical functions and instances.
//! Besides the facts (imports, exports, features), every item goes into the component's
//! instance graph (`graph.rs`), resolved when the component ends.

use crate::analyze::*;
use crate::findings::FindingCode;
use crate::model::*;
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentType,
    ComponentTypeRef, InstanceTypeDeclaration, Payload,
};

/// One component-level section (or a core instance/type section inside a component).
pub(crate) fn section<'a>(
    f: &mut Frame<'a>,
    payload: Payload<'a>,
    section_start: usize,
) -> Result<(), Error> {
    match payload {
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

pub(crate) fn component_kind(k: ComponentExternalKind) -> &'static str {
    match k {
        ComponentExternalKind::Module => "module",
        ComponentExternalKind::Func => "func",
        ComponentExternalKind::Value => "value",
        ComponentExternalKind::Type => "type",
        ComponentExternalKind::Instance => "instance",
        ComponentExternalKind::Component => "component",
    }
}

pub(crate) fn component_ref(f: &Frame<'_>, t: &ComponentTypeRef) -> (String, String) {
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
