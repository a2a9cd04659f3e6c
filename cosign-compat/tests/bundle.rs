//! The bundle format (cosign v3's default) through the public API, on the in-memory registry
//! with and without the Referrers API: round trips, the fallback index under a concurrent
//! writer, cosign's order, and each refusal of issue #16's "Bad input" list naming the referrer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cosign_compat::bundle::referrer::{self, OciDescriptor, ReferrerImage, ReferrersIndex};
use cosign_compat::bundle::remote::{self, Listing, Verified};
use cosign_compat::bundle::{self, Bundle, BundleError, BundleRejection, VerificationMaterial};
use cosign_compat::{
    Annotations, Digest, Error, MemoryRegistry, Registry, RegistryError, SignatureLayer,
    SimpleSigningPayload, media_type,
};

use crate::support::{
    HookedRegistry, chain_options, data, golden_image, key_options, material, new_image, now, pki,
    repo, store,
};

fn key(spec: &str) -> sig_core::PrivateKey {
    sig_core::PrivateKey::from_pem(&pki(spec, "leaf.key"), None).unwrap()
}

fn key_bundle(spec: &str, image: &Digest) -> Bundle {
    bundle::sign_image(&key(spec), image, &Annotations::new(), None, None).unwrap()
}

fn registries() -> [(&'static str, MemoryRegistry); 2] {
    [
        ("no Referrers API", MemoryRegistry::new()),
        ("Referrers API", MemoryRegistry::with_referrers_api()),
    ]
}

fn bundles(result: Result<Verified, Error>) -> Vec<bundle::VerifiedBundle> {
    match result.unwrap() {
        Verified::Bundles { verified, .. } => verified,
        other => panic!("expected bundles, got {other:?}"),
    }
}

fn rejections(result: Result<Verified, Error>) -> (String, Vec<(String, BundleRejection)>) {
    match result {
        Err(Error::Bundle(e @ BundleError::NoMatchingBundles { .. })) => {
            let text = e.to_string();
            let BundleError::NoMatchingBundles { rejections, .. } = e else { unreachable!() };
            (text, rejections)
        }
        other => panic!("expected NoMatchingBundles, got {other:?}"),
    }
}

/// The hint cosign v3.1.3 wrote for `tests/data/pki/rsa-2048/leaf.key` (tests/e2e/cosign-bundle.sh,
/// phase c, where the whole bundle is byte-identical to cosign's).
#[test]
fn public_key_hint_is_cosigns() {
    let image = Digest::of(b"image");
    let bundle = key_bundle("rsa-2048", &image);
    assert_eq!(
        bundle.material(),
        &VerificationMaterial::PublicKey {
            hint: "tFgTg0fAa1rRE7cgQl80SHXNtaVxqYurKFTie8Ra7qU=".to_owned()
        }
    );
    let json: serde_json::Value = serde_json::from_slice(&bundle.to_json()).unwrap();
    assert_eq!(json["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert_eq!(json["dsseEnvelope"]["payloadType"], "application/vnd.in-toto+json");
    assert!(json["verificationMaterial"].get("tlogEntries").is_none());
    assert!(json["verificationMaterial"].get("timestampVerificationData").is_none());
    assert_eq!(Bundle::parse(&bundle.to_json()).unwrap(), bundle);
}

#[test]
fn key_bundles_round_trip_on_both_registry_kinds() {
    for (kind, registry) in registries() {
        for spec in ["rsa-2048", "ec-256"] {
            let image = new_image(&registry, &repo(), &format!("{kind}-{spec}"));
            let attached =
                remote::attach_bundle(&registry, &repo(), &image, &key_bundle(spec, &image), now())
                    .unwrap();
            let fallback = registry.manifest(&repo(), &remote::fallback_tag(&image));
            if kind == "Referrers API" {
                assert_eq!(attached.listing, Listing::ReferrersApi, "{kind}");
                assert!(fallback.is_none(), "no fallback tag with the Referrers API");
            } else {
                assert!(matches!(attached.listing, Listing::FallbackAdded { attempts: 1, .. }));
                let index = ReferrersIndex::parse(&fallback.unwrap()).unwrap();
                assert!(index.contains(attached.referrer.as_str()));
            }
            let verified = bundles(remote::verify_image(
                &registry,
                &repo(),
                &image,
                &key_options(spec),
                now(),
                true,
            ));
            assert_eq!(verified.len(), 1, "{kind} {spec}");
            assert_eq!(verified[0].predicate_type, bundle::COSIGN_SIGN_PREDICATE);
            assert_eq!(verified[0].referrer, attached.referrer.as_str());
            let out = remote::cosign_output(&verified, "r/app@x", &image);
            assert_eq!(
                out,
                format!(
                    r#"[{{"critical":{{"identity":{{"docker-reference":"r/app@x"}},"image":{{"docker-manifest-digest":"{image}"}},"type":"https://sigstore.dev/cosign/sign/v1"}},"optional":{{}}}}]"#
                )
            );
            // Another key does not verify it.
            let other = remote::verify_image(
                &registry,
                &repo(),
                &image,
                &key_options("rsa-3072"),
                now(),
                true,
            );
            let (text, _) = rejections(other);
            assert!(text.contains(attached.referrer.as_str()), "{text}");
            assert!(text.contains("does not verify with the given public key"), "{text}");
        }
    }
}

#[test]
fn chain_bundles_carry_leaf_and_intermediate_and_verify_with_chain_or_key() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "chain");
    let material = material("ec-256");
    let signed =
        bundle::sign_image(&key("ec-256"), &image, &Annotations::new(), None, Some(&material))
            .unwrap();
    let VerificationMaterial::Chain(chain) = signed.material() else {
        panic!("{:?}", signed.material())
    };
    assert_eq!(chain.len(), 2, "leaf and intermediate, root left out (cosign)");
    assert_eq!(&chain[0], material.leaf());
    assert!(!chain[1].is_self_signed());
    remote::attach_bundle(&registry, &repo(), &image, &signed, now()).unwrap();
    for options in [chain_options("ec-256"), key_options("ec-256")] {
        let verified =
            bundles(remote::verify_image(&registry, &repo(), &image, &options, now(), true));
        assert_eq!(verified[0].certificate.as_ref(), Some(material.leaf()));
    }
    let (text, _) = rejections(remote::verify_image(
        &registry,
        &repo(),
        &image,
        &chain_options("rsa-3072"),
        now(),
        true,
    ));
    assert!(text.contains("chain"), "{text}");
}

/// A registry that lets one other writer replace the fallback index right after our first push
/// of it, with an index that lacks our entry `theirs` (it read before our push): the lost update
/// the re-check must catch.
fn racing_registry(inner: MemoryRegistry, theirs: OciDescriptor) -> HookedRegistry {
    let raced = AtomicBool::new(false);
    HookedRegistry::new(inner).on_push(move |inner, r, tag, media_type, manifest| {
        inner.push_manifest(r, tag, media_type, manifest)?;
        if tag.starts_with("sha256-") && !raced.swap(true, Ordering::SeqCst) {
            let theirs = ReferrersIndex::new().with_entry(&theirs).unwrap();
            inner.push_manifest(r, tag, media_type, &theirs)?;
        }
        Ok(())
    })
}

#[test]
fn a_concurrent_writers_fallback_entry_is_kept_and_ours_is_re_added() {
    let inner = MemoryRegistry::new();
    let image = new_image(&inner, &repo(), "race");
    let theirs = OciDescriptor::of(media_type::OCI_MANIFEST, b"their referrer");
    let registry = racing_registry(inner, theirs.clone());
    let attached =
        remote::attach_bundle(&registry, &repo(), &image, &key_bundle("ec-256", &image), now())
            .unwrap();
    assert!(
        matches!(attached.listing, Listing::FallbackAdded { attempts: 2, .. }),
        "{:?}",
        attached.listing
    );
    let index = ReferrersIndex::parse(
        &registry.inner.manifest(&repo(), &remote::fallback_tag(&image)).unwrap(),
    )
    .unwrap();
    assert!(index.contains(&theirs.digest), "the other writer's entry is kept");
    assert!(index.contains(attached.referrer.as_str()), "ours is back");
    assert_eq!(index.manifests.len(), 2);
}

#[test]
fn re_attaching_the_same_referrer_lists_it_once() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "twice");
    let signed = key_bundle("rsa-2048", &image);
    remote::attach_bundle(&registry, &repo(), &image, &signed, now()).unwrap();
    let again = remote::attach_bundle(&registry, &repo(), &image, &signed, now()).unwrap();
    assert!(matches!(again.listing, Listing::FallbackAlreadyListed { .. }), "{:?}", again.listing);
}

