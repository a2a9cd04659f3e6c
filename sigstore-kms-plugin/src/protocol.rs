//! The wire types of the sigstore KMS CLI-plugin protocol `v1` (sigstore/sigstore
//! `pkg/signature/kms/cliplugin/common/interface.go` and `options.go`, v1.10.8), and nothing
//! else: no I/O.
//!
//! ```text
//! argv    sigstore-kms-NAME v1 '<PluginArgs JSON>'
//! stdin   the message (signMessage, verifySignature); nothing otherwise
//! stdout  one PluginResp JSON; errors in "errorMessage" (the exit status is ignored by sigstore)
//!
//! PluginArgs {"initOptions": {"ctxDeadline": RFC 3339 | absent, "protocolVersion": "v1",
//!                             "keyResourceID": "<after NAME://>", "hashFunc": Go crypto.Hash,
//!                             "rpcOptions": {...}},
//!             "methodName": "publicKey" | "signMessage" | ...,
//!             "publicKey": {"publicKeyOptions": {"rpcOptions": {...}}},
//!             "signMessage": {"signOptions": {"rpcOptions": {...}, "messageOptions": {...}}},
//!             "verifySignature": {"signature": base64, "verifyOptions": {...}},
//!             "createKey": {"ctxDeadline": ..., "algorithm": "..."}, ...}
//! rpcOptions     {"ctxDeadline": RFC 3339 | absent, "keyVersion": "", "remoteVerification": false}
//! messageOptions {"digest": base64 | null, "hashFunc": Go crypto.Hash | absent}
//! PluginResp {"errorMessage": "...", "publicKey": {"publicKeyPEM": base64(PEM)},
//!             "signMessage": {"signature": base64}, "verifySignature": {},
//!             "defaultAlgorithm": {"defaultAlgorithm": "..."},
//!             "supportedAlgorithms": {"supportedAlgorithms": [...]}}
//! ```
//!
//! Requests do not deny unknown fields (a newer sigstore may add some); Go's byte slices are
//! standard base64 with padding, and `null` when nil.

use serde::{Deserialize, Serialize};
use sig_core::HashAlgorithm;

/// The protocol version this plugin speaks (`common.ProtocolVersion`).
pub const PROTOCOL_VERSION: &str = "v1";

/// The method names (`common.*MethodName`).
pub mod method {
    /// `DefaultAlgorithm()`.
    pub const DEFAULT_ALGORITHM: &str = "defaultAlgorithm";
    /// `SupportedAlgorithms()`.
    pub const SUPPORTED_ALGORITHMS: &str = "supportedAlgorithms";
    /// `CreateKey()`.
    pub const CREATE_KEY: &str = "createKey";
    /// `PublicKey()`.
    pub const PUBLIC_KEY: &str = "publicKey";
    /// `SignMessage()`.
    pub const SIGN_MESSAGE: &str = "signMessage";
    /// `VerifySignature()`.
    pub const VERIFY_SIGNATURE: &str = "verifySignature";
}

/// The JSON argument (`common.PluginArgs`: the init options and the method's arguments).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PluginArgs {
    /// `initOptions`.
    pub init_options: Option<InitOptions>,
    /// `methodName`.
    #[serde(default)]
    pub method_name: String,
    /// `signMessage`.
    pub sign_message: Option<SignMessageArgs>,
    /// `verifySignature`.
    pub verify_signature: Option<VerifySignatureArgs>,
    /// `publicKey`.
    pub public_key: Option<PublicKeyArgs>,
    /// `createKey`.
    pub create_key: Option<CreateKeyArgs>,
}

/// `common.InitOptions`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InitOptions {
    /// The caller's context deadline (RFC 3339).
    pub ctx_deadline: Option<String>,
    /// `"v1"`.
    #[serde(default)]
    pub protocol_version: String,
    /// The key reference after `NAME://`.
    #[serde(rename = "keyResourceID", default)]
    pub key_resource_id: String,
    /// Go's `crypto.Hash` number (5 = SHA-256, 6 = SHA-384, 7 = SHA-512; 0 = unspecified).
    #[serde(default)]
    pub hash_func: u64,
    /// `rpcOptions`.
    pub rpc_options: Option<RpcOptions>,
}

/// `common.RPCOptions`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RpcOptions {
    /// The call's context deadline (RFC 3339).
    pub ctx_deadline: Option<String>,
    /// A KMS key version (sigstore always sends one, empty by default).
    pub key_version: Option<String>,
    /// Ignored.
    pub remote_verification: Option<bool>,
}

