//! Strict JSON for signed headers: duplicate object keys are an error at every depth.
//!
//! Go keeps the last of duplicate keys and `serde_json::Value` does the same, so a header such as
//! `{"alg":"PS256","alg":"none"}` would mean different things to different readers. Rejecting
//! duplicates removes the ambiguity; notation never writes them.

use core::fmt;

use serde::Deserializer;
use serde::de::{self, Deserialize, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON value whose objects have no duplicate keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let Strict(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// Parses `bytes` as one JSON object without duplicate keys at any depth.
///
/// # Errors
///
/// The parse error, or `"not a JSON object"`.
pub(super) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let Strict(value) = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err("not a JSON object".to_owned()),
    }
}

/// Looks `key` up the way Go's `encoding/json` matches struct fields: the exact key, else a key
/// equal to it ignoring ASCII case (notation-go fixtures spell `io.cncf.notary.SigningAgent`).
pub(super) fn get_field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key)
        .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, value)| value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        assert!(parse_object(br#"{"a":1,"b":{"c":[{"d":1}]}}"#).is_ok());
        let err = parse_object(br#"{"alg":"PS256","alg":"none"}"#).unwrap_err();
        assert!(err.contains("duplicate key \"alg\""), "{err}");
        let err = parse_object(br#"{"h":{"x5c":[],"x5c":[]}}"#).unwrap_err();
        assert!(err.contains("duplicate key \"x5c\""), "{err}");
        assert_eq!(parse_object(b"[]").unwrap_err(), "not a JSON object");
    }

    #[test]
    fn field_lookup_prefers_exact_then_ignores_case() {
        let map = parse_object(br#"{"io.cncf.notary.SigningAgent":"a","x5c":1,"X5C":2}"#).unwrap();
        assert_eq!(get_field(&map, "io.cncf.notary.signingAgent"), Some(&Value::from("a")));
        assert_eq!(get_field(&map, "x5c"), Some(&Value::from(1)));
        assert_eq!(get_field(&map, "missing"), None);
    }
}
