//! The COSE envelope, `application/cose`: `COSE_Sign1_Tagged` (RFC 9052 §4.2) as
//! notation-core-go `signature/cose` (go-cose v1.3) writes it.
//!
//! ```text
//! 18([ bstr({ 1: -37,                                   ; alg
//!             2: ["io.cncf.notary.signingScheme", ("io.cncf.notary.expiry",) extended…],
//!             3: "application/vnd.cncf.notary.payload.v1+json",
//!             "io.cncf.notary.expiry": 1(1661408324),   ; text labels: shortest first,
//!             "io.cncf.notary.signingTime": 1(1661321924),          ; then bytewise
//!             "io.cncf.notary.signingScheme": "notary.x509" }),
//!      { 33: [bstr(leaf DER), …, bstr(root DER)],       ; x5chain, always an array
//!        "io.cncf.notary.signingAgent": "…" },
//!      bstr(payload),
//!      bstr(signature) ])
//!
//! Sig_structure = ["Signature1", bstr(protected map), h'', bstr(payload)]
//! ```
//!
//! Map keys follow RFC 8949 §4.2.1 core deterministic order (go-cose encodes with
//! `SortCoreDeterministic`): integers, then text by encoded length, then bytewise. Times are
//! CBOR tag 1 with integer seconds; verification accepts nothing else, as notation.

use coset::cbor::value::{Integer, Value};
use coset::iana::{self, EnumI64 as _};
use coset::{
    CborSerializable as _, ContentType, CoseSign1, Header, HeaderBuilder, Label, ProtectedHeader,
    RegisteredLabelWithPrivate, TaggedCborSerializable as _,
};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{
    Attributes, Decoded, EnvelopeFormat, ExtendedAttribute, MAX_CHAIN_LEN, SigningScheme, cbor,
    check_expiry_after_signing, seconds_to_time, verify_with_leaf,
};
use crate::algorithm::SignatureAlgorithm;
use crate::error::{CertificateError, EnvelopeError, Error, SignRequestProblem};
use crate::media_type::{
    AUTHENTIC_SIGNING_TIME, EXPIRY, NOTARY_PAYLOAD, SIGNING_AGENT, SIGNING_SCHEME, SIGNING_TIME,
    TIMESTAMP_SIGNATURE,
};
use crate::x509::CertificateChain;

const FORMAT: EnvelopeFormat = EnvelopeFormat::Cose;

/// The COSE header label of `x5chain` (RFC 9360).
const X5CHAIN: i64 = 33;

/// Protected text labels notation interprets; the others are extended attributes.
const NOTARY_LABELS: [&str; 4] = [SIGNING_SCHEME, SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY];

fn malformed(reason: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Malformed { format: FORMAT, reason: reason.into() }
}

fn header_error(header: &str, reason: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Header { format: FORMAT, header: header.to_owned(), reason: reason.into() }
}

/// The protected header map bytes, byte-identical to notation-core-go's.
pub(super) fn protected_header(attributes: &Attributes<'_>) -> Result<Vec<u8>, EnvelopeError> {
    let invalid = EnvelopeError::InvalidSignRequest;
    let alg = iana::Algorithm::from_i64(attributes.algorithm.cose_id()).ok_or_else(|| {
        EnvelopeError::UnsupportedAlgorithm {
            format: FORMAT,
            algorithm: attributes.algorithm.cose_id().to_string(),
        }
    })?;
    // crit order as notation-core-go generateProtectedHeaders: signingScheme,
    // authenticSigningTime, expiry, then critical extended attributes in request order.
    let mut crit = vec![SIGNING_SCHEME];
    if attributes.scheme == SigningScheme::X509SigningAuthority {
        crit.push(AUTHENTIC_SIGNING_TIME);
    }
    if attributes.expiry.is_some() {
        crit.push(EXPIRY);
    }
    crit.extend(attributes.extended.iter().filter(|a| a.critical).map(|a| a.key.as_str()));

    let mut rest = vec![
        (
            Label::Text(SIGNING_SCHEME.to_owned()),
            Value::Text(attributes.scheme.as_str().to_owned()),
        ),
        (
            Label::Text(attributes.scheme.time_header().to_owned()),
            time_value(attributes.signing_time),
        ),
    ];
    if let Some(expiry) = attributes.expiry {
        rest.push((Label::Text(EXPIRY.to_owned()), time_value(expiry)));
    }
    for attribute in attributes.extended {
        let value = json_to_cbor(&attribute.value).map_err(|e| {
            invalid(SignRequestProblem::AttributeValue { key: attribute.key.clone(), reason: e })
        })?;
        rest.push((Label::Text(attribute.key.clone()), value));
    }
    // coset writes alg, crit, content type, then `rest` in the order given; `Label`'s `Ord` is the
    // RFC 8949 §4.2.1 order of the encoded labels.
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    let mut builder = HeaderBuilder::new().algorithm(alg);
    for label in crit {
        builder = builder.add_critical_label(RegisteredLabelWithPrivate::Text(label.to_owned()));
    }
    builder = builder.content_type(NOTARY_PAYLOAD.to_owned());
    let mut header = builder.build();
    header.rest = rest;
    header.to_vec().map_err(|e| malformed(format!("cannot encode the protected header: {e}")))
}

