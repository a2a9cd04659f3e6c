//! `cosign sign --recursive` (issue #16): the manifests [`walk::signing_targets`] returns for an
//! image index, in cosign's order, signed in both formats on both registry kinds and verified
//! per digest; and every bound and refusal of the walk, counted in manifest fetches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cosign_compat::bundle::remote::{self as bundle_remote, Listing, Verified};
use cosign_compat::bundle::{self, referrer::ReferrersIndex};
use cosign_compat::remote::{self, AttachOptions, AttachOutcome};
use cosign_compat::sign::{cosign_algorithm, sign_payload};
use cosign_compat::walk::{self, DEFAULT_MAX_MANIFESTS, SignTarget, WalkError};
use cosign_compat::{
    Annotations, Digest, Error, MemoryRegistry, RegistryError, SignatureLayer,
    SimpleSigningPayload, media_type,
};

use crate::support::{HookedRegistry, key_options, new_image, now, pki, repo};

const ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

fn key() -> sig_core::PrivateKey {
    sig_core::PrivateKey::from_pem(&pki("ec-256", "leaf.key"), None).unwrap()
}

/// Stores an index of `media_type` listing `entries` (media type, digest) under `tag`; sizes
/// come from the stored manifests (0 for one that is not stored).
fn put_index(
    registry: &MemoryRegistry,
    tag: &str,
    media_type: Option<&str>,
    entries: &[(&str, &Digest)],
) -> Digest {
    let manifests: Vec<serde_json::Value> = entries
        .iter()
        .enumerate()
        .map(|(i, (mt, digest))| {
            let size = registry.manifest(&repo(), digest.as_str()).map_or(0, |m| m.len());
            serde_json::json!({
                "mediaType": mt, "size": size, "digest": digest.as_str(),
                "platform": {"architecture": format!("arch{i}"), "os": "linux"},
            })
        })
        .collect();
    let mut index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    if let Some(mt) = media_type {
        index["mediaType"] = mt.into();
    }
    let bytes = serde_json::to_vec(&index).unwrap();
    registry.put_manifest(&repo(), Some(tag), media_type.unwrap_or(media_type::OCI_INDEX), &bytes)
}

/// A multi-platform image: an OCI index over `n` fresh platform manifests.
fn platform_index(registry: &MemoryRegistry, name: &str, n: usize) -> (Digest, Vec<Digest>) {
    let children: Vec<Digest> =
        (0..n).map(|i| new_image(registry, &repo(), &format!("{name}-platform-{i}"))).collect();
    let entries: Vec<(&str, &Digest)> =
        children.iter().map(|d| (media_type::OCI_MANIFEST, d)).collect();
    (put_index(registry, name, Some(media_type::OCI_INDEX), &entries), children)
}

fn digests(targets: &[SignTarget]) -> Vec<Digest> {
    targets.iter().map(|t| t.digest.clone()).collect()
}

fn walk_error(result: Result<Vec<SignTarget>, Error>) -> (WalkError, String) {
    match result {
        Err(Error::Walk(e)) => {
            let text = sig_core::message_with_sources(&e);
            (e, text)
        }
        other => panic!("expected a walk error, got {other:?}"),
    }
}

/// Counts manifest reads.
fn counting(inner: MemoryRegistry) -> (HookedRegistry, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&reads);
    let registry = HookedRegistry::new(inner).before_fetch(move |_, _, _, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    (registry, reads)
}

/// Signs every target into a bundle and attaches it with the walk's descriptor, as
/// `cosign-compat sign --recursive` does.
fn sign_bundles(registry: &MemoryRegistry, targets: &[SignTarget]) {
    for target in targets {
        let signed =
            bundle::sign_image(&key(), &target.digest, &Annotations::new(), None, None).unwrap();
        bundle_remote::attach_bundle_with_subject(
            registry,
            &repo(),
            &target.digest,
            &target.descriptor,
            &signed,
            now(),
        )
        .unwrap();
    }
}

/// Signs every target into a `.sig` layer, as `cosign-compat sign --recursive
/// --new-bundle-format=false` does.
fn sign_legacy(registry: &MemoryRegistry, targets: &[SignTarget]) -> Vec<AttachOutcome> {
    let key = key();
    let algorithm = cosign_algorithm(sig_core::KeySpec::Ec256, None).unwrap();
    let options =
        AttachOptions::new().signed_by(sig_core::SigningKey::public_key(&key).clone(), algorithm);
    targets
        .iter()
        .map(|target| {
            let payload = SimpleSigningPayload::new(&repo(), target.digest.clone()).to_bytes();
            let signature = sign_payload(&key, &payload, None).unwrap();
            let layer = SignatureLayer::new(payload, &signature);
            remote::attach_signature_with(registry, &repo(), &target.digest, &layer, &options)
                .unwrap()
        })
        .collect()
}

