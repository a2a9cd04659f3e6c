//! The operations of the CLI over any [`Registry`]: resolve a reference, attach a signature
//! (read–modify–write of the `.sig` manifest, re-checked after the push), fetch and verify
//! signatures.

use std::time::{Duration, Instant, SystemTime};

use crate::attach;
use crate::error::{AttachError, Error, LayerRejection, RegistryError, VerifyError};
use crate::media_type::OCI_MANIFEST;
use crate::payload::MAX_PAYLOAD_LEN;
use crate::reference::{Digest, Identifier, ImageReference, Repository, SignatureTag as _};
use crate::registry::Registry;
use crate::signature::{SignatureLayer, SignatureManifest};
use crate::verify::{self, VerifiedSignature, VerifyOptions};

/// How many times [`attach_signature`] pushes before giving up on concurrent writers.
pub const MAX_ATTACH_ATTEMPTS: usize = 8;

/// Resolves `reference` to a digest. A reference that has a digest is returned as is, without
/// contacting the registry (as cosign does); a tag is resolved with a HEAD request.
///
/// # Errors
///
/// Registry errors; [`RegistryError::NotFound`] for an unknown tag.
pub fn resolve(
    registry: &dyn Registry,
    reference: &ImageReference,
) -> Result<Digest, RegistryError> {
    match reference.identifier() {
        Identifier::Digest(digest) => Ok(digest.clone()),
        Identifier::Tag(tag) => registry.resolve_tag(reference.repository(), tag),
    }
}

/// What [`attach_signature`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachOutcome {
    /// The signature was added; the manifest now has `layers` layers.
    Attached {
        /// The signature tag.
        tag: String,
        /// Layers in the manifest after the push.
        layers: usize,
        /// Pushes needed (more than 1 when another writer raced us).
        attempts: usize,
    },
    /// The same payload with the same signature was already there; nothing was pushed.
    AlreadyPresent {
        /// The signature tag.
        tag: String,
    },
    /// A layer with the same payload, certificate, chain and annotations, whose signature
    /// verifies with the same key, was already there ([`AttachOptions::signed_by`]); nothing was
    /// pushed. ECDSA signatures differ on every run, so re-signing would otherwise add a layer
    /// each time.
    Equivalent {
        /// The signature tag.
        tag: String,
        /// The index of the equivalent layer in the manifest.
        layer: usize,
    },
}

/// How [`attach_signature_with`] treats the signatures already in the manifest.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AttachOptions {
    /// The key (and algorithm) of the new signature: an existing layer with the same payload,
    /// certificate, chain and annotations whose signature verifies with it is reused.
    pub signed_by: Option<(sig_core::PublicKey, sig_core::SignatureAlgorithm)>,
}

impl AttachOptions {
    /// No reuse: only the exact same signature counts as already present.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reuses an existing layer equivalent to the new one and signed by `key` with `algorithm`
    /// (see [`AttachOutcome::Equivalent`]).
    #[must_use]
    pub fn signed_by(
        mut self,
        key: sig_core::PublicKey,
        algorithm: sig_core::SignatureAlgorithm,
    ) -> Self {
        self.signed_by = Some((key, algorithm));
        self
    }
}

/// Fetches and parses the signature manifest of `image`, `None` when there is none.
///
/// # Errors
///
/// Registry errors and [`crate::error::ManifestError`]s.
pub fn fetch_signature_manifest(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
) -> Result<Option<SignatureManifest>, Error> {
    match registry.fetch_manifest(repository, &image.signature_tag())? {
        None => Ok(None),
        Some(bytes) => Ok(Some(SignatureManifest::parse(&bytes)?)),
    }
}

