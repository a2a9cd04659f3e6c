//! Signers: `CertifiedKey` pairing and signing, `CommandSigner` against the toy programs in
//! `tests/data/commands`, and `sign_verified` naming what is wrong with a bad signature.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use sig_core::signer::{ProgramStatus, SpawnFailure};
use sig_core::{
    CertificateChain, CertifiedKey, CommandSigner, Error, HashAlgorithm, KeyError, KeySpec,
    OutputEncoding, PrivateKey, PublicKey, SignError, SignatureAlgorithm, SignatureDiagnosis,
    SigningKey, sign_verified,
};

use crate::fixtures::{KEY_PASSWORD, SPECS, example, pki, read, toy_signer};

/// The bounds the `CommandSigner` documentation promises: stdout at most 64 KiB, 8 KiB of stderr
/// kept.
const MAX_STDOUT: usize = 64 * 1024;
const MAX_STDERR: usize = 8 * 1024;

fn chain(dir: &str) -> CertificateChain {
    CertificateChain::read_pem_file(&pki(dir, "chain.pem")).unwrap()
}

fn key(dir: &str) -> PrivateKey {
    PrivateKey::from_pem(&read(dir, "leaf.key"), None).unwrap()
}

fn key_file_signer(dir: &str) -> CertifiedKey {
    CertifiedKey::new(chain(dir), key(dir)).unwrap()
}

/// A key file and a chain file, paired.
fn open_signer(key: &Path, password: Option<&[u8]>, chain: &Path) -> Result<CertifiedKey, Error> {
    let chain = CertificateChain::read_pem_file(chain)?;
    let key = PrivateKey::read_file(key, password)?;
    Ok(CertifiedKey::new(chain, key)?)
}

/// The public key of the leaf certificate of `dir`.
fn leaf_key(dir: &str) -> PublicKey {
    chain(dir).leaf().public_key().unwrap()
}

/// A signer program for the chain of `dir`, with `EXTERNAL_PRIVATE_KEY` set to its key.
fn command(program: &Path, dir: &str) -> CommandSigner {
    CommandSigner::new(program, leaf_key(dir))
        .env("EXTERNAL_PRIVATE_KEY", pki(dir, "leaf.key"))
        .timeout(Duration::from_secs(30))
}

fn diagnosis(result: Result<Vec<u8>, SignError>) -> SignatureDiagnosis {
    match result {
        Err(SignError::Verification { diagnosis, .. }) => diagnosis,
        other => panic!("expected a verification failure, got {other:?}"),
    }
}

#[test]
fn key_file_signer_signs_and_verifies_every_notary_algorithm() {
    for (dir, spec) in SPECS {
        let signer = key_file_signer(dir);
        assert_eq!(signer.key_spec(), spec);
        assert_eq!(signer.chain().certificates().len(), 3);
        let algorithm = spec.notary_algorithm();
        let signature = sign_verified(&signer, algorithm, b"payload").unwrap();
        assert_eq!(signature.len(), spec.signature_len());
        let public = signer.chain().leaf().public_key().unwrap();
        assert!(public.verify(algorithm, b"payload", &signature), "{dir}");
    }
}

#[test]
fn key_file_signer_opens_files() {
    for (dir, spec) in SPECS {
        let signer =
            open_signer(&pki(dir, "leaf.key.der"), None, &pki(dir, "chain_shuffled.pem")).unwrap();
        assert_eq!(signer.key_spec(), spec);
        let signer =
            open_signer(&pki(dir, "leaf.enc.pem"), Some(KEY_PASSWORD), &pki(dir, "chain.der"))
                .unwrap();
        sign_verified(&signer, spec.notary_algorithm(), b"opened").unwrap();
    }
    let err =
        open_signer(&pki("ec-256", "leaf.enc.pem"), None, &pki("ec-256", "chain.pem")).unwrap_err();
    assert!(matches!(err, Error::Key(KeyError::PasswordRequired)), "{err:?}");
}

