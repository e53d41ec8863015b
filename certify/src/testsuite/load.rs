//! Finding the suites below a directory and loading their tests: manifests, modules, specs
//! and fixture snapshots, every file bounded and nothing read from outside the directory
//! given.

use super::spec::parse_testsuite_spec;
use super::{
    Fixture, FixtureEntry, MAX_DISCOVERY_DEPTH, MAX_DISCOVERY_DIRS, MAX_FIXTURE_DEPTH,
    MAX_FIXTURE_ENTRIES, MAX_FIXTURE_FILE, MAX_FIXTURE_TOTAL, MAX_MANIFEST_BYTES, MAX_SPEC_BYTES,
    MAX_SUITES, MAX_TESTS, MAX_WASM_BYTES, Op, Style, TEST_DEADLINE_MS, Test, TestSpec,
    WasiVersion, World,
};
use crate::case::{Case, Expect, Limits, Module, Run as CaseRun, Setup, Spec as CaseSpec};
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// `manifest.json`, or upstream's defaults without one.
fn read_manifest(dir: &Path, canon: &Path) -> Result<(String, WasiVersion)> {
    let dir_name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let (mut name, mut version) = match dir_name.as_deref().and_then(WasiVersion::parse) {
        Some(v) => (
            dir.parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            v,
        ),
        None => (dir.display().to_string(), WasiVersion::P1),
    };
    let path = dir.join("manifest.json");
    let Some(text) = read_file(canon, &path, MAX_MANIFEST_BYTES)? else {
        return Ok((name, version));
    };
    let v: Value = serde_json::from_slice(&text).map_err(Error::invalid::<serde_json::Error>(
        format!("{}: invalid JSON", path.display()),
    ))?;
    let Value::Object(obj) = v else {
        return Err(Error::suite(&path, "a manifest must be an object"));
    };
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("name", Value::String(s)) => name = s,
            ("version", Value::String(s)) if WasiVersion::parse(&s).is_some() => {
                version = WasiVersion::parse(&s).unwrap_or(version)
            }
            ("name" | "version", v) => {
                return Err(Error::suite(&path, format!("invalid `{k}`: {v}")));
            }
            (k, v) => {
                return Err(Error::suite(
                    &path,
                    format!("unexpected manifest option: {k}={v}"),
                ));
            }
        }
    }
    Ok((name, version))
}

/// Read a file of the suite: it must be a regular file (through symlinks that stay inside the
/// directory given, `canon`) of at most `max` bytes. `None` when it does not exist.
fn read_file(canon: &Path, path: &Path, max: u64) -> Result<Option<Vec<u8>>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", path)(e)),
    };
    if meta.file_type().is_symlink() {
        inside(canon, path)?;
    }
    let meta = std::fs::metadata(path).map_err(Error::io("reading", path))?;
    if !meta.is_file() {
        return Err(Error::suite(path, "not a regular file"));
    }
    if meta.len() > max {
        return Err(Error::suite(
            path,
            format!("{} bytes, larger than the {max}-byte bound", meta.len()),
        ));
    }
    let mut buf = Vec::new();
    use std::io::Read;
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut buf))
        .map_err(Error::io("reading", path))?;
    if buf.len() as u64 > max {
        return Err(Error::suite(
            path,
            format!("larger than the {max}-byte bound"),
        ));
    }
    Ok(Some(buf))
}

/// The canonical form of `path`, which must lie inside `canon` (the directory given to the
/// loader): a path that is, or passes through, a symlink leading out of it is refused.
fn inside(canon: &Path, path: &Path) -> Result<PathBuf> {
    let real = std::fs::canonicalize(path).map_err(Error::io("resolving", path))?;
    if !real.starts_with(canon) {
        return Err(outside(path, &real));
    }
    Ok(real)
}

/// A path that leads out of the directory given to the loader.
fn outside(path: &Path, real: &Path) -> Error {
    Error::Rule(format!(
        "{} leads outside the testsuite directory (to {}): refused",
        path.display(),
        real.display()
    ))
}

/// A fixture that breaks a rule or a bound.
fn fixture(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Fixture {
        dir: path.to_path_buf(),
        why: why.to_string(),
    }
}