/// cosign's order: any bundle hides `.sig`; `new_bundle_format = false` reads only `.sig`.
#[test]
fn bundles_hide_sig_as_in_cosign() {
    for (kind, registry) in registries() {
        let image = new_image(&registry, &repo(), kind);
        let payload = SimpleSigningPayload::new(&repo(), image.clone()).to_bytes();
        let signature = cosign_compat::sign::sign_payload(&key("ec-256"), &payload, None).unwrap();
        store(&registry, &image, &[SignatureLayer::new(payload, &signature)]);
        let legacy =
            remote::verify_image(&registry, &repo(), &image, &key_options("ec-256"), now(), true);
        assert!(matches!(legacy, Ok(Verified::Legacy { .. })), "no bundle yet: .sig ({kind})");

        remote::attach_bundle(&registry, &repo(), &image, &key_bundle("rsa-2048", &image), now())
            .unwrap();
        let (text, _) = rejections(remote::verify_image(
            &registry,
            &repo(),
            &image,
            &key_options("ec-256"),
            now(),
            true,
        ));
        assert!(text.contains("no matching bundle signatures"), "{text}");
        let legacy =
            remote::verify_image(&registry, &repo(), &image, &key_options("ec-256"), now(), false);
        assert!(matches!(legacy, Ok(Verified::Legacy { .. })), "{kind}");
        bundles(remote::verify_image(
            &registry,
            &repo(),
            &image,
            &key_options("rsa-2048"),
            now(),
            true,
        ));
        assert!(
            remote::verify_image(
                &registry,
                &repo(),
                &image,
                &key_options("rsa-2048"),
                now(),
                false
            )
            .is_err(),
            "no .sig by rsa-2048"
        );
    }
}

