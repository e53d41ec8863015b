//! The matrix as one self-contained HTML page: a view of the [`Matrix`] computed here, laid out
//! by the template `matrix.html.j2` (minijinja), with the page's CSS and JS from their own
//! files. Every value is escaped by [`escape::xml`] through the formatter; only the page's own
//! CSS and JS are inserted as they are.

use super::{Matrix, Refused, cell_label, headline_counts, known_note, short};
use crate::conformance::OutcomeKind;
use crate::escape;
use serde::Serialize;

const STYLE: &str = include_str!("matrix.css");
const SCRIPT: &str = include_str!("matrix.js");

/// Severity for sorting in the page: higher is worse; a missing cell is 0.
fn severity(k: OutcomeKind) -> usize {
    OutcomeKind::ALL.len() - OutcomeKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

/// The page's template: markup in its own file, every `{{ value }}` escaped by [`escape::xml`]
/// (the formatter below), so a value from a signed report can never become markup.
const TEMPLATE: &str = include_str!("matrix.html.j2");

pub fn html(m: &Matrix) -> String {
    use minijinja::value::Value;
    let mut env = minijinja::Environment::new();
    // The page ends with a newline, as the template does.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_formatter(|out, _state, value| {
        let text = value.to_string();
        if value.is_safe() {
            out.write_str(&text)?;
        } else {
            out.write_str(&escape::xml(&text))?;
        }
        Ok(())
    });
    let view = HtmlView::of(m);
    let ctx = minijinja::context! {
        style => Value::from_safe_string(STYLE.to_string()),
        script => Value::from_safe_string(SCRIPT.to_string()),
        as_of => &m.as_of,
        version => &m.tool.version,
        max_age_days => m.max_age_days,
        ..Value::from(minijinja::value::Serde(&view))
    };
    // The template is part of this crate and covered by the matrix tests: a failure to render
    // it is a bug here, reported in the page rather than as a panic.
    env.render_str(TEMPLATE, ctx).unwrap_or_else(|e| {
        format!(
            "<!DOCTYPE html>\n<p>matrix template error: {}</p>\n",
            escape::xml(&e.to_string())
        )
    })
}

/// What the page shows, computed here so the template only lays it out.
#[derive(Serialize)]
struct HtmlView<'a> {
    outcomes: Vec<OutcomeView>,
    headline: Vec<HeadlineRow<'a>>,
    runtimes: Vec<RuntimeRow<'a>>,
    categories: &'a [String],
    columns: Vec<ColumnHead>,
    rows: Vec<HtmlRow<'a>>,
    refused: &'a [Refused],
}

#[derive(Serialize)]
struct OutcomeView {
    label: &'static str,
    title: &'static str,
}

#[derive(Serialize)]
struct HeadlineRow<'a> {
    id: &'a str,
    counts: Vec<HeadlineCount>,
}

#[derive(Serialize)]
struct HeadlineCount {
    label: &'static str,
    n: u32,
    known: u32,
    hot: bool,
}

#[derive(Serialize)]
struct RuntimeRow<'a> {
    id: &'a str,
    name: &'a str,
    version: &'a str,
    binary_sha256: &'a str,
    binary_short: &'a str,
    adapter: &'a str,
    flags: String,
    suite_digest: &'a str,
    suite_name: &'a str,
    suite_cases: u32,
    suite_short: &'a str,
    started_at: &'a str,
    signer: String,
    key_hint: &'a str,
    stale: String,
}

#[derive(Serialize)]
struct ColumnHead {
    title: String,
    id: String,
    version: String,
    stale: bool,
}

#[derive(Serialize)]
struct HtmlRow<'a> {
    id: &'a str,
    category: &'a str,
    cells: Vec<HtmlCell<'a>>,
}

#[derive(Serialize)]
struct HtmlCell<'a> {
    runtime: &'a str,
    /// Absent: the case is not in this runtime's report.
    outcome: Option<&'static str>,
    outcome_title: &'static str,
    severity: usize,
    label: String,
    title: String,
    note: Option<String>,
}

impl<'a> HtmlView<'a> {
    fn of(m: &'a Matrix) -> Self {
        let outcomes = OutcomeKind::ALL
            .iter()
            .map(|k| OutcomeView {
                label: k.label(),
                title: k.title(),
            })
            .collect();
        let headline = m
            .severity_order
            .iter()
            .map(|&i| {
                let r = &m.runtimes[i];
                HeadlineRow {
                    id: &r.id,
                    counts: headline_counts(r)
                        .map(|(k, n, known)| HeadlineCount {
                            label: k.label(),
                            n,
                            known,
                            hot: n > 0 && k.is_failure(),
                        })
                        .collect(),
                }
            })
            .collect();
        let runtimes = m
            .runtimes
            .iter()
            .map(|r| RuntimeRow {
                id: &r.id,
                name: &r.name,
                version: &r.version,
                binary_sha256: &r.binary_sha256,
                binary_short: short(&r.binary_sha256),
                adapter: &r.adapter,
                flags: r.flags.join(" "),
                suite_digest: &r.suite_digest,
                suite_name: &r.suite_name,
                suite_cases: r.suite_cases,
                suite_short: short(&r.suite_digest),
                started_at: &r.started_at,
                signer: format!("{} ({})", r.key, r.bundle),
                key_hint: &r.key_hint,
                stale: r.stale.join("; "),
            })
            .collect();
        let columns = m
            .runtimes
            .iter()
            .map(|r| ColumnHead {
                title: format!("{} {} sha256:{}", r.name, r.version, r.binary_sha256),
                id: r.id.clone(),
                version: r.version.clone(),
                stale: !r.stale.is_empty(),
            })
            .collect();
        let rows = m
            .cases
            .iter()
            .map(|c| HtmlRow {
                id: &c.id,
                category: &c.category,
                cells: c
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, cell)| {
                        let runtime = m.runtimes[i].id.as_str();
                        match cell {
                            Some(cell) => {
                                let label = cell_label(cell);
                                let mut title = format!("{label}: {}", c.id);
                                if let Some(k) = &cell.known {
                                    title.push_str(&format!("\nknown-failure list: {}", k.reason));
                                }
                                if !cell.why.is_empty() {
                                    title.push_str(&format!("\n{}", cell.why));
                                }
                                for e in &cell.evidence {
                                    title.push_str(&format!("\n{e}"));
                                }
                                HtmlCell {
                                    runtime,
                                    outcome: Some(cell.outcome.label()),
                                    outcome_title: cell.outcome.title(),
                                    severity: severity(cell.outcome),
                                    label,
                                    title,
                                    note: cell.known.as_ref().map(known_note),
                                }
                            }
                            None => HtmlCell {
                                runtime,
                                outcome: None,
                                outcome_title: "",
                                severity: 0,
                                label: String::new(),
                                title: String::new(),
                                note: None,
                            },
                        }
                    })
                    .collect(),
            })
            .collect();
        HtmlView {
            outcomes,
            headline,
            runtimes,
            categories: &m.categories,
            columns,
            rows,
            refused: &m.refused,
        }
    }
}
