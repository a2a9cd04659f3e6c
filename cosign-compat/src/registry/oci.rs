//! [`Registry`] on the `oci-client` crate, driven by a tokio current-thread runtime so that the
//! rest of the crate stays synchronous.
//!
//! Schemes ([`transport_policy`]): plain HTTP for loopback registries (`localhost:PORT`,
//! `*.localhost`, `127.0.0.1`, `::1`); HTTPS first for private ones (RFC 1918 addresses,
//! `*.local`) and, with [`RegistryOptions::allow_http`] (`--allow-http-registry`), for every
//! registry, falling back to plain HTTP when no TLS connection can be made (checked once per
//! registry with `GET /v2/`, as go-containerregistry's ping); HTTPS only for the rest.
//! Credentials from the docker config file ([`Credentials`]) are never sent over plain HTTP
//! without `allow_http`: such a registry is used anonymously, and asking for credentials is
//! [`RegistryError::CredentialsOverHttp`]. [`RegistryOptions::allow_insecure`]
//! (`--allow-insecure-registry`) accepts invalid TLS certificates. The client exchanges basic
//! credentials for a bearer token when the registry asks for one.
//!
//! Open registries: oci-client caches bearer tokens but not "this registry wants no
//! authentication", so with anonymous credentials it sends `GET /v2/` before every request, and
//! each of its clients loads the system's root certificates (see [`super::open`]). So when there
//! are no credentials for a registry, requests go to it directly ([`OpenRegistry`]) until one is
//! answered with an authentication challenge; that request and every later one then go through
//! oci-client, with the auth stored in the client.

use core::fmt;
use core::future::Future;

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_util::future::try_join_all;
use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::credentials::{Credential, Credentials};
use super::open::{Open, OpenClients, OpenRegistry};
use super::{MAX_MANIFEST_LEN, Registry};
use crate::error::RegistryError;
use crate::media_type::MANIFEST_TYPES;
use crate::reference::{Digest, Repository, Transport, transport_policy};

/// How to reach registries.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// Fall back to plain HTTP for every registry that has no HTTPS, and send credentials over
    /// plain HTTP (`--allow-http-registry`; see [`transport_policy`]).
    pub allow_http: bool,
    /// Skip TLS certificate verification (`--allow-insecure-registry`).
    pub allow_insecure: bool,
    /// Credentials by registry.
    pub credentials: Credentials,
}

impl RegistryOptions {
    /// Defaults: HTTPS except for loopback registries (and private ones without HTTPS), TLS
    /// verified, anonymous.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`allow_http`](Self::allow_http).
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Sets [`allow_insecure`](Self::allow_insecure).
    #[must_use]
    pub fn allow_insecure(mut self, allow: bool) -> Self {
        self.allow_insecure = allow;
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }
}

/// A registry client on `oci-client`.
pub struct OciRegistry {
    runtime: tokio::runtime::Runtime,
    options: RegistryOptions,
    clients: Mutex<HashMap<String, Arc<Client>>>,
    /// Registries that answered with an authentication challenge; see the module docs.
    closed: Mutex<HashSet<String>>,
    /// Whether a registry is spoken to over plain HTTP, once known.
    plain: Mutex<HashMap<String, bool>>,
    /// reqwest clients for open registries.
    open_clients: OpenClients,
}

impl fmt::Debug for OciRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciRegistry").field("options", &self.options).finish_non_exhaustive()
    }
}

