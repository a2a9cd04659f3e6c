//! Registry credentials from the docker config file, as go-containerregistry's default keychain
//! reads them: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
//!
//! ```text
//! {"auths": {"registry.example:5000": {"auth": "<base64 of user:password>"},
//!            "https://index.docker.io/v1/": {"username": "u", "password": "p"},
//!            "ghcr.io": {"registrytoken": "<bearer token>"}}}
//! ```
//!
//! Keys may carry a scheme and a path (`https://index.docker.io/v1/`); `docker.io`,
//! `index.docker.io` and `registry-1.docker.io` all mean Docker Hub. Credential helpers
//! (`credsStore`, `credHelpers`) are not run; an `identitytoken` (OAuth refresh token) is not
//! supported. Passwords are zeroized on drop and never shown by `Debug`.

use core::fmt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::RegistryError;

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// HTTP basic credentials (also exchanged for a bearer token when the registry asks).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Zeroizing<String>,
    },
    /// A bearer token (`registrytoken`).
    Bearer(Zeroizing<String>),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).finish_non_exhaustive()
            }
            Self::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// The credentials of a docker config file, by registry host.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    by_host: HashMap<String, Credential>,
    /// The file they were read from.
    path: Option<PathBuf>,
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    registrytoken: Option<String>,
}

impl Credentials {
    /// No credentials: anonymous access everywhere.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads the docker config file that `env` points at: `DOCKER_CONFIG/config.json`, else
    /// `HOME/.docker/config.json`. A missing file means no credentials.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Credentials`] for an unreadable or malformed file.
    pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, RegistryError> {
        let path = match (env("DOCKER_CONFIG"), env("HOME")) {
            (Some(dir), _) if !dir.is_empty() => PathBuf::from(dir).join("config.json"),
            (_, Some(home)) if !home.is_empty() => {
                PathBuf::from(home).join(".docker").join("config.json")
            }
            _ => return Ok(Self::none()),
        };
        Self::open(&path)
    }

    /// Reads a docker config file; a missing file means no credentials.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Credentials`] for an unreadable or malformed file.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        let bytes = match sig_core::__private::fs::read_bounded(path, 1 << 20) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::none()),
            Err(e) => {
                return Err(RegistryError::Credentials {
                    path: path.to_owned(),
                    reason: e.to_string(),
                });
            }
        };
        let mut credentials = Self::from_json(&bytes)
            .map_err(|reason| RegistryError::Credentials { path: path.to_owned(), reason })?;
        credentials.path = Some(path.to_owned());
        Ok(credentials)
    }

    /// The docker config file these credentials were read from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Parses the contents of a docker config file.
    ///
    /// # Errors
    ///
    /// Why the file is malformed.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let config: ConfigFile =
            serde_json::from_slice(bytes).map_err(|e| format!("not a docker config file: {e}"))?;
        let mut by_host = HashMap::new();
        for (key, entry) in config.auths {
            let credential = if let Some(token) = entry.registrytoken {
                check_token(&key, &token)?;
                Credential::Bearer(Zeroizing::new(token))
            } else if let Some(auth) = entry.auth.map(Zeroizing::new).filter(|a| !a.is_empty()) {
                let decoded = Zeroizing::new(
                    base64::engine::general_purpose::STANDARD
                        .decode(auth.trim())
                        .map_err(|_| format!("auths.{key:?}.auth is not base64"))?,
                );
                let text = core::str::from_utf8(&decoded)
                    .map_err(|_| format!("auths.{key:?}.auth is not user:password"))?;
                let (user, password) = text
                    .split_once(':')
                    .ok_or_else(|| format!("auths.{key:?}.auth is not user:password"))?;
                check_basic(&key, "auth", user, password)?;
                Credential::Basic {
                    username: user.to_owned(),
                    password: Zeroizing::new(password.to_owned()),
                }
            } else if let (Some(username), Some(password)) = (entry.username, entry.password) {
                let password = Zeroizing::new(password);
                check_basic(&key, "username/password", &username, &password)?;
                Credential::Basic { username, password }
            } else {
                continue;
            };
            by_host.insert(normalize_host(&key), credential);
        }
        Ok(Self { by_host, path: None })
    }

    /// The credentials for `registry` (`host[:port]`), if any.
    pub fn for_registry(&self, registry: &str) -> Option<&Credential> {
        self.by_host.get(&normalize_host(registry))
    }
}

/// Refuses a `registrytoken` that cannot be sent as `Authorization: Bearer <token>`: HTTP
/// clients panic on a header value with a line break or another control character, and a
/// space or non-ASCII byte would be sent as something else than the token. RFC 6750 tokens
/// are visible ASCII.
fn check_token(key: &str, token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err(format!("auths.{key:?}.registrytoken is empty"));
    }
    if let Some(bad) = token.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "auths.{key:?}.registrytoken contains {}; a bearer token is visible ASCII only (copy the token again, without the line break, e.g. with `printf %s` instead of `echo`)",
            describe(bad)
        ));
    }
    Ok(())
}

