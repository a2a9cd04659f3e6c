//! Signature layers and the signature manifest that holds them (cosign `specs/SIGNATURE_SPEC.md`).
//!
//! One layer per signature: the blob is the raw simple-signing payload (uncompressed, so the
//! diff ID is the digest), the annotations carry the signature and optionally the certificate:
//!
//! ```text
//! {"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":245,
//!  "digest":"sha256:<sha of payload>",
//!  "annotations":{"dev.cosignproject.cosign/signature":"<std base64, one line>",
//!                 "dev.sigstore.cosign/certificate":"<leaf PEM>",
//!                 "dev.sigstore.cosign/chain":"<intermediates then root, PEM>"}}
//! ```

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sig_core::oci::{Descriptor, Digest};

use crate::error::{LayerRejection, ManifestError};
use crate::media_type::{
    ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, ANNOTATION_SIGNATURE, DOCKER_MANIFEST, OCI_MANIFEST,
    SIMPLE_SIGNING,
};

/// Largest signature manifest read (4 MiB, the OCI distribution spec's manifest limit).
pub const MAX_MANIFEST_LEN: usize = 4 << 20;
/// Most layers read from one signature manifest (cosign's limit).
pub const MAX_LAYERS: usize = 1000;

/// The signature annotation of a layer descriptor.
fn signature_of(layer: &Descriptor) -> Option<&str> {
    layer.annotations.get(ANNOTATION_SIGNATURE).map(String::as_str)
}

/// Whether two layer descriptors hold the same signature: same payload digest and same signature
/// annotation (how an append is de-duplicated).
pub(crate) fn same_signature(a: &Descriptor, b: &Descriptor) -> bool {
    a.digest == b.digest && signature_of(a) == signature_of(b)
}

/// A descriptor as go-containerregistry writes it (`v1.Descriptor`): `mediaType`, `size`,
/// `digest`, then `annotations` when there are any. The image specification's order, which
/// [`Descriptor`]'s own `Serialize` follows, puts `digest` before `size`; cosign's manifests do not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GgcrDescriptor<'a>(pub(crate) &'a Descriptor);

impl Serialize for GgcrDescriptor<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let d = self.0;
        let with_annotations = !d.annotations.is_empty();
        let mut out =
            serializer.serialize_struct("Descriptor", 3 + usize::from(with_annotations))?;
        out.serialize_field("mediaType", &d.media_type)?;
        out.serialize_field("size", &d.size)?;
        out.serialize_field("digest", &d.digest)?;
        if with_annotations {
            out.serialize_field("annotations", &d.annotations)?;
        }
        out.end()
    }
}

/// One signature: the payload, the signature and the certificates that go with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureLayer {
    payload: Vec<u8>,
    signature: String,
    certificate: Option<String>,
    chain: Option<String>,
}

impl SignatureLayer {
    /// A layer for `payload` signed with raw `signature` bytes (ECDSA in DER, as cosign stores it).
    pub fn new(payload: Vec<u8>, signature: &[u8]) -> Self {
        Self::with_base64_signature(
            payload,
            base64::engine::general_purpose::STANDARD.encode(signature),
        )
    }

    /// A layer whose signature annotation is `signature`, stored as given.
    pub fn with_base64_signature(payload: Vec<u8>, signature: String) -> Self {
        Self { payload, signature, certificate: None, chain: None }
    }

    /// Adds the signing certificate (PEM), stored in `dev.sigstore.cosign/certificate`.
    #[must_use]
    pub fn with_certificate(mut self, pem: impl Into<String>) -> Self {
        self.certificate = Some(pem.into());
        self
    }

    /// Adds the chain (PEM, intermediates then root), stored in `dev.sigstore.cosign/chain`.
    #[must_use]
    pub fn with_chain(mut self, pem: impl Into<String>) -> Self {
        self.chain = Some(pem.into());
        self
    }

    /// Reads a fetched layer: `payload` must be the blob `descriptor` names.
    ///
    /// # Errors
    ///
    /// [`LayerRejection::NotSimpleSigning`], [`LayerRejection::Blob`] when size or digest differ,
    /// [`LayerRejection::MissingSignature`].
    pub fn from_fetched(descriptor: &Descriptor, payload: Vec<u8>) -> Result<Self, LayerRejection> {
        if descriptor.media_type != SIMPLE_SIGNING {
            return Err(LayerRejection::NotSimpleSigning(descriptor.media_type.clone()));
        }
        if payload.len() as u64 != descriptor.size {
            return Err(LayerRejection::Blob(format!(
                "{} bytes, the descriptor says {}",
                payload.len(),
                descriptor.size
            )));
        }
        let actual = Digest::of(&payload);
        if actual.as_str() != descriptor.digest {
            return Err(LayerRejection::Blob(format!(
                "digest {actual}, the descriptor says {}",
                descriptor.digest
            )));
        }
        let signature = signature_of(descriptor).ok_or(LayerRejection::MissingSignature)?;
        Ok(Self {
            payload,
            signature: signature.to_owned(),
            certificate: descriptor.annotations.get(ANNOTATION_CERTIFICATE).cloned(),
            chain: descriptor.annotations.get(ANNOTATION_CHAIN).cloned(),
        })
    }

    /// The payload bytes (the layer blob).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The signature annotation as stored.
    pub fn signature_base64(&self) -> &str {
        &self.signature
    }

