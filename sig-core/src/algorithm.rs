//! Key specs, hash algorithms and signature algorithms, with their Notary wire names.
//!
//! Notation fixes the signature scheme by key spec (signature-specification.md, "Algorithm
//! Selection"):
//!
//! ```text
//! keySpec   hash     signingAlgorithm     JWS    COSE  signature bytes
//! RSA-2048  SHA-256  RSASSA-PSS-SHA-256   PS256  -37   256
//! RSA-3072  SHA-384  RSASSA-PSS-SHA-384   PS384  -38   384
//! RSA-4096  SHA-512  RSASSA-PSS-SHA-512   PS512  -39   512
//! EC-256    SHA-256  ECDSA-SHA-256        ES256  -7    64  (r || s)
//! EC-384    SHA-384  ECDSA-SHA-384        ES384  -35   96  (r || s)
//! EC-521    SHA-512  ECDSA-SHA-512        ES512  -36   132 (r || s)
//! ```
//!
//! Cosign's legacy signatures use other schemes for the same keys (RSA PKCS#1 v1.5, SHA-256 by
//! default), so [`SignatureAlgorithm`] also has the PKCS#1 v1.5 variants. RSA-PSS always uses a salt
//! as long as the hash and MGF1 with the same hash: go-cose rejects any other salt length.

use core::fmt;
use core::str::FromStr;

use crate::error::AlgorithmError;

/// A signing key type and size, as Notation names it (`"RSA-2048"`, `"EC-256"`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySpec {
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
    /// ECDSA on NIST P-256.
    Ec256,
    /// ECDSA on NIST P-384.
    Ec384,
    /// ECDSA on NIST P-521.
    Ec521,
}

impl KeySpec {
    /// Every key spec Notation accepts, in the order the specification lists them.
    pub const ALL: [Self; 6] =
        [Self::Rsa2048, Self::Rsa3072, Self::Rsa4096, Self::Ec256, Self::Ec384, Self::Ec521];

    /// The Notary wire name, e.g. `"RSA-4096"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2048 => "RSA-2048",
            Self::Rsa3072 => "RSA-3072",
            Self::Rsa4096 => "RSA-4096",
            Self::Ec256 => "EC-256",
            Self::Ec384 => "EC-384",
            Self::Ec521 => "EC-521",
        }
    }

    /// The hash Notation pairs with this key spec.
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::Rsa2048 | Self::Ec256 => HashAlgorithm::Sha256,
            Self::Rsa3072 | Self::Ec384 => HashAlgorithm::Sha384,
            Self::Rsa4096 | Self::Ec521 => HashAlgorithm::Sha512,
        }
    }

    /// The signature algorithm Notation uses with this key spec (PSS for RSA, ECDSA r||s for EC).
    pub const fn notary_algorithm(self) -> SignatureAlgorithm {
        match self {
            Self::Rsa2048 => SignatureAlgorithm::RsaPssSha256,
            Self::Rsa3072 => SignatureAlgorithm::RsaPssSha384,
            Self::Rsa4096 => SignatureAlgorithm::RsaPssSha512,
            Self::Ec256 => SignatureAlgorithm::EcdsaSha256,
            Self::Ec384 => SignatureAlgorithm::EcdsaSha384,
            Self::Ec521 => SignatureAlgorithm::EcdsaSha512,
        }
    }

    /// Whether this is an RSA key spec.
    pub const fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096)
    }

    /// Length in bytes of a signature made with this key: the modulus length for RSA, twice the
    /// field size for ECDSA in r||s form.
    pub const fn signature_len(self) -> usize {
        match self {
            Self::Rsa2048 => 256,
            Self::Rsa3072 => 384,
            Self::Rsa4096 => 512,
            Self::Ec256 => 64,
            Self::Ec384 => 96,
            Self::Ec521 => 132,
        }
    }

    /// For EC key specs, the byte length of one scalar (r or s); `None` for RSA.
    pub const fn ec_scalar_len(self) -> Option<usize> {
        match self {
            Self::Ec256 => Some(32),
            Self::Ec384 => Some(48),
            Self::Ec521 => Some(66),
            _ => None,
        }
    }

    /// Key size in bits (modulus for RSA, curve for EC).
    pub const fn bits(self) -> usize {
        match self {
            Self::Rsa2048 => 2048,
            Self::Rsa3072 => 3072,
            Self::Rsa4096 => 4096,
            Self::Ec256 => 256,
            Self::Ec384 => 384,
            Self::Ec521 => 521,
        }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeySpec {
    type Err = AlgorithmError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|spec| spec.as_str() == s)
            .ok_or_else(|| AlgorithmError::UnknownKeySpec(s.to_owned()))
    }
}

