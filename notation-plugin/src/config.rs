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

use std::path::{Path, PathBuf};

use sig_core::key_source::env as vars;
use sig_core::key_source::{KeySource, OpenedKey, ProgramSettings, Secret};
use sig_core::{CertificateChain, CertifiedKey, OutputEncoding, Pkcs11Uri};

use crate::protocol::{PluginConfig, PluginError};

/// Reads an environment variable (injected so tests never touch the process environment).
pub type Env<'a> = sig_core::key_source::Env<'a>;

/// One configuration setting: its `pluginConfig` key and environment variable.
struct Setting {
    key: &'static str,
    env: &'static str,
}

const SIGNER: Setting = Setting { key: "signer", env: vars::SIGNER };
const PRIVATE_KEY: Setting = Setting { key: "private_key", env: vars::PRIVATE_KEY };
const CERT_CHAIN: Setting = Setting { key: "cert_chain", env: vars::CERT_CHAIN };
const TIMEOUT: Setting = Setting { key: "signer_timeout", env: vars::SIGNER_TIMEOUT };
const ENCODING: Setting = Setting { key: "signature_encoding", env: vars::SIGNATURE_ENCODING };
const PKCS11_URI: Setting = Setting { key: "pkcs11_uri", env: vars::PKCS11_URI };
const PKCS11_MODULE: Setting = Setting { key: "pkcs11_module", env: vars::PKCS11_MODULE };
const SIGNER_ENV: Setting = Setting { key: "signer_env", env: vars::SIGNER_ENV };
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
pub const PASSWORD_ENV: &str = vars::PRIVATE_KEY_PASSWORD;
/// Environment variable naming a file that holds the password of an encrypted private key.
pub const PASSWORD_FILE_ENV: &str = vars::PRIVATE_KEY_PASSWORD_FILE;
/// Environment variable holding the PKCS#11 token's user PIN.
pub const PIN_ENV: &str = vars::PKCS11_PIN;
/// Environment variable naming a file that holds the PKCS#11 token's user PIN.
pub const PIN_FILE_ENV: &str = vars::PKCS11_PIN_FILE;

/// The resolved configuration: the chain file and one typed [`KeySource`] (a key file, a
/// signer program with its settings, or a PKCS#11 token key), so that "exactly one key" is a
/// type, not a comment.
#[derive(Debug)]
pub struct Config {
    /// Certificate chain file.
    pub cert_chain: PathBuf,
    /// The key. A signer program gets `EXTERNAL_CERT_CHAIN`, `EXTERNAL_PRIVATE_KEY` (when
    /// configured) and the secrets `signer_env` names in its environment; its key id is set per
    /// request.
    pub key: KeySource,
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
            return Err(no_signer());
        }
        // Checked whatever the key, so that a mistake is reported at once.
        let (timeout, encoding, signer_env) = program_settings(&get)?;
        let key = match (pkcs11, signer, private_key) {
            (Some((uri, module)), _, _) => {
                KeySource::Pkcs11 { uri, module, pin: Secret::pin_from_env(env) }
            }
            (None, Some(program), private_key) => {
                let mut settings = ProgramSettings::new(program);
                settings.timeout = timeout;
                settings.encoding = encoding;
                settings.env.push((CERT_CHAIN.env.into(), cert_chain.clone().into()));
                if let Some(key) = private_key {
                    settings.env.push((PRIVATE_KEY.env.into(), key.into()));
                }
                for name in signer_env {
                    if let Some(value) = env(&name) {
                        settings.env.push((name.into(), value.into()));
                    }
                }
                KeySource::Program(settings)
            }
            (None, None, Some(path)) => {
                KeySource::File { path, password: Secret::password_from_env(env) }
            }
            (None, None, None) => return Err(no_signer()),
        };
        Ok(Self { cert_chain, key })
    }

    /// The signer program, its time limit and output encoding, when the key is a program.
    pub fn program(&self) -> Option<&ProgramSettings> {
        match &self.key {
            KeySource::Program(settings) => Some(settings),
            _ => None,
        }
    }

    /// The private key file: signed with in-process, or passed to the signer program.
    pub fn private_key(&self) -> Option<&Path> {
        match &self.key {
            KeySource::File { path, .. } => Some(path),
            KeySource::Program(settings) => settings
                .env
                .iter()
                .find(|(name, _)| name == PRIVATE_KEY.env)
                .map(|(_, value)| Path::new(value)),
            _ => None,
        }
    }

    /// Where the token PIN would come from, without reading it.
    pub fn pin_source(&self) -> PinSource {
        match &self.key {
            KeySource::Pkcs11 { pin: Some(Secret::File(path)), .. } => {
                PinSource::File(path.clone())
            }
            KeySource::Pkcs11 { pin: Some(_), .. } => PinSource::Environment,
            KeySource::Pkcs11 { uri, pin: None, .. } => {
                uri.pin_source().map_or(PinSource::None, |p| PinSource::UriPinSource(p.to_owned()))
            }
            _ => PinSource::None,
        }
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

    /// Loads the chain and opens the key for its leaf (reads the key file, prepares the program,
    /// or logs in to the token), without pairing them: `doctor` reports on the key first.
    ///
    /// # Errors
    ///
    /// Chain, key, password, PIN and token errors, mapped to their error codes.
    pub fn open(
        &self,
        env: Env<'_>,
        key_id: &str,
        now: std::time::SystemTime,
    ) -> Result<(CertificateChain, OpenedKey), PluginError> {
        if let Some(settings) = self.program() {
            // Before the chain: a relative path is a configuration mistake, whatever the chain.
            let path = env("PATH").map(std::ffi::OsString::from);
            settings.resolve(path.as_deref()).map_err(|reason| {
                PluginError::validation(format!(
                    "signer program {}: {reason}",
                    settings.program.display()
                ))
            })?;
        }
        let chain = self.chain(now)?;
        let key = match &self.key {
            KeySource::Program(settings) => {
                let mut settings = settings.clone();
                settings.key_id = key_id.to_owned();
                KeySource::Program(settings).open(Some(chain.leaf()))
            }
            other => other.open(Some(chain.leaf())),
        }?;
        Ok((chain, key))
    }

    /// The signer: the chain (ordered and checked by notation's rules at `now`) with the key,
    /// checked against the leaf.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), and a key that is not the leaf's.
    pub fn signer(
        &self,
        env: Env<'_>,
        key_id: &str,
        now: std::time::SystemTime,
    ) -> Result<CertifiedKey, PluginError> {
        let (chain, key) = self.open(env, key_id, now)?;
        Ok(CertifiedKey::new(chain, key).map_err(sig_core::Error::from)?)
    }
}

