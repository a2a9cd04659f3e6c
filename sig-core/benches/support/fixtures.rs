//! Fixtures the sig-core benchmarks share.

use std::path::PathBuf;

use openssl::hash::MessageDigest;
use sig_core::KeySpec;

/// The committed test PKI of `spec` (`tests/data/pki/<spec>`).
pub(crate) fn pki(spec: KeySpec) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/pki")
        .join(spec.as_str().to_ascii_lowercase())
}

/// OpenSSL's digest for `spec`'s hash.
pub(crate) fn digest(spec: KeySpec) -> MessageDigest {
    match spec.hash() {
        sig_core::HashAlgorithm::Sha256 => MessageDigest::sha256(),
        sig_core::HashAlgorithm::Sha384 => MessageDigest::sha384(),
        _ => MessageDigest::sha512(),
    }
}
