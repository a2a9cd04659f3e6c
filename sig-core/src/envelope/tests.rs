use super::*;
use crate::oci::Descriptor;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn request() -> SignRequest {
    let descriptor = Descriptor::new(
        crate::oci::OCI_MANIFEST,
        "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        481,
    );
    SignRequest::new(NotaryPayload::new(descriptor), at(1_678_781_402))
}

fn input_error(format: EnvelopeFormat, request: &SignRequest) -> String {
    SigningInput::new(format, request, SignatureAlgorithm::EcdsaSha256).unwrap_err().to_string()
}

#[test]
fn formats_by_media_type_and_name() {
    assert_eq!(
        EnvelopeFormat::from_media_type("application/jose+json").unwrap(),
        EnvelopeFormat::Jws
    );
    assert_eq!(EnvelopeFormat::from_media_type("application/cose").unwrap(), EnvelopeFormat::Cose);
    assert_eq!("COSE".parse::<EnvelopeFormat>().unwrap(), EnvelopeFormat::Cose);
    assert_eq!("jws".parse::<EnvelopeFormat>().unwrap(), EnvelopeFormat::Jws);
    let err = EnvelopeFormat::from_media_type("application/json").unwrap_err();
    assert!(matches!(err, EnvelopeError::UnsupportedFormat(ref t) if t == "application/json"));
    for format in EnvelopeFormat::ALL {
        assert_eq!(EnvelopeFormat::from_media_type(format.media_type()).unwrap(), format);
    }
}

#[test]
fn jws_signing_input_is_protected_dot_payload() {
    let input = SigningInput::new(EnvelopeFormat::Jws, &request(), SignatureAlgorithm::EcdsaSha256)
        .unwrap();
    let text = core::str::from_utf8(input.as_bytes()).unwrap();
    let (protected, payload) = text.split_once('.').unwrap();
    // The header of the reference's worked example, in UTC.
    let expected = r#"{"alg":"ES256","crit":["io.cncf.notary.signingScheme"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2023-03-14T08:10:02Z"}"#;
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    assert_eq!(engine.decode(protected).unwrap(), expected.as_bytes());
    assert!(text.starts_with("eyJ"), "a JWS signing input starts with eyJ");
    assert_eq!(engine.decode(payload).unwrap(), request_payload().to_json());
}

fn request_payload() -> NotaryPayload {
    match request().payload {
        SignPayload::Notary(p) => p,
        SignPayload::Raw(_) => unreachable!(),
    }
}

#[test]
fn cose_signing_input_is_a_sig_structure() {
    let input =
        SigningInput::new(EnvelopeFormat::Cose, &request(), SignatureAlgorithm::RsaPssSha256)
            .unwrap();
    assert!(input.as_bytes().starts_with(&[0x84, 0x6a]));
    assert!(input.as_bytes().ends_with(&request_payload().to_json_in_field_order()));
}

#[test]
fn signing_time_is_truncated_to_whole_seconds() {
    let mut req = request();
    req.signing_time = at(1_678_781_402) + Duration::from_millis(999);
    req.expiry = Some(at(1_678_781_403) + Duration::from_millis(1));
    let input =
        SigningInput::new(EnvelopeFormat::Jws, &req, SignatureAlgorithm::EcdsaSha256).unwrap();
    assert_eq!(input.signing_time(), at(1_678_781_402));
}

