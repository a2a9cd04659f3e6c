//! `cosign sign --recursive`: the manifests that signing an image index covers.
//!
//! cosign v3.1.3 (`cmd/cosign/cli/sign/sign.go`, `pkg/oci/walk`, `pkg/oci/mutate/map.go`)
//! walks the index depth first and signs, in this order:
//!
//! ```text
//! index                         signed first (before its children)
//! ├── image manifest (amd64)    signed (OCI or Docker image manifest, attestation manifests too:
//! ├── image manifest (arm64)      buildx's are OCI image manifests for platform unknown/unknown)
//! └── nested index              signed, then its own children, before the next sibling
//!     └── image manifest        signed
//! ```
//!
//! A child whose descriptor has any other media type (an artifact manifest, a Docker schema 1
//! manifest, none) stops cosign with "unknown mime type"; [`signing_targets`] refuses it too,
//! naming the child and its index. Without `--recursive` cosign signs only the digest given
//! (for an index, the index alone): callers then do not walk.
//!
//! Differences, on purpose:
//! - Every manifest is fetched and checked before anything is signed, so a child that cannot
//!   be fetched fails the command before the first push (cosign has signed the index and the
//!   earlier children by then).
//! - The walk is bounded by count: at most `max_manifests` manifests are listed in all (the
//!   image, plus every entry of every index walked, duplicates included). An index past that is
//!   refused as soon as it is read, before any of its children is fetched. cosign has no bound.
//! - A digest listed twice (two indexes sharing a child) is signed once; cosign signs it again.
//! - Each fetched manifest must hash to the digest it was fetched by (go-containerregistry
//!   checks that too); a registry that answers with other content cannot make the walk loop.

use std::collections::HashSet;

use serde::Deserialize;

use crate::bundle::referrer::OciDescriptor;
use crate::bundle::remote::manifest_descriptor;
use crate::error::RegistryError;
use crate::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use crate::reference::{Digest, Repository};
use crate::registry::Registry;

/// The default of `max_manifests` in [`signing_targets`]: far above any multi-platform image
/// (a few platforms, each with an attestation manifest), far below what would make a signing
/// run unbounded.
pub const DEFAULT_MAX_MANIFESTS: usize = 1000;

/// One manifest to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignTarget {
    /// Its digest.
    pub digest: Digest,
    /// Its descriptor (media type from its JSON, size): the `subject` of a bundle referrer.
    pub descriptor: OciDescriptor,
    /// The index that lists it; `None` for the image the walk started from.
    pub index: Option<Digest>,
}

/// Why [`signing_targets`] refused to walk an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalkError {
    /// The image the walk starts from is not in the registry.
    #[error("the image {image} is not in the registry")]
    NotFound {
        /// `repository@digest`.
        image: String,
    },
    /// A manifest listed in an index is not in the registry.
    #[error("manifest {child} listed in index {index} is not in the registry")]
    ChildNotFound {
        /// The child's digest.
        child: String,
        /// `repository@digest` of the index.
        index: String,
    },
    /// A manifest listed in an index could not be fetched.
    #[error("cannot fetch manifest {child} listed in index {index}")]
    ChildFetch {
        /// The child's digest.
        child: String,
        /// `repository@digest` of the index.
        index: String,
        /// The registry error.
        #[source]
        source: Box<RegistryError>,
    },
    /// The registry answered a manifest request with other content.
    #[error("the registry answered {manifest} with content whose digest is {actual}")]
    DigestMismatch {
        /// `repository@digest` asked for.
        manifest: String,
        /// The digest of what came back.
        actual: String,
    },
    /// An index lists a child that is neither an image manifest nor an index.
    #[error(
        "index {index} lists {child} with media type {media_type:?}, which is neither an image manifest nor an image index (cosign refuses it too: unknown mime type)"
    )]
    UnsupportedChild {
        /// `repository@digest` of the index.
        index: String,
        /// The child's digest.
        child: String,
        /// Its media type in the index (empty when it has none).
        media_type: String,
    },
    /// The image the walk starts from is neither an image manifest nor an index.
    #[error(
        "{image} has media type {media_type:?}: only image manifests and image indexes can be signed recursively"
    )]
    UnsupportedImage {
        /// `repository@digest`.
        image: String,
        /// Its media type.
        media_type: String,
    },
    /// An index lists a digest that is not `sha256:<64 hex>`.
    #[error("index {index} lists an unusable digest {digest:?}")]
    InvalidDigest {
        /// `repository@digest` of the index.
        index: String,
        /// The digest text.
        digest: String,
        /// Why it is unusable.
        #[source]
        source: sig_core::oci::DigestError,
    },
    /// A manifest listed as an index is not an image index.
    #[error("{index} is listed as an image index but is not one: {reason}")]
    NotAnIndex {
        /// `repository@digest`.
        index: String,
        /// What is wrong.
        reason: String,
    },
    /// The walk would list more manifests than allowed.
    #[error(
        "signing {image} recursively would walk more than {max} manifests (index {index} brings the count to {listed}); refused before fetching them"
    )]
    TooManyManifests {
        /// `repository@digest` the walk started from.
        image: String,
        /// `repository@digest` of the index whose entries passed the limit.
        index: String,
        /// Manifests listed so far, that index's entries included.
        listed: usize,
        /// The limit.
        max: usize,
    },
}

/// What a manifest is, for the walk.
enum Kind {
    Image,
    Index,
}

fn kind_of(media_type: &str) -> Option<Kind> {
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => Some(Kind::Image),
        OCI_INDEX | DOCKER_MANIFEST_LIST => Some(Kind::Index),
        _ => None,
    }
}

