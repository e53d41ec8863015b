//! Compiling a parsed native policy: every pattern built, every key loaded, every value checked
//! against what the analyzer and the report model know, with the error at its line and column.
//! One function per rule that needs more than its level.

use super::raw::{
    Certification, DependencyBans, FeatureList, KindList, MemoryLimit, ProducerBans, RawException,
    RawPolicy, SignatureRule,
};
use super::{
    At, Ban, CertificationCheck, Check, Compiled, Exception, FORMAT_VERSION, NativePolicy,
    ProducerMatch, SignatureCheck,
};
use crate::error::chain;
use crate::keys::{self, PublicKey};
use crate::location::{LineIndex, Location, PolicyError};
use crate::pattern::{Glob, ImportPattern, Range};
use crate::rules::{Level, RuleId};
use std::path::{Path, PathBuf};
use toml::Spanned;
use wasmcert_report::conformance::OutcomeKind;

const KINDS: &[&str] = &[
    "core-module",
    "component",
    "relocatable-object",
    "dylink-library",
];

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    idx: LineIndex,
    base: PathBuf,
}

impl Ctx<'_> {
    fn loc(&self, span: std::ops::Range<usize>) -> Location {
        let (line, column) = self.idx.line_col(self.text, span.start);
        Location {
            file: self.file.to_string(),
            line,
            column,
        }
    }
    fn err(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            file: self.file.to_string(),
            at: Some(self.idx.line_col(self.text, span.start)),
            message: message.into(),
        }
    }
    fn at<T>(&self, s: &Spanned<T>) -> Location {
        self.loc(s.span())
    }
    fn level(&self, l: &Option<Spanned<Level>>) -> Level {
        l.as_ref().map_or(Level::Deny, |l| *l.get_ref())
    }
    fn globs(&self, list: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<At<Glob>>, PolicyError> {
        list.get_ref()
            .iter()
            .map(|s| {
                Ok(At {
                    value: Glob::new(s.get_ref()).map_err(|e| self.err(s.span(), chain(&e)))?,
                    at: self.at(s),
                })
            })
            .collect()
    }
    fn range(&self, s: &Option<Spanned<String>>) -> Result<Option<Range>, PolicyError> {
        s.as_ref()
            .map(|v| Range::new(v.get_ref()).map_err(|e| self.err(v.span(), chain(&e))))
            .transpose()
    }
    fn keys(
        &self,
        list: &Spanned<Vec<Spanned<String>>>,
        level: Level,
        rule: &str,
    ) -> Result<Vec<(PublicKey, Location)>, PolicyError> {
        if list.get_ref().is_empty() && level != Level::Allow {
            return Err(self.err(
                list.span(),
                format!("{rule} needs at least one public key in `keys`"),
            ));
        }
        list.get_ref()
            .iter()
            .map(|k| {
                let path = self.base.join(k.get_ref());
                let key = keys::load(&path).map_err(|e| self.err(k.span(), chain(&e)))?;
                Ok((key, self.at(k)))
            })
            .collect()
    }
}

/// Capability ids a glob must match at least one of (or the policy has a typo).
fn check_capability_globs(
    ctx: &Ctx<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
) -> Result<(), PolicyError> {
    for s in list.get_ref() {
        let g = Glob::new(s.get_ref()).map_err(|e| ctx.err(s.span(), chain(&e)))?;
        if !wasmcert_analyzer::capabilities::CAPABILITIES
            .iter()
            .any(|(id, _, _)| g.is_match(id))
        {
            return Err(ctx.err(
                s.span(),
                format!(
                    "{:?} matches no capability id (see docs/capabilities.md)",
                    s.get_ref()
                ),
            ));
        }
    }
    Ok(())
}

