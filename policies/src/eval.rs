//! Evaluating a compiled native policy on one Analysis. Pure and bounded: every loop runs over
//! the Analysis (already bounded by the analyzer) times the policy's own lists.

use crate::keys::{self, PublicKey};
use crate::location::Location;
use crate::native::{CertVerdict, CertificationCheck, Check, Compiled, NativePolicy};
use crate::{Bundle, Finding};
use wasmcert_analyzer::{Analysis, Import};
use wasmcert_report::conformance::{self, OutcomeKind};
use wasmcert_report::signed::{self, AnalysisBundleError};

/// 4 GiB: how far a 32-bit memory without a maximum can grow (2^16 pages of 64 KiB, or 2^32
/// one-byte pages); a 64-bit one has no practical bound.
const MEMORY32_LIMIT: u64 = 1 << 32;

struct Out<'a> {
    rule: &'a Compiled,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn push(&mut self, at: &Location, unit: Option<&str>, message: String) {
        self.findings.push(Finding {
            rule: self.rule.id.as_str().to_string(),
            level: self.rule.level,
            message,
            unit: unit.map(str::to_string),
            policy: at.clone(),
            excepted: None,
        });
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: &[(u64, &str)] = &[(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, name) in UNITS {
        if n >= *size && n.is_multiple_of(*size) {
            return format!("{} {name}", n / size);
        }
    }
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// The unit of a capability's first grant, and ` (granted by `X` and N more)` for messages.
fn granted_by(c: &wasmcert_analyzer::Capability) -> (Option<&str>, String) {
    let Some(first) = c.granted_by.first() else {
        return (None, String::new());
    };
    let more = match c.granted_by.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    (
        Some(first.unit.as_str()),
        format!(" (granted by `{}`{more})", first.import),
    )
}

/// The imports that reach the host: the root unit's. Nested modules and components of a
/// component import from their parent, never from the host.
fn host_imports(a: &Analysis) -> &[Import] {
    a.units.first().map_or(&[], |u| u.imports.as_slice())
}

pub(crate) fn evaluate(p: &NativePolicy, a: &Analysis, attestations: &[Bundle]) -> Vec<Finding> {
    let mut all = Vec::new();
    for rule in &p.rules {
        let mut out = Out {
            rule,
            findings: Vec::new(),
        };
        run(rule, a, attestations, &mut out);
        all.extend(out.findings);
    }
    all
}

fn run(rule: &Compiled, a: &Analysis, attestations: &[Bundle], out: &mut Out<'_>) {
    match &rule.check {
        Check::CapabilityDenied(globs) => {
            for c in &a.capabilities {
                if let Some(g) = globs.iter().find(|g| g.value.is_match(&c.id)) {
                    let (unit, by) = granted_by(c);
                    out.push(&g.at, unit, format!("capability `{}` is denied{by}", c.id));
                }
            }
        }
        Check::CapabilityNotAllowed(globs, list_at) => {
            for c in &a.capabilities {
                if !globs.iter().any(|g| g.value.is_match(&c.id)) {
                    let (unit, by) = granted_by(c);
                    out.push(
                        list_at,
                        unit,
                        format!("capability `{}` is not in the allowed list{by}", c.id),
                    );
                }
            }
        }
        Check::DependencyBanned(bans) => {
            for u in &a.units {
                let Some(deps) = &u.dependencies else {
                    continue;
                };
                for d in deps {
                    for b in bans {
                        if !b.value.name.is_match(&d.name) {
                            continue;
                        }
                        let hit = match &b.value.range {
                            None => true,
                            Some(r) => match semver::Version::parse(&d.version) {
                                Ok(v) => r.matches_broad(&v),
                                // Fail closed: a version that cannot be compared is banned.
                                Err(_) => true,
                            },
                        };
                        if hit {
                            out.push(
                                &b.at,
                                Some(&u.path),
                                format!(
                                    "dependency `{} {}` is banned{}{}",
                                    d.name,
                                    d.version,
                                    b.value.range.as_ref().map_or(String::new(), |r| format!(
                                        " (range `{}`)",
                                        r.text
                                    )),
                                    b.value
                                        .reason
                                        .as_ref()
                                        .map_or(String::new(), |r| format!(": {r}"))
                                ),
                            );
                            break;
                        }
                    }
                }
            }
        }
        Check::FeatureDenied(list) => {
            for f in list {
                if f.value == "shared-memory" {
                    for u in &a.units {
                        for m in u.memories.iter().filter(|m| m.shared) {
                            out.push(
                                &f.at,
                                Some(&u.path),
                                format!(
                                    "memory {} is shared (feature `shared-memory` is denied)",
                                    m.index
                                ),
                            );
                        }
                    }
                    continue;
                }
                for u in &a.units {
                    if u.features.contains(&f.value) {
                        out.push(
                            &f.at,
                            Some(&u.path),
                            format!("feature `{}` is denied", f.value),
                        );
                    }
                }
            }
        }
        Check::ImportDenied(patterns) => {
            for imp in host_imports(a) {
                if let Some(p) = patterns.iter().find(|p| p.value.matches(imp, true)) {
                    out.push(
                        &p.at,
                        Some("/"),
                        format!(
                            "import `{}` is denied (pattern `{}`)",
                            imp.display_name(),
                            p.value.text
                        ),
                    );
                }
            }
        }
        Check::ImportNotAllowed(patterns, list_at) => {
            for imp in host_imports(a) {
                if !patterns.iter().any(|p| p.value.matches(imp, false)) {
                    out.push(
                        list_at,
                        Some("/"),
                        format!("import `{}` matches no allowed pattern", imp.display_name()),
                    );
                }
            }
        }
        Check::KindNotAllowed(kinds, list_at) => {
            let k = a.subject.kind.as_str();
            if !kinds.iter().any(|x| x == k) {
                out.push(
                    list_at,
                    Some("/"),
                    format!("a {k} is not allowed (allowed: {})", kinds.join(", ")),
                );
            }
        }
        Check::MemoryLimit { max_bytes, at } => {
            for u in &a.units {
                // Borrowed memories are judged once, on their definition.
                for m in u.memories.iter().filter(|m| m.defined_in.is_none()) {
                    let msg = match m.maximum_bytes() {
                        Some(b) if b > *max_bytes => format!(
                            "memory {} can grow to {} ({} pages of {}), more than the {} cap",
                            m.index,
                            human_bytes(b),
                            m.maximum_pages.unwrap_or(0),
                            human_bytes(m.page_size),
                            human_bytes(*max_bytes)
                        ),
                        Some(_) => {
                            if m.initial_bytes() > *max_bytes {
                                format!(
                                    "memory {} starts at {}, more than the {} cap",
                                    m.index,
                                    human_bytes(m.initial_bytes()),
                                    human_bytes(*max_bytes)
                                )
                            } else {
                                continue;
                            }
                        }
                        None if !m.memory64 && MEMORY32_LIMIT <= *max_bytes => continue,
                        None => format!(
                            "memory {} has no maximum: it can grow to {}, more than the {} cap",
                            m.index,
                            if m.memory64 {
                                "the 64-bit address space".to_string()
                            } else {
                                human_bytes(MEMORY32_LIMIT)
                            },
                            human_bytes(*max_bytes)
                        ),
                    };
                    out.push(at, Some(&u.path), msg);
                }
            }
        }
        Check::MemoryMaximumRequired => {
            for u in &a.units {
                // A memory a module borrows from another module of the same component is
                // reported once, on its definition.
                for m in u
                    .memories
                    .iter()
                    .filter(|m| m.maximum_pages.is_none() && m.defined_in.is_none())
                {
                    out.push(
                        &rule.at,
                        Some(&u.path),
                        format!(
                            "memory {}{} declares no maximum",
                            m.index,
                            if m.imported { " (imported)" } else { "" }
                        ),
                    );
                }
            }
        }
        Check::ModuleSize { max_bytes, at } => {
            if a.subject.size > *max_bytes {
                out.push(
                    at,
                    None,
                    format!(
                        "the file is {} bytes, more than the {} cap",
                        a.subject.size,
                        human_bytes(*max_bytes)
                    ),
                );
            }
        }
        Check::ProducerBanned(list) => {
            for u in &a.units {
                for (field, tools) in &u.producers {
                    for (tool, version) in tools {
                        for p in list {
                            let m = &p.value;
                            if m.field.as_ref().is_some_and(|f| f != field)
                                || !m.name.is_match(tool)
                            {
                                continue;
                            }
                            let hit = match &m.range {
                                None => true,
                                // Fail closed: a version that cannot be compared is banned.
                                Some(r) => crate::pattern::lenient_version(version)
                                    .is_none_or(|v| r.matches_broad(&v)),
                            };
                            if hit {
                                out.push(
                                    &p.at,
                                    Some(&u.path),
                                    format!(
                                        "producer `{tool} {version}` ({field}) is banned{}{}",
                                        m.range.as_ref().map_or(String::new(), |r| format!(
                                            " (range `{}`)",
                                            r.text
                                        )),
                                        m.reason
                                            .as_ref()
                                            .map_or(String::new(), |r| format!(": {r}"))
                                    ),
                                );
                                break;
                            }
                        }
                    }
                }
            }
        }
        Check::ProducersRequired => {
            if a.units.first().is_none_or(|u| u.producers.is_empty()) {
                out.push(
                    &rule.at,
                    Some("/"),
                    format!(
                        "the root {} has no producers section",
                        a.subject.kind.as_str()
                    ),
                );
            }
        }
        Check::RuntimeCertification(c) => match &c.verdict {
            Some(CertVerdict::Certified(_)) => {}
            Some(CertVerdict::Refused(why)) => out.push(
                &rule.at,
                None,
                format!("no verified conformance report certifies the runtime: {why}"),
            ),
            None => out.push(
                &rule.at,
                None,
                "no verified conformance report certifies the runtime: no report given".into(),
            ),
        },
        Check::SbomRequired => {
            if !a.units.iter().any(|u| u.dependencies.is_some()) {
                out.push(
                    &rule.at,
                    None,
                    "the module embeds no SBOM (cargo-auditable `.dep-v0` section)".into(),
                );
            }
        }
        Check::SignatureRequired(s) => {
            let root = a.units.first();
            let mut tried = Vec::new();
            for (key, _) in &s.keys {
                match key {
                    PublicKey::Ed25519 { key, .. }
                        if s.embedded
                            && root.is_some_and(|u| keys::embedded_signature_valid(u, key)) =>
                    {
                        return;
                    }
                    PublicKey::P256 { pem, .. } if s.attestation => {
                        for b in attestations {
                            match signed::verify_analysis(&b.bytes, &[pem], Some(&a.subject.sha256))
                            {
                                Ok(_) => return,
                                Err(e @ AnalysisBundleError::NotAnAnalysis(_)) => {
                                    tried.push(format!("{}: {e}", b.name))
                                }
                                Err(_) => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            let mut kinds = Vec::new();
            if s.embedded {
                kinds.push(if root.is_some_and(|u| !u.signatures.is_empty()) {
                    "no embedded signature verifies with a listed Ed25519 key"
                } else {
                    "no embedded signature"
                });
            }
            if s.attestation {
                kinds.push(if attestations.is_empty() {
                    "no signed analysis given"
                } else {
                    "no signed analysis of this digest verifies with a listed P-256 key"
                });
            }
            let mut msg = format!(
                "the module is not signed by a listed key: {}",
                kinds.join("; ")
            );
            if !tried.is_empty() {
                msg.push_str(&format!(" ({})", tried.join("; ")));
            }
            out.push(&rule.at, None, msg);
        }
        Check::TableLimit { max_elements, at } => {
            for u in &a.units {
                for t in u.tables.iter().filter(|t| t.defined_in.is_none()) {
                    let msg = match t.maximum {
                        Some(m) if m > *max_elements => format!(
                            "table {} can grow to {m} elements, more than the {max_elements} cap",
                            t.index
                        ),
                        Some(_) if t.initial > *max_elements => format!(
                            "table {} starts at {} elements, more than the {max_elements} cap",
                            t.index, t.initial
                        ),
                        Some(_) => continue,
                        None => format!(
                            "table {} has no maximum, so it can grow past the {max_elements} cap",
                            t.index
                        ),
                    };
                    out.push(at, Some(&u.path), msg);
                }
            }
        }
    }
}

/// Decide the certification rule once per process: which of the given signed reports, if any,
/// certifies a runtime the policy accepts.
pub(crate) fn certify_verdict(
    c: &CertificationCheck,
    reports: &[&Bundle],
    now: std::time::SystemTime,
) -> CertVerdict {
    if reports.is_empty() {
        return CertVerdict::Refused(
            "no report given (--runtime-report or the rule's `reports`)".into(),
        );
    }
    let mut reasons = Vec::new();
    'bundles: for b in reports {
        let pems: Vec<&[u8]> = c
            .keys
            .iter()
            .filter_map(|(k, _)| match k {
                PublicKey::P256 { pem, .. } => Some(pem.as_slice()),
                _ => None,
            })
            .collect();
        let names: Vec<String> = c
            .keys
            .iter()
            .filter(|(k, _)| matches!(k, PublicKey::P256 { .. }))
            .map(|(k, _)| k.path().to_string())
            .collect();
        let (report, key) = match conformance::verify_report(&b.bytes, &pems) {
            Ok(v) => (v.report, names[v.key].clone()),
            Err(conformance::BundleError::NotVerified(_)) => {
                reasons.push(format!("{}: not signed by a listed key", b.name));
                continue;
            }
            Err(e) => {
                reasons.push(format!("{}: {e}", b.name));
                continue;
            }
        };
        let rt = &report.runtime;
        if let Some(g) = &c.runtime
            && !g.is_match(&rt.name)
        {
            reasons.push(format!(
                "{}: certifies `{}`, not `{}`",
                b.name, rt.name, g.text
            ));
            continue;
        }
        if let Some(d) = &c.suite_digest
            && !report.suite.digest.eq_ignore_ascii_case(d)
        {
            reasons.push(format!(
                "{}: made with suite {}, not the required {}",
                b.name, report.suite.digest, d
            ));
            continue;
        }
        if let Some(days) = c.max_age_days {
            match humantime::parse_rfc3339(&report.started_at) {
                Ok(t) => {
                    let age = now.duration_since(t).unwrap_or_default().as_secs() / 86_400;
                    if age > days {
                        reasons.push(format!("{}: {age} days old (the limit is {days})", b.name));
                        continue;
                    }
                }
                Err(_) => {
                    reasons.push(format!("{}: started_at is not a time", b.name));
                    continue;
                }
            }
        }
        for cat in &c.categories {
            let cases: Vec<_> = report
                .cases
                .iter()
                .filter(|(_, r)| &r.category == cat)
                .collect();
            if cases.is_empty() {
                reasons.push(format!("{}: has no `{cat}` cases", b.name));
                continue 'bundles;
            }
            if let Some((id, r)) = cases
                .iter()
                .find(|(_, r)| c.forbid.contains(&r.outcome.kind()))
            {
                reasons.push(format!(
                    "{}: `{}` {} case {id} is {}",
                    b.name,
                    rt.name,
                    cat,
                    r.outcome.label()
                ));
                continue 'bundles;
            }
            // A report whose cases all came out not-supported (or expected to fail) proves
            // nothing about containment.
            if !cases
                .iter()
                .any(|(_, r)| r.outcome.kind() == OutcomeKind::Pass)
            {
                reasons.push(format!("{}: no `{cat}` case passed", b.name));
                continue 'bundles;
            }
        }
        return CertVerdict::Certified(format!(
            "{} {} certified by {} (key {key})",
            rt.name, rt.version, b.name
        ));
    }
    CertVerdict::Refused(reasons.join("; "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(super::human_bytes(1 << 30), "1 GiB");
        assert_eq!(super::human_bytes(64 << 20), "64 MiB");
        assert_eq!(super::human_bytes(65536), "64 KiB");
        assert_eq!(super::human_bytes(1000), "1000 bytes");
    }
}
