//! Signing with a key in a PKCS#11 token (#8): a `SoftHSM2` token made once per test run by
//! `scripts/softhsm-pki.sh` (keys generated in the token, leaf certificates issued for them), and
//! the plugin binary run as notation runs it, with `SOFTHSM2_CONF` pointing at that token. When
//! `SoftHSM2` or `OpenSC` is missing, every test here fails with the command that installs them.
//!
//! Plugin runs that use the token take turns ([`run`]): `SoftHSM2`'s file store rewrites the token
//! file on a failed login, and another process reading it at that moment sees no token.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::{
    SPECS, Spec, describe_request, generate_request, path_value, pem_ders, plugin, response_chain,
    spec,
};

#[path = "../../tests/support/softhsm.rs"]
mod softhsm;
use softhsm::MODULE;

/// The token PKI, made on first use in `target/tmp` (one per test binary, remade every run).
fn pki() -> &'static Path {
    static PKI: OnceLock<PathBuf> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("notation-plugin-softhsm");
        softhsm::make_token_pki(&dir);
        dir
    })
}

/// Runs `invocation` with `SOFTHSM2_CONF` set, one token user at a time.
fn run(invocation: crate::support::Plugin) -> crate::support::Output {
    static TOKEN: Mutex<()> = Mutex::new(());
    let _turn = TOKEN.lock().unwrap_or_else(PoisonError::into_inner);
    invocation.env("SOFTHSM2_CONF", conf()).run()
}

/// `<pki>/<spec dir>/<file>`.
fn file(spec: Spec, name: &str) -> PathBuf {
    pki().join(spec.dir).join(name)
}

fn uri(spec: Spec) -> String {
    std::fs::read_to_string(file(spec, "uri")).unwrap().trim().to_owned()
}

fn pin_file() -> PathBuf {
    pki().join("user.pin")
}

fn conf() -> PathBuf {
    pki().join("softhsm2.conf")
}

/// `pluginConfig` for `spec`'s token key with its chain and the module.
fn token_config(spec: Spec) -> Value {
    json!({
        "pkcs11_uri": uri(spec),
        "pkcs11_module": MODULE,
        "cert_chain": path_value(&file(spec, "certificate_chain.pem")),
    })
}

/// Runs `generate-signature` with `config` and the extra `env` (`SOFTHSM2_CONF` is always set).
fn generate(spec: Spec, config: Value, env: &[(&str, &Path)]) -> crate::support::Output {
    let payload = format!("payload for {} in the token", spec.dir).into_bytes();
    let mut invocation = plugin("generate-signature").request(&generate_request(
        spec,
        "token-key",
        &payload,
        config,
    ));
    for (k, v) in env {
        invocation = invocation.env(k, v);
    }
    run(invocation)
}

/// Checks a response: algorithm, chain as in the chain file, and the signature verified by the
/// openssl CLI with the public key exported from the token.
fn check_response(spec: Spec, response: &Value) {
    assert_eq!(response["keyId"], "token-key");
    assert_eq!(response["signingAlgorithm"], spec.algorithm, "{}", spec.key_spec);
    let chain = response_chain(response);
    assert_eq!(chain, pem_ders(&file(spec, "certificate_chain.pem")), "{}", spec.dir);
    let signature = STANDARD.decode(response["signature"].as_str().unwrap()).unwrap();
    assert_eq!(signature.len(), spec.signature_len, "{}", spec.key_spec);
    let payload = format!("payload for {} in the token", spec.dir).into_bytes();
    openssl_verify(spec, &payload, &signature).unwrap_or_else(|e| panic!("{}: {e}", spec.dir));
}

