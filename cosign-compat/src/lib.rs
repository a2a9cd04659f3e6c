//! Cosign-compatible container image signatures from any [`sig_core::SigningKey`], without the
//! cosign CLI.
//!
//! Writes and verifies cosign's **legacy** format (`cosign sign --new-bundle-format=false`,
//! `cosign attach signature`, cosign v2, Kyverno `type: Cosign`): a simple-signing payload per
//! signature, stored as a layer of the OCI manifest tagged `sha256-<hex>.sig` next to the image
//! (cosign `specs/SIGNATURE_SPEC.md`).
//!
//! - [`payload`]: the payload, byte-identical to `cosign generate`, and its Go-style parsing.
//! - [`sign`]: cosign's schemes (RSA PKCS#1 v1.5, ECDSA in DER, SHA-256 by default) over any
//!   signer, every signature verified before use.
//! - [`attach`]: the `.sig` manifest and config exactly as go-containerregistry writes them.
//! - [`verify`]: `cosign verify` offline, with a public key or certificates chained to given roots.
//! - [`walk`]: the manifests `cosign sign --recursive` signs for an image index.
//! - [`registry`]: the [`Registry`] seam, an `oci-client` implementation (feature `registry`) and
//!   an in-memory one; [`remote`] runs attach and verify over it.
//!
//! The crate reads no files and no environment except in [`registry::credentials`], talks to the
//! network only through [`OciRegistry`], and takes the time as a parameter. [`bundle`] writes
//! and verifies cosign v3's default format (a Sigstore bundle stored as an OCI 1.1 referrer),
//! without Rekor entries or Fulcio certificates.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cosign_compat::{Digest, MemoryRegistry, Repository, SignatureLayer, SimpleSigningPayload};
//! use cosign_compat::sign::sign_payload;
//! use cosign_compat::verify::{Trust, VerificationKey, VerifyOptions};
//!
//! # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki/ec-256");
//! let key = sig_core::PrivateKey::read_file(format!("{dir}/leaf.key").as_ref(), None)?;
//! let registry = MemoryRegistry::new();
//! let repository = Repository::parse("127.0.0.1:5000/app")?;
//! let image = registry.put_manifest(&repository, Some("v1"), "application/vnd.oci.image.manifest.v1+json", b"{}");
//!
//! let payload = SimpleSigningPayload::new(&repository, image.clone()).to_bytes();
//! let signature = sign_payload(&key, &payload, None)?;
//! cosign_compat::remote::attach_signature(&registry, &repository, &image, &SignatureLayer::new(payload, &signature))?;
//!
//! let public = VerificationKey::from_bytes(&std::fs::read(format!("{dir}/leaf.pub"))?)?;
//! let options = VerifyOptions::new(Trust::Key(public));
//! let verified = cosign_compat::remote::verify_image(&registry, &repository, &image, &options, std::time::SystemTime::now())?;
//! assert_eq!(verified.len(), 1);
//! # Ok(())
//! # }
//! ```

pub mod attach;
pub mod bundle;
mod error;
mod go_json;
pub mod media_type;
pub mod payload;
mod reference;
pub mod registry;
pub mod remote;
pub mod sign;
pub mod signature;
pub mod verify;
pub mod walk;

pub use error::{
    AttachError, Error, LayerRejection, ManifestError, PayloadError, ReferenceError, RegistryError,
    SigningError, VerifyError,
};
pub use payload::{Annotations, ParsedPayload, SimpleSigningPayload};
pub use reference::{
    DOCKER_HUB, Digest, Identifier, ImageReference, Repository, SignatureTag, Transport,
    TransportPolicy, registry_is_local, registry_is_loopback, registry_is_private,
    transport_policy,
};
pub use registry::{MemoryRegistry, Registry};
#[cfg(feature = "registry")]
pub use registry::{OciRegistry, RegistryOptions};
pub use sig_core;
pub use sig_core::oci::Descriptor;
pub use signature::{SignatureLayer, SignatureManifest};
