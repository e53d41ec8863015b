//! The instance graph of a component: which core instances are made from which modules with
//! which arguments, where every core function, memory, table and global of the component comes
//! from (an export of another core instance, a `canon lower` of a component function, a
//! canonical built-in), and where every component function and instance comes from (an import,
//! an alias of an instance export, a `canon lift`, a nested component).
//!
//! With it, each import of a core module inside a component resolves to either
//! - **internal** wiring: satisfied by another core instance of the same component (the
//!   preview1 adapter's `reset_adapter_state`, shim tables, wit-component's fixups, a memory
//!   defined by the main module), or by a canonical built-in (`resource.drop`, `task.return`);
//! - **host**: a `canon lower` of a function that traces to a component-level import.
//!
//! Only the second reaches the host; it is the component-level import that grants a
//! capability, so core imports that resolve are not classified again. Imports that cannot be
//! traced (a module never instantiated, an argument missing) stay unresolved and are classified
//! as before: unknown means host.

use crate::analyze::slash;
use crate::findings::FindingCode;
use crate::model::{Finding, Resolution, Unit};
use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance,
};

/// Items recorded per index space. A component has as many as its sections describe, which
/// is bounded by the file; past this, recording stops and what is left stays unresolved (the
/// conservative answer).
const MAX_ITEMS: usize = 1 << 20;
/// Longest chain of aliases and re-exports followed while tracing one import. Indices only
/// refer to earlier items, so chains end; this bounds the work a hostile file can ask for.
const MAX_DEPTH: usize = 64;

/// A core module of the component's module index space.
#[derive(Debug, Clone)]
enum CoreModule {
    /// Defined in this component: the unit path of the nested module.
    Local(String),
    /// Imported, aliased from outside, or exported again: not traced.
    Opaque,
}

#[derive(Debug, Clone)]
enum CoreInstance {
    Instantiate {
        module: u32,
        /// Argument name (the import module name) → core instance index.
        args: Vec<(String, u32)>,
    },
    /// Name → (kind, index in that kind's core index space).
    FromExports(Vec<(String, ExternalKind, u32)>),
}

/// Where a core item (function, memory, table, global, tag) comes from.
#[derive(Debug, Clone)]
enum CoreItem {
    /// `(alias core export <instance> <name>)`.
    Export { instance: u32, name: String },
    /// `(canon lower <component func>)`.
    Lower(u32),
    /// A canonical built-in: `resource.drop`, `task.return`, `stream.read`, ...
    Builtin(&'static str),
}

#[derive(Debug, Clone)]
enum ComponentFunc {
    Import(String),
    InstanceExport {
        instance: u32,
        name: String,
    },
    Lift,
    /// Another index of the same space (an export re-defines the item).
    Same(u32),
}

#[derive(Debug, Clone)]
enum ComponentInst {
    Import(String),
    Same(u32),
    /// Instantiated from a component of this component's index space, with its arguments
    /// (name → kind and index).
    Instantiate {
        component: u32,
        args: Vec<(String, ComponentExternalKind, u32)>,
    },
    /// Made from exports, or aliased out of another instance.
    Internal,
}

/// A component of the component index space.
#[derive(Debug, Clone)]
enum NestedComponent {
    /// A nested component section: its unit path.
    Local(String),
    /// Imported, aliased or exported again: not traced.
    Opaque,
}

/// The index spaces of one component, filled section by section.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    core_modules: Vec<CoreModule>,
    core_instances: Vec<CoreInstance>,
    core_funcs: Vec<CoreItem>,
    core_memories: Vec<CoreItem>,
    core_tables: Vec<CoreItem>,
    core_globals: Vec<CoreItem>,
    core_tags: Vec<CoreItem>,
    funcs: Vec<ComponentFunc>,
    instances: Vec<ComponentInst>,
    components: Vec<NestedComponent>,
    full: bool,
}

fn push<T>(full: &mut bool, v: &mut Vec<T>, item: T) {
    if v.len() < MAX_ITEMS {
        v.push(item);
    } else {
        *full = true;
    }
}

