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
    CertificateChain::read_pem_file(&x509(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
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

// ---------------------------------------------------------------------------------------------
// Issue 14, item 2: name constraints of the CAs on the path, unknown critical extensions.
// ---------------------------------------------------------------------------------------------

const PERMITTED: [&str; 3] = ["ok_email", "ok_all", "ok_other_types"];

const REFUSED: [(&str, &str); 9] = [
    ("fail_email_teamb", r#"email address "release@teamb.example""#),
    ("fail_dns_outside", r#"DNS name "build.teamb.example""#),
    ("fail_uri_outside", r#"URI "https://ci.teamb.example/build""#),
    ("fail_uri_bare_domain", r#"URI "https://teama.example/build""#),
    ("fail_ip_outside", r#"IP address "192.0.2.7""#),
    ("fail_email_excluded", r#"email address "release@blocked.teama.example""#),
    ("fail_dns_excluded", r#"DNS name "x.blocked.teama.example""#),
    ("fail_uri_excluded", r#"URI "https://blocked.teama.example/x""#),
    ("fail_ip_excluded", r#"IP address "10.9.1.1""#),
];

#[test]
fn names_inside_the_permitted_subtrees_pass() {
    for case in PERMITTED {
        let problems = chain(&format!("name_constraints/chain_{case}.pem")).problems(at());
        assert!(problems.is_empty(), "{case}: {problems:?}");
        openssl_verify(
            "name_constraints/root.crt",
            "name_constraints/teama_ca.crt",
            &format!("name_constraints/leaf_{case}.crt"),
        )
        .unwrap_or_else(|e| panic!("{case}: openssl: {e}"));
    }
}

#[test]
fn names_outside_the_permitted_or_inside_the_excluded_subtrees_are_refused() {
    // The issue's case: a sub-CA permitted only teama.example issued release@teamb.example.
    for (case, name) in REFUSED {
        let rules = broken(&format!("name_constraints/chain_{case}.pem"));
        let [(1, rule @ ChainRule::NameConstraint(_))] = rules.as_slice() else {
            panic!("{case}: expected the Team A CA's name constraint, got {rules:?}");
        };
        let message = rule.to_string();
        assert!(message.contains(name), "{case}: {message}");
        let why = if case.contains("excluded") { "excluded by" } else { "not permitted" };
        assert!(message.contains(why), "{case}: {message}");
        let openssl = openssl_verify(
            "name_constraints/root.crt",
            "name_constraints/teama_ca.crt",
            &format!("name_constraints/leaf_{case}.crt"),
        )
        .expect_err(case);
        assert!(openssl.contains("subtree violation"), "{case}: {openssl}");
    }
}

#[test]
fn unknown_critical_extensions_are_refused_on_any_certificate() {
    let cases = [
        ("chain_leaf_unknown_critical.pem", 0, "leaf_unknown_critical.crt", "intermediate.crt"),
        (
            "chain_intermediate_unknown_critical.pem",
            1,
            "leaf_plain.crt",
            "intermediate_unknown_critical.crt",
        ),
    ];
    for (file, index, leaf, inter) in cases {
        let rules = broken(&format!("critical_ext/{file}"));
        let [(i, rule @ ChainRule::UnhandledCriticalExtension(_))] = rules.as_slice() else {
            panic!("{file}: expected one unknown critical extension, got {rules:?}");
        };
        assert_eq!(*i, index, "{file}");
        assert!(rule.to_string().contains("1.3.6.1.4.1.55555.1"), "{file}: {rule}");
        let openssl = openssl_verify(
            "critical_ext/root.crt",
            &format!("critical_ext/{inter}"),
            &format!("critical_ext/{leaf}"),
        )
        .expect_err(file);
        assert!(openssl.contains("unhandled critical extension"), "{file}: {openssl}");
    }
    // The same extension, not critical, is ignored (by Go and openssl alike).
    let problems = chain("critical_ext/chain_leaf_unknown_noncritical.pem").problems(at());
    assert!(problems.is_empty(), "{problems:?}");
}