#[derive(Deserialize)]
struct IndexIn {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    // `null` reads as empty, as in Go.
    #[serde(default)]
    manifests: Option<Vec<OciDescriptor>>,
}

/// The manifests `cosign sign --recursive` signs for `image` in `repository`, in cosign's
/// order (see the module documentation): `image` first, then, when it is an image index, every
/// manifest it lists, nested indexes depth first. At most `max_manifests` manifests are listed
/// in all ([`DEFAULT_MAX_MANIFESTS`]); each is fetched once.
///
/// The image's own kind comes from its `mediaType` (or, without one, from whether it has a
/// `manifests` list), a child's from its descriptor in the index, as in cosign.
///
/// # Errors
///
/// [`WalkError`] naming the manifest at fault (wrapped in [`crate::Error::Walk`]), and registry
/// errors fetching `image` itself. Nothing is signed or pushed here.
pub fn signing_targets(
    registry: &dyn Registry,
    repository: &Repository,
    image: &Digest,
    max_manifests: usize,
) -> Result<Vec<SignTarget>, crate::Error> {
    let name = |digest: &Digest| format!("{repository}@{digest}");
    let Some(bytes) = registry.fetch_manifest(repository, image.as_str())? else {
        return Err(WalkError::NotFound { image: name(image) }.into());
    };
    check_digest(repository, image, &bytes)?;
    let mut descriptor = manifest_descriptor(image, &bytes);
    let root_kind = match kind_of(&descriptor.media_type) {
        // An OCI index need not carry its mediaType (cosign goes by the registry's
        // Content-Type, the index type for anything pushed as one): a `manifests` list says it.
        Some(Kind::Image) if has_manifests_list(&bytes) => {
            OCI_INDEX.clone_into(&mut descriptor.media_type);
            Kind::Index
        }
        Some(kind) => kind,
        None => {
            return Err(WalkError::UnsupportedImage {
                image: name(image),
                media_type: descriptor.media_type,
            }
            .into());
        }
    };
    let mut targets = vec![SignTarget { digest: image.clone(), descriptor, index: None }];
    if matches!(root_kind, Kind::Image) {
        return Ok(targets);
    }
    let mut listed = 1usize;
    let mut seen = HashSet::from([image.to_string()]);
    let limit = |index: &Digest, listed: usize| WalkError::TooManyManifests {
        image: name(image),
        index: name(index),
        listed,
        max: max_manifests,
    };
    let entries = index_entries(repository, image, &bytes)?;
    listed = listed.saturating_add(entries.len());
    if listed > max_manifests {
        return Err(limit(image, listed).into());
    }
    // Depth first, an index before its children: a stack of (index, its remaining entries).
    let mut stack = vec![(image.clone(), entries.into_iter())];
    while let Some((index, entries)) = stack.last_mut() {
        let Some(entry) = entries.next() else {
            stack.pop();
            continue;
        };
        let index = index.clone();
        let child = Digest::new(&entry.digest).map_err(|source| WalkError::InvalidDigest {
            index: name(&index),
            digest: entry.digest.clone(),
            source,
        })?;
        let Some(kind) = kind_of(&entry.media_type) else {
            return Err(WalkError::UnsupportedChild {
                index: name(&index),
                child: child.to_string(),
                media_type: entry.media_type,
            }
            .into());
        };
        if !seen.insert(child.to_string()) {
            continue;
        }
        let bytes = match registry.fetch_manifest(repository, child.as_str()) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Err(WalkError::ChildNotFound {
                    child: child.to_string(),
                    index: name(&index),
                }
                .into());
            }
            Err(source) => {
                return Err(WalkError::ChildFetch {
                    child: child.to_string(),
                    index: name(&index),
                    source: Box::new(source),
                }
                .into());
            }
        };
        check_digest(repository, &child, &bytes)?;
        let descriptor = manifest_descriptor(&child, &bytes);
        if matches!(kind, Kind::Index) {
            let entries = index_entries(repository, &child, &bytes)?;
            listed = listed.saturating_add(entries.len());
            if listed > max_manifests {
                return Err(limit(&child, listed).into());
            }
            stack.push((child.clone(), entries.into_iter()));
        }
        targets.push(SignTarget { digest: child, descriptor, index: Some(index) });
    }
    Ok(targets)
}

fn check_digest(repository: &Repository, digest: &Digest, bytes: &[u8]) -> Result<(), WalkError> {
    let actual = Digest::of(bytes);
    if actual == *digest {
        return Ok(());
    }
    Err(WalkError::DigestMismatch {
        manifest: format!("{repository}@{digest}"),
        actual: actual.to_string(),
    })
}

/// Whether a manifest without a known `mediaType` is an index (it has a `manifests` list).
fn has_manifests_list(bytes: &[u8]) -> bool {
    serde_json::from_slice::<IndexIn>(bytes)
        .is_ok_and(|i| i.media_type.is_none() && i.manifests.is_some())
}

fn index_entries(
    repository: &Repository,
    index: &Digest,
    bytes: &[u8],
) -> Result<Vec<OciDescriptor>, WalkError> {
    let parsed: IndexIn = serde_json::from_slice(bytes).map_err(|e| WalkError::NotAnIndex {
        index: format!("{repository}@{index}"),
        reason: format!("not image index JSON: {e}"),
    })?;
    if let Some(media_type) = parsed.media_type.filter(|m| matches!(kind_of(m), Some(Kind::Image)))
    {
        return Err(WalkError::NotAnIndex {
            index: format!("{repository}@{index}"),
            reason: format!("its mediaType is {media_type:?}"),
        });
    }
    Ok(parsed.manifests.unwrap_or_default())
}
