use super::*;

#[test]
fn statement_is_protojson_field_order() {
    let image = Digest::of(b"image");
    let text = String::from_utf8(statement(&image, &Annotations::new())).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1", "subject":[{{"digest":{{"sha256":"{}"}}, "annotations":{{}}}}], "predicateType":"https://sigstore.dev/cosign/sign/v1", "predicate":{{}}}}"#,
            image.hex()
        )
    );
}

#[test]
fn pae_is_dsse_v1() {
    assert_eq!(pae("a/b", b"xyz"), b"DSSEv1 3 a/b 3 xyz");
}

#[test]
fn created_is_rfc3339_seconds_utc() {
    let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_900_000_000_500);
    assert_eq!(referrer::created_annotation(t), "2030-03-17T17:46:40Z");
}
