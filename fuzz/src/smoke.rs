//! Smoke tests on stable: every target's generator and oracle on seeded bytes, and every
//! input a campaign once crashed on (`fuzz/regressions/<target>/`).

use super::*;
use crate::oracle::component_imports;
use arbitrary::Unstructured;

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
        wasmcert_report::sign::verify(TEST_BUNDLE.as_bytes(), TEST_PUB.as_bytes(), None).is_ok()
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

/// Every input a campaign once crashed on (`fuzz/regressions/<target>/`) runs through its
/// target's oracle again.
#[test]
fn regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut ran = 0;
    for target in std::fs::read_dir(&dir).unwrap() {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        for input in std::fs::read_dir(&target).unwrap() {
            let data = std::fs::read(input.unwrap().path()).unwrap();
            run_target(&name, &data);
            ran += 1;
        }
    }
    eprintln!("{ran} regression inputs");
}

/// A target's body, by name ([`crate::targets::TARGETS`]).
fn run_target(name: &str, data: &[u8]) {
    let Some((_, run)) = crate::targets::TARGETS.iter().find(|(n, _)| *n == name) else {
        panic!("fuzz/regressions/{name}: no such target");
    };
    run(data);
}

#[test]
fn smoke_components() {
    let (mut generated, mut with_capabilities, mut nested) = (0, 0, 0);
    for i in 0..iters(200) {
        let raw = seeded_bytes(i + 500_000, 4096);
        let mut u = Unstructured::new(&raw);
        let Ok((wasm, names)) = generate_component(&mut u) else {
            continue;
        };
        generated += 1;
        if check_component(&wasm, &names) > 0 {
            with_capabilities += 1;
        }
        if component_imports(&wasm).1 > 0 {
            nested += 1;
        }
        let raw = seeded_bytes(i + 900_000, 2048);
        if let Ok(c) = generate_smith_component(&mut Unstructured::new(&raw)) {
            check_any_component(&c);
        }
    }
    assert!(generated * 2 > iters(200), "only {generated} components");
    assert!(
        with_capabilities * 3 > iters(200),
        "only {with_capabilities} grant anything"
    );
    assert!(nested * 10 > iters(200), "only {nested} nest core modules");
}

#[test]
fn smoke_policy_parse() {
    let (mut parsed, mut compiled) = (0, 0);
    for i in 0..iters(400) {
        let raw = seeded_bytes(i + 1_000_000, 512);
        let Ok(text) = generate_policy(&mut Unstructured::new(&raw)) else {
            continue;
        };
        check_policy(&text);
        if wasmcert_policy::native::parse_raw(&text, "p").is_ok() {
            parsed += 1;
        }
        if wasmcert_policy::Policy::from_text(
            &text,
            "p",
            std::path::Path::new("/nonexistent"),
            false,
        )
        .is_ok()
        {
            compiled += 1;
        }
    }
    // The generator reaches both the parser's and the compiler's error paths and successes.
    assert!(parsed * 10 > iters(400), "only {parsed} parsed");
    assert!(compiled * 20 > iters(400), "only {compiled} compiled");
    assert!(compiled < iters(400), "no policy failed to compile");
    // The shipped policies are inputs too.
    check_policy(wasmcert_policy::TEMPLATE);
    for (_, _, text) in wasmcert_policy::PACKS {
        check_policy(text);
    }
}

#[test]
fn smoke_wasi_testsuite_spec() {
    let mut accepted = 0;
    for i in 0..iters(400) {
        let raw = seeded_bytes(i + 2_000_000, 256);
        let Ok(text) = generate_spec(&mut Unstructured::new(&raw)) else {
            continue;
        };
        check_spec(&text);
        if wasmcert_certify::case::parse_testsuite_spec(&text, std::path::Path::new("t")).is_ok() {
            accepted += 1;
        }
    }
    assert!(accepted * 10 > iters(400), "only {accepted} specs accepted");
    assert!(accepted < iters(400));
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
