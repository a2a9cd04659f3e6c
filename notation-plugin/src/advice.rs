//! The plugin's advice on sig-core's errors.
//!
//! sig-core's errors are data: they say what went wrong and never name a setting of this plugin
//! (age keeps `age::EncryptError` as data and adds the remedy in `rage`). Where the fix is a
//! `pluginConfig` setting or an `EXTERNAL_*` variable, the advice that names it is added here, so
//! every message the plugin shows keeps the information it had when the library wrote it. Every
//! sig-core error the plugin shows goes through [`message`].

use sig_core::key_source::{env, secret_advice};
use sig_core::{CertificateError, Error, KeyError, Pkcs11Error, SignError};

/// `err`'s message with its sources ([`sig_core::message_with_sources`]), followed by the
/// plugin's advice when there is one.
pub(crate) fn message(err: &Error) -> String {
    let mut message = sig_core::message_with_sources(err);
    message.push_str(&advice(err));
    message
}

/// The advice appended to the message of `err`, if the plugin has any (else empty).
fn advice(err: &Error) -> String {
    match err {
        // A key file where the chain was expected: `cert_chain` names the wrong file.
        Error::Certificate(CertificateError::PrivateKey { .. }) => {
            "; point cert_chain at the certificate file".to_owned()
        }
        Error::Key(KeyError::PasswordRequired) => format!(": {}", secret_advice::password()),
        Error::Sign(SignError::Timeout { .. }) => {
            format!("; raise signer_timeout ({}) if it needs longer", env::SIGNER_TIMEOUT)
        }
        Error::Sign(SignError::Encoding { .. }) => format!(
            "; set signature_encoding ({}) to raw, base64 or hex to match what it prints",
            env::SIGNATURE_ENCODING
        ),
        Error::Pkcs11(e) => pkcs11(e),
        _ => String::new(),
    }
}

/// The advice appended to the message of a PKCS#11 error, if the plugin has any (else empty).
pub(crate) fn pkcs11(err: &Pkcs11Error) -> String {
    match err {
        Pkcs11Error::PinInUri => {
            format!(" (notation stores pluginConfig in plain text): {}", secret_advice::pin())
        }
        Pkcs11Error::NoModule => {
            format!("; configure the module with pkcs11_module ({})", env::PKCS11_MODULE)
        }
        Pkcs11Error::PinRequired { .. } => format!(": {}", secret_advice::pin()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_as_the_chain_names_the_cert_chain_setting() {
        let key = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki/ec-256/leaf.key");
        let err = sig_core::CertificateChain::read_pem_file(key.as_ref()).unwrap_err();
        assert!(!err.to_string().contains("cert_chain"), "sig-core names the setting: {err}");
        assert_eq!(
            message(&err.into()),
            "certificate 0 is malformed: a private key is not a certificate; point cert_chain at the certificate file"
        );
    }

    #[test]
    fn errors_without_a_plugin_setting_are_unchanged() {
        let err = Error::from(CertificateError::Loop);
        assert_eq!(message(&err), err.to_string());
    }
}
