//! Bundles over any [`Registry`]: push a bundle as a referrer of the image (and keep the
//! referrers tag schema's fallback index on registries without the Referrers API), list and
//! verify bundle referrers, and `cosign verify`'s choice between bundles and `.sig`.
//!
//! **cosign's order** (`cmd/cosign/cli/verify/verify.go`, `pkg/cosign/verify.go GetBundles`):
//! with `--new-bundle-format` (the default in v3) cosign lists the image's referrers first; if
//! at least one of them is a Sigstore bundle that parses (one layer with a bundle media type;
//! its subject and artifact type are not looked at then), it verifies **only bundles** and
//! never reads the `.sig` tag, so a `.sig` signature next to any bundle is invisible. With no
//! such bundle it verifies the `.sig` signatures. [`verify_image`] does the same. One
//! difference: a fallback tag that is not an OCI index makes cosign fall back to `.sig`
//! silently; here it is an error ([`BundleError::FallbackNotIndex`]) naming the tag.

use std::time::{Duration, Instant, SystemTime};

use super::referrer::{
    self, MAX_REFERRERS, OciDescriptor, ReferrerImage, ReferrerManifest, ReferrersIndex,
};
use super::{
    BUNDLE_PREFIX, BUNDLE_V03, Bundle, BundleError, BundleRejection, COSIGN_SIGN_PREDICATE,
    MAX_BUNDLE_LEN, VerifiedBundle, verify_bundle,
};
use crate::error::{Error, RegistryError};
use crate::media_type::{OCI_INDEX, OCI_MANIFEST};
use crate::reference::{Digest, Repository};
use crate::registry::Registry;
use crate::verify::{VerifiedSignature, VerifyOptions};

/// How many times the referrer manifest is pushed when the registry refuses it transiently.
pub const MAX_PUSH_ATTEMPTS: usize = 4;

/// How many times the fallback index is rewritten before giving up on concurrent writers.
pub const MAX_FALLBACK_ATTEMPTS: usize = 8;

/// The referrers tag schema's tag for `image`: `sha256-<hex>`.
pub fn fallback_tag(image: &Digest) -> String {
    format!("sha256-{}", image.hex())
}

/// How the referrer was made findable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Listing {
    /// The registry has the Referrers API: it lists the referrer itself.
    ReferrersApi,
    /// Added to the fallback index (`attempts` pushes; more than 1 when a concurrent writer
    /// replaced the index in between).
    FallbackAdded {
        /// The tag.
        tag: String,
        /// Pushes made.
        attempts: usize,
    },
    /// The fallback index already listed the referrer.
    FallbackAlreadyListed {
        /// The tag.
        tag: String,
    },
}

/// What [`attach_bundle`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachedBundle {
    /// The referrer manifest's digest.
    pub referrer: Digest,
    /// How it is listed.
    pub listing: Listing,
}

/// The descriptor of the manifest `image` (`mediaType` from its JSON, as the registry's HEAD
/// would answer for OCI and Docker manifests; OCI manifest when it has none).
///
/// # Errors
///
/// [`BundleError::NoImage`] when it is not in `repository`, and registry errors.
pub fn subject_descriptor(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
) -> Result<OciDescriptor, Error> {
    let Some(bytes) = registry.fetch_manifest(repository, image.as_str())? else {
        return Err(BundleError::NoImage { image: format!("{repository}@{image}") }.into());
    };
    Ok(manifest_descriptor(image, &bytes))
}

/// The descriptor of the manifest `bytes` fetched as `image`: `mediaType` from its JSON (OCI
/// manifest when it has none), its size, and `image` as the digest.
pub(crate) fn manifest_descriptor(image: &Digest, bytes: &[u8]) -> OciDescriptor {
    #[derive(serde::Deserialize)]
    struct MediaType {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
    }
    let media_type = serde_json::from_slice::<MediaType>(bytes)
        .ok()
        .and_then(|m| m.media_type)
        .unwrap_or_else(|| OCI_MANIFEST.to_owned());
    let mut descriptor = OciDescriptor::of(&media_type, bytes);
    descriptor.digest = image.to_string();
    descriptor
}

