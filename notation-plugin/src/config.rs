//! Plugin configuration: `pluginConfig` first, then the `EXTERNAL_*` environment.
//!
//! | pluginConfig         | environment                   | meaning                                    |
//! |----------------------|-------------------------------|--------------------------------------------|
//! | `signer`             | `EXTERNAL_SIGNER`             | program that signs stdin to stdout         |
//! | `private_key`        | `EXTERNAL_PRIVATE_KEY`        | key file (in-process, or passed to signer) |
//! | `cert_chain`         | `EXTERNAL_CERT_CHAIN`         | chain file, PEM bundle or DER, any order   |
//! | `signer_timeout`     | `EXTERNAL_SIGNER_TIMEOUT`     | seconds to wait for the signer (60)        |
//! | `signature_encoding` | `EXTERNAL_SIGNATURE_ENCODING` | `raw` (default), `base64` or `hex`         |
//! | `pkcs11_uri`         | `EXTERNAL_PKCS11_URI`         | RFC 7512 URI of a key in a PKCS#11 token   |
//! | `pkcs11_module`      | `EXTERNAL_PKCS11_MODULE`      | PKCS#11 module (or the URI's module-path)  |
//! | `signer_env`         | `EXTERNAL_SIGNER_ENV`         | secrets the signer may see (see below)     |
//!
//! A key is one of: a PKCS#11 token key (`pkcs11_uri`), a key file (`private_key`), or a signer
//! program (`signer`, optionally with `private_key`). `pkcs11_uri` cannot be combined with
//! `signer` or `private_key` from the same source; when the two kinds come from different
//! sources, `pluginConfig` wins over the environment as for every setting.
//!
//! Secrets come only from the environment, never from `pluginConfig`, which notation stores in
//! plain text in `signingkeys.json`: the password of an encrypted key from
//! `EXTERNAL_PRIVATE_KEY_PASSWORD` or a file named by `EXTERNAL_PRIVATE_KEY_PASSWORD_FILE`; the
//! token PIN from `EXTERNAL_PKCS11_PIN` or a file named by `EXTERNAL_PKCS11_PIN_FILE` (else the
//! file named by the URI's `pin-source`). A URI with `pin-value` is refused.
//!
//! These four variables are the plugin's secrets and are not passed to a signer program, unless
//! `signer_env` names them (comma-separated), e.g. `signer_env=EXTERNAL_PRIVATE_KEY_PASSWORD_FILE`
//! for a program that decrypts the key itself. The signer program is an absolute path or a bare
//! name looked up in the absolute entries of `PATH`; a relative path is refused.

use std::path::PathBuf;
use std::time::Duration;

use sig_core::__private::fs;
use sig_core::{
    CertificateChain, CommandSigner, KeyFileSigner, OutputEncoding, Pkcs11Pin, Pkcs11Signer,
    Pkcs11Uri, Signer,
};
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
const PKCS11_URI: Setting = Setting { key: "pkcs11_uri", env: "EXTERNAL_PKCS11_URI" };
const PKCS11_MODULE: Setting = Setting { key: "pkcs11_module", env: "EXTERNAL_PKCS11_MODULE" };
const SIGNER_ENV: Setting = Setting { key: "signer_env", env: "EXTERNAL_SIGNER_ENV" };
const SETTINGS: [&Setting; 8] = [
    &SIGNER,
    &PRIVATE_KEY,
    &CERT_CHAIN,
    &TIMEOUT,
    &ENCODING,
    &PKCS11_URI,
    &PKCS11_MODULE,
    &SIGNER_ENV,
];

/// Environment variable holding the password of an encrypted private key.
pub const PASSWORD_ENV: &str = "EXTERNAL_PRIVATE_KEY_PASSWORD";
/// Environment variable naming a file that holds the password of an encrypted private key.
pub const PASSWORD_FILE_ENV: &str = "EXTERNAL_PRIVATE_KEY_PASSWORD_FILE";
/// Environment variable holding the PKCS#11 token's user PIN.
pub const PIN_ENV: &str = "EXTERNAL_PKCS11_PIN";
/// Environment variable naming a file that holds the PKCS#11 token's user PIN.
pub const PIN_FILE_ENV: &str = "EXTERNAL_PKCS11_PIN_FILE";
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
    /// The PKCS#11 token key, if that is the signer (then `signer` and `private_key` are
    /// `None`).
    pub pkcs11: Option<Pkcs11Config>,
    /// The plugin's secret variables ([`sig_core::signer::SECRET_ENV`]) that the signer program
    /// may see (`signer_env`); the others are removed from its environment.
    pub signer_env: Vec<String>,
}

