//! One function per command. Everything that can fail before a push (reading files, signing,
//! checking the signature) happens before the first write to the registry.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use cosign_compat::SignatureTag as _;
use cosign_compat::remote::{self, AttachOptions, AttachOutcome};
use cosign_compat::sign::{CertificateMaterial, sign_payload};
use cosign_compat::verify::{
    self, CertificateTrust, IdentityMatcher, Trust, VerificationKey, VerifyOptions,
};
use cosign_compat::walk;
use cosign_compat::{
    AttachError, Digest, ImageReference, OciRegistry, ParsedPayload, Registry, RegistryOptions,
    SignatureLayer, SimpleSigningPayload, payload,
};
use sig_core::key_source::env;
use sig_core::key_source::{KeySource, ProgramSettings, Secret, parse_timeout};
use sig_core::{OutputEncoding, SigningKey};

use clap::CommandFactory as _;

use crate::cli::{
    AttachSignatureArgs, Cli, CompletionArgs, GenerateArgs, LockArgs, ManArgs, OutputFormat,
    RegistryArgs, SignArgs, TriangulateArgs, TriangulateType, VerifyArgs,
};

/// A command failure: the message and cosign's exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) code: u8,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: 1 }
    }
}

impl From<cosign_compat::Error> for Failure {
    fn from(e: cosign_compat::Error) -> Self {
        let code = match &e {
            cosign_compat::Error::Verify(v) => v.exit_code(),
            cosign_compat::Error::Bundle(b) => b.exit_code(),
            _ => 1,
        };
        Self { message: error_chain(&e) + &crate::advice::for_cosign_error(&e), code }
    }
}

macro_rules! failure_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Self::from(cosign_compat::Error::from(e))
            }
        }
    )*};
}
failure_from!(
    cosign_compat::ReferenceError,
    cosign_compat::PayloadError,
    cosign_compat::SigningError,
    cosign_compat::RegistryError,
    cosign_compat::VerifyError,
    AttachError
);

impl From<sig_core::Error> for Failure {
    fn from(e: sig_core::Error) -> Self {
        Self::new(error_chain(&e) + &crate::advice::for_error(&e))
    }
}

// sig-core's narrow errors, through `sig_core::Error`, so `?` needs no `map_err`.
sig_core::__from_narrow_errors!(Failure);

use sig_core::message_with_sources as error_chain;

/// What a command can use besides its arguments.
pub(crate) struct Context<'a> {
    pub(crate) env: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) stdin: &'a mut dyn Read,
    pub(crate) stdout: &'a mut dyn Write,
    pub(crate) stderr: &'a mut dyn Write,
    pub(crate) now: SystemTime,
}

impl Context<'_> {
    pub(crate) fn note(&mut self, text: &str) {
        // A closed stderr must not turn a successful push into a failure.
        let _ = writeln!(self.stderr, "{text}");
    }
}

fn registry(ctx: &Context<'_>, args: RegistryArgs) -> Result<OciRegistry, Failure> {
    let credentials = cosign_compat::registry::credentials::Credentials::load(ctx.env)?;
    let options = RegistryOptions::new()
        .allow_http(args.allow_http_registry)
        .allow_insecure(args.allow_insecure_registry)
        .credentials(credentials);
    Ok(OciRegistry::new(options)?)
}

fn parse_image(image: &str) -> Result<ImageReference, Failure> {
    Ok(image.parse::<ImageReference>()?)
}

pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    sig_core::__private::fs::read_bounded(path, sig_core::__private::fs::MAX_FILE_LEN)
        .map_err(|e| Failure::new(format!("cannot read {what} {}: {e}", path.display())))
}

fn non_empty(path: Option<PathBuf>) -> Option<PathBuf> {
    path.filter(|p| !p.as_os_str().is_empty())
}

pub(crate) fn write_out(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), Failure> {
    ctx.stdout
        .write_all(bytes)
        .and_then(|()| ctx.stdout.flush())
        .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))
}

