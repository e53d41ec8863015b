//! Rules that need evidence beyond the module: signatures (embedded wasmsign2 and signed
//! analyses), runtime certification (signed conformance reports), and exceptions.

mod common;
use common::*;
use ed25519_dalek::{Signer as _, SigningKey};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use wasm_encoder::{CustomSection, Encode, Section};
use wasmcert_policy::{Bundle, Level};
use wasmcert_report::conformance::{
    CaseResult, Evidence, HostInfo, Outcome, Report, RuntimeInfo, SuiteInfo, ToolInfo,
};
use wasmcert_report::sign::{self, Subject};

const TEST_PASSWORD: &[u8] = b"wasmcert-test";

fn keys_dir() -> std::path::PathBuf {
    root().join("../reports/tests/keys")
}

/// Decrypting the key (scrypt) is slow by design: once per test binary.
fn signer() -> &'static sign::Signer {
    static SIGNER: std::sync::OnceLock<sign::Signer> = std::sync::OnceLock::new();
    SIGNER.get_or_init(|| {
        let pem = std::fs::read(keys_dir().join("test.key")).unwrap();
        sign::Signer::load(&pem, TEST_PASSWORD).unwrap()
    })
}

/// The contents of a wasmsign2 `signature` custom section whose one signed hash is SHA-256 of
/// `covered`, signed by `key`.
fn signature_data(covered: &[u8], key: &SigningKey) -> Vec<u8> {
    let hash = Sha256::digest(covered);
    let mut msg = b"wasmsig\x01\x01".to_vec();
    msg.extend_from_slice(&hash);
    let sig = key.sign(&msg).to_bytes();
    let mut entry = Vec::new();
    0u32.encode(&mut entry); // no key id
    entry.push(1); // Ed25519
    64u32.encode(&mut entry);
    entry.extend_from_slice(&sig);
    let mut set = Vec::new();
    1u32.encode(&mut set);
    set.extend_from_slice(&hash);
    1u32.encode(&mut set);
    entry.len().encode(&mut set);
    set.extend_from_slice(&entry);
    let mut data = vec![1, 1, 1];
    1u32.encode(&mut data);
    set.len().encode(&mut data);
    data.extend_from_slice(&set);
    data
}

/// A wasmsign2-signed module: header, `signature` section, then the module's sections. The
/// signed hash is SHA-256 of everything after the signature section.
fn wasmsign2(module: &[u8], key: &SigningKey) -> Vec<u8> {
    let content = &module[8..];
    let mut out = module[..8].to_vec();
    CustomSection {
        name: "signature".into(),
        data: signature_data(content, key).into(),
    }
    .append_to(&mut out);
    out.extend_from_slice(content);
    out
}

fn write_ed25519_pub(dir: &Path, name: &str, key: &SigningKey) {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let pem = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    std::fs::write(dir.join(name), pem).unwrap();
}

/// wasmsign2's rule: the signature section comes first and covers the whole unit from the
/// first byte after the header. A component made of [unsigned core module][signature]
/// [signed core module][core instance of module 0] carries a signature whose hash matches
/// everything after it, while the code that runs (instance 0) is the unsigned module before it.
#[test]
fn a_signature_that_is_not_the_first_section_covers_nothing() {
    use wasm_encoder::{Component, ComponentSectionId, ModuleArg, RawSection};
    let dir = tempfile::tempdir().unwrap();
    let release = SigningKey::from_bytes(&[7u8; 32]);
    write_ed25519_pub(dir.path(), "release.pub", &release);
    let p = policy_in(
        "version = 1\n[rules.signature-required]\nkeys = [\"release.pub\"]\naccept = [\"embedded\"]\n",
        dir.path(),
    );
    let unsigned = wat::parse_str(
        "(module (memory 1 1) (func (export \"run\") (i32.store (i32.const 0) (i32.const 42))))",
    )
    .unwrap();
    let signed_module = wat::parse_str("(module (func (export \"f\")))").unwrap();
    fn module_section(m: &[u8]) -> RawSection<'_> {
        RawSection {
            id: ComponentSectionId::CoreModule as u8,
            data: m,
        }
    }
    // What follows the signature: the signed module and an instance of module 0.
    let mut after = Component::new();
    after.section(&module_section(&signed_module));
    let mut inst = wasm_encoder::InstanceSection::new();
    inst.instantiate(0, Vec::<(&str, ModuleArg)>::new());
    after.section(&inst);
    let after = after.finish();
    let covered = &after[8..];
    let mut c = Component::new();
    c.section(&module_section(&unsigned));
    c.section(&CustomSection {
        name: "signature".into(),
        data: signature_data(covered, &release).into(),
    });
    let mut bytes = c.finish();
    bytes.extend_from_slice(covered);
    let a = analyse(&bytes, "attack.wasm");
    let sigs: Vec<&str> = a
        .units
        .iter()
        .flat_map(|u| u.signatures.iter().map(|s| s.coverage.as_str()))
        .collect();
    assert!(!sigs.is_empty() && !sigs.contains(&"full"), "{sigs:?}");
    let d = decide(&p, &a);
    assert_eq!(denied(&d), ["signature-required"], "{d:?}");
}

