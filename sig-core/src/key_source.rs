//! Settings → key: one typed form for "where is the signing key", shared by every application
//! (feature `key-source`, as age's `cli-common`).
//!
//! An application turns its own raw settings (the plugin's `pluginConfig` and environment,
//! cosign-compat's flags, a KMS plugin's key reference) into one [`KeySource`] in a few lines;
//! [`KeySource::open`] or [`KeySource::certified`] turns that into a key. Secrets (a key password,
//! a token PIN) are never settings: they come from the environment or from a file
//! ([`Secret`]), named by the variables of [`env`](mod@env).
//!
//! A future sigstore KMS plugin maps its key reference the same way: onto
//! [`KeySource::Program`] (a KMS command line tool under the program contract) today, or onto a
//! variant of its own (the enum is `#[non_exhaustive]`) whose key implements
//! [`SigningKey`]; the plugin's settings, secrets and advice stay in the plugin.
//!
//! ```
//! # #[cfg(not(feature = "key-source"))] fn main() {}
//! # #[cfg(feature = "key-source")]
//! # fn main() -> Result<(), sig_core::Error> {
//! use sig_core::key_source::{KeySource, Secret};
//! use sig_core::CertificateChain;
//!
//! # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki/ec-256");
//! let no_env = |_: &str| None;
//! let source = KeySource::File {
//!     path: format!("{dir}/leaf.key").into(),
//!     password: Secret::password_from_env(&no_env),
//! };
//! let signer = source.certified(CertificateChain::read_pem_file(format!("{dir}/chain.pem").as_ref())?)?;
//! assert_eq!(signer.chain().certificates().len(), 3);
//! # Ok(())
//! # }
//! ```

// Without the `key-source` feature only `env` is used, by the signer program (its secrets).
#![cfg_attr(not(feature = "key-source"), allow(dead_code, unreachable_pub))]

use core::fmt;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::{Error, KeyError, SpawnFailure};
use crate::key::{PrivateKey, PublicKey};
use crate::signer::{CertifiedKey, CommandSigner, DEFAULT_TIMEOUT, OutputEncoding, SigningKey};
use crate::x509::{Certificate, CertificateChain};
#[cfg(feature = "pkcs11")]
use crate::{
    error::Pkcs11Error,
    signer::{Pkcs11Pin, Pkcs11Signer, Pkcs11Uri},
};

/// The environment variables of the key settings and secrets, spelled once for the notation
/// plugin, cosign-compat and the signer program contract.
pub mod env {
    // Also the names sig-core itself uses (the secrets a signer program does not see).
    /// Signer program.
    pub const SIGNER: &str = "EXTERNAL_SIGNER";
    /// Private key file (signed with in-process, or passed to a signer program).
    pub const PRIVATE_KEY: &str = "EXTERNAL_PRIVATE_KEY";
    /// Certificate chain file (also passed to a signer program).
    pub const CERT_CHAIN: &str = "EXTERNAL_CERT_CHAIN";
    /// Seconds a signer program may take.
    pub const SIGNER_TIMEOUT: &str = "EXTERNAL_SIGNER_TIMEOUT";
    /// How a signer program prints the signature: `raw`, `base64` or `hex`.
    pub const SIGNATURE_ENCODING: &str = "EXTERNAL_SIGNATURE_ENCODING";
    /// RFC 7512 URI of a key in a PKCS#11 token.
    pub const PKCS11_URI: &str = "EXTERNAL_PKCS11_URI";
    /// PKCS#11 module.
    pub const PKCS11_MODULE: &str = "EXTERNAL_PKCS11_MODULE";
    /// A public key (PEM `PUBLIC KEY`, or a certificate) for key-only signing with a signer
    /// program or a token key (the sigstore KMS plugin; cosign `--key`).
    pub const PUBLIC_KEY: &str = "EXTERNAL_PUBLIC_KEY";
    /// Secrets a signer program may see.
    pub const SIGNER_ENV: &str = "EXTERNAL_SIGNER_ENV";
    /// The password of an encrypted private key (a secret).
    pub const PRIVATE_KEY_PASSWORD: &str = "EXTERNAL_PRIVATE_KEY_PASSWORD";
    /// A file holding the password of an encrypted private key (a secret).
    pub const PRIVATE_KEY_PASSWORD_FILE: &str = "EXTERNAL_PRIVATE_KEY_PASSWORD_FILE";
    /// The PKCS#11 token's user PIN (a secret).
    pub const PKCS11_PIN: &str = "EXTERNAL_PKCS11_PIN";
    /// A file holding the PKCS#11 token's user PIN (a secret).
    pub const PKCS11_PIN_FILE: &str = "EXTERNAL_PKCS11_PIN_FILE";
}

