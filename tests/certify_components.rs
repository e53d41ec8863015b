//! `wasmcert certify --world p2` and the `network` category end to end: every case made a
//! WASI 0.2 command component and run on the embedded engine's p2 host, the wasmtime CLI and
//! jco; the runner's network canaries catch a runtime that grants the network unasked. The
//! wasmtime CLI and jco are installed by `scripts/install-test-tools.sh` /
//! `scripts/install-runtimes.sh`; elsewhere a missing one skips its test with a message (in CI
//! it is a failure).

mod common;

use common::root;
use std::path::PathBuf;

/// `path` under the repository if it exists; otherwise skipped (a failure in CI).
fn installed(path: &str, how: &str) -> Option<PathBuf> {
    let p = root().join(path);
    if p.exists() {
        return Some(p);
    }
    common::not_installed(path, how)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let mut dirs = vec![root().join(".ci/tools/bin")];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let o = common::bin()
        .env("PATH", std::env::join_paths(dirs).unwrap())
        .arg("certify")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn certify(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (code, out, err) = run(&a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    (code, v)
}

fn ids(t: &serde_json::Value) -> Vec<&str> {
    t["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

fn outcome<'a>(v: &'a serde_json::Value, case: &str) -> &'a str {
    v["cases"][case]["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("no case {case} in {v}"))
}

/// The cases no component can be made of (they import outside preview1 or with the wrong
/// types), and the preview1 socket cases the adapter cannot reach: `not-supported` in p2,
/// naming `component`, on every runtime.
const NOT_COMPONENTS: [&str; 5] = [
    "network/p1-sock-accept-without-grant",
    "network/p1-sock-send-recv-without-grant",
    "wasi/import-wrong-signature",
    "wasi/unknown-import-module",
    "wasi/unknown-wasi-import",
];

/// What every p2 report shares: the world is recorded, nothing escaped, crashed or hung, and
/// the component-native network cases ran.
fn assert_p2_report(v: &serde_json::Value) {
    assert_eq!(v["suite"]["world"], "p2", "{}", v["suite"]);
    assert!(
        v["runtime"]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("component-adapter=")),
        "{}",
        v["runtime"]
    );
    assert_eq!(v["verdict"]["containment"]["count"], 0, "{}", v["verdict"]);
    assert_eq!(v["verdict"]["stability"]["count"], 0, "{}", v["verdict"]);
    for id in NOT_COMPONENTS {
        assert_eq!(outcome(v, id), "not-supported", "{id}");
        assert_eq!(v["cases"][id]["missing"], "component", "{id}");
    }
    for id in [
        "network/tcp-connect-denied",
        "network/tcp-connect-granted",
        "network/udp-send-denied",
        "network/udp-send-granted",
        "network/name-lookup-denied",
        "network/name-lookup-granted",
        "sandbox/p2-open-at-escapes",
    ] {
        assert_eq!(outcome(v, id), "pass", "{id}: {}", v["cases"][id]);
    }
    // WASI 0.2 has no exit statuses but success and failure: the [p2] overlay says 1.
    assert_eq!(outcome(v, "wasi/exit-code-42"), "pass");
    assert_eq!(v["cases"]["wasi/exit-code-42"]["evidence"]["exit_code"], 1);
}

#[test]
fn embedded_runs_the_whole_suite_as_wasi_0_2_components() {
    let (code, v) = certify(&["--world", "p2"]);
    assert_p2_report(&v);
    // The one deliberate wasmtime conformance failure of p1 stays; exit-code-255 (refused
    // by wasmtime as a preview1 status) is a plain failure exit in WASI 0.2.
    assert_eq!(
        ids(&v["verdict"]["conformance"]),
        ["sandbox/rights-escalation-inheriting"]
    );
    assert_eq!(code, 1);
    for (id, c) in v["cases"].as_object().unwrap() {
        if c["outcome"] == "not-supported" {
            assert!(
                NOT_COMPONENTS.contains(&id.as_str()) || id.starts_with("sandbox/ro-files-"),
                "{id}: {c}"
            );
        }
    }
    // The same limits hold for a component: caps, fuel, deadlines.
    for id in [
        "limits/memory-grow-cap",
        "limits/memory-grow-64mib-cap",
        "limits/cpu-infinite-loop",
        "limits/table-grow-cap",
        "wasi/trap-oob-load",
    ] {
        assert_eq!(outcome(&v, id), "pass", "{id}: {}", v["cases"][id]);
    }
}

#[test]
fn p1_runs_the_preview1_network_cases_and_names_the_component_ones() {
    let (code, v) = certify(&["--filter", "^network/"]);
    assert!(
        v["suite"].get("world").is_none(),
        "p1 is the default: not written"
    );
    for (id, c) in v["cases"].as_object().unwrap() {
        if id.starts_with("network/p1-") {
            assert_eq!(c["outcome"], "pass", "{id}: {c}");
        } else {
            assert_eq!(c["outcome"], "not-supported", "{id}: {c}");
            assert_eq!(c["missing"], "component");
            assert!(c["why"].as_str().unwrap().contains("--world p2"), "{c}");
        }
    }
    assert_eq!(code, 0);
}

#[test]
fn wasmtime_cli_runs_the_suite_as_components() {
    let Some(_) = installed(".ci/tools/bin/wasmtime", "scripts/install-test-tools.sh") else {
        return;
    };
    let (code, v) = certify(&["--runtime", "wasmtime", "--world", "p2"]);
    assert_p2_report(&v);
    assert_eq!(
        ids(&v["verdict"]["conformance"]),
        ["sandbox/rights-escalation-inheriting"]
    );
    // Refused at instantiation, as a component: the CLI's message has no numbered chain.
    assert_eq!(outcome(&v, "limits/memory-initial-huge"), "pass");
    assert_eq!(code, 1);
}

/// The wasmtime adapter with `-S inherit-network` on every run: a runtime that grants the
/// network unasked. The canaries must see the denied cases' connection and datagram.
#[test]
fn the_canaries_catch_a_runtime_that_grants_the_network_unasked() {
    let Some(_) = installed(".ci/tools/bin/wasmtime", "scripts/install-test-tools.sh") else {
        return;
    };
    let text = std::fs::read_to_string(root().join("certify/adapters/wasmtime.toml")).unwrap();
    let leaky = text.replacen(
        "[flags]\n",
        "[flags]\nalways = [\"-S\", \"inherit-network\", \"-S\", \"allow-ip-name-lookup\"]\n",
        1,
    );
    assert_ne!(leaky, text);
    let dir = tempfile::tempdir().unwrap();
    let adapter = dir.path().join("leaky.toml");
    std::fs::write(&adapter, leaky).unwrap();
    let (code, v) = certify(&[
        "--adapter",
        adapter.to_str().unwrap(),
        "--world",
        "p2",
        "--filter",
        "^network/",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        ids(&v["verdict"]["containment"]),
        ["network/tcp-connect-denied", "network/udp-send-denied"]
    );
    for (id, proto) in [
        ("network/tcp-connect-denied", "tcp from 127.0.0.1:"),
        ("network/udp-send-denied", "udp from 127.0.0.1:"),
    ] {
        let why = v["cases"][id]["why"].as_str().unwrap();
        assert!(
            why.contains("without a network grant") && why.contains(proto),
            "{id}: {why}"
        );
        assert!(why.contains("wasmcert-canary"), "{why}");
    }
    // A name lookup reaches no canary: a plain failure, named.
    assert_eq!(outcome(&v, "network/name-lookup-denied"), "fail");
    assert_eq!(outcome(&v, "network/tcp-connect-granted"), "pass");
}

#[test]
fn jco_runs_components_with_the_grants_it_is_given() {
    let Some(node) = installed(".ci/tools/jco/bin/node", "scripts/install-runtimes.sh") else {
        return;
    };
    let node = node.to_string_lossy().into_owned();
    let (code, v) = certify(&[
        "--runtime",
        "jco",
        "--runtime-path",
        &node,
        "--world",
        "p2",
        "--filter",
        "^(network/|sandbox/p2-|wasi/(args-echo|env-isolation|env-none-granted|exit-code-42|trap-oob-load|unreachable-trap|stdin-echo)|sandbox/(absolute-host-paths|dotdot-parent|symlink-to-outside-dir))",
    ]);
    assert_eq!(v["suite"]["world"], "p2");
    assert!(
        v["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("@bytecodealliance/jco 1.35.0"),
        "{}",
        v["runtime"]
    );
    for (id, c) in v["cases"].as_object().unwrap() {
        let want = if id.starts_with("network/p1-") {
            "not-supported"
        } else {
            "pass"
        };
        assert_eq!(c["outcome"], want, "{id}: {c}");
    }
    // V8's traps through jco, read from the launcher's "trap:" line.
    assert!(
        v["cases"]["wasi/trap-oob-load"]["evidence"]["trap"]
            .as_str()
            .unwrap()
            .contains("out of bounds"),
        "{}",
        v["cases"]["wasi/trap-oob-load"]
    );
    assert_eq!(code, 0);
}

#[test]
fn a_world_the_runtime_does_not_run_is_a_usage_error() {
    let (code, _, err) = run(&["--runtime", "node", "--world", "p2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not run the p2 world"), "{err}");
    let (code, _, err) = run(&["--runtime", "jco", "--world", "p1"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("does not run the p1 world") || err.contains("not found"),
        "{err}"
    );
    let (code, _, err) = run(&["--world", "p3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown world"), "{err}");
}

/// The published matrix (docs/matrix/, rendered from signed bundles; tests/matrix.rs checks it
/// is what they render to) certifies the WASI 0.2 hosts in columns of their own, and the
/// network category ran on every runtime in it.
#[test]
fn the_published_matrix_has_the_wasi_0_2_hosts_and_the_network_category_everywhere() {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("docs/matrix/matrix.json")).unwrap())
            .unwrap();
    let runtimes: Vec<&str> = m["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "embedded (p2)",
        "wasmtime (p2)",
        "jco (p2)",
        "embedded",
        "wasmtime",
    ] {
        assert!(runtimes.contains(&id), "{id} not in {runtimes:?}");
    }
    assert!(runtimes.len() >= 17, "{runtimes:?}");
    let network: Vec<&serde_json::Value> = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["category"] == "network")
        .collect();
    assert!(network.len() >= 8, "{} network cases", network.len());
    for c in &network {
        let cells = c["cells"].as_array().unwrap();
        assert_eq!(cells.len(), runtimes.len());
        for (rt, cell) in runtimes.iter().zip(cells) {
            assert!(!cell.is_null(), "{} has no cell for {rt}", c["id"]);
        }
    }
    // The component-native cases run (pass) on every p2 column.
    for (i, rt) in runtimes.iter().enumerate() {
        if !rt.ends_with("(p2)") {
            continue;
        }
        for c in network.iter().filter(|c| {
            let id = c["id"].as_str().unwrap();
            !id.starts_with("network/p1-")
        }) {
            assert_eq!(c["cells"][i]["outcome"], "pass", "{rt}: {}", c["id"]);
        }
    }
}