/// Pushes `manifest` (with its bundle blob) and lists it in `image`'s fallback index.
fn list_referrer(
    registry: &MemoryRegistry,
    image: &Digest,
    bundle_blob: &[u8],
    manifest: &[u8],
) -> String {
    registry.put_blob(&repo(), bundle_blob);
    registry.put_blob(&repo(), referrer::EMPTY_CONFIG);
    let digest = registry.put_manifest(&repo(), None, media_type::OCI_MANIFEST, manifest);
    let mut entry = OciDescriptor::of(media_type::OCI_MANIFEST, manifest);
    entry.artifact_type = Some(bundle::BUNDLE_V03.to_owned());
    remote::add_to_fallback(registry, &repo(), image, &entry).unwrap();
    digest.to_string()
}

fn subject_of(registry: &MemoryRegistry, image: &Digest) -> OciDescriptor {
    remote::subject_descriptor(registry, &repo(), image).unwrap()
}

/// The referrer cosign writes for `blob` about the image `subject` (created at "t").
fn referrer_about(registry: &MemoryRegistry, blob: &[u8], subject: &Digest) -> ReferrerImage {
    referrer::referrer_image(
        blob.to_vec(),
        &subject_of(registry, subject),
        bundle::COSIGN_SIGN_PREDICATE,
        "t",
    )
}

