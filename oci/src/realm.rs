//! Where credentials may go: which registries are spoken to over plain HTTP (loopback and
//! listed insecure hosts), the `WWW-Authenticate` challenges a registry answers with, and
//! which token realm may receive which credentials (the rule [`crate::registry`]'s module
//! documentation states).

use crate::auth::{Credentials, Secret, host_key};
use crate::{Error, ErrorKind, err};
use reqwest::Url;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Whether a registry (`host`, `host:port`, `[v6]:port`) is on this machine, so spoken to over
/// plain HTTP as Docker does: `localhost`, or a host that parses as an IP address and is a
/// loopback one. A name that merely starts with `127.` (`127.attacker.example`) is not.
pub fn is_loopback(registry: &str) -> bool {
    let port_ok = |p: &str| p.is_empty() || (p.len() <= 5 && p.parse::<u16>().is_ok());
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return false;
        };
        match after.strip_prefix(':') {
            Some(p) if !p.is_empty() => (h, p),
            Some(_) => return false,
            None if after.is_empty() => (h, ""),
            None => return false,
        }
    } else if registry.matches(':').count() > 1 {
        // A bare IPv6 address (no port can be written without brackets).
        (registry, "")
    } else {
        match registry.split_once(':') {
            Some((_, "")) => return false,
            Some((h, p)) => (h, p),
            None => (registry, ""),
        }
    };
    if !port_ok(port) {
        return false;
    }
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Whether `registry` is spoken to over plain HTTP: loopback, or listed as insecure.
pub(crate) fn plain_http(registry: &str, insecure: &[String]) -> bool {
    is_loopback(registry) || insecure.iter().any(|i| i.eq_ignore_ascii_case(registry))
}

/// `host[:port]` of a URL, the way references and auth files write it.
pub(crate) fn authority(u: &Url) -> String {
    let host = u.host_str().unwrap_or("");
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// Whether two URLs are the same origin: scheme, host and port.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The credentials a token `realm` may receive when `registry` (reached at `base`) sends us
/// there: `Ok(Some)` to send, `Ok(None)` to ask anonymously, `Err` when the registry has
/// credentials that the realm may not have (sending them would leak them, asking anonymously
/// would hide why the pull fails).
///
/// - the realm must be HTTPS, or plain HTTP on a loopback or listed insecure host;
/// - on the registry's own host over HTTPS, or at the registry's own plain-HTTP origin, it
///   gets the registry's credentials (Docker Hub's `auth.docker.io` counts as Docker Hub's);
/// - on another host over HTTPS, it gets the credentials configured for that host, if any;
/// - anywhere else, with credentials configured for the registry, the pull fails.
pub fn realm_credentials<'c>(
    registry: &str,
    base: &Url,
    realm: &Url,
    creds: &'c Credentials,
    insecure: &[String],
) -> Result<Option<&'c Secret>, Error> {
    let realm_host = authority(realm);
    match realm.scheme() {
        "https" => {}
        "http" if plain_http(&realm_host, insecure) => {}
        "http" => {
            return Err(err(
                ErrorKind::Unauthorized,
                format!(
                    "the registry {registry} sends us for a token to {realm}, over plain HTTP: \
                 refusing (a token realm must be HTTPS)"
                ),
            ));
        }
        s => {
            return Err(err(
                ErrorKind::Unauthorized,
                format!("the registry {registry} names a token realm with scheme {s:?}: refusing"),
            ));
        }
    }
    let own = creds.for_host(registry);
    let same_host = realm.host_str().map(str::to_ascii_lowercase)
        == base.host_str().map(str::to_ascii_lowercase)
        && realm.port_or_known_default() == base.port_or_known_default();
    let docker_hub = host_key(registry) == "docker.io"
        && realm.scheme() == "https"
        && realm.host_str() == Some("auth.docker.io")
        && realm.port_or_known_default() == Some(443);
    if (same_host && (realm.scheme() == "https" || same_origin(realm, base))) || docker_hub {
        return Ok(own);
    }
    if realm.scheme() == "https"
        && let Some(theirs) = creds.for_host(&realm_host)
    {
        return Ok(Some(theirs));
    }
    if own.is_some() {
        return Err(err(
            ErrorKind::Unauthorized,
            format!(
                "the registry {registry} sends us for a token to {realm}, which is {}: the \
             credentials configured for {registry} are only ever sent to {registry}, so \
             refusing to pull (to trust that token service, configure credentials for {realm_host} \
             as well; see docs/oci.md#credentials)",
                if same_host {
                    "not HTTPS".to_string()
                } else {
                    format!("another host ({realm_host})")
                }
            ),
        ));
    }
    Ok(None)
}

