//! WASI testsuite spec JSON: never panics, accepted specs stay inside the work dir.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmcert_fuzz::targets::wasi_testsuite_spec(data));

/// Built without `cargo fuzz` (a plain `cargo build` or `cargo test` of the workspace): say how
/// to run it. The logic is tested on stable by the smoke tests in `fuzz/src`.
#[cfg(not(fuzzing))]
fn main() {
    eprintln!(
        "this is a libFuzzer target: run it with `cargo +nightly fuzz run wasi_testsuite_spec`"
    );
    std::process::exit(2);
}
