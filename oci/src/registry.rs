//! Pulling Wasm artifacts from registries (OCI distribution API) over reqwest + rustls (ring),
//! verifying every digest ourselves: the manifest against the pinned digest and the registry's
//! claim, the config and the layer against their descriptors.
//!
//! The requests are ours, not a registry client library's, because two things must hold for
//! every byte and every header a hostile registry (named by any pod or argument) can make us
//! handle:
//!
//! - **Every body is read as a stream against a cap** (manifests [`MAX_MANIFEST`], configs
//!   [`MAX_CONFIG`], the layer its descriptor's size, tokens [`MAX_TOKEN`], error bodies
//!   [`MAX_ERROR_BODY`]); a declared `Content-Length` over the cap is refused before reading,
//!   and a manifest, config or token must arrive within the request timeout.
//! - **Credentials go only where they were configured** ([`crate::auth`]): Basic credentials
//!   to the registry host they are for, and to a token realm only on that same host over
//!   HTTPS (or over the registry's own plain-HTTP origin, for loopback and listed insecure
//!   registries). A realm elsewhere gets that host's own configured credentials, if any;
//!   otherwise, when the registry has credentials, the pull fails rather than leak them or
//!   silently go anonymous. Redirects drop `Authorization` when they leave the origin
//!   (reqwest) and may not downgrade HTTPS to HTTP.

use crate::auth::{Credentials, Secret, host_key};
use crate::realm::{authority, parse_challenge, plain_http};
pub use crate::realm::{is_loopback, realm_credentials};
use crate::{
    Artifact, Descriptor, Error, ErrorKind, FetchOptions, INDEX_TYPES, MANIFEST_TYPES, MAX_CONFIG,
    MAX_MANIFEST, Source, err, is_index, json, parse_manifest, pick_from_index, sha256,
    verify_blob,
};
use base64::Engine;
use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use std::collections::BTreeMap;
use std::time::Duration;

/// Token responses larger than this are refused: a registry token is a JWT of a few KiB.
pub const MAX_TOKEN: u64 = 256 << 10;
/// Of an error response, at most this much is read (it only goes into a message).
pub const MAX_ERROR_BODY: u64 = 4 << 10;
/// Redirects followed per request: blob stores redirect once, to a CDN.
const MAX_REDIRECTS: usize = 5;
/// The layer (up to 256 MiB) may take this many request timeouts in all; manifests, configs
/// and tokens must arrive within one.
const LAYER_TIMEOUTS: u32 = 10;
/// Signed analyses stored beside an artifact are read up to this size.
const MAX_ATTESTATION: u64 = MAX_CONFIG * 16;

/// The crypto provider rustls uses (ring); installed once per process before any TLS use.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A failed request: out of time, or no connection.
fn transport(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    }
}