impl Graph {
    fn core_space(&mut self, kind: ExternalKind) -> &mut Vec<CoreItem> {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => &mut self.core_funcs,
            ExternalKind::Memory => &mut self.core_memories,
            ExternalKind::Table => &mut self.core_tables,
            ExternalKind::Global => &mut self.core_globals,
            ExternalKind::Tag => &mut self.core_tags,
        }
    }

    fn push_core(&mut self, kind: ExternalKind, item: CoreItem) {
        let mut full = self.full;
        push(&mut full, self.core_space(kind), item);
        self.full = full;
    }

    /// A nested core module section (its unit path).
    pub(crate) fn module(&mut self, path: &str) {
        push(
            &mut self.full,
            &mut self.core_modules,
            CoreModule::Local(path.to_string()),
        );
    }

    /// A nested component section (its unit path).
    pub(crate) fn component(&mut self, path: &str) {
        push(
            &mut self.full,
            &mut self.components,
            NestedComponent::Local(path.to_string()),
        );
    }

    pub(crate) fn import(&mut self, name: &str, ty: &ComponentTypeRef) {
        match ty {
            ComponentTypeRef::Func(_) => push(
                &mut self.full,
                &mut self.funcs,
                ComponentFunc::Import(name.to_string()),
            ),
            ComponentTypeRef::Instance(_) => push(
                &mut self.full,
                &mut self.instances,
                ComponentInst::Import(name.to_string()),
            ),
            ComponentTypeRef::Module(_) => {
                push(&mut self.full, &mut self.core_modules, CoreModule::Opaque)
            }
            ComponentTypeRef::Component(_) => push(
                &mut self.full,
                &mut self.components,
                NestedComponent::Opaque,
            ),
            _ => {}
        }
    }

    pub(crate) fn export(&mut self, kind: ComponentExternalKind, index: u32) {
        match kind {
            ComponentExternalKind::Func => {
                push(&mut self.full, &mut self.funcs, ComponentFunc::Same(index))
            }
            ComponentExternalKind::Instance => push(
                &mut self.full,
                &mut self.instances,
                ComponentInst::Same(index),
            ),
            ComponentExternalKind::Module => {
                push(&mut self.full, &mut self.core_modules, CoreModule::Opaque)
            }
            ComponentExternalKind::Component => push(
                &mut self.full,
                &mut self.components,
                NestedComponent::Opaque,
            ),
            _ => {}
        }
    }

    pub(crate) fn alias(&mut self, a: &ComponentAlias<'_>) {
        match a {
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => self.push_core(
                *kind,
                CoreItem::Export {
                    instance: *instance_index,
                    name: name.to_string(),
                },
            ),
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => match kind {
                ComponentExternalKind::Func => push(
                    &mut self.full,
                    &mut self.funcs,
                    ComponentFunc::InstanceExport {
                        instance: *instance_index,
                        name: name.to_string(),
                    },
                ),
                ComponentExternalKind::Instance => {
                    push(&mut self.full, &mut self.instances, ComponentInst::Internal)
                }
                ComponentExternalKind::Module => {
                    push(&mut self.full, &mut self.core_modules, CoreModule::Opaque)
                }
                ComponentExternalKind::Component => push(
                    &mut self.full,
                    &mut self.components,
                    NestedComponent::Opaque,
                ),
                _ => {}
            },
            ComponentAlias::Outer { kind, .. } => match kind {
                ComponentOuterAliasKind::CoreModule => {
                    push(&mut self.full, &mut self.core_modules, CoreModule::Opaque)
                }
                ComponentOuterAliasKind::Component => push(
                    &mut self.full,
                    &mut self.components,
                    NestedComponent::Opaque,
                ),
                _ => {}
            },
        }
    }

    pub(crate) fn canonical(&mut self, c: &CanonicalFunction) {
        match c {
            CanonicalFunction::Lift { .. } => {
                push(&mut self.full, &mut self.funcs, ComponentFunc::Lift)
            }
            CanonicalFunction::Lower { func_index, .. } => {
                self.push_core(ExternalKind::Func, CoreItem::Lower(*func_index))
            }
            // Every other canonical function defines a core function: a built-in of the
            // canonical ABI, not an import of the host.
            other => self.push_core(ExternalKind::Func, CoreItem::Builtin(builtin_name(other))),
        }
    }

    pub(crate) fn core_instance(&mut self, i: &Instance<'_>) {
        let inst = match i {
            Instance::Instantiate { module_index, args } => CoreInstance::Instantiate {
                module: *module_index,
                args: args.iter().map(|a| (a.name.to_string(), a.index)).collect(),
            },
            Instance::FromExports(exports) => CoreInstance::FromExports(
                exports
                    .iter()
                    .map(|e| (e.name.to_string(), e.kind, e.index))
                    .collect(),
            ),
        };
        push(&mut self.full, &mut self.core_instances, inst);
    }

    pub(crate) fn component_instance(&mut self, i: &ComponentInstance<'_>) {
        let inst = match i {
            ComponentInstance::Instantiate {
                component_index,
                args,
            } => ComponentInst::Instantiate {
                component: *component_index,
                args: args
                    .iter()
                    .map(|a| (a.name.to_string(), a.kind, a.index))
                    .collect(),
            },
            ComponentInstance::FromExports(_) => ComponentInst::Internal,
        };
        push(&mut self.full, &mut self.instances, inst);
    }

    /// The unit path of a core module defined in this component.
    fn module_path(&self, module: u32) -> Option<&str> {
        match self.core_modules.get(module as usize)? {
            CoreModule::Local(p) => Some(p),
            CoreModule::Opaque => None,
        }
    }

    /// Resolve every import of every core module this component instantiates. `units` holds
    /// the finished units; those of this component's modules are updated in place.
    pub(crate) fn resolve(&self, units: &mut [Option<Unit>]) {
        if self.full {
            return;
        }
        self.resolve_nested_components(units);
        for inst in &self.core_instances {
            let CoreInstance::Instantiate { module, args } = inst else {
                continue;
            };
            let Some(path) = self.module_path(*module) else {
                continue;
            };
            let Some(unit) = units.iter_mut().flatten().find(|u| u.path == path) else {
                continue;
            };
            for imp in &mut unit.imports {
                let Some(m) = &imp.module else { continue };
                let Some(&(_, arg)) = args.iter().find(|(n, _)| n == m) else {
                    continue;
                };
                let Some(r) = self.trace_instance_export(arg, &imp.name, 0) else {
                    continue;
                };
                // A module instantiated twice keeps the host answer if either reaches it.
                match (&imp.resolution, &r) {
                    (Some(Resolution::Host { .. }), _) => {}
                    _ => imp.resolution = Some(r),
                }
            }
            // Memories and tables it imports: the definition is where findings belong.
            let defined: Vec<(String, String, String)> = unit
                .imports
                .iter()
                .filter(|i| matches!(i.kind.as_str(), "memory" | "table"))
                .filter_map(|i| match &i.resolution {
                    Some(Resolution::Internal { from }) => {
                        Some((i.kind.clone(), i.display_name(), from.clone()))
                    }
                    _ => None,
                })
                .collect();
            let mut mem_i = 0usize;
            let mut tab_i = 0usize;
            let imported: Vec<(String, String)> = unit
                .imports
                .iter()
                .filter(|i| matches!(i.kind.as_str(), "memory" | "table"))
                .map(|i| (i.kind.clone(), i.display_name()))
                .collect();
            for (kind, name) in imported {
                let from = defined
                    .iter()
                    .find(|(k, n, _)| *k == kind && *n == name)
                    .map(|(_, _, f)| f.clone());
                if kind == "memory" {
                    if let (Some(m), Some(f)) = (
                        unit.memories
                            .iter_mut()
                            .find(|m| m.imported && m.index as usize == mem_i),
                        from,
                    ) {
                        m.defined_in = Some(f);
                    }
                    mem_i += 1;
                } else {
                    if let (Some(t), Some(f)) = (
                        unit.tables
                            .iter_mut()
                            .find(|t| t.imported && t.index as usize == tab_i),
                        from,
                    ) {
                        t.defined_in = Some(f);
                    }
                    tab_i += 1;
                }
            }
        }
    }

    /// The imports of a nested component are satisfied by the arguments it is instantiated
    /// with here: trace each to this component's own imports (the host) or its internals.
    fn resolve_nested_components(&self, units: &mut [Option<Unit>]) {
        for inst in &self.instances {
            let ComponentInst::Instantiate { component, args } = inst else {
                continue;
            };
            let Some(NestedComponent::Local(path)) = self.components.get(*component as usize)
            else {
                continue;
            };
            let Some(unit) = units.iter_mut().flatten().find(|u| u.path == *path) else {
                continue;
            };
            for imp in unit.imports.iter_mut().filter(|i| i.module.is_none()) {
                let Some((_, kind, index)) = args.iter().find(|(n, _, _)| *n == imp.name) else {
                    continue;
                };
                let r = match kind {
                    ComponentExternalKind::Func => self.trace_func(*index, 0),
                    ComponentExternalKind::Instance => self.trace_whole_instance(*index, 0),
                    _ => Some(Resolution::Internal {
                        from: "an item of the enclosing component".into(),
                    }),
                };
                let Some(r) = r else { continue };
                match (&imp.resolution, &r) {
                    (Some(Resolution::Host { .. }), _) => {}
                    _ => imp.resolution = Some(r),
                }
            }
        }
    }

    /// A whole component instance passed as an argument.
    fn trace_whole_instance(&self, instance: u32, depth: usize) -> Option<Resolution> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.instances.get(instance as usize)? {
            ComponentInst::Import(name) => Some(Resolution::Host { from: name.clone() }),
            ComponentInst::Same(i) => self.trace_whole_instance(*i, depth + 1),
            ComponentInst::Instantiate { .. } | ComponentInst::Internal => {
                Some(Resolution::Internal {
                    from: format!("component instance {instance} of the enclosing component"),
                })
            }
        }
    }

    /// What export `name` of core instance `instance` is.
    fn trace_instance_export(&self, instance: u32, name: &str, depth: usize) -> Option<Resolution> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.core_instances.get(instance as usize)? {
            CoreInstance::Instantiate { module, .. } => Some(Resolution::Internal {
                from: match self.module_path(*module) {
                    Some(p) => format!("{p} export `{name}`"),
                    None => format!("core instance {instance} export `{name}`"),
                },
            }),
            CoreInstance::FromExports(items) => {
                let (_, kind, index) = items.iter().find(|(n, _, _)| n == name)?;
                self.trace_core_item(*kind, *index, depth + 1)
            }
        }
    }

    fn trace_core_item(&self, kind: ExternalKind, index: u32, depth: usize) -> Option<Resolution> {
        if depth > MAX_DEPTH {
            return None;
        }
        let space = match kind {
            ExternalKind::Func | ExternalKind::FuncExact => &self.core_funcs,
            ExternalKind::Memory => &self.core_memories,
            ExternalKind::Table => &self.core_tables,
            ExternalKind::Global => &self.core_globals,
            ExternalKind::Tag => &self.core_tags,
        };
        match space.get(index as usize)? {
            CoreItem::Export { instance, name } => {
                self.trace_instance_export(*instance, name, depth + 1)
            }
            CoreItem::Builtin(b) => Some(Resolution::Internal {
                from: format!("canon {b}"),
            }),
            CoreItem::Lower(f) => self.trace_func(*f, depth + 1),
        }
    }

    /// A lowered component function: the host when it traces to a component-level import.
    fn trace_func(&self, func: u32, depth: usize) -> Option<Resolution> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.funcs.get(func as usize)? {
            ComponentFunc::Import(name) => Some(Resolution::Host { from: name.clone() }),
            ComponentFunc::InstanceExport { instance, name } => {
                self.trace_instance(*instance, name, depth + 1)
            }
            ComponentFunc::Lift => Some(Resolution::Internal {
                from: "a function lifted from this component's own core code".into(),
            }),
            ComponentFunc::Same(i) => self.trace_func(*i, depth + 1),
        }
    }

    fn trace_instance(&self, instance: u32, name: &str, depth: usize) -> Option<Resolution> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.instances.get(instance as usize)? {
            ComponentInst::Import(iname) => Some(Resolution::Host {
                from: format!("{iname}#{name}"),
            }),
            ComponentInst::Same(i) => self.trace_instance(*i, name, depth + 1),
            // A nested component's export, or an instance made from this component's own
            // items: not a host import of this component. (A nested component's own imports are
            // traced to this component's when it is instantiated here.)
            ComponentInst::Instantiate { .. } | ComponentInst::Internal => {
                Some(Resolution::Internal {
                    from: format!("component instance {instance} export `{name}`"),
                })
            }
        }
    }
}

