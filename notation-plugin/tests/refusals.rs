//! Everything the plugin must refuse, as a table: each row exits 1 with an empty stdout and
//! exactly one error JSON on stderr, with the expected `errorCode` and a message naming the
//! problem, and never any key material.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::support::{
    SPECS, Spec, data_dir, describe_request, example, fail_fixtures, generate_request,
    key_file_config, path_value, pki, plugin, process_gone, spec, toy_signer,
};

const GENERATE: &str = "generate-signature";
const DESCRIBE: &str = "describe-key";
const VALIDATION: &str = "VALIDATION_ERROR";
const ACCESS_DENIED: &str = "ACCESS_DENIED";
const ERROR: &str = "ERROR";

/// One refusal: what is sent, and what must come back.
struct Row {
    name: String,
    command: &'static str,
    stdin: Vec<u8>,
    env: Vec<(String, String)>,
    code: &'static str,
    message: String,
}

fn row(
    name: &str,
    command: &'static str,
    stdin: impl Into<Vec<u8>>,
    code: &'static str,
    message: &str,
) -> Row {
    Row {
        name: name.to_owned(),
        command,
        stdin: stdin.into(),
        env: Vec::new(),
        code,
        message: message.to_owned(),
    }
}

impl Row {
    fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.env.push((key.to_owned(), value.as_ref().to_str().unwrap().to_owned()));
        self
    }
}

