//! The JWS envelope, `application/jose+json`: flattened JWS JSON serialization (RFC 7515 §7.2.2)
//! as notation-core-go `signature/jws` writes it.
//!
//! ```text
//! {"payload":"<b64url payload>","protected":"<b64url protected JSON>",
//!  "header":{"io.cncf.notary.timestampSignature":"<std b64>","x5c":["<std b64 DER leaf>",…],
//!            "io.cncf.notary.signingAgent":"…"},
//!  "signature":"<b64url signature>"}
//!
//! protected (a Go map: keys sorted):
//! {"alg":"PS256","crit":["io.cncf.notary.signingScheme"(,extended…)(,"io.cncf.notary.expiry")],
//!  "cty":"application/vnd.cncf.notary.payload.v1+json",("io.cncf.notary.expiry":"…",)
//!  "io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2023-03-14T08:10:02Z"}
//! ```
//!
//! The signing input is the ASCII `protected "." payload` segments as received; `x5c` is standard
//! base64 with padding, the three segments base64url without padding.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use super::json::{get_field, parse_object};
use super::{
    Attributes, Decoded, EnvelopeFormat, ExtendedAttribute, MAX_CHAIN_LEN, SigningScheme,
    check_expiry_after_signing, format_seconds, seconds_to_time, verify_with_leaf,
};
use crate::algorithm::SignatureAlgorithm;
use crate::error::{CertificateError, EnvelopeError, Error, SignRequestProblem};
use crate::gojson::{write_string, write_value};
use crate::media_type::{
    AUTHENTIC_SIGNING_TIME, EXPIRY, NOTARY_PAYLOAD, SIGNING_AGENT, SIGNING_SCHEME, SIGNING_TIME,
    TIMESTAMP_SIGNATURE,
};
use crate::x509::CertificateChain;

const FORMAT: EnvelopeFormat = EnvelopeFormat::Jws;

/// Protected headers notation interprets; every other protected key is an extended attribute
/// (notation-core-go `headerKeys`).
const NOTARY_HEADERS: [&str; 7] =
    ["alg", "cty", "crit", EXPIRY, SIGNING_TIME, SIGNING_SCHEME, AUTHENTIC_SIGNING_TIME];

fn malformed(reason: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Malformed { format: FORMAT, reason: reason.into() }
}

fn header_error(header: &str, reason: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Header { format: FORMAT, header: header.to_owned(), reason: reason.into() }
}

/// The base64url `protected` and `payload` segments for `attributes` and `payload`.
pub(super) fn segments(
    attributes: &Attributes<'_>,
    payload: &[u8],
) -> Result<(String, String), EnvelopeError> {
    let protected = protected_json(attributes)?;
    Ok((URL_SAFE_NO_PAD.encode(protected), URL_SAFE_NO_PAD.encode(payload)))
}

/// The protected header JSON, byte-identical to notation-core-go's (`getSignedAttributes`
/// marshalled as a Go map).
fn protected_json(attributes: &Attributes<'_>) -> Result<String, EnvelopeError> {
    let quoted = |s: &str| {
        let mut out = String::new();
        write_string(&mut out, s);
        out
    };
    // crit order as notation-core-go: signingScheme, critical extended attributes in request
    // order, authenticSigningTime, expiry.
    let mut crit = vec![SIGNING_SCHEME];
    crit.extend(attributes.extended.iter().filter(|a| a.critical).map(|a| a.key.as_str()));
    if attributes.scheme == SigningScheme::X509SigningAuthority {
        crit.push(AUTHENTIC_SIGNING_TIME);
    }
    if attributes.expiry.is_some() {
        crit.push(EXPIRY);
    }
    let mut entries: BTreeMap<&str, String> = BTreeMap::new();
    entries.insert("alg", quoted(attributes.algorithm.jws_name()));
    entries.insert(
        "crit",
        format!("[{}]", crit.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(",")),
    );
    entries.insert("cty", quoted(NOTARY_PAYLOAD));
    entries.insert(SIGNING_SCHEME, quoted(attributes.scheme.as_str()));
    entries
        .insert(attributes.scheme.time_header(), quoted(&format_seconds(attributes.signing_time)));
    if let Some(expiry) = attributes.expiry {
        entries.insert(EXPIRY, quoted(&format_seconds(expiry)));
    }
    for attribute in attributes.extended {
        let mut value = String::new();
        write_value(&mut value, &attribute.value).map_err(|reason| {
            EnvelopeError::InvalidSignRequest(SignRequestProblem::AttributeValue {
                key: attribute.key.clone(),
                reason,
            })
        })?;
        entries.insert(&attribute.key, value);
    }
    let mut out = String::from("{");
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, key);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    Ok(out)
}

