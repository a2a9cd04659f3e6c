//! Unit tests of cosign's certificate and signature rules, on the committed fixture PKIs
//! (`tests/data/pki`, see tests/data/README.md). Time is fixed, never the wall clock.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use sig_core::{Certificate, HashAlgorithm, PrivateKey, SignatureAlgorithm};

use super::*;
use crate::payload::SimpleSigningPayload;
use crate::reference::Repository;

/// 2030-03-17: inside every valid fixture's validity, after `fail_expired`, before
/// `fail_not_yet_valid`.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn read(dir: &str, file: &str) -> Vec<u8> {
    let path = format!("{}/../tests/data/pki/{dir}/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cert(dir: &str, file: &str) -> Certificate {
    Certificate::from_bundle_pem(&read(dir, file)).unwrap().remove(0)
}

fn certs(dir: &str, file: &str) -> Vec<Certificate> {
    Certificate::from_bundle_pem(&read(dir, file)).unwrap()
}

const SPECS: [&str; 6] = ["rsa-2048", "rsa-3072", "rsa-4096", "ec-256", "ec-384", "ec-521"];

#[test]
fn valid_fixture_chains_pass_cosign_rules() {
    for spec in SPECS {
        let path = chain::verify_chain(
            &cert(spec, "leaf.crt"),
            &certs(spec, "intermediate.crt"),
            &certs(spec, "ca.crt"),
            now(),
        )
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(path.len(), 3, "{spec}");
    }
}

#[test]
fn chain_rules_reject_what_go_x509_rejects() {
    let cases = [
        ("fail_server_auth_eku", "codeSigning"),
        ("fail_expired", "expired"),
        ("fail_not_yet_valid", "not valid until"),
        ("fail_intermediate_pathlen", "path length"),
        ("fail_self_signed_intermediate", "no trusted root or intermediate issued"),
        ("fail_sha1_signature", "is signed with ecdsa-with-SHA1"),
    ];
    for (dir, needle) in cases {
        let err = chain::verify_chain(
            &cert(dir, "leaf.crt"),
            &certs(dir, "intermediate.crt"),
            &certs(dir, "ca.crt"),
            now(),
        )
        .expect_err(dir);
        assert!(err.contains(needle), "{dir}: {err}");
    }
}

#[test]
fn chain_rules_accept_what_only_notation_rejects() {
    // cosign checks EKU codeSigning, validity and the path; not keyUsage or other EKUs.
    for dir in [
        "fail_client_auth_eku",
        "fail_missing_key_usage",
        "fail_noncritical_key_usage",
        "fail_key_encipherment",
        "fail_no_san",
    ] {
        chain::verify_chain(
            &cert(dir, "leaf.crt"),
            &certs(dir, "intermediate.crt"),
            &certs(dir, "ca.crt"),
            now(),
        )
        .unwrap_or_else(|e| panic!("{dir}: {e}"));
    }
}

#[test]
fn chain_needs_the_right_root() {
    let err = chain::verify_chain(
        &cert("rsa-2048", "leaf.crt"),
        &certs("rsa-2048", "intermediate.crt"),
        &certs("ec-256", "ca.crt"),
        now(),
    )
    .unwrap_err();
    assert!(err.contains("no trusted root"), "{err}");
    let err = chain::verify_chain(
        &cert("rsa-2048", "leaf.crt"),
        &[],
        &certs("rsa-2048", "ca.crt"),
        now(),
    )
    .unwrap_err();
    assert!(err.contains("no trusted root or intermediate issued"), "{err}");
}

#[test]
fn sans_in_cosign_order_and_claims() {
    let leaf = cert("ec-256", "leaf.crt");
    assert_eq!(
        certificate_identities(&leaf),
        ["signer@example.test", "https://signer.example.test"],
        "e-mail addresses come before URIs"
    );
    assert_eq!(chain::oidc_issuer(&leaf), "https://issuer.example.test");
    let claims = chain::output_claims(&leaf);
    assert_eq!(claims.len(), 1, "{claims:?}");
    assert_eq!(claims["Subject"], "signer@example.test");
    assert!(certificate_identities(&cert("fail_no_san", "leaf.crt")).is_empty());
}

