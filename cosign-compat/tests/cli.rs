//! The `cosign-compat` binary without a registry: argument handling, and failures that must
//! happen before any registry access (a digest reference is never resolved over the network;
//! `127.0.0.1:1` refuses connections, so reaching it would show up as a connection error).

use std::process::{Command, Output};

use crate::support::{data, data_path};

fn digest_ref() -> String {
    let digest = String::from_utf8(data("cosign/image-digest")).unwrap();
    format!("127.0.0.1:1/app@{}", digest.trim())
}

fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cosign-compat"));
    for var in [
        "EXTERNAL_SIGNER",
        "EXTERNAL_PRIVATE_KEY",
        "EXTERNAL_CERT_CHAIN",
        "EXTERNAL_SIGNER_TIMEOUT",
        "EXTERNAL_SIGNATURE_ENCODING",
        "EXTERNAL_PRIVATE_KEY_PASSWORD",
        "EXTERNAL_PRIVATE_KEY_PASSWORD_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("DOCKER_CONFIG", data_path("does-not-exist"));
    cmd.args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path(p: &str) -> String {
    data_path(p).to_string_lossy().into_owned()
}

#[test]
fn signer_failure_stops_before_the_registry() {
    let out = run(&[
        "sign",
        "--signer",
        &path("commands/exit_1.sh"),
        "--certificate-chain",
        &path("pki/rsa-2048/certificate_chain.pem"),
        &digest_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("signer failed: key locked"), "{err}");
    assert!(!err.contains("Pushing"), "nothing may be pushed: {err}");
}

#[test]
fn signer_without_certificate_is_refused() {
    let out = run(&["sign", "--signer", &path("commands/exit_1.sh"), &digest_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--signer needs the signing certificate"), "{}", stderr(&out));
    let out = run(&["sign", &digest_ref()]);
    assert!(stderr(&out).contains("no signer configured"), "{}", stderr(&out));
}

#[test]
fn p384_key_without_digest_flag_is_refused_before_the_registry() {
    let out = run(&["sign", "--key", &path("pki/ec-384/leaf.key"), &digest_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("--signature-digest-algorithm sha384"), "{err}");
    assert!(!err.contains("Pushing"), "{err}");
}

#[test]
fn cosign_flags_are_accepted_and_signing_happens_before_the_push() {
    let out = run(&[
        "sign",
        "-y",
        "--tlog-upload=false",
        "--new-bundle-format=false",
        "--use-signing-config=false",
        "--key",
        &path("pki/ec-256/leaf.key"),
        "-a",
        "env=prod",
        &digest_ref(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // Signed, then the push to the unreachable registry failed.
    assert!(err.contains("Pushing signature to: 127.0.0.1:1/app:sha256-"), "{err}");
    let out =
        run(&["sign", "--tlog-upload=true", "--key", &path("pki/ec-256/leaf.key"), &digest_ref()]);
    assert!(stderr(&out).contains("--tlog-upload=true is not supported"), "{}", stderr(&out));
}

#[test]
fn encrypted_keys_take_the_password_from_the_environment() {
    let key = path("pki/ec-256/leaf.enc.pem");
    let out = run(&["sign", "--key", &key, &digest_ref()]);
    assert!(stderr(&out).contains("the private key is encrypted"), "{}", stderr(&out));
    // The remedy names the variables (cosign-compat's advice; sig-core names none).
    assert!(stderr(&out).contains("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE"), "{}", stderr(&out));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cosign-compat"));
    cmd.env("EXTERNAL_PRIVATE_KEY_PASSWORD", "test-password").env_remove("EXTERNAL_SIGNER");
    let out = cmd.args(["sign", "--key", &key, &digest_ref()]).output().unwrap();
    assert!(stderr(&out).contains("Pushing signature to"), "{}", stderr(&out));
}

#[test]
fn verify_needs_trust_and_an_identity_for_certificates() {
    let out = run(&["verify", &digest_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("give --key PUBLIC-KEY"), "{}", stderr(&out));
    let out = run(&[
        "verify",
        "--certificate-chain",
        &path("pki/ec-256/cosign_chain.pem"),
        &digest_ref(),
    ]);
    assert!(
        stderr(&out)
            .contains("--certificate-identity or --certificate-identity-regexp is required"),
        "{}",
        stderr(&out)
    );
    let out = run(&["verify", "--key", &path("pki/ec-256/leaf.key"), &digest_ref()]);
    assert!(stderr(&out).contains("cannot use the public key"), "{}", stderr(&out));
    let out = run(&["verify", "--key", "k", "--certificate-chain", "c", &digest_ref()]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn triangulate_prints_the_signature_tag() {
    let out = run(&["triangulate", &digest_ref()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let digest = String::from_utf8(data("cosign/image-digest")).unwrap();
    let want = format!("127.0.0.1:1/app:{}.sig\n", digest.trim().replace(':', "-"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn bad_references_and_annotations_are_reported() {
    let out = run(&["generate", "Not/A/Valid:Ref!"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("could not parse reference"), "{}", stderr(&out));
    let out = run(&["generate", "-a", "novalue", &digest_ref()]);
    assert!(stderr(&out).contains("unable to parse annotation \"novalue\""), "{}", stderr(&out));
}

/// Issue 14, item 4: a docker-config token with a line break made oci-client panic (exit 101)
/// when it built the `Authorization` header; it is now refused when the file is read, naming the
/// registry and the file.
#[test]
fn a_token_with_a_line_break_is_an_error_naming_the_registry_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, br#"{"auths":{"127.0.0.1:1":{"registrytoken":"abc\ndef"}}}"#).unwrap();
    for args in [
        vec!["verify", "--key", &path("pki/ec-256/leaf.pub")],
        vec!["sign", "--key", &path("pki/ec-256/leaf.key")],
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cosign-compat"));
        cmd.env("DOCKER_CONFIG", dir.path()).env_remove("EXTERNAL_SIGNER");
        let out = cmd.args(&args).arg(digest_ref()).output().unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(!text.contains("panicked"), "{text}");
        assert!(text.contains(&*config.to_string_lossy()), "{text}");
        assert!(
            text.contains(r#"auths."127.0.0.1:1".registrytoken contains a line break"#),
            "{text}"
        );
    }
}

/// Issue 14, item 6: the lock was a predictable file in the temp directory, waited for forever.
/// It is now in the user's runtime directory, and a held lock is given up on after
/// `--lock-timeout` with an error naming the holder.
#[test]
fn a_held_signing_lock_is_reported_and_given_up_on() {
    let runtime = tempfile::tempdir().unwrap();
    let dir = runtime.path().join("cosign-compat");
    std::fs::create_dir(&dir).unwrap();
    let digest = String::from_utf8(data("cosign/image-digest")).unwrap();
    let key = cosign_compat::Digest::of(format!("127.0.0.1:1/app@{}", digest.trim()).as_bytes());
    let lock_file = dir.join(format!("{}.lock", &key.hex()[..32]));
    let held = std::fs::File::create(&lock_file).unwrap();
    held.lock().unwrap();
    std::fs::write(&lock_file, "4242\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cosign-compat"));
    cmd.env("DOCKER_CONFIG", data_path("does-not-exist"))
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env_remove("EXTERNAL_SIGNER");
    let out = cmd
        .args(["sign", "--lock-timeout", "0", "--key", &path("pki/ec-256/leaf.key")])
        .arg(digest_ref())
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("waiting for the signing lock"), "{text}");
    assert!(
        text.contains(&*lock_file.to_string_lossy()) && text.contains("held by process 4242"),
        "{text}"
    );
    assert!(text.contains("--lock-timeout"), "{text}");
    drop(held);
}

const SUBCOMMANDS: [&str; 6] =
    ["generate", "sign", "attach", "verify", "triangulate", "completion"];

#[test]
fn completion_scripts_name_every_subcommand_and_bash_parses_them() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completion", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        // Flags of a subcommand are completed too.
        assert!(
            script.contains("certificate-chain"),
            "{shell} completion lacks --certificate-chain"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cosign-compat.bash");
    std::fs::write(&file, run(&["completion", "bash"]).stdout).unwrap();
    let parsed = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(parsed.status.success(), "bash -n: {}", stderr(&parsed));
    // Sourced, it registers the completion function for cosign-compat.
    let sourced = Command::new("bash")
        .arg("-c")
        .arg("source \"$1\" && complete -p cosign-compat")
        .arg("_")
        .arg(&file)
        .output()
        .unwrap();
    assert!(sourced.status.success(), "{}", stderr(&sourced));
    assert!(String::from_utf8_lossy(&sourced.stdout).contains("cosign-compat"));
}

#[test]
fn completion_for_an_unknown_shell_is_refused() {
    let out = run(&["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("tcsh") && err.contains("bash") && err.contains("fish"), "{err}");
}

#[test]
fn man_pages_cover_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    let out = run(&["man", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let top = std::fs::read_to_string(out_dir.join("cosign-compat.1")).unwrap();
    assert!(top.contains(".TH cosign-compat"), "{top}");
    for sub in SUBCOMMANDS {
        assert!(top.contains(sub), "cosign-compat.1 lacks {sub}");
        let page = std::fs::read_to_string(out_dir.join(format!("cosign-compat-{sub}.1")))
            .unwrap_or_else(|e| panic!("cosign-compat-{sub}.1: {e}"));
        assert!(page.contains(".TH cosign-compat-"), "{page}");
    }
    let sign = std::fs::read_to_string(out_dir.join("cosign-compat-sign.1")).unwrap();
    assert!(sign.contains("certificate\\-chain"), "{sign}");
}

#[test]
fn man_into_an_unwritable_place_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = run(&["man", "--out", file.join("man1").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot write the man pages into"), "{}", stderr(&out));
}

#[test]
fn version_shows_the_commit_or_says_it_is_unknown() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(concat!("cosign-compat ", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.contains(&format!("commit: {}", env!("EXTERNAL_SIGNER_COMMIT_INFO"))), "{text}");
}

/// Issue 15, item 3: a signer program that times out is reported with cosign-compat's own flag,
/// not the notation plugin's `signer_timeout`.
#[test]
fn a_signer_timeout_names_the_cli_flag() {
    let out = run(&[
        "sign",
        "--signer",
        &path("commands/hang.sh"),
        "--signer-timeout",
        "0.5",
        "--certificate-chain",
        &path("pki/ec-256/certificate_chain.pem"),
        &digest_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("timed out after 0.5 s"), "{err}");
    assert!(err.contains("--signer-timeout"), "{err}");
    assert!(!err.contains("signer_timeout"), "{err}");
}

/// Issue 16: `sign` writes cosign v3's default format (a bundle referrer: no `.sig` tag named)
/// unless `--new-bundle-format=false`; `verify` lists referrers first unless `=false`.
#[test]
fn the_bundle_format_is_the_default_and_false_keeps_the_sig_tag() {
    let key = path("pki/ec-256/leaf.key");
    for (flag, pushing) in [
        (None, "Pushing signature to: 127.0.0.1:1/app\n"),
        (Some("--new-bundle-format"), "Pushing signature to: 127.0.0.1:1/app\n"),
        (Some("--new-bundle-format=true"), "Pushing signature to: 127.0.0.1:1/app\n"),
        (Some("--new-bundle-format=false"), "Pushing signature to: 127.0.0.1:1/app:sha256-"),
    ] {
        let mut args = vec!["sign", "--lock-timeout", "0", "--key", &key];
        args.extend(flag);
        let reference = digest_ref();
        args.push(&reference);
        let out = run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{flag:?}: {err}");
        assert!(err.contains(pushing), "{flag:?}: {err}");
    }
    let pubkey = path("pki/ec-256/leaf.pub");
    let out = run(&["verify", "--key", &pubkey, &digest_ref()]);
    assert!(stderr(&out).contains("list referrers"), "{}", stderr(&out));
    let out = run(&["verify", "--new-bundle-format=false", "--key", &pubkey, &digest_ref()]);
    assert!(!stderr(&out).contains("referrers"), "{}", stderr(&out));
    assert!(stderr(&out).contains(".sig"), "{}", stderr(&out));
}

#[test]
fn max_manifests_needs_recursive() {
    let key = path("pki/ec-256/leaf.key");
    let out = run(&["sign", "--key", &key, "--max-manifests", "5", &digest_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--recursive"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Pushing"), "{}", stderr(&out));
    let out = run(&["sign", "-r", "--max-manifests", "0", "--key", &key, &digest_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("0 is not in 1.."), "{}", stderr(&out));
    // With it, the flag is taken (and the walk needs the registry: 127.0.0.1:1 refuses).
    let out = run(&["sign", "-r", "--max-manifests", "5", "--key", &key, &digest_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("Pushing"), "{}", stderr(&out));
}
