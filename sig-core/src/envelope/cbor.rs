//! A CBOR well-formedness check run before decoding (RFC 8949 §3).
//!
//! go-cose decodes with indefinite lengths forbidden; ciborium accepts them. This scan rejects
//! what notation rejects before any value is built: indefinite-length items, reserved additional
//! information, truncation, trailing bytes, and nesting deeper than [`MAX_DEPTH`]. It allocates
//! nothing, so a hostile length field costs nothing.

/// Deepest nesting of arrays, maps and tags accepted. A Notary envelope needs 5.
pub(super) const MAX_DEPTH: usize = 32;

/// Checks that `bytes` are exactly one well-formed CBOR item with definite lengths.
///
/// # Errors
///
/// What is wrong and at which byte offset.
pub(super) fn check(bytes: &[u8]) -> Result<(), String> {
    let mut reader = Reader { bytes, pos: 0 };
    reader.item(0)?;
    if reader.pos != bytes.len() {
        return Err(format!("{} trailing bytes after the CBOR item", bytes.len() - reader.pos));
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: u64) -> Result<&[u8], String> {
        let start = self.pos;
        let bytes = self.bytes;
        let slice = usize::try_from(n)
            .ok()
            .and_then(|n| start.checked_add(n))
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| format!("truncated CBOR: {n} bytes needed at offset {start}"))?;
        self.pos = start + slice.len();
        Ok(slice)
    }

    /// The argument of the head at the current position: (major type, argument).
    fn head(&mut self) -> Result<(u8, u64), String> {
        let offset = self.pos;
        let initial = *self.take(1)?.first().ok_or("truncated CBOR")?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let width = match info {
            0..=23 => return Ok((major, u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => {
                return Err(format!(
                    "indefinite-length or break byte 0x{initial:02x} at offset {offset}; Notary COSE envelopes use definite lengths only"
                ));
            }
            _ => {
                return Err(format!(
                    "reserved CBOR additional information {info} at offset {offset}"
                ));
            }
        };
        let argument = self.take(width)?.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Ok((major, argument))
    }

    fn item(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("CBOR nested deeper than {MAX_DEPTH} levels"));
        }
        let (major, argument) = self.head()?;
        match major {
            // Unsigned and negative integers, simple values and floats: the head is all.
            0 | 1 | 7 => Ok(()),
            // Byte and text strings.
            2 | 3 => self.take(argument).map(|_| ()),
            // Arrays: every element is at least one byte, so a huge count fails at the end.
            4 => (0..argument).try_for_each(|_| self.item(depth + 1)),
            // Maps: key and value per entry.
            5 => (0..argument).try_for_each(|_| {
                self.item(depth + 1)?;
                self.item(depth + 1)
            }),
            // Tags: one item.
            _ => self.item(depth + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_definite_items() {
        for hex in [
            "00",
            "1903e8",
            "6161",
            "83010203",
            "a1016161",
            "c11a6305c2c4",
            "d28440a0f640",
            "f93c00",
        ] {
            let bytes = crate::hex::decode(hex).unwrap();
            assert_eq!(check(&bytes), Ok(()), "{hex}");
        }
    }

    #[test]
    fn rejects_what_go_cose_rejects() {
        let rows = [
            ("9f01ff", "indefinite-length"),
            ("bf0101ff", "indefinite-length"),
            ("5f4101ff", "indefinite-length"),
            ("ff", "break byte"),
            ("1c", "reserved"),
            ("1a0102", "truncated"),
            ("5bffffffffffffffff", "truncated"),
            ("9bffffffffffffffff", "truncated"),
            ("0000", "trailing"),
            ("", "truncated"),
        ];
        for (hex, needle) in rows {
            let bytes = crate::hex::decode(hex).unwrap();
            let err = check(&bytes).unwrap_err();
            assert!(err.contains(needle), "{hex}: {err}");
        }
    }

    #[test]
    fn bounds_nesting_depth() {
        let deep = vec![0x81u8; 40].into_iter().chain([0x00]).collect::<Vec<_>>();
        assert!(check(&deep).unwrap_err().contains("deeper"));
        let shallow = vec![0x81u8; 20].into_iter().chain([0x00]).collect::<Vec<_>>();
        assert_eq!(check(&shallow), Ok(()));
    }
}
