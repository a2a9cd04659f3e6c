//! `sigstore-verify`: checks an image's cosign signatures with sigstore-rs (the `sigstore`
//! crate, 0.14), an independent verifier, offline: no Rekor, no Fulcio, no TUF.
//!
//! ```text
//! sigstore-verify [--http] [-a KEY=VALUE]... --key PUB.pem IMAGE@sha256:…
//! sigstore-verify [--http] [-a KEY=VALUE]... --cert LEAF.pem --cert-chain CHAIN.pem IMAGE@sha256:…
//! ```
//!
//! Exit status 0 when every constraint (key or certificate, annotations) is met by at least one
//! signature layer, 1 otherwise (with sigstore-rs's reason on stderr), 2 for usage errors.
//! `tests/e2e/cosign.sh` runs it against what `cosign-compat sign` stored.
//!
//! sigstore-rs rules to keep in mind: SPKI `PUBLIC KEY` PEM only; RSA 2048–8192 with PKCS#1 v1.5
//! SHA-256; ECDSA P-256/SHA-256, P-384/SHA-384, P-521/SHA-512; the certificate must have
//! keyUsage digitalSignature, EKU codeSigning and a SAN and be valid now; every chain
//! certificate is a trust anchor.

// An example CLI: its verdict goes to stdout, reasons to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::process::ExitCode;

use sigstore::cosign::verification_constraint::{
    AnnotationVerifier, CertificateVerifier, PublicKeyVerifier, VerificationConstraintVec,
};
use sigstore::cosign::{ClientBuilder, CosignCapabilities, verify_constraints};
use sigstore::registry::{
    Auth, Certificate, CertificateEncoding, ClientConfig, ClientProtocol, OciReference,
};

#[derive(Default)]
struct Args {
    key: Option<String>,
    cert: Option<String>,
    cert_chain: Option<String>,
    annotations: BTreeMap<String, String>,
    http: bool,
    image: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--key" => args.key = Some(value("--key")?),
            "--cert" => args.cert = Some(value("--cert")?),
            "--cert-chain" => args.cert_chain = Some(value("--cert-chain")?),
            "-a" | "--annotation" => {
                let pair = value("-a")?;
                let (k, v) =
                    pair.split_once('=').ok_or_else(|| format!("-a {pair}: expected KEY=VALUE"))?;
                args.annotations.insert(k.to_owned(), v.to_owned());
            }
            "--http" => args.http = true,
            other if other.starts_with('-') => return Err(format!("unknown flag {other}")),
            other => {
                if args.image.replace(other.to_owned()).is_some() {
                    return Err("give exactly one image".into());
                }
            }
        }
    }
    if args.image.is_none() || (args.key.is_none() == args.cert.is_none()) {
        return Err("usage: sigstore-verify [--http] [-a K=V]... (--key PUB | --cert LEAF [--cert-chain CHAIN]) IMAGE".into());
    }
    Ok(args)
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// The certificates of a PEM bundle, as DER.
fn chain_certificates(pem_bundle: &[u8]) -> Result<Vec<Certificate>, String> {
    let certificates = sig_core::Certificate::from_bundle_pem(pem_bundle)
        .map_err(|e| format!("bad certificate chain: {e}"))?;
    Ok(certificates
        .iter()
        .map(|c| Certificate { encoding: CertificateEncoding::Der, data: c.as_der().to_vec() })
        .collect())
}

async fn verify(args: &Args) -> Result<usize, String> {
    let image = args.image.as_deref().unwrap_or_default();
    let reference: OciReference =
        image.parse().map_err(|e| format!("bad image reference {image}: {e}"))?;
    let config = ClientConfig {
        protocol: if args.http { ClientProtocol::Http } else { ClientProtocol::Https },
        ..ClientConfig::default()
    };
    // No trust repository: no Rekor keys, no Fulcio roots, nothing fetched besides the registry.
    let mut client = ClientBuilder::default()
        .with_oci_client_config(config)
        .build()
        .map_err(|e| format!("cannot build the sigstore client: {e}"))?;
    let layers = client
        .trusted_signature_layers(&Auth::Anonymous, &reference)
        .await
        .map_err(|e| format!("cannot read the signature layers: {e}"))?;

    let mut constraints: VerificationConstraintVec = Vec::new();
    if let Some(key) = &args.key {
        let verifier = PublicKeyVerifier::try_from(&read(key)?[..])
            .map_err(|e| format!("cannot use the public key: {e}"))?;
        constraints.push(Box::new(verifier));
    }
    if let Some(cert) = &args.cert {
        let chain = args
            .cert_chain
            .as_deref()
            .map(read)
            .transpose()?
            .map(|c| chain_certificates(&c))
            .transpose()?;
        let verifier = CertificateVerifier::from_pem(&read(cert)?, false, chain.as_deref())
            .map_err(|e| format!("cannot use the certificate: {e}"))?;
        constraints.push(Box::new(verifier));
    }
    if !args.annotations.is_empty() {
        constraints.push(Box::new(AnnotationVerifier { annotations: args.annotations.clone() }));
    }
    verify_constraints(&layers, constraints.iter())
        .map_err(|e| format!("not all constraints satisfied: {:?}", e.unsatisfied_constraints))?;
    Ok(layers.len())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("sigstore-verify: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sigstore-verify: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(verify(&args)) {
        Ok(layers) => {
            println!("verified by sigstore-rs ({layers} trusted signature layer(s))");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sigstore-verify: {e}");
            ExitCode::FAILURE
        }
    }
}
