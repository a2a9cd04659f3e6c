//! Plugin configuration: `pluginConfig` first, then the `EXTERNAL_*` environment.
//!
//! | pluginConfig         | environment                   | meaning                                    |
//! |----------------------|-------------------------------|--------------------------------------------|
//! | `signer`             | `EXTERNAL_SIGNER`             | program that signs stdin to stdout         |
//! | `private_key`        | `EXTERNAL_PRIVATE_KEY`        | key file (in-process, or passed to signer) |
//! | `cert_chain`         | `EXTERNAL_CERT_CHAIN`         | chain file, PEM bundle or DER, any order   |
//! | `signer_timeout`     | `EXTERNAL_SIGNER_TIMEOUT`     | seconds to wait for the signer (60)        |
//! | `signature_encoding` | `EXTERNAL_SIGNATURE_ENCODING` | `raw` (default), `base64` or `hex`         |
//!
//! The password of an encrypted key comes only from the environment
//! (`EXTERNAL_PRIVATE_KEY_PASSWORD`, or a file named by `EXTERNAL_PRIVATE_KEY_PASSWORD_FILE`),
//! never from `pluginConfig`, which notation stores in plain text in `signingkeys.json`.

use std::path::PathBuf;
use std::time::Duration;

use sig_core::{CertificateChain, CommandSigner, KeyFileSigner, OutputEncoding, Signer};
use zeroize::Zeroizing;

use crate::protocol::{PluginConfig, PluginError};

/// Reads an environment variable (injected so tests never touch the process environment).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One configuration setting: its `pluginConfig` key and environment variable.
struct Setting {
    key: &'static str,
    env: &'static str,
}

const SIGNER: Setting = Setting { key: "signer", env: "EXTERNAL_SIGNER" };
const PRIVATE_KEY: Setting = Setting { key: "private_key", env: "EXTERNAL_PRIVATE_KEY" };
const CERT_CHAIN: Setting = Setting { key: "cert_chain", env: "EXTERNAL_CERT_CHAIN" };
const TIMEOUT: Setting = Setting { key: "signer_timeout", env: "EXTERNAL_SIGNER_TIMEOUT" };
const ENCODING: Setting = Setting { key: "signature_encoding", env: "EXTERNAL_SIGNATURE_ENCODING" };
const SETTINGS: [&Setting; 5] = [&SIGNER, &PRIVATE_KEY, &CERT_CHAIN, &TIMEOUT, &ENCODING];

/// Environment variable holding the password of an encrypted private key.
pub const PASSWORD_ENV: &str = "EXTERNAL_PRIVATE_KEY_PASSWORD";
/// Environment variable naming a file that holds the password of an encrypted private key.
pub const PASSWORD_FILE_ENV: &str = "EXTERNAL_PRIVATE_KEY_PASSWORD_FILE";
/// Longest signer timeout accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Signer program, if any.
    pub signer: Option<PathBuf>,
    /// Private key file, if any.
    pub private_key: Option<PathBuf>,
    /// Certificate chain file.
    pub cert_chain: PathBuf,
    /// Signer program time limit.
    pub signer_timeout: Duration,
    /// Signer program output encoding.
    pub signature_encoding: OutputEncoding,
}

