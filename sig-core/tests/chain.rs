//! Certificate chains: ordering from any input order, PEM and DER input, notation's rules at a
//! fixed time for every `fail_*` fixture, and the input limits.

use std::time::{Duration, SystemTime};

use sig_core::x509::MAX_CHAIN_LEN;
use sig_core::{Certificate, CertificateChain, CertificateError, ChainRule};

use crate::common::utc;
use crate::fixtures::{SPECS, at, fail_fixtures, pem_der, pki, read};

/// DER of every certificate of `chain`, leaf first.
fn ders(chain: &CertificateChain) -> Vec<Vec<u8>> {
    chain.certificates().iter().map(|c| c.as_der().to_vec()).collect()
}

/// DER of leaf, intermediate and root of a valid fixture directory.
fn three(dir: &str) -> [Vec<u8>; 3] {
    ["leaf.crt", "intermediate.crt", "ca.crt"].map(|f| pem_der(dir, f))
}

fn pem_of(der: &[u8]) -> String {
    Certificate::from_der(der).unwrap().to_pem()
}

const PERMUTATIONS: [[usize; 3]; 6] =
    [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

#[test]
fn orders_every_permutation_of_a_three_certificate_chain() {
    for (dir, _) in SPECS {
        let certs = three(dir);
        for order in PERMUTATIONS {
            let pem: String = order.iter().map(|&i| pem_of(&certs[i])).collect();
            let der: Vec<u8> = order.iter().flat_map(|&i| certs[i].clone()).collect();
            let parsed: Vec<Certificate> =
                order.iter().map(|&i| Certificate::from_der(&certs[i]).unwrap()).collect();
            for (input, chain) in [
                ("PEM", CertificateChain::from_pem(pem.as_bytes())),
                ("DER", CertificateChain::from_pem(&der)),
                ("parsed", CertificateChain::from_unordered(parsed)),
            ] {
                let chain = chain.unwrap_or_else(|e| panic!("{dir} {order:?} {input}: {e}"));
                assert_eq!(ders(&chain), certs.to_vec(), "{dir} {order:?} {input}");
                chain.validate(at()).unwrap();
            }
        }
    }
}

#[test]
fn valid_fixture_chains_pass_in_every_file_form() {
    for (dir, spec) in SPECS {
        let expected = three(dir).to_vec();
        for file in ["chain.pem", "chain.der", "chain_shuffled.pem", "certificate_chain.pem"] {
            let chain = CertificateChain::read_pem_file(&pki(dir, file)).unwrap();
            assert_eq!(ders(&chain), expected, "{dir}/{file}");
            let problems = chain.problems(at());
            assert!(problems.is_empty(), "{dir}/{file}: {problems:?}");
            assert_eq!(chain.leaf().public_key().unwrap().key_spec(), spec);
            assert!(chain.leaf().subject().contains("Signer"), "{}", chain.leaf().subject());
            assert!(chain.root().is_self_signed());
            assert!(!chain.leaf().is_self_signed());
            assert_eq!(
                chain.leaf().san_identities(),
                ["signer@example.test", "https://signer.example.test"],
                "cosign's order: e-mail addresses before URIs"
            );
        }
        let chain = CertificateChain::read_pem_file(&pki(dir, "chain.pem")).unwrap();
        // PEM round trip, and the trust anchor is part of the chain.
        assert_eq!(CertificateChain::from_pem(chain.to_pem().as_bytes()).unwrap(), chain);
        let anchor = Certificate::from_der(&pem_der(dir, "ca.crt")).unwrap();
        assert!(chain.contains(&anchor));
        // cosign_chain.pem (intermediate, root) is a chain of its own, without the leaf.
        let cosign = CertificateChain::read_pem_file(&pki(dir, "cosign_chain.pem")).unwrap();
        assert_eq!(ders(&cosign), expected[1..].to_vec());
    }
}

#[test]
fn validity_is_checked_at_the_given_time_not_the_wall_clock() {
    let chain = CertificateChain::read_pem_file(&pki("ec-256", "chain.pem")).unwrap();
    let before = SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800); // 2000-01-01
    let after = SystemTime::UNIX_EPOCH + Duration::from_secs(7_258_118_400); // 2200-01-01
    let problems = chain.problems(before);
    assert_eq!(problems.len(), 3, "every certificate is not yet valid: {problems:?}");
    for (index, problem) in problems.iter().enumerate() {
        assert!(
            matches!(
                problem,
                CertificateError::Rule { index: i, rule: ChainRule::NotYetValid { at, .. }, .. }
                    if *i == index && *at == before
            ),
            "{problem:?}"
        );
    }
    let problems = chain.problems(after);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().all(|p| matches!(
        p,
        CertificateError::Rule { rule: ChainRule::Expired { at, .. }, .. }
            if *at == after
    )));
    let err = chain.validate(after).unwrap_err();
    assert!(err.to_string().starts_with("leaf certificate 0 ("), "{err}");
    assert!(err.to_string().contains("issue a new certificate"), "{err}");
    assert!(err.to_string().contains("(checked at 2200-01-01T00:00:00Z)"), "{err}");
}