fn single_rejection(
    registry: &MemoryRegistry,
    image: &Digest,
    referrer: &str,
) -> (String, BundleRejection) {
    let (text, mut list) = rejections(remote::verify_image(
        registry,
        &repo(),
        image,
        &key_options("ec-256"),
        now(),
        true,
    ));
    assert!(text.contains(&format!("referrer {referrer}")), "names the referrer: {text}");
    assert_eq!(list.len(), 1, "{text}");
    (text, list.pop().unwrap().1)
}

#[test]
fn refuses_a_referrer_with_a_wrong_subject() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "subject");
    let other = new_image(&registry, &repo(), "subject-other");
    let blob = key_bundle("ec-256", &image).to_json();
    let made = referrer_about(&registry, &blob, &other);
    let digest = list_referrer(&registry, &image, &blob, &made.manifest);
    let (text, why) = single_rejection(&registry, &image, &digest);
    assert!(matches!(why, BundleRejection::Subject { .. }), "{text}");
    assert!(text.contains(&format!("its subject is {other}")), "{text}");
}

#[test]
fn refuses_a_referrer_with_a_wrong_artifact_type() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "artifact");
    let blob = key_bundle("ec-256", &image).to_json();
    let made = referrer_about(&registry, &blob, &image);
    let text = String::from_utf8(made.manifest).unwrap().replace(
        r#""artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
        r#""artifactType":"application/vnd.example.sbom+json"}"#,
    );
    let digest = list_referrer(&registry, &image, &blob, text.as_bytes());
    let (text, why) = single_rejection(&registry, &image, &digest);
    assert!(matches!(why, BundleRejection::ArtifactType(_)), "{text}");
    assert!(text.contains("application/vnd.example.sbom+json"), "{text}");
}

#[test]
fn refuses_a_statement_for_another_digest() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "payload");
    let other = new_image(&registry, &repo(), "payload-other");
    // A genuine signature by the trusted key, over a statement for the other image, moved here.
    let blob = key_bundle("ec-256", &other).to_json();
    let made = referrer_about(&registry, &blob, &image);
    let digest = list_referrer(&registry, &image, &blob, &made.manifest);
    let (text, why) = single_rejection(&registry, &image, &digest);
    assert!(matches!(why, BundleRejection::SubjectDigest { .. }), "{text}");
    assert!(
        text.contains(&format!("the statement is for {other}, not for the image {image}")),
        "{text}"
    );
}

#[test]
fn refuses_verification_material_that_does_not_match_the_signature() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "material");
    // The ec-256 chain, a signature by the rsa-2048 key.
    let signed = bundle::sign_image(
        &key("rsa-2048"),
        &image,
        &Annotations::new(),
        None,
        Some(&material("ec-256")),
    )
    .unwrap();
    let attached = remote::attach_bundle(&registry, &repo(), &image, &signed, now()).unwrap();
    for options in [chain_options("ec-256"), key_options("ec-256")] {
        let (text, list) =
            rejections(remote::verify_image(&registry, &repo(), &image, &options, now(), true));
        assert!(text.contains(attached.referrer.as_str()), "{text}");
        assert!(matches!(list[0].1, BundleRejection::BadSignature { .. }), "{text}");
    }
    // The rsa-2048 key itself: the bundle's certificate holds another key.
    let (text, list) = rejections(remote::verify_image(
        &registry,
        &repo(),
        &image,
        &key_options("rsa-2048"),
        now(),
        true,
    ));
    assert!(matches!(list[0].1, BundleRejection::KeyMismatch { .. }), "{text}");
}