/// How to give a secret, in the variables of [`env`](mod@env): the remedy every application that reads
/// its secrets through [`Secret`] shows (so the text exists once).
pub mod secret_advice {
    use super::env;

    /// How to give an encrypted key's password.
    pub fn password() -> String {
        format!(
            "give its password in the environment variable {} or in a password file named by {}",
            env::PRIVATE_KEY_PASSWORD,
            env::PRIVATE_KEY_PASSWORD_FILE
        )
    }

    /// How to give a PKCS#11 token's PIN.
    pub fn pin() -> String {
        format!(
            "give it in {}, in a file named by {}, or name that file with pin-source=PATH in the URI",
            env::PKCS11_PIN,
            env::PKCS11_PIN_FILE
        )
    }
}

/// The environment variables holding the secrets ([`env::PRIVATE_KEY_PASSWORD`],
/// [`env::PRIVATE_KEY_PASSWORD_FILE`], [`env::PKCS11_PIN`], [`env::PKCS11_PIN_FILE`]): a
/// [`CommandSigner`] removes them from the program's environment unless they are set
/// explicitly ([`ProgramSettings::env`]).
pub const SECRET_ENV: [&str; 4] = crate::signer::SECRET_ENV;

/// Splits a list of secret variable names ([`env::SIGNER_ENV`]: names separated by commas,
/// spaces or tabs) into its names; the error is the first name that is not one of
/// [`SECRET_ENV`] (the application says what to do about it).
///
/// # Errors
///
/// The first name that is not a secret variable.
pub fn parse_secret_names(text: &str) -> Result<Vec<&str>, &str> {
    text.split([',', ' ', '\t'])
        .filter(|name| !name.is_empty())
        .map(|name| if SECRET_ENV.contains(&name) { Ok(name) } else { Err(name) })
        .collect()
}

/// Longest signer program timeout [`parse_timeout`] accepts (24 h).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Largest key password file read.
const MAX_PASSWORD_FILE_LEN: u64 = 64 * 1024;

/// Reads one environment variable (injected, so tests never touch the process environment).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where the signing key is, with everything needed to open it.
// One per process, built from configuration: the size of the PKCS#11 variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum KeySource {
    /// A private key file, signed with in-process.
    File {
        /// The key file (PEM or DER: PKCS#8, encrypted PKCS#8, PKCS#1, SEC1).
        path: PathBuf,
        /// The password of an encrypted key.
        password: Option<Secret>,
    },
    /// A program that signs (the [`CommandSigner`] contract).
    Program(ProgramSettings),
    /// A key in a PKCS#11 token or HSM.
    #[cfg(feature = "pkcs11")]
    Pkcs11 {
        /// The key's RFC 7512 URI (never with a PIN).
        uri: Pkcs11Uri,
        /// The module, when given apart from the URI's `module-path`.
        module: Option<PathBuf>,
        /// The user PIN; without it, the file named by the URI's `pin-source`, if any.
        pin: Option<Secret>,
    },
}

/// The settings of a signer program. `Debug` shows the names of [`env`](Self::env), not the
/// values (a secret may be among them).
#[derive(Clone)]
#[non_exhaustive]
pub struct ProgramSettings {
    /// The program: an absolute path or a bare name looked up in `PATH`.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// How long it may take.
    pub timeout: Duration,
    /// How it prints the signature.
    pub encoding: OutputEncoding,
    /// Extra environment variables for it (such as [`env::PRIVATE_KEY`], or a secret it may see).
    pub env: Vec<(OsString, OsString)>,
    /// `EXTERNAL_SIGNER_KEY_ID`.
    pub key_id: String,
    /// `EXTERNAL_SIGNER_CALLER`: `"notation"` or `"cosign"`.
    pub caller: &'static str,
    /// The public key of the key the program signs with, when there is no certificate (key-only
    /// signing); with a certificate, the certificate's key is used.
    pub public_key: Option<PublicKey>,
}

