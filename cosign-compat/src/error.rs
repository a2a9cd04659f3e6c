//! Error types. Each module returns its narrowest enum; [`Error`] nests them all.

use std::path::PathBuf;

use sig_core::{HashAlgorithm, KeySpec};

/// Any error from this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An image reference could not be parsed.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A simple-signing payload could not be built, parsed or checked.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A signature manifest could not be parsed.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Attaching a signature failed.
    #[error(transparent)]
    Attach(#[from] AttachError),
    /// Verification failed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A registry operation failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A Sigstore bundle operation failed.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    /// Walking an image index for recursive signing failed.
    #[error(transparent)]
    Walk(#[from] crate::walk::WalkError),
}

/// An image reference that go-containerregistry would not accept either.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The reference as a whole is malformed.
    #[error("could not parse reference {reference:?}: {reason}")]
    Invalid {
        /// The reference.
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// The repository part is malformed.
    #[error("invalid repository {repository:?}: {reason}")]
    Repository {
        /// The repository path.
        repository: String,
        /// What is wrong.
        reason: String,
    },
    /// The registry part is malformed.
    #[error("invalid registry {registry:?}: {reason}")]
    Registry {
        /// The registry.
        registry: String,
        /// What is wrong.
        reason: String,
    },
    /// The tag is malformed.
    #[error("invalid tag {tag:?}: {reason}")]
    Tag {
        /// The tag.
        tag: String,
        /// What is wrong.
        reason: String,
    },
    /// The digest is malformed or not sha256.
    #[error("invalid digest {digest:?}: {reason}")]
    Digest {
        /// The digest.
        digest: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A simple-signing payload or annotation flag is malformed, or its claims do not hold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// An `-a key=value` flag without `=`, or a bad CSV quote (cosign's pflag parsing).
    #[error("unable to parse annotation {flag:?}: {reason}")]
    Annotation {
        /// The flag value.
        flag: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The payload is larger than a verifier accepts.
    #[error("payload of {size} bytes is larger than the {max}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The payload is not JSON.
    #[error("payload is not valid JSON")]
    Json(#[source] serde_json::Error),
    /// A member has a type Go's `json.Unmarshal` would reject.
    #[error("payload member {field} is a JSON {found}, expected {expected}")]
    FieldType {
        /// The member path, e.g. `critical.image.docker-manifest-digest`.
        field: &'static str,
        /// The expected type.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// The payload claims another image (cosign: "invalid or missing digest in claim").
    #[error(
        "invalid or missing digest in claim: the payload signs {}, but the image is {expected}",
        found.as_deref().unwrap_or("no digest")
    )]
    DigestMismatch {
        /// The image digest.
        expected: String,
        /// `critical.image.docker-manifest-digest`, if any.
        found: Option<String>,
    },
    /// A required annotation is missing or different (cosign: "missing or incorrect annotation").
    #[error(
        "missing or incorrect annotation {key:?}: wanted {expected:?}, the payload has {}",
        found.as_ref().map_or_else(|| "none".to_owned(), |f| format!("{f:?}"))
    )]
    AnnotationMismatch {
        /// The annotation key.
        key: String,
        /// The value asked for.
        expected: String,
        /// The value in `optional`, as JSON, if any.
        found: Option<String>,
    },
}

/// Signing failed, or the signing material does not fit together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The signer failed or its signature did not verify.
    #[error(transparent)]
    Sign(#[from] sig_core::SignError),
    /// A key could not be loaded.
    #[error(transparent)]
    Key(#[from] sig_core::KeyError),
    /// A certificate or chain could not be loaded.
    #[error(transparent)]
    Certificate(#[from] sig_core::CertificateError),
    /// P-384 and P-521 keys need an explicit hash: cosign verifies with SHA-256 by default,
    /// sigstore-rs with the curve's own hash.
    #[error(
        "a {key_spec} key needs --signature-digest-algorithm: cosign and Kyverno verify with sha256 unless told otherwise, sigstore-rs with {}; pass --signature-digest-algorithm {} (and the same flag to cosign verify), or use an RSA or P-256 key",
        key_spec.hash().short_name(), key_spec.hash().short_name()
    )]
    DigestRequired {
        /// The key.
        key_spec: KeySpec,
    },
    /// The key cannot sign with this hash.
    #[error("a {key_spec} key cannot sign with {hash} here; use --signature-digest-algorithm {}", key_spec.hash().short_name())]
    UnsupportedDigest {
        /// The key.
        key_spec: KeySpec,
        /// The hash asked for.
        hash: HashAlgorithm,
    },
    /// The certificate chain file holds only CA certificates.
    #[error(
        "the certificate chain has no signing certificate (its first certificate {subject:?} is a CA); give the leaf with --certificate"
    )]
    NoLeaf {
        /// Subject of the certificate taken as the leaf.
        subject: String,
    },
    /// The certificate chain would not pass `cosign verify --certificate-chain`.
    #[error("the certificate chain would not verify with cosign: {reason}")]
    Chain {
        /// What is wrong.
        reason: String,
    },
}

