//! cosign-compat's advice for sig-core's key and signer errors: sig-core's messages name no
//! setting, so the remedy naming this CLI's own flags and `EXTERNAL_*` variables is added here
//! (the notation plugin adds its own, naming its `pluginConfig` keys).

use sig_core::key_source::{env, secret_advice};
use sig_core::{KeyError, Pkcs11Error, SignError};

/// The advice appended to the message of a sig-core error, if any (else empty).
pub(crate) fn for_error(err: &sig_core::Error) -> String {
    match err {
        sig_core::Error::Key(e) => for_key(e),
        sig_core::Error::Sign(e) => for_sign(e),
        sig_core::Error::Pkcs11(e) => for_pkcs11(e),
        _ => String::new(),
    }
}

/// The advice appended to the message of a cosign-compat error, if any (else empty).
pub(crate) fn for_cosign_error(err: &cosign_compat::Error) -> String {
    match err {
        cosign_compat::Error::Signing(cosign_compat::SigningError::Sign(e)) => for_sign(e),
        cosign_compat::Error::Walk(cosign_compat::walk::WalkError::TooManyManifests { .. }) => {
            "; raise --max-manifests if that many is expected".to_owned()
        }
        _ => String::new(),
    }
}

fn for_key(err: &KeyError) -> String {
    match err {
        KeyError::PasswordRequired => format!(": {}", secret_advice::password()),
        _ => String::new(),
    }
}

fn for_sign(err: &SignError) -> String {
    match err {
        SignError::Timeout { .. } => {
            format!("; raise --signer-timeout ({}) if it needs longer", env::SIGNER_TIMEOUT)
        }
        SignError::Encoding { .. } => format!(
            "; set --signature-encoding ({}) to raw, base64 or hex to match what it prints",
            env::SIGNATURE_ENCODING
        ),
        SignError::Pkcs11(e) => for_pkcs11(e),
        _ => String::new(),
    }
}

fn for_pkcs11(err: &Pkcs11Error) -> String {
    match err {
        Pkcs11Error::PinInUri => format!(": {}", secret_advice::pin()),
        Pkcs11Error::NoModule => format!("; or set {}", env::PKCS11_MODULE),
        Pkcs11Error::PinRequired { .. } => format!(": {}", secret_advice::pin()),
        _ => String::new(),
    }
}
