//! The referrer manifest a bundle is stored in, and the referrers tag schema's fallback index.
//! Pure: building and parsing only.
//!
//! What cosign v3.1.3 writes (`pkg/oci/remote/write.go WriteAttestationNewBundleFormat`,
//! `WriteReferrer`, `referrerManifest`; Go `encoding/json` of go-containerregistry's
//! `v1.Manifest` with cosign's outer `artifactType` last), pushed by digest:
//!
//! ```text
//! {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
//!  "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,
//!            "digest":"sha256:44136fa3…","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},
//!  "layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":N,"digest":"sha256:…"}],
//!  "annotations":{"dev.sigstore.bundle.content":"dsse-envelope",
//!                 "dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1",
//!                 "org.opencontainers.image.created":"2026-12-07T17:00:00Z"},
//!  "subject":{"mediaType":"<image manifest type>","size":N,"digest":"sha256:<image>"},
//!  "artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}
//! ```
//!
//! The config blob is `{}`. On registries without the Referrers API, go-containerregistry
//! (`pkg/v1/remote/write.go commitSubjectReferrers`) keeps an OCI index under the tag
//! `sha256-<hex>` of the subject: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
//! "manifests":[{"mediaType":…,"size":…,"digest":…,"artifactType":…}, …]}`, entries sorted by
//! digest, a digest listed once.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{BUNDLE_PREFIX, BUNDLE_V03, BundleRejection};
use crate::attach::ManifestOut;
use crate::go_json;
use crate::media_type::{OCI_INDEX, OCI_MANIFEST};
use crate::reference::Digest;

/// Media type of the empty config (`{}`).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The empty config blob.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// Referrer annotation: what the bundle holds (`dsse-envelope`).
pub const ANNOTATION_CONTENT: &str = "dev.sigstore.bundle.content";
/// Referrer annotation: the statement's predicate type.
pub const ANNOTATION_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
/// Referrer annotation: creation time, RFC 3339 in UTC, seconds.
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// Most entries of a referrers list that are looked at.
pub const MAX_REFERRERS: usize = 1000;

/// A descriptor as go-containerregistry's `v1.Descriptor` writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OciDescriptor {
    /// Media type.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// Size.
    #[serde(default)]
    pub size: u64,
    /// Digest.
    #[serde(default)]
    pub digest: String,
    /// Inline data (kept when re-writing an index).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data: Option<String>,
    /// URLs (kept when re-writing an index).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub urls: Option<Vec<String>>,
    /// Annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Platform (kept when re-writing an index).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub platform: Option<serde_json::Value>,
    /// Artifact type.
    #[serde(rename = "artifactType", skip_serializing_if = "Option::is_none", default)]
    pub artifact_type: Option<String>,
}

impl OciDescriptor {
    /// A descriptor of `data` with `media_type`.
    pub fn of(media_type: &str, data: &[u8]) -> Self {
        Self {
            media_type: media_type.to_owned(),
            size: data.len() as u64,
            digest: Digest::of(data).to_string(),
            data: None,
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: None,
        }
    }
}

/// A referrer ready to push: the config and bundle blobs, then the manifest by digest.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReferrerImage {
    /// The bundle blob (the one layer).
    pub bundle: Vec<u8>,
    /// The manifest.
    pub manifest: Vec<u8>,
    /// The manifest's digest (its reference in the registry).
    pub digest: Digest,
    /// The fallback index entry for this referrer.
    pub entry: OciDescriptor,
}

/// The referrer manifest cosign writes for `bundle` about `subject` (the image's descriptor),
/// created at `created` ([`created_annotation`]).
pub fn referrer_image(
    bundle: Vec<u8>,
    subject: &OciDescriptor,
    predicate_type: &str,
    created: &str,
) -> ReferrerImage {
    let mut config = OciDescriptor::of(OCI_EMPTY, EMPTY_CONFIG);
    config.artifact_type = Some(BUNDLE_V03.to_owned());
    let annotations = BTreeMap::from([
        (ANNOTATION_CONTENT, "dsse-envelope"),
        (ANNOTATION_PREDICATE_TYPE, predicate_type),
        (ANNOTATION_CREATED, created),
    ]);
    let mut manifest = ManifestOut::new(config, vec![OciDescriptor::of(BUNDLE_V03, &bundle)]);
    manifest.annotations = Some(annotations);
    manifest.subject = Some(subject);
    manifest.artifact_type = Some(BUNDLE_V03);
    let manifest = go_json::to_vec(&manifest);
    let mut entry = OciDescriptor::of(OCI_MANIFEST, &manifest);
    entry.artifact_type = Some(BUNDLE_V03.to_owned());
    ReferrerImage { digest: Digest::of(&manifest), bundle, manifest, entry }
}

