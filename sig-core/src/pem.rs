//! PEM bundles: every `-----BEGIN X-----` … `-----END X-----` block in a text, in order.
//!
//! Each block is decoded with `pem-rfc7468` (strict base64); text between blocks, such as the
//! `openssl x509 -text` dump, is ignored.

/// One decoded PEM block.
#[derive(Debug)]
pub struct PemBlock {
    /// The label of the `-----BEGIN <label>-----` line.
    pub label: String,
    /// The decoded bytes, or why the block does not decode.
    pub der: Result<Vec<u8>, String>,
}

/// Whether `bytes` look like PEM rather than DER.
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The PEM blocks of `text`, in order. A block whose base64 is damaged is returned with an error,
/// so callers can name it.
pub fn blocks(text: &[u8]) -> Vec<PemBlock> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = &rest[start + 11..];
        let Some(label_end) = after_begin.find("-----") else {
            break;
        };
        let label = after_begin[..label_end].to_owned();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            out.push(PemBlock { label, der: Err(format!("missing {end_marker:?}")) });
            break;
        };
        let block = &rest[start..start + end + end_marker.len()];
        let der = pem_rfc7468::decode_vec(block.as_bytes())
            .map(|(_, der)| der)
            .map_err(|e| e.to_string());
        out.push(PemBlock { label, der });
        rest = &rest[start + end + end_marker.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_between_text() {
        let text = b"junk\n-----BEGIN A-----\nAQID\n-----END A-----\nmore\n-----BEGIN B-----\nBA==\n-----END B-----\n";
        let blocks = blocks(text);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(blocks[0].der.as_deref().unwrap(), &[1, 2, 3]);
        assert_eq!(blocks[1].label, "B");
        assert_eq!(blocks[1].der.as_deref().unwrap(), &[4]);
    }

    #[test]
    fn reports_unterminated_block() {
        let blocks = blocks(b"-----BEGIN CERTIFICATE-----\nAQID\n");
        assert_eq!(blocks.len(), 1);
        assert!(blocks[0].der.as_ref().unwrap_err().contains("END CERTIFICATE"));
    }
}
