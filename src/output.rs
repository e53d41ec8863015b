//! Writing command output to stdout or `--output FILE`, with a closed pipe treated as a quiet
//! success (as `wasm-tools` does), never a panic.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Write `text` to the file or to stdout. Returns `Ok(false)` when stdout was closed early.
pub fn emit(output: Option<&Path>, text: &str) -> Result<bool> {
    match output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
            Ok(true)
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
                Err(e) => Err(e).context("cannot write to stdout"),
            }
        }
    }
}