impl fmt::Debug for ProgramSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgramSettings")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("timeout", &self.timeout)
            .field("encoding", &self.encoding)
            .field("env", &self.env.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("key_id", &self.key_id)
            .field("caller", &self.caller)
            .field("public_key", &self.public_key)
            .finish()
    }
}

impl ProgramSettings {
    /// `program` with the defaults: no arguments, [`DEFAULT_TIMEOUT`], raw output, caller
    /// `"notation"`.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            encoding: OutputEncoding::Raw,
            env: Vec::new(),
            key_id: String::new(),
            caller: "notation",
            public_key: None,
        }
    }

    /// Where the program is: an absolute path as it is, a bare name (no `/`) in the absolute
    /// entries of `path_var` (`PATH`). A relative path is refused, and so are empty, `.` and
    /// other relative `PATH` entries: they would run whatever the working directory holds. The
    /// signer checks this again before each run; call it to refuse a configuration early.
    ///
    /// # Errors
    ///
    /// [`SpawnFailure::NoProgram`], [`SpawnFailure::RelativePath`] or
    /// [`SpawnFailure::NotInPath`].
    pub fn resolve(&self, path_var: Option<&std::ffi::OsStr>) -> Result<PathBuf, SpawnFailure> {
        crate::signer::resolve_program(&self.program, path_var)
    }

    /// The signer for the key of `public_key`.
    pub fn signer(&self, public_key: PublicKey) -> CommandSigner {
        let mut signer = CommandSigner::new(&self.program, public_key)
            .timeout(self.timeout)
            .encoding(self.encoding)
            .key_id(self.key_id.clone())
            .caller(self.caller);
        for arg in &self.args {
            signer = signer.arg(arg);
        }
        for (key, value) in &self.env {
            signer = signer.env(key, value);
        }
        signer
    }
}

impl KeySource {
    /// Opens the key. `certificate` is the leaf certificate issued for it, when there is one: a
    /// signer program signs for its key, and a PKCS#11 key is checked against it.
    ///
    /// # Errors
    ///
    /// Reading the password or PIN ([`KeyError::PasswordFile`], [`Pkcs11Error::PinFile`]), the
    /// key's errors, [`KeyError::NoPublicKey`] for a program or token key without a certificate
    /// (or, for a program, a public key), and the [`Pkcs11Signer`] errors.
    pub fn open(&self, certificate: Option<&Certificate>) -> Result<OpenedKey, Error> {
        match self {
            Self::File { path, password } => {
                let password = password
                    .as_ref()
                    .map(|p| {
                        p.read(MAX_PASSWORD_FILE_LEN).map_err(|source| KeyError::PasswordFile {
                            path: p.path().unwrap_or(Path::new("")).to_owned(),
                            source,
                        })
                    })
                    .transpose()?;
                let key = PrivateKey::read_file(path, password.as_deref().map(Vec::as_slice))?;
                Ok(OpenedKey::File(key))
            }
            Self::Program(settings) => {
                let public_key = match (certificate, &settings.public_key) {
                    (Some(leaf), _) => leaf.public_key()?,
                    (None, Some(key)) => key.clone(),
                    (None, None) => return Err(KeyError::NoPublicKey.into()),
                };
                Ok(OpenedKey::Program(settings.signer(public_key)))
            }
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11 { uri, module, pin } => {
                let Some(certificate) = certificate else {
                    return Err(KeyError::NoPublicKey.into());
                };
                let builder = pkcs11_builder(uri, module.as_deref(), pin.as_ref())?;
                Ok(OpenedKey::Pkcs11(builder.open(certificate)?))
            }
        }
    }

