//! Turning command-line paths into inputs: files, directories (recursive `*.wasm`, sorted, not
//! following symlinked directories) and `-` for stdin.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One thing to analyse.
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// The name used in output and error messages.
    pub fn display(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
        }
    }

    pub fn read(&self) -> Result<Vec<u8>> {
        match self {
            Input::File(p) => std::fs::read(p).with_context(|| "cannot read the file".to_string()),
            Input::Stdin => {
                let mut v = Vec::new();
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut v)
                    .context("cannot read stdin")?;
                Ok(v)
            }
        }
    }
}

/// Directories are walked at most this deep; deeper trees are almost certainly loops made of
/// bind mounts, and a CI checkout never needs more.
const MAX_DEPTH: usize = 64;

/// Expand the given paths. Returns the inputs and, separately, the paths that could not be
/// expanded (missing, unreadable directory) with the reason.
pub fn expand(paths: &[String]) -> (Vec<Input>, Vec<(String, anyhow::Error)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(p);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                let before = inputs.len();
                if let Err(e) = walk(&path, 0, &mut inputs) {
                    errors.push((p.clone(), e));
                } else if inputs.len() == before {
                    errors.push((
                        p.clone(),
                        anyhow::anyhow!("directory contains no *.wasm files"),
                    ));
                }
            }
            Ok(_) => inputs.push(Input::File(path)),
            Err(e) => errors.push((p.clone(), anyhow::Error::new(e).context("cannot open"))),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Input>) -> Result<()> {
    if depth > MAX_DEPTH {
        anyhow::bail!(
            "directory tree deeper than {MAX_DEPTH} levels at {}",
            dir.display()
        );
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|x| x == "wasm")
            && (ft.is_file() || ft.is_symlink() && path.is_file())
        {
            out.push(Input::File(path));
        }
    }
    Ok(())
}
