//! Running one WASI testsuite test as upstream's `TestCaseRunner` does: the operations in
//! order, stopping at the first failure, then cleanup (a guest still running is killed,
//! servers and sockets closed). Judged like every wasmcert case: escape evidence first (the
//! work dir's secrets and host-state snapshot surround the test's fresh fixture copy), then
//! what the operations found.
//!
//! Timeouts are upstream's where it has them (`wait`: the adapter's, 5 s by default;
//! `request`: 5 s to connect and per read) and the runner's deadline
//! ([`TEST_DEADLINE_MS`](super::TEST_DEADLINE_MS)) where it has none (`read`, `connect`,
//! `recv`, the service's first line). Nothing sleeps: every wait is on a line, a byte count,
//! a port or the process's end.

use super::http::{self, Servers};
use super::{Fixture, Op, RequestOp, TEST_DEADLINE_MS, Test};
use crate::case::Case;
use crate::runner::{head, redact};
use crate::runtime::{End, Exit, Runtime, Session, Spawn};
use crate::stream::Pipe;
use crate::workdir::{ModuleFile, WorkDir};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmcert_report::conformance::{Evidence, Outcome};

/// How long cleanup waits for a killed guest (upstream: 5 s).
const KILL_WAIT: Duration = Duration::from_secs(5);
/// A failure message quotes at most this much output.
const QUOTE: usize = 200;

/// Why a test did not pass, most specific first.
#[derive(Debug, Clone)]
enum Failure {
    Fail(String),
    Timeout,
    Crashed(i32),
    Error(String),
}

struct Driver<'a> {
    rt: &'a dyn Runtime,
    test: &'a Test,
    work: &'a WorkDir,
    module: PathBuf,
    deadline: Instant,
    /// The fresh fixture copy of each `root`, by its name in the spec.
    roots: BTreeMap<String, PathBuf>,
    session: Option<Box<dyn Session>>,
    /// Every run's streams, for the oracle and the evidence.
    outputs: Vec<(Arc<Pipe>, Arc<Pipe>)>,
    sockets: BTreeMap<String, TcpStream>,
    servers: Option<Servers>,
    service: Option<String>,
    signals_sent: Vec<i32>,
    last_exit: Option<Exit>,
    failure: Option<Failure>,
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(QUOTE).collect();
    if s.chars().count() > QUOTE {
        out.push('…');
    }
    out
}

/// Run `test` (the testsuite half of `case`) on `rt`.
pub fn execute(case: &Case, test: &Test, rt: &dyn Runtime) -> (Outcome, Evidence) {
    let needs = test.spec.needs(test.version);
    if let Some(m) = rt.wasi_missing(&needs) {
        return (
            Outcome::NotSupported {
                why: m.why,
                missing: Some(m.missing),
            },
            Evidence::default(),
        );
    }
    let start = Instant::now();
    let error = |why: String| (Outcome::Error { why }, Evidence::default());
    // The module keeps the test's name (guests see it as argv[0]; `cli-env` checks it) and is
    // read where it is, through a link: upstream hands the runtime the suite's file.
    let work = match WorkDir::with_module(&case.spec, ModuleFile::Link(&test.module), &test.name) {
        Ok(w) => w,
        Err(e) => return error(format!("setting up the work dir: {}", e.with_causes())),
    };
    let mut roots = BTreeMap::new();
    for (i, (rel, fixture)) in test.fixtures.iter().enumerate() {
        let at = format!("sandbox/{i}/{rel}");
        let planted = match &**fixture {
            Fixture::Dir(entries) => work.plant_fixture(&at, entries),
            Fixture::Missing => Ok(work.path().join(&at)),
        };
        match planted {
            Ok(p) => roots.insert(rel.clone(), p),
            Err(e) => {
                return error(format!("copying the fixture {rel}: {}", e.with_causes()));
            }
        };
    }
    let mut d = Driver {
        rt,
        test,
        work: &work,
        module: work.module_path(),
        deadline: start + Duration::from_millis(TEST_DEADLINE_MS),
        roots,
        session: None,
        outputs: Vec::new(),
        sockets: BTreeMap::new(),
        servers: None,
        service: None,
        signals_sent: Vec::new(),
        last_exit: None,
        failure: None,
    };
    for (i, op) in test.spec.operations.iter().enumerate() {
        if d.failure.is_some() {
            break;
        }
        if let Err(f) = d.apply(op) {
            d.failure = Some(match f {
                Failure::Fail(why) => {
                    Failure::Fail(format!("operation {i} ({}): {why}", op.name()))
                }
                Failure::Error(why) => {
                    Failure::Error(format!("operation {i} ({}): {why}", op.name()))
                }
                other => other,
            });
        }
    }
    d.cleanup();
    let judged = d.judge();
    let evidence = d.evidence(start.elapsed());
    (judged, evidence)
}