impl Config {
    /// Resolves the configuration: `plugin_config` wins over `env`.
    ///
    /// # Errors
    ///
    /// `VALIDATION_ERROR` for unknown or secret-looking keys, missing chain or signer, and bad
    /// timeout or encoding values.
    pub fn resolve(plugin_config: &PluginConfig, env: Env<'_>) -> Result<Self, PluginError> {
        for key in plugin_config.keys() {
            let lower = key.to_ascii_lowercase();
            if ["password", "pin", "secret", "passphrase"].iter().any(|s| lower.contains(s)) {
                return Err(PluginError::validation(format!(
                    "pluginConfig key {key:?} looks like a secret; notation stores pluginConfig in plain text, so give the key password in {PASSWORD_ENV} or a file named by {PASSWORD_FILE_ENV} instead"
                )));
            }
            if !SETTINGS.iter().any(|s| s.key == key) {
                let known: Vec<_> = SETTINGS.iter().map(|s| s.key).collect();
                return Err(PluginError::validation(format!(
                    "unknown pluginConfig key {key:?}; known keys are {}",
                    known.join(", ")
                )));
            }
        }
        let get = |s: &Setting| {
            plugin_config
                .get(s.key)
                .cloned()
                .or_else(|| env(s.env))
                .filter(|v| !v.trim().is_empty())
        };
        let signer = get(&SIGNER).map(PathBuf::from);
        let private_key = get(&PRIVATE_KEY).map(PathBuf::from);
        let cert_chain = get(&CERT_CHAIN).map(PathBuf::from).ok_or_else(|| {
            PluginError::validation(
                "no certificate chain configured: set --plugin-config cert_chain=PATH (or EXTERNAL_CERT_CHAIN) to a PEM bundle with the leaf, intermediate and root certificates",
            )
        })?;
        if signer.is_none() && private_key.is_none() {
            return Err(PluginError::validation(
                "no signer configured: set --plugin-config private_key=PATH (or EXTERNAL_PRIVATE_KEY) to sign in-process, or signer=PROGRAM (or EXTERNAL_SIGNER) to run a signing program",
            ));
        }
        let signer_timeout = match get(&TIMEOUT) {
            None => sig_core::signer::DEFAULT_TIMEOUT,
            Some(text) => parse_timeout(&text).ok_or_else(|| {
                PluginError::validation(format!(
                    "invalid signer_timeout {text:?}: give a number of seconds greater than 0 and at most 86400, e.g. 30 or 2.5"
                ))
            })?,
        };
        let signature_encoding = match get(&ENCODING) {
            None => OutputEncoding::Raw,
            Some(text) => text.parse().map_err(PluginError::validation)?,
        };
        Ok(Self { signer, private_key, cert_chain, signer_timeout, signature_encoding })
    }

    /// Loads the chain and key (or prepares the program) and returns the signer. The chain is
    /// ordered and checked by notation's rules at `now`; a key file is checked against the leaf.
    ///
    /// # Errors
    ///
    /// Chain, key and password errors, mapped to their error codes.
    pub fn signer(
        &self,
        env: Env<'_>,
        key_id: &str,
        now: std::time::SystemTime,
    ) -> Result<Box<dyn Signer>, PluginError> {
        let in_chain_file = |e: sig_core::CertificateError| {
            let named = matches!(
                e,
                sig_core::CertificateError::Read { .. } | sig_core::CertificateError::Empty { .. }
            );
            let mut err = PluginError::from(sig_core::Error::from(e));
            if !named {
                err.error_message = format!(
                    "certificate chain {}: {}",
                    self.cert_chain.display(),
                    err.error_message
                );
            }
            err
        };
        let chain = CertificateChain::open(&self.cert_chain).map_err(in_chain_file)?;
        chain.validate(now).map_err(in_chain_file)?;
        if let Some(program) = &self.signer {
            let mut signer = CommandSigner::new(program, chain)
                .map_err(sig_core::Error::from)?
                .timeout(self.signer_timeout)
                .encoding(self.signature_encoding)
                .key_id(key_id)
                .env(CERT_CHAIN.env, &self.cert_chain);
            if let Some(key) = &self.private_key {
                signer = signer.env(PRIVATE_KEY.env, key);
            }
            return Ok(Box::new(signer));
        }
        let Some(key_path) = &self.private_key else {
            return Err(PluginError::validation("no signer configured"));
        };
        let password = read_password(env)?;
        let key =
            sig_core::signer::open_private_key(key_path, password.as_deref().map(String::as_bytes))
                .map_err(sig_core::Error::from)?;
        let signer = KeyFileSigner::new(key, chain).map_err(sig_core::Error::from)?;
        Ok(Box::new(signer))
    }
}

