//! cosign v3's signature format: a Sigstore bundle (v0.3) holding a DSSE envelope around an
//! in-toto Statement, stored as an OCI 1.1 referrer of the image. Pure: no registry access here
//! (see [`remote`]).
//!
//! What `cosign sign --key K --tlog-upload=false --use-signing-config=false` (v3.1.3) writes,
//! from its source (`cmd/cosign/cli/sign/sign.go signDigestBundle`,
//! `pkg/cosign/bundle/sign.go SignData`, sigstore-go `pkg/sign/signer.go Bundle`,
//! `pkg/sign/content.go DSSEData`):
//!
//! ```text
//! statement  {"_type":"https://in-toto.io/Statement/v1",
//!             "subject":[{"digest":{"sha256":"<hex>"},"annotations":{<-a k=v, sorted>}}],
//!             "predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}
//! signed     PAE = "DSSEv1 <len(type)> <type> <len(statement)> <statement>"
//!            type = application/vnd.in-toto+json; RSA PKCS#1 v1.5 or ECDSA (DER), SHA-256
//! bundle     {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
//!             "verificationMaterial":{"publicKey":{"hint":"<b64 sha256(SPKI DER)>"}},
//!             "dsseEnvelope":{"payload":"<b64 statement>","payloadType":"application/vnd.in-toto+json",
//!                             "signatures":[{"sig":"<b64 signature>"}]}}
//! ```
//!
//! - The JSON is protobuf-JSON (`protojson.Marshal`): fields in `.proto` declaration order,
//!   camelCase names, bytes as padded standard base64, empty fields left out (no `tlogEntries`,
//!   no `timestampVerificationData` without Rekor or a TSA, no `keyid`). protojson randomly
//!   adds a space after some separators (stable per Go binary); cosign-compat writes compact
//!   JSON, which every reader accepts, and never re-encodes what it reads.
//! - Verification material: the public key hint for a key; `certificate` (DER) for a lone
//!   certificate (`cosign sign --certificate`); `x509CertificateChain` = leaf then
//!   intermediates, self-signed roots left out, when a chain is given
//!   (`--certificate-chain`).
//! - No Rekor entry, no signed timestamp: certificates are checked at verification time.
//!
//! Verification ([`verify_bundle`]) mirrors `cosign verify --insecure-ignore-tlog`: the DSSE
//! signature over the PAE with the trusted key or certificate chain, then cosign's
//! `IntotoSubjectClaimVerifier` (a subject whose `sha256` is the image digest, with the wanted
//! annotations). Like cosign, any predicate type is accepted; it is reported.

mod error;
pub mod referrer;
pub mod remote;
pub mod trusted_root;

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sig_core::{Certificate, HashAlgorithm, KeySpec, PublicKey};

pub use error::{BundleError, BundleRejection};

use crate::error::SigningError;
use crate::payload::Annotations;
use crate::reference::Digest;
use crate::sign::{CertificateMaterial, sign_payload};
use crate::verify::VerifyOptions;
use sig_core::SigningKey;

/// Media type of a Sigstore bundle v0.3: the referrer's `artifactType` and its layer's
/// `mediaType`.
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Prefix of every Sigstore bundle media type (cosign `pkg/oci/remote/signatures.go Bundle`).
pub const BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// DSSE `payloadType` of an in-toto Statement.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1 `_type`.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of `cosign sign` (cosign `pkg/types/predicate.go`).
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// Largest bundle blob read (1 MiB; a bundle with a certificate chain is a few KiB).
pub const MAX_BUNDLE_LEN: u64 = 1024 * 1024;

