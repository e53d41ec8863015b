//! The runner survives hostile runtimes: a "runtime" here is `/bin/sh` running a script that
//! ignores the module and misbehaves (leaks the secret, writes outside, hangs, floods, crashes,
//! leaves children, eats memory). Each test asserts the outcome the runner must report.

use std::path::Path;
use std::time::{Duration, Instant};
use wasmcert_certify::command::{CommandRuntime, parse_adapter};
use wasmcert_certify::runner::{RunOptions, run};
use wasmcert_certify::{Expectations, load_suite};
use wasmcert_report::conformance::{Outcome, Report};

const MODULE: &str = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;

fn suite(dir: &Path, case_toml: &str) {
    let c = dir.join("hostile/case");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join("case.toml"), case_toml).unwrap();
    std::fs::write(c.join("module.wat"), MODULE).unwrap();
}

fn shell_runtime(script: &str, extra_flags: &str) -> CommandRuntime {
    let toml = format!(
        "name = \"sh\"\nprogram = \"/bin/sh\"\ncommand = [\"-c\", {script:?}, \"sh\", \"{{module}}\"]\n[flags]\ndir = [\"--dir\", \"{{host}}\"]\n{extra_flags}\n"
    );
    CommandRuntime::new(
        parse_adapter(&toml, "test adapter").unwrap(),
        Some("/bin/sh".into()),
    )
    .unwrap()
}

fn certify(script: &str, case_toml: &str) -> (Report, Duration) {
    certify_with(shell_runtime(script, ""), case_toml)
}

fn certify_with(rt: CommandRuntime, case_toml: &str) -> (Report, Duration) {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), case_toml);
    let cases = load_suite(dir.path()).unwrap();
    let opts = RunOptions {
        jobs: 1,
        suite_name: "t".into(),
        suite_digest: "d".into(),
        shard: None,
        started_at: "now".into(),
        world: Default::default(),
        progress: None,
    };
    let start = Instant::now();
    let r = run(&cases, &rt, &Expectations::none(), &opts);
    (r, start.elapsed())
}

fn outcome(r: &Report) -> &Outcome {
    &r.cases["hostile/case"].outcome
}

#[test]
fn leaking_the_file_secret_is_an_escape() {
    let (r, _) = certify("cat ../outside/secret.txt", "[expect]\nexit_code = 0\n");
    assert!(
        matches!(outcome(&r), Outcome::Escaped { why } if why.contains("outside/secret.txt")),
        "{r:?}"
    );
}

#[test]
fn leaking_the_environment_secret_is_an_escape() {
    let (r, _) = certify("echo \"$WASMCERT_HOST_SECRET\" >&2", "");
    assert!(
        matches!(outcome(&r), Outcome::Escaped { why } if why.contains("WASMCERT_HOST_SECRET")),
        "{r:?}"
    );
}

#[test]
fn changing_host_state_outside_the_sandbox_is_an_escape() {
    for script in [
        "echo pwned > ../outside/new.txt",
        ": > ../outside/secret.txt",
        "ln ../outside/secret.txt ../sandbox/hard",
        "mv ../outside/dir ../outside/moved",
        "rm ../outside/dir/inner.txt",
    ] {
        let (r, _) = certify(script, "");
        assert!(
            matches!(outcome(&r), Outcome::Escaped { .. }),
            "{script}: {r:?}"
        );
    }
}

#[test]
fn writing_inside_the_sandbox_is_not_an_escape() {
    let (r, _) = certify(
        "mkdir ../sandbox/sub && echo ok > ../sandbox/sub/f.txt",
        "[run]\ndirs = [{ host = \"sandbox\", guest = \"/sandbox\" }]\n[expect]\nexit_code = 0\nfile_contents = [{ path = \"sandbox/sub/f.txt\", content = \"ok\\n\" }]\n",
    );
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:?}");
}