/// `pluginConfig` with a chain file and a key file.
fn files(chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Value {
    json!({ "cert_chain": path_value(chain.as_ref()), "private_key": path_value(key.as_ref()) })
}

/// `files(...)` plus more settings.
fn with(mut config: Value, extra: &[(&str, &str)]) -> Value {
    for (k, v) in extra {
        config[*k] = json!(v);
    }
    config
}

/// `pluginConfig` with the spec's chain and key, and a signer program.
fn program(spec: Spec, program: &Path, extra: &[(&str, &str)]) -> Value {
    let mut config = key_file_config(spec);
    config["signer"] = path_value(program);
    with(config, extra)
}

/// A `generate-signature` request for `spec` with `config`.
fn generate(spec: Spec, config: Value) -> Vec<u8> {
    serde_json::to_vec(&generate_request(spec, "k", b"payload", config)).unwrap()
}

/// A `describe-key` request with `config`.
fn describe(config: Value) -> Vec<u8> {
    serde_json::to_vec(&describe_request("k", config)).unwrap()
}

/// A valid EC-256 `generate-signature` request, changed by `edit`.
fn edited(edit: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
    let ec = spec("ec-256");
    let mut req = generate_request(ec, "k", b"payload", key_file_config(ec));
    edit(req.as_object_mut().unwrap());
    serde_json::to_vec(&req).unwrap()
}

/// A valid EC-256 `generate-signature` request with `field` set to `value`.
fn set(field: &str, value: Value) -> Vec<u8> {
    edited(|r| {
        r.insert(field.to_owned(), value);
    })
}

/// A valid EC-256 `generate-signature` request without `field`.
fn without(field: &str) -> Vec<u8> {
    edited(|r| {
        r.remove(field);
    })
}

fn request_rows() -> Vec<Row> {
    let ec = spec("ec-256");
    let valid = generate(ec, key_file_config(ec));
    let not_json = "Input is not a valid JSON";
    let mut rows = vec![
        row("malformed JSON", GENERATE, "{contractVersion: 1.0}", VALIDATION, not_json),
        // Cut inside a string, at a place that does not depend on the checkout's path (the valid
        // request carries file paths, so cutting it in half did).
        row(
            "truncated JSON",
            GENERATE,
            r#"{"contractVersion": "1.0", "keyId": "e2e"#,
            VALIDATION,
            not_json,
        ),
        row("keyId is a number", GENERATE, set("keyId", json!(42)), VALIDATION, not_json),
        row("payload is an array", GENERATE, set("payload", json!([1])), VALIDATION, not_json),
        row("keySpec is null", GENERATE, set("keySpec", Value::Null), VALIDATION, "keySpec"),
        row("request is an array", DESCRIBE, "[]", VALIDATION, not_json),
        row("JSON then trailing text", DESCRIBE, "{} {}", VALIDATION, not_json),
        row(
            "pluginConfig value is a number",
            DESCRIBE,
            r#"{"contractVersion":"1.0","keyId":"k","pluginConfig":{"cert_chain":1}}"#,
            VALIDATION,
            not_json,
        ),
        row(
            "contractVersion 2.0",
            GENERATE,
            set("contractVersion", json!("2.0")),
            "UNSUPPORTED_CONTRACT_VERSION",
            "\"2.0\" is not a supported notary plugin contract version",
        ),
        row(
            "describe-key contractVersion 2.0",
            DESCRIBE,
            r#"{"contractVersion":"2.0","keyId":"k"}"#,
            "UNSUPPORTED_CONTRACT_VERSION",
            "not a supported notary plugin contract version",
        ),
        row(
            "payload not base64",
            GENERATE,
            set("payload", json!("not base64!")),
            VALIDATION,
            "payload is not standard base64",
        ),
        row(
            "payload URL-safe base64",
            GENERATE,
            set("payload", json!("-_-_")),
            VALIDATION,
            "payload is not standard base64",
        ),
        row(
            "keySpec not matching the certificate",
            GENERATE,
            edited(|r| {
                r.insert("keySpec".into(), json!("EC-384"));
                r.insert("hashAlgorithm".into(), json!("SHA-384"));
            }),
            VALIDATION,
            "does not match the certificate's key spec EC-256",
        ),
        row(
            "hashAlgorithm not matching keySpec",
            GENERATE,
            set("hashAlgorithm", json!("SHA-512")),
            VALIDATION,
            "hashAlgorithm SHA-512 does not match keySpec EC-256",
        ),
        row(
            "unknown hashAlgorithm",
            GENERATE,
            set("hashAlgorithm", json!("SHA-1")),
            VALIDATION,
            "unknown hash algorithm \"SHA-1\"",
        ),
        row(
            "unknown key spec RSA-8192",
            GENERATE,
            edited(|r| {
                r.insert("keySpec".into(), json!("RSA-8192"));
                r.insert("hashAlgorithm".into(), json!("SHA-512"));
            }),
            VALIDATION,
            "unknown key spec \"RSA-8192\"",
        ),
        row("unknown command", "sign-everything", "{}", VALIDATION, "unknown command"),
        row("generate-envelope", "generate-envelope", valid, VALIDATION, "SIGNATURE_GENERATOR.RAW"),
        row("verify-signature", "verify-signature", "{}", VALIDATION, "not supported"),
        row("empty stdin", GENERATE, "", VALIDATION, not_json),
        row("whitespace stdin", DESCRIBE, " \n\t ", VALIDATION, not_json),
        row("empty stdin for metadata", "get-plugin-metadata", "", VALIDATION, not_json),
        row("20 MB of random bytes", GENERATE, random_bytes(20_000_000), VALIDATION, "larger than"),
        row("100000 nested arrays", GENERATE, vec![b'['; 100_000], VALIDATION, not_json),
        row("100000 nested objects", DESCRIBE, "{\"a\":".repeat(100_000), VALIDATION, not_json),
        row(
            "invalid UTF-8",
            GENERATE,
            &b"{\"contractVersion\":\"1.0\",\"keyId\":\"\xff\xfe\"}"[..],
            VALIDATION,
            not_json,
        ),
    ];
    for field in ["contractVersion", "keyId", "keySpec", "hashAlgorithm", "payload"] {
        let message = format!("Input is not a valid JSON: {field} cannot be empty");
        rows.push(row(&format!("missing {field}"), GENERATE, without(field), VALIDATION, &message));
        rows.push(row(
            &format!("empty {field}"),
            GENERATE,
            set(field, json!("")),
            VALIDATION,
            &message,
        ));
    }
    for field in ["contractVersion", "keyId"] {
        let mut req = describe_request("k", key_file_config(ec));
        req.as_object_mut().unwrap().remove(field);
        let message = format!("{field} cannot be empty");
        let stdin = serde_json::to_vec(&req).unwrap();
        rows.push(row(
            &format!("describe-key without {field}"),
            DESCRIBE,
            stdin,
            VALIDATION,
            &message,
        ));
    }
    rows
}

fn config_rows(tmp: &Path) -> Vec<Row> {
    let ec = spec("ec-256");
    let rsa = spec("rsa-4096");
    let chain = ec.file("chain.pem");
    let key = ec.file("leaf.key");
    let encrypted = ec.file("leaf.enc.pem");
    let rsa_encrypted = files(rsa.file("chain.pem"), rsa.file("leaf.enc.pem"));
    let exit_1 = toy_signer("exit_1");
    vec![
        row(
            "missing chain config",
            GENERATE,
            generate(ec, json!({ "private_key": path_value(&key) })),
            VALIDATION,
            "no certificate chain configured",
        ),
        row(
            "missing signer config",
            DESCRIBE,
            describe(json!({ "cert_chain": path_value(&chain) })),
            VALIDATION,
            "no signer configured",
        ),
        row(
            "no configuration at all",
            DESCRIBE,
            describe(Value::Null),
            VALIDATION,
            "no certificate chain configured",
        ),
        row(
            "chain file missing",
            GENERATE,
            generate(ec, files("/nonexistent/chain.pem", &key)),
            VALIDATION,
            "cannot read certificate chain file /nonexistent/chain.pem",
        ),
        row(
            "chain file empty",
            GENERATE,
            generate(ec, files(tmp.join("empty.pem"), &key)),
            VALIDATION,
            "no certificate found",
        ),
        row(
            "chain file garbage",
            GENERATE,
            generate(ec, files(tmp.join("garbage.pem"), &key)),
            VALIDATION,
            "neither PEM nor DER",
        ),
        row(
            "chain file is a directory",
            DESCRIBE,
            describe(files(tmp, &key)),
            VALIDATION,
            "cannot read certificate chain file",
        ),
        row(
            "private key instead of a chain",
            GENERATE,
            generate(ec, files(&key, &key)),
            VALIDATION,
            "a private key is not a certificate",
        ),
        row(
            "certificate instead of a key",
            GENERATE,
            generate(ec, files(&chain, ec.file("leaf.crt"))),
            VALIDATION,
            "not a private key",
        ),
        row(
            "key file missing",
            GENERATE,
            generate(ec, files(&chain, "/nonexistent/key.pem")),
            VALIDATION,
            "cannot read key file /nonexistent/key.pem",
        ),
        row(
            "key of another certificate",
            GENERATE,
            generate(ec, files(&chain, spec("ec-384").file("leaf.key"))),
            VALIDATION,
            "does not match the leaf certificate",
        ),
        row(
            "encrypted key without password",
            GENERATE,
            generate(ec, files(&chain, &encrypted)),
            ACCESS_DENIED,
            "the private key is encrypted",
        ),
        row(
            "encrypted key with wrong password",
            GENERATE,
            generate(ec, files(&chain, &encrypted)),
            ACCESS_DENIED,
            "wrong password",
        )
        .env("EXTERNAL_PRIVATE_KEY_PASSWORD", "not-the-password"),
        row(
            "encrypted key with wrong password file",
            DESCRIBE,
            describe(rsa_encrypted.clone()),
            ACCESS_DENIED,
            "wrong password",
        )
        .env("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE", tmp.join("wrong-password")),
        row(
            "password file missing",
            DESCRIBE,
            describe(rsa_encrypted),
            VALIDATION,
            "cannot read the key password file /nonexistent/password",
        )
        .env("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE", "/nonexistent/password"),
        row(
            "secret in pluginConfig",
            GENERATE,
            generate(ec, with(files(&chain, &encrypted), &[("password", "x")])),
            VALIDATION,
            "looks like a secret",
        ),
        row(
            "PIN in pluginConfig",
            DESCRIBE,
            describe(with(files(&chain, &key), &[("key_PIN", "1234")])),
            VALIDATION,
            "looks like a secret",
        ),
        row(
            "unknown pluginConfig key",
            DESCRIBE,
            describe(with(files(&chain, &key), &[("chain", "x")])),
            VALIDATION,
            "unknown pluginConfig key \"chain\"",
        ),
        row(
            "chain file is a FIFO",
            DESCRIBE,
            describe(files(tmp.join("fifo"), &key)),
            VALIDATION,
            "is a FIFO (named pipe), not a regular file",
        ),
        row(
            "key file is a FIFO",
            GENERATE,
            generate(ec, files(&chain, tmp.join("fifo"))),
            VALIDATION,
            "is a FIFO (named pipe), not a regular file",
        ),
        row(
            "password file is a FIFO",
            DESCRIBE,
            describe(files(rsa.file("chain.pem"), rsa.file("leaf.enc.pem"))),
            VALIDATION,
            "is a FIFO (named pipe), not a regular file",
        )
        .env("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE", tmp.join("fifo")),
        row(
            "PIN file is a FIFO",
            DESCRIBE,
            describe(json!({
                "cert_chain": path_value(&chain),
                "pkcs11_uri": "pkcs11:token=t;object=k",
                "pkcs11_module": "/nonexistent/module.so",
            })),
            VALIDATION,
            "is a FIFO (named pipe), not a regular file",
        )
        .env("EXTERNAL_PKCS11_PIN_FILE", tmp.join("fifo")),
        row(
            "signer_env names a variable that is not a secret",
            GENERATE,
            generate(ec, program(ec, &exit_1, &[("signer_env", "HOME")])),
            VALIDATION,
            "signer_env names \"HOME\"",
        ),
        row(
            "bad signer_timeout",
            GENERATE,
            generate(ec, program(ec, &exit_1, &[("signer_timeout", "soon")])),
            VALIDATION,
            "invalid signer_timeout \"soon\"",
        ),
        row(
            "bad signature_encoding",
            GENERATE,
            generate(ec, program(ec, &exit_1, &[("signature_encoding", "pem")])),
            VALIDATION,
            "unknown signature encoding \"pem\"",
        ),
    ]
}

fn program_rows(tmp: &Path) -> Vec<Row> {
    let ec = spec("ec-256");
    let rsa = spec("rsa-4096");
    let rsa_2048 = spec("rsa-2048");
    let base64 = [("signature_encoding", "base64")];
    let hex = [("signature_encoding", "hex")];
    let toy = |spec: Spec, name: &str, extra: &[(&str, &str)]| {
        generate(spec, program(spec, &toy_signer(name), extra))
    };
    vec![
        row(
            "signer program missing",
            GENERATE,
            generate(ec, program(ec, Path::new("/nonexistent/signer.sh"), &[])),
            ERROR,
            "cannot run signer program /nonexistent/signer.sh: not found",
        ),
        row(
            "signer program is a relative path",
            GENERATE,
            generate(ec, program(ec, Path::new("./sign.sh"), &[])),
            VALIDATION,
            "is a relative path, which would run whatever the working directory holds",
        ),
        row(
            "signer program only in a relative PATH entry",
            GENERATE,
            generate(ec, program(ec, Path::new("exit_1.sh"), &[])),
            VALIDATION,
            "not found in PATH",
        )
        .env("PATH", "../tests/data/commands:.:/usr/bin:/bin"),
        row(
            "signer program not executable",
            GENERATE,
            generate(ec, program(ec, &tmp.join("not-executable.sh"), &[])),
            ERROR,
            "permission denied: make it executable",
        ),
        row(
            "signer exits 1",
            GENERATE,
            toy(ec, "exit_1", &[]),
            ERROR,
            "exited with status 1: signer failed: key locked",
        ),
        row("signer killed by a signal", GENERATE, toy(ec, "killed", &[]), ERROR, "signal 9"),
        row(
            "signer prints garbage (ECDSA)",
            GENERATE,
            toy(ec, "garbage", &[]),
            ERROR,
            "neither a EC-256 r || s signature",
        ),
        row(
            "signer prints garbage (RSA)",
            GENERATE,
            toy(rsa, "garbage", &[]),
            ERROR,
            "the signature is 16 bytes but a RSA-4096 signature is 512 bytes",
        ),
        row(
            "signer prints garbage, base64 expected",
            GENERATE,
            toy(rsa, "garbage", &base64),
            ERROR,
            "output is not valid base64",
        ),
        row(
            "signer prints garbage, hex expected",
            GENERATE,
            toy(ec, "garbage", &hex),
            ERROR,
            "output is not valid hex",
        ),
        row(
            "signer prints raw bytes, base64 expected",
            GENERATE,
            toy(rsa_2048, "pkcs1v15", &base64),
            ERROR,
            "output is not valid base64",
        ),
        row(
            "signer prints nothing",
            GENERATE,
            toy(ec, "empty", &[]),
            ERROR,
            "printed no signature on stdout",
        ),
        row(
            "signer prints 64 MiB",
            GENERATE,
            toy(ec, "huge", &[]),
            ERROR,
            "printed more than 65536 bytes on stdout",
        ),
        row(
            "signer floods stderr",
            GENERATE,
            toy(ec, "stderr_flood", &[]),
            ERROR,
            "exited with status 1: stderr flood: the signer is very chatty today",
        ),
        row(
            "signer uses the wrong key",
            GENERATE,
            toy(spec("ec-384"), "wrong_key", &[]),
            ERROR,
            "not made by the private key of the leaf certificate",
        ),
        row(
            "signer uses PKCS#1 v1.5",
            GENERATE,
            toy(rsa_2048, "pkcs1v15", &[]),
            ERROR,
            "the signer used RSA PKCS#1 v1.5 padding",
        ),
        row(
            "signer uses a 32-byte PSS salt with SHA-512",
            GENERATE,
            toy(rsa, "pss_salt_32", &[]),
            ERROR,
            "32-byte salt",
        ),
        row(
            "signer uses a 32-byte PSS salt with SHA-384",
            GENERATE,
            toy(spec("rsa-3072"), "pss_salt_32", &[]),
            ERROR,
            "requires the salt length to equal the hash length, 48 bytes",
        ),
        row(
            "fixed SHA-512 example asked for SHA-256",
            GENERATE,
            generate(rsa_2048, program(rsa_2048, &example("rsassa-pss-sha512.sh"), &[])),
            ERROR,
            "this script only does SHA-512",
        ),
    ]
}

/// What each `fail_*` fixture's refusal must mention (the broken rule).
fn fixture_rule(name: &str) -> Option<&'static str> {
    Some(match name {
        "fail_ca_leaf" => "keyCertSign",
        "fail_client_auth_eku" => "clientAuth",
        "fail_server_auth_eku" => "serverAuth",
        "fail_expired" => "expired",
        "fail_not_yet_valid" => "not valid until",
        "fail_intermediate_pathlen" => "pathLenConstraint 0",
        "fail_key_encipherment" => "keyEncipherment",
        "fail_key_mismatch" => "does not match",
        "fail_missing_key_usage" => "no key usage",
        "fail_noncritical_key_usage" => "non-critical",
        "fail_no_root" => "does not end at a self-signed root",
        "fail_rsa_1024" => "RSA 1024-bit",
        "fail_self_signed_intermediate" => "not part of",
        "fail_sha1_signature" => "SHA1",
        "fail_two_leaves" => "2 leaf",
        "fail_unrelated_cert" => "not part of",
        // A cosign/sigstore-rs rule; notation accepts it (commands.rs checks that).
        "fail_no_san" => return None,
        other => panic!("new fixture {other}: add its expected refusal to fixture_rule"),
    })
}

