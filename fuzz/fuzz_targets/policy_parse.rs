//! Policy text (generated from fragments, mutated packs, or raw bytes): parse -> serialise ->
//! parse is stable, errors have a place, compiling and evaluating never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        wasmcert_fuzz::check_policy(text);
    }
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(text) = wasmcert_fuzz::generate_policy(&mut u) {
        wasmcert_fuzz::check_policy(&text);
    }
});
