//! The crate's one error type. Every message names what was being done or read (a file, an
//! adapter, a case) and the problem; causes stay attached as `source`, so the CLI prints them
//! as its `Caused by:` chain and an outcome's `why` as one line ([`Error::with_causes`]).

use std::fmt;
use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call failed: what was being done (`reading`, `resolving`,
    /// `starting the runtime`), on which path if there is one.
    #[error("{action}{}", at(path))]
    Io {
        action: &'static str,
        path: Option<PathBuf>,
        #[source]
        source: std::io::Error,
    },
    /// A file or directory of a suite (our `case.toml`, a WASI testsuite spec, manifest,
    /// module or fixture, the suite directory itself) breaks a rule or a bound.
    #[error("{}: {why}", file.display())]
    Suite { file: PathBuf, why: String },
    /// A fixture directory of a WASI testsuite breaks a rule or a bound.
    #[error("fixture {}: {why}", dir.display())]
    Fixture { dir: PathBuf, why: String },
    /// An adapter definition breaks a rule (`origin`: its file, or `built-in adapter NAME`).
    #[error("{origin}: {why}")]
    Adapter { origin: String, why: String },
    /// An expectations list breaks a rule (`origin`: its file).
    #[error("{origin}: {why}")]
    Expectations { origin: String, why: String },
    /// Input that is not valid: what it is (`FILE: invalid case`, `--filter "x" is not a valid
    /// regex`), the problem as the source.
    #[error("{what}")]
    Invalid {
        what: String,
        #[source]
        source: Box<Error>,
    },
    /// A rule a part of the input breaks, said in a sentence (the source of an `Invalid`).
    #[error("{0}")]
    Rule(String),
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Utf8(#[from] std::str::Utf8Error),
    #[error(transparent)]
    Regex(#[from] regex::Error),
    /// A case's `module.wat` does not compile.
    #[error("compiling {}", file.display())]
    Wat {
        file: PathBuf,
        #[source]
        source: Box<wat::Error>,
    },
    /// The case's `[setup]` or the module's name would reach outside the work dir.
    #[error("{0}")]
    Setup(String),
    /// The runtime (or its adapter) cannot express what a run asks for.
    #[error("{0}")]
    Unsupported(String),
    #[error("runtime `{runtime}`: program `{program}` not found in PATH")]
    ProgramNotFound { runtime: String, program: String },
    #[error("precompiler `{0}` not found in PATH")]
    PrecompilerNotFound(String),
    /// The OS has no randomness for the work dir's secrets.
    #[error("no randomness: {0}")]
    NoRandomness(getrandom::Error),
    /// The embedded engine (wasmtime) failed outside a guest's run.
    #[cfg(feature = "embedded")]
    #[error(transparent)]
    Wasm(#[from] wasmtime::Error),
    #[error("compile cache poisoned")]
    CachePoisoned,
}

fn at(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!(" {}", p.display()))
        .unwrap_or_default()
}

impl Error {
    /// `map_err` for an I/O call on `path`: `reading /x/y` with the OS error as the source.
    pub(crate) fn io(
        action: &'static str,
        path: impl AsRef<Path>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.as_ref().to_path_buf();
        move |source| Error::Io {
            action,
            path: Some(path),
            source,
        }
    }

    /// `map_err` for an I/O call that is not on a path (`starting the runtime`).
    pub(crate) fn io_doing(action: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Io {
            action,
            path: None,
            source,
        }
    }

    pub(crate) fn suite(file: impl AsRef<Path>, why: impl fmt::Display) -> Error {
        Error::Suite {
            file: file.as_ref().to_path_buf(),
            why: why.to_string(),
        }
    }

    /// `map_err` that files `self`-like errors under `what`.
    pub(crate) fn invalid<E: Into<Error>>(what: impl fmt::Display) -> impl FnOnce(E) -> Error {
        let what = what.to_string();
        move |e| Error::Invalid {
            what,
            source: Box::new(e.into()),
        }
    }

    /// The message and its causes on one line, `: `-separated: the form an outcome's `why`
    /// records (what `anyhow`'s `{:#}` prints).
    pub fn with_causes(&self) -> WithCauses<'_> {
        WithCauses(self)
    }
}

/// [`Error::with_causes`].
pub struct WithCauses<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for WithCauses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_message_on_one_line() {
        let e =
            Error::invalid::<Error>("t.toml: invalid [p2]")(Error::Rule("`why` is empty".into()));
        assert_eq!(
            e.with_causes().to_string(),
            "t.toml: invalid [p2]: `why` is empty"
        );
        let io = Error::io("reading", "/x")(std::io::ErrorKind::NotFound.into());
        assert_eq!(io.to_string(), "reading /x");
        assert!(io.with_causes().to_string().starts_with("reading /x: "));
        assert_eq!(
            Error::io_doing("starting the runtime")(std::io::ErrorKind::NotFound.into())
                .to_string(),
            "starting the runtime"
        );
    }
}
