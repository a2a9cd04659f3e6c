//! The distribution API spoken directly to open registries (no credentials configured, and no
//! authentication challenge), on reqwest clients of our own.
//!
//! There is no `GET /v2/` probe: a registry is taken to be open until it answers a request with
//! 401 and a `WWW-Authenticate` challenge ([`Open::Challenged`]); the caller then repeats that
//! request through oci-client, which does the token dance, and remembers the registry as closed.
//! A challenged request changed nothing, so repeating it is safe.
//!
//! Why not oci-client for these too: every `oci_client::Client` builds two reqwest clients, and
//! each loads and parses every system root certificate (about 38 M instructions, 80 % of a whole
//! `cosign-compat sign` on a local registry), even for plain HTTP; on a machine without root
//! certificates that construction panics. Open registries need none of what oci-client is for
//! (the token dance), and the five requests they take are plain: `GET`/`PUT` of a manifest,
//! `GET` of a blob, and the `POST` + `PUT` monolithic upload of the OCI distribution spec.
//!
//! Plain-HTTP registries get a client without root certificates and without redirects; a
//! redirect (a blob served from object storage, often over HTTPS) is followed by the TLS client,
//! made only then.

mod referrers;

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode, Url, header, redirect};

use super::MAX_MANIFEST_LEN;
use crate::error::RegistryError;
use crate::media_type::MANIFEST_TYPES;
use crate::reference::{Digest, Repository};

/// Why a request to an open registry did not succeed.
#[derive(Debug)]
pub(super) enum Open {
    /// 401 with a `WWW-Authenticate` challenge: the registry is not open.
    Challenged,
    /// Any other failure, final.
    Failed(RegistryError),
}

impl From<RegistryError> for Open {
    fn from(error: RegistryError) -> Self {
        Self::Failed(error)
    }
}

/// Largest error body kept for a message.
const MAX_ERROR_BODY: u64 = 4096;

/// The reqwest clients, made on first use.
#[derive(Debug, Default)]
pub(super) struct OpenClients {
    allow_insecure: bool,
    plain: OnceLock<Client>,
    tls: OnceLock<Client>,
}

impl OpenClients {
    pub(super) fn new(allow_insecure: bool) -> Self {
        Self { allow_insecure, ..Self::default() }
    }

    fn builder() -> reqwest::ClientBuilder {
        Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("cosign-compat/", env!("CARGO_PKG_VERSION")))
    }

    /// The client for plain-HTTP registries: no root certificates, no redirects.
    pub(super) fn plain(&self) -> Result<&Client, RegistryError> {
        if let Some(client) = self.plain.get() {
            return Ok(client);
        }
        let client = Self::builder()
            .tls_certs_only([])
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|e| client_error(&e))?;
        Ok(self.plain.get_or_init(|| client))
    }

    /// The client for HTTPS: the system's root certificates (or none checked with
    /// `--allow-insecure-registry`), redirects followed.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Request`] naming the fix when the system has no root certificates.
    pub(super) fn tls(&self) -> Result<&Client, RegistryError> {
        if let Some(client) = self.tls.get() {
            return Ok(client);
        }
        let client = Self::builder()
            .tls_danger_accept_invalid_certs(self.allow_insecure)
            .build()
            .map_err(|e| client_error(&e))?;
        Ok(self.tls.get_or_init(|| client))
    }

    fn for_scheme(&self, plain: bool) -> Result<&Client, RegistryError> {
        if plain { self.plain() } else { self.tls() }
    }
}

fn client_error(error: &reqwest::Error) -> RegistryError {
    RegistryError::Request {
        operation: "create client",
        reference: "the registry client".to_owned(),
        source: format!(
            "{}: without system root certificates, install them (Debian: ca-certificates) or name a bundle with SSL_CERT_FILE",
            sig_core::message_with_sources(error)
        )
        .into(),
    }
}

/// One open registry, reached over `scheme`.
#[derive(Debug)]
pub(super) struct OpenRegistry<'a> {
    pub(super) clients: &'a OpenClients,
    /// `true` for plain HTTP.
    pub(super) plain: bool,
}

