//! What each fuzz target does with one input, written once: `fuzz_targets/<name>.rs` calls the
//! function of its name, and the regression test replays `fuzz/regressions/<name>/` through
//! [`TARGETS`].

use crate::{generate, oracle};
use arbitrary::Unstructured;

/// A target's body: one input in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/Cargo.toml` and `fuzz/regressions/` name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("analyze_bytes", analyze_bytes),
    ("analyze_smith", analyze_smith),
    ("analyze_component", analyze_component),
    ("bundle_verify", bundle_verify),
    ("policy_parse", policy_parse),
    ("wasi_testsuite_spec", wasi_testsuite_spec),
];

/// Arbitrary bytes into the analyzer.
pub fn analyze_bytes(data: &[u8]) {
    oracle::check_bytes(data);
}

/// A wasm-smith module aimed at WASI imports, against an independent walk.
pub fn analyze_smith(data: &[u8]) {
    if let Ok(wasm) = generate::generate_module(&mut Unstructured::new(data)) {
        oracle::check_module(&wasm);
    }
}

/// A component importing WASI interfaces, or a random wasm-smith component.
pub fn analyze_component(data: &[u8]) {
    let mut u = Unstructured::new(data);
    if u.arbitrary::<bool>().unwrap_or(false) {
        if let Ok((wasm, names)) = generate::generate_component(&mut u) {
            oracle::check_component(&wasm, &names);
        }
    } else if let Ok(wasm) = generate::generate_smith_component(&mut u) {
        oracle::check_any_component(&wasm);
    }
}

/// The bytes as a bundle, then the committed bundle mutated by them.
pub fn bundle_verify(data: &[u8]) {
    oracle::check_bundle(data);
    if let Ok(b) = generate::mutate_bundle(&mut Unstructured::new(data)) {
        oracle::check_bundle(&b);
    }
}

/// The bytes as policy text, then a policy generated from them.
pub fn policy_parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        oracle::check_policy(text);
    }
    if let Ok(text) = generate::generate_policy(&mut Unstructured::new(data)) {
        oracle::check_policy(&text);
    }
}

/// The bytes as a WASI testsuite spec, then a spec generated from them.
pub fn wasi_testsuite_spec(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        oracle::check_spec(text);
    }
    if let Ok(text) = generate::generate_spec(&mut Unstructured::new(data)) {
        oracle::check_spec(&text);
    }
}
