//! Certificate chain files: PEM bundles or DER, any order. No panic; validation of whatever
//! parses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(chain) = sig_core::CertificateChain::from_bytes(data) {
        let _ = chain.problems(std::time::SystemTime::UNIX_EPOCH);
        let _ = chain.leaf().public_key();
        let _ = chain.to_pem();
    }
});
