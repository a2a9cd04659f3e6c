//! The bundle format (cosign v3's default) in `sign` and `verify`.

use cosign_compat::bundle::remote::{self as bundle_remote, Listing, Verified};
use cosign_compat::bundle::{self, BundleRejection};
use cosign_compat::sign::CertificateMaterial;
use cosign_compat::{Digest, Registry, Repository, payload};
use sig_core::SigningKey;

use crate::cli::LockArgs;
use crate::commands::{Context, Failure};

/// Signs each target into a bundle and pushes it as a referrer (with the fallback index on
/// registries without the Referrers API). Every bundle is signed before the first push.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_and_push(
    ctx: &mut Context<'_>,
    registry: &dyn Registry,
    repository: &Repository,
    targets: &crate::commands::Targets,
    annotations: &payload::Annotations,
    digest_algorithm: Option<sig_core::HashAlgorithm>,
    key: &dyn SigningKey,
    material: Option<&CertificateMaterial>,
    lock: LockArgs,
) -> Result<(), Failure> {
    let signed = targets
        .iter()
        .map(|(digest, _)| bundle::sign_image(key, digest, annotations, digest_algorithm, material))
        .collect::<Result<Vec<_>, _>>()?;
    for ((digest, subject), signed) in targets.iter().zip(&signed) {
        ctx.note(&format!("Pushing signature to: {repository}"));
        let _lock = crate::commands::lock_signatures(ctx, repository, digest, lock)?;
        let attached = match subject {
            Some(subject) => bundle_remote::attach_bundle_with_subject(
                registry, repository, digest, subject, signed, ctx.now,
            )?,
            None => bundle_remote::attach_bundle(registry, repository, digest, signed, ctx.now)?,
        };
        match attached.listing {
            Listing::FallbackAdded { tag, attempts } if attempts > 1 => ctx.note(&format!(
                "Referrer {} listed in {repository}:{tag} after {attempts} attempts (another signer wrote concurrently)",
                attached.referrer
            )),
            _ => {}
        }
    }
    Ok(())
}

/// Notes the bundle referrers that were refused, naming each.
pub(crate) fn note_rejections(
    ctx: &mut Context<'_>,
    what: &str,
    list: &[(String, BundleRejection)],
) {
    for (referrer, why) in list {
        ctx.note(&format!("{what} bundle referrer {referrer}: {why}"));
    }
}

/// Verifies in cosign's order; `Ok(Some(output))` for bundles (cosign's JSON), `Ok(None)`
/// after the `.sig` path was taken (`legacy` receives its result).
pub(crate) fn verify(
    ctx: &mut Context<'_>,
    registry: &dyn Registry,
    repository: &Repository,
    digest: &Digest,
    options: &cosign_compat::verify::VerifyOptions,
    new_bundle_format: bool,
) -> Result<Verified, Failure> {
    let verified = bundle_remote::verify_image(
        registry,
        repository,
        digest,
        options,
        ctx.now,
        new_bundle_format,
    )?;
    match &verified {
        Verified::Bundles { rejected, .. } => note_rejections(ctx, "skipped", rejected),
        Verified::Legacy { skipped, .. } => note_rejections(ctx, "unreadable", skipped),
        _ => {}
    }
    Ok(verified)
}

/// `trusted-root --certificate-chain FILE [--out FILE]`.
pub(crate) fn trusted_root(
    ctx: &mut Context<'_>,
    args: &crate::cli::TrustedRootArgs,
) -> Result<(), Failure> {
    let bytes = crate::commands::read_file(&args.certificate_chain, "certificate chain")?;
    let chain = sig_core::Certificate::from_bundle_pem(&bytes)?;
    let json = bundle::trusted_root::trusted_root(&chain).map_err(|e| {
        Failure::new(format!(
            "{}: {e}; give the CA certificates (intermediates then root)",
            args.certificate_chain.display()
        ))
    })?;
    match &args.out {
        None => crate::commands::write_out(ctx, &json),
        Some(path) => std::fs::write(path, &json)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display()))),
    }
}

/// Certificate trust from a trusted root file's certificate authorities.
pub(crate) fn trust_from_trusted_root(
    bytes: &[u8],
    path: &std::path::Path,
) -> Result<cosign_compat::verify::CertificateTrust, Failure> {
    let cas = bundle::trusted_root::parse_trusted_root(bytes)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    Ok(cosign_compat::verify::CertificateTrust::from_roots(cas.roots)
        .with_intermediates(cas.intermediates))
}
