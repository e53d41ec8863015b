//! A runtime's output stream as the WASI testsuite reads it: bytes arrive from a reader thread
//! (a pipe) or from the embedded engine, and operations consume them *while the guest runs*,
//! with the meaning of upstream's reference runner, which reads a text-mode pipe
//! (`subprocess.Popen(..., text=True)`): UTF-8, universal newlines (`\r\n` and a lone `\r`
//! read as `\n`), `read(n)` blocks until `n` characters or end of file, `readline()` until a
//! newline or end of file.
//!
//! Everything that arrives is also kept (the first [`OUTPUT_CAP`] bytes) for the escape oracle
//! and the report's evidence, whatever the operations consumed.

use crate::runtime::OUTPUT_CAP;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

#[derive(Default)]
struct State {
    /// Everything kept so far (at most [`OUTPUT_CAP`] bytes).
    data: Vec<u8>,
    /// How much of `data` operations have consumed.
    pos: usize,
    /// The writer is gone (end of file), or the cap was reached.
    eof: bool,
    /// Bytes that arrived past the cap and were dropped.
    dropped: u64,
}

/// One output stream of a running guest (stdout or stderr).
#[derive(Default)]
pub struct Pipe {
    state: Mutex<State>,
    ready: Condvar,
}

/// What a blocking read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    /// The bytes read were not valid UTF-8 (upstream's runner raises on them).
    pub invalid_utf8: bool,
    /// The runner's deadline passed before the read was complete.
    pub timed_out: bool,
}