/// The envelope JSON, in notation-core-go's field order.
pub(super) fn assemble(
    protected: &str,
    payload: &str,
    signature: &[u8],
    chain: &CertificateChain,
    signing_agent: Option<&str>,
) -> Vec<u8> {
    let mut out = String::with_capacity(protected.len() + payload.len() + 4096);
    out.push_str(r#"{"payload":""#);
    out.push_str(payload);
    out.push_str(r#"","protected":""#);
    out.push_str(protected);
    out.push_str(r#"","header":{"x5c":["#);
    for (i, cert) in chain.certificates().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(&STANDARD.encode(cert.as_der()));
        out.push('"');
    }
    out.push(']');
    if let Some(agent) = signing_agent.filter(|a| !a.is_empty()) {
        out.push(',');
        write_string(&mut out, SIGNING_AGENT);
        out.push(':');
        write_string(&mut out, agent);
    }
    out.push_str(r#"},"signature":""#);
    out.push_str(&URL_SAFE_NO_PAD.encode(signature));
    out.push_str(r#""}"#);
    out.into_bytes()
}

/// Parses a JWS envelope, verifies its signature with the leaf key and checks the headers.
pub(super) fn decode(envelope: &[u8]) -> Result<Decoded, Error> {
    let outer =
        parse_object(envelope).map_err(|e| malformed(format!("not a JWS JSON object: {e}")))?;
    let protected_segment = segment(&outer, "protected")?;
    let payload_segment = segment(&outer, "payload")?;
    let signature_segment = segment(&outer, "signature")?;
    let header = match get_field(&outer, "header") {
        Some(Value::Object(header)) => Some(header),
        None | Some(Value::Null) => None,
        Some(_) => return Err(Error::from(malformed("\"header\" is not a JSON object"))),
    };
    let chain = certificate_chain(header.and_then(|h| get_field(h, "x5c")))?;
    let signing_agent = optional_string(header, SIGNING_AGENT)?;
    let timestamp_signature = optional_string(header, TIMESTAMP_SIGNATURE)?
        .map(|text| {
            STANDARD.decode(text).map_err(|e| {
                malformed(format!("{TIMESTAMP_SIGNATURE} is not standard base64: {e}"))
            })
        })
        .transpose()?;

    let protected_json = base64url(protected_segment, "protected")?;
    let protected =
        parse_object(&protected_json).map_err(|e| malformed(format!("protected header: {e}")))?;
    let alg_name = match protected.get("alg") {
        Some(Value::String(alg)) => alg,
        Some(_) => return Err(Error::from(header_error("alg", "is not a string"))),
        None => return Err(Error::from(header_error("alg", "is missing"))),
    };
    let algorithm = SignatureAlgorithm::from_jws_name(alg_name)
        .ok()
        .filter(|a| a.notary_name().is_some())
        .ok_or_else(|| EnvelopeError::UnsupportedAlgorithm {
            format: FORMAT,
            algorithm: alg_name.clone(),
        })?;
    let signature = base64url(signature_segment, "signature")?;
    if signature.is_empty() {
        return Err(Error::from(malformed("the signature is empty")));
    }
    let leaf = chain.first().ok_or_else(chain_missing)?;
    let signing_input = format!("{protected_segment}.{payload_segment}");
    verify_with_leaf(EnvelopeFormat::Jws, leaf, algorithm, signing_input.as_bytes(), &signature)?;

    let rules = check_protected(&protected)?;
    match protected.get("cty") {
        Some(Value::String(cty)) if cty == NOTARY_PAYLOAD => {}
        Some(Value::String(cty)) => {
            return Err(Error::from(header_error(
                "cty",
                format!("content type {cty:?} is not {NOTARY_PAYLOAD}"),
            )));
        }
        Some(_) => return Err(Error::from(header_error("cty", "is not a string"))),
        None => return Err(Error::from(header_error("cty", "is missing"))),
    }
    let payload = base64url(payload_segment, "payload")?;
    if payload.is_empty() {
        return Err(Error::from(malformed("the payload is empty")));
    }
    Ok(Decoded {
        payload,
        chain,
        algorithm,
        scheme: rules.scheme,
        signing_time: rules.signing_time,
        expiry: rules.expiry,
        signing_agent,
        timestamp_signature,
        extended: rules.extended,
        signature,
    })
}

fn segment<'a>(outer: &'a Map<String, Value>, name: &str) -> Result<&'a str, EnvelopeError> {
    match get_field(outer, name) {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(malformed(format!("{name:?} is not a string"))),
        None => Err(malformed(format!("{name:?} is missing"))),
    }
}

fn base64url(text: &str, what: &str) -> Result<Vec<u8>, EnvelopeError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| malformed(format!("{what} is not base64url without padding: {e}")))
}

