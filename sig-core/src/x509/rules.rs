//! Notation's certificate rules (notation-core-go `x509/codesigning_cert_validations.go`,
//! signature-specification.md "Certificate Requirements").

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{
    ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION, ID_KP_OCSP_SIGNING, ID_KP_SERVER_AUTH,
    ID_KP_TIME_STAMPING,
};
use const_oid::db::rfc5912::{
    ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1, SECP_521_R_1,
};
use x509_cert::ext::pkix::KeyUsages;

use super::Certificate;
use crate::error::{CertificateError, CertificateRole, ChainRule};

/// Every rule broken by the chain `certs` (leaf first) at `at`.
pub(super) fn check_chain(certs: &[Certificate], at: SystemTime) -> Vec<CertificateError> {
    let mut problems = Vec::new();
    let n = certs.len();
    for (index, cert) in certs.iter().enumerate() {
        let role = match index {
            0 => CertificateRole::Leaf,
            i if i == n - 1 => CertificateRole::Root,
            _ => CertificateRole::Intermediate,
        };
        let mut fail = |rule: ChainRule| {
            problems.push(CertificateError::Rule {
                index,
                role,
                subject: cert.subject.clone(),
                rule,
            });
        };
        // Shape and signatures.
        if n == 1 {
            if !cert.is_self_signed() {
                fail(ChainRule::LoneNotSelfSigned);
            }
        } else if index == n - 1 {
            // One signature check for the root (they are the costly part of validation).
            if cert.raw_subject != cert.raw_issuer {
                fail(ChainRule::BadSelfSignature);
            } else {
                match cert.signature_verifies_with(cert) {
                    Err(rule) => fail(rule),
                    Ok(false) => fail(ChainRule::BadSelfSignature),
                    Ok(true) => {}
                }
            }
        } else {
            if cert.raw_subject == cert.raw_issuer && cert.is_signed_by(cert) {
                fail(if index == 0 {
                    ChainRule::LeafSelfSigned
                } else {
                    ChainRule::IntermediateSelfSigned
                });
            }
            let parent = &certs[index + 1];
            match cert.signature_verifies_with(parent) {
                Err(rule) => fail(rule),
                Ok(ok) if !ok || cert.raw_issuer != parent.raw_subject => {
                    fail(ChainRule::BadSignature)
                }
                Ok(_) => {}
            }
        }
        // Validity.
        if at < cert.not_before() {
            fail(ChainRule::NotYetValid { not_before: cert.not_before(), at });
        }
        if at > cert.not_after() {
            fail(ChainRule::Expired { not_after: cert.not_after(), at });
        }
        // Extensions Go does not process, if critical (cosign forgives the leaf's subjectAltName,
        // which Fulcio-style leaves mark critical with only an otherName).
        for oid in cert.unhandled_critical_extensions() {
            if index != 0 || oid != super::SUBJECT_ALT_NAME {
                fail(ChainRule::UnhandledCriticalExtension(oid.to_string()));
            }
        }
        // Name constraints of a CA over every certificate below it.
        if index > 0
            && let Err(rule) = cert.check_name_constraints(&certs[..index])
        {
            fail(rule);
        }
        // Keys.
        if let Err(reason) = check_key(cert, index == 0) {
            fail(ChainRule::UnsupportedKey(reason));
        }
        // Usage.
        if index == 0 {
            for rule in leaf_rules(cert) {
                fail(rule);
            }
        } else {
            for rule in ca_rules(cert, index - 1) {
                fail(rule);
            }
        }
    }
    problems
}

fn leaf_rules(cert: &Certificate) -> Vec<ChainRule> {
    let mut rules = Vec::new();
    match cert.key_usage() {
        None => rules.push(ChainRule::LeafKeyUsageMissing),
        Some((critical, ku)) => {
            if !critical {
                rules.push(ChainRule::LeafKeyUsageNotCritical);
            }
            if !ku.digital_signature() {
                rules.push(ChainRule::LeafKeyUsageNoDigitalSignature);
            }
            const FORBIDDEN: [(KeyUsages, &str); 7] = [
                (KeyUsages::KeyEncipherment, "keyEncipherment"),
                (KeyUsages::DataEncipherment, "dataEncipherment"),
                (KeyUsages::KeyAgreement, "keyAgreement"),
                (KeyUsages::KeyCertSign, "keyCertSign"),
                (KeyUsages::CRLSign, "cRLSign"),
                (KeyUsages::EncipherOnly, "encipherOnly"),
                (KeyUsages::DecipherOnly, "decipherOnly"),
            ];
            for (bit, name) in FORBIDDEN {
                if ku.0.contains(bit) {
                    rules.push(ChainRule::LeafKeyUsageForbidden(name));
                }
            }
        }
    }
    if cert.is_ca() {
        rules.push(ChainRule::LeafIsCa);
    }
    if let Some((_, eku)) = cert.extended_key_usage() {
        const FORBIDDEN: [(ObjectIdentifier, &str); 5] = [
            (ID_KP_SERVER_AUTH, "serverAuth"),
            (ID_KP_CLIENT_AUTH, "clientAuth"),
            (ID_KP_EMAIL_PROTECTION, "emailProtection"),
            (ID_KP_TIME_STAMPING, "timeStamping"),
            (ID_KP_OCSP_SIGNING, "OCSPSigning"),
        ];
        for (oid, name) in FORBIDDEN {
            if eku.0.contains(&oid) {
                rules.push(ChainRule::LeafEkuForbidden(name));
            }
        }
    }
    rules
}

/// Rules for a CA certificate with `cas_below` CA certificates between it and the leaf.
fn ca_rules(cert: &Certificate, cas_below: usize) -> Vec<ChainRule> {
    let mut rules = Vec::new();
    match cert.basic_constraints() {
        Some((_, bc)) if bc.ca => {
            if let Some(allowed) = bc.path_len_constraint
                && usize::from(allowed) < cas_below
            {
                rules.push(ChainRule::PathLength { allowed, below: cas_below });
            }
        }
        _ => rules.push(ChainRule::NotACa),
    }
    match cert.key_usage() {
        Some((true, ku)) if ku.key_cert_sign() => {}
        _ => rules.push(ChainRule::CaKeyUsage),
    }
    rules
}

/// Leaf keys must be exactly a Notation key spec; CA keys RSA ≥ 2048 or P-256/384/521.
fn check_key(cert: &Certificate, leaf: bool) -> Result<(), String> {
    if leaf {
        return cert.public_key().map(drop).map_err(|e| e.to_string());
    }
    let spki = cert.cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid == RSA_ENCRYPTION {
        let bits = cert.public_key().map(|k| k.key_spec().bits()).or_else(|_| {
            // Sizes outside the key specs (e.g. 8192) are fine for CAs; measure the modulus.
            spki.subject_public_key
                .as_bytes()
                .map(|b| b.len() * 8)
                .ok_or_else(|| "unreadable RSA key".to_owned())
        })?;
        if bits < 2048 {
            return Err(format!("RSA key of about {bits} bits; at least 2048 are required"));
        }
        Ok(())
    } else if spki.algorithm.oid == ID_EC_PUBLIC_KEY {
        let curve =
            spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        match curve {
            Some(SECP_256_R_1 | SECP_384_R_1 | SECP_521_R_1) => Ok(()),
            _ => Err("EC key on a curve other than P-256, P-384, P-521".to_owned()),
        }
    } else {
        Err(format!("key algorithm {}", spki.algorithm.oid))
    }
}
