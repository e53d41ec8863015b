//! Components aimed at WASI imports (with wasm-smith core modules nested), and random
//! wasm-smith components: the analyzer agrees with an independent walk.
#![no_main]
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
