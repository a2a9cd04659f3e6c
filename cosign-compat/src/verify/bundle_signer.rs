//! The signer checks of a bundle ([`crate::bundle::verify_bundle`]) with the same trust as a
//! `.sig` layer: a public key, or certificates chained to the given roots by cosign's rules.

use std::time::SystemTime;

use sig_core::Certificate;

use super::{Trust, VerifyOptions, chain, check_identity, check_signature};
use crate::bundle::{BundleRejection, VerificationMaterial};
use crate::payload::Annotations;

/// Checks `signature` over `signed` (the DSSE PAE) against the trust of `options` and the
/// bundle's `material`. Returns the signing certificate, if the bundle has one.
///
/// - [`Trust::Key`]: the signature must verify with the key. A public key hint is not
///   compared (cosign and sigstore-go use it only to pick a key). A certificate in the bundle
///   must hold that key and be valid now.
/// - [`Trust::Certificates`]: the bundle's leaf (or the one given) must chain to the roots
///   through the bundle's intermediates and the given ones, at its notBefore and now, with
///   codeSigning or no EKU, match the wanted identities, and verify the signature.
pub(crate) fn check(
    material: &VerificationMaterial,
    signed: &[u8],
    signature: &[u8],
    options: &VerifyOptions,
    now: SystemTime,
) -> Result<Option<Certificate>, BundleRejection> {
    match &options.trust {
        Trust::Key(key) => {
            if let Some(leaf) = material.leaf() {
                let leaf_key =
                    leaf.public_key().map_err(|e| BundleRejection::Certificate(e.to_string()))?;
                if &leaf_key != key.public_key() {
                    return Err(BundleRejection::KeyMismatch {
                        subject: leaf.subject().to_owned(),
                    });
                }
                chain::check_validity(leaf, now).map_err(BundleRejection::Certificate)?;
            }
            check_signature(key.public_key(), options.hash, signed, signature).map_err(
                |scheme| BundleRejection::BadSignature {
                    key: "the given public key".to_owned(),
                    scheme,
                },
            )?;
            Ok(material.leaf().cloned())
        }
        Trust::Certificates(trust) => {
            let (bundle_leaf, mut intermediates) = match material {
                VerificationMaterial::PublicKey { .. } => {
                    return Err(BundleRejection::NoCertificate);
                }
                VerificationMaterial::Certificate(c) => ((**c).clone(), Vec::new()),
                VerificationMaterial::Chain(chain) => {
                    let (leaf, rest) = chain.split_first().ok_or(BundleRejection::NoCertificate)?;
                    (leaf.clone(), rest.to_vec())
                }
            };
            let leaf = trust.certificate.clone().unwrap_or(bundle_leaf);
            intermediates.extend(trust.intermediates.iter().cloned());
            if trust.roots.is_empty() {
                return Err(BundleRejection::Certificate("no trusted roots configured".to_owned()));
            }
            chain::verify_chain(&leaf, &intermediates, &trust.roots, now)
                .map_err(|e| BundleRejection::Certificate(format!("chain: {e}")))?;
            check_identity(&leaf, trust).map_err(BundleRejection::Identity)?;
            let key = leaf.public_key().map_err(|e| BundleRejection::Certificate(e.to_string()))?;
            check_signature(&key, options.hash, signed, signature).map_err(|scheme| {
                BundleRejection::BadSignature {
                    key: format!("the certificate {:?}", leaf.subject()),
                    scheme,
                }
            })?;
            Ok(Some(leaf))
        }
    }
}

/// The annotations `options` require (`-a key=value`).
pub(crate) fn wanted_annotations(options: &VerifyOptions) -> &Annotations {
    &options.annotations
}
