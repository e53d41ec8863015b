//! Renderers of a conformance [`Report`] for people and CI dashboards: the human text of
//! `wasmcert certify` (verdict first, escapes first) and JUnit XML.

use crate::conformance::{OutcomeKind, Report, Tally, VerdictResult};
use crate::escape;
use std::fmt::Write;

/// ANSI styles, used only when writing to a terminal.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severe(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }
}

fn ids(t: &Tally) -> String {
    const SHOWN: usize = 8;
    let mut s = t.cases[..t.cases.len().min(SHOWN)].join(", ");
    if t.cases.len() > SHOWN {
        let _ = write!(s, ", … ({} more)", t.cases.len() - SHOWN);
    }
    escape::terminal(&s)
}

fn known(t: &Tally) -> String {
    if t.known == 0 {
        String::new()
    } else {
        format!(" ({} of them known)", t.known)
    }
}

/// The verdict block: one line per dimension, escapes first.
pub fn verdict(r: &Report, color: bool) -> String {
    let st = Style { on: color };
    let v = &r.verdict;
    let mut o = String::new();
    let head = match v.result {
        VerdictResult::Pass => st.good("PASS"),
        VerdictResult::Fail => st.severe("FAIL"),
    };
    let _ = writeln!(
        o,
        "verdict      {head}: {} escaped, {} crashed or hung, {} failed, {} errors, {} not supported, {} passed of {} cases",
        v.containment.count,
        v.stability.count,
        v.conformance.count,
        v.errors.count,
        v.coverage.not_supported,
        v.passed,
        v.total
    );
    let line = |o: &mut String, name: &str, t: &Tally, what: &str, severe: bool| {
        let text = if t.count == 0 {
            format!("0 {what}")
        } else {
            format!("{} {what}{}: {}", t.count, known(t), ids(t))
        };
        let text = if t.count == 0 {
            st.good(&text)
        } else if severe {
            st.severe(&text)
        } else {
            st.warn(&text)
        };
        let _ = writeln!(o, "  {name:<12} {text}");
    };
    let what = if v.containment.count == 0 {
        "escapes"
    } else {
        "ESCAPED"
    };
    line(&mut o, "containment", &v.containment, what, true);
    line(
        &mut o,
        "stability",
        &v.stability,
        "crashed or timed out",
        true,
    );
    line(&mut o, "conformance", &v.conformance, "failed", false);
    if v.errors.count > 0 {
        line(&mut o, "errors", &v.errors, "could not run", false);
    }
    let mut cov = format!("{} not supported", v.coverage.not_supported);
    if !v.coverage.missing.is_empty() {
        let m: Vec<String> = v
            .coverage
            .missing
            .iter()
            .map(|(k, n)| format!("{} {n}", escape::terminal(k)))
            .collect();
        let _ = write!(cov, " (lacks {})", m.join(", "));
    }
    let _ = writeln!(o, "  {:<12} {cov}", "coverage");
    o
}

