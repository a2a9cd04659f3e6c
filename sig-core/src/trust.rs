//! The certificates an envelope's chain must reach: notation's trust store.

use std::path::Path;

use crate::error::CertificateError;
use crate::x509::Certificate;

/// A non-empty set of trusted certificates (notation's trust store for one verification).
///
/// [`envelope::verify`](crate::envelope::verify) requires that some certificate of an envelope's
/// chain be byte-identical to one of these. There is no empty `TrustAnchors`: verifying without
/// the authenticity check is a separate, explicitly named function,
/// [`envelope::dangerous::verify_without_trust_anchors`](crate::envelope::dangerous::verify_without_trust_anchors).
#[derive(Clone, Debug)]
pub struct TrustAnchors {
    certs: Vec<Certificate>,
}

impl TrustAnchors {
    /// The given certificates, in order; a certificate given twice is kept once.
    ///
    /// # Errors
    ///
    /// [`CertificateError::Empty`] for an empty list.
    pub fn new(certs: Vec<Certificate>) -> Result<Self, CertificateError> {
        let mut unique: Vec<Certificate> = Vec::with_capacity(certs.len());
        for cert in certs {
            if !unique.contains(&cert) {
                unique.push(cert);
            }
        }
        if unique.is_empty() {
            return Err(CertificateError::Empty { path: None });
        }
        Ok(Self { certs: unique })
    }

    /// Every certificate of a PEM bundle (or concatenated DER certificates), in any order:
    /// each is an anchor by itself, no chain is built.
    ///
    /// # Errors
    ///
    /// As [`Certificate::from_bundle_pem`].
    pub fn from_pem(bytes: &[u8]) -> Result<Self, CertificateError> {
        Self::new(Certificate::from_bundle_pem(bytes)?)
    }

    /// Reads a trust store file (PEM bundle or DER; at most
    /// [`MAX_FILE_LEN`](crate::fs::MAX_FILE_LEN) bytes).
    ///
    /// # Errors
    ///
    /// [`CertificateError::Read`] and the errors of [`from_pem`](Self::from_pem), with the path
    /// in [`CertificateError::Empty`].
    pub fn read_pem_file(path: &Path) -> Result<Self, CertificateError> {
        crate::x509::read_pem_file(path, Self::from_pem)
    }

    /// The trusted certificates (never empty).
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }
}

impl From<Certificate> for TrustAnchors {
    /// One trusted certificate.
    fn from(cert: Certificate) -> Self {
        Self { certs: vec![cert] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_is_not_a_trust_store() {
        assert!(matches!(
            TrustAnchors::new(Vec::new()),
            Err(CertificateError::Empty { path: None })
        ));
    }
}
