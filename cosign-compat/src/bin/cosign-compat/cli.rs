//! Command line: cosign's command and flag names for the legacy signature format.

// The doc comments below are the `--help` text; environment variable names read better there
// without Markdown backticks.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Cosign-compatible container image signatures with keys that live anywhere.
///
/// Writes and verifies cosign v3's default format (a Sigstore bundle as an OCI 1.1 referrer) and,
/// with --new-bundle-format=false, the legacy sha256-<digest>.sig tag that cosign v2, Kyverno
/// type: Cosign and sigstore-rs read.
/// No transparency log, no Fulcio: bring your own key or certificate chain.
#[derive(Debug, Parser)]
#[command(
    name = "cosign-compat",
    version = env!("EXTERNAL_SIGNER_VERSION"),
    long_version = concat!(env!("EXTERNAL_SIGNER_VERSION"), "\ncommit: ", env!("EXTERNAL_SIGNER_COMMIT_INFO")),
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the simple-signing payload cosign signs for an image (byte-identical to
    /// `cosign generate`).
    Generate(GenerateArgs),
    /// Sign an image with a key file or a signer program and push the signature.
    Sign(SignArgs),
    /// Attach a signature made elsewhere.
    Attach {
        #[command(subcommand)]
        what: AttachCommand,
    },
    /// Verify the signatures of an image; prints cosign's JSON on stdout.
    Verify(VerifyArgs),
    /// Print the reference signatures of an image are stored under.
    Triangulate(TriangulateArgs),
    /// Write a sigstore trusted_root.json for a private CA (no transparency log, CT log or
    /// timestamp authority), for `cosign verify --trusted-root` and Kyverno's trustedRoot.
    TrustedRoot(TrustedRootArgs),
    /// Print a shell completion script, e.g. `cosign-compat completion bash >
    /// ~/.local/share/bash-completion/completions/cosign-compat`.
    Completion(CompletionArgs),
    /// Write the man pages (cosign-compat.1, one per subcommand) into a directory (`make man`).
    #[command(hide = true)]
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttachCommand {
    /// Attach a signature (and certificates) for a payload to an image.
    Signature(AttachSignatureArgs),
}

/// Registry access flags, on every command that talks to a registry.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct RegistryArgs {
    /// Skip TLS certificate verification of the registry (HTTPS stays HTTPS; see
    /// --allow-http-registry for plain HTTP).
    #[arg(long)]
    pub(crate) allow_insecure_registry: bool,
    /// Allow plain HTTP: fall back to it for any registry without HTTPS, and send docker-config
    /// credentials over it. Without this flag, only loopback registries (localhost:PORT,
    /// 127.0.0.1, ::1) are plain HTTP, RFC 1918 and *.local ones fall back to it when they have
    /// no HTTPS, and no credentials are ever sent in clear.
    #[arg(long)]
    pub(crate) allow_http_registry: bool,
}

/// The single-host signing lock, on the commands that push a signature.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct LockArgs {
    /// Seconds to wait for another cosign-compat of this user that is adding a signature to
    /// the same image (a lock in $XDG_RUNTIME_DIR, else the cache directory) before giving up.
    #[arg(long, env = "COSIGN_COMPAT_LOCK_TIMEOUT", value_name = "SECONDS", default_value_t = 60)]
    pub(crate) lock_timeout: u64,
}

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// Extra key=value pairs to sign (repeatable; a comma separates pairs, as in cosign).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub(crate) annotations: Vec<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image (a tag is resolved to its digest through the registry).
    pub(crate) image: String,
}

