//! JSON the way Go's `encoding/json` writes and reads it, for byte-exact cosign payloads and
//! manifests.
//!
//! Writing is `sig_core`'s `gojson` (the same writer notation's payloads use): compact, struct
//! fields in declaration order, map keys sorted bytewise (use `BTreeMap`), Go's escaping.
//!
//! Reading: [`GoValue`] keeps object members in document order, so callers can apply Go's rules
//! for struct fields: keys match case-insensitively and the last match wins.

use core::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
pub(crate) use sig_core::__private::gojson::to_vec;

/// A parsed JSON value with object members in document order (duplicates kept).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GoValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Self>),
    Object(Vec<(String, Self)>),
}

impl GoValue {
    /// Go's name for the JSON type, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "bool",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }

    /// The member Go's `json.Unmarshal` would decode into a struct field named `name`: keys
    /// compare case-insensitively (Unicode simple folding) and the last matching member wins.
    pub(crate) fn field(&self, name: &str) -> Option<&Self> {
        let Self::Object(members) = self else {
            return None;
        };
        members.iter().rev().find(|(k, _)| fold_eq(k, name)).map(|(_, v)| v)
    }

    /// The object as a Go `map[string]interface{}`: exact keys, the last duplicate wins, sorted.
    pub(crate) fn to_map(&self) -> Option<std::collections::BTreeMap<String, Self>> {
        let Self::Object(members) = self else {
            return None;
        };
        Some(members.iter().cloned().collect())
    }
}

impl Serialize for GoValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Array(items) => items.serialize(serializer),
            // Go re-marshals a decoded object as a map: sorted keys, last duplicate wins.
            Self::Object(_) => self.to_map().unwrap_or_default().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for GoValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GoValueVisitor)
    }
}

struct GoValueVisitor;

impl<'de> Visitor<'de> for GoValueVisitor {
    type Value = GoValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<GoValue, E> {
        Ok(GoValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<GoValue, E> {
        Ok(GoValue::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<GoValue, E> {
        Ok(GoValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<GoValue, E> {
        Ok(GoValue::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<GoValue, E> {
        Ok(GoValue::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<GoValue, E> {
        serde_json::Number::from_f64(v)
            .map(GoValue::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<GoValue, E> {
        Ok(GoValue::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<GoValue, E> {
        Ok(GoValue::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GoValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(GoValue::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GoValue, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, GoValue>()? {
            members.push((k, v));
        }
        Ok(GoValue::Object(members))
    }
}

/// Go's `strings.EqualFold`-style comparison used for struct field names: simple Unicode case
/// folding, so `"Critical"`, `"CRITICAL"` and `"critical"` match, and so does the Kelvin sign
/// for `k` and the long s for `s`.
fn fold_eq(a: &str, b: &str) -> bool {
    let fold = |c: char| -> char {
        match c {
            '\u{212a}' => 'k',
            '\u{17f}' => 's',
            _ => {
                let mut lower = c.to_lowercase();
                match (lower.next(), lower.next()) {
                    (Some(l), None) => l,
                    _ => c,
                }
            }
        }
    };
    a.chars().map(fold).eq(b.chars().map(fold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lookup_is_case_insensitive_and_last_wins() {
        let v: GoValue =
            serde_json::from_str(r#"{"Image":1,"image":2,"IMAGE":3,"other":4}"#).unwrap();
        assert_eq!(v.field("image"), Some(&GoValue::Number(3.into())));
        assert_eq!(v.field("missing"), None);
        let k: GoValue = serde_json::from_str("{\"\u{212a}ey\":1}").unwrap();
        assert!(k.field("key").is_some());
    }

    #[test]
    fn objects_re_marshal_as_sorted_maps() {
        let v: GoValue = serde_json::from_str(r#"{"b":1,"a":[true,null],"b":"<"}"#).unwrap();
        assert_eq!(to_vec(&v), br#"{"a":[true,null],"b":"\u003c"}"#);
    }
}