#[test]
fn key_file_signer_refuses_a_key_that_is_not_the_leafs() {
    let err = CertifiedKey::new(chain("fail_key_mismatch"), key("fail_key_mismatch")).unwrap_err();
    match &err {
        KeyError::Mismatch { key_spec, subject } => {
            assert_eq!(*key_spec, KeySpec::Ec256);
            assert!(subject.contains("(key_mismatch)"), "{subject}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("does not match the leaf certificate"), "{err}");
    for (key_dir, chain_dir) in
        [("ec-256", "ec-384"), ("rsa-2048", "ec-256"), ("rsa-3072", "rsa-4096")]
    {
        let err = CertifiedKey::new(chain(chain_dir), key(key_dir)).unwrap_err();
        assert!(matches!(err, KeyError::Mismatch { .. }), "{key_dir} for {chain_dir}: {err:?}");
    }
    let err = open_signer(
        &pki("fail_key_mismatch", "leaf.key"),
        None,
        &pki("fail_key_mismatch", "chain.pem"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Key(KeyError::Mismatch { .. })), "{err:?}");
}

#[test]
fn cosign_algorithms_work_with_key_file_signer() {
    for (dir, spec) in SPECS {
        let signer = key_file_signer(dir);
        let public = signer.chain().leaf().public_key().unwrap();
        let algorithm = if spec.is_rsa() {
            SignatureAlgorithm::RsaPkcs1v15Sha256
        } else {
            SignatureAlgorithm::EcdsaSha256
        };
        if spec == KeySpec::Ec384 {
            // aws-lc-rs has no P-384/SHA-256 signing: refused with a clear error, not a panic.
            let err = sign_verified(&signer, algorithm, b"cosign").unwrap_err();
            assert!(matches!(err, SignError::AlgorithmMismatch { .. }), "{err:?}");
            continue;
        }
        let signature = sign_verified(&signer, algorithm, b"cosign").unwrap();
        assert!(public.verify(algorithm, b"cosign", &signature), "{dir}");
        if !spec.is_rsa() {
            let der = sig_core::ecdsa::raw_to_der(&signature).unwrap();
            assert!(public.verify_ecdsa_der(HashAlgorithm::Sha256, b"cosign", &der), "{dir}");
        }
    }
}

#[test]
fn algorithm_of_the_other_key_type_is_refused_before_signing() {
    let signer = key_file_signer("rsa-2048");
    let err = sign_verified(&signer, SignatureAlgorithm::EcdsaSha256, b"x").unwrap_err();
    assert!(
        matches!(err, SignError::AlgorithmMismatch { key_spec: KeySpec::Rsa2048, .. }),
        "{err:?}"
    );
    // A command signer is not even started.
    let signer = CommandSigner::new("/nonexistent/signer", leaf_key("ec-256"));
    let err = sign_verified(&signer, SignatureAlgorithm::RsaPssSha256, b"x").unwrap_err();
    assert!(matches!(err, SignError::AlgorithmMismatch { .. }), "{err:?}");
}

/// Signs with `actual` whatever it is asked for: a misconfigured signer.
#[derive(Debug)]
struct Substituting {
    inner: PrivateKey,
    actual: SignatureAlgorithm,
}

impl SigningKey for Substituting {
    fn key_spec(&self) -> KeySpec {
        self.inner.key_spec()
    }

    fn public_key(&self) -> &PublicKey {
        self.inner.public_key()
    }

    fn sign(&self, _: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        self.inner.sign(self.actual, payload)
    }
}

#[test]
fn sign_verified_names_the_wrong_scheme_or_hash() {
    use HashAlgorithm::{Sha256, Sha384, Sha512};
    use SignatureAlgorithm as A;
    use SignatureDiagnosis as D;
    let cases = [
        (
            "rsa-4096",
            A::RsaPssSha512,
            A::RsaPkcs1v15Sha512,
            D::Pkcs1v15InsteadOfPss { expected: A::RsaPssSha512 },
        ),
        (
            "rsa-2048",
            A::RsaPssSha256,
            A::RsaPkcs1v15Sha256,
            D::Pkcs1v15InsteadOfPss { expected: A::RsaPssSha256 },
        ),
        (
            "rsa-2048",
            A::RsaPkcs1v15Sha256,
            A::RsaPssSha256,
            D::PssInsteadOfPkcs1v15 { expected: A::RsaPkcs1v15Sha256 },
        ),
        (
            "rsa-2048",
            A::RsaPssSha256,
            A::RsaPssSha384,
            D::WrongHash { expected: Sha256, actual: Sha384 },
        ),
        (
            "rsa-3072",
            A::RsaPkcs1v15Sha256,
            A::RsaPkcs1v15Sha512,
            D::WrongHash { expected: Sha256, actual: Sha512 },
        ),
        (
            "ec-521",
            A::EcdsaSha512,
            A::EcdsaSha256,
            D::WrongHash { expected: Sha512, actual: Sha256 },
        ),
        (
            "ec-521",
            A::EcdsaSha256,
            A::EcdsaSha384,
            D::WrongHash { expected: Sha256, actual: Sha384 },
        ),
    ];
    for (dir, asked, actual, expected) in cases {
        let signer = Substituting { inner: key(dir), actual };
        let found = diagnosis(sign_verified(&signer, asked, b"payload"));
        assert_eq!(found, expected, "{dir}: asked {asked}, signed {actual:?}");
        // The same through a certified key: checked against the leaf, with the same diagnosis.
        let certified = CertifiedKey::new(chain(dir), signer).unwrap();
        let found = diagnosis(certified.sign(asked, b"payload"));
        assert_eq!(found, expected, "{dir}: certified, asked {asked}, signed {actual:?}");
    }
}

#[test]
fn sign_verified_names_a_wrong_key() {
    let signer = CertifiedKey::new_unchecked(chain("fail_key_mismatch"), key("fail_key_mismatch"));
    match diagnosis(sign_verified(&signer, SignatureAlgorithm::EcdsaSha256, b"payload")) {
        SignatureDiagnosis::WrongKey { subject: Some(subject) } => {
            assert!(subject.contains("(key_mismatch)"), "{subject}");
        }
        other => panic!("{other:?}"),
    }
    // The RSA key of another certificate of the same size.
    let other_rsa = PrivateKey::from_pem(&read("fail_key_encipherment", "leaf.key"), None);
    let signer = CertifiedKey::new_unchecked(chain("rsa-2048"), other_rsa.unwrap());
    let found = diagnosis(sign_verified(&signer, SignatureAlgorithm::RsaPssSha256, b"payload"));
    assert!(matches!(found, SignatureDiagnosis::WrongKey { .. }), "{found:?}");
}

#[test]
fn command_signer_with_example_scripts_for_notation_and_cosign() {
    for (dir, spec) in SPECS {
        for encoding in [OutputEncoding::Raw, OutputEncoding::Base64, OutputEncoding::Hex] {
            let signer = command(&example("sign-with-openssl.sh"), dir).encoding(encoding);
            assert_eq!(signer.key_spec(), spec);
            let signature = sign_verified(&signer, spec.notary_algorithm(), b"notation").unwrap();
            assert_eq!(signature.len(), spec.signature_len(), "{dir} {encoding:?}");
        }
        if spec.is_rsa() {
            let signer = command(&example("sign-with-openssl.sh"), dir).caller("cosign");
            sign_verified(&signer, SignatureAlgorithm::RsaPkcs1v15Sha256, b"cosign").unwrap();
        } else {
            let signer = command(&example("ecdsa-openssl.sh"), dir);
            sign_verified(&signer, spec.notary_algorithm(), b"ecdsa, DER from openssl").unwrap();
        }
    }
}

#[test]
fn command_signer_diagnoses_pss_salt_pkcs1v15_wrong_key_and_length() {
    let salt = |dir: &str, algorithm| {
        diagnosis(sign_verified(&command(&toy_signer("pss_salt_32"), dir), algorithm, b"p"))
    };
    use SignatureAlgorithm as A;
    assert_eq!(
        salt("rsa-4096", A::RsaPssSha512),
        SignatureDiagnosis::PssSaltLength { expected: 64, actual: 32 }
    );
    assert_eq!(
        salt("rsa-3072", A::RsaPssSha384),
        SignatureDiagnosis::PssSaltLength { expected: 48, actual: 32 }
    );
    // With SHA-256 a 32-byte salt is the hash length: correct.
    sign_verified(&command(&toy_signer("pss_salt_32"), "rsa-2048"), A::RsaPssSha256, b"p").unwrap();

    let pkcs1 = command(&toy_signer("pkcs1v15"), "rsa-2048");
    assert_eq!(
        diagnosis(sign_verified(&pkcs1, A::RsaPssSha256, b"p")),
        SignatureDiagnosis::Pkcs1v15InsteadOfPss { expected: A::RsaPssSha256 }
    );
    // The same program is right for cosign.
    sign_verified(&pkcs1, A::RsaPkcs1v15Sha256, b"p").unwrap();

    let wrong_key = command(&toy_signer("wrong_key"), "ec-384");
    let found = diagnosis(sign_verified(&wrong_key, A::EcdsaSha384, b"p"));
    assert_eq!(found, SignatureDiagnosis::WrongKey { subject: None });
    let certified = CertifiedKey::new(chain("ec-384"), wrong_key).unwrap();
    let found = diagnosis(certified.sign(A::EcdsaSha384, b"p"));
    assert!(
        matches!(&found, SignatureDiagnosis::WrongKey { subject: Some(subject) } if subject.contains("EC-384")),
        "{found:?}"
    );

    let garbage = command(&toy_signer("garbage"), "rsa-2048");
    assert_eq!(
        diagnosis(sign_verified(&garbage, A::RsaPssSha256, b"p")),
        SignatureDiagnosis::WrongLength { key_spec: KeySpec::Rsa2048, expected: 256, actual: 16 }
    );
}

#[test]
fn command_signer_failures_are_named() {
    let ec = |name: &str| command(&toy_signer(name), "ec-256");
    let sign = |signer: &CommandSigner| signer.sign(SignatureAlgorithm::EcdsaSha256, b"payload");

    match sign(&ec("exit_1")).unwrap_err() {
        SignError::Program { program, status, stderr } => {
            assert_eq!(program, toy_signer("exit_1"));
            assert_eq!(status, ProgramStatus::Exited(1));
            assert_eq!(stderr, "signer failed: key locked");
        }
        other => panic!("{other:?}"),
    }
    match sign(&ec("killed")).unwrap_err() {
        SignError::Program { status, stderr, .. } => {
            assert_eq!(status, ProgramStatus::Killed(9));
            assert_eq!(stderr, "");
        }
        other => panic!("{other:?}"),
    }
    let err = sign(&ec("garbage")).unwrap_err();
    assert!(matches!(err, SignError::MalformedEcdsa(_)), "{err:?}");
    let err = sign(&ec("garbage").encoding(OutputEncoding::Base64)).unwrap_err();
    assert!(matches!(err, SignError::Encoding { encoding: OutputEncoding::Base64, .. }), "{err:?}");
    let err = sign(&ec("garbage").encoding(OutputEncoding::Hex)).unwrap_err();
    assert!(matches!(err, SignError::Encoding { encoding: OutputEncoding::Hex, .. }), "{err:?}");
    let err = sign(&ec("empty")).unwrap_err();
    assert!(matches!(err, SignError::EmptyOutput { .. }), "{err:?}");

    let started = Instant::now();
    let err = sign(&ec("huge")).unwrap_err();
    assert!(matches!(err, SignError::OutputTooLarge { limit: MAX_STDOUT, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let started = Instant::now();
    match sign(&ec("stderr_flood")).unwrap_err() {
        SignError::Program { status, stderr, .. } => {
            assert_eq!(status, ProgramStatus::Exited(1));
            assert!(stderr.starts_with("stderr flood: the signer is very chatty today"));
            assert!(stderr.len() <= MAX_STDERR, "{} bytes kept", stderr.len());
            assert!(stderr.ends_with('…'), "truncation is visible");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));

    match sign(&command(Path::new("/nonexistent/signer"), "ec-256")).unwrap_err() {
        SignError::Spawn { program, reason, source } => {
            assert_eq!(program, Path::new("/nonexistent/signer"));
            assert_eq!(reason, SpawnFailure::NotFound);
            assert!(reason.to_string().starts_with("not found"), "{reason}");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("signer.sh");
    std::fs::write(&not_executable, b"#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644)).unwrap();
    match sign(&command(&not_executable, "ec-256")).unwrap_err() {
        SignError::Spawn { reason, .. } => {
            assert_eq!(reason, SpawnFailure::PermissionDenied);
            assert!(reason.to_string().contains("chmod +x"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_signer_timeout_kills_the_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let signer = command(&toy_signer("hang"), "ec-256")
        .timeout(Duration::from_secs(1))
        .env("HANG_PID_FILE", &pid_file);
    let started = Instant::now();
    let err = signer.sign(SignatureAlgorithm::EcdsaSha256, b"payload").unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        SignError::Timeout { timeout, .. } => assert_eq!(*timeout, Duration::from_secs(1)),
        other => panic!("{other:?}"),
    }
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    let pids = std::fs::read_to_string(&pid_file).unwrap();
    let pids: Vec<u32> = pids.split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert_eq!(pids.len(), 2);
    for pid in pids {
        assert!(process_gone(pid), "process {pid} outlived the timeout");
    }
}

/// Whether `pid` has exited (absent, or a zombie nobody here reaps). Polls for up to 2 s.
fn process_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let gone = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X'))
        });
        if gone || Instant::now() > deadline {
            return gone;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn command_signer_exports_the_contract_environment() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("rsa-4096", SignatureAlgorithm::RsaPssSha512, "notation", OutputEncoding::Hex),
        ("rsa-2048", SignatureAlgorithm::RsaPkcs1v15Sha256, "cosign", OutputEncoding::Base64),
        ("ec-256", SignatureAlgorithm::EcdsaSha256, "notation", OutputEncoding::Raw),
    ];
    for (spec_dir, algorithm, caller, encoding) in cases {
        let dump = dir.path().join(format!("{spec_dir}.env"));
        let signer = command(&toy_signer("env_dump"), spec_dir)
            .env("ENV_DUMP_FILE", &dump)
            .key_id("projects/p/keys/k 1")
            .caller(caller)
            .encoding(encoding)
            .timeout(Duration::from_secs(45));
        sign_verified(&signer, algorithm, b"env").unwrap();
        let text = std::fs::read_to_string(&dump).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let spec = signer.key_spec();
        let expected = [
            format!("EXTERNAL_PRIVATE_KEY={}", pki(spec_dir, "leaf.key").display()),
            format!("EXTERNAL_SIGNER_CALLER={caller}"),
            "EXTERNAL_SIGNER_CONTRACT=1".to_owned(),
            format!("EXTERNAL_SIGNER_DIGEST={}", algorithm.hash().short_name()),
            format!("EXTERNAL_SIGNER_HASH={}", algorithm.hash()),
            "EXTERNAL_SIGNER_KEY_ID=projects/p/keys/k 1".to_owned(),
            format!("EXTERNAL_SIGNER_KEY_SPEC={spec}"),
            format!("EXTERNAL_SIGNER_OUTPUT_ENCODING={}", encoding.as_str()),
            format!("EXTERNAL_SIGNER_SCHEME={}", algorithm.scheme()),
            "EXTERNAL_SIGNER_TIMEOUT_SECONDS=45".to_owned(),
        ];
        for line in &expected {
            assert!(lines.contains(&line.as_str()), "{spec_dir}: {line} missing from {lines:?}");
        }
        let salt = lines.iter().find(|l| l.starts_with("EXTERNAL_SIGNER_PSS_SALT_LENGTH="));
        if algorithm == SignatureAlgorithm::RsaPssSha512 {
            assert_eq!(salt, Some(&"EXTERNAL_SIGNER_PSS_SALT_LENGTH=64"));
        } else {
            assert_eq!(salt, None, "{spec_dir}: no salt length outside PSS");
        }
    }
}

/// Lowercase hex of `bytes`.
fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A signer program that prints `text` (prepared by the test) for the chain of `dir`.
fn printing(tmp: &Path, dir: &str, text: &[u8]) -> CommandSigner {
    let file = tmp.join(format!("print-{}", text.len()));
    std::fs::write(&file, text).unwrap();
    command(&toy_signer("print"), dir).env("PRINT_FILE", &file)
}

/// Issue 14, item 11: hex wrapped over lines (`xxd -p` wraps at 60 columns, `od` separates
/// bytes with spaces) is accepted, as the contract says whitespace is ignored; anything but
/// `[0-9a-fA-F]` is refused (`u8::from_str_radix` alone takes `"+f"`).
#[test]
fn command_signer_hex_ignores_all_whitespace_and_only_takes_hex_digits() {
    let tmp = tempfile::tempdir().unwrap();
    let algorithm = SignatureAlgorithm::EcdsaSha256;
    let expected = key_file_signer("ec-256").sign(algorithm, b"payload").unwrap();
    let hex = to_hex(&expected);
    let wrapped = |width: usize, eol: &str| {
        hex.as_bytes()
            .chunks(width)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(eol)
            + eol
    };
    let od_style: String = expected.iter().map(|b| format!(" {b:02x}")).collect();
    let layouts = [
        wrapped(60, "\n"),
        wrapped(32, "\r\n"),
        od_style,
        format!("\t{}\x0b\x0c\n", hex.to_ascii_uppercase()),
    ];
    for text in layouts {
        let signer = printing(tmp.path(), "ec-256", text.as_bytes()).encoding(OutputEncoding::Hex);
        let signature = sign_verified(&signer, algorithm, b"payload")
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(signature, expected, "{text:?}");
    }
    for bad in ["+f".repeat(64), format!("{}0x", &hex[2..]), format!("{}g0", &hex[2..])] {
        let signer = printing(tmp.path(), "ec-256", bad.as_bytes()).encoding(OutputEncoding::Hex);
        let err = signer.sign(algorithm, b"payload").unwrap_err();
        assert!(
            matches!(err, SignError::Encoding { encoding: OutputEncoding::Hex, .. }),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().contains("not a hex digit"), "{err}");
    }
}

/// Issue 14, item 12: a helper the signer started in a session of its own keeps stdout open
/// after the signer exited 0; the signature the signer printed before is kept, not lost.
#[test]
fn command_signer_keeps_a_printed_signature_when_a_helper_holds_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let algorithm = SignatureAlgorithm::EcdsaSha256;
    let expected = key_file_signer("ec-256").sign(algorithm, b"payload").unwrap();
    let print = tmp.path().join("signature");
    std::fs::write(&print, &expected).unwrap();
    let helper_pid = tmp.path().join("helper.pid");
    let signer = command(&toy_signer("lingering_helper"), "ec-256")
        .env("PRINT_FILE", &print)
        .env("HELPER_PID_FILE", &helper_pid);
    let result = sign_verified(&signer, algorithm, b"payload");
    // The helper escaped the signer's process group on purpose: stop it here, by its pid.
    let pid: i32 = std::fs::read_to_string(&helper_pid).unwrap().trim().parse().unwrap();
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
    assert_eq!(result.unwrap(), expected);
}

/// Issue 14, item 10: a relative program path would run whatever the working directory holds;
/// it is refused before anything runs. A bare name is looked up in `PATH`, skipping empty, `.`
/// and other relative entries.
#[test]
fn command_signer_refuses_relative_paths_and_relative_path_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("env");
    // Tests run in sig-core/, so this relative path names a real program.
    let relative = Path::new("../tests/data/commands/env_dump.sh");
    assert!(relative.is_file());
    let ec = |program: &Path| command(program, "ec-256").env("ENV_DUMP_FILE", &dump);
    let err = ec(relative).sign(SignatureAlgorithm::EcdsaSha256, b"p").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("relative path"), "{message}");
    assert!(message.contains("absolute path"), "{message}");
    assert!(!dump.exists(), "the program must not run");

    let commands = toy_signer("env_dump").parent().unwrap().canonicalize().unwrap();
    let bare = Path::new("env_dump.sh");
    for path in ["../tests/data/commands:/usr/bin:/bin", ":/usr/bin:/bin", ".:/usr/bin:/bin"] {
        let err = ec(bare).env("PATH", path).sign(SignatureAlgorithm::EcdsaSha256, b"p");
        let message = err.unwrap_err().to_string();
        assert!(message.contains("not found in PATH"), "{path}: {message}");
        assert!(message.contains("relative"), "{path}: {message}");
        assert!(!dump.exists(), "{path}: the program must not run");
    }
    let path = format!(".::{}:/usr/bin:/bin", commands.display());
    sign_verified(&ec(bare).env("PATH", &path), SignatureAlgorithm::EcdsaSha256, b"p").unwrap();
    assert!(dump.exists());
}

/// Issue 14, item 13: a FIFO (or any file that is not a regular file) given as chain, key or
/// PIN file is refused at once; opening a FIFO for reading would block until a writer comes.
#[test]
fn files_that_are_not_regular_files_are_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let full = |e: &dyn std::error::Error| sig_core::message_with_sources(e);
        let messages = vec![
            full(&CertificateChain::read_pem_file(&path).unwrap_err()),
            full(&PrivateKey::read_file(&path, None).unwrap_err()),
            full(&sig_core::__private::fs::read_bounded(&path, 1024).unwrap_err()),
            #[cfg(feature = "pkcs11")]
            full(&sig_core::Pkcs11Pin::read_file(&path).unwrap_err()),
            full(&sig_core::__private::fs::read_bounded(Path::new("/dev/null"), 1024).unwrap_err()),
        ];
        let _ = tx.send(messages);
    });
    let messages = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("reading a FIFO blocked: it must be refused without waiting for a writer");
    for message in &messages[..messages.len() - 1] {
        assert!(message.contains("is a FIFO"), "{message}");
        assert!(message.contains("not a regular file"), "{message}");
    }
    assert!(messages.last().unwrap().contains("not a regular file"), "{messages:?}");
    for message in &messages[..2] {
        assert!(message.contains(fifo.to_str().unwrap()), "names the path: {message}");
    }
}

/// Issue 15, item 3: sig-core's errors are data; the messages name no setting of the plugin, no
/// environment variable and no CLI flag (each application adds its own advice), and the caller
/// is not assumed to be notation.
#[test]
fn key_and_signer_messages_name_no_application_setting() {
    let program = std::path::PathBuf::from("/usr/local/bin/sign");
    let mut errors: Vec<Box<dyn std::error::Error>> = vec![
        Box::new(KeyError::PasswordRequired),
        Box::new(SignError::Timeout {
            program: program.clone(),
            timeout: Duration::from_secs(2),
            stderr: String::new(),
        }),
        Box::new(SignError::Encoding {
            program,
            encoding: OutputEncoding::Hex,
            reason: "not a hex digit".into(),
        }),
    ];
    #[cfg(feature = "pkcs11")]
    {
        use sig_core::Pkcs11Error;
        errors.push(Box::new(Pkcs11Error::PinInUri));
        errors.push(Box::new(Pkcs11Error::NoModule));
        errors.push(Box::new(Pkcs11Error::PinRequired { token: "token \"t\"".into() }));
    }
    for err in errors {
        let text = err.to_string();
        for knob in [
            "EXTERNAL_",
            "signer_timeout",
            "signature_encoding",
            "pkcs11_module",
            "pluginConfig",
            "cert_chain",
            "--",
            "notation",
        ] {
            assert!(!text.contains(knob), "names {knob:?}: {text}");
        }
    }
}