pub(crate) fn generate(ctx: &mut Context<'_>, args: GenerateArgs) -> Result<(), Failure> {
    let reference = parse_image(&args.image)?;
    let annotations = payload::parse_annotations(&args.annotations)?;
    let digest = match reference.digest() {
        Some(d) => d.clone(),
        None => remote::resolve(&registry(ctx, args.registry)?, &reference)?,
    };
    let bytes = SimpleSigningPayload::new(reference.repository(), digest)
        .with_annotations(annotations)
        .to_bytes();
    write_out(ctx, &bytes)
}

/// `--tlog-upload` and friends: accepted only with the value cosign-compat implements.
fn only_false(flag: &str, value: Option<bool>) -> Result<(), Failure> {
    if value == Some(true) {
        return Err(Failure::new(format!(
            "--{flag}=true is not supported: cosign-compat writes and reads the legacy .sig format without a transparency log (see the cosign-compat README)"
        )));
    }
    Ok(())
}

fn certificate_material(
    certificate: Option<&Path>,
    chain: Option<&Path>,
) -> Result<Option<CertificateMaterial>, Failure> {
    if certificate.is_none() && chain.is_none() {
        return Ok(None);
    }
    let cert = certificate.map(|p| read_file(p, "certificate")).transpose()?;
    let chain = chain.map(|p| read_file(p, "certificate chain")).transpose()?;
    Ok(Some(CertificateMaterial::new(cert.as_deref(), chain.as_deref())?))
}

pub(crate) fn sign(ctx: &mut Context<'_>, args: SignArgs) -> Result<(), Failure> {
    only_false("tlog-upload", args.tlog_upload)?;
    only_false("use-signing-config", args.use_signing_config)?;
    // cosign v3's default: the bundle format; `=false` keeps the legacy `.sig` path.
    let bundle_format = args.new_bundle_format.unwrap_or(true);
    let key_path = non_empty(args.key);
    let program = non_empty(args.signer);
    let chain_path = non_empty(args.certificate_chain);
    let cert_path = non_empty(args.certificate);
    let reference = parse_image(&args.image)?;
    let annotations = payload::parse_annotations(&args.annotations)?;
    let digest_algorithm = args.signature_digest_algorithm.map(|d| d.hash());
    let material = certificate_material(cert_path.as_deref(), chain_path.as_deref())?;
    if let Some(material) = &material {
        material.check_for_cosign(ctx.now)?;
        if verify::certificate_identities(material.leaf()).is_empty() {
            ctx.note(
                "warning: the signing certificate has no subject alternative name; `cosign verify --certificate-identity*` will never match it",
            );
        }
    }

    // The signer, before any registry access.
    let program_output = (args.signer_timeout.as_deref(), args.signature_encoding.as_deref());
    let source =
        key_source(ctx, program_output, key_path, program, chain_path, material.is_some())?;
    let certified;
    let key_only;
    let key: &dyn SigningKey = match &material {
        Some(material) => {
            certified = source.certified(material.clone().into_chain())?;
            &certified
        }
        None => {
            key_only = source.open(None)?;
            &key_only
        }
    };
    sign_and_push(
        ctx,
        (&args.registry, args.lock, bundle_format, args.recursive.then_some(args.max_manifests)),
        &reference,
        annotations,
        digest_algorithm,
        key,
        material.as_ref(),
    )
}

