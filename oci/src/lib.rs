#![doc = include_str!("../README.md")]

pub mod auth;
mod error;
pub mod layout;
mod realm;
pub mod registry;

pub use auth::Credentials;
pub use error::{Error, ErrorKind};

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use wasmcert_analyzer::{Analysis, Finding, OciInfo};

/// Manifests (and indexes) larger than this are refused: real ones are a few hundred bytes.
pub const MAX_MANIFEST: u64 = 4 << 20;
/// Configs larger than this are refused: a Wasm config lists interface names.
pub const MAX_CONFIG: u64 = 1 << 20;
/// Default cap on the Wasm layer (`--max-artifact-bytes` raises it).
pub const DEFAULT_MAX_LAYER: u64 = 256 << 20;

/// Config media types of Wasm artifacts: the CNCF TAG Runtime layout, then older ones.
pub const WASM_CONFIG_TYPES: &[&str] = &[
    "application/vnd.wasm.config.v0+json",
    "application/vnd.wasm.config.v1+json",
];
/// Layer media types that carry a Wasm binary.
pub const WASM_LAYER_TYPES: &[&str] = &[
    "application/wasm",
    "application/vnd.wasm.content.layer.v1+wasm",
    "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
];
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];
pub const INDEX_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

fn err(kind: ErrorKind, m: impl Into<String>) -> Error {
    Error::new(kind, m)
}

fn invalid(m: impl Into<String>) -> Error {
    Error::new(ErrorKind::Invalid, m)
}

/// Where an artifact comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `oci://REGISTRY/REPO:TAG` or `oci://REGISTRY/REPO@sha256:...`.
    Registry {
        registry: String,
        repository: String,
        tag: Option<String>,
        digest: Option<String>,
    },
    /// `oci-layout:DIR`, `oci-layout:DIR:TAG` or `oci-layout:DIR@sha256:...`.
    Layout {
        dir: PathBuf,
        tag: Option<String>,
        digest: Option<String>,
    },
}

/// Parse a command-line input: `None` when it is not an OCI reference (a plain path).
pub fn parse(input: &str) -> Option<Result<Source, Error>> {
    if let Some(rest) = input.strip_prefix("oci://") {
        return Some(parse_registry(rest).map_err(|e| e.context(input)));
    }
    let rest = input.strip_prefix("oci-layout:")?;
    Some(parse_layout(rest).map_err(|e| e.context(input)))
}

fn check_digest(d: &str) -> Result<String, Error> {
    let hex = d.strip_prefix("sha256:").ok_or_else(|| {
        invalid(format!(
            "digest {d:?} is not sha256:<hex> (only SHA-256 is verified)"
        ))
    })?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(invalid(format!(
            "digest {d:?} is not sha256 followed by 64 lower-case hex digits"
        )));
    }
    Ok(d.to_string())
}

/// A registry is `host`, `host:port` or `[ipv6]:port`, nothing else: the string is where
/// requests go and what credentials are matched against, so it must be exactly the URL's
/// authority (no userinfo, query or fragment that would make the two differ).
fn check_registry(registry: &str) -> Result<(), Error> {
    let bad = || {
        invalid(format!(
            "{registry:?} is not a registry host (host, host:port or [ipv6]:port)"
        ))
    };
    let (host_ok, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after {
            "" => None,
            a => Some(a.strip_prefix(':').ok_or_else(bad)?),
        };
        (h.parse::<std::net::Ipv6Addr>().is_ok(), port)
    } else {
        let (h, port) = match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        };
        let ok = !h.is_empty()
            && h.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        (ok, port)
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    });
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

fn parse_registry(rest: &str) -> Result<Source, Error> {
    let (name, digest) = match rest.split_once('@') {
        Some((n, d)) => (n, Some(check_digest(d)?)),
        None => (rest, None),
    };
    let (registry, path) = name
        .split_once('/')
        .ok_or_else(|| invalid("expected oci://REGISTRY/REPOSITORY[:TAG][@sha256:...]"))?;
    if registry.is_empty() || path.is_empty() {
        return Err(invalid(
            "expected oci://REGISTRY/REPOSITORY[:TAG][@sha256:...]",
        ));
    }
    check_registry(registry)?;
    // A tag is after the last `:` of the last path segment (a port is in `registry`).
    let (repository, tag) = match path.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
        _ => (path, None),
    };
    let ok_repo = repository.split('/').all(|seg| {
        !seg.is_empty()
            && seg
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    });
    if !ok_repo {
        return Err(invalid(format!(
            "{repository:?} is not a repository name (lower-case a-z, 0-9, . _ - /)"
        )));
    }
    if let Some(t) = &tag
        && (t.is_empty()
            || t.len() > 128
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
    {
        return Err(invalid(format!("{t:?} is not a tag")));
    }
    if tag.is_none() && digest.is_none() {
        return Err(invalid("give a tag (:TAG) or a digest (@sha256:...)"));
    }
    Ok(Source::Registry {
        registry: registry.to_string(),
        repository: repository.to_string(),
        tag,
        digest,
    })
}

