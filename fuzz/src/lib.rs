#![doc = include_str!("../README.md")]

use arbitrary::{Arbitrary, Unstructured};
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

/// The imports wasm-smith may draw from: WASI preview1 functions with their real signatures,
/// an unknown preview1 function, and opaque host functions.
const IMPORTS: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "wasi_snapshot_preview1" "no_such_function" (func))
  (import "wasi" "thread-spawn" (func (param i32) (result i32)))
  (import "env" "host_callback" (func (param i32)))
  (import "env" "memory" (memory 1 16))
)"#;

/// Generator: a wasm-smith module aimed at WASI imports.
pub fn generate_module(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let mut config = wasm_smith::Config::arbitrary(u)?;
    config.available_imports = Some(wat::parse_str(IMPORTS).expect("IMPORTS is valid text"));
    config.max_imports = config.max_imports.max(4);
    let m = wasm_smith::Module::new(config, u)?;
    Ok(m.to_bytes())
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

/// The committed test key and signed fixture bundle (reports/tests/).
pub const TEST_PUB: &str = include_str!("../../reports/tests/keys/test.pub");
pub const TEST_BUNDLE: &str = include_str!("../../reports/tests/data/hello.sigstore.json");

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

/// Generator for bundles: the committed bundle with a few bytes overwritten.
pub fn mutate_bundle(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let mut b = TEST_BUNDLE.as_bytes().to_vec();
    let n = u.int_in_range(1..=4)?;
    for _ in 0..n {
        let i = u.choose_index(b.len())?;
        b[i] = u.arbitrary()?;
    }
    Ok(b)
}

/// Deterministic pseudo-random bytes for the stable smoke tests (xorshift64*).
pub fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Iterations per smoke test: `WASMCERT_SMOKE_ITERS` scales a local campaign on stable.
    fn iters(default: u64) -> u64 {
        std::env::var("WASMCERT_SMOKE_ITERS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    }

    /// A valid module with most section kinds, to mutate.
    fn seed_module() -> Vec<u8> {
        wat::parse_str(
            r#"(module
              (type (func (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1 2)
              (table 1 funcref)
              (global (mut i32) (i32.const 0))
              (func (export "f") (type 0) (local.get 0))
              (elem (i32.const 0) 1)
              (data (i32.const 0) "hi")
              (@producers (language "Rust" "1"))
              (@custom "licenses" "MIT"))"#,
        )
        .unwrap()
    }

    #[test]
    fn smoke_analyze_bytes() {
        let seed = seed_module();
        for i in 0..iters(400) {
            // Random bytes behind a valid header, and single/multi-byte mutations of a module.
            let mut data = b"\0asm\x01\0\0\0".to_vec();
            data.extend(seeded_bytes(i, (i as usize * 7) % 300));
            check_bytes(&data);
            let mut m = seed.clone();
            let r = seeded_bytes(i + 10_000, 8);
            for k in 0..(1 + i % 4) as usize {
                let pos = (u16::from_le_bytes([r[2 * k], r[2 * k + 1]]) as usize) % m.len();
                m[pos] = r[7 - k];
            }
            check_bytes(&m);
            check_bytes(&m[..(i as usize) % m.len()]);
        }
    }

    #[test]
    fn smoke_bundle_verify() {
        // The unmutated fixture verifies (the oracle's reference is real)...
        assert!(
            wasmcert_report::sign::verify(TEST_BUNDLE.as_bytes(), TEST_PUB.as_bytes(), None)
                .is_ok()
        );
        // ...and neither random bytes nor byte-mutated bundles verify with changed content.
        let mut rejected = 0;
        for i in 0..iters(300) {
            check_bundle(&seeded_bytes(i, 200));
            let raw = seeded_bytes(i + 77, 64);
            let mut u = Unstructured::new(&raw);
            if let Ok(b) = mutate_bundle(&mut u) {
                check_bundle(&b);
                if wasmcert_report::sign::verify(&b, TEST_PUB.as_bytes(), None).is_err() {
                    rejected += 1;
                }
            }
        }
        assert!(
            rejected * 2 > iters(300),
            "only {rejected} mutated bundles rejected"
        );
    }

    #[test]
    fn smoke_analyze_smith() {
        let mut generated = 0;
        let mut with_capabilities = 0;
        for i in 0..iters(300) {
            let raw = seeded_bytes(i, 4096);
            let mut u = Unstructured::new(&raw);
            let Ok(wasm) = generate_module(&mut u) else {
                continue;
            };
            generated += 1;
            if check_module(&wasm) > 0 {
                with_capabilities += 1;
            }
        }
        assert!(
            generated * 3 > iters(300) * 2,
            "only {generated} modules generated"
        );
        assert!(
            with_capabilities * 6 > iters(300),
            "only {with_capabilities} modules import WASI"
        );
    }
}
