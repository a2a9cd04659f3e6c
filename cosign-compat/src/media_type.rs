//! Media types, annotation keys and other wire names of cosign's legacy signature format
//! (cosign `pkg/types/media.go`, `pkg/oci/static/*.go`, `specs/SIGNATURE_SPEC.md`).

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// The OCI and Docker media types, defined once in [`sig_core::oci`] for Notary and cosign.
pub use sig_core::oci::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_TYPES, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};

/// Layer annotation with the std base64 (padded, single line) signature. Required.
pub const ANNOTATION_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation with the PEM signing certificate.
pub const ANNOTATION_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation with the PEM chain: intermediates first, root last.
pub const ANNOTATION_CHAIN: &str = "dev.sigstore.cosign/chain";
/// Layer annotation with a Rekor bundle (not written here).
pub const ANNOTATION_BUNDLE: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation with an RFC 3161 timestamp (not written here).
pub const ANNOTATION_RFC3161_TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// `critical.type` of a cosign simple-signing payload.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

/// Suffix of the tag signatures are stored under (`sha256-<hex>.sig`).
pub const SIGNATURE_TAG_SUFFIX: &str = "sig";

/// Fulcio's OIDC issuer extension (DER `UTF8String`), `1.3.6.1.4.1.57264.1.8`.
pub const OID_FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// Fulcio's older OIDC issuer extension (raw string), `1.3.6.1.4.1.57264.1.1`; cosign prints it
/// as `Issuer` in `cosign verify` output.
pub const OID_FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