/// Compile a parsed policy. `base` is the directory relative key and report paths start from.
pub fn compile(
    raw: &RawPolicy,
    text: &str,
    file: &str,
    base: &Path,
) -> Result<NativePolicy, PolicyError> {
    let ctx = Ctx {
        text,
        file,
        idx: LineIndex::new(text),
        base: base.to_path_buf(),
    };
    if *raw.version.get_ref() != FORMAT_VERSION {
        return Err(ctx.err(
            raw.version.span(),
            format!(
                "unsupported policy version {} (this wasmcert reads version {FORMAT_VERSION})",
                raw.version.get_ref()
            ),
        ));
    }
    let r = &raw.rules;
    let mut rules = Vec::new();
    let mut policy_reports = Vec::new();
    let mut push = |id: RuleId, level: Level, at: Location, check: Check| {
        if level != Level::Allow {
            rules.push(Compiled {
                id,
                level,
                at,
                check,
            });
        }
    };

    if let Some(t) = &r.capability_denied {
        check_capability_globs(&ctx, &t.get_ref().capabilities)?;
        let globs = ctx.globs(&t.get_ref().capabilities)?;
        push(
            RuleId::CapabilityDenied,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::CapabilityDenied(globs),
        );
    }
    if let Some(t) = &r.capability_not_allowed {
        check_capability_globs(&ctx, &t.get_ref().capabilities)?;
        let globs = ctx.globs(&t.get_ref().capabilities)?;
        let list_at = ctx.at(&t.get_ref().capabilities);
        push(
            RuleId::CapabilityNotAllowed,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::CapabilityNotAllowed(globs, list_at),
        );
    }
    if let Some(t) = &r.dependency_banned {
        push(
            RuleId::DependencyBanned,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            dependency_banned(&ctx, t)?,
        );
    }
    if let Some(t) = &r.feature_denied {
        push(
            RuleId::FeatureDenied,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            feature_denied(&ctx, t)?,
        );
    }
    let imports =
        |l: &Spanned<Vec<Spanned<String>>>| -> Result<Vec<At<ImportPattern>>, PolicyError> {
            l.get_ref()
                .iter()
                .map(|p| {
                    Ok(At {
                        value: ImportPattern::new(p.get_ref())
                            .map_err(|e| ctx.err(p.span(), chain(&e)))?,
                        at: ctx.at(p),
                    })
                })
                .collect()
        };
    if let Some(t) = &r.import_denied {
        let list = imports(&t.get_ref().imports)?;
        push(
            RuleId::ImportDenied,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::ImportDenied(list),
        );
    }
    if let Some(t) = &r.import_not_allowed {
        let list = imports(&t.get_ref().imports)?;
        let list_at = ctx.at(&t.get_ref().imports);
        push(
            RuleId::ImportNotAllowed,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::ImportNotAllowed(list, list_at),
        );
    }
    if let Some(t) = &r.kind_not_allowed {
        push(
            RuleId::KindNotAllowed,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            kind_not_allowed(&ctx, t)?,
        );
    }
    if let Some(t) = &r.memory_limit {
        push(
            RuleId::MemoryLimit,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            memory_limit(&ctx, t)?,
        );
    }
    if let Some(t) = &r.memory_maximum_required {
        push(
            RuleId::MemoryMaximumRequired,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::MemoryMaximumRequired,
        );
    }
    if let Some(t) = &r.module_size {
        push(
            RuleId::ModuleSize,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::ModuleSize {
                max_bytes: *t.get_ref().max_bytes.get_ref(),
                at: ctx.at(&t.get_ref().max_bytes),
            },
        );
    }
    if let Some(t) = &r.producer_banned {
        push(
            RuleId::ProducerBanned,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            producer_banned(&ctx, t)?,
        );
    }
    if let Some(t) = &r.producers_required {
        push(
            RuleId::ProducersRequired,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::ProducersRequired,
        );
    }
    if let Some(t) = &r.runtime_certification_required {
        let level = ctx.level(&t.get_ref().level);
        let check = runtime_certification(&ctx, t, level, &mut policy_reports)?;
        push(
            RuleId::RuntimeCertificationRequired,
            level,
            ctx.at(t),
            check,
        );
    }
    if let Some(t) = &r.sbom_required {
        push(
            RuleId::SbomRequired,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::SbomRequired,
        );
    }
    if let Some(t) = &r.signature_required {
        let level = ctx.level(&t.get_ref().level);
        let check = signature_required(&ctx, t, level)?;
        push(RuleId::SignatureRequired, level, ctx.at(t), check);
    }
    if let Some(t) = &r.table_limit {
        push(
            RuleId::TableLimit,
            ctx.level(&t.get_ref().level),
            ctx.at(t),
            Check::TableLimit {
                max_elements: *t.get_ref().max_elements.get_ref(),
                at: ctx.at(&t.get_ref().max_elements),
            },
        );
    }

    let exceptions = raw
        .exceptions
        .iter()
        .map(|e| exception(&ctx, e))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NativePolicy {
        file: file.to_string(),
        name: raw.name.clone(),
        rules,
        exceptions,
        policy_reports,
    })
}

