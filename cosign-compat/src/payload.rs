//! The simple-signing payload: what `cosign generate` prints and what cosign signs.
//!
//! Byte-exact with sigstore/sigstore `pkg/signature/payload` (`json.Marshal` of
//! `SimpleContainerImage`):
//!
//! ```text
//! {"critical":{"identity":{"docker-reference":"<registry>/<repository>"},
//!              "image":{"docker-manifest-digest":"sha256:<hex>"},
//!              "type":"cosign container image signature"},
//!  "optional":null | {"<key>":"<value>",...}}
//! ```
//!
//! (one line, no spaces, no trailing newline; `optional` keys sorted bytewise; Go's escaping of
//! `<`, `>`, `&`, U+2028 and U+2029). Verification reads the payload the way cosign does (Go's
//! `json.Unmarshal`: case-insensitive member names, the last duplicate wins, unknown members
//! ignored) and checks only `critical.image.docker-manifest-digest` and, when asked, string values
//! in `optional` (cosign `SimpleClaimVerifier`). The `docker-reference` is not checked, as in
//! cosign, Kyverno and sigstore-rs.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::PayloadError;
use crate::go_json::{self, GoValue};
use crate::media_type::SIGNATURE_TYPE;
use crate::reference::{Digest, Repository};

/// Largest payload blob read when verifying (1 MiB).
pub const MAX_PAYLOAD_LEN: usize = 1 << 20;

/// `-a key=value` annotations: string values, keys sorted bytewise.
pub type Annotations = BTreeMap<String, String>;

/// Parses `-a` flag values as cosign does: pflag's `StringSlice` splits each value as one CSV
/// record (`a=1,b=2` is two annotations, `"k=a,b"` one), then each field is split at its first
/// `=`. Later keys replace earlier ones.
///
/// # Errors
///
/// [`PayloadError::Annotation`] for a field without `=` or a malformed CSV quote.
pub fn parse_annotations<I, S>(flags: I) -> Result<Annotations, PayloadError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Annotations::new();
    for flag in flags {
        let flag = flag.as_ref();
        for field in split_csv_record(flag)? {
            let Some((key, value)) = field.split_once('=') else {
                return Err(PayloadError::Annotation {
                    flag: field,
                    reason: "expected key=value (a comma separates annotations; quote the whole flag value as \"k=a,b\" to keep one)",
                });
            };
            out.insert(key.to_owned(), value.to_owned());
        }
    }
    Ok(out)
}

/// The first record of `text` as Go's `encoding/csv` reads it (default options): fields split
/// at `,`, a field that starts with `"` is quoted (`""` is a literal quote), empty leading lines
/// are skipped, an unquoted newline ends the record.
fn split_csv_record(text: &str) -> Result<Vec<String>, PayloadError> {
    let bad = |reason| PayloadError::Annotation { flag: text.to_owned(), reason };
    let text = text.trim_start_matches(['\n', '\r']);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(bad("extraneous or missing \" in quoted-field")),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None | Some('\n') => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some('\r') if matches!(chars.peek(), None | Some('\n')) => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err(bad("extraneous or missing \" in quoted-field")),
            }
        } else {
            loop {
                match chars.next() {
                    None | Some('\n') => {
                        fields.push(field.strip_suffix('\r').unwrap_or(&field).to_owned());
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(field);
                        break;
                    }
                    Some('"') => return Err(bad("bare \" in non-quoted-field")),
                    Some(c) => field.push(c),
                }
            }
        }
    }
}

/// The payload `cosign generate` writes for one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleSigningPayload {
    docker_reference: String,
    digest: Digest,
    annotations: Annotations,
}

impl SimpleSigningPayload {
    /// The payload for `digest` in `repository`, without annotations.
    pub fn new(repository: &Repository, digest: Digest) -> Self {
        Self { docker_reference: repository.name(), digest, annotations: Annotations::new() }
    }

    /// Sets the `optional` annotations (`-a key=value`).
    #[must_use]
    pub fn with_annotations(mut self, annotations: Annotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// The signed image digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The bytes, exactly as `cosign generate` prints them (no trailing newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        go_json::to_vec(&PayloadOut {
            critical: CriticalOut {
                identity: IdentityOut { docker_reference: &self.docker_reference },
                image: ImageOut { docker_manifest_digest: self.digest.as_str() },
                kind: SIGNATURE_TYPE,
            },
            // Go: no annotations => nil map => null.
            optional: (!self.annotations.is_empty()).then_some(&self.annotations),
        })
    }
}