/// Snapshot a fixture dir: every entry, bounded; symlinks recorded, never followed.
fn snapshot_fixture(canon: &Path, dir: &Path, rel: &str, total: &mut u64) -> Result<Fixture> {
    let path = dir.join(rel);
    // The fixture dir itself, or a directory on the way to it, may be a link inside the
    // testsuite directory; one leading outside is refused, whatever it points at, and whether
    // or not what it names exists.
    let mut at = dir.to_path_buf();
    for c in Path::new(rel).components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let real = match std::fs::canonicalize(&at) {
                    Ok(real) => real,
                    // A dangling link: where it points still decides.
                    Err(_) => {
                        let target = std::fs::read_link(&at).map_err(Error::io("reading", &at))?;
                        let base = at
                            .parent()
                            .and_then(|p| std::fs::canonicalize(p).ok())
                            .unwrap_or_default();
                        lexical(&base, &target)
                    }
                };
                if !real.starts_with(canon) {
                    return Err(outside(&at, &real));
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Fixture::Missing),
        Err(e) => return Err(Error::io("fixture", &path)(e)),
    };
    let real = inside(canon, &path)?;
    if !meta.is_dir() && !std::fs::metadata(&real).is_ok_and(|m| m.is_dir()) {
        return Ok(Fixture::Missing);
    }
    let mut entries = Vec::new();
    let mut stack = vec![(real.clone(), String::new(), 0usize)];
    while let Some((d, r, depth)) = stack.pop() {
        if depth > MAX_FIXTURE_DEPTH {
            return Err(fixture(
                &path,
                format!("nests deeper than {MAX_FIXTURE_DEPTH} levels"),
            ));
        }
        let mut children = Vec::new();
        for e in std::fs::read_dir(&d).map_err(Error::io("reading", &d))? {
            let e = e.map_err(Error::io("reading", &d))?;
            children.push(e);
            if entries.len() + children.len() > MAX_FIXTURE_ENTRIES {
                return Err(fixture(
                    &path,
                    format!("more than {MAX_FIXTURE_ENTRIES} entries"),
                ));
            }
        }
        children.sort_by_key(|e| e.file_name());
        for e in children {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                return Err(fixture(&d, "a file name is not UTF-8"));
            };
            let r = if r.is_empty() {
                name.to_string()
            } else {
                format!("{r}/{name}")
            };
            let ft = e.file_type().map_err(Error::io("reading", e.path()))?;
            if ft.is_symlink() {
                let t = std::fs::read_link(e.path()).map_err(Error::io("reading", e.path()))?;
                if !link_stays_inside(&r, &t) {
                    return Err(fixture(
                        &path,
                        format!(
                            "the symlink {r} points outside the fixture ({}): refused",
                            t.display()
                        ),
                    ));
                }
                entries.push((r, FixtureEntry::Symlink(t)));
            } else if ft.is_dir() {
                entries.push((r.clone(), FixtureEntry::Dir));
                stack.push((e.path(), r, depth + 1));
            } else if ft.is_file() {
                let bytes = read_nofollow(&e.path(), MAX_FIXTURE_FILE)?;
                *total += bytes.len() as u64;
                if *total > MAX_FIXTURE_TOTAL {
                    return Err(Error::Rule(format!(
                        "fixtures hold more than {MAX_FIXTURE_TOTAL} bytes in all"
                    )));
                }
                entries.push((r, FixtureEntry::File(bytes.into())));
            } else {
                return Err(fixture(
                    &path,
                    format!("{r} is not a file, directory or symlink"),
                ));
            }
        }
    }
    // Parents before children, whatever order the walk took.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Fixture::Dir(entries))
}

