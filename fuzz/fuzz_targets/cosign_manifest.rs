//! Cosign signature manifests from a registry (`sha256-<hex>.sig`). No panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cosign_compat::SignatureManifest::parse(data);
});