#[test]
fn rejects_bad_requests() {
    let mut expiry_equal = request();
    expiry_equal.expiry = Some(expiry_equal.signing_time + Duration::from_millis(500));
    assert!(
        input_error(EnvelopeFormat::Jws, &expiry_equal).contains("is not after the signing time")
    );
    // The times are data, truncated to the seconds that would be signed.
    let err =
        SigningInput::new(EnvelopeFormat::Cose, &expiry_equal, SignatureAlgorithm::EcdsaSha256)
            .unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::InvalidSignRequest(SignRequestProblem::ExpiryNotAfterSigningTime {
                expiry,
                signing_time,
            }) if expiry == at(1_678_781_402) && signing_time == at(1_678_781_402)
        ),
        "{err:?}"
    );

    let mut before_1970 = request();
    before_1970.signing_time = UNIX_EPOCH - Duration::from_secs(1);
    assert!(input_error(EnvelopeFormat::Cose, &before_1970).contains("before 1970"));
    assert!(matches!(
        SigningInput::new(EnvelopeFormat::Jws, &before_1970, SignatureAlgorithm::EcdsaSha256),
        Err(EnvelopeError::InvalidSignRequest(SignRequestProblem::SigningTimeOutOfRange {
            before_1970: true
        }))
    ));

    let mut far_future = request();
    far_future.signing_time = at(300_000_000_000);
    assert!(input_error(EnvelopeFormat::Cose, &far_future).contains("after 9999"));

    for key in ["alg", "crit", "io.cncf.notary.signingTime", "io.cncf.notary.expiry"] {
        let req = request().with_extended_attribute(ExtendedAttribute::new(key, "x", false));
        let err = input_error(EnvelopeFormat::Jws, &req);
        assert!(err.contains("repeats a header"), "{key}: {err}");
    }
    let twice = request()
        .with_extended_attribute(ExtendedAttribute::new("k", "1", false))
        .with_extended_attribute(ExtendedAttribute::new("k", "2", true));
    assert!(input_error(EnvelopeFormat::Cose, &twice).contains("repeats a header"));

    let array = SignRequest::new(b"[1,2]".to_vec(), at(1));
    assert!(input_error(EnvelopeFormat::Jws, &array).contains("must be a JSON object"));
    let empty = SignRequest::new(Vec::new(), at(1));
    assert!(input_error(EnvelopeFormat::Cose, &empty).contains("the payload is empty"));

    let err =
        SigningInput::new(EnvelopeFormat::Jws, &request(), SignatureAlgorithm::RsaPkcs1v15Sha256)
            .unwrap_err();
    assert!(matches!(err, EnvelopeError::UnsupportedAlgorithm { .. }), "{err:?}");
}

#[test]
fn raw_jws_payloads_are_re_encoded_as_go_does() {
    let req = SignRequest::new(br#"{"size": 481, "b": "<", "a": 1.0}"#.to_vec(), at(1));
    let input =
        SigningInput::new(EnvelopeFormat::Jws, &req, SignatureAlgorithm::EcdsaSha256).unwrap();
    let text = core::str::from_utf8(input.as_bytes()).unwrap();
    let payload = text.split_once('.').unwrap().1;
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    assert_eq!(decoded, br#"{"a":1,"b":"\u003c","size":481}"#);
}

#[test]
fn seconds_to_time_is_bounded_to_rfc3339_years() {
    assert_eq!(seconds_to_time(0), Some(UNIX_EPOCH));
    assert!(seconds_to_time(MAX_UNIX_SECONDS).is_some());
    assert!(seconds_to_time(MIN_UNIX_SECONDS).is_some());
    assert_eq!(seconds_to_time(MAX_UNIX_SECONDS + 1), None);
    assert_eq!(seconds_to_time(i64::MIN), None);
    assert_eq!(format_seconds(MAX_UNIX_SECONDS), "9999-12-31T23:59:59Z");
}

#[test]
fn assemble_rejects_an_empty_signature() {
    let chain = CertificateChain::from_pem(include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/pki/ec-256/certificate_chain.pem"
    )))
    .unwrap();
    let input =
        SigningInput::new(EnvelopeFormat::Cose, &request(), SignatureAlgorithm::EcdsaSha256)
            .unwrap();
    assert!(matches!(
        input.assemble(&[], &chain),
        Err(EnvelopeError::InvalidSignRequest(SignRequestProblem::EmptySignature))
    ));
}

#[test]
fn oversized_envelopes_are_rejected_before_parsing() {
    let big = vec![b' '; MAX_ENVELOPE_LEN + 1];
    for format in EnvelopeFormat::ALL {
        let err = dangerous::verify_without_trust_anchors(format, &big, at(0)).unwrap_err();
        assert!(
            matches!(err, Error::Envelope(EnvelopeError::TooLarge { size, max: MAX_ENVELOPE_LEN, .. }) if size == big.len())
        );
    }
}
