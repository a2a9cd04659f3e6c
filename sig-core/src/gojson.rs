//! JSON text exactly as Go's `encoding/json` `Marshal` writes it, for the bytes that notation and
//! cosign sign.
//!
//! Go writes compact JSON, struct fields in declaration order, map keys sorted bytewise, `<`, `>`,
//! `&`, U+2028 and U+2029 escaped as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`, control
//! characters as `\b \f \n \r \t` (Go ≥ 1.22) or `\u00XX` (lowercase hex), `/` and DEL as they
//! are, and numbers that went through `interface{}` as float64 (`481`, `1.5`, `1e+21`).
//! `serde_json` writes everything but the five HTML and line-separator escapes the same way, so
//! [`GoFormatter`] adds those and [`to_vec`] serialises any `Serialize` type with it (use
//! `BTreeMap` for maps); [`write_value`] writes a `serde_json::Value` with Go's float64 numbers
//! and sorted keys, as Go re-marshals a decoded `interface{}`.

use std::io;

use serde::Serialize;
use serde_json::Value;

/// A `serde_json` formatter that adds Go's HTML-safe and line-separator escapes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Serialises `value` as Go's `json.Marshal` would. Empty when `value`'s `Serialize` fails
/// (plain structs, strings and string maps never do).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    if value.serialize(&mut ser).is_err() {
        out.clear();
    }
    out
}

/// Appends `s` as a Go JSON string literal (with HTML escaping, as `json.Marshal` does).
pub(crate) fn write_string(out: &mut String, s: &str) {
    // A `str` always serialises, and to UTF-8.
    out.push_str(&String::from_utf8(to_vec(s)).unwrap_or_default());
}

/// A float64 as Go's `encoding/json` writes it: shortest round-trip digits, plain notation for
/// `1e-6 <= |f| < 1e21`, otherwise exponent form with a signed exponent (`1e+21`, `1e-7`).
/// `None` for NaN and infinities, which Go refuses to encode.
pub(crate) fn format_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return Some(format!("{f}"));
    }
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e')?;
    let exponent: i32 = exponent.parse().ok()?;
    Some(if exponent < 0 {
        format!("{mantissa}e-{}", exponent.unsigned_abs())
    } else {
        format!("{mantissa}e+{exponent:02}")
    })
}

/// Appends `value` as Go writes a value decoded into `interface{}`: objects with sorted keys,
/// numbers as float64.
///
/// # Errors
///
/// A number Go cannot represent as a finite float64.
pub(crate) fn write_value(out: &mut String, value: &Value) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let text = n
                .as_f64()
                .and_then(format_float)
                .ok_or_else(|| format!("number {n} is not a finite float64"))?;
            out.push_str(&text);
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map order depends on its `preserve_order` feature.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Re-encodes a JSON object the way notation-core-go does for a JWS payload: decoded into a Go
/// map (`jwt.MapClaims`) and marshalled again.
///
/// # Errors
///
/// Input that is not a JSON object, or holds a number Go cannot encode.
pub(crate) fn remarshal_object(json: &[u8]) -> Result<Vec<u8>, String> {
    let value: Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("the payload is not a JSON object".to_owned());
    }
    let mut out = String::with_capacity(json.len());
    write_value(&mut out, &value)?;
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, s);
        out
    }

    #[test]
    fn escapes_like_go_json_marshal() {
        // Expected values are Go 1.23 `json.Marshal` output.
        let rows = [
            ("plain", r#""plain""#),
            ("a<b>&c", r#""a\u003cb\u003e\u0026c""#),
            ("q\"b\\s/", r#""q\"b\\s/""#),
            ("\u{8}\u{c}\n\r\t", r#""\b\f\n\r\t""#),
            ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\u{7f}\""),
            ("\u{2028}\u{2029}é☃", "\"\\u2028\\u2029é☃\""),
        ];
        for (input, expected) in rows {
            assert_eq!(string(input), expected, "{input:?}");
        }
    }

    #[test]
    fn to_vec_escapes_and_sorts_like_go() {
        let value = "<a&b> \u{2028}\u{2029} / \u{7f} \" \\ \n\r\t\u{8}\u{c}\u{1} é";
        let out = String::from_utf8(to_vec(value)).unwrap();
        assert_eq!(
            out,
            r#""\u003ca\u0026b\u003e \u2028\u2029 / "#.to_owned()
                + "\u{7f}"
                + r#" \" \\ \n\r\t\b\f\u0001 é""#
        );
        let map: std::collections::BTreeMap<&str, &str> =
            [("b", "1"), ("B", "2"), ("a", "3"), ("é", "4")].into();
        assert_eq!(
            String::from_utf8(to_vec(&map)).unwrap(),
            r#"{"B":"2","a":"3","b":"1","é":"4"}"#
        );
    }

    #[test]
    fn floats_like_go() {
        let rows: [(f64, &str); 10] = [
            (481.0, "481"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1.5, "1.5"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.25e300, "1.25e+300"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (-2.5e-10, "-2.5e-10"),
        ];
        for (f, expected) in rows {
            assert_eq!(format_float(f).as_deref(), Some(expected), "{f}");
        }
        assert_eq!(format_float(f64::NAN), None);
    }

    #[test]
    fn remarshal_sorts_keys_recursively() {
        let out = remarshal_object(br#"{"b":{"z":1,"a":[true,null]},"a":"x<"}"#).unwrap();
        assert_eq!(out, br#"{"a":"x\u003c","b":{"a":[true,null],"z":1}}"#);
        assert!(remarshal_object(b"[1]").is_err());
        assert!(remarshal_object(b"{").is_err());
    }
}
