//! Oracles: what must hold for any input (never a panic, errors inside the input, JSON
//! round-trips) and for generated ones (the analyzer agrees with an independent walk).

use crate::generate::IMPORTS;
use crate::{TEST_BUNDLE, TEST_PUB};
use wasmcert_analyzer::{Analysis, Options, analyze};

/// Oracle for arbitrary bytes: no panic, errors inside the input, JSON round-trip.
pub fn check_bytes(data: &[u8]) {
    for validate in [true, false] {
        match analyze(
            data,
            &Options {
                validate,
                path: "fuzz".into(),
            },
        ) {
            Ok(a) => round_trip(&a),
            Err(e) => assert!(
                e.offset <= data.len() as u64,
                "error offset {} past {} bytes: {e}",
                e.offset,
                data.len()
            ),
        }
    }
}

fn round_trip(a: &Analysis) {
    let text = serde_json::to_string(a).expect("an analysis serialises");
    let back: Analysis = serde_json::from_str(&text).expect("an analysis deserialises");
    assert_eq!(&back, a, "JSON round-trip changed the analysis");
}

/// Oracle for generated modules: the analyzer agrees with an independent wasmparser walk.
/// Returns the number of capabilities found (generators should make that non-zero often).
pub fn check_module(wasm: &[u8]) -> usize {
    let a = match analyze(wasm, &Options::default()) {
        Ok(a) => a,
        // wasm-smith can emit features the validator refuses in some combinations; that is an
        // error with an offset, never a panic.
        Err(e) => {
            assert!(e.offset <= wasm.len() as u64);
            return 0;
        }
    };
    let (imports, exports, memories) = independent_walk(wasm);
    let unit = &a.units[0];
    let ours: Vec<String> = unit.imports.iter().map(|i| i.display_name()).collect();
    assert_eq!(ours, imports, "imports differ from an independent walk");
    let our_exports: Vec<&str> = unit.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(our_exports, exports, "exports differ");
    assert_eq!(unit.memories.len(), memories, "memory count differs");
    for c in &a.capabilities {
        for g in &c.granted_by {
            let known = if g.export {
                our_exports.contains(&g.import.as_str())
            } else {
                ours.contains(&g.import)
            };
            assert!(
                known,
                "capability {} granted by `{}`, which is not an import",
                c.id, g.import
            );
        }
    }
    for i in &unit.imports {
        if i.module.as_deref() == Some("wasi_snapshot_preview1") && i.kind == "func" {
            let name = i.display_name();
            assert!(
                a.capabilities
                    .iter()
                    .any(|c| c.granted_by.iter().any(|g| g.import == name)),
                "`{name}` grants no capability"
            );
        }
    }
    round_trip(&a);
    a.capabilities.len()
}