/// Adds `layer` to the signatures of `image` in `repository`.
///
/// Reads the current `.sig` manifest, appends the layer unless the same signature is there,
/// pushes the payload and config blobs (concurrently where the registry client can) and the
/// manifest, then reads the manifest back (a duplicate signature pushes nothing). Registries
/// have no compare-and-swap for tags, so another writer that read the manifest before our push
/// and writes after it drops our layer (cosign itself has this race). The read-back catches
/// that: it comes after a pause as long as our own read-to-push time, from the moment our read
/// returned to the moment our push returned (at least 10 ms, at most 2 s), since a concurrent
/// writer that read before our push writes at most its own read-to-push time after its read,
/// about the same. If our layer is gone, it starts over from a fresh read, at most
/// [`MAX_ATTACH_ATTEMPTS`] times.
///
/// A manifest that already holds [`crate::signature::MAX_LAYERS`] signatures gets no more
/// ([`AttachError::TooManySignatures`], before anything is pushed).
///
/// # Errors
///
/// Registry and manifest errors (server errors are retried), [`AttachError::Conflict`] when
/// the attempts run out, [`AttachError::TooManySignatures`].
pub fn attach_signature(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    layer: &SignatureLayer,
) -> Result<AttachOutcome, Error> {
    attach_signature_with(registry, repository, image, layer, &AttachOptions::new())
}

/// [`attach_signature`], reusing an equivalent layer as `options` say.
///
/// # Errors
///
/// As [`attach_signature`].
pub fn attach_signature_with(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    layer: &SignatureLayer,
    options: &AttachOptions,
) -> Result<AttachOutcome, Error> {
    let tag = image.signature_tag();
    for attempt in 1..=MAX_ATTACH_ATTEMPTS {
        match attach_attempt(registry, repository, image, layer, options, &tag, attempt) {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) => {}
            // Registries can fail reads of a tag that is being rewritten (distribution answers
            // 500 for a manifest link caught mid-update): retry like a lost update.
            Err(Error::Registry(RegistryError::Server { .. })) if attempt < MAX_ATTACH_ATTEMPTS => {
            }
            Err(e) => return Err(e),
        }
        std::thread::sleep(Duration::from_millis(20 * attempt as u64));
    }
    Err(AttachError::Conflict { tag, attempts: MAX_ATTACH_ATTEMPTS }.into())
}

/// One read–modify–write of [`attach_signature`]: `Ok(None)` when our layer was lost.
fn attach_attempt(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    layer: &SignatureLayer,
    options: &AttachOptions,
    tag: &str,
    attempt: usize,
) -> Result<Option<AttachOutcome>, Error> {
    let descriptor = layer.descriptor();
    let existing = fetch_signature_manifest(registry, repository, image)?;
    let read = Instant::now();
    if let (Some(manifest), Some((key, algorithm))) = (&existing, &options.signed_by)
        && let Some(index) = equivalent_layer(manifest, layer, key, *algorithm)
    {
        return Ok(Some(AttachOutcome::Equivalent { tag: tag.to_owned(), layer: index }));
    }
    let Some(new_image) =
        attach::append(existing.as_ref(), &descriptor, &format!("{repository}:{tag}"))?
    else {
        let tag = tag.to_owned();
        return Ok(Some(if attempt == 1 {
            AttachOutcome::AlreadyPresent { tag }
        } else {
            let layers = existing.map_or(0, |m| m.layers().len());
            AttachOutcome::Attached { tag, layers, attempts: attempt - 1 }
        }));
    };
    let payload_digest = Digest::of(layer.payload());
    registry.push_blobs(
        repository,
        &[(&payload_digest, layer.payload()), (&new_image.config_digest, &new_image.config)],
    )?;
    registry.push_manifest(repository, tag, OCI_MANIFEST, &new_image.manifest)?;
    settle(read);
    if let Some(layers) = still_there(registry, repository, image, &descriptor)? {
        let tag = tag.to_owned();
        return Ok(Some(AttachOutcome::Attached { tag, layers, attempts: attempt }));
    }
    Ok(None)
}

/// The index of a layer of `manifest` with the payload digest and every annotation of `layer`
/// but the signature, whose signature verifies over `layer`'s payload with `key`. Each
/// candidate costs one signature check, and there are at most [`crate::signature::MAX_LAYERS`].
fn equivalent_layer(
    manifest: &SignatureManifest,
    layer: &SignatureLayer,
    key: &sig_core::PublicKey,
    algorithm: sig_core::SignatureAlgorithm,
) -> Option<usize> {
    let ours = layer.descriptor();
    let without_signature = |d: &sig_core::oci::Descriptor| {
        let mut annotations = d.annotations.clone();
        annotations.remove(crate::media_type::ANNOTATION_SIGNATURE);
        (d.media_type.clone(), d.size, d.digest.clone(), annotations)
    };
    let wanted = without_signature(&ours);
    manifest.layers().iter().position(|candidate| {
        if without_signature(candidate) != wanted {
            return false;
        }
        // Same digest, so the payload is ours: no blob to fetch.
        let Ok(existing) = SignatureLayer::from_fetched(candidate, layer.payload().to_vec()) else {
            return false;
        };
        let Ok(signature) = existing.signature_bytes() else { return false };
        if algorithm.scheme() == sig_core::SignatureScheme::Ecdsa {
            key.verify_ecdsa_der(algorithm.hash(), layer.payload(), &signature)
        } else {
            key.verify(algorithm, layer.payload(), &signature)
        }
    })
}