/// One `WWW-Authenticate` challenge: the scheme (lower case) and its parameters.
pub(crate) fn parse_challenge(v: &str) -> Option<(String, BTreeMap<String, String>)> {
    let v = v.trim();
    let (scheme, mut rest) = v.split_once(char::is_whitespace).unwrap_or((v, ""));
    let mut params = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &q[end?..])
        } else {
            let (v, n) = after.split_once(',').unwrap_or((after, ""));
            (v.trim().to_string(), n)
        };
        params.insert(key.trim().to_ascii_lowercase(), value);
        rest = next;
    }
    Some((scheme.to_ascii_lowercase(), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_an_ip_address_or_localhost_not_a_prefix() {
        for r in [
            "127.0.0.1:5000",
            "127.0.0.1",
            "127.1.2.3",
            "127.255.255.254:1",
            "localhost:5000",
            "localhost",
            "LocalHost:5000",
            "[::1]:5000",
            "[::1]",
            "::1",
            "[::ffff:127.0.0.1]:5000",
        ] {
            assert!(is_loopback(r), "{r} is loopback");
        }
        for r in [
            "ghcr.io",
            "registry.example.com:5000",
            "10.0.0.1:5000",
            "127.attacker.example",
            "127.attacker.example:5000",
            "127.0.0.1.nip.io:5000",
            "localhost.attacker.example",
            "localhost.:5000",
            "127.1",
            "0x7f.0.0.1",
            "[::2]:5000",
            "[::1]x",
            "[::1]:",
            "[::1",
            "localhost:",
            "localhost:http",
            "localhost:99999",
            "127.0.0.1:5000:1",
            "",
        ] {
            assert!(!is_loopback(r), "{r} is not loopback");
        }
    }

    #[test]
    fn challenges_parse() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        )
        .unwrap();
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull");
        let (s, p) = parse_challenge(r#"Basic realm="a \"quoted\", realm""#).unwrap();
        assert_eq!(s, "basic");
        assert_eq!(p["realm"], r#"a "quoted", realm"#);
        let (_, p) = parse_challenge("Bearer realm=https://x/t, service=y").unwrap();
        assert_eq!(
            (p["realm"].as_str(), p["service"].as_str()),
            ("https://x/t", "y")
        );
        assert!(parse_challenge(r#"Bearer realm="unterminated"#).is_none());
    }

    #[test]
    fn credentials_reach_a_token_realm_only_on_the_registry_host() {
        let mut c = Credentials::none();
        c.insert("registry.example", "u", "p");
        c.insert("127.0.0.1:5000", "local", "p");
        c.insert("auth.other.example", "o", "p");
        c.insert("docker.io", "hub", "p");
        let url = |s: &str| Url::parse(s).unwrap();
        let reg = url("https://registry.example/");
        let who = |registry: &str, base: &Url, realm: &str| {
            realm_credentials(registry, base, &url(realm), &c, &[])
                .map(|s| s.map(|s| s.username.clone()))
        };
        // Same host over HTTPS: the registry's credentials.
        assert_eq!(
            who("registry.example", &reg, "https://registry.example/token").unwrap(),
            Some("u".into())
        );
        assert_eq!(
            who("registry.example", &reg, "https://REGISTRY.example:443/t").unwrap(),
            Some("u".into())
        );
        // Another host, or another port, or plain HTTP: never the registry's credentials.
        for realm in [
            "https://auth.registry.example/token",
            "https://registry.example:8443/token",
            "https://registry.example.attacker.example/token",
            "http://registry.example/token",
            "http://127.0.0.2:5001/token",
            "ftp://registry.example/token",
        ] {
            let e = who("registry.example", &reg, realm).unwrap_err();
            assert!(e.message.contains("refusing"), "{realm}: {e}");
        }
        // Another host that has credentials of its own gets those, over HTTPS only.
        assert_eq!(
            who("registry.example", &reg, "https://auth.other.example/t").unwrap(),
            Some("o".into())
        );
        // A registry without credentials asks any HTTPS realm anonymously.
        let anon = url("https://anon.example/");
        assert_eq!(
            who("anon.example", &anon, "https://elsewhere.example/t").unwrap(),
            None
        );
        assert!(who("anon.example", &anon, "http://elsewhere.example/t").is_err());
        // A loopback registry's own plain-HTTP origin is where its credentials already go.
        let local = url("http://127.0.0.1:5000/");
        assert_eq!(
            who("127.0.0.1:5000", &local, "http://127.0.0.1:5000/token").unwrap(),
            Some("local".into())
        );
        assert!(who("127.0.0.1:5000", &local, "http://127.0.0.1:5001/token").is_err());
        assert!(who("127.0.0.1:5000", &local, "http://127.0.0.2:5000/token").is_err());
        assert!(who("127.0.0.1:5000", &local, "http://localhost:5000/token").is_err());
        // Docker Hub's token service is Docker Hub's.
        let hub = url("https://registry-1.docker.io/");
        assert_eq!(
            who("docker.io", &hub, "https://auth.docker.io/token").unwrap(),
            Some("hub".into())
        );
        assert!(who("docker.io", &hub, "http://auth.docker.io/token").is_err());
    }
}