/// `common.MessageOptions`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageOptions {
    /// The message's digest (base64), `null` when the caller gave none.
    pub digest: Option<String>,
    /// The hash to use (Go `crypto.Hash`).
    pub hash_func: Option<u64>,
}

/// `common.SignOptions` and `common.VerifyOptions` (the same fields).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageCallOptions {
    /// `rpcOptions`.
    pub rpc_options: Option<RpcOptions>,
    /// `messageOptions`.
    pub message_options: Option<MessageOptions>,
}

/// `common.SignMessageArgs`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SignMessageArgs {
    /// `signOptions`.
    pub sign_options: Option<MessageCallOptions>,
}

/// `common.VerifySignatureArgs`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerifySignatureArgs {
    /// The signature (base64).
    pub signature: Option<String>,
    /// `verifyOptions`.
    pub verify_options: Option<MessageCallOptions>,
}

/// `common.PublicKeyArgs`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PublicKeyArgs {
    /// `publicKeyOptions`.
    pub public_key_options: Option<PublicKeyOptions>,
}

/// `common.PublicKeyOptions`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PublicKeyOptions {
    /// `rpcOptions`.
    pub rpc_options: Option<RpcOptions>,
}

/// `common.CreateKeyArgs`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateKeyArgs {
    /// The call's context deadline.
    pub ctx_deadline: Option<String>,
    /// The algorithm asked for.
    #[serde(default)]
    pub algorithm: String,
}

/// `common.PluginResp`: exactly one field is set.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PluginResponse {
    /// The error, shown by cosign as `plugin returned error: …`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// `defaultAlgorithm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_algorithm: Option<DefaultAlgorithmResponse>,
    /// `supportedAlgorithms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_algorithms: Option<SupportedAlgorithmsResponse>,
    /// `publicKey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyResponse>,
    /// `signMessage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_message: Option<SignMessageResponse>,
    /// `verifySignature` (an empty object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_signature: Option<VerifySignatureResponse>,
}

impl PluginResponse {
    /// An error answer.
    pub fn error(message: impl Into<String>) -> Self {
        Self { error_message: Some(message.into()), ..Self::default() }
    }
}

/// `common.DefaultAlgorithmResp`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultAlgorithmResponse {
    /// A sigstore algorithm name (`ecdsa-sha2-256-nistp256`, ...).
    pub default_algorithm: String,
}

/// `common.SupportedAlgorithmsResp`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportedAlgorithmsResponse {
    /// sigstore algorithm names.
    pub supported_algorithms: Vec<String>,
}

/// `common.PublicKeyResp`.
#[derive(Debug, Serialize)]
pub struct PublicKeyResponse {
    /// base64 of the PEM `PUBLIC KEY` text (a Go `[]byte`).
    #[serde(rename = "publicKeyPEM")]
    pub public_key_pem: String,
}

/// `common.SignMessageResp`.
#[derive(Debug, Serialize)]
pub struct SignMessageResponse {
    /// base64 of the signature (ECDSA as ASN.1 DER).
    pub signature: String,
}

/// `common.VerifySignatureResp` (no fields).
#[derive(Debug, Serialize)]
pub struct VerifySignatureResponse {}

/// Go's `crypto.Hash` number → the hash; `None` for 0 (unspecified). Numbers from Go's
/// `crypto/crypto.go`: SHA256 = 5, SHA384 = 6, SHA512 = 7.
///
/// # Errors
///
/// The number, for hashes cosign's verifiers do not take with our keys (SHA-1, SHA-224, ...).
pub fn hash_from_go(number: u64) -> Result<Option<HashAlgorithm>, u64> {
    match number {
        0 => Ok(None),
        5 => Ok(Some(HashAlgorithm::Sha256)),
        6 => Ok(Some(HashAlgorithm::Sha384)),
        7 => Ok(Some(HashAlgorithm::Sha512)),
        other => Err(other),
    }
}

/// The sigstore algorithm names (`pkg/signature/algorithm_registry.go`) of the keys this plugin
/// signs with, in cosign's default scheme (RSA PKCS#1 v1.5, ECDSA with the curve's hash).
pub const SUPPORTED_ALGORITHMS: [&str; 6] = [
    "ecdsa-sha2-256-nistp256",
    "ecdsa-sha2-384-nistp384",
    "ecdsa-sha2-512-nistp521",
    "rsa-sign-pkcs1-2048-sha256",
    "rsa-sign-pkcs1-3072-sha256",
    "rsa-sign-pkcs1-4096-sha256",
];
