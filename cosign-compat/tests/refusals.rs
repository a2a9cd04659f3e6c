//! What must be refused: wrong keys, tampered payloads, wrong digests, malformed manifests and
//! annotations, failing signers. None of it may panic.

use base64::Engine as _;
use cosign_compat::SignatureTag as _;
use cosign_compat::remote;
use cosign_compat::sign::sign_payload;
use cosign_compat::verify::{Trust, VerificationKey, VerifyOptions};
use cosign_compat::{
    Digest, Error, LayerRejection, ManifestError, MemoryRegistry, SignatureLayer, SigningError,
    SimpleSigningPayload, VerifyError, attach, media_type,
};
use sig_core::{CertifiedKey, CommandSigner, PrivateKey};

use crate::support::{self, key_options, material, new_image, pki, repo, store};

fn signed(spec: &str, image: &Digest) -> SignatureLayer {
    let key = PrivateKey::from_pem(&pki(spec, "leaf.key"), None).unwrap();
    let payload = SimpleSigningPayload::new(&repo(), image.clone()).to_bytes();
    let sig = sign_payload(&key, &payload, None).unwrap();
    SignatureLayer::new(payload, &sig)
}

fn verify(
    registry: &MemoryRegistry,
    image: &Digest,
    options: &VerifyOptions,
) -> Result<usize, Error> {
    remote::verify_image(registry, &repo(), image, options, support::now()).map(|v| v.len())
}

/// The rejection of the only layer.
fn rejection(result: Result<usize, Error>) -> LayerRejection {
    match result {
        Err(Error::Verify(VerifyError::NoMatchingSignatures { mut rejections, .. })) => {
            assert_eq!(rejections.len(), 1, "{rejections:?}");
            rejections.remove(0).1
        }
        other => panic!("expected one rejected layer, got {other:?}"),
    }
}

#[test]
fn wrong_key_is_rejected() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "wrong-key");
    store(&registry, &image, &[signed("ec-256", &image)]);
    let other_key = VerificationKey::from_bytes(&pki("fail_key_mismatch", "leaf.crt")).unwrap();
    let err = verify(&registry, &image, &VerifyOptions::new(Trust::Key(other_key))).unwrap_err();
    let Error::Verify(v) = &err else { panic!("{err}") };
    assert_eq!(v.exit_code(), 12);
    assert!(
        err.to_string().contains(
            "signature 0: the signature does not verify with the given public key (ECDSA-SHA-256)"
        ),
        "{err}"
    );
    assert!(matches!(
        rejection(verify(&registry, &image, &key_options("rsa-2048"))),
        LayerRejection::BadSignature { .. }
    ));
}

#[test]
fn tampered_payload_is_rejected() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "tampered");
    let good = signed("ec-256", &image);
    // Same signature over an edited payload (the manifest describes the edited blob).
    let text = String::from_utf8(good.payload().to_vec()).unwrap();
    let edited = text.replace("127.0.0.1:5000/app", "127.0.0.1:5000/evil").into_bytes();
    let sig = base64::engine::general_purpose::STANDARD.decode(good.signature_base64()).unwrap();
    store(&registry, &image, &[SignatureLayer::new(edited, &sig)]);
    assert!(matches!(
        rejection(verify(&registry, &image, &key_options("ec-256"))),
        LayerRejection::BadSignature { .. }
    ));

    // The blob replaced under the digest the manifest names.
    let registry = MemoryRegistry::new();
    store(&registry, &image, std::slice::from_ref(&good));
    let manifest = registry.manifest(&repo(), &image.signature_tag()).unwrap();
    let swapped = MemoryRegistry::new();
    swapped.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        media_type::OCI_MANIFEST,
        &manifest,
    );
    // put_blob keys by content digest, so store a different payload and point the descriptor at it.
    let mut descriptor = good.descriptor();
    let evil = br#"{"critical":{"image":{"docker-manifest-digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}}}"#;
    let evil_digest = swapped.put_blob(&repo(), evil);
    descriptor.size = evil.len() as u64;
    let img = attach::signature_image(vec![descriptor.clone()]);
    swapped.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        media_type::OCI_MANIFEST,
        &img.manifest,
    );
    let r = rejection(verify(&swapped, &image, &key_options("ec-256")));
    assert!(matches!(r, LayerRejection::Blob(_)), "{r}");
    assert_ne!(evil_digest.as_str(), descriptor.digest);
}