fn parse_timeout(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().trim_end_matches('s').parse().ok()?;
    let timeout = Duration::try_from_secs_f64(seconds).ok()?;
    (!timeout.is_zero() && timeout <= MAX_TIMEOUT).then_some(timeout)
}

/// The key password from the environment, if one is configured.
fn read_password(env: Env<'_>) -> Result<Option<Zeroizing<String>>, PluginError> {
    if let Some(password) = env(PASSWORD_ENV) {
        return Ok(Some(Zeroizing::new(password)));
    }
    let Some(path) = env(PASSWORD_FILE_ENV) else {
        return Ok(None);
    };
    let bytes = sig_core::fs::read_bounded(path.as_ref(), 64 * 1024).map_err(|source| {
        PluginError::from(sig_core::Error::from(sig_core::KeyError::PasswordFile {
            path: path.clone().into(),
            source,
        }))
    })?;
    let bytes = Zeroizing::new(bytes);
    let text = String::from_utf8_lossy(&bytes);
    // A trailing newline from `echo pw > file` is not part of the password.
    Ok(Some(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
    }

    fn config(pairs: &[(&str, &str)]) -> PluginConfig {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn plugin_config_wins_over_environment() {
        let env = env_of(&[
            ("EXTERNAL_CERT_CHAIN", "/env/chain.pem"),
            ("EXTERNAL_PRIVATE_KEY", "/env/key"),
        ]);
        let c = Config::resolve(&config(&[("cert_chain", "/cfg/chain.pem")]), &env).unwrap();
        assert_eq!(c.cert_chain, PathBuf::from("/cfg/chain.pem"));
        assert_eq!(c.private_key, Some(PathBuf::from("/env/key")));
        assert_eq!(c.signer_timeout, Duration::from_secs(60));
        assert_eq!(c.signature_encoding, OutputEncoding::Raw);
    }

    #[test]
    fn rejects_secrets_and_unknown_keys() {
        let env = env_of(&[]);
        let err = Config::resolve(&config(&[("key_password", "x")]), &env).unwrap_err();
        assert!(err.error_message.contains("looks like a secret"), "{}", err.error_message);
        let err = Config::resolve(&config(&[("privat_key", "x")]), &env).unwrap_err();
        assert!(err.error_message.contains("unknown pluginConfig key \"privat_key\""));
    }

    #[test]
    fn requires_chain_and_signer() {
        let env = env_of(&[]);
        let err = Config::resolve(&config(&[("private_key", "k")]), &env).unwrap_err();
        assert!(err.error_message.contains("no certificate chain configured"));
        let err = Config::resolve(&config(&[("cert_chain", "c")]), &env).unwrap_err();
        assert!(err.error_message.contains("no signer configured"));
    }

    #[test]
    fn parses_timeout_and_encoding() {
        let env = env_of(&[
            ("EXTERNAL_SIGNER_TIMEOUT", "2.5"),
            ("EXTERNAL_SIGNATURE_ENCODING", "base64"),
        ]);
        let c = Config::resolve(&config(&[("cert_chain", "c"), ("signer", "s")]), &env).unwrap();
        assert_eq!(c.signer_timeout, Duration::from_millis(2500));
        assert_eq!(c.signature_encoding, OutputEncoding::Base64);
        for bad in ["0", "-1", "abc", "1e9"] {
            let cfg = config(&[("cert_chain", "c"), ("signer", "s"), ("signer_timeout", bad)]);
            let err = Config::resolve(&cfg, &env_of(&[])).unwrap_err();
            assert!(err.error_message.contains("invalid signer_timeout"), "{bad}");
        }
        let cfg = config(&[("cert_chain", "c"), ("signer", "s"), ("signature_encoding", "pem")]);
        assert!(Config::resolve(&cfg, &env_of(&[])).is_err());
    }
}
