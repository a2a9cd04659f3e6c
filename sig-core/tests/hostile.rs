//! Hostile input: truncation, garbage, deep nesting, lying length fields. Verification returns
//! an error and never panics or allocates by a declared length.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use sig_core::envelope::{self, EnvelopeFormat, MAX_ENVELOPE_LEN};
use sig_core::{CertificateError, EnvelopeError, Error, KeySpec};

use crate::common::*;

fn verify(format: EnvelopeFormat, bytes: &[u8]) -> Result<(), Error> {
    envelope::dangerous::verify_without_trust_anchors(
        format,
        bytes,
        UNIX_EPOCH + Duration::from_secs(1_900_000_000),
    )
    .map(|_| ())
}

/// Deterministic pseudo-random bytes (xorshift64).
fn garbage(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn every_truncation_is_malformed() {
    for format in EnvelopeFormat::ALL {
        let (_, bytes) = sign(format, KeySpec::Ec256);
        for len in 0..bytes.len() {
            let err = verify(format, &bytes[..len]).unwrap_err();
            assert!(
                matches!(err, Error::Envelope(EnvelopeError::Malformed { .. })),
                "{format} {len}: {err:?}"
            );
        }
    }
}

#[test]
fn twenty_megabytes_of_garbage_is_malformed() {
    let mut jsonish = vec![b'{'; 1];
    jsonish.extend(garbage(20 << 20, 0x9e37_79b9_7f4a_7c15));
    let mut coseish = vec![0xd2, 0x84];
    coseish.extend(garbage(20 << 20, 0x2545_f491_4f6c_dd1d));
    for bytes in [garbage(20 << 20, 1), jsonish, coseish] {
        for format in EnvelopeFormat::ALL {
            let err = verify(format, &bytes).unwrap_err();
            assert!(
                matches!(err, Error::Envelope(EnvelopeError::Malformed { .. })),
                "{format}: {err:?}"
            );
        }
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let json = [vec![b'['; 10 << 20], vec![b']'; 10 << 20]].concat();
    assert!(matches!(
        verify(EnvelopeFormat::Jws, &json).unwrap_err(),
        Error::Envelope(EnvelopeError::Malformed { .. })
    ));
    let cbor = [vec![0xd2], vec![0x81; 10 << 20], vec![0x00]].concat();
    let err = verify(EnvelopeFormat::Cose, &cbor).unwrap_err();
    assert!(err.to_string().contains("nested deeper"), "{err}");
}

#[test]
fn lying_lengths_and_indefinite_items_are_rejected() {
    let rows: [(&[u8], &str); 5] = [
        (&[0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "truncated"),
        (&[0xd2, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "truncated"),
        (&[0xd2, 0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff], "indefinite-length"),
        (&[0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40, 0x00], "trailing"),
        (&[0xd1, 0x84, 0x40, 0xa0, 0x40, 0x40], "COSE_Sign1_Tagged"),
    ];
    for (bytes, needle) in rows {
        let err = verify(EnvelopeFormat::Cose, bytes).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Envelope(EnvelopeError::Malformed { format: EnvelopeFormat::Cose, .. })
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn too_many_certificates_are_rejected_before_parsing_them() {
    let (_, bytes) = sign(EnvelopeFormat::Jws, KeySpec::Ec256);
    let mut outer = json(&bytes);
    let leaf = outer["header"]["x5c"][0].clone();
    outer["header"]["x5c"] = serde_json::Value::Array(vec![leaf; 17]);
    let err = verify(EnvelopeFormat::Jws, &serde_json::to_vec(&outer).unwrap()).unwrap_err();
    assert!(
        matches!(err, Error::Certificate(CertificateError::TooMany { count: 17, max: 16 })),
        "{err:?}"
    );
}

#[test]
fn jws_shape_errors_name_the_member() {
    let (_, bytes) = sign(EnvelopeFormat::Jws, KeySpec::Ec256);
    let outer = json(&bytes);
    let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut copy = outer.clone();
        f(&mut copy);
        verify(EnvelopeFormat::Jws, &serde_json::to_vec(&copy).unwrap()).unwrap_err().to_string()
    };
    assert!(mutate(&|v| v["payload"] = 1.into()).contains("\"payload\" is not a string"));
    assert!(mutate(&|v| v["protected"] = "e30=".into()).contains("not base64url without padding"));
    assert!(
        mutate(&|v| v["header"]["x5c"] = serde_json::json!([]))
            .contains("certificate chain is not present")
    );
    assert!(mutate(&|v| v["header"]["x5c"][0] = "***".into()).contains("not standard base64"));
    assert!(
        mutate(&|v| {
            v.as_object_mut().unwrap().remove("header");
        })
        .contains("certificate chain is not present")
    );
    assert!(mutate(&|v| v["signature"] = "".into()).contains("the signature is empty"));
    let duplicate = String::from_utf8(bytes).unwrap().replacen(
        "{\"payload\"",
        "{\"payload\":\"x\",\"payload\"",
        1,
    );
    assert!(
        verify(EnvelopeFormat::Jws, duplicate.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("duplicate key")
    );
    assert!(
        verify(EnvelopeFormat::Jws, b"[]").unwrap_err().to_string().contains("not a JSON object")
    );
    assert!(verify(EnvelopeFormat::Jws, &[0xff, 0xfe]).is_err());
}

#[test]
fn the_size_limit_is_notations() {
    assert_eq!(MAX_ENVELOPE_LEN, 32 * 1024 * 1024);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for format in EnvelopeFormat::ALL {
            prop_assert!(verify(format, &bytes).is_err());
        }
    }

    #[test]
    fn mutated_envelopes_never_panic(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        for format in EnvelopeFormat::ALL {
            let (_, mut bytes) = sign(format, KeySpec::Ec256);
            let at = index.index(bytes.len());
            bytes[at] = byte;
            let _ = verify(format, &bytes);
        }
    }
}