impl OciRegistry {
    /// A client with `options`.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Runtime`] when the async runtime cannot start.
    pub fn new(options: RegistryOptions) -> Result<Self, RegistryError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(RegistryError::Runtime)?;
        Ok(Self {
            runtime,
            clients: Mutex::new(HashMap::new()),
            closed: Mutex::new(HashSet::new()),
            plain: Mutex::new(HashMap::new()),
            open_clients: OpenClients::new(options.allow_insecure),
            options,
        })
    }

    /// Whether requests to `registry` use plain HTTP: [`transport_policy`], and for a registry
    /// that may fall back, whether `GET https://REGISTRY/v2/` could be made (asked once).
    ///
    /// # Errors
    ///
    /// [`RegistryError::UntrustedCertificate`] when the registry has HTTPS with a certificate
    /// that is not trusted (no fallback to plain HTTP then).
    pub fn uses_http(&self, registry: &str) -> Result<bool, RegistryError> {
        match transport_policy(registry, self.options.allow_http).transport {
            Transport::Http => return Ok(true),
            Transport::Https => return Ok(false),
            _ => {}
        }
        if let Some(plain) = self.plain.lock().unwrap_or_else(PoisonError::into_inner).get(registry)
        {
            return Ok(*plain);
        }
        let client = self.open_clients.tls()?;
        let url = format!("https://{registry}/v2/");
        // Built inside the runtime: the request's timer needs it.
        let probe = self
            .runtime
            .block_on(async { client.get(&url).timeout(HTTPS_PROBE_TIMEOUT).send().await });
        let plain = match probe {
            Ok(_answered) => false,
            Err(e) => {
                let error = super::transport_error("connect", &url, registry, Box::new(e));
                if matches!(error, RegistryError::UntrustedCertificate { .. }) {
                    return Err(error);
                }
                true
            }
        };
        self.plain
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(registry.to_owned(), plain);
        Ok(plain)
    }

    /// The oci-client client for `registry`.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Request`] when the system has no root certificates: building an
    /// oci-client client panics then, so our TLS client, which fails cleanly, is built first.
    fn client(&self, registry: &str) -> Result<Arc<Client>, RegistryError> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(registry) {
            return Ok(Arc::clone(client));
        }
        self.open_clients.tls()?;
        let protocol =
            if self.uses_http(registry)? { ClientProtocol::Http } else { ClientProtocol::Https };
        let client = Arc::new(Client::new(ClientConfig {
            protocol,
            accept_invalid_certificates: self.options.allow_insecure,
            // Signature blobs are small: one PUT each.
            use_monolithic_push: true,
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(120)),
            ..ClientConfig::default()
        }));
        clients.insert(registry.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    /// The auth for `registry`: the docker config's credentials, unless the registry is
    /// reached over plain HTTP without `allow_http` ([`Auth::Withheld`]).
    fn auth(&self, registry: &str) -> Result<Auth, RegistryError> {
        let auth = match self.options.credentials.for_registry(registry) {
            Some(Credential::Basic { username, password }) => {
                RegistryAuth::Basic(username.clone(), password.to_string())
            }
            Some(Credential::Bearer(token)) => RegistryAuth::Bearer(token.to_string()),
            _ => return Ok(Auth::Anonymous),
        };
        if !self.options.allow_http && self.uses_http(registry)? {
            return Ok(Auth::Withheld);
        }
        Ok(Auth::Use(auth))
    }

    fn credentials_over_http(&self, registry: &str) -> RegistryError {
        let config = self
            .options
            .credentials
            .path()
            .map_or_else(|| "the docker config".to_owned(), |path| path.display().to_string());
        RegistryError::CredentialsOverHttp { registry: registry.to_owned(), config }
    }

    /// Runs `request` on `registry` as an open registry: `None` when there are credentials for
    /// it that may be sent, or it challenged an earlier request or this one (then the caller
    /// goes through oci-client). Withheld credentials ([`Auth::Withheld`]) make a challenge
    /// [`RegistryError::CredentialsOverHttp`].
    fn via_open<'s, T, F>(
        &'s self,
        registry: &str,
        request: impl FnOnce(OpenRegistry<'s>) -> F,
    ) -> Option<Result<T, RegistryError>>
    where
        F: Future<Output = Result<T, Open>>,
    {
        let withheld = match self.auth(registry) {
            Ok(Auth::Use(_)) => return None,
            Ok(auth) => auth == Auth::Withheld,
            Err(e) => return Some(Err(e)),
        };
        let closed = |known: &HashSet<String>| known.contains(registry);
        if closed(&self.closed.lock().unwrap_or_else(PoisonError::into_inner)) {
            return None;
        }
        let plain = match self.uses_http(registry) {
            Ok(plain) => plain,
            Err(e) => return Some(Err(e)),
        };
        let open = OpenRegistry { clients: &self.open_clients, plain };
        match self.runtime.block_on(request(open)) {
            Ok(value) => Some(Ok(value)),
            Err(Open::Failed(error)) => Some(Err(error)),
            Err(Open::Challenged) if withheld => Some(Err(self.credentials_over_http(registry))),
            Err(Open::Challenged) => {
                let mut known = self.closed.lock().unwrap_or_else(PoisonError::into_inner);
                known.insert(registry.to_owned());
                None
            }
        }
    }

    /// Runs an oci-client `future` to completion. oci-client unwraps some values that a registry
    /// or its token service controls (a bearer token with a line break becomes a header value):
    /// such a panic ends this one operation with [`RegistryError::ClientFailed`], naming the
    /// registry, instead of ending the process.
    fn run<T>(
        &self,
        operation: &'static str,
        reference: &str,
        registry: &str,
        future: impl Future<Output = T>,
    ) -> Result<T, RegistryError> {
        panic::catch_unwind(AssertUnwindSafe(|| self.runtime.block_on(future))).map_err(|payload| {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "it panicked".to_owned());
            RegistryError::ClientFailed {
                operation,
                reference: reference.to_owned(),
                registry: registry.to_owned(),
                detail: detail.chars().take(MAX_PANIC_DETAIL).collect(),
            }
        })
    }

    /// The client, the reference and the auth for `repository` at `identifier` (a tag or a
    /// digest), with the auth stored in the client for the operations that do not take it.
    fn prepare(
        &self,
        repository: &Repository,
        identifier: &str,
    ) -> Result<(Arc<Client>, Reference, RegistryAuth), RegistryError> {
        let reference = reference(repository, identifier);
        let client = self.client(repository.registry())?;
        let auth = match self.auth(repository.registry())? {
            Auth::Use(auth) => auth,
            Auth::Anonymous => RegistryAuth::Anonymous,
            Auth::Withheld => return Err(self.credentials_over_http(repository.registry())),
        };
        let what = format!("{repository}:{identifier}");
        self.run("authenticate", &what, repository.registry(), async {
            client.store_auth_if_needed(reference.resolve_registry(), &auth).await;
        })?;
        Ok((client, reference, auth))
    }
}

