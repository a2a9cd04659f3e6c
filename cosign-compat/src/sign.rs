//! Signing a payload the way cosign's verifiers expect, with any [`SigningKey`].
//!
//! ```text
//! key        scheme                 hash (default)        stored signature
//! RSA        RSASSA-PKCS1-v1_5      SHA-256               raw, modulus length
//! EC P-256   ECDSA                  SHA-256               ASN.1 DER
//! EC P-384   ECDSA                  given explicitly      ASN.1 DER
//! EC P-521   ECDSA                  given explicitly      ASN.1 DER
//! ```
//!
//! cosign and Kyverno verify every key with SHA-256 unless told otherwise
//! (`--signature-digest-algorithm`, `signatureAlgorithm`), while sigstore-rs uses the curve's
//! own hash for P-384 and P-521; so P-384 and P-521 keys sign only with an explicit hash, which
//! the verifier must be given too. Every signature is verified before it is returned
//! ([`sig_core::sign_verified`]): against the leaf certificate for a [`sig_core::CertifiedKey`]
//! (cosign with `--certificate*`), against the key's public key for a bare key (`--key`).

use std::time::SystemTime;

use sig_core::{
    Certificate, CertificateChain, HashAlgorithm, KeySpec, SignError, SignatureAlgorithm,
    SignatureScheme, SigningKey,
};

use crate::error::SigningError;
use crate::signature::SignatureLayer;
use crate::verify::chain;

/// The algorithm cosign's verifiers check a `spec` key with, given the optional
/// `--signature-digest-algorithm`.
///
/// # Errors
///
/// [`SigningError::DigestRequired`] for P-384 and P-521 keys without an explicit hash.
pub fn cosign_algorithm(
    spec: KeySpec,
    digest: Option<HashAlgorithm>,
) -> Result<SignatureAlgorithm, SigningError> {
    let (scheme, hash) = match spec {
        KeySpec::Ec256 => (SignatureScheme::Ecdsa, digest.unwrap_or(HashAlgorithm::Sha256)),
        KeySpec::Ec384 | KeySpec::Ec521 => {
            (SignatureScheme::Ecdsa, digest.ok_or(SigningError::DigestRequired { key_spec: spec })?)
        }
        _ => (SignatureScheme::RsaPkcs1v15, digest.unwrap_or(HashAlgorithm::Sha256)),
    };
    Ok(SignatureAlgorithm::new(scheme, hash))
}

/// Signs `payload` for cosign and returns the signature as cosign stores it (ECDSA in DER).
///
/// # Errors
///
/// [`SigningError::DigestRequired`], [`SigningError::UnsupportedDigest`], and the signer's
/// errors, including [`SignError::Verification`] when the signature does not verify.
pub fn sign_payload(
    key: &dyn SigningKey,
    payload: &[u8],
    digest: Option<HashAlgorithm>,
) -> Result<Vec<u8>, SigningError> {
    let spec = key.key_spec();
    let algorithm = cosign_algorithm(spec, digest)?;
    let signature = sig_core::sign_verified(key, algorithm, payload).map_err(|e| match e {
        SignError::AlgorithmMismatch { .. } if spec.ec_scalar_len().is_some() => {
            SigningError::UnsupportedDigest { key_spec: spec, hash: algorithm.hash() }
        }
        other => SigningError::Sign(other),
    })?;
    if algorithm.scheme() == SignatureScheme::Ecdsa {
        return Ok(sig_core::ecdsa::raw_to_der(&signature)?);
    }
    Ok(signature)
}

/// The certificate material of a signature: the leaf, and the chain above it (intermediates
/// then root) for `dev.sigstore.cosign/chain`.
#[derive(Clone, Debug)]
pub struct CertificateMaterial {
    chain: CertificateChain,
}

