//! Every native rule, on fixtures that trigger it and fixtures that must not, with the policy
//! location each finding points at and the effect of its level.

mod common;
use common::*;
use wasm_encoder::Section;
use wasmcert_policy::Level;

const HELLO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (memory (export "memory") 1 1))"#;

#[test]
fn capability_denied_points_at_the_matching_entry() {
    let p =
        policy("version = 1\n[rules.capability-denied]\ncapabilities = [\"fs-*\",\n  \"net-*\"]\n");
    let d = decide(&p, &fixture("net-client"));
    assert!(!d.allowed);
    let f: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.rule == "capability-denied")
        .collect();
    assert_eq!(f.len(), 2, "{f:#?}"); // net-io and net-listen
    assert!(
        f.iter().all(|f| f.policy.line == 4 && f.policy.column == 3),
        "{f:#?}"
    );
    assert!(
        f[0].message
            .contains("granted by `wasi_snapshot_preview1#sock_"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].unit.as_deref(), Some("/"));
    assert!(decide(&p, &wat(HELLO)).allowed);
    let fs = decide(&p, &fixture("fs-tool"));
    assert!(
        fs.findings
            .iter()
            .all(|f| f.policy.line == 3 && f.policy.column == 17)
    );
}

#[test]
fn capability_not_allowed_is_an_allow_list() {
    let p = policy(
        "version = 1\n[rules.capability-not-allowed]\ncapabilities = [\"stdio\", \"proc-exit\", \"clock-*\"]\n",
    );
    assert!(decide(&p, &wat(HELLO)).allowed);
    let d = decide(&p, &fixture("edge-handler"));
    assert_eq!(denied(&d), ["capability-not-allowed"]);
    assert_eq!(d.findings.len(), 1, "only `random` is outside the list");
    assert!(d.findings[0].message.contains("`random`"));
    assert_eq!(
        (d.findings[0].policy.line, d.findings[0].policy.column),
        (3, 16)
    );
}

#[test]
fn import_rules_match_modules_names_and_versions() {
    let p = policy(
        "version = 1\n[rules.import-denied]\nimports = [\"wasi_snapshot_preview1#sock_*\", \"wasi:sockets/*@0.2\"]\n",
    );
    let d = decide(&p, &fixture("net-client"));
    assert_eq!(d.findings.len(), 3, "{:#?}", d.findings);
    assert!(d.findings.iter().all(|f| f.policy.column == 12));
    let comp = decide(&p, &fixture("component-wasi-p2"));
    assert_eq!(denied(&comp), ["import-denied"]);
    assert!(
        comp.findings
            .iter()
            .any(|f| f.message.contains("wasi:sockets/tcp@0.2"))
    );
    // Not a 0.3 range: the same component passes a 0.3-only pattern.
    let p3 = policy("version = 1\n[rules.import-denied]\nimports = [\"wasi:sockets/*@0.3\"]\n");
    assert!(decide(&p3, &fixture("component-wasi-p2")).allowed);

    let allow = policy(
        "version = 1\n[rules.import-not-allowed]\nlevel = \"warn\"\nimports = [\"wasi_snapshot_preview1#fd_*\", \"wasi_snapshot_preview1#proc_exit\"]\n",
    );
    assert!(decide(&allow, &wat(HELLO)).findings.is_empty());
    let d = decide(&allow, &fixture("net-client"));
    assert!(d.allowed, "warn level never denies");
    assert_eq!(warned(&d), ["import-not-allowed"]);
    assert_eq!(d.findings.len(), 3, "the three sock_ imports");
    assert_eq!(d.findings[0].policy.line, 4);
}

#[test]
fn versioned_patterns_fail_closed_on_unversioned_imports() {
    let a = wat(
        r#"(component (import "wasi:sockets/tcp" (instance)) (import "wasi:cli/stdout@0.2.0" (instance)))"#,
    );
    // A deny rule for 0.2 sockets also denies sockets of no stated version...
    let deny = policy("version = 1\n[rules.import-denied]\nimports = [\"wasi:sockets/*@0.2\"]\n");
    let d = decide(&deny, &a);
    assert_eq!(denied(&d), ["import-denied"]);
    assert!(d.findings[0].message.contains("`wasi:sockets/tcp`"));
    // ... and an allow list for 0.2 does not admit them.
    let allow = policy("version = 1\n[rules.import-not-allowed]\nimports = [\"wasi:*@0.2\"]\n");
    let d = decide(&allow, &a);
    assert_eq!(d.findings.len(), 1);
    assert!(
        d.findings[0]
            .message
            .contains("`wasi:sockets/tcp` matches no allowed pattern")
    );
}

#[test]
fn imports_of_nested_units_do_not_reach_the_host() {
    // The nested core module imports `env#f` from its parent, not from the host.
    let a = wat(r#"(component
  (import "wasi:cli/stdout@0.2.0" (instance))
  (core module (import "env" "f" (func))))"#);
    let p = policy("version = 1\n[rules.import-not-allowed]\nimports = [\"wasi:cli/*\"]\n");
    assert!(decide(&p, &a).allowed);
    let p = policy("version = 1\n[rules.import-denied]\nimports = [\"env\"]\n");
    assert!(decide(&p, &a).allowed);
}

