//! Envelopes written by notation itself (notation-go test data; provenance in
//! `tests/data/envelopes/README.md`).

use sig_core::envelope::{self, EnvelopeFormat, SigningScheme};
use sig_core::oci::Descriptor;
use sig_core::{
    Certificate, CertificateChain, CertificateError, ChainRule, EnvelopeError, Error, KeySpec,
    NotaryPayload, SignatureAlgorithm, TrustAnchors,
};

use crate::common::*;

fn pem_cert(rel: &str) -> Certificate {
    CertificateChain::from_pem(&read(rel)).unwrap().leaf().clone()
}

fn leaf_of(bytes: &[u8]) -> Certificate {
    let verified = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        bytes,
        utc("2025-01-01T00:00:00Z"),
    )
    .unwrap();
    verified.chain().leaf().clone()
}

/// notation-go `internal/testdata/jws_signature.sig`: PS256, self-signed leaf CN=alpine.
#[test]
fn verifies_notation_go_jws_signature() {
    let bytes = read("envelopes/jws/jws_signature.sig");
    let anchor = leaf_of(&bytes);
    let verified = envelope::verify(
        EnvelopeFormat::Jws,
        &bytes,
        &TrustAnchors::from(anchor),
        utc("2025-01-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(verified.algorithm(), SignatureAlgorithm::RsaPssSha256);
    assert_eq!(verified.signing_scheme(), SigningScheme::X509);
    assert_eq!(verified.signing_time(), utc("2023-03-14T08:10:02Z")); // "2023-03-14T16:10:02+08:00"
    assert_eq!(verified.expiry(), None);
    assert_eq!(verified.signing_agent(), Some("Notation/1.0.0"));
    assert!(verified.chain().leaf().subject().contains("CN=alpine"));
    let descriptor = Descriptor::new(
        sig_core::oci::OCI_MANIFEST,
        "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        481,
    );
    let payload = NotaryPayload::new(descriptor);
    assert_eq!(verified.payload(), &payload);
    // Our JWS payload encoding is byte-identical to notation's.
    assert_eq!(verified.payload_bytes(), payload.to_json());
}

/// notation-go `internal/mock/testdata/ca_valid_sig_env.json`: PS384 (RSA-3072), expiry 2120,
/// root `NotationTestRoot.pem` (here `notation-test-root.pem`).
#[test]
fn verifies_notation_go_ca_valid_sig_env_against_its_root() {
    let bytes = read("envelopes/jws/ca_valid_sig_env.json");
    let root = pem_cert("envelopes/jws/notation-test-root.pem");
    let verified = envelope::verify(
        EnvelopeFormat::Jws,
        &bytes,
        &TrustAnchors::from(root),
        utc("2026-01-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(verified.algorithm(), SignatureAlgorithm::RsaPssSha384);
    assert_eq!(verified.key_spec(), KeySpec::Rsa3072);
    assert_eq!(verified.signing_time(), utc("2020-11-09T07:00:00Z"));
    assert_eq!(verified.expiry(), Some(utc("2120-11-09T07:00:00Z")));
    assert_eq!(verified.chain().certificates().len(), 2);
    // Spelled `io.cncf.notary.SigningAgent`; Go's JSON matching ignores case, so do we.
    assert_eq!(verified.signing_agent(), Some("Notation/1.0.0"));
    let descriptor = Descriptor::new(
        "application/vnd.docker.distribution.manifest.v2+json",
        "sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e",
        528,
    );
    assert_eq!(verified.payload(), &NotaryPayload::new(descriptor.clone()));
    // This older envelope carries the struct-order payload (what notation embeds in COSE today).
    assert_eq!(verified.payload_bytes(), NotaryPayload::new(descriptor).to_json_in_field_order());

    let err = envelope::verify(
        EnvelopeFormat::Jws,
        &bytes,
        &TrustAnchors::from(root_of_our_pki()),
        utc("2026-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Envelope(EnvelopeError::Untrusted { .. })), "{err:?}");
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &bytes,
        utc("2121-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Envelope(EnvelopeError::Expired { expiry }) if expiry == utc("2120-11-09T07:00:00Z")),
        "{err:?}"
    );
}

fn root_of_our_pki() -> Certificate {
    root(KeySpec::Rsa3072)
}

/// notation-go `internal/mock/testdata/sa_valid_sig_env.json` (2022 version): signing authority
/// scheme; its certificates expired in 2022, but the chain is checked at the authentic signing time.
#[test]
fn verifies_notation_go_signing_authority_envelope_at_the_authentic_time() {
    let bytes = read("envelopes/jws/sa_valid_sig_env.json");
    let root = pem_cert("envelopes/jws/sa-test-root-2022.pem");
    let verified = envelope::verify(
        EnvelopeFormat::Jws,
        &bytes,
        &TrustAnchors::from(root),
        utc("2026-01-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(verified.signing_scheme(), SigningScheme::X509SigningAuthority);
    assert_eq!(verified.signing_time(), utc("2022-07-29T22:56:51Z"));
}

/// notation-go `internal/mock/testdata/ca_expired_sig_env.json`: expiry one minute after signing.
#[test]
fn rejects_notation_go_expired_envelope() {
    let bytes = read("envelopes/jws/ca_expired_sig_env.json");
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &bytes,
        utc("2022-07-30T00:00:00Z"),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Envelope(EnvelopeError::Expired { expiry }) if expiry == utc("2022-07-29T23:59:00Z")),
        "{err:?}"
    );
    // Years later its certificates have expired too, and the chain check comes first.
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &bytes,
        utc("2026-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Certificate(CertificateError::Rule { rule: ChainRule::Expired { .. }, .. })
        ),
        "{err:?}"
    );
}

/// notation-go `verifier/testdata/timestamp/sigEnv/jwsWithTimestamp.sig`: an RFC 3161 token in
/// the unprotected header, returned (not verified).
#[test]
fn exposes_the_timestamp_token_of_a_notation_envelope() {
    let bytes = read("envelopes/jws/jwsWithTimestamp.sig");
    let anchor = leaf_of(&bytes);
    let verified = envelope::verify(
        EnvelopeFormat::Jws,
        &bytes,
        &TrustAnchors::from(anchor),
        utc("2025-01-01T00:00:00Z"),
    )
    .unwrap();
    let token = verified.timestamp_signature().unwrap();
    assert_eq!(token.first(), Some(&0x30), "a DER ContentInfo");
    assert!(token.len() > 2000);
}

#[test]
fn tampered_notation_envelope_fails() {
    let bytes = read("envelopes/jws/ca_valid_sig_env.json");
    let mut outer = json(&bytes);
    let payload = NotaryPayload::new(Descriptor::new("m", "sha256:00", 1)).to_json();
    outer["payload"] = b64url(&payload).into();
    let err = envelope::dangerous::verify_without_trust_anchors(
        EnvelopeFormat::Jws,
        &serde_json::to_vec(&outer).unwrap(),
        utc("2026-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Envelope(EnvelopeError::BadSignature {
                algorithm: SignatureAlgorithm::RsaPssSha384
            })
        ),
        "{err:?}"
    );
}

/// Envelopes made by the real notation v1.3.2 (`notation sign --oci-layout`, local key of
/// `tests/data/pki/ec-384`): verified, then rebuilt from their attributes and notation's own
/// signature. The rebuilt bytes are identical, so everything but the signature value is
/// byte-for-byte what notation writes, in both formats.
#[test]
fn reproduces_notation_v1_3_2_envelopes_byte_for_byte() {
    let root = pem_cert("envelopes/notation-v1.3.2-ec-384-root.crt");
    let subject = read("envelopes/notation-v1.3.2-subject-manifest.json");
    let rows = [
        (EnvelopeFormat::Jws, "envelopes/jws/notation-v1.3.2-ec-384.jws"),
        (EnvelopeFormat::Cose, "envelopes/cose/notation-v1.3.2-ec-384.cose"),
    ];
    for (format, rel) in rows {
        let bytes = read(rel);
        let verified = envelope::verify(
            format,
            &bytes,
            &TrustAnchors::from(root.clone()),
            utc("2026-11-26T18:00:00Z"),
        )
        .unwrap_or_else(|e| panic!("{format}: {e}"));
        let target = &verified.payload().target_artifact;
        assert_eq!(target.digest, sig_core::oci::Digest::of(&subject).as_str());
        assert_eq!(target.size, subject.len() as u64);
        assert_eq!(verified.signing_agent(), Some("notation-go/1.3.2"));
        assert_eq!(verified.algorithm(), SignatureAlgorithm::EcdsaSha384);

        let request =
            sig_core::SignRequest::new(verified.payload().clone(), verified.signing_time())
                .with_expiry(verified.expiry().unwrap())
                .with_signing_agent("notation-go/1.3.2");
        let input = sig_core::SigningInput::new(format, &request, verified.algorithm()).unwrap();
        let rebuilt = input.assemble(verified.signature(), verified.chain()).unwrap();
        assert_eq!(rebuilt, bytes, "{format}");
    }
}