/// The flags as one [`KeySource`]: `--key pkcs11:...` (module and PIN from the environment, as
/// the notation plugin), `--key FILE`, or `--signer PROGRAM` (with `--key` passed on to it).
/// Secrets come only from the environment, never from the command line.
fn key_source(
    ctx: &mut Context<'_>,
    (timeout, encoding): (Option<&str>, Option<&str>),
    key_path: Option<PathBuf>,
    program: Option<PathBuf>,
    chain_path: Option<PathBuf>,
    certificate: bool,
) -> Result<KeySource, Failure> {
    if let Some(uri) =
        key_path.as_deref().and_then(Path::to_str).filter(|k| k.starts_with("pkcs11:"))
    {
        if program.is_some() {
            return Err(Failure::new(
                "--key pkcs11:... and --signer are different signers; give one of them",
            ));
        }
        if !certificate {
            return Err(Failure::new(
                "--key pkcs11:... needs the signing certificate: give --certificate-chain (or EXTERNAL_CERT_CHAIN) with the full chain",
            ));
        }
        let uri = sig_core::Pkcs11Uri::parse(uri).map_err(sig_core::Error::from)?;
        let module = (ctx.env)(env::PKCS11_MODULE).filter(|m| !m.is_empty()).map(PathBuf::from);
        return Ok(KeySource::Pkcs11 { uri, module, pin: Secret::pin_from_env(ctx.env) });
    }
    let Some(program) = program else {
        let Some(path) = key_path else {
            return Err(Failure::new(
                "no signer configured: give --key FILE (or EXTERNAL_PRIVATE_KEY) to sign in-process, or --signer PROGRAM (or EXTERNAL_SIGNER) with --certificate-chain",
            ));
        };
        if sig_core::__private::fs::readable_by_others(&path) {
            ctx.note(&format!(
                "warning: the private key {} is readable by its group or others; chmod 600 it",
                path.display()
            ));
        }
        return Ok(KeySource::File { path, password: Secret::password_from_env(ctx.env) });
    };
    if !certificate {
        return Err(Failure::new(
            "--signer needs the signing certificate: give --certificate-chain (or EXTERNAL_CERT_CHAIN) with the full chain, or --certificate",
        ));
    }
    let mut settings = ProgramSettings::new(program);
    settings.caller = "cosign";
    if let Some(text) = timeout {
        settings.timeout = parse_timeout(text).ok_or_else(|| {
            Failure::new(format!(
                "invalid signer timeout {text:?}: give a number of seconds greater than 0 and at most 86400"
            ))
        })?;
    }
    if let Some(encoding) = encoding {
        settings.encoding = encoding.parse::<OutputEncoding>().map_err(Failure::new)?;
    }
    if let Some(path) = chain_path {
        settings.env.push((env::CERT_CHAIN.into(), path.into()));
    }
    if let Some(path) = key_path {
        settings.env.push((env::PRIVATE_KEY.into(), path.into()));
    }
    Ok(KeySource::Program(settings))
}

/// The manifests to sign: `(digest, its descriptor when the walk fetched it)`.
pub(crate) type Targets = Vec<(Digest, Option<cosign_compat::bundle::referrer::OciDescriptor>)>;

fn sign_and_push(
    ctx: &mut Context<'_>,
    (registry_args, lock, bundle_format, recursive): (&RegistryArgs, LockArgs, bool, Option<usize>),
    reference: &ImageReference,
    annotations: payload::Annotations,
    digest_algorithm: Option<sig_core::HashAlgorithm>,
    key: &dyn SigningKey,
    material: Option<&CertificateMaterial>,
) -> Result<(), Failure> {
    // Fail on an unusable key/hash pairing before touching the registry.
    let algorithm = cosign_compat::sign::cosign_algorithm(key.key_spec(), digest_algorithm)?;
    let attach = AttachOptions::new().signed_by(key.public_key().clone(), algorithm);
    let registry = registry(ctx, *registry_args)?;
    let digest = remote::resolve(&registry, reference)?;
    let repository = reference.repository();
    let targets: Targets = match recursive {
        None => vec![(digest, None)],
        Some(max) => {
            let walked = walk::signing_targets(&registry, repository, &digest, max)?;
            if walked.len() > 1 {
                ctx.note(&format!(
                    "Signing {} manifests: the index {digest} and every manifest it lists",
                    walked.len()
                ));
            }
            walked.into_iter().map(|t| (t.digest, Some(t.descriptor))).collect()
        }
    };
    if bundle_format {
        return crate::bundle::sign_and_push(
            ctx,
            &registry,
            repository,
            &targets,
            &annotations,
            digest_algorithm,
            key,
            material,
            lock,
        );
    }
    // Every signature is made (and checked) before the first push.
    let mut layers = Vec::with_capacity(targets.len());
    for (digest, _) in &targets {
        let payload = SimpleSigningPayload::new(repository, digest.clone())
            .with_annotations(annotations.clone())
            .to_bytes();
        let signature = sign_payload(key, &payload, digest_algorithm)?;
        let mut layer = SignatureLayer::new(payload, &signature);
        if let Some(material) = material {
            layer = material.annotate(layer);
        }
        layers.push(layer);
    }
    for ((digest, _), layer) in targets.iter().zip(&layers) {
        push(ctx, &registry, repository, digest, layer, &attach, lock)?;
    }
    Ok(())
}

