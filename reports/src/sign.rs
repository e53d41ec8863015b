//! Signing and verifying reports: in-toto Statement v1 → DSSE envelope → Sigstore bundle v0.3,
//! with offline ECDSA P-256 keys in cosign's format.
//!
//! The key layer (generation, `ENCRYPTED SIGSTORE PRIVATE KEY` PEM with scrypt + secretbox,
//! signing, verification) is the `sigstore` crate's. The framing is ours, because the crate
//! cannot build key-based DSSE bundles offline; it follows
//! - DSSE v1: `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths
//!   as ASCII decimal, signatures over the PAE;
//! - in-toto Statement v1: `_type`, `subject[{name, digest{sha256}}]`, `predicateType`, `predicate`;
//! - Sigstore bundle v0.3: `mediaType`, `verificationMaterial.publicKey.hint`,
//!   `verificationMaterial.tlogEntries` (empty: no transparency log offline), `dsseEnvelope`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::signing_key::ecdsa::{ECDSAKeys, EllipticCurve};
use sigstore::crypto::{CosignVerificationKey, Signature, SigningScheme};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Predicate types, versioned with the schema of the document they carry.
pub const REPORT_PREDICATE: &str = "https://wasmcert.dev/conformance-report/v1";
pub const ANALYSIS_PREDICATE: &str = "https://wasmcert.dev/analysis/v1";
const SCHEME: SigningScheme = SigningScheme::ECDSA_P256_SHA256_ASN1;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read as what it should be (usage / input error, exit 2).
    #[error("{0}")]
    Input(String),
    /// The bundle was read but does not verify (exit 1).
    #[error("{0}")]
    Invalid(String),
    /// The signature verifies, but the signed document is of a schema version this wasmcert
    /// does not read.
    #[error(
        "the signature verifies, but {what} schema_version is {found:?}; this wasmcert reads {expected}"
    )]
    Version {
        what: &'static str,
        found: Option<u64>,
        expected: u64,
    },
}

fn input(e: impl std::fmt::Display) -> Error {
    Error::Input(e.to_string())
}

/// A new ECDSA P-256 key pair: (encrypted private key PEM, public key PEM).
pub fn keygen(password: &[u8]) -> Result<(String, String), Error> {
    let kp = SigStoreKeyPair::ECDSA(ECDSAKeys::new(EllipticCurve::P256).map_err(input)?);
    let private = kp.private_key_to_encrypted_pem(password).map_err(input)?;
    let public = kp.public_key_to_pem().map_err(input)?;
    Ok((private.to_string(), public))
}

/// DSSE pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}

/// base64(sha256(DER SubjectPublicKeyInfo)): how a bundle names its key.
pub fn key_hint(public_der: &[u8]) -> String {
    B64.encode(Sha256::digest(public_der))
}

/// The subject of a statement: what the predicate is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    pub sha256: String,
}

#[derive(serde::Serialize)]
struct StatementOut<'a> {
    #[serde(rename = "_type")]
    type_: &'a str,
    subject: [SubjectOut<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: &'a Value,
}

#[derive(serde::Serialize)]
struct SubjectOut<'a> {
    name: &'a str,
    digest: DigestOut<'a>,
}

#[derive(serde::Serialize)]
struct DigestOut<'a> {
    sha256: &'a str,
}

/// The parts of a statement verification reads; the predicate body is skipped, not built.
#[derive(serde::Deserialize)]
struct StatementIn {
    #[serde(rename = "_type", default)]
    type_: String,
    #[serde(default)]
    subject: Vec<SubjectIn>,
    #[serde(rename = "predicateType", default)]
    predicate_type: String,
    #[serde(default)]
    predicate: PredicateIn,
}

#[derive(serde::Deserialize, Default)]
struct SubjectIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct PredicateIn {
    schema_version: Option<u64>,
}

/// A decrypted signing key. Decrypting (scrypt, by design slow) happens once per process.
pub struct Signer {
    signer: sigstore::crypto::SigStoreSigner,
    public_der: Vec<u8>,
}

impl Signer {
    /// Decrypt an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM.
    pub fn load(private_pem: &[u8], password: &[u8]) -> Result<Signer, Error> {
        let kp = SigStoreKeyPair::from_encrypted_pem(private_pem, password).map_err(|e| {
            Error::Input(format!(
                "cannot decrypt the private key (wrong password?): {e}"
            ))
        })?;
        Ok(Signer {
            signer: kp.to_sigstore_signer(&SCHEME).map_err(input)?,
            public_der: kp.public_key_to_der().map_err(input)?,
        })
    }