fn no_signer() -> PluginError {
    PluginError::validation(
        "no signer configured: set --plugin-config private_key=PATH (or EXTERNAL_PRIVATE_KEY) to sign in-process, signer=PROGRAM (or EXTERNAL_SIGNER) to run a signing program, or pkcs11_uri=pkcs11:... (or EXTERNAL_PKCS11_URI) to sign with a key in a PKCS#11 token",
    )
}

/// The signer program's time limit, output encoding and `signer_env` (validated even when the
/// key is not a program).
fn program_settings(
    get: &dyn Fn(&Setting) -> Option<String>,
) -> Result<(std::time::Duration, OutputEncoding, Vec<String>), PluginError> {
    let timeout = match get(&TIMEOUT) {
        None => sig_core::signer::DEFAULT_TIMEOUT,
        Some(text) => sig_core::key_source::parse_timeout(&text).ok_or_else(|| {
            PluginError::validation(format!(
                "invalid signer_timeout {text:?}: give a number of seconds greater than 0 and at most 86400, e.g. 30 or 2.5"
            ))
        })?,
    };
    let encoding = match get(&ENCODING) {
        None => OutputEncoding::Raw,
        Some(text) => text.parse().map_err(PluginError::validation)?,
    };
    let signer_env = get(&SIGNER_ENV).map(|text| parse_signer_env(&text)).transpose()?;
    Ok((timeout, encoding, signer_env.unwrap_or_default()))
}

/// The PKCS#11 key, when it is the configured signer: `pkcs11_uri` in `pluginConfig`, or in the
/// environment when `pluginConfig` names no key file or signer program.
fn resolve_pkcs11(
    plugin_config: &PluginConfig,
    env: Env<'_>,
) -> Result<Option<(Pkcs11Uri, Option<PathBuf>)>, PluginError> {
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
    let uri = Pkcs11Uri::parse(&uri).map_err(|e| {
        PluginError::validation(format!("pkcs11_uri: {e}{}", crate::advice::pkcs11(&e)))
    })?;
    let module =
        in_config(&PKCS11_MODULE).cloned().or_else(|| in_env(&PKCS11_MODULE)).map(PathBuf::from);
    Ok(Some((uri, module)))
}