fn fixture_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for name in fail_fixtures() {
        let Some(rule) = fixture_rule(&name) else { continue };
        let config = files(pki(&name, "chain.pem"), pki(&name, "leaf.key"));
        let describe_name = format!("{name} describe-key");
        rows.push(row(&describe_name, DESCRIBE, describe(config.clone()), VALIDATION, rule));
        let key_spec = std::fs::read_to_string(pki(&name, "key_spec")).unwrap();
        // RSA-1024 is no key spec: generate-signature refuses the request before the chain.
        if let Some(spec) = SPECS.into_iter().find(|s| s.key_spec == key_spec.trim()) {
            let generate_name = format!("{name} generate-signature");
            rows.push(row(&generate_name, GENERATE, generate(spec, config), VALIDATION, rule));
        }
    }
    rows.extend(x509_rows());
    rows
}

/// Go crypto/x509 path rules (`tests/data/x509`, made by `scripts/testdata-x509.sh`): a chain
/// that cosign and `openssl verify` refuse is refused before anything is signed.
fn x509_rows() -> Vec<Row> {
    let x509 = |dir: &str, file: &str| data_dir().join("x509").join(dir).join(file);
    let cases = [
        (
            "leaf SAN outside the sub-CA's nameConstraints",
            files(
                x509("name_constraints", "chain_fail_email_teamb.pem"),
                x509("name_constraints", "leaf_fail_email_teamb.key"),
            ),
            "not permitted",
        ),
        (
            "leaf with an unknown critical extension",
            files(
                x509("critical_ext", "chain_leaf_unknown_critical.pem"),
                x509("critical_ext", "leaf_unknown_critical.key"),
            ),
            "1.3.6.1.4.1.55555.1",
        ),
        (
            "leaf signed by its CA with RSASSA-PSS and a 20-byte salt",
            files(x509("pss/fail_salt_20", "chain.pem"), x509("pss/fail_salt_20", "leaf.key")),
            "salt of 20 bytes",
        ),
    ];
    cases
        .into_iter()
        .map(|(name, config, rule)| row(name, DESCRIBE, describe(config), VALIDATION, rule))
        .collect()
}

