//! The compatibility matrix: many signed conformance reports in, each verified, one table of
//! runtime × case out, as JSON (the model), Markdown (for READMEs) and one self-contained HTML
//! page (no external scripts, styles or fonts; sortable and filterable).
//!
//! Only verified reports become columns: a bundle no given key verifies is listed under
//! `refused` with the reason and never shown as a result. Everything rendered is a function of
//! the bundles, the keys and the options (`as_of` is the one date, named), so re-rendering the
//! committed bundles reproduces the committed matrix byte for byte.

use crate::conformance::{Outcome, Report};
use crate::sign;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const MATRIX_SCHEMA_VERSION: u32 = 1;

/// Every outcome, in display order, with its label for people.
pub const OUTCOMES: &[(&str, &str)] = &[
    ("pass", "Pass"),
    ("expected-failure", "Expected failure"),
    ("not-supported", "Not supported"),
    ("fail", "Fail"),
    ("timeout", "Timeout"),
    ("crashed", "Crashed"),
    ("escaped", "Escaped"),
    ("error", "Error"),
];

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
    pub runtimes: Vec<RuntimeColumn>,
    pub categories: Vec<String>,
    pub cases: Vec<CaseRow>,
    /// Bundles that did not verify (or were superseded): never shown as results.
    pub refused: Vec<Refused>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeColumn {
    /// Stable column id: the runtime name; `name version` when two versions of one runtime
    /// are shown, plus a digest prefix when two builds share both.
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
    /// outcome → count over every case of the report.
    pub summary: BTreeMap<String, u32>,
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
    pub outcome: String,
    /// For an expected failure: what was observed (`escaped`, `fail`, ...), so a known escape
    /// still reads as an escape.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub observed: Option<String>,
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

fn why(o: &Outcome) -> String {
    match o {
        Outcome::Pass | Outcome::Timeout => String::new(),
        Outcome::Crashed { signal } => format!("killed by signal {signal}"),
        Outcome::ExpectedFailure { why }
        | Outcome::Fail { why }
        | Outcome::Escaped { why }
        | Outcome::NotSupported { why }
        | Outcome::Error { why } => why.clone(),
    }
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
    for b in bundles {
        let mut last_err = String::from("no key given");
        let mut ok = None;
        for k in keys {
            match sign::verify(&b.bytes, &k.pem, None) {
                Ok(v) => {
                    ok = Some((v, k));
                    break;
                }
                Err(e) => last_err = e.to_string(),
            }
        }
        let Some((v, key)) = ok else {
            refused.push(Refused {
                bundle: b.name.clone(),
                reason: format!("not verified by any given key ({last_err})"),
            });
            continue;
        };
        if v.predicate_type != sign::REPORT_PREDICATE {
            refused.push(Refused {
                bundle: b.name.clone(),
                reason: format!("a {} statement, not a conformance report", v.predicate_type),
            });
            continue;
        }
        #[derive(Deserialize)]
        struct Statement {
            predicate: Report,
        }
        let report = match serde_json::from_slice::<Statement>(&v.payload) {
            Ok(s) => s.predicate,
            Err(e) => {
                refused.push(Refused {
                    bundle: b.name.clone(),
                    reason: format!("the signed report does not parse: {e}"),
                });
                continue;
            }
        };
        let mut stale = Vec::new();
        match days_between(&report.started_at, &opts.as_of) {
            Some(d) if d > opts.max_age_days as i64 => stale.push(format!(
                "made {d} days before {} (limit {} days)",
                opts.as_of, opts.max_age_days
            )),
            Some(_) => {}
            None => stale.push(format!("started_at {:?} is not a time", report.started_at)),
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
        for c in report.cases.values() {
            *summary.entry(c.outcome.label().to_string()).or_insert(0) += 1;
        }
        let rt = &report.runtime;
        verified.push((
            RuntimeColumn {
                id: rt.name.clone(),
                name: rt.name.clone(),
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
                key_hint: v.key_hint.clone(),
                stale,
                summary,
            },
            report,
        ));
    }
    // One column per runtime build: the newest report wins, the others are listed as
    // superseded (so two reports of the same build never disagree side by side).
    verified.sort_by(|a, b| {
        (
            &a.0.name,
            &a.0.version,
            &a.0.binary_sha256,
            &b.0.started_at,
            &a.0.bundle,
        )
            .cmp(&(
                &b.0.name,
                &b.0.version,
                &b.0.binary_sha256,
                &a.0.started_at,
                &b.0.bundle,
            ))
    });
    let mut columns: Vec<(RuntimeColumn, Report)> = Vec::new();
    for (col, rep) in verified {
        if let Some((kept, _)) = columns.iter().find(|(c, _)| {
            c.name == col.name && c.version == col.version && c.binary_sha256 == col.binary_sha256
        }) {
            refused.push(Refused {
                bundle: col.bundle.clone(),
                reason: format!(
                    "superseded by {} (a newer report of the same build)",
                    kept.bundle
                ),
            });
            continue;
        }
        columns.push((col, rep));
    }
    // Two versions of one runtime: name them by version; two builds of one version: by digest.
    let ids: Vec<String> = columns.iter().map(|(c, _)| c.id.clone()).collect();
    for (c, _) in &mut columns {
        if ids.iter().filter(|i| **i == c.id).count() > 1 {
            c.id = format!("{} {}", c.name, c.version);
        }
    }
    let ids: Vec<String> = columns.iter().map(|(c, _)| c.id.clone()).collect();
    for (c, _) in &mut columns {
        if ids.iter().filter(|i| **i == c.id).count() > 1 {
            c.id = format!("{} ({})", c.id, prefix(&c.binary_sha256, 8));
        }
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
                .map(|(_, r)| {
                    r.cases.get(&id).map(|c| {
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
                        let why = why(&c.outcome);
                        let observed = match &c.outcome {
                            Outcome::ExpectedFailure { .. } => why
                                .split_once(':')
                                .map(|(o, _)| o.trim())
                                .filter(|o| OUTCOMES.iter().any(|(x, _)| x == o))
                                .map(str::to_string),
                            _ => None,
                        };
                        Cell {
                            outcome: c.outcome.label().to_string(),
                            observed,
                            why,
                            evidence,
                        }
                    })
                })
                .collect(),
            id,
            category,
        })
        .collect();
    refused.sort_by(|a, b| a.bundle.cmp(&b.bundle));
    Matrix {
        schema_version: MATRIX_SCHEMA_VERSION,
        tool: crate::conformance::ToolInfo {
            name: "wasmcert".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        as_of: opts.as_of.clone(),
        max_age_days: opts.max_age_days,
        current_suite_digest: opts.current_suite_digest.clone(),
        runtimes: columns.into_iter().map(|(c, _)| c).collect(),
        categories: categories.into_iter().collect(),
        cases,
        refused,
    }
}

fn cell_label(c: &Cell) -> String {
    match &c.observed {
        Some(o) => format!("{} ({})", label(&c.outcome), o),
        None => label(&c.outcome).to_string(),
    }
}

fn label(outcome: &str) -> &'static str {
    OUTCOMES
        .iter()
        .find(|(o, _)| *o == outcome)
        .map_or("Unknown", |(_, l)| l)
}

/// A short mark per outcome for the Markdown table (text, so it reads without colour too).
fn mark(outcome: &str) -> &'static str {
    match outcome {
        "pass" => "✅ pass",
        "expected-failure" => "⚠️ expected failure",
        "not-supported" => "➖ not supported",
        "fail" => "❌ fail",
        "timeout" => "⏱️ timeout",
        "crashed" => "💥 crashed",
        "escaped" => "🚨 ESCAPED",
        "error" => "❓ error",
        _ => "?",
    }
}

