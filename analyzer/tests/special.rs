//! Inputs that are easier to build in Rust than to write as text: signed modules, claims,
//! embedded worlds, cargo-auditable SBOMs, huge sections, and malformed binaries. Every one
//! asserts the behaviour a user relies on (finding codes, error offsets, no panic).

use sha2::{Digest, Sha256};
use wasm_encoder::{CustomSection, Encode, Section};
use wasmcert_analyzer::{Analysis, Options, analyze, findings::FindingCode};

fn run(bytes: &[u8]) -> Analysis {
    analyze(bytes, &Options::default()).unwrap_or_else(|e| panic!("analysis failed: {e}"))
}

fn codes(a: &Analysis) -> Vec<&str> {
    a.findings.iter().map(|f| f.code.code()).collect()
}

fn custom(name: &str, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    CustomSection {
        name: name.into(),
        data: data.into(),
    }
    .append_to(&mut v);
    v
}

fn base_module() -> Vec<u8> {
    wat::parse_str(r#"(module (memory 1 1) (func (export "f")))"#).unwrap()
}

/// Build a wasmsign2-style signed module: header, `signature`, then `content`; the signed hash
/// is SHA-256 of `signed_part` (a prefix of `content`, up to a delimiter or the end).
fn sign(content: &[u8], signed_part: &[u8]) -> Vec<u8> {
    let hash = Sha256::digest(signed_part);
    let mut sig = Vec::new();
    0u32.encode(&mut sig); // key id length
    sig.push(1); // Ed25519
    64u32.encode(&mut sig);
    sig.extend_from_slice(&[0u8; 64]);
    let mut set = Vec::new();
    1u32.encode(&mut set);
    set.extend_from_slice(&hash);
    1u32.encode(&mut set);
    sig.len().encode(&mut set);
    set.extend_from_slice(&sig);
    let mut data = vec![1, 1, 1];
    1u32.encode(&mut data);
    set.len().encode(&mut data);
    data.extend_from_slice(&set);
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    out.extend(custom("signature", &data));
    out.extend_from_slice(content);
    out
}

#[test]
fn wasmsign2_signature_covering_everything() {
    let content = base_module()[8..].to_vec();
    let a = run(&sign(&content, &content));
    let s = &a.units[0].signatures[0];
    assert_eq!(s.coverage, "full");
    assert_eq!(s.signed_hash_sets[0].signatures[0].length, 64);
    assert!(codes(&a).is_empty(), "{:?}", a.findings);
}

#[test]
fn section_appended_after_signing_invalidates_the_signature() {
    let content = base_module()[8..].to_vec();
    let mut m = sign(&content, &content);
    m.extend(custom("appended-later", b"evil"));
    let a = run(&m);
    assert_eq!(a.units[0].signatures[0].coverage, "mismatch");
    assert!(codes(&a).contains(&"signature-hash-mismatch"));
}

#[test]
fn section_appended_after_a_signed_delimiter_is_partial() {
    let mut content = base_module()[8..].to_vec();
    content.extend(custom("signature_delimiter", &[7u8; 16]));
    let mut m = sign(&content, &content);
    m.extend(custom("appended-later", b"evil"));
    let a = run(&m);
    assert_eq!(a.units[0].signatures[0].coverage, "partial");
    assert_eq!(a.units[0].signatures[0].computed_hashes.len(), 2);
    assert!(codes(&a).contains(&"signature-partial"));
}

#[test]
fn signature_that_is_not_first_is_flagged() {
    let base = base_module();
    let content = base[8..].to_vec();
    let signed = sign(&content, &content);
    // Move a type section in front of the signature.
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend(custom("early", b"x"));
    m.extend_from_slice(&signed[8..]);
    let a = run(&m);
    assert!(
        codes(&a).contains(&"signature-not-first"),
        "{:?}",
        a.findings
    );
}

fn jwt(hash: &str) -> String {
    use base64::Engine;
    let e = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.{}",
        e(serde_json::json!({"alg": "Ed25519", "typ": "jwt"})),
        e(
            serde_json::json!({"iss": "AAISSUER", "sub": "MMODULE", "iat": 1700000000,
            "wascap": {"name": "demo", "hash": hash, "caps": ["wasmcloud:httpserver"], "tags": ["b", "a"]}})
        ),
        "c2ln"
    )
}