fn verified_bundles(registry: &MemoryRegistry, digest: &Digest) -> usize {
    match bundle_remote::verify_image(
        registry,
        &repo(),
        digest,
        &key_options("ec-256"),
        now(),
        true,
    )
    .unwrap()
    {
        Verified::Bundles { verified, .. } => verified.len(),
        other => panic!("expected bundles for {digest}, got {other:?}"),
    }
}

fn verified_sigs(registry: &MemoryRegistry, digest: &Digest) -> usize {
    remote::verify_image(registry, &repo(), digest, &key_options("ec-256"), now()).unwrap().len()
}

#[test]
fn an_index_with_three_platforms_gives_four_bundles_each_verifiable() {
    for registry in [MemoryRegistry::new(), MemoryRegistry::with_referrers_api()] {
        let (index, children) = platform_index(&registry, "multi", 3);
        let targets =
            walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS).unwrap();
        let mut want = vec![index.clone()];
        want.extend(children.iter().cloned());
        assert_eq!(digests(&targets), want, "the index first, then its children in order");
        assert_eq!(targets[0].index, None);
        assert!(targets[1..].iter().all(|t| t.index.as_ref() == Some(&index)));
        assert_eq!(targets[0].descriptor.media_type, media_type::OCI_INDEX);
        assert_eq!(targets[1].descriptor.media_type, media_type::OCI_MANIFEST);
        let index_size = registry.manifest(&repo(), index.as_str()).unwrap().len() as u64;
        assert_eq!(targets[0].descriptor.size, index_size);

        sign_bundles(&registry, &targets);
        for digest in &want {
            assert_eq!(verified_bundles(&registry, digest), 1, "{digest}");
        }
        // The referrer's subject is the walked descriptor: the index's own media type.
        let listed = bundle_remote::list_referrers(&registry, &repo(), &index).unwrap();
        assert_eq!(listed.len(), 1);
    }
}

#[test]
fn an_index_with_two_platforms_gives_three_sig_signatures_each_verifiable() {
    let registry = MemoryRegistry::new();
    let (index, children) = platform_index(&registry, "multi-sig", 2);
    let targets = walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS).unwrap();
    assert_eq!(targets.len(), 3);
    let outcomes = sign_legacy(&registry, &targets);
    assert!(outcomes.iter().all(|o| matches!(o, AttachOutcome::Attached { layers: 1, .. })));
    for digest in std::iter::once(&index).chain(&children) {
        assert_eq!(verified_sigs(&registry, digest), 1, "{digest}");
    }
}

#[test]
fn re_signing_recursively_adds_nothing_to_sig_and_keeps_every_bundle() {
    let registry = MemoryRegistry::new();
    let (index, children) = platform_index(&registry, "again", 2);
    let targets = walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS).unwrap();
    sign_legacy(&registry, &targets);
    let pushes = registry.manifest_pushes();
    let again = sign_legacy(&registry, &targets);
    assert!(
        again.iter().all(|o| matches!(o, AttachOutcome::Equivalent { layer: 0, .. })),
        "{again:?}"
    );
    assert_eq!(registry.manifest_pushes(), pushes, "a re-sign pushes no .sig manifest");
    for digest in std::iter::once(&index).chain(&children) {
        assert_eq!(verified_sigs(&registry, digest), 1, "{digest}");
    }
    // Bundles: as cosign, each run adds a referrer (ECDSA and the creation time differ); the
    // fallback index keeps both, and both verify.
    sign_bundles(&registry, &targets);
    sign_bundles(&registry, &targets);
    for digest in std::iter::once(&index).chain(&children) {
        assert_eq!(verified_bundles(&registry, digest), 2, "{digest}");
        let fallback = registry.manifest(&repo(), &bundle_remote::fallback_tag(digest)).unwrap();
        assert_eq!(ReferrersIndex::parse(&fallback).unwrap().manifests.len(), 2);
    }
}