fn independent_walk(wasm: &[u8]) -> (Vec<String>, Vec<String>, usize) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut memories = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.expect("the analyzer accepted it") {
            wasmparser::Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    let i = i.expect("valid import");
                    if matches!(i.ty, wasmparser::TypeRef::Memory(_)) {
                        memories += 1;
                    }
                    imports.push(format!("{}#{}", i.module, i.name));
                }
            }
            wasmparser::Payload::MemorySection(r) => memories += r.count() as usize,
            wasmparser::Payload::ExportSection(r) => {
                for e in r {
                    exports.push(e.expect("valid export").name.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports, memories)
}

/// The root component's import names by an independent walk (nested units skipped).
pub(crate) fn component_imports(wasm: &[u8]) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut nested = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.expect("the analyzer accepted it") {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => {
                depth += 1;
                nested += 1;
            }
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(r) if depth == 0 => {
                for i in r {
                    names.push(i.expect("valid import").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    (names, nested)
}

/// Oracle for generated components: root imports and unit count equal an independent walk;
/// every grant names a real import of its unit; every import of a known WASI interface grants
/// a capability and the non-WASI one grants `unknown-host-import`; JSON round-trips. Returns
/// the number of capabilities.
pub fn check_component(wasm: &[u8], names: &[String]) -> usize {
    let a = match analyze(wasm, &Options::default()) {
        Ok(a) => a,
        Err(e) => {
            assert!(e.offset <= wasm.len() as u64);
            return 0;
        }
    };
    let (walked, nested) = component_imports(wasm);
    assert_eq!(walked, names, "the walk disagrees with the generator");
    let root: Vec<String> = a.units[0]
        .imports
        .iter()
        .map(|i| i.display_name())
        .collect();
    assert_eq!(
        root, walked,
        "component imports differ from an independent walk"
    );
    assert_eq!(a.units.len(), 1 + nested, "unit count differs");
    for c in &a.capabilities {
        for g in &c.granted_by {
            let unit = a
                .units
                .iter()
                .find(|u| u.path == g.unit)
                .unwrap_or_else(|| panic!("grant names unit {} that does not exist", g.unit));
            let found = if g.export {
                unit.exports.iter().any(|e| e.name == g.import)
            } else {
                unit.imports.iter().any(|i| i.display_name() == g.import)
            };
            assert!(
                found,
                "{} granted by `{}`, not an import of {}",
                c.id, g.import, g.unit
            );
        }
    }
    for name in names {
        let grants: Vec<&str> = a
            .capabilities
            .iter()
            .filter(|c| {
                c.granted_by
                    .iter()
                    .any(|g| g.unit == "/" && g.import == *name)
            })
            .map(|c| c.id.as_str())
            .collect();
        if name.starts_with("acme:") {
            assert_eq!(grants, ["unknown-host-import"], "{name}");
        } else if !name.starts_with("wasi:io/") {
            assert!(!grants.is_empty(), "`{name}` grants no capability");
        }
    }
    round_trip(&a);
    a.capabilities.len()
}

/// Oracle for any component: never panics; accepted ones list the same root imports as an
/// independent walk and round-trip through JSON.
pub fn check_any_component(wasm: &[u8]) {
    if let Ok(a) = analyze(wasm, &Options::default()) {
        let (walked, nested) = component_imports(wasm);
        let root: Vec<String> = a.units[0]
            .imports
            .iter()
            .map(|i| i.display_name())
            .collect();
        assert_eq!(root, walked);
        assert_eq!(a.units.len(), 1 + nested);
        round_trip(&a);
    }
}

/// A fixed analysis policies are evaluated on in the fuzzer.
fn policy_subject() -> &'static Analysis {
    static A: std::sync::OnceLock<Analysis> = std::sync::OnceLock::new();
    A.get_or_init(|| {
        let wasm = wat::parse_str(IMPORTS).expect("valid");
        analyze(&wasm, &Options::default()).expect("analyses")
    })
}

/// Oracle for policy text: parsing never panics; an error has a place inside the text; a
/// parsed policy serialises and parses back to the same document (and the same text again);
/// compiling never panics (keys and reports resolve under a directory that does not exist);
/// a compiled policy evaluates without panicking.
pub fn check_policy(text: &str) {
    use wasmcert_policy::native::parse_raw;
    match parse_raw(text, "p.toml") {
        Ok(raw) => {
            let once = toml::to_string(&raw).expect("a parsed policy serialises");
            let back = parse_raw(&once, "p.toml")
                .unwrap_or_else(|e| panic!("serialised policy does not parse: {e}\n{once}"));
            assert_eq!(raw, back, "parse -> serialise -> parse changed the policy");
            assert_eq!(
                once,
                toml::to_string(&back).expect("serialises"),
                "not stable"
            );
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            if let Some((line, col)) = e.at {
                let lines = text.split('\n').count();
                assert!(line >= 1 && line <= lines.max(1), "line {line} of {lines}");
                assert!(col >= 1);
            }
        }
    }
    let base = std::path::Path::new("/nonexistent/wasmcert-fuzz");
    if let Ok(p) = wasmcert_policy::Policy::from_text(text, "p.toml", base, false) {
        let d = p
            .evaluate(policy_subject(), &[])
            .expect("native policies always evaluate");
        assert_eq!(
            d.allowed,
            !d.findings
                .iter()
                .any(|f| f.level == wasmcert_policy::Level::Deny && f.excepted.is_none())
        );
        let _ = p.meta_findings(&d.used_exceptions);
    }
}

/// Oracle for specs: never panics; an accepted spec only names relative fixture dirs inside
/// the work dir and valid environment names.
pub fn check_spec(text: &str) {
    let file = std::path::Path::new("t.json");
    if let Ok(s) = wasmcert_certify::case::parse_testsuite_spec(text, file) {
        for d in &s.fixture_dirs {
            let p = std::path::Path::new(d);
            assert!(!p.is_absolute(), "absolute fixture dir {d}");
            assert!(
                !p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir)),
                "fixture dir {d} climbs out"
            );
        }
        for k in s.env.keys() {
            assert!(!k.is_empty() && !k.contains('='), "env name {k:?}");
        }
    }
}

/// What a signature covers: payload type, payload bytes, signature bytes.
fn signed_parts(bundle: &[u8]) -> Option<(String, Vec<u8>, Vec<String>)> {
    use base64::Engine;
    let v: serde_json::Value = serde_json::from_slice(bundle).ok()?;
    let env = &v["dsseEnvelope"];
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env["payload"].as_str()?)
        .ok()?;
    let sigs = env["signatures"]
        .as_array()?
        .iter()
        .filter_map(|s| s["sig"].as_str().map(str::to_owned))
        .collect();
    Some((env["payloadType"].as_str()?.to_owned(), payload, sigs))
}

/// Oracle for bundles: verification never panics, and a bundle derived from the committed one
/// verifies only if what the signature covers (type, payload, signature) is unchanged: edits of
/// unsigned fields (whitespace, keyid) may pass, anything else must not.
pub fn check_bundle(data: &[u8]) {
    if wasmcert_report::sign::verify(data, TEST_PUB.as_bytes(), None).is_ok() {
        let original = signed_parts(TEST_BUNDLE.as_bytes()).expect("the fixture parses");
        let got = signed_parts(data).expect("a verified bundle parses");
        assert_eq!(got.0, original.0, "verified with another payload type");
        assert_eq!(got.1, original.1, "verified with another payload");
    }
}
