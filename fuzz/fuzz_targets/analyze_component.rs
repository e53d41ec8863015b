//! Components aimed at WASI imports (with wasm-smith core modules nested), and random
//! wasm-smith components: the analyzer agrees with an independent walk.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if u.arbitrary::<bool>().unwrap_or(false) {
        if let Ok((wasm, names)) = wasmcert_fuzz::generate_component(&mut u) {
            let _ = wasmcert_fuzz::check_component(&wasm, &names);
        }
    } else if let Ok(wasm) = wasmcert_fuzz::generate_smith_component(&mut u) {
        wasmcert_fuzz::check_any_component(&wasm);
    }
});

/// Built without `cargo fuzz` (a plain `cargo build` or `cargo test` of the workspace): say how
/// to run it. The logic is tested on stable by the smoke tests in `fuzz/src`.
#[cfg(not(fuzzing))]
fn main() {
    eprintln!(
        "this is a libFuzzer target: run it with `cargo +nightly fuzz run analyze_component`"
    );
    std::process::exit(2);
}
