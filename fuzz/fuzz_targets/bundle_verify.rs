//! Arbitrary and mutated Sigstore bundles into `verify`: never panics, never accepts changed
//! signed content.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wasmcert_fuzz::check_bundle(data);
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(b) = wasmcert_fuzz::mutate_bundle(&mut u) {
        wasmcert_fuzz::check_bundle(&b);
    }
});