fn push(
    ctx: &mut Context<'_>,
    registry: &dyn Registry,
    repository: &cosign_compat::Repository,
    digest: &Digest,
    layer: &SignatureLayer,
    options: &AttachOptions,
    lock: LockArgs,
) -> Result<(), Failure> {
    ctx.note(&format!("Pushing signature to: {repository}:{}", digest.signature_tag()));
    // Signers on this host take turns; the re-reads in attach_signature cover the others.
    let _lock = lock_signatures(ctx, repository, digest, lock)?;
    match remote::attach_signature_with(registry, repository, digest, layer, options)? {
        AttachOutcome::AlreadyPresent { tag } => {
            ctx.note(&format!(
                "The same signature is already in {repository}:{tag}; nothing pushed"
            ));
        }
        AttachOutcome::Equivalent { tag, layer } => {
            ctx.note(&format!(
                "{repository}:{tag} already has this signature (layer {layer}: same payload, certificate and annotations, signed by the same key); nothing pushed"
            ));
        }
        AttachOutcome::Attached { attempts, layers, .. } if attempts > 1 => {
            ctx.note(&format!(
                "Signature pushed after {attempts} attempts (another signer wrote concurrently); {layers} signature(s) now"
            ));
        }
        _ => {}
    }
    Ok(())
}

/// An exclusive advisory lock on the signatures of `digest`, shared by this user's
/// `cosign-compat` processes on this host (see [`crate::lock`]). Registries cannot lock a tag;
/// this serialises the read–modify–write of local concurrent signers, so none of them can drop
/// another's signature. `None` (no locking, with a warning) when the lock cannot be used.
pub(crate) fn lock_signatures(
    ctx: &mut Context<'_>,
    repository: &cosign_compat::Repository,
    digest: &Digest,
    args: LockArgs,
) -> Result<Option<crate::lock::SignatureLock>, Failure> {
    let Some(dir) = crate::lock::lock_dir(ctx.env) else {
        ctx.note(
            "warning: neither XDG_RUNTIME_DIR nor HOME is set: signing without the single-host lock",
        );
        return Ok(None);
    };
    let key = Digest::of(format!("{repository}@{digest}").as_bytes());
    let name = format!("{}.lock", &key.hex()[..32]);
    let timeout = Duration::from_secs(args.lock_timeout);
    match crate::lock::lock(&dir, &name, timeout, &mut |text: &str| ctx.note(text)) {
        Ok(lock) => Ok(Some(lock)),
        Err(e @ crate::lock::LockError::Unusable { .. }) => {
            ctx.note(&format!("warning: {}", e.message()));
            Ok(None)
        }
        Err(e) => Err(Failure::new(e.message())),
    }
}

/// A signature file: raw bytes, or base64 (standard, possibly wrapped) which is re-encoded on
/// one line.
fn read_signature(ctx: &mut Context<'_>, path: &Path) -> Result<Vec<u8>, Failure> {
    let bytes = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        ctx.stdin
            .take(sig_core::__private::fs::MAX_FILE_LEN)
            .read_to_end(&mut buf)
            .map_err(|e| Failure::new(format!("cannot read the signature from stdin: {e}")))?;
        buf
    } else {
        read_file(path, "signature")?
    };
    let text: Vec<u8> = bytes.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let decoded =
        base64::engine::general_purpose::STANDARD.decode(&text).ok().filter(|d| !d.is_empty());
    let signature = match decoded {
        Some(d) if !text.is_empty() => d,
        _ => bytes,
    };
    if signature.is_empty() {
        return Err(AttachError::Signature { reason: "the signature file is empty".into() }.into());
    }
    Ok(signature)
}

