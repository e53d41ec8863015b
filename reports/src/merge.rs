//! `wasmcert report merge`: shard reports, given as report JSON or as signed bundles, read,
//! verified and merged into the report of the whole suite ([`crate::conformance::merge`]).

use crate::conformance::{self, BundleError, ReadError, Report};

/// One input: its name (for messages) and its bytes.
#[derive(Debug, Clone)]
pub struct Shard {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why shards could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{name}: not JSON")]
    Json {
        name: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{name} is a signed bundle: give --key to verify it")]
    NoKey { name: String },
    /// A signed shard no given key verifies: a failed check (exit 1), not a usage error.
    #[error("{name}: INVALID")]
    NotVerified {
        name: String,
        #[source]
        source: BundleError,
    },
    /// A signed shard that verifies but does not hold a readable report.
    #[error("{name}")]
    Bundle {
        name: String,
        #[source]
        source: BundleError,
    },
    #[error(
        "{name} is not signed: with --key or --sign-key every shard must be a verified bundle \
         (--allow-unsigned to accept it anyway)"
    )]
    Unsigned { name: String },
    #[error("{name}")]
    Report {
        name: String,
        #[source]
        source: ReadError,
    },
    /// The shards do not fit together (missing, duplicated, of another runtime or suite).
    #[error(transparent)]
    Shards(#[from] crate::conformance::ShardError),
}

/// Read every shard (a bundle is verified with `keys`; without a key a bundle is refused, and
/// with `require_signed` so is a plain report) and merge them.
pub fn merge(shards: &[Shard], keys: &[&[u8]], require_signed: bool) -> Result<Report, MergeError> {
    let mut reports: Vec<(String, Report)> = Vec::new();
    for s in shards {
        let name = s.name.clone();
        let value: serde_json::Value = match serde_json::from_slice(&s.bytes) {
            Ok(v) => v,
            Err(source) => return Err(MergeError::Json { name, source }),
        };
        let r = if value.get("dsseEnvelope").is_some() {
            if keys.is_empty() {
                return Err(MergeError::NoKey { name });
            }
            match conformance::verify_report(&s.bytes, keys) {
                Ok(v) => v.report,
                Err(source @ BundleError::NotVerified(_)) => {
                    return Err(MergeError::NotVerified { name, source });
                }
                Err(source) => return Err(MergeError::Bundle { name, source }),
            }
        } else {
            if require_signed {
                return Err(MergeError::Unsigned { name });
            }
            match conformance::read_report(value) {
                Ok(r) => r,
                Err(source) => return Err(MergeError::Report { name, source }),
            }
        };
        reports.push((name, r));
    }
    conformance::merge(&reports).map_err(MergeError::Shards)
}
