//! sign → verify round trips for every key spec and format, and the negative cases.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ciborium::Value;
use sig_core::envelope::{self, EnvelopeFormat, SigningScheme};
use sig_core::{
    CertificateError, ChainRule, EnvelopeError, Error, ExtendedAttribute, KeySpec, NotaryPayload,
    SignRequest, SignatureAlgorithm, TrustAnchors,
};

use crate::common::*;

#[test]
fn round_trips_every_key_spec_in_both_formats() {
    for spec in KeySpec::ALL {
        let signer = signer(spec);
        let root = root(spec);
        for format in EnvelopeFormat::ALL {
            let signed_at = signing_time(&signer);
            let request = request(&signer)
                .with_expiry(signed_at + Duration::from_secs(86_400))
                .with_signing_agent("external-signer/0.1.0");
            let bytes = envelope::sign(format, &request, &signer).unwrap();
            let verified =
                envelope::verify(format, &bytes, &TrustAnchors::from(root.clone()), now(&signer))
                    .unwrap_or_else(|e| panic!("{spec} {format}: {e}"));
            let payload = NotaryPayload::new(descriptor());
            assert_eq!(verified.payload(), &payload, "{spec} {format}");
            let expected_bytes = match format {
                EnvelopeFormat::Jws => payload.to_json(),
                _ => payload.to_json_in_field_order(),
            };
            assert_eq!(verified.payload_bytes(), expected_bytes, "{spec} {format}");
            assert_eq!(verified.signing_time(), signed_at);
            assert_eq!(verified.expiry(), Some(signed_at + Duration::from_secs(86_400)));
            assert_eq!(verified.signing_scheme(), SigningScheme::X509);
            assert_eq!(verified.algorithm(), spec.notary_algorithm());
            assert_eq!(verified.key_spec(), spec);
            assert_eq!(verified.chain(), signer.chain());
            assert_eq!(verified.signing_agent(), Some("external-signer/0.1.0"));
            assert_eq!(verified.signature().len(), spec.signature_len(), "{spec} {format}");
            assert_eq!(verified.format(), format);
            assert!(verified.extended_attributes().is_empty());
            assert!(verified.timestamp_signature().is_none());
        }
    }
}

#[test]
fn ecdsa_p521_signature_is_132_bytes_r_and_s() {
    let (_, bytes) = sign(EnvelopeFormat::Jws, KeySpec::Ec521);
    let sig = json(&bytes)["signature"].as_str().unwrap().to_owned();
    assert_eq!(URL_SAFE_NO_PAD.decode(sig).unwrap().len(), 132);
}

