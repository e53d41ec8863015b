//! Pulling Wasm artifacts from registries (OCI distribution API) with `oci-client`, verifying
//! every digest ourselves: the manifest against the pinned digest and the registry's claim, the
//! config and the layer against their descriptors. Blob reads are bounded as they stream.

use crate::{
    Artifact, Descriptor, Error, FetchOptions, INDEX_TYPES, MANIFEST_TYPES, MAX_CONFIG,
    MAX_MANIFEST, Source, err, is_index, json, parse_manifest, pick_from_index, sha256,
    verify_blob,
};
use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

/// Whether a registry host is on this machine (Docker speaks plain HTTP to those).
pub fn is_loopback(registry: &str) -> bool {
    let host = registry
        .strip_prefix('[')
        .and_then(|r| r.split_once(']').map(|(h, _)| h))
        .unwrap_or_else(|| registry.rsplit_once(':').map_or(registry, |(h, _)| h));
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// A client for `registry`, speaking HTTP to loopback and listed insecure registries.
pub fn client(registry: &str, opts: &FetchOptions) -> Client {
    let mut insecure = opts.insecure.clone();
    if is_loopback(registry) {
        insecure.push(registry.to_string());
    }
    Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(insecure),
        read_timeout: Some(opts.timeout),
        connect_timeout: Some(opts.timeout),
        ..ClientConfig::default()
    })
}

/// The crypto provider rustls uses (ring); installed once per process before any TLS use.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn auth(opts: &FetchOptions) -> RegistryAuth {
    match &opts.basic_auth {
        Some((u, p)) => RegistryAuth::Basic(u.clone(), p.clone()),
        None => RegistryAuth::Anonymous,
    }
}

fn reference(
    registry: &str,
    repository: &str,
    tag: &Option<String>,
    digest: &Option<String>,
) -> Result<Reference, Error> {
    let text = format!(
        "{registry}/{repository}{}{}",
        tag.as_ref().map_or(String::new(), |t| format!(":{t}")),
        digest.as_ref().map_or(String::new(), |d| format!("@{d}"))
    );
    text.parse::<Reference>()
        .map_err(|e| err(format!("{text} is not a valid reference: {e}")))
}

async fn manifest(
    c: &Client,
    r: &Reference,
    auth: &RegistryAuth,
    pinned: Option<&str>,
) -> Result<(Vec<u8>, String), Error> {
    let accepted: Vec<&str> = MANIFEST_TYPES.iter().chain(INDEX_TYPES).copied().collect();
    let (bytes, claimed) = c
        .pull_manifest_raw(r, auth, &accepted)
        .await
        .map_err(|e| err(format!("cannot pull the manifest: {e}")))?;
    if bytes.len() as u64 > MAX_MANIFEST {
        return Err(err(format!(
            "the manifest is {} bytes, more than {MAX_MANIFEST}",
            bytes.len()
        )));
    }
    let got = sha256(&bytes);
    if let Some(p) = pinned
        && p != got
    {
        return Err(err(format!(
            "the registry sent a manifest hashing to {got}, not the requested {p}: refusing it"
        )));
    }
    if !claimed.is_empty() && claimed != got {
        return Err(err(format!(
            "the registry claims manifest digest {claimed} but the bytes hash to {got}: refusing it"
        )));
    }
    Ok((bytes.to_vec(), got))
}

async fn blob(
    c: &Client,
    r: &Reference,
    d: &Descriptor,
    max: u64,
    what: &str,
) -> Result<Vec<u8>, Error> {
    if d.size > max {
        return Err(err(format!(
            "the {what} {} is {} bytes, more than the {max}-byte cap",
            d.digest, d.size
        )));
    }
    let desc = OciDescriptor {
        media_type: d.media_type.clone(),
        digest: d.digest.clone(),
        size: d.size as i64,
        ..OciDescriptor::default()
    };
    let mut s = c
        .pull_blob_stream(r, &desc)
        .await
        .map_err(|e| err(format!("cannot pull the {what} {}: {e}", d.digest)))?;
    if s.content_length.is_some_and(|n| n > max) {
        return Err(err(format!("the {what} is larger than the {max}-byte cap")));
    }
    let mut out = Vec::with_capacity(d.size.min(max) as usize);
    while let Some(chunk) = s.stream.next().await {
        let chunk = chunk.map_err(|e| {
            // oci-client checks the digest as the stream ends; say it the way we do.
            if e.to_string().to_ascii_lowercase().contains("digest") {
                err(format!(
                    "the {what} blob does not match its digest {} ({e}): tampered, refusing it",
                    d.digest
                ))
            } else {
                err(format!("reading the {what}: {e}"))
            }
        })?;
        if (out.len() + chunk.len()) as u64 > max.min(d.size.saturating_add(1)) {
            return Err(err(format!(
                "the {what} {} is longer than its descriptor's {} bytes: refusing it",
                d.digest, d.size
            )));
        }
        out.extend_from_slice(&chunk);
    }
    verify_blob(&out, d, what)?;
    Ok(out)
}

