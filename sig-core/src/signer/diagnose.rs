//! Why did a signature not verify? Examine it under the public key and name the cause.
//!
//! RSA: recover the encoded message `m = s^e mod n` and recognise PKCS#1 v1.5 or PSS encodings
//! (RFC 8017 §9.1.2, §9.2), which reveals the hash, the padding and the PSS salt length. ECDSA:
//! try the other hashes. Only runs after a failed verification, so its cost does not matter.

use num_bigint::BigUint;

use crate::algorithm::{HashAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::error::SignatureDiagnosis;
use crate::key::PublicKey;

pub(super) fn diagnose(
    public: &PublicKey,
    subject: Option<&str>,
    algorithm: SignatureAlgorithm,
    payload: &[u8],
    signature: &[u8],
) -> SignatureDiagnosis {
    let wrong_key = SignatureDiagnosis::WrongKey { subject: subject.map(str::to_owned) };
    if algorithm.scheme() == SignatureScheme::Ecdsa {
        let Ok(der) = crate::ecdsa::raw_to_der(signature) else {
            return wrong_key;
        };
        return HashAlgorithm::ALL
            .into_iter()
            .find(|&h| h != algorithm.hash() && public.verify_ecdsa_der(h, payload, &der))
            .map_or(wrong_key, |actual| SignatureDiagnosis::WrongHash {
                expected: algorithm.hash(),
                actual,
            });
    }
    match recover_rsa(public, payload, signature) {
        Some(Found::Pkcs1v15(hash)) => match algorithm.scheme() {
            SignatureScheme::RsaPss => {
                SignatureDiagnosis::Pkcs1v15InsteadOfPss { expected: algorithm }
            }
            _ => SignatureDiagnosis::WrongHash { expected: algorithm.hash(), actual: hash },
        },
        Some(Found::Pss { hash, salt_len }) => {
            if algorithm.scheme() != SignatureScheme::RsaPss {
                SignatureDiagnosis::PssInsteadOfPkcs1v15 { expected: algorithm }
            } else if hash != algorithm.hash() {
                SignatureDiagnosis::WrongHash { expected: algorithm.hash(), actual: hash }
            } else {
                SignatureDiagnosis::PssSaltLength { expected: hash.output_len(), actual: salt_len }
            }
        }
        None => wrong_key,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Found {
    Pkcs1v15(HashAlgorithm),
    Pss { hash: HashAlgorithm, salt_len: usize },
}

fn recover_rsa(public: &PublicKey, payload: &[u8], signature: &[u8]) -> Option<Found> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        exponent: der::asn1::UintRef<'a>,
    }
    let key = <RsaPublicKey<'_> as der::Decode>::from_der(public.as_bytes()).ok()?;
    let n = BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = BigUint::from_bytes_be(key.exponent.as_bytes());
    let s = BigUint::from_bytes_be(signature);
    if s >= n {
        return None;
    }
    let m = s.modpow(&e, &n).to_bytes_be();
    let mod_bits = usize::try_from(n.bits()).ok()?;
    let k = mod_bits.div_ceil(8);
    let mut em = vec![0u8; k.saturating_sub(m.len())];
    em.extend_from_slice(&m);
    pkcs1v15_hash(&em, payload).map(Found::Pkcs1v15).or_else(|| pss(&em, mod_bits, payload))
}

/// `EM = 00 01 FF…FF 00 DigestInfo(hash(payload))`.
fn pkcs1v15_hash(em: &[u8], payload: &[u8]) -> Option<HashAlgorithm> {
    // DigestInfo DER prefixes, RFC 8017 §9.2 note 1.
    const PREFIXES: [(HashAlgorithm, &[u8]); 3] = [
        (
            HashAlgorithm::Sha256,
            &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
        ),
        (
            HashAlgorithm::Sha384,
            &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
        ),
        (
            HashAlgorithm::Sha512,
            &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        ),
    ];
    if em.get(..2)? != [0x00, 0x01] {
        return None;
    }
    let sep = em[2..].iter().position(|&b| b != 0xff)? + 2;
    if em[sep] != 0x00 {
        return None;
    }
    let digest_info = &em[sep + 1..];
    PREFIXES.into_iter().find_map(|(hash, prefix)| {
        (digest_info.strip_prefix(prefix)? == hash.digest(payload).as_slice()).then_some(hash)
    })
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) for each hash, returning the salt length found.
fn pss(em_full: &[u8], mod_bits: usize, payload: &[u8]) -> Option<Found> {
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    let em = &em_full[em_full.len() - em_len..];
    if em.last() != Some(&0xbc) {
        return None;
    }
    HashAlgorithm::ALL.into_iter().find_map(|hash| {
        let h_len = hash.output_len();
        if em_len < h_len + 2 {
            return None;
        }
        let db_len = em_len - h_len - 1;
        let (masked_db, rest) = em.split_at(db_len);
        let h = &rest[..h_len];
        let mask = mgf1(hash, h, db_len);
        let mut db: Vec<u8> = masked_db.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
        let unused_bits = 8 * em_len - em_bits;
        db[0] &= 0xff >> unused_bits;
        let one = db.iter().position(|&b| b != 0)?;
        if db[one] != 0x01 {
            return None;
        }
        let salt = &db[one + 1..];
        let mut m_prime = vec![0u8; 8];
        m_prime.extend_from_slice(&hash.digest(payload));
        m_prime.extend_from_slice(salt);
        (hash.digest(&m_prime) == h).then_some(Found::Pss { hash, salt_len: salt.len() })
    })
}

fn mgf1(hash: HashAlgorithm, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.output_len());
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut input = seed.to_vec();
        input.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&hash.digest(&input));
        counter += 1;
    }
    out.truncate(len);
    out
}