/// Pushes `bundle` as a referrer of `image` in `repository`, created at `now`: the empty
/// config and the bundle blob, the manifest by digest, then, when the registry has no
/// Referrers API, the referrer's entry in the fallback index.
///
/// The fallback index is a read–modify–write with the guarantee of
/// [`crate::remote::attach_signature`]: after the push, a pause as long as our read-to-push
/// time (10 ms to 2 s) and a re-read; if a concurrent writer replaced the index without our
/// entry, start over from a fresh read, at most [`MAX_FALLBACK_ATTEMPTS`] times. Entries of
/// other writers are always kept.
///
/// # Errors
///
/// Registry errors, [`BundleError::NoImage`], [`BundleError::FallbackNotIndex`] (nothing is
/// rewritten then), [`BundleError::Conflict`].
pub fn attach_bundle(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    bundle: &Bundle,
    now: SystemTime,
) -> Result<AttachedBundle, Error> {
    let subject = subject_descriptor(registry, repository, image)?;
    attach_bundle_with_subject(registry, repository, image, &subject, bundle, now)
}

/// [`attach_bundle`] with the image's descriptor already known (from
/// [`crate::walk::signing_targets`], or [`subject_descriptor`]): nothing is fetched before the
/// push.
///
/// # Errors
///
/// As [`attach_bundle`].
pub fn attach_bundle_with_subject(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    subject: &OciDescriptor,
    bundle: &Bundle,
    now: SystemTime,
) -> Result<AttachedBundle, Error> {
    let created = referrer::created_annotation(now);
    let referrer =
        referrer::referrer_image(bundle.to_json(), subject, COSIGN_SIGN_PREDICATE, &created);
    push_referrer(registry, repository, image, &referrer)
}

