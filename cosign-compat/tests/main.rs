//! Integration tests of cosign-compat through its public API and binary (one test target, topic
//! modules; goldens from the real cosign in `tests/data/cosign`, PKIs in `tests/data/pki`).

// clippy's allow-unwrap-in-tests covers only `#[test]` bodies; in the helpers here a panic is
// equally a test failure with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bundle;
mod cli;
mod golden;
mod open_registry;
mod path_rules;
mod recursive;
mod refusals;
mod round_trip;
mod support;
