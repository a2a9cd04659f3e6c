//! Helpers: run the built plugin binary with a clean environment, fixture paths, requests, and
//! the checks every response and every error must pass.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// One Notation key spec and what the plugin must answer for it, written out independently of
/// the product (notation-plugin-and-envelopes.md §6).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// Fixture directory under `tests/data/pki/`.
    pub(crate) dir: &'static str,
    /// Wire name of the key spec.
    pub(crate) key_spec: &'static str,
    /// Wire name of the hash.
    pub(crate) hash: &'static str,
    /// openssl's name of the hash.
    pub(crate) digest: &'static str,
    /// `signingAlgorithm` in the response.
    pub(crate) algorithm: &'static str,
    /// Signature length in bytes (modulus length, or `r || s`).
    pub(crate) signature_len: usize,
}

impl Spec {
    pub(crate) fn is_rsa(self) -> bool {
        self.key_spec.starts_with("RSA")
    }

    /// A file of this spec's fixture directory.
    pub(crate) fn file(self, name: &str) -> PathBuf {
        pki(self.dir, name)
    }

    /// The traditional (PKCS#1 or SEC1) PEM key file.
    pub(crate) fn traditional_key(self) -> PathBuf {
        self.file(if self.is_rsa() { "leaf.pkcs1.pem" } else { "leaf.sec1.pem" })
    }
}

pub(crate) const SPECS: [Spec; 6] = [
    Spec {
        dir: "rsa-2048",
        key_spec: "RSA-2048",
        hash: "SHA-256",
        digest: "sha256",
        algorithm: "RSASSA-PSS-SHA-256",
        signature_len: 256,
    },
    Spec {
        dir: "rsa-3072",
        key_spec: "RSA-3072",
        hash: "SHA-384",
        digest: "sha384",
        algorithm: "RSASSA-PSS-SHA-384",
        signature_len: 384,
    },
    Spec {
        dir: "rsa-4096",
        key_spec: "RSA-4096",
        hash: "SHA-512",
        digest: "sha512",
        algorithm: "RSASSA-PSS-SHA-512",
        signature_len: 512,
    },
    Spec {
        dir: "ec-256",
        key_spec: "EC-256",
        hash: "SHA-256",
        digest: "sha256",
        algorithm: "ECDSA-SHA-256",
        signature_len: 64,
    },
    Spec {
        dir: "ec-384",
        key_spec: "EC-384",
        hash: "SHA-384",
        digest: "sha384",
        algorithm: "ECDSA-SHA-384",
        signature_len: 96,
    },
    Spec {
        dir: "ec-521",
        key_spec: "EC-521",
        hash: "SHA-512",
        digest: "sha512",
        algorithm: "ECDSA-SHA-512",
        signature_len: 132,
    },
];

/// The spec whose fixture directory is `dir`.
pub(crate) fn spec(dir: &str) -> Spec {
    SPECS.into_iter().find(|s| s.dir == dir).unwrap_or_else(|| panic!("no spec {dir}"))
}

/// The password of every `leaf.enc.pem`.
pub(crate) const KEY_PASSWORD: &str = "test-password";

/// `tests/data` of the workspace.
pub(crate) fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

/// `tests/data/pki/<dir>/<file>`.
pub(crate) fn pki(dir: &str, file: &str) -> PathBuf {
    data_dir().join("pki").join(dir).join(file)
}

/// Every `tests/data/pki/fail_*` directory name, sorted.
pub(crate) fn fail_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir().join("pki"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fail_"))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    names
}

/// `tests/data/commands/<name>.sh`.
pub(crate) fn toy_signer(name: &str) -> PathBuf {
    let path = data_dir().join("commands").join(format!("{name}.sh"));
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// `examples/<name>` of the workspace.
pub(crate) fn example(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// A path as a JSON string value.
pub(crate) fn path_value(path: &Path) -> Value {
    Value::String(path.to_str().unwrap().to_owned())
}

/// The DER bodies of every PEM block in `path`, in order (decoded here, not by the product).
pub(crate) fn pem_ders(path: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN ") {
            body = Some(String::new());
        } else if line.starts_with("-----END ") {
            out.push(STANDARD.decode(body.take().unwrap()).unwrap());
        } else if let Some(body) = &mut body {
            body.push_str(line);
        }
    }
    out
}