fn parse_layout(rest: &str) -> Result<Source, Error> {
    if rest.is_empty() {
        return Err(invalid(
            "expected oci-layout:DIR[:TAG] or oci-layout:DIR@sha256:...",
        ));
    }
    if let Some((dir, d)) = rest.rsplit_once('@') {
        return Ok(Source::Layout {
            dir: dir.into(),
            tag: None,
            digest: Some(check_digest(d)?),
        });
    }
    // `DIR:TAG`, unless the whole string is an existing directory (paths may hold `:`).
    if !std::path::Path::new(rest).is_dir()
        && let Some((dir, tag)) = rest.rsplit_once(':')
        && !tag.contains('/')
    {
        return Ok(Source::Layout {
            dir: dir.into(),
            tag: Some(tag.to_string()),
            digest: None,
        });
    }
    Ok(Source::Layout {
        dir: rest.into(),
        tag: None,
        digest: None,
    })
}

/// A verified Wasm artifact: every blob matched its digest.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub info: OciInfo,
    /// The config document (`{}` for legacy configs that carry nothing).
    pub config: Value,
    pub wasm: Vec<u8>,
}

impl Artifact {
    /// Assemble a verified artifact from its checked parts.
    pub fn new(
        reference: String,
        manifest_digest: String,
        parsed: Parsed,
        config: Value,
        wasm: Vec<u8>,
    ) -> Artifact {
        Artifact {
            info: OciInfo {
                reference,
                manifest_digest,
                manifest_media_type: parsed.media_type,
                config_digest: parsed.config.digest,
                config_media_type: parsed.config.media_type,
                layer_digest: parsed.layer.digest,
                layer_media_type: parsed.layer.media_type,
            },
            config,
            wasm,
        }
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A blob descriptor from a manifest.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

fn descriptor(v: &Value, what: &str) -> Result<Descriptor, Error> {
    let media_type = v["mediaType"].as_str().unwrap_or("").to_string();
    let digest = v["digest"].as_str().ok_or_else(|| {
        err(
            ErrorKind::Invalid,
            format!("the {what} descriptor has no digest"),
        )
    })?;
    let digest = check_digest(digest).map_err(|e| e.context(format_args!("the {what}")))?;
    let size = v["size"].as_u64().ok_or_else(|| {
        err(
            ErrorKind::Invalid,
            format!("the {what} descriptor has no size"),
        )
    })?;
    Ok(Descriptor {
        media_type,
        digest,
        size,
    })
}

/// Check a blob against its descriptor: size and SHA-256.
pub fn verify_blob(bytes: &[u8], d: &Descriptor, what: &str) -> Result<(), Error> {
    if bytes.len() as u64 != d.size {
        return Err(err(
            ErrorKind::Integrity,
            format!(
                "the {what} blob {} is {} bytes, its descriptor says {}: refusing it",
                d.digest,
                bytes.len(),
                d.size
            ),
        ));
    }
    let got = sha256(bytes);
    if got != d.digest {
        return Err(err(
            ErrorKind::Integrity,
            format!(
                "the {what} blob does not match its digest {} (its content hashes to {got}): tampered, refusing it",
                d.digest
            ),
        ));
    }
    Ok(())
}

/// The parts of a manifest an artifact is made of, checked for the Wasm layout.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub media_type: String,
    pub config: Descriptor,
    pub layer: Descriptor,
}

/// Whether a manifest document is an index (to pick a manifest from) rather than a manifest.
pub fn is_index(manifest: &Value, media_type_hint: &str) -> bool {
    let mt = manifest["mediaType"].as_str().unwrap_or(media_type_hint);
    INDEX_TYPES.contains(&mt)
        || (manifest.get("manifests").is_some() && manifest.get("layers").is_none())
}

/// Pick the Wasm manifest of an index: the only one, or the one for `wasm` / `wasi*`.
pub fn pick_from_index(index: &Value) -> Result<Descriptor, Error> {
    let entries = index["manifests"]
        .as_array()
        .ok_or_else(|| err(ErrorKind::Invalid, "the index has no manifests"))?;
    let wasm: Vec<&Value> = entries
        .iter()
        .filter(|m| {
            m["platform"]["architecture"] == "wasm"
                || m["platform"]["os"]
                    .as_str()
                    .is_some_and(|o| o.starts_with("wasi"))
        })
        .collect();
    let chosen = match (entries.len(), wasm.len()) {
        (1, _) => &entries[0],
        (_, 1) => wasm[0],
        (n, w) => {
            return Err(err(
                ErrorKind::NotWasm,
                format!(
                    "an index of {n} manifests, {w} of them for Wasm: give the manifest digest"
                ),
            ));
        }
    };
    descriptor(chosen, "manifest")
}

/// Check a manifest: a Wasm config type and exactly one Wasm layer.
pub fn parse_manifest(manifest: &Value, media_type_hint: &str) -> Result<Parsed, Error> {
    let media_type = manifest["mediaType"]
        .as_str()
        .unwrap_or(media_type_hint)
        .to_string();
    if !media_type.is_empty() && !MANIFEST_TYPES.contains(&media_type.as_str()) {
        return Err(err(
            ErrorKind::NotWasm,
            format!(
                "manifest media type {media_type:?} is not an image manifest ({})",
                MANIFEST_TYPES.join(", ")
            ),
        ));
    }
    let config = descriptor(&manifest["config"], "config")?;
    if !WASM_CONFIG_TYPES.contains(&config.media_type.as_str()) {
        return Err(err(
            ErrorKind::NotWasm,
            format!(
                "config media type {:?} is not a Wasm artifact's ({})",
                config.media_type,
                WASM_CONFIG_TYPES.join(", ")
            ),
        ));
    }
    let layers = manifest["layers"]
        .as_array()
        .ok_or_else(|| err(ErrorKind::Invalid, "the manifest has no layers"))?;
    let mut wasm = Vec::new();
    let mut types = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let d = descriptor(l, &format!("layer {i}"))?;
        types.push(d.media_type.clone());
        if WASM_LAYER_TYPES.contains(&d.media_type.as_str()) {
            wasm.push(d);
        }
    }
    match wasm.len() {
        1 => Ok(Parsed {
            media_type: if media_type.is_empty() {
                MANIFEST_TYPES[0].to_string()
            } else {
                media_type
            },
            config,
            layer: wasm.remove(0),
        }),
        0 => Err(err(
            ErrorKind::NotWasm,
            format!(
                "no Wasm layer (layer media types: {}; expected one of {})",
                if types.is_empty() {
                    "none".to_string()
                } else {
                    types.join(", ")
                },
                WASM_LAYER_TYPES.join(", ")
            ),
        )),
        n => Err(err(
            ErrorKind::NotWasm,
            format!(
                "{n} Wasm layers: a Wasm artifact has exactly one, refusing to guess which runs"
            ),
        )),
    }
}