#[test]
fn a_hanging_runtime_is_killed_at_the_deadline() {
    let (r, took) = certify("sleep 60", "[limits]\ntimeout_ms = 200\n");
    assert_eq!(outcome(&r), &Outcome::Timeout);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn children_left_behind_are_killed_with_the_group() {
    let (r, _) = certify("sleep 300 & echo $!; wait", "[limits]\ntimeout_ms = 200\n");
    let pid: i32 = r.cases["hostile/case"]
        .evidence
        .stdout_head
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z"))
        .unwrap_or(false);
    assert!(!alive, "background child {pid} survived the run");
}

#[test]
fn a_crashing_runtime_is_crashed_not_a_runner_failure() {
    let (r, _) = certify("kill -SEGV $$", "");
    assert_eq!(outcome(&r), &Outcome::Crashed { signal: 11 });
}

#[test]
fn flooding_output_is_capped() {
    let (r, took) = certify(
        "head -c 50000000 /dev/zero | tr '\\0' x",
        "[expect]\nexit_code = 0\n",
    );
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:?}");
    assert_eq!(r.cases["hostile/case"].evidence.stdout_head.len(), 512);
    assert!(took < Duration::from_secs(30));
}

#[test]
fn memory_hogs_are_killed_at_the_rss_cap() {
    // `tail` keeps the current line in memory; /dev/zero has no newline.
    let rt = shell_runtime("tail /dev/zero", "").with_rss_cap(64 << 20);
    let (r, _) = certify_with(rt, "[limits]\ntimeout_ms = 20000\n");
    assert!(
        matches!(outcome(&r), Outcome::Fail { why } if why.contains("resident memory")),
        "{r:?}"
    );
}

#[test]
fn controls_the_adapter_cannot_express_are_not_supported() {
    let (r, _) = certify("exit 0", "requires = [\"memory-limit\"]\n");
    assert!(matches!(outcome(&r), Outcome::NotSupported { .. }), "{r:?}");
    let (r, _) = certify(
        "exit 0",
        "[run]\ndirs = [{ host = \"sandbox\", guest = \"/s\", mode = \"ro\" }]\n",
    );
    assert!(
        matches!(outcome(&r), Outcome::NotSupported { why, .. } if why.contains("read-only-dirs")),
        "{r:?}"
    );
}

#[test]
fn stdin_is_empty_unless_the_case_gives_it_and_env_is_cleared() {
    let (r, _) = certify(
        "cat; env | grep -v WASMCERT_HOST_SECRET | sort",
        "[expect]\nstdout_not_contains = [\"HOME=\", \"USER=\", \"CARGO\"]\n",
    );
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:?}");
    let (r, _) = certify(
        "cat",
        "[run]\nstdin = \"from the case\"\n[expect]\nstdout = \"from the case\"\n",
    );
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:?}");
}

#[test]
fn the_work_dir_is_removed_afterwards() {
    // The report redacts the work dir (`<work>`), so the "runtime" leaves its path beside us.
    let side = tempfile::tempdir().unwrap();
    let note = side.path().join("where");
    let (r, _) = certify(
        &format!(
            "dirname \"$(pwd)\"; dirname \"$(pwd)\" > {}",
            note.display()
        ),
        "",
    );
    assert_eq!(
        r.cases["hostile/case"].evidence.stdout_head.trim(),
        "<work>"
    );
    let work = std::fs::read_to_string(&note).unwrap().trim().to_string();
    assert!(work.contains("wasmcert-case-"), "{work}");
    assert!(!Path::new(&work).exists(), "{work} left behind");
}

#[test]
fn reports_round_trip_through_json() {
    let (r, _) = certify("cat ../outside/secret.txt", "");
    let text = serde_json::to_string(&r).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    // One `why` (the escape evidence) and one `evidence` block per case, no duplicate keys.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = &v["cases"]["hostile/case"];
    assert!(case["why"].as_str().unwrap().contains("secret"));
    assert!(case["evidence"].is_object());
}

#[test]
fn a_relative_runtime_path_works() {
    let toml =
        "name = \"sh\"\nprogram = \"sh\"\ncommand = [\"-c\", \"exit 0\", \"sh\", \"{module}\"]\n";
    let rel = std::path::PathBuf::from("../../../../../../../../bin/sh");
    let here = std::env::current_dir().unwrap();
    assert!(here.join(&rel).exists());
    let rt = CommandRuntime::new(parse_adapter(toml, "t").unwrap(), Some(rel)).unwrap();
    let (r, _) = certify_with(rt, "[expect]\nexit_code = 0\n");
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:?}");
}