#[test]
fn nested_indexes_are_walked_depth_first_and_shared_children_signed_once() {
    let registry = MemoryRegistry::new();
    let a = new_image(&registry, &repo(), "nested-a");
    let b = new_image(&registry, &repo(), "nested-b");
    let c = new_image(&registry, &repo(), "nested-c");
    let d = new_image(&registry, &repo(), "nested-d");
    let inner = put_index(
        &registry,
        "inner",
        Some(media_type::DOCKER_MANIFEST_LIST),
        &[(media_type::OCI_MANIFEST, &b), (media_type::DOCKER_MANIFEST, &c)],
    );
    let root = put_index(
        &registry,
        "root",
        Some(media_type::OCI_INDEX),
        &[
            (media_type::OCI_MANIFEST, &a),
            (media_type::DOCKER_MANIFEST_LIST, &inner),
            (media_type::OCI_MANIFEST, &d),
            (media_type::OCI_MANIFEST, &b),
        ],
    );
    let targets = walk::signing_targets(&registry, &repo(), &root, DEFAULT_MAX_MANIFESTS).unwrap();
    assert_eq!(digests(&targets), [&root, &a, &inner, &b, &c, &d].map(Clone::clone));
    assert_eq!(targets[3].index.as_ref(), Some(&inner), "b is listed by the nested index first");
    assert_eq!(targets[2].descriptor.media_type, media_type::DOCKER_MANIFEST_LIST);
    sign_bundles(&registry, &targets);
    for target in &targets {
        assert_eq!(verified_bundles(&registry, &target.digest), 1, "{}", target.digest);
    }
}

#[test]
fn an_image_manifest_and_an_index_without_media_type() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "single");
    let targets = walk::signing_targets(&registry, &repo(), &image, DEFAULT_MAX_MANIFESTS).unwrap();
    assert_eq!(
        digests(&targets),
        std::slice::from_ref(&image),
        "an image manifest is its own only target"
    );
    // An OCI index need not carry its mediaType: its manifests list makes it one.
    let index = put_index(&registry, "bare", None, &[(media_type::OCI_MANIFEST, &image)]);
    let targets = walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS).unwrap();
    assert_eq!(digests(&targets), [index, image]);
    assert_eq!(targets[0].descriptor.media_type, media_type::OCI_INDEX);
}

#[test]
fn children_that_are_neither_images_nor_indexes_are_refused_naming_them() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "odd-image");
    let other = new_image(&registry, &repo(), "odd-other");
    for media in [ARTIFACT_MANIFEST, DOCKER_SCHEMA1, ""] {
        let index = put_index(
            &registry,
            &format!("odd-{}", media.len()),
            Some(media_type::OCI_INDEX),
            &[(media_type::OCI_MANIFEST, &image), (media, &other)],
        );
        let (registry_c, reads) = counting(MemoryRegistry::new());
        for reference in [index.as_str(), image.as_str()] {
            let bytes = registry.manifest(&repo(), reference).unwrap();
            registry_c.inner.put_manifest(&repo(), None, media_type::OCI_INDEX, &bytes);
        }
        let (e, text) =
            walk_error(walk::signing_targets(&registry_c, &repo(), &index, DEFAULT_MAX_MANIFESTS));
        assert!(matches!(e, WalkError::UnsupportedChild { .. }), "{e:?}");
        assert!(text.contains(other.as_str()) && text.contains(index.as_str()), "{text}");
        assert!(text.contains(&format!("{media:?}")), "{text}");
        assert_eq!(reads.load(Ordering::SeqCst), 2, "the refused child is never fetched");
    }
    // The image itself must be a manifest or an index.
    let artifact = registry.put_manifest(
        &repo(),
        Some("artifact"),
        ARTIFACT_MANIFEST,
        br#"{"mediaType":"application/vnd.oci.artifact.manifest.v1+json","artifactType":"x"}"#,
    );
    let (e, text) =
        walk_error(walk::signing_targets(&registry, &repo(), &artifact, DEFAULT_MAX_MANIFESTS));
    assert!(matches!(e, WalkError::UnsupportedImage { .. }), "{text}");
}