/// A signature manifest that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Larger than the limit.
    #[error("signature manifest of {size} bytes is larger than the {max}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// More layers than the limit.
    #[error("signature manifest has {count} layers; at most {max} are read")]
    TooManyLayers {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Not a JSON image manifest.
    #[error("signature manifest is not a valid image manifest")]
    Json(#[source] serde_json::Error),
    /// An index or other non-image manifest under the signature tag.
    #[error("signature manifest has media type {0:?}; expected an OCI or Docker image manifest")]
    UnsupportedMediaType(String),
    /// A descriptor is malformed.
    #[error("signature manifest layer {index}: {reason}")]
    Layer {
        /// Layer position.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Attaching a signature failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// Other writers kept replacing the signature manifest.
    #[error(
        "the signature manifest {tag} was rewritten by another signer {attempts} times while ours was pushed; try again"
    )]
    Conflict {
        /// The signature tag.
        tag: String,
        /// How many times we pushed.
        attempts: usize,
    },
    /// The signature manifest already holds as many layers as cosign reads: one more and cosign
    /// and cosign-compat refuse every signature of the image.
    #[error(
        "{tag} already holds {max} signatures, the most cosign reads: one more would make cosign and cosign-compat refuse every signature of this image, so nothing was pushed. Signing the same image again adds a layer each time (ECDSA signatures differ on every run), so sign an image once per key and annotations; to start over, delete {tag} (e.g. `crane delete` or `cosign clean --type signature`) and sign again"
    )]
    TooManySignatures {
        /// The signature tag (`repository:sha256-<hex>.sig`).
        tag: String,
        /// The limit ([`crate::signature::MAX_LAYERS`]).
        max: usize,
    },
    /// The signature is empty or not decodable.
    #[error("invalid signature: {reason}")]
    Signature {
        /// What is wrong.
        reason: String,
    },
    /// The signature does not verify with the given certificate.
    #[error(
        "the signature does not verify with the public key of the certificate {subject:?} ({scheme}); cosign verify would reject it"
    )]
    SignatureMismatch {
        /// Subject of the certificate.
        subject: String,
        /// The scheme tried.
        scheme: String,
    },
}

/// Why one signature layer was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerRejection {
    /// Not a simple-signing layer.
    #[error("media type {0:?} is not a simple-signing payload")]
    NotSimpleSigning(String),
    /// The layer has no signature annotation.
    #[error("no dev.cosignproject.cosign/signature annotation")]
    MissingSignature,
    /// The signature annotation is not base64.
    #[error("the signature annotation is not standard base64")]
    Base64,
    /// The payload blob is not what the descriptor says.
    #[error("payload blob does not match its descriptor: {0}")]
    Blob(String),
    /// The payload does not parse or its claims fail.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The signature does not verify.
    #[error("the signature does not verify with {key} ({scheme})")]
    BadSignature {
        /// The key used (`"the given public key"`, `"certificate \"CN=…\""`).
        key: String,
        /// The scheme, e.g. `"RSASSA-PKCS1-V1_5-SHA-256"`.
        scheme: String,
    },
    /// No certificate on the layer and none given.
    #[error("no certificate found on the signature (dev.sigstore.cosign/certificate)")]
    NoCertificate,
    /// A certificate annotation or the certificate key is unusable.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The certificate does not chain to a trusted root under cosign's rules.
    #[error("certificate chain: {0}")]
    Chain(String),
    /// The certificate's SANs match no wanted identity.
    #[error("none of the certificate's identities [{}] matches {wanted}", sans.join(", "))]
    Identity {
        /// The SANs of the certificate.
        sans: Vec<String>,
        /// The identities asked for.
        wanted: String,
    },
    /// The certificate's OIDC issuer does not match.
    #[error("certificate OIDC issuer {found:?} does not match {wanted}")]
    Issuer {
        /// The issuer found (`""` when the extension is absent).
        found: String,
        /// The issuers asked for.
        wanted: String,
    },
}