/// The in-toto Statement `cosign sign` signs for `image`, byte for byte as cosign v3.1.3's
/// protojson writes it (see [`protojson_spacing`]).
pub fn statement(image: &Digest, annotations: &Annotations) -> Vec<u8> {
    #[derive(Serialize)]
    struct Subject<'a> {
        digest: DigestSet<'a>,
        annotations: &'a Annotations,
    }
    #[derive(Serialize)]
    struct DigestSet<'a> {
        sha256: &'a str,
    }
    #[derive(Serialize)]
    struct Statement<'a> {
        #[serde(rename = "_type")]
        kind: &'static str,
        subject: [Subject<'a>; 1],
        #[serde(rename = "predicateType")]
        predicate_type: &'static str,
        predicate: Empty,
    }
    #[derive(Serialize)]
    struct Empty {}
    let compact = serde_json::to_vec(&Statement {
        kind: STATEMENT_V1,
        subject: [Subject { digest: DigestSet { sha256: image.hex() }, annotations }],
        predicate_type: COSIGN_SIGN_PREDICATE,
        predicate: Empty {},
    })
    .unwrap_or_default();
    protojson_spacing(&compact)
}

/// protojson's single-line layout as the pinned cosign v3.1.3 binary writes it: `", "` between
/// members and elements, no space after `:`. (protojson picks "space after a comma or not" from
/// a hash of the running binary, `internal/detrand`, to keep callers from depending on it; the
/// Linux amd64 v3.1.3 build adds it.) Readers ignore the difference; matching it makes the
/// statement, hence an RSA PKCS#1 v1.5 signature, and the bundle blob byte-identical to
/// cosign's. `compact` is `serde_json`'s compact output.
pub fn protojson_spacing(compact: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(compact.len() + compact.len() / 16);
    let (mut in_string, mut escaped) = (false, false);
    for &b in compact {
        out.push(b);
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b',' {
            out.push(b' ');
        }
    }
    out
}

/// DSSE's pre-authentication encoding (DSSE v1 `PAE`), the bytes actually signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out =
        format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// What a bundle says about its signer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMaterial {
    /// `publicKey.hint`: only a hint, the verifier supplies the key.
    PublicKey {
        /// The hint (cosign: base64 of the SHA-256 of the SPKI DER).
        hint: String,
    },
    /// `certificate`: one certificate.
    Certificate(Box<Certificate>),
    /// `x509CertificateChain`: the leaf first, then intermediates.
    Chain(Vec<Certificate>),
}

impl VerificationMaterial {
    /// The hint cosign writes for `key`: std base64 of SHA-256 over the SPKI DER.
    ///
    /// # Errors
    ///
    /// [`SigningError::Chain`] if the key cannot be encoded (never for the supported specs).
    pub fn public_key(key: &PublicKey) -> Result<Self, SigningError> {
        let der = spki_der(key).map_err(|reason| SigningError::Chain { reason })?;
        Ok(Self::PublicKey { hint: STANDARD.encode(HashAlgorithm::Sha256.digest(&der)) })
    }

    /// The material `cosign sign --certificate [--certificate-chain]` writes: the lone leaf as
    /// `certificate`, or the leaf and the intermediates (self-signed certificates left out) as
    /// `x509CertificateChain` when the material has more than the leaf.
    pub fn from_certificates(material: &CertificateMaterial) -> Self {
        let certs = material.chain().certificates();
        if certs.len() == 1 {
            return Self::Certificate(Box::new(material.leaf().clone()));
        }
        let mut chain = vec![material.leaf().clone()];
        chain.extend(certs[1..].iter().filter(|c| !c.is_self_signed()).cloned());
        Self::Chain(chain)
    }

    /// The signing certificate, if the material has one.
    pub fn leaf(&self) -> Option<&Certificate> {
        match self {
            Self::PublicKey { .. } => None,
            Self::Certificate(c) => Some(c),
            Self::Chain(chain) => chain.first(),
        }
    }
}

/// A bundle with one DSSE signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    material: VerificationMaterial,
    payload_type: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
    tlog_entries: usize,
}

impl Bundle {
    /// The verification material.
    pub fn material(&self) -> &VerificationMaterial {
        &self.material
    }

