//! sign → attach → verify on the in-memory registry, for every fixture key spec and signer kind.

use cosign_compat::SignatureTag as _;
use cosign_compat::remote::{self, AttachOptions, AttachOutcome};
use cosign_compat::sign::sign_payload;
use cosign_compat::{
    Digest, Error, MemoryRegistry, Registry, RegistryError, SignatureLayer, SignatureManifest,
    SimpleSigningPayload, VerifyError, attach, media_type,
};
use sig_core::{CertifiedKey, CommandSigner, HashAlgorithm, PrivateKey, SigningKey};

use crate::support::{
    self, HookedRegistry, chain_options, key_options, material, new_image, pki, repo,
};

const SPECS: [&str; 6] = ["rsa-2048", "rsa-3072", "rsa-4096", "ec-256", "ec-384", "ec-521"];

/// The hash a spec signs with: cosign's SHA-256, except P-384/P-521 which need their own.
fn digest_for(spec: &str) -> Option<HashAlgorithm> {
    match spec {
        "ec-384" => Some(HashAlgorithm::Sha384),
        "ec-521" => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

fn key_file_signer(spec: &str) -> CertifiedKey {
    let key = PrivateKey::from_pem(&pki(spec, "leaf.key"), None).unwrap();
    CertifiedKey::new(material(spec).into_chain(), key).unwrap()
}

fn sign_layer(
    signer: &dyn SigningKey,
    spec: &str,
    image: &Digest,
    annotations: &[(&str, &str)],
) -> SignatureLayer {
    let payload = SimpleSigningPayload::new(&repo(), image.clone())
        .with_annotations(
            annotations.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        )
        .to_bytes();
    let sig = sign_payload(signer, &payload, digest_for(spec)).unwrap();
    material(spec).annotate(SignatureLayer::new(payload, &sig))
}

fn with_hash(
    options: cosign_compat::verify::VerifyOptions,
    spec: &str,
) -> cosign_compat::verify::VerifyOptions {
    match digest_for(spec) {
        Some(h) => options.with_hash(h),
        None => options,
    }
}

#[test]
fn every_key_spec_round_trips_with_key_and_certificates() {
    let registry = MemoryRegistry::new();
    for spec in SPECS {
        let image = new_image(&registry, &repo(), spec);
        let layer = sign_layer(&key_file_signer(spec), spec, &image, &[("env", "prod")]);
        let outcome = remote::attach_signature(&registry, &repo(), &image, &layer).unwrap();
        assert!(
            matches!(outcome, AttachOutcome::Attached { layers: 1, attempts: 1, .. }),
            "{spec}"
        );
        for options in [key_options(spec), chain_options(spec)] {
            let options = with_hash(options, spec)
                .with_annotations([("env".to_owned(), "prod".to_owned())].into());
            let verified =
                remote::verify_image(&registry, &repo(), &image, &options, support::now())
                    .unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(verified.len(), 1, "{spec}");
            assert_eq!(verified[0].payload().digest(), image.as_str());
        }
    }
}

#[test]
fn ecdsa_signatures_are_stored_as_der() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "der");
    let layer = sign_layer(&key_file_signer("ec-256"), "ec-256", &image, &[]);
    let sig = layer.signature_bytes().unwrap();
    assert_eq!(sig[0], 0x30, "DER SEQUENCE");
    assert!(sig_core::ecdsa::der_to_raw(sig_core::KeySpec::Ec256, &sig).is_ok());
}

#[test]
fn bare_key_signs_without_certificates() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "bare");
    let key = PrivateKey::from_pem(&pki("rsa-4096", "leaf.key"), None).unwrap();
    let payload = SimpleSigningPayload::new(&repo(), image.clone()).to_bytes();
    let sig = sign_payload(&key, &payload, None).unwrap();
    let layer = SignatureLayer::new(payload, &sig);
    assert!(layer.certificate_pem().is_none());
    remote::attach_signature(&registry, &repo(), &image, &layer).unwrap();
    remote::verify_image(&registry, &repo(), &image, &key_options("rsa-4096"), support::now())
        .unwrap();
    // Certificate verification has nothing to check: cosign's exit code 13.
    let err = remote::verify_image(
        &registry,
        &repo(),
        &image,
        &chain_options("rsa-4096"),
        support::now(),
    )
    .unwrap_err();
    let Error::Verify(err) = err else { panic!("{err}") };
    assert_eq!(err.exit_code(), 13, "{err}");
}

