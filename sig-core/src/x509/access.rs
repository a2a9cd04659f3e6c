//! Typed access to the parts of a [`Certificate`] that verifiers besides notation's rules read:
//! the subjectAltName in cosign's order, the extended key usages, the path length constraint and
//! the raw value of any extension (Fulcio's claims). Every reader works on the certificate parsed
//! once by [`Certificate::from_der`]; nothing here parses the DER again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use const_oid::ObjectIdentifier;
use der::asn1::Utf8StringRef;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use super::Certificate;

/// Fulcio's `OtherName` SAN type (sigstore `cryptoutils.UnmarshalOtherNameSAN`).
const FULCIO_OTHER_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// One name of the subjectAltName extension, of the kinds the readers below use.
#[derive(Debug)]
pub(crate) enum AltName {
    Dns(String),
    Email(String),
    /// The address octets as encoded: 4 or 16 bytes in a well-formed certificate.
    Ip(Vec<u8>),
    Uri(String),
    /// Fulcio's `OtherName` (a UTF-8 string identity).
    Fulcio(String),
}

impl Certificate {
    /// The names of the subjectAltName extension in the certificate's order (the one reader of
    /// the extension: name constraints and [`Certificate::san_identities`] are built on it).
    /// Other name kinds, and a subjectAltName that does not parse, yield nothing.
    pub(crate) fn alt_names(&self) -> Vec<AltName> {
        let Ok(Some((_, san))) = self.cert.tbs_certificate().get_extension::<SubjectAltName>()
        else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|name| match name {
                GeneralName::DnsName(n) => Some(AltName::Dns(n.to_string())),
                GeneralName::Rfc822Name(n) => Some(AltName::Email(n.to_string())),
                GeneralName::IpAddress(octets) => Some(AltName::Ip(octets.as_bytes().to_vec())),
                GeneralName::UniformResourceIdentifier(n) => Some(AltName::Uri(n.to_string())),
                GeneralName::OtherName(o) if o.type_id == FULCIO_OTHER_NAME => o
                    .value
                    .decode_as::<Utf8StringRef<'_>>()
                    .ok()
                    .map(|s| AltName::Fulcio(s.as_str().to_owned())),
                _ => None,
            })
            .collect()
    }

    /// The first organization (O) of the subject, as Go's `Subject.Organization[0]`; `None`
    /// without one.
    pub fn subject_organization(&self) -> Option<String> {
        let subject = self.cert.tbs_certificate().subject();
        subject.organization().ok().flatten().map(String::from)
    }

    /// The common name (CN) of the subject, as Go's `Subject.CommonName`; `None` without one.
    pub fn subject_common_name(&self) -> Option<String> {
        let subject = self.cert.tbs_certificate().subject();
        subject.common_name().ok().flatten().map(String::from)
    }

    /// The subjectAltName identities in the order cosign lists and matches them
    /// (`--certificate-identity`; sigstore `cryptoutils.GetSubjectAlternateNames`): DNS names,
    /// e-mail addresses, IP addresses (as Go's `net.IP.String` writes them), URIs, then Fulcio's
    /// `OtherName`. Empty without a subjectAltName.
    pub fn san_identities(&self) -> Vec<String> {
        let (mut dns, mut email, mut ip, mut uri, mut other) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for name in self.alt_names() {
            match name {
                AltName::Dns(n) => dns.push(n),
                AltName::Email(n) => email.push(n),
                AltName::Ip(octets) => ip.extend(go_ip_string(&octets)),
                AltName::Uri(n) => uri.push(n),
                AltName::Fulcio(n) => other.push(n),
            }
        }
        [dns, email, ip, uri, other].concat()
    }

    /// The purposes of the extendedKeyUsage extension, `None` when the certificate has none (no
    /// extension means any purpose).
    pub fn extended_key_usages(&self) -> Option<Vec<ObjectIdentifier>> {
        self.extended_key_usage().map(|(_, eku)| eku.0)
    }

    /// The pathLenConstraint of basicConstraints, `None` when absent or without a limit.
    pub fn path_len_constraint(&self) -> Option<u8> {
        self.basic_constraints().and_then(|(_, bc)| bc.path_len_constraint)
    }

    /// The value (the content of `extnValue`) of the extension `oid`, if the certificate has it.
    pub fn extension_value(&self, oid: ObjectIdentifier) -> Option<&[u8]> {
        self.cert
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    }
}