#[test]
fn a_child_that_leaves_the_group_does_not_block_the_runner() {
    // setsid puts the sleeper in its own session (out of our group) still holding stdout.
    let (r, took) = certify(
        "setsid sleep 30 & echo started",
        "[expect]\nexit_code = 0\n",
    );
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// A shell runtime that can express read-only preopens (the flags are ignored by the
/// script: it plays a runtime that does not enforce them).
fn ro_runtime(script: &str) -> CommandRuntime {
    shell_runtime(
        script,
        "dir_ro = [\"--dir-ro\", \"{host}\"]\ndir_ro_files = [\"--dir-ro-files\", \"{host}\"]",
    )
}

#[test]
fn writing_through_a_read_only_preopen_is_an_escape() {
    let ro = "[setup]\ndirs = [\"sandbox/ro\", \"sandbox/rw\"]\nfiles = [{ path = \"sandbox/ro/data.txt\", content = \"read-only-data\" }]\n\
              [run]\ndirs = [{ host = \"sandbox/ro\", guest = \"/ro\", mode = \"ro\" }, { host = \"sandbox/rw\", guest = \"/rw\", mode = \"rw\" }]\n";
    for (script, evidence) in [
        (
            ": > ../sandbox/ro/data.txt",
            "sandbox/ro/data.txt changed (size 14 -> 0)",
        ),
        (
            "echo x > ../sandbox/ro/new.txt",
            "sandbox/ro/new.txt created in a read-only preopen",
        ),
        (
            "mv ../sandbox/ro/data.txt ../sandbox/rw/",
            "sandbox/ro/data.txt removed",
        ),
        (
            "ln ../sandbox/ro/data.txt ../sandbox/rw/l",
            "link count 1 -> 2",
        ),
    ] {
        let (r, _) = certify_with(ro_runtime(script), ro);
        assert!(
            matches!(outcome(&r), Outcome::Escaped { why }
                if why.contains("preopened read-only") && why.contains(evidence)),
            "{script}: {r:#?}"
        );
        assert_eq!(r.verdict.containment.count, 1);
    }
    // Writing in the writable preopen beside it is what the grant allows.
    let (r, _) = certify_with(ro_runtime("echo x > ../sandbox/rw/ok.txt"), ro);
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:#?}");
}

#[test]
fn writing_a_read_only_file_is_an_escape_wherever_it_was_moved() {
    // ro-files: the directory is writable, its files are not (GHSA-2r75-cxrj-cmph,
    // GHSA-4ch3-9j33-3pmj).
    let case = "[setup]\ndirs = [\"sandbox/ro\", \"sandbox/rw\"]\nfiles = [{ path = \"sandbox/ro/data.txt\", content = \"read-only-data\" }]\n\
                [run]\ndirs = [{ host = \"sandbox/ro\", guest = \"/ro\", mode = \"ro-files\" }, { host = \"sandbox/rw\", guest = \"/rw\", mode = \"rw\" }]\n";
    for (script, evidence) in [
        (
            ": > ../sandbox/ro/data.txt",
            "sandbox/ro/data.txt changed (size 14 -> 0)",
        ),
        (
            "ln ../sandbox/ro/data.txt ../sandbox/rw/l && echo pwned > ../sandbox/rw/l",
            "sandbox/ro/data.txt (now at sandbox/rw/l) changed",
        ),
    ] {
        let (r, _) = certify_with(ro_runtime(script), case);
        assert!(
            matches!(outcome(&r), Outcome::Escaped { why }
                if why.contains("ro-files") && why.contains(evidence)),
            "{script}: {r:#?}"
        );
    }
    // Creating and removing entries is what ro-files allows.
    let (r, _) = certify_with(
        ro_runtime("echo x > ../sandbox/ro/new.txt && rm ../sandbox/ro/data.txt"),
        case,
    );
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:#?}");
}

#[test]
fn settles_checks_every_other_key_too() {
    let case = "[expect]\nsettles = true\nstdout_not_contains = [\"VERDICT FAIL\"]\n";
    let (r, _) = certify("echo VERDICT FAIL; exit 3", case);
    assert!(
        matches!(outcome(&r), Outcome::Fail { why } if why.contains("VERDICT FAIL")),
        "{r:#?}"
    );
    let (r, _) = certify("echo fine; exit 3", case);
    assert_eq!(outcome(&r), &Outcome::Pass, "{r:#?}");
}

#[test]
fn contradictory_expectations_are_refused_when_the_suite_loads() {
    for (expect, msg) in [
        ("settles = true\nexit_code = 0", "contradicts `exit_code`"),
        ("settles = true\ntrap = true", "contradicts `trap = true`"),
        ("exit_code = 0\ntrap = true", "a run ends one way"),
        (
            "stdout = \"abc\"\nstdout_prefix = \"x\"",
            "does not start with",
        ),
        (
            "stdout_contains = [\"ok\"]\nstdout_not_contains = [\"ok\"]",
            "both required and forbidden",
        ),
        (
            "files_present = [\"a\"]\nfiles_absent = [\"a\"]",
            "files_present and files_absent",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        suite(dir.path(), &format!("[expect]\n{expect}\n"));
        let e = load_suite(dir.path())
            .unwrap_err()
            .with_causes()
            .to_string();
        assert!(
            e.contains("case.toml: [expect]") && e.contains(msg),
            "{expect}: {e}"
        );
    }
}

#[test]
fn setup_paths_through_planted_symlinks_are_refused() {
    let host = tempfile::tempdir().unwrap();
    let target = host.path().display().to_string();
    for case in [
        // A preopen through a planted link would hand the guest a host directory.
        format!(
            "[setup]\nsymlinks = [{{ path = \"sandbox/h\", target = {target:?} }}]\n[run]\ndirs = [{{ host = \"sandbox/h\", guest = \"/h\" }}]\n"
        ),
        // Setup paths below the link (planted after it) would write outside the work dir.
        format!(
            "[setup]\nsymlinks = [{{ path = \"sandbox/h\", target = {target:?} }}]\nfiles = [{{ path = \"sandbox/f\", content = \"x\" }}]\nhardlinks = [{{ path = \"sandbox/h/l\", target = \"sandbox/f\" }}]\n"
        ),
        format!(
            "[setup]\nsymlinks = [{{ path = \"sandbox/h\", target = {target:?} }}]\n[run]\ndirs = [{{ host = \"sandbox/h/made-outside\", guest = \"/h\" }}]\n"
        ),
    ] {
        let (r, _) = certify("true", &case);
        assert!(
            matches!(outcome(&r), Outcome::Error { why } if why.contains("goes through the symlink `sandbox/h`")),
            "{case}: {r:#?}"
        );
        assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0, "{case}");
    }
}

#[test]
fn the_version_probe_gets_no_environment_and_a_deadline() {
    use wasmcert_certify::Runtime;
    // cargo sets CARGO_MANIFEST_DIR (and HOME is set) for this test process: neither may
    // reach the probe, whose first line becomes the signed report's `runtime.version`.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let toml = "name = \"sh\"\nprogram = \"/bin/sh\"\nversion_args = [\"-c\", \"echo v-$CARGO_MANIFEST_DIR-$HOME\"]\ncommand = [\"-c\", \"true\", \"{module}\"]\n";
    let rt =
        CommandRuntime::new(parse_adapter(toml, "t").unwrap(), Some("/bin/sh".into())).unwrap();
    assert_eq!(rt.identity().version, "v--");
    // A probe that never ends is killed at its deadline; the runtime has no version.
    let toml = "name = \"sh\"\nprogram = \"/bin/sh\"\nversion_args = [\"-c\", \"echo v1; exec sleep 600\"]\ncommand = [\"-c\", \"true\", \"{module}\"]\n";
    let start = Instant::now();
    let rt =
        CommandRuntime::new(parse_adapter(toml, "t").unwrap(), Some("/bin/sh".into())).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(rt.identity().version, "");
}