#[test]
fn external_signer_program_round_trips() {
    let script = support::data_path("../../examples/sign-with-openssl.sh");
    let registry = MemoryRegistry::new();
    for spec in ["rsa-2048", "ec-256", "ec-384"] {
        let key_path = support::data_path(&format!("pki/{spec}/leaf.key"));
        let chain = material(spec).into_chain();
        let program = CommandSigner::new(&script, chain.leaf().public_key().unwrap())
            .caller("cosign")
            .env("EXTERNAL_PRIVATE_KEY", key_path);
        let signer = CertifiedKey::new(chain, program).unwrap();
        let image = new_image(&registry, &repo(), &format!("cmd-{spec}"));
        let layer = sign_layer(&signer, spec, &image, &[]);
        remote::attach_signature(&registry, &repo(), &image, &layer).unwrap();
        remote::verify_image(
            &registry,
            &repo(),
            &image,
            &with_hash(key_options(spec), spec),
            support::now(),
        )
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
    }
}

#[test]
fn appends_new_signatures_and_skips_duplicates() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "append");
    let rsa = sign_layer(&key_file_signer("rsa-2048"), "rsa-2048", &image, &[]);
    let ec = sign_layer(&key_file_signer("ec-256"), "ec-256", &image, &[]);
    remote::attach_signature(&registry, &repo(), &image, &rsa).unwrap();
    let outcome = remote::attach_signature(&registry, &repo(), &image, &ec).unwrap();
    assert!(matches!(outcome, AttachOutcome::Attached { layers: 2, .. }), "{outcome:?}");
    let pushes = registry.manifest_pushes();
    // RSA PKCS#1 v1.5 is deterministic: signing again gives the same layer.
    let again = sign_layer(&key_file_signer("rsa-2048"), "rsa-2048", &image, &[]);
    assert_eq!(again, rsa);
    let outcome = remote::attach_signature(&registry, &repo(), &image, &again).unwrap();
    assert!(matches!(outcome, AttachOutcome::AlreadyPresent { .. }), "{outcome:?}");
    assert_eq!(registry.manifest_pushes(), pushes, "a duplicate pushes nothing");
    for spec in ["rsa-2048", "ec-256"] {
        let verified =
            remote::verify_image(&registry, &repo(), &image, &key_options(spec), support::now())
                .unwrap();
        assert_eq!(verified.len(), 1, "{spec}: only its own layer verifies");
    }
}

/// A registry where another signer overwrites the signature tag just before some of our
/// manifest reads (1-based, `race_before_fetch`), with the manifest it computed from what it
/// read before our first push (a lost update by a concurrent read–modify–write).
fn racing_registry(competitor: SignatureLayer, race_before_fetch: Vec<usize>) -> HookedRegistry {
    // What the competitor read: the state before our first push.
    let stale = std::sync::Arc::new(std::sync::Mutex::new(None::<Option<Vec<u8>>>));
    let read = std::sync::Arc::clone(&stale);
    HookedRegistry::new(MemoryRegistry::new())
        .before_fetch(move |inner, n, repository, reference| {
            let stale = read.lock().unwrap().clone();
            if let Some(stale) = stale
                && race_before_fetch.contains(&n)
            {
                let existing = stale.map(|m| SignatureManifest::parse(&m).unwrap());
                let image = attach::append(existing.as_ref(), &competitor.descriptor(), "t")
                    .unwrap()
                    .unwrap();
                inner.put_blob(repository, competitor.payload());
                inner.put_blob(repository, &image.config);
                inner.put_manifest(
                    repository,
                    Some(reference),
                    media_type::OCI_MANIFEST,
                    &image.manifest,
                );
            }
            Ok(())
        })
        .on_push(move |inner, repository, tag, media, manifest| {
            let before = inner.manifest(repository, tag);
            stale.lock().unwrap().get_or_insert(before);
            inner.push_manifest(repository, tag, media, manifest)
        })
}

fn race(race_before_fetch: Vec<usize>) -> (HookedRegistry, Digest, SignatureLayer, SignatureLayer) {
    let image = new_image(&MemoryRegistry::new(), &repo(), "race");
    let ours = sign_layer(&key_file_signer("rsa-2048"), "rsa-2048", &image, &[]);
    let theirs = sign_layer(&key_file_signer("ec-256"), "ec-256", &image, &[]);
    (racing_registry(theirs.clone(), race_before_fetch), image, ours, theirs)
}