/// A key in a PKCS#11 token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Config {
    /// The key's URI (never with a PIN).
    pub uri: Pkcs11Uri,
    /// The module, when configured apart from the URI's `module-path`.
    pub module: Option<PathBuf>,
}

/// Where the token PIN comes from (never the PIN itself), for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// [`PIN_ENV`].
    Environment,
    /// The file named by [`PIN_FILE_ENV`].
    File(PathBuf),
    /// The file named by the URI's `pin-source`.
    UriPinSource(PathBuf),
    /// No PIN configured.
    None,
}

impl Config {
    /// Resolves the configuration: `plugin_config` wins over `env`.
    ///
    /// # Errors
    ///
    /// `VALIDATION_ERROR` for unknown or secret-looking keys, missing chain or signer, a
    /// PKCS#11 URI combined with a key file or signer program, a malformed URI or one with
    /// `pin-value`, and bad timeout or encoding values.
    pub fn resolve(plugin_config: &PluginConfig, env: Env<'_>) -> Result<Self, PluginError> {
        for key in plugin_config.keys() {
            let lower = key.to_ascii_lowercase();
            if ["password", "pin", "secret", "passphrase"].iter().any(|s| lower.contains(s)) {
                let (what, var, file_var) = if lower.contains("pin") {
                    ("the token PIN", PIN_ENV, PIN_FILE_ENV)
                } else {
                    ("the key password", PASSWORD_ENV, PASSWORD_FILE_ENV)
                };
                return Err(PluginError::validation(format!(
                    "pluginConfig key {key:?} looks like a secret; notation stores pluginConfig in plain text, so give {what} in {var} or a file named by {file_var} instead"
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
        let pkcs11 = resolve_pkcs11(plugin_config, env)?;
        let (signer, private_key) = if pkcs11.is_some() {
            (None, None)
        } else {
            (get(&SIGNER).map(PathBuf::from), get(&PRIVATE_KEY).map(PathBuf::from))
        };
        let cert_chain = get(&CERT_CHAIN).map(PathBuf::from).ok_or_else(|| {
            PluginError::validation(
                "no certificate chain configured: set --plugin-config cert_chain=PATH (or EXTERNAL_CERT_CHAIN) to a PEM bundle with the leaf, intermediate and root certificates",
            )
        })?;
        if pkcs11.is_none() && signer.is_none() && private_key.is_none() {
            return Err(PluginError::validation(
                "no signer configured: set --plugin-config private_key=PATH (or EXTERNAL_PRIVATE_KEY) to sign in-process, signer=PROGRAM (or EXTERNAL_SIGNER) to run a signing program, or pkcs11_uri=pkcs11:... (or EXTERNAL_PKCS11_URI) to sign with a key in a PKCS#11 token",
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
        let signer_env = match get(&SIGNER_ENV) {
            None => Vec::new(),
            Some(text) => parse_signer_env(&text)?,
        };
        Ok(Self {
            signer,
            private_key,
            cert_chain,
            signer_timeout,
            signature_encoding,
            pkcs11,
            signer_env,
        })
    }

    /// Where the token PIN would come from, without reading it.
    pub fn pin_source(&self, env: Env<'_>) -> PinSource {
        if env(PIN_ENV).is_some_and(|p| !p.is_empty()) {
            PinSource::Environment
        } else if let Some(file) = env(PIN_FILE_ENV).filter(|f| !f.is_empty()) {
            PinSource::File(file.into())
        } else if let Some(file) = self.pkcs11.as_ref().and_then(|p| p.uri.pin_source()) {
            PinSource::UriPinSource(file.to_owned())
        } else {
            PinSource::None
        }
    }

    /// Opens the PKCS#11 token key when that is the configured signer (`Ok(None)` otherwise):
    /// loads and checks the chain at `now`, logs in with the PIN from the environment, and
    /// checks the key against the leaf.
    ///
    /// # Errors
    ///
    /// Chain errors, PIN file errors and the [`Pkcs11Signer`] errors, mapped to their codes
    /// (`ACCESS_DENIED` for a missing or wrong PIN).
    pub fn pkcs11_signer(
        &self,
        env: Env<'_>,
        now: std::time::SystemTime,
    ) -> Result<Option<Pkcs11Signer>, PluginError> {
        let Some(pkcs11) = &self.pkcs11 else {
            return Ok(None);
        };
        let chain = self.chain(now)?;
        let mut builder = Pkcs11Signer::builder(pkcs11.uri.clone());
        if let Some(module) = &pkcs11.module {
            builder = builder.module(module);
        }
        match self.pin_source(env) {
            PinSource::Environment => {
                if let Some(pin) = env(PIN_ENV) {
                    builder = builder.pin(Pkcs11Pin::new(pin));
                }
            }
            PinSource::File(path) => {
                builder = builder.pin(Pkcs11Pin::from_file(&path).map_err(sig_core::Error::from)?);
            }
            // The builder reads the URI's pin-source itself.
            PinSource::UriPinSource(_) | PinSource::None => {}
        }
        Ok(Some(builder.open(chain)?))
    }

    /// The certificate chain, ordered and checked by notation's rules at `now`. Errors name the
    /// chain file.
    fn chain(&self, now: std::time::SystemTime) -> Result<CertificateChain, PluginError> {
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
        let chain = CertificateChain::read_pem_file(&self.cert_chain).map_err(in_chain_file)?;
        chain.validate(now).map_err(in_chain_file)?;
        Ok(chain)
    }

    /// Loads the chain and key (or prepares the program, or opens the token key) and returns the
    /// signer. The chain is ordered and checked by notation's rules at `now`; a key file or
    /// token key is checked against the leaf.
    ///
    /// # Errors
    ///
    /// Chain, key, password, PIN and token errors, mapped to their error codes.
    pub fn signer(
        &self,
        env: Env<'_>,
        key_id: &str,
        now: std::time::SystemTime,
    ) -> Result<Box<dyn Signer>, PluginError> {
        if let Some(signer) = self.pkcs11_signer(env, now)? {
            return Ok(Box::new(signer));
        }
        if let Some(program) = &self.signer {
            // Before the chain: a relative path is a configuration mistake, whatever the chain.
            let path = env("PATH").map(std::ffi::OsString::from);
            sig_core::signer::resolve_program(program, path.as_deref()).map_err(|reason| {
                PluginError::validation(format!("signer program {}: {reason}", program.display()))
            })?;
        }
        let chain = self.chain(now)?;
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
            for name in &self.signer_env {
                if let Some(value) = env(name) {
                    signer = signer.env(name, value);
                }
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

/// The PKCS#11 key, when it is the configured signer: `pkcs11_uri` in `pluginConfig`, or in the
/// environment when `pluginConfig` names no key file or signer program.
fn resolve_pkcs11(
    plugin_config: &PluginConfig,
    env: Env<'_>,
) -> Result<Option<Pkcs11Config>, PluginError> {
    let in_config = |s: &Setting| plugin_config.get(s.key).filter(|v| !v.trim().is_empty());
    let in_env = |s: &Setting| env(s.env).filter(|v| !v.trim().is_empty());
    let other_in_config: Vec<&str> =
        [&SIGNER, &PRIVATE_KEY].iter().filter(|s| in_config(s).is_some()).map(|s| s.key).collect();
    let uri = match in_config(&PKCS11_URI) {
        Some(_) if !other_in_config.is_empty() => {
            return Err(PluginError::validation(format!(
                "pluginConfig sets both pkcs11_uri and {}: these are different signers; give pkcs11_uri for a key in a PKCS#11 token, or private_key/signer for a key file or signing program",
                other_in_config.join(" and ")
            )));
        }
        Some(uri) => uri.clone(),
        // pluginConfig names a key file or program: it wins over an EXTERNAL_PKCS11_URI.
        None if !other_in_config.is_empty() => {
            if in_config(&PKCS11_MODULE).is_some() {
                return Err(PluginError::validation(
                    "pluginConfig sets pkcs11_module but the signer is a key file or program (private_key/signer); pkcs11_module goes with pkcs11_uri",
                ));
            }
            return Ok(None);
        }
        None => {
            let Some(uri) = in_env(&PKCS11_URI) else {
                if in_config(&PKCS11_MODULE).is_some() {
                    return Err(PluginError::validation(
                        "pkcs11_module is set but no pkcs11_uri: give the key's URI with --plugin-config pkcs11_uri=pkcs11:token=...;object=... (or EXTERNAL_PKCS11_URI)",
                    ));
                }
                return Ok(None);
            };
            let other_in_env: Vec<&str> = [&SIGNER, &PRIVATE_KEY]
                .iter()
                .filter(|s| in_env(s).is_some())
                .map(|s| s.env)
                .collect();
            if !other_in_env.is_empty() {
                return Err(PluginError::validation(format!(
                    "the environment sets both EXTERNAL_PKCS11_URI and {}: these are different signers; unset one, or choose in pluginConfig (pkcs11_uri, or private_key/signer)",
                    other_in_env.join(" and ")
                )));
            }
            uri
        }
    };
    // The parse errors never repeat the URI, so a pin-value in it is not echoed.
    let uri =
        Pkcs11Uri::parse(&uri).map_err(|e| PluginError::validation(format!("pkcs11_uri: {e}")))?;
    let module =
        in_config(&PKCS11_MODULE).cloned().or_else(|| in_env(&PKCS11_MODULE)).map(PathBuf::from);
    Ok(Some(Pkcs11Config { uri, module }))
}

/// `signer_env`: names from [`sig_core::signer::SECRET_ENV`], separated by commas or spaces.
fn parse_signer_env(text: &str) -> Result<Vec<String>, PluginError> {
    let secrets = sig_core::signer::SECRET_ENV;
    text.split([',', ' ', '\t'])
        .filter(|name| !name.is_empty())
        .map(|name| {
            if secrets.contains(&name) {
                Ok(name.to_owned())
            } else {
                Err(PluginError::validation(format!(
                    "signer_env names {name:?}, which is not one of the plugin's secret variables; the signer program sees the rest of the environment anyway, and signer_env takes only {}",
                    secrets.join(", ")
                )))
            }
        })
        .collect()
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
    let bytes = fs::read_bounded(path.as_ref(), 64 * 1024).map_err(|source| {
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
    fn pkcs11_uri_is_a_signer_of_its_own() {
        const URI: &str = "pkcs11:token=t;object=k?module-path=/m.so";
        let env =
            env_of(&[("EXTERNAL_PRIVATE_KEY", "/env/key"), ("EXTERNAL_PKCS11_MODULE", "/env.so")]);
        let c =
            Config::resolve(&config(&[("cert_chain", "c"), ("pkcs11_uri", URI)]), &env).unwrap();
        let pkcs11 = c.pkcs11.unwrap();
        assert_eq!(pkcs11.uri.object(), Some("k"));
        assert_eq!(pkcs11.module, Some(PathBuf::from("/env.so")));
        assert_eq!((c.signer, c.private_key), (None, None), "EXTERNAL_PRIVATE_KEY is not used");
        // pluginConfig's key file wins over the environment's URI.
        let env = env_of(&[("EXTERNAL_PKCS11_URI", URI)]);
        let c =
            Config::resolve(&config(&[("cert_chain", "c"), ("private_key", "k")]), &env).unwrap();
        assert_eq!((c.pkcs11, c.private_key), (None, Some(PathBuf::from("k"))));
        let c = Config::resolve(&config(&[("cert_chain", "c")]), &env).unwrap();
        assert!(c.pkcs11.is_some());
        let err = Config::resolve(
            &config(&[("cert_chain", "c"), ("pkcs11_uri", "pkcs11:?pin-value=1")]),
            &env,
        )
        .unwrap_err();
        assert!(err.error_message.starts_with("pkcs11_uri: the PKCS#11 URI contains pin-value"));
    }

    #[test]
    fn pin_source_prefers_the_environment() {
        let cfg =
            config(&[("cert_chain", "c"), ("pkcs11_uri", "pkcs11:object=k?pin-source=/uri-pin")]);
        let c = Config::resolve(&cfg, &env_of(&[])).unwrap();
        assert_eq!(c.pin_source(&env_of(&[])), PinSource::UriPinSource("/uri-pin".into()));
        let env = env_of(&[("EXTERNAL_PKCS11_PIN_FILE", "/f")]);
        assert_eq!(c.pin_source(&env), PinSource::File("/f".into()));
        let env = env_of(&[("EXTERNAL_PKCS11_PIN_FILE", "/f"), ("EXTERNAL_PKCS11_PIN", "1")]);
        assert_eq!(c.pin_source(&env), PinSource::Environment);
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
