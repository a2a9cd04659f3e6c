//! Private and public keys: every fixture encoding of every key spec, password handling, what is
//! not a key, and that no key bytes ever show in `Debug` output.

use std::process::Command;

use sig_core::{
    Certificate, KeyError, KeySpec, PrivateKey, PublicKey, SignError, SignatureAlgorithm,
};

use crate::fixtures::{KEY_PASSWORD, SPECS, pem_der, pki, read, traditional_key};

/// One encoding of a key: description, bytes, password.
type Encoding = (String, Vec<u8>, Option<&'static [u8]>);

/// Every encoding of the spec's leaf key.
fn encodings(dir: &str, spec: KeySpec) -> Vec<Encoding> {
    let traditional = traditional_key(spec);
    vec![
        ("PKCS#8 PEM".into(), read(dir, "leaf.key"), None),
        ("PKCS#8 DER".into(), read(dir, "leaf.key.der"), None),
        (format!("{traditional} PEM"), read(dir, traditional), None),
        (format!("{traditional} as DER"), pem_der(dir, traditional), None),
        ("encrypted PKCS#8 PEM".into(), read(dir, "leaf.enc.pem"), Some(KEY_PASSWORD)),
        ("encrypted PKCS#8 DER".into(), pem_der(dir, "leaf.enc.pem"), Some(KEY_PASSWORD)),
    ]
}

/// PEM through `from_pem`, anything else through `from_der` (as `read_file` tells them apart).
fn parse(bytes: &[u8], password: Option<&[u8]>) -> Result<PrivateKey, KeyError> {
    if bytes.starts_with(b"-----") {
        PrivateKey::from_pem(bytes, password)
    } else {
        PrivateKey::from_der(bytes, password)
    }
}

#[test]
fn every_key_encoding_parses_to_its_key_spec() {
    for (dir, spec) in SPECS {
        let on_disk = String::from_utf8(read(dir, "key_spec")).unwrap();
        assert_eq!(on_disk.trim(), spec.as_str());
        let certified = Certificate::from_der(&pem_der(dir, "leaf.crt")).unwrap().public_key();
        let certified = certified.unwrap();
        let published = PublicKey::from_spki_der(&pem_der(dir, "leaf.pub")).unwrap();
        assert_eq!(certified, published, "{dir}");
        assert_eq!(certified.key_spec(), spec);
        for (what, bytes, password) in encodings(dir, spec) {
            let key = parse(&bytes, password).unwrap_or_else(|e| panic!("{dir} {what}: {e}"));
            assert_eq!(key.key_spec(), spec, "{dir} {what}");
            assert_eq!(key.public_key(), &certified, "{dir} {what}: not the certified key");
        }
    }
}

#[test]
fn der_keys_parse_through_from_der() {
    for (dir, spec) in SPECS {
        for (what, bytes, password) in encodings(dir, spec) {
            if bytes.starts_with(b"-----") {
                continue;
            }
            let key = PrivateKey::from_der(&bytes, password)
                .unwrap_or_else(|e| panic!("{dir} {what}: {e}"));
            assert_eq!(key.key_spec(), spec, "{dir} {what}");
        }
    }
}

#[test]
fn key_files_open_by_path() {
    for (dir, spec) in SPECS {
        for file in ["leaf.key", "leaf.key.der", traditional_key(spec)] {
            let key = PrivateKey::read_file(&pki(dir, file), None).unwrap();
            assert_eq!(key.key_spec(), spec, "{dir}/{file}");
        }
        let key = PrivateKey::read_file(&pki(dir, "leaf.enc.pem"), Some(KEY_PASSWORD)).unwrap();
        assert_eq!(key.key_spec(), spec);
    }
    let err = PrivateKey::read_file(&pki("ec-256", "no-such-key.pem"), None).unwrap_err();
    assert!(matches!(err, KeyError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-key.pem"), "{err}");
}

#[test]
fn password_is_ignored_for_unencrypted_keys() {
    let key = parse(&read("ec-384", "leaf.key"), Some(b"unused")).unwrap();
    assert_eq!(key.key_spec(), KeySpec::Ec384);
}

#[test]
fn encrypted_keys_need_the_right_password() {
    for (dir, _) in SPECS {
        let pem = read(dir, "leaf.enc.pem");
        let err = parse(&pem, None).unwrap_err();
        assert!(matches!(err, KeyError::PasswordRequired), "{dir}: {err:?}");
        let err = parse(&pem, Some(b"test-passwort")).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassword), "{dir}: {err:?}");
        let err = parse(&pem, Some(b"")).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassword), "{dir}: {err:?}");
    }
}