#[test]
fn a_concurrent_overwrite_is_detected_and_retried() {
    // Fetch 1 reads, fetch 2 checks after the pause that follows our push; the competitor
    // writes just before that check (right after our push or during the pause: the same to us).
    let (registry, image, ours, theirs) = race(vec![2]);
    let outcome = remote::attach_signature(&registry, &repo(), &image, &ours).unwrap();
    assert!(
        matches!(outcome, AttachOutcome::Attached { attempts: 2, layers: 2, .. }),
        "{outcome:?}"
    );
    let stored = registry.inner.manifest(&repo(), &image.signature_tag()).unwrap();
    let manifest = SignatureManifest::parse(&stored).unwrap();
    assert!(manifest.contains(&ours.descriptor()), "ours survived");
    assert!(manifest.contains(&theirs.descriptor()), "theirs is kept");
}

#[test]
fn a_writer_that_keeps_overwriting_is_a_conflict() {
    let (registry, image, ours, _) = race((2..200).collect());
    let err = remote::attach_signature(&registry, &repo(), &image, &ours).unwrap_err();
    assert!(err.to_string().contains("rewritten by another signer 8 times"), "{err}");
}

#[test]
fn concurrent_signers_keep_every_signature() {
    let registry = std::sync::Arc::new(MemoryRegistry::new());
    let image = new_image(&registry, &repo(), "threads");
    let layers: Vec<SignatureLayer> = (0..6)
        .map(|i| sign_layer(&key_file_signer("ec-256"), "ec-256", &image, &[("n", &i.to_string())]))
        .collect();
    let handles: Vec<_> = layers
        .iter()
        .cloned()
        .map(|layer| {
            let registry = std::sync::Arc::clone(&registry);
            let image = image.clone();
            std::thread::spawn(move || {
                remote::attach_signature(&*registry, &repo(), &image, &layer)
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let stored = registry.manifest(&repo(), &image.signature_tag()).unwrap();
    let manifest = SignatureManifest::parse(&stored).unwrap();
    for layer in &layers {
        assert!(manifest.contains(&layer.descriptor()));
    }
}

#[test]
fn unsigned_image_has_no_signatures() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "unsigned");
    let err =
        remote::verify_image(&registry, &repo(), &image, &key_options("ec-256"), support::now())
            .unwrap_err();
    let Error::Verify(err @ VerifyError::NoSignatures { .. }) = err else { panic!("{err}") };
    assert_eq!(err.exit_code(), 10);
    assert!(
        err.to_string().starts_with("no signatures found for 127.0.0.1:5000/app@sha256:"),
        "{err}"
    );
}

#[test]
fn tags_resolve_to_digests() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "v1");
    let reference: cosign_compat::ImageReference = "127.0.0.1:5000/app:v1".parse().unwrap();
    assert_eq!(remote::resolve(&registry, &reference).unwrap(), image);
    let missing: cosign_compat::ImageReference = "127.0.0.1:5000/app:v2".parse().unwrap();
    assert!(matches!(remote::resolve(&registry, &missing), Err(RegistryError::NotFound { .. })));
}

/// A registry whose manifest reads fail with HTTP 500 at the given read numbers, as distribution
/// does for a tag caught mid-rewrite.
fn flaky_registry(fail_fetches: Vec<usize>) -> HookedRegistry {
    HookedRegistry::new(MemoryRegistry::new()).before_fetch(move |_, n, _, reference| {
        if !fail_fetches.contains(&n) {
            return Ok(());
        }
        Err(RegistryError::Server {
            operation: "fetch manifest",
            reference: reference.to_owned(),
            status: 500,
            message: "unknown error".to_owned(),
        })
    })
}

