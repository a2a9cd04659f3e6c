//! Private key files: PEM or DER, PKCS#8, encrypted PKCS#8, PKCS#1, SEC1. No panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| external_signer_fuzz::private_key(data));
