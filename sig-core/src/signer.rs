//! The signer seam: a key that signs ([`SigningKey`]) apart from the identity that certifies it
//! ([`CertifiedKey`]), as rustls keeps `SigningKey` apart from `CertifiedKey`.
//!
//! A [`SigningKey`] is chosen at run time from configuration: a [`PrivateKey`] signs in-process,
//! [`CommandSigner`] runs an external program, `Pkcs11Signer` (default feature `pkcs11`) signs
//! with a key in a PKCS#11 token or HSM. Key-only signing (cosign `--key`) uses a `SigningKey` as
//! it is; certificate signing (Notary envelopes, cosign with a chain) pairs it with its chain in a
//! [`CertifiedKey`], whose [`new`](CertifiedKey::new) checks that the key is the one the leaf
//! certifies.
//!
//! Callers never trust a key: [`sign_verified`] checks every signature against the key's public
//! key, and a [`CertifiedKey`] checks every signature against its leaf certificate. When the
//! check fails the signature is examined to name the likely cause (wrong key, wrong hash, PSS
//! salt length, PKCS#1 v1.5 instead of PSS).
//!
//! Where each key's [public key](SigningKey::public_key) comes from: a [`PrivateKey`] derives it;
//! a [`CommandSigner`] is given it (the leaf certificate's key when there is a chain, else a public
//! key file, or the key derived from the private key file the program reads); a `Pkcs11Signer`
//! takes it from the certificate it was checked against when opened.
//!
//! # Example: sign a Notary envelope with a signer program
//!
//! ```
//! use std::time::Duration;
//! use sig_core::signer::{CertifiedKey, CommandSigner};
//! use sig_core::oci::{self, Descriptor};
//! use sig_core::{envelope, CertificateChain, EnvelopeFormat, NotaryPayload, SignRequest};
//!
//! # fn main() -> Result<(), sig_core::Error> {
//! # let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data");
//! # let chain_path = format!("{data}/pki/ec-256/chain.pem");
//! # let program = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sign-with-openssl.sh");
//! # let key_path = format!("{data}/pki/ec-256/leaf.key");
//! let chain = CertificateChain::read_pem_file(chain_path.as_ref())?;
//! // The program signs for the leaf certificate's key: stdin is the payload, stdout the signature.
//! let program = CommandSigner::new(program, chain.leaf().public_key()?)
//!     .env("EXTERNAL_PRIVATE_KEY", &key_path)
//!     .timeout(Duration::from_secs(30));
//! let signer = CertifiedKey::new(chain, program)?;
//!
//! let manifest = Descriptor::new(
//!     oci::OCI_MANIFEST,
//!     "sha256:b5ce83abbe900f57e0dbce7e763dceb0e118e888624d58fe41f9a9936ac64c79",
//!     481,
//! );
//! let certificates = signer.chain().certificates();
//! let signed_at = certificates.iter().map(|c| c.not_before()).max().unwrap_or(manifest_time())
//!     + Duration::from_secs(60);
//! let request = SignRequest::new(NotaryPayload::new(manifest), signed_at);
//! let jws = envelope::sign(EnvelopeFormat::Jws, &request, &signer)?;
//! # let _ = jws;
//! # Ok(())
//! # }
//! # fn manifest_time() -> std::time::SystemTime { std::time::SystemTime::UNIX_EPOCH }
//! ```

mod command;
mod diagnose;
#[cfg(feature = "pkcs11")]
mod pkcs11;

use core::fmt;
use std::sync::Arc;

pub use command::{CommandSigner, DEFAULT_TIMEOUT, OutputEncoding};
pub(crate) use command::{SECRET_ENV, resolve_program};
#[cfg(feature = "pkcs11")]
pub use pkcs11::{Pkcs11Pin, Pkcs11Signer, Pkcs11SignerBuilder, Pkcs11Uri};

pub use crate::error::{ProgramStatus, SpawnFailure};

use crate::algorithm::{KeySpec, SignatureAlgorithm};
use crate::error::{KeyError, SignError, SignatureDiagnosis};
use crate::key::{PrivateKey, PublicKey};
use crate::x509::CertificateChain;

/// A private key that signs, wherever it lives.
///
/// The contract:
/// - `payload` is the message itself, **not** a digest; the key hashes it with
///   `algorithm.hash()`.
/// - The scheme is chosen per call, because one key serves Notation (RSA-PSS / ECDSA with the key
///   spec's hash) and cosign (RSA PKCS#1 v1.5 / ECDSA with SHA-256).
/// - RSA-PSS uses MGF1 with the signing hash and a salt as long as the hash.
/// - ECDSA signatures are returned as fixed-width `r || s`; implementations convert DER.
pub trait SigningKey: fmt::Debug + Send + Sync {
    /// The key spec.
    fn key_spec(&self) -> KeySpec;

    /// The public key signatures are verified with.
    fn public_key(&self) -> &PublicKey;

    /// Signs `payload` with `algorithm`.
    ///
    /// # Errors
    ///
    /// Any [`SignError`]; implementations say what failed.
    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError>;
}

impl SigningKey for PrivateKey {
    fn key_spec(&self) -> KeySpec {
        Self::key_spec(self)
    }