/// Refuses user names and passwords with control characters (a password that ends with the
/// line break of `echo user:password | base64` never authenticates, and header values cannot
/// carry one) and a user name with `:` (basic authentication cannot express it, RFC 7617).
fn check_basic(key: &str, field: &str, username: &str, password: &str) -> Result<(), String> {
    let advice = "make it again without the line break, e.g. `printf %s user:password | base64`";
    if let Some(bad) = username.chars().find(|c| c.is_control()) {
        return Err(format!(
            "auths.{key:?}.{field}: the user name contains {}; {advice}",
            describe(bad)
        ));
    }
    if username.contains(':') {
        return Err(format!(
            "auths.{key:?}.{field}: the user name contains ':', which HTTP basic authentication cannot carry"
        ));
    }
    if let Some(bad) = password.chars().find(|c| c.is_control()) {
        return Err(format!(
            "auths.{key:?}.{field}: the password contains {}; {advice}",
            describe(bad)
        ));
    }
    Ok(())
}

/// `a line break`, `a control character (U+0007)`, `a space`, `a non-ASCII character`.
fn describe(c: char) -> String {
    match c {
        '\n' | '\r' => "a line break".to_owned(),
        ' ' => "a space".to_owned(),
        c if c.is_control() => format!("a control character (U+{:04X})", u32::from(c)),
        _ => "a non-ASCII character".to_owned(),
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`; Docker Hub's aliases → `index.docker.io`.
fn normalize_host(key: &str) -> String {
    let key = key.trim();
    let key = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let host = key.split('/').next().unwrap_or_default().to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" => crate::reference::DOCKER_HUB.to_owned(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auth_username_password_and_tokens() {
        let json = br#"{"auths":{
            "127.0.0.1:5000":{"auth":"dXNlcjpwYTpzcw=="},
            "https://index.docker.io/v1/":{"username":"hub","password":"pw"},
            "ghcr.io":{"registrytoken":"tok"},
            "empty.example":{}
        },"credsStore":"desktop"}"#;
        let c = Credentials::from_json(json).unwrap();
        assert_eq!(
            c.for_registry("127.0.0.1:5000"),
            Some(&Credential::Basic {
                username: "user".into(),
                password: Zeroizing::new("pa:ss".into())
            })
        );
        assert!(
            matches!(c.for_registry("index.docker.io"), Some(Credential::Basic { username, .. }) if username == "hub")
        );
        assert!(matches!(c.for_registry("ghcr.io"), Some(Credential::Bearer(_))));
        assert_eq!(c.for_registry("empty.example"), None);
        assert_eq!(c.for_registry("other:5000"), None);
        let shown = format!("{:?}", c.for_registry("127.0.0.1:5000").unwrap());
        assert!(!shown.contains("pa:ss"), "{shown}");
    }

    #[test]
    fn rejects_malformed_files() {
        assert!(Credentials::from_json(br#"{"auths":1}"#).is_err());
        assert!(Credentials::from_json(b"not json").is_err());
        assert!(Credentials::from_json(br#"{"auths":{"h":{"auth":"***"}}}"#).is_err());
        assert!(Credentials::from_json(br#"{"auths":{"h":{"auth":"bm9jb2xvbg=="}}}"#).is_err());
    }

    #[test]
    fn refuses_credentials_that_cannot_be_sent_as_a_header() {
        // "tok\nen", "tok en", "tok\u{7f}", "tøk", user:"pw\n" (echo | base64), user "a\tb".
        let cases: [(&[u8], &str); 7] = [
            (br#"{"auths":{"ghcr.io":{"registrytoken":"tok\nen"}}}"#, "a line break"),
            (br#"{"auths":{"ghcr.io":{"registrytoken":"tok en"}}}"#, "a space"),
            (br#"{"auths":{"ghcr.io":{"registrytoken":"tok\u007f"}}}"#, "U+007F"),
            (br#"{"auths":{"ghcr.io":{"registrytoken":"t\u00f8k"}}}"#, "non-ASCII"),
            (br#"{"auths":{"ghcr.io":{"registrytoken":""}}}"#, "empty"),
            (
                br#"{"auths":{"ghcr.io":{"auth":"dXNlcjpwdwo="}}}"#,
                "the password contains a line break",
            ),
            (br#"{"auths":{"ghcr.io":{"username":"a\tb","password":"p"}}}"#, "U+0009"),
        ];
        for (json, expected) in cases {
            let err = Credentials::from_json(json).unwrap_err();
            assert!(err.contains(r#"auths."ghcr.io""#) && err.contains(expected), "{err}");
        }
        let err = Credentials::from_json(br#"{"auths":{"h":{"username":"a:b","password":"p"}}}"#)
            .unwrap_err();
        assert!(err.contains("':'"), "{err}");
        // What registries hand out is accepted: JWTs, opaque tokens with `_-.~+/=`.
        let ok = br#"{"auths":{"ghcr.io":{"registrytoken":"eyJh.eyJz.c2ln-_~+/=="}}}"#;
        assert!(Credentials::from_json(ok).unwrap().for_registry("ghcr.io").is_some());
    }

    #[test]
    fn a_bad_credential_names_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, br#"{"auths":{"r.example":{"registrytoken":"a\nb"}}}"#).unwrap();
        let err = Credentials::open(&path).unwrap_err().to_string();
        assert!(err.contains(&*path.to_string_lossy()) && err.contains("r.example"), "{err}");
    }

    #[test]
    fn load_uses_docker_config_then_home() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            br#"{"auths":{"r.example":{"auth":"dTpw"}}}"#,
        )
        .unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        let env = move |k: &str| (k == "DOCKER_CONFIG").then(|| d.clone());
        assert!(Credentials::load(&env).unwrap().for_registry("r.example").is_some());
        let nothing = |_: &str| None;
        assert!(Credentials::load(&nothing).unwrap().for_registry("r.example").is_none());
    }
}
