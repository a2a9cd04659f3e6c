//! `notation-external-signer`: a Notation signing plugin for keys that live anywhere.
//!
//! Notation runs the plugin as `notation-external-signer <command>` with a JSON request on stdin
//! and reads one JSON response from stdout (exit 0) or one error JSON from stderr (exit 1). The
//! plugin advertises `SIGNATURE_GENERATOR.RAW`: notation builds the JWS or COSE envelope, the
//! plugin signs its bytes with the configured key and returns the signature and the certificate
//! chain.
//!
//! ```text
//! get-plugin-metadata  {}                                  -> {"name":"external-signer",…}
//! describe-key         {"contractVersion":"1.0","keyId":…} -> {"keyId":…,"keySpec":"EC-256"}
//! generate-signature   {…,"keySpec","hashAlgorithm","payload":"<b64>"}
//!                      -> {"keyId":…,"signature":"<b64>","signingAlgorithm":"ECDSA-SHA-256",
//!                          "certificateChain":["<b64 DER leaf>",…,"<b64 DER root>"]}
//! error (stderr)       {"errorCode":"VALIDATION_ERROR","errorMessage":"…"}
//! ```
//!
//! Every signature is verified against the leaf certificate before it is returned, and the chain
//! is checked by notation's rules, so a configuration mistake surfaces as a message naming the
//! problem rather than notation's "generated signature failed verification".
//!
//! Two human commands complete the set: `version`, and `doctor`, which checks a configuration
//! end to end and prints each problem with its remedy.

mod advice;
pub mod config;
mod doctor;
pub mod handler;
pub mod log;
pub mod protocol;

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Env;
use crate::protocol::{ErrorCode, PluginError};

/// Largest request read from stdin (notation's requests are a few KiB).
pub const MAX_REQUEST_LEN: u64 = 16 * 1024 * 1024;

const COMMANDS: &str = "get-plugin-metadata, describe-key, generate-signature, version, doctor";

/// Runs one plugin invocation. `args` are the process arguments including the program name.
///
/// Writes exactly one JSON response to `stdout` and returns success, or exactly one error JSON to
/// `stderr` and returns failure. `env` reads configuration from the environment.
pub fn run(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env<'_>,
) -> ExitCode {
    let mut log = log::Log::from_env(env);
    let started = Instant::now();
    let command = args.get(1).map(String::as_str).unwrap_or_default();
    let now = SystemTime::now();
    let result = match command {
        "get-plugin-metadata" => read_request::<protocol::MetadataRequest>(stdin)
            .and_then(|_| to_json(&handler::metadata())),
        "describe-key" => read_request(stdin)
            .and_then(|req| handler::describe_key(req, env, now))
            .and_then(|resp| to_json(&resp)),
        "generate-signature" => read_request(stdin)
            .and_then(|req| handler::generate_signature(req, env, now))
            .and_then(|resp| to_json(&resp)),
        "generate-envelope" | "verify-signature" => Err(PluginError::validation(format!(
            "{command} is not supported: external-signer has only the SIGNATURE_GENERATOR.RAW capability"
        ))),
        "version" => {
            let m = handler::metadata();
            let _ = write!(
                stdout,
                "{} - {}\nVersion: {}\nCommit: {}\n",
                m.name,
                m.description,
                m.version,
                env!("EXTERNAL_SIGNER_COMMIT_INFO")
            );
            return ExitCode::SUCCESS;
        }
        "doctor" => return doctor::run(&args[2..], stdout, env, now),
        "" | "help" | "--help" | "-h" => {
            let _ = write!(
                stdout,
                "notation-external-signer: Notation plugin `external-signer`\n\nusage: notation-external-signer <command>\ncommands: {COMMANDS}\n\nRun `notation-external-signer doctor --help` to check a configuration.\n"
            );
            return if command.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
        other => Err(PluginError::validation(format!(
            "unknown command {other:?}; valid commands are: {COMMANDS}"
        ))),
    };
    match result {
        Ok(json) => {
            log.line(&format!("{command}: ok in {:?}", started.elapsed()));
            if stdout.write_all(&json).and_then(|()| stdout.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            log.line(&format!("{command}: {:?}: {}", err.error_code, err.error_message));
            let json = serde_json::to_vec(&err).unwrap_or_else(|_| {
                br#"{"errorCode":"ERROR","errorMessage":"cannot encode the error"}"#.to_vec()
            });
            let _ = stderr.write_all(&json);
            let _ = stderr.flush();
            ExitCode::FAILURE
        }
    }
}

fn read_request<T: DeserializeOwned + Default>(stdin: &mut dyn Read) -> Result<T, PluginError> {
    let mut buf = Vec::new();
    stdin.take(MAX_REQUEST_LEN + 1).read_to_end(&mut buf).map_err(|e| {
        PluginError::new(ErrorCode::Error, format!("cannot read the request from stdin: {e}"))
    })?;
    if buf.len() as u64 > MAX_REQUEST_LEN {
        return Err(PluginError::validation(format!(
            "Input is not a valid JSON: the request is larger than {MAX_REQUEST_LEN} bytes"
        )));
    }
    if buf.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::validation(
            "Input is not a valid JSON: the request on stdin is empty",
        ));
    }
    serde_json::from_slice(&buf)
        .map_err(|e| PluginError::validation(format!("Input is not a valid JSON: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value)
        .map_err(|e| PluginError::new(ErrorCode::Error, format!("cannot encode the response: {e}")))
}
