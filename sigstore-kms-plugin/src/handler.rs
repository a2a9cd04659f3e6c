//! One function per method. Every answer is built whole before anything is written.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sig_core::key_source::{Env, KeySource, OpenedKey, env as vars, secret_advice};
use sig_core::{Error, HashAlgorithm, KeyError, Pkcs11Error, PublicKey, SignError, SigningKey};

use crate::key_ref::{KeyRef, public_key_advice};
use crate::protocol::{
    DefaultAlgorithmResponse, MessageCallOptions, PluginArgs, PluginResponse, PublicKeyResponse,
    RpcOptions, SUPPORTED_ALGORITHMS, SignMessageResponse, SupportedAlgorithmsResponse,
    VerifySignatureResponse, hash_from_go, method,
};

/// What a method needs besides its arguments.
pub(crate) struct Call<'a> {
    /// The scheme name (`external-signer`), for messages.
    pub(crate) name: &'a str,
    /// The environment.
    pub(crate) env: Env<'a>,
    /// The current time.
    pub(crate) now: SystemTime,
    /// The earliest deadline of the request, if any.
    pub(crate) deadline: Option<SystemTime>,
}

impl Call<'_> {
    /// The time left before the deadline; an error once it has passed.
    fn time_left(&self) -> Result<Option<Duration>, String> {
        let Some(deadline) = self.deadline else { return Ok(None) };
        match deadline.duration_since(self.now) {
            Ok(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(format!(
                "the caller's deadline ({}) has passed; nothing was signed (raise cosign's --timeout)",
                sig_core::__private::timestamp::rfc3339(deadline)
            )),
        }
    }
}

/// Methods that read stdin.
pub(crate) fn reads_stdin(method: &str) -> bool {
    method == method::SIGN_MESSAGE || method == method::VERIFY_SIGNATURE
}

/// Answers `args` (already checked for the protocol version); `message` is stdin for the
/// methods that read it.
pub(crate) fn dispatch(call: &Call<'_>, args: &PluginArgs, message: &[u8]) -> PluginResponse {
    let result = match args.method_name.as_str() {
        method::DEFAULT_ALGORITHM => Ok(PluginResponse {
            default_algorithm: Some(DefaultAlgorithmResponse {
                default_algorithm: SUPPORTED_ALGORITHMS[0].to_owned(),
            }),
            ..PluginResponse::default()
        }),
        method::SUPPORTED_ALGORITHMS => Ok(PluginResponse {
            supported_algorithms: Some(SupportedAlgorithmsResponse {
                supported_algorithms: SUPPORTED_ALGORITHMS
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
            }),
            ..PluginResponse::default()
        }),
        method::CREATE_KEY => Err(format!(
            "{} does not create keys: create the key with your own tools (openssl, your KMS or HSM), then sign with --key {}",
            crate::BINARY_PREFIX.to_owned() + call.name,
            crate::key_ref::forms(call.name)
        )),
        method::PUBLIC_KEY => public_key(call, args),
        method::SIGN_MESSAGE => sign_message(call, args, message),
        method::VERIFY_SIGNATURE => verify_signature(call, args, message),
        "" => Err("the request has no methodName".to_owned()),
        other => Err(format!(
            "unknown method {other:?}; this plugin answers {}",
            [
                method::DEFAULT_ALGORITHM,
                method::SUPPORTED_ALGORITHMS,
                method::CREATE_KEY,
                method::PUBLIC_KEY,
                method::SIGN_MESSAGE,
                method::VERIFY_SIGNATURE
            ]
            .join(", ")
        )),
    };
    result.unwrap_or_else(PluginResponse::error)
}

fn key_ref(call: &Call<'_>, args: &PluginArgs) -> Result<KeyRef, String> {
    let reference = args.init_options.as_ref().map_or("", |o| o.key_resource_id.as_str());
    KeyRef::parse(reference, call.name, call.env)
}

