//! Byte-level tests against notation-core-go `signature/cose/testdata/conformance.json`.

use super::*;

const CONFORMANCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/data/conformance/notation-core-go-cose-conformance.json"
));

fn conformance_hex(section: &str) -> Vec<u8> {
    let json: serde_json::Value = serde_json::from_str(CONFORMANCE).unwrap();
    crate::hex::decode(json[section]["cborHex"].as_str().unwrap()).unwrap()
}

/// The fixture predates notation-core-go PR #98 (Tag1 Datetime): its times are bare integers.
/// notation v1.3 writes `C1` (tag 1) before each; nothing else differs.
fn with_tag1_times(untagged: &[u8]) -> Vec<u8> {
    let hex = crate::hex::encode(untagged)
        .replace("1a63071444", "c11a63071444")
        .replace("1a6305c2c4", "c11a6305c2c4");
    crate::hex::decode(&hex).unwrap()
}

fn conformance_attributes() -> Vec<ExtendedAttribute> {
    vec![
        ExtendedAttribute::new("signedCritKey1", "signedCritValue1", true),
        ExtendedAttribute::new("signedKey1", "signedValue1", false),
    ]
}

fn conformance_protected() -> Vec<u8> {
    let extended = conformance_attributes();
    protected_header(&Attributes {
        algorithm: SignatureAlgorithm::RsaPssSha384,
        scheme: SigningScheme::X509,
        signing_time: 1_661_321_924,
        expiry: Some(1_661_408_324),
        extended: &extended,
    })
    .unwrap()
}

#[test]
fn protected_header_is_byte_identical_to_notation_core_go() {
    let fixture = conformance_hex("protectedHeaders");
    let ours = conformance_protected();
    assert_eq!(crate::hex::encode(&ours), crate::hex::encode(&with_tag1_times(&fixture)));
    // Annotated: the map order is RFC 8949 core deterministic, shortest text label first.
    let expected_prefix = [
        "a8",   // map of 8
        "0138", // 1 (alg): -
        "25",   //   -38 (PS384)
        "0283", // 2 (crit): array of 3
    ];
    assert!(crate::hex::encode(&ours).starts_with(&expected_prefix.concat()));
}

#[test]
fn sig_structure_is_signature1_protected_empty_aad_payload() {
    let protected = with_tag1_times(&conformance_hex("protectedHeaders"));
    let json: serde_json::Value = serde_json::from_str(CONFORMANCE).unwrap();
    let payload = crate::hex::decode(json["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload, b"hello COSE");
    let tbs = sig_structure(&protected, &payload);
    let expected = [
        "84",                     // array of 4
        "6a5369676e617475726531", // "Signature1"
        "590117",                 // bstr of 279 bytes: the protected map
        &crate::hex::encode(&protected),
        "40",                     // h'' (external_aad)
        "4a68656c6c6f20434f5345", // h'hello COSE'
    ]
    .concat();
    assert_eq!(crate::hex::encode(&tbs), expected);
}

#[test]
fn message_layout_matches_notation_core_go_with_x5chain_array() {
    let fixture = conformance_hex("expectedOutput");
    let signature = &fixture[fixture.len() - 384..];
    let chain = CertificateChain::from_pem(include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/pki/rsa-3072/certificate_chain.pem"
    )))
    .unwrap();
    let protected = conformance_protected();
    let message = assemble(
        &protected,
        b"hello COSE",
        signature,
        &chain,
        Some("NotationConformanceTest/1.0.0"),
    )
    .unwrap();

    let mut x5chain = String::from("1821"); // 33 (x5chain)
    x5chain.push_str(&format!("8{}", chain.certificates().len())); // array, even for one cert
    for cert in chain.certificates() {
        let mut head = Vec::new();
        push_bstr_head(&mut head, cert.as_der().len());
        x5chain.push_str(&crate::hex::encode(&head));
        x5chain.push_str(&crate::hex::encode(cert.as_der()));
    }
    let expected = [
        "d2",     // tag 18: COSE_Sign1_Tagged
        "84",     // array of 4
        "590117", // bstr: protected map (fixture with tag 1 times)
        &crate::hex::encode(&with_tag1_times(&conformance_hex("protectedHeaders"))),
        "a2", // unprotected: map of 2, x5chain first (integer label)
        &x5chain,
        // The fixture's unprotected map, minus its leading "a1" (map of 1).
        &crate::hex::encode(&conformance_hex("unprotectedHeaders")[1..]),
        "4a68656c6c6f20434f5345", // payload
        "590180",                 // bstr of 384 bytes: the fixture's signature
        &crate::hex::encode(signature),
    ]
    .concat();
    assert_eq!(crate::hex::encode(&message), expected);
    // Without x5chain it is the fixture's expected output, times tagged.
    let fixture_tagged = with_tag1_times(&fixture);
    assert_eq!(fixture_tagged.len(), fixture.len() + 2);
}

#[test]
fn conformance_headers_parse_with_crit_and_extended_attributes() {
    let protected = conformance_protected();
    let rules = check_protected(&Header::from_slice(&protected).unwrap()).unwrap();
    assert_eq!(rules.scheme, SigningScheme::X509);
    assert_eq!(rules.signing_time, seconds_to_time(1_661_321_924).unwrap());
    assert_eq!(rules.expiry, seconds_to_time(1_661_408_324));
    let mut extended = rules.extended;
    extended.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(extended, conformance_attributes());
}

