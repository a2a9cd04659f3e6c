//! `sigstore-kms-external-signer`: a [sigstore KMS CLI plugin] so that stock cosign signs with
//! the signers of sig-core — a key file, a signer program, or a key in a PKCS#11 token — as the
//! notation plugin and cosign-compat do:
//!
//! ```text
//! cosign sign --key external-signer:///etc/keys/release.pem --tlog-upload=false IMAGE
//! cosign sign --key 'external-signer://pkcs11:token=ci;object=release' ...
//! cosign sign --key external-signer://program:/usr/local/bin/kms-sign ...
//! ```
//!
//! cosign runs `sigstore-kms-external-signer v1 '<json>'` from `PATH` for every call; see
//! [`protocol`] for the wire format and [`key_ref`] for the key reference and its settings. The
//! plugin answers one JSON object on stdout, written once; errors go in `errorMessage` with
//! exit status 1 (sigstore ignores the status). It never writes anything else to stdout.
//!
//! What it checks: the protocol version; arguments and stdin are bounded ([`MAX_ARGUMENT_LEN`],
//! [`MAX_MESSAGE_LEN`]); a `messageOptions.digest` must be the digest of the message; the
//! caller's deadline (`ctxDeadline`, which cosign does not enforce on a plugin) is enforced here:
//! an expired deadline is refused and a signer program gets at most the time left. Every
//! signature is verified against the public key before it is answered.
//!
//! [sigstore KMS CLI plugin]: https://github.com/sigstore/sigstore/tree/main/pkg/signature/kms/cliplugin

pub mod handler;
pub mod key_ref;
pub mod protocol;

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use protocol::{PROTOCOL_VERSION, PluginArgs, PluginResponse};
use sig_core::key_source::Env;

/// The prefix sigstore puts before the scheme to find the executable.
pub const BINARY_PREFIX: &str = "sigstore-kms-";
/// The scheme of the key references (`external-signer://…`), used when the executable's own
/// name does not say otherwise.
pub const DEFAULT_NAME: &str = "external-signer";
/// This build's version: the Cargo version, plus `+<commit>` in release builds (`make dist`).
pub const VERSION: &str = env!("EXTERNAL_SIGNER_VERSION");
/// Largest JSON argument accepted (a verifySignature argument carries the signature, at most
/// 700 bytes of base64 for our keys; Linux refuses a single argument over 128 KiB anyway).
pub const MAX_ARGUMENT_LEN: usize = 64 * 1024;
/// Largest message accepted on stdin.
pub const MAX_MESSAGE_LEN: u64 = 64 * 1024 * 1024;