    /// Opens the key for key-only signing (no certificate, as cosign `--key`): a key file as
    /// it is (checked against `public_key` when given), a signer program for `public_key`, a
    /// token key checked against `public_key` (`Pkcs11SignerBuilder::open_with_public_key`).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open); [`KeyError::NoPublicKey`] for a program or token key without
    /// `public_key`; [`KeyError::Mismatch`] for a key file whose key is not `public_key`.
    pub fn open_key_only(&self, public_key: Option<&PublicKey>) -> Result<OpenedKey, Error> {
        match self {
            Self::File { .. } => {
                let key = self.open(None)?;
                if let Some(expected) = public_key
                    && key.public_key() != expected
                {
                    return Err(KeyError::Mismatch {
                        key_spec: key.key_spec(),
                        subject: "(the configured public key)".to_owned(),
                    }
                    .into());
                }
                Ok(key)
            }
            Self::Program(settings) => {
                let Some(public_key) = public_key else {
                    return Err(KeyError::NoPublicKey.into());
                };
                Ok(OpenedKey::Program(settings.signer(public_key.clone())))
            }
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11 { uri, module, pin } => {
                let Some(public_key) = public_key else {
                    return Err(KeyError::NoPublicKey.into());
                };
                let builder = pkcs11_builder(uri, module.as_deref(), pin.as_ref())?;
                Ok(OpenedKey::Pkcs11(builder.open_with_public_key(public_key.clone())?))
            }
        }
    }

    /// Opens the key for the leaf of `chain` and pairs them ([`CertifiedKey::new`]: the key must
    /// be the one the leaf certifies).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), and [`KeyError::Mismatch`].
    pub fn certified(&self, chain: CertificateChain) -> Result<CertifiedKey, Error> {
        let key = self.open(Some(chain.leaf()))?;
        Ok(CertifiedKey::new(chain, key)?)
    }
}

/// A key opened from a [`KeySource`], of the source's kind.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenedKey {
    /// From [`KeySource::File`].
    File(PrivateKey),
    /// From [`KeySource::Program`].
    Program(CommandSigner),
    /// From [`KeySource::Pkcs11`].
    #[cfg(feature = "pkcs11")]
    Pkcs11(Pkcs11Signer),
}

impl OpenedKey {
    fn as_key(&self) -> &dyn SigningKey {
        match self {
            Self::File(key) => key,
            Self::Program(key) => key,
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11(key) => key,
        }
    }
}

impl SigningKey for OpenedKey {
    fn key_spec(&self) -> crate::KeySpec {
        self.as_key().key_spec()
    }

    fn public_key(&self) -> &PublicKey {
        self.as_key().public_key()
    }

    fn sign(
        &self,
        algorithm: crate::SignatureAlgorithm,
        payload: &[u8],
    ) -> Result<Vec<u8>, crate::SignError> {
        self.as_key().sign(algorithm, payload)
    }
}

/// The token key's builder, with its module and PIN (read now).
#[cfg(feature = "pkcs11")]
fn pkcs11_builder(
    uri: &Pkcs11Uri,
    module: Option<&Path>,
    pin: Option<&Secret>,
) -> Result<crate::signer::Pkcs11SignerBuilder, Error> {
    let mut builder = Pkcs11Signer::builder(uri.clone());
    if let Some(module) = module {
        builder = builder.module(module);
    }
    if let Some(pin) = pin {
        let bytes = pin.read(MAX_PIN_FILE_LEN).map_err(|source| Pkcs11Error::PinFile {
            path: pin.path().unwrap_or(Path::new("")).to_owned(),
            source,
        })?;
        builder = builder.pin(Pkcs11Pin::new(bytes.to_vec()));
    }
    Ok(builder)
}

/// Largest PIN file read.
#[cfg(feature = "pkcs11")]
const MAX_PIN_FILE_LEN: u64 = 4096;

/// A secret (a key password, a token PIN): its value from the environment, or a file holding it.
/// `Debug` never shows the value, and it is cleared from memory when dropped.
#[non_exhaustive]
pub enum Secret {
    /// The secret itself.
    Value(Zeroizing<Vec<u8>>),
    /// A file holding it; a trailing newline (`echo pw > file`) is not part of it.
    File(PathBuf),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Secret::Value(..)"),
            Self::File(path) => f.debug_tuple("Secret::File").field(path).finish(),
        }
    }
}

impl Secret {
    /// The key password: [`env::PRIVATE_KEY_PASSWORD`] (even empty), else the file named by
    /// [`env::PRIVATE_KEY_PASSWORD_FILE`].
    pub fn password_from_env(env: Env<'_>) -> Option<Self> {
        if let Some(value) = env(env::PRIVATE_KEY_PASSWORD) {
            return Some(Self::Value(Zeroizing::new(value.into_bytes())));
        }
        env(env::PRIVATE_KEY_PASSWORD_FILE).map(|path| Self::File(path.into()))
    }