#[derive(Serialize)]
struct PayloadOut<'a, O: Serialize> {
    critical: CriticalOut<'a>,
    optional: Option<&'a O>,
}

#[derive(Serialize)]
struct CriticalOut<'a> {
    identity: IdentityOut<'a>,
    image: ImageOut<'a>,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct IdentityOut<'a> {
    #[serde(rename = "docker-reference")]
    docker_reference: &'a str,
}

#[derive(Serialize)]
struct ImageOut<'a> {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: &'a str,
}

/// A payload read back for verification, with Go's `json.Unmarshal` semantics.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedPayload {
    docker_reference: String,
    digest: String,
    kind: String,
    optional: Option<BTreeMap<String, GoValue>>,
}

impl ParsedPayload {
    /// Parses `bytes` as cosign would.
    ///
    /// # Errors
    ///
    /// [`PayloadError::TooLarge`] past [`MAX_PAYLOAD_LEN`], [`PayloadError::Json`] for invalid
    /// JSON, [`PayloadError::FieldType`] where Go's decoder would report a type mismatch.
    pub fn parse(bytes: &[u8]) -> Result<Self, PayloadError> {
        if bytes.len() > MAX_PAYLOAD_LEN {
            return Err(PayloadError::TooLarge { size: bytes.len(), max: MAX_PAYLOAD_LEN });
        }
        let root: GoValue = serde_json::from_slice(bytes).map_err(PayloadError::Json)?;
        let object = |value: Option<&GoValue>, field: &'static str| match value {
            None | Some(GoValue::Null) => Ok(None),
            Some(v @ GoValue::Object(_)) => Ok(Some(v.clone())),
            Some(other) => {
                Err(PayloadError::FieldType { field, expected: "object", found: other.type_name() })
            }
        };
        let string = |value: Option<&GoValue>, field: &'static str| match value {
            None | Some(GoValue::Null) => Ok(String::new()),
            Some(GoValue::String(s)) => Ok(s.clone()),
            Some(other) => {
                Err(PayloadError::FieldType { field, expected: "string", found: other.type_name() })
            }
        };
        let root = object(Some(&root), "(payload)")?;
        let critical = object(root.as_ref().and_then(|r| r.field("critical")), "critical")?;
        let identity =
            object(critical.as_ref().and_then(|c| c.field("identity")), "critical.identity")?;
        let image = object(critical.as_ref().and_then(|c| c.field("image")), "critical.image")?;
        let docker_reference = string(
            identity.as_ref().and_then(|i| i.field("docker-reference")),
            "critical.identity.docker-reference",
        )?;
        let digest = string(
            image.as_ref().and_then(|i| i.field("docker-manifest-digest")),
            "critical.image.docker-manifest-digest",
        )?;
        let kind = string(critical.as_ref().and_then(|c| c.field("type")), "critical.type")?;
        let optional = object(root.as_ref().and_then(|r| r.field("optional")), "optional")?
            .and_then(|o| o.to_map());
        Ok(Self { docker_reference, digest, kind, optional })
    }

    /// `critical.identity.docker-reference` (`""` when absent).
    pub fn docker_reference(&self) -> &str {
        &self.docker_reference
    }

    /// `critical.image.docker-manifest-digest` (`""` when absent).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// `critical.type` (`""` when absent).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The string-valued members of `optional`.
    pub fn annotations(&self) -> Annotations {
        self.optional
            .iter()
            .flatten()
            .filter_map(|(k, v)| match v {
                GoValue::String(s) => Some((k.clone(), s.clone())),
                _ => None,
            })
            .collect()
    }

    /// cosign's claim check: the digest must be `image`'s, and every wanted annotation must be a
    /// string equal to the wanted value (keys compared exactly, as Go map lookups do).
    ///
    /// # Errors
    ///
    /// [`PayloadError::DigestMismatch`] or [`PayloadError::AnnotationMismatch`].
    pub fn check(&self, image: &Digest, wanted: &Annotations) -> Result<(), PayloadError> {
        if self.digest != image.as_str() {
            return Err(PayloadError::DigestMismatch {
                expected: image.to_string(),
                found: (!self.digest.is_empty()).then(|| self.digest.clone()),
            });
        }
        for (key, value) in wanted {
            let found = self.optional.as_ref().and_then(|o| o.get(key));
            if found != Some(&GoValue::String(value.clone())) {
                return Err(PayloadError::AnnotationMismatch {
                    key: key.clone(),
                    expected: value.clone(),
                    found: found.map(|f| String::from_utf8_lossy(&go_json::to_vec(f)).into_owned()),
                });
            }
        }
        Ok(())
    }

    /// The payload re-marshalled as cosign prints it in `cosign verify` output, with `extra`
    /// members added to `optional` (creating it when it is null).
    pub(crate) fn to_output(&self, extra: &BTreeMap<String, String>) -> Vec<u8> {
        let mut optional = self.optional.clone();
        if !extra.is_empty() {
            let map = optional.get_or_insert_with(BTreeMap::new);
            for (k, v) in extra {
                map.insert(k.clone(), GoValue::String(v.clone()));
            }
        }
        go_json::to_vec(&PayloadOut {
            critical: CriticalOut {
                identity: IdentityOut { docker_reference: &self.docker_reference },
                image: ImageOut { docker_manifest_digest: &self.digest },
                kind: &self.kind,
            },
            optional: optional.as_ref(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

    fn payload(annotations: &[(&str, &str)]) -> Vec<u8> {
        let repo = Repository::parse("127.0.0.1:5000/app").unwrap();
        let a = annotations.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        SimpleSigningPayload::new(&repo, Digest::new(D).unwrap()).with_annotations(a).to_bytes()
    }

    #[test]
    fn no_annotations_is_optional_null() {
        let want = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/app"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        assert_eq!(String::from_utf8(payload(&[])).unwrap(), want);
    }

    #[test]
    fn annotation_flags_follow_pflag_csv() {
        let a =
            parse_annotations(["b=2,a=1", "k=a=b", r#""q=x,y""#, "", r#""say=""hi""""#]).unwrap();
        let got: Vec<_> = a.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(got, ["a=1", "b=2", "k=a=b", "q=x,y", r#"say="hi""#]);
        assert!(parse_annotations(["k=a,b"]).is_err(), "cosign: unable to parse annotation: b");
        assert!(parse_annotations([r#"c=x"y"#]).is_err(), "bare quote");
        assert!(parse_annotations([r#""k=v"x"#]).is_err(), "text after a closing quote");
        assert_eq!(parse_annotations(["k=v\nignored"]).unwrap().len(), 1);
        assert_eq!(parse_annotations(["a=1", "a=2"]).unwrap()["a"], "2");
    }

    #[test]
    fn parses_with_go_semantics() {
        let p = ParsedPayload::parse(
            br#"{"CRITICAL":{"Image":{"Docker-Manifest-Digest":"x"},"image":{"docker-manifest-digest":"sha256:y"}},"extra":1,"optional":{"a":"1","a":"2","n":3}}"#,
        )
        .unwrap();
        assert_eq!(p.digest(), "sha256:y");
        assert_eq!(p.annotations()["a"], "2");
        assert!(!p.annotations().contains_key("n"));
        assert_eq!(p.kind(), "");
    }

    #[test]
    fn rejects_type_mismatches_and_junk() {
        for bad in [
            &br#"{"critical":{"image":{"docker-manifest-digest":1}}}"#[..],
            br#"{"critical":"x"}"#,
            br#"{"optional":"x"}"#,
            br#"[]"#,
            br#"{"critical":{}} trailing"#,
            b"\xff",
        ] {
            assert!(ParsedPayload::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let big = vec![b' '; MAX_PAYLOAD_LEN + 1];
        assert!(matches!(ParsedPayload::parse(&big), Err(PayloadError::TooLarge { .. })));
    }

    #[test]
    fn checks_digest_and_annotations() {
        let bytes = payload(&[("env", "prod"), ("n", "1")]);
        let p = ParsedPayload::parse(&bytes).unwrap();
        let d = Digest::new(D).unwrap();
        let want = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Annotations>()
        };
        p.check(&d, &want(&[])).unwrap();
        p.check(&d, &want(&[("env", "prod")])).unwrap();
        assert!(matches!(
            p.check(&d, &want(&[("env", "dev")])),
            Err(PayloadError::AnnotationMismatch { .. })
        ));
        assert!(p.check(&d, &want(&[("Env", "prod")])).is_err(), "annotation keys are exact");
        let other = Digest::of(b"other");
        assert!(matches!(p.check(&other, &want(&[])), Err(PayloadError::DigestMismatch { .. })));
    }

    #[test]
    fn output_adds_members_to_optional() {
        let p = ParsedPayload::parse(&payload(&[])).unwrap();
        let extra = [("Subject".to_owned(), "a@b".to_owned())].into();
        let out = String::from_utf8(p.to_output(&extra)).unwrap();
        assert!(out.ends_with(r#""optional":{"Subject":"a@b"}}"#), "{out}");
        assert_eq!(p.to_output(&BTreeMap::new()), payload(&[]));
    }
}