impl CertificateMaterial {
    /// Builds the material from `--certificate` and/or `--certificate-chain` contents.
    ///
    /// `chain` may be a full chain (leaf, intermediates, root, in any order, like the notation
    /// plugin's) or only the certificates above the leaf; without `certificate` the leaf is
    /// taken from it. The certificates are ordered leaf → root.
    ///
    /// # Errors
    ///
    /// Parse and ordering errors, [`SigningError::NoLeaf`] when the only candidate leaf is a CA.
    pub fn new(certificate: Option<&[u8]>, chain: Option<&[u8]>) -> Result<Self, SigningError> {
        let leaf = match certificate {
            Some(bytes) => {
                let mut certs = Certificate::from_bundle_pem(bytes)?;
                if certs.len() != 1 {
                    return Err(SigningError::Chain {
                        reason: format!(
                            "the --certificate file holds {} certificates; give only the signing certificate there and the rest with --certificate-chain",
                            certs.len()
                        ),
                    });
                }
                certs.pop()
            }
            None => None,
        };
        let chain = match (leaf, chain) {
            (Some(leaf), None) => CertificateChain::from_ordered_der(&[leaf.as_der()])?,
            (leaf, Some(bytes)) => {
                let mut certs = Certificate::from_bundle_pem(bytes)?;
                if let Some(leaf) = leaf {
                    certs.retain(|c| *c != leaf);
                    certs.insert(0, leaf);
                }
                CertificateChain::from_unordered(certs)?
            }
            (None, None) => {
                return Err(SigningError::Chain { reason: "no certificate given".to_owned() });
            }
        };
        if chain.certificates().len() > 1 && chain.leaf().is_ca() {
            return Err(SigningError::NoLeaf { subject: chain.leaf().subject().to_owned() });
        }
        Ok(Self { chain })
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// Consumes the material, returning the chain.
    pub fn into_chain(self) -> CertificateChain {
        self.chain
    }

    /// The leaf.
    pub fn leaf(&self) -> &Certificate {
        self.chain.leaf()
    }

    /// Checks that `cosign verify --certificate-chain` would accept the leaf at `now`: a path to
    /// the root valid at the leaf's notBefore, codeSigning (or no) EKU, everything valid now.
    /// A lone leaf is only checked for validity.
    ///
    /// # Errors
    ///
    /// [`SigningError::Chain`] naming the problem.
    pub fn check_for_cosign(&self, now: SystemTime) -> Result<(), SigningError> {
        let certs = self.chain.certificates();
        let result = match certs {
            [leaf] => chain::check_validity(leaf, now),
            [leaf, above @ ..] => {
                let (root, intermediates) = above.split_last().unwrap_or((leaf, &[]));
                chain::verify_chain(leaf, intermediates, core::slice::from_ref(root), now).map(drop)
            }
            [] => Ok(()),
        };
        result.map_err(|reason| SigningError::Chain { reason })
    }

    /// Adds the certificate annotations to `layer`: the leaf PEM, and the chain PEM
    /// (intermediates then root) when there is more than the leaf.
    pub fn annotate(&self, layer: SignatureLayer) -> SignatureLayer {
        let certs = self.chain.certificates();
        let layer = layer.with_certificate(self.leaf().to_pem());
        if certs.len() > 1 {
            layer.with_chain(certs[1..].iter().map(Certificate::to_pem).collect::<String>())
        } else {
            layer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_schemes_per_key_spec() {
        use HashAlgorithm::*;
        use SignatureAlgorithm as A;
        let cases = [
            (KeySpec::Rsa2048, None, A::RsaPkcs1v15Sha256),
            (KeySpec::Rsa4096, None, A::RsaPkcs1v15Sha256),
            (KeySpec::Rsa3072, Some(Sha512), A::RsaPkcs1v15Sha512),
            (KeySpec::Ec256, None, A::EcdsaSha256),
            (KeySpec::Ec384, Some(Sha384), A::EcdsaSha384),
            (KeySpec::Ec521, Some(Sha512), A::EcdsaSha512),
        ];
        for (spec, digest, want) in cases {
            assert_eq!(cosign_algorithm(spec, digest).unwrap(), want, "{spec}");
        }
        for spec in [KeySpec::Ec384, KeySpec::Ec521] {
            let err = cosign_algorithm(spec, None).unwrap_err();
            assert!(err.to_string().contains("--signature-digest-algorithm"), "{err}");
        }
    }
}