/// What a `fail_*` fixture must produce.
enum Expect {
    /// Ordering the chain fails.
    Build(fn(&CertificateError) -> bool),
    /// The chain orders, and `validate` reports exactly these rules at this certificate index.
    Rules(usize, &'static str, fn(&[ChainRule]) -> bool),
    /// Notation accepts it.
    Valid,
}

fn expectation(name: &str) -> Expect {
    use ChainRule as R;
    match name {
        "fail_ca_leaf" => Expect::Rules(0, "leaf", |r| {
            r == [R::LeafKeyUsageForbidden("keyCertSign"), R::LeafIsCa]
        }),
        "fail_client_auth_eku" => {
            Expect::Rules(0, "leaf", |r| r == [R::LeafEkuForbidden("clientAuth")])
        }
        "fail_server_auth_eku" => {
            Expect::Rules(0, "leaf", |r| r == [R::LeafEkuForbidden("serverAuth")])
        }
        "fail_missing_key_usage" => Expect::Rules(0, "leaf", |r| r == [R::LeafKeyUsageMissing]),
        "fail_noncritical_key_usage" => {
            Expect::Rules(0, "leaf", |r| r == [R::LeafKeyUsageNotCritical])
        }
        "fail_key_encipherment" => {
            Expect::Rules(0, "leaf", |r| r == [R::LeafKeyUsageForbidden("keyEncipherment")])
        }
        "fail_expired" => Expect::Rules(0, "leaf", |r| {
            matches!(r, [R::Expired { not_after, at }]
                if *not_after == utc("2021-01-01T00:00:00Z") && *at == utc("2030-01-01T00:00:00Z"))
        }),
        "fail_not_yet_valid" => Expect::Rules(0, "leaf", |r| {
            matches!(r, [R::NotYetValid { not_before, .. }]
                    if *not_before == utc("2090-01-01T00:00:00Z"))
        }),
        "fail_rsa_1024" => Expect::Rules(
            0,
            "leaf",
            |r| matches!(r, [R::UnsupportedKey(why)] if why.contains("RSA 1024-bit key")),
        ),
        "fail_sha1_signature" => {
            Expect::Rules(0, "leaf", |r| r == [R::WeakSignatureAlgorithm("ecdsa-with-SHA1".into())])
        }
        "fail_intermediate_pathlen" => {
            Expect::Rules(2, "intermediate", |r| r == [R::PathLength { allowed: 0, below: 1 }])
        }
        "fail_no_root" => Expect::Build(|e| {
            matches!(e, CertificateError::MissingIssuer { subject, issuer }
                if subject.contains("Intermediate CA") && issuer.contains("Root CA"))
        }),
        "fail_two_leaves" => Expect::Build(
            |e| matches!(e, CertificateError::MultipleLeaves { subjects } if subjects.len() == 2),
        ),
        "fail_self_signed_intermediate" => Expect::Build(|e| {
            // The leaf's self-signed issuer ends the chain; the real root is then left over.
            matches!(e, CertificateError::Unrelated { subject, .. }
                if subject.contains("Negative Root CA"))
        }),
        "fail_unrelated_cert" => Expect::Build(|e| {
            matches!(e, CertificateError::Unrelated { subject, .. }
                    if subject.contains("Unrelated"))
        }),
        // Broken only for the key, or only for cosign identities.
        "fail_key_mismatch" | "fail_no_san" => Expect::Valid,
        other => panic!("new fixture {other}: add its expectation"),
    }
}

#[test]
fn every_fail_fixture_breaks_its_rule_at_a_fixed_time() {
    let names = fail_fixtures();
    assert!(names.len() >= 17, "{names:?}");
    for name in names {
        let built = CertificateChain::read_pem_file(&pki(&name, "chain.pem"));
        match expectation(&name) {
            Expect::Build(check) => {
                let err = built.unwrap_err();
                assert!(check(&err), "{name}: {err:?}");
            }
            Expect::Valid => {
                let chain = built.unwrap_or_else(|e| panic!("{name}: {e}"));
                let problems = chain.problems(at());
                assert!(problems.is_empty(), "{name}: {problems:?}");
            }
            Expect::Rules(index, role, check) => {
                let chain = built.unwrap_or_else(|e| panic!("{name}: {e}"));
                let problems = chain.problems(at());
                let mut rules = Vec::new();
                for problem in &problems {
                    match problem {
                        CertificateError::Rule { index: i, role: r, subject, rule } => {
                            assert_eq!(
                                (*i, r.to_string().as_str()),
                                (index, role),
                                "{name}: {problem}"
                            );
                            assert_eq!(subject, chain.certificates()[index].subject());
                            rules.push(rule.clone());
                        }
                        other => panic!("{name}: {other:?}"),
                    }
                }
                assert!(check(&rules), "{name}: {rules:?}");
                let first = chain.validate(at()).unwrap_err();
                assert_eq!(first.to_string(), problems[0].to_string(), "{name}");
            }
        }
    }
}

#[test]
fn leaf_without_san_has_no_identities() {
    let chain = CertificateChain::read_pem_file(&pki("fail_no_san", "chain.pem")).unwrap();
    assert_eq!(chain.leaf().san_identities(), Vec::<String>::new());
}

#[test]
fn wrongly_ordered_chain_given_as_ordered_fails_validation() {
    let [leaf, intermediate, root] = three("rsa-3072");
    let ordered = CertificateChain::from_ordered_der(&[&leaf, &intermediate, &root]).unwrap();
    ordered.validate(at()).unwrap();
    let reversed = CertificateChain::from_ordered_der(&[&root, &intermediate, &leaf]).unwrap();
    assert!(reversed.validate(at()).is_err());
    let err = CertificateChain::from_ordered_der::<Vec<u8>>(&[]).unwrap_err();
    assert!(matches!(err, CertificateError::Empty { path: None }), "{err:?}");
}

#[test]
fn seventeen_certificates_are_too_many() {
    let leaf = pem_der("ec-256", "leaf.crt");
    let pem: String = (0..=MAX_CHAIN_LEN).map(|_| pem_of(&leaf)).collect();
    let der: Vec<u8> = (0..=MAX_CHAIN_LEN).flat_map(|_| leaf.clone()).collect();
    assert_eq!(MAX_CHAIN_LEN, 16);
    for (input, bytes) in [("PEM", pem.as_bytes()), ("DER", der.as_slice())] {
        let err = CertificateChain::from_pem(bytes).unwrap_err();
        assert!(
            matches!(err, CertificateError::TooMany { count: 17, max: 16 }),
            "{input}: {err:?}"
        );
        assert!(matches!(
            Certificate::from_bundle_pem(bytes),
            Err(CertificateError::TooMany { .. })
        ));
    }
    let ders: Vec<&[u8]> = (0..=MAX_CHAIN_LEN).map(|_| leaf.as_slice()).collect();
    let err = CertificateChain::from_ordered_der(&ders).unwrap_err();
    assert!(matches!(err, CertificateError::TooMany { count: 17, max: 16 }), "{err:?}");
    // Sixteen is within the limit (the duplicates then collapse to one lone leaf).
    let pem: String = (0..MAX_CHAIN_LEN).map(|_| pem_of(&leaf)).collect();
    assert_eq!(Certificate::from_bundle_pem(pem.as_bytes()).unwrap().len(), 16);
    let err = CertificateChain::from_pem(pem.as_bytes()).unwrap_err();
    assert!(matches!(err, CertificateError::MissingIssuer { .. }), "{err:?}");
}

#[test]
fn a_repeated_certificate_is_harmless() {
    let mut pem = read("ec-384", "chain.pem");
    pem.extend(read("ec-384", "ca.crt"));
    pem.extend(read("ec-384", "leaf.crt"));
    let chain = CertificateChain::from_pem(&pem).unwrap();
    assert_eq!(ders(&chain), three("ec-384").to_vec());
}

#[test]
fn empty_garbage_and_wrong_inputs_are_named() {
    let err = CertificateChain::from_pem(b"").unwrap_err();
    assert!(matches!(err, CertificateError::Empty { path: None }), "{err:?}");
    let err = CertificateChain::from_pem(b"not a certificate").unwrap_err();
    assert!(matches!(err, CertificateError::Malformed { index: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("neither PEM nor DER"), "{err}");
    let err = CertificateChain::from_pem(&read("ec-256", "leaf.key")).unwrap_err();
    assert!(matches!(err, CertificateError::PrivateKey { index: 0 }), "{err:?}");
    assert!(err.to_string().contains("a private key is not a certificate"), "{err}");
    // A PEM with only a public key has no certificate.
    let err = CertificateChain::from_pem(&read("ec-256", "leaf.pub")).unwrap_err();
    assert!(matches!(err, CertificateError::Empty { .. }), "{err:?}");
    // A truncated DER certificate.
    let der = pem_der("ec-256", "leaf.crt");
    let err = CertificateChain::from_pem(&der[..der.len() - 10]).unwrap_err();
    assert!(matches!(err, CertificateError::Malformed { index: 0, .. }), "{err:?}");
    // The second certificate of a DER file is damaged: its index is named.
    let mut two = pem_der("ec-256", "leaf.crt");
    let mut broken = pem_der("ec-256", "intermediate.crt");
    broken.truncate(broken.len() - 1);
    two.extend(broken);
    let err = CertificateChain::from_pem(&two).unwrap_err();
    assert!(matches!(err, CertificateError::Malformed { index: 1, .. }), "{err:?}");

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    let err = CertificateChain::read_pem_file(&empty).unwrap_err();
    assert!(matches!(&err, CertificateError::Empty { path: Some(p) } if *p == empty), "{err:?}");
    let missing = dir.path().join("missing.pem");
    let err = CertificateChain::read_pem_file(&missing).unwrap_err();
    assert!(matches!(&err, CertificateError::Read { path, .. } if *path == missing), "{err:?}");
}