/// Deterministic pseudo-random bytes (xorshift64), so a failure reproduces.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn setup_tmp(tmp: &Path) {
    std::fs::write(tmp.join("empty.pem"), b"").unwrap();
    std::fs::write(tmp.join("garbage.pem"), b"this is not a certificate chain\n").unwrap();
    std::fs::write(tmp.join("wrong-password"), b"not-the-password\n").unwrap();
    let program = tmp.join("not-executable.sh");
    std::fs::write(&program, b"#!/bin/sh\ncat >/dev/null\nexit 0\n").unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o644)).unwrap();
    let fifo = tmp.join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
}

/// Runs `row` and checks it; returns the message the plugin gave.
fn check_row(row: &Row) -> String {
    let mut invocation = plugin(row.command).stdin(row.stdin.clone());
    for (k, v) in &row.env {
        invocation = invocation.env(k, v);
    }
    let out = invocation.run();
    let (code, message) = out.failure();
    assert_eq!(code, row.code, "{}: {message}", row.name);
    assert!(
        message.contains(&row.message),
        "{}: message does not mention {:?}: {message}",
        row.name,
        row.message
    );
    // Bounded, even when the signer floods stderr or the input is huge.
    assert!(out.stderr.len() < 8 * 1024, "{}: {} bytes of stderr", row.name, out.stderr.len());
    assert!(out.elapsed < Duration::from_secs(10), "{}: took {:?}", row.name, out.elapsed);
    message
}

