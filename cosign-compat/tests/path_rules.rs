//! Chain rules of Go's `crypto/x509` that `cosign verify` applies, end to end through
//! `remote::verify_image` (what `cosign-compat verify --certificate-identity …` runs): a hostile
//! chain annotation costs bounded work (issue 14 item 1), CA name constraints and unknown
//! critical extensions are enforced (item 2), RSASSA-PSS chains are accepted with Go's parameters
//! only (item 15). Fixtures: `tests/data/x509` (`scripts/testdata-x509.sh`).

use cosign_compat::remote;
use cosign_compat::sign::{CertificateMaterial, sign_payload};
use cosign_compat::verify::{CertificateTrust, IdentityMatcher, Trust, VerifyOptions};
use cosign_compat::{
    Digest, Error, LayerRejection, MemoryRegistry, SignatureLayer, SimpleSigningPayload,
    VerifyError,
};
use sig_core::__private::x509::signature_checks_on_this_thread;
use sig_core::{Certificate, PrivateKey};

use crate::support::{self, data, new_image, repo, store};

fn x509(rel: &str) -> Vec<u8> {
    data(&format!("x509/{rel}"))
}

fn text(rel: &str) -> String {
    String::from_utf8(x509(rel)).unwrap()
}

/// A layer for `image` signed with `key_rel`, carrying `leaf_rel` and the chain `chain_rel`.
fn signed_layer(image: &Digest, key_rel: &str, leaf_rel: &str, chain_rel: &str) -> SignatureLayer {
    let key = PrivateKey::from_pem(&x509(key_rel), None).unwrap();
    let payload = SimpleSigningPayload::new(&repo(), image.clone()).to_bytes();
    let sig = sign_payload(&key, &payload, None).unwrap();
    SignatureLayer::new(payload, &sig).with_certificate(text(leaf_rel)).with_chain(text(chain_rel))
}

fn options(roots_rel: &str, identity: IdentityMatcher) -> VerifyOptions {
    let trust =
        CertificateTrust::from_roots(Certificate::from_bundle_pem(&x509(roots_rel)).unwrap())
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

// ---------------------------------------------------------------------------------------------
// Item 2: name constraints and unknown critical extensions, in verify and in sign's own check.
// ---------------------------------------------------------------------------------------------

/// `verify --certificate-identity IDENTITY` of an image signed with the name-constraints leaf
/// `case`, its chain (Team A CA, root) in the layer annotation, the root trusted.
fn verify_name_case(case: &str, identity: &str) -> Result<usize, Error> {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), case);
    let layer = signed_layer(
        &image,
        &format!("name_constraints/leaf_{case}.key"),
        &format!("name_constraints/leaf_{case}.crt"),
        "name_constraints/cosign_chain.pem",
    );
    store(&registry, &image, &[layer]);
    let options = options("name_constraints/root.crt", IdentityMatcher::Exact(identity.into()));
    remote::verify_image(&registry, &repo(), &image, &options, support::now()).map(|v| v.len())
}

