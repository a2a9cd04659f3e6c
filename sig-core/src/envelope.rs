//! Notary signature envelopes, JWS and COSE, as notation v1.3 writes and reads them.
//!
//! Signing is two-phase (as coset): [`SigningInput::new`] builds the exact bytes to sign (pure),
//! a [`CertifiedKey`] signs them, [`SigningInput::assemble`] builds the envelope. [`sign`] does all
//! three with the checks notation makes (chain rules at the signing time, every signature verified
//! against the leaf certificate, the finished envelope parsed and verified again).
//!
//! [`verify`] works on the bytes as received (the JWS `protected` segment and the COSE protected
//! `bstr` are never re-encoded) and checks, in notation's order:
//!
//! ```text
//! parse (bounded: 32 MiB, 16 certificates)
//! → leaf = chain[0]
//! → alg is a Notary algorithm and equals the one the leaf key requires
//! → signature over the signing input with the leaf public key
//! → header rules: crit, signing scheme, signing time, expiry > signing time
//! → content type is application/vnd.cncf.notary.payload.v1+json
//! → payload is a Notary payload v1
//! → chain rules (notation.x509: at `now`; signingAuthority: at the authentic signing time)
//! → some chain certificate is byte-identical to a trust anchor
//! → `now` is before the expiry
//! ```
//!
//! Not done here: RFC 3161 timestamp verification (the token is returned, unverified), trust
//! policy (registry scopes, trusted identities), revocation, and comparing the payload with the
//! artifact; callers do these with the [`VerifiedEnvelope`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let pki = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki/ec-256");
//! use std::path::Path;
//! use std::time::Duration;
//!
//! use sig_core::envelope::{self, EnvelopeFormat};
//! use sig_core::oci::Descriptor;
//! use sig_core::{CertificateChain, CertifiedKey, NotaryPayload, PrivateKey, SignRequest};
//!
//! let key = PrivateKey::read_file(Path::new(&format!("{pki}/leaf.key")), None)?;
//! let chain = CertificateChain::read_pem_file(Path::new(&format!("{pki}/certificate_chain.pem")))?;
//! let signer = CertifiedKey::new(chain, key)?;
//! let chain = signer.chain();
//! let signed_at = chain.certificates().iter().map(|c| c.not_before()).max().ok_or("no cert")?
//!     + Duration::from_secs(60);
//!
//! let target = Descriptor::new(
//!     "application/vnd.oci.image.manifest.v1+json",
//!     "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
//!     481,
//! );
//! let request = SignRequest::new(NotaryPayload::new(target), signed_at)
//!     .with_expiry(signed_at + Duration::from_secs(86_400))
//!     .with_signing_agent("example/1.0");
//! let cose = envelope::sign(EnvelopeFormat::Cose, &request, &signer)?;
//!
//! let trust_store = sig_core::TrustAnchors::from(chain.root().clone());
//! let now = signed_at + Duration::from_secs(3600);
//! let verified = envelope::verify(EnvelopeFormat::Cose, &cose, &trust_store, now)?;
//! assert_eq!(verified.payload().target_artifact.size, 481);
//! # Ok(())
//! # }
//! ```
//!
//! Formats: [JWS](https://github.com/notaryproject/specifications/blob/main/specs/signature-envelope-jws.md)
//! (RFC 7515), [COSE](https://github.com/notaryproject/specifications/blob/main/specs/signature-envelope-cose.md)
//! (RFC 9052).

mod cbor;
mod cose;
mod json;
mod jws;

use core::fmt;
use core::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::algorithm::{KeySpec, SignatureAlgorithm};
use crate::error::{EnvelopeError, Error, SignRequestProblem};
use crate::media_type;
use crate::payload::NotaryPayload;
use crate::signer::{CertifiedKey, SigningKey as _};
use crate::trust::TrustAnchors;
use crate::x509::{Certificate, CertificateChain};

/// Largest envelope [`verify`] reads (notation's limit for a signature blob).
pub const MAX_ENVELOPE_LEN: usize = 32 << 20;