/// TESTING.md's table of every row and what the plugin answered, between these markers.
const TABLE_BEGIN: &str =
    "<!-- refusal table: generated by notation-plugin/tests/refusals.rs -->\n";
const TABLE_END: &str = "<!-- end of refusal table -->\n";

/// The markdown table of `outcomes` (group, row, message), the same on every machine and day:
/// the temporary directory and the repository's paths made relative, the time of the check and
/// serde's positions (which move with the length of the paths in the request) replaced.
fn refusal_table(outcomes: &[(&str, &Row, String)], tmp: &Path) -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let repo = repo.canonicalize().unwrap_or_else(|_| repo.to_owned());
    let checked_at = regex::Regex::new(r"checked at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let position = regex::Regex::new(r"line (\d+) column \d+").unwrap();
    let mut table = String::from(
        "| # | group | input | command | errorCode | errorMessage (as the plugin printed it) |\n|---|---|---|---|---|---|\n",
    );
    for (n, (group, row, message)) in outcomes.iter().enumerate() {
        let message = message
            .replace(tmp.to_str().unwrap(), "$TMP")
            .replace(&format!("{}/notation-plugin/../", repo.display()), "")
            .replace(&format!("{}/", repo.display()), "");
        let message = checked_at.replace_all(&message, "checked at <now>");
        let message = position.replace_all(&message, "line $1 column <n>");
        let message = message.replace('|', "\\|").replace('\n', " ");
        table.push_str(&format!(
            "| {} | {group} | {} | `{}` | `{}` | {message} |\n",
            n + 1,
            row.name.replace('|', "\\|"),
            row.command,
            row.code
        ));
    }
    table
}

