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
        matches!(outcome(&r), Outcome::NotSupported { why } if why.contains("read-only-dirs")),
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
