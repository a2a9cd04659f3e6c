//! The plugin's advice on sig-core's certificate and envelope errors.
//!
//! sig-core's errors are data: they say what is wrong and never name a setting of this plugin
//! (age keeps `age::EncryptError` as data and adds the remedy in `rage`). Where the fix is a
//! `pluginConfig` setting, the advice that names it is added here, so every message the plugin
//! shows keeps the information it had when the library wrote it.

use sig_core::{CertificateError, Error};

/// `err`'s message with its sources ([`sig_core::message_with_sources`]), followed by the
/// plugin's advice when there is one (this module's for certificates and envelopes,
/// [`crate::signer_advice`]'s for keys and signers). Every sig-core error the plugin shows goes
/// through here.
pub(crate) fn message(err: &Error) -> String {
    let mut message = sig_core::message_with_sources(err);
    if let Some(advice) = advice(err) {
        message.push_str("; ");
        message.push_str(advice);
    }
    message.push_str(&crate::signer_advice::advice(err));
    message
}

/// The fix for `err` in this plugin's terms, if it is a setting of the plugin.
fn advice(err: &Error) -> Option<&'static str> {
    match err {
        // A key file where the chain was expected: `cert_chain` names the wrong file.
        Error::Certificate(CertificateError::PrivateKey { .. }) => {
            Some("point cert_chain at the certificate file")
        }
        _ => None,
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