    /// The DSSE payload type.
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The DSSE payload (the statement) as stored.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// How many transparency log entries the bundle carries (none when cosign-compat or
    /// `cosign sign --tlog-upload=false` wrote it; never checked here, as with cosign's
    /// `--insecure-ignore-tlog`).
    pub fn tlog_entries(&self) -> usize {
        self.tlog_entries
    }

    /// The bundle as cosign writes it (compact protobuf-JSON).
    pub fn to_json(&self) -> Vec<u8> {
        let raw = |c: &Certificate| RawBytes { raw_bytes: STANDARD.encode(c.as_der()) };
        let mut material = MaterialJson::default();
        match &self.material {
            VerificationMaterial::PublicKey { hint } => {
                material.public_key = Some(HintJson { hint: hint.clone() });
            }
            VerificationMaterial::Certificate(c) => material.certificate = Some(raw(c)),
            VerificationMaterial::Chain(chain) => {
                material.x509_certificate_chain =
                    Some(ChainJson { certificates: chain.iter().map(raw).collect() });
            }
        }
        let json = BundleJson {
            media_type: BUNDLE_V03.to_owned(),
            verification_material: material,
            dsse_envelope: Some(EnvelopeJson {
                payload: STANDARD.encode(&self.payload),
                payload_type: self.payload_type.clone(),
                signatures: vec![SignatureJson {
                    sig: STANDARD.encode(&self.signature),
                    keyid: String::new(),
                }],
            }),
            message_signature: None,
        };
        protojson_spacing(&serde_json::to_vec(&json).unwrap_or_default())
    }

    /// Parses a bundle blob (v0.3 protobuf-JSON with a DSSE envelope and one signature).
    ///
    /// # Errors
    ///
    /// [`BundleRejection::Malformed`] naming what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, BundleRejection> {
        let bad = |reason: String| BundleRejection::Malformed { reason };
        let json: BundleJson =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not bundle JSON: {e}")))?;
        if !json.media_type.starts_with(BUNDLE_PREFIX) {
            return Err(bad(format!("mediaType {:?} is not a Sigstore bundle", json.media_type)));
        }
        let decode = |what: &str, text: &str| {
            STANDARD.decode(text).map_err(|_| bad(format!("{what} is not standard base64")))
        };
        let cert = |what: &str, raw: &RawBytes| {
            Certificate::from_der(&decode(what, &raw.raw_bytes)?)
                .map_err(|e| bad(format!("{what}: {e}")))
        };
        let m = &json.verification_material;
        let material = match (&m.public_key, &m.certificate, &m.x509_certificate_chain) {
            (Some(key), None, None) => VerificationMaterial::PublicKey { hint: key.hint.clone() },
            (None, Some(c), None) => VerificationMaterial::Certificate(Box::new(cert(
                "verificationMaterial.certificate",
                c,
            )?)),
            (None, None, Some(chain)) if !chain.certificates.is_empty() => {
                VerificationMaterial::Chain(
                    chain
                        .certificates
                        .iter()
                        .map(|c| cert("verificationMaterial.x509CertificateChain", c))
                        .collect::<Result<_, _>>()?,
                )
            }
            _ => {
                return Err(bad(
                    "verificationMaterial must hold exactly one of publicKey, certificate, x509CertificateChain (not empty)"
                        .to_owned(),
                ));
            }
        };
        let envelope = json.dsse_envelope.ok_or_else(|| {
            bad("no dsseEnvelope (message signatures are not images' signatures)".to_owned())
        })?;
        let [signature] = envelope.signatures.as_slice() else {
            return Err(bad(format!(
                "the DSSE envelope has {} signatures; cosign writes exactly one",
                envelope.signatures.len()
            )));
        };
        Ok(Self {
            material,
            payload_type: envelope.payload_type.clone(),
            payload: decode("dsseEnvelope.payload", &envelope.payload)?,
            signature: decode("dsseEnvelope.signatures[0].sig", &signature.sig)?,
            tlog_entries: m.tlog_entries.len(),
        })
    }
}