#[test]
fn refuses_a_fallback_tag_that_is_not_an_index_and_rewrites_nothing() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "not-index");
    let tag = remote::fallback_tag(&image);
    let squatter = registry.manifest(&repo(), image.as_str()).unwrap();
    registry.put_manifest(&repo(), Some(&tag), media_type::OCI_MANIFEST, &squatter);
    let verify =
        remote::verify_image(&registry, &repo(), &image, &key_options("ec-256"), now(), true);
    let Err(Error::Bundle(e @ BundleError::FallbackNotIndex { .. })) = verify else {
        panic!("{verify:?}")
    };
    let text = e.to_string();
    assert!(text.contains(&format!("{}:{tag} is not an OCI image index", repo())), "{text}");
    let pushes = registry.manifest_pushes();
    let sign =
        remote::attach_bundle(&registry, &repo(), &image, &key_bundle("ec-256", &image), now());
    assert!(matches!(sign, Err(Error::Bundle(BundleError::FallbackNotIndex { .. }))), "{sign:?}");
    assert_eq!(registry.manifest(&repo(), &tag).unwrap(), squatter, "left as it was");
    assert_eq!(registry.manifest_pushes(), pushes + 1, "only the referrer manifest was pushed");
    // A JSON null list of referrers (olareg's answer for none) is an empty list.
    assert!(ReferrersIndex::parse(br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}"#)
        .unwrap()
        .manifests
        .is_empty());
}

#[test]
fn refuses_an_oversized_bundle_without_reading_it_all() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "oversized");
    let subject = subject_of(&registry, &image);
    // The descriptor says so: refused before any fetch.
    let big = vec![b' '; usize::try_from(bundle::MAX_BUNDLE_LEN).unwrap() + 1];
    let made = referrer::referrer_image(big.clone(), &subject, bundle::COSIGN_SIGN_PREDICATE, "t");
    let digest = list_referrer(&registry, &image, &big, &made.manifest);
    let (text, why) = single_rejection_any(&registry, &image, &digest);
    assert!(matches!(why, BundleRejection::TooLarge { .. }), "{text}");
    assert!(text.contains(&format!("layer {}", Digest::of(&big))), "{text}");
    assert!(text.contains("at most 1048576 are read"), "{text}");

    // The descriptor lies (small size): the bounded fetch stops it.
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "oversized-lie");
    let made = referrer_about(&registry, &big, &image);
    let manifest = String::from_utf8(made.manifest)
        .unwrap()
        .replace(&format!(r#""size":{}"#, big.len()), r#""size":100"#);
    let digest = list_referrer(&registry, &image, &big, manifest.as_bytes());
    let (text, why) = single_rejection_any(&registry, &image, &digest);
    assert!(matches!(why, BundleRejection::TooLarge { .. }), "{text}");
}

/// Like [`single_rejection`] for referrers whose bundle cannot be read: cosign then treats the
/// image as having no bundle and reads `.sig`; the refusal is reported with the `.sig` outcome.
fn single_rejection_any(
    registry: &MemoryRegistry,
    image: &Digest,
    referrer: &str,
) -> (String, BundleRejection) {
    let fetched = remote::fetch_bundles(registry, &repo(), image).unwrap();
    assert_eq!(fetched.present, 0, "an unreadable bundle is not a bundle (cosign)");
    let verify =
        remote::verify_image(registry, &repo(), image, &key_options("ec-256"), now(), true);
    assert!(verify.is_err(), "no .sig either");
    let mut list = fetched.rejections;
    assert_eq!(list.len(), 1);
    let (name, why) = list.pop().unwrap();
    assert_eq!(name, referrer);
    (format!("referrer {name}: {why}"), why)
}

#[test]
fn an_unreadable_bundle_falls_back_to_sig_and_is_reported() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "garbage");
    let payload = SimpleSigningPayload::new(&repo(), image.clone()).to_bytes();
    let signature = cosign_compat::sign::sign_payload(&key("ec-256"), &payload, None).unwrap();
    store(&registry, &image, &[SignatureLayer::new(payload, &signature)]);
    let blob = b"{not json".to_vec();
    let made = referrer_about(&registry, &blob, &image);
    let digest = list_referrer(&registry, &image, &blob, &made.manifest);
    match remote::verify_image(&registry, &repo(), &image, &key_options("ec-256"), now(), true)
        .unwrap()
    {
        Verified::Legacy { verified, skipped } => {
            assert_eq!(verified.len(), 1);
            assert_eq!(skipped.len(), 1);
            assert_eq!(skipped[0].0, digest);
            assert!(skipped[0].1.to_string().contains("not bundle JSON"), "{}", skipped[0].1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_referrers_are_skipped_silently() {
    let registry = MemoryRegistry::with_referrers_api();
    let image = new_image(&registry, &repo(), "notation");
    let subject = subject_of(&registry, &image);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.notary.signature","config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"{}"}},"layers":[],"subject":{{"mediaType":"{}","size":{},"digest":"{}"}}}}"#,
        Digest::of(b"{}"),
        subject.media_type,
        subject.size,
        subject.digest
    );
    registry.put_manifest(&repo(), None, media_type::OCI_MANIFEST, manifest.as_bytes());
    let fetched = remote::fetch_bundles(&registry, &repo(), &image).unwrap();
    assert_eq!((fetched.present, fetched.rejections.len()), (0, 0));
}

