//! The shipped packs on every fixture (a snapshot per pack, plus the decisions a user relies
//! on asserted outright), and the Rego pack against its native twin.

mod common;
use common::*;
use wasmcert_analyzer::Analysis;
use wasmcert_policy::{Decision, Level, Policy};

const PACKS: &[&str] = &[
    "baseline",
    "strict",
    "no-network",
    "no-filesystem",
    "edge-function",
];

fn pack(name: &str) -> Policy {
    let path = root().join("packs").join(name);
    let mut p = Policy::load(&path).unwrap_or_else(|e| panic!("{e}"));
    p.set_today("2026-12-01");
    p
}

fn summary(d: &Decision) -> String {
    let list = |l: Level| {
        rules(d)
            .into_iter()
            .filter(|(x, _)| *x == l)
            .map(|(_, r)| r)
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{:<7} deny=[{}] warn=[{}]",
        if d.allowed { "allowed" } else { "DENIED" },
        list(Level::Deny),
        list(Level::Warn)
    )
}

/// Extra subjects no `.wat` can express cheaply: a 300 MiB file and an SBOM entry whose
/// version is not semver (both rules fail closed).
fn synthetic() -> Vec<(String, Analysis)> {
    let mut big = fixture("edge-handler");
    big.subject.size = 300 << 20;
    big.subject.path = "huge.wasm".into();
    let mut odd = fixture("banned-dependency");
    if let Some(deps) = odd.units[0].dependencies.as_mut() {
        deps[1].version = "1.x".into();
        deps.truncate(2);
    }
    odd.subject.path = "odd-version.wasm".into();
    // Pre-releases at both edges of the smallvec ranges: 1.0.0-beta is in the 1.0.0 line,
    // 1.6.1-rc.1 precedes the fix, 0.6.14-rc.1 precedes it too, 1.7.0-rc.1 is after.
    let mut pre = Vec::new();
    for v in [
        "1.0.0-beta",
        "1.6.1-rc.1",
        "0.6.14-rc.1",
        "1.7.0-rc.1",
        "0.6.2-alpha",
    ] {
        let mut a = fixture("banned-dependency");
        if let Some(deps) = a.units[0].dependencies.as_mut() {
            deps[1].version = v.into();
        }
        a.subject.path = format!("smallvec-{v}.wasm");
        pre.push((format!("synthetic-smallvec-{v}"), a));
    }
    let mut v = vec![
        ("synthetic-huge".into(), big),
        ("synthetic-odd-version".into(), odd),
    ];
    v.extend(pre);
    v
}

fn subjects() -> Vec<(String, Analysis)> {
    let mut v = fixtures();
    v.extend(synthetic());
    v
}

#[test]
fn every_pack_on_every_fixture() {
    let subjects = subjects();
    for name in PACKS {
        let p = pack(&format!("{name}.toml"));
        let mut table = String::new();
        for (fx, a) in &subjects {
            table.push_str(&format!("{fx:<28} {}\n", summary(&decide(&p, a))));
        }
        insta::assert_snapshot!(format!("pack-{name}"), table);
    }
}

fn allowed(pack_name: &str, fx: &str) -> bool {
    decide(&pack(&format!("{pack_name}.toml")), &fixture(fx)).allowed
}

#[test]
fn baseline_refuses_what_no_platform_should_run() {
    for fx in [
        "edge-handler",
        "fs-tool",
        "preview1-hello",
        "wasi-threads",
        "cargo-auditable",
    ] {
        assert!(allowed("baseline", fx), "baseline should admit {fx}");
    }
    for (fx, rule) in [
        ("net-client", "capability-denied"),
        ("component-wasi-p2", "capability-denied"),
        ("emscripten", "capability-denied"),
        ("memory64-unbounded", "memory-limit"),
        ("stack-switching", "feature-denied"),
        ("relocatable", "kind-not-allowed"),
        ("dylink", "kind-not-allowed"),
        ("banned-dependency", "dependency-banned"),
    ] {
        let d = decide(&pack("baseline.toml"), &fixture(fx));
        assert!(
            denied(&d).contains(&rule.to_string()),
            "baseline on {fx}: {}",
            summary(&d)
        );
    }
    let d = decide(&pack("baseline.toml"), &fixture("net-client"));
    assert_eq!(warned(&d), ["memory-maximum-required"]);
}

#[test]
fn strict_admits_only_bounded_wasi_with_provenance() {
    assert!(allowed("strict", "cargo-auditable"));
    for fx in [
        "edge-handler",
        "preview1-hello",
        "big-table",
        "old-rustc",
        "banned-dependency",
        "wasi-threads",
        "component-wasi-p2",
    ] {
        assert!(!allowed("strict", fx), "strict should deny {fx}");
    }
    let d = decide(&pack("strict.toml"), &fixture("edge-handler"));
    assert_eq!(denied(&d), ["sbom-required"], "only the SBOM is missing");
    let d = decide(&pack("strict.toml"), &fixture("old-rustc"));
    assert!(denied(&d).contains(&"producer-banned".to_string()));
    let d = decide(&pack("strict.toml"), &fixture("big-table"));
    assert!(denied(&d).contains(&"table-limit".to_string()));
}

