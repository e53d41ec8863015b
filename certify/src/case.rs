//! Loading cases: our suite format (`suites/<category>/<case-id>/{case.toml,module.wat}`, see
//! `suites/README.md`). The WASI testsuite format is read in [`crate::testsuite`].

use crate::error::{Error, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Controls a runtime must be able to express for a case to mean anything.
pub const FEATURES: &[&str] = &[
    "args",
    "network",
    "cpu-limit",
    "dirs",
    "env",
    "memory-limit",
    "read-only-dirs",
    "read-only-files",
    "stdin",
    "table-limit",
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub run: Run,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub requires: Vec<String>,
    /// A component-native case: `module.wat` imports WASI 0.2 interfaces itself and is given
    /// the component type of this world of the suite's `wit/guests.wit`. Runs with
    /// `certify --world p2` only.
    pub component: Option<String>,
    #[serde(default)]
    pub setup: Setup,
    #[serde(default)]
    pub expect: Expect,
    /// `certify --world p2`: what differs when the case runs as a WASI 0.2 component made
    /// with the preview1 command adapter (the same on every runtime: the adapter's doing or
    /// WASI 0.2's, never a runtime's). Read by [`load_suite`] into [`Case::p2`].
    #[serde(default)]
    pub p2: Option<P2Overlay>,
}

/// `[p2]`: why the case expects something else as a component, and the `[expect]` keys that
/// replace the base ones (keys not given stay as they are).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2Overlay {
    pub why: String,
    #[serde(default)]
    pub expect: toml::Table,
    /// The case has no component form worth running (what it tests is not there once the
    /// preview1 adapter stands between guest and host): `not-supported` with `why`.
    #[serde(default)]
    pub not_applicable: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub stdin: Option<String>,
    #[serde(default)]
    pub dirs: Vec<Preopen>,
    /// `"inherit"`: the guest may use the host's network (TCP, UDP, name lookups), as
    /// wasmtime's `-S inherit-network -S allow-ip-name-lookup` grants. Absent: no network; a
    /// guest that reaches the runner's canaries then has escaped.
    pub network: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Preopen {
    /// Relative to the work dir (`sandbox`, `sandbox/sub`, ...).
    pub host: String,
    pub guest: String,
    #[serde(default = "rw")]
    pub mode: String,
}

fn rw() -> String {
    "rw".into()
}

impl Preopen {
    /// `ro`: nothing below the preopen may change.
    pub fn read_only(&self) -> bool {
        self.mode == "ro"
    }

    /// `ro-files`: the directory is writable (create, rename, unlink) but existing files are
    /// read-only: the configuration of wasmtime's DirPerms/FilePerms split.
    pub fn read_only_files(&self) -> bool {
        self.mode == "ro-files"
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub memory_bytes: Option<u64>,
    pub table_elements: Option<u64>,
    pub fuel: Option<u64>,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    #[serde(default)]
    pub dirs: Vec<String>,
    #[serde(default)]
    pub files: Vec<FileSpec>,
    #[serde(default)]
    pub symlinks: Vec<LinkSpec>,
    #[serde(default)]
    pub hardlinks: Vec<LinkSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    pub path: String,
    #[serde(default)]
    pub content: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub path: String,
    pub target: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub contained: Option<bool>,
    /// The guest's run ends on its own terms, whatever they are: an exit (any status), a trap
    /// or a refusal at instantiation. Crashes, the runner's deadline, the memory cap and escapes
    /// still fail. For generated stress cases, whose behaviour nobody planned.
    pub settles: Option<bool>,
    pub exit_code: Option<i32>,
    pub trap: Option<bool>,
    pub refused: Option<bool>,
    pub stdout: Option<String>,
    pub stdout_prefix: Option<String>,
    #[serde(default)]
    pub stdout_contains: Vec<String>,
    #[serde(default)]
    pub stdout_not_contains: Vec<String>,
    pub stderr: Option<String>,
    pub stderr_prefix: Option<String>,
    #[serde(default)]
    pub stderr_contains: Vec<String>,
    #[serde(default)]
    pub files_present: Vec<String>,
    #[serde(default)]
    pub files_absent: Vec<String>,
    #[serde(default)]
    pub file_contents: Vec<FileSpec>,
    /// Canaries (`tcp`, `udp`) the guest must have reached: with a network grant, proof the
    /// granted operation worked. (Without a grant, reaching any canary is an escape.)
    #[serde(default)]
    pub canary: Vec<String>,
}

impl Expect {
    /// Reject combinations no run can satisfy, or that say one thing twice in two ways: every
    /// key present must hold, so a case that pairs contradictory keys could never pass, and
    /// one that pairs `settles` with a particular end means something other than it says.
    pub fn validate(&self) -> Result<()> {
        let ends = [
            ("exit_code", self.exit_code.is_some()),
            ("trap = true", self.trap == Some(true)),
            ("refused = true", self.refused == Some(true)),
        ];
        let named: Vec<&str> = ends.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect();
        if self.settles == Some(true) && !named.is_empty() {
            return Err(Error::Rule(format!(
                "`settles = true` accepts any end of the run; it contradicts `{}`",
                named.join("`, `")
            )));
        }
        if self.settles == Some(false) {
            return Err(Error::Rule(
                "`settles = false` means nothing: leave the key out".into(),
            ));
        }
        if named.len() > 1 && named != ["trap = true", "refused = true"] {
            return Err(Error::Rule(format!(
                "`{}` cannot all hold: a run ends one way",
                named.join("`, `")
            )));
        }
        if self.refused == Some(true) && self.trap == Some(false) {
            return Err(Error::Rule(
                "`refused = true` with `trap = false`: pick one".into(),
            ));
        }
        for (name, exact, prefix, contains, not_contains) in [
            (
                "stdout",
                &self.stdout,
                &self.stdout_prefix,
                &self.stdout_contains,
                &self.stdout_not_contains,
            ),
            (
                "stderr",
                &self.stderr,
                &self.stderr_prefix,
                &self.stderr_contains,
                &Vec::new(),
            ),
        ] {
            if let Some(x) = exact {
                if let Some(p) = prefix
                    && !x.starts_with(p.as_str())
                {
                    return Err(Error::Rule(format!(
                        "`{name}` does not start with `{name}_prefix`"
                    )));
                }
                if let Some(c) = contains.iter().find(|c| !x.contains(c.as_str())) {
                    return Err(Error::Rule(format!(
                        "`{name}` does not contain {c:?} of `{name}_contains`"
                    )));
                }
            }
            if let Some(c) = not_contains.iter().find(|n| {
                contains.iter().any(|c| c.contains(n.as_str()))
                    || prefix.as_ref().is_some_and(|p| p.contains(n.as_str()))
                    || exact.as_ref().is_some_and(|x| x.contains(n.as_str()))
            }) {
                return Err(Error::Rule(format!(
                    "{c:?} is both required and forbidden on {name}"
                )));
            }
        }
        if let Some(f) = self
            .files_present
            .iter()
            .find(|f| self.files_absent.contains(f))
        {
            return Err(Error::Rule(format!(
                "{f:?} is in both files_present and files_absent"
            )));
        }
        Ok(())
    }
}

/// The guest of a case: WebAssembly text (ours) or a binary (WASI testsuite).
#[derive(Debug, Clone)]
pub enum Module {
    Wat(PathBuf),
    Wasm(PathBuf),
    /// Generated in memory (`certify --generated`); reproduced from its seed.
    Bytes(std::sync::Arc<Vec<u8>>),
}

#[derive(Debug, Clone)]
pub struct Case {
    /// `category/case-id`.
    pub id: String,
    pub category: String,
    pub dir: PathBuf,
    pub module: Module,
    pub spec: Spec,
    /// A reason this case cannot run anywhere.
    pub unsupported: Option<String>,
    /// A WASI testsuite test: run by its operations ([`crate::testsuite::run`]), not by
    /// `spec.run` and `spec.expect`.
    pub wasi: Option<std::sync::Arc<crate::testsuite::Test>>,
    /// The spec with its `[p2]` overlay applied (`certify --world p2`), when it has one.
    pub p2: Option<std::sync::Arc<Spec>>,
}

impl Case {
    /// Compile the guest to a binary.
    pub fn wasm(&self) -> Result<Vec<u8>> {
        match &self.module {
            Module::Wat(p) => wat::parse_file(p).map_err(|e| Error::Wat {
                file: p.clone(),
                source: Box::new(e),
            }),
            Module::Wasm(p) => read_module(p),
            Module::Bytes(b) => Ok(b.as_ref().clone()),
        }
    }
}

/// Read a testsuite module: a regular file (through symlinks) of at most
/// [`MAX_WASM_BYTES`](crate::testsuite::MAX_WASM_BYTES) bytes. The loader checked it; a file
/// swapped since then is caught here.
pub fn read_module(p: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(p).map_err(Error::io("reading", p))?;
    if !f.metadata().map_err(Error::io("reading", p))?.is_file() {
        return Err(Error::suite(p, "not a regular file"));
    }
    let max = crate::testsuite::MAX_WASM_BYTES;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(Error::io("reading", p))?;
    if buf.len() as u64 > max {
        return Err(Error::suite(p, format!("larger than {max} bytes")));
    }
    Ok(buf)
}

/// Load every case below `root` (`root/<category>/<case-id>/case.toml`), sorted by id.
pub fn load_suite(root: &Path) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    let mut categories: Vec<_> = std::fs::read_dir(root)
        .map_err(Error::io("cannot read suite directory", root))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .collect();
    categories.sort_by_key(|e| e.file_name());
    for cat in categories {
        let category = cat.file_name().to_string_lossy().into_owned();
        let mut dirs: Vec<_> = std::fs::read_dir(cat.path())
            .map_err(Error::io("cannot read suite directory", cat.path()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .collect();
        dirs.sort_by_key(|e| e.file_name());
        for d in dirs {
            let dir = d.path();
            let toml_path = dir.join("case.toml");
            if !toml_path.is_file() {
                continue;
            }
            let text =
                std::fs::read_to_string(&toml_path).map_err(Error::io("reading", &toml_path))?;
            let spec: Spec = toml::from_str(&text).map_err(Error::invalid(format!(
                "{}: invalid case",
                toml_path.display()
            )))?;
            spec.expect
                .validate()
                .map_err(|e| Error::suite(&toml_path, format!("[expect] {e}")))?;
            let p2 = p2_spec(&text, &spec)
                .map_err(Error::invalid(format!(
                    "{}: invalid [p2]",
                    toml_path.display()
                )))?
                .map(std::sync::Arc::new);
            for r in &spec.requires {
                if !FEATURES.contains(&r.as_str()) {
                    return Err(Error::suite(
                        &toml_path,
                        format!(
                            "unknown `requires` entry `{r}` (known: {})",
                            FEATURES.join(", ")
                        ),
                    ));
                }
            }
            if let Some(n) = &spec.run.network
                && n != "inherit"
            {
                return Err(Error::suite(
                    &toml_path,
                    format!("[run] network must be \"inherit\" (or absent), not {n:?}"),
                ));
            }
            if let Some(c) = spec
                .expect
                .canary
                .iter()
                .find(|c| !matches!(c.as_str(), "tcp" | "udp"))
            {
                return Err(Error::suite(
                    &toml_path,
                    format!("[expect] canary entries are \"tcp\" or \"udp\", not {c:?}"),
                ));
            }
            if !spec.expect.canary.is_empty() && spec.run.network.is_none() {
                return Err(Error::suite(
                    &toml_path,
                    "[expect] canary needs [run] network: without a grant, reaching a canary \
                     is an escape",
                ));
            }
            for p in &spec.run.dirs {
                if !matches!(p.mode.as_str(), "rw" | "ro" | "ro-files") {
                    return Err(Error::suite(
                        &toml_path,
                        format!(
                            "dir mode must be \"rw\", \"ro\" or \"ro-files\", not {:?}",
                            p.mode
                        ),
                    ));
                }
                check_relative(&toml_path, &p.host)?;
            }
            let module = dir.join("module.wat");
            if !module.is_file() {
                return Err(Error::suite(&dir, "missing module.wat"));
            }
            cases.push(Case {
                id: format!("{category}/{}", d.file_name().to_string_lossy()),
                category: category.clone(),
                dir,
                module: Module::Wat(module),
                spec,
                unsupported: None,
                wasi: None,
                p2,
            });
        }
    }
    Ok(cases)
}

/// The spec a case runs under as a component: its `[expect]` with the `[p2].expect` keys put
/// in place of the base ones, checked like the base.
fn p2_spec(text: &str, spec: &Spec) -> Result<Option<Spec>> {
    let Some(overlay) = &spec.p2 else {
        return Ok(None);
    };
    if overlay.why.trim().is_empty() {
        return Err(Error::Rule(
            "`why` must say what differs as a component, and why".into(),
        ));
    }
    if overlay.not_applicable {
        if !overlay.expect.is_empty() {
            return Err(Error::Rule(
                "`not_applicable = true` runs nothing: `expect` would never be checked".into(),
            ));
        }
        return Ok(None);
    }
    if overlay.expect.is_empty() {
        return Err(Error::Rule(
            "`expect` is empty: a [p2] table changes at least one key".into(),
        ));
    }
    let mut table: toml::Table = toml::from_str(text)?;
    let expect = table
        .entry("expect")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(expect) = expect.as_table_mut() else {
        return Err(Error::Rule("[expect] is not a table".into()));
    };
    for (k, v) in &overlay.expect {
        expect.insert(k.clone(), v.clone());
    }
    table.remove("p2");
    let merged: Spec = table
        .try_into()
        .map_err(Error::invalid::<toml::de::Error>("the [expect] it makes"))?;
    merged.expect.validate()?;
    Ok(Some(merged))
}

fn check_relative(file: &Path, p: &str) -> Result<()> {
    let path = Path::new(p);
    if path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Error::suite(
            file,
            format!("`{p}` must be a relative path inside the work dir"),
        ));
    }
    Ok(())
}

/// SHA-256 over the case files in a stable order: for each case by id, its relative path,
/// a NUL, the file bytes, a NUL, for `case.toml` then `module.wat` (or the test's files).
pub fn suite_digest(cases: &[Case]) -> String {
    let mut h = Sha256::new();
    let mut sorted: Vec<&Case> = cases.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for c in sorted {
        let mut files: Vec<PathBuf> = match &c.module {
            Module::Wat(p) => vec![c.dir.join("case.toml"), p.clone()],
            Module::Wasm(p) => vec![p.clone(), p.with_extension("json")],
            Module::Bytes(b) => {
                // The module bytes and the limits they run under are the case.
                h.update(format!("{}\0{:?}\0", c.id, c.spec.limits).as_bytes());
                h.update(b.as_slice());
                h.update([0]);
                continue;
            }
        };
        // A component-native case is also the WIT its module is given (suites/wit).
        if c.spec.component.is_some()
            && let Some(wit) = c
                .dir
                .parent()
                .and_then(|d| d.parent())
                .map(|d| d.join("wit"))
        {
            files.push(wit.join("guests.wit"));
            if let Ok(rd) = std::fs::read_dir(wit.join("deps")) {
                // As `world::guest_component` reads them: regular files only, no symlink.
                let mut deps: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
                    .collect();
                deps.sort();
                files.extend(deps);
            }
        }
        files.retain(|f| f.is_file());
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            h.update(format!("{}/{name}", c.id).as_bytes());
            h.update([0]);
            h.update(std::fs::read(&f).unwrap_or_default());
            h.update([0]);
        }
    }
    hex::encode(h.finalize())
}