#[test]
fn public_keys_in_every_cosign_form() {
    let spki_pem = read("rsa-2048", "leaf.pub");
    let key = VerificationKey::from_bytes(&spki_pem).unwrap();
    assert_eq!(key.key_spec(), KeySpec::Rsa2048);
    let (_, spki_der) = pem_rfc7468::decode_vec(&spki_pem).unwrap();
    assert_eq!(VerificationKey::from_bytes(&spki_der).unwrap(), key);
    // PKCS#1 RSA PUBLIC KEY: the BIT STRING content of the SPKI.
    let info = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode<'_>>::from_der(&spki_der).unwrap();
    let pkcs1 = info.subject_public_key.raw_bytes();
    let pkcs1_pem =
        pem_rfc7468::encode_string("RSA PUBLIC KEY", pem_rfc7468::LineEnding::LF, pkcs1).unwrap();
    assert_eq!(VerificationKey::from_bytes(pkcs1_pem.as_bytes()).unwrap(), key);
    assert_eq!(VerificationKey::from_bytes(&read("rsa-2048", "leaf.crt")).unwrap(), key);
    for bad in [read("rsa-2048", "leaf.key"), b"junk".to_vec(), read("fail_rsa_1024", "leaf.crt")] {
        assert!(VerificationKey::from_bytes(&bad).is_err());
    }
}

const IMAGE: &str = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

fn signed_layer(spec: &str, algorithm: SignatureAlgorithm, der_ecdsa: bool) -> SignatureLayer {
    let repo = Repository::parse("127.0.0.1:5000/app").unwrap();
    let payload = SimpleSigningPayload::new(&repo, Digest::new(IMAGE).unwrap()).to_bytes();
    let key = PrivateKey::from_pem(&read(spec, "leaf.key"), None).unwrap();
    let mut sig = key.sign(algorithm, &payload).unwrap();
    if der_ecdsa {
        sig = sig_core::ecdsa::raw_to_der(&sig).unwrap();
    }
    SignatureLayer::new(payload, &sig)
}

fn key_options(spec: &str) -> VerifyOptions {
    VerifyOptions::new(Trust::Key(VerificationKey::from_bytes(&read(spec, "leaf.pub")).unwrap()))
}

#[test]
fn ecdsa_der_and_raw_both_verify() {
    let image = Digest::new(IMAGE).unwrap();
    for der in [true, false] {
        let layer = signed_layer("ec-256", SignatureAlgorithm::EcdsaSha256, der);
        verify_layer(&layer, &image, &key_options("ec-256"), now()).unwrap();
    }
    let p384 = signed_layer("ec-384", SignatureAlgorithm::EcdsaSha384, true);
    let err = verify_layer(&p384, &image, &key_options("ec-384"), now()).unwrap_err();
    assert!(matches!(err, LayerRejection::BadSignature { .. }), "sha256 by default: {err}");
    let sha384 = key_options("ec-384").with_hash(HashAlgorithm::Sha384);
    verify_layer(&p384, &image, &sha384, now()).unwrap();
}

#[test]
fn rsa_accepts_pkcs1v15_only() {
    let image = Digest::new(IMAGE).unwrap();
    let good = signed_layer("rsa-3072", SignatureAlgorithm::RsaPkcs1v15Sha256, false);
    verify_layer(&good, &image, &key_options("rsa-3072"), now()).unwrap();
    let pss = signed_layer("rsa-3072", SignatureAlgorithm::RsaPssSha256, false);
    let err = verify_layer(&pss, &image, &key_options("rsa-3072"), now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the signature does not verify with the given public key (RSASSA-PKCS1-V1_5-SHA-256)"
    );
}