#[test]
fn refusals() {
    let tmp = tempfile::tempdir().unwrap();
    setup_tmp(tmp.path());
    let groups = [
        ("request", request_rows()),
        ("configuration", config_rows(tmp.path())),
        ("signer program", program_rows(tmp.path())),
        ("certificate chain", fixture_rows()),
    ];
    let rows: Vec<(&str, Row)> =
        groups.into_iter().flat_map(|(g, rows)| rows.into_iter().map(move |r| (g, r))).collect();
    assert!(rows.len() > 90, "{} rows", rows.len());
    let mut names: Vec<&str> = rows.iter().map(|(_, r)| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), rows.len(), "row names are unique");
    // Every row runs; the failures are listed together at the end.
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for (group, row) in &rows {
        match std::panic::catch_unwind(|| check_row(row)) {
            Ok(message) => outcomes.push((*group, row, message)),
            Err(_) => failures.push(row.name.as_str()),
        }
    }
    assert!(failures.is_empty(), "failed rows (see the panics above): {failures:#?}");

    // TESTING.md shows this table; it must be what the plugin answers today.
    // UPDATE_TESTING_MD=1 rewrites it.
    let table = refusal_table(&outcomes, tmp.path());
    let testing = Path::new(env!("CARGO_MANIFEST_DIR")).join("../TESTING.md");
    let text = std::fs::read_to_string(&testing).unwrap();
    let start = text.find(TABLE_BEGIN).expect("TESTING.md has the refusal table marker")
        + TABLE_BEGIN.len();
    let end = text.find(TABLE_END).expect("TESTING.md has the end marker");
    if std::env::var_os("UPDATE_TESTING_MD").is_some() {
        std::fs::write(&testing, format!("{}{table}{}", &text[..start], &text[end..])).unwrap();
    } else {
        assert!(
            text[start..end] == table,
            "TESTING.md's refusal table is out of date: run `UPDATE_TESTING_MD=1 cargo test -p notation-plugin --test notation-plugin refusals` and commit it"
        );
    }
}