/// Signs `image` the way `cosign sign --key` does with the bundle format: the statement, its
/// PAE signed with cosign's scheme for the key (every signature verified before use), and the
/// verification material: `material`'s certificates, or without them the public key hint of
/// `key` (key-only signing).
///
/// # Errors
///
/// As [`sign_payload`], and [`SigningError::Chain`] when the signer's key does not match the
/// certificate of `material`.
pub fn sign_image(
    key: &dyn SigningKey,
    image: &Digest,
    annotations: &Annotations,
    digest: Option<HashAlgorithm>,
    material: Option<&CertificateMaterial>,
) -> Result<Bundle, SigningError> {
    let payload = statement(image, annotations);
    let signature = sign_payload(key, &pae(INTOTO_PAYLOAD_TYPE, &payload), digest)?;
    let material = match material {
        Some(material) => VerificationMaterial::from_certificates(material),
        None => VerificationMaterial::public_key(key.public_key())?,
    };
    Ok(Bundle {
        material,
        payload_type: INTOTO_PAYLOAD_TYPE.to_owned(),
        payload,
        signature,
        tlog_entries: 0,
    })
}

/// A bundle that verified.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifiedBundle {
    /// The referrer manifest's digest.
    pub referrer: String,
    /// The statement's predicate type.
    pub predicate_type: String,
    /// The matching subject's annotations.
    pub annotations: Annotations,
    /// The signing certificate, for certificate bundles.
    pub certificate: Option<Certificate>,
    /// The bundle.
    pub bundle: Bundle,
}

/// Verifies `bundle` (from referrer `referrer`) for `image` at `now`, with the trust of
/// `options` (cosign `verify --insecure-ignore-tlog`; with certificates also
/// `--insecure-ignore-sct`): the signature over the DSSE PAE, then a statement subject equal to
/// the image digest carrying the wanted annotations.
///
/// # Errors
///
/// The first [`BundleRejection`] that applies.
pub fn verify_bundle(
    bundle: Bundle,
    referrer: &str,
    image: &Digest,
    options: &VerifyOptions,
    now: SystemTime,
) -> Result<VerifiedBundle, BundleRejection> {
    if bundle.payload_type != INTOTO_PAYLOAD_TYPE {
        return Err(BundleRejection::PayloadType(bundle.payload_type));
    }
    let signed = pae(&bundle.payload_type, &bundle.payload);
    let certificate = crate::verify::bundle_signer::check(
        &bundle.material,
        &signed,
        &bundle.signature,
        options,
        now,
    )?;
    let (predicate_type, annotations) = check_statement(&bundle.payload, image, options)?;
    Ok(VerifiedBundle {
        referrer: referrer.to_owned(),
        predicate_type,
        annotations,
        certificate,
        bundle,
    })
}

#[derive(Deserialize)]
struct StatementIn {
    #[serde(rename = "_type", default)]
    kind: String,
    #[serde(default)]
    subject: Vec<Option<SubjectIn>>,
    #[serde(rename = "predicateType", alias = "predicate_type", default)]
    predicate_type: String,
}

