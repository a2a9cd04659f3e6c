//! Ordering a bag of certificates into leaf → root.

use std::path::Path;
use std::time::SystemTime;

use super::Certificate;
use crate::error::CertificateError;

/// A certificate chain, leaf first, ending at a self-signed root. Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateChain {
    certs: Vec<Certificate>,
}

impl CertificateChain {
    /// Parses a PEM bundle (or concatenated DER certificates) in any order and orders it
    /// leaf → root.
    ///
    /// This checks only the shape (issuer links and their signatures, one leaf, a self-signed
    /// root, no stray certificates); call [`validate`](Self::validate) for notation's rules.
    ///
    /// # Errors
    ///
    /// Parsing errors, [`CertificateError::MultipleLeaves`], [`CertificateError::Loop`],
    /// [`CertificateError::MissingIssuer`], [`CertificateError::Unrelated`].
    pub fn from_pem(bytes: &[u8]) -> Result<Self, CertificateError> {
        Self::from_unordered(Certificate::from_bundle_pem(bytes)?)
    }

    /// Reads and orders a chain file (PEM bundle or DER, any order; at most
    /// [`MAX_FILE_LEN`](crate::fs::MAX_FILE_LEN) bytes).
    ///
    /// # Errors
    ///
    /// [`CertificateError::Read`] and the errors of [`from_pem`](Self::from_pem), with the
    /// path in [`CertificateError::Empty`].
    pub fn read_pem_file(path: &Path) -> Result<Self, CertificateError> {
        super::read_pem_file(path, Self::from_pem)
    }

    /// A chain given already ordered leaf first (as in a JWS `x5c` or COSE `x5chain`), without
    /// reordering. Links are checked by [`validate`](Self::validate).
    ///
    /// # Errors
    ///
    /// [`CertificateError::Empty`], [`CertificateError::TooMany`] or a parse error.
    pub fn from_ordered_der<B: AsRef<[u8]>>(ders: &[B]) -> Result<Self, CertificateError> {
        if ders.is_empty() {
            return Err(CertificateError::Empty { path: None });
        }
        if ders.len() > super::MAX_CHAIN_LEN {
            return Err(CertificateError::TooMany { count: ders.len(), max: super::MAX_CHAIN_LEN });
        }
        let certs = ders
            .iter()
            .enumerate()
            .map(|(i, der)| Certificate::parse(der.as_ref(), i))
            .collect::<Result<_, _>>()?;
        Ok(Self { certs })
    }

    /// Orders parsed certificates leaf → root.
    ///
    /// # Errors
    ///
    /// As [`from_pem`](Self::from_pem).
    pub fn from_unordered(mut certs: Vec<Certificate>) -> Result<Self, CertificateError> {
        // The same certificate twice (a bundle that repeats the root) is harmless.
        let mut seen = Vec::new();
        certs.retain(|c| {
            let new = !seen.contains(&c.der);
            seen.push(c.der.clone());
            new
        });
        if certs.is_empty() {
            return Err(CertificateError::Empty { path: None });
        }
        let n = certs.len();
        // issuer[i] = index of the certificate that signed certs[i] (not itself).
        // Prefer an issuer whose key verifies the signature; fall back to a name match so that a
        // bad or SHA-1 signature is reported by `validate` as such, not as a missing issuer.
        let issuer: Vec<Option<usize>> = (0..n)
            .map(|i| {
                (0..n).find(|&j| j != i && certs[i].is_signed_by(&certs[j])).or_else(|| {
                    (0..n).find(|&j| j != i && certs[i].raw_issuer == certs[j].raw_subject)
                })
            })
            .collect();
        let issues_another = |j: usize| issuer.contains(&Some(j));
        let mut leaves: Vec<usize> = (0..n).filter(|&i| !issues_another(i)).collect();
        if leaves.is_empty() {
            return Err(CertificateError::Loop);
        }
        if leaves.len() > 1 {
            // A stray self-signed CA next to a real chain is "unrelated", not a second leaf.
            let non_ca: Vec<usize> =
                leaves.iter().copied().filter(|&i| !certs[i].is_ca()).collect();
            if non_ca.len() == 1 {
                leaves = non_ca;
            } else {
                return Err(CertificateError::MultipleLeaves {
                    subjects: leaves.iter().map(|&i| certs[i].subject.clone()).collect(),
                });
            }
        }
        let mut order = vec![leaves[0]];
        let mut current = leaves[0];
        loop {
            if certs[current].raw_subject == certs[current].raw_issuer {
                break;
            }
            match issuer[current] {
                Some(next) if order.contains(&next) => return Err(CertificateError::Loop),
                Some(next) => {
                    order.push(next);
                    current = next;
                }
                None => {
                    return Err(CertificateError::MissingIssuer {
                        subject: certs[current].subject.clone(),
                        issuer: certs[current].issuer.clone(),
                    });
                }
            }
        }
        if let Some(stray) = (0..n).find(|i| !order.contains(i)) {
            return Err(CertificateError::Unrelated {
                subject: certs[stray].subject.clone(),
                ends_at: certs[current].subject.clone(),
            });
        }
        let mut slots: Vec<Option<Certificate>> = certs.into_iter().map(Some).collect();
        let certs = order.into_iter().filter_map(|i| slots[i].take()).collect();
        Ok(Self { certs })
    }

    /// The certificates, leaf first.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// The leaf (signing) certificate.
    pub fn leaf(&self) -> &Certificate {
        // Invariant: never empty (every constructor checks).
        &self.certs[0]
    }

    /// The last certificate (the root, for a chain that passed validation).
    pub fn root(&self) -> &Certificate {
        &self.certs[self.certs.len() - 1]
    }

    /// The whole chain as a PEM bundle, leaf first.
    pub fn to_pem(&self) -> String {
        self.certs.iter().map(Certificate::to_pem).collect()
    }

    /// Checks every notation rule at time `at` and returns the first failure.
    ///
    /// # Errors
    ///
    /// [`CertificateError::Rule`] naming the certificate and the rule.
    pub fn validate(&self, at: SystemTime) -> Result<(), CertificateError> {
        match self.problems(at).into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Every rule that any certificate breaks at time `at` (empty when the chain is fine).
    pub fn problems(&self, at: SystemTime) -> Vec<CertificateError> {
        super::rules::check_chain(&self.certs, at)
    }

    /// Whether some certificate of the chain is byte-identical to `anchor` (notation's
    /// authenticity check against its trust store).
    pub fn contains(&self, anchor: &Certificate) -> bool {
        self.certs.iter().any(|c| c == anchor)
    }
}
