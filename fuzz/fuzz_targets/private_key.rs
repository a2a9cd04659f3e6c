//! Private key files: PEM or DER, PKCS#8, encrypted PKCS#8, PKCS#1, SEC1. No panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sig_core::PrivateKey::from_bytes(data, Some(b"test-password"));
});