#[test]
fn signature_for_another_image_is_rejected() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "target");
    let other = new_image(&registry, &repo(), "other");
    // A valid signature of `other`, copied under `image`'s signature tag.
    store(&registry, &image, &[signed("ec-256", &other)]);
    let r = rejection(verify(&registry, &image, &key_options("ec-256")));
    assert!(
        r.to_string().starts_with("invalid or missing digest in claim: the payload signs sha256:"),
        "{r}"
    );
}

#[test]
fn missing_annotation_is_rejected() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "annotations");
    store(&registry, &image, &[signed("ec-256", &image)]);
    let options =
        key_options("ec-256").with_annotations([("env".to_owned(), "prod".to_owned())].into());
    let r = rejection(verify(&registry, &image, &options));
    assert!(r.to_string().contains("missing or incorrect annotation \"env\""), "{r}");
}

#[test]
fn malformed_manifests_are_refused_without_panicking() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "malformed");
    let tag = image.signature_tag();
    let layer = r#"{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":1,"digest":"sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"}"#;
    let too_many = format!(r#"{{"schemaVersion":2,"layers":[{}]}}"#, vec![layer; 1001].join(","));
    let huge = format!(r#"{{"schemaVersion":2,"annotations":{{"x":"{}"}}}}"#, "a".repeat(5 << 20));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not json", b"not json".to_vec()),
        ("an index", br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec()),
        ("negative size", br#"{"layers":[{"mediaType":"m","size":-1,"digest":"sha256:00"}]}"#.to_vec()),
        ("non-string annotation", br#"{"layers":[{"mediaType":"m","size":1,"digest":"d","annotations":{"k":1}}]}"#.to_vec()),
        ("too many layers", too_many.into_bytes()),
        ("too large", huge.into_bytes()),
    ];
    for (what, bytes) in cases {
        registry.put_manifest(&repo(), Some(&tag), media_type::OCI_MANIFEST, &bytes);
        let err = verify(&registry, &image, &key_options("ec-256")).unwrap_err();
        assert!(matches!(err, Error::Manifest(_) | Error::Registry(_)), "{what}: {err}");
    }
    let err = cosign_compat::SignatureManifest::parse(&vec![b'{'; 5 << 20]).unwrap_err();
    assert!(matches!(err, ManifestError::TooLarge { .. }));
}

#[test]
fn malformed_layers_are_rejected_one_by_one() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "layers");
    let good = signed("ec-256", &image);
    let mut no_sig = good.descriptor();
    no_sig.annotations.clear();
    let mut bad_b64 = good.descriptor();
    bad_b64.annotations.insert(media_type::ANNOTATION_SIGNATURE.into(), "not base64!".into());
    let mut bad_cert = good.descriptor();
    bad_cert
        .annotations
        .insert(media_type::ANNOTATION_CERTIFICATE.into(), "not a certificate".into());
    let mut other_type = good.descriptor();
    other_type.media_type = "application/vnd.oci.image.layer.v1.tar".into();
    let mut missing_blob = good.descriptor();
    missing_blob.digest = Digest::of(b"never pushed").to_string();
    let mut big = good.descriptor();
    big.size = 2 << 20;
    let mut sha512 = good.descriptor();
    sha512.digest = format!("sha512:{}", "0".repeat(128));
    let layers = vec![no_sig, bad_b64, bad_cert, other_type, missing_blob, big, sha512];
    registry.put_blob(&repo(), good.payload());
    let img = attach::signature_image(layers.clone());
    registry.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        media_type::OCI_MANIFEST,
        &img.manifest,
    );
    let err = verify(&registry, &image, &key_options("ec-256")).unwrap_err();
    let Error::Verify(VerifyError::NoMatchingSignatures { rejections, .. }) = &err else {
        panic!("{err}")
    };
    let kinds: Vec<String> = rejections.iter().map(|(i, r)| format!("{i}: {r}")).collect();
    assert_eq!(kinds.len(), layers.len(), "{kinds:#?}");
    assert!(matches!(rejections[0].1, LayerRejection::MissingSignature), "{kinds:#?}");
    assert!(matches!(rejections[1].1, LayerRejection::Base64), "{kinds:#?}");
    assert!(matches!(rejections[2].1, LayerRejection::Certificate(_)), "{kinds:#?}");
    assert!(matches!(rejections[3].1, LayerRejection::NotSimpleSigning(_)), "{kinds:#?}");
    assert!(kinds[4].contains("not found"), "{kinds:#?}");
    assert!(kinds[5].contains("at most 1048576"), "{kinds:#?}");
    assert!(kinds[6].contains("only sha256"), "{kinds:#?}");

    // One good layer among bad ones is enough, as in cosign.
    let mut with_good = layers;
    with_good.push(good.descriptor());
    let img = attach::signature_image(with_good);
    registry.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        media_type::OCI_MANIFEST,
        &img.manifest,
    );
    assert_eq!(verify(&registry, &image, &key_options("ec-256")).unwrap(), 1);
}

