//! Arbitrary bytes into the analyzer: never panics, errors point inside the input.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmcert_fuzz::targets::analyze_bytes(data));

/// Built without `cargo fuzz` (a plain `cargo build` or `cargo test` of the workspace): say how
/// to run it. The logic is tested on stable by the smoke tests in `fuzz/src`.
#[cfg(not(fuzzing))]
fn main() {
    eprintln!("this is a libFuzzer target: run it with `cargo +nightly fuzz run analyze_bytes`");
    std::process::exit(2);
}
