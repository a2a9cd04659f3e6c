//! Name constraints and critical extensions, with the semantics of Go's `crypto/x509`
//! (`Certificate.Verify`, which cosign uses): a CA's permitted and excluded subtrees for e-mail
//! addresses, DNS names, URIs and IP addresses apply to every name in the subjectAltName of every
//! certificate below it on the path; directoryName and other constraint types are not processed
//! (so a critical nameConstraints extension holding them is an unhandled critical extension).
//! DNS constraints may use the leading-period form of e-mail and URI constraints, as in Go.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_CERTIFICATE_POLICIES,
    ID_CE_CRL_DISTRIBUTION_POINTS, ID_CE_EXT_KEY_USAGE, ID_CE_INHIBIT_ANY_POLICY, ID_CE_KEY_USAGE,
    ID_CE_NAME_CONSTRAINTS, ID_CE_POLICY_CONSTRAINTS, ID_CE_POLICY_MAPPINGS,
    ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_IDENTIFIER, ID_PE_AUTHORITY_INFO_ACCESS,
};
use x509_cert::ext::pkix::constraints::name::{GeneralSubtrees, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;

use super::Certificate;
use super::access::AltName;
use crate::error::ChainRule;

/// Most name/constraint comparisons for one CA (Go `MaxConstraintComparisions` default).
const MAX_COMPARISONS: usize = 250_000;

/// The subjectAltName OID, whose criticality cosign forgives on the leaf.
pub const SUBJECT_ALT_NAME: ObjectIdentifier = ID_CE_SUBJECT_ALT_NAME;

/// One name a certificate claims, as constraints see it.
enum Name {
    Email(String),
    Dns(String),
    Uri(String),
    Ip(Vec<u8>),
}

impl Name {
    fn kind(&self) -> &'static str {
        match self {
            Self::Email(_) => "email address",
            Self::Dns(_) => "DNS name",
            Self::Uri(_) => "URI",
            Self::Ip(_) => "IP address",
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Email(s) | Self::Dns(s) | Self::Uri(s) => s.clone(),
            Self::Ip(octets) => ip_text(octets),
        }
    }
}

fn ip_text(octets: &[u8]) -> String {
    match octets.len() {
        4 => std::net::Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(octets);
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => format!("{octets:02x?}"),
    }
}

/// One constraint of a subtree list.
enum Constraint {
    Email(String),
    Dns(String),
    Uri(String),
    /// Address and mask, both 4 or 16 bytes.
    Ip(Vec<u8>, Vec<u8>),
}

impl Constraint {
    fn text(&self) -> String {
        match self {
            Self::Email(s) | Self::Dns(s) | Self::Uri(s) => s.clone(),
            Self::Ip(ip, mask) => format!("{}/{}", ip_text(ip), ip_text(mask)),
        }
    }
}

/// The constraints of a CA that Go processes, and whether others were present.
struct Constraints {
    permitted: Vec<Constraint>,
    excluded: Vec<Constraint>,
    unhandled: bool,
}

impl Certificate {
    /// The OIDs of extensions marked critical that Go's `crypto/x509` does not process, which
    /// makes `Certificate.Verify` (cosign) refuse the certificate: anything but keyUsage,
    /// basicConstraints, subjectAltName (with at least one e-mail, DNS, URI or IP name),
    /// nameConstraints (of those four kinds), CRL distribution points, authority and subject key
    /// identifiers, certificate policies, policy mappings and constraints, inhibitAnyPolicy,
    /// extendedKeyUsage and authority information access.
    pub fn unhandled_critical_extensions(&self) -> Vec<ObjectIdentifier> {
        const HANDLED: [ObjectIdentifier; 12] = [
            ID_CE_KEY_USAGE,
            ID_CE_BASIC_CONSTRAINTS,
            ID_CE_CRL_DISTRIBUTION_POINTS,
            ID_CE_AUTHORITY_KEY_IDENTIFIER,
            ID_CE_POLICY_CONSTRAINTS,
            ID_CE_EXT_KEY_USAGE,
            ID_CE_SUBJECT_KEY_IDENTIFIER,
            ID_CE_CERTIFICATE_POLICIES,
            ID_CE_POLICY_MAPPINGS,
            ID_CE_INHIBIT_ANY_POLICY,
            ID_PE_AUTHORITY_INFO_ACCESS,
            // Decided below by content.
            ID_CE_SUBJECT_ALT_NAME,
        ];
        let Some(extensions) = self.cert.tbs_certificate().extensions() else {
            return Vec::new();
        };
        extensions
            .iter()
            .filter(|e| e.critical)
            .filter(|e| match e.extn_id {
                ID_CE_SUBJECT_ALT_NAME => self.names().is_empty(),
                ID_CE_NAME_CONSTRAINTS => {
                    self.constraints().is_ok_and(|c| c.is_some_and(|c| c.unhandled))
                }
                oid => !HANDLED.contains(&oid),
            })
            .map(|e| e.extn_id)
            .collect()
    }

