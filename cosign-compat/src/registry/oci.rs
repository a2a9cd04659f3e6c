//! [`Registry`] on the `oci-client` crate, driven by a tokio current-thread runtime so that the
//! rest of the crate stays synchronous.
//!
//! Scheme selection follows go-containerregistry: HTTPS, except plain HTTP for `localhost:PORT`,
//! `*.localhost`, `127.0.0.1`, `::1` and RFC 1918 addresses, or for every registry with
//! [`RegistryOptions::allow_http`] (`--allow-http-registry`). [`RegistryOptions::allow_insecure`]
//! (`--allow-insecure-registry`) accepts invalid TLS certificates. Credentials
//! come from the docker config file ([`Credentials`]); the client exchanges basic credentials for
//! a bearer token when the registry asks for one.
//!
//! Open registries: oci-client caches bearer tokens but not "this registry wants no
//! authentication", so with anonymous credentials it sends `GET /v2/` before every request (7 of
//! the 15 requests of a `sign`). When there are no credentials for a registry, the first request
//! is our own `GET /v2/`; when that answers 200 without a `WWW-Authenticate` challenge the
//! registry is open, and from then on the auth is never stored in the client (so oci-client adds
//! no ping) and manifests are fetched with a plain GET on a reqwest client of ours (oci-client's
//! manifest calls store the auth themselves). Any other answer (a challenge, an error) keeps
//! oci-client's own flow.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::credentials::{Credential, Credentials};
use super::{MAX_MANIFEST_LEN, Registry};
use crate::error::RegistryError;
use crate::media_type::MANIFEST_TYPES;
use crate::reference::{Digest, Repository, registry_is_local};

/// How to reach registries.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// Use plain HTTP for every registry (`--allow-http-registry`).
    pub allow_http: bool,
    /// Skip TLS certificate verification (`--allow-insecure-registry`).
    pub allow_insecure: bool,
    /// Credentials by registry.
    pub credentials: Credentials,
}