#[test]
fn untagged_times_of_the_old_fixture_are_rejected_as_notation_v1_3_does() {
    let header = Header::from_slice(&conformance_hex("protectedHeaders")).unwrap();
    let err = check_protected(&header).err().unwrap();
    assert!(
        err.to_string().contains("io.cncf.notary.expiry: is not a CBOR tag 1 date/time"),
        "{err}"
    );
}

fn header_with(rest: Vec<(Label, Value)>, crit: &[&str]) -> Header {
    Header {
        alg: Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256)),
        crit: crit.iter().map(|c| RegisteredLabelWithPrivate::Text((*c).to_owned())).collect(),
        rest,
        ..Header::default()
    }
}

type Row<'a> = (Vec<(Label, Value)>, &'a [&'a str], &'a str);

fn scheme() -> (Label, Value) {
    (Label::Text(SIGNING_SCHEME.to_owned()), Value::Text("notary.x509".to_owned()))
}

fn signing_time(value: Value) -> (Label, Value) {
    (Label::Text(SIGNING_TIME.to_owned()), value)
}

#[test]
fn time_rules() {
    let ok =
        header_with(vec![scheme(), signing_time(time_value(1_700_000_000))], &[SIGNING_SCHEME]);
    assert!(check_protected(&ok).is_ok());
    let rows = [
        (
            Value::Tag(0, Box::new(Value::Text("2023-11-14T22:13:20Z".into()))),
            "only Tag `1` Datetime",
        ),
        (Value::Integer(1_700_000_000.into()), "is not a CBOR tag 1 date/time"),
        (Value::Tag(1, Box::new(Value::Float(1.7e9))), "integer seconds"),
        (Value::Tag(1, Box::new(Value::Integer(i64::MAX.into()))), "outside years"),
    ];
    for (value, needle) in rows {
        let header = header_with(vec![scheme(), signing_time(value)], &[SIGNING_SCHEME]);
        let err = check_protected(&header).err().unwrap();
        assert!(err.to_string().contains(needle), "{err}");
    }
    let missing = header_with(vec![scheme()], &[SIGNING_SCHEME]);
    assert!(
        check_protected(&missing)
            .err()
            .unwrap()
            .to_string()
            .contains("signing time is not present")
    );
}

#[test]
fn crit_rules() {
    let expiry = (Label::Text(EXPIRY.to_owned()), time_value(1_800_000_000));
    let base = vec![scheme(), signing_time(time_value(1_700_000_000))];
    let rows: [Row<'_>; 4] = [
        (base.clone(), &[], "signingScheme: is required to be marked critical"),
        (
            [base.clone(), vec![expiry]].concat(),
            &[SIGNING_SCHEME],
            "io.cncf.notary.expiry: is required to be marked critical",
        ),
        (base.clone(), &[SIGNING_SCHEME, "absent"], "absent: is marked critical but not present"),
        (base.clone(), &[SIGNING_SCHEME, EXPIRY], "expiry: is marked critical but not present"),
    ];
    for (rest, crit, needle) in rows {
        let err = check_protected(&header_with(rest, crit)).err().unwrap();
        assert!(err.to_string().contains(needle), "{err}");
    }
    // Unlike JWS, COSE may list signingTime in crit: it is present (go-cose only checks presence).
    let listed = header_with(base, &[SIGNING_SCHEME, SIGNING_TIME]);
    assert!(check_protected(&listed).is_ok());
}

#[test]
fn x5chain_must_be_an_array_of_byte_strings() {
    let mut unprotected = Header::default();
    unprotected.rest.push((Label::Int(X5CHAIN), Value::Bytes(vec![0x30])));
    let err = certificate_chain(&unprotected).unwrap_err();
    assert!(err.to_string().contains("certificate chain is not present"), "{err}");
    assert!(err.to_string().contains("single byte string"), "{err}");
    unprotected.rest[0].1 = Value::Array(vec![Value::Text("MII".into())]);
    assert!(certificate_chain(&unprotected).unwrap_err().to_string().contains("element 0"));
    unprotected.rest[0].1 = Value::Array(vec![Value::Bytes(vec![0x30]); MAX_CHAIN_LEN + 1]);
    assert!(matches!(
        certificate_chain(&unprotected).unwrap_err(),
        Error::Certificate(CertificateError::TooMany { count: 17, max: 16 })
    ));
    assert!(
        certificate_chain(&Header::default())
            .unwrap_err()
            .to_string()
            .contains("label 33 is absent")
    );
}

#[test]
fn bstr_heads_are_shortest_form() {
    for (len, hex) in [
        (0, "40"),
        (23, "57"),
        (24, "5818"),
        (255, "58ff"),
        (256, "590100"),
        (65_536, "5a00010000"),
    ] {
        let mut out = Vec::new();
        push_bstr_head(&mut out, len);
        assert_eq!(crate::hex::encode(&out), hex, "{len}");
    }
}

#[test]
fn attribute_values_convert_both_ways() {
    let json = serde_json::json!({"bb": [1, -2, 1.5, true, null], "a": "t"});
    let cbor = json_to_cbor(&json).unwrap();
    // Maps sorted shortest key first, as go-cose encodes them.
    let Value::Map(entries) = &cbor else { panic!("{cbor:?}") };
    assert_eq!(entries[0].0, Value::Text("a".into()));
    assert_eq!(cbor_to_json(&cbor), json);
    assert_eq!(cbor_to_json(&Value::Bytes(vec![1, 2])), serde_json::json!("AQI="));
}
