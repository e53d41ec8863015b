//! The compatibility matrix: many signed conformance reports in, each verified, one table of
//! runtime × case out, as JSON (the model), Markdown (for READMEs) and one self-contained HTML
//! page (no external scripts, styles or fonts; sortable and filterable).
//!
//! Only verified reports become columns: a bundle no given key verifies is listed under
//! `refused` with the reason and never shown as a result. Every cell shows the observed
//! outcome; a known-failure annotation is a mark beside it, never a softer label. Each runtime
//! gets a headline of observed counts, most severe first. Everything rendered is a function of
//! the bundles, the keys and the options (`as_of` is the one date, named), so re-rendering the
//! committed bundles reproduces the committed matrix byte for byte.

use crate::conformance::{Known, OutcomeKind, Report, verify_report};
use crate::escape;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod html;
pub use html::html;

/// Version 2: cells carry the observed outcome and a separate `known` annotation.
pub const MATRIX_SCHEMA_VERSION: u32 = 2;

/// A signed bundle to put in the matrix.
pub struct BundleInput {
    /// The file name shown in the matrix and in refusals.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A public key trusted to sign reports.
pub struct KeyInput {
    pub name: String,
    pub pem: Vec<u8>,
}

pub struct Options {
    /// `YYYY-MM-DD`: the date staleness is judged on (recorded in the matrix).
    pub as_of: String,
    /// A report older than this many days (by `started_at`) is marked stale.
    pub max_age_days: u64,
    /// The suite digest reports should be made with; another one is marked stale.
    pub current_suite_digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub schema_version: u32,
    pub tool: crate::conformance::ToolInfo,
    pub as_of: String,
    pub max_age_days: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub current_suite_digest: Option<String>,
    /// Runtime columns, in column order (by name, version, digest).
    pub runtimes: Vec<RuntimeColumn>,
    /// Column indexes, most severe first: by escapes, then crashes and timeouts, failures,
    /// errors, fewest passes.
    pub severity_order: Vec<usize>,
    pub categories: Vec<String>,
    pub cases: Vec<CaseRow>,
    /// Bundles that did not verify (or were superseded, or are dated after `as_of`): never
    /// shown as results.
    pub refused: Vec<Refused>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeColumn {
    /// Stable column id: the runtime name; `name version` when two versions of one runtime
    /// are shown, plus a digest prefix when two builds share both, plus the key's name when
    /// two keys signed reports of one build.
    pub id: String,
    pub name: String,
    pub version: String,
    pub binary_sha256: String,
    pub adapter: String,
    pub flags: Vec<String>,
    pub suite_name: String,
    pub suite_digest: String,
    pub suite_cases: u32,
    pub host: String,
    pub started_at: String,
    /// The bundle it came from, its sha256, and the key that verified it.
    pub bundle: String,
    pub bundle_sha256: String,
    pub key: String,
    pub key_hint: String,
    /// Why the report is stale; empty when it is current.
    pub stale: Vec<String>,
    /// Observed outcome → count over every case of the report.
    pub summary: BTreeMap<OutcomeKind, u32>,
    /// Observed outcome → how many of those a known-failure list names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub known: BTreeMap<OutcomeKind, u32>,
}

impl RuntimeColumn {
    fn count(&self, k: OutcomeKind) -> u32 {
        self.summary.get(&k).copied().unwrap_or(0)
    }
    /// Sort key, most severe first.
    fn severity_key(&self) -> (std::cmp::Reverse<[u32; 4]>, u32) {
        use OutcomeKind::*;
        (
            std::cmp::Reverse([
                self.count(Escaped),
                self.count(Crashed) + self.count(Timeout),
                self.count(Fail),
                self.count(Error),
            ]),
            self.count(Pass),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRow {
    pub id: String,
    pub category: String,
    /// One cell per runtime column, in column order; `None` when that report lacks the case.
    pub cells: Vec<Option<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// What the runtime did.
    pub outcome: OutcomeKind,
    /// A known-failure list names the case (with the advisory, when it cites one).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub known: Option<Known>,
    /// The runner's explanation (escape evidence, failure reason, signal).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub why: String,
    /// Evidence lines: exit code, signal, trap, the heads of stdout/stderr, duration.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub bundle: String,
    pub reason: String,
}

fn days_between(from: &str, to_date: &str) -> Option<i64> {
    let from = humantime::parse_rfc3339_weak(from).ok()?;
    let to = humantime::parse_rfc3339_weak(&format!("{to_date}T23:59:59Z")).ok()?;
    let secs = match to.duration_since(from) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    Some(secs / 86_400)
}

/// Verify every bundle and build the matrix.
pub fn build(bundles: &[BundleInput], keys: &[KeyInput], opts: &Options) -> Matrix {
    use sha2::{Digest, Sha256};
    let mut refused = Vec::new();
    let mut verified: Vec<(RuntimeColumn, Report)> = Vec::new();
    let pems: Vec<&[u8]> = keys.iter().map(|k| k.pem.as_slice()).collect();
    for b in bundles {
        let refuse = |refused: &mut Vec<Refused>, reason: String| {
            refused.push(Refused {
                bundle: b.name.clone(),
                reason,
            })
        };
        let v = match verify_report(&b.bytes, &pems) {
            Ok(v) => v,
            Err(e) => {
                refuse(&mut refused, e.to_string());
                continue;
            }
        };
        let (report, key) = (v.report, &keys[v.key]);
        let mut stale = Vec::new();
        match days_between(&report.started_at, &opts.as_of) {
            // A report dated after the matrix date would never go stale (and would win
            // every "newest report" contest): refused.
            Some(d) if d < 0 => {
                refuse(
                    &mut refused,
                    format!(
                        "dated {}, after the matrix date {}: a report from the future is refused",
                        report.started_at, opts.as_of
                    ),
                );
                continue;
            }
            Some(d) if d > opts.max_age_days as i64 => stale.push(format!(
                "made {d} days before {} (limit {} days)",
                opts.as_of, opts.max_age_days
            )),
            Some(_) => {}
            None => {
                refuse(
                    &mut refused,
                    format!("started_at {:?} is not a time", report.started_at),
                );
                continue;
            }
        }
        if let Some(cur) = &opts.current_suite_digest
            && !report.suite.digest.eq_ignore_ascii_case(cur)
        {
            stale.push(format!(
                "made with suite {}…, the current suite is {}…",
                prefix(&report.suite.digest, 12),
                prefix(cur, 12)
            ));
        }
        if let Some(s) = &report.suite.shard {
            stale.push(format!(
                "covers shard {s} only (merge shards with wasmcert report merge)"
            ));
        }
        let mut summary = BTreeMap::new();
        let mut known = BTreeMap::new();
        for c in report.cases.values() {
            *summary.entry(c.outcome.kind()).or_insert(0) += 1;
            if c.known.as_ref().is_some_and(|k| k.holds) {
                *known.entry(c.outcome.kind()).or_insert(0) += 1;
            }
        }
        let rt = &report.runtime;
        // A certification of the runtime's WASI 0.2 host is a column of its own, beside (never
        // superseding) its preview1 one.
        let name = match report.suite.world {
            crate::conformance::WasiWorld::P1 => rt.name.clone(),
            w => format!("{} ({w})", rt.name),
        };
        verified.push((
            RuntimeColumn {
                id: name.clone(),
                name,
                version: rt.version.clone(),
                binary_sha256: rt.binary_sha256.clone(),
                adapter: rt.adapter.clone(),
                flags: rt.flags.clone(),
                suite_name: report.suite.name.clone(),
                suite_digest: report.suite.digest.clone(),
                suite_cases: report.suite.cases,
                host: format!("{}/{}", report.host.os, report.host.arch),
                started_at: report.started_at.clone(),
                bundle: b.name.clone(),
                bundle_sha256: hex::encode(Sha256::digest(&b.bytes)),
                key: key.name.clone(),
                key_hint: v.verified.key_hint.clone(),
                stale,
                summary,
                known,
            },
            report,
        ));
    }
    // One column per runtime build and signing key: the newest report wins, the others are
    // listed as superseded. A report signed by one key never supersedes another key's: a
    // second trusted signer adds a column beside the first, it cannot hide it.
    verified.sort_by(|a, b| {
        (
            &a.0.name,
            &a.0.version,
            &a.0.binary_sha256,
            &a.0.key_hint,
            &b.0.started_at,
            &a.0.bundle,
        )
            .cmp(&(
                &b.0.name,
                &b.0.version,
                &b.0.binary_sha256,
                &b.0.key_hint,
                &a.0.started_at,
                &b.0.bundle,
            ))
    });
    let mut columns: Vec<(RuntimeColumn, Report)> = Vec::new();
    for (col, rep) in verified {
        if let Some((kept, _)) = columns.iter().find(|(c, _)| {
            c.name == col.name
                && c.version == col.version
                && c.binary_sha256 == col.binary_sha256
                && c.key_hint == col.key_hint
        }) {
            refused.push(Refused {
                bundle: col.bundle.clone(),
                reason: format!(
                    "superseded by {} (a newer report of the same build, same key)",
                    kept.bundle
                ),
            });
            continue;
        }
        columns.push((col, rep));
    }
    // Columns of one runtime name are told apart by what differs among them: the version,
    // the build (digest prefix), the signing key (`wamr [vendor.pub]`).
    let ids: Vec<String> = columns
        .iter()
        .map(|(c, _)| {
            let group: Vec<&RuntimeColumn> = columns
                .iter()
                .map(|(g, _)| g)
                .filter(|g| g.name == c.name)
                .collect();
            if group.len() == 1 {
                return c.name.clone();
            }
            let varies = |f: fn(&RuntimeColumn) -> &str| group.iter().any(|g| f(g) != f(c));
            let mut id = c.name.clone();
            if varies(|g| &g.version) {
                id = format!("{id} {}", c.version);
            }
            if varies(|g| &g.binary_sha256) {
                id = format!("{id} ({})", prefix(&c.binary_sha256, 8));
            }
            if varies(|g| &g.key_hint) {
                id = format!("{id} [{}]", c.key);
            }
            id
        })
        .collect();
    for ((c, _), id) in columns.iter_mut().zip(ids) {
        c.id = id;
    }
    let mut case_ids: BTreeMap<String, String> = BTreeMap::new();
    for (_, r) in &columns {
        for (id, c) in &r.cases {
            case_ids
                .entry(id.clone())
                .or_insert_with(|| c.category.clone());
        }
    }
    let categories: BTreeSet<String> = case_ids.values().cloned().collect();
    let cases = case_ids
        .into_iter()
        .map(|(id, category)| CaseRow {
            cells: columns
                .iter()
                .map(|(_, r)| r.cases.get(&id).map(cell))
                .collect(),
            id,
            category,
        })
        .collect();
    refused.sort_by(|a, b| a.bundle.cmp(&b.bundle));
    let runtimes: Vec<RuntimeColumn> = columns.into_iter().map(|(c, _)| c).collect();
    let mut severity_order: Vec<usize> = (0..runtimes.len()).collect();
    severity_order.sort_by_key(|&i| (runtimes[i].severity_key(), runtimes[i].id.clone()));
    Matrix {
        schema_version: MATRIX_SCHEMA_VERSION,
        tool: crate::conformance::ToolInfo {
            name: "wasmcert".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        as_of: opts.as_of.clone(),
        max_age_days: opts.max_age_days,
        current_suite_digest: opts.current_suite_digest.clone(),
        runtimes,
        severity_order,
        categories: categories.into_iter().collect(),
        cases,
        refused,
    }
}

fn cell(c: &crate::conformance::CaseResult) -> Cell {
    let e = &c.evidence;
    let mut evidence = Vec::new();
    if let Some(x) = e.exit_code {
        evidence.push(format!("exit code {x}"));
    }
    if let Some(s) = e.signal {
        evidence.push(format!("signal {s}"));
    }
    if let Some(t) = &e.trap {
        evidence.push(format!("trap: {t}"));
    }
    if !e.stdout_head.is_empty() {
        evidence.push(format!("stdout: {}", e.stdout_head.trim_end()));
    }
    if !e.stderr_head.is_empty() {
        evidence.push(format!("stderr: {}", e.stderr_head.trim_end()));
    }
    evidence.push(format!("{} ms", e.duration_ms));
    Cell {
        outcome: c.outcome.kind(),
        known: c.known.clone(),
        why: c.outcome.detail(),
        evidence,
    }
}

/// What a known-failure annotation adds to a cell's label: `known: GHSA-…` (or `known`), or
/// `stale known-failure entry` when the list expected something else.
fn known_note(k: &Known) -> String {
    match (&k.advisory, k.holds) {
        (_, false) => format!("listed as {}: stale entry", k.expected),
        (Some(a), true) => format!("known: {a}"),
        (None, true) => "known".into(),
    }
}

fn cell_label(c: &Cell) -> String {
    match &c.known {
        Some(k) => format!("{} ({})", c.outcome.title(), known_note(k)),
        None => c.outcome.title().to_string(),
    }
}

/// A short mark per outcome for the Markdown table (text, so it reads without colour too).
fn mark(outcome: OutcomeKind) -> &'static str {
    match outcome {
        OutcomeKind::Pass => "✅ pass",
        OutcomeKind::NotSupported => "➖ not supported",
        OutcomeKind::Fail => "❌ fail",
        OutcomeKind::Timeout => "⏱️ timeout",
        OutcomeKind::Crashed => "💥 crashed",
        OutcomeKind::Escaped => "🚨 ESCAPED",
        OutcomeKind::Error => "❓ error",
    }
}

/// `N outcome` counts of one runtime column over one category, most severe first; known
/// ones say so: `13 escaped (13 known)`.
fn summary_parts(m: &Matrix, col: usize, category: &str) -> Vec<String> {
    let mut counts: BTreeMap<OutcomeKind, (u32, u32)> = BTreeMap::new();
    for c in m.cases.iter().filter(|c| c.category == category) {
        if let Some(cell) = &c.cells[col] {
            let e = counts.entry(cell.outcome).or_default();
            e.0 += 1;
            e.1 += u32::from(cell.known.as_ref().is_some_and(|k| k.holds));
        }
    }
    counts
        .into_iter()
        .map(|(o, (n, k))| {
            if k > 0 {
                format!("{n} {o} ({k} known)")
            } else {
                format!("{n} {o}")
            }
        })
        .collect()
}

/// The first `n` characters (reports are signed, not necessarily ASCII: never cut a character).
pub fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

fn short(d: &str) -> &str {
    prefix(d, 12)
}

/// The counts of the headline, most severe first (every outcome, zeros included).
fn headline_counts(r: &RuntimeColumn) -> impl Iterator<Item = (OutcomeKind, u32, u32)> + '_ {
    OutcomeKind::ALL
        .into_iter()
        .map(|k| (k, r.count(k), r.known.get(&k).copied().unwrap_or(0)))
}

pub fn markdown(m: &Matrix) -> String {
    use std::fmt::Write;
    let md = escape::markdown;
    let mut o = String::new();
    let _ = writeln!(o, "# WebAssembly runtime compatibility matrix\n");
    let _ = writeln!(
        o,
        "{} runtimes from verified signed conformance reports, as of {} (wasmcert {}). \
         A report older than {} days or made with another suite is marked stale. Every cell is \
         the observed outcome; \"known\" marks a case a known-failure list names, it does not \
         change the outcome.\n",
        m.runtimes.len(),
        md(&m.as_of),
        md(&m.tool.version),
        m.max_age_days
    );
    let _ = writeln!(o, "## Headline\n");
    let _ = writeln!(
        o,
        "Most severe first: escapes, then crashes and timeouts, failures, errors.\n"
    );
    let _ = write!(o, "| runtime |");
    for k in OutcomeKind::ALL {
        let _ = write!(o, " {} |", mark(k));
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "|---|{}", "--:|".repeat(OutcomeKind::ALL.len()));
    for &i in &m.severity_order {
        let r = &m.runtimes[i];
        let _ = write!(o, "| {} |", md(&r.id));
        for (k, n, known) in headline_counts(r) {
            let mut t = n.to_string();
            if n > 0
                && matches!(
                    k,
                    OutcomeKind::Escaped | OutcomeKind::Crashed | OutcomeKind::Timeout
                )
            {
                t = format!("**{t}**");
            }
            if known > 0 {
                let _ = write!(t, " ({known} known)");
            }
            let _ = write!(o, " {t} |");
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "\n## Runtimes\n");
    let _ = writeln!(
        o,
        "| runtime | version | binary sha256 | adapter | suite | made | key | status |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|");
    for r in &m.runtimes {
        let _ = writeln!(
            o,
            "| {} | {} | {}… | {} | {}… ({} cases) | {} | {} | {} |",
            md(&r.name),
            md(&r.version),
            md(short(&r.binary_sha256)),
            md(&r.adapter),
            md(short(&r.suite_digest)),
            r.suite_cases,
            md(prefix(&r.started_at, 10)),
            md(&r.key_hint),
            if r.stale.is_empty() {
                "current".to_string()
            } else {
                format!("**stale**: {}", md(&r.stale.join("; ")))
            }
        );
    }
    let _ = writeln!(o, "\n## Summary\n");
    let _ = write!(o, "| category |");
    for r in &m.runtimes {
        let _ = write!(o, " {} |", md(&r.id));
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "|---|{}", "---|".repeat(m.runtimes.len()));
    for cat in &m.categories {
        let _ = write!(o, "| {} |", md(cat));
        for (i, _) in m.runtimes.iter().enumerate() {
            let _ = write!(o, " {} |", md(&summary_parts(m, i, cat).join(", ")));
        }
        let _ = writeln!(o);
    }
    for cat in &m.categories {
        let _ = writeln!(o, "\n## {}\n", md(cat));
        let _ = write!(o, "| case |");
        for r in &m.runtimes {
            let _ = write!(o, " {} |", md(&r.id));
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "|---|{}", "---|".repeat(m.runtimes.len()));
        for c in m.cases.iter().filter(|c| &c.category == cat) {
            let _ = write!(o, "| {} |", md(&c.id));
            for cell in &c.cells {
                let text = match cell {
                    None => "—".to_string(),
                    Some(c) => match &c.known {
                        Some(k) => format!("{} ({})", mark(c.outcome), md(&known_note(k))),
                        None => mark(c.outcome).to_string(),
                    },
                };
                let _ = write!(o, " {text} |");
            }
            let _ = writeln!(o);
        }
    }
    if !m.refused.is_empty() {
        let _ = writeln!(o, "\n## Refused bundles\n");
        for r in &m.refused {
            let _ = writeln!(o, "- {}: {}", md(&r.bundle), md(&r.reason));
        }
    }
    let _ = writeln!(
        o,
        "\nOutcomes, most severe first: {}.",
        OutcomeKind::ALL
            .iter()
            .map(|k| mark(*k).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes_never_cut_a_character() {
        assert_eq!(super::prefix("abcdef", 3), "abc");
        assert_eq!(super::prefix("ab", 3), "ab");
        assert_eq!(super::prefix("ééééé", 2), "éé");
    }
}
