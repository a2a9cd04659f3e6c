//! The signer seam: anything that can sign bytes with the private key of a certificate.
//!
//! A [`Signer`] is chosen at run time from configuration: a key file signed in-process
//! ([`KeyFileSigner`]), an external program ([`CommandSigner`]), or a key in a PKCS#11 token or
//! HSM (`Pkcs11Signer`, with the default `pkcs11` feature). Callers never trust a signer:
//! [`sign_verified`] checks every signature against the leaf certificate before returning it, and
//! when the check fails it examines the signature to name the likely cause (wrong key, wrong hash,
//! PSS salt length, PKCS#1 v1.5 instead of PSS).

mod command;
mod diagnose;
mod key_file;
#[cfg(feature = "pkcs11")]
mod pkcs11;

use core::fmt;

pub use command::{
    CommandSigner, DEFAULT_TIMEOUT, MAX_STDERR, MAX_STDOUT, OutputEncoding, SECRET_ENV,
    resolve_program,
};
pub use key_file::{KeyFileSigner, open_private_key};
#[cfg(feature = "pkcs11")]
pub use pkcs11::{Pkcs11Pin, Pkcs11Signer, Pkcs11SignerBuilder, Pkcs11Uri};

use crate::algorithm::{KeySpec, SignatureAlgorithm};
use crate::error::{SignError, SignatureDiagnosis};
use crate::x509::CertificateChain;

/// Signs payloads with the private key of [`certificate_chain`](Signer::certificate_chain)'s leaf.
///
/// The contract:
/// - `payload` is the message itself, **not** a digest; the signer hashes it with
///   `algorithm.hash()`.
/// - The scheme is chosen per call, because one key serves Notation (RSA-PSS / ECDSA with the key
///   spec's hash) and cosign (RSA PKCS#1 v1.5 / ECDSA with SHA-256).
/// - RSA-PSS uses MGF1 with the signing hash and a salt as long as the hash.
/// - ECDSA signatures are returned as fixed-width `r || s`; implementations convert DER.
pub trait Signer: fmt::Debug + Send + Sync {
    /// The key spec of the signing key (that of the leaf certificate).
    fn key_spec(&self) -> KeySpec;

    /// The certificate chain, leaf first, ending at the root.
    fn certificate_chain(&self) -> &CertificateChain;

    /// Signs `payload` with `algorithm`.
    ///
    /// # Errors
    ///
    /// Any [`SignError`]; implementations say what failed and how to fix it.
    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Signs with `signer` and verifies the signature against the leaf certificate's public key
/// before returning it.
///
/// # Errors
///
/// [`SignError::AlgorithmMismatch`] when `algorithm` does not fit the key,
/// [`SignError::Verification`] with a [`SignatureDiagnosis`] when the signature does not verify,
/// and whatever the signer returns.
pub fn sign_verified(
    signer: &dyn Signer,
    algorithm: SignatureAlgorithm,
    payload: &[u8],
) -> Result<Vec<u8>, SignError> {
    let spec = signer.key_spec();
    if !algorithm.fits(spec) {
        return Err(SignError::AlgorithmMismatch { algorithm, key_spec: spec });
    }
    let leaf = signer.certificate_chain().leaf();
    let public = leaf
        .public_key()
        .map_err(|_| SignError::AlgorithmMismatch { algorithm, key_spec: spec })?;
    let signature = signer.sign(algorithm, payload)?;
    if signature.len() != spec.signature_len() {
        return Err(SignError::Verification {
            algorithm,
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
        diagnosis: diagnose::diagnose(&public, leaf.subject(), algorithm, payload, &signature),
    })
}
