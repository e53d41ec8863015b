//! The generated stress suite (`wasmcert certify --generated N --seed S`): wasm-smith modules
//! with resource-hungry shapes run under the case limits. The runtime must end every run on its
//! own terms (exit, trap or refusal) inside the limits: a crash, the runner's deadline, the
//! runner's memory cap or an escape is a finding. Everything follows from the seed, so
//! `--generated N --seed S --filter ID` reproduces a finding, and `--save-generated DIR`
//! writes the modules out for a runtime's own debugger.

use crate::case::{Case, Expect, Limits, Module, Run, Setup, Spec};
use arbitrary::Unstructured;
use std::path::PathBuf;
use std::sync::Arc;

/// The category of generated cases.
pub const CATEGORY: &str = "generated";
/// At most this many generated cases in one run: each is a compile and a run.
pub const MAX_GENERATED: usize = 100_000;

/// The shapes cases take in turn: what each stresses and the runtime control it needs.
const PROFILES: &[(&str, &str)] = &[
    ("memory", "memory-limit"),
    ("recursion", "cpu-limit"),
    ("loops", "cpu-limit"),
    ("tables", "table-limit"),
    ("hostcalls", "cpu-limit"),
];

/// The limits every generated case runs under (kept small so hungry modules meet them).
fn limits() -> Limits {
    Limits {
        memory_bytes: Some(64 << 20),
        table_elements: Some(100_000),
        fuel: Some(20_000_000),
        timeout_ms: Some(1_000),
    }
}

/// WASI preview1 imports generated code may call, with random arguments.
const IMPORTS: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
)"#;

/// Bytes of randomness per case handed to wasm-smith.
const ENTROPY: usize = 16 << 10;

/// splitmix64: a reproducible stream of bytes from (seed, case index).
fn entropy(seed: u64, index: u64) -> Vec<u8> {
    let mut x = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = Vec::with_capacity(ENTROPY);
    while out.len() < ENTROPY {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

fn config(profile: &str) -> wasm_smith::Config {
    let mut c = wasm_smith::Config {
        // A command: `_start` with no parameters, as every runtime's CLI runs it.
        exports: Some(wat::parse_str(r#"(module (func (export "_start")))"#).expect("valid")),
        available_imports: Some(wat::parse_str(IMPORTS).expect("valid")),
        max_imports: 8,
        // Proposals every runtime under test implements; the rest would only be refused.
        gc_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        relaxed_simd_enabled: false,
        memory64_enabled: false,
        tail_call_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        allow_start_export: false,
        canonicalize_nans: false,
        ..wasm_smith::Config::default()
    };
    match profile {
        "memory" => {
            c.min_memories = 1;
            c.max_memories = 1;
            c.max_memory32_bytes = 4 << 30;
            c.max_instructions = 2_000;
            c.max_data_segments = 20;
        }
        "recursion" => {
            c.min_funcs = 8;
            c.max_funcs = 60;
            c.max_instructions = 400;
            c.max_nesting_depth = 20;
        }
        "loops" => {
            c.max_funcs = 20;
            c.max_instructions = 2_000;
            c.max_nesting_depth = 30;
        }
        "tables" => {
            c.min_tables = 1;
            c.max_tables = 20;
            c.max_table_elements = 10_000_000;
            c.max_elements = 2_000;
            c.max_element_segments = 50;
        }
        _ => {
            c.min_imports = 3;
            c.min_memories = 1;
            c.max_memories = 1;
            c.max_memory32_bytes = 1 << 20;
            c.max_instructions = 2_000;
        }
    }
    c
}

/// Generate case `index` of seed `seed`: its profile rotates, its module follows from both.
/// Returns `None` in the rare case wasm-smith runs out of entropy before finishing a module.
fn generate_one(seed: u64, index: usize) -> Option<Case> {
    let (profile, control) = PROFILES[index % PROFILES.len()];
    let bytes = entropy(seed, index as u64);
    let mut u = Unstructured::new(&bytes);
    let module = wasm_smith::Module::new(config(profile), &mut u).ok()?;
    let wasm = module.to_bytes();
    Some(Case {
        id: format!("{CATEGORY}/s{seed}-{index:05}-{profile}"),
        category: CATEGORY.into(),
        dir: PathBuf::new(),
        module: Module::Bytes(Arc::new(wasm)),
        spec: Spec {
            summary: format!("wasm-smith `{profile}` module {index} of seed {seed}"),
            source: "generated: the runtime ends the run itself, inside the limits".into(),
            run: Run::default(),
            limits: limits(),
            requires: vec![control.into()],
            component: None,
            setup: Setup::default(),
            expect: Expect {
                settles: Some(true),
                ..Expect::default()
            },
            p2: None,
        },
        unsupported: None,
        p2: None,
        wasi: None,
    })
}

/// `n` generated cases of `seed`, sorted by id.
pub fn generate(n: usize, seed: u64) -> Vec<Case> {
    let mut cases: Vec<Case> = (0..n.min(MAX_GENERATED))
        .filter_map(|i| generate_one(seed, i))
        .collect();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_decides_everything() {
        let a = generate(10, 7);
        let b = generate(10, 7);
        assert_eq!(a.len(), 10);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.id, y.id);
            assert_eq!(x.wasm().unwrap(), y.wasm().unwrap());
        }
        assert_eq!(crate::suite_digest(&a), crate::suite_digest(&b));
        let c = generate(10, 8);
        assert_ne!(crate::suite_digest(&a), crate::suite_digest(&c));
        // Every module is valid, exports `_start`, and the profiles rotate.
        let mut profiles = std::collections::BTreeSet::new();
        for case in &a {
            let wasm = case.wasm().unwrap();
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&wasm)
                .unwrap_or_else(|e| panic!("{}: {e}", case.id));
            assert!(
                wasmparser::Parser::new(0)
                    .parse_all(&wasm)
                    .any(|p| matches!(p, Ok(wasmparser::Payload::ExportSection(r)) if r.clone().into_iter().any(|e| e.is_ok_and(|e| e.name == "_start"))))
            );
            profiles.insert(case.id.rsplit('-').next().unwrap().to_string());
        }
        assert_eq!(profiles.len(), PROFILES.len());
    }
}
