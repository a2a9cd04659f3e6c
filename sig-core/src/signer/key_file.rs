//! In-process signing with a private key loaded from a file or bytes.

use std::path::Path;

use zeroize::Zeroizing;

use super::Signer;
use crate::algorithm::{KeySpec, SignatureAlgorithm};
use crate::error::{Error, KeyError, SignError};
use crate::key::PrivateKey;
use crate::x509::CertificateChain;

/// Signs in-process with a private key whose certificate chain is known.
#[derive(Debug)]
pub struct KeyFileSigner {
    key: PrivateKey,
    chain: CertificateChain,
}

impl KeyFileSigner {
    /// Pairs `key` with `chain`, checking that the key is the one the leaf certifies.
    ///
    /// # Errors
    ///
    /// [`KeyError::Mismatch`] when it is not; the leaf's key errors when the leaf has an
    /// unsupported key.
    pub fn new(key: PrivateKey, chain: CertificateChain) -> Result<Self, KeyError> {
        let leaf = chain.leaf();
        let leaf_key = leaf.public_key()?;
        if &leaf_key != key.public_key() {
            return Err(KeyError::Mismatch {
                key_spec: key.key_spec(),
                subject: leaf.subject().to_owned(),
            });
        }
        Ok(Self { key, chain })
    }

    /// Pairs `key` with `chain` without checking that they belong together. Every signature is
    /// still verified by [`sign_verified`](super::sign_verified).
    pub fn new_unchecked(key: PrivateKey, chain: CertificateChain) -> Self {
        Self { key, chain }
    }

    /// Loads a key file (PEM or DER; encrypted PKCS#8 with `password`) and a chain file (PEM
    /// bundle or DER, any order) and pairs them.
    ///
    /// # Errors
    ///
    /// Reading, parsing and [`KeyError::Mismatch`] errors.
    pub fn open(
        key_path: &Path,
        password: Option<&[u8]>,
        chain_path: &Path,
    ) -> Result<Self, Error> {
        let chain = CertificateChain::read_pem_file(chain_path)?;
        let key = open_private_key(key_path, password)?;
        Ok(Self::new(key, chain)?)
    }

    /// The private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }
}

/// Reads and parses a private key file.
///
/// # Errors
///
/// [`KeyError::AccessDenied`], [`KeyError::Read`], and the parse errors of
/// [`PrivateKey::from_bytes`].
pub fn open_private_key(path: &Path, password: Option<&[u8]>) -> Result<PrivateKey, KeyError> {
    let bytes = crate::fs::read_bounded(path, crate::fs::MAX_FILE_LEN)
        .map(Zeroizing::new)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::PermissionDenied => {
                KeyError::AccessDenied { path: path.to_owned() }
            }
            _ => KeyError::Read { path: path.to_owned(), source },
        })?;
    PrivateKey::from_bytes(&bytes, password)
}

impl Signer for KeyFileSigner {
    fn key_spec(&self) -> KeySpec {
        self.key.key_spec()
    }

    fn certificate_chain(&self) -> &CertificateChain {
        &self.chain
    }

    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        self.key.sign(algorithm, payload)
    }
}
