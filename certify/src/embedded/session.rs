//! A guest of the WASI testsuite on the embedded engine: a wasip1 module or a wasip3
//! component run on a thread of its own, its streams open while the test's operations run,
//! stopped by a signal as if its process had died of it.

use super::pipes::{InPipe, OutPipe};
use super::{ComponentHost, Embedded, Host, component, ended, module, run_start};
use crate::error::{Error, Result};
use crate::runtime::{End, Exit, Session, Spawn};
use crate::stream::Pipe;
use crate::testsuite::{Proposal, WasiVersion};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, ResourceTable};
use wasmtime::{Engine, Linker, Module, Store, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// A signal sent to an embedded guest: it stops at its next yield (every epoch tick, or when
/// a host call it waits in is woken).
#[derive(Default)]
struct Stop {
    signal: AtomicI32,
    waker: Mutex<Option<Waker>>,
}

/// A wasip1 guest of the WASI testsuite on the embedded engine: it runs on a thread of its
/// own; stdin is fed by `write` operations and closed at `wait`, stdout and stderr stream
/// into the runner while it runs. A signal ends it as if the process had died of it.
pub struct EmbeddedSession {
    stdin: InPipe,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
    stop: Arc<Stop>,
    done: std::sync::mpsc::Receiver<End>,
    exit: Option<Exit>,
    command: Vec<String>,
}

impl EmbeddedSession {
    pub(super) fn start(engine: &Embedded, s: &Spawn<'_>) -> Result<EmbeddedSession> {
        let stdin = InPipe::default();
        let stdout = Pipe::new();
        let stderr = Pipe::new();
        let stop = Arc::new(Stop::default());
        let (tx, done) = std::sync::mpsc::channel();
        let mut command = vec!["embedded".to_string()];
        if let Some(r) = s.root {
            command.push(format!("--dir {}::/", r.display()));
        }
        command.extend(s.env.iter().map(|(k, v)| format!("--env {k}={v}")));
        command.push(s.module.display().to_string());
        command.extend(s.args.iter().cloned());
        // Compiled on the guest's thread (see `component`), which also reads the module.
        let path = s.module.to_path_buf();
        let p3 = s.version == WasiVersion::P3;
        let network = s.proposals.contains(&Proposal::Sockets);
        let (ceng, clink, ccache) = (
            engine.components.clone(),
            engine.component_linker.clone(),
            engine.component_cache.clone(),
        );
        let (meng, mlink, mcache) = (
            engine.engine.clone(),
            engine.linker.clone(),
            engine.cache.clone(),
        );
        let program = move || -> Result<Program> {
            let wasm = crate::case::read_module(&path)?;
            Ok(if p3 {
                Program::Component(
                    ceng.clone(),
                    clink,
                    component(&ceng, &ccache, &wasm)?,
                    network,
                )
            } else {
                Program::Module(meng.clone(), mlink, module(&meng, &mcache, &wasm)?)
            })
        };
        // argv[0] is the module's file name, as the wasmtime CLI gives it.
        let name = s
            .module
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut argv = vec![name];
        argv.extend(s.args.iter().cloned());
        let io = GuestIo {
            argv,
            env: s.env.to_vec(),
            root: s.root.map(|r| r.to_path_buf()),
            stdin: stdin.clone(),
            stdout: stdout.clone(),
            stderr: stderr.clone(),
        };
        let deadline = s.deadline;
        let (o, e, st) = (stdout.clone(), stderr.clone(), stop.clone());
        // The run starts once the module is compiled, as a CLI's with a warm compile cache: a
        // `wait`'s timeout is the guest's time, not the compiler's.
        let (compiled, ready) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("wasmcert-guest".into())
            .spawn(move || {
                let program = program();
                let _ = compiled.send(());
                let end = match program {
                    Ok(p) => guest(p, io, deadline, &st),
                    Err(err) => End::Refused(err.with_causes().to_string()),
                };
                o.close();
                e.close();
                let _ = tx.send(end);
            })
            .map_err(Error::io_doing("starting the guest's thread"))?;
        let _ = ready.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        Ok(EmbeddedSession {
            stdin,
            stdout,
            stderr,
            stop,
            done,
            exit: None,
            command,
        })
    }
}

/// What an embedded testsuite guest runs: a core module (wasm32-wasip1) or a component
/// (wasm32-wasip3, with the network when the test asks for sockets).
enum Program {
    Module(Engine, Linker<Host>, Module),
    Component(
        Engine,
        wasmtime::component::Linker<ComponentHost>,
        Component,
        bool,
    ),
}

/// What a guest sees of the outside: arguments, variables, its root, its stdio.
struct GuestIo {
    argv: Vec<String>,
    env: Vec<(String, String)>,
    root: Option<std::path::PathBuf>,
    stdin: InPipe,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
}

/// `run`, until it ends, a signal stops it, or `left` runs out.
async fn until_stopped(
    run: impl std::future::Future<Output = End>,
    stop: &Stop,
    left: Duration,
) -> End {
    let mut run = std::pin::pin!(run);
    let stopped = std::future::poll_fn(|cx| {
        if let Poll::Ready(end) = run.as_mut().poll(cx) {
            return Poll::Ready(end);
        }
        *stop.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        match stop.signal.load(Ordering::SeqCst) {
            0 => Poll::Pending,
            sig => Poll::Ready(End::Signaled(sig)),
        }
    });
    tokio::time::timeout(left, stopped)
        .await
        .unwrap_or(End::TimedOut)
}

/// Run the guest to its end on this thread.
fn guest(program: Program, io: GuestIo, deadline: Instant, stop: &Arc<Stop>) -> End {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return End::Refused(format!("starting the engine's executor: {e}")),
    };
    // The stdio adapters start tasks of their own: build them inside the executor.
    let _enter = rt.enter();
    let mut b = WasiCtxBuilder::new();
    b.args(&io.argv);
    for (k, v) in &io.env {
        b.env(k, v);
    }
    b.stdin(io.stdin);
    b.stdout(OutPipe(io.stdout.clone()));
    b.stderr(OutPipe(io.stderr.clone()));
    if let Some(r) = &io.root
        && let Err(e) = b.preopened_dir(r, "/", FsPerms::ReadWrite)
    {
        return End::Refused(format!("preopening {} as /: {e:#}", r.display()));
    }
    let left = deadline.saturating_duration_since(Instant::now());
    match program {
        Program::Module(engine, linker, module) => {
            let host = Host {
                wasi: b.build_p1(),
                limits: StoreLimitsBuilder::new().build(),
            };
            let mut store = Store::new(&engine, host);
            store.limiter(|h| &mut h.limits);
            if let Err(e) = store.set_fuel(u64::MAX) {
                return End::Refused(format!("{e:#}"));
            }
            store.set_epoch_deadline(1);
            store.epoch_deadline_async_yield_and_update(1);
            rt.block_on(until_stopped(
                run_start(&linker, &mut store, &module),
                stop,
                left,
            ))
        }
        Program::Component(engine, linker, component, network) => {
            // As the wasmtime CLI: TCP and UDP on (its `-Stcp` and `-Sudp` defaults), name
            // lookups off, and addresses only with `inherit-network` (the sockets proposal).
            b.allow_tcp(true)
                .allow_udp(true)
                .allow_ip_name_lookup(false);
            if network {
                b.inherit_network();
            }
            let host = ComponentHost {
                ctx: b.build(),
                table: ResourceTable::new(),
                limits: StoreLimitsBuilder::new().build(),
            };
            let mut store = Store::new(&engine, host);
            store.limiter(|h| &mut h.limits);
            if let Err(e) = store.set_fuel(u64::MAX) {
                return End::Refused(format!("{e:#}"));
            }
            store.set_epoch_deadline(1);
            store.epoch_deadline_async_yield_and_update(1);
            let run = async {
                let command = match wasmtime_wasi::p3::bindings::Command::instantiate_async(
                    &mut store, &component, &linker,
                )
                .await
                {
                    Ok(c) => c,
                    Err(e) => return End::Refused(format!("{e:#}")),
                };
                let result = store
                    .run_concurrent(async move |store| command.wasi_cli_run().call_run(store).await)
                    .await;
                match result {
                    Ok(Ok(Ok(()))) => End::Exited(0),
                    // `wasi:cli/run` returned an error: status 1, as the CLI exits.
                    Ok(Ok(Err(()))) => End::Exited(1),
                    Ok(Err(e)) | Err(e) => ended(e),
                }
            };
            rt.block_on(until_stopped(run, stop, left))
        }
    }
}