/// Shortest pause before the second check of a read-modify-write ([`settle`]).
const MIN_SETTLE: Duration = Duration::from_millis(10);
/// Longest pause before the second check of a read-modify-write ([`settle`]).
const MAX_SETTLE: Duration = Duration::from_secs(2);

/// The pause between pushing a read-modify-write of a tag (read at `read`) and the one check
/// that it is still there: the `.sig` manifest of [`attach_signature`] and the fallback index
/// of [`crate::bundle::remote::add_to_fallback`].
///
/// A writer that read before our push writes at most its own read-to-push time later. One
/// check after that pause: a check right after the push too would only find a loss sooner, at
/// the price of one more request on every signature.
pub(crate) fn settle(read: Instant) {
    std::thread::sleep(read.elapsed().clamp(MIN_SETTLE, MAX_SETTLE));
}

/// The number of layers when `descriptor`'s signature is in the manifest, `None` otherwise.
fn still_there(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    descriptor: &sig_core::oci::Descriptor,
) -> Result<Option<usize>, Error> {
    Ok(fetch_signature_manifest(registry, repository, image)?
        .filter(|m| m.contains(descriptor))
        .map(|m| m.layers().len()))
}

/// Fetches the signatures of `image` (in `repository`) and verifies them at `now`.
///
/// # Errors
///
/// [`VerifyError::NoSignatures`] when there is no `.sig` manifest or it has no layers,
/// [`VerifyError::NoMatchingSignatures`] with each layer's rejection when none verifies, and
/// registry and manifest errors.
pub fn verify_image(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    options: &VerifyOptions,
    now: SystemTime,
) -> Result<Vec<VerifiedSignature>, Error> {
    let name = format!("{repository}@{image}");
    let Some(manifest) = fetch_signature_manifest(registry, repository, image)? else {
        return Err(VerifyError::NoSignatures { image: name }.into());
    };
    if manifest.layers().is_empty() {
        return Err(VerifyError::NoSignatures { image: name }.into());
    }
    let mut verified = Vec::new();
    let mut rejections = Vec::new();
    for (index, descriptor) in manifest.layers().iter().enumerate() {
        let result = fetch_layer(registry, repository, descriptor)
            .and_then(|layer| verify::verify_layer(&layer, image, options, now));
        match result {
            Ok(v) => verified.push(v),
            Err(rejection) => rejections.push((index, rejection)),
        }
    }
    if verified.is_empty() {
        return Err(VerifyError::NoMatchingSignatures { image: name, rejections }.into());
    }
    Ok(verified)
}

fn fetch_layer(
    registry: &dyn Registry,
    repository: &Repository,
    descriptor: &sig_core::oci::Descriptor,
) -> Result<SignatureLayer, LayerRejection> {
    if descriptor.media_type != crate::media_type::SIMPLE_SIGNING {
        return Err(LayerRejection::NotSimpleSigning(descriptor.media_type.clone()));
    }
    if descriptor.size > MAX_PAYLOAD_LEN as u64 {
        return Err(LayerRejection::Blob(format!(
            "the payload is {} bytes; at most {MAX_PAYLOAD_LEN} are read",
            descriptor.size
        )));
    }
    let digest =
        Digest::new(&descriptor.digest).map_err(|e| LayerRejection::Blob(e.to_string()))?;
    let payload = registry
        .fetch_blob(repository, &digest, MAX_PAYLOAD_LEN as u64)
        .map_err(|e| LayerRejection::Blob(sig_core::message_with_sources(&e)))?;
    SignatureLayer::from_fetched(descriptor, payload)
}
