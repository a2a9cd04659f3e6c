//! Verifying cosign signatures, pure over fetched manifests and blobs (`cosign verify` on the
//! legacy `.sig` tag, offline: no Rekor, no Fulcio, no TUF).
//!
//! Per layer, in cosign's order (`pkg/cosign/verify.go verifyOCISignature`):
//! 1. the blob is the payload the descriptor names (digest and size);
//! 2. the signature verifies over the exact payload bytes, with
//!    - a public key ([`Trust::Key`]): RSA PKCS#1 v1.5, ECDSA in DER or `r || s`; SHA-256
//!      unless another hash is configured; a certificate on the layer must be valid now;
//!    - or the certificate ([`Trust::Certificates`]): the one given, else the layer's
//!      `dev.sigstore.cosign/certificate`, chained to the given roots by cosign's rules
//!      (path at the leaf's notBefore, codeSigning or no EKU, valid now), its SANs matching a
//!      wanted identity and, when asked, its OIDC issuer;
//! 3. the payload claims the image digest and carries the wanted annotations.
//!
//! A verification succeeds when at least one layer passes; the result lists every layer that
//! passed, as `cosign verify` prints them.

pub(crate) mod bundle_signer;
pub(crate) mod chain;

use std::time::SystemTime;

use sig_core::__private::pem;
use sig_core::{
    Certificate, HashAlgorithm, KeySpec, PublicKey, SignatureAlgorithm, SignatureScheme,
};

use crate::error::{LayerRejection, VerifyError};
use crate::payload::{Annotations, ParsedPayload};
use crate::reference::Digest;
use crate::signature::SignatureLayer;

/// A public key for `--key`: SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`) PEM or DER, or a
/// certificate whose key is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationKey {
    key: PublicKey,
}

impl VerificationKey {
    /// Parses a public key file's contents.
    ///
    /// # Errors
    ///
    /// [`VerifyError::PublicKey`] for anything else, and for keys outside RSA 2048/3072/4096 and
    /// P-256/384/521.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        let bad = |reason: String| VerifyError::PublicKey { reason };
        let der = if String::from_utf8_lossy(bytes).contains("-----BEGIN") {
            // Blocks whose base64 does not decode are passed over.
            let block = pem::blocks(bytes)
                .into_iter()
                .filter_map(|block| Some((block.label, block.der.ok()?)))
                .find(|(label, _)| {
                    matches!(label.as_str(), "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE")
                })
                .ok_or_else(|| {
                    bad("no PEM PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE block found".to_owned())
                })?;
            match block.0.as_str() {
                "RSA PUBLIC KEY" => pkcs1_to_spki(&block.1).map_err(bad)?,
                "CERTIFICATE" => return Self::from_certificate_der(&block.1),
                _ => block.1,
            }
        } else if Certificate::from_der(bytes).is_ok() {
            return Self::from_certificate_der(bytes);
        } else {
            bytes.to_vec()
        };
        let key = PublicKey::from_spki_der(&der).map_err(|e| bad(e.to_string()))?;
        Ok(Self { key })
    }

    fn from_certificate_der(der: &[u8]) -> Result<Self, VerifyError> {
        Self::from_certificate(&Certificate::from_der(der)?)
    }

    /// The public key of `certificate`.
    ///
    /// # Errors
    ///
    /// [`VerifyError::PublicKey`] for keys outside RSA 2048/3072/4096 and P-256/384/521.
    pub fn from_certificate(certificate: &Certificate) -> Result<Self, VerifyError> {
        let key = certificate
            .public_key()
            .map_err(|e| VerifyError::PublicKey { reason: e.to_string() })?;
        Ok(Self { key })
    }

    /// The key spec.
    pub fn key_spec(&self) -> KeySpec {
        self.key.key_spec()
    }

    /// The key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

/// Wraps a PKCS#1 `RSAPublicKey` in a `SubjectPublicKeyInfo`.
fn pkcs1_to_spki(pkcs1: &[u8]) -> Result<Vec<u8>, String> {
    use der::Encode;
    let spki = spki::SubjectPublicKeyInfoOwned {
        algorithm: spki::AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::RSA_ENCRYPTION,
            parameters: Some(der::asn1::Null.into()),
        },
        subject_public_key: der::asn1::BitString::from_bytes(pkcs1).map_err(|e| e.to_string())?,
    };
    spki.to_der().map_err(|e| e.to_string())
}

/// Matches a certificate identity (SAN) or OIDC issuer: exactly, or by a regular expression
/// that may match anywhere in the value (Go's `regexp.MatchString`; anchor it with `^…$`).
#[derive(Clone, Debug)]
pub enum IdentityMatcher {
    /// Equal to this string.
    Exact(String),
    /// Matched by this regular expression.
    Regex(regex::Regex),
}

impl IdentityMatcher {
    /// Compiles a regular expression (RE2 syntax, as Go's `regexp`).
    ///
    /// # Errors
    ///
    /// [`VerifyError::Regex`].
    pub fn regex(pattern: &str) -> Result<Self, VerifyError> {
        regex::Regex::new(pattern)
            .map(Self::Regex)
            .map_err(|source| VerifyError::Regex { pattern: pattern.to_owned(), source })
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(r) => r.is_match(value),
        }
    }
}