/// `--signature-digest-algorithm` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DigestName {
    /// SHA-256 (cosign's default).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestName {
    pub(crate) fn hash(self) -> sig_core::HashAlgorithm {
        match self {
            Self::Sha256 => sig_core::HashAlgorithm::Sha256,
            Self::Sha384 => sig_core::HashAlgorithm::Sha384,
            Self::Sha512 => sig_core::HashAlgorithm::Sha512,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// Private key file (PEM or DER: PKCS#8, encrypted PKCS#8, PKCS#1, SEC1). The password of an
    /// encrypted key comes from EXTERNAL_PRIVATE_KEY_PASSWORD or the file named by
    /// EXTERNAL_PRIVATE_KEY_PASSWORD_FILE. With --signer, passed to the program as
    /// EXTERNAL_PRIVATE_KEY.
    #[arg(long, env = "EXTERNAL_PRIVATE_KEY", value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// Program that signs: payload on stdin, signature on stdout (the notation-external-signer
    /// contract, with EXTERNAL_SIGNER_CALLER=cosign). Needs --certificate or --certificate-chain.
    #[arg(long, env = "EXTERNAL_SIGNER", value_name = "PROGRAM")]
    pub(crate) signer: Option<PathBuf>,
    /// Seconds the signer program may take.
    #[arg(long, env = "EXTERNAL_SIGNER_TIMEOUT", value_name = "SECONDS")]
    pub(crate) signer_timeout: Option<String>,
    /// How the signer program prints the signature: raw, base64 or hex.
    #[arg(long, env = "EXTERNAL_SIGNATURE_ENCODING", value_name = "ENCODING")]
    pub(crate) signature_encoding: Option<String>,
    /// Signing certificate (PEM or DER), stored in dev.sigstore.cosign/certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) certificate: Option<PathBuf>,
    /// Certificate chain: intermediates and root, or the full chain with the leaf (in any
    /// order); stored leaf-less in dev.sigstore.cosign/chain, root last.
    #[arg(long, env = "EXTERNAL_CERT_CHAIN", value_name = "FILE")]
    pub(crate) certificate_chain: Option<PathBuf>,
    /// Extra key=value pairs to sign (repeatable; a comma separates pairs, as in cosign).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub(crate) annotations: Vec<String>,
    /// Hash to sign with (required for P-384 and P-521 keys; verifiers need the same flag).
    #[arg(long, value_enum, value_name = "ALGORITHM")]
    pub(crate) signature_digest_algorithm: Option<DigestName>,
    /// Accepted for cosign compatibility: nothing is ever prompted.
    #[arg(short = 'y', long)]
    pub(crate) yes: bool,
    /// Accepted for cosign compatibility; only false is supported (no Rekor upload).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub(crate) tlog_upload: Option<bool>,
    /// Write a Sigstore bundle (v0.3, DSSE) as an OCI 1.1 referrer of the image, as cosign v3
    /// does by default (true); =false writes the legacy sha256-<digest>.sig tag instead.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub(crate) new_bundle_format: Option<bool>,
    /// Accepted for cosign compatibility; only false is supported.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub(crate) use_signing_config: Option<bool>,
    /// If the image is an index (multi-platform), also sign every manifest it lists, nested
    /// indexes depth first, as cosign --recursive: one signature per digest. Without it an index
    /// is signed alone.
    #[arg(short = 'r', long)]
    pub(crate) recursive: bool,
    /// With --recursive: the most manifests walked (the image plus every entry of every index
    /// walked); an index past it is refused before its children are fetched.
    #[arg(
        long,
        value_name = "N",
        default_value_t = cosign_compat::walk::DEFAULT_MAX_MANIFESTS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..),
        requires = "recursive"
    )]
    pub(crate) max_manifests: usize,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    #[command(flatten)]
    pub(crate) lock: LockArgs,
    /// The image (a tag is resolved to its digest before signing).
    pub(crate) image: String,
}

#[derive(Debug, Args)]
pub(crate) struct AttachSignatureArgs {
    /// The signature: a file with raw bytes or base64, or - for stdin.
    #[arg(long, value_name = "FILE")]
    pub(crate) signature: PathBuf,
    /// The signed payload (default: the payload `generate` prints, without annotations).
    #[arg(long, value_name = "FILE")]
    pub(crate) payload: Option<PathBuf>,
    /// Signing certificate; the signature is checked against its key before anything is pushed.
    #[arg(long, value_name = "FILE")]
    pub(crate) certificate: Option<PathBuf>,
    /// Certificate chain: intermediates and root (or the full chain with the leaf).
    #[arg(long, value_name = "FILE")]
    pub(crate) certificate_chain: Option<PathBuf>,
    /// Hash the signature was made with, for the check against --certificate.
    #[arg(long, value_enum, value_name = "ALGORITHM")]
    pub(crate) signature_digest_algorithm: Option<DigestName>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    #[command(flatten)]
    pub(crate) lock: LockArgs,
    /// The image (a tag is resolved to its digest).
    pub(crate) image: String,
}

