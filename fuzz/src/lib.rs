//! The fuzz targets' bodies, shared by the cargo-fuzz binaries (`fuzz_targets/`, nightly) and by
//! `tests/corpus.rs`, which replays every committed corpus input on stable in `make test`: each
//! body must return, never panic, whatever the bytes.

/// The plugin's stdin: any bytes, for every command (the first byte picks it). Exactly one of
/// stdout (exit 0) or an error JSON with an `errorCode` on stderr (exit 1).
///
/// # Panics
///
/// When the plugin breaks that contract.
pub fn plugin_request(data: &[u8]) {
    const COMMANDS: [&str; 5] =
        ["get-plugin-metadata", "describe-key", "generate-signature", "generate-envelope", "bogus"];
    let Some((&selector, request)) = data.split_first() else { return };
    let command = COMMANDS[usize::from(selector) % COMMANDS.len()];
    let args = vec!["notation-external-signer".to_owned(), command.to_owned()];
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    // No configuration in the environment: every path ends before touching files or programs,
    // except those the request's own pluginConfig names, which the fuzzer rarely hits.
    let env = |_: &str| None;
    let code = notation_plugin::run(&args, &mut &request[..], &mut stdout, &mut stderr, &env);
    if code == std::process::ExitCode::SUCCESS {
        assert!(stderr.is_empty(), "exit 0 with stderr");
    } else {
        assert!(stdout.is_empty(), "exit 1 with stdout");
        let error: sig_core::serde_json::Value =
            sig_core::serde_json::from_slice(&stderr).expect("stderr is one error JSON");
        assert!(error.get("errorCode").is_some(), "no errorCode in {error}");
    }
}

/// Certificate chain files: PEM bundles or DER, any order; validation of whatever parses.
pub fn certificate_chain(data: &[u8]) {
    if let Ok(chain) = sig_core::CertificateChain::from_pem(data) {
        let _ = chain.problems(std::time::SystemTime::UNIX_EPOCH);
        let _ = chain.leaf().public_key();
        let _ = chain.to_pem();
    }
}

/// Notary JWS envelopes from a registry: parse and verify any bytes.
pub fn jws_verify(data: &[u8]) {
    verify(sig_core::EnvelopeFormat::Jws, data);
}

/// Notary COSE envelopes from a registry: parse and verify any bytes.
pub fn cose_verify(data: &[u8]) {
    verify(sig_core::EnvelopeFormat::Cose, data);
}

fn verify(format: sig_core::EnvelopeFormat, data: &[u8]) {
    let _ = sig_core::envelope::dangerous::verify_without_trust_anchors(
        format,
        data,
        std::time::SystemTime::UNIX_EPOCH,
    );
}

/// Cosign simple-signing payloads from a registry, parsed as cosign does.
pub fn cosign_payload(data: &[u8]) {
    let _ = cosign_compat::ParsedPayload::parse(data);
}

/// Cosign signature manifests from a registry (`sha256-<hex>.sig`).
pub fn cosign_manifest(data: &[u8]) {
    let _ = cosign_compat::SignatureManifest::parse(data);
}

/// Private key files: PEM or DER, PKCS#8, encrypted PKCS#8, PKCS#1, SEC1.
pub fn private_key(data: &[u8]) {
    let _ = sig_core::PrivateKey::from_pem(data, Some(b"test-password"));
    let _ = sig_core::PrivateKey::from_der(data, Some(b"test-password"));
}

/// Every target, by name (the name of its `fuzz_targets/` binary and `corpus/` directory).
pub const TARGETS: [(&str, fn(&[u8])); 7] = [
    ("plugin_request", plugin_request),
    ("certificate_chain", certificate_chain),
    ("jws_verify", jws_verify),
    ("cose_verify", cose_verify),
    ("cosign_payload", cosign_payload),
    ("cosign_manifest", cosign_manifest),
    ("private_key", private_key),
];
