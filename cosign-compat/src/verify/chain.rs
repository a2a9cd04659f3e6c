//! Certificate checks with cosign's rules (cosign `pkg/cosign/verify.go TrustedCert`,
//! `CheckExpiry`; Go `crypto/x509` `Certificate.Verify`).
//!
//! - The path leaf → intermediates → root is built at the leaf's **notBefore** (Go
//!   `VerifyOptions.CurrentTime = cert.NotBefore`): every certificate valid then, each signed by
//!   the next, intermediates with basicConstraints CA:TRUE, path length constraints respected.
//! - Extended key usage `codeSigning` is requested: every certificate of the path that has an
//!   EKU extension must list codeSigning or anyExtendedKeyUsage (no extension means any).
//! - Without a transparency-log or TSA timestamp, everything on the path must also be valid
//!   **now**; cosign says "expected a signed timestamp to verify an expired certificate".
//! - Every CA on the path must allow, through its nameConstraints (permitted and excluded; e-mail,
//!   DNS, URI, IP), every such name in the subjectAltName of the certificates below it, and no
//!   certificate may carry a critical extension Go does not process (cosign forgives a critical
//!   subjectAltName on the leaf). RSASSA-PSS certificate signatures count only with Go's
//!   parameters; a refused algorithm or PSS parameter is named in the error.
//! - The search is bounded as Go bounds it: at most [`MAX_SIGNATURE_CHECKS`] signature checks per
//!   verification (`maxChainSignatureChecks`), a candidate issuer is skipped when a certificate
//!   with the same subject, key and SAN is already on the path (`alreadyInChain`), and at most
//!   [`MAX_CANDIDATES_PER_STEP`] certificates naming the right subject are tried at one step. A
//!   hostile chain annotation (many CAs with one subject and one key) costs at most 100
//!   signature checks per layer instead of every ordering of them.

use std::collections::BTreeMap;
use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{ANY_EXTENDED_KEY_USAGE, ID_KP_CODE_SIGNING};
use der::Decode;
use sig_core::__private::timestamp::rfc3339_with_fraction as rfc3339;
use sig_core::x509::SUBJECT_ALT_NAME;
use sig_core::{Certificate, ChainRule};

/// Longest path tried (leaf, intermediates, root).
const MAX_DEPTH: usize = 8;

/// Most signature checks one verification makes (Go `crypto/x509` `maxChainSignatureChecks`).
pub(crate) const MAX_SIGNATURE_CHECKS: usize = 100;

/// Most certificates with the right subject tried as the issuer of one certificate.
pub(crate) const MAX_CANDIDATES_PER_STEP: usize = 16;

/// Fulcio extension OIDs cosign prints in `verify` output, with its readable names.
const FULCIO_EXTENSIONS: [(&str, &str); 6] = [
    ("1.3.6.1.4.1.57264.1.1", "oidcIssuer"),
    ("1.3.6.1.4.1.57264.1.2", "githubWorkflowTrigger"),
    ("1.3.6.1.4.1.57264.1.3", "githubWorkflowSha"),
    ("1.3.6.1.4.1.57264.1.4", "githubWorkflowName"),
    ("1.3.6.1.4.1.57264.1.5", "githubWorkflowRepository"),
    ("1.3.6.1.4.1.57264.1.6", "githubWorkflowRef"),
];
/// The value of extension `oid` (a dotted OID) of `cert`, if present.
fn extension<'c>(cert: &'c Certificate, oid: &str) -> Option<&'c [u8]> {
    cert.extension_value(ObjectIdentifier::new(oid).ok()?)
}

/// Whether the certificate allows code signing: no EKU extension, or one listing codeSigning or
/// anyExtendedKeyUsage.
fn allows_code_signing(cert: &Certificate) -> bool {
    match cert.extended_key_usages() {
        None => true,
        Some(eku) => {
            eku.iter().any(|oid| *oid == ID_KP_CODE_SIGNING || *oid == ANY_EXTENDED_KEY_USAGE)
        }
    }
}