/// `dependency-banned`: each ban's name glob and version range.
fn dependency_banned(ctx: &Ctx<'_>, t: &Spanned<DependencyBans>) -> Result<Check, PolicyError> {
    let mut bans = Vec::new();
    for b in &t.get_ref().dependencies {
        let d = b.get_ref();
        bans.push(At {
            value: Ban {
                name: Glob::new(d.name.get_ref()).map_err(|e| ctx.err(d.name.span(), chain(&e)))?,
                range: ctx.range(&d.version)?,
                reason: d.reason.clone(),
            },
            at: ctx.at(b),
        });
    }
    Ok(Check::DependencyBanned(bans))
}

/// `feature-denied`: feature names the analyzer knows (and `shared-memory`).
fn feature_denied(ctx: &Ctx<'_>, t: &Spanned<FeatureList>) -> Result<Check, PolicyError> {
    let mut list = Vec::new();
    for f in t.get_ref().features.get_ref() {
        let name = f.get_ref();
        if name != "shared-memory" && !wasmcert_analyzer::features::ALL.contains(&name.as_str()) {
            return Err(ctx.err(
                f.span(),
                format!(
                    "unknown feature {name:?}; known: shared-memory, {}",
                    wasmcert_analyzer::features::ALL.join(", ")
                ),
            ));
        }
        list.push(At {
            value: name.clone(),
            at: ctx.at(f),
        });
    }
    Ok(Check::FeatureDenied(list))
}

/// `kind-not-allowed`: the kinds admitted, known and not none.
fn kind_not_allowed(ctx: &Ctx<'_>, t: &Spanned<KindList>) -> Result<Check, PolicyError> {
    let mut kinds = Vec::new();
    for k in t.get_ref().kinds.get_ref() {
        if !KINDS.contains(&k.get_ref().as_str()) {
            return Err(ctx.err(
                k.span(),
                format!(
                    "unknown kind {:?}; known: {}",
                    k.get_ref(),
                    KINDS.join(", ")
                ),
            ));
        }
        kinds.push(k.get_ref().clone());
    }
    if kinds.is_empty() {
        return Err(ctx.err(
            t.get_ref().kinds.span(),
            "kinds lists the kinds admitted and cannot be empty",
        ));
    }
    let list_at = ctx.at(&t.get_ref().kinds);
    Ok(Check::KindNotAllowed(kinds, list_at))
}

/// `memory-limit`: `max-pages` or `max-bytes`, in bytes.
fn memory_limit(ctx: &Ctx<'_>, t: &Spanned<MemoryLimit>) -> Result<Check, PolicyError> {
    let m = t.get_ref();
    let (max_bytes, at) = match (&m.max_pages, &m.max_bytes) {
        (Some(p), None) => (p.get_ref().saturating_mul(65536), ctx.at(p)),
        (None, Some(b)) => (*b.get_ref(), ctx.at(b)),
        (Some(_), Some(b)) => {
            return Err(ctx.err(
                b.span(),
                "memory-limit takes max-pages or max-bytes, not both",
            ));
        }
        (None, None) => {
            return Err(ctx.err(t.span(), "memory-limit needs max-pages or max-bytes"));
        }
    };
    Ok(Check::MemoryLimit { max_bytes, at })
}