#[test]
fn memory_rules_cap_and_require_a_maximum() {
    let required = policy("version = 1\n[rules.memory-maximum-required]\n");
    let d = decide(&required, &fixture("net-client"));
    assert_eq!(denied(&d), ["memory-maximum-required"]);
    assert_eq!(
        (d.findings[0].policy.line, d.findings[0].policy.column),
        (2, 1)
    );
    assert!(decide(&required, &wat(HELLO)).allowed);

    let cap = policy("version = 1\n[rules.memory-limit]\nmax-pages = 8\n");
    let d = decide(&cap, &fixture("edge-handler")); // 16 pages
    assert_eq!(denied(&d), ["memory-limit"]);
    assert!(
        d.findings[0].message.contains("1 MiB"),
        "{}",
        d.findings[0].message
    );
    assert_eq!(d.findings[0].policy.line, 3);
    assert!(decide(&cap, &wat(HELLO)).allowed);
    // No maximum: a 32-bit memory can reach 4 GiB, past a 1 GiB cap but not a 4 GiB one.
    let gib = policy("version = 1\n[rules.memory-limit]\nmax-bytes = 1073741824\n");
    assert_eq!(
        denied(&decide(&gib, &fixture("net-client"))),
        ["memory-limit"]
    );
    let four = policy("version = 1\n[rules.memory-limit]\nmax-bytes = 4294967296\n");
    assert!(decide(&four, &fixture("net-client")).allowed);
    assert_eq!(
        denied(&decide(&four, &fixture("memory64-unbounded"))),
        ["memory-limit"]
    );
    // A 1 GiB initial memory (limits.wat) exceeds a smaller cap.
    assert_eq!(denied(&decide(&gib, &fixture("limits"))), ["memory-limit"]);
    // Custom page sizes count in bytes: features.wat has a memory of 1-byte pages.
    assert!(
        load_error("version = 1\n[rules.memory-limit]\nmax-pages = 1\nmax-bytes = 2\n")
            .contains("policy.toml:4:13: memory-limit takes max-pages or max-bytes, not both")
    );
    assert!(
        load_error("version = 1\n[rules.memory-limit]\n").contains("needs max-pages or max-bytes")
    );
}

#[test]
fn table_limit() {
    let p = policy("version = 1\n[rules.table-limit]\nmax-elements = 100000\n");
    let d = decide(&p, &fixture("big-table"));
    assert_eq!(denied(&d), ["table-limit"]);
    assert!(d.findings[0].message.contains("200000"));
    assert_eq!(
        (d.findings[0].policy.line, d.findings[0].policy.column),
        (3, 16)
    );
    // limits.wat has a table without maximum.
    assert!(
        decide(&p, &fixture("limits")).findings[0]
            .message
            .contains("no maximum")
    );
    assert!(decide(&p, &wat(HELLO)).allowed);
}

#[test]
fn feature_denied_knows_the_vocabulary() {
    let p = policy(
        "version = 1\n[rules.feature-denied]\nfeatures = [\"simd\", \"shared-memory\", \"stack-switching\"]\n",
    );
    let d = decide(&p, &fixture("wasi-threads"));
    assert_eq!(denied(&d), ["feature-denied"]);
    assert!(d.findings[0].message.contains("shared"));
    assert_eq!(d.findings[0].policy.column, 21);
    let s = decide(&p, &fixture("stack-switching"));
    assert_eq!(s.findings.len(), 1);
    assert_eq!(s.findings[0].policy.column, 38);
    assert!(
        decide(&p, &fixture("features"))
            .findings
            .iter()
            .any(|f| f.message.contains("`simd`"))
    );
    assert!(decide(&p, &wat(HELLO)).allowed);
    let e = load_error("version = 1\n[rules.feature-denied]\nfeatures = [\"simd128\"]\n");
    assert!(
        e.starts_with("policy.toml:3:13: unknown feature \"simd128\""),
        "{e}"
    );
}

#[test]
fn module_size() {
    let p = policy("version = 1\n[rules.module-size]\nlevel = \"warn\"\nmax-bytes = 1048576\n");
    let mut bytes = wat::parse_str(HELLO).unwrap();
    wasm_encoder::CustomSection {
        name: "padding".into(),
        data: vec![0u8; 1 << 20].into(),
    }
    .append_to(&mut bytes);
    let d = decide(&p, &analyse(&bytes, "big.wasm"));
    assert!(d.allowed);
    assert_eq!(warned(&d), ["module-size"]);
    assert!(d.findings[0].message.contains("1 MiB cap"));
    assert_eq!(d.findings[0].policy.line, 4);
    assert!(decide(&p, &wat(HELLO)).findings.is_empty());
}