/// Most certificates accepted in an envelope's chain.
pub(crate) const MAX_CHAIN_LEN: usize = crate::x509::MAX_CHAIN_LEN;

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of RFC 3339 times.
const MIN_UNIX_SECONDS: i64 = -62_135_596_800;
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// The two envelope formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EnvelopeFormat {
    /// JWS JSON serialization (flattened), `application/jose+json`.
    Jws,
    /// `COSE_Sign1_Tagged`, `application/cose`.
    Cose,
}

impl EnvelopeFormat {
    /// Both formats.
    pub const ALL: [Self; 2] = [Self::Jws, Self::Cose];

    /// The media type of the signature layer.
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Jws => media_type::JWS,
            Self::Cose => media_type::COSE,
        }
    }

    /// The format of a signature layer's media type.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::UnsupportedFormat`] for any other media type.
    pub fn from_media_type(media_type: &str) -> Result<Self, EnvelopeError> {
        Self::ALL
            .into_iter()
            .find(|f| f.media_type() == media_type)
            .ok_or_else(|| EnvelopeError::UnsupportedFormat(media_type.to_owned()))
    }

    /// `"JWS"` or `"COSE"`, as used in messages.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Jws => "JWS",
            Self::Cose => "COSE",
        }
    }
}

impl fmt::Display for EnvelopeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EnvelopeFormat {
    type Err = EnvelopeError;

    /// Parses `jws` / `cose` (any case, as `notation sign --signature-format`) or a media type.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .map_or_else(|| Self::from_media_type(s), Ok)
    }
}

/// The Notary signing scheme (signing-scheme.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningScheme {
    /// `notary.x509`: the signing time is the signer's claim; the chain must be valid when
    /// verifying. What notation and its plugins produce.
    #[default]
    X509,
    /// `notary.x509.signingAuthority`: a signing authority asserts the signing time
    /// (`authenticSigningTime`); the chain must be valid at that time.
    X509SigningAuthority,
}

impl SigningScheme {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::X509 => media_type::SCHEME_X509,
            Self::X509SigningAuthority => media_type::SCHEME_SIGNING_AUTHORITY,
        }
    }

    /// The protected header that carries the signing time under this scheme.
    pub(crate) const fn time_header(self) -> &'static str {
        match self {
            Self::X509 => media_type::SIGNING_TIME,
            Self::X509SigningAuthority => media_type::AUTHENTIC_SIGNING_TIME,
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        [Self::X509, Self::X509SigningAuthority].into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for SigningScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is signed: a Notary payload, or payload bytes given as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignPayload {
    /// Written as notation writes it: keys sorted for JWS
    /// ([`NotaryPayload::to_json`]), OCI field order for COSE
    /// ([`NotaryPayload::to_json_in_field_order`]).
    Notary(NotaryPayload),
    /// Bytes that should already be a Notary payload (a plugin's `generate-envelope` request
    /// carries them so). COSE embeds them verbatim; JWS requires a JSON object and re-encodes it
    /// as notation does (Go map: keys sorted, numbers as float64).
    Raw(Vec<u8>),
}

impl From<NotaryPayload> for SignPayload {
    fn from(payload: NotaryPayload) -> Self {
        Self::Notary(payload)
    }
}

impl From<Vec<u8>> for SignPayload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Raw(bytes)
    }
}

/// A signed attribute beyond the ones Notary defines (a protected header).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExtendedAttribute {
    /// The header name (COSE integer labels are given in decimal).
    pub key: String,
    /// The value. COSE values are shown as JSON: byte strings as standard base64, tags dropped.
    pub value: serde_json::Value,
    /// Whether the attribute is listed in `crit`. A verifier that does not process a critical
    /// attribute must reject the signature (notation hands them to a verification plugin).
    pub critical: bool,
}

impl ExtendedAttribute {
    /// An attribute.
    pub fn new(
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
        critical: bool,
    ) -> Self {
        Self { key: key.into(), value: value.into(), critical }
    }
}

