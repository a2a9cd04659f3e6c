//! `sigstore-kms-external-signer`: see the crate documentation of `sigstore_kms_plugin`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let env = |key: &str| std::env::var(key).ok();
    sigstore_kms_plugin::run(
        &args,
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &env,
        std::time::SystemTime::now(),
    )
}