impl core::fmt::Display for IdentityMatcher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Exact(s) => write!(f, "{s:?}"),
            Self::Regex(r) => write!(f, "/{}/", r.as_str()),
        }
    }
}

/// Certificate-based trust: roots, intermediates, and the identities to accept.
#[derive(Clone, Debug, Default)]
pub struct CertificateTrust {
    roots: Vec<Certificate>,
    intermediates: Vec<Certificate>,
    certificate: Option<Certificate>,
    identities: Vec<IdentityMatcher>,
    issuers: Vec<IdentityMatcher>,
}

impl CertificateTrust {
    /// Trust from a `--certificate-chain` file: intermediates then root, **the last certificate
    /// is the only root** (cosign `loadCertsKeylessVerification`).
    ///
    /// # Errors
    ///
    /// Parse errors.
    pub fn from_chain_pem(bytes: &[u8]) -> Result<Self, VerifyError> {
        let mut certs = Certificate::from_bundle_pem(bytes)?;
        let root = certs.pop().ok_or(VerifyError::NoRoots)?;
        Ok(Self { roots: vec![root], intermediates: certs, ..Self::default() })
    }

    /// Trust in every certificate of `roots` (`--ca-roots`).
    pub fn from_roots(roots: Vec<Certificate>) -> Self {
        Self { roots, ..Self::default() }
    }

    /// Adds intermediates (`--ca-intermediates`).
    #[must_use]
    pub fn with_intermediates(mut self, intermediates: Vec<Certificate>) -> Self {
        self.intermediates.extend(intermediates);
        self
    }

    /// Uses this signing certificate instead of the layer's (`--certificate`).
    #[must_use]
    pub fn with_certificate(mut self, certificate: Certificate) -> Self {
        self.certificate = Some(certificate);
        self
    }

    /// Accepts certificates with a SAN matching `identity` (`--certificate-identity[-regexp]`).
    /// Without any identity, every SAN (and a certificate without SAN) is accepted.
    #[must_use]
    pub fn with_identity(mut self, identity: IdentityMatcher) -> Self {
        self.identities.push(identity);
        self
    }

    /// Accepts certificates whose OIDC issuer matches (`--certificate-oidc-issuer[-regexp]`).
    #[must_use]
    pub fn with_issuer(mut self, issuer: IdentityMatcher) -> Self {
        self.issuers.push(issuer);
        self
    }
}

/// What signatures are checked against.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Trust {
    /// A public key (`--key`).
    Key(VerificationKey),
    /// Certificates chaining to trusted roots.
    Certificates(Box<CertificateTrust>),
}

/// Everything a verification checks besides the image digest.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    trust: Trust,
    annotations: Annotations,
    hash: HashAlgorithm,
}

impl VerifyOptions {
    /// Verification with `trust`, SHA-256, no annotation constraints.
    pub fn new(trust: Trust) -> Self {
        Self { trust, annotations: Annotations::new(), hash: HashAlgorithm::Sha256 }
    }

    /// Requires these annotations in `optional` (`-a key=value`).
    #[must_use]
    pub fn with_annotations(mut self, annotations: Annotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// Sets the signature hash (`--signature-digest-algorithm`, default SHA-256).
    #[must_use]
    pub fn with_hash(mut self, hash: HashAlgorithm) -> Self {
        self.hash = hash;
        self
    }
}

/// A signature that verified.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    payload_bytes: Vec<u8>,
    payload: ParsedPayload,
    certificate: Option<Certificate>,
    /// Whether the certificate came from the layer (cosign prints only those).
    certificate_on_layer: bool,
}

impl VerifiedSignature {
    /// The payload bytes as stored.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.payload_bytes
    }

    /// The parsed payload.
    pub fn payload(&self) -> &ParsedPayload {
        &self.payload
    }

    /// The signing certificate, when the layer carried one (or one was given).
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }
}