/// `producer-banned`: each ban's name glob, version range and producers field.
fn producer_banned(ctx: &Ctx<'_>, t: &Spanned<ProducerBans>) -> Result<Check, PolicyError> {
    let mut list = Vec::new();
    for p in &t.get_ref().producers {
        let b = p.get_ref();
        if let Some(f) = &b.field
            && !matches!(f.get_ref().as_str(), "language" | "processed-by" | "sdk")
        {
            return Err(ctx.err(
                f.span(),
                format!(
                    "unknown producers field {:?}; known: language, processed-by, sdk",
                    f.get_ref()
                ),
            ));
        }
        list.push(At {
            value: ProducerMatch {
                name: Glob::new(b.name.get_ref()).map_err(|e| ctx.err(b.name.span(), chain(&e)))?,
                range: ctx.range(&b.version)?,
                field: b.field.as_ref().map(|f| f.get_ref().clone()),
                reason: b.reason.clone(),
            },
            at: ctx.at(p),
        });
    }
    Ok(Check::ProducerBanned(list))
}

/// `runtime-certification-required`: P-256 keys, known outcomes (never `pass`), and the
/// reports the policy names, read now (verified when the evaluation is prepared).
fn runtime_certification(
    ctx: &Ctx<'_>,
    t: &Spanned<Certification>,
    level: Level,
    reports: &mut Vec<crate::Bundle>,
) -> Result<Check, PolicyError> {
    let c = t.get_ref();
    let keys = ctx.keys(&c.keys, level, "runtime-certification-required")?;
    for ((k, _), src) in keys.iter().zip(c.keys.get_ref()) {
        if !matches!(k, PublicKey::P256 { .. }) {
            return Err(ctx.err(
                src.span(),
                "conformance reports are signed with ECDSA P-256 (cosign) keys; this is an Ed25519 key",
            ));
        }
    }
    let strings = |l: &Option<Spanned<Vec<Spanned<String>>>>,
                   default: &[&str],
                   known: Option<&[&str]>,
                   what: &str|
     -> Result<Vec<String>, PolicyError> {
        match l {
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(l) => l
                .get_ref()
                .iter()
                .map(|s| match known {
                    Some(k) if !k.contains(&s.get_ref().as_str()) => Err(ctx.err(
                        s.span(),
                        format!("unknown {what} {:?}; known: {}", s.get_ref(), k.join(", ")),
                    )),
                    _ => Ok(s.get_ref().clone()),
                })
                .collect(),
        }
    };
    let categories = strings(&c.categories, &["sandbox"], None, "category")?;
    let outcomes = OutcomeKind::ALL.map(OutcomeKind::label);
    let forbid = strings(&c.forbid, &["escaped"], Some(&outcomes), "outcome")?
        .iter()
        .map(|s| s.parse::<OutcomeKind>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ctx.err(t.span(), e.to_string()))?;
    if let Some(f) = &c.forbid
        && let Some(p) = f.get_ref().iter().find(|s| s.get_ref() == "pass")
    {
        return Err(ctx.err(
            p.span(),
            "`pass` cannot be forbidden: a report needs a passing case in every category",
        ));
    }
    for rep in &c.reports {
        let path = ctx.base.join(rep.get_ref());
        let bytes = std::fs::read(&path).map_err(|e| {
            ctx.err(
                rep.span(),
                format!("cannot read report {}: {e}", path.display()),
            )
        })?;
        reports.push(crate::Bundle {
            name: path.display().to_string(),
            bytes,
        });
    }
    Ok(Check::RuntimeCertification(Box::new(CertificationCheck {
        keys,
        runtime: c
            .runtime
            .as_ref()
            .map(|g| Glob::new(g.get_ref()).map_err(|e| ctx.err(g.span(), chain(&e))))
            .transpose()?,
        categories,
        forbid,
        max_age_days: c.max_age_days.as_ref().map(|d| *d.get_ref()),
        suite_digest: c.suite_digest.as_ref().map(|d| d.get_ref().clone()),
        verdict: None,
    })))
}