fn optional_string(
    header: Option<&Map<String, Value>>,
    name: &str,
) -> Result<Option<String>, EnvelopeError> {
    match header.and_then(|h| get_field(h, name)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(malformed(format!("header {name} is not a string"))),
    }
}

fn chain_missing() -> EnvelopeError {
    header_error("x5c", "certificate chain is not present")
}

/// The DER certificates of `x5c`: a non-empty array of standard base64 strings.
fn certificate_chain(x5c: Option<&Value>) -> Result<Vec<Vec<u8>>, Error> {
    let items = match x5c {
        Some(Value::Array(items)) if !items.is_empty() => items,
        None | Some(Value::Null) | Some(Value::Array(_)) => {
            return Err(Error::from(chain_missing()));
        }
        Some(_) => {
            return Err(Error::from(header_error("x5c", "is not an array of base64 certificates")));
        }
    };
    if items.len() > MAX_CHAIN_LEN {
        return Err(CertificateError::TooMany { count: items.len(), max: MAX_CHAIN_LEN }.into());
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let text = item.as_str().ok_or_else(|| {
                header_error("x5c", format!("certificate {index} is not a string"))
            })?;
            STANDARD.decode(text).map_err(|e| {
                header_error("x5c", format!("certificate {index} is not standard base64: {e}"))
            })
        })
        .collect::<Result<_, EnvelopeError>>()
        .map_err(Error::from)
}

/// What the protected header says, after notation's rules.
struct Rules {
    scheme: SigningScheme,
    signing_time: SystemTime,
    expiry: Option<SystemTime>,
    extended: Vec<ExtendedAttribute>,
}