/// `pluginConfig` for in-process signing with the spec's PKCS#8 PEM key and PEM chain.
pub(crate) fn key_file_config(spec: Spec) -> Value {
    json!({
        "cert_chain": path_value(&spec.file("chain.pem")),
        "private_key": path_value(&spec.file("leaf.key")),
    })
}

/// A `generate-signature` request for `spec` (key spec and hash as notation derives them).
pub(crate) fn generate_request(spec: Spec, key_id: &str, payload: &[u8], config: Value) -> Value {
    let mut req = json!({
        "contractVersion": "1.0",
        "keyId": key_id,
        "keySpec": spec.key_spec,
        "hashAlgorithm": spec.hash,
        "payload": STANDARD.encode(payload),
    });
    if !config.is_null() {
        req["pluginConfig"] = config;
    }
    req
}

/// A `describe-key` request.
pub(crate) fn describe_request(key_id: &str, config: Value) -> Value {
    let mut req = json!({ "contractVersion": "1.0", "keyId": key_id });
    if !config.is_null() {
        req["pluginConfig"] = config;
    }
    req
}

/// One invocation of the plugin binary: arguments, stdin and the only environment it sees.
#[derive(Debug, Default)]
pub(crate) struct Plugin {
    args: Vec<OsString>,
    stdin: Vec<u8>,
    env: Vec<(OsString, OsString)>,
}

/// Starts an invocation of `notation-external-signer <command>`.
pub(crate) fn plugin(command: &str) -> Plugin {
    Plugin { args: vec![command.into()], ..Plugin::default() }
}

impl Plugin {
    /// Adds a command-line argument after the command.
    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Raw stdin bytes.
    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// A JSON request on stdin.
    pub(crate) fn request(self, request: &Value) -> Self {
        self.stdin(serde_json::to_vec(request).unwrap())
    }

    /// Adds an environment variable (the child sees only these and `PATH`).
    pub(crate) fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs the binary to completion.
    pub(crate) fn run(self) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_notation-external-signer"));
        cmd.args(&self.args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = self.stdin;
        // Written on a thread: the plugin may stop reading early (oversized input), and a large
        // request must not deadlock against a full stdout pipe.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        let elapsed = started.elapsed();
        writer.join().unwrap();
        Output { code: out.status.code(), stdout: out.stdout, stderr: out.stderr, elapsed }
    }
}

/// What the binary did.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) elapsed: Duration,
}

impl Output {
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// A successful response: exit 0, empty stderr, stdout exactly one JSON object.
    pub(crate) fn success(&self) -> Value {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr_text());
        assert!(self.stderr.is_empty(), "stderr on success: {}", self.stderr_text());
        let value: Value = serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not one JSON value ({e}): {}", String::from_utf8_lossy(&self.stdout))
        });
        assert!(value.is_object(), "{value}");
        value
    }

    /// A refusal: exit 1, empty stdout, stderr exactly one JSON object with `errorCode` and
    /// `errorMessage` and no key material. Returns `(errorCode, errorMessage)`.
    pub(crate) fn failure(&self) -> (String, String) {
        assert_eq!(
            self.code,
            Some(1),
            "stdout: {} stderr: {}",
            String::from_utf8_lossy(&self.stdout),
            self.stderr_text()
        );
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty on failure: {}",
            String::from_utf8_lossy(&self.stdout)
        );
        let value: Value = serde_json::from_slice(&self.stderr).unwrap_or_else(|e| {
            panic!("stderr is not one JSON value ({e}): {}", self.stderr_text())
        });
        let object = value.as_object().unwrap_or_else(|| panic!("not an object: {value}"));
        for key in object.keys() {
            assert!(
                ["errorCode", "errorMessage", "errorMetadata"].contains(&key.as_str()),
                "unexpected field {key} in {value}"
            );
        }
        let code = object["errorCode"].as_str().unwrap().to_owned();
        let message = object["errorMessage"].as_str().unwrap().to_owned();
        assert!(!message.is_empty(), "{value}");
        assert_no_key_material(&self.stderr_text());
        (code, message)
    }
}

