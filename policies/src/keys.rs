//! Public keys a policy lists, and the two signature checks they serve:
//!
//! - **embedded**: a wasmsign2 `signature` section (Ed25519). wasmsign2 signs
//!   `"wasmsig" ‖ 0x01 ‖ 0x01 ‖ hash₁ ‖ … ‖ hashₙ` (spec version, hash function, then the
//!   SHA-256 hashes of the signed section runs). The analyzer recomputes the hashes; a signature
//!   counts when it verifies over a set that contains the hash of the *whole* content.
//! - **attestation**: a Sigstore bundle (ECDSA P-256, cosign keys) of a wasmcert analysis whose
//!   subject is the module's sha256, or of a conformance report (runtime certification).
//!
//! Keys are PEM `PUBLIC KEY` (Ed25519 or P-256 SubjectPublicKeyInfo) or wasmsign2's raw
//! format (`0x01` followed by the 32 key bytes).

pub use crate::error::KeyError;
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use std::path::Path;
use wasmcert_analyzer::Unit;

/// Keys larger than this are not keys: the bound keeps a misconfigured path (a disk image,
/// say) from being read whole.
const MAX_KEY_FILE: u64 = 64 << 10;

#[derive(Debug, Clone)]
pub enum PublicKey {
    /// For embedded wasmsign2 signatures.
    Ed25519 { key: VerifyingKey, path: String },
    /// For Sigstore bundles; `hint` is how bundles name it.
    P256 {
        pem: Vec<u8>,
        hint: String,
        path: String,
    },
}

impl PublicKey {
    pub fn path(&self) -> &str {
        match self {
            PublicKey::Ed25519 { path, .. } | PublicKey::P256 { path, .. } => path,
        }
    }
}

pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
    let shown = path.display().to_string();
    let read = |source| KeyError::Read {
        path: shown.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read)?;
    if meta.len() > MAX_KEY_FILE {
        return Err(KeyError::TooLarge {
            path: shown,
            size: meta.len(),
        });
    }
    let bytes = std::fs::read(path).map_err(read)?;
    parse(&bytes, &shown)
}

pub fn parse(bytes: &[u8], shown: &str) -> Result<PublicKey, KeyError> {
    let invalid = |problem: String| KeyError::Invalid {
        path: shown.to_string(),
        problem,
    };
    if bytes.len() == 33 && bytes[0] == 0x01 {
        let raw: [u8; 32] = bytes[1..].try_into().expect("33 - 1 bytes");
        let key = VerifyingKey::from_bytes(&raw)
            .map_err(|e| invalid(format!("not an Ed25519 public key: {e}")))?;
        return Ok(PublicKey::Ed25519 {
            key,
            path: shown.to_string(),
        });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| invalid("not a PEM public key or a raw wasmsign2 key".into()))?;
    if !text.contains("-----BEGIN PUBLIC KEY-----") {
        return Err(invalid(
            "not a PEM public key (`-----BEGIN PUBLIC KEY-----`) or a raw wasmsign2 key".into(),
        ));
    }
    if let Ok(key) = VerifyingKey::from_public_key_pem(text.trim()) {
        return Ok(PublicKey::Ed25519 {
            key,
            path: shown.to_string(),
        });
    }
    match wasmcert_report::sign::public_key_hint(bytes) {
        Ok(hint) => Ok(PublicKey::P256 {
            pem: bytes.to_vec(),
            hint,
            path: shown.to_string(),
        }),
        Err(e) => Err(invalid(format!("neither an Ed25519 nor a P-256 key: {e}"))),
    }
}

/// The wasmsign2 message for a set of hashes (hex, as the analyzer records them).
fn wasmsign2_message(hashes: &[String]) -> Option<Vec<u8>> {
    let mut msg = b"wasmsig\x01\x01".to_vec();
    for h in hashes {
        msg.extend_from_slice(&hex::decode(h).ok()?);
    }
    Some(msg)
}

/// Whether a wasmsign2 signature in `unit` by `key` covers all of the unit's content.
/// Returns the key path on success.
pub fn embedded_signature_valid(unit: &Unit, key: &VerifyingKey) -> bool {
    for sig in &unit.signatures {
        // Only a signature over the whole unit counts: first section, every byte after it.
        if sig.coverage != "full" {
            continue;
        }
        // The hash of everything after the signature section: the last one computed.
        let Some(whole) = sig.computed_hashes.last() else {
            continue;
        };
        for set in &sig.signed_hash_sets {
            if !set.hashes.iter().any(|h| h == whole) {
                continue;
            }
            let Some(msg) = wasmsign2_message(&set.hashes) else {
                continue;
            };
            for entry in &set.signatures {
                if entry.algorithm != 1 {
                    continue;
                }
                let Ok(bytes) = hex::decode(&entry.signature) else {
                    continue;
                };
                let Ok(s) = Signature::from_slice(&bytes) else {
                    continue;
                };
                if key.verify(&msg, &s).is_ok() {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_formats() {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let mut raw = vec![1u8];
        raw.extend_from_slice(sk.verifying_key().as_bytes());
        assert!(matches!(parse(&raw, "k"), Ok(PublicKey::Ed25519 { .. })));
        use ed25519_dalek::pkcs8::EncodePublicKey;
        let pem = sk
            .verifying_key()
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        assert!(matches!(
            parse(pem.as_bytes(), "k"),
            Ok(PublicKey::Ed25519 { .. })
        ));
        let p256 = include_bytes!("../../reports/tests/keys/test.pub");
        assert!(matches!(parse(p256, "k"), Ok(PublicKey::P256 { .. })));
        assert!(
            parse(b"hello", "k")
                .unwrap_err()
                .to_string()
                .contains("not a PEM public key")
        );
        assert!(parse(&[0xff; 40], "k").is_err());
    }
}
