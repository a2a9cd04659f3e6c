//! The Notary signature payload ([`NotaryPayload`]).

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::error::EnvelopeError;
use crate::gojson::write_string;
use crate::oci::Descriptor;

/// The signed payload of a Notary signature: `{"targetArtifact": <OCI descriptor>}`, media type
/// [`NOTARY_PAYLOAD`](crate::media_type::NOTARY_PAYLOAD).
///
/// notation writes the payload with Go's `encoding/json`, and the two envelope formats end up
/// with different bytes for the same descriptor:
///
/// ```text
/// JWS  (re-marshalled from a Go map, keys sorted):
///   {"targetArtifact":{"annotations":{"k":"v"},"digest":"sha256:…","mediaType":"…","size":481}}
/// COSE (json.Marshal of the struct, OCI field order):
///   {"targetArtifact":{"mediaType":"…","digest":"sha256:…","size":481,"annotations":{"k":"v"}}}
/// ```
///
/// [`NotaryPayload::to_json`] and [`NotaryPayload::to_json_in_field_order`] write exactly these
/// bytes (Go's string escaping included); [`NotaryPayload::from_json`] parses strictly, as notation
/// does when it checks a payload: unknown keys are rejected.
/// ([Signature specification, "Payload"](https://github.com/notaryproject/specifications/blob/main/specs/signature-specification.md#payload).)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NotaryPayload {
    /// The signed artifact.
    pub target_artifact: Descriptor,
}

impl NotaryPayload {
    /// The payload for `target_artifact`.
    pub fn new(target_artifact: Descriptor) -> Self {
        Self { target_artifact }
    }

