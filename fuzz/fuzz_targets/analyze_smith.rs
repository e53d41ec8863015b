//! wasm-smith modules aimed at WASI imports: the analyzer agrees with an independent walk.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(wasm) = wasmcert_fuzz::generate_module(&mut u) {
        let _ = wasmcert_fuzz::check_module(&wasm);
    }
});
