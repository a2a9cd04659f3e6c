//! The plugin's stdin: any bytes, for every command. No panic, exactly one of stdout (exit 0) or
//! an error JSON on stderr (exit 1).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| external_signer_fuzz::plugin_request(data));