/// What to sign and the signed attributes, for either format.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SignRequest {
    /// The payload.
    pub payload: SignPayload,
    /// The signing time; truncated to whole seconds (as notation does).
    pub signing_time: SystemTime,
    /// The expiry, if any; truncated to whole seconds and later than the signing time.
    pub expiry: Option<SystemTime>,
    /// The signing scheme (default `notary.x509`).
    pub signing_scheme: SigningScheme,
    /// The unprotected `io.cncf.notary.signingAgent`, e.g. `"external-signer/0.1.0"`.
    pub signing_agent: Option<String>,
    /// Extra signed attributes, in order (critical ones are listed in `crit` in this order).
    pub extended_attributes: Vec<ExtendedAttribute>,
}

impl SignRequest {
    /// A `notary.x509` request without expiry, signing agent or extended attributes.
    pub fn new(payload: impl Into<SignPayload>, signing_time: SystemTime) -> Self {
        Self {
            payload: payload.into(),
            signing_time,
            expiry: None,
            signing_scheme: SigningScheme::X509,
            signing_agent: None,
            extended_attributes: Vec::new(),
        }
    }

    /// Sets the expiry.
    #[must_use]
    pub fn with_expiry(mut self, expiry: SystemTime) -> Self {
        self.expiry = Some(expiry);
        self
    }

    /// Sets the signing agent.
    #[must_use]
    pub fn with_signing_agent(mut self, agent: impl Into<String>) -> Self {
        self.signing_agent = Some(agent.into());
        self
    }

    /// Sets the signing scheme.
    #[must_use]
    pub fn with_signing_scheme(mut self, scheme: SigningScheme) -> Self {
        self.signing_scheme = scheme;
        self
    }

    /// Adds an extended attribute.
    #[must_use]
    pub fn with_extended_attribute(mut self, attribute: ExtendedAttribute) -> Self {
        self.extended_attributes.push(attribute);
        self
    }
}

/// The signed attributes of a request, validated and truncated to whole seconds.
#[derive(Clone, Debug)]
pub(crate) struct Attributes<'a> {
    pub(crate) algorithm: SignatureAlgorithm,
    pub(crate) scheme: SigningScheme,
    pub(crate) signing_time: i64,
    pub(crate) expiry: Option<i64>,
    pub(crate) extended: &'a [ExtendedAttribute],
}

/// The bytes to sign for one envelope, and what is needed to assemble it afterwards.
#[derive(Clone, Debug)]
pub struct SigningInput {
    format: EnvelopeFormat,
    algorithm: SignatureAlgorithm,
    signing_time: SystemTime,
    signing_agent: Option<String>,
    parts: Parts,
    bytes: Vec<u8>,
}

#[derive(Clone, Debug)]
enum Parts {
    /// The base64url `protected` and `payload` segments.
    Jws { protected: String, payload: String },
    /// The protected header map bytes and the payload.
    Cose { protected: Vec<u8>, payload: Vec<u8> },
}