#[test]
fn wasmcloud_claims_are_decoded_and_their_hash_checked() {
    let base = base_module();
    let good = hex::encode_upper(Sha256::digest(&base));
    let mut m = base.clone();
    m.extend(custom("wasmcloud_jwt", jwt(&good).as_bytes()));
    let a = run(&m);
    let c = &a.units[0].claims[0];
    assert_eq!(c.issuer.as_deref(), Some("AAISSUER"));
    assert_eq!(c.name.as_deref(), Some("demo"));
    assert_eq!(c.capabilities, ["wasmcloud:httpserver"]);
    assert_eq!(c.tags, ["a", "b"]);
    assert_eq!(c.computed_hash, good);
    assert!(codes(&a).is_empty(), "{:?}", a.findings);

    // Claims copied onto different code.
    let mut other = wat::parse_str(r#"(module (func (export "g")))"#).unwrap();
    other.extend(custom("jwt", jwt(&good).as_bytes()));
    assert!(codes(&run(&other)).contains(&"claims-hash-mismatch"));

    let mut broken = base_module();
    broken.extend(custom("jwt", b"not-a-jwt"));
    assert!(codes(&run(&broken)).contains(&"invalid-custom-section"));
}

/// Escape bytes for a `.wat` string literal.
fn wat_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("\\{x:02x}")).collect()
}

#[test]
fn embedded_world_is_compared_with_real_imports() {
    let world = wat::parse_str(
        r#"(component
            (type (component
              (type (component
                (import "wasi:cli/environment@0.2.0" (instance))
                (import "wasi:filesystem/types@0.2.0" (instance))
                (export "wasi:cli/run@0.2.0" (instance))))
              (export "test:pkg/app" (component (type 0)))))
            (export "app" (type 0)))"#,
    )
    .unwrap();
    let module = format!(
        r#"(module
            (import "wasi:cli/environment@0.2.0" "get-environment" (func (param i32)))
            (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.start-connect" (func (param i32)))
            (@custom "component-type:app" "{}"))"#,
        wat_bytes(&world)
    );
    let a = run(&wat::parse_str(&module).unwrap());
    let w = &a.units[0].worlds[0];
    assert_eq!(
        w.declared_imports,
        ["wasi:cli/environment@0.2.0", "wasi:filesystem/types@0.2.0"]
    );
    assert_eq!(w.declared_exports, ["wasi:cli/run@0.2.0"]);
    assert_eq!(w.declared_not_imported, ["wasi:filesystem/types@0.2.0"]);
    assert_eq!(w.imported_not_declared, ["wasi:sockets/tcp@0.2.0"]);
    let c = codes(&a);
    assert!(
        c.contains(&"declared-capability-not-imported") && c.contains(&"undeclared-import"),
        "{c:?}"
    );
    // wit-bindgen style core imports map to capabilities per function.
    let net = a
        .capabilities
        .iter()
        .find(|c| c.id == "net-connect")
        .unwrap();
    assert_eq!(
        net.granted_by[0].import,
        "wasi:sockets/tcp@0.2.0#[method]tcp-socket.start-connect"
    );
}

#[test]
fn cargo_auditable_dependencies_are_listed() {
    let info: auditable_serde::VersionInfo = serde_json::from_str(&serde_json::to_string(&serde_json::json!({
        "packages": [
            {"name": "app", "version": "0.1.0", "source": "local", "dependencies": [1, 2], "root": true},
            {"name": "serde", "version": "1.0.219", "source": "crates.io"},
            {"name": "cc", "version": "1.2.0", "source": "crates.io", "kind": "build"}
        ]
    })).unwrap())
    .unwrap();
    let deps = wasm_metadata_dep_section(info);
    let mut m = base_module();
    m.extend(deps);
    let a = run(&m);
    let d = a.units[0].dependencies.as_ref().unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(
        (
            d[1].name.as_str(),
            d[1].version.as_str(),
            d[1].source.as_str()
        ),
        ("serde", "1.0.219", "crates.io")
    );
    assert_eq!(d[2].kind, "build");
    assert!(d[0].root && d[0].dependencies == [1, 2]);
}