/// Checks that `cert` is valid at `at`.
fn valid_at(cert: &Certificate, at: SystemTime, what: &str) -> Result<(), String> {
    if at < cert.not_before() {
        return Err(format!(
            "{what} {:?} is not valid until {} ({})",
            cert.subject(),
            rfc3339(cert.not_before()),
            rfc3339(at)
        ));
    }
    if at > cert.not_after() {
        return Err(format!(
            "{what} {:?} expired at {} ({})",
            cert.subject(),
            rfc3339(cert.not_after()),
            rfc3339(at)
        ));
    }
    Ok(())
}

/// Checks that `leaf` is valid `now` (what cosign checks when a key verifies a signature that
/// carries a certificate).
///
/// # Errors
///
/// A message naming the certificate and its validity.
pub(crate) fn check_validity(leaf: &Certificate, now: SystemTime) -> Result<(), String> {
    valid_at(leaf, now, "the certificate").map_err(|e| {
        format!("{e}; cosign expects a signed timestamp to verify an expired certificate")
    })
}

/// Finds a path from `leaf` to one of `roots` through `intermediates` under cosign's rules and
/// returns it (leaf first, root last).
///
/// # Errors
///
/// Why no path was found, naming the certificate and the rule.
pub(crate) fn verify_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    roots: &[Certificate],
    now: SystemTime,
) -> Result<Vec<Certificate>, String> {
    verify_chain_with_budget(leaf, intermediates, roots, now, MAX_SIGNATURE_CHECKS)
}

/// [`verify_chain`] with at most `budget` signature checks.
pub(crate) fn verify_chain_with_budget(
    leaf: &Certificate,
    intermediates: &[Certificate],
    roots: &[Certificate],
    now: SystemTime,
    budget: usize,
) -> Result<Vec<Certificate>, String> {
    if roots.is_empty() {
        return Err("no trusted root certificates".to_owned());
    }
    let at = leaf.not_before();
    valid_at(leaf, at, "the signing certificate")?;
    // cosign forgives a critical subjectAltName on the leaf (Fulcio's otherName-only SAN).
    if let Some(oid) =
        leaf.unhandled_critical_extensions().into_iter().find(|o| *o != SUBJECT_ALT_NAME)
    {
        return Err(format!(
            "the signing certificate {:?} {}",
            leaf.subject(),
            ChainRule::UnhandledCriticalExtension(oid.to_string())
        ));
    }
    let path = if roots.contains(leaf) {
        vec![leaf.clone()]
    } else {
        let roots: Vec<Candidate<'_>> = roots.iter().map(Candidate::new).collect();
        let intermediates: Vec<Candidate<'_>> = intermediates.iter().map(Candidate::new).collect();
        let mut search = Search {
            roots: &roots,
            intermediates: &intermediates,
            at,
            budget,
            checks: 0,
            exhausted: false,
            failures: Vec::new(),
        };
        let mut path = vec![Candidate::new(leaf)];
        let found = search.extend(&mut path);
        if search.exhausted {
            return Err(format!(
                "signature check attempts limit reached ({budget}) while building the chain of {:?}: the chain offers too many candidate issuers; Go's crypto/x509, and so cosign, stops at {MAX_SIGNATURE_CHECKS} as well",
                leaf.subject()
            ));
        }
        let Some(path) = found else {
            let reason = search.failures.into_iter().next().unwrap_or_else(|| {
                format!(
                    "no trusted root or intermediate issued {:?} (issuer {:?}); the chain must contain its issuers up to a trusted root",
                    leaf.subject(),
                    leaf.issuer()
                )
            });
            return Err(format!(
                "{reason} (chain built at the leaf's notBefore {}, as cosign does)",
                rfc3339(at)
            ));
        };
        path
    };
    if let Some(cert) = path.iter().find(|c| !allows_code_signing(c)) {
        return Err(format!(
            "{:?} has an extended key usage without codeSigning; cosign requires codeSigning (or no EKU) on every certificate of the chain",
            cert.subject()
        ));
    }
    for (i, cert) in path.iter().enumerate() {
        let what = if i == 0 { "the signing certificate" } else { "the chain certificate" };
        valid_at(cert, now, what).map_err(|e| {
            format!("{e}; cosign expects a signed timestamp to verify an expired certificate")
        })?;
    }
    Ok(path)
}