/// An error's message with its causes (reqwest puts the useful part in the sources).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Read a body as a stream, refusing a declared or actual length over `max` (`limit` says
/// what `max` is, for the message).
async fn read_capped(
    mut res: reqwest::Response,
    max: u64,
    what: &str,
    limit: &str,
) -> Result<Vec<u8>, Error> {
    if let Some(n) = res.content_length()
        && n > max
    {
        return Err(err(
            ErrorKind::TooLarge,
            format!(
                "the registry declares a {n}-byte {what}, over {limit}: refusing it before reading"
            ),
        ));
    }
    // The declared length is only a hint: preallocate little, grow as bytes arrive.
    let mut out =
        Vec::with_capacity(res.content_length().unwrap_or(0).min(max).min(1 << 20) as usize);
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| err(transport(&e), format!("reading the {what}: {}", chain(&e))))?
    {
        if (out.len() + chunk.len()) as u64 > max {
            return Err(err(
                ErrorKind::TooLarge,
                format!("the registry sent a {what} longer than {limit}: refusing it"),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The start of an error body, for a message: bounded, one line, printable.
async fn error_text(mut res: reqwest::Response) -> String {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        out.extend_from_slice(&chunk);
        if out.len() as u64 >= MAX_ERROR_BODY {
            break;
        }
    }
    out.truncate(MAX_ERROR_BODY as usize);
    let text: String = String::from_utf8_lossy(&out)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    text.trim().to_string()
}

/// What a GET found.
enum Got {
    Body {
        bytes: Vec<u8>,
        /// `Docker-Content-Digest`, when the registry sent one.
        claimed: Option<String>,
    },
    NotFound(String),
}

/// A registry source opened for requests: the HTTP client, where the registry is, the
/// credentials, and the authorization earned from its challenge.
struct Remote<'a> {
    registry: &'a str,
    repository: &'a str,
    digest: &'a Option<String>,
    tag: &'a Option<String>,
    opts: &'a FetchOptions,
    creds: &'a Credentials,
    http: reqwest::Client,
    base: Url,
    /// Sent to the registry's origin only (reqwest drops it on a redirect elsewhere).
    authorization: Option<HeaderValue>,
}

fn basic(s: &Secret) -> Result<HeaderValue, Error> {
    let b64 =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.username, s.password));
    let mut v = HeaderValue::from_str(&format!("Basic {b64}")).map_err(|_| {
        err(
            ErrorKind::Unauthorized,
            "the configured credentials do not fit in a header",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

impl<'a> Remote<'a> {
    fn open(source: &'a Source, opts: &'a FetchOptions) -> Result<Remote<'a>, Error> {
        let Source::Registry {
            registry,
            repository,
            tag,
            digest,
        } = source
        else {
            return Err(err(ErrorKind::Invalid, "not a registry source"));
        };
        let creds = opts.credentials.as_ref().map_err(|e| {
            err(
                ErrorKind::Unauthorized,
                format!("registry credentials: {e}"),
            )
        })?;
        install_crypto_provider();
        let scheme = if plain_http(registry, &opts.insecure) {
            "http"
        } else {
            "https"
        };
        // Docker Hub's API lives on registry-1.docker.io.
        let host = if host_key(registry) == "docker.io" {
            "registry-1.docker.io"
        } else {
            registry.as_str()
        };
        let base = Url::parse(&format!("{scheme}://{host}/")).map_err(|e| {
            err(
                ErrorKind::Invalid,
                format!("{registry} is not a registry host: {e}"),
            )
        })?;
        let redirects = reqwest::redirect::Policy::custom(|a| {
            if a.previous().len() > MAX_REDIRECTS {
                a.error("too many redirects")
            } else if a.previous().last().is_some_and(|p| p.scheme() == "https")
                && a.url().scheme() != "https"
            {
                a.error("a redirect from HTTPS to plain HTTP")
            } else {
                a.follow()
            }
        });
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .connect_timeout(opts.timeout)
            .read_timeout(opts.timeout)
            .redirect(redirects)
            .user_agent(concat!("wasmcert/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| err(ErrorKind::Io, format!("cannot set up HTTPS: {}", chain(&e))))?;
        Ok(Remote {
            registry,
            repository,
            digest,
            tag,
            opts,
            creds,
            http,
            base,
            authorization: None,
        })
    }

    /// GET `path` (under the registry's `/v2/<repository>/`), answering one auth challenge,
    /// the body capped at `max` and the whole exchange at `deadline`.
    async fn get(
        &mut self,
        path: &str,
        accept: &[&str],
        max: u64,
        limit: &str,
        deadline: Duration,
        what: &str,
    ) -> Result<Got, Error> {
        let url = self
            .base
            .join(&format!("v2/{}/{path}", self.repository))
            .map_err(|e| {
                err(
                    ErrorKind::Invalid,
                    format!("cannot make a URL for {path}: {e}"),
                )
            })?;
        let registry = self.registry;
        let work = async {
            let mut challenged = false;
            loop {
                let mut req = self.http.get(url.clone());
                if !accept.is_empty() {
                    req = req.header(ACCEPT, accept.join(", "));
                }
                if let Some(a) = &self.authorization {
                    req = req.header(AUTHORIZATION, a.clone());
                }
                let res = req.send().await.map_err(|e| {
                    err(
                        transport(&e),
                        format!("cannot reach {registry}: {}", chain(&e)),
                    )
                })?;
                let status = res.status();
                if status == reqwest::StatusCode::UNAUTHORIZED && !challenged {
                    challenged = true;
                    let headers = res.headers().clone();
                    drop(res);
                    self.authenticate(&headers).await?;
                    continue;
                }
                if status == reqwest::StatusCode::UNAUTHORIZED {
                    return Err(err(
                        ErrorKind::Unauthorized,
                        format!(
                            "the registry {registry} refused access (401){}",
                            if self.creds.for_host(registry).is_some() {
                                format!(" with the credentials configured for {registry}")
                            } else {
                                String::new()
                            }
                        ),
                    ));
                }
                if status == reqwest::StatusCode::NOT_FOUND {
                    return Ok(Got::NotFound(error_text(res).await));
                }
                if !status.is_success() {
                    let text = error_text(res).await;
                    return Err(err(
                        ErrorKind::Status,
                        format!("the registry answered {status}: {text}"),
                    ));
                }
                let claimed = res
                    .headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let bytes = read_capped(res, max, what, limit).await?;
                return Ok(Got::Body { bytes, claimed });
            }
        };
        tokio::time::timeout(deadline, work).await.map_err(|_| {
            err(
                ErrorKind::Timeout,
                format!(
                    "the registry did not send the {what} within {} s: giving up",
                    deadline.as_secs()
                ),
            )
        })?
    }

    /// Answer a 401: Basic credentials for this registry, or a token from its realm (under
    /// the rules of [`realm_credentials`]).
    async fn authenticate(&mut self, headers: &HeaderMap) -> Result<(), Error> {
        let challenges: Vec<(String, BTreeMap<String, String>)> = headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(parse_challenge)
            .collect();
        let registry = self.registry;
        if let Some((_, params)) = challenges.iter().find(|(s, _)| s == "bearer") {
            let realm_text = params.get("realm").ok_or_else(|| {
                err(
                    ErrorKind::Unauthorized,
                    format!("the registry {registry} asks for a token without naming a realm"),
                )
            })?;
            let mut realm = Url::parse(realm_text).map_err(|e| {
                err(ErrorKind::Unauthorized, format!(
                    "the registry {registry} names a token realm {realm_text:?} that is not a URL: {e}"
                ))
            })?;
            let secret = realm_credentials(
                registry,
                &self.base,
                &realm,
                self.creds,
                &self.opts.insecure,
            )?;
            {
                let mut q = realm.query_pairs_mut();
                q.append_pair("scope", &format!("repository:{}:pull", self.repository));
                if let Some(s) = params.get("service") {
                    q.append_pair("service", s);
                }
            }
            let mut req = self.http.get(realm.clone());
            if let Some(s) = secret {
                req = req.header(AUTHORIZATION, basic(s)?);
            }
            let res = req.send().await.map_err(|e| {
                let kind = match transport(&e) {
                    ErrorKind::Timeout => ErrorKind::Timeout,
                    _ => ErrorKind::Unauthorized,
                };
                err(
                    kind,
                    format!(
                        "cannot reach the token service {}: {}",
                        authority(&realm),
                        chain(&e)
                    ),
                )
            })?;
            let status = res.status();
            if !status.is_success() {
                let text = error_text(res).await;
                return Err(err(
                    ErrorKind::Unauthorized,
                    format!(
                        "the token service {} answered {status}: {text}",
                        authority(&realm)
                    ),
                ));
            }
            let body = read_capped(
                res,
                MAX_TOKEN,
                "token response",
                &format!("the {MAX_TOKEN}-byte cap"),
            )
            .await?;
            let v = json(&body, "token response").map_err(|e| Error {
                kind: ErrorKind::Unauthorized,
                ..e
            })?;
            let token = v["token"]
                .as_str()
                .or(v["access_token"].as_str())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| err(ErrorKind::Unauthorized, "the token response has no token"))?;
            let mut h = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                err(
                    ErrorKind::Unauthorized,
                    "the token service sent a token that is not a header value",
                )
            })?;
            h.set_sensitive(true);
            self.authorization = Some(h);
            return Ok(());
        }
        if challenges.iter().any(|(s, _)| s == "basic") {
            let s = self.creds.for_host(registry).ok_or_else(|| {
                err(
                    ErrorKind::Unauthorized,
                    format!(
                        "the registry {registry} requires credentials and none are configured for \
                     it (docs/oci.md#credentials)"
                    ),
                )
            })?;
            self.authorization = Some(basic(s)?);
            return Ok(());
        }
        Err(err(
            ErrorKind::Unauthorized,
            format!("the registry {registry} answered 401 without a Bearer or Basic challenge"),
        ))
    }

    /// The manifest `reference` (tag or digest) names, checked against `pinned` and the
    /// registry's claim. `Ok(None)` when the registry does not have it.
    async fn try_manifest(
        &mut self,
        reference: &str,
        accepted: &[&str],
        pinned: Option<&str>,
    ) -> Result<Option<(Vec<u8>, String)>, Error> {
        let got = self
            .get(
                &format!("manifests/{reference}"),
                accepted,
                MAX_MANIFEST,
                &format!("the {MAX_MANIFEST}-byte manifest cap"),
                self.opts.timeout,
                "manifest",
            )
            .await?;
        let (bytes, claimed) = match got {
            Got::Body { bytes, claimed } => (bytes, claimed),
            Got::NotFound(_) => return Ok(None),
        };
        let got = sha256(&bytes);
        if let Some(p) = pinned
            && p != got
        {
            return Err(err(
                ErrorKind::Integrity,
                format!(
                    "the registry sent a manifest hashing to {got}, not the requested {p}: refusing it"
                ),
            ));
        }
        if let Some(c) = claimed
            && c.starts_with("sha256:")
            && c != got
        {
            return Err(err(
                ErrorKind::Integrity,
                format!(
                    "the registry claims manifest digest {c} but the bytes hash to {got}: refusing it"
                ),
            ));
        }
        Ok(Some((bytes, got)))
    }

    async fn manifest(
        &mut self,
        reference: &str,
        pinned: Option<&str>,
    ) -> Result<(Vec<u8>, String), Error> {
        let accepted: Vec<&str> = MANIFEST_TYPES.iter().chain(INDEX_TYPES).copied().collect();
        self.try_manifest(reference, &accepted, pinned)
            .await
            .map_err(|e| e.context("cannot pull the manifest"))?
            .ok_or_else(|| {
                err(
                    ErrorKind::NotFound,
                    format!(
                        "cannot pull the manifest: {reference} is not in {}/{} (404)",
                        self.registry, self.repository
                    ),
                )
            })
    }

    /// The reference the source names: its digest, else its tag.
    fn reference(&self) -> Result<&'a str, Error> {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .ok_or_else(|| err(ErrorKind::Invalid, "give a tag or a digest"))
    }

    async fn blob(&mut self, d: &Descriptor, max: u64, what: &str) -> Result<Vec<u8>, Error> {
        if d.size > max {
            return Err(err(
                ErrorKind::TooLarge,
                format!(
                    "the {what} {} is {} bytes, more than the {max}-byte cap",
                    d.digest, d.size
                ),
            ));
        }
        let deadline = if what == "layer" {
            self.opts.timeout * LAYER_TIMEOUTS
        } else {
            self.opts.timeout
        };
        let got = self
            .get(
                &format!("blobs/{}", d.digest),
                &[],
                d.size,
                &format!("its descriptor's {} bytes", d.size),
                deadline,
                what,
            )
            .await
            .map_err(|e| e.context(format_args!("cannot pull the {what} {}", d.digest)))?;
        let bytes = match got {
            Got::Body { bytes, .. } => bytes,
            Got::NotFound(text) => {
                return Err(err(
                    ErrorKind::NotFound,
                    format!(
                        "cannot pull the {what} {}: not found (404) {text}",
                        d.digest
                    ),
                ));
            }
        };
        verify_blob(&bytes, d, what)?;
        Ok(bytes)
    }
}

/// Fetch and verify the artifact a registry source names.
pub async fn fetch(source: &Source, opts: &FetchOptions) -> Result<Artifact, Error> {
    let mut remote = Remote::open(source, opts)?;
    let reference = remote.reference()?;
    let (mut bytes, mut mdigest) = remote.manifest(reference, remote.digest.as_deref()).await?;
    let mut m = json(&bytes, "manifest")?;
    let mut mtype = String::new();
    if is_index(&m, "") {
        let d = pick_from_index(&m)?;
        (bytes, mdigest) = remote.manifest(&d.digest, Some(&d.digest)).await?;
        m = json(&bytes, "manifest")?;
        mtype = d.media_type;
    }
    let parsed = parse_manifest(&m, &mtype)?;
    let config_bytes = remote.blob(&parsed.config, MAX_CONFIG, "config").await?;
    let config = json(&config_bytes, "config")?;
    let wasm = remote.blob(&parsed.layer, opts.max_layer, "layer").await?;
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
    let mut remote = Remote::open(source, opts)?;
    let reference = remote.reference()?;
    let Some((bytes, _)) = remote
        .try_manifest(reference, MANIFEST_TYPES, remote.digest.as_deref())
        .await
        .map_err(|e| e.context("cannot pull the manifest"))?
    else {
        return Ok(None);
    };
    let m = json(&bytes, "manifest")?;
    let layers = m["layers"].as_array().cloned().unwrap_or_default();
    let found: Vec<&serde_json::Value> = layers
        .iter()
        .filter(|l| l["mediaType"] == media_type)
        .collect();
    let [layer] = found.as_slice() else {
        return Err(err(
            ErrorKind::Invalid,
            format!(
                "expected exactly one {media_type} layer, found {}",
                found.len()
            ),
        ));
    };
    let d = crate::descriptor(layer, "layer")?;
    Ok(Some(remote.blob(&d, MAX_ATTESTATION, "attestation").await?))
}

/// The digest a registry reference resolves to now (the webhook resolves tags before caching).
pub async fn resolve(source: &Source, opts: &FetchOptions) -> Result<String, Error> {
    if let Source::Registry {
        digest: Some(d), ..
    } = source
    {
        return Ok(d.clone());
    }
    let mut remote = Remote::open(source, opts)?;
    let reference = remote.reference()?;
    let (_, d) = remote.manifest(reference, None).await?;
    Ok(d)
}
