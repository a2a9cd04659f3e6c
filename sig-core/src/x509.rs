//! X.509 certificates and chains, ordered and checked the way notation checks them.
//!
//! Notation (notation-core-go `x509/codesigning_cert_validations.go`) requires a chain that runs
//! leaf → intermediates → self-signed root, every certificate valid at the signing time, a leaf
//! with a critical keyUsage of digitalSignature and no forbidden usage, CA certificates with
//! CA:TRUE and keyCertSign, path lengths respected, and no SHA-1. [`CertificateChain::validate`]
//! checks all of it and names the certificate and the rule on failure.
//!
//! It also applies the rules of Go's `crypto/x509` path validation that cosign relies on, so one
//! chain is judged alike for both tools: RSASSA-PSS certificate signatures only with Go's
//! parameters (SHA-256/384/512, MGF1 with the same hash, salt = hash length, trailer 1), CA
//! name constraints (e-mail, DNS, URI, IP; permitted and excluded) over every certificate below
//! the CA, and no unknown critical extension. Notation itself checks neither of the last two
//! (notation-core-go verifies each link with `CheckSignatureFrom` only); refusing them here keeps
//! the plugin from signing with a chain that a verifier following RFC 5280 (cosign, OpenSSL)
//! rejects.

mod access;
mod chain;
mod constraints;
mod pss;
mod rules;

use core::fmt;
use std::time::SystemTime;

use aws_lc_rs::signature;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, ID_EC_PUBLIC_KEY, ID_RSASSA_PSS,
    RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1, SECP_521_R_1, SHA_256_WITH_RSA_ENCRYPTION,
    SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

pub use chain::CertificateChain;
pub use constraints::SUBJECT_ALT_NAME;

use crate::error::{CertificateError, ChainRule, KeyError};
use crate::key::PublicKey;

/// Most certificates accepted in one chain file.
pub const MAX_CHAIN_LEN: usize = 16;