/// Parse a JSON document read from an artifact, with what it is in the message.
pub fn json(bytes: &[u8], what: &str) -> Result<Value, Error> {
    serde_json::from_slice(bytes)
        .map_err(|e| err(ErrorKind::Invalid, format!("the {what} is not JSON: {e}")))
}

/// Findings from comparing the config with the decoded binary (`oci-config-mismatch`): the
/// config lists the component's imports and exports for schedulers and admission to read
/// without decoding; one that leaves out an import the component really has hides a
/// capability. Also a config whose `layerDigests` does not name the layer.
pub fn config_findings(a: &Artifact, analysis: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut finding = |message: String| {
        out.push(Finding {
            code: wasmcert_analyzer::findings::FindingCode::OciConfigMismatch,
            severity: wasmcert_analyzer::findings::FindingCode::OciConfigMismatch.severity(),
            unit: "/".into(),
            message,
            offset: None,
        });
    };
    if let Some(digests) = a.config["layerDigests"].as_array()
        && !digests
            .iter()
            .any(|d| d.as_str() == Some(&a.info.layer_digest))
    {
        finding(format!(
            "the OCI config's layerDigests do not name the Wasm layer {}",
            a.info.layer_digest
        ));
    }
    let component = &a.config["component"];
    if component.is_null() {
        return out;
    }
    let Some(root) = analysis.units.first() else {
        return out;
    };
    if analysis.subject.kind != wasmcert_analyzer::Kind::Component {
        finding(format!(
            "the OCI config describes a component, but the layer is a {}",
            analysis.subject.kind.as_str()
        ));
        return out;
    }
    let listed = |key: &str| -> Option<Vec<String>> {
        component[key].as_array().map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
    };
    if let Some(imports) = listed("imports") {
        for i in &root.imports {
            if !imports.contains(&i.name) {
                finding(format!(
                    "the component imports `{}`, which its OCI config does not list: the config hides it",
                    i.name
                ));
            }
        }
    }
    if let Some(exports) = listed("exports") {
        for e in &exports {
            if !root.exports.iter().any(|x| &x.name == e) {
                finding(format!(
                    "the OCI config lists export `{e}`, which the component does not export"
                ));
            }
        }
    }
    out
}

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Cap on the Wasm layer.
    pub max_layer: u64,
    /// Registries (`host:port`) spoken to over plain HTTP. Loopback registries always are, as
    /// Docker treats them.
    pub insecure: Vec<String>,
    /// Credentials by registry host, each sent only to its own host (see [`auth`]). `Err` when
    /// the configured credentials could not be read: every registry fetch then fails with
    /// that error rather than going on without them.
    pub credentials: Result<Credentials, Error>,
    /// Connect and read timeout of each request; also the time a manifest, config or token
    /// must arrive within (the layer gets ten times this).
    pub timeout: std::time::Duration,
}

