//! Path rules that Go's `crypto/x509` applies and notation's chain check therefore shares with
//! cosign: RSASSA-PSS-signed certificates (accepted exactly with Go's parameters), name
//! constraints of the CAs on the path, unknown critical extensions. Fixtures:
//! `tests/data/x509/` (`scripts/testdata-x509.sh`); each refusal is cross-checked with
//! `openssl verify` where OpenSSL has the same rule.

use std::path::PathBuf;
use std::process::Command;

use sig_core::{CertificateChain, CertificateError, ChainRule};

use crate::fixtures::{at, data_dir};

fn x509(rel: &str) -> PathBuf {
    data_dir().join("x509").join(rel)
}

fn chain(rel: &str) -> CertificateChain {
    CertificateChain::open(&x509(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The rules broken by `rel`, as (certificate index, rule).
fn broken(rel: &str) -> Vec<(usize, ChainRule)> {
    chain(rel)
        .problems(at())
        .into_iter()
        .map(|p| match p {
            CertificateError::Rule { index, rule, .. } => (index, rule),
            other => panic!("{rel}: not a rule: {other}"),
        })
        .collect()
}

/// `openssl verify -CAfile ROOT -untrusted INTER LEAF` succeeds; on failure its output.
fn openssl_verify(root: &str, inter: &str, leaf: &str) -> Result<(), String> {
    let out = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(x509(root))
        .arg("-untrusted")
        .arg(x509(inter))
        .arg(x509(leaf))
        .output()
        .expect("the openssl CLI is needed for this cross-check (apt-get install openssl)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr))
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 14, item 15: RSASSA-PSS-signed CA and leaf certificates.
// ---------------------------------------------------------------------------------------------

#[test]
fn pss_signed_chain_with_gos_parameters_is_accepted() {
    // root PSS-SHA-512/salt 64, intermediate PSS-SHA-384/salt 48, leaf PSS-SHA-256/salt 32.
    let chain = chain("pss/ok/chain.pem");
    assert_eq!(chain.certificates().len(), 3, "ordered by verified signatures");
    assert!(chain.root().is_self_signed());
    assert!(chain.leaf().is_signed_by(&chain.certificates()[1]));
    let problems = chain.problems(at());
    assert!(problems.is_empty(), "{problems:?}");
    openssl_verify("pss/ok/ca.crt", "pss/ok/intermediate.crt", "pss/ok/leaf.crt").unwrap();
}

#[test]
fn pss_parameters_go_refuses_are_named() {
    let cases = [
        ("fail_salt_20", "salt of 20 bytes with SHA-256; Go requires 32"),
        ("fail_salt_64_sha256", "salt of 64 bytes with SHA-256; Go requires 32"),
        (
            "fail_mgf1_sha1",
            "MGF1 with SHA-1 (the default when absent) while the message hash is SHA-256",
        ),
        ("fail_mgf1_sha512", "MGF1 with SHA-512 while the message hash is SHA-256"),
        ("fail_hash_sha1", "hash SHA-1"),
    ];
    for (dir, needle) in cases {
        let rules = broken(&format!("pss/{dir}/chain.pem"));
        let [(0, rule @ ChainRule::PssParameters(_))] = rules.as_slice() else {
            panic!("{dir}: expected one PSS rule on the leaf, got {rules:?}");
        };
        let message = rule.to_string();
        assert!(message.contains(needle), "{dir}: {message}");
        assert!(message.contains("notation and cosign"), "{dir}: {message}");
    }
}