/// A certificate of the search with what `alreadyInChain` compares besides the subject: the
/// public key (its SPKI, in the PEM form that maps one to one to the DER) and the subjectAltName
/// extension's DER.
struct Candidate<'a> {
    cert: &'a Certificate,
    same: Option<(String, Option<&'a [u8]>)>,
}

impl<'a> Candidate<'a> {
    fn new(cert: &'a Certificate) -> Self {
        let same =
            cert.public_key_pem().ok().map(|spki| (spki, cert.extension_value(SUBJECT_ALT_NAME)));
        Self { cert, same }
    }

    /// Whether a certificate with the same subject, key and SAN is already on `path` (Go
    /// `alreadyInChain`): trying it again only repeats work (or loops through cross-signatures).
    fn already_in(&self, path: &[Candidate<'_>]) -> bool {
        path.iter().any(|other| {
            other.cert == self.cert
                || (other.cert.raw_subject() == self.cert.raw_subject()
                    && self.same.is_some()
                    && other.same == self.same)
        })
    }
}

/// Depth-first path building with a signature-check budget.
struct Search<'s, 'c> {
    roots: &'s [Candidate<'c>],
    intermediates: &'s [Candidate<'c>],
    at: SystemTime,
    budget: usize,
    checks: usize,
    exhausted: bool,
    failures: Vec<String>,
}

