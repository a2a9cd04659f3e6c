//! Byte-for-byte comparisons with outputs of the real cosign v3.1.3
//! (`tests/data/cosign/regenerate.sh`, provenance in `tests/data/cosign/README.md`).

use cosign_compat::SignatureTag as _;
use cosign_compat::payload::parse_annotations;
use cosign_compat::remote::{self, AttachOutcome};
use cosign_compat::sign::CertificateMaterial;
use cosign_compat::{
    Digest, ImageReference, MemoryRegistry, Registry, SignatureLayer, SimpleSigningPayload, verify,
};

use crate::support::{self, data, golden_image, pki, repo};

fn golden_digest() -> Digest {
    Digest::new(String::from_utf8(data("cosign/image-digest")).unwrap().trim()).unwrap()
}

fn text(path: &str) -> String {
    String::from_utf8(data(path)).unwrap()
}

/// The `-a` flags regenerate.sh passes to `cosign generate`, per golden file.
fn generate_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let d = golden_digest();
    vec![
        ("generate.json", format!("127.0.0.1:5000/app@{d}"), vec![]),
        (
            "generate-annotations.json",
            format!("127.0.0.1:5000/app@{d}"),
            vec!["b=2,a=1", "k=a=b", r#""q=x,y""#],
        ),
        (
            "generate-escaping.json",
            format!("127.0.0.1:5000/app@{d}"),
            vec![
                "html=<script>&</script>",
                "ctl=\t\u{8}\u{c}\u{1}\u{7f}",
                "sep=\u{2028}\u{2029}",
                "slash=/é\\",
                r#""quote=say ""hi""""#,
                "line=a\r",
            ],
        ),
        ("generate-dockerhub.json", format!("ubuntu@{d}"), vec![]),
        ("generate-dockerhub-tag.json", format!("docker.io/foo/bar:tag@{d}"), vec![]),
        ("generate-localhost.json", format!("localhost:5000/a/b/c@{d}"), vec!["env=prod"]),
    ]
}

#[test]
fn payload_is_byte_identical_to_cosign_generate() {
    for (file, reference, flags) in generate_cases() {
        let reference: ImageReference = reference.parse().unwrap();
        let payload =
            SimpleSigningPayload::new(reference.repository(), reference.digest().unwrap().clone())
                .with_annotations(parse_annotations(&flags).unwrap())
                .to_bytes();
        let want = data(&format!("cosign/{file}"));
        assert_eq!(String::from_utf8_lossy(&payload), String::from_utf8_lossy(&want), "{file}");
        assert_eq!(payload, want, "{file}");
    }
}

#[test]
fn generate_command_prints_the_golden_payload() {
    for (file, reference, flags) in generate_cases() {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cosign-compat"));
        cmd.arg("generate");
        for flag in &flags {
            cmd.arg("-a").arg(flag);
        }
        let out = cmd.arg(&reference).output().unwrap();
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, data(&format!("cosign/{file}")), "{file}");
    }
}

/// Attaches the two golden signatures the way regenerate.sh does with `cosign attach signature`.
fn attach_goldens(registry: &MemoryRegistry, image: &Digest) -> [AttachOutcome; 2] {
    let first = SignatureLayer::with_base64_signature(
        data("cosign/generate.json"),
        text("cosign/signature-rsa-2048.b64"),
    );
    let material = CertificateMaterial::new(
        Some(&pki("rsa-2048", "leaf.crt")),
        Some(&pki("rsa-2048", "cosign_chain.pem")),
    )
    .unwrap();
    let first = material.annotate(first);
    let second = SignatureLayer::with_base64_signature(
        data("cosign/generate-annotations.json"),
        text("cosign/signature-ec-256.b64"),
    );
    let a = remote::attach_signature(registry, &repo(), image, &first).unwrap();
    let manifest_1 = registry.manifest(&repo(), &image.signature_tag()).unwrap();
    assert_eq!(String::from_utf8(manifest_1).unwrap(), text("cosign/attach-manifest-1.json"));
    let b = remote::attach_signature(registry, &repo(), image, &second).unwrap();
    [a, b]
}

#[test]
fn signature_manifest_and_config_are_byte_identical_to_cosign_attach() {
    let registry = MemoryRegistry::new();
    let image = golden_image(&registry);
    let outcomes = attach_goldens(&registry, &image);
    assert!(matches!(outcomes[1], AttachOutcome::Attached { layers: 2, attempts: 1, .. }));
    let manifest = registry.manifest(&repo(), &image.signature_tag()).unwrap();
    assert_eq!(String::from_utf8(manifest).unwrap(), text("cosign/attach-manifest-2.json"));
    for (i, config) in [(1, "cosign/attach-config-1.json"), (2, "cosign/attach-config-2.json")] {
        let bytes = data(config);
        let blob = registry.blob(&repo(), Digest::of(&bytes).as_str());
        assert_eq!(blob.as_deref(), Some(&bytes[..]), "config {i} was pushed byte-identical");
    }
}

/// A registry holding exactly what cosign stored: its manifest and the payload blobs.
fn cosign_written_registry() -> (MemoryRegistry, Digest) {
    let registry = MemoryRegistry::new();
    let image = golden_image(&registry);
    registry.put_blob(&repo(), &data("cosign/generate.json"));
    registry.put_blob(&repo(), &data("cosign/generate-annotations.json"));
    registry.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        cosign_compat::media_type::OCI_MANIFEST,
        &data("cosign/attach-manifest-2.json"),
    );
    (registry, image)
}

#[test]
fn verifies_what_cosign_attached_and_prints_what_cosign_verify_prints() {
    let (registry, image) = cosign_written_registry();
    let cases = [
        (support::key_options("rsa-2048"), "cosign/verify-key-rsa-2048.stdout"),
        (support::key_options("ec-256"), "cosign/verify-key-ec-256.stdout"),
        (support::chain_options("rsa-2048"), "cosign/verify-chain-rsa-2048.stdout"),
    ];
    for (options, golden) in cases {
        let verified = remote::verify_image(&registry, &repo(), &image, &options, support::now())
            .unwrap_or_else(|e| panic!("{golden}: {e}"));
        // cosign prints a blank line, the array, a newline.
        let stdout = format!("\n{}\n", verify::cosign_output(&verified));
        assert_eq!(stdout, text(golden), "{golden}");
    }
}

#[test]
fn appending_to_a_cosign_manifest_keeps_its_layers() {
    let (registry, image) = cosign_written_registry();
    let before = registry.manifest(&repo(), &image.signature_tag()).unwrap();
    // The same signature again: nothing is pushed.
    let again = SignatureLayer::with_base64_signature(
        data("cosign/generate-annotations.json"),
        text("cosign/signature-ec-256.b64"),
    );
    let outcome = remote::attach_signature(&registry, &repo(), &image, &again).unwrap();
    assert!(matches!(outcome, AttachOutcome::AlreadyPresent { .. }), "{outcome:?}");
    assert_eq!(registry.manifest_pushes(), 0);
    assert_eq!(registry.manifest(&repo(), &image.signature_tag()).unwrap(), before);
    let fetched = registry.fetch_manifest(&repo(), &image.signature_tag()).unwrap().unwrap();
    assert_eq!(fetched, before);
}