    fn public_key(&self) -> &PublicKey {
        Self::public_key(self)
    }

    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        Self::sign(self, algorithm, payload)
    }
}

macro_rules! forward_signing_key {
    ($($wrapper:ident),*) => {$(
        impl<T: SigningKey + ?Sized> SigningKey for $wrapper<T> {
            fn key_spec(&self) -> KeySpec {
                (**self).key_spec()
            }

            fn public_key(&self) -> &PublicKey {
                (**self).public_key()
            }

            fn sign(
                &self,
                algorithm: SignatureAlgorithm,
                payload: &[u8],
            ) -> Result<Vec<u8>, SignError> {
                (**self).sign(algorithm, payload)
            }
        }
    )*};
}
forward_signing_key!(Box, Arc);

/// A signing key with the certificate chain that certifies it (leaf first, ending at the root).
///
/// [`new`](Self::new) checks that the key is the one the leaf certifies;
/// [`new_unchecked`](Self::new_unchecked) skips that for the rare caller who must. Either way,
/// [`sign`](SigningKey::sign) verifies every signature against the leaf certificate's public key
/// before returning it, so a key that does not belong to the leaf never produces a signature.
#[derive(Debug)]
pub struct CertifiedKey {
    chain: CertificateChain,
    /// The leaf's public key, `None` when it is not one of Notation's key specs.
    leaf_key: Option<PublicKey>,
    key: Box<dyn SigningKey>,
}

impl CertifiedKey {
    /// Pairs `key` with `chain`, checking that the key is the one the leaf certifies.
    ///
    /// # Errors
    ///
    /// [`KeyError::Mismatch`] when it is not; the leaf's key errors when the leaf has an
    /// unsupported key.
    pub fn new(chain: CertificateChain, key: impl SigningKey + 'static) -> Result<Self, KeyError> {
        let leaf = chain.leaf();
        let leaf_key = leaf.public_key()?;
        if &leaf_key != key.public_key() {
            return Err(KeyError::Mismatch {
                key_spec: key.key_spec(),
                subject: leaf.subject().to_owned(),
            });
        }
        Ok(Self { chain, leaf_key: Some(leaf_key), key: Box::new(key) })
    }

    /// Pairs `key` with `chain` without checking that they belong together. Every signature is
    /// still verified against the leaf certificate.
    pub fn new_unchecked(chain: CertificateChain, key: impl SigningKey + 'static) -> Self {
        let leaf_key = chain.leaf().public_key().ok();
        Self { chain, leaf_key, key: Box::new(key) }
    }

    /// The certificate chain, leaf first, ending at the root.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// The signing key.
    pub fn key(&self) -> &dyn SigningKey {
        self.key.as_ref()
    }
}

impl SigningKey for CertifiedKey {
    fn key_spec(&self) -> KeySpec {
        self.key.key_spec()
    }

    /// The leaf certificate's public key (the key's own when the leaf's is not supported).
    fn public_key(&self) -> &PublicKey {
        self.leaf_key.as_ref().unwrap_or_else(|| self.key.public_key())
    }

    /// Signs with the key and verifies the signature against the leaf certificate.
    ///
    /// # Errors
    ///
    /// As [`sign_verified`], with [`SignatureDiagnosis::WrongKey`] naming the leaf.
    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        let spec = self.key.key_spec();
        let Some(leaf_key) = &self.leaf_key else {
            return Err(SignError::AlgorithmMismatch { algorithm, key_spec: spec });
        };
        checked(self.key.as_ref(), leaf_key, Some(self.chain.leaf().subject()), algorithm, payload)
    }
}

/// Signs with `key` and verifies the signature against the key's public key before returning
/// it. For a [`CertifiedKey`] that is the leaf certificate's key.
///
/// # Errors
///
/// [`SignError::AlgorithmMismatch`] when `algorithm` does not fit the key,
/// [`SignError::Verification`] with a [`SignatureDiagnosis`] when the signature does not verify,
/// and whatever the key returns.
pub fn sign_verified(
    key: &dyn SigningKey,
    algorithm: SignatureAlgorithm,
    payload: &[u8],
) -> Result<Vec<u8>, SignError> {
    checked(key, key.public_key(), None, algorithm, payload)
}

/// Signs with `key` and checks the signature with `public`; `subject` names the certificate of
/// `public`, if any.
fn checked(
    key: &dyn SigningKey,
    public: &PublicKey,
    subject: Option<&str>,
    algorithm: SignatureAlgorithm,
    payload: &[u8],
) -> Result<Vec<u8>, SignError> {
    let spec = key.key_spec();
    if !algorithm.fits(spec) {
        return Err(SignError::AlgorithmMismatch { algorithm, key_spec: spec });
    }
    let signature = key.sign(algorithm, payload)?;
    let certificate = subject.is_some();
    if signature.len() != spec.signature_len() {
        return Err(SignError::Verification {
            algorithm,
            certificate,
            diagnosis: SignatureDiagnosis::WrongLength {
                key_spec: spec,
                expected: spec.signature_len(),
                actual: signature.len(),
            },
        });
    }
    if public.verify(algorithm, payload, &signature) {
        return Ok(signature);
    }
    Err(SignError::Verification {
        algorithm,
        certificate,
        diagnosis: diagnose::diagnose(public, subject, algorithm, payload, &signature),
    })
}
