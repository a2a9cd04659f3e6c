//! Path-building rules of Go's `crypto/x509` that cosign inherits, on the fixtures of
//! `tests/data/x509` (`scripts/testdata-x509.sh`): bounded search (issue 14 item 1), name
//! constraints and unknown critical extensions (item 2), RSASSA-PSS (item 15).

use std::time::{Duration, SystemTime};

use sig_core::__private::x509::signature_checks_on_this_thread;
use sig_core::Certificate;

use super::chain;

/// 2030-03-17, inside every fixture's validity.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn certs(rel: &str) -> Vec<Certificate> {
    let path = format!("{}/../tests/data/x509/{rel}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Certificate::from_bundle_pem(&bytes).unwrap()
}

fn cert(rel: &str) -> Certificate {
    certs(rel).remove(0)
}

/// `verify_chain` and the number of signature checks it made.
fn counted(
    leaf: &Certificate,
    intermediates: &[Certificate],
    roots: &[Certificate],
) -> (Result<Vec<Certificate>, String>, u64) {
    let before = signature_checks_on_this_thread();
    let result = chain::verify_chain(leaf, intermediates, roots, now());
    (result, signature_checks_on_this_thread() - before)
}

// ---------------------------------------------------------------------------------------------
// Item 1: bounded chain search.
// ---------------------------------------------------------------------------------------------

#[test]
fn same_subject_same_key_cas_cost_a_bounded_number_of_signature_checks() {
    // 15 CAs with one subject and one key: each verifies every other's signature, none reaches
    // the root. Unbounded depth-first search tried every ordering (15·14·…·9 paths).
    let leaf = cert("hostile_loop/leaf.crt");
    let cas = certs("hostile_loop/loop_cas.pem");
    let roots = certs("hostile_loop/root.crt");
    assert_eq!(cas.len(), 15);
    for n in [5, 6, 8, 15] {
        let (result, checks) = counted(&leaf, &cas[..n], &roots);
        let err = result.expect_err("the loop never reaches the root");
        assert!(
            checks <= chain::MAX_SIGNATURE_CHECKS as u64,
            "{n} looping CAs cost {checks} signature checks"
        );
        assert!(err.contains("no trusted root"), "{n}: {err}");
    }
}

#[test]
fn the_signature_check_budget_stops_the_search() {
    // With a budget smaller than the 15 candidate issuers, the search stops with Go's reason.
    let leaf = cert("hostile_loop/leaf.crt");
    let cas = certs("hostile_loop/loop_cas.pem");
    let roots = certs("hostile_loop/root.crt");
    let before = signature_checks_on_this_thread();
    let err = chain::verify_chain_with_budget(&leaf, &cas, &roots, now(), 10).unwrap_err();
    assert_eq!(signature_checks_on_this_thread() - before, 10);
    assert!(err.contains("signature check attempts limit reached (10)"), "{err}");
}

#[test]
fn a_valid_chain_among_decoys_is_still_found() {
    // The real intermediate after the looping CAs: the search skips the loop cheaply.
    let (result, checks) = counted(
        &cert("name_constraints/leaf_ok_email.crt"),
        &[certs("hostile_loop/loop_cas.pem"), certs("name_constraints/teama_ca.crt")].concat(),
        &certs("name_constraints/root.crt"),
    );
    assert_eq!(result.unwrap().len(), 3);
    assert!(checks <= 3, "{checks}");
}