/// A hash algorithm from the SHA-2 family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Every supported hash.
    pub const ALL: [Self; 3] = [Self::Sha256, Self::Sha384, Self::Sha512];

    /// The Notary wire name, e.g. `"SHA-256"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// OpenSSL's and the OCI digest's name, e.g. `"sha256"`.
    pub const fn short_name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Output length in bytes (also the RSA-PSS salt length Notation requires).
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(self.aws_lc(), data).as_ref().to_vec()
    }

    /// The OCI digest string `"<alg>:<lowercase hex>"` of `data`.
    pub(crate) fn oci_digest(self, data: &[u8]) -> String {
        format!("{}:{}", self.short_name(), crate::hex::encode(&self.digest(data)))
    }

    pub(crate) const fn aws_lc(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Self::Sha256 => &aws_lc_rs::digest::SHA256,
            Self::Sha384 => &aws_lc_rs::digest::SHA384,
            Self::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashAlgorithm {
    type Err = AlgorithmError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|hash| hash.as_str() == s)
            .ok_or_else(|| AlgorithmError::UnknownHash(s.to_owned()))
    }
}

/// The padding or signature scheme, independent of the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// RSASSA-PSS, MGF1 with the signing hash, salt length = hash length.
    RsaPss,
    /// RSASSA-PKCS1-v1_5 (cosign's RSA scheme).
    RsaPkcs1v15,
    /// ECDSA.
    Ecdsa,
}

impl SignatureScheme {
    /// The name used in the signer program contract (`EXTERNAL_SIGNER_SCHEME`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RsaPss => "rsassa-pss",
            Self::RsaPkcs1v15 => "rsassa-pkcs1v15",
            Self::Ecdsa => "ecdsa",
        }
    }
}

impl fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signature algorithm: scheme plus hash.
///
/// Signatures returned by a [`SigningKey`](crate::SigningKey) for an ECDSA algorithm are always in the
/// fixed-width IEEE P1363 form `r || s`; [`ecdsa_to_der`](crate::ecdsa::raw_to_der) converts for
/// tools that want ASN.1 DER.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// `RSASSA-PSS-SHA-256` (JWS `PS256`, COSE -37).
    RsaPssSha256,
    /// `RSASSA-PSS-SHA-384` (JWS `PS384`, COSE -38).
    RsaPssSha384,
    /// `RSASSA-PSS-SHA-512` (JWS `PS512`, COSE -39).
    RsaPssSha512,
    /// `ECDSA-SHA-256` (JWS `ES256`, COSE -7).
    EcdsaSha256,
    /// `ECDSA-SHA-384` (JWS `ES384`, COSE -35).
    EcdsaSha384,
    /// `ECDSA-SHA-512` (JWS `ES512`, COSE -36).
    EcdsaSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (cosign's default for RSA keys; not a Notary algorithm).
    RsaPkcs1v15Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (not a Notary algorithm).
    RsaPkcs1v15Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (not a Notary algorithm).
    RsaPkcs1v15Sha512,
}

impl SignatureAlgorithm {
    /// The Notary algorithms, in key-spec order.
    pub const NOTARY: [Self; 6] = [
        Self::RsaPssSha256,
        Self::RsaPssSha384,
        Self::RsaPssSha512,
        Self::EcdsaSha256,
        Self::EcdsaSha384,
        Self::EcdsaSha512,
    ];

    /// The scheme (padding) part.
    pub const fn scheme(self) -> SignatureScheme {
        match self {
            Self::RsaPssSha256 | Self::RsaPssSha384 | Self::RsaPssSha512 => SignatureScheme::RsaPss,
            Self::EcdsaSha256 | Self::EcdsaSha384 | Self::EcdsaSha512 => SignatureScheme::Ecdsa,
            Self::RsaPkcs1v15Sha256 | Self::RsaPkcs1v15Sha384 | Self::RsaPkcs1v15Sha512 => {
                SignatureScheme::RsaPkcs1v15
            }
        }
    }

