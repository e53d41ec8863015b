//! Shared helpers: fixtures compiled from `.wat` at test time, policies from text, and a compact
//! view of a decision.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use wasmcert_analyzer::{Analysis, Options, analyze};
use wasmcert_policy::{Decision, Level, Policy};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Analyse wasm bytes as if they were the file `path`.
pub fn analyse(bytes: &[u8], path: &str) -> Analysis {
    analyze(
        bytes,
        &Options {
            validate: true,
            path: path.into(),
        },
    )
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn wat(text: &str) -> Analysis {
    analyse(&wat::parse_str(text).expect("valid wat"), "inline.wasm")
}

/// Every fixture: the policy fixtures, then the analyzer's, as (name, analysis), sorted by name.
pub fn fixtures() -> Vec<(String, Analysis)> {
    let mut out = Vec::new();
    for dir in [
        root().join("tests/fixtures"),
        root().join("../analyzer/tests/fixtures"),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wat"))
            .collect();
        files.sort();
        for f in files {
            let name = f.file_stem().unwrap().to_string_lossy().into_owned();
            let bytes = wat::parse_file(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            out.push((name.clone(), analyse(&bytes, &format!("{name}.wasm"))));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn fixture(name: &str) -> Analysis {
    fixtures()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}

/// A native policy from text; relative paths resolve from `base` (default: this crate).
pub fn policy_in(text: &str, base: &Path) -> Policy {
    let mut p = Policy::from_text(text, "policy.toml", base, false)
        .unwrap_or_else(|e| panic!("policy does not load: {e}"));
    p.set_today("2026-12-01");
    p
}

pub fn policy(text: &str) -> Policy {
    policy_in(text, &root())
}

pub fn load_error(text: &str) -> String {
    Policy::from_text(text, "policy.toml", &root(), false)
        .expect_err("the policy should not load")
        .to_string()
}

pub fn decide(p: &Policy, a: &Analysis) -> Decision {
    p.evaluate(a, &[]).expect("evaluates")
}

/// `(level, rule)` of every finding that is not excepted, sorted, deduplicated.
pub fn rules(d: &Decision) -> Vec<(Level, String)> {
    let mut v: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.excepted.is_none())
        .map(|f| (f.level, f.rule.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

pub fn denied(d: &Decision) -> Vec<String> {
    rules(d)
        .into_iter()
        .filter(|(l, _)| *l == Level::Deny)
        .map(|(_, r)| r)
        .collect()
}

pub fn warned(d: &Decision) -> Vec<String> {
    rules(d)
        .into_iter()
        .filter(|(l, _)| *l == Level::Warn)
        .map(|(_, r)| r)
        .collect()
}
