//! The plugin's advice for sig-core's key and signer errors. sig-core's messages say what went
//! wrong and name no setting (errors are data); the remedy that names the plugin's own
//! `pluginConfig` keys and `EXTERNAL_*` variables is added here, to the message notation shows.

use sig_core::key_source::env;
use sig_core::{Error, KeyError, Pkcs11Error, SignError};

/// The advice appended to the message of `err`, if the plugin has any (else empty).
pub(crate) fn advice(err: &Error) -> String {
    match err {
        Error::Key(KeyError::PasswordRequired) => format!(
            ": give its password in the environment variable {} or in a password file named by {}",
            env::PRIVATE_KEY_PASSWORD,
            env::PRIVATE_KEY_PASSWORD_FILE
        ),
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
    let give_pin = || {
        format!(
            "give it in {}, in a file named by {}, or name that file with pin-source=PATH in the URI",
            env::PKCS11_PIN,
            env::PKCS11_PIN_FILE
        )
    };
    match err {
        Pkcs11Error::PinInUri => {
            format!(" (notation stores pluginConfig in plain text): {}", give_pin())
        }
        Pkcs11Error::NoModule => {
            format!("; configure the module with pkcs11_module ({})", env::PKCS11_MODULE)
        }
        Pkcs11Error::PinRequired { .. } => format!(": {}", give_pin()),
        _ => String::new(),
    }
}