#[test]
fn certificate_trust_checks_identity_issuer_and_key() {
    let image = Digest::new(IMAGE).unwrap();
    let spec = "ec-256";
    let layer = signed_layer(spec, SignatureAlgorithm::EcdsaSha256, true)
        .with_certificate(String::from_utf8(read(spec, "leaf.crt")).unwrap())
        .with_chain(String::from_utf8(read(spec, "cosign_chain.pem")).unwrap());
    let trust = || CertificateTrust::from_chain_pem(&read(spec, "cosign_chain.pem")).unwrap();
    let options = |t: CertificateTrust| VerifyOptions::new(Trust::Certificates(Box::new(t)));

    let ok = trust()
        .with_identity(IdentityMatcher::Exact("https://signer.example.test".into()))
        .with_issuer(IdentityMatcher::regex("^https://issuer\\.example\\.test$").unwrap());
    let verified = verify_layer(&layer, &image, &options(ok), now()).unwrap();
    assert_eq!(verified.certificate().unwrap().subject(), cert(spec, "leaf.crt").subject());

    let wrong_identity = trust().with_identity(IdentityMatcher::Exact("someone@else".into()));
    let err = verify_layer(&layer, &image, &options(wrong_identity), now()).unwrap_err();
    assert!(matches!(err, LayerRejection::Identity { .. }), "{err}");

    let wrong_issuer =
        trust().with_issuer(IdentityMatcher::Exact("https://accounts.example".into()));
    let err = verify_layer(&layer, &image, &options(wrong_issuer), now()).unwrap_err();
    assert!(matches!(err, LayerRejection::Issuer { .. }), "{err}");

    let other_root =
        CertificateTrust::from_chain_pem(&read("rsa-2048", "cosign_chain.pem")).unwrap();
    let err = verify_layer(&layer, &image, &options(other_root), now()).unwrap_err();
    assert!(matches!(err, LayerRejection::Chain(_)), "{err}");

    // Intermediates come from the layer's chain annotation when none are configured.
    let roots_only = CertificateTrust::from_roots(certs(spec, "ca.crt"));
    verify_layer(&layer, &image, &options(roots_only), now()).unwrap();

    let unsigned_cert = signed_layer(spec, SignatureAlgorithm::EcdsaSha256, true);
    let err = verify_layer(&unsigned_cert, &image, &options(trust()), now()).unwrap_err();
    assert!(matches!(err, LayerRejection::NoCertificate), "{err}");
    let given = trust().with_certificate(cert(spec, "leaf.crt"));
    let v = verify_layer(&unsigned_cert, &image, &options(given), now()).unwrap();
    assert!(!cosign_output(&[v]).contains("Subject"), "cosign prints only a layer's certificate");
    assert!(cosign_output(&[verified]).contains(r#""Subject":"signer@example.test""#));
}

#[test]
fn key_trust_still_checks_an_attached_certificate_is_valid_now() {
    let image = Digest::new(IMAGE).unwrap();
    let dir = "fail_expired";
    let repo = Repository::parse("127.0.0.1:5000/app").unwrap();
    let payload = SimpleSigningPayload::new(&repo, image.clone()).to_bytes();
    let key = PrivateKey::from_pem(&read(dir, "leaf.key"), None).unwrap();
    let sig =
        sig_core::ecdsa::raw_to_der(&key.sign(SignatureAlgorithm::EcdsaSha256, &payload).unwrap())
            .unwrap();
    let layer = SignatureLayer::new(payload, &sig);
    let public = VerificationKey::from_certificate(&cert(dir, "leaf.crt")).unwrap();
    let options = VerifyOptions::new(Trust::Key(public));
    verify_layer(&layer, &image, &options, now()).unwrap();
    let with_cert = layer.with_certificate(String::from_utf8(read(dir, "leaf.crt")).unwrap());
    let err = verify_layer(&with_cert, &image, &options, now()).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn layer_rejections_are_specific() {
    let image = Digest::new(IMAGE).unwrap();
    let layer = signed_layer("ec-256", SignatureAlgorithm::EcdsaSha256, true);
    let options = key_options("ec-256");
    let other_image = Digest::of(b"another image");
    let err = verify_layer(&layer, &other_image, &options, now()).unwrap_err();
    assert!(err.to_string().starts_with("invalid or missing digest in claim"), "{err}");
    let wanted = [("env".to_owned(), "prod".to_owned())].into();
    let err =
        verify_layer(&layer, &image, &options.clone().with_annotations(wanted), now()).unwrap_err();
    assert!(err.to_string().starts_with("missing or incorrect annotation \"env\""), "{err}");
    let not_b64 = SignatureLayer::with_base64_signature(layer.payload().to_vec(), "%%%".into());
    assert!(matches!(verify_layer(&not_b64, &image, &options, now()), Err(LayerRejection::Base64)));
    let sig = base64::engine::general_purpose::STANDARD.decode(layer.signature_base64()).unwrap();
    let mut tampered = layer.payload().to_vec();
    tampered.push(b' ');
    let tampered = SignatureLayer::new(tampered, &sig);
    assert!(matches!(
        verify_layer(&tampered, &image, &options, now()),
        Err(LayerRejection::BadSignature { .. })
    ));
    let bad_cert =
        layer.with_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assert!(matches!(
        verify_layer(&bad_cert, &image, &options, now()),
        Err(LayerRejection::Certificate(_))
    ));
}

#[test]
fn output_is_cosigns_json_array() {
    let image = Digest::new(IMAGE).unwrap();
    let layer = signed_layer("ec-256", SignatureAlgorithm::EcdsaSha256, true);
    let v = verify_layer(&layer, &image, &key_options("ec-256"), now()).unwrap();
    let out = cosign_output(&[v.clone(), v]);
    let payload = String::from_utf8(layer.payload().to_vec()).unwrap();
    assert_eq!(out, format!("[{payload},{payload}]"));
}
