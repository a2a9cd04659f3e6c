//! Certificate chain files: PEM bundles or DER, any order. No panic; validation of whatever
//! parses.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| external_signer_fuzz::certificate_chain(data));