impl Driver<'_> {
    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn session(&mut self) -> Result<&mut Box<dyn Session>, Failure> {
        self.session
            .as_mut()
            .ok_or_else(|| Failure::Error("no guest is running".into()))
    }

    fn pipe(&self, id: &str) -> Result<Arc<Pipe>, Failure> {
        let s = self
            .session
            .as_ref()
            .ok_or_else(|| Failure::Error("no guest is running".into()))?;
        match id {
            "stdout" => Ok(s.stdout()),
            "stderr" => Ok(s.stderr()),
            other => Err(Failure::Error(format!("no such stream: {other}"))),
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), Failure> {
        match op {
            Op::Run(r) => {
                let root = match &r.root {
                    Some(rel) => {
                        let p = self.roots.get(rel).cloned().ok_or_else(|| {
                            Failure::Error(format!("the fixture {rel} was not copied"))
                        })?;
                        remove_cleanup(&p);
                        Some(p)
                    }
                    None => None,
                };
                if self.servers.is_none() && !self.test.spec.servers.is_empty() {
                    self.servers = Some(Servers::start(&self.test.spec.servers).map_err(|e| {
                        Failure::Error(format!("starting the endpoint servers: {e}"))
                    })?);
                }
                // The spec's variables, then the servers' addresses (a name already there keeps
                // its place and takes the address, as a Python dict update does).
                let mut env = r.env.clone();
                for (k, v) in self.servers.iter().flat_map(|s| s.env.iter()) {
                    match env.iter_mut().find(|(n, _)| n == k) {
                        Some(e) => e.1 = v.clone(),
                        None => env.push((k.clone(), v.clone())),
                    }
                }
                if r.args
                    .iter()
                    .chain(env.iter().flat_map(|(k, v)| [k, v]))
                    .any(|a| a.contains('\0'))
                {
                    return Err(Failure::Fail(
                        "failed to start process: an argument or variable holds a NUL byte".into(),
                    ));
                }
                let spawn = Spawn {
                    work: self.work.path(),
                    module: &self.module,
                    version: self.test.version,
                    world: self.test.spec.world,
                    proposals: &self.test.spec.proposals,
                    args: &r.args,
                    env: &env,
                    root: root.as_deref(),
                    debug: self.test.spec.debug,
                    env_secret: &self.work.env_secret,
                    // The runtime outlives the driver's own deadline by a second, so a read
                    // that waited for it times out before the kill closes the stream.
                    deadline: self.deadline + Duration::from_secs(1),
                };
                let s = self
                    .rt
                    .spawn(&spawn)
                    .map_err(|e| Failure::Error(e.with_causes().to_string()))?;
                self.outputs.push((s.stdout(), s.stderr()));
                self.session = Some(s);
                Ok(())
            }
            Op::Read { id, payload } => {
                let pipe = self.pipe(id)?;
                let t = pipe.read_chars(payload.chars().count(), self.deadline);
                if t.timed_out {
                    return Err(Failure::Timeout);
                }
                if t.invalid_utf8 {
                    return Err(Failure::Fail(format!(
                        "{id} is not valid UTF-8: {:?}",
                        clip(&t.text)
                    )));
                }
                if t.text != *payload {
                    return Err(Failure::Fail(format!(
                        "expected {:?} on {id}, got {:?}{}",
                        clip(payload),
                        clip(&t.text),
                        rest(&pipe)
                    )));
                }
                Ok(())
            }
            Op::Write { payload, .. } => self
                .session()?
                .write_stdin(payload.as_bytes())
                .map_err(|e| Failure::Fail(format!("writing to stdin: {e}"))),
            Op::Wait { exit_code } => {
                let timeout = self.rt.wasi_wait_timeout().min(self.left());
                let s = self.session()?;
                s.close_stdin();
                let Some(exit) = s.wait(timeout) else {
                    return Err(Failure::Timeout);
                };
                let (out, err) = (s.stdout(), s.stderr());
                self.session = None;
                self.last_exit = Some(exit.clone());
                if exit.returncode.is_some_and(|c| i64::from(c) == *exit_code) {
                    return Ok(());
                }
                Err(match exit.end {
                    End::TimedOut => Failure::Timeout,
                    End::Signaled(sig) if !self.signals_sent.contains(&sig) => {
                        Failure::Crashed(sig)
                    }
                    end => Failure::Fail(format!(
                        "expected exit code {exit_code}, but {}{}{}",
                        describe(&end, exit.returncode),
                        rest(&out),
                        rest(&err)
                    )),
                })
            }
            Op::Connect { id } => {
                let line = self.pipe("stdout")?.read_line(self.deadline);
                if line.timed_out {
                    return Err(Failure::Timeout);
                }
                let line = line.text.trim().to_string();
                let bad = || {
                    Failure::Fail(format!(
                        "expected the guest's address as <host>:<port> on stdout, found {:?}",
                        clip(&line)
                    ))
                };
                let parts: Vec<&str> = line.split(':').collect();
                let [host, port] = parts[..] else {
                    return Err(bad());
                };
                if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let port: u16 = port.parse().map_err(|_| bad())?;
                let ip: Ipv4Addr = match host {
                    "localhost" => Ipv4Addr::LOCALHOST,
                    h => h.parse().map_err(|_| {
                        Failure::Fail(format!(
                            "could not connect to {line}: only IPv4 addresses and localhost are connected to"
                        ))
                    })?,
                };
                let addr = SocketAddr::V4(SocketAddrV4::new(ip, port));
                let sock =
                    TcpStream::connect_timeout(&addr, self.left().max(Duration::from_millis(1)))
                        .map_err(|e| Failure::Fail(format!("could not connect to {line}: {e}")))?;
                self.sockets.insert(id.clone(), sock);
                Ok(())
            }
            Op::Send { id, payload } => {
                let left = self.left().max(Duration::from_millis(1));
                let sock = self
                    .sockets
                    .get_mut(id)
                    .ok_or_else(|| Failure::Error(format!("no socket {id}")))?;
                let _ = sock.set_write_timeout(Some(left));
                sock.write_all(payload.as_bytes())
                    .map_err(|e| Failure::Fail(format!("failed to send data: {e}")))
            }
            Op::Recv { id, payload } => {
                let left = self.left().max(Duration::from_millis(1));
                let sock = self
                    .sockets
                    .get_mut(id)
                    .ok_or_else(|| Failure::Error(format!("no socket {id}")))?;
                let _ = sock.set_read_timeout(Some(left));
                // One recv(2) of the payload's length, as upstream: a short read is a mismatch.
                let mut buf = vec![0u8; payload.len()];
                let n = match sock.read(&mut buf) {
                    Ok(n) => n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        return Err(Failure::Timeout);
                    }
                    Err(e) => return Err(Failure::Fail(format!("failed to receive data: {e}"))),
                };
                let got = std::str::from_utf8(&buf[..n])
                    .map_err(|e| Failure::Fail(format!("failed to decode the data: {e}")))?;
                if got != payload {
                    return Err(Failure::Fail(format!(
                        "expected {:?}, got {:?}",
                        clip(payload),
                        clip(got)
                    )));
                }
                Ok(())
            }
            Op::Request(req) => self.request(req),
            Op::Kill { signal } => {
                self.signals_sent.push(signal.number);
                self.session()?
                    .signal(signal.number)
                    .map_err(|e| Failure::Fail(format!("failed to send {}: {e}", signal.name)))
            }
        }
    }

    fn request(&mut self, req: &RequestOp) -> Result<(), Failure> {
        if self.service.is_none() {
            // The service's URL: the first line of stderr, from `http://` to the next space.
            let line = self.pipe("stderr")?.read_line(self.deadline);
            if line.timed_out {
                return Err(Failure::Timeout);
            }
            let text = line.text.trim();
            let Some(at) = text.find("http://") else {
                return Err(Failure::Fail(format!(
                    "expected 'http://' in the first line of stderr, got {:?}",
                    clip(text)
                )));
            };
            self.service = text[at..].split_whitespace().next().map(str::to_string);
        }
        let base = self.service.clone().unwrap_or_default();
        let what = format!("{} {}", req.method, req.path);
        let r = http::request(&base, req, self.deadline)
            .map_err(|e| Failure::Fail(format!("{what}: failed to make the request: {e}")))?;
        let want = &req.response;
        if i64::from(r.status) != want.status {
            return Err(Failure::Fail(format!(
                "{what}: expected status {}, got {} (body {:?})",
                want.status,
                r.status,
                clip(&r.text)
            )));
        }
        for (k, v) in &want.headers {
            match r.header(k) {
                None => {
                    return Err(Failure::Fail(format!(
                        "{what}: the response has no header {k}"
                    )));
                }
                Some(got) if got != v => {
                    return Err(Failure::Fail(format!(
                        "{what}: expected the header {k}: {v:?}, got {:?}",
                        clip(got)
                    )));
                }
                Some(_) => {}
            }
        }
        if r.text != want.body {
            return Err(Failure::Fail(format!(
                "{what}: expected the body {:?}, got {:?}",
                clip(&want.body),
                clip(&r.text)
            )));
        }
        Ok(())
    }

    /// Upstream's cleanup: a guest still running (only after a failure) is killed and waited
    /// for; servers and sockets close.
    fn cleanup(&mut self) {
        if let Some(mut s) = self.session.take() {
            s.kill();
            let exit = s.wait(KILL_WAIT);
            if self.failure.is_none() {
                self.failure = Some(Failure::Fail(
                    "the guest was still running at the end".into(),
                ));
            }
            if let Some(e) = exit {
                // Only the runner's own kill at the deadline says more than the failure.
                if matches!(e.end, End::TimedOut) && !matches!(self.failure, Some(Failure::Timeout))
                {
                    self.failure = Some(Failure::Timeout);
                }
                self.last_exit.get_or_insert(e);
            }
        }
        self.servers = None;
        self.sockets.clear();
    }

    fn judge(&self) -> Outcome {
        let (out, err) = self.output();
        if let Some(why) = self.work.evidence(&out, &err) {
            return Outcome::Escaped { why };
        }
        match &self.failure {
            None => Outcome::Pass,
            Some(Failure::Timeout) => Outcome::Timeout,
            Some(Failure::Crashed(signal)) => Outcome::Crashed { signal: *signal },
            Some(Failure::Fail(why)) => {
                if let Some(Exit {
                    end: End::MemoryCap(rss),
                    ..
                }) = &self.last_exit
                {
                    return Outcome::Fail {
                        why: format!(
                            "the runtime used {rss} bytes of resident memory, past the runner's cap"
                        ),
                    };
                }
                Outcome::Fail {
                    why: redact(self.work, why),
                }
            }
            Some(Failure::Error(why)) => Outcome::Error {
                why: redact(self.work, why),
            },
        }
    }

    /// Every run's output, concatenated.
    fn output(&self) -> (Vec<u8>, Vec<u8>) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        for (o, e) in &self.outputs {
            out.extend(o.contents());
            err.extend(e.contents());
        }
        (out, err)
    }

    fn evidence(&self, took: Duration) -> Evidence {
        let (out, err) = self.output();
        let end = self.last_exit.as_ref().map(|e| &e.end);
        Evidence {
            exit_code: match end {
                Some(End::Exited(c)) => Some(*c),
                _ => None,
            },
            signal: match end {
                Some(End::Signaled(s)) => Some(*s),
                _ => None,
            },
            trap: match end {
                Some(End::Trapped(t) | End::Refused(t)) => {
                    Some(redact(self.work, &t.chars().take(512).collect::<String>()))
                }
                _ => None,
            },
            stdout_head: redact(self.work, &head(&out)),
            stderr_head: redact(self.work, &head(&err)),
            duration_ms: took.as_millis() as u64,
        }
    }
}

