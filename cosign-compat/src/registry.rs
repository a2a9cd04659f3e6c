//! The registry seam: the few OCI distribution operations cosign's legacy format needs.
//!
//! [`Registry`] is implemented by [`OciRegistry`] (the `oci-client` crate, behind the
//! `registry` feature) and by [`MemoryRegistry`], an in-memory registry for tests and dry runs.
//! Everything above this trait ([`crate::remote`]) is ordinary synchronous code.

mod memory;
#[cfg(feature = "registry")]
mod oci;
#[cfg(feature = "registry")]
mod open;

pub mod credentials;

use core::fmt;

pub use memory::MemoryRegistry;
#[cfg(feature = "registry")]
pub use oci::{OciRegistry, RegistryOptions};

use crate::error::RegistryError;
use crate::reference::{Digest, Repository};

/// Largest manifest fetched (4 MiB, the OCI distribution spec's limit).
pub const MAX_MANIFEST_LEN: u64 = crate::signature::MAX_MANIFEST_LEN as u64;

/// The registry operations cosign-compat needs. Blocking; implementations bound what they read.
pub trait Registry: fmt::Debug {
    /// Resolves `tag` to the digest of the manifest it points at (for a multi-platform image,
    /// the index), as `crane digest` and cosign do.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] when the tag does not exist, and transport errors.
    fn resolve_tag(&self, repository: &Repository, tag: &str) -> Result<Digest, RegistryError>;

    /// Fetches the manifest `reference` (a tag or a digest); `Ok(None)` when it does not exist.
    ///
    /// # Errors
    ///
    /// [`RegistryError::TooLarge`] past [`MAX_MANIFEST_LEN`], and transport errors.
    fn fetch_manifest(
        &self,
        repository: &Repository,
        reference: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError>;

    /// Fetches the blob `digest`, at most `max_len` bytes, checked against the digest.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`], [`RegistryError::TooLarge`],
    /// [`RegistryError::DigestMismatch`], and transport errors.
    fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        max_len: u64,
    ) -> Result<Vec<u8>, RegistryError>;

    /// Uploads `data` as the blob `digest`.
    ///
    /// # Errors
    ///
    /// Transport and authorisation errors.
    fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), RegistryError>;

    /// Uploads every `(digest, data)` blob; implementations may upload them concurrently. The
    /// default uploads them one after the other with [`push_blob`](Self::push_blob).
    ///
    /// # Errors
    ///
    /// The first upload's error.
    fn push_blobs(
        &self,
        repository: &Repository,
        blobs: &[(&Digest, &[u8])],
    ) -> Result<(), RegistryError> {
        blobs.iter().try_for_each(|(digest, data)| self.push_blob(repository, digest, data))
    }

    /// Uploads `manifest` under `tag`.
    ///
    /// # Errors
    ///
    /// Transport and authorisation errors.
    fn push_manifest(
        &self,
        repository: &Repository,
        tag: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<(), RegistryError>;

    /// The Referrers API's answer for `subject` (an OCI image index, unfiltered), or `None`
    /// when the registry has no Referrers API (404, 400 or 406, or an answer that is not an
    /// index: go-containerregistry's test), or this client cannot ask it. Callers then use the
    /// referrers tag schema (the `sha256-<hex>` tag). The default is `None`.
    ///
    /// # Errors
    ///
    /// Transport and authorisation errors.
    fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let _ = (repository, subject);
        Ok(None)
    }
}

/// [`RegistryError::UntrustedCertificate`] when `error` is a TLS certificate rejection (rustls:
/// "invalid peer certificate"), otherwise [`RegistryError::Request`].
#[cfg(feature = "registry")]
pub(crate) fn transport_error(
    operation: &'static str,
    reference: &str,
    registry: &str,
    error: Box<dyn std::error::Error + Send + Sync>,
) -> RegistryError {
    let reference = reference.to_owned();
    if sig_core::message_with_sources(&*error).contains("invalid peer certificate") {
        let registry = registry.to_owned();
        return RegistryError::UntrustedCertificate {
            operation,
            reference,
            registry,
            source: error,
        };
    }
    RegistryError::Request { operation, reference, source: error }
}

impl<R: Registry + ?Sized> Registry for &R {
    fn resolve_tag(&self, repository: &Repository, tag: &str) -> Result<Digest, RegistryError> {
        (**self).resolve_tag(repository, tag)
    }

    fn fetch_manifest(
        &self,
        repository: &Repository,
        reference: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        (**self).fetch_manifest(repository, reference)
    }

    fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        max_len: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        (**self).fetch_blob(repository, digest, max_len)
    }

    fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), RegistryError> {
        (**self).push_blob(repository, digest, data)
    }

    fn push_blobs(
        &self,
        repository: &Repository,
        blobs: &[(&Digest, &[u8])],
    ) -> Result<(), RegistryError> {
        (**self).push_blobs(repository, blobs)
    }

    fn push_manifest(
        &self,
        repository: &Repository,
        tag: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<(), RegistryError> {
        (**self).push_manifest(repository, tag, media_type, manifest)
    }

    fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        (**self).referrers(repository, subject)
    }
}
