//! Cosign signature manifests from a registry (`sha256-<hex>.sig`). No panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| external_signer_fuzz::cosign_manifest(data));