#[test]
fn embedded_wasmsign2_signature_by_a_listed_key() {
    let dir = tempfile::tempdir().unwrap();
    let release = SigningKey::from_bytes(&[7u8; 32]);
    let other = SigningKey::from_bytes(&[9u8; 32]);
    write_ed25519_pub(dir.path(), "release.pub", &release);
    // wasmsign2's raw key format as well: 0x01 then the 32 bytes.
    let mut raw = vec![1u8];
    raw.extend_from_slice(other.verifying_key().as_bytes());
    std::fs::write(dir.path().join("other.raw"), raw).unwrap();
    let p = policy_in(
        "version = 1\n[rules.signature-required]\nkeys = [\"release.pub\"]\naccept = [\"embedded\"]\n",
        dir.path(),
    );
    let module = wat::parse_str("(module (memory 1 1) (func (export \"f\")))").unwrap();

    let signed = analyse(&wasmsign2(&module, &release), "signed.wasm");
    assert_eq!(signed.units[0].signatures[0].coverage, "full");
    assert!(decide(&p, &signed).allowed);

    let by_other = analyse(&wasmsign2(&module, &other), "other.wasm");
    let d = decide(&p, &by_other);
    assert_eq!(denied(&d), ["signature-required"]);
    assert!(
        d.findings[0]
            .message
            .contains("no embedded signature verifies"),
        "{}",
        d.findings[0].message
    );
    // Listing the other key (raw format) admits it.
    let both = policy_in(
        "version = 1\n[rules.signature-required]\nkeys = [\"release.pub\", \"other.raw\"]\n",
        dir.path(),
    );
    assert!(decide(&both, &by_other).allowed);

    // A section appended after signing breaks the coverage: denied.
    let mut tampered = wasmsign2(&module, &release);
    CustomSection {
        name: "late".into(),
        data: b"x".as_slice().into(),
    }
    .append_to(&mut tampered);
    assert_eq!(
        denied(&decide(&p, &analyse(&tampered, "t.wasm"))),
        ["signature-required"]
    );
    // A flipped signature byte: denied.
    let mut flipped = wasmsign2(&module, &release);
    let at = flipped.len() - module.len() + 8 - 10; // inside the 64 signature bytes
    flipped[at] ^= 1;
    assert_eq!(
        denied(&decide(&p, &analyse(&flipped, "f.wasm"))),
        ["signature-required"]
    );
    // Unsigned: denied, and the message says so.
    let d = decide(&p, &analyse(&module, "plain.wasm"));
    assert!(d.findings[0].message.contains("no embedded signature"));
}

