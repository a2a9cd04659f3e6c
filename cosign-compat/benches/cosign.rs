//! cosign payloads: generating the simple-signing payload, signing it into a `.sig` layer, and
//! verifying a layer (payload parse and check, signature) with a public key, for an EC-256 and
//! an RSA-2048 key; plus the whole `verify_image` over the in-memory registry (one signature).

// Benchmarks abort on fixture errors: there is no one to report them to.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::SystemTime;

use cosign_compat::sign::{CertificateMaterial, sign_payload};
use cosign_compat::verify::{Trust, VerificationKey, VerifyOptions};
use cosign_compat::{
    MemoryRegistry, Repository, SignatureLayer, SimpleSigningPayload, media_type, remote, verify,
};
use criterion::{Criterion, criterion_group, criterion_main};
use sig_core::{CertifiedKey, PrivateKey};

fn pki(spec: &str, file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/pki").join(spec);
    std::fs::read(path.join(file)).expect("fixture")
}

fn bench_cosign(c: &mut Criterion) {
    let registry = MemoryRegistry::new();
    let repository = Repository::parse("127.0.0.1:5000/app").expect("repository");
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
    let image = registry.put_manifest(&repository, Some("v1"), media_type::OCI_MANIFEST, manifest);
    let annotations: cosign_compat::Annotations =
        [("run".to_owned(), "bench".to_owned())].into_iter().collect();
    let now = SystemTime::now();

    c.bench_function("cosign/payload/generate", |b| {
        b.iter(|| {
            SimpleSigningPayload::new(black_box(&repository), image.clone())
                .with_annotations(black_box(&annotations).clone())
                .to_bytes()
        });
    });

    for spec in ["ec-256", "rsa-2048"] {
        let material =
            CertificateMaterial::new(None, Some(&pki(spec, "certificate_chain.pem"))).expect("pem");
        let key = PrivateKey::from_pem(&pki(spec, "leaf.key"), None).expect("key");
        let signer = CertifiedKey::new(material.chain().clone(), key).expect("signer");
        let payload = SimpleSigningPayload::new(&repository, image.clone())
            .with_annotations(annotations.clone())
            .to_bytes();
        let mut group = c.benchmark_group(format!("cosign/{spec}"));
        group.bench_function("sign", |b| {
            b.iter(|| {
                let sig = sign_payload(&signer, black_box(&payload), None).expect("signs");
                SignatureLayer::new(payload.clone(), &sig)
            });
        });
        let sig = sign_payload(&signer, &payload, None).expect("signs");
        let layer = SignatureLayer::new(payload.clone(), &sig);
        let options = VerifyOptions::new(Trust::Key(
            VerificationKey::from_bytes(&pki(spec, "leaf.pub")).expect("public key"),
        ));
        group.bench_function("verify-layer", |b| {
            b.iter(|| verify::verify_layer(black_box(&layer), &image, &options, now).expect("ok"));
        });
        // One image with this layer attached, verified through the registry seam.
        let signed = MemoryRegistry::new();
        let digest =
            signed.put_manifest(&repository, Some("v1"), media_type::OCI_MANIFEST, manifest);
        remote::attach_signature(&signed, &repository, &digest, &layer).expect("attached");
        group.bench_function("verify-image", |b| {
            b.iter(|| {
                remote::verify_image(&signed, &repository, black_box(&digest), &options, now)
                    .expect("verifies")
            });
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2));
    targets = bench_cosign
}
criterion_main!(benches);