    /// Sign `predicate` (a report or an analysis) about `subject`; returns the bundle JSON.
    /// The statement bytes are deterministic for a deterministic predicate (serde, sorted maps).
    pub fn sign(
        &self,
        subject: &Subject,
        predicate_type: &str,
        predicate: &Value,
    ) -> Result<String, Error> {
        // Serialised from borrowed parts: no copy of a (possibly megabyte) predicate.
        let statement = StatementOut {
            type_: STATEMENT_TYPE,
            subject: [SubjectOut {
                name: &subject.name,
                digest: DigestOut {
                    sha256: &subject.sha256,
                },
            }],
            predicate_type,
            predicate,
        };
        let payload = serde_json::to_vec(&statement).map_err(input)?;
        let sig = self
            .signer
            .sign(&pae(PAYLOAD_TYPE, &payload))
            .map_err(input)?;
        let bundle = json!({
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": {
                "publicKey": { "hint": key_hint(&self.public_der) },
                "tlogEntries": [],
            },
            "dsseEnvelope": {
                "payload": B64.encode(&payload),
                "payloadType": PAYLOAD_TYPE,
                "signatures": [{ "sig": B64.encode(&sig), "keyid": "" }],
            },
        });
        Ok(serde_json::to_string(&bundle).map_err(input)?
            + "
")
    }
}

/// Decrypt the key and sign in one call (see [`Signer`]).
pub fn sign(
    private_pem: &[u8],
    password: &[u8],
    subject: &Subject,
    predicate_type: &str,
    predicate: &Value,
) -> Result<String, Error> {
    Signer::load(private_pem, password)?.sign(subject, predicate_type, predicate)
}

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct Verified {
    pub key_hint: String,
    pub predicate_type: String,
    pub subjects: Vec<Subject>,
    /// The signed in-toto statement (JSON bytes): read the predicate from here, never from an
    /// unverified copy.
    pub payload: Vec<u8>,
}

/// Check that `public_pem` is an ECDSA P-256 public key this module verifies with; returns
/// its hint (base64 SHA-256 of the DER), as bundles name keys.
pub fn public_key_hint(public_pem: &[u8]) -> Result<String, Error> {
    CosignVerificationKey::from_pem(public_pem, &SCHEME)
        .map_err(|e| Error::Input(format!("not an ECDSA P-256 public key PEM: {e}")))?;
    Ok(key_hint(&pem_der(public_pem)?))
}

