//! The fresh work dir of one case and the containment oracle.
//!
//! Layout: `sandbox/` (what cases preopen), `outside/secret.txt` (a random secret),
//! `outside/dir/inner.txt`, `cwd/` (the runtime's current directory). Before the run the
//! oracle snapshots everything outside `sandbox/`, everything below a read-only (`ro`)
//! preopen, and the content of every file below a `ro-files` preopen (by inode, so a file
//! linked or renamed into a writable preopen and written there is still seen). After the
//! run any difference, or a secret in the guest's output, is escape evidence: a write that
//! lands where the guest was granted read access only is a containment breach, whichever
//! preopen it went through.

use crate::case::Spec;
use crate::error::{Error, Result};
use crate::testsuite::FixtureEntry;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How the module gets into `bin/`.
pub enum ModuleFile<'a> {
    /// Written there.
    Bytes(&'a [u8]),
    /// A symlink to this (absolute) path: a WASI testsuite module, read where it is, as
    /// upstream's runner hands the runtime the suite's file.
    Link(&'a Path),
}

pub struct WorkDir {
    dir: tempfile::TempDir,
    /// The file secret (`outside/secret.txt`).
    pub secret: String,
    /// The environment secret (`WASMCERT_HOST_SECRET`, never granted).
    pub env_secret: String,
    before: BTreeMap<PathBuf, Entry>,
    /// Read-only preopens (absolute), with the writable preopens below them left out.
    read_only: Vec<PathBuf>,
    /// Preopens the guest may write through (absolute): never protected.
    writable: Vec<PathBuf>,
    /// Entries below the read-only preopens.
    ro_before: BTreeMap<PathBuf, Entry>,
    /// `ro-files` preopens (absolute).
    ro_files: Vec<PathBuf>,
    /// The module's file stem in `bin/` (`module`, or a WASI testsuite test's name, which
    /// guests see as `argv[0]`).
    module_stem: String,
    /// Files below `ro-files` preopens: (device, inode) → (path, size, hash).
    ro_files_before: BTreeMap<(u64, u64), (PathBuf, u64, String)>,
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
    getrandom::fill(&mut b).map_err(Error::NoRandomness)?;
    Ok(hex::encode(b))
}

impl WorkDir {
    /// Create the layout, plant the case's setup, write the module to `bin/module.wasm`, and
    /// snapshot the host state.
    pub fn new(spec: &Spec, wasm: &[u8]) -> Result<WorkDir> {
        WorkDir::with_module(spec, ModuleFile::Bytes(wasm), "module")
    }

    /// [`WorkDir::new`] with the module at `bin/<stem>.wasm` (`stem`: a plain file name,
    /// without `/`), written there or linked to a file elsewhere.
    pub fn with_module(spec: &Spec, module: ModuleFile<'_>, stem: &str) -> Result<WorkDir> {
        if stem.is_empty() || stem.contains(['/', '\0']) || stem == "." || stem == ".." {
            return Err(Error::Setup(format!(
                "module name `{stem}` is not a plain file name"
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("wasmcert-case-")
            .tempdir_in(work_root())
            .map_err(Error::io_doing("creating the work dir"))?;
        let secret = format!("WASMCERT-SECRET-{}", random_hex()?);
        let env_secret = format!("WASMCERT-ENV-SECRET-{}", random_hex()?);
        let root = dir.path();
        for d in ["sandbox", "outside/dir", "cwd", "bin"] {
            let d = root.join(d);
            std::fs::create_dir_all(&d).map_err(Error::io("creating", &d))?;
        }
        for (f, text) in [
            ("outside/secret.txt", format!("{secret}\n")),
            ("outside/dir/inner.txt", format!("inner {secret}\n")),
        ] {
            let f = root.join(f);
            std::fs::write(&f, text).map_err(Error::io("writing", &f))?;
        }
        let at = root.join(format!("bin/{stem}.wasm"));
        match module {
            ModuleFile::Bytes(wasm) => {
                std::fs::write(&at, wasm).map_err(Error::io("writing", &at))?
            }
            ModuleFile::Link(target) => {
                std::os::unix::fs::symlink(target, &at).map_err(Error::io("linking", &at))?
            }
        }
        let abs = |h: &str| root.join(h);
        let dirs = &spec.run.dirs;
        let writable: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| !d.read_only() && !d.read_only_files())
            .map(|d| abs(&d.host))
            .collect();
        // A read-only grant below a writable one protects nothing: the guest may write there
        // through the writable preopen.
        let under_writable = |p: &PathBuf| writable.iter().any(|w| p.starts_with(w));
        let read_only: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| d.read_only())
            .map(|d| abs(&d.host))
            .filter(|p| !under_writable(p))
            .collect();
        let ro_files: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| d.read_only_files())
            .map(|d| abs(&d.host))
            .filter(|p| !under_writable(p))
            .collect();
        let mut w = WorkDir {
            dir,
            secret,
            env_secret,
            before: BTreeMap::new(),
            read_only,
            writable,
            ro_before: BTreeMap::new(),
            ro_files,
            ro_files_before: BTreeMap::new(),
            module_stem: stem.to_string(),
        };
        w.plant(spec)?;
        w.before = w.snapshot();
        w.ro_before = w.snapshot_read_only();
        w.ro_files_before = w.snapshot_ro_files();
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the module is; runner artifacts beside it (`bin/module.*`, e.g. an AOT file)
    /// are not host-state changes.
    pub fn module_path(&self) -> PathBuf {
        self.path().join(format!("bin/{}.wasm", self.module_stem))
    }

    /// `rel` resolved against the work dir. Suites are hostile input: the path must be
    /// relative, without `..`, and no component of it that exists may be a symlink (a planted
    /// link would otherwise carry setup writes, or a preopen, out of the work dir).
    fn inside(&self, rel: &str) -> Result<PathBuf> {
        let p = Path::new(rel);
        if p.is_absolute()
            || p.components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(Error::Setup(format!(
                "setup path `{rel}` must stay inside the work dir"
            )));
        }
        let mut at = self.path().to_path_buf();
        for c in p.components() {
            at.push(c);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(Error::Setup(format!(
                        "setup path `{rel}` goes through the symlink `{}`: refused",
                        at.strip_prefix(self.path()).unwrap_or(&at).display()
                    )));
                }
                Ok(_) => {}
                // Nothing below a missing component exists yet: it cannot be a link.
                Err(_) => break,
            }
        }
        Ok(self.path().join(p))
    }

    fn plant(&self, spec: &Spec) -> Result<()> {
        let work = self.path().to_string_lossy().into_owned();
        let mkdir = |d: &Path| std::fs::create_dir_all(d).map_err(Error::io("creating", d));
        for d in &spec.setup.dirs {
            mkdir(&self.inside(d)?)?;
        }
        for f in &spec.setup.files {
            let p = self.inside(&f.path)?;
            if let Some(parent) = p.parent() {
                mkdir(parent)?;
            }
            std::fs::write(&p, f.content.replace("{secret}", &self.secret))
                .map_err(Error::io("writing", &p))?;
        }
        for l in &spec.setup.symlinks {
            let p = self.inside(&l.path)?;
            if let Some(parent) = p.parent() {
                mkdir(parent)?;
            }
            std::os::unix::fs::symlink(l.target.replace("{work}", &work), &p)
                .map_err(Error::io("planting symlink", &l.path))?;
        }
        for l in &spec.setup.hardlinks {
            let p = self.inside(&l.path)?;
            std::fs::hard_link(self.inside(&l.target)?, &p)
                .map_err(Error::io("planting hard link", &l.path))?;
        }
        for p in &spec.run.dirs {
            mkdir(&self.inside(&p.host)?)?;
        }
        Ok(())
    }

    /// Plant a WASI testsuite fixture, fresh, at `rel` (below `sandbox/`): its directories,
    /// its files byte for byte, its symlinks with their targets verbatim (never followed).
    /// Returns the absolute path of the copy.
    pub fn plant_fixture(&self, rel: &str, entries: &[(String, FixtureEntry)]) -> Result<PathBuf> {
        let base = self.inside(rel)?;
        std::fs::create_dir_all(&base).map_err(Error::io("creating", &base))?;
        for (name, e) in entries {
            // Names come from read_dir: components without `..`; checked anyway.
            let p = Path::new(name);
            if p.components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(Error::Setup(format!(
                    "fixture entry `{name}` must stay inside the fixture"
                )));
            }
            let at = base.join(p);
            match e {
                FixtureEntry::Dir => {
                    std::fs::create_dir(&at).map_err(Error::io("creating", &at))?
                }
                FixtureEntry::File(bytes) => {
                    std::fs::write(&at, bytes).map_err(Error::io("writing", &at))?
                }
                FixtureEntry::Symlink(target) => {
                    std::os::unix::fs::symlink(target, &at).map_err(Error::io("linking", &at))?
                }
            }
        }
        Ok(base)
    }

    /// Everything below the work dir except `sandbox/`. Links planted in `sandbox/` point into
    /// `outside/`, so writing through one changes an entry seen here; a hard link made to an
    /// outside file changes its link count.
    fn snapshot(&self) -> BTreeMap<PathBuf, Entry> {
        let root = self.path();
        let mut out = BTreeMap::new();
        walk(
            root,
            root,
            &[root.join("sandbox")],
            &self.module_stem,
            &mut out,
        );
        out
    }

    /// Everything below the read-only preopens, except writable preopens nested in them.
    fn snapshot_read_only(&self) -> BTreeMap<PathBuf, Entry> {
        let mut out = BTreeMap::new();
        for ro in &self.read_only {
            if std::fs::symlink_metadata(ro).is_ok_and(|m| m.is_dir()) {
                out.insert(rel(self.path(), ro), Entry::Dir);
                walk(self.path(), ro, &self.writable, &self.module_stem, &mut out);
            }
        }
        out
    }

    /// The regular files below `ro-files` preopens, by inode. After the run the whole sandbox
    /// is searched for those inodes: one renamed or linked into a writable preopen and written
    /// there is still found.
    fn snapshot_ro_files(&self) -> BTreeMap<(u64, u64), (PathBuf, u64, String)> {
        let mut out = BTreeMap::new();
        if self.ro_files.is_empty() {
            return out;
        }
        let mut entries = BTreeMap::new();
        for f in &self.ro_files {
            walk(
                self.path(),
                f,
                &self.writable,
                &self.module_stem,
                &mut entries,
            );
        }
        for (p, e) in entries {
            if let Entry::File { size, hash, .. } = e
                && let Ok(m) = std::fs::symlink_metadata(self.path().join(&p))
            {
                out.insert((m.dev(), m.ino()), (p, size, hash));
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
        let changes = diff(&self.before, &self.snapshot(), "outside the sandbox");
        if !changes.is_empty() {
            return Some(format!(
                "host state outside the sandbox changed: {}",
                changes.join("; ")
            ));
        }
        let changes = diff(
            &self.ro_before,
            &self.snapshot_read_only(),
            "in a read-only preopen",
        );
        if !changes.is_empty() {
            return Some(format!(
                "a directory preopened read-only changed: {}",
                changes.join("; ")
            ));
        }
        let changes = self.ro_files_changes();
        if !changes.is_empty() {
            return Some(format!(
                "a file preopened read-only (ro-files) was written: {}",
                changes.join("; ")
            ));
        }
        None
    }

    /// Files of `ro-files` preopens whose content changed, wherever they are now.
    fn ro_files_changes(&self) -> Vec<String> {
        if self.ro_files_before.is_empty() {
            return Vec::new();
        }
        let mut now = BTreeMap::new();
        let sandbox = self.path().join("sandbox");
        walk(self.path(), &sandbox, &[], &self.module_stem, &mut now);
        let mut changes = Vec::new();
        for (p, e) in now {
            let Entry::File { size, hash, .. } = &e else {
                continue;
            };
            let Ok(m) = std::fs::symlink_metadata(self.path().join(&p)) else {
                continue;
            };
            if let Some((was, size0, hash0)) = self.ro_files_before.get(&(m.dev(), m.ino()))
                && (size != size0 || hash != hash0)
            {
                let at = if p == *was {
                    String::new()
                } else {
                    format!(" (now at {})", p.display())
                };
                changes.push(format!(
                    "{}{at} changed (size {size0} -> {size}{})",
                    was.display(),
                    if size == size0 {
                        ", content rewritten"
                    } else {
                        ""
                    }
                ));
            }
        }
        changes.truncate(8);
        changes
    }
}

fn rel(root: &Path, p: &Path) -> PathBuf {
    p.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| p.to_path_buf())
}

