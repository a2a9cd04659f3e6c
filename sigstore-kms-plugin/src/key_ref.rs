//! The key reference (what follows `external-signer://`) → one [`KeySource`], with the
//! settings and secrets from the same `EXTERNAL_*` variables as the notation plugin.
//!
//! ```text
//! external-signer:///abs/key.pem              a key file (PEM or DER; password from
//!                                             EXTERNAL_PRIVATE_KEY_PASSWORD[_FILE])
//! external-signer://pkcs11:token=…;object=…   a key in a PKCS#11 token (module from the URI's
//!                                             module-path or EXTERNAL_PKCS11_MODULE, PIN from
//!                                             EXTERNAL_PKCS11_PIN[_FILE] or pin-source)
//! external-signer://program:/abs/sign.sh      a signer program (the sig-core contract); a bare
//! external-signer://program:sign.sh           name is looked up in the absolute PATH entries
//! ```
//!
//! A program or token key needs its public key: `EXTERNAL_PUBLIC_KEY` (a PEM `PUBLIC KEY`, or
//! a certificate) or else the leaf of `EXTERNAL_CERT_CHAIN`.

use std::path::PathBuf;

use sig_core::key_source::{Env, KeySource, ProgramSettings, Secret, env as vars, parse_timeout};
use sig_core::{CertificateChain, OutputEncoding, Pkcs11Uri, PublicKey};

/// The prefix of a PKCS#11 key reference.
pub const PKCS11_PREFIX: &str = "pkcs11:";
/// The prefix of a signer program key reference.
pub const PROGRAM_PREFIX: &str = "program:";
/// Largest public key or certificate file read.
const MAX_PUBLIC_KEY_FILE_LEN: u64 = 1024 * 1024;

/// The key a reference names, and where its public key comes from.
#[derive(Debug)]
pub struct KeyRef {
    /// The key.
    pub source: KeySource,
    /// The configured public key (`EXTERNAL_PUBLIC_KEY` or the chain's leaf), when one is.
    pub public_key: Option<PublicKey>,
}

/// The forms of a key reference, for error messages.
pub fn forms(name: &str) -> String {
    format!(
        "{name}:///ABSOLUTE/PATH/key.pem (a key file), {name}://pkcs11:token=...;object=... (a key in a PKCS#11 token) or {name}://program:/ABSOLUTE/PATH/signer (a signer program)"
    )
}

impl KeyRef {
    /// Parses `reference` (the `keyResourceID`) and reads the public key configuration.
    /// `name` is the scheme, for messages.
    ///
    /// # Errors
    ///
    /// A message naming the problem and the fix.
    pub fn parse(reference: &str, name: &str, env: Env<'_>) -> Result<Self, String> {
        let get = |var: &str| env(var).filter(|v| !v.trim().is_empty());
        let source = if let Some(uri) = reference.strip_prefix(PKCS11_PREFIX) {
            let uri = Pkcs11Uri::parse(&format!("{PKCS11_PREFIX}{uri}")).map_err(|e| {
                format!(
                    "key reference {name}://pkcs11:...: {e}; give the PIN in {} or a file named by {} instead of the URI",
                    vars::PKCS11_PIN,
                    vars::PKCS11_PIN_FILE
                )
            })?;
            let module = get(vars::PKCS11_MODULE).map(PathBuf::from);
            KeySource::Pkcs11 { uri, module, pin: Secret::pin_from_env(env) }
        } else if let Some(program) = reference.strip_prefix(PROGRAM_PREFIX) {
            if program.is_empty() {
                return Err(format!(
                    "key reference {name}://program: names no program; give {name}://program:/ABSOLUTE/PATH/signer"
                ));
            }
            program_source(program, &get, env)?
        } else if reference.starts_with('/') {
            KeySource::File { path: reference.into(), password: Secret::password_from_env(env) }
        } else if reference.is_empty() {
            return Err(format!("the key reference is empty; give one of {}", forms(name)));
        } else {
            return Err(format!(
                "key reference {name}://{reference} is not understood: a key file needs an absolute path ({name}:///ABSOLUTE/PATH, three slashes); the forms are {}",
                forms(name)
            ));
        };
        let public_key = match &source {
            KeySource::File { .. } => None,
            _ => configured_public_key(&get)?,
        };
        Ok(Self { source, public_key })
    }
}

fn program_source(
    program: &str,
    get: &dyn Fn(&str) -> Option<String>,
    env: Env<'_>,
) -> Result<KeySource, String> {
    let mut settings = ProgramSettings::new(program);
    settings.caller = "cosign";
    if let Some(text) = get(vars::SIGNER_TIMEOUT) {
        settings.timeout = parse_timeout(&text).ok_or_else(|| {
            format!(
                "invalid {} {text:?}: give a number of seconds greater than 0 and at most 86400, e.g. 30 or 2.5",
                vars::SIGNER_TIMEOUT
            )
        })?;
    }
    if let Some(text) = get(vars::SIGNATURE_ENCODING) {
        settings.encoding = text
            .parse::<OutputEncoding>()
            .map_err(|e| format!("{}: {e}", vars::SIGNATURE_ENCODING))?;
    }
    for var in [vars::PRIVATE_KEY, vars::CERT_CHAIN] {
        if let Some(value) = get(var) {
            settings.env.push((var.into(), value.into()));
        }
    }
    if let Some(names) = get(vars::SIGNER_ENV) {
        let names = sig_core::key_source::parse_secret_names(&names).map_err(|name| {
            format!(
                "{} names {name:?}, which is not one of the secret variables; it takes only {}",
                vars::SIGNER_ENV,
                sig_core::key_source::SECRET_ENV.join(", ")
            )
        })?;
        for name in names {
            if let Some(value) = env(name) {
                settings.env.push((name.into(), value.into()));
            }
        }
    }
    Ok(KeySource::Program(settings))
}

/// `EXTERNAL_PUBLIC_KEY`, else the leaf of `EXTERNAL_CERT_CHAIN`, else `None`.
fn configured_public_key(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<PublicKey>, String> {
    if let Some(path) = get(vars::PUBLIC_KEY) {
        let bytes = sig_core::__private::fs::read_bounded(path.as_ref(), MAX_PUBLIC_KEY_FILE_LEN)
            .map_err(|e| format!("{} {path}: cannot read it: {e}", vars::PUBLIC_KEY))?;
        let key = cosign_compat::verify::VerificationKey::from_bytes(&bytes)
            .map_err(|e| format!("{} {path}: {e}", vars::PUBLIC_KEY))?;
        return Ok(Some(key.public_key().clone()));
    }
    if let Some(path) = get(vars::CERT_CHAIN) {
        let chain = CertificateChain::read_pem_file(path.as_ref())
            .map_err(|e| format!("{} {path}: {e}", vars::CERT_CHAIN))?;
        let key =
            chain.leaf().public_key().map_err(|e| format!("{} {path}: {e}", vars::CERT_CHAIN))?;
        return Ok(Some(key));
    }
    Ok(None)
}

/// Where to give the public key of a program or token key.
pub fn public_key_advice() -> String {
    format!(
        "a signer program or token key needs its public key: set {} to a PEM public key (or certificate) file, or {} to its certificate chain",
        vars::PUBLIC_KEY,
        vars::CERT_CHAIN
    )
}