#[test]
fn an_index_past_the_limit_is_refused_before_any_child_is_fetched() {
    // 20,000 entries (3 MB, under the 4 MiB manifest limit): one fetch, then refused.
    let inner = MemoryRegistry::new();
    let child = new_image(&inner, &repo(), "many-child");
    let entries: Vec<serde_json::Value> = (0..20_000u32)
        .map(|i| {
            let digest = Digest::of(&i.to_be_bytes());
            serde_json::json!({"mediaType": media_type::OCI_MANIFEST, "size": 1, "digest": digest.as_str()})
        })
        .collect();
    let bytes = serde_json::to_vec(
        &serde_json::json!({"schemaVersion": 2, "mediaType": media_type::OCI_INDEX, "manifests": entries}),
    )
    .unwrap();
    let big = inner.put_manifest(&repo(), Some("big"), media_type::OCI_INDEX, &bytes);
    let (registry, reads) = counting(inner);
    let (e, text) =
        walk_error(walk::signing_targets(&registry, &repo(), &big, DEFAULT_MAX_MANIFESTS));
    assert!(
        matches!(e, WalkError::TooManyManifests { listed: 20_001, max: DEFAULT_MAX_MANIFESTS, .. }),
        "{e:?}"
    );
    assert!(text.contains(big.as_str()) && text.contains("more than 1000 manifests"), "{text}");
    assert_eq!(reads.load(Ordering::SeqCst), 1, "only the index itself was fetched");

    // The limit counts the index and its entries: 3 platforms fit in 4, not in 3.
    let (index, _) = platform_index(&registry.inner, "limit", 3);
    assert_eq!(walk::signing_targets(&registry, &repo(), &index, 4).unwrap().len(), 4);
    let (e, _) = walk_error(walk::signing_targets(&registry, &repo(), &index, 3));
    assert!(matches!(e, WalkError::TooManyManifests { listed: 4, max: 3, .. }), "{e:?}");
    drop(child);
}

#[test]
fn a_deeply_nested_index_is_refused_by_count() {
    let inner = MemoryRegistry::new();
    let mut top = new_image(&inner, &repo(), "deep-leaf");
    let mut media = media_type::OCI_MANIFEST;
    for level in 0..200 {
        top = put_index(
            &inner,
            &format!("deep-{level}"),
            Some(media_type::OCI_INDEX),
            &[(media, &top)],
        );
        media = media_type::OCI_INDEX;
    }
    let (registry, reads) = counting(inner);
    let (e, text) = walk_error(walk::signing_targets(&registry, &repo(), &top, 50));
    assert!(matches!(e, WalkError::TooManyManifests { listed: 51, max: 50, .. }), "{text}");
    assert_eq!(reads.load(Ordering::SeqCst), 50, "one fetch per manifest, 50 at most");
    // Within the limit the whole chain is walked.
    assert_eq!(walk::signing_targets(&registry, &repo(), &top, 201).unwrap().len(), 201);
}

#[test]
fn a_child_that_cannot_be_fetched_fails_naming_its_digest_before_anything_is_signed() {
    let registry = MemoryRegistry::new();
    let present = new_image(&registry, &repo(), "fetch-present");
    let missing = Digest::of(b"never pushed");
    let index = put_index(
        &registry,
        "fetch",
        Some(media_type::OCI_INDEX),
        &[(media_type::OCI_MANIFEST, &present), (media_type::OCI_MANIFEST, &missing)],
    );
    let (e, text) =
        walk_error(walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS));
    assert!(matches!(e, WalkError::ChildNotFound { .. }), "{e:?}");
    assert_eq!(
        text,
        format!("manifest {missing} listed in index {}@{index} is not in the registry", repo())
    );

    // A registry error on the child: named, with the registry's cause.
    let failing = HookedRegistry::new(MemoryRegistry::new()).before_fetch({
        let present = present.clone();
        move |_, _, _, reference| {
            if reference == present.as_str() {
                return Err(RegistryError::Server {
                    operation: "fetch manifest",
                    reference: reference.to_owned(),
                    status: 500,
                    message: "boom".to_owned(),
                });
            }
            Ok(())
        }
    });
    for reference in [index.as_str(), present.as_str()] {
        let bytes = registry.manifest(&repo(), reference).unwrap();
        failing.inner.put_manifest(&repo(), None, media_type::OCI_INDEX, &bytes);
    }
    let (e, text) =
        walk_error(walk::signing_targets(&failing, &repo(), &index, DEFAULT_MAX_MANIFESTS));
    assert!(matches!(e, WalkError::ChildFetch { .. }), "{e:?}");
    assert!(
        text.starts_with(&format!("cannot fetch manifest {present} listed in index")),
        "{text}"
    );
    assert!(text.contains("HTTP 500") && text.contains("boom"), "{text}");

    // The image itself missing.
    let (e, _) = walk_error(walk::signing_targets(
        &registry,
        &repo(),
        &Digest::of(b"nothing"),
        DEFAULT_MAX_MANIFESTS,
    ));
    assert!(matches!(e, WalkError::NotFound { .. }), "{e:?}");
}