/// notation-core-go `validateProtectedHeaders`, `validateCriticalHeaders` and
/// `validateSignerInfo`, in that order.
fn check_protected(protected: &Map<String, Value>) -> Result<Rules, EnvelopeError> {
    let scheme_name = match protected.get(SIGNING_SCHEME) {
        Some(Value::String(name)) => name,
        Some(_) => return Err(header_error(SIGNING_SCHEME, "is not a string")),
        None => return Err(header_error(SIGNING_SCHEME, "is missing")),
    };
    let scheme = SigningScheme::parse(scheme_name).ok_or_else(|| {
        header_error(SIGNING_SCHEME, format!("unsupported signing scheme {scheme_name:?}"))
    })?;
    let signing_time = time_header(protected, SIGNING_TIME)?;
    let authentic_time = time_header(protected, AUTHENTIC_SIGNING_TIME)?;
    let expiry = time_header(protected, EXPIRY)?;
    match scheme {
        SigningScheme::X509 if authentic_time.is_some() => {
            return Err(header_error(
                AUTHENTIC_SIGNING_TIME,
                format!("must not be present for the {scheme} signing scheme"),
            ));
        }
        SigningScheme::X509SigningAuthority if signing_time.is_some() => {
            return Err(header_error(
                SIGNING_TIME,
                format!("must not be present for the {scheme} signing scheme"),
            ));
        }
        SigningScheme::X509SigningAuthority if authentic_time.is_none() => {
            return Err(header_error(
                AUTHENTIC_SIGNING_TIME,
                format!("must be present for the {scheme} signing scheme"),
            ));
        }
        _ => {}
    }
    let crit = critical_headers(protected)?;
    let mut required = vec![SIGNING_SCHEME];
    if expiry.is_some() {
        required.push(EXPIRY);
    }
    if scheme == SigningScheme::X509SigningAuthority {
        required.push(AUTHENTIC_SIGNING_TIME);
    }
    for name in &crit {
        if let Some(position) = required.iter().position(|r| r == name) {
            required.remove(position);
        } else if NOTARY_HEADERS.contains(&name.as_str()) || !protected.contains_key(name.as_str())
        {
            // Listing signingTime, alg or cty (or a header twice) is an error in notation too.
            return Err(header_error(name, "is marked critical but not present"));
        }
    }
    if let Some(missing) = required.first() {
        return Err(header_error(
            missing,
            format!(
                "is required to be marked critical (missing from crit: {})",
                required.join(", ")
            ),
        ));
    }
    let signing_time = match scheme {
        SigningScheme::X509 => signing_time,
        _ => authentic_time,
    }
    .ok_or_else(|| header_error(scheme.time_header(), "signing time is not present"))?;
    check_expiry_after_signing(EnvelopeFormat::Jws, signing_time, expiry)?;
    let extended = protected
        .iter()
        .filter(|(key, _)| !NOTARY_HEADERS.contains(&key.as_str()))
        .map(|(key, value)| ExtendedAttribute {
            key: key.clone(),
            value: value.clone(),
            critical: crit.contains(key),
        })
        .collect();
    Ok(Rules { scheme, signing_time, expiry, extended })
}

fn critical_headers(protected: &Map<String, Value>) -> Result<Vec<String>, EnvelopeError> {
    let items = match protected.get("crit") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        None | Some(Value::Array(_)) => {
            return Err(header_error("crit", "missing \"crit\" header"));
        }
        Some(_) => return Err(header_error("crit", "is not an array of strings")),
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| header_error("crit", "is not an array of strings"))
        })
        .collect()
}

/// An RFC 3339 time header, if present.
fn time_header(
    protected: &Map<String, Value>,
    name: &str,
) -> Result<Option<SystemTime>, EnvelopeError> {
    let Some(value) = protected.get(name) else {
        return Ok(None);
    };
    let text = value.as_str().ok_or_else(|| header_error(name, "is not an RFC 3339 string"))?;
    parse_rfc3339(text)
        .map(Some)
        .ok_or_else(|| header_error(name, format!("{text:?} is not an RFC 3339 time")))
}

