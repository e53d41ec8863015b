//! WASI testsuite sessions of a command-line runtime: the guest's process kept running with
//! its streams open while the test's operations run, under the same hygiene as
//! [`supervise`](super::supervise).

use super::supervise::{Classifier, group_rss_bytes, kill_group};
use crate::error::{Error, Result};
use crate::runtime::{End, Exit, Session};
use crate::stream::Pipe;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the waiter and the watchdog of a session share.
#[derive(Default)]
struct Watch {
    /// The raw end, once the process was reaped.
    status: Option<std::process::ExitStatus>,
    /// Why the runner killed it, if it did.
    killed: Option<End>,
}

/// A testsuite guest run by a command-line runtime: the same hygiene as [`supervise`] (own
/// process group, cleared environment, the runner's deadline and memory cap, capped output
/// read continuously), with its streams open while operations run.
pub struct CommandSession {
    pid: i32,
    stdin: Option<std::process::ChildStdin>,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
    watch: Arc<(Mutex<Watch>, Condvar)>,
    deadline: Instant,
    command: Vec<String>,
    results: Classifier,
    exit: Option<Exit>,
}

impl CommandSession {
    pub(super) fn start(
        mut cmd: Command,
        env: &[(&str, &str)],
        deadline: Instant,
        rss_cap: u64,
        command: Vec<String>,
        results: Classifier,
    ) -> Result<CommandSession> {
        cmd.env_clear();
        cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.process_group(0);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(Error::io_doing("starting the runtime"))?;
        let pid = child.id() as i32;
        let stdout = Pipe::new();
        let stderr = Pipe::new();
        stdout.pump(child.stdout.take());
        stderr.pump(child.stderr.take());
        let stdin = child.stdin.take();
        if let Some(sin) = &stdin {
            use std::os::fd::AsRawFd;
            // Writes wait with poll(2) until the runner's deadline instead of blocking.
            // SAFETY: fcntl on a pipe fd we own; no memory is involved.
            #[allow(unsafe_code)]
            unsafe {
                let fd = sin.as_raw_fd();
                let flags = libc::fcntl(fd, libc::F_GETFL);
                libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        let watch = Arc::new((Mutex::new(Watch::default()), Condvar::new()));
        // The waiter blocks in wait(2), so the end is seen at once; then the group goes.
        let w = watch.clone();
        std::thread::spawn(move || {
            let status = child.wait();
            kill_group(pid);
            let (m, cv) = &*w;
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            g.status = Some(status.unwrap_or_else(|_| std::process::ExitStatus::from_raw(9)));
            cv.notify_all();
        });
        // The watchdog wakes every 50 ms for the deadline and the memory cap.
        let w = watch.clone();
        std::thread::spawn(move || {
            let (m, cv) = &*w;
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            while g.status.is_none() {
                g = cv
                    .wait_timeout(g, Duration::from_millis(50))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                if g.status.is_some() || g.killed.is_some() {
                    continue;
                }
                if Instant::now() > deadline {
                    kill_group(pid);
                    g.killed = Some(End::TimedOut);
                } else {
                    drop(g);
                    let rss = group_rss_bytes(pid).filter(|r| *r > rss_cap);
                    g = m.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(rss) = rss
                        && g.status.is_none()
                    {
                        kill_group(pid);
                        g.killed = Some(End::MemoryCap(rss));
                    }
                }
            }
        });
        Ok(CommandSession {
            pid,
            stdin,
            stdout,
            stderr,
            watch,
            deadline,
            command,
            results,
            exit: None,
        })
    }

    fn running(&self) -> bool {
        self.exit.is_none()
            && self
                .watch
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .status
                .is_none()
    }
}

impl Session for CommandSession {
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
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let Some(sin) = self.stdin.as_mut() else {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        };
        let mut rest = data;
        while !rest.is_empty() {
            match sin.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let left = self.deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(std::io::ErrorKind::TimedOut.into());
                    }
                    let mut pfd = libc::pollfd {
                        fd: sin.as_raw_fd(),
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: poll(2) on one pollfd we own, for a bounded time.
                    #[allow(unsafe_code)]
                    unsafe {
                        libc::poll(&mut pfd, 1, left.as_millis().min(1000) as i32);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn close_stdin(&mut self) {
        self.stdin = None;
    }

    fn signal(&mut self, sig: i32) -> std::io::Result<()> {
        if !self.running() {
            // Python's send_signal on a reaped process does nothing.
            return Ok(());
        }
        // SAFETY: kill(2) on the runtime's own pid (still unreaped: the waiter holds it).
        #[allow(unsafe_code)]
        let r = unsafe { libc::kill(self.pid, sig) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    fn wait(&mut self, timeout: Duration) -> Option<Exit> {
        if let Some(e) = &self.exit {
            return Some(e.clone());
        }
        let until = Instant::now() + timeout;
        let (status, killed) = {
            let (m, cv) = &*self.watch;
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            while g.status.is_none() {
                let now = Instant::now();
                if now >= until {
                    return None;
                }
                g = cv
                    .wait_timeout(g, until - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            (g.status?, g.killed.clone())
        };
        // Upstream's communicate() reads both streams to their end; the readers finish when
        // the group is gone (a process that left the group is given until the deadline).
        let grace = Instant::now() + Duration::from_secs(2);
        self.stdout
            .wait_closed(grace.min(self.deadline.max(Instant::now())));
        self.stderr
            .wait_closed(grace.min(self.deadline.max(Instant::now())));
        let returncode = status.code().or_else(|| status.signal().map(|s| -s));
        let end = match killed {
            Some(k) => k,
            None => match (status.code(), status.signal()) {
                (Some(c), _) => self
                    .results
                    .classify(End::Exited(c), &self.stderr.contents()),
                (None, Some(s)) => End::Signaled(s),
                _ => End::Signaled(0),
            },
        };
        let exit = Exit { end, returncode };
        self.exit = Some(exit.clone());
        self.stdin = None;
        Some(exit)
    }

    fn kill(&mut self) {
        if self.running() {
            kill_group(self.pid);
        }
    }
}

impl Drop for CommandSession {
    fn drop(&mut self) {
        self.stdin = None;
        if self.running() {
            kill_group(self.pid);
        }
    }
}

/// A testsuite run that ended before it started (a failed `[precompile]` step).
pub struct Ended {
    exit: Exit,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
    command: Vec<String>,
}

impl Ended {
    pub fn new(exit: Exit, out: &[u8], err: &[u8], command: Vec<String>) -> Ended {
        let (stdout, stderr) = (Pipe::new(), Pipe::new());
        stdout.feed(out);
        stdout.close();
        stderr.feed(err);
        stderr.close();
        Ended {
            exit,
            stdout,
            stderr,
            command,
        }
    }
}

impl Session for Ended {
    fn command(&self) -> &[String] {
        &self.command
    }
    fn stdout(&self) -> Arc<Pipe> {
        self.stdout.clone()
    }
    fn stderr(&self) -> Arc<Pipe> {
        self.stderr.clone()
    }
    fn write_stdin(&mut self, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
    fn close_stdin(&mut self) {}
    fn signal(&mut self, _: i32) -> std::io::Result<()> {
        Ok(())
    }
    fn wait(&mut self, _: Duration) -> Option<Exit> {
        Some(self.exit.clone())
    }
    fn kill(&mut self) {}
}