fn wasm_metadata_dep_section(info: auditable_serde::VersionInfo) -> Vec<u8> {
    // cargo-auditable's encoding: zlib-compressed JSON in a `.dep-v0` custom section.
    use std::io::Write;
    let json = serde_json::to_vec(&info).unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&json).unwrap();
    custom(".dep-v0", &z.finish().unwrap())
}

#[test]
fn zlib_bomb_in_dep_v0_is_refused_not_inflated() {
    use std::io::Write;
    // 64 MiB of zeros compress to ~64 KiB; the decoder stops at 2 MiB.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..64 {
        z.write_all(&chunk).unwrap();
    }
    let mut m = base_module();
    m.extend(custom(".dep-v0", &z.finish().unwrap()));
    let a = run(&m);
    assert!(a.units[0].dependencies.is_none());
    let f = a
        .findings
        .iter()
        .find(|f| f.code == FindingCode::InvalidCustomSection)
        .unwrap();
    assert!(f.message.contains("limit"), "{}", f.message);
}

#[test]
fn large_custom_section_is_analysed_and_flagged() {
    let mut m = base_module();
    m.extend(custom(".debug_info", &vec![0u8; 17 << 20]));
    let a = run(&m);
    let c = codes(&a);
    assert!(
        c.contains(&"custom-section-large") && c.contains(&"debug-info-present"),
        "{c:?}"
    );
}

