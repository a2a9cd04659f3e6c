//! Image references, parsed and normalised the way go-containerregistry's `pkg/name` does it
//! (what cosign, crane and Kyverno use), so that `docker-reference` in a payload is byte-equal to
//! what `cosign generate` writes.
//!
//! ```text
//! ubuntu                         -> index.docker.io/library/ubuntu:latest
//! docker.io/foo/bar:1            -> index.docker.io/foo/bar:1
//! localhost/app@sha256:...       -> localhost/app@sha256:...      ("localhost" is a registry)
//! 127.0.0.1:5000/a/b:t@sha256:.. -> 127.0.0.1:5000/a/b@sha256:... (the tag is dropped)
//! ```
//!
//! The first path component is the registry when it is `localhost` or contains `.` or `:`;
//! otherwise the registry is Docker Hub (`index.docker.io`), where single-component names get the
//! `library/` namespace. Repositories are 1–255 characters of `a-z 0-9 _ - . /` (go-containerregistry
//! 0.22; cosign v3.1.3 still builds with 0.21, which wants at least 2), tags 1–128 of
//! `A-Z a-z 0-9 _ - .`, and digests exactly `sha256:` + 64 lowercase hex digits.

use core::fmt;
use core::str::FromStr;
use std::net::Ipv4Addr;

use crate::error::ReferenceError;

/// Docker Hub's registry host, as go-containerregistry names it.
pub const DOCKER_HUB: &str = "index.docker.io";
const DOCKER_HUB_ALIAS: &str = "docker.io";
const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";
const TAG_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";

pub use sig_core::oci::Digest;

/// The tag cosign stores the signatures of an image under: `sha256-<hex>.sig`.
pub trait SignatureTag {
    /// `sha256-<hex>.sig` for this image digest.
    fn signature_tag(&self) -> String;
}

impl SignatureTag for Digest {
    fn signature_tag(&self) -> String {
        format!("sha256-{}.{}", self.hex(), crate::media_type::SIGNATURE_TAG_SUFFIX)
    }
}

impl From<sig_core::oci::DigestError> for ReferenceError {
    fn from(e: sig_core::oci::DigestError) -> Self {
        Self::Digest { digest: e.digest, reason: e.reason }
    }
}

/// A repository in a registry, normalised (`index.docker.io/library/ubuntu`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Repository {
    registry: String,
    path: String,
}

impl Repository {
    /// Parses `[registry/]path` with go-containerregistry's rules.
    ///
    /// # Errors
    ///
    /// [`ReferenceError::Repository`] or [`ReferenceError::Registry`] when a part is invalid.
    pub fn parse(name: &str) -> Result<Self, ReferenceError> {
        if name.is_empty() {
            return Err(ReferenceError::Repository {
                repository: String::new(),
                reason: "a repository name must be specified".into(),
            });
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first == "localhost" || first.contains(['.', ':']) => {
                (first, rest)
            }
            _ => ("", name),
        };
        check_element("repository", path, REPOSITORY_CHARS, 1, 255)
            .map_err(|reason| ReferenceError::Repository { repository: path.to_owned(), reason })?;
        check_registry(registry)?;
        let registry = match registry {
            "" | DOCKER_HUB_ALIAS => DOCKER_HUB,
            other => other,
        };
        let path = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(Self { registry: registry.to_owned(), path })
    }

    /// The registry host (and port), e.g. `127.0.0.1:5000` or `index.docker.io`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry, e.g. `library/ubuntu`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `registry/path`: go-containerregistry's `Repository.Name()`, cosign's `docker-reference`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }

    /// Whether go-containerregistry may talk plain HTTP to this registry without being told to:
    /// `localhost:PORT`, `*.localhost`, `127.0.0.1`, `::1`, `*.local` and RFC 1918 addresses
    /// (see [`transport_policy`] for what cosign-compat does).
    pub fn is_local(&self) -> bool {
        registry_is_local(&self.registry)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

/// Whether go-containerregistry may use plain HTTP for `registry` without being told to
/// (`pkg/name/registry.go Scheme`): a loopback registry ([`registry_is_loopback`]) or a private
/// one ([`registry_is_private`]). cosign-compat speaks HTTP to the first directly and to the
/// second only when HTTPS fails ([`transport_policy`]).
pub fn registry_is_local(registry: &str) -> bool {
    registry_is_loopback(registry) || registry_is_private(registry)
}

/// A registry on this host: `localhost:PORT`, `*.localhost[:PORT]`, `127.0.0.1[:PORT]`, `::1`,
/// `[::1][:PORT]` (go-containerregistry's loopback forms, matched exactly).
pub fn registry_is_loopback(registry: &str) -> bool {
    // `name` optionally followed by `:PORT` (1–5 digits).
    let with_port = |name: &str| {
        registry.strip_prefix(name).is_some_and(|rest| rest.is_empty() || is_port_suffix(rest))
    };
    registry.starts_with("localhost:")
        || registry
            .rsplit_once(".localhost")
            .is_some_and(|(_, rest)| rest.is_empty() || is_port_suffix(rest))
        || with_port("127.0.0.1")
        || registry == "::1"
        || with_port("[::1]")
}

/// A registry on the local network: an RFC 1918 address (`10/8`, `172.16/12`, `192.168/16`) or
/// an mDNS name (`*.local[:PORT]`), optionally with a port, as go-containerregistry's `Scheme`
/// recognises them.
pub fn registry_is_private(registry: &str) -> bool {
    let host = registry.split(':').next().unwrap_or_default();
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_private())
        || registry.rsplit_once(".local").is_some_and(|(name, rest)| {
            !name.is_empty() && (rest.is_empty() || is_port_suffix(rest))
        })
}

/// Which schemes are tried for a registry, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// HTTPS only: every public registry.
    Https,
    /// HTTPS, then plain HTTP when no TLS connection can be made (nothing listens for HTTPS,
    /// or what answers does not speak TLS); an untrusted certificate is an error, not a reason
    /// to go plain. go-containerregistry's `ping` does this for the registries its `Scheme`
    /// calls insecure.
    HttpsThenHttp,
    /// Plain HTTP only: a loopback registry.
    Http,
}

/// How cosign-compat talks to a registry: [`transport_policy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportPolicy {
    /// The schemes tried.
    pub transport: Transport,
    /// Whether docker-config credentials and bearer tokens may be sent when the registry is
    /// reached over plain HTTP.
    pub credentials_over_http: bool,
}

/// The transport for `registry` (`host[:port]`), with `allow_http` for `--allow-http-registry`:
///
/// ```text
/// registry                               transport        credentials over HTTP
/// loopback (127.0.0.1, localhost:5000)   HTTP             only with allow_http
/// private (10.1.2.3:5000, nas.local)     HTTPS then HTTP  only with allow_http
/// any other, allow_http                  HTTPS then HTTP  yes
/// any other                              HTTPS            (never plain)
/// ```
///
/// go-containerregistry (cosign) also sends credentials in clear to the registries it reaches
/// over HTTP; cosign-compat does so only when told, since whatever answers on a LAN address
/// (or on a loopback port another user opened first) would get them.
pub fn transport_policy(registry: &str, allow_http: bool) -> TransportPolicy {
    let transport = if registry_is_loopback(registry) {
        Transport::Http
    } else if allow_http || registry_is_private(registry) {
        Transport::HttpsThenHttp
    } else {
        Transport::Https
    };
    TransportPolicy { transport, credentials_over_http: allow_http }
}