/// Verification failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The image has no `.sig` manifest (cosign exit code 10).
    #[error("no signatures found for {image}")]
    NoSignatures {
        /// The image.
        image: String,
    },
    /// No layer verified (cosign exit code 12).
    #[error(
        "no matching signatures for {image}:{}",
        rejections.iter().map(|(i, r)| format!("\n  signature {i}: {r}")).collect::<String>()
    )]
    NoMatchingSignatures {
        /// The image.
        image: String,
        /// Each layer's rejection, by layer index.
        rejections: Vec<(usize, LayerRejection)>,
    },
    /// The public key given for verification is unusable.
    #[error("cannot use the public key: {reason}")]
    PublicKey {
        /// What is wrong.
        reason: String,
    },
    /// A trust-root or certificate file is unusable.
    #[error(transparent)]
    Certificate(#[from] sig_core::CertificateError),
    /// An identity regular expression does not compile.
    #[error("invalid regular expression {pattern:?}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// The compile error.
        #[source]
        source: regex::Error,
    },
    /// Certificate verification was asked for without any trust root.
    #[error(
        "no trust roots: give --certificate-chain (intermediates then root) or --ca-roots to verify certificates offline"
    )]
    NoRoots,
}

impl VerifyError {
    /// cosign's exit code for this error (`cmd/cosign/errors/exit_codes.go`): 10 no signatures,
    /// 12 no matching signature, 13 no certificate on the signature, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NoSignatures { .. } => 10,
            Self::NoMatchingSignatures { rejections, .. }
                if !rejections.is_empty()
                    && rejections
                        .iter()
                        .all(|(_, r)| matches!(r, LayerRejection::NoCertificate)) =>
            {
                13
            }
            Self::NoMatchingSignatures { .. } => 12,
            _ => 1,
        }
    }
}

/// A registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The manifest or blob does not exist.
    #[error("{reference} not found")]
    NotFound {
        /// What was asked for.
        reference: String,
    },
    /// The registry refused our credentials (or we had none).
    #[error(
        "not authorized for {reference}: log in with `docker login {registry}` (credentials are read from $DOCKER_CONFIG/config.json or ~/.docker/config.json)"
    )]
    Unauthorized {
        /// What was asked for.
        reference: String,
        /// The registry.
        registry: String,
    },
    /// A manifest or blob larger than the limit.
    #[error("{reference} is larger than the {max}-byte limit")]
    TooLarge {
        /// What was fetched.
        reference: String,
        /// The limit.
        max: u64,
    },
    /// The registry returned content that does not match its digest.
    #[error("{reference}: content digest {actual} does not match {expected}")]
    DigestMismatch {
        /// What was fetched.
        reference: String,
        /// The digest asked for.
        expected: String,
        /// The digest of what came back.
        actual: String,
    },
    /// The registry answered with a server error (HTTP 5xx); often transient.
    #[error("{operation} {reference}: the registry answered HTTP {status}: {message}")]
    Server {
        /// `"fetch manifest"`, `"push blob"`, ….
        operation: &'static str,
        /// What was asked for.
        reference: String,
        /// The HTTP status.
        status: u16,
        /// The response body, bounded.
        message: String,
    },
    /// The registry's TLS certificate is not trusted.
    #[error(
        "{operation} {reference}: the TLS certificate of {registry} is not trusted: add the CA that issued it to the system's trust store or name a PEM bundle with SSL_CERT_FILE (--allow-insecure-registry skips the check)"
    )]
    UntrustedCertificate {
        /// `"fetch manifest"`, `"push blob"`, ….
        operation: &'static str,
        /// What was asked for.
        reference: String,
        /// The registry.
        registry: String,
        /// The TLS error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Any other transport or protocol failure.
    #[error("{operation} {reference} failed")]
    Request {
        /// `"fetch manifest"`, `"push blob"`, ….
        operation: &'static str,
        /// What was asked for.
        reference: String,
        /// The client error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The async runtime could not be started.
    #[error("cannot start the registry client runtime")]
    Runtime(#[source] std::io::Error),
    /// The registry client (oci-client) gave up on an answer it could not handle (it panicked,
    /// for example on a token with a line break from the registry's token service); the process
    /// goes on and reports this instead.
    #[error(
        "{operation} {reference}: the registry client failed on an answer from {registry} or its token service that it cannot handle ({detail}); check that {registry} is the registry you meant"
    )]
    ClientFailed {
        /// `"fetch manifest"`, `"push blob"`, ….
        operation: &'static str,
        /// What was asked for.
        reference: String,
        /// The registry.
        registry: String,
        /// The client's own words, bounded.
        detail: String,
    },
    /// The registry is reached over plain HTTP and asks for the credentials the docker config
    /// holds for it, which are not sent in clear without `--allow-http-registry`.
    #[error(
        "{registry} asks for credentials over plain HTTP: the credentials for it in {config} are not sent in clear. Serve the registry over HTTPS, or pass --allow-http-registry to send them anyway"
    )]
    CredentialsOverHttp {
        /// The registry.
        registry: String,
        /// The docker config file the credentials come from.
        config: String,
    },
    /// The docker config file is unreadable or malformed.
    #[error("cannot read registry credentials from {path}: {reason}")]
    Credentials {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}
