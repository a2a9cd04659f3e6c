//! `notation-external-signer doctor`: checks a configuration the way notation and cosign will
//! use it, and prints each problem with its remedy.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use sig_core::key_source::{KeySource, OpenedKey};
use sig_core::{
    CertificateChain, CertifiedKey, SignatureAlgorithm, SignatureScheme, SigningKey as _,
};

use crate::config::{Config, Env, PIN_ENV, PIN_FILE_ENV, PinSource};
use crate::protocol::{PluginConfig, PluginError};

const USAGE: &str =
    "usage: notation-external-signer doctor [--plugin-config KEY=VALUE]... [--key-id ID]

Checks the configuration that `notation sign --plugin external-signer` would use (pluginConfig
given here, then the EXTERNAL_* environment): the certificate chain against notation's rules,
the key (a key file, a signer program, or a PKCS#11 token key) against the leaf certificate, and
a signing round trip. Exit status 0 when all is well.
";

struct Report<'a> {
    out: &'a mut dyn Write,
    errors: usize,
    warnings: usize,
}

impl Report<'_> {
    fn ok(&mut self, text: &str) {
        let _ = writeln!(self.out, "  ok       {text}");
    }
    fn warn(&mut self, text: &str) {
        self.warnings += 1;
        let _ = writeln!(self.out, "  warning  {text}");
    }
    fn error(&mut self, text: &str) {
        self.errors += 1;
        let _ = writeln!(self.out, "  error    {text}");
    }
    fn section(&mut self, title: &str) {
        let _ = writeln!(self.out, "{title}");
    }
}

