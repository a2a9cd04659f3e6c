//! Building the signature image (manifest and config) that cosign stores under
//! `sha256-<hex>.sig`. Pure: no registry access here (see [`crate::remote`]).
//!
//! What go-containerregistry writes for `mutate.Append(empty.Image, layers...)`, byte for byte:
//!
//! ```text
//! manifest {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
//!           "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":N,"digest":"sha256:…"},
//!           "layers":[<one descriptor per signature>]}
//! config   {"architecture":"","created":"0001-01-01T00:00:00Z",
//!           "history":[{"created":"0001-01-01T00:00:00Z"}, …one per layer],
//!           "os":"","rootfs":{"type":"layers","diff_ids":["sha256:<payload sha>", …]},"config":{}}
//! ```
//!
//! Appending keeps the existing layers in order and adds ours at the end, unless the same
//! payload with the same signature is already there (cosign itself would add a duplicate).

use std::collections::BTreeMap;

use serde::Serialize;
use sig_core::oci::{Descriptor, Digest};

use crate::error::AttachError;
use crate::go_json;
use crate::media_type::{OCI_CONFIG, OCI_MANIFEST};
use crate::signature::{GgcrDescriptor, MAX_LAYERS, SignatureManifest, same_signature};

/// Go's zero `time.Time`, which go-containerregistry writes for images without a timestamp.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A signature image ready to push: the config blob, then the manifest under the signature tag.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureImage {
    /// The layers, in order.
    pub layers: Vec<Descriptor>,
    /// The config blob.
    pub config: Vec<u8>,
    /// The config blob's digest.
    pub config_digest: Digest,
    /// The manifest (media type [`OCI_MANIFEST`]).
    pub manifest: Vec<u8>,
}

/// An OCI image manifest in go-containerregistry's field order, with descriptors of type `D`:
/// the `.sig` manifest here (no referrer fields) and the bundle referrer
/// ([`crate::bundle::referrer::referrer_image`]), which sets them.
#[derive(Serialize)]
pub(crate) struct ManifestOut<'a, D> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    config: D,
    layers: Vec<D>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) annotations: Option<BTreeMap<&'static str, &'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<&'a D>,
    #[serde(rename = "artifactType", skip_serializing_if = "Option::is_none")]
    pub(crate) artifact_type: Option<&'static str>,
}

impl<D> ManifestOut<'_, D> {
    /// A schema 2 [`OCI_MANIFEST`] of `config` and `layers`, without referrer fields.
    pub(crate) fn new(config: D, layers: Vec<D>) -> Self {
        Self {
            schema_version: 2,
            media_type: OCI_MANIFEST,
            config,
            layers,
            annotations: None,
            subject: None,
            artifact_type: None,
        }
    }
}

#[derive(Serialize)]
struct ConfigOut<'a> {
    architecture: &'static str,
    created: &'static str,
    history: Vec<HistoryOut>,
    os: &'static str,
    rootfs: RootFsOut<'a>,
    config: EmptyObject,
}

#[derive(Serialize)]
struct HistoryOut {
    created: &'static str,
}

#[derive(Serialize)]
struct RootFsOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<&'a str>,
}

#[derive(Serialize)]
struct EmptyObject {}

/// The signature image holding exactly `layers`.
pub fn signature_image(layers: Vec<Descriptor>) -> SignatureImage {
    let config = go_json::to_vec(&ConfigOut {
        architecture: "",
        created: ZERO_TIME,
        history: layers.iter().map(|_| HistoryOut { created: ZERO_TIME }).collect(),
        os: "",
        rootfs: RootFsOut {
            kind: "layers",
            // Layers are stored uncompressed, so the diff ID is the blob digest.
            diff_ids: layers.iter().map(|l| l.digest.as_str()).collect(),
        },
        config: EmptyObject {},
    });
    let config_descriptor = Descriptor::of(OCI_CONFIG, &config);
    let manifest = go_json::to_vec(&ManifestOut::new(
        GgcrDescriptor(&config_descriptor),
        layers.iter().map(GgcrDescriptor).collect(),
    ));
    SignatureImage { config_digest: Digest::of(&config), layers, config, manifest }
}

