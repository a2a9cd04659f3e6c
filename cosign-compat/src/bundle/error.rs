//! Errors of the bundle format.

use crate::error::RegistryError;

/// Why one bundle referrer was not accepted. The caller names the referrer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleRejection {
    /// The referrer manifest or the bundle blob is malformed.
    #[error("{reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The referrer's `artifactType` is not a Sigstore bundle.
    #[error("artifactType {0:?} is not application/vnd.dev.sigstore.bundle.v0.3+json")]
    ArtifactType(String),
    /// The referrer's `subject` is another manifest.
    #[error("its subject is {found}, not the image {image}")]
    Subject {
        /// The image verified.
        image: String,
        /// The subject digest found (`"none"` when absent).
        found: String,
    },
    /// The referrer does not have exactly one bundle layer.
    #[error("layer: {0}")]
    Layer(String),
    /// The bundle blob is larger than [`super::MAX_BUNDLE_LEN`].
    #[error("layer {digest}: the bundle is {size} bytes; at most {max} are read")]
    TooLarge {
        /// The layer digest.
        digest: String,
        /// The size the descriptor (or the registry) claims.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The bundle blob could not be fetched.
    #[error("layer {digest}: {source}")]
    Blob {
        /// The layer digest.
        digest: String,
        /// The registry error.
        #[source]
        source: RegistryError,
    },
    /// The DSSE payload type is not in-toto.
    #[error("DSSE payloadType {0:?} is not application/vnd.in-toto+json")]
    PayloadType(String),
    /// No statement subject names the image.
    #[error(
        "the statement is for {}, not for the image {image}",
        if found.is_empty() { "no sha256 subject".to_owned() } else { found.join(", ") }
    )]
    SubjectDigest {
        /// The image verified.
        image: String,
        /// The sha256 subjects found.
        found: Vec<String>,
    },
    /// A wanted annotation is missing from the subject or differs.
    #[error("the statement subject lacks annotation {key}={want}")]
    Annotation {
        /// The key.
        key: String,
        /// The wanted value.
        want: String,
    },
    /// The signature does not verify.
    #[error("the DSSE signature does not verify with {key} ({scheme})")]
    BadSignature {
        /// What was used.
        key: String,
        /// The scheme tried.
        scheme: String,
    },
    /// The certificate in the verification material does not hold the given public key.
    #[error("the bundle's certificate {subject:?} does not hold the given public key")]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// Certificate trust was asked for, but the bundle has only a public key hint.
    #[error("the bundle has only a public key hint, no certificate to chain to the trusted roots")]
    NoCertificate,
    /// The certificate material is unusable or untrusted.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The certificate's identity or issuer does not match.
    #[error(transparent)]
    Identity(crate::error::LayerRejection),
}

/// A bundle operation failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// No bundle referrer verified (cosign exit code 12).
    #[error(
        "no matching bundle signatures for {image}:{}",
        rejections.iter().map(|(r, why)| format!("\n  referrer {r}: {why}")).collect::<String>()
    )]
    NoMatchingBundles {
        /// The image.
        image: String,
        /// Each bundle referrer's rejection, by referrer digest.
        rejections: Vec<(String, BundleRejection)>,
    },
    /// The referrers fallback tag holds something that is not an OCI image index.
    #[error(
        "the referrers fallback tag {tag} is not an OCI image index: {reason}; delete that tag or move it aside"
    )]
    FallbackNotIndex {
        /// `repository:sha256-<hex>`.
        tag: String,
        /// What it is.
        reason: String,
    },
    /// The referrers list from the registry is unusable.
    #[error("the referrers of {image} cannot be listed: {reason}")]
    Referrers {
        /// The image.
        image: String,
        /// What is wrong.
        reason: String,
    },
    /// Concurrent writers kept replacing the fallback index.
    #[error("the referrers fallback tag {tag} changed under us {attempts} times; retry")]
    Conflict {
        /// The tag.
        tag: String,
        /// Attempts made.
        attempts: usize,
    },
    /// The image to sign is not in the registry.
    #[error("the image {image} is not in the registry")]
    NoImage {
        /// The image.
        image: String,
    },
}

impl BundleError {
    /// cosign's exit code for this error (12: no matching signatures), else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NoMatchingBundles { .. } => 12,
            _ => 1,
        }
    }
}
