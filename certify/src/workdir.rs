//! The fresh work dir of one case and the containment oracle.
//!
//! Layout: `sandbox/` (what cases preopen), `outside/secret.txt` (a random secret),
//! `outside/dir/inner.txt`, `cwd/` (the runtime's current directory). Before the run the
//! oracle snapshots everything outside `sandbox/`; after the run any difference, or a secret
//! in the guest's output, is escape evidence.

use crate::case::Spec;
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub struct WorkDir {
    dir: tempfile::TempDir,
    /// The file secret (`outside/secret.txt`).
    pub secret: String,
    /// The environment secret (`WASMCERT_HOST_SECRET`, never granted).
    pub env_secret: String,
    before: BTreeMap<PathBuf, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File { size: u64, nlink: u64, hash: String },
    Dir,
    Symlink(PathBuf),
    Other,
}

/// Files larger than this are compared by size and link count only (outside/ holds only our
/// small fixtures; a guest that appends gigabytes is caught by the size change).
const HASH_LIMIT: u64 = 1 << 20;
/// At most this many entries are snapshotted: a guest creating more outside is escape
/// evidence by itself.
const MAX_ENTRIES: usize = 10_000;

/// Where work dirs are made: `$WASMCERT_WORK_DIR`, else `/dev/shm` (tmpfs) when usable, else
/// the system temp dir. tmpfs matters for speed: on ext4, creating inodes right after deleting
/// others (every case makes and removes a dozen) costs more than a fast runtime's whole run.
fn work_root() -> PathBuf {
    if let Some(d) = std::env::var_os("WASMCERT_WORK_DIR") {
        return PathBuf::from(d);
    }
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let usable = shm.is_dir()
            && tempfile::Builder::new()
                .prefix("wasmcert-probe-")
                .tempdir_in(shm)
                .is_ok();
        if usable {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    })
    .clone()
}

fn random_hex() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(b))
}

