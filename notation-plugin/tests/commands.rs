//! The commands notation runs, answered correctly: `get-plugin-metadata`, `describe-key`,
//! `generate-signature` for every key spec, key encoding, chain encoding and configuration source,
//! with signer programs, plus the human `version` command.

use serde_json::{Value, json};

use crate::support::{
    KEY_PASSWORD, SPECS, describe_request, example, generate_request, key_file_config, path_value,
    plugin, sign_and_check, spec, toy_signer,
};

#[test]
fn metadata_has_exactly_the_required_fields() {
    for stdin in [
        "{}",
        r#"{"pluginConfig":{"cert_chain":"/nonexistent"}}"#,
        r#"{"someFutureField":[1,2,3]}"#,
    ] {
        // The environment must not matter: metadata is static.
        let out = plugin("get-plugin-metadata")
            .stdin(stdin)
            .env("EXTERNAL_CERT_CHAIN", "/nonexistent/chain.pem")
            .run();
        let meta = out.success();
        // stdout is only the JSON: no log line, no trailing text.
        assert_eq!(out.stdout.first(), Some(&b'{'));
        assert_eq!(out.stdout.last(), Some(&b'}'));
        let mut keys: Vec<&str> = meta.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["capabilities", "description", "name", "supportedContractVersions", "url", "version"]
        );
        assert_eq!(meta["name"], "external-signer");
        assert_eq!(meta["version"], env!("EXTERNAL_SIGNER_VERSION"));
        assert!(meta["version"].as_str().unwrap().starts_with(env!("CARGO_PKG_VERSION")));
        assert_eq!(meta["supportedContractVersions"], json!(["1.0"]));
        assert_eq!(meta["capabilities"], json!(["SIGNATURE_GENERATOR.RAW"]));
        assert!(!meta["description"].as_str().unwrap().is_empty());
        assert!(meta["url"].as_str().unwrap().starts_with("https://"));
    }
}

