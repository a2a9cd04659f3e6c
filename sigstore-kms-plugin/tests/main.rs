//! The built `sigstore-kms-external-signer` binary, run as cosign runs it (argv `v1 '<json>'`,
//! the message on stdin), with friendly and hostile inputs. Every answer must be exactly one
//! JSON object on stdout; every error an `errorMessage` with exit status 1, never a panic.

// A failed fixture load is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sig_core::{HashAlgorithm, PublicKey};

const BIN: &str = env!("CARGO_BIN_EXE_sigstore-kms-external-signer");

fn pki(dir: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/pki").join(dir).join(file)
}

fn examples(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(file)
}

/// The outcome of one run: the exit status, stdout parsed (it must be one JSON object), stderr.
struct Outcome {
    ok: bool,
    json: Value,
    stderr: String,
}

impl Outcome {
    fn error(&self) -> &str {
        assert!(!self.ok, "expected a failure, got {}", self.json);
        let message = self.json["errorMessage"].as_str().unwrap_or_else(|| {
            panic!("no errorMessage in {}", self.json);
        });
        assert_eq!(self.json.as_object().unwrap().len(), 1, "only errorMessage: {}", self.json);
        message
    }

    fn success(&self) -> &Value {
        assert!(self.ok, "expected success, got {} (stderr: {})", self.json, self.stderr);
        assert!(self.json.get("errorMessage").is_none(), "{}", self.json);
        &self.json
    }
}

fn run_raw(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Outcome {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    // The plugin may stop reading (an oversized message): a broken pipe is expected then.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    assert!(stdout.ends_with('\n') && stdout.matches('\n').count() == 1, "one line: {stdout:?}");
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {stdout:?}"));
    assert!(json.is_object(), "{stdout}");
    let ok = output.status.success();
    assert_eq!(ok, json.get("errorMessage").is_none(), "exit status matches the answer: {json}");
    Outcome { ok, json, stderr }
}

/// A request as sigstore v1.10.8 packs it (`encoding.PackSignOptions` and friends).
fn request(key: &str, method: &str) -> Value {
    let rpc = json!({"keyVersion": "", "remoteVerification": false});
    let mut request = json!({
        "initOptions": {"protocolVersion": "v1", "keyResourceID": key, "hashFunc": 5,
                        "rpcOptions": rpc},
        "methodName": method,
    });
    let args = match method {
        "publicKey" => json!({"publicKeyOptions": {"rpcOptions": rpc}}),
        "signMessage" => {
            json!({"signOptions": {"rpcOptions": rpc, "messageOptions": {"digest": null}}})
        }
        "verifySignature" => json!({"signature": null,
            "verifyOptions": {"rpcOptions": rpc, "messageOptions": {"digest": null}}}),
        _ => json!({}),
    };
    request[method] = args;
    request
}

fn run(request: &Value, stdin: &[u8], env: &[(&str, &str)]) -> Outcome {
    run_raw(&["v1", &request.to_string()], stdin, env)
}

fn key_file(dir: &str) -> String {
    pki(dir, "leaf.key").to_str().unwrap().to_owned()
}

fn public_key(dir: &str) -> PublicKey {
    let pem = std::fs::read(pki(dir, "leaf.pub")).unwrap();
    cosign_compat::verify::VerificationKey::from_bytes(&pem).unwrap().public_key().clone()
}

fn signature_of(outcome: &Outcome) -> Vec<u8> {
    STANDARD.decode(outcome.success()["signMessage"]["signature"].as_str().unwrap()).unwrap()
}

fn rfc3339(at: SystemTime) -> String {
    sig_core::__private::timestamp::rfc3339(at)
}

/// An executable script in a fresh directory (kept alive by the returned guard).
fn script(body: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signer.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

#[test]
fn public_key_is_the_key_files_spki_pem() {
    for dir in ["ec-256", "rsa-2048", "ec-384"] {
        let outcome = run(&request(&key_file(dir), "publicKey"), b"", &[]);
        let pem = outcome.success()["publicKey"]["publicKeyPEM"].as_str().unwrap();
        assert_eq!(STANDARD.decode(pem).unwrap(), std::fs::read(pki(dir, "leaf.pub")).unwrap());
    }
}

#[test]
fn signs_as_cosign_verifies_and_checks_the_digest() {
    let message = b"{\"critical\":{}} any message";
    for (dir, der) in [("ec-256", true), ("rsa-2048", false)] {
        let key = key_file(dir);
        let mut req = request(&key, "signMessage");
        let digest = STANDARD.encode(HashAlgorithm::Sha256.digest(message));
        req["signMessage"]["signOptions"]["messageOptions"]["digest"] = json!(digest);
        let signature = signature_of(&run(&req, message, &[]));
        let public = public_key(dir);
        if der {
            assert!(public.verify_ecdsa_der(HashAlgorithm::Sha256, message, &signature), "{dir}");
        } else {
            let algorithm = sig_core::SignatureAlgorithm::RsaPkcs1v15Sha256;
            assert!(public.verify(algorithm, message, &signature), "{dir}: PKCS#1 v1.5");
        }
        // verifySignature accepts it, and refuses it for another message.
        let mut verify = request(&key, "verifySignature");
        verify["verifySignature"]["signature"] = json!(STANDARD.encode(&signature));
        let answer = run(&verify, message, &[]);
        assert_eq!(answer.success(), &json!({"verifySignature": {}}));
        let refused = run(&verify, b"another message", &[]);
        assert!(refused.error().starts_with("invalid signature"), "{}", refused.error());
    }
}

#[test]
fn refuses_a_digest_that_is_not_the_messages() {
    let mut req = request(&key_file("ec-256"), "signMessage");
    let wrong = STANDARD.encode(HashAlgorithm::Sha256.digest(b"something else"));
    req["signMessage"]["signOptions"]["messageOptions"]["digest"] = json!(wrong);
    let outcome = run(&req, b"the message", &[]);
    assert!(
        outcome.error().contains("is not the SHA-256 digest of the message"),
        "{}",
        outcome.error()
    );
    // A bare digest (sigstore's CryptoSigner path: empty message) is refused by name.
    let digest = STANDARD.encode(HashAlgorithm::Sha256.digest(b"x"));
    req["signMessage"]["signOptions"]["messageOptions"]["digest"] = json!(digest);
    assert!(run(&req, b"", &[]).error().contains("signing a bare digest"));
}

#[test]
fn protocol_errors_are_answered_in_error_message() {
    let key = key_file("ec-256");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["v1".into(), "{not json".into()], "the JSON request is malformed"),
        (vec!["v1".into(), "[]".into()], "the JSON request is malformed"),
        (
            vec!["v2".into(), request(&key, "publicKey").to_string()],
            "unsupported protocol version \"v2\"",
        ),
        (vec!["v1".into()], "expected 2 arguments"),
        (vec![], "expected 2 arguments"),
        (vec!["v1".into(), "{}".into()], "no initOptions"),
        (vec!["v1".into(), "x".repeat(100 * 1024)], "more than the 65536 accepted"),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let outcome = run_raw(&args, b"", &[]);
        assert!(outcome.error().contains(expected), "{expected}: {}", outcome.error());
    }
    let mut wrong_version = request(&key, "publicKey");
    wrong_version["initOptions"]["protocolVersion"] = json!("v0");
    assert!(run(&wrong_version, b"", &[]).error().contains("protocolVersion \"v0\""));
    let unknown = run(&request(&key, "cryptoSigner"), b"", &[]);
    assert!(unknown.error().contains("unknown method \"cryptoSigner\""), "{}", unknown.error());
    let mut bad_hash = request(&key, "signMessage");
    bad_hash["initOptions"]["hashFunc"] = json!(3);
    assert!(run(&bad_hash, b"m", &[]).error().contains("hashFunc 3 is not supported"));
    let mut version = request(&key, "signMessage");
    version["signMessage"]["signOptions"]["rpcOptions"]["keyVersion"] = json!("7");
    assert!(run(&version, b"m", &[]).error().contains("no versions"));
}