/// Go's `net.IP.String()`: IPv4 (also IPv4-mapped IPv6) dotted, IPv6 compressed; `None` for a
/// length that is neither.
fn go_ip_string(octets: &[u8]) -> Option<String> {
    match *octets {
        [a, b, c, d] => Some(Ipv4Addr::new(a, b, c, d).to_string()),
        _ => {
            let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(octets).ok()?);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4).to_string(),
                None => v6.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use const_oid::db::rfc5280::ID_KP_CODE_SIGNING;

    use super::*;

    fn fixture(path: &str) -> Certificate {
        let path = format!("{}/../tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Certificate::from_bundle_pem(&bytes).unwrap().remove(0)
    }

    /// Issue 15 item 4: one SAN reader, in the order cosign matches `--certificate-identity`.
    #[test]
    fn san_identities_follow_cosigns_order_with_ip_and_fulcio_names() {
        // SAN as issued: email, DNS, URI, IP.
        let all = fixture("x509/name_constraints/leaf_ok_all.crt");
        assert_eq!(
            all.san_identities(),
            [
                "build.teama.example",
                "release@teama.example",
                "10.1.2.3",
                "https://ci.teama.example/build"
            ]
        );
        let other = fixture("x509/name_constraints/leaf_ok_other_types.crt");
        assert_eq!(other.san_identities(), ["release@teama.example", "anything"]);
        // SAN as issued: URI, email.
        let leaf = fixture("pki/ec-256/leaf.crt");
        assert_eq!(leaf.san_identities(), ["signer@example.test", "https://signer.example.test"]);
        assert!(fixture("pki/fail_no_san/leaf.crt").san_identities().is_empty());
    }

    #[test]
    fn extensions_read_from_the_parsed_certificate() {
        let leaf = fixture("pki/ec-256/leaf.crt");
        assert_eq!(leaf.extended_key_usages(), Some(vec![ID_KP_CODE_SIGNING]));
        let fulcio_issuer = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
        // DER UTF8String "https://issuer.example.test".
        assert_eq!(
            leaf.extension_value(fulcio_issuer),
            Some(&b"\x0c\x1bhttps://issuer.example.test"[..])
        );
        assert_eq!(leaf.extension_value(ObjectIdentifier::new_unwrap("1.2.3.4")), None);
        assert_eq!(leaf.path_len_constraint(), None);
        let root = fixture("pki/ec-256/ca.crt");
        assert_eq!(root.extended_key_usages(), None);
        assert_eq!(root.path_len_constraint(), None);
        assert_eq!(fixture("pki/ec-256/intermediate.crt").path_len_constraint(), Some(0));
    }

    #[test]
    fn ip_addresses_as_go_writes_them() {
        assert_eq!(go_ip_string(&[127, 0, 0, 1]).as_deref(), Some("127.0.0.1"));
        let mut mapped = [0u8; 16];
        mapped[10..].copy_from_slice(&[0xff, 0xff, 10, 1, 2, 3]);
        assert_eq!(go_ip_string(&mapped).as_deref(), Some("10.1.2.3"));
        let mut v6 = [0u8; 16];
        v6[0..2].copy_from_slice(&[0x20, 0x01]);
        v6[15] = 1;
        assert_eq!(go_ip_string(&v6).as_deref(), Some("2001::1"));
        assert_eq!(go_ip_string(&[1, 2, 3]), None);
    }
}