impl RegistryOptions {
    /// Defaults: HTTPS except for local registries, TLS verified, anonymous.
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
    /// Registries found open (anonymous, no challenge), by name; see the module docs.
    open: Mutex<HashMap<String, bool>>,
    /// reqwest clients for the probes and the manifest reads of open registries, made on first
    /// use: one for plain-HTTP registries, without root certificates (loading the system's
    /// costs milliseconds and is useless there; a manifest redirected to HTTPS would fail, which
    /// no registry does), one for HTTPS.
    http_plain: OnceLock<reqwest::Client>,
    http_tls: OnceLock<reqwest::Client>,
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
            options,
            clients: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
            http_plain: OnceLock::new(),
            http_tls: OnceLock::new(),
        })
    }

    /// Whether requests to `registry` use plain HTTP.
    pub fn uses_http(&self, registry: &str) -> bool {
        self.options.allow_http || registry_is_local(registry)
    }

    fn client(&self, registry: &str) -> Arc<Client> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let client = clients.entry(registry.to_owned()).or_insert_with(|| {
            let protocol =
                if self.uses_http(registry) { ClientProtocol::Http } else { ClientProtocol::Https };
            Arc::new(Client::new(ClientConfig {
                protocol,
                accept_invalid_certificates: self.options.allow_insecure,
                // Signature blobs are small: one PUT each.
                use_monolithic_push: true,
                platform_resolver: None,
                connect_timeout: Some(Duration::from_secs(30)),
                read_timeout: Some(Duration::from_secs(120)),
                ..ClientConfig::default()
            }))
        });
        Arc::clone(client)
    }

    fn auth(&self, registry: &str) -> RegistryAuth {
        match self.options.credentials.for_registry(registry) {
            Some(Credential::Basic { username, password }) => {
                RegistryAuth::Basic(username.clone(), password.to_string())
            }
            Some(Credential::Bearer(token)) => RegistryAuth::Bearer(token.to_string()),
            _ => RegistryAuth::Anonymous,
        }
    }

    fn scheme(&self, registry: &str) -> &'static str {
        if self.uses_http(registry) { "http" } else { "https" }
    }

    /// The reqwest client for `registry` (see [`OciRegistry::http_plain`]).
    fn http(&self, registry: &str) -> Result<&reqwest::Client, RegistryError> {
        let plain = self.uses_http(registry);
        let cell = if plain { &self.http_plain } else { &self.http_tls };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("cosign-compat/", env!("CARGO_PKG_VERSION")));
        builder = if plain {
            builder.tls_certs_only([])
        } else {
            builder.tls_danger_accept_invalid_certs(self.options.allow_insecure)
        };
        let client = builder.build().map_err(|e| RegistryError::Request {
            operation: "create client",
            reference: registry.to_owned(),
            source: Box::new(e),
        })?;
        Ok(cell.get_or_init(|| client))
    }

    /// Whether `registry` is open: no credentials configured, and `GET /v2/` answered 200
    /// without a challenge (asked once per registry).
    fn is_open(&self, registry: &str) -> bool {
        if !matches!(self.auth(registry), RegistryAuth::Anonymous) {
            return false;
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        *open.entry(registry.to_owned()).or_insert_with(|| {
            let url = format!("{}://{registry}/v2/", self.scheme(registry));
            let Ok(http) = self.http(registry) else { return false };
            self.runtime.block_on(async {
                match http.get(&url).send().await {
                    Ok(response) => {
                        let open = response.status() == http::StatusCode::OK
                            && !response.headers().contains_key(http::header::WWW_AUTHENTICATE);
                        // Drain the body so that the connection is reused.
                        let _ = response.bytes().await;
                        open
                    }
                    Err(_) => false,
                }
            })
        })
    }

    /// `GET` of the manifest `reference` of an open registry; `Ok(None)` on 404.
    fn fetch_manifest_open(
        &self,
        repository: &Repository,
        reference: &str,
        operation: &'static str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let registry = repository.registry();
        let what = format!("{repository}:{reference}");
        let url = format!(
            "{}://{registry}/v2/{}/manifests/{reference}",
            self.scheme(registry),
            repository.path()
        );
        let request_error = |e: Box<dyn std::error::Error + Send + Sync>| RegistryError::Request {
            operation,
            reference: what.clone(),
            source: e,
        };
        let http = self.http(registry)?;
        self.runtime.block_on(async {
            let mut response = http
                .get(&url)
                .header(http::header::ACCEPT, MANIFEST_TYPES.join(", "))
                .send()
                .await
                .map_err(|e| request_error(Box::new(e)))?;
            let status = response.status();
            if status == http::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let mut body = Vec::new();
            while let Some(chunk) =
                response.chunk().await.map_err(|e| request_error(Box::new(e)))?
            {
                if (body.len() + chunk.len()) as u64 > MAX_MANIFEST_LEN {
                    return Err(RegistryError::TooLarge {
                        reference: what.clone(),
                        max: MAX_MANIFEST_LEN,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
                return Err(RegistryError::Unauthorized {
                    reference: what.clone(),
                    registry: registry.to_owned(),
                });
            }
            if status.is_server_error() {
                return Err(RegistryError::Server {
                    operation,
                    reference: what.clone(),
                    status: status.as_u16(),
                    message: String::from_utf8_lossy(&body).chars().take(500).collect(),
                });
            }
            if !status.is_success() {
                let message = String::from_utf8_lossy(&body).chars().take(500).collect::<String>();
                return Err(request_error(format!("HTTP {status}: {message}").into()));
            }
            Ok(Some(body))
        })
    }

    /// The client, the reference and the auth for `repository` at `identifier` (a tag or a
    /// digest), with the auth stored in the client for the operations that do not take it
    /// (except for open registries: see the module docs).
    fn prepare(
        &self,
        repository: &Repository,
        identifier: &str,
    ) -> (Arc<Client>, Reference, RegistryAuth) {
        let registry = repository.registry().to_owned();
        let path = repository.path().to_owned();
        let reference = if identifier.starts_with("sha256:") {
            Reference::with_digest(registry.clone(), path, identifier.to_owned())
        } else {
            Reference::with_tag(registry.clone(), path, identifier.to_owned())
        };
        let client = self.client(&registry);
        let auth = self.auth(&registry);
        if !self.is_open(&registry) {
            self.runtime.block_on(client.store_auth_if_needed(reference.resolve_registry(), &auth));
        }
        (client, reference, auth)
    }
}

impl Registry for OciRegistry {
    fn resolve_tag(&self, repository: &Repository, tag: &str) -> Result<Digest, RegistryError> {
        if self.is_open(repository.registry()) {
            // The digest of the manifest is that of its bytes (a GET instead of a HEAD; the
            // manifest is small and oci-client's HEAD would store the auth).
            return match self.fetch_manifest_open(repository, tag, "resolve")? {
                Some(bytes) => Ok(Digest::of(&bytes)),
                None => Err(RegistryError::NotFound { reference: format!("{repository}:{tag}") }),
            };
        }
        let (client, reference, auth) = self.prepare(repository, tag);
        let what = format!("{repository}:{tag}");
        let digest = self
            .runtime
            .block_on(client.fetch_manifest_digest(&reference, &auth))
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
        if self.is_open(repository.registry()) {
            return self.fetch_manifest_open(repository, reference_str, "fetch manifest");
        }
        let (client, reference, auth) = self.prepare(repository, reference_str);
        let what = format!("{repository}:{reference_str}");
        match self.runtime.block_on(client.pull_manifest_raw(&reference, &auth, &MANIFEST_TYPES)) {
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
        let (client, reference, _auth) = self.prepare(repository, digest.as_str());
        let what = format!("{repository}@{digest}");
        let descriptor = OciDescriptor { digest: digest.to_string(), ..OciDescriptor::default() };
        let mut sink = BoundedSink { data: Vec::new(), max: max_len, overflow: false };
        let result = self.runtime.block_on(client.pull_blob(&reference, &descriptor, &mut sink));
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
        let (client, reference, _auth) = self.prepare(repository, digest.as_str());
        let what = format!("{repository}@{digest}");
        self.runtime
            .block_on(client.push_blob(&reference, data.to_vec(), digest.as_str()))
            .map_err(|e| map_error(e, "push blob", &what, repository))?;
        Ok(())
    }

    fn push_manifest(
        &self,
        repository: &Repository,
        tag: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<(), RegistryError> {
        let (client, reference, _auth) = self.prepare(repository, tag);
        let what = format!("{repository}:{tag}");
        let content_type =
            http::HeaderValue::from_str(media_type).map_err(|e| RegistryError::Request {
                operation: "push manifest",
                reference: what.clone(),
                source: Box::new(e),
            })?;
        self.runtime
            .block_on(client.push_manifest_raw(&reference, manifest.to_vec(), content_type))
            .map_err(|e| map_error(e, "push manifest", &what, repository))?;
        Ok(())
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
        other => RegistryError::Request {
            operation,
            reference: reference.to_owned(),
            source: Box::new(other),
        },
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
