//! The plugin's stdin: any bytes, for every command. No panic, exactly one of stdout (exit 0) or
//! an error JSON on stderr (exit 1).
#![no_main]

use libfuzzer_sys::fuzz_target;

const COMMANDS: [&str; 5] =
    ["get-plugin-metadata", "describe-key", "generate-signature", "generate-envelope", "bogus"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, request)) = data.split_first() else { return };
    let command = COMMANDS[usize::from(selector) % COMMANDS.len()];
    let args = vec!["notation-external-signer".to_owned(), command.to_owned()];
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    // No configuration in the environment: every path ends before touching files or programs,
    // except those the request's own pluginConfig names, which the fuzzer rarely hits.
    let env = |_: &str| None;
    let code = notation_plugin::run(&args, &mut &request[..], &mut stdout, &mut stderr, &env);
    if code == std::process::ExitCode::SUCCESS {
        assert!(stderr.is_empty());
    } else {
        assert!(stdout.is_empty());
        let error: serde_json_probe::Value = serde_json_probe::from_slice(&stderr).expect("error JSON");
        assert!(error.get("errorCode").is_some());
    }
});

mod serde_json_probe {
    pub(crate) use sig_core::serde_json::{Value, from_slice};
}