#[test]
fn metadata_version_is_semver_without_v() {
    let meta = plugin("get-plugin-metadata").stdin("{}").run().success();
    let version = meta["version"].as_str().unwrap();
    let core = version.split(['-', '+']).next().unwrap();
    let parts: Vec<&str> = core.split('.').collect();
    assert_eq!(parts.len(), 3, "{version}");
    assert!(parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
}

#[test]
fn version_command_prints_name_description_and_version() {
    let meta = plugin("get-plugin-metadata").stdin("{}").run().success();
    let out = plugin("version").run();
    assert_eq!(out.code, Some(0));
    assert!(out.stderr.is_empty());
    let expected = format!(
        "external-signer - {}\nVersion: {}\nCommit: {}\n",
        meta["description"].as_str().unwrap(),
        env!("EXTERNAL_SIGNER_VERSION"),
        env!("EXTERNAL_SIGNER_COMMIT_INFO")
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn describe_key_reports_every_key_spec() {
    for spec in SPECS {
        let on_disk = std::fs::read_to_string(spec.file("key_spec")).unwrap();
        assert_eq!(on_disk.trim(), spec.key_spec);
        let key_id = format!("describe/{}", spec.dir);
        let response = plugin("describe-key")
            .request(&describe_request(&key_id, key_file_config(spec)))
            .run()
            .success();
        assert_eq!(response, json!({ "keyId": key_id, "keySpec": spec.key_spec }));
    }
}

#[test]
fn describe_key_with_a_signer_program_takes_the_spec_from_the_certificate() {
    for spec in SPECS {
        let config = json!({
            "cert_chain": path_value(&spec.file("chain_shuffled.pem")),
            "signer": path_value(&toy_signer("exit_1")),
        });
        let response =
            plugin("describe-key").request(&describe_request("k", config)).run().success();
        assert_eq!(response["keySpec"], spec.key_spec);
    }
}

#[test]
fn generate_signature_with_every_key_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{KEY_PASSWORD}\n")).unwrap();
    let password_file = password_file.to_str().unwrap();
    for spec in SPECS {
        let with_key = |file: std::path::PathBuf| {
            json!({
                "cert_chain": path_value(&spec.file("chain.pem")),
                "private_key": path_value(&file),
            })
        };
        sign_and_check(spec, with_key(spec.file("leaf.key")), &[]);
        sign_and_check(spec, with_key(spec.file("leaf.key.der")), &[]);
        sign_and_check(spec, with_key(spec.traditional_key()), &[]);
        sign_and_check(
            spec,
            with_key(spec.file("leaf.enc.pem")),
            &[("EXTERNAL_PRIVATE_KEY_PASSWORD", KEY_PASSWORD)],
        );
        sign_and_check(
            spec,
            with_key(spec.file("leaf.enc.pem")),
            &[("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE", password_file)],
        );
    }
}

#[test]
fn generate_signature_with_every_chain_encoding() {
    for spec in SPECS {
        for chain in ["chain.pem", "chain.der", "chain_shuffled.pem", "certificate_chain.pem"] {
            let config = json!({
                "cert_chain": path_value(&spec.file(chain)),
                "private_key": path_value(&spec.file("leaf.key")),
            });
            // check_signature_response asserts leaf, intermediate, root whatever the file order.
            sign_and_check(spec, config, &[]);
        }
    }
}

#[test]
fn configuration_from_the_environment() {
    for spec in SPECS {
        let chain = spec.file("chain.pem");
        let key = spec.file("leaf.key");
        // No pluginConfig at all (notation omits it when empty).
        sign_and_check(
            spec,
            Value::Null,
            &[
                ("EXTERNAL_CERT_CHAIN", chain.to_str().unwrap()),
                ("EXTERNAL_PRIVATE_KEY", key.to_str().unwrap()),
            ],
        );
    }
    let spec = spec("ec-384");
    let chain = spec.file("chain.der");
    let key = spec.file("leaf.key");
    let signer = example("sign-with-openssl.sh");
    sign_and_check(
        spec,
        json!({}),
        &[
            ("EXTERNAL_CERT_CHAIN", chain.to_str().unwrap()),
            ("EXTERNAL_PRIVATE_KEY", key.to_str().unwrap()),
            ("EXTERNAL_SIGNER", signer.to_str().unwrap()),
            ("EXTERNAL_SIGNATURE_ENCODING", "hex"),
            ("EXTERNAL_SIGNER_TIMEOUT", "30"),
        ],
    );
    let response = plugin("describe-key")
        .request(&describe_request("k", Value::Null))
        .env("EXTERNAL_CERT_CHAIN", chain)
        .env("EXTERNAL_SIGNER", signer)
        .run()
        .success();
    assert_eq!(response["keySpec"], "EC-384");
}

#[test]
fn plugin_config_wins_over_the_environment() {
    let ec = spec("ec-256");
    let rsa = spec("rsa-2048");
    let rsa_chain = rsa.file("chain.pem");
    let rsa_key = rsa.file("leaf.key");
    let env = [
        ("EXTERNAL_CERT_CHAIN", rsa_chain.to_str().unwrap()),
        ("EXTERNAL_PRIVATE_KEY", rsa_key.to_str().unwrap()),
        ("EXTERNAL_SIGNER", "/nonexistent/signer"),
        ("EXTERNAL_SIGNATURE_ENCODING", "hex"),
    ];
    // Every setting from pluginConfig: the environment's RSA chain, key and bogus signer lose.
    let config = json!({
        "cert_chain": path_value(&ec.file("chain.pem")),
        "private_key": path_value(&ec.file("leaf.key")),
        "signer": path_value(&example("sign-with-openssl.sh")),
        "signature_encoding": "base64",
    });
    sign_and_check(ec, config.clone(), &env);
    let mut describe = plugin("describe-key").request(&describe_request("k", config));
    for (k, v) in env {
        describe = describe.env(k, v);
    }
    assert_eq!(describe.run().success()["keySpec"], "EC-256");

    // Settings mix: the chain from pluginConfig, the key from the environment.
    let config = json!({ "cert_chain": path_value(&rsa.file("chain_shuffled.pem")) });
    sign_and_check(rsa, config, &[("EXTERNAL_PRIVATE_KEY", rsa_key.to_str().unwrap())]);
}

#[test]
fn signer_program_with_every_output_encoding() {
    let program = example("sign-with-openssl.sh");
    for spec in SPECS {
        for encoding in [None, Some("raw"), Some("base64"), Some("hex"), Some("BASE64")] {
            let mut config = json!({
                "cert_chain": path_value(&spec.file("chain.pem")),
                "private_key": path_value(&spec.file("leaf.key")),
                "signer": path_value(&program),
            });
            if let Some(encoding) = encoding {
                config["signature_encoding"] = json!(encoding);
            }
            sign_and_check(spec, config, &[]);
        }
    }
}

#[test]
fn fixed_algorithm_example_signers() {
    let rsa = spec("rsa-4096");
    let config = json!({
        "cert_chain": path_value(&rsa.file("chain.pem")),
        "private_key": path_value(&rsa.file("leaf.key")),
        "signer": path_value(&example("rsassa-pss-sha512.sh")),
        "signature_encoding": "hex",
    });
    sign_and_check(rsa, config, &[]);
    for spec in SPECS.into_iter().filter(|s| !s.is_rsa()) {
        let config = json!({
            "cert_chain": path_value(&spec.file("chain.pem")),
            "private_key": path_value(&spec.file("leaf.sec1.pem")),
            "signer": path_value(&example("ecdsa-openssl.sh")),
        });
        sign_and_check(spec, config, &[]);
    }
}

#[test]
fn signer_program_gets_the_plugins_environment() {
    // sign-with-openssl.sh reads KEY_PASSWORD_FILE, which only reaches it through the plugin.
    let spec = spec("rsa-3072");
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("pw");
    std::fs::write(&password_file, KEY_PASSWORD).unwrap();
    let config = json!({
        "cert_chain": path_value(&spec.file("chain.pem")),
        "private_key": path_value(&spec.file("leaf.enc.pem")),
        "signer": path_value(&example("sign-with-openssl.sh")),
    });
    sign_and_check(spec, config, &[("KEY_PASSWORD_FILE", password_file.to_str().unwrap())]);
}

#[test]
fn signer_program_contract_environment() {
    let dir = tempfile::tempdir().unwrap();
    for (spec, scheme, salt) in [
        (spec("rsa-4096"), "rsassa-pss", Some("64")),
        (spec("rsa-2048"), "rsassa-pss", Some("32")),
        (spec("ec-521"), "ecdsa", None),
    ] {
        let dump = dir.path().join(format!("{}.env", spec.dir));
        let key_id = "arn:aws:kms:eu-west-1:111122223333:key/é \"quoted\" id";
        let config = json!({
            "cert_chain": path_value(&spec.file("chain.pem")),
            "private_key": path_value(&spec.file("leaf.key")),
            "signer": path_value(&toy_signer("env_dump")),
            "signature_encoding": "base64",
            "signer_timeout": "7",
        });
        let payload = b"env dump";
        let req = generate_request(spec, key_id, payload, config);
        let response = plugin("generate-signature")
            .request(&req)
            .env("ENV_DUMP_FILE", &dump)
            .env("EXTERNAL_UNRELATED", "kept")
            .run()
            .success();
        crate::support::check_signature_response(spec, &response, key_id, payload);
        let text = std::fs::read_to_string(&dump).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut expected = vec![
            format!("EXTERNAL_CERT_CHAIN={}", spec.file("chain.pem").display()),
            format!("EXTERNAL_PRIVATE_KEY={}", spec.file("leaf.key").display()),
            "EXTERNAL_SIGNER_CALLER=notation".to_owned(),
            "EXTERNAL_SIGNER_CONTRACT=1".to_owned(),
            format!("EXTERNAL_SIGNER_DIGEST={}", spec.digest),
            format!("EXTERNAL_SIGNER_HASH={}", spec.hash),
            format!("EXTERNAL_SIGNER_KEY_ID={key_id}"),
            format!("EXTERNAL_SIGNER_KEY_SPEC={}", spec.key_spec),
            "EXTERNAL_SIGNER_OUTPUT_ENCODING=base64".to_owned(),
            format!("EXTERNAL_SIGNER_SCHEME={scheme}"),
            "EXTERNAL_SIGNER_TIMEOUT_SECONDS=7".to_owned(),
            "EXTERNAL_UNRELATED=kept".to_owned(),
        ];
        if let Some(salt) = salt {
            expected.push(format!("EXTERNAL_SIGNER_PSS_SALT_LENGTH={salt}"));
        }
        expected.sort();
        assert_eq!(lines, expected, "{}", spec.dir);
    }
}

#[test]
fn key_id_is_echoed_verbatim() {
    let spec = spec("ec-256");
    for key_id in ["k", "my key/with spaces", "ünïcødé 🔑", "quote\"back\\slash", "a\nb"] {
        let payload = b"key id";
        let req = generate_request(spec, key_id, payload, key_file_config(spec));
        let response = plugin("generate-signature").request(&req).run().success();
        crate::support::check_signature_response(spec, &response, key_id, payload);
        let response =
            plugin("describe-key").request(&describe_request(key_id, key_file_config(spec))).run();
        assert_eq!(response.success()["keyId"], key_id);
    }
}

#[test]
fn unknown_request_fields_are_ignored() {
    let spec = spec("rsa-3072");
    let payload = b"forward compatible";
    let mut req = generate_request(spec, "k", payload, key_file_config(spec));
    req["futureField"] = json!({ "nested": [1, 2, { "x": null }] });
    req["signatureEnvelopeType"] = json!("application/jose+json");
    req["expiryDurationInSeconds"] = json!(3600);
    let response = plugin("generate-signature").request(&req).run().success();
    crate::support::check_signature_response(spec, &response, "k", payload);

    let mut req = describe_request("k", key_file_config(spec));
    req["futureField"] = json!(true);
    let response = plugin("describe-key").request(&req).run().success();
    assert_eq!(response["keySpec"], "RSA-3072");
}

#[test]
fn contract_version_1_x_is_accepted() {
    let spec = spec("ec-256");
    for version in ["1.0", "1.1", "1"] {
        let mut req = describe_request("k", key_file_config(spec));
        req["contractVersion"] = json!(version);
        assert_eq!(plugin("describe-key").request(&req).run().success()["keySpec"], "EC-256");
    }
}

#[test]
fn unknown_plugin_config_key_is_refused() {
    let spec = spec("ec-256");
    let mut config = key_file_config(spec);
    config["privat_key"] = json!("/tmp/typo");
    for out in [
        plugin("describe-key").request(&describe_request("k", config.clone())).run(),
        plugin("generate-signature").request(&generate_request(spec, "k", b"x", config)).run(),
    ] {
        let (code, message) = out.failure();
        assert_eq!(code, "VALIDATION_ERROR");
        assert!(message.contains("unknown pluginConfig key \"privat_key\""), "{message}");
        assert!(message.contains("private_key"), "the message lists the known keys: {message}");
    }
}

#[test]
fn leaf_without_subject_alternative_name_is_accepted() {
    // fail_no_san breaks a cosign/sigstore-rs rule, not a notation one (tests/data/README.md).
    let dir = "fail_no_san";
    let config = json!({
        "cert_chain": path_value(&crate::support::pki(dir, "chain.pem")),
        "private_key": path_value(&crate::support::pki(dir, "leaf.key")),
    });
    let response = plugin("describe-key").request(&describe_request("k", config)).run().success();
    assert_eq!(response["keySpec"], "EC-256");
}