#[test]
fn no_network_and_no_filesystem() {
    for fx in ["net-client", "component-wasi-p2", "emscripten"] {
        assert!(!allowed("no-network", fx), "no-network should deny {fx}");
    }
    for fx in ["fs-tool", "edge-handler", "preview1-hello"] {
        assert!(allowed("no-network", fx), "no-network should admit {fx}");
    }
    let d = decide(&pack("no-network.toml"), &fixture("net-client"));
    assert_eq!(denied(&d), ["capability-denied", "import-denied"]);
    for fx in ["fs-tool", "component-wasi-p2", "preview1-all"] {
        assert!(
            !allowed("no-filesystem", fx),
            "no-filesystem should deny {fx}"
        );
    }
    for fx in ["net-client", "edge-handler", "preview1-hello"] {
        assert!(
            allowed("no-filesystem", fx),
            "no-filesystem should admit {fx}"
        );
    }
}

#[test]
fn edge_function_is_stdio_clocks_random_only() {
    assert!(allowed("edge-function", "edge-handler"));
    assert!(allowed("edge-function", "preview1-hello"));
    for fx in [
        "fs-tool",
        "net-client",
        "component-wasi-p2",
        "wasi-threads",
        "memory64-unbounded",
    ] {
        assert!(
            !allowed("edge-function", fx),
            "edge-function should deny {fx}"
        );
    }
    let big = &synthetic()[0].1;
    let d = |v: &str| {
        let (_, a) = synthetic()
            .into_iter()
            .find(|(n, _)| *n == format!("synthetic-smallvec-{v}"))
            .unwrap();
        decide(&pack("baseline.toml"), &a).allowed
    };
    assert!(!d("1.0.0-beta") && !d("1.6.1-rc.1") && !d("0.6.14-rc.1"));
    assert!(d("1.7.0-rc.1") && d("0.6.2-alpha"));
    assert_eq!(
        denied(&decide(&pack("edge-function.toml"), big)),
        ["module-size"]
    );
}

#[test]
fn the_rego_baseline_decides_like_the_native_one() {
    let native = pack("baseline.toml");
    let rego = pack("baseline.rego");
    assert!(rego.is_rego());
    let mut fired = std::collections::BTreeSet::new();
    for (fx, a) in subjects() {
        let n = decide(&native, &a);
        let r = rego
            .evaluate(&a, &[])
            .unwrap_or_else(|e| panic!("{fx}: {e}"));
        assert_eq!(
            n.allowed,
            r.allowed,
            "{fx}: native {} / rego {}",
            summary(&n),
            summary(&r)
        );
        assert_eq!(rules(&n), rules(&r), "{fx}");
        // Units agree too: the same findings point at the same units.
        let units = |d: &Decision| {
            let mut v: Vec<_> = d
                .findings
                .iter()
                .map(|f| (f.rule.clone(), f.unit.clone()))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        assert_eq!(units(&n), units(&r), "{fx}");
        for f in &r.findings {
            assert!(f.policy.line > 1, "{fx}: {} has no location", f.rule);
            fired.insert(f.rule.clone());
        }
    }
    // Every rule of the Rego pack ran on some subject (a missing builtin fails only then).
    let all: Vec<&str> = [
        "capability-denied",
        "dependency-banned",
        "feature-denied",
        "kind-not-allowed",
        "memory-limit",
        "memory-maximum-required",
        "module-size",
    ]
    .to_vec();
    assert_eq!(fired.iter().map(String::as_str).collect::<Vec<_>>(), all);
}

#[test]
fn rego_errors_name_the_file_and_place() {
    let err = |text: &str| {
        Policy::from_text(text, "p.rego", &root(), true)
            .expect_err("should not load")
            .to_string()
    };
    let e = err("package wasmcert\nimport rego.v1\ndeny contains x if {\n  x := \n}\n");
    assert!(e.starts_with("p.rego:4:5: expecting"), "{e}");
    let e = err("package other\nimport rego.v1\ndeny contains 1 if { true }\n");
    assert!(e.contains("package wasmcert"), "{e}");
    let e = err("package wasmcert\nimport rego.v1\nallow := true\n");
    assert!(e.contains("neither `deny` nor `warn`"), "{e}");
    // A rule producing the wrong shape is an evaluation error, not a silent pass.
    let p = Policy::from_text(
        "package wasmcert\nimport rego.v1\ndeny contains \"no\" if { true }\n",
        "p.rego",
        &root(),
        true,
    )
    .unwrap();
    let e = p.evaluate(&fixture("edge-handler"), &[]).unwrap_err();
    assert!(
        e.to_string().contains("lacks a string `id` or `msg`"),
        "{e}"
    );
    // A builtin regorus was built without fails when the rule runs: the error names it.
    let p = Policy::from_text(
        "package wasmcert\nimport rego.v1\ndeny contains {\"id\": \"x\", \"msg\": m} if { m := base64.encode(\"a\") }\n",
        "p.rego",
        &root(),
        true,
    );
    match p {
        Err(e) => assert!(e.to_string().contains("base64"), "{e}"),
        Ok(p) => {
            let e = p.evaluate(&fixture("edge-handler"), &[]).unwrap_err();
            assert!(e.to_string().contains("base64"), "{e}");
        }
    }
}

#[test]
fn packs_are_documented() {
    let docs = std::fs::read_to_string(root().join("../docs/policy/packs.md")).unwrap();
    for name in PACKS {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/policy/packs.md lacks {name}"
        );
    }
    assert!(docs.contains("baseline.rego"));
}