/// `N outcome` counts of one runtime column (over one category, or all), in display order;
/// expected failures say what was observed: `11 expected-failure (7 escaped, 4 fail)`.
fn summary_parts(m: &Matrix, col: usize, category: Option<&str>) -> Vec<String> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    let mut observed: BTreeMap<&str, u32> = BTreeMap::new();
    for c in m
        .cases
        .iter()
        .filter(|c| category.is_none_or(|cat| c.category == cat))
    {
        if let Some(cell) = &c.cells[col] {
            *counts.entry(cell.outcome.as_str()).or_default() += 1;
            if let Some(obs) = &cell.observed {
                *observed.entry(obs.as_str()).or_default() += 1;
            }
        }
    }
    OUTCOMES
        .iter()
        .filter_map(|(o, _)| {
            counts.get(o).map(|n| {
                if *o == "expected-failure" && !observed.is_empty() {
                    let obs: Vec<String> = OUTCOMES
                        .iter()
                        .filter_map(|(x, _)| observed.get(x).map(|k| format!("{k} {x}")))
                        .collect();
                    format!("{n} {o} ({})", obs.join(", "))
                } else {
                    format!("{n} {o}")
                }
            })
        })
        .collect()
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The first `n` characters (reports are signed, not necessarily ASCII: never cut a character).
fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

