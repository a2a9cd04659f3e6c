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

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{ANY_EXTENDED_KEY_USAGE, ID_KP_CODE_SIGNING};
use der::Decode;
use sig_core::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};

/// Longest path tried (leaf, intermediates, root).
const MAX_DEPTH: usize = 8;

/// Fulcio extension OIDs cosign prints in `verify` output, with its readable names.
const FULCIO_EXTENSIONS: [(&str, &str); 6] = [
    ("1.3.6.1.4.1.57264.1.1", "oidcIssuer"),
    ("1.3.6.1.4.1.57264.1.2", "githubWorkflowTrigger"),
    ("1.3.6.1.4.1.57264.1.3", "githubWorkflowSha"),
    ("1.3.6.1.4.1.57264.1.4", "githubWorkflowName"),
    ("1.3.6.1.4.1.57264.1.5", "githubWorkflowRepository"),
    ("1.3.6.1.4.1.57264.1.6", "githubWorkflowRef"),
];
/// Fulcio's `OtherName` SAN type (`UnmarshalOtherNameSAN`).
const OTHER_NAME_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// Extensions of a certificate, parsed from its DER.
struct Extensions {
    cert: x509_cert::Certificate,
}

impl Extensions {
    fn of(cert: &Certificate) -> Option<Self> {
        x509_cert::Certificate::from_der(cert.as_der()).ok().map(|cert| Self { cert })
    }

    fn get<T: for<'a> Decode<'a> + const_oid::AssociatedOid>(&self) -> Option<T> {
        self.cert.tbs_certificate().get_extension::<T>().ok().flatten().map(|(_, v)| v)
    }

    fn raw(&self, oid: &str) -> Option<Vec<u8>> {
        let oid = ObjectIdentifier::new(oid).ok()?;
        self.cert
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes().to_vec())
    }
}

/// Whether the certificate allows code signing: no EKU extension, or one listing codeSigning or
/// anyExtendedKeyUsage.
fn allows_code_signing(cert: &Certificate) -> bool {
    let Some(ext) = Extensions::of(cert) else {
        return false;
    };
    match ext.get::<ExtendedKeyUsage>() {
        None => true,
        Some(eku) => {
            eku.0.iter().any(|oid| *oid == ID_KP_CODE_SIGNING || *oid == ANY_EXTENDED_KEY_USAGE)
        }
    }
}

