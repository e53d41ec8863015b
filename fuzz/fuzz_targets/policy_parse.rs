//! Policy text (generated from fragments, mutated packs, or raw bytes): parse -> serialise ->
//! parse is stable, errors have a place, compiling and evaluating never panic.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmcert_fuzz::targets::policy_parse(data));

/// Built without `cargo fuzz` (a plain `cargo build` or `cargo test` of the workspace): say how
/// to run it. The logic is tested on stable by the smoke tests in `fuzz/src`.
#[cfg(not(fuzzing))]
fn main() {
    eprintln!("this is a libFuzzer target: run it with `cargo +nightly fuzz run policy_parse`");
    std::process::exit(2);
}