/// `signature-required`: the signature kinds accepted, and a key able to verify one of them.
fn signature_required(
    ctx: &Ctx<'_>,
    t: &Spanned<SignatureRule>,
    level: Level,
) -> Result<Check, PolicyError> {
    let s = t.get_ref();
    let keys = ctx.keys(&s.keys, level, "signature-required")?;
    let (mut embedded, mut attestation) = (true, true);
    if let Some(a) = &s.accept {
        embedded = false;
        attestation = false;
        for v in a.get_ref() {
            match v.get_ref().as_str() {
                "embedded" => embedded = true,
                "attestation" => attestation = true,
                other => {
                    return Err(ctx.err(
                        v.span(),
                        format!("unknown signature kind {other:?}; known: embedded, attestation"),
                    ));
                }
            }
        }
        if !embedded && !attestation {
            return Err(ctx.err(a.span(), "`accept` needs embedded and/or attestation"));
        }
    }
    // A key that can verify nothing accepted would make the rule impossible to satisfy.
    if level != Level::Allow {
        let ed = keys
            .iter()
            .any(|(k, _)| matches!(k, PublicKey::Ed25519 { .. }));
        let p256 = keys
            .iter()
            .any(|(k, _)| matches!(k, PublicKey::P256 { .. }));
        if !(embedded && ed || attestation && p256) {
            return Err(ctx.err(
                s.keys.span(),
                "no listed key can verify an accepted signature: embedded signatures need an Ed25519 key, attestations a P-256 key",
            ));
        }
    }
    Ok(Check::SignatureRequired(SignatureCheck {
        keys,
        embedded,
        attestation,
    }))
}

/// One `[[exceptions]]` entry: a reason, `digest` and/or `name`, known rule ids, a date.
fn exception(ctx: &Ctx<'_>, e: &Spanned<RawException>) -> Result<Exception, PolicyError> {
    let x = e.get_ref();
    if x.reason.get_ref().trim().is_empty() {
        return Err(ctx.err(x.reason.span(), "an exception needs a non-empty reason"));
    }
    if x.digest.is_none() && x.name.is_none() {
        return Err(ctx.err(e.span(), "an exception needs `digest` or `name`"));
    }
    let digest = match &x.digest {
        Some(d) => {
            let hexd = d.get_ref().strip_prefix("sha256:").unwrap_or(d.get_ref());
            if hexd.len() != 64 || !hexd.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ctx.err(d.span(), "digest must be sha256:<64 hex digits>"));
            }
            Some(hexd.to_ascii_lowercase())
        }
        None => None,
    };
    let rules = match &x.rules {
        Some(list) => {
            let mut v = Vec::new();
            for id in list.get_ref() {
                if !crate::rules::RULES
                    .iter()
                    .any(|r| r.id.as_str() == id.get_ref())
                {
                    return Err(ctx.err(
                        id.span(),
                        format!(
                            "unknown rule id {:?} (see docs/policy/rules/)",
                            id.get_ref()
                        ),
                    ));
                }
                v.push(id.get_ref().clone());
            }
            Some(v)
        }
        None => None,
    };
    let expires = match &x.expires {
        Some(d) => {
            let dt = d.get_ref();
            match (dt.date, dt.time) {
                (Some(date), None) => Some(date.to_string()),
                _ => {
                    return Err(ctx.err(d.span(), "expires takes a date, e.g. 2027-06-30"));
                }
            }
        }
        None => None,
    };
    Ok(Exception {
        digest,
        name: x
            .name
            .as_ref()
            .map(|n| Glob::new(n.get_ref()).map_err(|e| ctx.err(n.span(), chain(&e))))
            .transpose()?,
        rules,
        reason: x.reason.get_ref().clone(),
        expires,
        at: ctx.at(e),
    })
}