/// Goldens from the real cosign v3.1.3 (`tests/data/cosign/regenerate-bundles.sh`): for the
/// golden image and the rsa-2048 key (deterministic PKCS#1 v1.5), key-only and certificate-chain
/// bundles, their referrer manifests, the fallback index and the trusted root are byte-identical.
#[test]
fn bundles_referrers_index_and_trusted_root_are_byte_identical_to_cosigns() {
    use cosign_compat::sign::CertificateMaterial;
    for (form, material) in [
        ("key", None),
        (
            "chain",
            Some(
                CertificateMaterial::new(
                    Some(&pki("rsa-2048", "leaf.crt")),
                    Some(&pki("rsa-2048", "cosign_chain.pem")),
                )
                .unwrap(),
            ),
        ),
    ] {
        let registry = MemoryRegistry::new();
        let image = golden_image(&registry);
        let signed = bundle::sign_image(
            &key("rsa-2048"),
            &image,
            &Annotations::new(),
            None,
            material.as_ref(),
        )
        .unwrap();
        let golden_bundle = data(&format!("cosign/bundle-{form}.json"));
        assert_eq!(
            String::from_utf8(signed.to_json()).unwrap(),
            String::from_utf8(golden_bundle.clone()).unwrap(),
            "{form} bundle"
        );
        let golden_manifest = data(&format!("cosign/bundle-{form}-referrer.json"));
        let parsed: serde_json::Value = serde_json::from_slice(&golden_manifest).unwrap();
        let created = parsed["annotations"][referrer::ANNOTATION_CREATED].as_str().unwrap();
        let subject = remote::subject_descriptor(&registry, &repo(), &image).unwrap();
        let made = referrer::referrer_image(
            signed.to_json(),
            &subject,
            bundle::COSIGN_SIGN_PREDICATE,
            created,
        );
        assert_eq!(
            String::from_utf8(made.manifest.clone()).unwrap(),
            String::from_utf8(golden_manifest).unwrap(),
            "{form} referrer manifest"
        );
        let listing = remote::add_to_fallback(&registry, &repo(), &image, &made.entry).unwrap();
        assert!(matches!(listing, Listing::FallbackAdded { .. }));
        assert_eq!(
            registry.manifest(&repo(), &remote::fallback_tag(&image)).unwrap(),
            data(&format!("cosign/bundle-{form}-fallback-index.json")),
            "{form} fallback index"
        );
        // cosign's own bundle verifies here.
        let cosigns = Bundle::parse(&golden_bundle).unwrap();
        let options =
            if form == "key" { key_options("rsa-2048") } else { chain_options("rsa-2048") };
        bundle::verify_bundle(cosigns, "golden", &image, &options, now()).unwrap();
    }
    let chain =
        sig_core::Certificate::from_bundle_pem(&pki("rsa-2048", "cosign_chain.pem")).unwrap();
    assert_eq!(
        bundle::trusted_root::trusted_root(&chain).unwrap(),
        data("cosign/trusted-root-rsa-2048.json")
    );
    let cas = bundle::trusted_root::parse_trusted_root(&data("cosign/trusted-root-rsa-2048.json"))
        .unwrap();
    assert_eq!((cas.roots.len(), cas.intermediates.len()), (1, 1));
}