#[derive(Deserialize)]
struct SubjectIn {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// cosign's `IntotoSubjectClaimVerifier`: the first subject whose `sha256` is the image digest
/// must carry the wanted annotations. Returns the predicate type and that subject's
/// string annotations.
fn check_statement(
    payload: &[u8],
    image: &Digest,
    options: &VerifyOptions,
) -> Result<(String, Annotations), BundleRejection> {
    let statement: StatementIn =
        serde_json::from_slice(payload).map_err(|e| BundleRejection::Malformed {
            reason: format!("the DSSE payload is not an in-toto statement: {e}"),
        })?;
    if statement.kind != STATEMENT_V1 && statement.kind != "https://in-toto.io/Statement/v0.1" {
        return Err(BundleRejection::Malformed {
            reason: format!("statement _type {:?} is not in-toto", statement.kind),
        });
    }
    let mut found = Vec::new();
    for subject in &statement.subject {
        let Some(subject) = subject else {
            return Err(BundleRejection::Malformed {
                reason: "invalid in-toto statement: null subject entry".to_owned(),
            });
        };
        let Some(hex) = subject.digest.get("sha256") else { continue };
        if format!("sha256:{hex}") != image.as_str() {
            found.push(format!("sha256:{hex}"));
            continue;
        }
        let annotations: Annotations = subject
            .annotations
            .iter()
            .flatten()
            .map(|(k, v)| {
                let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), value)
            })
            .collect();
        for (key, want) in crate::verify::bundle_signer::wanted_annotations(options) {
            if annotations.get(key) != Some(want) {
                return Err(BundleRejection::Annotation { key: key.clone(), want: want.clone() });
            }
        }
        return Ok((statement.predicate_type, annotations));
    }
    Err(BundleRejection::SubjectDigest { image: image.to_string(), found })
}

/// The SPKI DER of `key`, as Go's `x509.MarshalPKIXPublicKey` writes it.
fn spki_der(key: &PublicKey) -> Result<Vec<u8>, String> {
    use const_oid::db::rfc5912;
    use der::Encode;
    let (oid, parameters) = match key.key_spec() {
        spec if spec.is_rsa() => (rfc5912::RSA_ENCRYPTION, der::Any::from(der::asn1::Null)),
        spec => {
            let curve = match spec {
                KeySpec::Ec256 => rfc5912::SECP_256_R_1,
                KeySpec::Ec384 => rfc5912::SECP_384_R_1,
                _ => rfc5912::SECP_521_R_1,
            };
            let any = der::Any::encode_from(&curve).map_err(|e| e.to_string())?;
            (rfc5912::ID_EC_PUBLIC_KEY, any)
        }
    };
    let spki = spki::SubjectPublicKeyInfoOwned {
        algorithm: spki::AlgorithmIdentifierOwned { oid, parameters: Some(parameters) },
        subject_public_key: der::asn1::BitString::from_bytes(key.as_bytes())
            .map_err(|e| e.to_string())?,
    };
    spki.to_der().map_err(|e| e.to_string())
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BundleJson {
    #[serde(default)]
    media_type: String,
    #[serde(alias = "verification_material")]
    verification_material: MaterialJson,
    #[serde(alias = "dsse_envelope", skip_serializing_if = "Option::is_none", default)]
    dsse_envelope: Option<EnvelopeJson>,
    #[serde(alias = "message_signature", skip_serializing_if = "Option::is_none", default)]
    message_signature: Option<serde_json::Value>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MaterialJson {
    #[serde(alias = "public_key", skip_serializing_if = "Option::is_none", default)]
    public_key: Option<HintJson>,
    #[serde(alias = "x509_certificate_chain", skip_serializing_if = "Option::is_none", default)]
    x509_certificate_chain: Option<ChainJson>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    certificate: Option<RawBytes>,
    #[serde(alias = "tlog_entries", skip_serializing_if = "Vec::is_empty", default)]
    tlog_entries: Vec<serde_json::Value>,
    #[serde(
        alias = "timestamp_verification_data",
        skip_serializing_if = "Option::is_none",
        default
    )]
    timestamp_verification_data: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct HintJson {
    #[serde(default)]
    hint: String,
}

#[derive(Serialize, Deserialize)]
struct ChainJson {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    #[serde(alias = "raw_bytes")]
    raw_bytes: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeJson {
    #[serde(default)]
    payload: String,
    #[serde(alias = "payload_type", default)]
    payload_type: String,
    #[serde(default)]
    signatures: Vec<SignatureJson>,
}

#[derive(Serialize, Deserialize)]
struct SignatureJson {
    #[serde(default)]
    sig: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    keyid: String,
}

#[cfg(test)]
mod tests;
