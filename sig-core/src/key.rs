//! Private and public keys from PEM or DER bytes, or from files ([`PrivateKey::read_file`], the
//! only file access here). No environment access.
//!
//! Private keys: PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2),
//! PKCS#1 RSA (`RSA PRIVATE KEY`) and SEC1 EC (`EC PRIVATE KEY`), as PEM or DER. Public keys: X.509
//! `SubjectPublicKeyInfo`. Only Notation's six key specs are accepted.

use core::fmt;
use std::path::Path;

use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair as _};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1, SECP_521_R_1,
};
use der::Decode;
use zeroize::Zeroizing;

use crate::algorithm::{HashAlgorithm, KeySpec, SignatureAlgorithm, SignatureScheme};
use crate::error::{KeyError, KeyFormat, SignError, UnsupportedKey};
use crate::pem;

/// A private key of one of Notation's key specs, held by the crypto backend (aws-lc-rs).
///
/// `Debug` shows only the key spec; key material never appears in any output. The backend
/// clears key memory when the key is dropped, and every intermediate buffer here is zeroized.
pub struct PrivateKey {
    spec: KeySpec,
    inner: Inner,
    public: PublicKey,
}

enum Inner {
    Rsa(RsaKeyPair),
    /// ECDSA key pairs are bound to one hash in aws-lc-rs; keep the PKCS#8 form to build the
    /// key pair for another hash (cosign signs P-384 and P-521 keys with SHA-256 by default).
    Ec {
        key_pair: EcdsaKeyPair,
        pkcs8: Zeroizing<Vec<u8>>,
    },
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Parses a PEM private key: the first `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`,
    /// `RSA PRIVATE KEY` or `EC PRIVATE KEY` block (an `EC PARAMETERS` block before it is
    /// skipped).
    ///
    /// `password` decrypts an encrypted PKCS#8 key and is ignored otherwise.
    ///
    /// # Errors
    ///
    /// [`KeyError::NotAPrivateKey`] for anything that is not a PEM private key (a certificate,
    /// say), [`KeyError::PasswordRequired`] / [`KeyError::WrongPassword`] for encrypted keys,
    /// [`KeyError::Unsupported`] for key types or sizes outside Notation's key specs, and
    /// [`KeyError::Malformed`] for damaged keys.
    pub fn from_pem(pem: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        if !pem::looks_like_pem(pem) {
            return Err(KeyError::NotAPrivateKey { found: None });
        }
        {
            let blocks = pem::blocks(pem);
            let mut found = None;
            for block in blocks {
                let format = match block.label.as_str() {
                    "PRIVATE KEY" => KeyFormat::Pkcs8,
                    "ENCRYPTED PRIVATE KEY" => KeyFormat::EncryptedPkcs8,
                    "RSA PRIVATE KEY" => KeyFormat::Pkcs1,
                    "EC PRIVATE KEY" => KeyFormat::Sec1,
                    // `openssl ecparam -genkey` writes the curve first; skip it.
                    "EC PARAMETERS" => continue,
                    other => {
                        found.get_or_insert_with(|| format!("a PEM {other} block"));
                        continue;
                    }
                };
                let der = Zeroizing::new(block.der.map_err(|reason| KeyError::Malformed {
                    format,
                    reason: format!("bad PEM encoding: {reason}"),
                })?);
                return Self::from_der_as(&der, format, password);
            }
            Err(KeyError::NotAPrivateKey { found })
        }
    }

    /// PEM or DER, told apart by the PEM header (what [`read_file`](Self::read_file) reads).
    fn from_pem_or_der(bytes: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        if pem::looks_like_pem(bytes) {
            Self::from_pem(bytes, password)
        } else {
            Self::from_der(bytes, password)
        }
    }

