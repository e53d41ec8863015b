//! Registry credentials, each bound to the one registry host it was configured for.
//!
//! Pods (through the webhook) and command-line arguments name any registry they like, so a
//! credential must never follow a reference to a host it was not given for. Credentials come
//! from a Docker `config.json`-style file (`{"auths": {"host:port": {"auth": base64(user:pass)}}}`)
//! and from `WASMCERT_REGISTRY_USERNAME`/`PASSWORD`, which must name their host in
//! `WASMCERT_REGISTRY_HOST`. `registry.rs` decides where a credential may go: the registry
//! itself, and a token realm on that same host.

use crate::{Error, ErrorKind, err};
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An auth file larger than this is refused: a real one lists a few hosts.
const MAX_AUTH_FILE: u64 = 1 << 20;

/// A username and password for one registry host. `Debug` never prints the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({:?}, <redacted>)", self.username)
    }
}

/// Credentials by registry host (`host` or `host:port`, lower case, as references write it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    hosts: BTreeMap<String, Secret>,
}

/// The key a registry host is looked up under: lower case, without a scheme or a path, and
/// Docker Hub's aliases (`index.docker.io`, `registry-1.docker.io`, Docker's
/// `https://index.docker.io/v1/`) as `docker.io`.
pub fn host_key(host: &str) -> String {
    let h = host
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let h = h.split('/').next().unwrap_or("").to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => h,
    }
}

impl Credentials {
    /// No credentials: every registry is spoken to anonymously.
    pub fn none() -> Credentials {
        Credentials::default()
    }

    /// Add (or replace) the credentials of one host.
    pub fn insert(&mut self, host: &str, username: &str, password: &str) {
        self.hosts.insert(
            host_key(host),
            Secret {
                username: username.to_string(),
                password: password.to_string(),
            },
        );
    }

    /// The credentials configured for exactly this registry host, if any.
    pub fn for_host(&self, host: &str) -> Option<&Secret> {
        self.hosts.get(&host_key(host))
    }