/// The canonical built-in's name, for the resolution text.
fn builtin_name(c: &CanonicalFunction) -> &'static str {
    use CanonicalFunction as C;
    match c {
        C::ResourceNew { .. } => "resource.new",
        C::ResourceDrop { .. } => "resource.drop",
        C::ResourceRep { .. } => "resource.rep",
        C::ThreadSpawnRef { .. } | C::ThreadSpawnIndirect { .. } => "thread.spawn",
        C::ThreadAvailableParallelism => "thread.available-parallelism",
        C::BackpressureInc | C::BackpressureDec => "backpressure",
        C::TaskReturn { .. } => "task.return",
        C::TaskCancel => "task.cancel",
        C::ContextGet { .. } => "context.get",
        C::ContextSet { .. } => "context.set",
        C::ThreadYield { .. } => "thread.yield",
        C::SubtaskDrop | C::SubtaskCancel { .. } => "subtask",
        C::StreamNew { .. }
        | C::StreamRead { .. }
        | C::StreamWrite { .. }
        | C::StreamCancelRead { .. }
        | C::StreamCancelWrite { .. }
        | C::StreamDropReadable { .. }
        | C::StreamDropWritable { .. } => "stream",
        C::FutureNew { .. }
        | C::FutureRead { .. }
        | C::FutureWrite { .. }
        | C::FutureCancelRead { .. }
        | C::FutureCancelWrite { .. }
        | C::FutureDropReadable { .. }
        | C::FutureDropWritable { .. } => "future",
        C::ErrorContextNew { .. } | C::ErrorContextDebugMessage { .. } | C::ErrorContextDrop => {
            "error-context"
        }
        C::WaitableSetNew
        | C::WaitableSetWait { .. }
        | C::WaitableSetPoll { .. }
        | C::WaitableSetDrop
        | C::WaitableJoin => "waitable",
        _ => "built-in",
    }
}

/// Record on each component-level import the core imports that reach it (`unit module#name`).
pub(crate) fn link_host_imports(component: &mut Unit, units: &[Option<Unit>]) {
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
pub(crate) fn drop_findings_on_borrowed_memories(
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