#[test]
fn signed_analysis_attestation_for_this_digest() {
    let p = policy(
        "version = 1\n[rules.signature-required]\nkeys = [\"../reports/tests/keys/test.pub\"]\n",
    );
    let a = fixture("edge-handler");
    let bundle = signer()
        .sign(
            &Subject {
                name: a.subject.path.clone(),
                sha256: a.subject.sha256.clone(),
            },
            sign::ANALYSIS_PREDICATE,
            &serde_json::to_value(&a).unwrap(),
        )
        .unwrap();
    let att = [Bundle {
        name: "edge-handler.sigstore.json".into(),
        bytes: bundle.clone().into_bytes(),
    }];
    assert!(p.evaluate(&a, &att).unwrap().allowed);
    // Without it, or for another module, denied.
    let d = p.evaluate(&a, &[]).unwrap();
    assert!(d.findings[0].message.contains("no signed analysis given"));
    let other = fixture("fs-tool");
    let d = p.evaluate(&other, &att).unwrap();
    assert_eq!(denied(&d), ["signature-required"]);
    // The committed fixture bundle is for hello.wasm: it verifies, but not for this digest.
    let hello = std::fs::read(root().join("../reports/tests/data/hello.sigstore.json")).unwrap();
    let d = p
        .evaluate(
            &a,
            &[Bundle {
                name: "hello".into(),
                bytes: hello,
            }],
        )
        .unwrap();
    assert!(!d.allowed);
    // A tampered bundle never counts.
    let mut v: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    v["dsseEnvelope"]["signatures"][0]["sig"] = "AAAA".into();
    let d = p
        .evaluate(
            &a,
            &[Bundle {
                name: "t".into(),
                bytes: v.to_string().into_bytes(),
            }],
        )
        .unwrap();
    assert!(!d.allowed);
    // accept = ["embedded"] ignores attestations, so a P-256 key alone could never satisfy it.
    let e = load_error(
        "version = 1\n[rules.signature-required]\nkeys = [\"../reports/tests/keys/test.pub\"]\naccept = [\"embedded\"]\n",
    );
    assert!(
        e.starts_with("policy.toml:3:8: no listed key can verify an accepted signature"),
        "{e}"
    );
}

fn report(runtime: &str, outcomes: &[(&str, Outcome)], started_at: &str) -> Report {
    let mut cases = BTreeMap::new();
    for (id, o) in outcomes {
        cases.insert(
            id.to_string(),
            CaseResult {
                category: id.split('/').next().unwrap().to_string(),
                outcome: o.clone(),
                known: None,
                evidence: Evidence::default(),
            },
        );
    }
    let mut r = Report {
        schema_version: wasmcert_report::conformance::REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "wasmcert".into(),
            version: "0.1.0".into(),
        },
        runtime: RuntimeInfo {
            name: runtime.into(),
            version: "49.0.4".into(),
            binary_sha256: "ab".repeat(32),
            adapter: "builtin".into(),
            flags: vec![],
        },
        suite: SuiteInfo {
            name: "wasmcert-builtin".into(),
            digest: "cd".repeat(32),
            cases: outcomes.len() as u32,
            shard: None,
            expectations: None,
            world: Default::default(),
        },
        host: HostInfo {
            os: "linux".into(),
            arch: "x86_64".into(),
        },
        started_at: started_at.into(),
        verdict: Default::default(),
        cases,
        summary: BTreeMap::new(),
    };
    r.summarize();
    r
}

fn signed(r: &Report, name: &str) -> Bundle {
    let b = signer()
        .sign(
            &Subject {
                name: r.runtime.name.clone(),
                sha256: r.runtime.binary_sha256.clone(),
            },
            sign::REPORT_PREDICATE,
            &serde_json::to_value(r).unwrap(),
        )
        .unwrap();
    Bundle {
        name: name.into(),
        bytes: b.into_bytes(),
    }
}

