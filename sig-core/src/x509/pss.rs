//! RSASSA-PSS certificate signatures, accepted exactly as Go's `crypto/x509` accepts them
//! (`getSignatureAlgorithmFromAI`): explicit parameters, hash SHA-256/384/512 (parameters absent
//! or NULL), MGF1 with that same hash, a salt as long as the hash, trailer field 1. Everything
//! else is "unknown algorithm" to Go, so notation and cosign refuse it.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_MGF_1, ID_SHA_1, ID_SHA_224, ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::asn1::{Any, ContextSpecific};
use der::{Tag, TagNumber};
use spki::AlgorithmIdentifierOwned;

use crate::HashAlgorithm;
use crate::error::ChainRule;

/// `RSASSA-PSS-params` as encoded (RFC 4055): absent fields take their ASN.1 defaults
/// (SHA-1, MGF1-SHA-1, salt 20, trailer 1).
struct Params {
    hash: Option<AlgorithmIdentifierOwned>,
    mask: Option<AlgorithmIdentifierOwned>,
    salt: Option<u32>,
    trailer: Option<u32>,
}

fn decode(params: &Any) -> Result<Params, der::Error> {
    params.sequence(|r| {
        Ok(Params {
            hash: ContextSpecific::decode_explicit(r, TagNumber(0))?.map(|f| f.value),
            mask: ContextSpecific::decode_explicit(r, TagNumber(1))?.map(|f| f.value),
            salt: ContextSpecific::decode_explicit(r, TagNumber(2))?.map(|f| f.value),
            trailer: ContextSpecific::decode_explicit(r, TagNumber(3))?.map(|f| f.value),
        })
    })
}

fn hash_name(oid: ObjectIdentifier) -> String {
    match oid {
        ID_SHA_1 => "SHA-1".to_owned(),
        ID_SHA_224 => "SHA-224".to_owned(),
        ID_SHA_256 => "SHA-256".to_owned(),
        ID_SHA_384 => "SHA-384".to_owned(),
        ID_SHA_512 => "SHA-512".to_owned(),
        other => const_oid::db::DB.by_oid(&other).map_or_else(|| other.to_string(), str::to_owned),
    }
}

/// Absent or NULL, the only parameters Go accepts for a hash algorithm identifier.
fn null_or_absent(alg: &AlgorithmIdentifierOwned) -> bool {
    alg.parameters.as_ref().is_none_or(|p| der::Tagged::tag(p) == Tag::Null && p.value().is_empty())
}

/// The message hash of RSASSA-PSS `params` if Go accepts them.
///
/// # Errors
///
/// [`ChainRule::PssParameters`] naming the first parameter Go refuses.
pub(super) fn accepted_hash(params: Option<&Any>) -> Result<HashAlgorithm, ChainRule> {
    let refuse = |what: String| Err(ChainRule::PssParameters(what));
    let Some(params) = params else {
        return refuse("no parameters (Go needs the hash and MGF1 written out)".to_owned());
    };
    let params = match decode(params) {
        Ok(p) => p,
        Err(e) => return refuse(format!("malformed parameters ({e})")),
    };
    let hash_oid = params.hash.as_ref().map_or(ID_SHA_1, |h| h.oid);
    let hash = match hash_oid {
        ID_SHA_256 => HashAlgorithm::Sha256,
        ID_SHA_384 => HashAlgorithm::Sha384,
        ID_SHA_512 => HashAlgorithm::Sha512,
        other if params.hash.is_none() => {
            return refuse(format!("hash {} (the default when absent)", hash_name(other)));
        }
        other => return refuse(format!("hash {}", hash_name(other))),
    };
    let hash_text = hash_name(hash_oid);
    if params.hash.as_ref().is_some_and(|h| !null_or_absent(h)) {
        return refuse(format!("hash {hash_text} with parameters other than NULL"));
    }
    let Some(mask) = &params.mask else {
        return refuse(format!(
            "MGF1 with SHA-1 (the default when absent) while the message hash is {hash_text}"
        ));
    };
    if mask.oid != ID_MGF_1 {
        return refuse(format!("mask generation function {} instead of MGF1", mask.oid));
    }
    let Some(Ok(mgf_hash)) =
        mask.parameters.as_ref().map(|p| p.decode_as::<AlgorithmIdentifierOwned>())
    else {
        return refuse("MGF1 without a readable hash algorithm".to_owned());
    };
    if mgf_hash.oid != hash_oid {
        return refuse(format!(
            "MGF1 with {} while the message hash is {hash_text}",
            hash_name(mgf_hash.oid)
        ));
    }
    if !null_or_absent(&mgf_hash) {
        return refuse(format!("MGF1 with {hash_text} with parameters other than NULL"));
    }
    let trailer = params.trailer.unwrap_or(1);
    if trailer != 1 {
        return refuse(format!("trailer field {trailer}; Go requires 1"));
    }
    let salt = params.salt.unwrap_or(20);
    let wanted = hash.output_len();
    if usize::try_from(salt).ok() != Some(wanted) {
        return refuse(format!("a salt of {salt} bytes with {hash_text}; Go requires {wanted}"));
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use der::{Decode, Encode};

    use super::*;

    /// DER of an `RSASSA-PSS-params` with the given optional explicit fields.
    fn params(fields: &[(u32, Vec<u8>)]) -> Any {
        let mut body = Vec::new();
        for (tag, inner) in fields {
            let field = ContextSpecific {
                tag_number: TagNumber(*tag),
                tag_mode: der::TagMode::Explicit,
                value: Any::from_der(inner).unwrap(),
            };
            body.extend(field.to_der().unwrap());
        }
        let mut der = vec![0x30];
        der.push(u8::try_from(body.len()).unwrap());
        der.extend(body);
        Any::from_der(&der).unwrap()
    }

    fn alg(oid: ObjectIdentifier, params: Option<Any>) -> Vec<u8> {
        AlgorithmIdentifierOwned { oid, parameters: params }.to_der().unwrap()
    }

    fn sha256_fields(trailer: u32) -> Vec<(u32, Vec<u8>)> {
        let mgf = alg(ID_MGF_1, Some(Any::from_der(&alg(ID_SHA_256, None)).unwrap()));
        vec![
            (0, alg(ID_SHA_256, Some(Any::null()))),
            (1, mgf),
            (2, 32u32.to_der().unwrap()),
            (3, trailer.to_der().unwrap()),
        ]
    }

    #[test]
    fn gos_parameters_pass_and_a_trailer_other_than_1_is_named() {
        // Trailer field 1 written out (not DER-minimal, but Go reads it) passes.
        assert_eq!(accepted_hash(Some(&params(&sha256_fields(1)))), Ok(HashAlgorithm::Sha256));
        // OpenSSL cannot write another trailer; build it by hand.
        let err = accepted_hash(Some(&params(&sha256_fields(2)))).unwrap_err();
        assert!(err.to_string().contains("trailer field 2; Go requires 1"), "{err}");
    }

    #[test]
    fn absent_or_malformed_parameters_are_refused() {
        let err = accepted_hash(None).unwrap_err();
        assert!(err.to_string().contains("no parameters"), "{err}");
        let err = accepted_hash(Some(&Any::null())).unwrap_err();
        assert!(err.to_string().contains("malformed parameters"), "{err}");
        let err = accepted_hash(Some(&params(&[]))).unwrap_err();
        assert!(err.to_string().contains("hash SHA-1 (the default when absent)"), "{err}");
    }
}