/// `org.opencontainers.image.created` for `now`: RFC 3339, UTC, whole seconds (Go's
/// `time.Now().UTC().Format(time.RFC3339)`).
pub fn created_annotation(now: SystemTime) -> String {
    sig_core::__private::timestamp::rfc3339(now)
}

/// A referrer manifest as read back.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReferrerManifest {
    /// `artifactType`, else the config media type (OCI image spec).
    pub artifact_type: String,
    /// The subject's digest, if any.
    pub subject: Option<String>,
    /// The layers.
    pub layers: Vec<OciDescriptor>,
}

#[derive(Deserialize)]
struct ManifestIn {
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<OciDescriptor>,
    #[serde(default)]
    layers: Vec<OciDescriptor>,
    #[serde(default)]
    subject: Option<OciDescriptor>,
}

impl ReferrerManifest {
    /// Parses a referrer manifest.
    ///
    /// # Errors
    ///
    /// [`BundleRejection::Malformed`].
    pub fn parse(bytes: &[u8]) -> Result<Self, BundleRejection> {
        let m: ManifestIn = serde_json::from_slice(bytes).map_err(|e| {
            BundleRejection::Malformed { reason: format!("the manifest is not OCI JSON: {e}") }
        })?;
        let artifact_type = m
            .artifact_type
            .filter(|a| !a.is_empty())
            .or_else(|| m.config.map(|c| c.media_type))
            .unwrap_or_default();
        Ok(Self { artifact_type, subject: m.subject.map(|s| s.digest), layers: m.layers })
    }

    /// Whether anything marks this referrer as a Sigstore bundle (artifact type or a layer).
    pub fn looks_like_bundle(&self) -> bool {
        self.artifact_type.starts_with(BUNDLE_PREFIX)
            || self.layers.iter().any(|l| l.media_type.starts_with(BUNDLE_PREFIX))
    }
}

/// A referrers list: the Referrers API's answer or the fallback tag's index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReferrersIndex {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// [`OCI_INDEX`].
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// The referrers (`null`, as olareg answers for none, reads as empty, as in Go).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub manifests: Vec<OciDescriptor>,
    /// Index annotations (kept).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Index subject (kept).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<OciDescriptor>,
    /// Index artifact type (kept).
    #[serde(rename = "artifactType", skip_serializing_if = "Option::is_none", default)]
    pub artifact_type: Option<String>,
}

impl ReferrersIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self {
            schema_version: 2,
            media_type: OCI_INDEX.to_owned(),
            manifests: Vec::new(),
            annotations: None,
            subject: None,
            artifact_type: None,
        }
    }

    /// Parses an OCI image index, as go-containerregistry checks the fallback tag's
    /// (schema version 2, media type [`OCI_INDEX`]).
    ///
    /// # Errors
    ///
    /// What is wrong, as text.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let index: Self =
            serde_json::from_slice(bytes).map_err(|e| format!("not an OCI image index ({e})"))?;
        if index.schema_version != 2 {
            return Err(format!("schemaVersion is {}, not 2", index.schema_version));
        }
        if index.media_type != OCI_INDEX {
            return Err(format!("mediaType is {:?}, not {OCI_INDEX}", index.media_type));
        }
        Ok(index)
    }

    /// Whether `digest` is listed.
    pub fn contains(&self, digest: &str) -> bool {
        self.manifests.iter().any(|m| m.digest == digest)
    }

    /// The index with `entry` added and the entries sorted by digest, serialised as
    /// go-containerregistry does; `None` when its digest is already listed.
    pub fn with_entry(&self, entry: &OciDescriptor) -> Option<Vec<u8>> {
        if self.contains(&entry.digest) {
            return None;
        }
        let mut index = self.clone();
        index.manifests.push(entry.clone());
        index.manifests.sort_by(|a, b| a.digest.cmp(&b.digest));
        Some(go_json::to_vec(&index))
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<OciDescriptor>, D::Error> {
    Ok(Option::<Vec<OciDescriptor>>::deserialize(d)?.unwrap_or_default())
}

impl Default for ReferrersIndex {
    fn default() -> Self {
        Self::new()
    }
}