#[test]
fn runtime_certification_from_signed_reports() {
    let text = "version = 1\n[rules.runtime-certification-required]\nkeys = [\"../reports/tests/keys/test.pub\"]\nruntime = \"wasmtime*\"\nmax-age-days = 90\n";
    let a = fixture("edge-handler");
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let good = report(
        "wasmtime",
        &[
            ("sandbox/dotdot", Outcome::Pass),
            ("wasi/args", Outcome::Fail { why: "x".into() }),
        ],
        &now,
    );
    let mut p = policy(text);
    p.prepare(&[signed(&good, "wasmtime.sigstore.json")]);
    assert!(decide(&p, &a).allowed, "{:#?}", decide(&p, &a).findings);

    let check = |bundles: &[Bundle], want: &str| {
        let mut p = policy(text);
        p.prepare(bundles);
        let d = decide(&p, &a);
        assert_eq!(denied(&d), ["runtime-certification-required"]);
        assert!(
            d.findings[0].message.contains(want),
            "{} lacks {want}",
            d.findings[0].message
        );
        assert_eq!(d.findings[0].policy.line, 2);
    };
    check(&[], "no report given");
    let escaped = report(
        "wasmtime",
        &[(
            "sandbox/dotdot",
            Outcome::Escaped {
                why: "read the secret".into(),
            },
        )],
        &now,
    );
    check(
        &[signed(&escaped, "esc.json")],
        "esc.json: `wasmtime` sandbox case sandbox/dotdot is escaped",
    );
    // A known-failure list naming the escape changes nothing: it is still an escape.
    let mut known = escaped.clone();
    known.cases.get_mut("sandbox/dotdot").unwrap().known =
        Some(wasmcert_report::conformance::Known {
            expected: "escaped".into(),
            reason: "documented".into(),
            advisory: Some("GHSA-0000-0000-0000".into()),
            holds: true,
        });
    known.summarize();
    check(
        &[signed(&known, "known.json")],
        "known.json: `wasmtime` sandbox case sandbox/dotdot is escaped",
    );
    let unsupported = report(
        "wasmtime",
        &[(
            "sandbox/dotdot",
            Outcome::NotSupported {
                why: "no preopens".into(),
                missing: Some("dirs".into()),
            },
        )],
        &now,
    );
    check(
        &[signed(&unsupported, "ns.json")],
        "ns.json: no `sandbox` case passed",
    );
    let no_sandbox = report("wasmtime", &[("wasi/args", Outcome::Pass)], &now);
    check(
        &[signed(&no_sandbox, "ns.json")],
        "ns.json: has no `sandbox` cases",
    );
    let node = report("node", &[("sandbox/dotdot", Outcome::Pass)], &now);
    check(
        &[signed(&node, "node.json")],
        "certifies `node`, not `wasmtime*`",
    );
    let old = report(
        "wasmtime",
        &[("sandbox/dotdot", Outcome::Pass)],
        "2020-01-01T00:00:00Z",
    );
    check(&[signed(&old, "old.json")], "old.json: ");
    // Unsigned JSON or a tampered bundle is never evidence.
    let mut tampered: serde_json::Value =
        serde_json::from_slice(&signed(&good, "t").bytes).unwrap();
    tampered["dsseEnvelope"]["payload"] = serde_json::Value::String(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        serde_json::to_vec(&serde_json::json!({"predicate": escaped})).unwrap(),
    ));
    check(
        &[Bundle {
            name: "t.json".into(),
            bytes: tampered.to_string().into_bytes(),
        }],
        "t.json: not signed by a listed key",
    );
    // One good report among bad ones certifies.
    let mut p = policy(text);
    p.prepare(&[signed(&escaped, "esc.json"), signed(&good, "good.json")]);
    assert!(decide(&p, &a).allowed);
    // `forbid` widens what disqualifies: a crashed sandbox case.
    let crashed = report(
        "wasmtime",
        &[
            ("sandbox/a", Outcome::Pass),
            ("sandbox/x", Outcome::Crashed { signal: 11 }),
        ],
        &now,
    );
    let mut strict = policy(&format!("{text}forbid = [\"escaped\", \"crashed\"]\n"));
    strict.prepare(&[signed(&crashed, "c.json")]);
    assert!(!decide(&strict, &a).allowed);
    let mut lax = policy(text);
    lax.prepare(&[signed(&crashed, "c.json")]);
    assert!(decide(&lax, &a).allowed);
    // Ed25519 keys cannot sign reports.
    let dir = tempfile::tempdir().unwrap();
    write_ed25519_pub(dir.path(), "ed.pub", &SigningKey::from_bytes(&[1; 32]));
    let e = wasmcert_policy::Policy::from_text(
        "version = 1\n[rules.runtime-certification-required]\nkeys = [\"ed.pub\"]\n",
        "p.toml",
        dir.path(),
        false,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("p.toml:3:9: conformance reports are signed with ECDSA P-256")
    );
}

