//! Generators: structured inputs built from the fuzzer's bytes (wasm-smith modules aimed at
//! WASI imports, components importing WASI interfaces, policies from the rule registry, WASI
//! testsuite specs, mutated bundles), each meant for its oracle in [`crate::oracle`].

use crate::TEST_BUNDLE;
use arbitrary::{Arbitrary, Unstructured};

/// The imports wasm-smith may draw from: WASI preview1 functions with their real signatures,
/// an unknown preview1 function, and opaque host functions.
pub(crate) const IMPORTS: &str = r#"(module
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

/// Generator: a random component structure from wasm-smith (names and types unrelated to
/// WASI): robustness of the component walk.
pub fn generate_smith_component(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let config = wasm_smith::Config::arbitrary(u)?;
    Ok(wasm_smith::Component::new(config, u)?.to_bytes())
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
