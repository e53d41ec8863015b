//! Patterns policies match with: globs over ids and names, import patterns (`module#name`,
//! WIT interface names with a version range), and lenient version parsing for producers.

use globset::{GlobBuilder, GlobMatcher};
use semver::{Version, VersionReq};
use wasmcert_analyzer::Import;

/// A compiled glob: `*` any run of characters (also `/` and `:`), `?` one character,
/// `[abc]` a class, `{a,b}` alternatives. Matching is case-sensitive.
#[derive(Debug, Clone)]
pub struct Glob {
    pub text: String,
    matcher: GlobMatcher,
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, String> {
        let glob = GlobBuilder::new(text)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("invalid pattern {text:?}: {}", e.kind()))?;
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
/// `>=1, <2` a conjunction). A pre-release (`0.3.0-rc-2025-09-16`) also matches when its
/// release (`0.3.0`) does, so a deny range cannot be dodged with a pre-release tag.
#[derive(Debug, Clone)]
pub struct Range {
    pub text: String,
    req: VersionReq,
}

impl Range {
    pub fn new(text: &str) -> Result<Range, String> {
        let req = VersionReq::parse(text.trim())
            .map_err(|e| format!("invalid version range {text:?}: {e}"))?;
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
    pub fn new(text: &str) -> Result<ImportPattern, String> {
        if text.is_empty() {
            return Err("empty import pattern".into());
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
            return Err(format!("import pattern {text:?} has an empty module part"));
        }
        Ok(ImportPattern {
            text: text.to_string(),
            target: Glob::new(target)?,
            range,
            name,
        })
    }

    pub fn matches(&self, import: &Import) -> bool {
        let target = import.module.as_deref().unwrap_or(&import.name);
        if let Some(n) = &self.name {
            if import.module.is_none() || !n.is_match(&import.name) {
                return false;
            }
        }
        let (base, version) = match target.rsplit_once('@') {
            Some((b, v)) => (b, Some(v)),
            None => (target, None),
        };
        match &self.range {
            None => self.target.is_match(base) || self.target.is_match(target),
            Some(range) => {
                self.target.is_match(base)
                    && version
                        .and_then(|v| Version::parse(v).ok())
                        .is_some_and(|v| range.matches(&v))
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
        }
    }

    fn comp(n: &str) -> Import {
        Import {
            module: None,
            name: n.into(),
            kind: "instance".into(),
            ty: String::new(),
        }
    }

    #[test]
    fn core_patterns_match_module_and_name() {
        let p = ImportPattern::new("wasi_snapshot_preview1#sock_*").unwrap();
        assert!(p.matches(&core("wasi_snapshot_preview1", "sock_accept")));
        assert!(!p.matches(&core("wasi_snapshot_preview1", "fd_write")));
        assert!(!p.matches(&core("wasi_unstable", "sock_accept")));
        let any = ImportPattern::new("wasi_*").unwrap();
        assert!(any.matches(&core("wasi_unstable", "fd_write")));
        assert!(!any.matches(&core("env", "f")));
        // A name part never matches a component import.
        assert!(
            !ImportPattern::new("wasi:cli/*#x")
                .unwrap()
                .matches(&comp("wasi:cli/stdout@0.2.0"))
        );
    }

    #[test]
    fn interface_patterns_match_every_version_or_a_range() {
        let all = ImportPattern::new("wasi:sockets/*").unwrap();
        assert!(all.matches(&comp("wasi:sockets/tcp@0.2.3")));
        assert!(all.matches(&comp("wasi:sockets/udp")));
        assert!(!all.matches(&comp("wasi:http/types@0.2.0")));
        let exact = ImportPattern::new("wasi:cli/stdout").unwrap();
        assert!(exact.matches(&comp("wasi:cli/stdout@0.2.0")));
        assert!(!exact.matches(&comp("wasi:cli/stdin@0.2.0")));

        let p2 = ImportPattern::new("wasi:http/*@0.2").unwrap();
        assert!(p2.matches(&comp("wasi:http/outgoing-handler@0.2.6")));
        assert!(!p2.matches(&comp("wasi:http/outgoing-handler@0.3.0")));
        assert!(!p2.matches(&comp("wasi:http/outgoing-handler")));
        // A 0.3 release candidate is inside a 0.3 range.
        let p3 = ImportPattern::new("wasi:http/*@>=0.3.0, <0.4.0").unwrap();
        assert!(p3.matches(&comp("wasi:http/handler@0.3.0-rc-2025-09-16")));
        // Core imports named after an interface (wit-bindgen output) match too.
        assert!(all.matches(&core(
            "wasi:sockets/tcp@0.2.0",
            "[method]tcp-socket.connect"
        )));
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