/// A signer that never answers is stopped at `signer_timeout` with `TIMEOUT`, and its whole
/// process group goes with it: the script and the `sleep` it left in the background.
#[test]
fn hanging_signer_times_out_and_leaves_no_process_behind() {
    let ec = spec("ec-256");
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pids");
    let config = program(ec, &toy_signer("hang"), &[("signer_timeout", "1")]);
    let out = plugin(GENERATE)
        .request(&generate_request(ec, "k", b"payload", config))
        .env("HANG_PID_FILE", &pid_file)
        .run();
    let (code, message) = out.failure();
    assert_eq!(code, "TIMEOUT", "{message}");
    assert!(message.contains("timed out after 1 s"), "{message}");
    assert!(message.contains("signer_timeout"), "the message names the setting: {message}");
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
    assert!(out.elapsed >= Duration::from_millis(900), "took {:?}", out.elapsed);
    let pids: Vec<u32> = std::fs::read_to_string(&pid_file)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "script pid and child pid");
    for pid in pids {
        assert!(process_gone(pid, Duration::from_secs(2)), "process {pid} survived the timeout");
    }
}

#[test]
fn key_material_never_reaches_stderr_even_when_the_key_is_not_a_key() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["rsa-2048", "ec-521"] {
        let spec = spec(dir);
        // Every kind of private key file given as the chain (and as the key).
        for key in ["leaf.key", "leaf.key.der", "leaf.enc.pem", "leaf.pub"] {
            let config = files(spec.file(key), spec.file(key));
            let (code, message) = plugin(GENERATE).stdin(generate(spec, config)).run().failure();
            assert_eq!(code, VALIDATION, "{dir}/{key}: {message}");
        }
        // A PEM key whose body is damaged, and a key file holding only half of the key.
        let text = std::fs::read_to_string(spec.file("leaf.key")).unwrap();
        let damaged = tmp.path().join(format!("{dir}-damaged.pem"));
        std::fs::write(&damaged, text.replacen('M', "!", 3)).unwrap();
        let der = std::fs::read(spec.file("leaf.key.der")).unwrap();
        let truncated = tmp.path().join(format!("{dir}-truncated.der"));
        std::fs::write(&truncated, &der[..der.len() / 2]).unwrap();
        for key in [damaged, truncated] {
            let config = files(spec.file("chain.pem"), &key);
            let (code, message) = plugin(GENERATE).stdin(generate(spec, config)).run().failure();
            assert_eq!(code, VALIDATION, "{}: {message}", key.display());
        }
    }
}