/// One parsed X.509 certificate, with its DER bytes kept as received.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    subject: String,
    issuer: String,
    raw_subject: Vec<u8>,
    raw_issuer: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate.
    ///
    /// # Errors
    ///
    /// [`CertificateError::Malformed`] (index 0) when it does not parse or has trailing bytes.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        Self::parse(der, 0)
    }

    pub(crate) fn parse(der: &[u8], index: usize) -> Result<Self, CertificateError> {
        let malformed = |reason: String| CertificateError::Malformed { index, reason };
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| malformed(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let raw_subject = tbs.subject().to_der().map_err(|e| malformed(e.to_string()))?;
        let raw_issuer = tbs.issuer().to_der().map_err(|e| malformed(e.to_string()))?;
        Ok(Self {
            der: der.to_vec(),
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            raw_subject,
            raw_issuer,
            cert,
        })
    }

    /// The DER bytes, exactly as received.
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// PEM `CERTIFICATE` encoding.
    pub fn to_pem(&self) -> String {
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &self.der)
            .unwrap_or_default()
    }

    /// Subject distinguished name (RFC 4514).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Issuer distinguished name (RFC 4514).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// DER of the subject name, exactly as encoded (names are compared byte for byte, as Go does).
    pub fn raw_subject(&self) -> &[u8] {
        &self.raw_subject
    }

    /// DER of the issuer name, exactly as encoded.
    pub fn raw_issuer(&self) -> &[u8] {
        &self.raw_issuer
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> SystemTime {
        self.cert.tbs_certificate().validity().not_before.to_system_time()
    }

    /// End of the validity period.
    pub fn not_after(&self) -> SystemTime {
        self.cert.tbs_certificate().validity().not_after.to_system_time()
    }

    /// The subject public key, if it is one of Notation's key specs.
    ///
    /// # Errors
    ///
    /// [`KeyError::Unsupported`] or [`KeyError::PublicKey`] otherwise.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        let der = self
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| KeyError::PublicKey(e.to_string()))?;
        PublicKey::from_spki_der(&der)
    }

    /// The subject public key as PEM `PUBLIC KEY` (SPKI), the form cosign and Kyverno take.
    ///
    /// # Errors
    ///
    /// [`KeyError::PublicKey`] if it cannot be encoded.
    pub fn public_key_pem(&self) -> Result<String, KeyError> {
        let der = self
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| KeyError::PublicKey(e.to_string()))?;
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &der)
            .map_err(|e| KeyError::PublicKey(e.to_string()))
    }

    /// Whether subject and issuer are the same name and the certificate verifies with its own key.
    pub fn is_self_signed(&self) -> bool {
        self.raw_subject == self.raw_issuer && self.is_signed_by(self)
    }

    /// Whether `issuer`'s subject is this certificate's issuer and its key verifies this
    /// certificate's signature.
    pub fn is_signed_by(&self, issuer: &Self) -> bool {
        self.raw_issuer == issuer.raw_subject
            && self.signature_verifies_with(issuer).unwrap_or(false)
    }

    /// Whether Go's `crypto/x509` (notation, cosign) can verify this certificate's signature
    /// algorithm at all: `Err` is [`ChainRule::WeakSignatureAlgorithm`] for SHA-1 or an unknown
    /// algorithm, [`ChainRule::PssParameters`] for RSASSA-PSS with parameters Go refuses.
    ///
    /// # Errors
    ///
    /// The rule, naming the algorithm or the PSS parameter.
    pub fn check_signature_algorithm(&self) -> Result<(), ChainRule> {
        let alg = self.cert.signature_algorithm();
        if alg.oid == ID_RSASSA_PSS {
            return pss::accepted_hash(alg.parameters.as_ref()).map(drop);
        }
        if SUPPORTED_SIGNATURE_ALGORITHMS.contains(&alg.oid) {
            Ok(())
        } else {
            Err(ChainRule::WeakSignatureAlgorithm(algorithm_name(alg.oid)))
        }
    }

    /// Verifies this certificate's signature with `issuer`'s public key. `Err` is the rule an
    /// algorithm notation does not accept breaks (SHA-1, unknown, RSASSA-PSS parameters).
    fn signature_verifies_with(&self, issuer: &Self) -> Result<bool, ChainRule> {
        let alg = self.cert.signature_algorithm().oid;
        let Some(tbs) = self.cert.tbs_certificate().to_der().ok() else {
            return Ok(false);
        };
        let Some(sig) = self.cert.signature().as_bytes() else {
            return Ok(false);
        };
        let spki = issuer.cert.tbs_certificate().subject_public_key_info();
        let Some(key) = spki.subject_public_key.as_bytes() else {
            return Ok(false);
        };
        let key_oid = spki.algorithm.oid;
        let curve =
            spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let params: &'static dyn signature::VerificationAlgorithm = match (alg, key_oid, curve) {
            (ID_RSASSA_PSS, key_oid, _) => {
                let hash = pss::accepted_hash(self.cert.signature_algorithm().parameters.as_ref())?;
                if key_oid != RSA_ENCRYPTION {
                    return Ok(false);
                }
                match hash {
                    crate::HashAlgorithm::Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
                    crate::HashAlgorithm::Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
                    crate::HashAlgorithm::Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
                }
            }
            (SHA_256_WITH_RSA_ENCRYPTION, RSA_ENCRYPTION, _) => {
                &signature::RSA_PKCS1_2048_8192_SHA256
            }
            (SHA_384_WITH_RSA_ENCRYPTION, RSA_ENCRYPTION, _) => {
                &signature::RSA_PKCS1_2048_8192_SHA384
            }
            (SHA_512_WITH_RSA_ENCRYPTION, RSA_ENCRYPTION, _) => {
                &signature::RSA_PKCS1_2048_8192_SHA512
            }
            (ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, Some(SECP_256_R_1)) => {
                &signature::ECDSA_P256_SHA256_ASN1
            }
            (ECDSA_WITH_SHA_384, ID_EC_PUBLIC_KEY, Some(SECP_256_R_1)) => {
                &signature::ECDSA_P256_SHA384_ASN1
            }
            (ECDSA_WITH_SHA_512, ID_EC_PUBLIC_KEY, Some(SECP_256_R_1)) => {
                &signature::ECDSA_P256_SHA512_ASN1
            }
            (ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, Some(SECP_384_R_1)) => {
                &signature::ECDSA_P384_SHA256_ASN1
            }
            (ECDSA_WITH_SHA_384, ID_EC_PUBLIC_KEY, Some(SECP_384_R_1)) => {
                &signature::ECDSA_P384_SHA384_ASN1
            }
            (ECDSA_WITH_SHA_512, ID_EC_PUBLIC_KEY, Some(SECP_384_R_1)) => {
                &signature::ECDSA_P384_SHA512_ASN1
            }
            (ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, Some(SECP_521_R_1)) => {
                &signature::ECDSA_P521_SHA256_ASN1
            }
            (ECDSA_WITH_SHA_384, ID_EC_PUBLIC_KEY, Some(SECP_521_R_1)) => {
                &signature::ECDSA_P521_SHA384_ASN1
            }
            (ECDSA_WITH_SHA_512, ID_EC_PUBLIC_KEY, Some(SECP_521_R_1)) => {
                &signature::ECDSA_P521_SHA512_ASN1
            }
            (alg, _, _) if SUPPORTED_SIGNATURE_ALGORITHMS.contains(&alg) => {
                return Ok(false);
            }
            (alg, _, _) => {
                return Err(ChainRule::WeakSignatureAlgorithm(algorithm_name(alg)));
            }
        };
        SIGNATURE_CHECKS.with(|n| n.set(n.get().saturating_add(1)));
        Ok(signature::UnparsedPublicKey::new(params, key).verify(&tbs, sig).is_ok())
    }

    fn key_usage(&self) -> Option<(bool, KeyUsage)> {
        self.cert.tbs_certificate().get_extension::<KeyUsage>().ok().flatten()
    }

    fn basic_constraints(&self) -> Option<(bool, BasicConstraints)> {
        self.cert.tbs_certificate().get_extension::<BasicConstraints>().ok().flatten()
    }

    fn extended_key_usage(&self) -> Option<(bool, ExtendedKeyUsage)> {
        self.cert.tbs_certificate().get_extension::<ExtendedKeyUsage>().ok().flatten()
    }

    /// Whether basicConstraints says CA:TRUE.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints().is_some_and(|(_, bc)| bc.ca)
    }

    /// Parses every certificate of a PEM bundle (blocks other than `CERTIFICATE` are skipped)
    /// in input order. One or more concatenated DER certificates are accepted as well, as
    /// `openssl` does.
    ///
    /// # Errors
    ///
    /// [`CertificateError::Empty`] when nothing is found, [`CertificateError::PrivateKey`] for a
    /// private key block, [`CertificateError::Malformed`] naming the first certificate that does
    /// not parse, [`CertificateError::TooMany`] past [`MAX_CHAIN_LEN`].
    pub fn from_bundle_pem(bytes: &[u8]) -> Result<Vec<Self>, CertificateError> {
        let ders: Vec<Vec<u8>> = if crate::pem::looks_like_pem(bytes) {
            let mut ders = Vec::new();
            for (index, block) in crate::pem::blocks(bytes).into_iter().enumerate() {
                if block.label != "CERTIFICATE" {
                    if block.label.contains("PRIVATE KEY") {
                        return Err(CertificateError::PrivateKey { index });
                    }
                    continue;
                }
                ders.push(block.der.map_err(|reason| CertificateError::Malformed {
                    index,
                    reason: format!("bad PEM: {reason}"),
                })?);
            }
            ders
        } else {
            split_der(bytes)?
        };
        if ders.is_empty() {
            return Err(CertificateError::Empty { path: None });
        }
        if ders.len() > MAX_CHAIN_LEN {
            return Err(CertificateError::TooMany { count: ders.len(), max: MAX_CHAIN_LEN });
        }
        ders.iter().enumerate().map(|(i, der)| Self::parse(der, i)).collect()
    }
}