pub use crate::testsuite::{MAX_SPEC_BYTES, load_wasi_testsuite, parse_testsuite_spec};

/// Keep the cases of shard `k` of `n` (1-based), by position in id order.
pub fn shard(cases: Vec<Case>, k: usize, n: usize) -> Vec<Case> {
    cases
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, c)| c)
        .collect()
}

/// The built-in suites: `suites/` in the working directory when there is one (a checkout),
/// else the one beside this crate's sources.
pub fn builtin_suite_dir() -> PathBuf {
    let local = PathBuf::from("suites");
    if local.is_dir() {
        return local;
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().unwrap_or(crate_dir).join("suites")
}

/// The cases a run executes, with the suite's name: upstream's WASI testsuite at `wasi`, else
/// our suite format at `suite`, else the built-in suites; then only the ids `filter` (a regex)
/// matches. The one entry point `certify`, `suites list` and `matrix` select cases with.
pub fn load_cases(
    suite: Option<&Path>,
    wasi: Option<&Path>,
    filter: Option<&str>,
) -> Result<(String, Vec<Case>)> {
    let (name, mut cases) = match (suite, wasi) {
        (_, Some(dir)) => load_wasi_testsuite(dir)?,
        (Some(dir), None) => (dir.display().to_string(), load_suite(dir)?),
        (None, None) => (
            "wasmcert-builtin".to_string(),
            load_suite(&builtin_suite_dir())?,
        ),
    };
    if let Some(f) = filter {
        let re = regex::Regex::new(f).map_err(Error::invalid::<regex::Error>(format!(
            "--filter {f:?} is not a valid regex"
        )))?;
        cases.retain(|c| re.is_match(&c.id));
    }
    Ok((name, cases))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;

    fn load_one(case_toml: &str) -> Result<Case> {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("cat/case");
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(c.join("case.toml"), case_toml).unwrap();
        std::fs::write(c.join("module.wat"), MODULE).unwrap();
        load_suite(dir.path()).map(|mut v| v.remove(0))
    }

    fn err(case_toml: &str) -> String {
        load_one(case_toml).unwrap_err().with_causes().to_string()
    }

    #[test]
    fn a_p2_overlay_replaces_only_the_keys_it_names() {
        let c = load_one(
            "[expect]\nexit_code = 42\nstdout = \"x\\n\"\n\n[p2]\nwhy = \"WASI 0.2 exits 1\"\nexpect = { exit_code = 1 }\n",
        )
        .unwrap();
        assert_eq!(c.spec.expect.exit_code, Some(42));
        let p2 = c.p2.unwrap();
        assert_eq!(p2.expect.exit_code, Some(1));
        assert_eq!(p2.expect.stdout.as_deref(), Some("x\n"));
    }

    #[test]
    fn p2_overlays_that_mean_nothing_or_contradict_are_refused() {
        assert!(
            err("[p2]\nwhy = \"\"\nexpect = { exit_code = 1 }\n").contains("`why`"),
            "empty why"
        );
        assert!(err("[p2]\nwhy = \"w\"\n").contains("`expect` is empty"));
        assert!(
            err("[p2]\nwhy = \"w\"\nnot_applicable = true\nexpect = { exit_code = 1 }\n")
                .contains("never be checked")
        );
        // The merged [expect] is validated like the base one.
        assert!(
            err("[expect]\ntrap = true\n\n[p2]\nwhy = \"w\"\nexpect = { exit_code = 1 }\n")
                .contains("cannot all hold")
        );
    }

    #[test]
    fn network_grants_and_canaries_are_checked_on_load() {
        assert!(err("[run]\nnetwork = \"all\"\n").contains("network must be \"inherit\""));
        assert!(
            err("[expect]\ncanary = [\"tcp\"]\n").contains("needs [run] network"),
            "a canary expectation without a grant"
        );
        assert!(
            err("[run]\nnetwork = \"inherit\"\n[expect]\ncanary = [\"icmp\"]\n")
                .contains("\"tcp\" or \"udp\"")
        );
        let c = load_one("component = \"tcp-client\"\n[run]\nnetwork = \"inherit\"\n").unwrap();
        assert_eq!(c.spec.component.as_deref(), Some("tcp-client"));
    }
}
