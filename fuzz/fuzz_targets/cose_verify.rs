//! Notary COSE envelopes from a registry: parse and verify any bytes. No panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sig_core::envelope::verify(
        sig_core::EnvelopeFormat::Cose,
        data,
        &[],
        std::time::SystemTime::UNIX_EPOCH,
    );
});
