//! Arbitrary bytes into the analyzer: never panics, errors point inside the input.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmcert_fuzz::check_bytes(data));
