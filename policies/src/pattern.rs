//! Patterns policies match with: globs over ids and names, import patterns (`module#name`,
//! WIT interface names with a version range), and lenient version parsing for producers.

use globset::{GlobBuilder, GlobMatcher};
use semver::{Version, VersionReq};
use wasmcert_analyzer::Import;

/// A pattern in a policy that does not compile.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("invalid pattern {pattern:?}: {kind}")]
    Glob {
        pattern: String,
        kind: globset::ErrorKind,
    },
    #[error("invalid version range {range:?}")]
    Range {
        range: String,
        #[source]
        source: semver::Error,
    },
    #[error("empty import pattern")]
    EmptyImport,
    #[error("import pattern {0:?} has an empty module part")]
    EmptyModule(String),
}

/// A compiled glob: `*` any run of characters (also `/` and `:`), `?` one character,
/// `[abc]` a class, `{a,b}` alternatives. Matching is case-sensitive.
#[derive(Debug, Clone)]
pub struct Glob {
    pub text: String,
    matcher: GlobMatcher,
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, PatternError> {
        let glob = GlobBuilder::new(text)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| PatternError::Glob {
                pattern: text.to_string(),
                kind: e.kind().clone(),
            })?;
        Ok(Glob {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.matcher.is_match(s)
    }

    /// Whether the pattern has glob syntax (otherwise it only matches itself).
    pub fn is_literal(&self) -> bool {
        !self.text.contains(['*', '?', '[', '{', '\\'])
    }
}

/// A version range in Cargo's syntax (`0.2` means `^0.2`: `>=0.2.0, <0.3.0`; `=0.2.3` is exact;
/// `>=1, <2` a conjunction).
///
/// Pre-releases need a choice the semver crate does not make for us (it never lets
/// `0.3.0-rc-2025-09-16` match a range without a pre-release of the same version):
/// - [`Range::matches`] (allow lists): a pre-release matches when its release does, so an
///   allowed `0.3` line admits its release candidates;
/// - [`Range::matches_broad`] (bans and denials): also when the pre-release itself is inside the
///   range by semver precedence, so `1.6.1-rc.1` is inside `<1.6.1`. A ban cannot be dodged with
///   a pre-release tag either way.
#[derive(Debug, Clone)]
pub struct Range {
    pub text: String,
    req: VersionReq,
}

impl Range {
    pub fn new(text: &str) -> Result<Range, PatternError> {
        let req = VersionReq::parse(text.trim()).map_err(|source| PatternError::Range {
            range: text.to_string(),
            source,
        })?;
        Ok(Range {
            text: text.to_string(),
            req,
        })
    }

    pub fn matches(&self, v: &Version) -> bool {
        if self.req.matches(v) {
            return true;
        }
        if !v.pre.is_empty() {
            let release = Version::new(v.major, v.minor, v.patch);
            return self.req.matches(&release);
        }
        false
    }