/// The text `wasmcert certify` prints: verdict, runtime and suite, the per-category table of
/// observed outcomes, then every case that did not pass, most severe first.
pub fn human(r: &Report, color: bool) -> String {
    let st = Style { on: color };
    let mut o = verdict(r, color);
    let t = escape::terminal;
    let _ = writeln!(
        o,
        "\nruntime      {} {} ({})",
        t(&r.runtime.name),
        t(&r.runtime.version),
        t(&r.runtime.adapter)
    );
    let _ = writeln!(
        o,
        "suite        {} ({} cases, sha256 {})",
        t(&r.suite.name),
        r.suite.cases,
        crate::matrix::prefix(&r.suite.digest, 16)
    );
    if let Some(e) = &r.suite.expectations {
        let _ = writeln!(
            o,
            "expectations {} (sha256 {}): known failures are annotated, never hidden",
            t(&e.file),
            crate::matrix::prefix(&e.sha256, 16)
        );
    }
    let cols = OutcomeKind::ALL;
    let _ = writeln!(
        o,
        "\n{:<12} {}",
        "category",
        cols.iter()
            .map(|c| format!("{:>w$}", c.label(), w = c.label().len().max(5)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (cat, s) in &r.summary {
        let row: Vec<String> = cols
            .iter()
            .map(|c| {
                let n = s.outcomes.get(c).copied().unwrap_or(0);
                let cell = format!("{n:>w$}", w = c.label().len().max(5));
                if n > 0 && matches!(c, OutcomeKind::Escaped | OutcomeKind::Crashed) {
                    st.severe(&cell)
                } else {
                    cell
                }
            })
            .collect();
        let _ = writeln!(o, "{:<12} {}", t(cat), row.join(" "));
    }
    let mut rows: Vec<_> = r
        .cases
        .iter()
        .filter(|(_, c)| c.outcome.kind() != OutcomeKind::Pass || c.known.is_some())
        .collect();
    rows.sort_by_key(|(id, c)| (c.outcome.kind(), *id));
    if !rows.is_empty() {
        let _ = writeln!(o);
    }
    for (id, c) in rows {
        let kind = c.outcome.kind();
        let label = format!("{:<14}", kind.label());
        let label = match kind {
            OutcomeKind::Escaped | OutcomeKind::Crashed => st.severe(&label),
            k if k.is_failure() => st.warn(&label),
            _ => label,
        };
        let mut line = format!("{label} {}: {}", t(id), t(&c.outcome.detail()));
        if let Some(k) = &c.known {
            if k.holds {
                let _ = write!(line, " [known: {}", t(&k.reason));
            } else {
                let _ = write!(
                    line,
                    " [STALE known-failure entry (listed as {}): {}",
                    t(&k.expected),
                    t(&k.reason)
                );
            }
            if let Some(a) = &k.advisory {
                let _ = write!(line, "; {}", t(a));
            }
            line.push(']');
        }
        let _ = writeln!(o, "{line}");
    }
    let n = r.verdict.unexplained.len();
    let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let result = match (r.verdict.result, n) {
        (VerdictResult::Pass, 0) => st.good("result: PASS"),
        (VerdictResult::Pass, n) => format!(
            "{} ({n} stale known-failure entr{}: the case passed)",
            st.severe("result: FAIL"),
            plural(n, "y", "ies")
        ),
        (VerdictResult::Fail, 0) => format!(
            "{} (every non-passing case is in the known-failure list: exit 0)",
            st.severe("result: FAIL")
        ),
        (VerdictResult::Fail, n) => format!(
            "{} ({n} case{} not accounted for by a known-failure list)",
            st.severe("result: FAIL"),
            plural(n, "", "s")
        ),
    };
    let _ = writeln!(o, "\n{result}");
    o
}

/// JUnit XML, one testsuite per category. Every observed failure is a `<failure>` whose
/// `type` is the outcome (`escaped`, `crashed`, ...), known or not; `not-supported` is
/// `<skipped>`.
pub fn junit(r: &Report) -> String {
    use std::collections::BTreeMap;
    let x = escape::xml;
    let mut by_cat: BTreeMap<&str, Vec<(&String, &crate::conformance::CaseResult)>> =
        BTreeMap::new();
    for (id, c) in &r.cases {
        by_cat.entry(&c.category).or_default().push((id, c));
    }
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(o, "<testsuites name=\"wasmcert {}\">", x(&r.runtime.name));
    for (cat, cases) in by_cat {
        // Observed failures, and passes listed as known failures (a stale entry).
        let failures = cases
            .iter()
            .filter(|(_, c)| c.outcome.is_failure() || c.unexplained())
            .count();
        let skipped = cases
            .iter()
            .filter(|(_, c)| c.outcome.kind() == OutcomeKind::NotSupported)
            .count();
        let _ = writeln!(
            o,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
            x(cat),
            cases.len()
        );
        for (id, c) in cases {
            let secs = c.evidence.duration_ms as f64 / 1000.0;
            let _ = write!(
                o,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{secs:.3}\"",
                x(cat),
                x(id)
            );
            let mut msg = c.outcome.detail();
            if let Some(k) = &c.known {
                let _ = write!(
                    msg,
                    " [known failure{}: {}]",
                    if k.holds { "" } else { " entry, STALE" },
                    k.reason
                );
            }
            let kind = c.outcome.kind();
            if kind.is_failure() {
                let _ = writeln!(
                    o,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    kind.label(),
                    x(&msg),
                    x(&c.evidence.stdout_head)
                );
            } else if kind == OutcomeKind::NotSupported {
                let _ = writeln!(
                    o,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    x(&msg)
                );
            } else if c.known.is_some() {
                // Passed although listed as a known failure: the list is stale.
                let _ = writeln!(
                    o,
                    ">\n      <failure type=\"stale-known-failure\" message=\"{}\"/>\n    </testcase>",
                    x(&msg)
                );
            } else {
                let _ = writeln!(o, "/>");
            }
        }
        let _ = writeln!(o, "  </testsuite>");
    }
    o.push_str("</testsuites>\n");
    o
}
