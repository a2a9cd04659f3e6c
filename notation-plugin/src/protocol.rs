//! The Notation plugin protocol's wire types (notation-plugin-framework-go `plugin/*.go`,
//! specifications `plugin-extensibility.md`), contract version 1.0.
//!
//! Requests ignore unknown fields (plugins must, for forward compatibility) and take every field
//! as optional, so that a missing field gets the framework's own message
//! (`"Input is not a valid JSON: keyId cannot be empty"`). Byte fields are standard base64 with
//! padding, as Go's `[]byte` marshals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The only contract version: `"1.0"`.
pub const CONTRACT_VERSION: &str = "1.0";
/// The plugin's name; notation requires it to equal the plugin directory name.
pub const PLUGIN_NAME: &str = "external-signer";
/// `SIGNATURE_GENERATOR.RAW`: notation builds the envelope, the plugin signs its bytes.
pub const CAPABILITY_RAW: &str = "SIGNATURE_GENERATOR.RAW";

/// Plugin configuration from `notation sign --plugin-config k=v` and `signingkeys.json`.
pub type PluginConfig = BTreeMap<String, String>;

/// `get-plugin-metadata` request (`{}` or just `pluginConfig`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataRequest {
    /// Ignored: metadata is static.
    #[serde(default)]
    pub plugin_config: Option<PluginConfig>,
}

/// `get-plugin-metadata` response. Every field is required by notation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataResponse {
    /// Must equal the directory name, `external-signer`.
    pub name: &'static str,
    /// Human description.
    pub description: &'static str,
    /// Semantic version without a `v` prefix.
    pub version: &'static str,
    /// Project URL.
    pub url: &'static str,
    /// Contains `"1.0"`.
    pub supported_contract_versions: [&'static str; 1],
    /// `["SIGNATURE_GENERATOR.RAW"]`.
    pub capabilities: [&'static str; 1],
}

/// `describe-key` request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyRequest {
    /// `"1.0"`.
    pub contract_version: Option<String>,
    /// The key id from `notation key add --id` or `notation sign --id`.
    pub key_id: Option<String>,
    /// Plugin configuration.
    #[serde(default)]
    pub plugin_config: Option<PluginConfig>,
}

/// `describe-key` response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyResponse {
    /// The request's key id, unchanged.
    pub key_id: String,
    /// The leaf certificate's key spec.
    pub key_spec: &'static str,
}

/// `generate-signature` request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureRequest {
    /// `"1.0"`.
    pub contract_version: Option<String>,
    /// The key id.
    pub key_id: Option<String>,
    /// Key spec notation derived from describe-key.
    pub key_spec: Option<String>,
    /// Hash notation pairs with the key spec.
    pub hash_algorithm: Option<String>,
    /// Standard base64 of the bytes to sign.
    pub payload: Option<String>,
    /// Plugin configuration.
    #[serde(default)]
    pub plugin_config: Option<PluginConfig>,
}

/// `generate-signature` response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureResponse {
    /// The request's key id, unchanged.
    pub key_id: String,
    /// Standard base64 of the raw signature.
    pub signature: String,
    /// e.g. `"RSASSA-PSS-SHA-512"`.
    pub signing_algorithm: &'static str,
    /// Standard base64 DER certificates, leaf first, root last.
    pub certificate_chain: Vec<String>,
}

/// The error codes of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ErrorCode {
    /// Malformed or unsupported input (request or configuration).
    ValidationError,
    /// Contract major version is not 1.
    UnsupportedContractVersion,
    /// The key could not be accessed (password, permissions, token PIN).
    AccessDenied,
    /// The signer did not answer in time.
    Timeout,
    /// Rate limited (not used by this plugin).
    Throttled,
    /// Anything else.
    Error,
}

/// The error JSON written to stderr with exit status 1.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginError {
    /// The code.
    pub error_code: ErrorCode,
    /// A message for the user, naming the problem and its fix.
    pub error_message: String,
    /// Optional details.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub error_metadata: BTreeMap<String, String>,
}

impl PluginError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { error_code: code, error_message: message.into(), error_metadata: BTreeMap::new() }
    }

    /// A `VALIDATION_ERROR`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    /// Adds a metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: &str, value: impl Into<String>) -> Self {
        self.error_metadata.insert(key.to_owned(), value.into());
        self
    }
}

impl From<sig_core::Error> for PluginError {
    fn from(err: sig_core::Error) -> Self {
        use sig_core::{Error, KeyError, Pkcs11Error, SignError};
        let code = match &err {
            Error::Key(
                KeyError::AccessDenied { .. }
                | KeyError::WrongPassword
                | KeyError::PasswordRequired,
            ) => ErrorCode::AccessDenied,
            Error::Pkcs11(e) if e.is_access_denied() => ErrorCode::AccessDenied,
            // The token failed while signing (sig-core moves that to `Error::Pkcs11`).
            Error::Pkcs11(
                Pkcs11Error::Call { .. }
                | Pkcs11Error::BadSignature { .. }
                | Pkcs11Error::MechanismUnsupported { .. },
            ) => ErrorCode::Error,
            Error::Pkcs11(_) => ErrorCode::ValidationError,
            Error::Sign(SignError::Timeout { .. }) => ErrorCode::Timeout,
            Error::Key(_) | Error::Certificate(_) | Error::Algorithm(_) => {
                ErrorCode::ValidationError
            }
            _ => ErrorCode::Error,
        };
        Self::new(code, crate::advice::message(&err))
    }
}

// sig-core's narrow errors, through `sig_core::Error`, so `?` needs no `map_err`.
sig_core::__from_narrow_errors!(PluginError);

pub use sig_core::message_with_sources;
