//! Components aimed at WASI imports (with wasm-smith core modules nested), and random
//! wasm-smith components: the analyzer agrees with an independent walk.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmcert_fuzz::targets::analyze_component(data));

/// Built without `cargo fuzz` (a plain `cargo build` or `cargo test` of the workspace): say how
/// to run it. The logic is tested on stable by the smoke tests in `fuzz/src`.
#[cfg(not(fuzzing))]
fn main() {
    eprintln!(
        "this is a libFuzzer target: run it with `cargo +nightly fuzz run analyze_component`"
    );
    std::process::exit(2);
}
