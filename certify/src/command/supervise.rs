//! Process hygiene for every run of a command-line runtime: own process group, wall-clock
//! kill of the whole group, a resident-memory cap, capped output, stdin from the case (or
//! empty), environment cleared to `PATH` plus what the caller passes.

use crate::error::{Error, Result};
use crate::runtime::{End, OUTPUT_CAP};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Resident memory a runtime may use before the runner kills it. Real runtimes reach 6-8 GiB
/// in seconds on some limits cases; the cap keeps a 2-core CI machine alive.
pub const RSS_CAP: u64 = 2 << 30;

/// Run `cmd` in its own process group with a wall-clock deadline, an RSS cap and capped
/// output; kill the whole group at the end so nothing is left behind.
pub fn supervise(
    mut cmd: Command,
    stdin: Option<Vec<u8>>,
    deadline: Duration,
    env: &[(&str, &str)],
    rss_cap: u64,
) -> Result<(End, Vec<u8>, Vec<u8>)> {
    cmd.env_clear();
    cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.process_group(0);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd
        .spawn()
        .map_err(Error::io_doing("starting the runtime"))?;
    let pid = child.id() as i32;
    if let (Some(data), Some(mut sin)) = (stdin, child.stdin.take()) {
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = sin.write_all(&data);
        });
    }
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let start = Instant::now();
    // A waiter thread blocks in wait(2) so the exit is seen at once; this thread wakes every
    // 50 ms to enforce the deadline and the memory cap (killing the group ends the wait).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let mut killed: Option<End> = None;
    let end = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(status) => {
                let status = status.map_err(Error::io_doing("waiting for the runtime"))?;
                if let Some(k) = killed {
                    break k;
                }
                break match (status.code(), status.signal()) {
                    (Some(c), _) => End::Exited(c),
                    (None, Some(s)) => End::Signaled(s),
                    _ => End::Signaled(0),
                };
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break End::Signaled(0),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if killed.is_some() {
            continue;
        }
        if start.elapsed() > deadline {
            kill_group(pid);
            killed = Some(End::TimedOut);
        } else if let Some(rss) = group_rss_bytes(pid)
            && rss > rss_cap
        {
            kill_group(pid);
            killed = Some(End::MemoryCap(rss));
        }
    };
    // Grandchildren (a launcher's runtime, a shell's jobs) go with the group.
    kill_group(pid);
    // A process that left the group (setsid) may still hold the pipes open: give the readers
    // a moment, then keep what they have and move on rather than block.
    let stdout = out.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    let stderr = err.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    Ok((end, stdout, stderr))
}

/// `[results]`, compiled: how a normal exit of the runtime process reads.
#[derive(Clone)]
pub(super) struct Classifier {
    pub(super) trap_exit_codes: Vec<i32>,
    pub(super) trap_re: Option<regex::Regex>,
    pub(super) refused_re: Option<regex::Regex>,
}

impl Classifier {
    /// A refusal, a trap, or the guest's status.
    pub(super) fn classify(&self, end: End, stderr: &[u8]) -> End {
        if let End::Exited(code) = end {
            let err = String::from_utf8_lossy(stderr);
            if code != 0 && self.refused_re.as_ref().is_some_and(|r| r.is_match(&err)) {
                return End::Refused(summary(&err));
            }
            if self.trap_exit_codes.contains(&code)
                || (code != 0 && self.trap_re.as_ref().is_some_and(|r| r.is_match(&err)))
            {
                return End::Trapped(summary(&err));
            }
        }
        end
    }
}

/// The informative part of a runtime's error output: the last non-empty lines (where the
/// cause of an error chain is), joined on one line.
fn summary(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(3);
    lines[start..].join(" | ")
}

fn reader<R: Read + Send + 'static>(r: Option<R>) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut r) = r {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = OUTPUT_CAP.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

pub(super) fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created for the
    // runtime (process_group(0) made its pid the group id); no memory is involved.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Resident memory of the whole process group (a launcher's children count too), from
/// `/proc/<pid>/stat`: field 5 is the process group, field 24 the resident pages.
pub(super) fn group_rss_bytes(pgid: i32) -> Option<u64> {
    let page = 4096u64;
    let mut total = 0u64;
    let mut seen = false;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name (field 2) may contain spaces; fields after the last ')' are fixed.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // rest starts at field 3 (state): pgrp is field 5 -> index 2, rss field 24 -> index 21.
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid) {
            seen = true;
            total += fields
                .get(21)
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
                * page;
        }
    }
    seen.then_some(total)
}
