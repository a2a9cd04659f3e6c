//! Lowercase hexadecimal, for digests and thumbprints.

/// Lowercase hex of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Decodes hex (either case, surrounding whitespace ignored; only `[0-9a-fA-F]` between).
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    if !text.is_ascii() {
        return Err("non-ASCII characters".to_owned());
    }
    if let Some(i) = text.bytes().position(|b| !b.is_ascii_hexdigit()) {
        let c = text[i..].chars().next().unwrap_or_default();
        return Err(format!("{c:?} at offset {i} is not a hex digit"));
    }
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", text.len()));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&text[i..i + 2], 16)
                .map_err(|_| format!("invalid hex digit near offset {i}"))
        })
        .collect()
}