/// `signer_env`: names from [`sig_core::key_source::SECRET_ENV`], separated by commas or spaces.
fn parse_signer_env(text: &str) -> Result<Vec<String>, PluginError> {
    match sig_core::key_source::parse_secret_names(text) {
        Ok(names) => Ok(names.into_iter().map(str::to_owned).collect()),
        Err(name) => Err(PluginError::validation(format!(
            "signer_env names {name:?}, which is not one of the plugin's secret variables; the signer program sees the rest of the environment anyway, and signer_env takes only {}",
            sig_core::key_source::SECRET_ENV.join(", ")
        ))),
    }
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

    fn program(c: &Config) -> &ProgramSettings {
        c.program().unwrap_or_else(|| panic!("not a program: {:?}", c.key))
    }

    #[test]
    fn plugin_config_wins_over_environment() {
        let env = env_of(&[
            ("EXTERNAL_CERT_CHAIN", "/env/chain.pem"),
            ("EXTERNAL_PRIVATE_KEY", "/env/key"),
        ]);
        let c = Config::resolve(&config(&[("cert_chain", "/cfg/chain.pem")]), &env).unwrap();
        assert_eq!(c.cert_chain, PathBuf::from("/cfg/chain.pem"));
        assert!(
            matches!(&c.key, KeySource::File { path, password: None } if path == Path::new("/env/key"))
        );
        let c = Config::resolve(&config(&[("cert_chain", "c"), ("signer", "s")]), &env).unwrap();
        let settings = program(&c);
        assert_eq!(settings.timeout, std::time::Duration::from_secs(60));
        assert_eq!(settings.encoding, OutputEncoding::Raw);
        assert_eq!(c.private_key(), Some(Path::new("/env/key")), "passed to the program");
        assert!(settings.env.contains(&("EXTERNAL_CERT_CHAIN".into(), "c".into())));
    }

    #[test]
    fn key_password_and_signer_secrets_come_from_the_environment() {
        let env = env_of(&[
            ("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE", "/run/pw"),
            ("EXTERNAL_PKCS11_PIN", "1234"),
        ]);
        let c =
            Config::resolve(&config(&[("cert_chain", "c"), ("private_key", "k")]), &env).unwrap();
        assert!(
            matches!(&c.key, KeySource::File { password: Some(Secret::File(p)), .. } if p == Path::new("/run/pw")),
            "{:?}",
            c.key
        );
        let cfg =
            config(&[("cert_chain", "c"), ("signer", "s"), ("signer_env", "EXTERNAL_PKCS11_PIN")]);
        let c = Config::resolve(&cfg, &env).unwrap();
        assert!(program(&c).env.contains(&("EXTERNAL_PKCS11_PIN".into(), "1234".into())));
        assert!(!format!("{c:?}").contains("1234"), "a secret in Debug: {c:?}");
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
        let KeySource::Pkcs11 { uri, module, .. } = &c.key else { panic!("{:?}", c.key) };
        assert_eq!(uri.object(), Some("k"));
        assert_eq!(module.as_deref(), Some(Path::new("/env.so")));
        assert_eq!(c.private_key(), None, "EXTERNAL_PRIVATE_KEY is not used");
        // pluginConfig's key file wins over the environment's URI.
        let env = env_of(&[("EXTERNAL_PKCS11_URI", URI)]);
        let c =
            Config::resolve(&config(&[("cert_chain", "c"), ("private_key", "k")]), &env).unwrap();
        assert!(matches!(&c.key, KeySource::File { path, .. } if path == Path::new("k")));
        let c = Config::resolve(&config(&[("cert_chain", "c")]), &env).unwrap();
        assert!(matches!(c.key, KeySource::Pkcs11 { .. }));
        let err = Config::resolve(
            &config(&[("cert_chain", "c"), ("pkcs11_uri", "pkcs11:?pin-value=1")]),
            &env,
        )
        .unwrap_err();
        assert!(err.error_message.starts_with("pkcs11_uri: the PKCS#11 URI contains pin-value"));
        // The plugin's advice (sig-core's message names no variable).
        for advice in ["notation stores pluginConfig in plain text", "EXTERNAL_PKCS11_PIN_FILE"] {
            assert!(err.error_message.contains(advice), "{}", err.error_message);
        }
    }

    #[test]
    fn pin_source_prefers_the_environment() {
        let cfg =
            config(&[("cert_chain", "c"), ("pkcs11_uri", "pkcs11:object=k?pin-source=/uri-pin")]);
        let c = Config::resolve(&cfg, &env_of(&[])).unwrap();
        assert_eq!(c.pin_source(), PinSource::UriPinSource("/uri-pin".into()));
        let env = env_of(&[("EXTERNAL_PKCS11_PIN_FILE", "/f")]);
        assert_eq!(Config::resolve(&cfg, &env).unwrap().pin_source(), PinSource::File("/f".into()));
        let env = env_of(&[("EXTERNAL_PKCS11_PIN_FILE", "/f"), ("EXTERNAL_PKCS11_PIN", "1")]);
        assert_eq!(Config::resolve(&cfg, &env).unwrap().pin_source(), PinSource::Environment);
    }

    #[test]
    fn parses_timeout_and_encoding() {
        let env = env_of(&[
            ("EXTERNAL_SIGNER_TIMEOUT", "2.5"),
            ("EXTERNAL_SIGNATURE_ENCODING", "base64"),
        ]);
        let c = Config::resolve(&config(&[("cert_chain", "c"), ("signer", "s")]), &env).unwrap();
        assert_eq!(program(&c).timeout, std::time::Duration::from_millis(2500));
        assert_eq!(program(&c).encoding, OutputEncoding::Base64);
        for bad in ["0", "-1", "abc", "1e9"] {
            let cfg = config(&[("cert_chain", "c"), ("signer", "s"), ("signer_timeout", bad)]);
            let err = Config::resolve(&cfg, &env_of(&[])).unwrap_err();
            assert!(err.error_message.contains("invalid signer_timeout"), "{bad}");
            // Checked whatever the key, as before.
            let cfg = config(&[("cert_chain", "c"), ("private_key", "k"), ("signer_timeout", bad)]);
            assert!(Config::resolve(&cfg, &env_of(&[])).is_err(), "{bad}");
        }
        let cfg = config(&[("cert_chain", "c"), ("signer", "s"), ("signature_encoding", "pem")]);
        assert!(Config::resolve(&cfg, &env_of(&[])).is_err());
    }
}