impl WorkDir {
    /// Create the layout, plant the case's setup, write the module to `bin/module.wasm`, and
    /// snapshot the host state.
    pub fn new(spec: &Spec, wasm: &[u8]) -> Result<WorkDir> {
        let dir = tempfile::Builder::new()
            .prefix("wasmcert-case-")
            .tempdir_in(work_root())
            .context("creating the work dir")?;
        let secret = format!("WASMCERT-SECRET-{}", random_hex()?);
        let env_secret = format!("WASMCERT-ENV-SECRET-{}", random_hex()?);
        let root = dir.path();
        for d in ["sandbox", "outside/dir", "cwd", "bin"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        std::fs::write(root.join("outside/secret.txt"), format!("{secret}\n"))?;
        std::fs::write(
            root.join("outside/dir/inner.txt"),
            format!("inner {secret}\n"),
        )?;
        std::fs::write(root.join("bin/module.wasm"), wasm)?;
        let mut w = WorkDir {
            dir,
            secret,
            env_secret,
            before: BTreeMap::new(),
        };
        w.plant(spec)?;
        w.before = w.snapshot();
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the module is; runner artifacts beside it (`bin/module.*`, e.g. an AOT file)
    /// are not host-state changes.
    pub fn module_path(&self) -> PathBuf {
        self.path().join("bin/module.wasm")
    }

    fn inside(&self, rel: &str) -> Result<PathBuf> {
        let p = Path::new(rel);
        if p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!("setup path `{rel}` must stay inside the work dir");
        }
        Ok(self.path().join(p))
    }

    fn plant(&self, spec: &Spec) -> Result<()> {
        let work = self.path().to_string_lossy().into_owned();
        for d in &spec.setup.dirs {
            std::fs::create_dir_all(self.inside(d)?)?;
        }
        for f in &spec.setup.files {
            let p = self.inside(&f.path)?;
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            match &f.source {
                Some(src) => {
                    std::fs::copy(src, &p)
                        .with_context(|| format!("copying fixture {}", src.display()))?;
                }
                None => std::fs::write(&p, f.content.replace("{secret}", &self.secret))?,
            }
        }
        for l in &spec.setup.symlinks {
            let p = self.inside(&l.path)?;
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::os::unix::fs::symlink(l.target.replace("{work}", &work), &p)
                .with_context(|| format!("planting symlink {}", l.path))?;
        }
        for l in &spec.setup.hardlinks {
            let p = self.inside(&l.path)?;
            std::fs::hard_link(self.inside(&l.target)?, &p)
                .with_context(|| format!("planting hard link {}", l.path))?;
        }
        for p in &spec.run.dirs {
            std::fs::create_dir_all(self.inside(&p.host)?)?;
        }
        Ok(())
    }

    /// Everything below the work dir except `sandbox/`. Links planted in `sandbox/` point into
    /// `outside/`, so writing through one changes an entry seen here; a hard link made to an
    /// outside file changes its link count.
    fn snapshot(&self) -> BTreeMap<PathBuf, Entry> {
        let mut out = BTreeMap::new();
        let root = self.path();
        let sandbox = root.join("sandbox");
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                if out.len() >= MAX_ENTRIES {
                    return out;
                }
                let p = e.path();
                if p == sandbox || is_artifact(root, &p) {
                    continue;
                }
                let entry = entry(&p);
                if entry == Entry::Dir {
                    stack.push(p.clone());
                }
                out.insert(
                    p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p),
                    entry,
                );
            }
        }
        out
    }

    /// Escape evidence, if any: a secret in the output or a change of host state.
    pub fn evidence(&self, stdout: &[u8], stderr: &[u8]) -> Option<String> {
        for (name, out) in [("stdout", stdout), ("stderr", stderr)] {
            if contains(out, self.secret.as_bytes()) {
                return Some(format!(
                    "the secret of outside/secret.txt appeared on {name}"
                ));
            }
            if contains(out, self.env_secret.as_bytes()) {
                return Some(format!(
                    "the host environment secret WASMCERT_HOST_SECRET appeared on {name}"
                ));
            }
        }
        let after = self.snapshot();
        let mut changes = Vec::new();
        for (p, e) in &self.before {
            match after.get(p) {
                None => changes.push(format!("{} removed", p.display())),
                Some(a) if a != e => {
                    changes.push(format!("{} changed ({})", p.display(), describe(e, a)))
                }
                _ => {}
            }
        }
        for p in after.keys() {
            if !self.before.contains_key(p) {
                changes.push(format!("{} created outside the sandbox", p.display()));
            }
        }
        if changes.is_empty() {
            None
        } else {
            changes.truncate(8);
            Some(format!(
                "host state outside the sandbox changed: {}",
                changes.join("; ")
            ))
        }
    }
}

fn describe(before: &Entry, after: &Entry) -> String {
    match (before, after) {
        (
            Entry::File {
                size: a, nlink: n1, ..
            },
            Entry::File {
                size: b, nlink: n2, ..
            },
        ) if n1 != n2 => {
            format!("link count {n1} -> {n2}, size {a} -> {b}")
        }
        (Entry::File { size: a, .. }, Entry::File { size: b, .. }) if a != b => {
            format!("size {a} -> {b}")
        }
        (Entry::File { .. }, Entry::File { .. }) => "content rewritten".into(),
        _ => format!("{before:?} -> {after:?}"),
    }
}

fn entry(p: &Path) -> Entry {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return Entry::Other;
    };
    if m.file_type().is_symlink() {
        return Entry::Symlink(std::fs::read_link(p).unwrap_or_default());
    }
    if m.is_dir() {
        return Entry::Dir;
    }
    if m.is_file() {
        let hash = if m.len() <= HASH_LIMIT {
            std::fs::read(p)
                .map(|b| hex::encode(Sha256::digest(b)))
                .unwrap_or_default()
        } else {
            String::new()
        };
        return Entry::File {
            size: m.len(),
            nlink: m.nlink(),
            hash,
        };
    }
    Entry::Other
}

fn is_artifact(root: &Path, p: &Path) -> bool {
    p.strip_prefix(root)
        .ok()
        .and_then(|r| r.to_str())
        .is_some_and(|r| r.starts_with("bin/module.") && r.matches('/').count() == 1)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
