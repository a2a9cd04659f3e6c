//! OCI digests, content descriptors and media types, shared by Notary and cosign signatures
//! ([OCI image specification](https://github.com/opencontainers/image-spec/blob/main/descriptor.md)).
//!
//! Notary signs a descriptor of the target artifact (see [`NotaryPayload`](crate::NotaryPayload));
//! cosign stores each signature as a layer descriptor of the `.sig` manifest. Both read and write
//! the same [`Descriptor`]; each tool writes its own byte layout around it.

use core::fmt;
use core::str::FromStr;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::HashAlgorithm;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// The OCI empty descriptor (`{}`), the config of an OCI 1.1 signature manifest.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// Docker image manifest v2 schema 2 (cosign writes it with `COSIGN_DOCKER_MEDIA_TYPES=1`).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Every manifest media type a registry may return for an image or a signature manifest.
pub const MANIFEST_TYPES: [&str; 4] =
    [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

/// A `sha256:<64 lowercase hex>` digest, the only algorithm cosign and go-containerregistry
/// accept in image references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest(String);

/// A digest that is not `sha256:<64 lowercase hex>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {digest:?}: {reason}")]
#[non_exhaustive]
pub struct DigestError {
    /// The text given.
    pub digest: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex>`.
    ///
    /// # Errors
    ///
    /// [`DigestError`] for any other algorithm, length or character.
    pub fn new(text: &str) -> Result<Self, DigestError> {
        let bad = |reason: &'static str| DigestError { digest: text.to_owned(), reason };
        let hex = text
            .strip_prefix("sha256:")
            .ok_or_else(|| bad("only sha256 digests are supported (sha256:<64 hex digits>)"))?;
        if hex.len() != 64 {
            return Err(bad("a sha256 digest has exactly 64 hex digits"));
        }
        if !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(bad("the hex digits must be lowercase 0-9a-f"));
        }
        Ok(Self(text.to_owned()))
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(HashAlgorithm::Sha256.oci_digest(data))
    }

    /// `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// An OCI content descriptor: `mediaType`, `digest`, `size` and `annotations`.
///
/// Other members (`urls`, `data`, `platform`, `artifactType`) are not kept: notation drops them
/// from the target artifact it signs (notation-go `SanitizeTargetArtifact`) and cosign's
/// signature layers do not use them. As Go's `encoding/json` decodes it, a missing `mediaType`
/// reads as empty and unknown members are ignored; `serde` writes the members in the image
/// specification's order, without `annotations` when there are none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Descriptor {
    /// Media type of the content, e.g. [`OCI_MANIFEST`].
    #[serde(default)]
    pub media_type: String,
    /// Digest of the content, `<algorithm>:<lowercase hex>`.
    pub digest: String,
    /// Size of the content in bytes.
    pub size: u64,
    /// Annotations, sorted by key; empty ones are not written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// A descriptor without annotations.
    pub fn new(media_type: impl Into<String>, digest: impl Into<String>, size: u64) -> Self {
        Self {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            annotations: BTreeMap::new(),
        }
    }

    /// The descriptor of `data`: its SHA-256 digest and length.
    pub fn of(media_type: impl Into<String>, data: &[u8]) -> Self {
        Self::new(media_type, Digest::of(data).0, data.len() as u64)
    }

    /// Adds one annotation.
    #[must_use]
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Replaces the annotations.
    #[must_use]
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Self {
        self.annotations = annotations;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

    #[test]
    fn digest_is_sha256_lowercase_hex() {
        let d: Digest = D.parse().unwrap();
        assert_eq!(d.hex(), &D[7..]);
        assert_eq!(d.to_string(), D);
        assert_eq!(Digest::of(b"{}").as_str(), Descriptor::of(OCI_CONFIG, b"{}").digest);
        for bad in ["sha512:ab", "sha256:ab", &D.to_uppercase().replace("SHA256", "sha256"), "x"] {
            let err = Digest::new(bad).unwrap_err();
            assert_eq!(err.digest, bad);
            assert!(err.to_string().starts_with("invalid digest"), "{err}");
        }
    }

    #[test]
    fn descriptor_reads_like_go() {
        let d: Descriptor =
            serde_json::from_str(r#"{"size":2,"digest":"sha256:00","urls":["x"]}"#).unwrap();
        assert_eq!(d, Descriptor::new("", "sha256:00", 2));
        let d = Descriptor::new("m", "sha256:00", 1).annotation("k", "v");
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"mediaType":"m","digest":"sha256:00","size":1,"annotations":{"k":"v"}}"#
        );
    }
}