    pub fn matches_broad(&self, v: &Version) -> bool {
        if self.matches(v) {
            return true;
        }
        if v.pre.is_empty() {
            return false;
        }
        // semver lets a pre-release satisfy a requirement only when some comparator names the
        // same version with a pre-release: add `<=v` (always true for v) to allow the
        // comparison, and every original comparator is then judged by precedence alone.
        let mut req = self.req.clone();
        // `<1.56` and `>=1.56` are `<1.56.0` and `>=1.56.0` by precedence; semver reads the
        // partial forms as excluding every 1.56 pre-release, so spell them out first.
        for c in &mut req.comparators {
            if matches!(c.op, semver::Op::Less | semver::Op::GreaterEq) {
                c.minor = Some(c.minor.unwrap_or(0));
                c.patch = Some(c.patch.unwrap_or(0));
            }
        }
        req.comparators.push(semver::Comparator {
            op: semver::Op::LessEq,
            major: v.major,
            minor: Some(v.minor),
            patch: Some(v.patch),
            pre: v.pre.clone(),
        });
        req.matches(v)
    }
}

/// Parse a version the way toolchains print them: `1.75.0 (82e1608df 2023-12-21)`, `v14.0.6`,
/// `0.2`, `17.0.6-wasi-sdk`. Takes the first word, drops a leading `v`, pads missing minor and
/// patch numbers with zeros. `None` when no number starts the word.
pub fn lenient_version(s: &str) -> Option<Version> {
    let word = s.split_whitespace().next()?;
    let word = word.strip_prefix('v').unwrap_or(word);
    if let Ok(v) = Version::parse(word) {
        return Some(v);
    }
    let core: String = word
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<&str> = core.split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let num = |i: usize| -> Option<u64> { parts.get(i).map_or(Some(0), |p| p.parse().ok()) };
    Some(Version::new(num(0)?, num(1)?, num(2)?))
}

/// An import pattern: `TARGET[#NAME]`.
///
/// - `TARGET` is a glob over the core import module (`wasi_snapshot_preview1`, `env`) or the
///   component import name (`wasi:sockets/tcp@0.2.3`). Without `@`, it is matched against the
///   name with any `@version` removed, so `wasi:cli/*` matches every version. With `@RANGE`, the
///   import must carry a version in that range: `wasi:http/*@0.2` matches 0.2.x only.
/// - `#NAME`, a glob over the function (field) name, applies to core imports only:
///   `wasi_snapshot_preview1#sock_*`. A pattern without it matches every name of the module.
#[derive(Debug, Clone)]
pub struct ImportPattern {
    pub text: String,
    target: Glob,
    range: Option<Range>,
    name: Option<Glob>,
}

impl ImportPattern {
    pub fn new(text: &str) -> Result<ImportPattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::EmptyImport);
        }
        let (target, name) = match text.split_once('#') {
            Some((t, n)) => (t, Some(Glob::new(n)?)),
            None => (text, None),
        };
        let (target, range) = match target.rsplit_once('@') {
            Some((t, r)) => (t, Some(Range::new(r)?)),
            None => (target, None),
        };
        if target.is_empty() {
            return Err(PatternError::EmptyModule(text.to_string()));
        }
        Ok(ImportPattern {
            text: text.to_string(),
            target: Glob::new(target)?,
            range,
            name,
        })
    }

    /// Whether the pattern matches an import. `deny` selects the fail-closed reading for deny
    /// rules: a versioned pattern then also matches an import whose version is missing or not
    /// semver, and pre-releases are compared broadly ([`Range::matches_broad`]). For allow
    /// lists (`deny == false`) such an import matches no versioned pattern.
    pub fn matches(&self, import: &Import, deny: bool) -> bool {
        let target = import.module.as_deref().unwrap_or(&import.name);
        if let Some(n) = &self.name
            && (import.module.is_none() || !n.is_match(&import.name))
        {
            return false;
        }
        let (base, version) = match target.rsplit_once('@') {
            Some((b, v)) => (b, Some(v)),
            None => (target, None),
        };
        match &self.range {
            None => self.target.is_match(base) || self.target.is_match(target),
            Some(range) => {
                if !self.target.is_match(base) {
                    return false;
                }
                match version.and_then(|v| Version::parse(v).ok()) {
                    Some(v) if deny => range.matches_broad(&v),
                    Some(v) => range.matches(&v),
                    None => deny,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(m: &str, n: &str) -> Import {
        Import {
            module: Some(m.into()),
            name: n.into(),
            kind: "func".into(),
            ty: String::new(),
            resolution: None,
            reached_by: Vec::new(),
        }
    }

    fn comp(n: &str) -> Import {
        Import {
            module: None,
            name: n.into(),
            kind: "instance".into(),
            ty: String::new(),
            resolution: None,
            reached_by: Vec::new(),
        }
    }

    #[test]
    fn core_patterns_match_module_and_name() {
        let p = ImportPattern::new("wasi_snapshot_preview1#sock_*").unwrap();
        assert!(p.matches(&core("wasi_snapshot_preview1", "sock_accept"), false));
        assert!(!p.matches(&core("wasi_snapshot_preview1", "fd_write"), false));
        assert!(!p.matches(&core("wasi_unstable", "sock_accept"), false));
        let any = ImportPattern::new("wasi_*").unwrap();
        assert!(any.matches(&core("wasi_unstable", "fd_write"), false));
        assert!(!any.matches(&core("env", "f"), false));
        // A name part never matches a component import.
        assert!(
            !ImportPattern::new("wasi:cli/*#x")
                .unwrap()
                .matches(&comp("wasi:cli/stdout@0.2.0"), false)
        );
    }

    #[test]
    fn interface_patterns_match_every_version_or_a_range() {
        let all = ImportPattern::new("wasi:sockets/*").unwrap();
        assert!(all.matches(&comp("wasi:sockets/tcp@0.2.3"), false));
        assert!(all.matches(&comp("wasi:sockets/udp"), false));
        assert!(!all.matches(&comp("wasi:http/types@0.2.0"), false));
        let exact = ImportPattern::new("wasi:cli/stdout").unwrap();
        assert!(exact.matches(&comp("wasi:cli/stdout@0.2.0"), false));
        assert!(!exact.matches(&comp("wasi:cli/stdin@0.2.0"), false));

        let p2 = ImportPattern::new("wasi:http/*@0.2").unwrap();
        assert!(p2.matches(&comp("wasi:http/outgoing-handler@0.2.6"), false));
        assert!(!p2.matches(&comp("wasi:http/outgoing-handler@0.3.0"), false));
        assert!(!p2.matches(&comp("wasi:http/outgoing-handler"), false));
        // A 0.3 release candidate is inside a 0.3 range.
        let p3 = ImportPattern::new("wasi:http/*@>=0.3.0, <0.4.0").unwrap();
        assert!(p3.matches(&comp("wasi:http/handler@0.3.0-rc-2025-09-16"), false));
        // Deny rules fail closed: no version, or one that is not semver, is inside any range.
        assert!(p2.matches(&comp("wasi:http/outgoing-handler"), true));
        assert!(p2.matches(&comp("wasi:http/outgoing-handler@latest"), true));
        assert!(!p2.matches(&comp("wasi:http/outgoing-handler@0.3.0"), true));
        // Core imports named after an interface (wit-bindgen output) match too.
        assert!(all.matches(
            &core("wasi:sockets/tcp@0.2.0", "[method]tcp-socket.connect"),
            false
        ));
    }

    #[test]
    fn pre_releases_in_ranges() {
        let v = |s| Version::parse(s).unwrap();
        let below = Range::new("<1.6.1").unwrap();
        assert!(
            !below.matches(&v("1.6.1-rc.1")),
            "the 1.6.1 line is not below 1.6.1"
        );
        assert!(
            below.matches_broad(&v("1.6.1-rc.1")),
            "but by precedence it is"
        );
        let line = Range::new("0.3").unwrap();
        assert!(line.matches(&v("0.3.0-rc-2025-09-16")));
        assert!(line.matches_broad(&v("0.3.0-rc-2025-09-16")));
        assert!(!line.matches_broad(&v("0.4.0-rc.1")));
        let from = Range::new(">=1.0.0, <1.6.1").unwrap();
        assert!(
            from.matches_broad(&v("1.0.0-beta")),
            "its release is in range"
        );
        assert!(!from.matches_broad(&v("0.9.0-beta")));
        // Partial versions mean the same as the full ones.
        let partial = Range::new("<1.56").unwrap();
        assert!(partial.matches_broad(&v("1.56.0-nightly")));
        assert!(!partial.matches_broad(&v("1.57.0-nightly")));
        assert!(
            Range::new(">=1.56")
                .unwrap()
                .matches_broad(&v("1.56.1-beta"))
        );
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(ImportPattern::new("").is_err());
        assert!(ImportPattern::new("wasi:http/*@not-a-range").is_err());
        assert!(ImportPattern::new("#f").is_err());
        assert!(ImportPattern::new("a[").is_err());
    }

    #[test]
    fn versions_parse_the_way_toolchains_print_them() {
        let v = |s| lenient_version(s).map(|v| v.to_string());
        assert_eq!(
            v("1.75.0 (82e1608df 2023-12-21)").as_deref(),
            Some("1.75.0")
        );
        assert_eq!(v("v14.0.6").as_deref(), Some("14.0.6"));
        assert_eq!(v("0.2").as_deref(), Some("0.2.0"));
        assert_eq!(v("17.0.6-wasi-sdk").as_deref(), Some("17.0.6-wasi-sdk"));
        assert_eq!(v("3.1.50 (b2c5ac8)").as_deref(), Some("3.1.50"));
        assert_eq!(v("main"), None);
        assert_eq!(v(""), None);
        assert_eq!(v("1.2.3.4"), None);
    }
}