/// A registry source opened for requests: its parts, a client and the credentials.
struct Remote<'a> {
    registry: &'a str,
    repository: &'a str,
    digest: &'a Option<String>,
    client: Client,
    auth: RegistryAuth,
    reference: Reference,
}

impl<'a> Remote<'a> {
    fn open(source: &'a Source, opts: &FetchOptions) -> Result<Remote<'a>, Error> {
        let Source::Registry {
            registry,
            repository,
            tag,
            digest,
        } = source
        else {
            return Err(err("not a registry source"));
        };
        install_crypto_provider();
        Ok(Remote {
            registry,
            repository,
            digest,
            client: client(registry, opts),
            auth: auth(opts),
            reference: reference(registry, repository, tag, digest)?,
        })
    }
}

/// Fetch and verify the artifact a registry source names.
pub async fn fetch(source: &Source, opts: &FetchOptions) -> Result<Artifact, Error> {
    let Remote {
        registry,
        repository,
        digest,
        client: c,
        auth,
        reference: r,
    } = Remote::open(source, opts)?;
    let (mut bytes, mut mdigest) = manifest(&c, &r, &auth, digest.as_deref()).await?;
    let mut m = json(&bytes, "manifest")?;
    let mut mtype = String::new();
    if is_index(&m, "") {
        let d = pick_from_index(&m)?;
        let pinned = reference(registry, repository, &None, &Some(d.digest.clone()))?;
        (bytes, mdigest) = manifest(&c, &pinned, &auth, Some(&d.digest)).await?;
        m = json(&bytes, "manifest")?;
        mtype = d.media_type;
    }
    let parsed = parse_manifest(&m, &mtype)?;
    // Blobs are fetched by digest from the same repository.
    let by_digest = reference(registry, repository, &None, &Some(mdigest.clone()))?;
    let config_bytes = blob(&c, &by_digest, &parsed.config, MAX_CONFIG, "config").await?;
    let config = json(&config_bytes, "config")?;
    let wasm = blob(&c, &by_digest, &parsed.layer, opts.max_layer, "layer").await?;
    Ok(Artifact::new(
        source.display(),
        mdigest,
        parsed,
        config,
        wasm,
    ))
}

/// The one layer of `media_type` in the artifact a tag names (a signed analysis stored beside
/// an image, say), verified against its digest; `None` when the tag does not exist.
pub async fn fetch_single_layer(
    source: &Source,
    opts: &FetchOptions,
    media_type: &str,
) -> Result<Option<Vec<u8>>, Error> {
    let Remote {
        registry,
        repository,
        client: c,
        auth,
        reference: r,
        ..
    } = Remote::open(source, opts)?;
    let accepted: Vec<&str> = MANIFEST_TYPES.to_vec();
    let (bytes, claimed) = match c.pull_manifest_raw(&r, &auth, &accepted).await {
        Ok(x) => x,
        Err(oci_client::errors::OciDistributionError::ImageManifestNotFoundError(_)) => {
            return Ok(None);
        }
        Err(e) => {
            // A registry says "no such tag" as MANIFEST_UNKNOWN (OCI distribution spec).
            let text = e.to_string();
            let lower = text.to_ascii_lowercase();
            if ["manifest unknown", "manifest_unknown", "not found"]
                .iter()
                .any(|m| lower.contains(m))
            {
                return Ok(None);
            }
            return Err(err(format!("cannot pull the manifest: {text}")));
        }
    };
    if bytes.len() as u64 > MAX_MANIFEST || (!claimed.is_empty() && claimed != sha256(&bytes)) {
        return Err(err(
            "the registry sent a manifest that does not match its digest",
        ));
    }
    let m = json(&bytes, "manifest")?;
    let layers = m["layers"].as_array().cloned().unwrap_or_default();
    let found: Vec<&serde_json::Value> = layers
        .iter()
        .filter(|l| l["mediaType"] == media_type)
        .collect();
    let [layer] = found.as_slice() else {
        return Err(err(format!(
            "expected exactly one {media_type} layer, found {}",
            found.len()
        )));
    };
    let d = crate::descriptor(layer, "layer")?;
    let by_digest = reference(registry, repository, &None, &Some(sha256(&bytes)))?;
    Ok(Some(
        blob(&c, &by_digest, &d, MAX_CONFIG * 16, "layer").await?,
    ))
}

/// The digest a registry reference resolves to now (the webhook resolves tags before caching).
pub async fn resolve(source: &Source, opts: &FetchOptions) -> Result<String, Error> {
    if let Source::Registry {
        digest: Some(d), ..
    } = source
    {
        return Ok(d.clone());
    }
    let remote = Remote::open(source, opts)?;
    let (_, d) = manifest(&remote.client, &remote.reference, &remote.auth, None).await?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_registries() {
        for r in [
            "127.0.0.1:5000",
            "localhost:5000",
            "localhost",
            "[::1]:5000",
            "127.1.2.3",
        ] {
            assert!(super::is_loopback(r), "{r}");
        }
        for r in ["ghcr.io", "registry.example.com:5000", "10.0.0.1:5000"] {
            assert!(!super::is_loopback(r), "{r}");
        }
    }
}