impl OpenRegistry<'_> {
    fn base(&self, repository: &Repository) -> String {
        let scheme = if self.plain { "http" } else { "https" };
        format!("{scheme}://{}/v2/{}", repository.registry(), repository.path())
    }

    /// `GET` of the manifest `reference`; `Ok(None)` on 404.
    pub(super) async fn fetch_manifest(
        &self,
        repository: &Repository,
        reference: &str,
        operation: &'static str,
    ) -> Result<Option<Vec<u8>>, Open> {
        let what = format!("{repository}:{reference}");
        let url = format!("{}/manifests/{reference}", self.base(repository));
        let response =
            self.get(&url, Some(&MANIFEST_TYPES.join(", ")), operation, &what, repository).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = check(response, operation, &what, repository).await?;
        Ok(Some(read_bounded(response, MAX_MANIFEST_LEN, operation, &what).await?))
    }

    /// `GET` of the blob `digest`, at most `max_len` bytes, checked against the digest.
    pub(super) async fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        max_len: u64,
    ) -> Result<Vec<u8>, Open> {
        const OPERATION: &str = "fetch blob";
        let what = format!("{repository}@{digest}");
        let url = format!("{}/blobs/{digest}", self.base(repository));
        let response = self.get(&url, None, OPERATION, &what, repository).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound { reference: what }.into());
        }
        let response = check(response, OPERATION, &what, repository).await?;
        let data = read_bounded(response, max_len, OPERATION, &what).await?;
        let actual = Digest::of(&data);
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                reference: what,
                expected: digest.to_string(),
                actual: actual.to_string(),
            }
            .into());
        }
        Ok(data)
    }

    /// Monolithic upload: `POST /blobs/uploads/`, then `PUT <location>?digest=` with the data.
    pub(super) async fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), Open> {
        const OPERATION: &str = "push blob";
        let what = format!("{repository}@{digest}");
        let client = self.clients.for_scheme(self.plain)?;
        let start = format!("{}/blobs/uploads/", self.base(repository));
        let request = client.post(&start).header(header::CONTENT_LENGTH, 0);
        let response = send(request, OPERATION, &what, repository).await?;
        let location = upload_location(&response, &start, digest).ok_or_else(|| {
            RegistryError::Request {
                operation: OPERATION,
                reference: what.clone(),
                source: format!(
                    "the registry answered HTTP {} to the upload request without a usable Location header",
                    response.status()
                )
                .into(),
            }
        })?;
        let _ = response.bytes().await;
        let request = client
            .put(location)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(data.to_vec());
        let _ = send(request, OPERATION, &what, repository).await?.bytes().await;
        Ok(())
    }

    /// `PUT` of `manifest` under `tag`.
    pub(super) async fn push_manifest(
        &self,
        repository: &Repository,
        tag: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<(), Open> {
        const OPERATION: &str = "push manifest";
        let what = format!("{repository}:{tag}");
        let request = self
            .clients
            .for_scheme(self.plain)?
            .put(format!("{}/manifests/{tag}", self.base(repository)))
            .header(header::CONTENT_TYPE, media_type)
            .body(manifest.to_vec());
        let _ = send(request, OPERATION, &what, repository).await?.bytes().await;
        Ok(())
    }

    /// `GET url`; a redirect from a plain-HTTP registry is followed by the TLS client.
    async fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        operation: &'static str,
        what: &str,
        repository: &Repository,
    ) -> Result<Response, RegistryError> {
        let registry = repository.registry();
        let send = |client: &Client, url: &str| {
            let request = client.get(url);
            match accept {
                Some(accept) => request.header(header::ACCEPT, accept),
                None => request,
            }
            .send()
        };
        let client = self.clients.for_scheme(self.plain)?;
        let response =
            send(client, url).await.map_err(|e| request_error(operation, what, registry, e))?;
        if !(self.plain && response.status().is_redirection()) {
            return Ok(response);
        }
        let Some(target) = response
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| response.url().join(l).ok())
        else {
            return Ok(response);
        };
        send(self.clients.tls()?, target.as_str())
            .await
            .map_err(|e| request_error(operation, what, registry, e))
    }
}

/// The URL to `PUT` the upload to: the `Location` of a 202 (relative to the request), with
/// `digest=` added after whatever state the registry put in the query.
fn upload_location(response: &Response, request: &str, digest: &Digest) -> Option<Url> {
    if response.status() != StatusCode::ACCEPTED {
        return None;
    }
    let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
    let mut url = Url::parse(request).ok()?.join(location).ok()?;
    url.query_pairs_mut().append_pair("digest", digest.as_str());
    Some(url)
}

fn request_error(
    operation: &'static str,
    what: &str,
    registry: &str,
    error: reqwest::Error,
) -> RegistryError {
    super::transport_error(operation, what, registry, Box::new(error))
}

/// Sends `request`: the response when its status is a success, otherwise as [`check`].
async fn send(
    request: RequestBuilder,
    operation: &'static str,
    what: &str,
    repository: &Repository,
) -> Result<Response, Open> {
    let response = request
        .send()
        .await
        .map_err(|e| request_error(operation, what, repository.registry(), e))?;
    check(response, operation, what, repository).await
}

/// The response when it is a success; [`Open::Challenged`] for a 401 with a challenge; otherwise
/// the error its status calls for, with a bounded part of its body as the message.
async fn check(
    response: Response,
    operation: &'static str,
    what: &str,
    repository: &Repository,
) -> Result<Response, Open> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status == StatusCode::UNAUTHORIZED
        && response.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        return Err(Open::Challenged);
    }
    let body = read_bounded(response, MAX_ERROR_BODY, operation, what).await.unwrap_or_default();
    let message: String = String::from_utf8_lossy(&body).chars().take(500).collect();
    Err(Open::Failed(match status {
        StatusCode::NOT_FOUND => RegistryError::NotFound { reference: what.to_owned() },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => RegistryError::Unauthorized {
            reference: what.to_owned(),
            registry: repository.registry().to_owned(),
        },
        s if s.is_server_error() => RegistryError::Server {
            operation,
            reference: what.to_owned(),
            status: s.as_u16(),
            message,
        },
        s => RegistryError::Request {
            operation,
            reference: what.to_owned(),
            source: format!("the registry answered HTTP {s}: {message}").into(),
        },
    }))
}

/// The body, failing with [`RegistryError::TooLarge`] past `max` bytes (checked while reading,
/// whatever `Content-Length` says).
async fn read_bounded(
    mut response: Response,
    max: u64,
    operation: &'static str,
    what: &str,
) -> Result<Vec<u8>, RegistryError> {
    if response.content_length().is_some_and(|len| len > max) {
        return Err(RegistryError::TooLarge { reference: what.to_owned(), max });
    }
    let mut body = Vec::new();
    let body_error = |e: reqwest::Error| RegistryError::Request {
        operation,
        reference: what.to_owned(),
        source: Box::new(e),
    };
    while let Some(chunk) = response.chunk().await.map_err(body_error)? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(RegistryError::TooLarge { reference: what.to_owned(), max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