fn short(d: &str) -> &str {
    prefix(d, 12)
}

pub fn markdown(m: &Matrix) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(o, "# WebAssembly runtime compatibility matrix\n");
    let _ = writeln!(
        o,
        "{} runtimes from verified signed conformance reports, as of {} (wasmcert {}). \
         A report older than {} days or made with another suite is marked stale.\n",
        m.runtimes.len(),
        m.as_of,
        m.tool.version,
        m.max_age_days
    );
    let _ = writeln!(
        o,
        "| runtime | version | binary sha256 | adapter | suite | made | key | status |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|");
    for r in &m.runtimes {
        let _ = writeln!(
            o,
            "| {} | {} | `{}…` | {} | `{}…` ({} cases) | {} | `{}` | {} |",
            md_cell(&r.name),
            md_cell(&r.version),
            short(&r.binary_sha256),
            md_cell(&r.adapter),
            short(&r.suite_digest),
            r.suite_cases,
            prefix(&r.started_at, 10),
            md_cell(&r.key_hint),
            if r.stale.is_empty() {
                "current".to_string()
            } else {
                format!("**stale**: {}", md_cell(&r.stale.join("; ")))
            }
        );
    }
    let _ = writeln!(o, "\n## Summary\n");
    let _ = write!(o, "| category |");
    for r in &m.runtimes {
        let _ = write!(o, " {} |", md_cell(&r.id));
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "|---|{}", "---|".repeat(m.runtimes.len()));
    for cat in &m.categories {
        let _ = write!(o, "| {cat} |");
        for (i, _) in m.runtimes.iter().enumerate() {
            let parts = summary_parts(m, i, Some(cat));
            let _ = write!(o, " {} |", parts.join(", "));
        }
        let _ = writeln!(o);
    }
    for cat in &m.categories {
        let _ = writeln!(o, "\n## {cat}\n");
        let _ = write!(o, "| case |");
        for r in &m.runtimes {
            let _ = write!(o, " {} |", md_cell(&r.id));
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "|---|{}", "---|".repeat(m.runtimes.len()));
        for c in m.cases.iter().filter(|c| &c.category == cat) {
            let _ = write!(o, "| `{}` |", c.id);
            for cell in &c.cells {
                let text = match cell {
                    None => "—".to_string(),
                    Some(c) => match &c.observed {
                        Some(obs) => format!("{} ({obs})", mark(&c.outcome)),
                        None => mark(&c.outcome).to_string(),
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
            let _ = writeln!(o, "- `{}`: {}", md_cell(&r.bundle), md_cell(&r.reason));
        }
    }
    let _ = writeln!(
        o,
        "\nOutcomes: {}.",
        OUTCOMES
            .iter()
            .map(|(o, _)| mark(o).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    o
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = r#"
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; }
body { margin: 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
p.meta { color: #57606a; margin: 0 0 1rem; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .45rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; position: sticky; top: 0; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable::after { content: " ⇅"; color: #8c959f; }
td.case { font-family: ui-monospace, monospace; white-space: nowrap; }
td.cell { padding: 0; }
td.cell button { all: unset; display: block; box-sizing: border-box; width: 100%; padding: .25rem .45rem; cursor: pointer; }
td.cell button:focus-visible { outline: 2px solid #0969da; }
.o-pass { background: #dafbe1; }
.o-expected-failure { background: #fff8c5; }
.o-not-supported { background: #eaeef2; color: #57606a; }
.o-fail { background: #ffebe9; }
.o-timeout { background: #ffddb0; }
.o-crashed { background: #ff8182; }
.o-escaped { background: #a40e26; color: #fff; font-weight: 700; }
.o-error { background: #d8b9ff; }
.o-missing { color: #8c959f; }
.obs-escaped { background: #ffd7d5; box-shadow: inset 0 0 0 3px #a40e26; font-weight: 700; }
.obs-crashed { box-shadow: inset 0 0 0 3px #ff8182; }
.obs-timeout { box-shadow: inset 0 0 0 3px #fb8f44; }
.stale { color: #9a6700; font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: 1.5rem; margin: 1rem 0; }
.filters fieldset { border: 1px solid #d0d7de; padding: .3rem .6rem; }
.filters label { margin-right: .6rem; white-space: nowrap; }
#detail { position: fixed; right: 1rem; bottom: 1rem; max-width: 40rem; max-height: 50vh; overflow: auto;
  background: #fff; border: 1px solid #57606a; box-shadow: 0 4px 16px #0003; padding: .8rem; display: none; }
#detail.open { display: block; }
#detail pre { white-space: pre-wrap; word-break: break-word; font-size: .8rem; }
.runtimes td { font-size: .8rem; }
.mono { font-family: ui-monospace, monospace; }
"#;

const SCRIPT: &str = r#"
(function () {
  const table = document.getElementById('matrix');
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const rank = { 'pass': 0, 'expected-failure': 1, 'not-supported': 2, 'fail': 3, 'timeout': 4,
                 'crashed': 5, 'escaped': 6, 'error': 7, 'missing': -1 };
  // A known (expected) escape sorts with the escapes: the worse of outcome and observed.
  function severity(td) {
    const o = rank[td.dataset.outcome], b = td.dataset.observed ? rank[td.dataset.observed] : -1;
    return Math.max(o, b);
  }
  function checked(name) {
    return new Set(Array.from(document.querySelectorAll('input[name="' + name + '"]:checked'))
      .map(function (i) { return i.value; }));
  }
  function applyFilters() {
    const cats = checked('category');
    const outs = checked('outcome');
    const q = document.getElementById('search').value.trim().toLowerCase();
    let shown = 0;
    rows.forEach(function (r) {
      const cells = Array.from(r.querySelectorAll('td.cell'));
      const hasOutcome = cells.some(function (c) {
        return outs.has(c.dataset.outcome) || (c.dataset.observed && outs.has(c.dataset.observed));
      });
      const ok = cats.has(r.dataset.category) && hasOutcome &&
        (q === '' || r.dataset.case.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById('shown').textContent = String(shown);
  }
  document.querySelectorAll('.filters input').forEach(function (i) {
    i.addEventListener('input', applyFilters);
    i.addEventListener('change', applyFilters);
  });
  let sortCol = null, sortDir = 1;
  document.querySelectorAll('th.sortable').forEach(function (th) {
    th.addEventListener('click', function () {
      const col = Number(th.dataset.col);
      sortDir = sortCol === col ? -sortDir : 1;
      sortCol = col;
      document.querySelectorAll('th.sortable').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        let x, y;
        if (col < 0) { x = a.dataset.case; y = b.dataset.case; }
        else {
          x = severity(a.cells[col + 1]); y = severity(b.cells[col + 1]);
          if (x === y) { x = a.dataset.case; y = b.dataset.case; }
        }
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  const detail = document.getElementById('detail');
  body.addEventListener('click', function (e) {
    const b = e.target.closest('td.cell button');
    if (!b) return;
    const td = b.parentElement;
    document.getElementById('detail-title').textContent = td.dataset.runtime + ' — ' + td.parentElement.dataset.case;
    document.getElementById('detail-outcome').textContent = td.dataset.label;
    document.getElementById('detail-body').textContent = td.title;
    detail.classList.add('open');
  });
  document.getElementById('detail-close').addEventListener('click', function () { detail.classList.remove('open'); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') detail.classList.remove('open'); });
  applyFilters();
})();
"#;

pub fn html(m: &Matrix) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing is loaded from anywhere: the page is one file.
    o.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n");
    o.push_str("<title>WebAssembly runtime compatibility matrix</title>\n<style>");
    o.push_str(STYLE);
    o.push_str("</style>\n</head>\n<body>\n");
    let _ = writeln!(o, "<h1>WebAssembly runtime compatibility matrix</h1>");
    let _ = writeln!(
        o,
        "<p class=\"meta\">{} runtimes from verified signed conformance reports, as of {} \
         (wasmcert {}). Reports older than {} days or made with another suite are marked stale.</p>",
        m.runtimes.len(),
        esc(&m.as_of),
        esc(&m.tool.version),
        m.max_age_days
    );
    // Runtimes.
    o.push_str("<table class=\"runtimes\" id=\"runtimes\">\n<thead><tr><th>runtime</th><th>version</th><th>binary sha256</th><th>adapter and flags</th><th>suite</th><th>made</th><th>signed by</th><th>status</th><th>summary</th></tr></thead>\n<tbody>\n");
    for (col, r) in m.runtimes.iter().enumerate() {
        let summary = summary_parts(m, col, None);
        let _ = writeln!(
            o,
            "<tr data-runtime=\"{}\"><td>{}</td><td>{}</td><td class=\"mono\" title=\"{}\">{}…</td><td class=\"mono\">{}{}</td><td class=\"mono\" title=\"{}\">{} ({} cases, {}…)</td><td>{}</td><td class=\"mono\" title=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.id),
            esc(&r.name),
            esc(&r.version),
            esc(&r.binary_sha256),
            esc(short(&r.binary_sha256)),
            esc(&r.adapter),
            if r.flags.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(&r.flags.join(" ")))
            },
            esc(&r.suite_digest),
            esc(&r.suite_name),
            r.suite_cases,
            esc(short(&r.suite_digest)),
            esc(&r.started_at),
            esc(&format!("{} ({})", r.key, r.bundle)),
            esc(&r.key_hint),
            if r.stale.is_empty() {
                "current".to_string()
            } else {
                format!(
                    "<span class=\"stale\" data-testid=\"stale\">stale</span>: {}",
                    esc(&r.stale.join("; "))
                )
            },
            esc(&summary.join(", "))
        );
    }
    o.push_str("</tbody>\n</table>\n");
    // Filters.
    o.push_str("<div class=\"filters\">\n<fieldset><legend>Category</legend>");
    for c in &m.categories {
        let _ = write!(
            o,
            "<label><input type=\"checkbox\" name=\"category\" value=\"{0}\" checked> {0}</label>",
            esc(c)
        );
    }
    o.push_str("</fieldset>\n<fieldset><legend>Outcome (rows with any)</legend>");
    for (oc, l) in OUTCOMES {
        let _ = write!(
            o,
            "<label class=\"o-{oc}\"><input type=\"checkbox\" name=\"outcome\" value=\"{oc}\" checked> {l}</label>"
        );
    }
    let _ = write!(
        o,
        "<label><input type=\"checkbox\" name=\"outcome\" value=\"missing\" checked> not run</label>"
    );
    o.push_str("</fieldset>\n<fieldset><legend>Case</legend><input type=\"search\" id=\"search\" placeholder=\"filter by id\"></fieldset>\n");
    let _ = writeln!(
        o,
        "<p><span id=\"shown\">{}</span> of {} cases shown</p>\n</div>",
        m.cases.len(),
        m.cases.len()
    );
    // The matrix.
    o.push_str(
        "<table id=\"matrix\">\n<thead><tr><th class=\"sortable\" data-col=\"-1\">case</th>",
    );
    for (i, r) in m.runtimes.iter().enumerate() {
        let _ = write!(
            o,
            "<th class=\"sortable\" data-col=\"{i}\" title=\"{}\">{}<br><small>{}</small>{}</th>",
            esc(&format!(
                "{} {} sha256:{}",
                r.name, r.version, r.binary_sha256
            )),
            esc(&r.id),
            esc(&r.version),
            if r.stale.is_empty() {
                ""
            } else {
                " <span class=\"stale\">(stale)</span>"
            }
        );
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for c in &m.cases {
        let _ = write!(
            o,
            "<tr data-case=\"{}\" data-category=\"{}\"><td class=\"case\">{}</td>",
            esc(&c.id),
            esc(&c.category),
            esc(&c.id)
        );
        for (i, cell) in c.cells.iter().enumerate() {
            let rt = &m.runtimes[i].id;
            match cell {
                Some(cell) => {
                    let mut title = format!("{}: {}", cell_label(cell), c.id);
                    if !cell.why.is_empty() {
                        title.push_str(&format!("\n{}", cell.why));
                    }
                    for e in &cell.evidence {
                        title.push_str(&format!("\n{e}"));
                    }
                    let observed = cell.observed.as_deref().unwrap_or("");
                    let _ = write!(
                        o,
                        "<td class=\"cell o-{0}{4}\" data-outcome=\"{0}\" data-observed=\"{5}\" data-label=\"{1}\" data-runtime=\"{2}\" title=\"{3}\"><button type=\"button\">{1}</button></td>",
                        esc(&cell.outcome),
                        esc(&cell_label(cell)),
                        esc(rt),
                        esc(&title),
                        if observed.is_empty() {
                            String::new()
                        } else {
                            format!(" obs-{}", esc(observed))
                        },
                        esc(observed)
                    );
                }
                None => {
                    let _ = write!(
                        o,
                        "<td class=\"cell o-missing\" data-outcome=\"missing\" data-label=\"not run\" data-runtime=\"{}\" title=\"not in this report\"><button type=\"button\">—</button></td>",
                        esc(rt)
                    );
                }
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
    if !m.refused.is_empty() {
        o.push_str("<h2>Refused bundles</h2>\n<ul id=\"refused\">\n");
        for r in &m.refused {
            let _ = writeln!(
                o,
                "<li><code>{}</code>: {}</li>",
                esc(&r.bundle),
                esc(&r.reason)
            );
        }
        o.push_str("</ul>\n");
    }
    o.push_str("<div id=\"detail\" role=\"dialog\" aria-live=\"polite\"><strong id=\"detail-title\"></strong> <span id=\"detail-outcome\"></span> <button type=\"button\" id=\"detail-close\">close</button><pre id=\"detail-body\"></pre></div>\n");
    o.push_str("<script>");
    o.push_str(SCRIPT);
    o.push_str("</script>\n</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes_never_cut_a_character() {
        assert_eq!(super::prefix("abcdef", 3), "abc");
        assert_eq!(super::prefix("ab", 3), "ab");
        assert_eq!(super::prefix("ééééé", 2), "éé");
        assert_eq!(
            super::esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