/// The public key, without signing: a key file is read; a program or token key is the
/// configured public key (the token is not opened).
fn the_public_key(key: &KeyRef) -> Result<PublicKey, String> {
    if let Some(public) = &key.public_key {
        return Ok(public.clone());
    }
    match &key.source {
        KeySource::File { .. } => {
            let opened = key.source.open(None).map_err(|e| describe(&e))?;
            Ok(opened.public_key().clone())
        }
        _ => Err(public_key_advice()),
    }
}

fn public_key(call: &Call<'_>, args: &PluginArgs) -> Result<PluginResponse, String> {
    let key = key_ref(call, args)?;
    let public = the_public_key(&key)?;
    let pem = public.to_pem().map_err(|e| e.to_string())?;
    Ok(PluginResponse {
        public_key: Some(PublicKeyResponse { public_key_pem: STANDARD.encode(pem) }),
        ..PluginResponse::default()
    })
}

/// The hash asked for: `messageOptions.hashFunc`, else `initOptions.hashFunc`; `None` when
/// neither says (cosign's default for the key).
fn requested_hash(
    args: &PluginArgs,
    options: Option<&MessageCallOptions>,
) -> Result<Option<HashAlgorithm>, String> {
    let number = options
        .and_then(|o| o.message_options.as_ref())
        .and_then(|m| m.hash_func)
        .or_else(|| args.init_options.as_ref().map(|o| o.hash_func))
        .unwrap_or(0);
    hash_from_go(number).map_err(|n| {
        format!("hashFunc {n} is not supported: this plugin signs with SHA-256 (5), SHA-384 (6) or SHA-512 (7)")
    })
}

/// Refuses a `messageOptions.digest` that is not the digest of `message`.
fn check_digest(
    options: Option<&MessageCallOptions>,
    hash: Option<HashAlgorithm>,
    message: &[u8],
) -> Result<(), String> {
    let Some(digest) = options
        .and_then(|o| o.message_options.as_ref())
        .and_then(|m| m.digest.as_deref())
        .filter(|d| !d.is_empty())
    else {
        return Ok(());
    };
    let digest =
        STANDARD.decode(digest).map_err(|e| format!("messageOptions.digest is not base64: {e}"))?;
    if digest.is_empty() {
        return Ok(());
    }
    let hash = hash.unwrap_or(HashAlgorithm::Sha256);
    if message.is_empty() {
        return Err(
            "signing a bare digest (an empty message with messageOptions.digest) is not supported: the signers behind this plugin hash the message themselves, so the message must come on stdin".to_owned(),
        );
    }
    if hash.digest(message) != digest {
        return Err(format!(
            "messageOptions.digest is not the {hash} digest of the message on stdin; refusing to sign or verify a message that does not match its digest"
        ));
    }
    Ok(())
}

/// Refuses a KMS key version (this plugin's keys have none).
fn check_rpc(rpc: Option<&RpcOptions>) -> Result<(), String> {
    match rpc.and_then(|r| r.key_version.as_deref()) {
        Some(version) if !version.is_empty() => Err(format!(
            "key version {version:?} asked for, but the keys behind this plugin have no versions"
        )),
        _ => Ok(()),
    }
}

fn sign_message(
    call: &Call<'_>,
    args: &PluginArgs,
    message: &[u8],
) -> Result<PluginResponse, String> {
    let options = args.sign_message.as_ref().and_then(|s| s.sign_options.as_ref());
    check_rpc(options.and_then(|o| o.rpc_options.as_ref()))?;
    let hash = requested_hash(args, options)?;
    check_digest(options, hash, message)?;
    let left = call.time_left()?;
    let mut key = key_ref(call, args)?;
    if let (KeySource::Program(settings), Some(left)) = (&mut key.source, left) {
        // The deadline binds the program: it is killed when the caller's time is up.
        settings.timeout = settings.timeout.min(left);
    }
    let opened = open(&key)?;
    // Opening a token or a key file takes time too.
    if call.deadline.is_some_and(|deadline| SystemTime::now() >= deadline) {
        return Err("the caller's deadline passed while the key was opened; nothing was signed (raise cosign's --timeout)".to_owned());
    }
    let signature = cosign_compat::sign::sign_payload(&opened, message, hash).map_err(|e| {
        let mut text = sig_core::message_with_sources(&e);
        if let cosign_compat::SigningError::Sign(inner) = &e {
            text.push_str(&sign_advice(inner));
        }
        text
    })?;
    Ok(PluginResponse {
        sign_message: Some(SignMessageResponse { signature: STANDARD.encode(signature) }),
        ..PluginResponse::default()
    })
}