#[test]
fn a_registry_answering_other_content_cannot_make_the_walk_loop() {
    // An index listing X, where the registry answers X with the index itself: without the
    // digest check this is a cycle.
    let registry = MemoryRegistry::new();
    let x = Digest::of(b"x");
    let index =
        put_index(&registry, "cycle", Some(media_type::OCI_INDEX), &[(media_type::OCI_INDEX, &x)]);
    let bytes = registry.manifest(&repo(), index.as_str()).unwrap();
    registry.put_manifest(&repo(), Some(x.as_str()), media_type::OCI_INDEX, &bytes);
    let (e, text) =
        walk_error(walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS));
    assert!(matches!(e, WalkError::DigestMismatch { .. }), "{e:?}");
    assert!(text.contains(x.as_str()) && text.contains(index.as_str()), "{text}");
}

#[test]
fn refuses_malformed_index_entries() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "malformed-image");
    // A sha512 digest: cosign-compat signs sha256 digests only.
    let sha512 = format!("sha512:{}", "a".repeat(128));
    let bytes = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media_type::OCI_INDEX,
        "manifests": [{"mediaType": media_type::OCI_MANIFEST, "size": 1, "digest": sha512}],
    }))
    .unwrap();
    let index = registry.put_manifest(&repo(), Some("sha512"), media_type::OCI_INDEX, &bytes);
    let (e, text) =
        walk_error(walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS));
    assert!(matches!(e, WalkError::InvalidDigest { .. }), "{e:?}");
    assert!(text.contains(&sha512) && text.contains("only sha256"), "{text}");
    // A child listed as an index that is an image manifest.
    let index = put_index(
        &registry,
        "liar",
        Some(media_type::OCI_INDEX),
        &[(media_type::OCI_INDEX, &image)],
    );
    let (e, text) =
        walk_error(walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS));
    assert!(matches!(e, WalkError::NotAnIndex { .. }), "{e:?}");
    assert!(text.contains(image.as_str()), "{text}");
}

#[test]
fn fallback_listing_of_walked_targets_matches_attach_bundle() {
    // The walked descriptor gives the same referrer subject as attach_bundle's own fetch.
    let registry = MemoryRegistry::new();
    let (index, _) = platform_index(&registry, "subject", 1);
    let targets = walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS).unwrap();
    let fetched = bundle_remote::subject_descriptor(&registry, &repo(), &index).unwrap();
    assert_eq!(targets[0].descriptor, fetched);
    let signed = bundle::sign_image(&key(), &index, &Annotations::new(), None, None).unwrap();
    let attached = bundle_remote::attach_bundle_with_subject(
        &registry,
        &repo(),
        &index,
        &targets[0].descriptor,
        &signed,
        now(),
    )
    .unwrap();
    assert!(matches!(attached.listing, Listing::FallbackAdded { attempts: 1, .. }));
}

#[test]
fn buildx_attestation_manifests_are_signed_as_cosign_does() {
    // docker buildx lists, per platform, an attestation manifest: an OCI image manifest for
    // platform unknown/unknown with `vnd.docker.reference.type: attestation-manifest`. cosign's
    // walk goes by media type only, so it signs it; so does cosign-compat.
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "buildx-image");
    let attestation = new_image(&registry, &repo(), "buildx-attestation");
    let size = |d: &Digest| registry.manifest(&repo(), d.as_str()).unwrap().len();
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": media_type::OCI_INDEX,
        "manifests": [
            {"mediaType": media_type::OCI_MANIFEST, "digest": image.as_str(), "size": size(&image),
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": media_type::OCI_MANIFEST, "digest": attestation.as_str(),
             "size": size(&attestation),
             "annotations": {"vnd.docker.reference.digest": image.as_str(),
                             "vnd.docker.reference.type": "attestation-manifest"},
             "platform": {"architecture": "unknown", "os": "unknown"}},
        ],
    });
    let index = registry.put_manifest(
        &repo(),
        Some("buildx"),
        media_type::OCI_INDEX,
        &serde_json::to_vec(&index).unwrap(),
    );
    let targets = walk::signing_targets(&registry, &repo(), &index, DEFAULT_MAX_MANIFESTS).unwrap();
    assert_eq!(digests(&targets), [index, image, attestation]);
}