/// Runs one plugin call: `args` is argv (program name first), `stdin` the message, `stdout`
/// receives the one JSON answer. `env` reads the environment; `now` is the current time.
pub fn run(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    env: Env<'_>,
    now: SystemTime,
) -> ExitCode {
    let name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name()?.to_str()?.strip_prefix(BINARY_PREFIX))
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_NAME)
        .to_owned();
    if matches!(args, [_, flag] if flag == "--version" || flag == "version") {
        // For people, not for cosign (which always passes the protocol version and a request).
        let text = format!(
            "{BINARY_PREFIX}{name} {VERSION}\ncommit: {}\nprotocol: {PROTOCOL_VERSION}\n",
            env!("EXTERNAL_SIGNER_COMMIT_INFO")
        );
        return if stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let response = answer(&name, args, stdin, env, now);
    let failed = response.error_message.is_some();
    // serde_json cannot fail on these types; should it, the fallback is still one JSON object.
    let mut body = serde_json::to_vec(&response).unwrap_or_else(|_| {
        br#"{"errorMessage":"internal error: the response could not be encoded"}"#.to_vec()
    });
    body.push(b'\n');
    if stdout.write_all(&body).and_then(|()| stdout.flush()).is_err() || failed {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn answer(
    name: &str,
    args: &[String],
    stdin: &mut dyn Read,
    env: Env<'_>,
    now: SystemTime,
) -> PluginResponse {
    match parse(args) {
        Ok((plugin_args, deadline)) => {
            let message = if handler::reads_stdin(&plugin_args.method_name) {
                match read_message(stdin) {
                    Ok(message) => message,
                    Err(text) => return PluginResponse::error(text),
                }
            } else {
                Vec::new()
            };
            let call = handler::Call { name, env, now, deadline };
            handler::dispatch(&call, &plugin_args, &message)
        }
        Err(text) => PluginResponse::error(text),
    }
}

fn parse(args: &[String]) -> Result<(PluginArgs, Option<SystemTime>), String> {
    let usage = "usage: sigstore-kms-external-signer v1 '<JSON>' (cosign runs it for --key external-signer://...; see its README)";
    let [_, version, json] = args else {
        return Err(format!(
            "expected 2 arguments (the protocol version and the JSON request), got {}; {usage}",
            args.len().saturating_sub(1)
        ));
    };
    if version != PROTOCOL_VERSION {
        return Err(format!(
            "unsupported protocol version {version:?}: this plugin speaks {PROTOCOL_VERSION} (sigstore v1.10); upgrade the plugin or cosign so that they match"
        ));
    }
    if json.len() > MAX_ARGUMENT_LEN {
        return Err(format!(
            "the JSON request is {} bytes, more than the {MAX_ARGUMENT_LEN} accepted",
            json.len()
        ));
    }
    let plugin_args: PluginArgs =
        serde_json::from_str(json).map_err(|e| format!("the JSON request is malformed: {e}"))?;
    let init = plugin_args.init_options.as_ref().ok_or("the JSON request has no initOptions")?;
    if init.protocol_version != PROTOCOL_VERSION {
        return Err(format!(
            "unsupported initOptions.protocolVersion {:?}: this plugin speaks {PROTOCOL_VERSION}",
            init.protocol_version
        ));
    }
    let deadline = deadline(&plugin_args)?;
    Ok((plugin_args, deadline))
}

/// The earliest of the deadlines in the request.
fn deadline(args: &PluginArgs) -> Result<Option<SystemTime>, String> {
    let init = args.init_options.as_ref();
    let sign = args.sign_message.as_ref().and_then(|s| s.sign_options.as_ref());
    let verify = args.verify_signature.as_ref().and_then(|v| v.verify_options.as_ref());
    let public = args.public_key.as_ref().and_then(|p| p.public_key_options.as_ref());
    let candidates = [
        ("initOptions.ctxDeadline", init.and_then(|i| i.ctx_deadline.as_deref())),
        (
            "initOptions.rpcOptions.ctxDeadline",
            init.and_then(|i| i.rpc_options.as_ref()?.ctx_deadline.as_deref()),
        ),
        (
            "signOptions.rpcOptions.ctxDeadline",
            sign.and_then(|s| s.rpc_options.as_ref()?.ctx_deadline.as_deref()),
        ),
        (
            "verifyOptions.rpcOptions.ctxDeadline",
            verify.and_then(|v| v.rpc_options.as_ref()?.ctx_deadline.as_deref()),
        ),
        (
            "publicKeyOptions.rpcOptions.ctxDeadline",
            public.and_then(|p| p.rpc_options.as_ref()?.ctx_deadline.as_deref()),
        ),
        ("createKey.ctxDeadline", args.create_key.as_ref().and_then(|c| c.ctx_deadline.as_deref())),
    ];
    let mut earliest: Option<SystemTime> = None;
    for (field, text) in candidates {
        let Some(text) = text else { continue };
        let parsed =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("{field} {text:?} is not an RFC 3339 time: {e}"))?;
        let at = SystemTime::from(parsed);
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    Ok(earliest)
}

fn read_message(stdin: &mut dyn Read) -> Result<Vec<u8>, String> {
    let mut message = Vec::new();
    stdin
        .take(MAX_MESSAGE_LEN + 1)
        .read_to_end(&mut message)
        .map_err(|e| format!("cannot read the message on stdin: {e}"))?;
    if message.len() as u64 > MAX_MESSAGE_LEN {
        return Err(format!(
            "the message on stdin is larger than the {MAX_MESSAGE_LEN} bytes accepted"
        ));
    }
    Ok(message)
}