/// Verifies one layer against `image` at time `now`.
///
/// # Errors
///
/// The first [`LayerRejection`] that applies.
pub fn verify_layer(
    layer: &SignatureLayer,
    image: &Digest,
    options: &VerifyOptions,
    now: SystemTime,
) -> Result<VerifiedSignature, LayerRejection> {
    let signature = layer.signature_bytes()?;
    let layer_certificate = layer
        .certificate_pem()
        .map(|pem| {
            Certificate::from_bundle_pem(pem.as_bytes())
                .map_err(|e| LayerRejection::Certificate(e.to_string()))
                .and_then(|mut certs| {
                    certs.drain(..).next().ok_or_else(|| {
                        LayerRejection::Certificate("empty certificate annotation".to_owned())
                    })
                })
        })
        .transpose()?;
    let certificate_on_layer = layer_certificate.is_some();
    let certificate = match &options.trust {
        Trust::Key(key) => {
            check_signature(key.public_key(), options.hash, layer.payload(), &signature).map_err(
                |scheme| LayerRejection::BadSignature {
                    key: "the given public key".to_owned(),
                    scheme,
                },
            )?;
            if let Some(cert) = &layer_certificate {
                chain::check_validity(cert, now).map_err(LayerRejection::Certificate)?;
            }
            layer_certificate
        }
        Trust::Certificates(trust) => {
            let leaf = trust
                .certificate
                .clone()
                .or(layer_certificate)
                .ok_or(LayerRejection::NoCertificate)?;
            let intermediates = if trust.intermediates.is_empty() {
                // cosign: without configured intermediates, the layer's chain minus its last
                // certificate (never trusted as a root) serves as intermediates.
                let mut chain = layer
                    .chain_pem()
                    .and_then(|pem| Certificate::from_bundle_pem(pem.as_bytes()).ok())
                    .unwrap_or_default();
                chain.pop();
                chain
            } else {
                trust.intermediates.clone()
            };
            if trust.roots.is_empty() {
                return Err(LayerRejection::Chain("no trusted roots configured".to_owned()));
            }
            chain::verify_chain(&leaf, &intermediates, &trust.roots, now)
                .map_err(LayerRejection::Chain)?;
            check_identity(&leaf, trust)?;
            let key = leaf.public_key().map_err(|e| LayerRejection::Certificate(e.to_string()))?;
            check_signature(&key, options.hash, layer.payload(), &signature).map_err(|scheme| {
                LayerRejection::BadSignature {
                    key: format!("the certificate {:?}", leaf.subject()),
                    scheme,
                }
            })?;
            Some(leaf)
        }
    };
    let payload = ParsedPayload::parse(layer.payload())?;
    payload.check(image, &options.annotations)?;
    Ok(VerifiedSignature {
        payload_bytes: layer.payload().to_vec(),
        payload,
        certificate,
        certificate_on_layer,
    })
}

fn check_identity(leaf: &Certificate, trust: &CertificateTrust) -> Result<(), LayerRejection> {
    if !trust.identities.is_empty() {
        let sans = leaf.san_identities();
        if !sans.iter().any(|san| trust.identities.iter().any(|m| m.matches(san))) {
            return Err(LayerRejection::Identity { sans, wanted: join(&trust.identities) });
        }
    }
    if !trust.issuers.is_empty() {
        let issuer = chain::oidc_issuer(leaf);
        if !trust.issuers.iter().any(|m| m.matches(&issuer)) {
            return Err(LayerRejection::Issuer { found: issuer, wanted: join(&trust.issuers) });
        }
    }
    Ok(())
}

fn join(matchers: &[IdentityMatcher]) -> String {
    matchers.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ")
}

/// Checks `signature` over `payload` with cosign's scheme for the key: RSA PKCS#1 v1.5, ECDSA in
/// DER or fixed-width `r || s` (sigstore `ecdsa.go` falls back to it). `Err` names the scheme.
///
/// # Errors
///
/// The scheme's name (`RSASSA-PKCS1-v1_5-SHA-256`, `ECDSA-SHA-256`, ...) when it does not verify.
pub fn check_signature(
    key: &PublicKey,
    hash: HashAlgorithm,
    payload: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let spec = key.key_spec();
    let scheme = if spec.is_rsa() { SignatureScheme::RsaPkcs1v15 } else { SignatureScheme::Ecdsa };
    let algorithm = SignatureAlgorithm::new(scheme, hash);
    let ok = if spec.is_rsa() {
        key.verify(algorithm, payload, signature)
    } else {
        key.verify_ecdsa_der(hash, payload, signature)
            || (signature.len() == spec.signature_len()
                && sig_core::ecdsa::raw_to_der(signature)
                    .is_ok_and(|der| key.verify_ecdsa_der(hash, payload, &der)))
    };
    if ok { Ok(()) } else { Err(algorithm.to_string()) }
}

/// The certificate's subject alternative names in the order cosign matches and prints them
/// (DNS names, e-mail addresses, IP addresses, URIs, Fulcio `OtherName`):
/// [`Certificate::san_identities`].
pub fn certificate_identities(certificate: &Certificate) -> Vec<String> {
    certificate.san_identities()
}

/// `cosign verify`'s standard output for `verified`: a JSON array of the payloads re-marshalled
/// (`SimpleContainerImage`), with `Subject` and the Fulcio extensions added to `optional` for
/// signatures that carry a certificate (`sig.Cert()`: the layer's, not one given with
/// `--certificate`). No trailing newline.
pub fn cosign_output(verified: &[VerifiedSignature]) -> String {
    let items: Vec<String> = verified
        .iter()
        .map(|v| {
            let extra = v
                .certificate
                .as_ref()
                .filter(|_| v.certificate_on_layer)
                .map(chain::output_claims)
                .unwrap_or_default();
            String::from_utf8_lossy(&v.payload.to_output(&extra)).into_owned()
        })
        .collect();
    // Go marshals a nil slice as null; cosign never prints an empty result.
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod path_tests;
#[cfg(test)]
mod tests;