/// Verify a bundle with a public key (PEM). `artifact_sha256`, when given, must be a subject.
pub fn verify(
    bundle_json: &[u8],
    public_pem: &[u8],
    artifact_sha256: Option<&str>,
) -> Result<Verified, Error> {
    let key = CosignVerificationKey::from_pem(public_pem, &SCHEME)
        .map_err(|e| Error::Input(format!("not an ECDSA P-256 public key PEM: {e}")))?;
    let der = pem_der(public_pem)?;
    let hint = key_hint(&der);
    let bundle: Value = serde_json::from_slice(bundle_json)
        .map_err(|e| Error::Input(format!("the bundle is not JSON: {e}")))?;
    let invalid = |m: String| Error::Invalid(m);
    if bundle["mediaType"] != BUNDLE_MEDIA_TYPE {
        return Err(invalid(format!(
            "mediaType is {}, expected {BUNDLE_MEDIA_TYPE}",
            bundle["mediaType"]
        )));
    }
    let bundle_hint = bundle["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap_or("");
    if bundle_hint != hint {
        return Err(invalid(format!(
            "the bundle names key {bundle_hint:?}, the given key is {hint:?}"
        )));
    }
    let env = &bundle["dsseEnvelope"];
    if env["payloadType"] != PAYLOAD_TYPE {
        return Err(invalid(format!(
            "payloadType is {}, expected {PAYLOAD_TYPE}",
            env["payloadType"]
        )));
    }
    let payload = B64
        .decode(env["payload"].as_str().unwrap_or(""))
        .map_err(|e| invalid(format!("payload is not base64: {e}")))?;
    let sigs = env["signatures"].as_array().cloned().unwrap_or_default();
    if sigs.is_empty() {
        return Err(invalid("the envelope has no signature".into()));
    }
    let message = pae(PAYLOAD_TYPE, &payload);
    let ok = sigs.iter().any(|s| {
        B64.decode(s["sig"].as_str().unwrap_or(""))
            .ok()
            .is_some_and(|sig| key.verify_signature(Signature::Raw(&sig), &message).is_ok())
    });
    if !ok {
        return Err(invalid("no signature verifies with the given key".into()));
    }
    let statement: StatementIn = serde_json::from_slice(&payload).map_err(|e| {
        invalid(format!(
            "the signed payload is not an in-toto statement: {e}"
        ))
    })?;
    if statement.type_ != STATEMENT_TYPE {
        return Err(invalid(format!(
            "statement _type is {:?}, expected {STATEMENT_TYPE}",
            statement.type_
        )));
    }
    let predicate_type = statement.predicate_type.clone();
    let expected_version = match predicate_type.as_str() {
        REPORT_PREDICATE => crate::conformance::REPORT_SCHEMA_VERSION as u64,
        ANALYSIS_PREDICATE => wasmcert_analyzer::SCHEMA_VERSION as u64,
        other => return Err(invalid(format!("unknown predicateType {other:?}"))),
    };
    if statement.predicate.schema_version != Some(expected_version) {
        return Err(Error::Version {
            what: if predicate_type == REPORT_PREDICATE {
                "the report's"
            } else {
                "the analysis's"
            },
            found: statement.predicate.schema_version,
            expected: expected_version,
        });
    }
    let subjects: Vec<Subject> = statement
        .subject
        .into_iter()
        .map(|s| Subject {
            name: s.name,
            sha256: s.digest.get("sha256").cloned().unwrap_or_default(),
        })
        .collect();
    if subjects.is_empty() {
        return Err(invalid("the statement has no subject".into()));
    }
    if let Some(want) = artifact_sha256
        && !subjects.iter().any(|s| s.sha256.eq_ignore_ascii_case(want))
    {
        return Err(invalid(format!(
            "the artifact's sha256 {want} is not a subject of the statement"
        )));
    }
    Ok(Verified {
        key_hint: hint,
        predicate_type,
        subjects,
        payload,
    })
}

fn pem_der(pem: &[u8]) -> Result<Vec<u8>, Error> {
    let text = std::str::from_utf8(pem)
        .map_err(|_| Error::Input("the public key is not PEM text".into()))?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body.trim())
        .map_err(|e| Error::Input(format!("the public key PEM is not base64: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_predicate() -> Value {
        json!({ "schema_version": crate::conformance::REPORT_SCHEMA_VERSION, "runtime": { "name": "embedded" }, "cases": {} })
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_verify_and_reject_every_tamper() {
        let (private, public) = keygen(b"pw").unwrap();
        assert!(private.contains("ENCRYPTED SIGSTORE PRIVATE KEY"));
        let subject = Subject {
            name: "wasmtime".into(),
            sha256: "ab".repeat(32),
        };
        let bundle = sign(
            private.as_bytes(),
            b"pw",
            &subject,
            REPORT_PREDICATE,
            &report_predicate(),
        )
        .unwrap();
        let v = verify(bundle.as_bytes(), public.as_bytes(), Some(&"ab".repeat(32))).unwrap();
        assert_eq!(v.subjects, vec![subject]);
        assert!(matches!(
            verify(bundle.as_bytes(), public.as_bytes(), Some(&"cd".repeat(32))),
            Err(Error::Invalid(_))
        ));

        // Flip each byte of the payload and of the signature: never verifies.
        let b: Value = serde_json::from_str(&bundle).unwrap();
        for field in ["payload", "sig"] {
            let raw = if field == "payload" {
                b["dsseEnvelope"]["payload"].as_str().unwrap().to_string()
            } else {
                b["dsseEnvelope"]["signatures"][0]["sig"]
                    .as_str()
                    .unwrap()
                    .to_string()
            };
            let mut bytes = B64.decode(&raw).unwrap();
            for i in 0..bytes.len() {
                bytes[i] ^= 0x01;
                let mut t = b.clone();
                let enc = json!(B64.encode(&bytes));
                if field == "payload" {
                    t["dsseEnvelope"]["payload"] = enc;
                } else {
                    t["dsseEnvelope"]["signatures"][0]["sig"] = enc;
                }
                let r = verify(t.to_string().as_bytes(), public.as_bytes(), None);
                assert!(r.is_err(), "{field} byte {i} flipped still verifies");
                bytes[i] ^= 0x01;
            }
        }
        // Another key, and a wrong password.
        let (_, other_public) = keygen(b"x").unwrap();
        assert!(matches!(
            verify(bundle.as_bytes(), other_public.as_bytes(), None),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            sign(
                private.as_bytes(),
                b"wrong",
                &Subject {
                    name: "a".into(),
                    sha256: "00".into()
                },
                REPORT_PREDICATE,
                &report_predicate()
            ),
            Err(Error::Input(_))
        ));
    }
}