/// The image to push to add `layer` to `existing` (the current signature manifest, if any), or
/// `None` when the same signature is already there.
///
/// # Errors
///
/// [`AttachError::TooManySignatures`] when `existing` already has [`MAX_LAYERS`] layers: cosign
/// (and [`SignatureManifest::parse`]) refuse a manifest with more, and so every signature of the
/// image. `tag` names the manifest in the error.
pub fn append(
    existing: Option<&SignatureManifest>,
    layer: &Descriptor,
    tag: &str,
) -> Result<Option<SignatureImage>, AttachError> {
    let mut layers = existing.map(|m| m.layers().to_vec()).unwrap_or_default();
    if layers.iter().any(|l| same_signature(l, layer)) {
        return Ok(None);
    }
    if layers.len() >= MAX_LAYERS {
        return Err(AttachError::TooManySignatures { tag: tag.to_owned(), max: MAX_LAYERS });
    }
    layers.push(layer.clone());
    Ok(Some(signature_image(layers)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::SignatureLayer;

    #[test]
    fn one_layer_image_has_ggcr_shape() {
        let layer = SignatureLayer::new(b"{}".to_vec(), b"sig").descriptor();
        let image = signature_image(vec![layer]);
        let config = String::from_utf8(image.config.clone()).unwrap();
        assert_eq!(
            config,
            r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"]},"config":{}}"#
        );
        let manifest = String::from_utf8(image.manifest).unwrap();
        assert!(manifest.starts_with(&format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":{},"digest":"{}"}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json""#,
            config.len(),
            image.config_digest
        )));
    }

    #[test]
    fn append_adds_at_the_end_and_skips_duplicates() {
        let a = SignatureLayer::new(b"a".to_vec(), b"1").descriptor();
        let b = SignatureLayer::new(b"b".to_vec(), b"2").descriptor();
        let same_payload_other_sig = SignatureLayer::new(b"a".to_vec(), b"3").descriptor();
        let first = append(None, &a, "t").unwrap().unwrap();
        assert_eq!(first.layers.len(), 1);
        assert_eq!(first.layers[0], a);
        let existing = SignatureManifest::parse(&first.manifest).unwrap();
        assert!(append(Some(&existing), &a, "t").unwrap().is_none());
        let second = append(Some(&existing), &b, "t").unwrap().unwrap();
        assert_eq!(second.layers, [a, b]);
        let third = append(Some(&existing), &same_payload_other_sig, "t").unwrap().unwrap();
        assert_eq!(third.layers.len(), 2);
        let config = String::from_utf8(second.config).unwrap();
        assert_eq!(config.matches(r#"{"created":"0001-01-01T00:00:00Z"}"#).count(), 2);
    }

    /// Issue 14, item 5: a 1001st layer made cosign and cosign-compat refuse every signature.
    #[test]
    fn append_refuses_a_layer_past_the_limit_and_still_finds_duplicates() {
        let layer = |n: usize| SignatureLayer::new(n.to_string().into_bytes(), b"s").descriptor();
        let full = SignatureManifest::from_layers((0..MAX_LAYERS).map(layer).collect());
        let err = append(Some(&full), &layer(MAX_LAYERS), "r/app:sha256-ab.sig").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, AttachError::TooManySignatures { max: MAX_LAYERS, .. }), "{text}");
        assert!(text.contains("r/app:sha256-ab.sig already holds 1000 signatures"), "{text}");
        assert!(text.contains("one more would make cosign"), "{text}");
        assert!(text.contains("delete r/app:sha256-ab.sig"), "{text}");
        // The same signature again is still "already there", not an error.
        assert!(append(Some(&full), &layer(7), "t").unwrap().is_none());
        let almost = SignatureManifest::from_layers((0..MAX_LAYERS - 1).map(layer).collect());
        let last = append(Some(&almost), &layer(MAX_LAYERS), "t").unwrap().unwrap();
        assert_eq!(last.layers.len(), MAX_LAYERS);
        assert!(SignatureManifest::parse(&last.manifest).is_ok(), "cosign reads 1000 layers");
    }
}