/// How much of a panic message [`RegistryError::ClientFailed`] keeps.
const MAX_PANIC_DETAIL: usize = 200;

/// How long the HTTPS attempt of a registry that may fall back to plain HTTP may take to
/// answer before plain HTTP is used (a LAN host that drops packets to port 443).
const HTTPS_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The credentials used for a registry.
#[derive(Debug, PartialEq)]
enum Auth {
    /// None in the docker config.
    Anonymous,
    /// These.
    Use(RegistryAuth),
    /// Some, not sent: the registry is reached over plain HTTP without `allow_http`.
    Withheld,
}

/// oci-client's reference to `repository` at `identifier` (a tag or a digest).
fn reference(repository: &Repository, identifier: &str) -> Reference {
    let (registry, path) = (repository.registry().to_owned(), repository.path().to_owned());
    if identifier.starts_with("sha256:") {
        Reference::with_digest(registry, path, identifier.to_owned())
    } else {
        Reference::with_tag(registry, path, identifier.to_owned())
    }
}

impl Registry for OciRegistry {
    fn resolve_tag(&self, repository: &Repository, tag: &str) -> Result<Digest, RegistryError> {
        // The digest of the manifest is that of its bytes (a GET instead of a HEAD: the manifest
        // is small, and some registries answer HEAD without the digest header).
        let fetched = self.via_open(repository.registry(), |open| async move {
            open.fetch_manifest(repository, tag, "resolve").await
        });
        if let Some(fetched) = fetched {
            return match fetched? {
                Some(bytes) => Ok(Digest::of(&bytes)),
                None => Err(RegistryError::NotFound { reference: format!("{repository}:{tag}") }),
            };
        }
        let (client, reference, auth) = self.prepare(repository, tag)?;
        let what = format!("{repository}:{tag}");
        let digest = self
            .run(
                "resolve",
                &what,
                repository.registry(),
                client.fetch_manifest_digest(&reference, &auth),
            )?
            .map_err(|e| map_error(e, "resolve", &what, repository))?;
        Digest::new(&digest).map_err(|e| RegistryError::Request {
            operation: "resolve",
            reference: what,
            source: Box::new(e),
        })
    }