    /// The hosts that have credentials.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Parse a Docker `config.json` (or a Kubernetes `.dockerconfigjson`): `auths.HOST.auth`
    /// (base64 of `user:password`) or `auths.HOST.username` + `password`. Entries with
    /// neither (identity tokens, credential helpers) are skipped. `origin` names the file.
    pub fn from_docker_config(bytes: &[u8], origin: &str) -> Result<Credentials, Error> {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            err(
                ErrorKind::Invalid,
                format!("{origin}: not a JSON auth file: {e}"),
            )
        })?;
        let mut out = Credentials::none();
        let Some(auths) = v.get("auths") else {
            return Ok(out);
        };
        let auths = auths.as_object().ok_or_else(|| {
            err(
                ErrorKind::Invalid,
                format!("{origin}: `auths` is not an object"),
            )
        })?;
        for (host, entry) in auths {
            if host_key(host).is_empty() {
                return Err(err(
                    ErrorKind::Invalid,
                    format!("{origin}: an `auths` key is not a host"),
                ));
            }
            if let Some(b64) = entry.get("auth").and_then(|a| a.as_str())
                && !b64.is_empty()
            {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .ok_or_else(|| {
                        err(
                            ErrorKind::Invalid,
                            format!(
                                "{origin}: auths.{host:?}.auth is not base64 of `user:password`"
                            ),
                        )
                    })?;
                let (u, p) = decoded.split_once(':').ok_or_else(|| {
                    err(
                        ErrorKind::Invalid,
                        format!("{origin}: auths.{host:?}.auth is not base64 of `user:password`"),
                    )
                })?;
                out.insert(host, u, p);
            } else if let (Some(u), Some(p)) = (
                entry.get("username").and_then(|u| u.as_str()),
                entry.get("password").and_then(|p| p.as_str()),
            ) {
                out.insert(host, u, p);
            }
        }
        Ok(out)
    }

    /// Read a Docker-style auth file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Credentials, Error> {
        use std::io::Read;
        let origin = path.display().to_string();
        let f =
            std::fs::File::open(path).map_err(|e| err(ErrorKind::Io, format!("{origin}: {e}")))?;
        let mut bytes = Vec::new();
        f.take(MAX_AUTH_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| err(ErrorKind::Io, format!("{origin}: {e}")))?;
        if bytes.len() as u64 > MAX_AUTH_FILE {
            return Err(err(
                ErrorKind::TooLarge,
                format!("{origin}: larger than {MAX_AUTH_FILE} bytes: not an auth file"),
            ));
        }
        Credentials::from_docker_config(&bytes, &origin)
    }

    /// The credentials the environment configures:
    ///
    /// 1. `file`, if given (`serve --registry-auth`), else `WASMCERT_REGISTRY_AUTH_FILE`; else
    ///    Docker's own file, `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, when it
    ///    exists;
    /// 2. then `WASMCERT_REGISTRY_USERNAME` and `WASMCERT_REGISTRY_PASSWORD` for the one host
    ///    `WASMCERT_REGISTRY_HOST` names (required with them).
    pub fn from_env(file: Option<&Path>) -> Result<Credentials, Error> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let explicit: Option<PathBuf> = file
            .map(Path::to_path_buf)
            .or_else(|| var("WASMCERT_REGISTRY_AUTH_FILE").map(PathBuf::from));
        let mut creds = match explicit {
            Some(p) => Credentials::from_file(&p)?,
            None => {
                let docker = var("DOCKER_CONFIG")
                    .map(|d| PathBuf::from(d).join("config.json"))
                    .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")));
                match docker {
                    Some(p) if p.exists() => Credentials::from_file(&p)?,
                    _ => Credentials::none(),
                }
            }
        };
        match (
            var("WASMCERT_REGISTRY_USERNAME"),
            var("WASMCERT_REGISTRY_PASSWORD"),
            var("WASMCERT_REGISTRY_HOST"),
        ) {
            (None, None, _) => {}
            (Some(u), Some(p), Some(h)) => {
                if host_key(&h).is_empty() || h.contains('/') {
                    return Err(err(
                        ErrorKind::Invalid,
                        format!(
                            "WASMCERT_REGISTRY_HOST={h:?} is not a registry host (host or host:port)"
                        ),
                    ));
                }
                creds.insert(&h, &u, &p);
            }
            (Some(_), Some(_), None) => {
                return Err(err(
                    ErrorKind::Unauthorized,
                    "WASMCERT_REGISTRY_USERNAME and WASMCERT_REGISTRY_PASSWORD are set but \
                     WASMCERT_REGISTRY_HOST is not: name the one registry host (host or host:port) \
                     the credentials are for; they are never sent to any other",
                ));
            }
            _ => {
                return Err(err(
                    ErrorKind::Invalid,
                    "set both WASMCERT_REGISTRY_USERNAME and WASMCERT_REGISTRY_PASSWORD (with \
                     WASMCERT_REGISTRY_HOST), or neither",
                ));
            }
        }
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_files_bind_credentials_to_hosts() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3cr:et");
        let doc = format!(
            r#"{{"auths": {{
                "registry.example:5000": {{"auth": "{b64}"}},
                "https://index.docker.io/v1/": {{"username": "bob", "password": "pw"}},
                "ghcr.io": {{"identitytoken": "x"}}
            }}, "credsStore": "desktop"}}"#
        );
        let c = Credentials::from_docker_config(doc.as_bytes(), "config.json").unwrap();
        let s = c.for_host("registry.example:5000").unwrap();
        assert_eq!(
            (s.username.as_str(), s.password.as_str()),
            ("alice", "s3cr:et")
        );
        assert!(
            c.for_host("REGISTRY.example:5000").is_some(),
            "hosts are case-insensitive"
        );
        assert!(
            c.for_host("registry.example").is_none(),
            "the port is part of the host"
        );
        assert!(c.for_host("registry.example:5001").is_none());
        assert!(c.for_host("evil.registry.example:5000").is_none());
        assert_eq!(c.for_host("docker.io").unwrap().username, "bob");
        assert!(
            c.for_host("ghcr.io").is_none(),
            "identity tokens are not supported"
        );
        assert!(!format!("{c:?}").contains("s3cr"), "Debug hides passwords");

        for bad in [
            r#"{"auths": {"r.example": {"auth": "not base64!"}}}"#,
            r#"{"auths": {"r.example": {"auth": "bm9jb2xvbg=="}}}"#, // "nocolon"
            r#"{"auths": []}"#,
            "not json",
        ] {
            let e = Credentials::from_docker_config(bad.as_bytes(), "a.json").unwrap_err();
            assert!(e.message.starts_with("a.json: "), "{e}");
        }
        assert!(
            Credentials::from_docker_config(b"{}", "a.json")
                .unwrap()
                .is_empty()
        );
    }
}
