//! The one error type of this crate: a message that names the reference, and the kind of
//! failure that callers decide on.

/// What kind of failure an [`Error`] is. Callers decide on the kind (the webhook's metrics
/// class registry failures by it), never on the wording of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A malformed reference, manifest, descriptor, layout or auth file.
    Invalid,
    /// The registry or layout does not have the manifest or blob (a 404, an unknown tag).
    NotFound,
    /// Credentials missing or refused (a 401), a token service that refused or cannot be
    /// trusted with them.
    Unauthorized,
    /// A body, blob or file declared or sent over its cap.
    TooLarge,
    /// The registry did not answer or send the body in time.
    Timeout,
    /// No connection to the registry (DNS, TCP, TLS) or the connection broke while reading.
    Transport,
    /// Any other HTTP error status.
    Status,
    /// A manifest or blob that does not match its digest or its descriptor's size.
    Integrity,
    /// A valid artifact that is not a Wasm artifact: its config type, no or several Wasm
    /// layers, an index without a Wasm manifest.
    NotWasm,
    /// A local failure: a file that cannot be read, HTTPS or the runtime cannot be set up.
    Io,
}

/// Why an artifact could not be read; exit status 2. The message names the reference; the
/// cause of a network failure is part of it (reqwest keeps the useful part in its sources).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The same failure said of the larger step it broke (`context: message`), kind kept.
    pub fn context(self, context: impl std::fmt::Display) -> Error {
        Error {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}