#[test]
fn trusted_root_refuses_what_is_not_one() {
    use bundle::trusted_root::{parse_trusted_root, trusted_root};
    let leaf_only = sig_core::Certificate::from_bundle_pem(&pki("ec-256", "leaf.crt")).unwrap();
    assert!(trusted_root(&leaf_only).unwrap_err().to_string().contains("no CA certificate"));
    for (input, needle) in [
        (&b"{"[..], "not a sigstore trusted root"),
        (br#"{"mediaType":"x"}"#, "mediaType \"x\""),
        (br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#, "no certificateAuthorities"),
        (
            br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":"!!"}]}}]}"#,
            "certificateAuthorities[0]: rawBytes is not standard base64",
        ),
    ] {
        let err = parse_trusted_root(input).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// distribution answers a manifest push with 400 `MANIFEST_BLOB_UNKNOWN` for the shared `{}`
/// config blob while concurrent signers upload it (tests/e2e/cosign-bundle.sh phase f: 1 of 6
/// signers failed before the fix): the push is retried after pushing the blobs again. While
/// `failures` is above 0, a manifest push by digest fails so and counts it down.
fn flaky_registry(inner: MemoryRegistry, failures: Arc<AtomicUsize>) -> HookedRegistry {
    HookedRegistry::new(inner).on_push(move |inner, r, tag, media_type, manifest| {
        if tag.starts_with("sha256:") && failures.load(Ordering::SeqCst) > 0 {
            failures.fetch_sub(1, Ordering::SeqCst);
            return Err(RegistryError::Request {
                operation: "push manifest",
                reference: tag.to_owned(),
                source: "the registry answered HTTP 400 Bad Request: MANIFEST_BLOB_UNKNOWN".into(),
            });
        }
        inner.push_manifest(r, tag, media_type, manifest)
    })
}

#[test]
fn a_transiently_refused_referrer_push_is_retried() {
    let inner = MemoryRegistry::new();
    let image = new_image(&inner, &repo(), "flaky");
    let failures = Arc::new(AtomicUsize::new(2));
    let registry = flaky_registry(inner, Arc::clone(&failures));
    let signed = key_bundle("ec-256", &image);
    let attached = remote::attach_bundle(&registry, &repo(), &image, &signed, now()).unwrap();
    assert!(registry.inner.manifest(&repo(), attached.referrer.as_str()).is_some());
    assert_eq!(registry.inner.blob_pushes(), 6, "the blobs are pushed again before each attempt");
    // Past the attempts, the error is returned.
    failures.store(remote::MAX_PUSH_ATTEMPTS, Ordering::SeqCst);
    let err = remote::attach_bundle(&registry, &repo(), &image, &signed, now()).unwrap_err();
    let text = sig_core::message_with_sources(&err);
    assert!(text.contains("MANIFEST_BLOB_UNKNOWN"), "{text}");
}

#[test]
fn certificate_trust_refuses_a_key_only_bundle() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "key-only");
    let attached =
        remote::attach_bundle(&registry, &repo(), &image, &key_bundle("ec-256", &image), now())
            .unwrap();
    let (text, list) = rejections(remote::verify_image(
        &registry,
        &repo(),
        &image,
        &chain_options("ec-256"),
        now(),
        true,
    ));
    assert!(matches!(list[0].1, BundleRejection::NoCertificate), "{text}");
    assert!(text.contains(attached.referrer.as_str()), "{text}");
    assert!(text.contains("only a public key hint"), "{text}");
}