impl Pipe {
    pub fn new() -> Arc<Pipe> {
        Arc::new(Pipe::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Append output (the rest is read and dropped past the cap).
    pub fn feed(&self, bytes: &[u8]) {
        let mut s = self.lock();
        let room = OUTPUT_CAP.saturating_sub(s.data.len());
        let keep = bytes.len().min(room);
        s.data.extend_from_slice(&bytes[..keep]);
        s.dropped += (bytes.len() - keep) as u64;
        drop(s);
        self.ready.notify_all();
    }

    /// The writer is gone: readers see end of file.
    pub fn close(&self) {
        self.lock().eof = true;
        self.ready.notify_all();
    }

    /// Read `r` to its end into this pipe, on a thread of its own, then close the pipe.
    pub fn pump<R: Read + Send + 'static>(self: &Arc<Self>, r: Option<R>) {
        let pipe = self.clone();
        std::thread::spawn(move || {
            if let Some(mut r) = r {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match r.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => pipe.feed(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
            }
            pipe.close();
        });
    }

    /// Everything kept, consumed or not.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().data.clone()
    }

    /// Whether the writer is gone.
    pub fn is_closed(&self) -> bool {
        self.lock().eof
    }

    /// What no operation consumed yet (for failure messages), decoded lossily.
    pub fn rest(&self) -> String {
        let s = self.lock();
        String::from_utf8_lossy(&s.data[s.pos..]).into_owned()
    }

    /// Wait until end of file or `deadline`, whichever comes first.
    pub fn wait_closed(&self, deadline: Instant) -> bool {
        let mut s = self.lock();
        while !s.eof {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            s = self
                .ready
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Upstream's `stream.read(n)`: `n` characters, or fewer at end of file. Blocks until then
    /// or until `deadline` (upstream has no deadline; the runner must have one).
    pub fn read_chars(&self, n: usize, deadline: Instant) -> Text {
        self.read_until(deadline, |bytes, eof| decode(bytes, eof, Stop::Chars(n)))
    }

    /// Upstream's `stream.readline()`: up to and including the next newline, or what is left
    /// at end of file.
    pub fn read_line(&self, deadline: Instant) -> Text {
        self.read_until(deadline, |bytes, eof| decode(bytes, eof, Stop::Newline))
    }

    fn read_until(&self, deadline: Instant, f: impl Fn(&[u8], bool) -> Option<Decoded>) -> Text {
        let mut s = self.lock();
        loop {
            let eof = s.eof;
            if let Some(d) = f(&s.data[s.pos..], eof) {
                s.pos += d.consumed;
                return Text {
                    text: d.text,
                    invalid_utf8: d.invalid,
                    timed_out: false,
                };
            }
            let now = Instant::now();
            if now >= deadline {
                // Whatever is there, as if the stream had ended.
                let d = f(&s.data[s.pos..], true).unwrap_or_default();
                s.pos += d.consumed;
                return Text {
                    text: d.text,
                    invalid_utf8: d.invalid,
                    timed_out: true,
                };
            }
            s = self
                .ready
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[derive(Clone, Copy)]
enum Stop {
    Chars(usize),
    Newline,
}

#[derive(Default)]
struct Decoded {
    text: String,
    consumed: usize,
    invalid: bool,
}

/// Decode from the start of `bytes` until the stop condition holds; `None` when more input is
/// needed to know (not at end of file). Universal newlines: `\r\n` and a lone `\r` are `\n`;
/// a `\r` at the very end waits for the next byte, as Python's newline decoder does.
fn decode(bytes: &[u8], eof: bool, stop: Stop) -> Option<Decoded> {
    let mut d = Decoded::default();
    let mut chars = 0usize;
    let mut i = 0usize;
    loop {
        match stop {
            Stop::Chars(n) if chars >= n => break,
            _ => {}
        }
        if i >= bytes.len() {
            return eof.then_some(d);
        }
        let b = bytes[i];
        let (ch, len) = if b == b'\r' {
            match bytes.get(i + 1) {
                Some(b'\n') => ('\n', 2),
                Some(_) => ('\n', 1),
                None if eof => ('\n', 1),
                None => return None,
            }
        } else if b < 0x80 {
            (b as char, 1)
        } else {
            let want = match b {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 0,
            };
            if want == 0 {
                d.invalid = true;
                ('\u{FFFD}', 1)
            } else if i + want > bytes.len() {
                // A character cut at the end of what arrived so far.
                if !eof && std::str::from_utf8(&bytes[i..]).is_err_and(|e| e.error_len().is_none())
                {
                    return None;
                }
                d.invalid = true;
                ('\u{FFFD}', 1)
            } else {
                match std::str::from_utf8(&bytes[i..i + want]) {
                    Ok(s) => (s.chars().next().unwrap_or('\u{FFFD}'), want),
                    Err(_) => {
                        d.invalid = true;
                        ('\u{FFFD}', 1)
                    }
                }
            }
        };
        d.text.push(ch);
        d.consumed = i + len;
        i += len;
        chars += 1;
        if matches!(stop, Stop::Newline) && ch == '\n' {
            break;
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(50)
    }

    #[test]
    fn reads_characters_with_universal_newlines() {
        let p = Pipe::new();
        p.feed("a\r\nb\rc ü€".as_bytes());
        p.close();
        assert_eq!(p.read_chars(4, soon()).text, "a\nb\n");
        assert_eq!(p.read_chars(3, soon()).text, "c ü");
        assert_eq!(p.read_chars(10, soon()).text, "€");
        assert_eq!(p.read_chars(1, soon()).text, "");
        assert_eq!(p.contents(), "a\r\nb\rc ü€".as_bytes());
    }

    #[test]
    fn a_read_waits_for_more_output_or_the_end() {
        let p = Pipe::new();
        p.feed(b"hel");
        let q = p.clone();
        let t =
            std::thread::spawn(move || q.read_chars(5, Instant::now() + Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        p.feed(b"lo world");
        assert_eq!(t.join().unwrap().text, "hello");
        // A cut character and a trailing \r wait for what follows.
        p.feed(&"é".as_bytes()[..1]);
        let r = p.read_chars(7, soon());
        assert!(r.timed_out);
        let p = Pipe::new();
        p.feed(b"x\r");
        let q = p.clone();
        let t = std::thread::spawn(move || q.read_line(Instant::now() + Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        p.feed(b"\nrest");
        assert_eq!(t.join().unwrap().text, "x\n");
        assert_eq!(p.rest(), "rest");
    }

    #[test]
    fn invalid_utf8_is_flagged() {
        let p = Pipe::new();
        p.feed(b"a\xffb");
        p.close();
        let r = p.read_chars(3, soon());
        assert!(r.invalid_utf8);
        assert_eq!(r.text, "a\u{FFFD}b");
    }
}
