//! A sigstore `trusted_root.json` for a private PKI: the certificate authorities only, no
//! transparency log, no CT log, no timestamp authority. The file `cosign verify --trusted-root`
//! and Kyverno's `trustedRoot` take, and `cosign-compat verify --trusted-root` reads.
//!
//! What `cosign trusted-root create --certificate-chain CHAIN` (v3.1.3; sigstore-go
//! `pkg/root/trusted_root_create.go certificateAuthorityToProtobufCA`) writes, protobuf-JSON:
//!
//! ```text
//! {"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",
//!  "certificateAuthorities":[{"subject":{"organization":<root O>,"commonName":<root CN>},
//!    "certChain":{"certificates":[{"rawBytes":<intermediate>}, …, {"rawBytes":<root>}]},
//!    "validFor":{"start":<root notBefore, RFC 3339 UTC>}}]}
//! ```
//!
//! The chain file lists the intermediates then the root, the last certificate being the root
//! (cosign `parseCAPEMFile`); a leaf in it (a full signing chain) is left out here.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sig_core::Certificate;

use super::protojson_spacing;

/// `mediaType` of a trusted root v0.1.
pub const TRUSTED_ROOT_V01: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// Why a trusted root could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedRootError {
    /// The chain has no CA certificate.
    #[error("the certificate chain holds no CA certificate")]
    NoCa,
    /// The file is not a trusted root.
    #[error("not a sigstore trusted root: {0}")]
    Malformed(String),
}

/// The certificates of a trusted root's certificate authorities.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TrustedCas {
    /// The last certificate of each authority's chain.
    pub roots: Vec<Certificate>,
    /// The others.
    pub intermediates: Vec<Certificate>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootJson {
    #[serde(default)]
    media_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tlogs: Vec<serde_json::Value>,
    #[serde(default, alias = "certificate_authorities", skip_serializing_if = "Vec::is_empty")]
    certificate_authorities: Vec<CaJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ctlogs: Vec<serde_json::Value>,
    #[serde(default, alias = "timestamp_authorities", skip_serializing_if = "Vec::is_empty")]
    timestamp_authorities: Vec<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaJson {
    #[serde(default)]
    subject: SubjectJson,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    uri: String,
    #[serde(alias = "cert_chain")]
    cert_chain: ChainJson,
    #[serde(alias = "valid_for", default, skip_serializing_if = "Option::is_none")]
    valid_for: Option<TimeRangeJson>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectJson {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    organization: String,
    #[serde(default, alias = "common_name", skip_serializing_if = "String::is_empty")]
    common_name: String,
}

#[derive(Serialize, Deserialize)]
struct ChainJson {
    #[serde(default)]
    certificates: Vec<RawJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawJson {
    #[serde(alias = "raw_bytes")]
    raw_bytes: String,
}

#[derive(Serialize, Deserialize)]
struct TimeRangeJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<String>,
}

/// The trusted root for the CA `chain` (intermediates then root, or a full chain with the leaf,
/// in that order), byte for byte as `cosign trusted-root create --certificate-chain` writes it.
///
/// # Errors
///
/// [`TrustedRootError::NoCa`] when `chain` has no CA certificate.
pub fn trusted_root(chain: &[Certificate]) -> Result<Vec<u8>, TrustedRootError> {
    let cas: Vec<&Certificate> = chain.iter().filter(|c| c.is_ca()).collect();
    let root = *cas.last().ok_or(TrustedRootError::NoCa)?;
    let (organization, common_name) = names(root);
    let json = RootJson {
        media_type: TRUSTED_ROOT_V01.to_owned(),
        tlogs: Vec::new(),
        certificate_authorities: vec![CaJson {
            subject: SubjectJson { organization, common_name },
            uri: String::new(),
            cert_chain: ChainJson {
                certificates: cas
                    .iter()
                    .map(|c| RawJson { raw_bytes: STANDARD.encode(c.as_der()) })
                    .collect(),
            },
            valid_for: Some(TimeRangeJson { start: Some(rfc3339(root.not_before())), end: None }),
        }],
        ctlogs: Vec::new(),
        timestamp_authorities: Vec::new(),
    };
    Ok(protojson_spacing(&serde_json::to_vec(&json).unwrap_or_default()))
}

/// The certificate authorities of a trusted root file: each chain's last certificate is a root,
/// the others intermediates. Transparency logs, CT logs and timestamp authorities are ignored
/// (nothing here uses them).
///
/// # Errors
///
/// [`TrustedRootError::Malformed`].
pub fn parse_trusted_root(bytes: &[u8]) -> Result<TrustedCas, TrustedRootError> {
    let bad = |s: String| TrustedRootError::Malformed(s);
    let json: RootJson = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if json.media_type != TRUSTED_ROOT_V01 {
        return Err(bad(format!("mediaType {:?} is not {TRUSTED_ROOT_V01}", json.media_type)));
    }
    let mut cas = TrustedCas::default();
    for (i, ca) in json.certificate_authorities.iter().enumerate() {
        let mut certs = ca
            .cert_chain
            .certificates
            .iter()
            .map(|raw| {
                let der = STANDARD.decode(&raw.raw_bytes).map_err(|_| {
                    bad(format!("certificateAuthorities[{i}]: rawBytes is not standard base64"))
                })?;
                Certificate::from_der(&der)
                    .map_err(|e| bad(format!("certificateAuthorities[{i}]: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let root = certs
            .pop()
            .ok_or_else(|| bad(format!("certificateAuthorities[{i}] has no certificate")))?;
        cas.roots.push(root);
        cas.intermediates.extend(certs);
    }
    if cas.roots.is_empty() {
        return Err(bad("no certificateAuthorities".to_owned()));
    }
    Ok(cas)
}

/// Go's `Subject.Organization[0]` and `Subject.CommonName` of `cert`.
fn names(cert: &Certificate) -> (String, String) {
    (
        cert.subject_organization().unwrap_or_default(),
        cert.subject_common_name().unwrap_or_default(),
    )
}

/// RFC 3339 in UTC, whole seconds (protojson's `Timestamp` without nanoseconds).
fn rfc3339(t: SystemTime) -> String {
    super::referrer::created_annotation(t)
}