thread_local! {
    static SIGNATURE_CHECKS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// How many certificate signatures this thread has verified with an issuer's key so far
/// ([`Certificate::is_signed_by`], [`CertificateChain::validate`], chain searches built on them).
/// Signature checks are the costly part of path building: tests bound the work of a
/// verification by reading this before and after it.
pub(crate) fn signature_checks_on_this_thread() -> u64 {
    SIGNATURE_CHECKS.with(core::cell::Cell::get)
}

/// Signature algorithms verified besides RSASSA-PSS (whose parameters decide).
const SUPPORTED_SIGNATURE_ALGORITHMS: [ObjectIdentifier; 6] = [
    SHA_256_WITH_RSA_ENCRYPTION,
    SHA_384_WITH_RSA_ENCRYPTION,
    SHA_512_WITH_RSA_ENCRYPTION,
    ECDSA_WITH_SHA_256,
    ECDSA_WITH_SHA_384,
    ECDSA_WITH_SHA_512,
];

/// Readable name of a signature algorithm OID.
fn algorithm_name(alg: ObjectIdentifier) -> String {
    match alg.to_string().as_str() {
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1".to_owned(),
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".to_owned(),
        other => const_oid::db::DB.by_oid(&alg).map_or_else(|| other.to_owned(), str::to_owned),
    }
}

/// Splits concatenated DER SEQUENCEs.
fn split_der(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, CertificateError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let index = out.len();
        let malformed = |reason: String| CertificateError::Malformed { index, reason };
        let mut reader = der::SliceReader::new(bytes).map_err(|e| malformed(e.to_string()))?;
        let header = der::Header::decode(&mut reader)
            .map_err(|e| malformed(format!("neither PEM nor DER: {e}")))?;
        if header.tag() != der::Tag::Sequence {
            return Err(malformed("neither PEM nor DER: not an ASN.1 SEQUENCE".into()));
        }
        let total = header
            .encoded_len()
            .and_then(|h| h + header.length())
            .map_err(|e| malformed(e.to_string()))?;
        let total = usize::try_from(total).map_err(|e| malformed(e.to_string()))?;
        if total > bytes.len() {
            return Err(malformed(format!("truncated: needs {total} bytes, {} left", bytes.len())));
        }
        out.push(bytes[..total].to_vec());
        bytes = &bytes[total..];
        if out.len() > MAX_CHAIN_LEN {
            return Err(CertificateError::TooMany { count: out.len(), max: MAX_CHAIN_LEN });
        }
    }
    Ok(out)
}

pub(crate) use crate::timestamp::rfc3339;

/// Reads a certificate file (PEM bundle or DER; at most [`crate::fs::MAX_FILE_LEN`] bytes) and
/// parses it with `parse`, naming the path when the file holds no certificate.
pub(crate) fn read_pem_file<T>(
    path: &std::path::Path,
    parse: impl FnOnce(&[u8]) -> Result<T, CertificateError>,
) -> Result<T, CertificateError> {
    let bytes = crate::fs::read_bounded(path, crate::fs::MAX_FILE_LEN)
        .map_err(|source| CertificateError::Read { path: path.to_owned(), source })?;
    parse(&bytes).map_err(|e| match e {
        CertificateError::Empty { .. } => CertificateError::Empty { path: Some(path.to_owned()) },
        other => other,
    })
}
