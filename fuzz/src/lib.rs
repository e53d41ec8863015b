#![doc = include_str!("../README.md")]

use arbitrary::{Arbitrary, Unstructured};
use wasmcert_analyzer::{Analysis, Options, analyze};

/// Oracle for arbitrary bytes: no panic, errors inside the input, JSON round-trip.
pub fn check_bytes(data: &[u8]) {
    for validate in [true, false] {
        match analyze(
            data,
            &Options {
                validate,
                path: "fuzz".into(),
            },
        ) {
            Ok(a) => round_trip(&a),
            Err(e) => assert!(
                e.offset <= data.len() as u64,
                "error offset {} past {} bytes: {e}",
                e.offset,
                data.len()
            ),
        }
    }
}

fn round_trip(a: &Analysis) {
    let text = serde_json::to_string(a).expect("an analysis serialises");
    let back: Analysis = serde_json::from_str(&text).expect("an analysis deserialises");
    assert_eq!(&back, a, "JSON round-trip changed the analysis");
}

/// The imports wasm-smith may draw from: WASI preview1 functions with their real signatures,
/// an unknown preview1 function, and opaque host functions.
const IMPORTS: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "wasi_snapshot_preview1" "no_such_function" (func))
  (import "wasi" "thread-spawn" (func (param i32) (result i32)))
  (import "env" "host_callback" (func (param i32)))
  (import "env" "memory" (memory 1 16))
)"#;

/// Generator: a wasm-smith module aimed at WASI imports.
pub fn generate_module(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let mut config = wasm_smith::Config::arbitrary(u)?;
    // Parsed once: text parsing per input would dominate a campaign.
    static IMPORTS_WASM: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    config.available_imports = Some(
        IMPORTS_WASM
            .get_or_init(|| wat::parse_str(IMPORTS).expect("IMPORTS is valid text"))
            .clone(),
    );
    config.max_imports = config.max_imports.max(4);
    let m = wasm_smith::Module::new(config, u)?;
    Ok(m.to_bytes())
}

/// Oracle for generated modules: the analyzer agrees with an independent wasmparser walk.
/// Returns the number of capabilities found (generators should make that non-zero often).
pub fn check_module(wasm: &[u8]) -> usize {
    let a = match analyze(wasm, &Options::default()) {
        Ok(a) => a,
        // wasm-smith can emit features the validator refuses in some combinations; that is an
        // error with an offset, never a panic.
        Err(e) => {
            assert!(e.offset <= wasm.len() as u64);
            return 0;
        }
    };
    let (imports, exports, memories) = independent_walk(wasm);
    let unit = &a.units[0];
    let ours: Vec<String> = unit.imports.iter().map(|i| i.display_name()).collect();
    assert_eq!(ours, imports, "imports differ from an independent walk");
    let our_exports: Vec<&str> = unit.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(our_exports, exports, "exports differ");
    assert_eq!(unit.memories.len(), memories, "memory count differs");
    for c in &a.capabilities {
        for g in &c.granted_by {
            let known = if g.export {
                our_exports.contains(&g.import.as_str())
            } else {
                ours.contains(&g.import)
            };
            assert!(
                known,
                "capability {} granted by `{}`, which is not an import",
                c.id, g.import
            );
        }
    }
    for i in &unit.imports {
        if i.module.as_deref() == Some("wasi_snapshot_preview1") && i.kind == "func" {
            let name = i.display_name();
            assert!(
                a.capabilities
                    .iter()
                    .any(|c| c.granted_by.iter().any(|g| g.import == name)),
                "`{name}` grants no capability"
            );
        }
    }
    round_trip(&a);
    a.capabilities.len()
}