fn basic_constraints(cert: &Certificate) -> Option<BasicConstraints> {
    Extensions::of(cert)?.get::<BasicConstraints>()
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
    if roots.is_empty() {
        return Err("no trusted root certificates".to_owned());
    }
    let at = leaf.not_before();
    valid_at(leaf, at, "the signing certificate")?;
    let mut failures = Vec::new();
    let path = if roots.contains(leaf) {
        Some(vec![leaf.clone()])
    } else {
        extend(core::slice::from_ref(leaf), intermediates, roots, at, &mut failures)
    };
    let Some(path) = path else {
        let reason = failures.into_iter().next().unwrap_or_else(|| {
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

/// Depth-first search for a completed path above `path`'s last certificate.
fn extend(
    path: &[Certificate],
    intermediates: &[Certificate],
    roots: &[Certificate],
    at: SystemTime,
    failures: &mut Vec<String>,
) -> Option<Vec<Certificate>> {
    let current = path.last()?;
    // Intermediates between the leaf and the next certificate up.
    let below = path.len() - 1;
    let path_len_ok = |cert: &Certificate| match basic_constraints(cert) {
        Some(bc) => bc.path_len_constraint.is_none_or(|max| below <= usize::from(max)),
        None => true,
    };
    for root in roots.iter().filter(|r| current.is_signed_by(r)) {
        if let Err(e) = valid_at(root, at, "the root") {
            failures.push(e);
            continue;
        }
        if !path_len_ok(root) {
            failures.push(format!("the root {:?} allows fewer intermediates", root.subject()));
            continue;
        }
        let mut done = path.to_vec();
        done.push(root.clone());
        return Some(done);
    }
    if path.len() >= MAX_DEPTH {
        return None;
    }
    for inter in intermediates.iter().filter(|i| !path.contains(i) && current.is_signed_by(i)) {
        if let Err(e) = valid_at(inter, at, "the intermediate") {
            failures.push(e);
            continue;
        }
        if !basic_constraints(inter).is_some_and(|bc| bc.ca) {
            failures.push(format!(
                "the intermediate {:?} is not a CA (basicConstraints CA:TRUE missing)",
                inter.subject()
            ));
            continue;
        }
        if !path_len_ok(inter) {
            failures.push(format!(
                "the intermediate {:?} has a path length constraint that the chain exceeds",
                inter.subject()
            ));
            continue;
        }
        let mut next = path.to_vec();
        next.push(inter.clone());
        if let Some(done) = extend(&next, intermediates, roots, at, failures) {
            return Some(done);
        }
    }
    None
}

/// The subject alternative names in the order cosign lists them (sigstore
/// `cryptoutils.GetSubjectAlternateNames`): DNS names, e-mail addresses, IP addresses, URIs,
/// then Fulcio's `OtherName`.
pub(crate) fn subject_alternative_names(cert: &Certificate) -> Vec<String> {
    let Some(san) = Extensions::of(cert).and_then(|e| e.get::<SubjectAltName>()) else {
        return Vec::new();
    };
    let (mut dns, mut email, mut ip, mut uri, mut other) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for name in &san.0 {
        match name {
            GeneralName::DnsName(n) => dns.push(n.to_string()),
            GeneralName::Rfc822Name(n) => email.push(n.to_string()),
            GeneralName::IpAddress(octets) => {
                if let Some(text) = ip_to_string(octets.as_bytes()) {
                    ip.push(text);
                }
            }
            GeneralName::UniformResourceIdentifier(n) => uri.push(n.to_string()),
            GeneralName::OtherName(o) if o.type_id == OTHER_NAME_SAN => {
                if let Ok(s) = o.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                    other.push(s.as_str().to_owned());
                }
            }
            _ => {}
        }
    }
    [dns, email, ip, uri, other].concat()
}

/// Go's `net.IP.String()`: IPv4 (also for IPv4-mapped IPv6) dotted, IPv6 compressed.
fn ip_to_string(octets: &[u8]) -> Option<String> {
    match octets.len() {
        4 => Some(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]).to_string()),
        16 => {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(octets);
            let v6 = Ipv6Addr::from(bytes);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4).to_string(),
                None => v6.to_string(),
            })
        }
        _ => None,
    }
}

/// The OIDC issuer for identity matching: Fulcio's `1.3.6.1.4.1.57264.1.8` (DER `UTF8String`),
/// else the older `1.3.6.1.4.1.57264.1.1` (raw string), else `""`.
pub(crate) fn oidc_issuer(cert: &Certificate) -> String {
    let Some(ext) = Extensions::of(cert) else {
        return String::new();
    };
    if let Some(v2) = ext.raw(crate::media_type::OID_FULCIO_ISSUER_V2)
        && let Ok(s) = der::asn1::Utf8StringRef::from_der(&v2)
    {
        return s.as_str().to_owned();
    }
    ext.raw(crate::media_type::OID_FULCIO_ISSUER_V1)
        .map(|raw| String::from_utf8_lossy(&raw).into_owned())
        .unwrap_or_default()
}

/// What `cosign verify` adds to `optional` in its JSON output for a signature with a
/// certificate (`PrintVerification`): `Subject` (first SAN or `""`), and for each Fulcio
/// extension 1.1–1.6 present its value under the readable name and the OID (`Issuer` for 1.1).
pub(crate) fn output_claims(cert: &Certificate) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert(
        "Subject".to_owned(),
        subject_alternative_names(cert).into_iter().next().unwrap_or_default(),
    );
    let Some(ext) = Extensions::of(cert) else {
        return out;
    };
    for (oid, name) in FULCIO_EXTENSIONS {
        let Some(raw) = ext.raw(oid) else { continue };
        let value = String::from_utf8_lossy(&raw).into_owned();
        if value.is_empty() {
            continue;
        }
        let readable = if name == "oidcIssuer" { "Issuer".to_owned() } else { name.to_owned() };
        out.insert(readable, value.clone());
        out.insert(oid.to_owned(), value);
    }
    out
}

fn rfc3339(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| format!("{t:?}"))
}