/// `--output` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// cosign's JSON array.
    Json,
    /// The raw payloads, one per line.
    Text,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Public key (PEM PUBLIC KEY or RSA PUBLIC KEY, or DER SPKI).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate_chain", "ca_roots"])]
    pub(crate) key: Option<PathBuf>,
    /// Signing certificate to verify with instead of the one stored with each signature.
    #[arg(long, value_name = "FILE")]
    pub(crate) certificate: Option<PathBuf>,
    /// Intermediates then root (PEM); the last certificate is the only trusted root.
    #[arg(long, value_name = "FILE", conflicts_with = "ca_roots")]
    pub(crate) certificate_chain: Option<PathBuf>,
    /// A sigstore trusted_root.json: its certificate authorities are the trusted roots (and
    /// intermediates), as with cosign verify --trusted-root.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "certificate_chain", "ca_roots"])]
    pub(crate) trusted_root: Option<PathBuf>,
    /// Trusted root certificates (PEM bundle); every one is a root.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_roots: Option<PathBuf>,
    /// Intermediate certificates (PEM bundle), with --ca-roots.
    #[arg(long, value_name = "FILE", requires = "ca_roots")]
    pub(crate) ca_intermediates: Option<PathBuf>,
    /// Identity (SAN: e-mail, URI, DNS name or IP) the certificate must have, exactly.
    #[arg(long, value_name = "IDENTITY")]
    pub(crate) certificate_identity: Vec<String>,
    /// Regular expression a SAN of the certificate must match (unanchored, RE2 syntax).
    #[arg(long, value_name = "REGEX")]
    pub(crate) certificate_identity_regexp: Vec<String>,
    /// OIDC issuer (Fulcio extension) the certificate must have, exactly.
    #[arg(long, value_name = "ISSUER")]
    pub(crate) certificate_oidc_issuer: Vec<String>,
    /// Regular expression the certificate's OIDC issuer must match ("" when it has none).
    #[arg(long, value_name = "REGEX")]
    pub(crate) certificate_oidc_issuer_regexp: Vec<String>,
    /// Annotations every accepted payload must carry (key=value, repeatable).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub(crate) annotations: Vec<String>,
    /// Hash the signatures were made with (default sha256, as cosign).
    #[arg(long, value_enum, value_name = "ALGORITHM")]
    pub(crate) signature_digest_algorithm: Option<DigestName>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "json")]
    pub(crate) output: OutputFormat,
    /// Accepted for cosign compatibility: no transparency log is ever consulted.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub(crate) insecure_ignore_tlog: Option<bool>,
    /// Accepted for cosign compatibility: no SCT is ever required.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub(crate) insecure_ignore_sct: Option<bool>,
    /// Read Sigstore bundle referrers first, and only them when any exists, as cosign v3 does
    /// (true, the default); =false reads only the legacy sha256-<digest>.sig tag.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub(crate) new_bundle_format: Option<bool>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image (a tag is resolved to its digest).
    pub(crate) image: String,
}

/// `--type` values of `triangulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TriangulateType {
    /// The `.sig` tag.
    Signature,
    /// The image digest reference.
    Digest,
}

#[derive(Debug, Args)]
pub(crate) struct TriangulateArgs {
    /// What to print.
    #[arg(long = "type", value_enum, default_value = "signature")]
    pub(crate) kind: TriangulateType,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image (a tag is resolved to its digest).
    pub(crate) image: String,
}

#[derive(Debug, Args)]
pub(crate) struct TrustedRootArgs {
    /// The CA chain: intermediates then root (PEM), or a full signing chain (its leaf is left out).
    #[arg(long, value_name = "FILE")]
    pub(crate) certificate_chain: PathBuf,
    /// Where to write it (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// The directory the pages are written to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
}