    /// The payload as notation writes it into a JWS envelope: every object's keys sorted
    /// (`annotations`, `digest`, `mediaType`, `size`), Go string escaping, no whitespace.
    ///
    /// (notation's JWS path turns `size` into a float64; for sizes above 2^53 it would write a
    /// rounded number, which no real artifact reaches.)
    pub fn to_json(&self) -> Vec<u8> {
        let d = &self.target_artifact;
        let mut out = String::with_capacity(160);
        out.push_str(r#"{"targetArtifact":{"#);
        if let Some(annotations) = present(&d.annotations) {
            out.push_str(r#""annotations":"#);
            write_annotations(&mut out, annotations);
            out.push(',');
        }
        out.push_str(r#""digest":"#);
        write_string(&mut out, &d.digest);
        out.push_str(r#","mediaType":"#);
        write_string(&mut out, &d.media_type);
        out.push_str(&format!(r#","size":{}}}}}"#, d.size));
        out.into_bytes()
    }

    /// The payload as notation-go marshals its `Payload` struct: descriptor fields in OCI order
    /// (`mediaType`, `digest`, `size`, `annotations`). notation embeds these bytes verbatim in
    /// COSE envelopes.
    pub fn to_json_in_field_order(&self) -> Vec<u8> {
        let d = &self.target_artifact;
        let mut out = String::with_capacity(160);
        out.push_str(r#"{"targetArtifact":{"mediaType":"#);
        write_string(&mut out, &d.media_type);
        out.push_str(r#","digest":"#);
        write_string(&mut out, &d.digest);
        out.push_str(&format!(r#","size":{}"#, d.size));
        if let Some(annotations) = present(&d.annotations) {
            out.push_str(r#","annotations":"#);
            write_annotations(&mut out, annotations);
        }
        out.push_str("}}");
        out.into_bytes()
    }

    /// Parses a payload strictly: a JSON object with exactly `targetArtifact`, whose keys are
    /// among `mediaType`, `digest`, `size`, `urls`, `annotations`, `data`, `platform` and
    /// `artifactType` (the last four are dropped). Duplicate keys are rejected.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::Payload`] naming what is wrong.
    pub fn from_json(json: &[u8]) -> Result<Self, EnvelopeError> {
        let wire: WirePayload = serde_json::from_slice(json)
            .map_err(|e| EnvelopeError::Payload(format!("not a Notary payload v1: {e}")))?;
        let d = wire.target_artifact;
        Ok(Self {
            target_artifact: Descriptor::new(d.media_type, d.digest, d.size)
                .with_annotations(d.annotations.unwrap_or_default()),
        })
    }
}

/// The annotations when there are any: notation omits an empty map.
fn present(annotations: &BTreeMap<String, String>) -> Option<&BTreeMap<String, String>> {
    (!annotations.is_empty()).then_some(annotations)
}

fn write_annotations(out: &mut String, annotations: &BTreeMap<String, String>) {
    // A BTreeMap<String, _> serialises in bytewise key order, as Go sorts map keys.
    out.push_str(&String::from_utf8_lossy(&crate::gojson::to_vec(annotations)));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WirePayload {
    target_artifact: WireDescriptor,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireDescriptor {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "urls")]
    _urls: Option<Vec<String>>,
    #[serde(default, rename = "data")]
    _data: Option<String>,
    #[serde(default, rename = "platform")]
    _platform: Option<IgnoredAny>,
    #[serde(default, rename = "artifactType")]
    _artifact_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";

    fn image() -> Descriptor {
        Descriptor::new("application/vnd.oci.image.manifest.v1+json", DIGEST, 481)
    }

    #[test]
    fn jws_payload_has_sorted_keys_and_omits_absent_annotations() {
        // The payload of notation-go internal/testdata/jws_signature.sig.
        let expected = format!(
            r#"{{"targetArtifact":{{"digest":"{DIGEST}","mediaType":"application/vnd.oci.image.manifest.v1+json","size":481}}}}"#
        );
        assert_eq!(NotaryPayload::new(image()).to_json(), expected.as_bytes());
        let empty = image().with_annotations(BTreeMap::new());
        assert_eq!(NotaryPayload::new(empty).to_json(), expected.as_bytes());
    }

    #[test]
    fn jws_payload_sorts_annotations_and_escapes_like_go() {
        let d = image().annotation("z", "1").annotation("a&b", "<x>");
        let json = String::from_utf8(NotaryPayload::new(d).to_json()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"targetArtifact":{{"annotations":{{"a\u0026b":"\u003cx\u003e","z":"1"}},"digest":"{DIGEST}","mediaType":"application/vnd.oci.image.manifest.v1+json","size":481}}}}"#
            )
        );
    }

    #[test]
    fn cose_payload_keeps_oci_field_order() {
        let d = image().annotation("k", "v");
        let json = String::from_utf8(NotaryPayload::new(d).to_json_in_field_order()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"targetArtifact":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{DIGEST}","size":481,"annotations":{{"k":"v"}}}}}}"#
            )
        );
    }

    #[test]
    fn both_encodings_parse_back() {
        let payload = NotaryPayload::new(image().annotation("k", "v"));
        assert_eq!(NotaryPayload::from_json(&payload.to_json()).unwrap(), payload);
        assert_eq!(NotaryPayload::from_json(&payload.to_json_in_field_order()).unwrap(), payload);
        let parsed: NotaryPayload = serde_json::from_slice(&payload.to_json()).unwrap();
        assert_eq!(parsed, payload);
    }

    #[test]
    fn accepts_and_drops_the_other_oci_descriptor_fields() {
        let json = format!(
            r#"{{"targetArtifact":{{"mediaType":"m","digest":"{DIGEST}","size":1,"urls":["https://x"],"data":"e30=","platform":{{"os":"linux"}},"artifactType":"a"}}}}"#
        );
        let parsed = NotaryPayload::from_json(json.as_bytes()).unwrap();
        assert_eq!(parsed.target_artifact, Descriptor::new("m", DIGEST, 1));
    }

    #[test]
    fn rejects_unknown_keys_duplicates_and_wrong_types() {
        let rows = [
            (r#"{"targetArtifact":{"mediaType":"m","digest":"d","size":1,"extra":1}}"#, "extra"),
            (r#"{"targetArtifact":{"mediaType":"m","digest":"d","size":1},"x":1}"#, "`x`"),
            (r#"{"targetArtifact":{"mediaType":"m","digest":"d","size":1,"size":2}}"#, "duplicate"),
            (r#"{"targetArtifact":{"mediaType":"m","digest":"d","size":-1}}"#, "-1"),
            (r#"{"targetArtifact":{"mediaType":"m","digest":"d","size":1.5}}"#, "1.5"),
            (r#"{"targetArtifact":{"mediaType":"m","size":1}}"#, "digest"),
            (r#"["targetArtifact"]"#, "expected"),
            ("", "EOF"),
        ];
        for (json, needle) in rows {
            let err = NotaryPayload::from_json(json.as_bytes()).unwrap_err();
            assert!(matches!(err, EnvelopeError::Payload(_)), "{json}: {err:?}");
            assert!(err.to_string().contains(needle), "{json}: {err}");
        }
    }
}