fn independent_walk(wasm: &[u8]) -> (Vec<String>, Vec<String>, usize) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut memories = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.expect("the analyzer accepted it") {
            wasmparser::Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    let i = i.expect("valid import");
                    if matches!(i.ty, wasmparser::TypeRef::Memory(_)) {
                        memories += 1;
                    }
                    imports.push(format!("{}#{}", i.module, i.name));
                }
            }
            wasmparser::Payload::MemorySection(r) => memories += r.count() as usize,
            wasmparser::Payload::ExportSection(r) => {
                for e in r {
                    exports.push(e.expect("valid export").name.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports, memories)
}

/// WASI (and other) interfaces a generated component imports, with the functions their
/// instance types may export. The last one is not WASI: it must grant `unknown-host-import`.
const INTERFACES: &[(&str, &[&str])] = &[
    ("wasi:cli/stdout", &["get-stdout"]),
    (
        "wasi:cli/environment",
        &["get-environment", "get-arguments", "initial-cwd"],
    ),
    ("wasi:cli/exit", &["exit"]),
    (
        "wasi:filesystem/types",
        &[
            "[method]descriptor.read",
            "[method]descriptor.write",
            "[method]descriptor.open-at",
            "[method]descriptor.stat",
        ],
    ),
    ("wasi:filesystem/preopens", &["get-directories"]),
    (
        "wasi:sockets/tcp",
        &[
            "[method]tcp-socket.start-connect",
            "[method]tcp-socket.start-listen",
            "[method]tcp-socket.accept",
        ],
    ),
    ("wasi:sockets/ip-name-lookup", &["resolve-addresses"]),
    ("wasi:http/outgoing-handler", &["handle"]),
    (
        "wasi:clocks/monotonic-clock",
        &["now", "subscribe-duration"],
    ),
    ("wasi:clocks/wall-clock", &["now"]),
    (
        "wasi:random/random",
        &["get-random-bytes", "get-random-u64"],
    ),
    ("wasi:io/streams", &["[method]output-stream.write"]),
    ("acme:plugin/host", &["call"]),
];
const VERSIONS: &[&str] = &["", "@0.2.0", "@0.2.6", "@0.3.0", "@0.3.0-rc-2025-09-16"];

/// Generator: a component importing WASI interfaces (text), optionally with wasm-smith core
/// modules appended as nested core module sections. Returns the bytes and the root import
/// names in order.
pub fn generate_component(u: &mut Unstructured<'_>) -> arbitrary::Result<(Vec<u8>, Vec<String>)> {
    let n = u.int_in_range(0..=8)?;
    let mut text = String::from("(component\n");
    let mut names = Vec::new();
    for _ in 0..n {
        let (iface, funcs) = INTERFACES[u.choose_index(INTERFACES.len())?];
        let name = format!("{iface}{}", VERSIONS[u.choose_index(VERSIONS.len())?]);
        if names.contains(&name) {
            continue;
        }
        text.push_str(&format!("  (import \"{name}\" (instance"));
        // Methods take their resource: declare each resource once, before its methods.
        let mut resources: Vec<&str> = Vec::new();
        for f in funcs {
            if !u.arbitrary()? {
                continue;
            }
            match f.strip_prefix("[method]").and_then(|m| m.split_once('.')) {
                Some((res, _)) => {
                    if !resources.contains(&res) {
                        text.push_str(&format!(" (export \"{res}\" (type ${res} (sub resource)))"));
                        resources.push(res);
                    }
                    text.push_str(&format!(
                        " (export \"{f}\" (func (param \"self\" (borrow ${res}))))"
                    ));
                }
                None => text.push_str(&format!(" (export \"{f}\" (func))")),
            }
        }
        text.push_str("))\n");
        names.push(name);
    }
    text.push(')');
    let mut bytes = wat::parse_str(&text).expect("generated component text is valid");
    for _ in 0..u.int_in_range(0..=2)? {
        let module = generate_module(u)?;
        // A core module section (id 1): its contents are the module's bytes.
        bytes.push(1);
        let mut len = module.len();
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            bytes.push(if len == 0 { b } else { b | 0x80 });
            if len == 0 {
                break;
            }
        }
        bytes.extend_from_slice(&module);
    }
    Ok((bytes, names))
}

