//! ECDSA signature encodings: IEEE P1363 `r || s` (JWS, COSE, Notation) and ASN.1 DER
//! `SEQUENCE { INTEGER r, INTEGER s }` (X.509, OpenSSL, most HSMs and KMSs, cosign).

use der::asn1::UintRef;
use der::{Decode, Encode};

use crate::algorithm::KeySpec;
use crate::error::SignError;

#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// Converts an ASN.1 DER ECDSA signature to fixed-width `r || s` for `spec`.
///
/// # Errors
///
/// [`SignError::MalformedEcdsa`] if the input is not DER, has trailing bytes, or a scalar is
/// wider than the curve.
pub fn der_to_raw(spec: KeySpec, der: &[u8]) -> Result<Vec<u8>, SignError> {
    let width = spec
        .ec_scalar_len()
        .ok_or_else(|| SignError::MalformedEcdsa(format!("{spec} is not an EC key spec")))?;
    let sig = EcdsaSigValue::from_der(der)
        .map_err(|e| SignError::MalformedEcdsa(format!("not a DER ECDSA signature: {e}")))?;
    let mut out = vec![0; 2 * width];
    for (i, scalar) in [sig.r, sig.s].iter().enumerate() {
        let bytes = scalar.as_bytes();
        if bytes.len() > width {
            return Err(SignError::MalformedEcdsa(format!(
                "scalar of {} bytes is too wide for {spec} ({width} bytes)",
                bytes.len()
            )));
        }
        let end = (i + 1) * width;
        out[end - bytes.len()..end].copy_from_slice(bytes);
    }
    Ok(out)
}

/// Converts fixed-width `r || s` to ASN.1 DER.
///
/// # Errors
///
/// [`SignError::MalformedEcdsa`] if the length is odd or empty.
pub fn raw_to_der(raw: &[u8]) -> Result<Vec<u8>, SignError> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(SignError::MalformedEcdsa(format!(
            "r || s must have an even, non-zero length, got {}",
            raw.len()
        )));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let malformed = |e: der::Error| SignError::MalformedEcdsa(e.to_string());
    // UintRef strips leading zeros and adds the sign byte: DER integers are minimal.
    let sig = EcdsaSigValue {
        r: UintRef::new(r).map_err(malformed)?,
        s: UintRef::new(s).map_err(malformed)?,
    };
    sig.to_der().map_err(malformed)
}

/// Returns `r || s` for a signature that is either already `r || s` (exact length for `spec`) or
/// DER. Used on signatures from external signers and HSMs, which usually return DER.
///
/// # Errors
///
/// [`SignError::MalformedEcdsa`] when it is neither.
pub fn normalize(spec: KeySpec, sig: &[u8]) -> Result<Vec<u8>, SignError> {
    if sig.len() == spec.signature_len() && !looks_like_der(sig) {
        return Ok(sig.to_vec());
    }
    der_to_raw(spec, sig).map_err(|_| {
        SignError::MalformedEcdsa(format!(
            "{} bytes is neither a {spec} r || s signature ({} bytes) nor ASN.1 DER",
            sig.len(),
            spec.signature_len()
        ))
    })
}

/// A DER SEQUENCE whose length covers the whole input and parses as two INTEGERs.
fn looks_like_der(sig: &[u8]) -> bool {
    sig.first() == Some(&0x30) && EcdsaSigValue::from_der(sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn der_high_bit_scalars_get_a_zero_prefix() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[63] = 0x01;
        let der = raw_to_der(&raw).unwrap();
        // 30 len 02 21 00 80 ... 02 01 01 (s has leading zeros stripped)
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x21, 0x00]);
        assert_eq!(der_to_raw(KeySpec::Ec256, &der).unwrap(), raw);
    }

    #[test]
    fn rejects_scalar_wider_than_curve() {
        let raw = vec![0x7f; 132];
        let der = raw_to_der(&raw).unwrap();
        assert!(der_to_raw(KeySpec::Ec256, &der).is_err());
        assert_eq!(der_to_raw(KeySpec::Ec521, &der).unwrap(), raw);
    }

    #[test]
    fn normalize_rejects_garbage() {
        let err = normalize(KeySpec::Ec256, b"not a signature").unwrap_err();
        assert!(err.to_string().contains("neither"), "{err}");
    }

    proptest! {
        #[test]
        fn der_raw_round_trip(r in proptest::collection::vec(any::<u8>(), 48), s in proptest::collection::vec(any::<u8>(), 48)) {
            let raw = [r, s].concat();
            let der = raw_to_der(&raw).unwrap();
            let back = der_to_raw(KeySpec::Ec384, &der).unwrap();
            prop_assert_eq!(&back, &raw);
            let normalized = normalize(KeySpec::Ec384, &der).unwrap();
            prop_assert_eq!(&normalized, &raw);
            prop_assert_eq!(normalize(KeySpec::Ec384, &raw).unwrap(), raw);
        }
    }
}