pub(crate) fn attach_signature(
    ctx: &mut Context<'_>,
    args: AttachSignatureArgs,
) -> Result<(), Failure> {
    let reference = parse_image(&args.image)?;
    let material =
        certificate_material(args.certificate.as_deref(), args.certificate_chain.as_deref())?;
    let signature = read_signature(ctx, &args.signature)?;
    let given_payload = args.payload.as_deref().map(|p| read_file(p, "payload")).transpose()?;
    let registry = registry(ctx, args.registry)?;
    let digest = remote::resolve(&registry, &reference)?;
    let repository = reference.repository();
    let payload = match given_payload {
        Some(bytes) => bytes,
        None => SimpleSigningPayload::new(repository, digest.clone()).to_bytes(),
    };
    // Refuse what cosign verify would reject anyway, before anything is pushed.
    let parsed = ParsedPayload::parse(&payload)?;
    parsed.check(&digest, &payload::Annotations::new())?;
    let mut layer = SignatureLayer::new(payload, &signature);
    let mut attach = AttachOptions::new();
    if let Some(material) = &material {
        let key = VerificationKey::from_certificate(material.leaf())?;
        let public_key = key.public_key().clone();
        let hash =
            args.signature_digest_algorithm.map_or(sig_core::HashAlgorithm::Sha256, |d| d.hash());
        let options = VerifyOptions::new(Trust::Key(key)).with_hash(hash);
        verify::verify_layer(&layer, &digest, &options, ctx.now).map_err(|rejection| {
            Failure::from(AttachError::SignatureMismatch {
                subject: material.leaf().subject().to_owned(),
                scheme: rejection.to_string(),
            })
        })?;
        material.check_for_cosign(ctx.now)?;
        layer = material.annotate(layer);
        let algorithm = cosign_compat::sign::cosign_algorithm(public_key.key_spec(), Some(hash))?;
        attach = attach.signed_by(public_key, algorithm);
    }
    push(ctx, &registry, repository, &digest, &layer, &attach, args.lock)
}