/// The root component's import names by an independent walk (nested units skipped).
fn component_imports(wasm: &[u8]) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut nested = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.expect("the analyzer accepted it") {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => {
                depth += 1;
                nested += 1;
            }
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(r) if depth == 0 => {
                for i in r {
                    names.push(i.expect("valid import").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    (names, nested)
}

/// Oracle for generated components: root imports and unit count equal an independent walk;
/// every grant names a real import of its unit; every import of a known WASI interface grants
/// a capability and the non-WASI one grants `unknown-host-import`; JSON round-trips. Returns
/// the number of capabilities.
pub fn check_component(wasm: &[u8], names: &[String]) -> usize {
    let a = match analyze(wasm, &Options::default()) {
        Ok(a) => a,
        Err(e) => {
            assert!(e.offset <= wasm.len() as u64);
            return 0;
        }
    };
    let (walked, nested) = component_imports(wasm);
    assert_eq!(walked, names, "the walk disagrees with the generator");
    let root: Vec<String> = a.units[0]
        .imports
        .iter()
        .map(|i| i.display_name())
        .collect();
    assert_eq!(
        root, walked,
        "component imports differ from an independent walk"
    );
    assert_eq!(a.units.len(), 1 + nested, "unit count differs");
    for c in &a.capabilities {
        for g in &c.granted_by {
            let unit = a
                .units
                .iter()
                .find(|u| u.path == g.unit)
                .unwrap_or_else(|| panic!("grant names unit {} that does not exist", g.unit));
            let found = if g.export {
                unit.exports.iter().any(|e| e.name == g.import)
            } else {
                unit.imports.iter().any(|i| i.display_name() == g.import)
            };
            assert!(
                found,
                "{} granted by `{}`, not an import of {}",
                c.id, g.import, g.unit
            );
        }
    }
    for name in names {
        let grants: Vec<&str> = a
            .capabilities
            .iter()
            .filter(|c| {
                c.granted_by
                    .iter()
                    .any(|g| g.unit == "/" && g.import == *name)
            })
            .map(|c| c.id.as_str())
            .collect();
        if name.starts_with("acme:") {
            assert_eq!(grants, ["unknown-host-import"], "{name}");
        } else if !name.starts_with("wasi:io/") {
            assert!(!grants.is_empty(), "`{name}` grants no capability");
        }
    }
    round_trip(&a);
    a.capabilities.len()
}

/// Generator: a random component structure from wasm-smith (names and types unrelated to
/// WASI): robustness of the component walk.
pub fn generate_smith_component(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let config = wasm_smith::Config::arbitrary(u)?;
    Ok(wasm_smith::Component::new(config, u)?.to_bytes())
}

/// Oracle for any component: never panics; accepted ones list the same root imports as an
/// independent walk and round-trip through JSON.
pub fn check_any_component(wasm: &[u8]) {
    if let Ok(a) = analyze(wasm, &Options::default()) {
        let (walked, nested) = component_imports(wasm);
        let root: Vec<String> = a.units[0]
            .imports
            .iter()
            .map(|i| i.display_name())
            .collect();
        assert_eq!(root, walked);
        assert_eq!(a.units.len(), 1 + nested);
        round_trip(&a);
    }
}

/// Values a generated policy draws from, per key: mostly valid, some not.
const POLICY_VALUES: &[(&str, &[&str])] = &[
    ("level", &["\"warn\"", "\"allow\"", "\"deny\"", "\"error\""]),
    (
        "capabilities",
        &[
            "[\"net-*\", \"fs-write\"]",
            "[\"stdio\", \"clock-*\", \"random\"]",
            "[\"nope\"]",
            "[]",
            "[\"[\"]",
        ],
    ),
    (
        "imports",
        &[
            "[\"wasi:sockets/*@0.2\", \"wasi_snapshot_preview1#sock_*\"]",
            "[\"wasi_snapshot_preview1\"]",
            "[\"#x\"]",
            "[\"a@~>1\"]",
            "[\"\"]",
        ],
    ),
    ("max-pages", &["16", "65536", "-1", "0"]),
    ("max-bytes", &["1048576", "18446744073709551615", "\"1\""]),
    ("max-elements", &["10", "100000", "\"10\""]),
    (
        "features",
        &[
            "[\"threads\", \"shared-memory\"]",
            "[\"simd\"]",
            "[\"simd128\"]",
        ],
    ),
    (
        "kinds",
        &[
            "[\"core-module\"]",
            "[\"core-module\", \"component\"]",
            "[]",
            "[\"module\"]",
        ],
    ),
    (
        "producers",
        &[
            "[{ name = \"rustc\", version = \"<1.56\" }]",
            "[{ name = \"clang\", field = \"processed-by\", reason = \"r\" }]",
            "[{ name = \"x\", field = \"tool\" }]",
            "[{ version = \"1\" }]",
        ],
    ),
    (
        "dependencies",
        &[
            "[{ name = \"smallvec\", version = \">=1.0.0, <1.6.1\", reason = \"r\" }]",
            "[{ name = \"regex\" }]",
            "[{ name = \"x\", version = \"bad\" }]",
        ],
    ),
    ("keys", &["[]", "[\"no-such.pub\"]"]),
    (
        "accept",
        &["[\"embedded\"]", "[\"attestation\"]", "[]", "[\"other\"]"],
    ),
    ("reports", &["[]", "[\"r.json\"]"]),
    ("runtime", &["\"wasmtime*\"", "\"[\""]),
    (
        "categories",
        &["[\"sandbox\"]", "[\"sandbox\", \"limits\"]"],
    ),
    (
        "forbid",
        &[
            "[\"escaped\"]",
            "[\"escaped\", \"crashed\"]",
            "[\"pass\"]",
            "[\"escape\"]",
        ],
    ),
    ("max-age-days", &["30", "-3"]),
    ("suite-digest", &["\"ab\""]),
];
const EXCEPTION_LINES: &[&str] = &[
    "name = \"*.wasm\"",
    "name = \"[\"",
    "digest = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"",
    "digest = \"12\"",
    "rules = [\"capability-denied\"]",
    "rules = [\"nope\"]",
    "reason = \"because\"",
    "reason = \"\"",
    "expires = 2027-01-01",
    "expires = 2020-01-01",
    "expires = 2027-01-01T00:00:00Z",
    "expires = \"2027\"",
];
const GARBAGE: &[&str] = &[
    "unknown-key = 1",
    "[rules]",
    "[rules.capability-denied",
    "= 1",
    "\"unterminated",
    "# comment",
    "version = 2",
];

/// Generator: a policy built from the rule registry (tables of real rules, values from
/// `POLICY_VALUES`, exceptions, the odd garbage line), or a shipped policy with bytes
/// overwritten.
pub fn generate_policy(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    if u.ratio(1, 4)? {
        let (_, _, text) = wasmcert_policy::PACKS[u.choose_index(wasmcert_policy::PACKS.len())?];
        let base = if u.arbitrary()? {
            wasmcert_policy::TEMPLATE
        } else {
            text
        };
        let mut b = base.as_bytes().to_vec();
        for _ in 0..u.int_in_range(1..=6)? {
            let i = u.choose_index(b.len())?;
            b[i] = u.arbitrary()?;
        }
        return Ok(String::from_utf8_lossy(&b).into_owned());
    }
    let pick = |u: &mut Unstructured<'_>,
                list: &[&'static str]|
     -> arbitrary::Result<&'static str> { Ok(list[u.choose_index(list.len())?]) };
    let mut text = String::new();
    if u.ratio(19, 20)? {
        text.push_str(if u.ratio(19, 20)? {
            "version = 1\n"
        } else {
            "version = 2\n"
        });
    }
    if u.arbitrary()? {
        text.push_str("name = \"fuzz\"\n");
    }
    let rules = wasmcert_policy::RULES;
    let mut used = Vec::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let r = &rules[u.choose_index(rules.len())?];
        if used.contains(&r.id) {
            continue;
        }
        used.push(r.id);
        text.push_str(&format!("[rules.{}]\n", r.id));
        for key in std::iter::once(&"level").chain(r.fields.iter()) {
            // Required fields are present more often than optional ones.
            if !u.ratio(3, 4)? {
                continue;
            }
            let values = POLICY_VALUES
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&["1"][..], |(_, v)| v);
            text.push_str(&format!("{key} = {}\n", pick(u, values)?));
        }
        if u.ratio(1, 20)? {
            text.push_str(pick(u, GARBAGE)?);
            text.push('\n');
        }
    }
    for _ in 0..u.int_in_range(0..=3)? {
        text.push_str("[[exceptions]]\n");
        let mut keys = Vec::new();
        for _ in 0..u.int_in_range(1..=4)? {
            let line = pick(u, EXCEPTION_LINES)?;
            let key = line.split(' ').next().unwrap_or("");
            if !keys.contains(&key) {
                keys.push(key);
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    Ok(text)
}

/// A fixed analysis policies are evaluated on in the fuzzer.
fn policy_subject() -> &'static Analysis {
    static A: std::sync::OnceLock<Analysis> = std::sync::OnceLock::new();
    A.get_or_init(|| {
        let wasm = wat::parse_str(IMPORTS).expect("valid");
        analyze(&wasm, &Options::default()).expect("analyses")
    })
}

/// Oracle for policy text: parsing never panics; an error has a place inside the text; a
/// parsed policy serialises and parses back to the same document (and the same text again);
/// compiling never panics (keys and reports resolve under a directory that does not exist);
/// a compiled policy evaluates without panicking.
pub fn check_policy(text: &str) {
    use wasmcert_policy::native::parse_raw;
    match parse_raw(text, "p.toml") {
        Ok(raw) => {
            let once = toml::to_string(&raw).expect("a parsed policy serialises");
            let back = parse_raw(&once, "p.toml")
                .unwrap_or_else(|e| panic!("serialised policy does not parse: {e}\n{once}"));
            assert_eq!(raw, back, "parse -> serialise -> parse changed the policy");
            assert_eq!(
                once,
                toml::to_string(&back).expect("serialises"),
                "not stable"
            );
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            if let Some((line, col)) = e.at {
                let lines = text.split('\n').count();
                assert!(line >= 1 && line <= lines.max(1), "line {line} of {lines}");
                assert!(col >= 1);
            }
        }
    }
    let base = std::path::Path::new("/nonexistent/wasmcert-fuzz");
    if let Ok(p) = wasmcert_policy::Policy::from_text(text, "p.toml", base, false) {
        let d = p
            .evaluate(policy_subject(), &[])
            .expect("native policies always evaluate");
        assert_eq!(
            d.allowed,
            !d.findings
                .iter()
                .any(|f| f.level == wasmcert_policy::Level::Deny && f.excepted.is_none())
        );
        let _ = p.meta_findings(&d.used_exceptions);
    }
}

/// Fragments of WASI testsuite specs.
const SPEC_PARTS: &[&str] = &[
    "\"args\": [\"a\", \"b c\"]",
    "\"args\": 1",
    "\"env\": {\"K\": \"V\"}",
    "\"env\": {\"\": \"x\"}",
    "\"env\": {\"A=B\": \"x\"}",
    "\"dirs\": [\"fixture\"]",
    "\"dirs\": [\"../up\"]",
    "\"dirs\": [\"/abs\"]",
    "\"dirs\": [\"a/../../b\"]",
    "\"root\": \"r\"",
    "\"root\": \"..\"",
    "\"exit_code\": 0",
    "\"exit_code\": 42",
    "\"exit_code\": -1",
    "\"exit_code\": 99999999999",
    "\"stdout\": \"hi\\n\"",
    "\"stderr\": \"\"",
    "\"operations\": [{\"type\": \"run\"}]",
    "\"unknown\": null",
    "\"args\": [null]",
];

/// Generator: a spec object assembled from fragments, or random bytes.
pub fn generate_spec(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    if u.ratio(1, 5)? {
        let b: Vec<u8> = u.arbitrary()?;
        return Ok(String::from_utf8_lossy(&b).into_owned());
    }
    let parts: Vec<&str> = (0..u.int_in_range(0..=6)?)
        .map(|_| u.choose_index(SPEC_PARTS.len()).map(|i| SPEC_PARTS[i]))
        .collect::<arbitrary::Result<_>>()?;
    Ok(format!("{{{}}}", parts.join(", ")))
}

/// Oracle for specs: never panics; an accepted spec only names relative fixture dirs inside
/// the work dir and valid environment names.
pub fn check_spec(text: &str) {
    let file = std::path::Path::new("t.json");
    if let Ok(s) = wasmcert_certify::case::parse_testsuite_spec(text, file) {
        for d in &s.fixture_dirs {
            let p = std::path::Path::new(d);
            assert!(!p.is_absolute(), "absolute fixture dir {d}");
            assert!(
                !p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir)),
                "fixture dir {d} climbs out"
            );
        }
        for k in s.env.keys() {
            assert!(!k.is_empty() && !k.contains('='), "env name {k:?}");
        }
    }
}

/// The committed test key and signed fixture bundle (reports/tests/).
pub const TEST_PUB: &str = include_str!("../../reports/tests/keys/test.pub");
pub const TEST_BUNDLE: &str = include_str!("../../reports/tests/data/hello.sigstore.json");

/// What a signature covers: payload type, payload bytes, signature bytes.
fn signed_parts(bundle: &[u8]) -> Option<(String, Vec<u8>, Vec<String>)> {
    use base64::Engine;
    let v: serde_json::Value = serde_json::from_slice(bundle).ok()?;
    let env = &v["dsseEnvelope"];
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env["payload"].as_str()?)
        .ok()?;
    let sigs = env["signatures"]
        .as_array()?
        .iter()
        .filter_map(|s| s["sig"].as_str().map(str::to_owned))
        .collect();
    Some((env["payloadType"].as_str()?.to_owned(), payload, sigs))
}

/// Oracle for bundles: verification never panics, and a bundle derived from the committed one
/// verifies only if what the signature covers (type, payload, signature) is unchanged: edits of
/// unsigned fields (whitespace, keyid) may pass, anything else must not.
pub fn check_bundle(data: &[u8]) {
    if wasmcert_report::sign::verify(data, TEST_PUB.as_bytes(), None).is_ok() {
        let original = signed_parts(TEST_BUNDLE.as_bytes()).expect("the fixture parses");
        let got = signed_parts(data).expect("a verified bundle parses");
        assert_eq!(got.0, original.0, "verified with another payload type");
        assert_eq!(got.1, original.1, "verified with another payload");
    }
}

/// Generator for bundles: the committed bundle with a few bytes overwritten.
pub fn mutate_bundle(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let mut b = TEST_BUNDLE.as_bytes().to_vec();
    let n = u.int_in_range(1..=4)?;
    for _ in 0..n {
        let i = u.choose_index(b.len())?;
        b[i] = u.arbitrary()?;
    }
    Ok(b)
}

/// Deterministic pseudo-random bytes for the stable smoke tests (xorshift64*).
pub fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Iterations per smoke test: `WASMCERT_SMOKE_ITERS` scales a local campaign on stable.
    fn iters(default: u64) -> u64 {
        std::env::var("WASMCERT_SMOKE_ITERS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    }

    /// A valid module with most section kinds, to mutate.
    fn seed_module() -> Vec<u8> {
        wat::parse_str(
            r#"(module
              (type (func (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1 2)
              (table 1 funcref)
              (global (mut i32) (i32.const 0))
              (func (export "f") (type 0) (local.get 0))
              (elem (i32.const 0) 1)
              (data (i32.const 0) "hi")
              (@producers (language "Rust" "1"))
              (@custom "licenses" "MIT"))"#,
        )
        .unwrap()
    }

    #[test]
    fn smoke_analyze_bytes() {
        let seed = seed_module();
        for i in 0..iters(400) {
            // Random bytes behind a valid header, and single/multi-byte mutations of a module.
            let mut data = b"\0asm\x01\0\0\0".to_vec();
            data.extend(seeded_bytes(i, (i as usize * 7) % 300));
            check_bytes(&data);
            let mut m = seed.clone();
            let r = seeded_bytes(i + 10_000, 8);
            for k in 0..(1 + i % 4) as usize {
                let pos = (u16::from_le_bytes([r[2 * k], r[2 * k + 1]]) as usize) % m.len();
                m[pos] = r[7 - k];
            }
            check_bytes(&m);
            check_bytes(&m[..(i as usize) % m.len()]);
        }
    }

    #[test]
    fn smoke_bundle_verify() {
        // The unmutated fixture verifies (the oracle's reference is real)...
        assert!(
            wasmcert_report::sign::verify(TEST_BUNDLE.as_bytes(), TEST_PUB.as_bytes(), None)
                .is_ok()
        );
        // ...and neither random bytes nor byte-mutated bundles verify with changed content.
        let mut rejected = 0;
        for i in 0..iters(300) {
            check_bundle(&seeded_bytes(i, 200));
            let raw = seeded_bytes(i + 77, 64);
            let mut u = Unstructured::new(&raw);
            if let Ok(b) = mutate_bundle(&mut u) {
                check_bundle(&b);
                if wasmcert_report::sign::verify(&b, TEST_PUB.as_bytes(), None).is_err() {
                    rejected += 1;
                }
            }
        }
        assert!(
            rejected * 2 > iters(300),
            "only {rejected} mutated bundles rejected"
        );
    }

    /// Every input a campaign once crashed on (`fuzz/regressions/<target>/`) runs through its
    /// target's oracle again.
    #[test]
    fn regressions() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
        let mut ran = 0;
        for target in std::fs::read_dir(&dir).unwrap() {
            let target = target.unwrap().path();
            if !target.is_dir() {
                continue;
            }
            let name = target.file_name().unwrap().to_string_lossy().into_owned();
            for input in std::fs::read_dir(&target).unwrap() {
                let data = std::fs::read(input.unwrap().path()).unwrap();
                run_target(&name, &data);
                ran += 1;
            }
        }
        eprintln!("{ran} regression inputs");
    }

    /// What each fuzz target does with one input (the same as `fuzz_targets/*.rs`).
    fn run_target(name: &str, data: &[u8]) {
        let mut u = Unstructured::new(data);
        match name {
            "analyze_bytes" => check_bytes(data),
            "analyze_smith" => {
                if let Ok(w) = generate_module(&mut u) {
                    check_module(&w);
                }
            }
            "analyze_component" => {
                if u.arbitrary::<bool>().unwrap_or(false) {
                    if let Ok((w, names)) = generate_component(&mut u) {
                        check_component(&w, &names);
                    }
                } else if let Ok(w) = generate_smith_component(&mut u) {
                    check_any_component(&w);
                }
            }
            "bundle_verify" => {
                check_bundle(data);
                if let Ok(b) = mutate_bundle(&mut u) {
                    check_bundle(&b);
                }
            }
            "policy_parse" => {
                if let Ok(t) = std::str::from_utf8(data) {
                    check_policy(t);
                }
                if let Ok(t) = generate_policy(&mut u) {
                    check_policy(&t);
                }
            }
            "wasi_testsuite_spec" => {
                if let Ok(t) = std::str::from_utf8(data) {
                    check_spec(t);
                }
                if let Ok(t) = generate_spec(&mut u) {
                    check_spec(&t);
                }
            }
            other => panic!("fuzz/regressions/{other}: no such target"),
        }
    }

    #[test]
    fn smoke_components() {
        let (mut generated, mut with_capabilities, mut nested) = (0, 0, 0);
        for i in 0..iters(200) {
            let raw = seeded_bytes(i + 500_000, 4096);
            let mut u = Unstructured::new(&raw);
            let Ok((wasm, names)) = generate_component(&mut u) else {
                continue;
            };
            generated += 1;
            if check_component(&wasm, &names) > 0 {
                with_capabilities += 1;
            }
            if component_imports(&wasm).1 > 0 {
                nested += 1;
            }
            let raw = seeded_bytes(i + 900_000, 2048);
            if let Ok(c) = generate_smith_component(&mut Unstructured::new(&raw)) {
                check_any_component(&c);
            }
        }
        assert!(generated * 2 > iters(200), "only {generated} components");
        assert!(
            with_capabilities * 3 > iters(200),
            "only {with_capabilities} grant anything"
        );
        assert!(nested * 10 > iters(200), "only {nested} nest core modules");
    }

    #[test]
    fn smoke_policy_parse() {
        let (mut parsed, mut compiled) = (0, 0);
        for i in 0..iters(400) {
            let raw = seeded_bytes(i + 1_000_000, 512);
            let Ok(text) = generate_policy(&mut Unstructured::new(&raw)) else {
                continue;
            };
            check_policy(&text);
            if wasmcert_policy::native::parse_raw(&text, "p").is_ok() {
                parsed += 1;
            }
            if wasmcert_policy::Policy::from_text(
                &text,
                "p",
                std::path::Path::new("/nonexistent"),
                false,
            )
            .is_ok()
            {
                compiled += 1;
            }
        }
        // The generator reaches both the parser's and the compiler's error paths and successes.
        assert!(parsed * 10 > iters(400), "only {parsed} parsed");
        assert!(compiled * 20 > iters(400), "only {compiled} compiled");
        assert!(compiled < iters(400), "no policy failed to compile");
        // The shipped policies are inputs too.
        check_policy(wasmcert_policy::TEMPLATE);
        for (_, _, text) in wasmcert_policy::PACKS {
            check_policy(text);
        }
    }

    #[test]
    fn smoke_wasi_testsuite_spec() {
        let mut accepted = 0;
        for i in 0..iters(400) {
            let raw = seeded_bytes(i + 2_000_000, 256);
            let Ok(text) = generate_spec(&mut Unstructured::new(&raw)) else {
                continue;
            };
            check_spec(&text);
            if wasmcert_certify::case::parse_testsuite_spec(&text, std::path::Path::new("t"))
                .is_ok()
            {
                accepted += 1;
            }
        }
        assert!(accepted * 10 > iters(400), "only {accepted} specs accepted");
        assert!(accepted < iters(400));
    }

    #[test]
    fn smoke_analyze_smith() {
        let mut generated = 0;
        let mut with_capabilities = 0;
        for i in 0..iters(300) {
            let raw = seeded_bytes(i, 4096);
            let mut u = Unstructured::new(&raw);
            let Ok(wasm) = generate_module(&mut u) else {
                continue;
            };
            generated += 1;
            if check_module(&wasm) > 0 {
                with_capabilities += 1;
            }
        }
        assert!(
            generated * 3 > iters(300) * 2,
            "only {generated} modules generated"
        );
        assert!(
            with_capabilities * 6 > iters(300),
            "only {with_capabilities} modules import WASI"
        );
    }
}