    /// Reads and parses a private key file, PEM ([`from_pem`](Self::from_pem)) or DER
    /// ([`from_der`](Self::from_der)).
    /// The file is read bounded (1 MiB) and must be a regular file (a FIFO is refused at once).
    ///
    /// # Errors
    ///
    /// [`KeyError::AccessDenied`], [`KeyError::Read`], and the parse errors of
    /// [`from_pem`](Self::from_pem) and [`from_der`](Self::from_der).
    pub fn read_file(path: &Path, password: Option<&[u8]>) -> Result<Self, KeyError> {
        let bytes = crate::fs::read_bounded(path, crate::fs::MAX_FILE_LEN)
            .map(Zeroizing::new)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    KeyError::AccessDenied { path: path.to_owned() }
                }
                _ => KeyError::Read { path: path.to_owned(), source },
            })?;
        Self::from_pem_or_der(&bytes, password)
    }

    /// Parses a DER private key, trying PKCS#8, encrypted PKCS#8, PKCS#1 and SEC1 in turn.
    ///
    /// # Errors
    ///
    /// As [`from_pem`](Self::from_pem).
    pub fn from_der(der: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let format = if pkcs8::PrivateKeyInfoRef::from_der(der).is_ok() {
            KeyFormat::Pkcs8
        } else if pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
            KeyFormat::EncryptedPkcs8
        } else if RsaKeyPair::from_der(der).is_ok() || rsa_private_key_bits(der).is_some() {
            KeyFormat::Pkcs1
        } else if sec1_curve(der).is_some() {
            KeyFormat::Sec1
        } else {
            let found = x509_cert::Certificate::from_der(der)
                .is_ok()
                .then(|| "a DER certificate".to_owned());
            return Err(KeyError::NotAPrivateKey { found });
        };
        Self::from_der_as(der, format, password)
    }

    fn from_der_as(
        der: &[u8],
        format: KeyFormat,
        password: Option<&[u8]>,
    ) -> Result<Self, KeyError> {
        match format {
            KeyFormat::Pkcs8 => Self::from_pkcs8(der),
            KeyFormat::EncryptedPkcs8 => {
                let password = password.ok_or(KeyError::PasswordRequired)?;
                let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der)
                    .map_err(|e| KeyError::Malformed { format, reason: e.to_string() })?;
                let document = info.decrypt(password).map_err(|_| KeyError::WrongPassword)?;
                Self::from_pkcs8(document.as_bytes())
            }
            KeyFormat::Pkcs1 => {
                let key_pair =
                    RsaKeyPair::from_der(der).map_err(|e| rsa_rejected(format, der, &e))?;
                Self::from_rsa(key_pair)
            }
            KeyFormat::Sec1 => {
                let Some(spec) = sec1_curve(der) else {
                    return Err(KeyError::Malformed {
                        format,
                        reason: "not an ECPrivateKey on P-256, P-384 or P-521".to_owned(),
                    });
                };
                let key_pair = EcdsaKeyPair::from_private_key_der(ecdsa_notary_signing(spec), der)
                    .map_err(|e| KeyError::Malformed { format, reason: e.to_string() })?;
                let pkcs8 = key_pair.to_pkcs8v1().map_err(|_| KeyError::Malformed {
                    format,
                    reason: "cannot re-encode the key".to_owned(),
                })?;
                Self::from_ec(spec, key_pair, Zeroizing::new(pkcs8.as_ref().to_vec()))
            }
        }
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let malformed = |reason: String| KeyError::Malformed { format: KeyFormat::Pkcs8, reason };
        let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| malformed(e.to_string()))?;
        let oid = info.algorithm.oid;
        if oid == RSA_ENCRYPTION {
            let key_pair = RsaKeyPair::from_pkcs8(der)
                .map_err(|e| rsa_rejected(KeyFormat::Pkcs8, info.private_key.as_bytes(), &e))?;
            Self::from_rsa(key_pair)
        } else if oid == ID_EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| malformed("EC key without a named curve".to_owned()))?;
            let spec = ec_spec_from_curve(curve)
                .ok_or_else(|| KeyError::Unsupported(UnsupportedKey::Curve(oid_name(curve))))?;
            let key_pair = EcdsaKeyPair::from_pkcs8(ecdsa_notary_signing(spec), der)
                .map_err(|e| malformed(e.to_string()))?;
            Self::from_ec(spec, key_pair, Zeroizing::new(der.to_vec()))
        } else {
            Err(KeyError::Unsupported(UnsupportedKey::Algorithm(oid_name(oid))))
        }
    }

    fn from_rsa(key_pair: RsaKeyPair) -> Result<Self, KeyError> {
        let bits = key_pair.public_modulus_len() * 8;
        let spec = match bits {
            2048 => KeySpec::Rsa2048,
            3072 => KeySpec::Rsa3072,
            4096 => KeySpec::Rsa4096,
            _ => return Err(KeyError::Unsupported(UnsupportedKey::RsaSize { bits })),
        };
        let public = PublicKey { spec, bytes: key_pair.public_key().as_ref().to_vec() };
        Ok(Self { spec, inner: Inner::Rsa(key_pair), public })
    }

    fn from_ec(
        spec: KeySpec,
        key_pair: EcdsaKeyPair,
        pkcs8: Zeroizing<Vec<u8>>,
    ) -> Result<Self, KeyError> {
        let public = PublicKey { spec, bytes: key_pair.public_key().as_ref().to_vec() };
        Ok(Self { spec, inner: Inner::Ec { key_pair, pkcs8 }, public })
    }

    /// The key spec.
    pub fn key_spec(&self) -> KeySpec {
        self.spec
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` (not pre-hashed) with `algorithm`. ECDSA signatures are `r || s`.
    ///
    /// # Errors
    ///
    /// [`SignError::AlgorithmMismatch`] when the algorithm does not fit the key, and
    /// [`SignError::Backend`] if the crypto backend fails.
    pub fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        let mismatch = || SignError::AlgorithmMismatch { algorithm, key_spec: self.spec };
        let backend = || SignError::Backend { key_spec: self.spec };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.inner {
            Inner::Rsa(key_pair) => {
                let padding: &'static dyn signature::RsaEncoding = match algorithm {
                    SignatureAlgorithm::RsaPssSha256 => &signature::RSA_PSS_SHA256,
                    SignatureAlgorithm::RsaPssSha384 => &signature::RSA_PSS_SHA384,
                    SignatureAlgorithm::RsaPssSha512 => &signature::RSA_PSS_SHA512,
                    SignatureAlgorithm::RsaPkcs1v15Sha256 => &signature::RSA_PKCS1_SHA256,
                    SignatureAlgorithm::RsaPkcs1v15Sha384 => &signature::RSA_PKCS1_SHA384,
                    SignatureAlgorithm::RsaPkcs1v15Sha512 => &signature::RSA_PKCS1_SHA512,
                    _ => return Err(mismatch()),
                };
                let mut out = vec![0; key_pair.public_modulus_len()];
                key_pair.sign(padding, &rng, message, &mut out).map_err(|_| backend())?;
                Ok(out)
            }
            Inner::Ec { key_pair, pkcs8 } => {
                if algorithm.scheme() != SignatureScheme::Ecdsa {
                    return Err(mismatch());
                }
                let signing = ecdsa_signing(self.spec, algorithm.hash()).ok_or_else(mismatch)?;
                let sig = if core::ptr::eq(key_pair.algorithm(), signing) {
                    key_pair.sign(&rng, message)
                } else {
                    EcdsaKeyPair::from_pkcs8(signing, pkcs8)
                        .map_err(|_| mismatch())?
                        .sign(&rng, message)
                };
                Ok(sig.map_err(|_| backend())?.as_ref().to_vec())
            }
        }
    }
}

/// The curve of a SEC1 `ECPrivateKey`, from its `parameters` field.
fn sec1_curve(der: &[u8]) -> Option<KeySpec> {
    // ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING,
    //                             parameters [0] ECParameters OPTIONAL, publicKey [1] BIT STRING OPTIONAL }
    #[derive(der::Sequence)]
    struct EcPrivateKey<'a> {
        _version: u8,
        _private_key: &'a der::asn1::OctetStringRef,
        #[asn1(context_specific = "0", optional = "true")]
        parameters: Option<ObjectIdentifier>,
        #[asn1(context_specific = "1", optional = "true")]
        _public_key: Option<der::asn1::BitStringRef<'a>>,
    }
    let key = EcPrivateKey::from_der(der).ok()?;
    ec_spec_from_curve(key.parameters?)
}

/// aws-lc-rs rejects an RSA key outside 2048..=8192 bits as if it were damaged (`TooSmall`);
/// report the size instead, like any other key outside Notation's key specs.
fn rsa_rejected(
    format: KeyFormat,
    rsa_private_key: &[u8],
    err: &aws_lc_rs::error::KeyRejected,
) -> KeyError {
    match rsa_private_key_bits(rsa_private_key) {
        Some(bits) if !matches!(bits, 2048 | 3072 | 4096) => {
            KeyError::Unsupported(UnsupportedKey::RsaSize { bits })
        }
        _ => KeyError::Malformed { format, reason: err.to_string() },
    }
}

/// Bit length of the modulus of a PKCS#1 `RSAPrivateKey` (DER), if it parses as one.
fn rsa_private_key_bits(der: &[u8]) -> Option<usize> {
    // RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, privateExponent, prime1,
    //                              prime2, exponent1, exponent2, coefficient } (RFC 8017 A.1.2)
    #[derive(der::Sequence)]
    struct RsaPrivateKey<'a> {
        _version: der::asn1::UintRef<'a>,
        modulus: der::asn1::UintRef<'a>,
        _public_exponent: der::asn1::UintRef<'a>,
        _private_exponent: der::asn1::UintRef<'a>,
        _prime1: der::asn1::UintRef<'a>,
        _prime2: der::asn1::UintRef<'a>,
        _exponent1: der::asn1::UintRef<'a>,
        _exponent2: der::asn1::UintRef<'a>,
        _coefficient: der::asn1::UintRef<'a>,
    }
    let key = RsaPrivateKey::from_der(der).ok()?;
    let n = key.modulus.as_bytes();
    let leading = n.first().map_or(0, |b| b.leading_zeros() as usize);
    Some(n.len() * 8 - leading)
}

fn ec_spec_from_curve(curve: ObjectIdentifier) -> Option<KeySpec> {
    match curve {
        SECP_256_R_1 => Some(KeySpec::Ec256),
        SECP_384_R_1 => Some(KeySpec::Ec384),
        SECP_521_R_1 => Some(KeySpec::Ec521),
        _ => None,
    }
}

fn oid_name(oid: ObjectIdentifier) -> String {
    const_oid::db::DB.by_oid(&oid).map_or_else(|| oid.to_string(), str::to_owned)
}

/// The aws-lc-rs ECDSA signing algorithm (fixed r||s output) for a curve and hash, if it has one
/// (it has no P-256/SHA-384 or P-384/SHA-256 signing).
fn ecdsa_signing(spec: KeySpec, hash: HashAlgorithm) -> Option<&'static EcdsaSigningAlgorithm> {
    Some(match (spec, hash) {
        (KeySpec::Ec256, HashAlgorithm::Sha256) => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        (KeySpec::Ec384, HashAlgorithm::Sha384) => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        (KeySpec::Ec521, HashAlgorithm::Sha256) => &signature::ECDSA_P521_SHA256_FIXED_SIGNING,
        (KeySpec::Ec521, HashAlgorithm::Sha384) => &signature::ECDSA_P521_SHA384_FIXED_SIGNING,
        (KeySpec::Ec521, HashAlgorithm::Sha512) => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
        _ => return None,
    })
}

/// The signing algorithm for an EC key spec's own hash.
fn ecdsa_notary_signing(spec: KeySpec) -> &'static EcdsaSigningAlgorithm {
    match spec {
        KeySpec::Ec384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        KeySpec::Ec521 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
        _ => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    }
}

/// A public key of one of Notation's key specs.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    spec: KeySpec,
    /// RSA: the `RSAPublicKey` DER; EC: the uncompressed point.
    bytes: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Parses an X.509 `SubjectPublicKeyInfo` (DER).
    ///
    /// # Errors
    ///
    /// [`KeyError::PublicKey`] for malformed input, [`KeyError::Unsupported`] for key types or
    /// sizes outside Notation's key specs.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| KeyError::PublicKey(e.to_string()))?;
        Self::from_spki(&spki)
    }

    pub(crate) fn from_spki(spki: &spki::SubjectPublicKeyInfoRef<'_>) -> Result<Self, KeyError> {
        let bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| KeyError::PublicKey("public key bit string is not byte-aligned".into()))?
            .to_vec();
        let oid = spki.algorithm.oid;
        let spec = if oid == RSA_ENCRYPTION {
            let bits = rsa_modulus_bits(&bytes)?;
            match bits {
                2048 => KeySpec::Rsa2048,
                3072 => KeySpec::Rsa3072,
                4096 => KeySpec::Rsa4096,
                _ => return Err(KeyError::Unsupported(UnsupportedKey::RsaSize { bits })),
            }
        } else if oid == ID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| KeyError::PublicKey("EC key without a named curve".into()))?;
            ec_spec_from_curve(curve)
                .ok_or_else(|| KeyError::Unsupported(UnsupportedKey::Curve(oid_name(curve))))?
        } else {
            return Err(KeyError::Unsupported(UnsupportedKey::Algorithm(oid_name(oid))));
        };
        Ok(Self { spec, bytes })
    }

    /// The key spec.
    pub fn key_spec(&self) -> KeySpec {
        self.spec
    }

    /// Verifies `signature` over `message` (not pre-hashed). ECDSA signatures are `r || s`.
    pub fn verify(&self, algorithm: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        let Some(params) = verification_algorithm(self.spec, algorithm) else {
            return false;
        };
        signature::UnparsedPublicKey::new(params, &self.bytes).verify(message, signature).is_ok()
    }

    /// Verifies an ECDSA signature in ASN.1 DER form (as X.509 and cosign use).
    pub fn verify_ecdsa_der(&self, hash: HashAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        use signature::{
            ECDSA_P256_SHA256_ASN1 as P256_256, ECDSA_P256_SHA384_ASN1 as P256_384,
            ECDSA_P256_SHA512_ASN1 as P256_512, ECDSA_P384_SHA256_ASN1 as P384_256,
            ECDSA_P384_SHA384_ASN1 as P384_384, ECDSA_P384_SHA512_ASN1 as P384_512,
            ECDSA_P521_SHA256_ASN1 as P521_256, ECDSA_P521_SHA384_ASN1 as P521_384,
            ECDSA_P521_SHA512_ASN1 as P521_512,
        };
        let params: &'static dyn signature::VerificationAlgorithm = match (self.spec, hash) {
            (KeySpec::Ec256, HashAlgorithm::Sha256) => &P256_256,
            (KeySpec::Ec256, HashAlgorithm::Sha384) => &P256_384,
            (KeySpec::Ec256, HashAlgorithm::Sha512) => &P256_512,
            (KeySpec::Ec384, HashAlgorithm::Sha256) => &P384_256,
            (KeySpec::Ec384, HashAlgorithm::Sha384) => &P384_384,
            (KeySpec::Ec384, HashAlgorithm::Sha512) => &P384_512,
            (KeySpec::Ec521, HashAlgorithm::Sha256) => &P521_256,
            (KeySpec::Ec521, HashAlgorithm::Sha384) => &P521_384,
            (KeySpec::Ec521, HashAlgorithm::Sha512) => &P521_512,
            _ => return false,
        };
        signature::UnparsedPublicKey::new(params, &self.bytes).verify(message, signature).is_ok()
    }

    /// The raw key bytes: the `RSAPublicKey` DER for RSA, the uncompressed point for EC.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The X.509 `SubjectPublicKeyInfo` (DER), as Go's `x509.MarshalPKIXPublicKey` writes it:
    /// `rsaEncryption` with NULL parameters, or `id-ecPublicKey` with the named curve.
    ///
    /// # Errors
    ///
    /// [`KeyError::PublicKey`] if it cannot be encoded.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, KeyError> {
        use der::Encode;
        let bad = |e: der::Error| KeyError::PublicKey(e.to_string());
        let (oid, parameters) = if self.spec.is_rsa() {
            (RSA_ENCRYPTION, der::Any::from(der::asn1::Null))
        } else {
            let curve = match self.spec {
                KeySpec::Ec256 => SECP_256_R_1,
                KeySpec::Ec384 => SECP_384_R_1,
                _ => SECP_521_R_1,
            };
            (ID_EC_PUBLIC_KEY, der::Any::encode_from(&curve).map_err(bad)?)
        };
        let spki = spki::SubjectPublicKeyInfoOwned {
            algorithm: spki::AlgorithmIdentifierOwned { oid, parameters: Some(parameters) },
            subject_public_key: der::asn1::BitString::from_bytes(&self.bytes).map_err(bad)?,
        };
        spki.to_der().map_err(bad)
    }

    /// The key as PEM `PUBLIC KEY` (SPKI, LF line endings), the form cosign and Kyverno take.
    ///
    /// # Errors
    ///
    /// [`KeyError::PublicKey`] if it cannot be encoded.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &self.to_spki_der()?)
            .map_err(|e| KeyError::PublicKey(e.to_string()))
    }
}

fn verification_algorithm(
    spec: KeySpec,
    algorithm: SignatureAlgorithm,
) -> Option<&'static dyn signature::VerificationAlgorithm> {
    use SignatureAlgorithm as A;
    Some(match (spec.is_rsa(), algorithm) {
        (true, A::RsaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (true, A::RsaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (true, A::RsaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        (true, A::RsaPkcs1v15Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (true, A::RsaPkcs1v15Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (true, A::RsaPkcs1v15Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (false, A::EcdsaSha256) if spec == KeySpec::Ec256 => &signature::ECDSA_P256_SHA256_FIXED,
        (false, A::EcdsaSha384) if spec == KeySpec::Ec384 => &signature::ECDSA_P384_SHA384_FIXED,
        (false, A::EcdsaSha256) if spec == KeySpec::Ec521 => &signature::ECDSA_P521_SHA256_FIXED,
        (false, A::EcdsaSha384) if spec == KeySpec::Ec521 => &signature::ECDSA_P521_SHA384_FIXED,
        (false, A::EcdsaSha512) if spec == KeySpec::Ec521 => &signature::ECDSA_P521_SHA512_FIXED,
        _ => return None,
    })
}

/// Bit length of the modulus of an `RSAPublicKey` DER.
fn rsa_modulus_bits(der: &[u8]) -> Result<usize, KeyError> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        _exponent: der::asn1::UintRef<'a>,
    }
    let key =
        RsaPublicKey::from_der(der).map_err(|e| KeyError::PublicKey(format!("RSA key: {e}")))?;
    let n = key.modulus.as_bytes();
    let leading = n.first().map_or(0, |b| b.leading_zeros() as usize);
    Ok(n.len() * 8 - leading)
}