/// Fails if `text` contains a private key PEM marker (`-----BEGIN PRIVATE KEY`, `PRIVATE
/// KEY-----`, ...), the test password, or any line of base64 of any fixture private key (PEM
/// bodies and the DER as one base64 string). Messages may name the PEM labels they accept, so the
/// bare words `PRIVATE KEY` are allowed.
pub(crate) fn assert_no_key_material(text: &str) {
    for marker in ["-----BEGIN PRIVATE", "-----BEGIN ENCRYPTED", "-----BEGIN RSA", "-----BEGIN EC"]
    {
        assert!(!text.contains(marker), "PEM key in output: {text}");
    }
    assert!(!text.contains("PRIVATE KEY-----"), "PEM key in output: {text}");
    assert!(!text.contains(KEY_PASSWORD), "password in output: {text}");
    for needle in key_material() {
        assert!(!text.contains(needle.as_str()), "key material in output: {text}");
    }
}

/// Distinctive base64 fragments of every fixture private key.
fn key_material() -> &'static [String] {
    static MATERIAL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    MATERIAL.get_or_init(|| {
        let pki = data_dir().join("pki");
        let mut out = Vec::new();
        for dir in std::fs::read_dir(pki).unwrap() {
            let dir = dir.unwrap().path();
            for name in ["leaf.key", "leaf.pkcs1.pem", "leaf.sec1.pem", "leaf.enc.pem"] {
                let Ok(text) = std::fs::read_to_string(dir.join(name)) else { continue };
                out.extend(
                    text.lines()
                        .filter(|l| !l.starts_with("-----") && l.len() >= 40)
                        .map(str::to_owned),
                );
            }
            if let Ok(der) = std::fs::read(dir.join("leaf.key.der")) {
                out.push(STANDARD.encode(der));
            }
        }
        assert!(out.len() > 20);
        out
    })
}

/// The DER certificates of a response's `certificateChain` (base64), in order.
pub(crate) fn response_chain(response: &Value) -> Vec<Vec<u8>> {
    response["certificateChain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap())
        .collect()
}

/// Checks a `generate-signature` response against the fixtures: key id echoed, algorithm name,
/// signature length, chain = leaf, intermediate, root as base64 DER equal to the fixture files,
/// and the signature verified by the openssl CLI. Returns the raw signature.
pub(crate) fn check_signature_response(
    spec: Spec,
    response: &Value,
    key_id: &str,
    payload: &[u8],
) -> Vec<u8> {
    let object = response.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["certificateChain", "keyId", "signature", "signingAlgorithm"]);
    assert_eq!(response["keyId"], key_id);
    assert_eq!(response["signingAlgorithm"], spec.algorithm, "{}", spec.key_spec);
    let signature = STANDARD.decode(response["signature"].as_str().unwrap()).unwrap();
    assert_eq!(signature.len(), spec.signature_len, "{}", spec.key_spec);
    let chain = response_chain(response);
    let expected: Vec<Vec<u8>> = ["leaf.crt", "intermediate.crt", "ca.crt"]
        .iter()
        .map(|f| pem_ders(&spec.file(f)).remove(0))
        .collect();
    assert!(chain == expected, "{}: certificateChain is not leaf, intermediate, root", spec.dir);
    crate::crosscheck::openssl_verify(spec, payload, &signature)
        .unwrap_or_else(|e| panic!("{}: openssl rejects the signature: {e}", spec.dir));
    signature
}

/// Runs `generate-signature` for `spec` with `config` (and `env`), expects success, and checks the
/// response with [`check_signature_response`].
pub(crate) fn sign_and_check(spec: Spec, config: Value, env: &[(&str, &str)]) -> Vec<u8> {
    let payload = format!("payload for {} signed through {config}", spec.dir).into_bytes();
    let key_id = format!("key-{}", spec.dir);
    let mut invocation =
        plugin("generate-signature").request(&generate_request(spec, &key_id, &payload, config));
    for (k, v) in env {
        invocation = invocation.env(k, v);
    }
    let response = invocation.run().success();
    check_signature_response(spec, &response, &key_id, &payload)
}

/// Whether `pid` has exited: absent, or a zombie (killed, waiting for a reaper that is not this
/// test). Polls for up to `limit`.
pub(crate) fn process_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let gone = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => {
                // "pid (comm) S ...": the state follows the last ')'.
                let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
                state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X'))
            }
        };
        if gone || Instant::now() > deadline {
            return gone;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
