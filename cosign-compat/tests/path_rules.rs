//! Chain rules of Go's `crypto/x509` that `cosign verify` applies, end to end through
//! `remote::verify_image` (what `cosign-compat verify --certificate-identity …` runs): a hostile
//! chain annotation costs bounded work (issue 14 item 1), CA name constraints and unknown
//! critical extensions are enforced (item 2), RSASSA-PSS chains are accepted with Go's parameters
//! only (item 15). Fixtures: `tests/data/x509` (`scripts/testdata-x509.sh`).

use cosign_compat::remote;
use cosign_compat::verify::{CertificateTrust, IdentityMatcher, Trust, VerifyOptions};
use cosign_compat::{
    Digest, Error, LayerRejection, MemoryRegistry, SignatureLayer, SimpleSigningPayload,
    VerifyError, attach, media_type,
};
use sig_core::x509::{parse_certificates, signature_checks_on_this_thread};

use crate::support::{self, data, new_image, repo};

fn x509(rel: &str) -> Vec<u8> {
    data(&format!("x509/{rel}"))
}

fn text(rel: &str) -> String {
    String::from_utf8(x509(rel)).unwrap()
}

/// Stores `layers` as the signature manifest of `image`.
fn store(registry: &MemoryRegistry, image: &Digest, layers: &[SignatureLayer]) {
    for layer in layers {
        registry.put_blob(&repo(), layer.payload());
    }
    let img = attach::signature_image(layers.iter().map(SignatureLayer::descriptor).collect());
    registry.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        media_type::OCI_MANIFEST,
        &img.manifest,
    );
}

fn options(roots_rel: &str, identity: IdentityMatcher) -> VerifyOptions {
    let trust = CertificateTrust::from_roots(parse_certificates(&x509(roots_rel)).unwrap())
        .with_identity(identity);
    VerifyOptions::new(Trust::Certificates(Box::new(trust)))
}

/// Every layer's rejection.
fn rejections(
    result: Result<Vec<cosign_compat::verify::VerifiedSignature>, Error>,
) -> Vec<LayerRejection> {
    match result {
        Err(Error::Verify(VerifyError::NoMatchingSignatures { rejections, .. })) => {
            rejections.into_iter().map(|(_, r)| r).collect()
        }
        other => panic!("expected rejected layers, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Item 1: a hostile image costs bounded work.
// ---------------------------------------------------------------------------------------------

#[test]
fn hostile_chain_annotations_cost_bounded_signature_checks_per_layer() {
    // 50 unsigned layers, each with a chain annotation of 15 CAs sharing one subject and key
    // (each "issues" every other) and an unrelated root last. The chain is checked before the
    // layer's signature, so an attacker needs no key at all.
    const LAYERS: usize = 50;
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "hostile-chain");
    let payload = SimpleSigningPayload::new(&repo(), image.clone()).to_bytes();
    let layer = SignatureLayer::new(payload, b"not a signature")
        .with_certificate(text("hostile_loop/leaf.crt"))
        .with_chain(text("hostile_loop/chain_annotation.pem"));
    store(&registry, &image, &vec![layer; LAYERS]);

    let before = signature_checks_on_this_thread();
    let result = remote::verify_image(
        &registry,
        &repo(),
        &image,
        &options("hostile_loop/root.crt", IdentityMatcher::regex(".*").unwrap()),
        support::now(),
    );
    let checks = signature_checks_on_this_thread() - before;
    let rejections = rejections(result);
    assert_eq!(rejections.len(), LAYERS);
    for r in &rejections {
        assert!(matches!(r, LayerRejection::Chain(_)), "{r}");
    }
    // Go's budget is 100 per verification; the same-key rule makes this loop cost 15.
    assert!(checks <= 100 * LAYERS as u64, "{checks} signature checks for {LAYERS} layers");
    assert!(checks <= 15 * LAYERS as u64, "{checks} signature checks for {LAYERS} layers");
}