fn openssl_verify(spec: Spec, payload: &[u8], signature: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let signature = if spec.is_rsa() {
        signature.to_vec()
    } else {
        crate::crosscheck::ecdsa_raw_to_der(signature)
    };
    std::fs::write(dir.path().join("sig"), signature).unwrap();
    std::fs::write(dir.path().join("payload"), payload).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.arg("dgst").arg(format!("-{}", spec.digest)).arg("-verify").arg(file(spec, "leaf.pub"));
    if spec.is_rsa() {
        cmd.args(["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"])
            .arg("-sigopt")
            .arg(format!("rsa_mgf1_md:{}", spec.digest));
    }
    let out = cmd.arg("-signature").arg(dir.path().join("sig")).arg(dir.path().join("payload"));
    let out = out.output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("openssl: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

#[test]
fn signs_with_every_key_spec_in_the_token() {
    for spec in SPECS {
        let pin = pin_file();
        let response = generate(spec, token_config(spec), &[("EXTERNAL_PKCS11_PIN_FILE", &pin)]);
        check_response(spec, &response.success());
    }
}

#[test]
fn describe_key_reads_the_spec_through_the_token() {
    for spec in [spec("rsa-4096"), spec("ec-521")] {
        let response = run(plugin("describe-key")
            .request(&describe_request("token-key", token_config(spec)))
            .env("EXTERNAL_PKCS11_PIN_FILE", pin_file()))
        .success();
        assert_eq!(response, json!({"keyId": "token-key", "keySpec": spec.key_spec}));
    }
}

#[test]
fn pin_from_the_environment_and_from_the_uri_pin_source() {
    let spec = spec("ec-256");
    let pin = std::fs::read_to_string(pin_file()).unwrap();
    let response = generate(spec, token_config(spec), &[("EXTERNAL_PKCS11_PIN", Path::new(&pin))]);
    check_response(spec, &response.success());
    // module-path and pin-source in the URI: no pkcs11_module, no PIN in the environment.
    let config = json!({
        "pkcs11_uri": format!("{}?module-path={MODULE}&pin-source={}", uri(spec), pin_file().display()),
        "cert_chain": path_value(&file(spec, "certificate_chain.pem")),
    });
    check_response(spec, &generate(spec, config, &[]).success());
}

#[test]
fn configuration_from_the_environment() {
    let spec = spec("rsa-2048");
    let (uri, chain, pin) = (uri(spec), file(spec, "certificate_chain.pem"), pin_file());
    let env = [
        ("EXTERNAL_PKCS11_URI", Path::new(&uri)),
        ("EXTERNAL_PKCS11_MODULE", Path::new(MODULE)),
        ("EXTERNAL_CERT_CHAIN", chain.as_path()),
        ("EXTERNAL_PKCS11_PIN_FILE", pin.as_path()),
    ];
    check_response(spec, &generate(spec, Value::Null, &env).success());
    // pluginConfig naming a key file wins over EXTERNAL_PKCS11_URI.
    let fixture = crate::support::key_file_config(spec);
    let out = generate(spec, fixture, &env);
    let signature = STANDARD.decode(out.success()["signature"].as_str().unwrap()).unwrap();
    let payload = format!("payload for {} in the token", spec.dir).into_bytes();
    crate::crosscheck::openssl_verify(spec, &payload, &signature).unwrap();
}

#[test]
fn doctor_checks_a_token_key() {
    let spec = spec("rsa-3072");
    let out = plugin("doctor")
        .arg("--plugin-config")
        .arg(format!("pkcs11_uri={}", uri(spec)))
        .arg("--plugin-config")
        .arg(format!("pkcs11_module={MODULE}"))
        .arg("--plugin-config")
        .arg(format!("cert_chain={}", file(spec, "certificate_chain.pem").display()))
        .env("EXTERNAL_PKCS11_PIN_FILE", pin_file());
    let out = run(out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{text}");
    for needle in [
        "ok       PKCS#11 key: pkcs11:token=external-signer-test;object=rsa-3072;id=%02;type=private (module /usr/lib/softhsm/libsofthsm2.so)",
        "ok       token PIN from the file ",
        "ok       token \"external-signer-test\" (SoftHSM project SoftHSM v2, serial ",
        "ok       private key \"rsa-3072\" (id %02) matches the leaf certificate",
        "ok       notation (RSASSA-PSS-SHA-384) signature verified",
        "ok       cosign (RSASSA-PKCS1-V1_5-SHA-256) signature verified",
        "all checks passed",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let out = plugin("doctor")
        .arg("--plugin-config")
        .arg(format!("pkcs11_uri={}", uri(spec)))
        .arg("--plugin-config")
        .arg(format!("pkcs11_module={MODULE}"))
        .arg("--plugin-config")
        .arg(format!("cert_chain={}", file(spec, "certificate_chain.pem").display()));
    let out = run(out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(1), "{text}");
    assert!(text.contains("warning  no token PIN configured"), "{text}");
    assert!(text.contains("error    token \"external-signer-test\""), "{text}");
    assert!(text.contains("needs a PIN to log in"), "{text}");
}

/// One refusal: `config` + `env` must fail with `code` and a message containing every needle.
fn refused(config: Value, env: &[(&str, &Path)], code: &str, needles: &[&str]) -> String {
    let spec = spec("ec-384");
    let (got, message) = generate(spec, config, env).failure();
    assert_eq!(got, code, "{message}");
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} missing from: {message}");
    }
    message
}

#[test]
fn refusals() {
    let ec = spec("ec-384");
    let rsa = spec("rsa-2048");
    let pin = pin_file();
    let with_pin = [("EXTERNAL_PKCS11_PIN_FILE", pin.as_path())];
    let config = |uri: &str, chain_of: Spec| {
        json!({
            "pkcs11_uri": uri,
            "pkcs11_module": MODULE,
            "cert_chain": path_value(&file(chain_of, "certificate_chain.pem")),
        })
    };
    let wrong = Path::new("wrong-pin-4711");
    let message = refused(
        token_config(ec),
        &[("EXTERNAL_PKCS11_PIN", wrong)],
        "ACCESS_DENIED",
        &["refused the login: wrong PIN (CKR_PIN_INCORRECT)"],
    );
    assert!(!message.contains("4711"), "{message}");
    refused(
        token_config(ec),
        &[],
        "ACCESS_DENIED",
        &["needs a PIN to log in", "EXTERNAL_PKCS11_PIN"],
    );
    refused(
        token_config(ec),
        &[("EXTERNAL_PKCS11_PIN_FILE", Path::new("/nonexistent/pin"))],
        "ACCESS_DENIED",
        &["cannot read the PKCS#11 PIN file /nonexistent/pin"],
    );
    let mut missing_module = token_config(ec);
    missing_module["pkcs11_module"] = json!("/nonexistent/libsofthsm2.so");
    refused(
        missing_module,
        &with_pin,
        "VALIDATION_ERROR",
        &[
            "cannot load PKCS#11 module /nonexistent/libsofthsm2.so: /nonexistent/libsofthsm2.so: cannot open shared object file: No such file or directory; install it (e.g. Debian softhsm2 puts it at /usr/lib/softhsm/libsofthsm2.so)",
        ],
    );
    refused(
        config("pkcs11:token=no-such-token;object=ec-384", ec),
        &with_pin,
        "VALIDATION_ERROR",
        &[
            "no PKCS#11 token matches token=no-such-token",
            "tokens found: token \"external-signer-test\"",
        ],
    );
    refused(
        config("pkcs11:token=external-signer-test;object=no-such-key", ec),
        &with_pin,
        "VALIDATION_ERROR",
        &["matches object=no-such-key (searched CKA_CLASS=CKO_PRIVATE_KEY)", "\"ec-384\" (id %05)"],
    );
    refused(
        config(&uri(rsa), ec),
        &with_pin,
        "VALIDATION_ERROR",
        &["the token key \"rsa-2048\" (id %01) is RSA-2048 but the leaf certificate", "EC-384"],
    );
    let message = refused(
        config("pkcs11:token=external-signer-test;object=ec-384?pin-value=24680", ec),
        &with_pin,
        "VALIDATION_ERROR",
        &["pkcs11_uri: the PKCS#11 URI contains pin-value"],
    );
    assert!(!message.contains("24680"), "{message}");
    refused(
        config("pkcs11:token=external-signer-test;label=ec-384", ec),
        &with_pin,
        "VALIDATION_ERROR",
        &["unknown path attribute \"label\""],
    );
}

#[test]
fn pkcs11_uri_excludes_key_files_and_signer_programs() {
    let ec = spec("ec-384");
    let key = spec("ec-384").file("leaf.key");
    let mut both = token_config(ec);
    both["private_key"] = path_value(&key);
    refused(both, &[], "VALIDATION_ERROR", &["pluginConfig sets both pkcs11_uri and private_key"]);
    let mut both = token_config(ec);
    both["signer"] = json!("/bin/false");
    refused(both, &[], "VALIDATION_ERROR", &["pluginConfig sets both pkcs11_uri and signer"]);
    let uri = uri(ec);
    let chain = file(ec, "certificate_chain.pem");
    refused(
        Value::Null,
        &[
            ("EXTERNAL_PKCS11_URI", Path::new(&uri)),
            ("EXTERNAL_PRIVATE_KEY", key.as_path()),
            ("EXTERNAL_CERT_CHAIN", chain.as_path()),
        ],
        "VALIDATION_ERROR",
        &["the environment sets both EXTERNAL_PKCS11_URI and EXTERNAL_PRIVATE_KEY"],
    );
    let config = json!({"pkcs11_module": MODULE, "cert_chain": path_value(&chain)});
    refused(config, &[], "VALIDATION_ERROR", &["pkcs11_module is set but no pkcs11_uri"]);
    let mut secret = token_config(ec);
    secret["pkcs11_pin"] = json!("1234");
    let message = refused(
        secret,
        &[],
        "VALIDATION_ERROR",
        &["pluginConfig key \"pkcs11_pin\" looks like a secret", "EXTERNAL_PKCS11_PIN"],
    );
    assert!(!message.contains("1234"), "{message}");
}