fn open(key: &KeyRef) -> Result<OpenedKey, String> {
    if !matches!(key.source, KeySource::File { .. }) && key.public_key.is_none() {
        return Err(public_key_advice());
    }
    key.source.open_key_only(key.public_key.as_ref()).map_err(|e| describe(&e))
}

fn verify_signature(
    call: &Call<'_>,
    args: &PluginArgs,
    message: &[u8],
) -> Result<PluginResponse, String> {
    let verify = args.verify_signature.as_ref();
    let options = verify.and_then(|v| v.verify_options.as_ref());
    check_rpc(options.and_then(|o| o.rpc_options.as_ref()))?;
    let hash = requested_hash(args, options)?;
    check_digest(options, hash, message)?;
    let signature = verify
        .and_then(|v| v.signature.as_deref())
        .ok_or("verifySignature.signature is missing")?;
    let signature = STANDARD
        .decode(signature)
        .map_err(|e| format!("verifySignature.signature is not base64: {e}"))?;
    let key = key_ref(call, args)?;
    let public = the_public_key(&key)?;
    let hash = hash.unwrap_or(HashAlgorithm::Sha256);
    cosign_compat::verify::check_signature(&public, hash, message, &signature).map_err(
        |scheme| format!("invalid signature: it does not verify with the key ({scheme})"),
    )?;
    Ok(PluginResponse {
        verify_signature: Some(VerifySignatureResponse {}),
        ..PluginResponse::default()
    })
}

/// A sig-core error with the plugin's advice (the variables to set).
fn describe(err: &Error) -> String {
    format!("{}{}", sig_core::message_with_sources(err), advice(err))
}

fn advice(err: &Error) -> String {
    match err {
        Error::Key(KeyError::PasswordRequired) => format!(": {}", secret_advice::password()),
        Error::Key(KeyError::NoPublicKey) => format!(": {}", public_key_advice()),
        Error::Sign(e) => sign_advice(e),
        Error::Pkcs11(Pkcs11Error::NoModule) => {
            format!("; give the module in the URI (module-path=...) or in {}", vars::PKCS11_MODULE)
        }
        Error::Pkcs11(Pkcs11Error::PinInUri | Pkcs11Error::PinRequired { .. }) => {
            format!(": {}", secret_advice::pin())
        }
        // Key-only signing: the "leaf certificate" of sig-core's message is the configured key.
        Error::Pkcs11(Pkcs11Error::KeyMismatch { .. } | Pkcs11Error::KeyTypeMismatch { .. })
        | Error::Key(KeyError::Mismatch { .. }) => format!(
            " (here: the public key from {} or the leaf of {}, which must be this key's)",
            vars::PUBLIC_KEY,
            vars::CERT_CHAIN
        ),
        _ => String::new(),
    }
}

fn sign_advice(err: &SignError) -> String {
    match err {
        SignError::Timeout { .. } => format!(
            "; the program's time is the smaller of {} and the time left before the caller's deadline (cosign --timeout)",
            vars::SIGNER_TIMEOUT
        ),
        SignError::Encoding { .. } => format!(
            "; set {} to raw, base64 or hex to match what it prints",
            vars::SIGNATURE_ENCODING
        ),
        _ => String::new(),
    }
}
