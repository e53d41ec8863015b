//! Snapshot tests: every `fixtures/*.wat` is compiled with the `wat` crate and analysed; the
//! whole Analysis JSON is the snapshot. Regenerate with `INSTA_UPDATE=always cargo test -p
//! wasmcert-analyzer` (or `cargo insta review`) and review the diff.

use std::collections::BTreeSet;
use wasmcert_analyzer::{Analysis, Options, analyze};

fn analyze_fixture(path: &std::path::Path, validate: bool) -> Analysis {
    let wasm = wat::parse_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace(".wat", ".wasm");
    analyze(
        &wasm,
        &Options {
            validate,
            path: name,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/*.wat", |path| {
        let a = analyze_fixture(path, true);
        insta::assert_json_snapshot!(a);
    });
}

#[test]
fn output_is_deterministic() {
    insta::glob!("fixtures/*.wat", |path| {
        let a = serde_json::to_string(&analyze_fixture(path, true)).unwrap();
        let b = serde_json::to_string(&analyze_fixture(path, true)).unwrap();
        assert_eq!(a, b, "{}", path.display());
    });
}

#[test]
fn json_round_trips() {
    insta::glob!("fixtures/*.wat", |path| {
        let a = analyze_fixture(path, true);
        let back: Analysis = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(a, back, "{}", path.display());
    });
}

/// `--no-validate` skips function bodies, but every declaration-level fact is the same.
#[test]
fn no_validate_keeps_declarations() {
    insta::glob!("fixtures/*.wat", |path| {
        let full = analyze_fixture(path, true);
        let fast = analyze_fixture(path, false);
        assert!(!fast.validated);
        assert_eq!(full.capabilities, fast.capabilities, "{}", path.display());
        assert_eq!(full.abis, fast.abis);
        assert_eq!(full.findings, fast.findings);
        for (u, v) in full.units.iter().zip(&fast.units) {
            assert_eq!(u.imports, v.imports);
            assert_eq!(u.exports, v.exports);
            assert_eq!(u.memories, v.memories);
            assert_eq!(u.custom_sections, v.custom_sections);
            let declared: BTreeSet<_> = v.features.iter().collect();
            let all: BTreeSet<_> = u.features.iter().collect();
            assert!(
                declared.is_subset(&all),
                "{}: {declared:?} vs {all:?}",
                path.display()
            );
        }
    });
}

fn fixture(name: &str) -> Analysis {
    analyze_fixture(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
        true,
    )
}

fn cap_ids(a: &Analysis) -> Vec<&str> {
    a.capabilities.iter().map(|c| c.id.as_str()).collect()
}

// Targeted assertions on top of the snapshots: the behaviour users rely on, spelled out.

#[test]
fn hello_world_is_stdio_only() {
    let a = fixture("preview1-hello.wat");
    assert_eq!(cap_ids(&a), ["proc-exit", "stdio"]);
    assert_eq!(a.abis, ["wasi-preview1"]);
    let md = &a.units[0].metadata;
    assert_eq!(md.licenses.as_deref(), Some("Apache-2.0 OR MIT"));
    assert_eq!(md.version.as_deref(), Some("1.2.3"));
    assert_eq!(
        a.units[0].producers["processed-by"]["clang"],
        "19.1.5-wasi-sdk"
    );
    assert!(a.findings.is_empty(), "{:?}", a.findings);
}

#[test]
fn every_preview1_function_is_classified() {
    let a = fixture("preview1-all.wat");
    assert_eq!(a.units[0].imports.len(), 46);
    assert!(!cap_ids(&a).contains(&"unknown-host-import"));
    for want in [
        "args",
        "clock-monotonic",
        "clock-wall",
        "env",
        "fd-manage",
        "fs-metadata",
        "fs-preopens",
        "fs-read",
        "fs-write",
        "net-io",
        "net-listen",
        "poll",
        "proc-exit",
        "proc-raise",
        "random",
        "sched-yield",
        "stdio",
    ] {
        assert!(cap_ids(&a).contains(&want), "missing {want}");
    }
    let fs_write = a.capabilities.iter().find(|c| c.id == "fs-write").unwrap();
    assert!(
        fs_write
            .granted_by
            .iter()
            .any(|g| g.import == "wasi_snapshot_preview1#path_unlink_file")
    );
    // With path_open present, fd_write can reach files.
    assert!(
        fs_write
            .granted_by
            .iter()
            .any(|g| g.import == "wasi_snapshot_preview1#fd_write")
    );
}

#[test]
fn component_capabilities_follow_the_instance_types() {
    let a = fixture("component-wasi-p2.wat");
    let ids = cap_ids(&a);
    for want in [
        "args",
        "env",
        "fs-metadata",
        "fs-read",
        "fs-preopens",
        "net-connect",
        "net-listen",
        "net-dns",
        "http-outgoing",
        "http-incoming",
        "clock-monotonic",
        "clock-wall",
        "random",
    ] {
        assert!(ids.contains(&want), "missing {want} in {ids:?}");
    }
    // The filesystem instance type only exports read and stat: no write grant.
    assert!(!ids.contains(&"fs-write"), "{ids:?}");
    let inc = a
        .capabilities
        .iter()
        .find(|c| c.id == "http-incoming")
        .unwrap();
    assert!(inc.granted_by.iter().all(|g| g.export));
    // Nested units are analysed with their path.
    let paths: Vec<&str> = a.units.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, ["/", "/module[0]", "/component[0]"]);
    assert_eq!(a.units[1].kind, wasmcert_analyzer::Kind::CoreModule);
    let random = a.capabilities.iter().find(|c| c.id == "random").unwrap();
    assert!(
        random
            .granted_by
            .iter()
            .any(|g| g.unit == "/module[0]" && g.import == "wasi_snapshot_preview1#random_get")
    );
    assert_eq!(a.abis, ["wasi-0.2", "wasi-preview1"]);
}

#[test]
fn mixed_wasi_generations_are_reported() {
    let a = fixture("component-mixed-p2-p3.wat");
    assert_eq!(a.abis, ["wasi-0.2", "wasi-0.3"]);
    assert!(
        a.findings
            .iter()
            .any(|f| f.code.code() == "multiple-wasi-versions")
    );
    let unknown = a
        .capabilities
        .iter()
        .find(|c| c.id == "unknown-host-import")
        .unwrap();
    assert_eq!(unknown.granted_by.len(), 1);
    assert_eq!(unknown.granted_by[0].import, "acme:secrets/vault@1.0.0");
}

#[test]
fn toolchain_abis_are_named() {
    for (file, abi) in [
        ("emscripten.wat", "emscripten"),
        ("emscripten-minified.wat", "emscripten-minified"),
        ("wasm-bindgen.wat", "wasm-bindgen"),
        ("go-js.wat", "go-js"),
        ("napi.wat", "napi"),
        ("napi.wat", "emnapi"),
        ("wasi-threads.wat", "wasi-threads"),
        ("wasi-unstable.wat", "wasi-unstable"),
    ] {
        let a = fixture(file);
        assert!(a.abis.iter().any(|x| x == abi), "{file}: {:?}", a.abis);
    }
    let e = fixture("emscripten.wat");
    let ids = cap_ids(&e);
    assert!(
        ids.contains(&"net-connect") && ids.contains(&"fs-write") && ids.contains(&"clock-wall"),
        "{ids:?}"
    );
    let unknown = e
        .capabilities
        .iter()
        .find(|c| c.id == "unknown-host-import")
        .unwrap();
    assert_eq!(
        unknown
            .granted_by
            .iter()
            .map(|g| g.import.as_str())
            .collect::<Vec<_>>(),
        ["env#my_js_callback"]
    );
}

#[test]
fn features_come_from_the_code() {
    let a = fixture("features.wat");
    for want in [
        "simd",
        "bulk-memory",
        "reference-types",
        "tail-call",
        "multi-value",
        "multi-memory",
        "memory64",
        "extended-const",
        "sign-extension",
        "saturating-float-to-int",
        "custom-page-sizes",
    ] {
        assert!(
            a.features.iter().any(|f| f == want),
            "missing {want} in {:?}",
            a.features
        );
    }
    assert!(
        fixture("exceptions.wat")
            .features
            .contains(&"exceptions".to_string())
    );
    assert!(
        fixture("legacy-exceptions.wat")
            .features
            .contains(&"legacy-exceptions".to_string())
    );
    assert!(fixture("gc.wat").features.contains(&"gc".to_string()));
    let t = fixture("wasi-threads.wat");
    assert!(t.features.contains(&"threads".to_string()));
    assert!(cap_ids(&t).contains(&"threads"));
}

#[test]
fn kinds_are_recognised() {
    use wasmcert_analyzer::Kind;
    assert_eq!(
        fixture("relocatable.wat").subject.kind,
        Kind::RelocatableObject
    );
    let d = fixture("dylink.wat");
    assert_eq!(d.subject.kind, Kind::DylinkLibrary);
    let dl = d.units[0].dylink.as_ref().unwrap();
    assert_eq!((dl.memory_size, dl.memory_alignment), (1024, 4));
    assert_eq!(dl.needed, ["libc.so", "libm.so"]);
    assert_eq!(
        fixture("component-wasi-p2.wat").subject.kind,
        Kind::Component
    );
    let r = fixture("relocatable.wat");
    assert_eq!(r.units[0].target_features, ["+mutable-globals", "-atomics"]);
    assert_eq!(r.units[0].linking_version, Some(2));
}