impl Default for FetchOptions {
    /// From the environment: `WASMCERT_INSECURE_REGISTRIES`, and the credentials of
    /// [`Credentials::from_env`].
    fn default() -> Self {
        let insecure = std::env::var("WASMCERT_INSECURE_REGISTRIES")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        FetchOptions {
            max_layer: DEFAULT_MAX_LAYER,
            insecure,
            credentials: Credentials::from_env(None),
            timeout: std::time::Duration::from_secs(30),
        }
    }
}

impl Source {
    /// How the source is written on the command line.
    pub fn display(&self) -> String {
        match self {
            Source::Registry {
                registry,
                repository,
                tag,
                digest,
            } => format!(
                "oci://{registry}/{repository}{}{}",
                tag.as_ref().map_or(String::new(), |t| format!(":{t}")),
                digest.as_ref().map_or(String::new(), |d| format!("@{d}"))
            ),
            Source::Layout { dir, tag, digest } => format!(
                "oci-layout:{}{}{}",
                dir.display(),
                tag.as_ref().map_or(String::new(), |t| format!(":{t}")),
                digest.as_ref().map_or(String::new(), |d| format!("@{d}"))
            ),
        }
    }
}

/// Fetch and verify an artifact (blocking; a registry fetch runs on a private runtime). The
/// error does not repeat the reference: callers name it.
pub fn fetch_blocking(source: &Source, opts: &FetchOptions) -> Result<Artifact, Error> {
    match source {
        Source::Layout { .. } => layout::fetch(source, opts.max_layer),
        Source::Registry { .. } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| {
                    err(
                        ErrorKind::Io,
                        format!("cannot start the network runtime: {e}"),
                    )
                })?;
            rt.block_on(registry::fetch(source, opts))
        }
    }
}