impl<'c> Search<'_, 'c> {
    /// Whether `parent` signed `child`, spending one signature check of the budget.
    fn signed(&mut self, child: &Certificate, parent: &Certificate) -> bool {
        if self.checks >= self.budget {
            self.exhausted = true;
            return false;
        }
        self.checks += 1;
        if let Err(rule) = child.check_signature_algorithm() {
            self.failures.push(format!("{:?} {rule}", child.subject()));
            return false;
        }
        child.is_signed_by(parent)
    }

    /// The certificates of `pool` whose subject is `child`'s issuer and which are not already on
    /// `path`, at most [`MAX_CANDIDATES_PER_STEP`].
    fn candidates<'s>(
        &mut self,
        pool: &'s [Candidate<'c>],
        path: &[Candidate<'c>],
    ) -> Vec<&'s Candidate<'c>> {
        let Some(child) = path.last() else { return Vec::new() };
        let mut found: Vec<&Candidate<'c>> = pool
            .iter()
            .filter(|c| c.cert.raw_subject() == child.cert.raw_issuer() && !c.already_in(path))
            .collect();
        if found.len() > MAX_CANDIDATES_PER_STEP {
            self.failures.push(format!(
                "{} certificates claim to be the issuer {:?}; only the first {MAX_CANDIDATES_PER_STEP} were tried",
                found.len(),
                child.cert.issuer()
            ));
            found.truncate(MAX_CANDIDATES_PER_STEP);
        }
        found
    }

    /// Go's checks of a CA about to join `path` that are not about time or basic constraints:
    /// unknown critical extensions, and its name constraints over every certificate below it.
    fn ca_allowed(&mut self, ca: &Certificate, path: &[Candidate<'c>], what: &str) -> bool {
        let rule = match ca.unhandled_critical_extensions().first() {
            Some(oid) => Some(ChainRule::UnhandledCriticalExtension(oid.to_string())),
            None => ca.check_name_constraints(path.iter().map(|c| c.cert)).err(),
        };
        match rule {
            Some(rule) => {
                self.failures.push(format!("{what} {:?} {rule}", ca.subject()));
                false
            }
            None => true,
        }
    }

    /// Completes `path` (leaf first) up to a root, or `None`.
    fn extend(&mut self, path: &mut Vec<Candidate<'c>>) -> Option<Vec<Certificate>> {
        let current = path.last()?.cert;
        // Intermediates between the leaf and the next certificate up.
        let below = path.len() - 1;
        let path_len_ok = |cert: &Certificate| {
            cert.path_len_constraint().is_none_or(|max| below <= usize::from(max))
        };
        for root in self.candidates(self.roots, path) {
            if !self.signed(current, root.cert) {
                if self.exhausted {
                    return None;
                }
                continue;
            }
            if let Err(e) = valid_at(root.cert, self.at, "the root") {
                self.failures.push(e);
                continue;
            }
            if !path_len_ok(root.cert) {
                self.failures
                    .push(format!("the root {:?} allows fewer intermediates", root.cert.subject()));
                continue;
            }
            if !self.ca_allowed(root.cert, path, "the root") {
                continue;
            }
            let mut done: Vec<Certificate> = path.iter().map(|c| c.cert.clone()).collect();
            done.push(root.cert.clone());
            return Some(done);
        }
        if path.len() >= MAX_DEPTH {
            return None;
        }
        for inter in self.candidates(self.intermediates, path) {
            if !self.signed(current, inter.cert) {
                if self.exhausted {
                    return None;
                }
                continue;
            }
            if let Err(e) = valid_at(inter.cert, self.at, "the intermediate") {
                self.failures.push(e);
                continue;
            }
            if !inter.cert.is_ca() {
                self.failures.push(format!(
                    "the intermediate {:?} is not a CA (basicConstraints CA:TRUE missing)",
                    inter.cert.subject()
                ));
                continue;
            }
            if !path_len_ok(inter.cert) {
                self.failures.push(format!(
                    "the intermediate {:?} has a path length constraint that the chain exceeds",
                    inter.cert.subject()
                ));
                continue;
            }
            if !self.ca_allowed(inter.cert, path, "the intermediate") {
                continue;
            }
            path.push(Candidate { cert: inter.cert, same: inter.same.clone() });
            if let Some(done) = self.extend(path) {
                return Some(done);
            }
            path.pop();
            if self.exhausted {
                return None;
            }
        }
        None
    }
}

/// The OIDC issuer for identity matching: Fulcio's `1.3.6.1.4.1.57264.1.8` (DER `UTF8String`),
/// else the older `1.3.6.1.4.1.57264.1.1` (raw string), else `""`.
pub(crate) fn oidc_issuer(cert: &Certificate) -> String {
    if let Some(v2) = extension(cert, crate::media_type::OID_FULCIO_ISSUER_V2)
        && let Ok(s) = der::asn1::Utf8StringRef::from_der(v2)
    {
        return s.as_str().to_owned();
    }
    extension(cert, crate::media_type::OID_FULCIO_ISSUER_V1)
        .map(|raw| String::from_utf8_lossy(raw).into_owned())
        .unwrap_or_default()
}

/// What `cosign verify` adds to `optional` in its JSON output for a signature with a
/// certificate (`PrintVerification`): `Subject` (first SAN or `""`), and for each Fulcio
/// extension 1.1–1.6 present its value under the readable name and the OID (`Issuer` for 1.1).
pub(crate) fn output_claims(cert: &Certificate) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("Subject".to_owned(), cert.san_identities().into_iter().next().unwrap_or_default());
    for (oid, name) in FULCIO_EXTENSIONS {
        let Some(raw) = extension(cert, oid) else { continue };
        let value = String::from_utf8_lossy(raw).into_owned();
        if value.is_empty() {
            continue;
        }
        let readable = if name == "oidcIssuer" { "Issuer".to_owned() } else { name.to_owned() };
        out.insert(readable, value.clone());
        out.insert(oid.to_owned(), value);
    }
    out
}