fn err(bytes: &[u8]) -> wasmcert_analyzer::Error {
    match analyze(bytes, &Options::default()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn malformed_inputs_give_errors_with_offsets() {
    let good = base_module();
    // Truncated in the middle of a section.
    let e = err(&good[..good.len() - 3]);
    assert!(e.offset > 8, "{e}");
    // Wrong magic and short files.
    assert!(err(b"\0asn\x01\0\0\0").message.contains("magic"));
    assert!(err(b"\0as").message.contains("too short"));
    assert!(err(b"").message.contains("too short"));
    // A section whose length runs past the end of the file.
    let mut m = b"\0asm\x01\0\0\0\x01".to_vec();
    m.extend([0xff, 0xff, 0xff, 0x0f]);
    m.extend([0x01, 0x60]);
    let e = err(&m);
    assert!(
        (9..=13).contains(&e.offset) && e.message.contains("end"),
        "{e}"
    );
    // A custom section declaring 100 MB in a tiny file.
    let mut m = b"\0asm\x01\0\0\0\x00".to_vec();
    (100u32 << 20).encode(&mut m);
    m.extend(b"\x04name");
    let e = err(&m);
    assert!(e.to_string().contains("at byte"), "{e}");
    // An invalid function body is reported with its offset when validating...
    let bad = wat::parse_str(r#"(module (func (result i32) (i64.const 0)))"#).unwrap();
    let e = err(&bad);
    assert!(e.message.contains("type mismatch"), "{e}");
    // ...and ignored with --no-validate (headers only).
    assert!(
        analyze(
            &bad,
            &Options {
                validate: false,
                path: "x".into()
            }
        )
        .is_ok()
    );
}

#[test]
fn declared_count_of_2_pow_32_does_not_allocate() {
    // Type, import, function, export and custom-ish sections each claiming u32::MAX entries.
    for id in [1u8, 2, 3, 5, 7, 11] {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.push(id);
        let mut body = Vec::new();
        u32::MAX.encode(&mut body);
        body.push(0);
        body.len().encode(&mut m);
        m.extend(body);
        let start = std::time::Instant::now();
        let e = err(&m);
        assert!(
            start.elapsed().as_secs() < 2,
            "section {id} took {:?}",
            start.elapsed()
        );
        assert!(e.offset >= 8, "{e}");
    }
}

#[test]
fn deeply_nested_components_are_refused() {
    // Built as bytes: the text parser has its own (lower) nesting limit.
    let header = b"\0asm\x0d\0\x01\0".to_vec();
    let mut inner = header.clone();
    for _ in 0..200 {
        let mut outer = header.clone();
        outer.push(4); // component section
        inner.len().encode(&mut outer);
        outer.extend_from_slice(&inner);
        inner = outer;
    }
    let e = err(&inner);
    assert!(e.message.contains("nest"), "{e}");
    // A shallow nesting is fine.
    let mut ok = header.clone();
    ok.push(4);
    header.len().encode(&mut ok);
    ok.extend_from_slice(&header);
    assert_eq!(run(&ok).units.len(), 2);
}

#[test]
fn every_finding_code_is_produced_by_some_test_input() {
    // The codes produced by the fixtures (snapshots) and by the tests above.
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).unwrap()
    {
        let p = entry.unwrap().path();
        let a = run(&wat::parse_file(&p).unwrap());
        seen.extend(a.findings.into_iter().map(|f| f.code.code().to_string()));
    }
    for extra in [
        "claims-hash-mismatch",
        "custom-section-large",
        "declared-capability-not-imported",
        "signature-hash-mismatch",
        "signature-not-first",
        "signature-partial",
        "undeclared-import",
        // Raised by wasmcert-oci after the analysis, from the artifact's config: tests/oci.rs.
        "oci-config-mismatch",
    ] {
        seen.insert(extra.to_string());
    }
    for code in FindingCode::ALL {
        assert!(
            seen.contains(code.code()),
            "no test input produces `{code}`"
        );
    }
}

#[test]
fn world_level_host_functions_are_opaque_but_intrinsics_are_not() {
    let m = wat::parse_str(
        r#"(module
            (import "$root" "get-secret-from-host" (func (result i32)))
            (import "$root" "[resource-drop]handle" (func (param i32)))
            (import "[export]my:pkg/api" "[resource-new]thing" (func (param i32) (result i32))))"#,
    )
    .unwrap();
    let a = run(&m);
    let unknown = a
        .capabilities
        .iter()
        .find(|c| c.id == "unknown-host-import")
        .unwrap();
    let names: Vec<&str> = unknown
        .granted_by
        .iter()
        .map(|g| g.import.as_str())
        .collect();
    assert_eq!(names, ["$root#get-secret-from-host"]);
}

#[test]
fn filesystem_functions_unknown_to_the_table_grant_everything() {
    let comp = wat::parse_str(
        r#"(component
            (import "wasi:filesystem/types@0.2.0" (instance
              (export "descriptor" (type $d (sub resource)))
              (export "[method]descriptor.set-times-at" (func (param "self" (borrow $d))))))
            (import "wasi:filesystem/types@0.3.0" (instance
              (export "descriptor" (type $d (sub resource)))
              (export "[method]descriptor.frobnicate" (func (param "self" (borrow $d)))))))"#,
    )
    .unwrap();
    let a = run(&comp);
    let fs_write = a.capabilities.iter().find(|c| c.id == "fs-write").unwrap();
    assert_eq!(fs_write.granted_by.len(), 2, "{fs_write:?}");
    assert!(
        a.capabilities.iter().any(|c| c.id == "fs-read"),
        "unknown method must grant read too"
    );
}

#[test]
fn undecodable_well_known_sections_are_findings() {
    let mut m = base_module();
    m.extend(custom("linking", &[1]));
    let a = run(&m);
    assert_eq!(a.subject.kind, wasmcert_analyzer::Kind::RelocatableObject);
    assert_eq!(a.units[0].linking_version, Some(1));
    assert!(codes(&a).contains(&"invalid-custom-section"));
    let mut m = base_module();
    m.extend(custom("producers", &[0xff]));
    assert!(codes(&run(&m)).contains(&"invalid-custom-section"));
}