#[test]
fn reports_named_in_the_policy_are_read_relative_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let good = report("wasmtime", &[("sandbox/a", Outcome::Pass)], &now);
    std::fs::write(
        dir.path().join("wt.sigstore.json"),
        signed(&good, "x").bytes,
    )
    .unwrap();
    std::fs::copy(keys_dir().join("test.pub"), dir.path().join("k.pub")).unwrap();
    let policy_file = dir.path().join("p.toml");
    std::fs::write(
        &policy_file,
        "version = 1\n[rules.runtime-certification-required]\nkeys = [\"k.pub\"]\nreports = [\"wt.sigstore.json\"]\n",
    )
    .unwrap();
    let p = wasmcert_policy::Policy::load(&policy_file).unwrap();
    assert!(p.evaluate(&fixture("edge-handler"), &[]).unwrap().allowed);
    std::fs::write(
        &policy_file,
        "version = 1\n[rules.runtime-certification-required]\nkeys = [\"k.pub\"]\nreports = [\"gone.json\"]\n",
    )
    .unwrap();
    let e = wasmcert_policy::Policy::load(&policy_file)
        .unwrap_err()
        .to_string();
    assert!(e.contains("p.toml:4:12: cannot read report"), "{e}");
}

#[test]
fn exceptions_suppress_by_digest_or_name_and_expire() {
    let a = fixture("net-client");
    let text = format!(
        r#"version = 1
[rules.memory-maximum-required]
[rules.capability-denied]
capabilities = ["net-listen"]

[[exceptions]]
name = "net-*.wasm"
rules = ["memory-maximum-required"]
reason = "legacy build, PLAT-1"

[[exceptions]]
digest = "sha256:{}"
rules = ["capability-denied"]
reason = "reviewed: accepts on a socket the host hands over"
expires = 2027-01-31

[[exceptions]]
name = "never-matches.wasm"
reason = "stale"

[[exceptions]]
name = "*"
reason = "expired"
expires = 2026-01-01
"#,
        a.subject.sha256
    );
    let p = policy(&text);
    let d = decide(&p, &a);
    assert!(d.allowed, "{:#?}", d.findings);
    assert_eq!(d.findings.len(), 2);
    assert!(d.findings.iter().all(|f| f.excepted.is_some()));
    let mem = d
        .findings
        .iter()
        .find(|f| f.rule == "memory-maximum-required")
        .unwrap();
    assert_eq!(mem.excepted.as_ref().unwrap().exception.line, 6);
    assert_eq!(
        mem.excepted.as_ref().unwrap().reason,
        "legacy build, PLAT-1"
    );
    assert_eq!(d.used_exceptions, BTreeSet::from([0, 1]));
    let meta = p.meta_findings(&d.used_exceptions);
    let meta: Vec<_> = meta
        .iter()
        .map(|f| (f.rule.as_str(), f.policy.line, f.level))
        .collect();
    assert_eq!(
        meta,
        [
            ("exception-unused", 17, Level::Warn),
            ("exception-expired", 21, Level::Warn)
        ]
    );

    // Another module with the same name pattern but another digest: only the name exception.
    let mut other = fixture("net-client");
    other.subject.sha256 = "00".repeat(32);
    let d = decide(&p, &other);
    assert!(!d.allowed);
    assert_eq!(denied(&d), ["capability-denied"]);

    // After the digest exception expires it no longer applies.
    let mut later = policy(&text);
    later.set_today("2027-02-01");
    let d = decide(&later, &a);
    assert_eq!(denied(&d), ["capability-denied"]);
    assert!(
        later
            .meta_findings(&d.used_exceptions)
            .iter()
            .any(|f| f.rule == "exception-expired" && f.policy.line == 11)
    );
}