/// `target` taken from `base` without the filesystem: `..` removes a component.
fn lexical(base: &Path, target: &Path) -> PathBuf {
    let mut out = if target.is_absolute() {
        PathBuf::from("/")
    } else {
        base.to_path_buf()
    };
    for c in target.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// Whether a symlink at `rel` (inside a fixture) with `target` resolves inside the fixture,
/// read lexically: relative, and never climbing above the fixture's top. A fixture must not hand
/// a runtime that follows links a way to a host file, which would then land in the report.
fn link_stays_inside(rel: &str, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth = rel.split('/').count() - 1;
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Read a regular file without following a symlink put in its place since it was listed.
fn read_nofollow(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(Error::io("reading fixture", path))?;
    let m = f.metadata().map_err(Error::io("reading fixture", path))?;
    if !m.is_file() {
        return Err(fixture(path, "not a regular file"));
    }
    if m.len() > max {
        return Err(fixture(
            path,
            format!("{} bytes, larger than the {max}-byte bound", m.len()),
        ));
    }
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(Error::io("reading fixture", path))?;
    if buf.len() as u64 > max {
        return Err(fixture(path, format!("larger than the {max}-byte bound")));
    }
    Ok(buf)
}

/// A name usable in a case id: `[A-Za-z0-9._+-]`, runs of anything else become one `-`.
fn sanitize(s: &str, lower: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') {
            out.push(if lower { c.to_ascii_lowercase() } else { c });
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    out.chars().take(200).collect()
}

/// The suites of `dir`: `dir` itself when it holds a `manifest.json` or a `*.wasm`, else every
/// directory below it that holds a `manifest.json` (as upstream's `run-tests` finds them),
/// without following symlinks.
fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let is_suite = |d: &Path| -> Result<bool> {
        if std::fs::symlink_metadata(d.join("manifest.json")).is_ok() {
            return Ok(true);
        }
        Ok(std::fs::read_dir(d)
            .map_err(Error::io("cannot read test suite directory", d))?
            .filter_map(|e| e.ok())
            .any(|e| e.path().extension().is_some_and(|x| x == "wasm")))
    };
    if is_suite(dir)? {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    let mut visited = 0usize;
    while let Some((d, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_DISCOVERY_DIRS {
            return Err(Error::suite(
                dir,
                format!("more than {MAX_DISCOVERY_DIRS} directories below it"),
            ));
        }
        if std::fs::symlink_metadata(d.join("manifest.json")).is_ok() {
            found.push(d.clone());
            if found.len() > MAX_SUITES {
                return Err(Error::suite(
                    dir,
                    format!("more than {MAX_SUITES} suites below it"),
                ));
            }
            continue;
        }
        if depth >= MAX_DISCOVERY_DEPTH {
            continue;
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(Error::suite(
            dir,
            "no WASI testsuite here (no manifest.json or *.wasm in it, and no manifest.json below it)",
        ));
    }
    Ok(found)
}

/// Load a directory in the WASI testsuite format: one suite, or every suite below it. Returns
/// the suite name (the manifest's; several joined with ` + `) and the cases, sorted by id.
pub fn load_wasi_testsuite(dir: &Path) -> Result<(String, Vec<Case>)> {
    let mut names = Vec::new();
    let mut empty = Vec::new();
    let mut cases = Vec::new();
    let mut total = 0u64;
    // Nothing is read from outside the directory given: a path that leads out of it through a
    // symlink is refused, whatever it points at.
    let boundary =
        std::fs::canonicalize(dir).map_err(Error::io("cannot read test suite directory", dir))?;
    for suite in discover(dir)? {
        let (name, mut c) = load_suite(&suite, &boundary, &mut total)?;
        // A manifest without tests (upstream keeps one among its sources) adds nothing.
        if c.is_empty() {
            empty.push(name);
            continue;
        }
        names.push(name);
        cases.append(&mut c);
        if cases.len() > MAX_TESTS {
            return Err(Error::suite(dir, format!("more than {MAX_TESTS} tests")));
        }
    }
    if names.is_empty() {
        names = empty;
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(w) = cases.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(Error::suite(
            dir,
            format!(
                "two tests have the case id {} (suite names or test names collide)",
                w[0].id
            ),
        ));
    }
    Ok((names.join(" + "), cases))
}

fn load_suite(dir: &Path, canon: &Path, total: &mut u64) -> Result<(String, Vec<Case>)> {
    let (name, version) = read_manifest(dir, canon)?;
    let category = match sanitize(&name, true) {
        s if s.is_empty() => "wasi-testsuite".to_string(),
        s => s,
    };
    let mut wasm = Vec::new();
    for e in std::fs::read_dir(dir).map_err(Error::io("reading", dir))? {
        let p = e.map_err(Error::io("reading", dir))?.path();
        if p.extension().is_some_and(|x| x == "wasm") {
            wasm.push(p);
            if wasm.len() > MAX_TESTS {
                return Err(Error::suite(dir, format!("more than {MAX_TESTS} tests")));
            }
        }
    }
    wasm.sort();
    let mut fixtures: BTreeMap<String, Arc<Fixture>> = BTreeMap::new();
    let mut cases = Vec::new();
    for w in wasm {
        let stem = w
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The module: a regular file inside the suite, of bounded size (read when it runs).
        let real = inside(canon, &w)?;
        let meta = std::fs::metadata(&w).map_err(Error::io("reading", &w))?;
        if !meta.is_file() || meta.len() > MAX_WASM_BYTES {
            return Err(Error::suite(
                &w,
                format!("not a regular file of at most {MAX_WASM_BYTES} bytes"),
            ));
        }
        let spec_path = w.with_extension("json");
        let spec = match read_file(canon, &spec_path, MAX_SPEC_BYTES)? {
            Some(bytes) => parse_testsuite_spec(
                std::str::from_utf8(&bytes).map_err(Error::invalid::<std::str::Utf8Error>(
                    format!("{}: not UTF-8", spec_path.display()),
                ))?,
                &spec_path,
            )?,
            None => TestSpec::default(),
        };
        let mut mine = BTreeMap::new();
        for rel in &spec.fixture_dirs {
            let f = match fixtures.get(rel) {
                Some(f) => f.clone(),
                None => {
                    let f = Arc::new(snapshot_fixture(canon, dir, rel, total)?);
                    fixtures.insert(rel.clone(), f.clone());
                    f
                }
            };
            mine.insert(rel.clone(), f);
        }
        let test_name = sanitize(&stem, false);
        if test_name.is_empty() {
            return Err(Error::suite(&w, "the test name gives an empty case id"));
        }
        cases.push(Case {
            id: format!("{category}/{test_name}"),
            category: category.clone(),
            dir: dir.to_path_buf(),
            module: Module::Wasm(w.clone()),
            spec: case_spec(&stem, &w, version, &spec),
            unsupported: None,
            p2: None,
            wasi: Some(Arc::new(Test {
                name: stem,
                suite: name.clone(),
                version,
                spec,
                fixtures: mine,
                module: real,
            })),
        });
    }
    Ok((name, cases))
}

/// The case as `suites list` and the report describe it.
fn case_spec(stem: &str, w: &Path, version: WasiVersion, spec: &TestSpec) -> CaseSpec {
    let mut about = vec![version.label().to_string()];
    if spec.world != World::CliCommand {
        about.push(spec.world.label().into());
    }
    if !spec.proposals.is_empty() {
        about.push(format!(
            "proposals {}",
            spec.proposals
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    let ops: Vec<&str> = spec.operations.iter().map(Op::name).collect();
    about.push(match spec.style {
        Style::Default => "no spec".into(),
        Style::Legacy => format!("legacy spec: {}", ops.join(" ")),
        Style::Operations if ops.is_empty() => "operations: none (nothing runs)".into(),
        Style::Operations => format!("operations: {}", ops.join(" ")),
    });
    if !spec.ignored_keys.is_empty() {
        about.push(format!("ignored keys: {}", spec.ignored_keys.join(", ")));
    }
    CaseSpec {
        summary: format!("WASI testsuite `{stem}` ({})", about.join("; ")),
        source: w.display().to_string(),
        run: CaseRun::default(),
        limits: Limits {
            timeout_ms: Some(TEST_DEADLINE_MS),
            ..Limits::default()
        },
        requires: Vec::new(),
        component: None,
        setup: Setup::default(),
        expect: Expect::default(),
        p2: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitized_names_fit_case_ids() {
        assert_eq!(
            sanitize("WASI Rust tests [wasm32-wasip3]", true),
            "wasi-rust-tests-wasm32-wasip3"
        );
        assert_eq!(sanitize("Mini WASI tests", true), "mini-wasi-tests");
        assert_eq!(sanitize("a b", false), "a-b");
    }
}