/// `:` followed by 1–5 digits.
fn is_port_suffix(rest: &str) -> bool {
    rest.strip_prefix(':').is_some_and(|port| {
        (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// What an image reference points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identifier {
    /// A tag (`latest` when none was given).
    Tag(String),
    /// A digest.
    Digest(Digest),
}

/// An image reference: a repository and a tag or digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReference {
    repository: Repository,
    identifier: Identifier,
}

impl ImageReference {
    /// A reference to `digest` in `repository`.
    pub fn with_digest(repository: Repository, digest: Digest) -> Self {
        Self { repository, identifier: Identifier::Digest(digest) }
    }

    /// The repository.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The tag or digest.
    pub fn identifier(&self) -> &Identifier {
        &self.identifier
    }

    /// The digest, when the reference has one.
    pub fn digest(&self) -> Option<&Digest> {
        match &self.identifier {
            Identifier::Digest(d) => Some(d),
            Identifier::Tag(_) => None,
        }
    }

    /// The tag or digest as it goes into a registry URL.
    pub fn identifier_str(&self) -> &str {
        match &self.identifier {
            Identifier::Tag(t) => t,
            Identifier::Digest(d) => d.as_str(),
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.identifier {
            Identifier::Tag(t) => write!(f, "{}:{t}", self.repository),
            Identifier::Digest(d) => write!(f, "{}@{d}", self.repository),
        }
    }
}

impl FromStr for ImageReference {
    type Err = ReferenceError;

    /// go-containerregistry's `name.ParseReference`: a tag reference if that parses, else a
    /// digest reference (`repo[:tag]@sha256:…`, the tag ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let tag_error = match parse_tag(s) {
            Ok(reference) => return Ok(reference),
            Err(e) => e,
        };
        let Some((base, digest)) = s.split_once('@') else {
            return Err(with_reference(s, tag_error));
        };
        if digest.contains('@') {
            return Err(ReferenceError::Invalid {
                reference: s.to_owned(),
                reason: "a digest reference has exactly one '@'".into(),
            });
        }
        let digest = Digest::new(digest)?;
        let repository = match parse_tag(base) {
            Ok(tagged) => tagged.repository,
            Err(_) => Repository::parse(base).map_err(|e| with_reference(s, e))?,
        };
        Ok(Self { repository, identifier: Identifier::Digest(digest) })
    }
}

fn with_reference(reference: &str, error: ReferenceError) -> ReferenceError {
    match error {
        ReferenceError::Invalid { .. } => error,
        other => {
            ReferenceError::Invalid { reference: reference.to_owned(), reason: other.to_string() }
        }
    }
}

fn parse_tag(s: &str) -> Result<ImageReference, ReferenceError> {
    let (base, tag) = match s.rsplit_once(':') {
        Some((base, tag)) if !tag.contains('/') => {
            if tag.is_empty() {
                return Err(ReferenceError::Tag {
                    tag: String::new(),
                    reason: "a tag name must follow the colon".into(),
                });
            }
            check_element("tag", tag, TAG_CHARS, 1, 128)
                .map_err(|reason| ReferenceError::Tag { tag: tag.to_owned(), reason })?;
            (base, tag)
        }
        _ => (s, "latest"),
    };
    let repository = Repository::parse(base)?;
    Ok(ImageReference { repository, identifier: Identifier::Tag(tag.to_owned()) })
}

fn check_element(
    what: &str,
    element: &str,
    allowed: &str,
    min: usize,
    max: usize,
) -> Result<(), String> {
    let len = element.chars().count();
    if len < min || len > max {
        return Err(format!("{what} must be between {min} and {max} characters long"));
    }
    if let Some(c) = element.chars().find(|c| !allowed.contains(*c)) {
        return Err(format!("{what} contains {c:?}; allowed characters are `{allowed}`"));
    }
    Ok(())
}

/// A registry must be a URI authority (`host[:port]`); the empty string means Docker Hub.
fn check_registry(registry: &str) -> Result<(), ReferenceError> {
    let ok = registry.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']' | '~' | '%')
    });
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Registry {
            registry: registry.to_owned(),
            reason: "registries must be valid RFC 3986 URI authorities (host[:port])".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

    fn parse(s: &str) -> ImageReference {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn normalises_like_go_containerregistry() {
        let cases = [
            ("ubuntu", "index.docker.io/library/ubuntu:latest"),
            ("ubuntu:22.04", "index.docker.io/library/ubuntu:22.04"),
            ("docker.io/foo/bar:1", "index.docker.io/foo/bar:1"),
            ("docker.io/ubuntu", "index.docker.io/library/ubuntu:latest"),
            ("foo/bar", "index.docker.io/foo/bar:latest"),
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/a/b:t", "localhost:5000/a/b:t"),
            ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"),
            ("ghcr.io/o/r/x:v1.2", "ghcr.io/o/r/x:v1.2"),
            ("localhost/x", "localhost/x:latest"),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).to_string(), want, "{input}");
        }
        let digest = parse(&format!("docker.io/foo/bar:tag@{D}"));
        assert_eq!(digest.to_string(), format!("index.docker.io/foo/bar@{D}"));
        assert_eq!(digest.repository().name(), "index.docker.io/foo/bar");
        assert_eq!(
            parse(&format!("ubuntu@{D}")).repository().name(),
            "index.docker.io/library/ubuntu"
        );
    }

    #[test]
    fn rejects_what_go_containerregistry_rejects() {
        for bad in [
            "",
            "Upper/Case",      // uppercase repository
            "repo:",           // empty tag
            "repo@sha256:abc", // short digest
            &format!("repo@{}", D.to_uppercase()),
            &format!("repo@sha512:{}", &D[7..]),
            &format!("a/b@{D}@{D}"),
            "repo:bad!tag",
        ] {
            assert!(bad.parse::<ImageReference>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn signature_tag_replaces_colon() {
        let d = Digest::new(D).unwrap();
        assert_eq!(d.signature_tag(), format!("sha256-{}.sig", &D[7..]));
    }

    #[test]
    fn local_registries_use_http_like_ggcr() {
        for local in [
            "localhost:5000",
            "127.0.0.1",
            "127.0.0.1:5000",
            "10.1.2.3:80",
            "192.168.0.1",
            "172.16.4.4:5000",
            "reg.localhost",
            "reg.localhost:5000",
            "::1",
            "[::1]:5000",
        ] {
            assert!(registry_is_local(local), "{local}");
        }
        for remote in ["localhost", "ghcr.io", "index.docker.io", "127.0.0.2:5000", "8.8.8.8"] {
            assert!(!registry_is_local(remote), "{remote}");
        }
    }

    /// Issue 14, item 3: private addresses were always plain HTTP, with credentials. Addresses
    /// here are data only: nothing connects to them.
    #[test]
    fn transport_policy_tries_https_first_off_loopback_and_guards_credentials() {
        use Transport::{Http, Https, HttpsThenHttp};
        let cases: [(&str, bool, Transport, bool); 22] = [
            // loopback: plain HTTP as today; credentials only when allowed
            ("127.0.0.1:5000", false, Http, false),
            ("127.0.0.1:5000", true, Http, true),
            ("localhost:5000", false, Http, false),
            ("reg.localhost", false, Http, false),
            ("[::1]:5000", false, Http, false),
            ("::1", true, Http, true),
            // private: HTTPS first (Harbor on 10.x), HTTP only if no TLS connection
            ("10.1.2.3", false, HttpsThenHttp, false),
            ("10.1.2.3:5000", false, HttpsThenHttp, false),
            ("172.16.4.4:443", false, HttpsThenHttp, false),
            ("172.31.255.255", false, HttpsThenHttp, false),
            ("192.168.0.1:5000", false, HttpsThenHttp, false),
            ("192.168.0.1:5000", true, HttpsThenHttp, true),
            ("nas.local:5000", false, HttpsThenHttp, false),
            // public: HTTPS only, unless --allow-http-registry (cosign's fallback)
            ("ghcr.io", false, Https, false),
            ("172.32.0.1", false, Https, false),
            ("11.0.0.1:5000", false, Https, false),
            ("8.8.8.8", false, Https, false),
            ("127.0.0.2:5000", false, Https, false),
            ("localhost", false, Https, false),
            ("127.0.0.1.example.com", false, Https, false),
            ("ghcr.io", true, HttpsThenHttp, true),
            ("127.0.0.2:5000", true, HttpsThenHttp, true),
        ];
        for (registry, allow_http, transport, credentials_over_http) in cases {
            assert_eq!(
                transport_policy(registry, allow_http),
                TransportPolicy { transport, credentials_over_http },
                "{registry} allow_http={allow_http}"
            );
        }
    }
}