/// CBOR tag 1 (epoch date/time) with integer seconds.
fn time_value(seconds: i64) -> Value {
    Value::Tag(1, Box::new(Value::Integer(Integer::from(seconds))))
}

/// Converts an attribute value; maps are sorted as go-cose sorts them.
fn json_to_cbor(value: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Integer(Integer::from(i)),
            (_, Some(u), _) => Value::Integer(Integer::from(u)),
            (_, _, Some(f)) => Value::Float(f),
            _ => return Err(format!("number {n} has no CBOR form")),
        },
        J::String(s) => Value::Text(s.clone()),
        J::Array(items) => Value::Array(items.iter().map(json_to_cbor).collect::<Result<_, _>>()?),
        J::Object(map) => {
            let mut entries: Vec<(&String, &J)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(b.0)));
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((Value::Text(k.clone()), json_to_cbor(v)?)))
                    .collect::<Result<_, String>>()?,
            )
        }
    })
}

/// Shows a CBOR attribute value as JSON: byte strings as standard base64, tags dropped.
fn cbor_to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Integer(i) => {
            let i = i128::from(*i);
            i64::try_from(i)
                .map(J::from)
                .or_else(|_| u64::try_from(i).map(J::from))
                .unwrap_or_else(|_| J::String(i.to_string()))
        }
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Text(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(STANDARD.encode(b)),
        Value::Bool(b) => J::Bool(*b),
        Value::Array(items) => J::Array(items.iter().map(cbor_to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Text(s) => s.clone(),
                        other => cbor_to_json(other).to_string(),
                    };
                    (key, cbor_to_json(v))
                })
                .collect(),
        ),
        Value::Tag(_, inner) => cbor_to_json(inner),
        _ => J::Null,
    }
}

/// Appends the head of a CBOR byte string of `len` bytes (major type 2, shortest form).
fn push_bstr_head(out: &mut Vec<u8>, len: usize) {
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    let be = len.to_be_bytes();
    match len {
        0..=23 => out.push(0x40 | be[7]),
        24..=0xff => {
            out.push(0x58);
            out.extend_from_slice(&be[7..]);
        }
        0x100..=0xffff => {
            out.push(0x59);
            out.extend_from_slice(&be[6..]);
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0x5a);
            out.extend_from_slice(&be[4..]);
        }
        _ => {
            out.push(0x5b);
            out.extend_from_slice(&be);
        }
    }
}