    /// Checks that this CA certificate's nameConstraints allow every e-mail address, DNS name,
    /// URI and IP address in the subjectAltName of each of `below` (the certificates under it on
    /// the path, leaf first), as Go's `crypto/x509` does.
    ///
    /// # Errors
    ///
    /// [`ChainRule::NameConstraint`] naming the name, its certificate and the constraint.
    pub fn check_name_constraints<'c>(
        &self,
        below: impl IntoIterator<Item = &'c Self>,
    ) -> Result<(), ChainRule> {
        let constraints = match self.constraints() {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(reason) => {
                return Err(ChainRule::NameConstraint(format!(
                    "everything: its nameConstraints extension is malformed ({reason})"
                )));
            }
        };
        if constraints.permitted.is_empty() && constraints.excluded.is_empty() {
            return Ok(());
        }
        let mut comparisons = 0usize;
        for cert in below {
            for name in cert.names() {
                let refuse = |why: String| {
                    ChainRule::NameConstraint(format!(
                        "the {} {:?} of {:?} ({why})",
                        name.kind(),
                        name.text(),
                        cert.subject()
                    ))
                };
                comparisons += constraints.permitted.len() + constraints.excluded.len();
                if comparisons > MAX_COMPARISONS {
                    return Err(refuse(format!(
                        "more than {MAX_COMPARISONS} name comparisons; Go gives up there too"
                    )));
                }
                for c in &constraints.excluded {
                    if matches(&name, c, true).map_err(refuse)? {
                        return Err(refuse(format!("excluded by {:?}", c.text())));
                    }
                }
                let same_kind: Vec<&Constraint> =
                    constraints.permitted.iter().filter(|c| same_kind(&name, c)).collect();
                if same_kind.is_empty() {
                    continue;
                }
                let mut ok = false;
                for c in &same_kind {
                    if matches(&name, c, false).map_err(refuse)? {
                        ok = true;
                        break;
                    }
                }
                if !ok {
                    let list: Vec<String> = same_kind.iter().map(|c| c.text()).collect();
                    return Err(refuse(format!(
                        "not permitted by any of {}",
                        list.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// E-mail, DNS, URI and IP names of the subjectAltName (other kinds are not constrained).
    fn names(&self) -> Vec<Name> {
        self.alt_names()
            .into_iter()
            .filter_map(|n| match n {
                AltName::Email(s) => Some(Name::Email(s)),
                AltName::Dns(s) => Some(Name::Dns(s)),
                AltName::Uri(s) => Some(Name::Uri(s)),
                AltName::Ip(octets) => Some(Name::Ip(octets)),
                AltName::Fulcio(_) => None,
            })
            .collect()
    }

    /// The nameConstraints extension, `Err` when Go would not parse the certificate.
    fn constraints(&self) -> Result<Option<Constraints>, String> {
        let (_, nc) = match self.cert.tbs_certificate().get_extension::<NameConstraints>() {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let mut unhandled = false;
        let mut subtrees = |trees: &Option<GeneralSubtrees>| -> Result<Vec<Constraint>, String> {
            let mut out = Vec::new();
            for tree in trees.iter().flatten() {
                out.push(match &tree.base {
                    GeneralName::Rfc822Name(s) => {
                        let s = s.to_string();
                        let domain = s.rsplit_once('@').map_or(s.as_str(), |(_, d)| d);
                        valid_constraint_domain(domain, "rfc822Name", &s)?;
                        Constraint::Email(s)
                    }
                    GeneralName::DnsName(s) => {
                        let s = s.to_string();
                        valid_constraint_domain(&s, "dNSName", &s)?;
                        Constraint::Dns(s)
                    }
                    GeneralName::UniformResourceIdentifier(s) => {
                        let s = s.to_string();
                        if s.parse::<std::net::IpAddr>().is_ok() {
                            return Err(format!("URI constraint {s:?} is an IP address"));
                        }
                        valid_constraint_domain(&s, "URI", &s)?;
                        Constraint::Uri(s)
                    }
                    GeneralName::IpAddress(o) => {
                        let b = o.as_bytes();
                        if b.len() != 8 && b.len() != 32 {
                            return Err(format!("IP constraint of {} bytes", b.len()));
                        }
                        let (ip, mask) = b.split_at(b.len() / 2);
                        if !contiguous_mask(mask) {
                            return Err(format!("IP constraint with the invalid mask {mask:02x?}"));
                        }
                        Constraint::Ip(ip.to_vec(), mask.to_vec())
                    }
                    _ => {
                        unhandled = true;
                        continue;
                    }
                });
            }
            Ok(out)
        };
        let permitted = subtrees(&nc.permitted_subtrees)?;
        let excluded = subtrees(&nc.excluded_subtrees)?;
        if nc.permitted_subtrees.as_ref().is_none_or(Vec::is_empty)
            && nc.excluded_subtrees.as_ref().is_none_or(Vec::is_empty)
        {
            return Err("empty name constraints extension".to_owned());
        }
        Ok(Some(Constraints { permitted, excluded, unhandled }))
    }
}

fn valid_constraint_domain(domain: &str, kind: &str, whole: &str) -> Result<(), String> {
    let trimmed = domain.strip_prefix('.').unwrap_or(domain);
    if reverse_labels(trimmed).is_none() {
        return Err(format!("cannot parse the {kind} constraint {whole:?}"));
    }
    Ok(())
}

fn contiguous_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for byte in mask {
        for bit in (0..8).rev() {
            let one = byte & (1 << bit) != 0;
            if one && seen_zero {
                return false;
            }
            seen_zero |= !one;
        }
    }
    true
}

fn same_kind(name: &Name, c: &Constraint) -> bool {
    matches!(
        (name, c),
        (Name::Email(_), Constraint::Email(_))
            | (Name::Dns(_), Constraint::Dns(_))
            | (Name::Uri(_), Constraint::Uri(_))
            | (Name::Ip(_), Constraint::Ip(..))
    )
}

/// Whether `name` falls under constraint `c` (false for another kind). `Err` when the name
/// cannot be matched at all, which Go treats as a refusal.
fn matches(name: &Name, c: &Constraint, excluded: bool) -> Result<bool, String> {
    match (name, c) {
        (Name::Email(n), Constraint::Email(c)) => {
            let (local, domain) = mailbox(n).ok_or("not a parsable e-mail address")?;
            if let Some((c_local, c_domain)) = c.rsplit_once('@') {
                return Ok(local == c_local && domain.eq_ignore_ascii_case(c_domain));
            }
            match_domain(domain, c, excluded)
        }
        (Name::Dns(n), Constraint::Dns(c)) => {
            if reverse_labels(n.strip_suffix('.').unwrap_or(n)).is_none() {
                return Err("not a parsable DNS name".to_owned());
            }
            match_domain(n, c, excluded)
        }
        (Name::Uri(n), Constraint::Uri(c)) => match_domain(&uri_host(n)?, c, excluded),
        (Name::Ip(ip), Constraint::Ip(c_ip, mask)) => Ok(ip.len() == c_ip.len()
            && ip.iter().zip(c_ip).zip(mask).all(|((a, b), m)| a & m == b & m)),
        _ => Ok(false),
    }
}

/// Local part and domain of an RFC 2821 mailbox (the domain must be a plausible domain).
fn mailbox(s: &str) -> Option<(&str, &str)> {
    let (local, domain) = s.rsplit_once('@')?;
    if local.is_empty() || reverse_labels(domain).is_none() {
        return None;
    }
    Some((local, domain))
}

/// The host of a URI, as Go's `url.Parse(...).Host` without the port; an empty host or an IP
/// address cannot be matched against constraints (RFC 5280 4.2.1.10).
fn uri_host(uri: &str) -> Result<String, String> {
    let authority = uri
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return Err("a URI without a host cannot be matched against constraints".to_owned());
    }
    let host = if host_port.starts_with('[') {
        return Err("a URI with an IP address cannot be matched against constraints".to_owned());
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Err("a URI with an IP address cannot be matched against constraints".to_owned());
    }
    Ok(host.to_owned())
}

/// Labels of `domain`, last first; `None` for an empty label or a character outside `!`..`~`.
fn reverse_labels(domain: &str) -> Option<Vec<&str>> {
    if domain.is_empty() {
        return Some(Vec::new());
    }
    let labels: Vec<&str> = domain.split('.').rev().collect();
    labels
        .iter()
        .all(|l| !l.is_empty() && l.bytes().all(|b| (33..=126).contains(&b)))
        .then_some(labels)
}

/// Go's `matchDomainConstraint`: `domain` is `constraint` or below it; a leading period in the
/// constraint requires at least one more label.
fn match_domain(domain: &str, constraint: &str, excluded: bool) -> Result<bool, String> {
    if constraint.is_empty() {
        return Ok(true);
    }
    let mut domain_labels =
        reverse_labels(domain).ok_or_else(|| format!("cannot parse the domain {domain:?}"))?;
    let (must_have_subdomain, constraint) = match constraint.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, constraint),
    };
    let mut constraint_labels =
        reverse_labels(constraint).ok_or_else(|| format!("cannot parse {constraint:?}"))?;
    if domain_labels.len() < constraint_labels.len()
        || (must_have_subdomain && domain_labels.len() == constraint_labels.len())
    {
        return Ok(false);
    }
    // An excluded constraint also covers a wildcard name one level up ("*.example.com" vs
    // "example.com"-style exclusions), as in Go.
    if excluded
        && domain.starts_with('*')
        && domain_labels.len() > 1
        && !constraint_labels.is_empty()
    {
        domain_labels.pop();
        constraint_labels.pop();
    }
    Ok(constraint_labels.iter().zip(&domain_labels).all(|(c, d)| c.eq_ignore_ascii_case(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_as_in_go() {
        assert_eq!(match_domain("teama.example", "teama.example", false), Ok(true));
        assert_eq!(match_domain("a.b.TeamA.example", "teama.example", false), Ok(true));
        assert_eq!(match_domain("teama.example", ".teama.example", false), Ok(false));
        assert_eq!(match_domain("x.teama.example", ".teama.example", false), Ok(true));
        assert_eq!(match_domain("eviltTeama.example", "teama.example", false), Ok(false));
        assert_eq!(match_domain("xteama.example", "teama.example", false), Ok(false));
        assert_eq!(match_domain("anything", "", false), Ok(true));
        assert!(match_domain("a..b", "b", false).is_err());
    }

    #[test]
    fn uri_hosts_and_ip_masks() {
        assert_eq!(uri_host("https://u@ci.teama.example:8443/x?y").unwrap(), "ci.teama.example");
        assert!(uri_host("https://10.0.0.1/").is_err());
        assert!(uri_host("https://[::1]:80/").is_err());
        assert!(uri_host("mailto:release@teama.example").is_err());
        assert!(contiguous_mask(&[255, 255, 0, 0]));
        assert!(!contiguous_mask(&[255, 0, 255, 0]));
    }
}
