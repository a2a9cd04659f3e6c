//! Fixture loading and envelope surgery shared by the topic modules.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ciborium::Value;
use sig_core::envelope::{self, EnvelopeFormat};
use sig_core::media_type;
use sig_core::oci::Descriptor;
use sig_core::{
    Certificate, CertificateChain, CertifiedKey, KeySpec, NotaryPayload, PrivateKey, SignRequest,
    SigningKey as _,
};

/// `tests/data/<rel>` of the workspace.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `pki/<dir>` for a key spec, e.g. `rsa-2048`.
pub fn pki_dir(spec: KeySpec) -> String {
    format!("pki/{}", spec.as_str().to_ascii_lowercase())
}

/// The signer of `tests/data/pki/<spec>/` (`leaf.key` + `certificate_chain.pem`).
pub fn signer(spec: KeySpec) -> CertifiedKey {
    let dir = pki_dir(spec);
    let key = PrivateKey::read_file(&data(&format!("{dir}/leaf.key")), None).unwrap();
    let chain =
        CertificateChain::read_pem_file(&data(&format!("{dir}/certificate_chain.pem"))).unwrap();
    CertifiedKey::new(chain, key).unwrap()
}

/// The root CA of `tests/data/pki/<spec>/`.
pub fn root(spec: KeySpec) -> Certificate {
    CertificateChain::from_pem(&read(&format!("{}/ca.crt", pki_dir(spec)))).unwrap().leaf().clone()
}

/// A signing time inside every certificate's validity: one day after the latest notBefore,
/// whole seconds (so no test reads the wall clock).
pub fn signing_time(signer: &CertifiedKey) -> SystemTime {
    let latest = signer.chain().certificates().iter().map(Certificate::not_before).max().unwrap();
    let secs = latest.duration_since(UNIX_EPOCH).unwrap().as_secs() + 86_400;
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub fn descriptor() -> Descriptor {
    Descriptor::new(
        sig_core::oci::OCI_MANIFEST,
        "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        481,
    )
    .annotation("org.example.note", "a<b & c>d")
}

pub fn request(signer: &CertifiedKey) -> SignRequest {
    SignRequest::new(NotaryPayload::new(descriptor()), signing_time(signer))
}

pub fn sign(format: EnvelopeFormat, spec: KeySpec) -> (CertifiedKey, Vec<u8>) {
    let signer = signer(spec);
    let envelope = envelope::sign(format, &request(&signer), &signer).unwrap();
    (signer, envelope)
}

pub fn utc(rfc3339: &str) -> SystemTime {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap();
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_timestamp()).unwrap())
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

/// A JWS envelope with the given protected header JSON and payload, correctly signed by `signer`
/// (for header rules that only a validly signed envelope can reach).
pub fn jws_with(signer: &CertifiedKey, protected: &str, payload: &[u8]) -> Vec<u8> {
    let input = format!("{}.{}", b64url(protected.as_bytes()), b64url(payload));
    let signature = signer.sign(signer.key_spec().notary_algorithm(), input.as_bytes()).unwrap();
    let (protected, payload) = input.split_once('.').unwrap();
    let x5c: Vec<String> =
        signer.chain().certificates().iter().map(|c| STANDARD.encode(c.as_der())).collect();
    serde_json::to_vec(&serde_json::json!({
        "payload": payload,
        "protected": protected,
        "header": {"x5c": x5c},
        "signature": b64url(&signature),
    }))
    .unwrap()
}

/// The protected header notation writes, with `extra` JSON members spliced in and `crit` as given.
pub fn jws_protected(alg: &str, crit: &str, extra: &str) -> String {
    format!(
        r#"{{"alg":"{alg}","crit":{crit},"cty":"{}","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2030-01-01T00:00:00Z"{extra}}}"#,
        media_type::NOTARY_PAYLOAD
    )
}

pub fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

pub fn tag1(secs: i64) -> Value {
    Value::Tag(1, Box::new(Value::Integer(secs.into())))
}

/// The x5chain array of `signer`'s chain.
pub fn x5chain(signer: &CertifiedKey) -> Value {
    Value::Array(
        signer.chain().certificates().iter().map(|c| Value::Bytes(c.as_der().to_vec())).collect(),
    )
}

/// A COSE envelope with the given protected map entries and unprotected map, correctly signed.
pub fn cose_with(
    signer: &CertifiedKey,
    protected: Vec<(Value, Value)>,
    unprotected: Value,
    payload: &[u8],
) -> Vec<u8> {
    let protected = cbor(&Value::Map(protected));
    let tbs = cbor(&Value::Array(vec![
        text("Signature1"),
        Value::Bytes(protected.clone()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]));
    let signature = signer.sign(signer.key_spec().notary_algorithm(), &tbs).unwrap();
    cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            unprotected,
            Value::Bytes(payload.to_vec()),
            Value::Bytes(signature),
        ])),
    ))
}

/// notation's protected map for `signer` at 2030-01-01, plus `extra` entries, with `crit`.
pub fn cose_protected(
    signer: &CertifiedKey,
    crit: &[&str],
    extra: Vec<(Value, Value)>,
) -> Vec<(Value, Value)> {
    let mut map = vec![
        (
            Value::Integer(1.into()),
            Value::Integer(signer.key_spec().notary_algorithm().cose_id().into()),
        ),
        (Value::Integer(2.into()), Value::Array(crit.iter().map(|c| text(c)).collect())),
        (Value::Integer(3.into()), text(media_type::NOTARY_PAYLOAD)),
        (text(media_type::SIGNING_SCHEME), text("notary.x509")),
        (text(media_type::SIGNING_TIME), tag1(1_893_456_000)),
    ];
    map.extend(extra);
    map
}

/// Decodes a COSE envelope into its four parts (protected bytes, unprotected, payload, signature).
pub fn cose_parts(envelope: &[u8]) -> Vec<Value> {
    let Value::Tag(18, inner) = ciborium::from_reader::<Value, _>(envelope).unwrap() else {
        panic!("not tag 18")
    };
    let Value::Array(parts) = *inner else { panic!("not an array") };
    parts
}

pub fn cose_from_parts(parts: Vec<Value>) -> Vec<u8> {
    cbor(&Value::Tag(18, Box::new(Value::Array(parts))))
}

/// The verification time of the round-trip tests: one hour after signing.
pub fn now(signer: &CertifiedKey) -> SystemTime {
    signing_time(signer) + Duration::from_secs(3600)
}