    /// The decoded signature. Like Go's `base64.StdEncoding`, `\r` and `\n` are ignored and
    /// padding is required.
    ///
    /// # Errors
    ///
    /// [`LayerRejection::Base64`].
    pub fn signature_bytes(&self) -> Result<Vec<u8>, LayerRejection> {
        let text: Vec<u8> =
            self.signature.bytes().filter(|b| !matches!(b, b'\r' | b'\n')).collect();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| LayerRejection::Base64)?;
        if sig.is_empty() {
            return Err(LayerRejection::Base64);
        }
        Ok(sig)
    }

    /// The certificate annotation (PEM), if any.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate.as_deref()
    }

    /// The chain annotation (PEM), if any.
    pub fn chain_pem(&self) -> Option<&str> {
        self.chain.as_deref()
    }

    /// The layer descriptor with its annotations.
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::of(SIMPLE_SIGNING, &self.payload);
        d.annotations.insert(ANNOTATION_SIGNATURE.to_owned(), self.signature.clone());
        if let Some(cert) = &self.certificate {
            d.annotations.insert(ANNOTATION_CERTIFICATE.to_owned(), cert.clone());
        }
        if let Some(chain) = &self.chain {
            d.annotations.insert(ANNOTATION_CHAIN.to_owned(), chain.clone());
        }
        d
    }
}

/// The layers of a signature manifest, read with bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureManifest {
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

impl SignatureManifest {
    /// Parses a signature manifest (OCI or Docker image manifest).
    ///
    /// # Errors
    ///
    /// [`ManifestError::TooLarge`] past [`MAX_MANIFEST_LEN`], [`ManifestError::TooManyLayers`]
    /// past [`MAX_LAYERS`], [`ManifestError::Json`], [`ManifestError::UnsupportedMediaType`] for an
    /// index.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(ManifestError::TooLarge { size: bytes.len(), max: MAX_MANIFEST_LEN });
        }
        let raw: RawManifest = serde_json::from_slice(bytes).map_err(ManifestError::Json)?;
        match raw.media_type.as_deref() {
            None | Some(OCI_MANIFEST | DOCKER_MANIFEST) => {}
            Some(other) => return Err(ManifestError::UnsupportedMediaType(other.to_owned())),
        }
        if raw.manifests.is_some() {
            return Err(ManifestError::UnsupportedMediaType("(an index)".to_owned()));
        }
        let layers = raw.layers.unwrap_or_default();
        if layers.len() > MAX_LAYERS {
            return Err(ManifestError::TooManyLayers { count: layers.len(), max: MAX_LAYERS });
        }
        Ok(Self { layers })
    }

    /// A manifest made of `layers`.
    pub fn from_layers(layers: Vec<Descriptor>) -> Self {
        Self { layers }
    }

    /// The layer descriptors, in order.
    pub fn layers(&self) -> &[Descriptor] {
        &self.layers
    }

    /// Whether a layer with the same payload digest and signature is already there.
    pub fn contains(&self, layer: &Descriptor) -> bool {
        self.layers.iter().any(|l| same_signature(l, layer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_fields_in_ggcr_order() {
        let layer =
            SignatureLayer::new(b"{}".to_vec(), b"sig").with_certificate("C").with_chain("X");
        let json = String::from_utf8(crate::go_json::to_vec(&GgcrDescriptor(&layer.descriptor())))
            .unwrap();
        assert_eq!(
            json,
            r#"{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","annotations":{"dev.cosignproject.cosign/signature":"c2ln","dev.sigstore.cosign/certificate":"C","dev.sigstore.cosign/chain":"X"}}"#
        );
    }

    #[test]
    fn base64_tolerates_newlines_like_go() {
        let layer = SignatureLayer::with_base64_signature(Vec::new(), "c2\r\nln\n".into());
        assert_eq!(layer.signature_bytes().unwrap(), b"sig");
        for bad in ["c2ln ", "c2l", "c2l=", "", "****"] {
            let layer = SignatureLayer::with_base64_signature(Vec::new(), bad.into());
            assert!(layer.signature_bytes().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn from_fetched_checks_the_blob() {
        let layer = SignatureLayer::new(b"payload".to_vec(), b"sig");
        let d = layer.descriptor();
        assert_eq!(SignatureLayer::from_fetched(&d, b"payload".to_vec()).unwrap(), layer);
        assert!(matches!(
            SignatureLayer::from_fetched(&d, b"payloae".to_vec()),
            Err(LayerRejection::Blob(_))
        ));
        assert!(matches!(
            SignatureLayer::from_fetched(&d, b"payload!".to_vec()),
            Err(LayerRejection::Blob(_))
        ));
        let mut unsigned = d.clone();
        unsigned.annotations.clear();
        assert!(matches!(
            SignatureLayer::from_fetched(&unsigned, b"payload".to_vec()),
            Err(LayerRejection::MissingSignature)
        ));
        let mut other = d;
        other.media_type = "application/octet-stream".into();
        assert!(matches!(
            SignatureLayer::from_fetched(&other, b"payload".to_vec()),
            Err(LayerRejection::NotSimpleSigning(_))
        ));
    }

    #[test]
    fn manifest_parsing_is_bounded() {
        assert!(matches!(
            SignatureManifest::parse(&vec![b' '; MAX_MANIFEST_LEN + 1]),
            Err(ManifestError::TooLarge { .. })
        ));
        let layer = r#"{"mediaType":"m","size":1,"digest":"sha256:00"}"#;
        let many = format!(r#"{{"layers":[{}]}}"#, vec![layer; MAX_LAYERS + 1].join(","));
        assert!(matches!(
            SignatureManifest::parse(many.as_bytes()),
            Err(ManifestError::TooManyLayers { count: 1001, .. })
        ));
        for bad in [
            &br#"{"layers":[{"size":-1,"digest":"x"}]}"#[..],
            br#"{"layers":[{"size":1,"digest":"x","annotations":{"k":1}}]}"#,
            br#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            br#"{"manifests":[]}"#,
            b"not json",
        ] {
            assert!(SignatureManifest::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(SignatureManifest::parse(br#"{"schemaVersion":2}"#).unwrap().layers().is_empty());
    }
}