fn describe(end: &End, returncode: Option<i32>) -> String {
    match end {
        End::Exited(c) => format!("the guest exited with {c}"),
        End::Trapped(t) => match returncode {
            Some(c) => format!("the guest trapped (exit status {c}): {t}"),
            None => format!("the guest trapped: {t}"),
        },
        End::Refused(t) => match returncode {
            Some(c) => format!("the module was refused (exit status {c}): {t}"),
            None => format!("the module was refused: {t}"),
        },
        End::Signaled(s) => format!("the runtime died on signal {s}, sent by a `kill` operation"),
        End::TimedOut => "the runner's deadline passed".into(),
        End::MemoryCap(rss) => format!("the runtime used {rss} bytes of resident memory"),
    }
}

/// What a stream holds past what was read, for a failure message.
fn rest(p: &Pipe) -> String {
    let r = p.rest();
    if r.is_empty() {
        String::new()
    } else {
        format!(" (then {:?})", clip(&r))
    }
}

/// Upstream's `_cleanup_test_output`: every `*.cleanup` file or directory below `root` goes
/// (symlinks stay, and the walk does not follow them).
fn remove_cleanup(root: &std::path::Path) {
    let mut stack = vec![root.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            seen += 1;
            if seen > 100_000 {
                return;
            }
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                continue;
            }
            let name = e.file_name();
            let doomed = name.to_string_lossy().ends_with(".cleanup");
            if ft.is_dir() {
                if doomed {
                    let _ = std::fs::remove_dir_all(e.path());
                } else {
                    stack.push(e.path());
                }
            } else if doomed {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
