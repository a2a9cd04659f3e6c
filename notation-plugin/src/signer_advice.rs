//! The plugin's advice for sig-core's key and signer errors. sig-core's messages say what went
//! wrong and name no setting (errors are data); the remedy that names the plugin's own
//! `pluginConfig` keys and `EXTERNAL_*` variables is added here, to the message notation shows.

use sig_core::key_source::{env, secret_advice};
use sig_core::{Error, KeyError, Pkcs11Error, SignError};

/// The advice appended to the message of `err`, if the plugin has any (else empty).
pub(crate) fn advice(err: &Error) -> String {
    match err {
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