pub(crate) fn run(args: &[String], out: &mut dyn Write, env: Env<'_>, now: SystemTime) -> ExitCode {
    let mut plugin_config = PluginConfig::new();
    let mut key_id = String::from("doctor");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--plugin-config" | "-c" => {
                let Some((k, v)) = args.next().and_then(|kv| kv.split_once('=')) else {
                    let _ = write!(out, "--plugin-config needs KEY=VALUE\n\n{USAGE}");
                    return ExitCode::FAILURE;
                };
                plugin_config.insert(k.to_owned(), v.to_owned());
            }
            "--key-id" => key_id = args.next().cloned().unwrap_or_default(),
            "--help" | "-h" => {
                let _ = write!(out, "{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                let _ = write!(out, "unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut report = Report { out, errors: 0, warnings: 0 };
    check(&mut report, &plugin_config, env, &key_id, now);
    let summary = match (report.errors, report.warnings) {
        (0, 0) => "all checks passed".to_owned(),
        (0, w) => format!("passed with {w} warning(s)"),
        (e, w) => format!("{e} error(s), {w} warning(s)"),
    };
    let _ = writeln!(report.out, "\n{summary}");
    if report.errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn check(
    report: &mut Report<'_>,
    plugin_config: &PluginConfig,
    env: Env<'_>,
    key_id: &str,
    now: SystemTime,
) {
    report.section("configuration");
    let config = match Config::resolve(plugin_config, env) {
        Ok(config) => config,
        Err(e) => return report.error(&e.error_message),
    };
    report.ok(&format!("certificate chain: {}", config.cert_chain.display()));
    if let Some(settings) = config.program() {
        report.ok(&format!(
            "signer program: {} (timeout {} s, output {})",
            settings.program.display(),
            settings.timeout.as_secs_f64(),
            settings.encoding.as_str()
        ));
        if let Some(key) = config.private_key() {
            report.ok(&format!("EXTERNAL_PRIVATE_KEY passed to the program: {}", key.display()));
        }
    } else if let Some(key) = config.private_key() {
        report.ok(&format!("in-process key file: {}", key.display()));
    }
    if let KeySource::Pkcs11 { uri, module, .. } = &config.key {
        let module = module.as_deref().or_else(|| uri.module_path());
        report.ok(&format!(
            "PKCS#11 key: {} (module {})",
            uri,
            module.map_or_else(|| "not set".to_owned(), |m| m.display().to_string())
        ));
        match config.pin_source() {
            PinSource::Environment => report.ok(&format!("token PIN from {PIN_ENV}")),
            PinSource::File(file) | PinSource::UriPinSource(file) => {
                report.ok(&format!("token PIN from the file {}", file.display()));
                if sig_core::__private::fs::readable_by_others(&file) {
                    report.warn(&format!(
                        "{} is readable by group or others; chmod 600 it",
                        file.display()
                    ));
                }
            }
            PinSource::None => report.warn(&format!(
                "no token PIN configured ({PIN_ENV}, {PIN_FILE_ENV} or the URI's pin-source); only tokens with a PIN pad or without login work"
            )),
        }
    }

    report.section("certificate chain (notation's rules)");
    let chain = match CertificateChain::read_pem_file(&config.cert_chain) {
        Ok(chain) => chain,
        Err(e) => return report.error(&crate::advice::message(&e.into())),
    };
    for (i, cert) in chain.certificates().iter().enumerate() {
        report.ok(&format!("[{i}] {}", cert.subject()));
    }
    let problems = chain.problems(now);
    if problems.is_empty() {
        report.ok("leaf, intermediates and root satisfy notation's certificate requirements");
    }
    for problem in &problems {
        report.error(&problem.to_string());
    }
    report.section("cosign and Kyverno compatibility");
    let leaf = chain.leaf();
    if leaf.san_identities().is_empty() {
        report.warn("the leaf has no subject alternative name (URI or e-mail): `cosign verify --certificate-identity` can never match it; add e.g. subjectAltName = URI:https://signer.example");
    } else {
        report.ok(&format!("leaf identities: {}", leaf.san_identities().join(", ")));
    }

    report.section("key");
    if let Some(key) = config.private_key()
        && sig_core::__private::fs::readable_by_others(key)
    {
        report.warn(&format!("{} is readable by group or others; chmod 600 it", key.display()));
    }
    let (chain, key) = match config.open(env, key_id, now) {
        Ok(opened) => opened,
        Err(e) => return report.error(&e.error_message),
    };
    if let OpenedKey::Pkcs11(token_key) = &key {
        report.ok(&format!("{} in module {}", token_key.token(), token_key.module().display()));
        report.ok(&format!("private key {} matches the leaf certificate", token_key.key()));
        if !token_key.public_key_checked() {
            report.warn("the token has no public key object with the key's CKA_ID: only the key type and size (and an RSA key's modulus) were compared with the leaf; the round trip below still verifies a signature");
        }
    }
    let signer = match CertifiedKey::new(chain, key) {
        Ok(signer) => signer,
        Err(e) => {
            let message = PluginError::from(sig_core::Error::from(e)).error_message;
            return report.error(&message);
        }
    };
    report.ok(&format!("key spec {} (from the leaf certificate)", signer.key_spec()));

    report.section("signing round trip");
    let payload = b"notation-external-signer doctor round trip";
    let notary = signer.key_spec().notary_algorithm();
    let started = Instant::now();
    match signer.sign(notary, payload) {
        Ok(_) => report.ok(&format!(
            "notation ({notary}) signature verified with the leaf certificate in {:?}",
            started.elapsed()
        )),
        Err(e) => report.error(&PluginError::from(sig_core::Error::from(e)).error_message),
    }
    let cosign = if signer.key_spec().is_rsa() {
        SignatureAlgorithm::RsaPkcs1v15Sha256
    } else {
        SignatureAlgorithm::new(SignatureScheme::Ecdsa, signer.key_spec().hash())
    };
    match signer.sign(cosign, payload) {
        Ok(_) => report.ok(&format!("cosign ({cosign}) signature verified")),
        Err(e) => report.warn(&format!(
            "cosign-style signing failed (only matters for cosign-compat): {}",
            PluginError::from(sig_core::Error::from(e)).error_message
        )),
    }
}
