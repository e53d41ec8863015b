//! The default runtime: wasmtime + wasmtime-wasi in process. Limits through `StoreLimits`,
//! fuel, and a deadline: guests run as futures (async wasmtime) that yield to the executor on
//! every epoch tick (a ticker thread advances the epoch every 10 ms), and the whole run is
//! wrapped in a tokio timeout, so the deadline also stops a guest sleeping inside a host call
//! (`poll_oneoff`). Read-only preopens through `FsPerms::ReadOnly`; stdout/stderr captured in
//! bounded pipes.
//!
//! This file holds the engine and a case's run; `session.rs` the WASI testsuite's guests (run
//! on a thread of their own while the operations run), `pipes.rs` their stdio.

mod pipes;
mod session;

pub use session::EmbeddedSession;

use crate::error::{Error, Result};
use crate::runtime::{
    End, Identity, Missing, OUTPUT_CAP, Prepared, RawRun, Runtime, Session, Spawn,
};
use crate::testsuite::{Needs, Proposal, WasiVersion, World};
use crate::world::WasiWorld;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, ResourceTable};
use wasmtime::{Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

const TICK: Duration = Duration::from_millis(10);
/// The engine crate this runtime embeds, recorded in reports in place of a binary digest.
pub const ENGINE: &str = "wasmtime 48.0.8";

struct Host {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

/// The host state of a component (wasm32-wasip3, or a case made a WASI 0.2 command): WASI
/// preview 2 and 3 share one context.
struct ComponentHost {
    ctx: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for ComponentHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

pub struct Embedded {
    engine: Engine,
    linker: Linker<Host>,
    /// Components (WASI testsuite wasm32-wasip3): their own engine, with the component model's
    /// async support, and a linker with WASI 0.2 and 0.3.
    components: Engine,
    component_linker: wasmtime::component::Linker<ComponentHost>,
    component_cache: Arc<Mutex<HashMap<[u8; 32], Component>>>,
    identity: Identity,
    /// Compiled modules by the SHA-256 of their bytes: a suite compiles each module once.
    cache: Arc<Mutex<HashMap<[u8; 32], Module>>>,
    _ticker: Arc<()>,
}

impl Embedded {
    pub fn new() -> Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
        config.wasm_threads(true);
        config.shared_memory(true);
        // Guest recursion ends in a clean trap well before the host thread's stack.
        config.max_wasm_stack(1 << 20);
        let engine = Engine::new(&config)?;
        let mut linker: Linker<Host> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |h: &mut Host| &mut h.wasi)?;
        let mut cconfig = Config::new();
        cconfig.consume_fuel(true);
        cconfig.epoch_interruption(true);
        cconfig.wasm_component_model_async(true);
        cconfig.max_wasm_stack(1 << 20);
        let components = Engine::new(&cconfig)?;
        let mut component_linker = wasmtime::component::Linker::new(&components);
        // The testsuite's wasip3 components import WASI 0.2 interfaces too (their stdio).
        wasmtime_wasi::p2::add_to_linker_async(&mut component_linker)?;
        wasmtime_wasi::p3::add_to_linker(&mut component_linker)?;
        // The ticker stops when the last `Arc` is dropped (the thread holds a weak ref).
        let alive = Arc::new(());
        let weak = Arc::downgrade(&alive);
        let (e, c) = (engine.clone(), components.clone());
        std::thread::Builder::new()
            .name("wasmcert-epoch".into())
            .spawn(move || {
                while weak.upgrade().is_some() {
                    std::thread::sleep(TICK);
                    e.increment_epoch();
                    c.increment_epoch();
                }
            })
            .map_err(Error::io_doing("starting the epoch ticker"))?;
        let identity = Identity {
            name: "embedded".into(),
            version: ENGINE.into(),
            binary_sha256: hex::encode(Sha256::digest(ENGINE.as_bytes())),
            adapter: "embedded".into(),
            flags: vec![
                "consume_fuel".into(),
                "epoch_interruption".into(),
                "max_wasm_stack=1MiB".into(),
            ],
        };
        Ok(Embedded {
            engine,
            linker,
            components,
            component_linker,
            component_cache: Arc::new(Mutex::new(HashMap::new())),
            identity,
            cache: Arc::new(Mutex::new(HashMap::new())),
            _ticker: alive,
        })
    }

    fn module(&self, wasm: &[u8]) -> Result<Module> {
        module(&self.engine, &self.cache, wasm)
    }

    /// A case made a WASI 0.2 command component (`certify --world p2`): the same context,
    /// limits, fuel and deadline as a module, on wasmtime-wasi's p2 host. Sockets stay as a
    /// `WasiCtxBuilder` leaves them: no address is allowed.
    fn run_component(
        &self,
        p: &Prepared<'_>,
        b: WasiCtxBuilder,
        stdout: MemoryOutputPipe,
        stderr: MemoryOutputPipe,
        limits: StoreLimits,
        start: Instant,
    ) -> Result<RawRun> {
        let mut b = b;
        let spec = &p.case.spec;
        // As the wasmtime CLI: TCP and UDP sockets can be made (its `-S tcp`, `-S udp`
        // defaults) but no address is allowed and no name looked up, unless `[run] network =
        // "inherit"` grants what its `-S inherit-network -S allow-ip-name-lookup` grant.
        b.allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(false);
        if spec.run.network.is_some() {
            b.inherit_network().allow_ip_name_lookup(true);
        }
        let done = |end: End| RawRun {
            end,
            stdout: stdout.contents().to_vec(),
            stderr: stderr.contents().to_vec(),
            duration: start.elapsed(),
            command: vec!["embedded".into(), "--world".into(), "p2".into()],
        };
        let component = match component(&self.components, &self.component_cache, p.wasm) {
            Ok(c) => c,
            Err(e) => return Ok(done(End::Refused(e.with_causes().to_string()))),
        };
        let host = ComponentHost {
            ctx: b.build(),
            table: ResourceTable::new(),
            limits,
        };
        let mut store = Store::new(&self.components, host);
        store.limiter(|h| &mut h.limits);
        store.set_fuel(spec.limits.fuel.unwrap_or(u64::MAX))?;
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .enable_io()
            .build()
            .map_err(Error::io_doing("starting the engine's executor"))?;
        let linker = &self.component_linker;
        let run = async {
            let command = match wasmtime_wasi::p2::bindings::Command::instantiate_async(
                &mut store, &component, linker,
            )
            .await
            {
                Ok(c) => c,
                Err(e) => return End::Refused(format!("{e:#}")),
            };
            match command.wasi_cli_run().call_run(&mut store).await {
                Ok(Ok(())) => End::Exited(0),
                // `wasi:cli/run` returned an error: status 1, as the wasmtime CLI exits.
                Ok(Err(())) => End::Exited(1),
                Err(e) => ended(e),
            }
        };
        let end = rt.block_on(within(p.timeout, run));
        drop(store);
        Ok(done(end))
    }
}

/// A compiled module or component from the run's cache, or compiled and cached. Not under
/// the lock, and (for components) not on a rayon worker of the runner's pool: compilation runs
/// on rayon, and a worker that waits for it picks up other cases, whose whole run would then
/// delay this one.
/// How a guest's run ended when wasmtime returned an error: `proc_exit` / `wasi:cli/exit`
/// (an exit status), or a trap.
fn ended(e: wasmtime::Error) -> End {
    match e.downcast_ref::<I32Exit>() {
        Some(I32Exit(code)) => End::Exited(*code),
        None => End::Trapped(format!("{e:#}")),
    }
}

/// Instantiate a preview1 command and run its `_start` to its end.
async fn run_start(linker: &Linker<Host>, store: &mut Store<Host>, module: &Module) -> End {
    let instance = match linker.instantiate_async(&mut *store, module).await {
        Ok(i) => i,
        Err(e) => return End::Refused(format!("{e:#}")),
    };
    let start_fn = match instance.get_typed_func::<(), ()>(&mut *store, "_start") {
        Ok(f) => f,
        Err(e) => return End::Refused(format!("{e:#}")),
    };
    match start_fn.call_async(&mut *store, ()).await {
        Ok(()) => End::Exited(0),
        Err(e) => ended(e),
    }
}

/// `run` within a case's deadline; past it, what a runtime's own timeout reports: the guest
/// was interrupted.
async fn within(timeout: Duration, run: impl std::future::Future<Output = End>) -> End {
    tokio::time::timeout(timeout, run)
        .await
        .unwrap_or_else(|_| {
            End::Trapped(format!(
                "interrupted at the {} ms deadline",
                timeout.as_millis()
            ))
        })
}

fn cached<T: Clone>(
    cache: &Mutex<HashMap<[u8; 32], T>>,
    wasm: &[u8],
    compile: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<T> {
    let key: [u8; 32] = Sha256::digest(wasm).into();
    let lock = || cache.lock().map_err(|_| Error::CachePoisoned);
    if let Some(m) = lock()?.get(&key) {
        return Ok(m.clone());
    }
    let m = compile(wasm)?;
    lock()?.insert(key, m.clone());
    Ok(m)
}

fn module(
    engine: &Engine,
    cache: &Mutex<HashMap<[u8; 32], Module>>,
    wasm: &[u8],
) -> Result<Module> {
    cached(cache, wasm, |w| Ok(Module::new(engine, w)?))
}

impl Runtime for Embedded {
    fn identity(&self) -> &Identity {
        &self.identity
    }

    fn supports(&self, feature: &str) -> bool {
        // wasmtime-wasi 48 has only FsPerms::ReadOnly / ReadWrite: no read-only files in a
        // writable directory.
        feature != "read-only-files"
    }

    fn wasi_missing(&self, n: &Needs) -> Option<Missing> {
        if n.version == WasiVersion::P2 {
            return Some(Missing {
                missing: n.version.label().into(),
                why: format!(
                    "the embedded engine ({ENGINE}) runs wasm32-wasip1 modules and wasm32-wasip3 \
                     components, not {}",
                    n.version
                ),
            });
        }
        if n.world != World::CliCommand {
            return Some(Missing {
                missing: n.world.label().into(),
                why: format!(
                    "the embedded engine runs no {} (it embeds no HTTP server: wasmtime-wasi-http \
                     is not part of it; certify it with --runtime wasmtime)",
                    n.world
                ),
            });
        }
        // Sockets: the wasip3 `inherit-network` the wasmtime CLI's `-Sp3,inherit-network`
        // gives. No HTTP: wasmtime-wasi-http is not embedded.
        let supported = |p: &Proposal| n.version == WasiVersion::P3 && *p == Proposal::Sockets;
        if let Some(p) = n.proposals.iter().find(|p| !supported(p)) {
            return Some(Missing {
                missing: format!("proposal:{p}"),
                why: match p {
                    Proposal::Http => {
                        "the embedded engine has no wasi:http (wasmtime-wasi-http is not \
                                       part of it; certify it with --runtime wasmtime)"
                            .into()
                    }
                    _ => format!(
                        "the embedded engine enables the {p} proposal for wasm32-wasip3 only"
                    ),
                },
            });
        }
        None
    }

    fn spawn(&self, s: &Spawn<'_>) -> Result<Box<dyn Session>> {
        EmbeddedSession::start(self, s).map(|e| Box::new(e) as Box<dyn Session>)
    }

    fn worlds(&self) -> &[WasiWorld] {
        &[WasiWorld::P1, WasiWorld::P2]
    }

    fn run(&self, p: &Prepared<'_>) -> Result<RawRun> {
        let start = Instant::now();
        let spec = &p.case.spec;
        let (mut b, stdout, stderr, limits) = case_context(p)?;
        if p.world == WasiWorld::P2 {
            return self.run_component(p, b, stdout, stderr, limits, start);
        }
        let host = Host {
            wasi: b.build_p1(),
            limits,
        };
        let mut store = Store::new(&self.engine, host);
        store.limiter(|h| &mut h.limits);
        store.set_fuel(spec.limits.fuel.unwrap_or(u64::MAX))?;
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);

        let module = match self.module(p.wasm) {
            Ok(m) => m,
            Err(e) => {
                return Ok(RawRun {
                    end: End::Refused(e.with_causes().to_string()),
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                    duration: start.elapsed(),
                    command: vec!["embedded".into()],
                });
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(Error::io_doing("starting the engine's executor"))?;
        let linker = &self.linker;
        let end = rt.block_on(within(p.timeout, run_start(linker, &mut store, &module)));
        drop(store);
        Ok(RawRun {
            end,
            stdout: stdout.contents().to_vec(),
            stderr: stderr.contents().to_vec(),
            duration: start.elapsed(),
            command: vec!["embedded".into()],
        })
    }
}

/// The WASI context of a case (arguments, variables, stdin, captured stdout and stderr,
/// preopens with their permissions) and its store limits: the same for a module and a component.
fn case_context(
    p: &Prepared<'_>,
) -> Result<(
    WasiCtxBuilder,
    MemoryOutputPipe,
    MemoryOutputPipe,
    StoreLimits,
)> {
    let spec = &p.case.spec;
    let stdout = MemoryOutputPipe::new(OUTPUT_CAP);
    let stderr = MemoryOutputPipe::new(OUTPUT_CAP);
    let mut b = WasiCtxBuilder::new();
    let mut argv = vec!["module.wasm".to_string()];
    argv.extend(p.args());
    b.args(&argv);
    for (k, v) in &spec.run.env {
        b.env(k, v);
    }
    b.stdin(MemoryInputPipe::new(
        spec.run.stdin.clone().unwrap_or_default().into_bytes(),
    ));
    b.stdout(stdout.clone());
    b.stderr(stderr.clone());
    for d in &spec.run.dirs {
        let perms = if d.read_only() {
            FsPerms::ReadOnly
        } else {
            FsPerms::ReadWrite
        };
        b.preopened_dir(p.work.join(&d.host), &d.guest, perms)?;
    }
    let mut limits = StoreLimitsBuilder::new();
    if let Some(m) = spec.limits.memory_bytes {
        limits = limits.memory_size(usize::try_from(m).unwrap_or(usize::MAX));
    }
    if let Some(t) = spec.limits.table_elements {
        limits = limits.table_elements(usize::try_from(t).unwrap_or(usize::MAX));
    }
    Ok((b, stdout, stderr, limits.build()))
}

fn component(
    engine: &Engine,
    cache: &Mutex<HashMap<[u8; 32], Component>>,
    wasm: &[u8],
) -> Result<Component> {
    cached(cache, wasm, |w| Ok(Component::new(engine, w)?))
}