    /// The hash part.
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsaPssSha256 | Self::EcdsaSha256 | Self::RsaPkcs1v15Sha256 => {
                HashAlgorithm::Sha256
            }
            Self::RsaPssSha384 | Self::EcdsaSha384 | Self::RsaPkcs1v15Sha384 => {
                HashAlgorithm::Sha384
            }
            Self::RsaPssSha512 | Self::EcdsaSha512 | Self::RsaPkcs1v15Sha512 => {
                HashAlgorithm::Sha512
            }
        }
    }

    /// Builds the algorithm from its parts.
    pub const fn new(scheme: SignatureScheme, hash: HashAlgorithm) -> Self {
        match (scheme, hash) {
            (SignatureScheme::RsaPss, HashAlgorithm::Sha256) => Self::RsaPssSha256,
            (SignatureScheme::RsaPss, HashAlgorithm::Sha384) => Self::RsaPssSha384,
            (SignatureScheme::RsaPss, HashAlgorithm::Sha512) => Self::RsaPssSha512,
            (SignatureScheme::Ecdsa, HashAlgorithm::Sha256) => Self::EcdsaSha256,
            (SignatureScheme::Ecdsa, HashAlgorithm::Sha384) => Self::EcdsaSha384,
            (SignatureScheme::Ecdsa, HashAlgorithm::Sha512) => Self::EcdsaSha512,
            (SignatureScheme::RsaPkcs1v15, HashAlgorithm::Sha256) => Self::RsaPkcs1v15Sha256,
            (SignatureScheme::RsaPkcs1v15, HashAlgorithm::Sha384) => Self::RsaPkcs1v15Sha384,
            (SignatureScheme::RsaPkcs1v15, HashAlgorithm::Sha512) => Self::RsaPkcs1v15Sha512,
        }
    }

    /// The Notary `signingAlgorithm` wire name, e.g. `"RSASSA-PSS-SHA-256"`; `None` for the
    /// PKCS#1 v1.5 algorithms, which Notary does not allow.
    pub const fn notary_name(self) -> Option<&'static str> {
        match self {
            Self::RsaPssSha256 => Some("RSASSA-PSS-SHA-256"),
            Self::RsaPssSha384 => Some("RSASSA-PSS-SHA-384"),
            Self::RsaPssSha512 => Some("RSASSA-PSS-SHA-512"),
            Self::EcdsaSha256 => Some("ECDSA-SHA-256"),
            Self::EcdsaSha384 => Some("ECDSA-SHA-384"),
            Self::EcdsaSha512 => Some("ECDSA-SHA-512"),
            _ => None,
        }
    }

    /// The JWS `alg` value (RFC 7518 §3.1), e.g. `"PS256"`.
    pub const fn jws_name(self) -> &'static str {
        match self {
            Self::RsaPssSha256 => "PS256",
            Self::RsaPssSha384 => "PS384",
            Self::RsaPssSha512 => "PS512",
            Self::EcdsaSha256 => "ES256",
            Self::EcdsaSha384 => "ES384",
            Self::EcdsaSha512 => "ES512",
            Self::RsaPkcs1v15Sha256 => "RS256",
            Self::RsaPkcs1v15Sha384 => "RS384",
            Self::RsaPkcs1v15Sha512 => "RS512",
        }
    }

    /// Parses a JWS `alg` value.
    ///
    /// # Errors
    ///
    /// [`AlgorithmError::UnknownJwsAlgorithm`] for anything else.
    pub fn from_jws_name(name: &str) -> Result<Self, AlgorithmError> {
        Self::NOTARY
            .into_iter()
            .chain([Self::RsaPkcs1v15Sha256, Self::RsaPkcs1v15Sha384, Self::RsaPkcs1v15Sha512])
            .find(|alg| alg.jws_name() == name)
            .ok_or_else(|| AlgorithmError::UnknownJwsAlgorithm(name.to_owned()))
    }

    /// The COSE algorithm identifier (IANA COSE Algorithms registry), e.g. -37 for PS256.
    pub const fn cose_id(self) -> i64 {
        match self {
            Self::RsaPssSha256 => -37,
            Self::RsaPssSha384 => -38,
            Self::RsaPssSha512 => -39,
            Self::EcdsaSha256 => -7,
            Self::EcdsaSha384 => -35,
            Self::EcdsaSha512 => -36,
            Self::RsaPkcs1v15Sha256 => -257,
            Self::RsaPkcs1v15Sha384 => -258,
            Self::RsaPkcs1v15Sha512 => -259,
        }
    }

    /// Parses a COSE algorithm identifier.
    ///
    /// # Errors
    ///
    /// [`AlgorithmError::UnknownCoseAlgorithm`] for anything else.
    pub fn from_cose_id(id: i64) -> Result<Self, AlgorithmError> {
        Self::NOTARY
            .into_iter()
            .chain([Self::RsaPkcs1v15Sha256, Self::RsaPkcs1v15Sha384, Self::RsaPkcs1v15Sha512])
            .find(|alg| alg.cose_id() == id)
            .ok_or(AlgorithmError::UnknownCoseAlgorithm(id))
    }

    /// Whether this algorithm can be used with a key of `spec` at all (same key family).
    pub const fn fits(self, spec: KeySpec) -> bool {
        match self.scheme() {
            SignatureScheme::Ecdsa => !spec.is_rsa(),
            SignatureScheme::RsaPss | SignatureScheme::RsaPkcs1v15 => spec.is_rsa(),
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.notary_name() {
            Some(name) => f.write_str(name),
            None => write!(f, "RSASSA-PKCS1-V1_5-{}", self.hash()),
        }
    }
}

