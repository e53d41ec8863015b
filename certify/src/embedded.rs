//! The default runtime: wasmtime + wasmtime-wasi in process. Limits through `StoreLimits`,
//! fuel, and a deadline: guests run as futures (async wasmtime) that yield to the executor on
//! every epoch tick (a ticker thread advances the epoch every 10 ms), and the whole run is
//! wrapped in a tokio timeout, so the deadline also stops a guest sleeping inside a host call
//! (`poll_oneoff`). Read-only preopens through `FsPerms::ReadOnly`; stdout/stderr captured in
//! bounded pipes.

use crate::runtime::{End, Identity, OUTPUT_CAP, Prepared, RawRun, Runtime};
use anyhow::Result;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

const TICK: Duration = Duration::from_millis(10);
/// The engine crate this runtime embeds, recorded in reports in place of a binary digest.
pub const ENGINE: &str = "wasmtime 48.0.8";

struct Host {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

pub struct Embedded {
    engine: Engine,
    linker: Linker<Host>,
    identity: Identity,
    /// Compiled modules by the SHA-256 of their bytes: a suite compiles each module once.
    cache: Mutex<HashMap<[u8; 32], Module>>,
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
        // The ticker stops when the last `Arc` is dropped (the thread holds a weak ref).
        let alive = Arc::new(());
        let weak = Arc::downgrade(&alive);
        let e = engine.clone();
        std::thread::Builder::new()
            .name("wasmcert-epoch".into())
            .spawn(move || {
                while weak.upgrade().is_some() {
                    std::thread::sleep(TICK);
                    e.increment_epoch();
                }
            })?;
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
            identity,
            cache: Mutex::new(HashMap::new()),
            _ticker: alive,
        })
    }

    fn module(&self, wasm: &[u8]) -> Result<Module> {
        let key: [u8; 32] = Sha256::digest(wasm).into();
        if let Some(m) = self
            .cache
            .lock()
            .map_err(|_| anyhow::anyhow!("module cache poisoned"))?
            .get(&key)
        {
            return Ok(m.clone());
        }
        let m = Module::new(&self.engine, wasm)?;
        self.cache
            .lock()
            .map_err(|_| anyhow::anyhow!("module cache poisoned"))?
            .insert(key, m.clone());
        Ok(m)
    }
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

    fn run(&self, p: &Prepared<'_>) -> Result<RawRun> {
        let start = Instant::now();
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
        let host = Host {
            wasi: b.build_p1(),
            limits: limits.build(),
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
                    end: End::Refused(format!("{e:#}")),
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                    duration: start.elapsed(),
                    command: vec!["embedded".into()],
                });
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let linker = &self.linker;
        let run = async {
            let instance = match linker.instantiate_async(&mut store, &module).await {
                Ok(i) => i,
                Err(e) => return End::Refused(format!("{e:#}")),
            };
            let start_fn = match instance.get_typed_func::<(), ()>(&mut store, "_start") {
                Ok(f) => f,
                Err(e) => return End::Refused(format!("{e:#}")),
            };
            match start_fn.call_async(&mut store, ()).await {
                Ok(()) => End::Exited(0),
                Err(e) => match e.downcast_ref::<I32Exit>() {
                    Some(I32Exit(code)) => End::Exited(*code),
                    None => End::Trapped(format!("{e:#}")),
                },
            }
        };
        let end = rt.block_on(async {
            match tokio::time::timeout(p.timeout, run).await {
                Ok(end) => end,
                // The same thing a runtime's own timeout reports: the guest was interrupted.
                Err(_) => End::Trapped(format!(
                    "interrupted at the {} ms deadline",
                    p.timeout.as_millis()
                )),
            }
        });
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