#[test]
fn identity_outside_the_sub_cas_name_constraints_is_refused() {
    // Issue 14 item 2: the sub-CA is permitted only teama.example; its leaf claims
    // release@teamb.example. cosign (Go x509) and openssl verify refuse it; so must we.
    let rejections = rejections(
        verify_name_case("fail_email_teamb", "release@teamb.example").map(|_| Vec::new()),
    );
    let [LayerRejection::Chain(reason)] = rejections.as_slice() else {
        panic!("{rejections:?}");
    };
    assert!(reason.contains(r#"email address "release@teamb.example""#), "{reason}");
    assert!(reason.contains("not permitted"), "{reason}");
    assert!(reason.contains("Team A CA"), "{reason}");
    // The same sub-CA's leaf inside its constraints verifies.
    assert_eq!(verify_name_case("ok_email", "release@teama.example").unwrap(), 1);
    assert_eq!(verify_name_case("ok_all", "https://ci.teama.example/build").unwrap(), 1);
}

#[test]
fn every_name_constraint_kind_is_enforced_in_verify_and_sign() {
    let refused = [
        ("fail_dns_outside", "build.teamb.example"),
        ("fail_uri_outside", "https://ci.teamb.example/build"),
        ("fail_uri_bare_domain", "https://teama.example/build"),
        ("fail_ip_outside", "192.0.2.7"),
        ("fail_email_excluded", "release@blocked.teama.example"),
        ("fail_dns_excluded", "x.blocked.teama.example"),
        ("fail_uri_excluded", "https://blocked.teama.example/x"),
        ("fail_ip_excluded", "10.9.1.1"),
    ];
    for (case, name) in refused {
        let rejections =
            rejections(verify_name_case(case, "release@teama.example").map(|_| Vec::new()));
        let [LayerRejection::Chain(reason)] = rejections.as_slice() else {
            panic!("{case}: {rejections:?}");
        };
        assert!(reason.contains(&format!("{name:?}")), "{case}: {reason}");
        // sign refuses the same chain before signing (`cosign verify` would reject it).
        let material = CertificateMaterial::new(
            None,
            Some(&x509(&format!("name_constraints/chain_{case}.pem"))),
        )
        .unwrap();
        let err = material.check_for_cosign(support::now()).unwrap_err();
        assert!(err.to_string().contains(&format!("{name:?}")), "{case}: {err}");
    }
    for case in ["ok_email", "ok_all", "ok_other_types"] {
        let material = CertificateMaterial::new(
            None,
            Some(&x509(&format!("name_constraints/chain_{case}.pem"))),
        )
        .unwrap();
        material.check_for_cosign(support::now()).unwrap_or_else(|e| panic!("{case}: {e}"));
    }
}

#[test]
fn unknown_critical_extensions_are_refused_in_verify_and_sign() {
    for (chain, leaf) in [
        ("critical_ext/chain_leaf_unknown_critical.pem", "leaf_unknown_critical"),
        ("critical_ext/chain_intermediate_unknown_critical.pem", "leaf_plain"),
    ] {
        let material = CertificateMaterial::new(None, Some(&x509(chain))).unwrap();
        let err = material.check_for_cosign(support::now()).unwrap_err();
        assert!(err.to_string().contains("1.3.6.1.4.1.55555.1"), "{chain}: {err}");

        let registry = MemoryRegistry::new();
        let image = new_image(&registry, &repo(), leaf);
        let mut certs = Certificate::from_bundle_pem(&x509(chain)).unwrap();
        certs.remove(0);
        let annotation: String = certs.iter().map(Certificate::to_pem).collect();
        let key = PrivateKey::from_pem(&x509(&format!("critical_ext/{leaf}.key")), None).unwrap();
        let payload = SimpleSigningPayload::new(&repo(), image.clone()).to_bytes();
        let sig = sign_payload(&key, &payload, None).unwrap();
        let layer = SignatureLayer::new(payload, &sig)
            .with_certificate(text(&format!("critical_ext/{leaf}.crt")))
            .with_chain(annotation);
        store(&registry, &image, &[layer]);
        let options = options("critical_ext/root.crt", IdentityMatcher::regex(".*").unwrap());
        let result = remote::verify_image(&registry, &repo(), &image, &options, support::now());
        let rejections = rejections(result);
        assert!(
            rejections[0].to_string().contains("1.3.6.1.4.1.55555.1"),
            "{chain}: {rejections:?}"
        );
    }
    let ok = CertificateMaterial::new(
        None,
        Some(&x509("critical_ext/chain_leaf_unknown_noncritical.pem")),
    )
    .unwrap();
    ok.check_for_cosign(support::now()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Item 15: RSASSA-PSS-signed certificates.
// ---------------------------------------------------------------------------------------------

#[test]
fn pss_signed_chains_verify_with_gos_parameters_only() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "pss");
    let layer =
        signed_layer(&image, "pss/ok/leaf.key", "pss/ok/leaf.crt", "pss/ok/cosign_chain.pem");
    store(&registry, &image, &[layer]);
    let options = options("pss/ok/ca.crt", IdentityMatcher::Exact("release@example.test".into()));
    assert_eq!(
        remote::verify_image(&registry, &repo(), &image, &options, support::now()).unwrap().len(),
        1
    );
    CertificateMaterial::new(None, Some(&x509("pss/ok/chain.pem")))
        .unwrap()
        .check_for_cosign(support::now())
        .unwrap();

    let err = CertificateMaterial::new(None, Some(&x509("pss/fail_salt_20/chain.pem")))
        .unwrap()
        .check_for_cosign(support::now())
        .unwrap_err();
    assert!(err.to_string().contains("a salt of 20 bytes with SHA-256; Go requires 32"), "{err}");
}
