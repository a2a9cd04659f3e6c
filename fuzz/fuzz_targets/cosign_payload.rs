//! Cosign simple-signing payloads from a registry, parsed as cosign does. No panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| external_signer_fuzz::cosign_payload(data));