/// Record every entry below `start` (relative to `root`), not descending into `skip`, at most
/// [`MAX_ENTRIES`] in all.
fn walk(
    root: &Path,
    start: &Path,
    skip: &[PathBuf],
    stem: &str,
    out: &mut BTreeMap<PathBuf, Entry>,
) {
    let mut stack = vec![start.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if out.len() >= MAX_ENTRIES {
                return;
            }
            let p = e.path();
            if skip.contains(&p) || is_artifact(root, &p, stem) {
                continue;
            }
            let entry = entry(&p);
            if entry == Entry::Dir {
                stack.push(p.clone());
            }
            out.insert(rel(root, &p), entry);
        }
    }
}

/// What changed between two snapshots, at most 8 lines.
fn diff(
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
    place: &str,
) -> Vec<String> {
    let mut changes = Vec::new();
    for (p, e) in before {
        match after.get(p) {
            None => changes.push(format!("{} removed", p.display())),
            Some(a) if a != e => {
                changes.push(format!("{} changed ({})", p.display(), describe(e, a)))
            }
            _ => {}
        }
    }
    for p in after.keys() {
        if !before.contains_key(p) {
            changes.push(format!("{} created {place}", p.display()));
        }
    }
    changes.truncate(8);
    changes
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

/// `bin/<stem>.*`: the module and what runtimes derive from it beside it.
fn is_artifact(root: &Path, p: &Path, stem: &str) -> bool {
    p.strip_prefix(root)
        .ok()
        .and_then(|r| r.to_str())
        .and_then(|r| r.strip_prefix("bin/"))
        .and_then(|r| r.strip_prefix(stem))
        .is_some_and(|r| r.starts_with('.') && !r.contains('/'))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