/// Attach an artifact's facts to its analysis: the OCI identity and the config cross-check.
pub fn annotate(analysis: &mut Analysis, artifact: &Artifact) {
    analysis.oci = Some(artifact.info.clone());
    analysis
        .findings
        .extend(config_findings(artifact, analysis));
    wasmcert_analyzer::findings::sort(&mut analysis.findings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_or_say_why_not() {
        assert_eq!(parse("app.wasm"), None);
        let r = parse("oci://127.0.0.1:5000/wasm/hello:v1")
            .unwrap()
            .unwrap();
        assert_eq!(
            r,
            Source::Registry {
                registry: "127.0.0.1:5000".into(),
                repository: "wasm/hello".into(),
                tag: Some("v1".into()),
                digest: None
            }
        );
        let d = format!("sha256:{}", "ab".repeat(32));
        let r = parse(&format!("oci://ghcr.io/a/b@{d}")).unwrap().unwrap();
        assert!(matches!(
            r,
            Source::Registry {
                tag: None,
                digest: Some(_),
                ..
            }
        ));
        assert_eq!(r.display(), format!("oci://ghcr.io/a/b@{d}"));
        for good in [
            "oci://[::1]:5000/a:1",
            "oci://localhost/a:1",
            "oci://my_reg.example:443/a:1",
        ] {
            assert!(parse(good).unwrap().is_ok(), "{good}");
        }
        for bad in [
            "oci://ghcr.io",
            "oci://ghcr.io/a",
            "oci://ghcr.io/A:1",
            "oci://r/a@md5:12",
            "oci://r/a:",
            // The registry is exactly a host and port: what requests go to is what
            // credentials are matched against.
            "oci://r.example?x/a:1",
            "oci://r.example#x/a:1",
            "oci://r.ex ample/a:1",
            "oci://r.example:/a:1",
            "oci://r.example:99999/a:1",
            "oci://r.example:5000:1/a:1",
            "oci://[::1/a:1",
            "oci://[::1]5000/a:1",
            "oci://-r.example/a:1",
            "oci://r..example/a:1",
        ] {
            let e = parse(bad).unwrap().unwrap_err().to_string();
            assert!(e.starts_with(bad), "{e}");
        }
        let l = parse("oci-layout:/tmp/no-such-dir:v2").unwrap().unwrap();
        assert_eq!(
            l,
            Source::Layout {
                dir: "/tmp/no-such-dir".into(),
                tag: Some("v2".into()),
                digest: None
            }
        );
        let l = parse(&format!("oci-layout:dir@{d}")).unwrap().unwrap();
        assert!(matches!(
            l,
            Source::Layout {
                digest: Some(_),
                ..
            }
        ));
        assert!(parse("oci-layout:").unwrap().is_err());
    }

    fn manifest(config_type: &str, layers: &[&str]) -> Value {
        let d = |i: usize| format!("sha256:{}", format!("{i:02x}").repeat(32));
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": config_type, "digest": d(0), "size": 2 },
            "layers": layers.iter().enumerate().map(|(i, t)| serde_json::json!({
                "mediaType": t, "digest": d(i + 1), "size": 8
            })).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn manifests_must_be_wasm_artifacts_with_one_wasm_layer() {
        let ok =
            parse_manifest(&manifest(WASM_CONFIG_TYPES[0], &["application/wasm"]), "").unwrap();
        assert_eq!(ok.layer.media_type, "application/wasm");
        for legacy in WASM_LAYER_TYPES {
            assert!(parse_manifest(&manifest(WASM_CONFIG_TYPES[1], &[legacy]), "").is_ok());
        }
        // Other layers beside the Wasm one are ignored.
        assert!(
            parse_manifest(
                &manifest(WASM_CONFIG_TYPES[0], &["text/plain", "application/wasm"]),
                ""
            )
            .is_ok()
        );
        let two = parse_manifest(
            &manifest(
                WASM_CONFIG_TYPES[0],
                &["application/wasm", "application/wasm"],
            ),
            "",
        );
        let two = two.unwrap_err();
        assert!(two.message.contains("2 Wasm layers"));
        assert_eq!(two.kind, ErrorKind::NotWasm);
        let none = parse_manifest(&manifest(WASM_CONFIG_TYPES[0], &["text/plain"]), "");
        let none = none.unwrap_err();
        assert!(
            none.message
                .contains("no Wasm layer (layer media types: text/plain")
        );
        assert_eq!(none.kind, ErrorKind::NotWasm);
        let image = parse_manifest(
            &manifest(
                "application/vnd.oci.image.config.v1+json",
                &["application/wasm"],
            ),
            "",
        );
        let image = image.unwrap_err();
        assert!(image.message.contains("is not a Wasm artifact's"));
        assert_eq!(image.kind, ErrorKind::NotWasm);
        let mut bad = manifest(WASM_CONFIG_TYPES[0], &["application/wasm"]);
        bad["layers"][0]["digest"] = "sha512:00".into();
        let bad = parse_manifest(&bad, "").unwrap_err();
        assert!(bad.message.contains("only SHA-256"));
        assert_eq!(bad.kind, ErrorKind::Invalid);
    }

    #[test]
    fn blobs_are_checked_against_size_and_digest() {
        let b = b"\0asm\x01\0\0\0";
        let d = Descriptor {
            media_type: "application/wasm".into(),
            digest: sha256(b),
            size: 8,
        };
        assert!(verify_blob(b, &d, "layer").is_ok());
        let mut t = *b;
        t[7] = 1;
        let tampered = verify_blob(&t, &d, "layer").unwrap_err();
        assert!(tampered.message.contains("tampered"));
        assert_eq!(tampered.kind, ErrorKind::Integrity);
        let short = verify_blob(&b[..4], &d, "layer").unwrap_err();
        assert!(short.message.contains("4 bytes"));
        assert_eq!(short.kind, ErrorKind::Integrity);
    }
}