/// Pushes a built referrer (see [`attach_bundle`]).
///
/// # Errors
///
/// As [`attach_bundle`].
pub fn push_referrer(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    referrer: &ReferrerImage,
) -> Result<AttachedBundle, Error> {
    let config_digest = Digest::of(referrer::EMPTY_CONFIG);
    let bundle_digest = Digest::of(&referrer.bundle);
    // Every referrer shares the `{}` config blob. distribution, uploading the same blob for
    // concurrent signers, can briefly answer a manifest push with 400 MANIFEST_BLOB_UNKNOWN for
    // it (seen with 6 concurrent signers): push the blobs again and retry, a few times.
    for attempt in 1..=MAX_PUSH_ATTEMPTS {
        registry.push_blobs(
            repository,
            &[(&config_digest, referrer::EMPTY_CONFIG), (&bundle_digest, &referrer.bundle)],
        )?;
        match registry.push_manifest(
            repository,
            referrer.digest.as_str(),
            OCI_MANIFEST,
            &referrer.manifest,
        ) {
            Ok(()) => break,
            Err(RegistryError::Request { .. } | RegistryError::Server { .. })
                if attempt < MAX_PUSH_ATTEMPTS =>
            {
                std::thread::sleep(Duration::from_millis(50 * attempt as u64));
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The registry lists the referrer itself only with the Referrers API; a list that does not
    // hold it yet (no API, a client that merges the fallback tag in, or a registry that indexes
    // later) gets the fallback entry, which is harmless next to the API.
    let listed = registry.referrers(repository, image)?.is_some_and(|bytes| {
        ReferrersIndex::parse(&bytes).is_ok_and(|index| index.contains(referrer.digest.as_str()))
    });
    let listing = if listed {
        Listing::ReferrersApi
    } else {
        add_to_fallback(registry, repository, image, &referrer.entry)?
    };
    Ok(AttachedBundle { referrer: referrer.digest.clone(), listing })
}

fn read_fallback(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
) -> Result<Option<ReferrersIndex>, Error> {
    let tag = fallback_tag(image);
    match registry.fetch_manifest(repository, &tag)? {
        None => Ok(None),
        Some(bytes) => ReferrersIndex::parse(&bytes).map(Some).map_err(|reason| {
            BundleError::FallbackNotIndex { tag: format!("{repository}:{tag}"), reason }.into()
        }),
    }
}

/// Adds `entry` to the fallback index of `image`, keeping every other entry.
///
/// # Errors
///
/// As [`attach_bundle`].
pub fn add_to_fallback(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    entry: &OciDescriptor,
) -> Result<Listing, Error> {
    let tag = fallback_tag(image);
    for attempt in 1..=MAX_FALLBACK_ATTEMPTS {
        match fallback_attempt(registry, repository, image, entry, &tag, attempt) {
            Ok(Some(listing)) => return Ok(listing),
            Ok(None) => {}
            // A tag being rewritten can answer 500 (distribution): retry like a lost update.
            Err(Error::Registry(RegistryError::Server { .. }))
                if attempt < MAX_FALLBACK_ATTEMPTS => {}
            Err(e) => return Err(e),
        }
        std::thread::sleep(Duration::from_millis(20 * attempt as u64));
    }
    Err(BundleError::Conflict {
        tag: format!("{repository}:{tag}"),
        attempts: MAX_FALLBACK_ATTEMPTS,
    }
    .into())
}

fn fallback_attempt(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    entry: &OciDescriptor,
    tag: &str,
    attempt: usize,
) -> Result<Option<Listing>, Error> {
    let existing = read_fallback(registry, repository, image)?.unwrap_or_default();
    let read = Instant::now();
    let Some(index) = existing.with_entry(entry) else {
        let tag = tag.to_owned();
        return Ok(Some(if attempt == 1 {
            Listing::FallbackAlreadyListed { tag }
        } else {
            Listing::FallbackAdded { tag, attempts: attempt - 1 }
        }));
    };
    registry.push_manifest(repository, tag, OCI_INDEX, &index)?;
    crate::remote::settle(read);
    let listed = read_fallback(registry, repository, image)?
        .is_some_and(|index| index.contains(&entry.digest));
    Ok(listed.then(|| Listing::FallbackAdded { tag: tag.to_owned(), attempts: attempt }))
}

/// The referrers of `image`: the Referrers API's list, else the fallback index (empty when the
/// tag does not exist). At most [`MAX_REFERRERS`] entries are returned.
///
/// # Errors
///
/// Registry errors, [`BundleError::Referrers`] for an API answer that is not an index,
/// [`BundleError::FallbackNotIndex`].
pub fn list_referrers(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
) -> Result<Vec<OciDescriptor>, Error> {
    let mut index = match registry.referrers(repository, image)? {
        Some(bytes) => ReferrersIndex::parse(&bytes).map_err(|reason| BundleError::Referrers {
            image: format!("{repository}@{image}"),
            reason,
        })?,
        None => read_fallback(registry, repository, image)?.unwrap_or_default(),
    };
    index.manifests.truncate(MAX_REFERRERS);
    Ok(index.manifests)
}

/// The bundle referrers of an image, as fetched.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FetchedBundles {
    /// Bundles that parsed and whose referrer names the image with a bundle artifact type,
    /// by referrer digest.
    pub bundles: Vec<(String, Bundle)>,
    /// Referrers that look like bundles but were refused before verification, by digest.
    pub rejections: Vec<(String, BundleRejection)>,
    /// How many referrers hold a bundle that parses (cosign's test for "bundles exist",
    /// whatever their subject or artifact type).
    pub present: usize,
}

/// Fetches the bundle referrers of `image`. Referrers that are plainly something else (an
/// artifact type, manifest and layers without a bundle media type: a notation signature, an
/// SBOM) are skipped silently.
///
/// # Errors
///
/// As [`list_referrers`]; problems of one referrer are [`FetchedBundles::rejections`].
pub fn fetch_bundles(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
) -> Result<FetchedBundles, Error> {
    let mut fetched = FetchedBundles::default();
    for entry in list_referrers(registry, repository, image)? {
        if entry
            .artifact_type
            .as_deref()
            .is_some_and(|a| !a.is_empty() && !a.starts_with(BUNDLE_PREFIX))
        {
            continue;
        }
        match fetch_one(registry, repository, image, &entry.digest) {
            Ok(None) => {}
            Ok(Some((bundle, Ok(())))) => {
                fetched.present += 1;
                fetched.bundles.push((entry.digest.clone(), bundle));
            }
            Ok(Some((_, Err(rejection)))) => {
                fetched.present += 1;
                fetched.rejections.push((entry.digest.clone(), rejection));
            }
            Err(rejection) => fetched.rejections.push((entry.digest.clone(), rejection)),
        }
    }
    Ok(fetched)
}

/// One referrer: `Ok(None)` when it is not a bundle referrer at all, `Err` when it looks like
/// one but its bundle cannot be read, else the bundle and whether the referrer itself is right
/// (artifact type, subject).
#[allow(clippy::type_complexity)]
fn fetch_one(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    digest: &str,
) -> Result<Option<(Bundle, Result<(), BundleRejection>)>, BundleRejection> {
    let malformed = |reason: String| BundleRejection::Malformed { reason };
    let reference = Digest::new(digest).map_err(|e| malformed(e.to_string()))?;
    let bytes = registry
        .fetch_manifest(repository, reference.as_str())
        .map_err(|e| {
            malformed(format!("cannot fetch the manifest: {}", sig_core::message_with_sources(&e)))
        })?
        .ok_or_else(|| malformed("listed, but the manifest is not in the registry".to_owned()))?;
    if Digest::of(&bytes) != reference {
        return Err(malformed(format!(
            "the registry returned a manifest with digest {}",
            Digest::of(&bytes)
        )));
    }
    let manifest = ReferrerManifest::parse(&bytes)?;
    if !manifest.looks_like_bundle() {
        return Ok(None);
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(BundleRejection::Layer(format!(
            "{} layers; a bundle referrer has exactly one",
            manifest.layers.len()
        )));
    };
    if !layer.media_type.starts_with(BUNDLE_PREFIX) {
        return Err(BundleRejection::Layer(format!(
            "{}: media type {:?} is not a Sigstore bundle",
            layer.digest, layer.media_type
        )));
    }
    if layer.size > MAX_BUNDLE_LEN {
        return Err(BundleRejection::TooLarge {
            digest: layer.digest.clone(),
            size: layer.size,
            max: MAX_BUNDLE_LEN,
        });
    }
    let layer_digest = Digest::new(&layer.digest)
        .map_err(|e| BundleRejection::Layer(format!("{}: {e}", layer.digest)))?;
    let blob =
        registry.fetch_blob(repository, &layer_digest, MAX_BUNDLE_LEN).map_err(|source| {
            match source {
                RegistryError::TooLarge { max, .. } => {
                    BundleRejection::TooLarge { digest: layer.digest.clone(), size: max + 1, max }
                }
                source => BundleRejection::Blob { digest: layer.digest.clone(), source },
            }
        })?;
    if blob.len() as u64 != layer.size {
        return Err(BundleRejection::Layer(format!(
            "{}: the blob is {} bytes, the descriptor says {}",
            layer.digest,
            blob.len(),
            layer.size
        )));
    }
    let bundle = Bundle::parse(&blob).map_err(|e| match e {
        BundleRejection::Malformed { reason } => {
            BundleRejection::Layer(format!("{}: {reason}", layer.digest))
        }
        other => other,
    })?;
    let referrer_ok = if manifest.artifact_type != BUNDLE_V03 {
        Err(BundleRejection::ArtifactType(manifest.artifact_type.clone()))
    } else if manifest.subject.as_deref() != Some(image.as_str()) {
        Err(BundleRejection::Subject {
            image: image.to_string(),
            found: manifest.subject.clone().unwrap_or_else(|| "none".to_owned()),
        })
    } else {
        Ok(())
    };
    Ok(Some((bundle, referrer_ok)))
}

/// What [`verify_image`] verified.
#[derive(Debug)]
#[non_exhaustive]
pub enum Verified {
    /// Bundles were present, so only they were verified (`.sig` not read).
    Bundles {
        /// The bundles that verified.
        verified: Vec<VerifiedBundle>,
        /// The bundle referrers that did not.
        rejected: Vec<(String, BundleRejection)>,
    },
    /// No bundle was present: the `.sig` signatures.
    Legacy {
        /// The signatures that verified.
        verified: Vec<VerifiedSignature>,
        /// Referrers that looked like bundles but could not be read (skipped, as cosign does).
        skipped: Vec<(String, BundleRejection)>,
    },
}

/// `cosign verify` in cosign's order: with `new_bundle_format`, the bundle referrers first,
/// and only them when any is present; otherwise (or with `new_bundle_format` false) the
/// `.sig` signatures ([`crate::remote::verify_image`]).
///
/// # Errors
///
/// [`BundleError::NoMatchingBundles`] with each referrer's rejection when bundles are present
/// and none verifies; the errors of [`crate::remote::verify_image`] on the `.sig` path;
/// listing errors.
pub fn verify_image(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    options: &VerifyOptions,
    now: SystemTime,
    new_bundle_format: bool,
) -> Result<Verified, Error> {
    let mut skipped = Vec::new();
    if new_bundle_format {
        let fetched = fetch_bundles(registry, repository, image)?;
        if fetched.present == 0 {
            skipped = fetched.rejections;
        } else {
            let mut verified = Vec::new();
            let mut rejected = fetched.rejections;
            for (referrer, bundle) in fetched.bundles {
                match verify_bundle(bundle, &referrer, image, options, now) {
                    Ok(v) => verified.push(v),
                    Err(rejection) => rejected.push((referrer, rejection)),
                }
            }
            if verified.is_empty() {
                return Err(BundleError::NoMatchingBundles {
                    image: format!("{repository}@{image}"),
                    rejections: rejected,
                }
                .into());
            }
            return Ok(Verified::Bundles { verified, rejected });
        }
    }
    let verified = crate::remote::verify_image(registry, repository, image, options, now)?;
    Ok(Verified::Legacy { verified, skipped })
}

/// `cosign verify`'s standard output for verified bundles (`transformOutput`): one
/// `SimpleContainerImage` per bundle, `docker-reference` = the reference as given, `type` = the
/// predicate type, `optional` = the subject's annotations. No trailing newline.
pub fn cosign_output(verified: &[VerifiedBundle], reference: &str, image: &Digest) -> String {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        critical: Critical<'a>,
        optional: &'a crate::payload::Annotations,
    }
    #[derive(serde::Serialize)]
    struct Critical<'a> {
        identity: Identity<'a>,
        image: Image<'a>,
        #[serde(rename = "type")]
        kind: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Identity<'a> {
        #[serde(rename = "docker-reference")]
        docker_reference: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Image<'a> {
        #[serde(rename = "docker-manifest-digest")]
        digest: &'a str,
    }
    let items: Vec<String> = verified
        .iter()
        .map(|v| {
            let out = Out {
                critical: Critical {
                    identity: Identity { docker_reference: reference },
                    image: Image { digest: image.as_str() },
                    kind: &v.predicate_type,
                },
                optional: &v.annotations,
            };
            String::from_utf8_lossy(&crate::go_json::to_vec(&out)).into_owned()
        })
        .collect();
    format!("[{}]", items.join(","))
}