#[test]
fn jws_envelope_layout_matches_notation() {
    let (signer, bytes) = sign(EnvelopeFormat::Jws, KeySpec::Ec256);
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.starts_with(r#"{"payload":"eyJ0YXJnZXRBcnRpZmFjdCI6eyJhbm5vdGF0aW9ucyI6"#),
        "{text}"
    );
    assert!(text.contains(r#"","protected":"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiaW8uY25jZi5ub3Rhcnkuc2lnbmluZ1NjaGVtZSJdLCJjdHkiOi"#));
    let leaf = STANDARD.encode(signer.chain().leaf().as_der());
    assert!(text.contains(&format!(r#"","header":{{"x5c":["{leaf}","#)), "{text}");
    assert!(!text.contains(r#""],"io.cncf.notary.signingAgent""#), "no agent was requested");
    assert!(text.contains(r#"]},"signature":""#));
}

#[test]
fn signing_authority_scheme_checks_the_chain_at_the_authentic_time() {
    let signer = signer(KeySpec::Ec384);
    let request = request(&signer).with_signing_scheme(SigningScheme::X509SigningAuthority);
    for format in EnvelopeFormat::ALL {
        let bytes = envelope::sign(format, &request, &signer).unwrap();
        let verified = envelope::verify(
            format,
            &bytes,
            &TrustAnchors::from(root(KeySpec::Ec384)),
            now(&signer),
        )
        .unwrap();
        assert_eq!(verified.signing_scheme(), SigningScheme::X509SigningAuthority);
        // Long after the certificates expire, the authentic signing time still counts.
        let later = signer.chain().leaf().not_after() + Duration::from_secs(86_400 * 365);
        assert!(
            envelope::dangerous::verify_without_trust_anchors(format, &bytes, later).is_ok(),
            "{format}"
        );
    }
    let jws = envelope::sign(EnvelopeFormat::Jws, &request, &signer).unwrap();
    let protected = json(&jws)["protected"].as_str().unwrap().to_owned();
    let protected = String::from_utf8(URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap();
    assert!(protected.contains(
        r#""crit":["io.cncf.notary.signingScheme","io.cncf.notary.authenticSigningTime"]"#
    ));
    assert!(!protected.contains("io.cncf.notary.signingTime"));
}

#[test]
fn extended_attributes_round_trip() {
    let signer = signer(KeySpec::Ec256);
    let request = request(&signer)
        .with_extended_attribute(ExtendedAttribute::new("com.example.crit", "v1", true))
        .with_extended_attribute(ExtendedAttribute::new("com.example.n", 7, false));
    for format in EnvelopeFormat::ALL {
        let bytes = envelope::sign(format, &request, &signer).unwrap();
        let verified =
            envelope::dangerous::verify_without_trust_anchors(format, &bytes, now(&signer))
                .unwrap();
        let mut found = verified.extended_attributes().to_vec();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(found, request.extended_attributes, "{format}");
    }
}

#[test]
fn sign_rejects_a_chain_that_is_not_valid_at_the_signing_time() {
    let signer = signer(KeySpec::Ec256);
    let before = signer.chain().leaf().not_before() - Duration::from_secs(86_400);
    let request = SignRequest::new(NotaryPayload::new(descriptor()), before);
    let err = envelope::sign(EnvelopeFormat::Cose, &request, &signer).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Certificate(CertificateError::Rule { rule: ChainRule::NotYetValid { .. }, .. })
        ),
        "{err:?}"
    );
}

fn verify_ec256(format: EnvelopeFormat, bytes: &[u8]) -> Error {
    let signer = signer(KeySpec::Ec256);
    envelope::verify(format, bytes, &TrustAnchors::from(root(KeySpec::Ec256)), now(&signer))
        .unwrap_err()
}

#[test]
fn tampered_payload_fails_the_signature() {
    let (_, jws) = sign(EnvelopeFormat::Jws, KeySpec::Ec256);
    let mut outer = json(&jws);
    let other = NotaryPayload::new(descriptor().annotation("x", "y")).to_json();
    outer["payload"] = b64url(&other).into();
    let err = verify_ec256(EnvelopeFormat::Jws, &serde_json::to_vec(&outer).unwrap());
    assert!(
        matches!(
            err,
            Error::Envelope(EnvelopeError::BadSignature {
                algorithm: SignatureAlgorithm::EcdsaSha256
            })
        ),
        "{err:?}"
    );

    let (_, cose) = sign(EnvelopeFormat::Cose, KeySpec::Ec256);
    let mut parts = cose_parts(&cose);
    let Value::Bytes(payload) = &mut parts[2] else { panic!() };
    let at = payload.iter().position(|&b| b == b'4').unwrap(); // the size digit 481 → 581
    payload[at] = b'5';
    let err = verify_ec256(EnvelopeFormat::Cose, &cose_from_parts(parts));
    assert!(matches!(err, Error::Envelope(EnvelopeError::BadSignature { .. })), "{err:?}");
}

#[test]
fn tampered_protected_header_fails_the_signature() {
    let (_, jws) = sign(EnvelopeFormat::Jws, KeySpec::Rsa2048);
    let mut outer = json(&jws);
    let protected = URL_SAFE_NO_PAD.decode(outer["protected"].as_str().unwrap()).unwrap();
    let tampered = String::from_utf8(protected).unwrap().replacen(
        "\"io.cncf.notary.signingTime\":\"2",
        "\"io.cncf.notary.signingTime\":\"1",
        1,
    );
    outer["protected"] = b64url(tampered.as_bytes()).into();
    let signer = signer(KeySpec::Rsa2048);
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &serde_json::to_vec(&outer).unwrap(),
        now(&signer),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Envelope(EnvelopeError::BadSignature {
                algorithm: SignatureAlgorithm::RsaPssSha256
            })
        ),
        "{err:?}"
    );

    let (_, cose) = sign(EnvelopeFormat::Cose, KeySpec::Rsa2048);
    let mut parts = cose_parts(&cose);
    let Value::Bytes(protected) = &mut parts[0] else { panic!() };
    let last = protected.len() - 1; // the last byte of "notary.x509"
    protected[last] = b'8';
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Cose,
        &cose_from_parts(parts),
        now(&signer),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Envelope(EnvelopeError::BadSignature { .. })), "{err:?}");
}

#[test]
fn alg_must_be_the_one_the_leaf_key_requires() {
    let signer = signer(KeySpec::Ec256);
    for format in EnvelopeFormat::ALL {
        let input =
            sig_core::SigningInput::new(format, &request(&signer), SignatureAlgorithm::EcdsaSha384)
                .unwrap();
        let bytes = input.assemble(&[1; 96], signer.chain()).unwrap();
        let err = verify_ec256(format, &bytes);
        assert!(
            matches!(
                err,
                Error::Envelope(EnvelopeError::AlgorithmMismatch {
                    header: SignatureAlgorithm::EcdsaSha384,
                    derived: SignatureAlgorithm::EcdsaSha256,
                    key_spec: KeySpec::Ec256
                })
            ),
            "{format}: {err:?}"
        );
        let input = sig_core::SigningInput::new(
            format,
            &request(&signer),
            SignatureAlgorithm::RsaPssSha256,
        )
        .unwrap();
        let bytes = input.assemble(&[1; 256], signer.chain()).unwrap();
        assert!(matches!(
            verify_ec256(format, &bytes),
            Error::Envelope(EnvelopeError::AlgorithmMismatch { .. })
        ));
    }
    // A signer whose key spec is not the leaf's never gets to sign.
    let rsa_key = sig_core::PrivateKey::read_file(&data("pki/rsa-2048/leaf.key"), None).unwrap();
    let mixed = sig_core::CertifiedKey::new_unchecked(signer.chain().clone(), rsa_key);
    let err = envelope::sign(EnvelopeFormat::Jws, &request(&signer), &mixed).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Envelope(EnvelopeError::AlgorithmMismatch {
                header: SignatureAlgorithm::RsaPssSha256,
                derived: SignatureAlgorithm::EcdsaSha256,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn non_notary_algorithms_are_unsupported() {
    let signer = signer(KeySpec::Rsa2048);
    let protected = jws_protected("RS256", r#"["io.cncf.notary.signingScheme"]"#, "");
    let bytes = jws_with(&signer, &protected, &NotaryPayload::new(descriptor()).to_json());
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &bytes,
        now(&signer),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Envelope(EnvelopeError::UnsupportedAlgorithm { ref algorithm, .. }) if algorithm == "RS256"),
        "{err:?}"
    );
    let none =
        jws_with(&signer, &jws_protected("none", r#"["io.cncf.notary.signingScheme"]"#, ""), b"{}");
    assert!(
        envelope::dangerous::verify_without_trust_anchors(EnvelopeFormat::Jws, &none, now(&signer))
            .unwrap_err()
            .to_string()
            .contains("algorithm none:")
    );

    let mut protected = cose_protected(&signer, &["io.cncf.notary.signingScheme"], vec![]);
    protected[0].1 = Value::Integer((-257).into());
    let unprotected = Value::Map(vec![(Value::Integer(33.into()), x5chain(&signer))]);
    let bytes =
        cose_with(&signer, protected, unprotected, &NotaryPayload::new(descriptor()).to_json());
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Cose,
        &bytes,
        now(&signer),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Envelope(EnvelopeError::UnsupportedAlgorithm { ref algorithm, .. }) if algorithm == "-257"),
        "{err:?}"
    );
}

#[test]
fn crit_rules_on_validly_signed_envelopes() {
    let signer = signer(KeySpec::Ec256);
    let payload = NotaryPayload::new(descriptor()).to_json();
    let expiry = r#","io.cncf.notary.expiry":"2031-01-01T00:00:00Z""#;
    let rows = [
        (
            r#"["io.cncf.notary.signingScheme"]"#,
            expiry,
            "io.cncf.notary.expiry: is required to be marked critical",
        ),
        (
            r#"["io.cncf.notary.signingScheme","io.cncf.notary.signingTime"]"#,
            "",
            "io.cncf.notary.signingTime: is marked critical but not present",
        ),
        (
            r#"["io.cncf.notary.expiry"]"#,
            expiry,
            "io.cncf.notary.signingScheme: is required to be marked critical",
        ),
    ];
    for (crit, extra, needle) in rows {
        let bytes = jws_with(&signer, &jws_protected("ES256", crit, extra), &payload);
        let err = envelope::dangerous::verify_without_trust_anchors(
            EnvelopeFormat::Jws,
            &bytes,
            now(&signer),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Envelope(EnvelopeError::Header { format: EnvelopeFormat::Jws, .. })
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(needle), "{err}");
    }
    let unprotected = || Value::Map(vec![(Value::Integer(33.into()), x5chain(&signer))]);
    let expiry = (text("io.cncf.notary.expiry"), tag1(1_924_992_000));
    let protected = cose_protected(&signer, &["io.cncf.notary.signingScheme"], vec![expiry]);
    let bytes = cose_with(&signer, protected, unprotected(), &payload);
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Cose,
        &bytes,
        now(&signer),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("io.cncf.notary.expiry: is required to be marked critical"),
        "{err}"
    );
}

#[test]
fn content_type_must_be_the_notary_payload() {
    let signer = signer(KeySpec::Ec256);
    let protected = jws_protected("ES256", r#"["io.cncf.notary.signingScheme"]"#, "")
        .replace("vnd.cncf.notary.payload.v1+json", "json");
    let bytes = jws_with(&signer, &protected, &NotaryPayload::new(descriptor()).to_json());
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &bytes,
        now(&signer),
    )
    .unwrap_err();
    assert!(err.to_string().contains("content type \"application/json\" is not"), "{err}");
}

#[test]
fn expired_signatures_fail_at_and_after_the_expiry() {
    let signer = signer(KeySpec::Ec256);
    let signed_at = signing_time(&signer);
    let request = request(&signer).with_expiry(signed_at + Duration::from_secs(60));
    for format in EnvelopeFormat::ALL {
        let bytes = envelope::sign(format, &request, &signer).unwrap();
        assert!(
            envelope::dangerous::verify_without_trust_anchors(
                format,
                &bytes,
                signed_at + Duration::from_secs(59)
            )
            .is_ok()
        );
        for late in [60, 120] {
            let err = envelope::dangerous::verify_without_trust_anchors(
                format,
                &bytes,
                signed_at + Duration::from_secs(late),
            )
            .unwrap_err();
            assert!(
                matches!(err, Error::Envelope(EnvelopeError::Expired { .. })),
                "{format}: {err:?}"
            );
            assert!(err.to_string().starts_with("the signature expired at "), "{err}");
        }
    }
}

/// `envelope::verify` with an empty trust-anchor slice used to skip the authenticity check; an
/// empty trust store now cannot be built, and skipping is a function named `dangerous`.
#[test]
fn an_empty_trust_store_cannot_skip_the_authenticity_check() {
    assert!(matches!(TrustAnchors::new(Vec::new()), Err(CertificateError::Empty { path: None })));
    assert!(matches!(TrustAnchors::from_pem(b""), Err(CertificateError::Empty { .. })));
    let empty = std::env::temp_dir().join(format!("sig-core-empty-store-{}", std::process::id()));
    std::fs::write(&empty, b"").unwrap();
    let err = TrustAnchors::read_pem_file(&empty).unwrap_err();
    std::fs::remove_file(&empty).unwrap();
    assert!(matches!(err, CertificateError::Empty { path: Some(ref p) } if *p == empty), "{err:?}");

    for format in EnvelopeFormat::ALL {
        // Signed under the EC-256 CA: a store holding only another CA refuses it ...
        let (signer, bytes) = sign(format, KeySpec::Ec256);
        let other_ca = TrustAnchors::from_pem(&read("pki/rsa-2048/ca.crt")).unwrap();
        let err = envelope::verify(format, &bytes, &other_ca, now(&signer)).unwrap_err();
        assert!(matches!(err, Error::Envelope(EnvelopeError::Untrusted { .. })), "{err:?}");
        // ... and only the function that says so accepts it without any anchor.
        envelope::dangerous::verify_without_trust_anchors(format, &bytes, now(&signer)).unwrap();
        let own_ca = TrustAnchors::from_pem(&read("pki/ec-256/ca.crt")).unwrap();
        envelope::verify(format, &bytes, &own_ca, now(&signer)).unwrap();
    }
}

#[test]
fn untrusted_anchor_is_rejected() {
    for format in EnvelopeFormat::ALL {
        let (signer, bytes) = sign(format, KeySpec::Ec256);
        let err = envelope::verify(
            format,
            &bytes,
            &TrustAnchors::from(root(KeySpec::Rsa2048)),
            now(&signer),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::Envelope(EnvelopeError::Untrusted { ref anchors, .. }) if anchors.len() == 1),
            "{err:?}"
        );
        assert!(err.to_string().contains("External Signer Test RSA-2048 Root CA"), "{err}");
        // Any chain certificate may be the anchor: the intermediate, or the leaf itself.
        for cert in signer.chain().certificates() {
            assert!(
                envelope::verify(
                    format,
                    &bytes,
                    &TrustAnchors::new(vec![root(KeySpec::Rsa2048), cert.clone()]).unwrap(),
                    now(&signer)
                )
                .is_ok()
            );
        }
    }
}

#[test]
fn chain_rules_apply_at_verification_time() {
    for format in EnvelopeFormat::ALL {
        let (signer, bytes) = sign(format, KeySpec::Ec384);
        let after = signer.chain().leaf().not_after() + Duration::from_secs(1);
        let err =
            envelope::dangerous::verify_without_trust_anchors(format, &bytes, after).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Certificate(CertificateError::Rule {
                    index: 0,
                    rule: ChainRule::Expired { .. },
                    ..
                })
            ),
            "{err:?}"
        );
    }
}

#[test]
fn cose_x5chain_as_a_bare_byte_string_is_rejected() {
    let (signer, cose) = sign(EnvelopeFormat::Cose, KeySpec::Ec256);
    let mut parts = cose_parts(&cose);
    let leaf = signer.chain().leaf().as_der().to_vec();
    parts[1] = Value::Map(vec![(Value::Integer(33.into()), Value::Bytes(leaf))]);
    let err = verify_ec256(EnvelopeFormat::Cose, &cose_from_parts(parts));
    assert!(
        matches!(err, Error::Envelope(EnvelopeError::Header { format: EnvelopeFormat::Cose, .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("certificate chain is not present"), "{err}");
}

#[test]
fn der_ecdsa_signatures_do_not_verify() {
    let (_, jws) = sign(EnvelopeFormat::Jws, KeySpec::Ec256);
    let mut outer = json(&jws);
    let raw = URL_SAFE_NO_PAD.decode(outer["signature"].as_str().unwrap()).unwrap();
    let der = sig_core::ecdsa::raw_to_der(&raw).unwrap();
    outer["signature"] = b64url(&der).into();
    let err = verify_ec256(EnvelopeFormat::Jws, &serde_json::to_vec(&outer).unwrap());
    assert!(matches!(err, Error::Envelope(EnvelopeError::BadSignature { .. })), "{err:?}");

    let (_, cose) = sign(EnvelopeFormat::Cose, KeySpec::Ec256);
    let mut parts = cose_parts(&cose);
    let Value::Bytes(raw) = &parts[3] else { panic!() };
    parts[3] = Value::Bytes(sig_core::ecdsa::raw_to_der(raw).unwrap());
    let err = verify_ec256(EnvelopeFormat::Cose, &cose_from_parts(parts));
    assert!(matches!(err, Error::Envelope(EnvelopeError::BadSignature { .. })), "{err:?}");
}

#[test]
fn payload_must_be_a_strict_notary_payload() {
    let signer = signer(KeySpec::Ec256);
    let raw = br#"{"targetArtifact":{"mediaType":"m","digest":"sha256:00","size":1,"extra":true}}"#;
    for format in EnvelopeFormat::ALL {
        let request = SignRequest::new(raw.to_vec(), signing_time(&signer));
        let bytes = envelope::sign(format, &request, &signer).unwrap();
        let err = envelope::dangerous::verify_without_trust_anchors(format, &bytes, now(&signer))
            .unwrap_err();
        assert!(
            matches!(err, Error::Envelope(EnvelopeError::Payload(ref m)) if m.contains("extra")),
            "{err:?}"
        );
    }
}

#[test]
fn signing_agent_is_not_signed_and_may_change() {
    let (signer, jws) = sign(EnvelopeFormat::Jws, KeySpec::Ec256);
    let mut outer = json(&jws);
    outer["header"]["io.cncf.notary.signingAgent"] = "someone else".into();
    let verified = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &serde_json::to_vec(&outer).unwrap(),
        now(&signer),
    )
    .unwrap();
    assert_eq!(verified.signing_agent(), Some("someone else"));
}
