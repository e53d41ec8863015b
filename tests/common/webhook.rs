//! The `wasmcert serve` harness of `tests/webhook.rs`: a throwaway certificate (openssl CLI),
//! the server as a child process (addresses read from its stderr, stopped with SIGTERM), curl
//! for requests, and PyPI prometheus-client as the independent parser of `/metrics`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

pub fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("tls.crt"), dir.join("tls.key"));
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=wasmcert-webhook",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (c, k)
}

pub struct Server {
    child: Child,
    pub addr: String,
    /// `host:port` of `--metrics-addr`, when given.
    pub metrics: Option<String>,
}

/// Read `serve`'s stderr up to the line starting with `prefix`; the rest of that line.
pub fn wait_line(lines: &mut Lines<BufReader<ChildStderr>>, prefix: &str) -> String {
    loop {
        let line = lines.next().expect("serve printed the line").unwrap();
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
}

impl Server {
    pub fn start(args: &[&str], cert: &Path, key: &Path) -> Server {
        let (mut server, mut lines) = Server::spawn(args, cert, key);
        if args.contains(&"--metrics-addr") {
            let m = wait_line(&mut lines, "wasmcert serve: metrics on http://");
            server.metrics = Some(m.split_once('/').unwrap().0.to_string());
        }
        server.listening(lines);
        server
    }

    /// Start `serve`; the caller waits for its lines.
    pub fn spawn(
        args: &[&str],
        cert: &Path,
        key: &Path,
    ) -> (Server, Lines<BufReader<ChildStderr>>) {
        let mut child = super::bin()
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            // No registry credentials from this machine; tests pass --registry-auth.
            .env("DOCKER_CONFIG", "/nonexistent/wasmcert-test")
            .env_remove("WASMCERT_REGISTRY_AUTH_FILE")
            .env_remove("WASMCERT_REGISTRY_USERNAME")
            .env_remove("WASMCERT_REGISTRY_PASSWORD")
            .env_remove("WASMCERT_REGISTRY_HOST")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let server = Server {
            child,
            addr: String::new(),
            metrics: None,
        };
        (server, lines)
    }

    /// Wait for the HTTPS listener, then keep draining stderr so the server never blocks on it.
    pub fn listening(&mut self, mut lines: Lines<BufReader<ChildStderr>>) {
        let rest = wait_line(&mut lines, "wasmcert serve: listening on https://");
        self.addr = rest.trim_end_matches("/validate").to_string();
        std::thread::spawn(move || for _ in lines {});
    }

    /// Peak resident memory of the server so far, KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    pub fn stop(mut self) -> Option<i32> {
        unsafe_kill(self.child.id() as i32);
        let status = self.child.wait().unwrap();
        status.code()
    }
}

#[allow(unsafe_code)]
pub fn unsafe_kill(pid: i32) {
    // SAFETY: sending SIGTERM to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POST a body with curl; returns (HTTP status, body).
pub fn post(addr: &str, cert: &Path, body: &[u8]) -> (u16, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("body.json");
    std::fs::write(&f, body).unwrap();
    let o = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(cert)
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{}", f.display()))
        .arg(format!("https://{addr}/validate"))
        .output()
        .unwrap();
    status_and_body(o)
}

/// What curl printed with `-w "\n%{http_code}"`: (HTTP status, body); curl must have succeeded.
fn status_and_body(o: std::process::Output) -> (u16, String) {
    assert!(
        o.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let (body, code) = out.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_string())
}

pub fn get(addr: &str, cert: &Path, path: &str) -> String {
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(cert)
        .arg(format!("https://{addr}{path}"))
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap()
}

/// GET over plain HTTP (the metrics listener): (HTTP status, body).
pub fn get_plain(addr: &str, path: &str) -> (u16, String) {
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"])
        .arg(format!("http://{addr}{path}"))
        .output()
        .unwrap();
    status_and_body(o)
}

/// The independent parser of the Prometheus text format: PyPI prometheus-client's
/// `text_string_to_metric_families`, from scripts/install-policy-tools.sh. `None` (the test
/// then skips its parse) when it is not installed, outside CI.
pub fn prometheus_parser() -> Option<PathBuf> {
    let python = super::root().join(".ci/tools/policy-venv/bin/python");
    let ok = python.is_file()
        && Command::new(&python)
            .args(["-c", "import prometheus_client.parser"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        return super::not_installed("PyPI prometheus-client", "scripts/install-policy-tools.sh");
    }
    Some(python)
}

/// `{family: {"type": ..., "samples": [{"name", "labels", "value"}]}}` as the parser reads a
/// scrape (a parse error fails the test).
pub fn parse_metrics(python: &Path, text: &str) -> Value {
    const PARSE: &str = "import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {'type': f.type, 'samples': [
        {'name': s.name, 'labels': s.labels, 'value': s.value} for s in f.samples]}
json.dump(out, sys.stdout)
";
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "the parser refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The samples called `sample` of `family`, by their labels (`k=v,k=v`, sorted).
pub fn samples(m: &Value, family: &str, sample: &str) -> BTreeMap<String, f64> {
    let f = &m[family];
    assert!(f.is_object(), "no family {family}");
    f["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == sample)
        .map(|s| {
            let mut labels = s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect::<Vec<_>>();
            labels.sort();
            let labels = labels.join(",");
            (labels, s["value"].as_f64().unwrap())
        })
        .collect()
}

pub fn review(image: &str) -> Vec<u8> {
    std::fs::read_to_string(super::root().join("webhook/tests/data/pod-wasm.json"))
        .unwrap()
        .replace("IMAGE_APP", image)
        .replace("IMAGE_INIT", image)
        .into_bytes()
}
