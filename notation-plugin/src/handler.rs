//! One function per plugin command. Pure over the request, the environment and the time.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sig_core::{HashAlgorithm, KeySpec, SigningKey as _};

use crate::config::{Config, Env};
use crate::protocol::{
    CAPABILITY_RAW, CONTRACT_VERSION, DescribeKeyRequest, DescribeKeyResponse, ErrorCode,
    GenerateSignatureRequest, GenerateSignatureResponse, MetadataResponse, PLUGIN_NAME,
    PluginConfig, PluginError,
};

/// `get-plugin-metadata`: static, no I/O.
pub fn metadata() -> MetadataResponse {
    MetadataResponse {
        name: PLUGIN_NAME,
        description: "Signs with keys that live anywhere: key files, signing programs, HSMs, remote services",
        version: env!("EXTERNAL_SIGNER_VERSION"),
        url: env!("CARGO_PKG_REPOSITORY"),
        supported_contract_versions: [CONTRACT_VERSION],
        capabilities: [CAPABILITY_RAW],
    }
}

/// `describe-key`: loads and checks the configuration, returns the leaf's key spec.
///
/// # Errors
///
/// Request validation, configuration, chain and key errors.
pub fn describe_key(
    req: DescribeKeyRequest,
    env: Env<'_>,
    now: SystemTime,
) -> Result<DescribeKeyResponse, PluginError> {
    check_contract(req.contract_version.as_deref())?;
    let key_id = required("keyId", req.key_id)?;
    let config = Config::resolve(&req.plugin_config.unwrap_or_default(), env)?;
    let signer = config.signer(env, &key_id, now)?;
    Ok(DescribeKeyResponse { key_id, key_spec: signer.key_spec().as_str() })
}

/// `generate-signature`: signs the payload with the configured signer, verifies the signature
/// against the leaf certificate, returns it with the chain.
///
/// # Errors
///
/// Request validation (key spec or hash not matching the certificate, payload not base64),
/// configuration, signer and verification errors.
pub fn generate_signature(
    req: GenerateSignatureRequest,
    env: Env<'_>,
    now: SystemTime,
) -> Result<GenerateSignatureResponse, PluginError> {
    check_contract(req.contract_version.as_deref())?;
    let key_id = required("keyId", req.key_id)?;
    let key_spec_name = required("keySpec", req.key_spec)?;
    let hash_name = required("hashAlgorithm", req.hash_algorithm)?;
    let payload = required("payload", req.payload)?;
    let key_spec: KeySpec = key_spec_name
        .parse()
        .map_err(|e: sig_core::AlgorithmError| PluginError::validation(e.to_string()))?;
    let hash: HashAlgorithm = hash_name
        .parse()
        .map_err(|e: sig_core::AlgorithmError| PluginError::validation(e.to_string()))?;
    if hash != key_spec.hash() {
        return Err(PluginError::validation(format!(
            "hashAlgorithm {hash} does not match keySpec {key_spec}, which requires {}",
            key_spec.hash()
        )));
    }
    let payload = STANDARD.decode(payload.as_bytes()).map_err(|e| {
        PluginError::validation(format!(
            "Input is not a valid JSON: payload is not standard base64: {e}"
        ))
    })?;
    let plugin_config: PluginConfig = req.plugin_config.unwrap_or_default();
    let config = Config::resolve(&plugin_config, env)?;
    let signer = config.signer(env, &key_id, now)?;
    if signer.key_spec() != key_spec {
        return Err(PluginError::validation(format!(
            "keySpec {key_spec} in the request does not match the certificate's key spec {}; the key was described differently before (re-run notation sign, or fix cert_chain)",
            signer.key_spec()
        )));
    }
    let algorithm = key_spec.notary_algorithm();
    let signature = signer.sign(algorithm, &payload)?;
    Ok(GenerateSignatureResponse {
        key_id,
        signature: STANDARD.encode(signature),
        signing_algorithm: algorithm.notary_name().unwrap_or_default(),
        certificate_chain: signer
            .chain()
            .certificates()
            .iter()
            .map(|c| STANDARD.encode(c.as_der()))
            .collect(),
    })
}

/// The contract version must be present with major version 1.
fn check_contract(version: Option<&str>) -> Result<(), PluginError> {
    let version = version.filter(|v| !v.is_empty()).ok_or_else(|| {
        PluginError::validation("Input is not a valid JSON: contractVersion cannot be empty")
    })?;
    if version.split('.').next() != Some("1") {
        return Err(PluginError::new(
            ErrorCode::UnsupportedContractVersion,
            format!(
                "{version:?} is not a supported notary plugin contract version; this plugin supports {CONTRACT_VERSION:?}"
            ),
        ));
    }
    Ok(())
}

fn required(name: &str, value: Option<String>) -> Result<String, PluginError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        PluginError::validation(format!("Input is not a valid JSON: {name} cannot be empty"))
    })
}