    /// The token PIN: [`env::PKCS11_PIN`], else the file named by [`env::PKCS11_PIN_FILE`]
    /// (empty values are ignored).
    pub fn pin_from_env(env: Env<'_>) -> Option<Self> {
        if let Some(value) = env(env::PKCS11_PIN).filter(|v| !v.is_empty()) {
            return Some(Self::Value(Zeroizing::new(value.into_bytes())));
        }
        env(env::PKCS11_PIN_FILE).filter(|v| !v.is_empty()).map(|path| Self::File(path.into()))
    }

    /// The file, for [`Self::File`].
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Value(_) => None,
            Self::File(path) => Some(path),
        }
    }

    /// The secret: the value, or the file's content without its trailing newline. The file is
    /// read bounded (`max` bytes) and must be a regular file (a FIFO is refused at once).
    ///
    /// # Errors
    ///
    /// The I/O error; `InvalidData` for a file that is too large or not a regular file.
    pub fn read(&self, max: u64) -> std::io::Result<Zeroizing<Vec<u8>>> {
        match self {
            Self::Value(value) => Ok(value.clone()),
            Self::File(path) => crate::fs::read_secret(path, max),
        }
    }
}

/// A signer program timeout: seconds, fractions allowed, an optional `s` suffix (`30`, `2.5`,
/// `10s`); `None` unless greater than 0 and at most [`MAX_TIMEOUT`].
pub fn parse_timeout(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().trim_end_matches('s').parse().ok()?;
    let timeout = Duration::try_from_secs_f64(seconds).ok()?;
    (!timeout.is_zero() && timeout <= MAX_TIMEOUT).then_some(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_only_opening_checks_the_public_key() {
        let pki = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki");
        let file = |spec: &str| KeySource::File {
            path: format!("{pki}/{spec}/leaf.key").into(),
            password: None,
        };
        let own = PrivateKey::read_file(format!("{pki}/ec-256/leaf.key").as_ref(), None)
            .unwrap()
            .public_key()
            .clone();
        assert_eq!(file("ec-256").open_key_only(Some(&own)).unwrap().public_key(), &own);
        assert!(file("ec-256").open_key_only(None).is_ok(), "a key file has its own public key");
        let err = file("ec-384").open_key_only(Some(&own)).unwrap_err();
        assert!(matches!(err, Error::Key(KeyError::Mismatch { .. })), "{err}");
        let program = KeySource::Program(ProgramSettings::new("/bin/true"));
        let err = program.open_key_only(None).unwrap_err();
        assert!(matches!(err, Error::Key(KeyError::NoPublicKey)), "{err}");
        assert_eq!(program.open_key_only(Some(&own)).unwrap().public_key(), &own);
    }

    #[test]
    fn timeouts_are_positive_and_bounded() {
        assert_eq!(parse_timeout("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_timeout(" 10s "), Some(Duration::from_secs(10)));
        assert_eq!(parse_timeout("86400"), Some(MAX_TIMEOUT));
        for bad in ["0", "-1", "abc", "1e9", "86401", "", "NaN", "inf"] {
            assert_eq!(parse_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn secrets_come_from_the_environment_or_a_file_and_never_show() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin");
        std::fs::write(&file, "12 34\r\n\n").unwrap();
        let file_str = file.to_str().unwrap().to_owned();
        let env = move |name: &str| match name {
            "EXTERNAL_PKCS11_PIN" => Some(String::new()),
            "EXTERNAL_PKCS11_PIN_FILE" => Some(file_str.clone()),
            "EXTERNAL_PRIVATE_KEY_PASSWORD" => Some("pw".to_owned()),
            _ => None,
        };
        let pin = Secret::pin_from_env(&env).unwrap();
        assert_eq!(pin.read(4096).unwrap().as_slice(), b"12 34");
        assert_eq!(pin.path(), Some(file.as_path()));
        let password = Secret::password_from_env(&env).unwrap();
        assert_eq!(password.read(1).unwrap().as_slice(), b"pw");
        assert_eq!(format!("{password:?}"), "Secret::Value(..)");
        assert!(Secret::File(dir.path().join("missing")).read(10).is_err());
        let none = |_: &str| None;
        assert!(
            Secret::pin_from_env(&none).is_none() && Secret::password_from_env(&none).is_none()
        );
    }
}