impl FromStr for SignatureAlgorithm {
    type Err = AlgorithmError;

    /// Parses a Notary `signingAlgorithm` name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NOTARY
            .into_iter()
            .find(|alg| alg.notary_name() == Some(s))
            .ok_or_else(|| AlgorithmError::UnknownSignatureAlgorithm(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_spec_names_round_trip() {
        for spec in KeySpec::ALL {
            assert_eq!(spec.as_str().parse::<KeySpec>().unwrap(), spec);
        }
        assert!("RSA-8192".parse::<KeySpec>().is_err());
        assert!("ec-256".parse::<KeySpec>().is_err(), "names are case-sensitive");
    }

    #[test]
    fn key_spec_hash_pairing_follows_notary_spec() {
        let pairs: Vec<_> = KeySpec::ALL
            .iter()
            .map(|s| (s.as_str(), s.hash().as_str(), s.notary_algorithm().notary_name().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("RSA-2048", "SHA-256", "RSASSA-PSS-SHA-256"),
                ("RSA-3072", "SHA-384", "RSASSA-PSS-SHA-384"),
                ("RSA-4096", "SHA-512", "RSASSA-PSS-SHA-512"),
                ("EC-256", "SHA-256", "ECDSA-SHA-256"),
                ("EC-384", "SHA-384", "ECDSA-SHA-384"),
                ("EC-521", "SHA-512", "ECDSA-SHA-512"),
            ]
        );
    }

    #[test]
    fn ecdsa_p521_signature_is_132_bytes() {
        assert_eq!(KeySpec::Ec521.signature_len(), 132);
        assert_eq!(KeySpec::Ec521.ec_scalar_len(), Some(66));
    }

    #[test]
    fn jws_and_cose_identifiers() {
        for alg in SignatureAlgorithm::NOTARY {
            assert_eq!(SignatureAlgorithm::from_jws_name(alg.jws_name()).unwrap(), alg);
            assert_eq!(SignatureAlgorithm::from_cose_id(alg.cose_id()).unwrap(), alg);
            assert_eq!(SignatureAlgorithm::new(alg.scheme(), alg.hash()), alg);
        }
        assert_eq!(SignatureAlgorithm::RsaPssSha384.cose_id(), -38);
        assert_eq!(SignatureAlgorithm::EcdsaSha384.cose_id(), -35);
        assert!(SignatureAlgorithm::from_jws_name("HS256").is_err());
        assert!("ECDSA_SHA_256".parse::<SignatureAlgorithm>().is_err());
    }

    #[test]
    fn pss_salt_len_equals_hash_len() {
        let lens: Vec<_> = HashAlgorithm::ALL.iter().map(|h| h.output_len()).collect();
        assert_eq!(lens, [32, 48, 64]);
    }
}