#[test]
fn create_key_is_refused_and_algorithms_are_listed() {
    let key = key_file("ec-256");
    let outcome = run(&request(&key, "createKey"), b"", &[]);
    assert!(outcome.error().contains("does not create keys"), "{}", outcome.error());
    let default = run(&request(&key, "defaultAlgorithm"), b"", &[]);
    assert_eq!(
        default.success()["defaultAlgorithm"]["defaultAlgorithm"],
        "ecdsa-sha2-256-nistp256"
    );
    let supported = run(&request(&key, "supportedAlgorithms"), b"", &[]);
    let list =
        supported.success()["supportedAlgorithms"]["supportedAlgorithms"].as_array().unwrap();
    assert!(list.contains(&json!("rsa-sign-pkcs1-2048-sha256")), "{list:?}");
}

#[test]
fn missing_or_malformed_keys_are_named() {
    let missing = run(&request("/nonexistent/key.pem", "publicKey"), b"", &[]);
    assert!(missing.error().contains("/nonexistent/key.pem"), "{}", missing.error());
    let relative = run(&request("keys/key.pem", "signMessage"), b"m", &[]);
    assert!(relative.error().contains("needs an absolute path"), "{}", relative.error());
    let empty = run(&request("", "publicKey"), b"", &[]);
    assert!(empty.error().contains("the key reference is empty"), "{}", empty.error());
    // An encrypted key without its password: the variables to set.
    let encrypted = pki("ec-256", "leaf.enc.pem");
    let outcome = run(&request(encrypted.to_str().unwrap(), "signMessage"), b"m", &[]);
    assert!(outcome.error().contains("EXTERNAL_PRIVATE_KEY_PASSWORD"), "{}", outcome.error());
    // A program without a public key: never a null publicKey.
    let outcome = run(&request("program:/bin/true", "publicKey"), b"", &[]);
    assert!(outcome.error().contains("EXTERNAL_PUBLIC_KEY"), "{}", outcome.error());
    let outcome = run(&request("pkcs11:object=k;pin-value=1234", "publicKey"), b"", &[]);
    assert!(outcome.error().contains("pin-value"), "{}", outcome.error());
    assert!(!outcome.error().contains("1234"), "the PIN echoed: {}", outcome.error());
}

