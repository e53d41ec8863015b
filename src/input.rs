//! Turning command-line paths into inputs: files, directories (recursive `*.wasm`, sorted, not
//! following symlinked directories), `-` for stdin, and OCI artifacts (`oci://...`,
//! `oci-layout:...`), and analysing every input the way `analyze`, `sbom` and `check` do.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use wasmcert_analyzer::{Analysis, Options, analyze};

/// One thing to analyse.
pub enum Input {
    File(PathBuf),
    Stdin,
    /// A Wasm OCI artifact in a registry or an image layout.
    Oci(wasmcert_oci::Source),
}

impl Input {
    /// The name used in output and error messages.
    pub fn display(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
            Input::Oci(s) => s.display(),
        }
    }

    pub fn read(&self) -> Result<Bytes> {
        match self {
            Input::File(p) => {
                let file = std::fs::File::open(p).context("cannot open the file")?;
                let meta = file.metadata().context("cannot stat the file")?;
                if meta.is_file() && meta.len() >= MAP_THRESHOLD {
                    // SAFETY: the mapping is read-only and private; wasmcert never writes
                    // through it. If another process truncates the file while we read it the
                    // kernel raises SIGBUS, the same contract ripgrep and git accept for
                    // mapped inputs: inputs are not expected to change under the analyser.
                    #[allow(unsafe_code)]
                    let map = unsafe { memmap2::MmapOptions::new().map(&file) }
                        .context("cannot map the file")?;
                    return Ok(Bytes::Mapped(map));
                }
                let mut v = Vec::with_capacity(meta.len().min(MAP_THRESHOLD) as usize);
                (&file)
                    .read_to_end(&mut v)
                    .context("cannot read the file")?;
                Ok(Bytes::Owned(v))
            }
            Input::Oci(s) => Ok(Bytes::Owned(
                wasmcert_oci::fetch_blocking(s, &wasmcert_oci::FetchOptions::default())?.wasm,
            )),
            Input::Stdin => {
                let mut v = Vec::new();
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut v)
                    .context("cannot read stdin")?;
                Ok(Bytes::Owned(v))
            }
        }
    }
}

/// Files at least this large are memory-mapped instead of read: no copy into the heap, and
/// pages come straight from the page cache.
const MAP_THRESHOLD: u64 = 1 << 20;

/// The bytes of an input: mapped for large regular files, owned otherwise.
pub enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
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
        match wasmcert_oci::parse(p) {
            Some(Ok(source)) => {
                inputs.push(Input::Oci(source));
                continue;
            }
            Some(Err(e)) => {
                errors.push((p.clone(), anyhow::Error::new(e)));
                continue;
            }
            None => {}
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

/// Analyse every input; failures are returned beside the successes, never abort the rest.
pub fn analyze_all(
    paths: &[String],
    validate: bool,
) -> (Vec<Analysis>, Vec<(String, String)>, bool) {
    let (inputs, expand_errors) = expand(paths);
    // One path naming a file (not a directory): the JSON output is an object, not an array.
    let single =
        paths.len() == 1 && !paths[0].is_empty() && !std::path::Path::new(&paths[0]).is_dir();
    let mut errors: Vec<(String, String)> = expand_errors
        .into_iter()
        .map(|(p, e)| (p, format!("{e:#}")))
        .collect();
    let mut analyses = Vec::new();
    for input in &inputs {
        match analyze_one(input, validate) {
            Ok(a) => analyses.push(a),
            // The message and its causes on one line: it is a field of the reports.
            Err(e) => errors.push((input.display(), format!("{e:#}"))),
        }
    }
    (analyses, errors, single)
}

fn analyze_one(input: &Input, validate: bool) -> Result<Analysis> {
    if let Input::Oci(source) = input {
        // The artifact (every digest verified) is analysed, then annotated with its OCI
        // identity and the config cross-check.
        let artifact =
            wasmcert_oci::fetch_blocking(source, &wasmcert_oci::FetchOptions::default())?;
        let opts = Options {
            validate,
            path: input.display(),
        };
        let mut a = analyze(&artifact.wasm, &opts)?;
        wasmcert_oci::annotate(&mut a, &artifact);
        return Ok(a);
    }
    let bytes = input.read()?;
    let opts = Options {
        validate,
        path: input.display(),
    };
    Ok(analyze(&bytes, &opts)?)
}
