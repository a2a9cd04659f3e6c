//! Integration tests for the `notation-external-signer` binary: the built binary is run as
//! notation runs it (one command argument, JSON on stdin, a clean environment) and its answers
//! are checked against the fixtures in `tests/data` and the openssl CLI.
//!
//! - `commands`: metadata, describe-key, generate-signature for every key spec, key encoding,
//!   chain encoding and configuration source, signer programs, `version`.
//! - `refusals`: one table of everything that must be refused, with its error code and message.
//! - `crosscheck`: every signature verified by `openssl dgst -verify`; concurrency.
//! - `signer_process`: the signer program dies with the plugin, gets the terminal, does not see
//!   the plugin's secrets; the log file is private.
//! - `pkcs11`: signing with keys generated in a `SoftHSM2` token (`pkcs11_uri`), and its refusals.

// clippy's allow-unwrap-in-tests covers only `#[test]` bodies; in the helpers here a panic is
// equally a test failure with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod commands;
mod crosscheck;
mod pkcs11;
mod refusals;
mod signer_process;
mod support;
