//! Independent implementations read our envelopes: josekit (OpenSSL) verifies every JWS and
//! every COSE signature; coset parses our COSE messages.

use coset::{CborSerializable as _, CoseSign1, Label, TaggedCborSerializable as _};
use josekit::jws::{self, JwsContext, JwsVerifier};
use sig_core::envelope::EnvelopeFormat;
use sig_core::{CertifiedKey, KeySpec, SigningKey as _, media_type};

use crate::common::*;

fn josekit_verifier(signer: &CertifiedKey) -> Box<dyn JwsVerifier> {
    let leaf = signer.chain().leaf();
    let pem = if signer.key_spec().is_rsa() {
        // josekit's PS* verifiers take PKCS#1 (or an RSASSA-PSS SPKI), not an rsaEncryption SPKI.
        let pkcs1 = leaf.public_key().unwrap().as_bytes().to_vec();
        pem_rfc7468::encode_string("RSA PUBLIC KEY", pem_rfc7468::LineEnding::LF, &pkcs1).unwrap()
    } else {
        leaf.public_key_pem().unwrap()
    };
    let parse = || -> Result<Box<dyn JwsVerifier>, josekit::JoseError> {
        Ok(match signer.key_spec() {
            KeySpec::Rsa2048 => Box::new(jws::PS256.verifier_from_pem(&pem)?),
            KeySpec::Rsa3072 => Box::new(jws::PS384.verifier_from_pem(&pem)?),
            KeySpec::Rsa4096 => Box::new(jws::PS512.verifier_from_pem(&pem)?),
            KeySpec::Ec256 => Box::new(jws::ES256.verifier_from_pem(&pem)?),
            KeySpec::Ec384 => Box::new(jws::ES384.verifier_from_pem(&pem)?),
            KeySpec::Ec521 => Box::new(jws::ES512.verifier_from_pem(&pem)?),
            other => panic!("{other}"),
        })
    };
    // Parsing the fixture's public key (not verifying our signature) has failed once in CI with
    // OpenSSL's "X509_PUBKEY_get0: decode error", apparently while SoftHSM2 (the same libcrypto,
    // used by this binary's PKCS#11 tests on other threads) was initialising. Retry the parse,
    // with the thread's OpenSSL error queue cleared; a key that never parses still fails.
    let mut attempts = 0;
    loop {
        match parse() {
            Ok(verifier) => return verifier,
            Err(_) if attempts < 4 => {
                attempts += 1;
                drop(openssl::error::ErrorStack::get());
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => panic!("josekit could not parse the public key: {e}"),
        }
    }
}

#[test]
fn josekit_verifies_our_jws_for_every_key_spec() {
    for spec in KeySpec::ALL {
        let (signer, bytes) = sign(EnvelopeFormat::Jws, spec);
        let verifier = josekit_verifier(&signer);
        let mut context = JwsContext::new();
        context.add_acceptable_critical(media_type::SIGNING_SCHEME);
        let (payload, header) = context
            .deserialize_json(&bytes, verifier.as_ref())
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(payload, sig_core::NotaryPayload::new(descriptor()).to_json());
        assert_eq!(header.algorithm(), Some(spec.notary_algorithm().jws_name()));
        assert_eq!(header.content_type(), Some(media_type::NOTARY_PAYLOAD));
        // Tampering is caught by OpenSSL too.
        let mut outer = json(&bytes);
        outer["payload"] = b64url(b"{}").into();
        let tampered = serde_json::to_vec(&outer).unwrap();
        assert!(context.deserialize_json(&tampered, verifier.as_ref()).is_err(), "{spec}");
    }
}

#[test]
fn coset_parses_our_cose_and_openssl_verifies_it() {
    for spec in KeySpec::ALL {
        let (signer, bytes) = sign(EnvelopeFormat::Cose, spec);
        let message =
            CoseSign1::from_tagged_slice(&bytes).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let header = &message.protected.header;
        assert_eq!(
            header.alg,
            Some(coset::RegisteredLabelWithPrivate::Assigned(
                <coset::iana::Algorithm as coset::iana::EnumI64>::from_i64(
                    spec.notary_algorithm().cose_id()
                )
                .unwrap()
            ))
        );
        assert_eq!(
            header.content_type,
            Some(coset::ContentType::Text(media_type::NOTARY_PAYLOAD.to_owned()))
        );
        assert_eq!(
            header.crit,
            vec![coset::RegisteredLabelWithPrivate::Text(media_type::SIGNING_SCHEME.to_owned())]
        );
        let (label, x5chain) = &message.unprotected.rest[0];
        assert_eq!(label, &Label::Int(33));
        assert_eq!(x5chain.as_array().unwrap().len(), signer.chain().certificates().len());
        // coset rebuilds the Sig_structure from the received protected bytes; OpenSSL checks it.
        let verifier = josekit_verifier(&signer);
        message
            .verify_signature(b"", |signature, data| verifier.verify(data, signature))
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        // Re-encoding the parsed parts gives back our bytes: the encoding is canonical.
        let protected = message.protected.original_data.clone().unwrap();
        assert_eq!(coset::Header::from_slice(&protected).unwrap().to_vec().unwrap(), protected);
        assert_eq!(message.to_tagged_vec().unwrap(), bytes, "{spec}");
    }
}
