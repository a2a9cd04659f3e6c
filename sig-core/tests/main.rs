//! Integration tests of sig-core's public API: one test binary, one module per topic.

// Helpers outside `#[test]` functions unwrap too; a failed fixture load is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, unreachable_pub)]

mod chain;
mod common;
mod conformance;
mod crosscheck;
mod envelope;
mod fixtures;
mod hostile;
mod keys;
mod notation;
mod path_rules;
#[cfg(feature = "pkcs11")]
mod pkcs11;
mod signer;