#[test]
fn certificate_given_as_key_is_not_a_private_key() {
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("leaf.crt", read("rsa-2048", "leaf.crt"), "a PEM CERTIFICATE block"),
        ("chain.pem", read("ec-256", "chain.pem"), "a PEM CERTIFICATE block"),
        ("leaf.crt as DER", pem_der("ec-521", "leaf.crt"), "a DER certificate"),
        ("leaf.pub", read("ec-384", "leaf.pub"), "a PEM PUBLIC KEY block"),
    ];
    for (what, bytes, found) in cases {
        let err = parse(&bytes, None).unwrap_err();
        match &err {
            KeyError::NotAPrivateKey { found: Some(f) } => assert_eq!(f, found, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
        let message = err.to_string();
        assert!(message.starts_with("not a private key"), "{message}");
        assert!(message.ends_with(&format!("found {found}")), "{message}");
    }
}

#[test]
fn garbage_is_not_a_private_key() {
    for bytes in [&b""[..], b"hello", b"\x30\x03\x02\x01\x00", &[0xff; 300]] {
        let err = parse(bytes, None).unwrap_err();
        assert!(matches!(err, KeyError::NotAPrivateKey { found: None }), "{bytes:?}: {err:?}");
    }
    let damaged = b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n";
    let err = parse(damaged, None).unwrap_err();
    assert!(
        matches!(err, KeyError::Malformed { format: sig_core::KeyFormat::Pkcs8, .. }),
        "{err:?}"
    );
    let der = read("rsa-2048", "leaf.key.der");
    let err = parse(&der[..der.len() / 2], None).unwrap_err();
    assert!(matches!(err, KeyError::NotAPrivateKey { .. } | KeyError::Malformed { .. }));
}

#[test]
fn keys_outside_the_key_specs_are_unsupported() {
    // RSA-1024 in every encoding: named as unsupported, not as a damaged key.
    let dir = tempfile::tempdir().unwrap();
    let pkcs1 = dir.path().join("rsa-1024.pkcs1.pem");
    let out = Command::new("openssl")
        .args(["pkey", "-traditional", "-in"])
        .arg(pki("fail_rsa_1024", "leaf.key"))
        .arg("-out")
        .arg(&pkcs1)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pkcs1 = std::fs::read(&pkcs1).unwrap();
    assert!(pkcs1.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));
    let pkcs1_der = crate::fixtures::pem_ders(&pkcs1).remove(0);
    for (what, bytes) in [
        ("PKCS#8 PEM", read("fail_rsa_1024", "leaf.key")),
        ("PKCS#8 DER", pem_der("fail_rsa_1024", "leaf.key")),
        ("PKCS#1 PEM", pkcs1),
        ("PKCS#1 DER", pkcs1_der),
    ] {
        match parse(&bytes, None).unwrap_err() {
            KeyError::Unsupported(key) => {
                assert_eq!(key, sig_core::UnsupportedKey::RsaSize { bits: 1024 }, "{what}");
                assert_eq!(key.to_string(), "RSA 1024-bit key", "{what}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    let leaf = Certificate::from_der(&pem_der("fail_rsa_1024", "leaf.crt")).unwrap();
    assert!(matches!(leaf.public_key(), Err(KeyError::Unsupported(_))));

    for (name, args) in [
        ("ed25519", &["genpkey", "-algorithm", "ed25519"][..]),
        ("secp256k1", &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"]),
    ] {
        let path = dir.path().join(name);
        let out = Command::new("openssl").args(args).arg("-out").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let err = parse(&std::fs::read(&path).unwrap(), None).unwrap_err();
        assert!(matches!(err, KeyError::Unsupported(_)), "{name}: {err:?}");
        assert!(err.to_string().contains("use RSA 2048/3072/4096 or ECDSA"), "{err}");
    }
}

#[test]
fn debug_output_never_contains_key_bytes() {
    for (dir, spec) in SPECS {
        for (what, bytes, password) in encodings(dir, spec) {
            let key = parse(&bytes, password).unwrap();
            let debug = format!("{key:?}");
            assert_eq!(debug, format!("PrivateKey {{ spec: {spec:?}, .. }}"), "{dir} {what}");
            let pretty = format!("{key:#?}");
            assert!(!looks_like_key_bytes(&pretty), "{dir} {what}: {pretty}");
            let public = format!("{:?}", key.public_key());
            assert_eq!(public, format!("PublicKey {{ spec: {spec:?}, .. }}"));
        }
        let chain = sig_core::CertificateChain::from_pem(&read(dir, "chain.pem")).unwrap();
        let key = parse(&read(dir, "leaf.key"), None).unwrap();
        let signer = sig_core::CertifiedKey::new(chain, key).unwrap();
        let debug = format!("{signer:#?}");
        assert!(debug.contains(&format!("{spec:?}")), "{debug}");
        assert!(!looks_like_key_bytes(&debug), "{dir}: {debug}");
    }
    // Errors about keys do not carry them either.
    let err = parse(&read("ec-256", "leaf.enc.pem"), Some(b"x")).unwrap_err();
    assert!(!looks_like_key_bytes(&format!("{err:?} {err}")));
}

/// A run of 8 or more comma-separated numbers (a `Vec<u8>` in `Debug`) or of 32 or more hex
/// digits.
fn looks_like_key_bytes(text: &str) -> bool {
    let numbers = text
        .split(|c: char| !(c.is_ascii_digit() || c == ',' || c == ' ' || c == '\n'))
        .any(|run| run.split(',').filter(|n| !n.trim().is_empty()).count() >= 8);
    let mut hex_run = 0;
    let mut long_hex = false;
    for c in text.chars() {
        hex_run = if c.is_ascii_hexdigit() { hex_run + 1 } else { 0 };
        long_hex |= hex_run >= 32;
    }
    numbers || long_hex
}

#[test]
fn every_key_signs_its_notary_algorithm_and_the_certificate_verifies() {
    for (dir, spec) in SPECS {
        let key = parse(&read(dir, "leaf.key"), None).unwrap();
        let leaf = Certificate::from_der(&pem_der(dir, "leaf.crt")).unwrap();
        let public = leaf.public_key().unwrap();
        let algorithm = spec.notary_algorithm();
        let signature = key.sign(algorithm, b"message").unwrap();
        assert_eq!(signature.len(), spec.signature_len(), "{dir}");
        assert!(public.verify(algorithm, b"message", &signature), "{dir}");
        assert!(!public.verify(algorithm, b"messagf", &signature), "{dir}");
    }
}

#[test]
fn algorithms_of_the_other_key_type_are_refused() {
    let rsa = parse(&read("rsa-2048", "leaf.key"), None).unwrap();
    let err = rsa.sign(SignatureAlgorithm::EcdsaSha256, b"m").unwrap_err();
    assert!(
        matches!(err, SignError::AlgorithmMismatch { key_spec: KeySpec::Rsa2048, .. }),
        "{err:?}"
    );
    let ec = parse(&read("ec-256", "leaf.key"), None).unwrap();
    for algorithm in [SignatureAlgorithm::RsaPssSha256, SignatureAlgorithm::RsaPkcs1v15Sha256] {
        let err = ec.sign(algorithm, b"m").unwrap_err();
        assert!(matches!(err, SignError::AlgorithmMismatch { .. }), "{err:?}");
    }
}

/// Issue 15, item 5: the loaders follow the `RustCrypto` pattern (`from_pem`, `from_der`,
/// `read_file`); each takes only its own encoding, and `read_file` tells them apart.
#[test]
fn from_pem_and_from_der_take_only_their_encoding() {
    let pem = read("ec-256", "leaf.key");
    let der = read("ec-256", "leaf.key.der");
    let err = PrivateKey::from_pem(&der, None).unwrap_err();
    assert!(matches!(err, KeyError::NotAPrivateKey { found: None }), "{err:?}");
    let err = PrivateKey::from_der(&pem, None).unwrap_err();
    assert!(matches!(err, KeyError::NotAPrivateKey { .. }), "{err:?}");
    let from_pem = PrivateKey::from_pem(&pem, None).unwrap();
    let from_der = PrivateKey::from_der(&der, None).unwrap();
    assert_eq!(from_pem.public_key(), from_der.public_key());
    for file in ["leaf.key", "leaf.key.der"] {
        let key = PrivateKey::read_file(&pki("ec-256", file), None).unwrap();
        assert_eq!(key.public_key(), from_pem.public_key(), "{file}");
    }
}

#[test]
fn public_key_spki_and_pem_are_what_openssl_writes() {
    for (dir, _) in SPECS {
        let leaf = Certificate::from_bundle_pem(&read(dir, "leaf.crt")).unwrap().remove(0);
        let key = leaf.public_key().unwrap();
        let pem = key.to_pem().unwrap();
        // leaf.pub is openssl's `pkey -pubout` (SPKI PEM, the form Go's MarshalPKIXPublicKey writes).
        assert_eq!(pem.as_bytes(), read(dir, "leaf.pub").as_slice(), "{dir}");
        assert_eq!(PublicKey::from_spki_der(&key.to_spki_der().unwrap()).unwrap(), key, "{dir}");
        assert_eq!(pem, leaf.public_key_pem().unwrap(), "{dir}");
    }
}
