//! A real OCI registry on loopback for tests: Debian's `docker-registry` (distribution 2.8)
//! listening on 127.0.0.1 only, storage in a temp dir, stopped on drop; artifacts pushed with
//! Debian's `skopeo` from OCI layout dirs. Installed by `.ci/run`; elsewhere tests skip.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    pub addr: String,
    pub storage: tempfile::TempDir,
    _config: tempfile::NamedTempFile,
}

pub fn tools_present() -> bool {
    let ok =
        Path::new("/usr/bin/docker-registry").exists() && Path::new("/usr/bin/skopeo").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "docker-registry and skopeo are missing in CI: .ci/run installs them"
        );
        eprintln!(
            "skipping: docker-registry / skopeo not installed (apt-get install docker-registry skopeo)"
        );
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Registry {
    pub fn start() -> Registry {
        let storage = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut config = tempfile::NamedTempFile::new().unwrap();
        write!(
            config,
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            storage.path().display()
        )
        .unwrap();
        let child = Command::new("/usr/bin/docker-registry")
            .arg("serve")
            .arg(config.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(&addr).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the registry did not start on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            child,
            addr,
            storage,
            _config: config,
        }
    }

    /// Push a layout's tag to `repo:tag` with skopeo.
    pub fn push(&self, layout: &Path, tag: &str, repo: &str) {
        let o = Command::new("/usr/bin/skopeo")
            .args([
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                "--preserve-digests",
            ])
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.addr))
            .env("HOME", self.storage.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Where the registry keeps a blob's bytes (to tamper with them behind its back).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage
            .path()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