#[test]
fn kind_not_allowed() {
    let p = policy("version = 1\n[rules.kind-not-allowed]\nkinds = [\"core-module\"]\n");
    let d = decide(&p, &fixture("component-wasi-p2"));
    assert_eq!(denied(&d), ["kind-not-allowed"]);
    assert!(d.findings[0].message.contains("a component is not allowed"));
    assert_eq!(
        denied(&decide(&p, &fixture("relocatable"))),
        ["kind-not-allowed"]
    );
    assert!(decide(&p, &wat(HELLO)).allowed);
    assert!(
        load_error("version = 1\n[rules.kind-not-allowed]\nkinds = [\"module\"]\n")
            .contains("3:10: unknown kind \"module\"")
    );
}

#[test]
fn producers_and_sbom_required() {
    let p = policy(
        "version = 1\n[rules.producers-required]\n[rules.sbom-required]\nlevel = \"warn\"\n",
    );
    let d = decide(&p, &wat(HELLO));
    assert_eq!(denied(&d), ["producers-required"]);
    assert_eq!(warned(&d), ["sbom-required"]);
    assert_eq!(
        d.findings.iter().map(|f| f.policy.line).collect::<Vec<_>>(),
        [2, 3]
    );
    let ok = decide(&p, &fixture("banned-dependency"));
    assert!(ok.findings.is_empty(), "{:#?}", ok.findings);
    assert_eq!(
        warned(&decide(&p, &fixture("edge-handler"))),
        ["sbom-required"]
    );
}

#[test]
fn producer_banned_by_name_field_and_range() {
    let p = policy(
        "version = 1\n[rules.producer-banned]\nproducers = [\n  { name = \"rustc\", version = \"<1.56\", reason = \"too old\" },\n  { name = \"clang\", field = \"processed-by\" },\n]\n",
    );
    let d = decide(&p, &fixture("old-rustc"));
    assert_eq!(denied(&d), ["producer-banned"]);
    assert!(d.findings[0].message.contains("rustc 1.50.0"));
    assert!(d.findings[0].message.ends_with(": too old"));
    assert_eq!(
        (d.findings[0].policy.line, d.findings[0].policy.column),
        (4, 3)
    );
    assert!(
        decide(&p, &fixture("edge-handler")).allowed,
        "rustc 1.95 is fine"
    );
    // `field` narrows: rustc as a language is not rustc processed-by.
    let lang = policy(
        "version = 1\n[rules.producer-banned]\nproducers = [{ name = \"rustc\", field = \"language\" }]\n",
    );
    assert!(decide(&lang, &fixture("old-rustc")).allowed);
    // A version that cannot be compared is banned (fail closed).
    let a = wat(r#"(module (@producers (processed-by "rustc" "nightly")))"#);
    assert!(!decide(&p, &a).allowed);
    assert!(load_error("version = 1\n[rules.producer-banned]\nproducers = [{ name = \"x\", field = \"tool\" }]\n")
        .contains("unknown producers field \"tool\""));
}

#[test]
fn dependency_banned_from_the_embedded_sbom() {
    let p = policy(
        "version = 1\n[rules.dependency-banned]\ndependencies = [\n  { name = \"smallvec\", version = \">=1.0.0, <1.6.1\", reason = \"RUSTSEC-2021-0003\" },\n  { name = \"regex\", version = \"<1.5.5\" },\n]\n",
    );
    let d = decide(&p, &fixture("banned-dependency"));
    assert_eq!(denied(&d), ["dependency-banned"]);
    assert_eq!(d.findings.len(), 1, "regex 1.10.4 is outside its range");
    assert!(d.findings[0].message.contains("smallvec 1.6.0"));
    assert!(d.findings[0].message.contains("RUSTSEC-2021-0003"));
    assert_eq!(d.findings[0].policy.line, 4);
    assert!(decide(&p, &fixture("cargo-auditable")).allowed);
    assert!(decide(&p, &wat(HELLO)).allowed, "no SBOM: nothing to ban");
    let e = load_error(
        "version = 1\n[rules.dependency-banned]\ndependencies = [{ name = \"x\", version = \"~>1\" }]\n",
    );
    assert!(e.contains("3:41: invalid version range \"~>1\""), "{e}");
}

#[test]
fn allow_turns_a_rule_off_and_warn_never_denies() {
    let off = policy("version = 1\n[rules.memory-maximum-required]\nlevel = \"allow\"\n");
    assert!(decide(&off, &fixture("net-client")).findings.is_empty());
    let warn = policy("version = 1\n[rules.memory-maximum-required]\nlevel = \"warn\"\n");
    let d = decide(&warn, &fixture("net-client"));
    assert!(d.allowed);
    assert_eq!(d.findings[0].level, Level::Warn);
    assert!(
        load_error("version = 1\n[rules.memory-maximum-required]\nlevel = \"error\"\n")
            .starts_with("policy.toml:3:9: unknown variant `error`")
    );
}
