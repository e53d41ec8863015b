//! WASI testsuite spec JSON: never panics, accepted specs stay inside the work dir.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        wasmcert_fuzz::check_spec(text);
    }
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(text) = wasmcert_fuzz::generate_spec(&mut u) {
        wasmcert_fuzz::check_spec(&text);
    }
});
