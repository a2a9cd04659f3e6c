//! Notary COSE envelopes from a registry: parse and verify any bytes. No panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| external_signer_fuzz::cose_verify(data));
