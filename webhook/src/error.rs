//! The errors of the webhook, one enum: why an image could not be checked (a registry failure
//! keeps `wasmcert-oci`'s kind, which the metrics class it by), and why the server could not
//! start or is not ready.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A registry request failed; [`wasmcert_oci::Error::kind`] says how.
    #[error(transparent)]
    Registry(#[from] wasmcert_oci::Error),
    #[error("{0} is not an image reference")]
    NotAnImage(String),
    #[error("only registry images are admitted")]
    NotRegistry,
    /// The module in the Wasm layer is not valid WebAssembly (or is beyond a bound).
    #[error("the Wasm layer does not analyse: {0}")]
    Analysis(wasmcert_analyzer::Error),
    /// The analysis task panicked or was cancelled.
    #[error("the analysis did not finish: {0}")]
    Join(tokio::task::JoinError),
    /// A policy could not be evaluated on the image (a Rego policy bug or its time limit).
    #[error(transparent)]
    Policy(#[from] wasmcert_policy::Error),
    #[error(
        "{0:?} is not a metrics path: give an absolute path such as /metrics \
         (letters, digits, `/`, `-`, `_`, `.`; at most 128 bytes)"
    )]
    MetricsPath(String),
    #[error("{0} is already an endpoint of the webhook")]
    ReservedPath(String),
    /// The certificate chain or the key file: unreadable or not PEM.
    #[error("{path}: {what}")]
    Pem {
        path: String,
        what: &'static str,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{0}: no certificate in the file")]
    NoCertificate(String),
    #[error("the certificate and key do not make a TLS identity")]
    Tls(#[source] rustls::Error),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the address listened on")]
    LocalAddr(#[source] std::io::Error),
    #[error("the connection limit was closed")]
    Closed(#[from] tokio::sync::AcquireError),
    /// Not ready to take reviews: what is missing.
    #[error("{}", .0.join("; "))]
    NotReady(Vec<&'static str>),
    /// A pod the webhook cannot judge: an image missing, too many images.
    #[error("{0}")]
    Pod(String),
}
