//! `certify --world p2`: each case's preview1 core module becomes a `wasi:cli/command`
//! component (WASI 0.2) the way a user makes one, `wasm-tools component new --adapt` with
//! the preview1 command adapter wasmtime publishes, so the runtime's WASI 0.2 host (wasmtime's
//! p2 host, jco's preview2-shim, ...) runs the same case against the same oracle.

pub use wasmcert_report::conformance::WasiWorld;

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// The adapter the components are made with, recorded in reports' flags.
pub const ADAPTER: &str = "wasi-preview1-component-adapter-provider 48 (command)";

/// Why a module cannot be made a component: the adapter has no import it needs (a module
/// importing something other than `wasi_snapshot_preview1`), the module lacks what a
/// command needs (`_start`, an exported memory), or it is not valid.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the preview1 command adapter cannot make a component of this module: {0}")]
pub struct NotComponentizable(pub String);

/// The command component of a preview1 module.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>, NotComponentizable> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|e| {
            e.adapter(
                "wasi_snapshot_preview1",
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            )
        })
        .and_then(|mut e| e.encode())
        .map_err(|e| NotComponentizable(format!("{e:#}")))
}

/// Components by the SHA-256 of their module: a suite run makes each once (the generated
/// stress suite repeats modules).
#[derive(Default)]
pub struct Componentizer {
    made: Mutex<HashMap<[u8; 32], Result<std::sync::Arc<Vec<u8>>, NotComponentizable>>>,
}

impl Componentizer {
    pub fn get(&self, module: &[u8]) -> Result<std::sync::Arc<Vec<u8>>, NotComponentizable> {
        let key: [u8; 32] = Sha256::digest(module).into();
        if let Some(r) = self.made.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return r.clone();
        }
        let r = componentize(module).map(std::sync::Arc::new);
        self.made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, r.clone());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printing_command_becomes_a_component() {
        let module = wat::parse_str(
            r#"(module
                (import "wasi_snapshot_preview1" "fd_write"
                  (func $w (param i32 i32 i32 i32) (result i32)))
                (memory (export "memory") 1)
                (data (i32.const 8) "hi\n")
                (func (export "_start")
                  (i32.store (i32.const 0) (i32.const 8))
                  (i32.store (i32.const 4) (i32.const 3))
                  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))"#,
        )
        .unwrap();
        let c = componentize(&module).unwrap();
        assert!(wasmparser::Parser::is_component(&c));
    }

    #[test]
    fn a_module_importing_outside_wasi_is_refused_with_the_reason() {
        let module = wat::parse_str(
            r#"(module (import "env" "nope" (func)) (memory (export "memory") 1)
                (func (export "_start")))"#,
        )
        .unwrap();
        let e = componentize(&module).unwrap_err();
        assert!(e.to_string().contains("env"), "{e}");
    }
}