impl SigningInput {
    /// Builds the signing input of `request` for a signature with `algorithm` (pure):
    /// JWS `BASE64URL(protected) "." BASE64URL(payload)`, or the COSE
    /// `Sig_structure` `["Signature1", protected, h'', payload]`.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::UnsupportedAlgorithm`] for a non-Notary algorithm and
    /// [`EnvelopeError::InvalidSignRequest`] (a [`SignRequestProblem`]) for an empty payload, a
    /// signing time before 1970 or after 9999, an expiry not after the signing time, a JWS payload
    /// that is not a JSON object, or an extended attribute that repeats a header.
    pub fn new(
        format: EnvelopeFormat,
        request: &SignRequest,
        algorithm: SignatureAlgorithm,
    ) -> Result<Self, EnvelopeError> {
        if algorithm.notary_name().is_none() {
            return Err(EnvelopeError::UnsupportedAlgorithm {
                format,
                algorithm: algorithm.to_string(),
            });
        }
        let invalid = EnvelopeError::InvalidSignRequest;
        let signing_time = signing_seconds(request.signing_time).map_err(|before_1970| {
            invalid(SignRequestProblem::SigningTimeOutOfRange { before_1970 })
        })?;
        let expiry = request
            .expiry
            .map(|t| {
                signing_seconds(t).map_err(|before_1970| {
                    invalid(SignRequestProblem::ExpiryOutOfRange { before_1970 })
                })
            })
            .transpose()?;
        if let Some(expiry) = expiry.filter(|&e| e <= signing_time) {
            return Err(invalid(SignRequestProblem::ExpiryNotAfterSigningTime {
                expiry: seconds_to_time(expiry).unwrap_or(UNIX_EPOCH),
                signing_time: seconds_to_time(signing_time).unwrap_or(UNIX_EPOCH),
            }));
        }
        let mut keys: Vec<&str> = Vec::new();
        for attribute in &request.extended_attributes {
            if attribute.key.is_empty() {
                return Err(invalid(SignRequestProblem::EmptyAttributeName));
            }
            if RESERVED_HEADERS.contains(&attribute.key.as_str())
                || keys.contains(&attribute.key.as_str())
            {
                return Err(invalid(SignRequestProblem::RepeatedHeader(attribute.key.clone())));
            }
            keys.push(&attribute.key);
        }
        let payload = match &request.payload {
            SignPayload::Notary(p) if format == EnvelopeFormat::Jws => p.to_json(),
            SignPayload::Notary(p) => p.to_json_in_field_order(),
            SignPayload::Raw(bytes) if format == EnvelopeFormat::Jws => {
                crate::gojson::remarshal_object(bytes)
                    .map_err(|e| invalid(SignRequestProblem::PayloadNotJsonObject(e)))?
            }
            SignPayload::Raw(bytes) => bytes.clone(),
        };
        if payload.is_empty() {
            return Err(invalid(SignRequestProblem::EmptyPayload));
        }
        let attributes = Attributes {
            algorithm,
            scheme: request.signing_scheme,
            signing_time,
            expiry,
            extended: &request.extended_attributes,
        };
        let (parts, bytes) = match format {
            EnvelopeFormat::Jws => {
                let (protected, payload) = jws::segments(&attributes, &payload)?;
                let bytes = format!("{protected}.{payload}").into_bytes();
                (Parts::Jws { protected, payload }, bytes)
            }
            EnvelopeFormat::Cose => {
                let protected = cose::protected_header(&attributes)?;
                let bytes = cose::sig_structure(&protected, &payload);
                (Parts::Cose { protected, payload }, bytes)
            }
        };
        Ok(Self {
            format,
            algorithm,
            signing_time: seconds_to_time(signing_time).unwrap_or(UNIX_EPOCH),
            signing_agent: request.signing_agent.clone(),
            parts,
            bytes,
        })
    }

    /// The bytes the signer signs (not pre-hashed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The envelope format.
    pub fn format(&self) -> EnvelopeFormat {
        self.format
    }

    /// The signature algorithm named in the protected header.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The signing time as signed (whole seconds).
    pub fn signing_time(&self) -> SystemTime {
        self.signing_time
    }

