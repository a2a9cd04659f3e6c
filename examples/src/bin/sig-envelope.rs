//! `sig-envelope`: sign an OCI descriptor into a Notary JWS or COSE envelope with a key file, and
//! verify such an envelope against a trusted root, with sig-core.
//!
//! ```text
//! sig-envelope sign --format jws --key leaf.key --chain certificate_chain.pem \
//!     --descriptor descriptor.json --out sig.jws [--expiry-seconds 3600]
//! sig-envelope verify --envelope sig.jws --media-type application/jose+json \
//!     --trust-anchor ca.crt [--digest sha256:…]
//! ```
//!
//! `verify` prints the signed payload JSON (exactly as signed) on stdout and a one-line summary on
//! stderr; any failure prints the error on stderr and exits with status 1.

// A command-line tool: its output is its interface.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};
use sig_core::envelope::{self, EnvelopeFormat, MAX_ENVELOPE_LEN};
use sig_core::oci::Descriptor;
use sig_core::{
    CertificateChain, CertifiedKey, NotaryPayload, PrivateKey, SignRequest, SigningKey as _,
    media_type,
};

/// Sign and verify Notary signature envelopes (notation v1.3 compatible).
#[derive(Debug, Parser)]
#[command(name = "sig-envelope", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign a descriptor into an envelope file.
    Sign(SignArgs),
    /// Verify an envelope and print its payload.
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// JWS JSON serialization, application/jose+json.
    Jws,
    /// `COSE_Sign1`, application/cose.
    Cose,
}

impl From<Format> for EnvelopeFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Jws => Self::Jws,
            Format::Cose => Self::Cose,
        }
    }
}

#[derive(Debug, clap::Args)]
struct SignArgs {
    /// Envelope format.
    #[arg(long, value_enum)]
    format: Format,
    /// Private key file (PEM or DER; PKCS#8, PKCS#1, SEC1).
    #[arg(long)]
    key: PathBuf,
    /// Environment variable holding the password of an encrypted key.
    #[arg(long, value_name = "VAR")]
    key_password_env: Option<String>,
    /// Certificate chain file (PEM bundle or DER, any order), leaf to root.
    #[arg(long)]
    chain: PathBuf,
    /// JSON file with the OCI descriptor to sign ({"mediaType","digest","size","annotations"}),
    /// or a whole Notary payload ({"targetArtifact":{…}}).
    #[arg(long)]
    descriptor: PathBuf,
    /// Where to write the envelope.
    #[arg(long)]
    out: PathBuf,
    /// Expiry, in seconds after the signing time.
    #[arg(long, value_name = "N")]
    expiry_seconds: Option<u64>,
    /// The unprotected signing agent.
    #[arg(long, default_value = concat!("sig-envelope/", env!("CARGO_PKG_VERSION")))]
    signing_agent: String,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The envelope file.
    #[arg(long)]
    envelope: PathBuf,
    /// The envelope's media type.
    #[arg(long, value_parser = [media_type::JWS, media_type::COSE])]
    media_type: String,
    /// Trusted root (PEM or DER; may hold several certificates). Repeatable.
    #[arg(long = "trust-anchor", value_name = "ROOT", required = true)]
    trust_anchors: Vec<PathBuf>,
    /// Require the signed artifact to have this digest.
    #[arg(long)]
    digest: Option<String>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sig-envelope: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Sign(args) => sign(&args),
        Command::Verify(args) => verify(&args),
    }
}

fn read(path: &Path, max: usize) -> anyhow::Result<Vec<u8>> {
    let max = u64::try_from(max).unwrap_or(u64::MAX);
    sig_core::__private::fs::read_bounded(path, max)
        .with_context(|| format!("cannot read {}", path.display()))
}

fn sign(args: &SignArgs) -> anyhow::Result<()> {
    let password = match &args.key_password_env {
        Some(var) => Some(
            std::env::var(var)
                .with_context(|| {
                    format!("environment variable {var} (the key password) is not set")
                })?
                .into_bytes(),
        ),
        None => None,
    };
    let key = PrivateKey::read_file(&args.key, password.as_deref())?;
    let signer = CertifiedKey::new(CertificateChain::read_pem_file(&args.chain)?, key)?;
    let json = read(&args.descriptor, 1 << 20)?;
    let descriptor = parse_descriptor(&json)
        .with_context(|| format!("{} is not an OCI descriptor", args.descriptor.display()))?;
    let signing_time = SystemTime::now();
    let mut request = SignRequest::new(NotaryPayload::new(descriptor), signing_time)
        .with_signing_agent(args.signing_agent.clone());
    if let Some(seconds) = args.expiry_seconds {
        let expiry = signing_time
            .checked_add(Duration::from_secs(seconds))
            .with_context(|| format!("--expiry-seconds {seconds} is too large"))?;
        request = request.with_expiry(expiry);
    }
    let format = EnvelopeFormat::from(args.format);
    let bytes = envelope::sign(format, &request, &signer)?;
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "signed {} with {} ({}): {} bytes to {}",
        format,
        signer.chain().leaf().subject(),
        signer.key_spec(),
        bytes.len(),
        args.out.display()
    );
    Ok(())
}

/// A descriptor, or the `targetArtifact` of a whole payload.
fn parse_descriptor(json: &[u8]) -> anyhow::Result<Descriptor> {
    let value: serde_json::Value = serde_json::from_slice(json)?;
    let descriptor = value.get("targetArtifact").cloned().unwrap_or(value);
    Ok(serde_json::from_value(descriptor)?)
}

fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let format = EnvelopeFormat::from_media_type(&args.media_type)?;
    let bytes = read(&args.envelope, MAX_ENVELOPE_LEN)?;
    let mut anchors = Vec::new();
    for path in &args.trust_anchors {
        let certs = sig_core::Certificate::from_bundle_pem(&read(path, 1 << 20)?)
            .with_context(|| format!("trust anchor {}", path.display()))?;
        anchors.extend(certs);
    }
    // `--trust-anchor` is required, so the list is never empty.
    let anchors = sig_core::TrustAnchors::new(anchors)?;
    let verified = envelope::verify(format, &bytes, &anchors, SystemTime::now())?;
    let target = &verified.payload().target_artifact;
    if let Some(digest) = &args.digest
        && &target.digest != digest
    {
        bail!("the signature is for {} but {digest} was expected", target.digest);
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(verified.payload_bytes())?;
    stdout.write_all(b"\n")?;
    stdout.flush()?;
    eprintln!(
        "verified {} signature by {} ({}), {} {} of {} bytes",
        format,
        verified.chain().leaf().subject(),
        verified.algorithm(),
        target.media_type,
        target.digest,
        target.size
    );
    Ok(())
}