/// `Sig_structure = ["Signature1", bstr(protected), h'', bstr(payload)]` (RFC 9052 §4.4).
pub(super) fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 32);
    out.push(0x84); // array of 4
    out.push(0x6a); // text of 10
    out.extend_from_slice(b"Signature1");
    push_bstr_head(&mut out, protected.len());
    out.extend_from_slice(protected);
    out.push(0x40); // external_aad: empty byte string
    push_bstr_head(&mut out, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The tagged `COSE_Sign1` message.
pub(super) fn assemble(
    protected: &[u8],
    payload: &[u8],
    signature: &[u8],
    chain: &CertificateChain,
    signing_agent: Option<&str>,
) -> Result<Vec<u8>, EnvelopeError> {
    let certs = chain.certificates().iter().map(|c| Value::Bytes(c.as_der().to_vec())).collect();
    let mut unprotected = Header::default();
    unprotected.rest.push((Label::Int(X5CHAIN), Value::Array(certs)));
    if let Some(agent) = signing_agent.filter(|a| !a.is_empty()) {
        unprotected
            .rest
            .push((Label::Text(SIGNING_AGENT.to_owned()), Value::Text(agent.to_owned())));
    }
    let header = Header::from_slice(protected)
        .map_err(|e| malformed(format!("cannot decode our own protected header: {e}")))?;
    let message = CoseSign1 {
        protected: ProtectedHeader { original_data: Some(protected.to_vec()), header },
        unprotected,
        payload: Some(payload.to_vec()),
        signature: signature.to_vec(),
    };
    message.to_tagged_vec().map_err(|e| malformed(format!("cannot encode the message: {e}")))
}

/// Parses a COSE envelope, verifies its signature with the leaf key and checks the headers.
pub(super) fn decode(envelope: &[u8]) -> Result<Decoded, Error> {
    cbor::check(envelope).map_err(malformed)?;
    let message = CoseSign1::from_tagged_slice(envelope)
        .map_err(|e| malformed(format!("not a COSE_Sign1_Tagged message: {e}")))?;
    let protected_bytes = message.protected.original_data.as_deref().unwrap_or_default();
    if !protected_bytes.is_empty() {
        cbor::check(protected_bytes).map_err(|e| malformed(format!("protected header: {e}")))?;
    }
    let header = &message.protected.header;
    let payload =
        message.payload.as_deref().filter(|p| !p.is_empty()).ok_or_else(|| {
            malformed("the payload is missing (detached payloads are not supported)")
        })?;
    let chain = certificate_chain(&message.unprotected)?;
    let algorithm = match &header.alg {
        Some(RegisteredLabelWithPrivate::Assigned(alg)) => cose_algorithm(alg.to_i64())?,
        Some(RegisteredLabelWithPrivate::PrivateUse(id)) => cose_algorithm(*id)?,
        Some(RegisteredLabelWithPrivate::Text(name)) => {
            return Err(Error::from(EnvelopeError::UnsupportedAlgorithm {
                format: FORMAT,
                algorithm: name.clone(),
            }));
        }
        None => return Err(Error::from(header_error("alg (1)", "is missing"))),
    };
    if message.signature.is_empty() {
        return Err(Error::from(malformed("the signature is empty")));
    }
    let leaf = chain.first().ok_or_else(|| chain_missing("the array is empty"))?;
    let to_be_signed = sig_structure(protected_bytes, payload);
    verify_with_leaf(EnvelopeFormat::Cose, leaf, algorithm, &to_be_signed, &message.signature)?;

    let rules = check_protected(header)?;
    match &header.content_type {
        Some(ContentType::Text(cty)) if cty == NOTARY_PAYLOAD => {}
        Some(ContentType::Text(cty)) => {
            return Err(Error::from(header_error(
                "content type (3)",
                format!("{cty:?} is not {NOTARY_PAYLOAD}"),
            )));
        }
        Some(ContentType::Assigned(format)) => {
            return Err(Error::from(header_error(
                "content type (3)",
                format!("CoAP format {format:?} is not {NOTARY_PAYLOAD}"),
            )));
        }
        None => return Err(Error::from(header_error("content type (3)", "is missing"))),
    }
    let signing_agent = text_label(&message.unprotected, SIGNING_AGENT).and_then(|v| match v {
        Value::Text(agent) => Some(agent.clone()),
        _ => None,
    });
    let timestamp_signature =
        text_label(&message.unprotected, TIMESTAMP_SIGNATURE).and_then(|v| match v {
            Value::Bytes(token) => Some(token.clone()),
            _ => None,
        });
    Ok(Decoded {
        payload: payload.to_vec(),
        chain,
        algorithm,
        scheme: rules.scheme,
        signing_time: rules.signing_time,
        expiry: rules.expiry,
        signing_agent,
        timestamp_signature,
        extended: rules.extended,
        signature: message.signature,
    })
}

fn cose_algorithm(id: i64) -> Result<SignatureAlgorithm, EnvelopeError> {
    SignatureAlgorithm::from_cose_id(id).ok().filter(|a| a.notary_name().is_some()).ok_or_else(
        || EnvelopeError::UnsupportedAlgorithm { format: FORMAT, algorithm: id.to_string() },
    )
}

fn text_label<'a>(header: &'a Header, name: &str) -> Option<&'a Value> {
    header
        .rest
        .iter()
        .find(|(label, _)| matches!(label, Label::Text(t) if t == name))
        .map(|(_, v)| v)
}

fn chain_missing(detail: &str) -> EnvelopeError {
    header_error(
        "x5chain (33)",
        format!(
            "certificate chain is not present: notation reads an array of DER certificates from the unprotected header ({detail})"
        ),
    )
}

/// The DER certificates of the unprotected `x5chain`, which notation requires to be an array.
fn certificate_chain(unprotected: &Header) -> Result<Vec<Vec<u8>>, Error> {
    let value =
        unprotected.rest.iter().find(|(label, _)| *label == Label::Int(X5CHAIN)).map(|(_, v)| v);
    let items = match value {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => return Err(Error::from(chain_missing("the array is empty"))),
        Some(Value::Bytes(_)) => {
            return Err(Error::from(chain_missing("found a single byte string")));
        }
        Some(_) => return Err(Error::from(chain_missing("found another CBOR type"))),
        None => return Err(Error::from(chain_missing("label 33 is absent"))),
    };
    if items.len() > MAX_CHAIN_LEN {
        return Err(CertificateError::TooMany { count: items.len(), max: MAX_CHAIN_LEN }.into());
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Bytes(der) => Ok(der.clone()),
            _ => Err(chain_missing(&format!("element {index} is not a byte string"))),
        })
        .collect::<Result<_, EnvelopeError>>()
        .map_err(Error::from)
}