#[test]
fn server_errors_while_attaching_are_retried() {
    let image = new_image(&MemoryRegistry::new(), &repo(), "flaky");
    let ours = sign_layer(&key_file_signer("ec-256"), "ec-256", &image, &[]);
    // Read 1 fails; attempt 2 reads (2), checks (3, fails), attempt 3 reads (4), checks (5, 6).
    let registry = flaky_registry(vec![1, 3]);
    let outcome = remote::attach_signature(&registry, &repo(), &image, &ours).unwrap();
    assert!(matches!(outcome, AttachOutcome::Attached { layers: 1, .. }), "{outcome:?}");
    let always = flaky_registry((1..100).collect());
    let err = remote::attach_signature(&always, &repo(), &image, &ours).unwrap_err();
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

/// The signature manifest of `image` in `registry`.
fn layers_of(registry: &MemoryRegistry, image: &Digest) -> Vec<cosign_compat::Descriptor> {
    let bytes = registry.manifest(&repo(), &image.signature_tag()).unwrap();
    SignatureManifest::parse(&bytes).unwrap().layers().to_vec()
}

/// Issue 14, item 5: re-signing an image with the same key, certificate and annotations added a
/// layer every time (ECDSA signatures are randomized) until the 1000-layer limit broke the image.
#[test]
fn resigning_with_the_same_key_and_annotations_reuses_the_layer() {
    for spec in ["ec-256", "rsa-2048"] {
        let registry = MemoryRegistry::new();
        let image = new_image(&registry, &repo(), spec);
        let signer = key_file_signer(spec);
        let key = signer.chain().leaf().public_key().unwrap();
        let algorithm =
            cosign_compat::sign::cosign_algorithm(signer.key_spec(), digest_for(spec)).unwrap();
        let options = AttachOptions::new().signed_by(key, algorithm);
        let first = sign_layer(&signer, spec, &image, &[("env", "prod")]);
        remote::attach_signature_with(&registry, &repo(), &image, &first, &options).unwrap();
        let pushes = (registry.manifest_pushes(), registry.blob_pushes());
        let again = sign_layer(&signer, spec, &image, &[("env", "prod")]);
        if spec == "ec-256" {
            assert_ne!(again.signature_base64(), first.signature_base64(), "ECDSA is randomized");
        }
        let outcome =
            remote::attach_signature_with(&registry, &repo(), &image, &again, &options).unwrap();
        assert!(matches!(outcome, AttachOutcome::Equivalent { layer: 0, .. }), "{outcome:?}");
        assert_eq!((registry.manifest_pushes(), registry.blob_pushes()), pushes, "nothing pushed");
        assert_eq!(layers_of(&registry, &image).len(), 1);
        // Other annotations: another payload, another layer.
        let other = sign_layer(&signer, spec, &image, &[("env", "test")]);
        let outcome =
            remote::attach_signature_with(&registry, &repo(), &image, &other, &options).unwrap();
        assert!(matches!(outcome, AttachOutcome::Attached { layers: 2, .. }), "{outcome:?}");
    }
}

/// A layer that looks the same (payload, certificate, chain) but whose signature is not by our
/// key, or no longer verifies, is not a reason to skip ours.
#[test]
fn a_lookalike_layer_not_signed_by_the_key_is_not_reused() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "lookalike");
    let signer = key_file_signer("ec-256");
    let key = signer.chain().leaf().public_key().unwrap();
    let algorithm = cosign_compat::sign::cosign_algorithm(signer.key_spec(), None).unwrap();
    let options = AttachOptions::new().signed_by(key, algorithm);
    let ours = sign_layer(&signer, "ec-256", &image, &[]);
    // Same payload and certificates, a signature that does not verify with the key.
    let mut bad = ours.signature_bytes().unwrap();
    let last = bad.len() - 2;
    bad[last] ^= 1;
    let lookalike = material("ec-256").annotate(SignatureLayer::new(ours.payload().to_vec(), &bad));
    remote::attach_signature(&registry, &repo(), &image, &lookalike).unwrap();
    let outcome =
        remote::attach_signature_with(&registry, &repo(), &image, &ours, &options).unwrap();
    assert!(matches!(outcome, AttachOutcome::Attached { layers: 2, .. }), "{outcome:?}");
}

/// Issue 14, item 5: the 1001st layer is refused before anything is pushed.
#[test]
fn a_full_signature_manifest_gets_no_more_layers() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "full");
    let layers: Vec<_> = (0..cosign_compat::signature::MAX_LAYERS)
        .map(|n| SignatureLayer::new(format!("{{\"n\":{n}}}").into_bytes(), b"s").descriptor())
        .collect();
    let full = attach::signature_image(layers);
    registry.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        media_type::OCI_MANIFEST,
        &full.manifest,
    );
    let pushes = (registry.manifest_pushes(), registry.blob_pushes());
    let layer = sign_layer(&key_file_signer("ec-256"), "ec-256", &image, &[]);
    let err = remote::attach_signature(&registry, &repo(), &image, &layer).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::Attach(cosign_compat::AttachError::TooManySignatures { .. })),
        "{text}"
    );
    assert!(text.contains("already holds 1000 signatures") && text.contains("delete"), "{text}");
    assert_eq!((registry.manifest_pushes(), registry.blob_pushes()), pushes, "nothing pushed");
}