    /// Builds the envelope from the signature over [`as_bytes`](Self::as_bytes) (pure; the
    /// signature is not checked here).
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::InvalidSignRequest`] for an empty signature.
    pub fn assemble(
        &self,
        signature: &[u8],
        chain: &CertificateChain,
    ) -> Result<Vec<u8>, EnvelopeError> {
        if signature.is_empty() {
            return Err(EnvelopeError::InvalidSignRequest(SignRequestProblem::EmptySignature));
        }
        let agent = self.signing_agent.as_deref();
        Ok(match &self.parts {
            Parts::Jws { protected, payload } => {
                jws::assemble(protected, payload, signature, chain, agent)
            }
            Parts::Cose { protected, payload } => {
                cose::assemble(protected, payload, signature, chain, agent)?
            }
        })
    }
}

/// Headers an extended attribute may not repeat.
const RESERVED_HEADERS: [&str; 9] = [
    "alg",
    "crit",
    "cty",
    media_type::SIGNING_SCHEME,
    media_type::SIGNING_TIME,
    media_type::AUTHENTIC_SIGNING_TIME,
    media_type::EXPIRY,
    media_type::SIGNING_AGENT,
    media_type::TIMESTAMP_SIGNATURE,
];

/// Signs `request` into an envelope with `signer`, as notation does.
///
/// Checks that the leaf certificate's key spec is the signer's, builds the signing input with the
/// key spec's algorithm, validates the signer's chain at the signing time (notation's rules), signs
/// with `signer` (every signature is verified against the leaf), assembles the
/// envelope, and parses and verifies the result once more, as notation does before it pushes.
///
/// # Errors
///
/// [`Error::Envelope`] for the request's problems and [`EnvelopeError::AlgorithmMismatch`] when
/// the signer's key spec is not the leaf's, [`Error::Certificate`] for a chain that breaks
/// notation's rules at the signing time, [`Error::Key`] for a leaf key of no Notary key spec,
/// [`Error::Sign`] when the signer fails or its signature does not verify.
pub fn sign(
    format: EnvelopeFormat,
    request: &SignRequest,
    signer: &CertifiedKey,
) -> Result<Vec<u8>, Error> {
    let key_spec = signer.key_spec();
    let chain = signer.chain();
    let leaf_spec = chain.leaf().public_key()?.key_spec();
    if leaf_spec != key_spec {
        return Err(Error::from(EnvelopeError::AlgorithmMismatch {
            header: key_spec.notary_algorithm(),
            derived: leaf_spec.notary_algorithm(),
            key_spec: leaf_spec,
        }));
    }
    let input = SigningInput::new(format, request, key_spec.notary_algorithm())?;
    chain.validate(input.signing_time())?;
    let signature = signer.sign(input.algorithm(), input.as_bytes())?;
    let envelope = input.assemble(&signature, chain)?;
    decode(format, &envelope)?;
    Ok(envelope)
}

/// A verified envelope: what was signed, by whom, and when.
#[derive(Clone, Debug)]
pub struct VerifiedEnvelope {
    format: EnvelopeFormat,
    payload: NotaryPayload,
    decoded: Decoded,
    chain: CertificateChain,
    key_spec: KeySpec,
}

impl VerifiedEnvelope {
    /// The envelope format.
    pub fn format(&self) -> EnvelopeFormat {
        self.format
    }

    /// The signed payload, parsed.
    pub fn payload(&self) -> &NotaryPayload {
        &self.payload
    }

    /// The signed payload bytes, exactly as in the envelope.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.decoded.payload
    }

    /// The signing time (`signingTime`, or `authenticSigningTime` under the signing authority
    /// scheme).
    pub fn signing_time(&self) -> SystemTime {
        self.decoded.signing_time
    }

    /// The expiry, if the signature has one.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.decoded.expiry
    }

    /// The signing scheme.
    pub fn signing_scheme(&self) -> SigningScheme {
        self.decoded.scheme
    }

    /// The certificate chain, leaf first, as in the envelope.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.decoded.algorithm
    }

    /// The key spec of the signing certificate.
    pub fn key_spec(&self) -> KeySpec {
        self.key_spec
    }

    /// The unprotected signing agent, if any (not covered by the signature).
    pub fn signing_agent(&self) -> Option<&str> {
        self.decoded.signing_agent.as_deref()
    }

    /// The unprotected RFC 3161 timestamp token, if any. **Not verified** by this crate.
    pub fn timestamp_signature(&self) -> Option<&[u8]> {
        self.decoded.timestamp_signature.as_deref()
    }

    /// Signed attributes beyond Notary's own. Critical ones must be processed by the caller, or
    /// the signature rejected.
    pub fn extended_attributes(&self) -> &[ExtendedAttribute] {
        &self.decoded.extended
    }

    /// The signature bytes (`r || s` for ECDSA).
    pub fn signature(&self) -> &[u8] {
        &self.decoded.signature
    }
}

/// Verifies an envelope of `format` at time `now` against `trust_anchors`.
///
/// The chain must contain a certificate byte-identical to one of `trust_anchors` (notation's
/// authenticity check against its trust store); [`TrustAnchors`] is never empty, so this check
/// always runs. [`dangerous::verify_without_trust_anchors`] is the one way to skip it.
///
/// Verify an envelope against a trust store:
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/envelopes");
/// use std::path::Path;
/// use std::time::{Duration, SystemTime};
///
/// use sig_core::TrustAnchors;
/// use sig_core::envelope::{self, EnvelopeFormat};
///
/// // The trust store: the certificates whose chains are trusted (PEM bundle or DER).
/// let trust_store =
///     TrustAnchors::read_pem_file(Path::new(&format!("{data}/notation-v1.3.2-ec-384-root.crt")))?;
/// // An envelope written by `notation sign --signature-format cose` v1.3.2.
/// let cose = std::fs::read(format!("{data}/cose/notation-v1.3.2-ec-384.cose"))?;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_716_000); // 2026-11-26T18:00:00Z
/// let verified = envelope::verify(EnvelopeFormat::Cose, &cose, &trust_store, now)?;
/// assert_eq!(verified.key_spec(), sig_core::KeySpec::Ec384);
/// let _signed: &sig_core::oci::Descriptor = &verified.payload().target_artifact;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`Error::Envelope`]: [`EnvelopeError::TooLarge`] past [`MAX_ENVELOPE_LEN`],
/// [`EnvelopeError::Malformed`], [`EnvelopeError::UnsupportedAlgorithm`],
/// [`EnvelopeError::AlgorithmMismatch`], [`EnvelopeError::BadSignature`],
/// [`EnvelopeError::Header`], [`EnvelopeError::Payload`], [`EnvelopeError::Untrusted`],
/// [`EnvelopeError::Expired`]; [`Error::Certificate`] for a chain that breaks notation's rules;
/// [`Error::Key`] for a leaf key of no Notary key spec.
pub fn verify(
    format: EnvelopeFormat,
    envelope: &[u8],
    trust_anchors: &TrustAnchors,
    now: SystemTime,
) -> Result<VerifiedEnvelope, Error> {
    let verified = verify_integrity(format, envelope, now)?;
    let anchors = trust_anchors.certificates();
    if !anchors.iter().any(|anchor| verified.chain.contains(anchor)) {
        return Err(EnvelopeError::Untrusted {
            leaf: verified.chain.leaf().subject().to_owned(),
            anchors: anchors.iter().map(|a| a.subject().to_owned()).collect(),
        }
        .into());
    }
    if let Some(expiry) = verified.decoded.expiry.filter(|&expiry| now >= expiry) {
        return Err(EnvelopeError::Expired { expiry }.into());
    }
    Ok(verified)
}

/// Verification that weakens notation's checks; each function says which check it skips.
pub mod dangerous {
    use std::time::SystemTime;

    use super::{EnvelopeFormat, VerifiedEnvelope};
    use crate::error::{EnvelopeError, Error};

    /// [`verify`](super::verify) **without the authenticity check**: the chain is not compared
    /// with any trust anchor. The result proves only that the envelope is intact and internally
    /// consistent (signature by the leaf in the envelope, header rules, chain rules, expiry), not
    /// who signed it: a chain made up by anyone passes. Use it only where trust is established
    /// otherwise (right after signing with a known key, or to inspect an envelope).
    ///
    /// # Errors
    ///
    /// As [`verify`](super::verify), except [`EnvelopeError::Untrusted`].
    pub fn verify_without_trust_anchors(
        format: EnvelopeFormat,
        envelope: &[u8],
        now: SystemTime,
    ) -> Result<VerifiedEnvelope, Error> {
        let verified = super::verify_integrity(format, envelope, now)?;
        if let Some(expiry) = verified.decoded.expiry.filter(|&expiry| now >= expiry) {
            return Err(EnvelopeError::Expired { expiry }.into());
        }
        Ok(verified)
    }
}

/// Every check of [`verify`] but the trust anchors and the expiry.
fn verify_integrity(
    format: EnvelopeFormat,
    envelope: &[u8],
    now: SystemTime,
) -> Result<VerifiedEnvelope, Error> {
    let decoded = decode(format, envelope)?;
    let payload = NotaryPayload::from_json(&decoded.payload)?;
    let chain = CertificateChain::from_ordered_der(&decoded.chain)?;
    let key_spec = chain.leaf().public_key()?.key_spec();
    let at = match decoded.scheme {
        SigningScheme::X509 => now,
        SigningScheme::X509SigningAuthority => decoded.signing_time,
    };
    chain.validate(at)?;
    Ok(VerifiedEnvelope { format, payload, decoded, chain, key_spec })
}

/// What a format module extracts from an envelope whose signature and headers it has checked.
#[derive(Clone, Debug)]
pub(crate) struct Decoded {
    pub(crate) payload: Vec<u8>,
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) algorithm: SignatureAlgorithm,
    pub(crate) scheme: SigningScheme,
    pub(crate) signing_time: SystemTime,
    pub(crate) expiry: Option<SystemTime>,
    pub(crate) signing_agent: Option<String>,
    pub(crate) timestamp_signature: Option<Vec<u8>>,
    pub(crate) extended: Vec<ExtendedAttribute>,
    pub(crate) signature: Vec<u8>,
}

/// Parses `envelope`, checks the signature with the leaf key and the header rules.
fn decode(format: EnvelopeFormat, envelope: &[u8]) -> Result<Decoded, Error> {
    if envelope.len() > MAX_ENVELOPE_LEN {
        return Err(EnvelopeError::TooLarge {
            format,
            size: envelope.len(),
            max: MAX_ENVELOPE_LEN,
        }
        .into());
    }
    match format {
        EnvelopeFormat::Jws => jws::decode(envelope),
        EnvelopeFormat::Cose => cose::decode(envelope),
    }
}

/// The leaf certificate's public key, after checking that `header_alg` is the algorithm its key
/// spec requires; then the signature check.
pub(crate) fn verify_with_leaf(
    format: EnvelopeFormat,
    leaf_der: &[u8],
    header_alg: SignatureAlgorithm,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    if header_alg.notary_name().is_none() {
        return Err(EnvelopeError::UnsupportedAlgorithm {
            format,
            algorithm: header_alg.to_string(),
        }
        .into());
    }
    let leaf = Certificate::from_der(leaf_der)?;
    let key = leaf.public_key()?;
    let derived = key.key_spec().notary_algorithm();
    if derived != header_alg {
        return Err(EnvelopeError::AlgorithmMismatch {
            header: header_alg,
            derived,
            key_spec: key.key_spec(),
        }
        .into());
    }
    if !key.verify(header_alg, signing_input, signature) {
        return Err(EnvelopeError::BadSignature { algorithm: header_alg }.into());
    }
    Ok(())
}

/// Whole seconds since 1970 of a time to sign; `Err(true)` before 1970, `Err(false)` after 9999.
fn signing_seconds(t: SystemTime) -> Result<i64, bool> {
    let secs = t.duration_since(UNIX_EPOCH).map_err(|_| true)?.as_secs();
    i64::try_from(secs).ok().filter(|&s| s <= MAX_UNIX_SECONDS).ok_or(false)
}

/// The time of `secs` since 1970, if RFC 3339 can write it.
pub(crate) fn seconds_to_time(secs: i64) -> Option<SystemTime> {
    if !(MIN_UNIX_SECONDS..=MAX_UNIX_SECONDS).contains(&secs) {
        return None;
    }
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 { UNIX_EPOCH.checked_add(magnitude) } else { UNIX_EPOCH.checked_sub(magnitude) }
}

/// RFC 3339 in UTC, whole seconds (`2023-03-14T08:10:02Z`), as notation writes JWS times.
pub(crate) fn format_seconds(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("@{secs}"))
}

/// Checks `expiry > signing_time` (notation: "expiry cannot be equal or before the signing time").
pub(crate) fn check_expiry_after_signing(
    format: EnvelopeFormat,
    signing_time: SystemTime,
    expiry: Option<SystemTime>,
) -> Result<(), EnvelopeError> {
    match expiry {
        Some(expiry) if expiry <= signing_time => {
            Err(EnvelopeError::ExpiryNotAfterSigningTime { format, expiry, signing_time })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