/// Parses RFC 3339 (any offset, optional fraction), as Go's `time.Time` JSON decoding does.
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    // Go's layout wants an upper-case `T` and `Z`; the `time` crate also takes ` `, `t` and `z`.
    let go_shape = text.as_bytes().get(10) == Some(&b'T')
        && text.bytes().all(|b| b.is_ascii_digit() || b"-:.+TZ".contains(&b));
    if !go_shape {
        return None;
    }
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    seconds_to_time(t.unix_timestamp())?
        .checked_add(Duration::from_nanos(u64::from(t.nanosecond())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_with_offsets_and_fractions() {
        let utc = parse_rfc3339("2023-03-14T08:10:02Z").unwrap();
        assert_eq!(parse_rfc3339("2023-03-14T16:10:02+08:00"), Some(utc));
        let fraction = parse_rfc3339("2023-03-14T08:10:02.5Z").unwrap();
        assert_eq!(fraction.duration_since(utc).unwrap(), Duration::from_millis(500));
        for bad in [
            "2023-03-14 08:10:02Z",
            "2023-03-14t08:10:02z",
            "1678781402",
            "",
            "2023-13-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn crit_must_list_scheme_and_expiry_and_nothing_notary_else() {
        let base = |crit: &str, extra: &str| {
            let json = format!(
                r#"{{"alg":"ES256","cty":"{NOTARY_PAYLOAD}","crit":{crit},"io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2023-03-14T08:10:02Z"{extra}}}"#
            );
            check_protected(&parse_object(json.as_bytes()).unwrap())
        };
        assert!(base(r#"["io.cncf.notary.signingScheme"]"#, "").is_ok());
        let rows = [
            (r#"[]"#, "", "missing \"crit\" header"),
            (r#""io.cncf.notary.signingScheme""#, "", "not an array"),
            (r#"["io.cncf.notary.signingScheme",1]"#, "", "not an array"),
            (
                r#"["io.cncf.notary.signingScheme","io.cncf.notary.signingTime"]"#,
                "",
                "io.cncf.notary.signingTime: is marked critical but not present",
            ),
            (r#"["io.cncf.notary.signingScheme","alg"]"#, "", "alg: is marked critical"),
            (
                r#"["io.cncf.notary.signingScheme","io.cncf.notary.signingScheme"]"#,
                "",
                "signingScheme: is marked critical",
            ),
            (r#"["io.cncf.notary.signingScheme","absent"]"#, "", "absent: is marked critical"),
            (
                r#"["io.cncf.notary.signingScheme"]"#,
                r#","io.cncf.notary.expiry":"2099-01-01T00:00:00Z""#,
                "expiry: is required to be marked critical",
            ),
            (
                r#"["io.cncf.notary.expiry"]"#,
                r#","io.cncf.notary.expiry":"2099-01-01T00:00:00Z""#,
                "signingScheme: is required",
            ),
            (
                r#"["io.cncf.notary.signingScheme","io.cncf.notary.expiry"]"#,
                r#","io.cncf.notary.expiry":"2023-03-14T08:10:02Z""#,
                "is not after the signing time",
            ),
            (
                r#"["io.cncf.notary.signingScheme"]"#,
                r#","io.cncf.notary.authenticSigningTime":"2023-03-14T08:10:02Z""#,
                "must not be present",
            ),
        ];
        for (crit, extra, needle) in rows {
            let err = base(crit, extra).err().unwrap_or_else(|| panic!("{crit} {extra} accepted"));
            assert!(
                matches!(
                    err,
                    EnvelopeError::Header { .. } | EnvelopeError::ExpiryNotAfterSigningTime { .. }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains(needle), "{crit} {extra}: {err}");
        }
    }

    #[test]
    fn extended_attributes_carry_their_critical_flag() {
        let json = format!(
            r#"{{"alg":"ES256","cty":"{NOTARY_PAYLOAD}","crit":["io.cncf.notary.signingScheme","k1"],"io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2023-03-14T08:10:02Z","k1":"v1","k2":{{"n":1}}}}"#
        );
        let rules = check_protected(&parse_object(json.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            rules.extended,
            vec![
                ExtendedAttribute::new("k1", "v1", true),
                ExtendedAttribute::new("k2", serde_json::json!({"n": 1}), false)
            ]
        );
    }
}