/// What the protected header says, after notation's rules.
struct Rules {
    scheme: SigningScheme,
    signing_time: std::time::SystemTime,
    expiry: Option<std::time::SystemTime>,
    extended: Vec<ExtendedAttribute>,
}

fn label_of(label: &RegisteredLabelWithPrivate<iana::HeaderParameter>) -> Label {
    match label {
        RegisteredLabelWithPrivate::Assigned(p) => Label::Int(p.to_i64()),
        RegisteredLabelWithPrivate::PrivateUse(i) => Label::Int(*i),
        RegisteredLabelWithPrivate::Text(t) => Label::Text(t.clone()),
    }
}

fn label_name(label: &Label) -> String {
    match label {
        Label::Int(i) => i.to_string(),
        Label::Text(t) => t.clone(),
    }
}

/// Whether `label` is in the protected header (go-cose `ProtectedHeader.Critical`).
fn present(header: &Header, label: &Label) -> bool {
    match label {
        Label::Int(1) => header.alg.is_some(),
        Label::Int(2) => !header.crit.is_empty(),
        Label::Int(3) => header.content_type.is_some(),
        Label::Int(4) => !header.key_id.is_empty(),
        Label::Int(5) => !header.iv.is_empty(),
        Label::Int(6) => !header.partial_iv.is_empty(),
        Label::Int(7) => !header.counter_signatures.is_empty(),
        other => header.rest.iter().any(|(l, _)| l == other),
    }
}

/// notation-core-go `validateCritHeaders` and `parseProtectedHeaders`, then
/// `validateSignerInfo`'s time rule.
fn check_protected(header: &Header) -> Result<Rules, EnvelopeError> {
    let crit: Vec<Label> = header.crit.iter().map(label_of).collect();
    if let Some(absent) = crit.iter().find(|label| !present(header, label)) {
        return Err(header_error(&label_name(absent), "is marked critical but not present"));
    }
    let scheme = match text_label(header, SIGNING_SCHEME) {
        Some(Value::Text(name)) => SigningScheme::parse(name).ok_or_else(|| {
            header_error(SIGNING_SCHEME, format!("unsupported signing scheme {name:?}"))
        })?,
        Some(_) => return Err(header_error(SIGNING_SCHEME, "is not a text string")),
        None => return Err(header_error(SIGNING_SCHEME, "is missing")),
    };
    let expiry = time_label(header, EXPIRY)?;
    let mut required = vec![SIGNING_SCHEME];
    if scheme == SigningScheme::X509SigningAuthority {
        required.push(AUTHENTIC_SIGNING_TIME);
    }
    if expiry.is_some() {
        required.push(EXPIRY);
    }
    required.retain(|r| !crit.contains(&Label::Text((*r).to_owned())));
    if let Some(missing) = required.first() {
        return Err(header_error(
            missing,
            format!(
                "is required to be marked critical (missing from crit: {})",
                required.join(", ")
            ),
        ));
    }
    // Only the scheme's own time label is read: notation's COSE reader ignores an
    // authenticSigningTime under notary.x509 (its JWS reader rejects it).
    let signing_time = time_label(header, scheme.time_header())?
        .ok_or_else(|| header_error(scheme.time_header(), "signing time is not present"))?;
    check_expiry_after_signing(EnvelopeFormat::Cose, signing_time, expiry)?;
    let extended = header
        .rest
        .iter()
        .filter(
            |(label, _)| !matches!(label, Label::Text(t) if NOTARY_LABELS.contains(&t.as_str())),
        )
        .map(|(label, value)| ExtendedAttribute {
            key: label_name(label),
            value: cbor_to_json(value),
            critical: crit.contains(label),
        })
        .collect();
    Ok(Rules { scheme, signing_time, expiry, extended })
}

/// A tag 1 integer time, if the label is present.
fn time_label(header: &Header, name: &str) -> Result<Option<std::time::SystemTime>, EnvelopeError> {
    let Some(value) = text_label(header, name) else {
        return Ok(None);
    };
    match value {
        Value::Tag(1, inner) => match inner.as_ref() {
            Value::Integer(seconds) => i64::try_from(i128::from(*seconds))
                .ok()
                .and_then(seconds_to_time)
                .map(Some)
                .ok_or_else(|| header_error(name, "is outside years 1 to 9999")),
            _ => Err(header_error(name, "tag 1 date/time must hold integer seconds")),
        },
        Value::Tag(tag, _) => Err(header_error(
            name,
            format!("only Tag `1` Datetime CBOR object is supported, found tag {tag}"),
        )),
        _ => Err(header_error(name, "is not a CBOR tag 1 date/time")),
    }
}

#[cfg(test)]
mod tests;
