//! Loading PKCS#11 modules, once per process.
//!
//! `C_Initialize` may be called once per process and module, and `C_Finalize` ends every session
//! of every user of that module in the process. So each module is loaded and initialized on first
//! use, shared by every signer, and never finalized: it stays loaded until the process exits.
//! This is the crate's only global state.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CryptokiError, RvError};

use crate::error::Pkcs11Error;

static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());

/// The initialized module at `path`, loading it on first use.
pub(super) fn load(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, context)) = modules.iter().find(|(p, _)| p == path) {
        return Ok(context.clone());
    }
    let context = Pkcs11::new(path).map_err(|e| match e {
        CryptokiError::LibraryLoading(source) => {
            Pkcs11Error::ModuleLoad { path: path.to_owned(), reason: source.to_string() }
        }
        other => call_error(format!("loading PKCS#11 module {}", path.display()), other),
    })?;
    // OS locking: signers are Send + Sync and may sign from several threads.
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Someone else in this process (another library) initialized it already: share it.
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(call_error(format!("initializing PKCS#11 module {}", path.display()), e));
        }
    }
    modules.push((path.to_owned(), context.clone()));
    Ok(context)
}

/// A [`Pkcs11Error::Call`] for a failed binding call, with the function and `CKR_` names.
pub(super) fn call_error(action: String, source: CryptokiError) -> Pkcs11Error {
    let (function, code) = match &source {
        CryptokiError::Pkcs11(rv, function) => (format!("C_{function:?}"), ckr_name(*rv)),
        other => ("the PKCS#11 binding".to_owned(), format!("{other}")),
    };
    Pkcs11Error::Call { action, function, code, source }
}

/// `RvError::PinIncorrect` -> `"CKR_PIN_INCORRECT"`.
pub(super) fn ckr_name(rv: RvError) -> String {
    match rv {
        RvError::VendorDefined(code) => format!("vendor-defined CKR 0x{code:08x}"),
        RvError::UnknownErrorCode(code) => format!("unknown CKR 0x{code:08x}"),
        other => {
            let camel = format!("{other:?}");
            let mut out = String::from("CKR");
            for c in camel.chars() {
                if c.is_ascii_uppercase() {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ckr_names_follow_the_specification() {
        assert_eq!(ckr_name(RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(ckr_name(RvError::UserNotLoggedIn), "CKR_USER_NOT_LOGGED_IN");
        assert_eq!(ckr_name(RvError::DeviceRemoved), "CKR_DEVICE_REMOVED");
        assert_eq!(ckr_name(RvError::VendorDefined(0x8000_0001)), "vendor-defined CKR 0x80000001");
    }

    #[test]
    fn missing_module_names_the_loader_error() {
        let err = load(Path::new("/nonexistent/libnothing-pkcs11.so")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("cannot load PKCS#11 module /nonexistent/libnothing-pkcs11.so: "),
            "{text}"
        );
        assert!(text.contains("No such file or directory"), "{text}");
        assert!(text.contains("/usr/lib/softhsm/libsofthsm2.so"), "{text}");
    }
}
