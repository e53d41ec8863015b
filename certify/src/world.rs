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

/// WIT files are small (WASI's largest is 40 kB): a bigger one in a suite is refused.
const MAX_WIT_BYTES: u64 = 1 << 20;
/// At most this many packages in a suite's `wit/deps/`.
const MAX_WIT_DEPS: usize = 64;

/// The command component of a component-native case: its core module (which imports WASI 0.2
/// interfaces itself) given the component type of `world` from the suite's `wit/` directory
/// (`guests.wit` and the packages in `deps/`), then linked with the preview1 command adapter for
/// what it imports through preview1 (its stdout). The WIT files are read here, bounded, and a
/// symlink among them is refused (suites are hostile input).
pub fn guest_component(
    module: &[u8],
    wit_dir: &std::path::Path,
    world: &str,
) -> Result<Vec<u8>, NotComponentizable> {
    let fail = |e: String| NotComponentizable(e);
    let read = |p: &std::path::Path| -> Result<String, NotComponentizable> {
        use std::io::Read;
        let meta =
            std::fs::symlink_metadata(p).map_err(|e| fail(format!("{}: {e}", p.display())))?;
        if !meta.is_file() {
            return Err(fail(format!("{}: not a regular file", p.display())));
        }
        let mut text = String::new();
        std::fs::File::open(p)
            .and_then(|f| f.take(MAX_WIT_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| fail(format!("{}: {e}", p.display())))?;
        if text.len() as u64 > MAX_WIT_BYTES {
            return Err(fail(format!(
                "{}: larger than {MAX_WIT_BYTES} bytes",
                p.display()
            )));
        }
        Ok(text)
    };
    let mut deps: Vec<(String, String)> = Vec::new();
    let deps_dir = wit_dir.join("deps");
    if std::fs::symlink_metadata(&deps_dir).is_ok_and(|m| m.is_dir()) {
        let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(&deps_dir)
            .map_err(|e| fail(format!("{}: {e}", deps_dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wit"))
            .take(MAX_WIT_DEPS + 1)
            .collect();
        if names.len() > MAX_WIT_DEPS {
            return Err(fail(format!(
                "{}: more than {MAX_WIT_DEPS} packages",
                deps_dir.display()
            )));
        }
        names.sort();
        for p in names {
            deps.push((p.display().to_string(), read(&p)?));
        }
    }
    let main = wit_dir.join("guests.wit");
    let main_text = read(&main)?;
    // wit-parser orders the packages itself; it asserts on some inconsistent inputs (the same
    // package twice), so a hostile suite's panic becomes this case's error.
    let resolved = std::panic::catch_unwind(move || -> Result<_, NotComponentizable> {
        let mut groups = Vec::new();
        for (path, text) in &deps {
            groups.push(
                wit_parser::UnresolvedPackageGroup::parse(path, text)
                    .map_err(|(_, e)| fail(format!("{path}: {e}")))?,
            );
        }
        let main_group =
            wit_parser::UnresolvedPackageGroup::parse(main.display().to_string(), &main_text)
                .map_err(|(_, e)| fail(format!("{}: {e}", main.display())))?;
        let mut resolve = wit_parser::Resolve::default();
        let pkg = resolve
            .push_groups(main_group, groups)
            .map_err(|e| fail(format!("{e:#}")))?;
        Ok((resolve, pkg))
    })
    .map_err(|_| {
        fail(format!(
            "{}: the WIT packages are inconsistent",
            wit_dir.display()
        ))
    })?;
    let (resolve, pkg) = resolved?;
    let world_id = resolve
        .select_world(&[pkg], Some(world))
        .map_err(|e| fail(format!("{e:#}")))?;
    let mut core = module.to_vec();
    wit_component::embed_component_metadata(
        &mut core,
        &resolve,
        world_id,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| fail(format!("{e:#}")))?;
    componentize(&core)
}

/// A component made (shared by the cases that need it), or why it could not be.
type Made = Result<std::sync::Arc<Vec<u8>>, NotComponentizable>;

/// Components by the SHA-256 of their module: a suite run makes each once (the generated
/// stress suite repeats modules).
#[derive(Default)]
pub struct Componentizer {
    made: Mutex<HashMap<[u8; 32], Made>>,
}

impl Componentizer {
    pub fn get(&self, module: &[u8]) -> Result<std::sync::Arc<Vec<u8>>, NotComponentizable> {
        let key: [u8; 32] = Sha256::digest(module).into();
        if let Some(r) = self
            .made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return r.clone();
        }
        let r = componentize(module).map(std::sync::Arc::new);
        self.made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, r.clone());
        r
    }

    /// [`guest_component`], made once per module, WIT directory and world.
    pub fn guest(
        &self,
        module: &[u8],
        wit_dir: &std::path::Path,
        world: &str,
    ) -> Result<std::sync::Arc<Vec<u8>>, NotComponentizable> {
        let mut h = Sha256::new();
        h.update(module);
        h.update([0]);
        h.update(wit_dir.as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(world.as_bytes());
        let key: [u8; 32] = h.finalize().into();
        if let Some(r) = self
            .made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return r.clone();
        }
        let r = guest_component(module, wit_dir, world).map(std::sync::Arc::new);
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