pub(crate) fn verify(ctx: &mut Context<'_>, args: VerifyArgs) -> Result<(), Failure> {
    let reference = parse_image(&args.image)?;
    let annotations = payload::parse_annotations(&args.annotations)?;
    let trust = if let Some(key) = &args.key {
        Trust::Key(VerificationKey::from_bytes(&read_file(key, "public key")?)?)
    } else {
        let mut trust = if let Some(file) = &args.trusted_root {
            crate::bundle::trust_from_trusted_root(&read_file(file, "trusted root")?, file)?
        } else if let Some(chain) = &args.certificate_chain {
            CertificateTrust::from_chain_pem(&read_file(chain, "certificate chain")?)?
        } else if let Some(roots) = &args.ca_roots {
            let roots = sig_core::Certificate::from_bundle_pem(&read_file(roots, "CA roots")?)?;
            let mut trust = CertificateTrust::from_roots(roots);
            if let Some(inter) = &args.ca_intermediates {
                trust = trust.with_intermediates(sig_core::Certificate::from_bundle_pem(
                    &read_file(inter, "CA intermediates")?,
                )?);
            }
            trust
        } else {
            return Err(Failure::new(
                "give --key PUBLIC-KEY, or --certificate-chain (intermediates then root), --ca-roots or --trusted-root to verify certificates offline",
            ));
        };
        if let Some(cert) = &args.certificate {
            let certs = sig_core::Certificate::from_bundle_pem(&read_file(cert, "certificate")?)?;
            let leaf =
                certs.into_iter().next().ok_or_else(|| Failure::new("empty --certificate file"))?;
            trust = trust.with_certificate(leaf);
        }
        if args.certificate_identity.is_empty() && args.certificate_identity_regexp.is_empty() {
            return Err(Failure::new(
                "--certificate-identity or --certificate-identity-regexp is required for verification with certificates (use --certificate-identity-regexp '.*' to accept any identity)",
            ));
        }
        for identity in &args.certificate_identity {
            trust = trust.with_identity(IdentityMatcher::Exact(identity.clone()));
        }
        for pattern in &args.certificate_identity_regexp {
            trust = trust.with_identity(IdentityMatcher::regex(pattern)?);
        }
        for issuer in &args.certificate_oidc_issuer {
            trust = trust.with_issuer(IdentityMatcher::Exact(issuer.clone()));
        }
        for pattern in &args.certificate_oidc_issuer_regexp {
            trust = trust.with_issuer(IdentityMatcher::regex(pattern)?);
        }
        Trust::Certificates(Box::new(trust))
    };
    let is_key = matches!(trust, Trust::Key(_));
    let mut options = VerifyOptions::new(trust).with_annotations(annotations.clone());
    if let Some(d) = args.signature_digest_algorithm {
        options = options.with_hash(d.hash());
    }
    let registry = registry(ctx, args.registry)?;
    let digest = remote::resolve(&registry, &reference)?;
    // cosign's order: bundles first, and only them when any exists (see bundle::remote).
    let verified = match crate::bundle::verify(
        ctx,
        &registry,
        reference.repository(),
        &digest,
        &options,
        args.new_bundle_format.unwrap_or(true),
    )? {
        cosign_compat::bundle::remote::Verified::Legacy { verified, .. } => verified,
        cosign_compat::bundle::remote::Verified::Bundles { verified, .. } => {
            ctx.note(&format!("\nVerification for {} --", args.image));
            ctx.note("The following checks were performed on each of these signatures:");
            ctx.note("  - The cosign claims were validated");
            ctx.note(if is_key {
                "  - The signatures were verified against the specified public key"
            } else {
                "  - The code-signing certificate was verified using trusted certificate authority certificates"
            });
            let output =
                cosign_compat::bundle::remote::cosign_output(&verified, &args.image, &digest);
            let out = match args.output {
                OutputFormat::Json => format!("\n{output}\n").into_bytes(),
                OutputFormat::Text => {
                    verified.iter().flat_map(|v| [v.bundle.payload(), b"\n"].concat()).collect()
                }
            };
            return write_out(ctx, &out);
        }
        _ => return Err(Failure::new("unknown verification result")),
    };
    ctx.note(&format!("\nVerification for {} --", args.image));
    ctx.note("The following checks were performed on each of these signatures:");
    if !annotations.is_empty() {
        ctx.note("  - The specified annotations were verified.");
    }
    ctx.note("  - The cosign claims were validated");
    if is_key {
        ctx.note("  - The signatures were verified against the specified public key");
    } else {
        ctx.note("  - The code-signing certificate was verified using trusted certificate authority certificates");
    }
    match args.output {
        OutputFormat::Json => {
            // cosign prints a blank line before the array.
            let mut out = b"\n".to_vec();
            out.extend_from_slice(verify::cosign_output(&verified).as_bytes());
            out.push(b'\n');
            write_out(ctx, &out)
        }
        OutputFormat::Text => {
            let mut out = Vec::new();
            for v in &verified {
                out.extend_from_slice(v.payload_bytes());
                out.push(b'\n');
            }
            write_out(ctx, &out)
        }
    }
}

pub(crate) fn triangulate(ctx: &mut Context<'_>, args: TriangulateArgs) -> Result<(), Failure> {
    let reference = parse_image(&args.image)?;
    let digest = match reference.digest() {
        Some(d) => d.clone(),
        None => remote::resolve(&registry(ctx, args.registry)?, &reference)?,
    };
    let repository = reference.repository();
    let line = match args.kind {
        TriangulateType::Signature => format!("{repository}:{}\n", digest.signature_tag()),
        TriangulateType::Digest => format!("{repository}@{digest}\n"),
    };
    write_out(ctx, line.as_bytes())
}

/// `completion SHELL`: the completion script `clap_complete` generates from the clap definitions.
pub(crate) fn completion(ctx: &mut Context<'_>, args: &CompletionArgs) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "cosign-compat", &mut script);
    write_out(ctx, &script)
}

/// `man --out DIR`: the man pages `clap_mangen` generates from the clap definitions.
pub(crate) fn man(args: &ManArgs) -> Result<(), Failure> {
    std::fs::create_dir_all(&args.out)
        .and_then(|()| clap_mangen::generate_to(Cli::command(), &args.out))
        .map_err(|e| {
            Failure::new(format!(
                "cannot write the man pages into {}: {e} (pass a writable --out directory)",
                args.out.display()
            ))
        })
}
