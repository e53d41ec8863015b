//! The errors of this crate, one enum: callers (the CLI, the webhook) match on the kind, and the
//! cause of a failure stays attached instead of being flattened into a message.

use crate::location::PolicyError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A policy file that cannot be read, parsed or compiled: exit status 2. The message names
    /// `file:line:column`.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A Rego rule could not be evaluated on a subject: a policy bug or the time limit.
    /// `detail` is regorus's message (regorus reports errors as text).
    #[error("{file}: evaluating data.wasmcert.{rule}: {detail}")]
    Evaluation {
        file: String,
        rule: &'static str,
        detail: String,
    },
    /// A Rego rule evaluated to something that is not a set of `{id, msg}`.
    #[error("{file}: {problem}")]
    RegoResult { file: String, problem: String },
    /// The analysis or a rule's value could not be converted between JSON and Rego values.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A public key a policy lists: unreadable, or not a key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A glob, version range or import pattern in a policy that does not compile.
    #[error(transparent)]
    Pattern(#[from] crate::pattern::PatternError),
}

/// Why a public key listed in a policy cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is {size} bytes: not a public key")]
    TooLarge { path: String, size: u64 },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: String },
}

/// An error and its causes on one line (`message: cause: cause`), for the places that record a
/// failure as text (a policy error's message, the check report).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
