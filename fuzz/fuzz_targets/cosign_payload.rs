//! Cosign simple-signing payloads from a registry, parsed as cosign does. No panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cosign_compat::ParsedPayload::parse(data);
});