impl Session for EmbeddedSession {
    fn command(&self) -> &[String] {
        &self.command
    }

    fn stdout(&self) -> Arc<Pipe> {
        self.stdout.clone()
    }

    fn stderr(&self) -> Arc<Pipe> {
        self.stderr.clone()
    }

    fn write_stdin(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.stdin.lock().closed {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        self.stdin.push(data, false);
        Ok(())
    }

    fn close_stdin(&mut self) {
        self.stdin.push(&[], true);
    }

    fn signal(&mut self, sig: i32) -> std::io::Result<()> {
        if self.exit.is_none() {
            self.stop.signal.store(sig, Ordering::SeqCst);
            if let Some(w) = self
                .stop
                .waker
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                w.wake();
            }
        }
        Ok(())
    }

    fn wait(&mut self, timeout: Duration) -> Option<Exit> {
        if self.exit.is_none() {
            let end = match self.done.recv_timeout(timeout) {
                Ok(end) => end,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return None,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    End::Trapped("the embedded engine panicked (a bug on the host side)".into())
                }
            };
            let returncode = match &end {
                End::Exited(c) => Some(*c),
                End::Signaled(s) => Some(-*s),
                _ => None,
            };
            self.stdin.push(&[], true);
            self.exit = Some(Exit { end, returncode });
        }
        self.exit.clone()
    }

    fn kill(&mut self) {
        let _ = self.signal(libc::SIGKILL);
    }
}

impl Drop for EmbeddedSession {
    fn drop(&mut self) {
        self.close_stdin();
        self.kill();
    }
}