#[test]
fn oversized_message_is_refused() {
    let message = vec![b'a'; usize::try_from(sigstore_kms_plugin::MAX_MESSAGE_LEN).unwrap() + 1];
    let outcome = run(&request(&key_file("ec-256"), "signMessage"), &message, &[]);
    assert!(outcome.error().contains("larger than the"), "{}", outcome.error());
}

#[test]
fn expired_deadline_is_refused_before_signing() {
    let (_dir, counter_script) = script("echo called >> \"$0.calls\"; exit 1");
    let past = rfc3339(SystemTime::now() - Duration::from_secs(60));
    for key in [key_file("ec-256"), format!("program:{counter_script}")] {
        let mut req = request(&key, "signMessage");
        req["initOptions"]["ctxDeadline"] = json!(past);
        let public = pki("ec-256", "leaf.pub");
        let outcome = run(&req, b"m", &[("EXTERNAL_PUBLIC_KEY", public.to_str().unwrap())]);
        assert!(outcome.error().contains("deadline"), "{}", outcome.error());
    }
    assert!(!Path::new(&format!("{counter_script}.calls")).exists(), "the program never ran");
    let mut req = request(&key_file("ec-256"), "signMessage");
    req["initOptions"]["ctxDeadline"] = json!("yesterday");
    assert!(run(&req, b"m", &[]).error().contains("not an RFC 3339 time"));
}

#[test]
fn a_hanging_program_is_stopped_at_the_deadline() {
    let (_dir, hang) = script("sleep 600");
    let mut req = request(&format!("program:{hang}"), "signMessage");
    req["initOptions"]["ctxDeadline"] = json!(rfc3339(SystemTime::now() + Duration::from_secs(2)));
    let public = pki("ec-256", "leaf.pub");
    // EXTERNAL_SIGNER_TIMEOUT is far longer: the deadline wins.
    let env =
        [("EXTERNAL_PUBLIC_KEY", public.to_str().unwrap()), ("EXTERNAL_SIGNER_TIMEOUT", "600")];
    let outcome = run(&req, b"m", &env);
    let error = outcome.error();
    assert!(error.contains("deadline"), "the advice names the deadline: {error}");
    // The program's limit, as the error reports it, is the time left (< 2 s), not the 600 s.
    let limit: f64 = error
        .split("timed out after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("no 'timed out after N s' in {error}"));
    assert!(limit <= 2.0, "the program's limit was {limit} s: {error}");
}

#[test]
fn a_program_that_signs_wrong_is_refused() {
    // A signature by another P-256 key (made here) for the ec-256 public key.
    let (_dir, wrong) = script(
        "openssl ecparam -genkey -name prime256v1 -noout -out \"$0.key\" && openssl dgst -sha256 -sign \"$0.key\" -binary",
    );
    let public = pki("ec-256", "leaf.pub");
    let env = [("EXTERNAL_PUBLIC_KEY", public.to_str().unwrap())];
    let outcome = run(&request(&format!("program:{wrong}"), "signMessage"), b"m", &env);
    assert!(outcome.error().contains("does not verify"), "{}", outcome.error());
}

#[test]
fn a_program_signs_for_the_configured_public_key() {
    let signer = examples("sign-with-openssl.sh");
    let key = pki("ec-256", "leaf.key");
    let public = pki("ec-256", "leaf.pub");
    let env = [
        ("EXTERNAL_PUBLIC_KEY", public.to_str().unwrap()),
        ("EXTERNAL_PRIVATE_KEY", key.to_str().unwrap()),
    ];
    let reference = format!("program:{}", signer.display());
    let answer = run(&request(&reference, "publicKey"), b"", &env);
    let pem = answer.success()["publicKey"]["publicKeyPEM"].as_str().unwrap();
    assert_eq!(STANDARD.decode(pem).unwrap(), std::fs::read(&public).unwrap());
    let signature = signature_of(&run(&request(&reference, "signMessage"), b"payload", &env));
    assert!(public_key("ec-256").verify_ecdsa_der(HashAlgorithm::Sha256, b"payload", &signature));
    // The public key may come from a certificate chain instead.
    let chain = pki("ec-256", "chain.pem");
    let env = [
        ("EXTERNAL_CERT_CHAIN", chain.to_str().unwrap()),
        ("EXTERNAL_PRIVATE_KEY", key.to_str().unwrap()),
    ];
    assert!(run(&request(&reference, "signMessage"), b"payload", &env).ok);
}

#[test]
fn version_is_for_people_and_names_the_build_and_the_protocol() {
    for flag in ["--version", "version"] {
        let out = Command::new(BIN).arg(flag).env_clear().output().unwrap();
        assert!(out.status.success(), "{flag}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with(&format!(
                "sigstore-kms-external-signer {}",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        assert!(text.contains("\ncommit: ") && text.contains("\nprotocol: v1\n"), "{text}");
    }
}