    fn fetch_manifest(
        &self,
        repository: &Repository,
        reference_str: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        if let Some(result) = self.via_open(repository.registry(), |open| async move {
            open.fetch_manifest(repository, reference_str, "fetch manifest").await
        }) {
            return result;
        }
        let (client, reference, auth) = self.prepare(repository, reference_str)?;
        let what = format!("{repository}:{reference_str}");
        let pulled = client.pull_manifest_raw(&reference, &auth, &MANIFEST_TYPES);
        match self.run("fetch manifest", &what, repository.registry(), pulled)? {
            Ok((bytes, _digest)) => {
                if bytes.len() as u64 > MAX_MANIFEST_LEN {
                    return Err(RegistryError::TooLarge { reference: what, max: MAX_MANIFEST_LEN });
                }
                Ok(Some(bytes.to_vec()))
            }
            Err(e) => match map_error(e, "fetch manifest", &what, repository) {
                RegistryError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        max_len: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        if let Some(result) = self.via_open(repository.registry(), |open| async move {
            open.fetch_blob(repository, digest, max_len).await
        }) {
            return result;
        }
        let (client, reference, _auth) = self.prepare(repository, digest.as_str())?;
        let what = format!("{repository}@{digest}");
        let descriptor = OciDescriptor { digest: digest.to_string(), ..OciDescriptor::default() };
        let mut sink = BoundedSink { data: Vec::new(), max: max_len, overflow: false };
        let pulled = client.pull_blob(&reference, &descriptor, &mut sink);
        let result = self.run("fetch blob", &what, repository.registry(), pulled)?;
        if sink.overflow {
            return Err(RegistryError::TooLarge { reference: what, max: max_len });
        }
        result.map_err(|e| map_error(e, "fetch blob", &what, repository))?;
        Ok(sink.data)
    }

    fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), RegistryError> {
        if let Some(result) = self.via_open(repository.registry(), |open| async move {
            open.push_blob(repository, digest, data).await
        }) {
            return result;
        }
        let (client, reference, _auth) = self.prepare(repository, digest.as_str())?;
        let what = format!("{repository}@{digest}");
        let pushed = client.push_blob(&reference, data.to_vec(), digest.as_str());
        self.run("push blob", &what, repository.registry(), pushed)?
            .map_err(|e| map_error(e, "push blob", &what, repository))?;
        Ok(())
    }

    /// Concurrently, each on its own connection: the signature's payload and config blobs take
    /// the time of one upload instead of two.
    fn push_blobs(
        &self,
        repository: &Repository,
        blobs: &[(&Digest, &[u8])],
    ) -> Result<(), RegistryError> {
        if let Some(result) = self.via_open(repository.registry(), |open| async move {
            try_join_all(
                blobs.iter().map(|(digest, data)| open.push_blob(repository, digest, data)),
            )
            .await
            .map(drop)
        }) {
            return result;
        }
        let Some((first, _)) = blobs.first() else { return Ok(()) };
        let (client, _, _auth) = self.prepare(repository, first.as_str())?;
        let uploads = blobs.iter().map(|(digest, data)| {
            let client = &client;
            async move {
                let reference = reference(repository, digest.as_str());
                client.push_blob(&reference, data.to_vec(), digest.as_str()).await.map_err(|e| {
                    map_error(e, "push blob", &format!("{repository}@{digest}"), repository)
                })
            }
        });
        let what = format!("{repository}@{first}");
        self.run("push blob", &what, repository.registry(), try_join_all(uploads))?.map(drop)
    }

    fn push_manifest(
        &self,
        repository: &Repository,
        tag: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<(), RegistryError> {
        if let Some(result) = self.via_open(repository.registry(), |open| async move {
            open.push_manifest(repository, tag, media_type, manifest).await
        }) {
            return result;
        }
        let (client, reference, _auth) = self.prepare(repository, tag)?;
        let what = format!("{repository}:{tag}");
        let content_type =
            http::HeaderValue::from_str(media_type).map_err(|e| RegistryError::Request {
                operation: "push manifest",
                reference: what.clone(),
                source: Box::new(e),
            })?;
        let pushed = client.push_manifest_raw(&reference, manifest.to_vec(), content_type);
        self.run("push manifest", &what, repository.registry(), pushed)?
            .map_err(|e| map_error(e, "push manifest", &what, repository))?;
        Ok(())
    }
    /// Open registries: the Referrers API's answer, `None` without one. Registries reached with
    /// credentials: oci-client's `pull_referrers`, which answers the API's list or, on a 404,
    /// the fallback tag's index (an empty one when the tag is missing or not an index), so
    /// callers cannot tell the two apart there (see [`crate::bundle::remote::push_referrer`]).
    fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        if let Some(result) = self.via_open(repository.registry(), |open| async move {
            open.referrers(repository, subject).await
        }) {
            return result;
        }
        let (client, reference, _auth) = self.prepare(repository, subject.as_str())?;
        let what = format!("{repository}@{subject}");
        let pulled = client.pull_referrers(&reference, None);
        let mut index = self
            .run("list referrers", &what, repository.registry(), pulled)?
            .map_err(|e| map_error(e, "list referrers", &what, repository))?;
        index.media_type.get_or_insert_with(|| crate::media_type::OCI_INDEX.to_owned());
        serde_json::to_vec(&index).map(Some).map_err(|e| RegistryError::Request {
            operation: "list referrers",
            reference: what,
            source: Box::new(e),
        })
    }
}

/// Maps oci-client errors to the few cases callers act on.
fn map_error(
    error: OciDistributionError,
    operation: &'static str,
    reference: &str,
    repository: &Repository,
) -> RegistryError {
    let not_found = |envelope: &oci_client::errors::OciEnvelope| {
        envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::BlobUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
            )
        })
    };
    match error {
        OciDistributionError::ImageManifestNotFoundError(_) => {
            RegistryError::NotFound { reference: reference.to_owned() }
        }
        OciDistributionError::ServerError { code: 404, .. } => {
            RegistryError::NotFound { reference: reference.to_owned() }
        }
        OciDistributionError::RegistryError { ref envelope, .. } if not_found(envelope) => {
            RegistryError::NotFound { reference: reference.to_owned() }
        }
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::ServerError { code: 401 | 403, .. } => {
            RegistryError::Unauthorized {
                reference: reference.to_owned(),
                registry: repository.registry().to_owned(),
            }
        }
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            RegistryError::Unauthorized {
                reference: reference.to_owned(),
                registry: repository.registry().to_owned(),
            }
        }
        OciDistributionError::ServerError { code, message, .. } if code >= 500 => {
            RegistryError::Server {
                operation,
                reference: reference.to_owned(),
                status: code,
                message: message.chars().take(500).collect(),
            }
        }
        other => {
            super::transport_error(operation, reference, repository.registry(), Box::new(other))
        }
    }
}

/// Collects a blob, failing once it grows past `max` bytes.
struct BoundedSink {
    data: Vec<u8>,
    max: u64,
    overflow: bool,
}

impl tokio::io::AsyncWrite for BoundedSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if (self.data.len() + buf.len()) as u64 > self.max {
            self.overflow = true;
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "blob larger than the limit",
            )));
        }
        self.data.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