#[test]
fn failing_signers_are_refused_before_anything_is_pushed() {
    let registry = MemoryRegistry::new();
    let image = new_image(&registry, &repo(), "signer-fails");
    let payload = SimpleSigningPayload::new(&repo(), image).to_bytes();
    let commands = support::data_path("commands");
    let cases = [
        ("exit_1.sh", "signer failed: key locked"),
        ("wrong_key.sh", "not made by the private key of the leaf certificate"),
        ("garbage.sh", "neither"),
        ("empty.sh", "printed no signature"),
    ];
    // An EC-256 chain whose key is not the one wrong_key.sh signs with.
    let chain = cosign_compat::sign::CertificateMaterial::new(
        None,
        Some(&pki("fail_key_mismatch", "chain.pem")),
    )
    .unwrap()
    .into_chain();
    for (script, needle) in cases {
        let program = CommandSigner::new(commands.join(script), chain.leaf().public_key().unwrap())
            .caller("cosign");
        let signer = CertifiedKey::new(chain.clone(), program).unwrap();
        let err = sign_payload(&signer, &payload, None).unwrap_err();
        assert!(sig_core::message_with_sources(&err).contains(needle), "{script}: {err}");
    }
    assert_eq!(registry.manifest_pushes() + registry.blob_pushes(), 0);
}

/// Issue 14, item 13: a docker config that is a FIFO is refused at once, naming the file (it
/// goes through `sig_core::__private::fs::read_bounded`, which opens without blocking).
#[test]
fn docker_config_that_is_a_fifo_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("config.json");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let result = cosign_compat::registry::credentials::Credentials::open(&path);
        let _ = tx.send(result.map(|_| ()).map_err(|e| sig_core::message_with_sources(&e)));
    });
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("reading a FIFO docker config blocked");
    let message = result.unwrap_err();
    assert!(message.contains("is a FIFO (named pipe), not a regular file"), "{message}");
    assert!(message.contains(fifo.to_str().unwrap()), "{message}");
}

#[test]
fn p384_and_p521_need_an_explicit_hash() {
    for spec in ["ec-384", "ec-521"] {
        let key = PrivateKey::from_pem(&pki(spec, "leaf.key"), None).unwrap();
        let signer = CertifiedKey::new(material(spec).into_chain(), key).unwrap();
        let err = sign_payload(&signer, b"{}", None).unwrap_err();
        assert!(matches!(err, SigningError::DigestRequired { .. }), "{spec}: {err}");
    }
    let key = PrivateKey::from_pem(&pki("ec-384", "leaf.key"), None).unwrap();
    let err = sign_payload(&key, b"{}", Some(sig_core::HashAlgorithm::Sha256)).unwrap_err();
    assert!(matches!(err, SigningError::UnsupportedDigest { .. }), "{err}");
}

#[test]
fn certificate_material_is_checked_like_cosign_would() {
    use cosign_compat::sign::CertificateMaterial;
    // A full chain file: the leaf is found, the annotation chain is intermediate + root.
    let m = CertificateMaterial::new(None, Some(&pki("ec-256", "chain_shuffled.pem"))).unwrap();
    assert_eq!(m.chain().certificates().len(), 3);
    let layer = m.annotate(SignatureLayer::new(b"{}".to_vec(), b"s"));
    let want_chain = String::from_utf8(pki("ec-256", "cosign_chain.pem")).unwrap();
    assert_eq!(layer.chain_pem(), Some(want_chain.as_str()));
    m.check_for_cosign(support::now()).unwrap();
    // Only CA certificates: no leaf.
    let err = CertificateMaterial::new(None, Some(&pki("ec-256", "cosign_chain.pem"))).unwrap_err();
    assert!(matches!(err, SigningError::NoLeaf { .. }), "{err}");
    // A leaf whose EKU lacks codeSigning would fail cosign verify --certificate-chain.
    let m =
        CertificateMaterial::new(None, Some(&pki("fail_server_auth_eku", "chain.pem"))).unwrap();
    let err = m.check_for_cosign(support::now()).unwrap_err();
    assert!(err.to_string().contains("codeSigning"), "{err}");
    let m = CertificateMaterial::new(None, Some(&pki("fail_expired", "chain.pem"))).unwrap();
    assert!(m.check_for_cosign(support::now()).unwrap_err().to_string().contains("expired"));
}
