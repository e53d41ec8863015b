//! Capabilities and ABIs from imports and exports: each import of each unit is matched against
//! the WASI tables, toolchain ABIs and interface names (`docs/capabilities.md`). Imports a
//! component satisfies itself, or that reach one of its own imports, are skipped: the
//! component-level import is classified instead.

use crate::capabilities as caps;
use crate::findings::FindingCode;
use crate::model::*;
use std::collections::{BTreeMap, BTreeSet};

/// Map every unit's imports (and handler exports) to capabilities and ABIs.
pub(crate) fn classify(units: &[Unit]) -> (Vec<Capability>, Vec<String>, Vec<Finding>) {
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
