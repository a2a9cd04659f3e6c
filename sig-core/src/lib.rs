//! Sign container images with keys that live anywhere.
//!
//! `sig-core` is the library behind the `notation-external-signer` plugin and the
//! `cosign-compat` tool:
//!
//! - [`KeySpec`], [`HashAlgorithm`], [`SignatureAlgorithm`]: Notation's key specs and their
//!   algorithm pairing (RSASSA-PSS with salt = hash length, ECDSA as raw `r || s`).
//! - [`PrivateKey`] / [`PublicKey`]: keys from PEM or DER (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1).
//! - [`SigningKey`]: the seam to whatever holds the key; a [`PrivateKey`] signs in-process,
//!   [`CommandSigner`] runs an external program under a timeout, `Pkcs11Signer` (default feature
//!   `pkcs11`) signs with a key in a PKCS#11 token or HSM named by an RFC 7512 `pkcs11:` URI.
//!   [`CertifiedKey`] pairs a key with its certificate chain (checking that they belong together)
//!   and verifies every signature against the leaf; [`sign_verified`] does the same against the
//!   key's own public key for key-only signing. Both name the cause when a signature does not
//!   verify.
//! - [`CertificateChain`]: PEM or DER in any order, ordered leaf → root and checked by notation's
//!   rules, each failure naming the certificate and the rule.
//! - [`envelope::sign`] / [`envelope::verify`]: Notary JWS and COSE envelopes byte-compatible
//!   with notation v1.3, over a [`NotaryPayload`], verified against [`TrustAnchors`] (never
//!   empty; skipping the authenticity check is [`envelope::dangerous`]); [`media_type`] spells
//!   every Notary media type and header name once, [`oci`] the OCI digests, descriptors and
//!   media types that Notary and cosign signatures share.
//! - Errors are data ([`Error`] nests one narrow enum per task): they name what is wrong and never
//!   a setting of the program using the crate; the plugin and the CLIs add that advice.
//!
//! The crate reads files only where a function says so (`open`, `read_*_file`, `from_file`),
//! runs programs only in [`CommandSigner`], and takes the time as a parameter. Its only global state is the list of
//! PKCS#11 modules loaded: `C_Initialize` is once per process, so a module stays loaded until
//! the process exits. It does not
//! talk to registries and does not implement notation's trust policy beyond "some certificate of
//! the chain is one of these trust anchors".
//!
//! # Example
//!
//! Sign an image manifest descriptor into a COSE envelope with a key file, then verify it:
//!
//! ```
//! use std::time::SystemTime;
//! use sig_core::oci::{self, Descriptor};
//! use sig_core::{
//!     envelope, CertificateChain, CertifiedKey, EnvelopeFormat, NotaryPayload, PrivateKey,
//!     SignRequest, TrustAnchors,
//! };
//!
//! # fn main() -> Result<(), sig_core::Error> {
//! # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki/ec-384/");
//! # let key_pem = std::fs::read(format!("{dir}leaf.key")).unwrap();
//! # let chain_pem = std::fs::read(format!("{dir}chain_shuffled.pem")).unwrap();
//! # let root_pem = std::fs::read(format!("{dir}ca.crt")).unwrap();
//! // Any order: the chain is ordered leaf → root and checked by notation's rules.
//! let chain = CertificateChain::from_pem(&chain_pem)?;
//! let key = PrivateKey::from_pem(&key_pem, None)?;
//! let signer = CertifiedKey::new(chain, key)?; // refuses a key that is not the leaf's
//!
//! let manifest = Descriptor::new(
//!     oci::OCI_MANIFEST,
//!     "sha256:b5ce83abbe900f57e0dbce7e763dceb0e118e888624d58fe41f9a9936ac64c79",
//!     481,
//! );
//! let now = SystemTime::now();
//! let request = SignRequest::new(NotaryPayload::new(manifest), now);
//! let cose = envelope::sign(EnvelopeFormat::Cose, &request, &signer)?;
//!
//! let trust_store = TrustAnchors::from_pem(&root_pem)?;
//! let verified = envelope::verify(EnvelopeFormat::Cose, &cose, &trust_store, now)?;
//! assert_eq!(verified.payload().target_artifact.size, 481);
//! # Ok(())
//! # }
//! ```

mod algorithm;
pub mod ecdsa;
pub mod envelope;
mod error;
mod fs;
mod gojson;
mod hex;
mod key;
#[cfg(feature = "key-source")]
pub mod key_source;
// The environment variable names live there; without the feature they stay private.
#[cfg(not(feature = "key-source"))]
mod key_source;
pub mod media_type;
pub mod oci;
mod payload;
mod pem;
pub mod signer;
mod timestamp;
mod trust;
pub mod x509;

/// **Not public API.** Helpers that the workspace's other crates (the notation plugin,
/// cosign-compat) share with sig-core so that each exists once: bounded file reads, Go-style
/// JSON, the PEM splitter and the RFC 3339 formatter of messages. Hidden from the
/// documentation; they may change in any release.
#[doc(hidden)]
pub mod __private {
    /// Bounded, non-blocking file reads and private log files.
    pub mod fs {
        pub use crate::fs::{MAX_FILE_LEN, open_private_append, read_bounded, readable_by_others};
    }
    /// JSON bytes as Go's `encoding/json` writes them.
    pub mod gojson {
        pub use crate::gojson::to_vec;
    }
    /// The PEM blocks of a text.
    pub mod pem {
        pub use crate::pem::{PemBlock, blocks, looks_like_pem};
    }
    /// RFC 3339 text of times in messages.
    pub mod timestamp {
        pub use crate::timestamp::{rfc3339, rfc3339_with_fraction};
    }
    /// The work counter tests bound chain searches with.
    pub mod x509 {
        /// How many certificate signatures this thread has verified with an issuer's key so far.
        pub fn signature_checks_on_this_thread() -> u64 {
            crate::x509::signature_checks_on_this_thread()
        }
    }
}

/// **Not public API.** `From` each of sig-core's narrow errors for an application's error type,
/// through [`Error`], so that `?` needs no `map_err` (the notation plugin and cosign-compat).
#[cfg(feature = "pkcs11")]
#[doc(hidden)]
#[macro_export]
macro_rules! __from_narrow_errors {
    ($target:ty) => {
        $crate::__from_narrow_errors!(@each $target: $crate::AlgorithmError,
            $crate::CertificateError, $crate::EnvelopeError, $crate::KeyError, $crate::SignError,
            $crate::Pkcs11Error);
    };
    (@each $target:ty: $($narrow:ty),*) => {$(
        impl ::core::convert::From<$narrow> for $target {
            fn from(err: $narrow) -> Self {
                Self::from($crate::Error::from(err))
            }
        }
    )*};
}

/// **Not public API.** As above, without PKCS#11.
#[cfg(not(feature = "pkcs11"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __from_narrow_errors {
    ($target:ty) => {
        $crate::__from_narrow_errors!(@each $target: $crate::AlgorithmError,
            $crate::CertificateError, $crate::EnvelopeError, $crate::KeyError, $crate::SignError);
    };
    (@each $target:ty: $($narrow:ty),*) => {$(
        impl ::core::convert::From<$narrow> for $target {
            fn from(err: $narrow) -> Self {
                Self::from($crate::Error::from(err))
            }
        }
    )*};
}

pub use algorithm::{HashAlgorithm, KeySpec, SignatureAlgorithm, SignatureScheme};
/// The PKCS#11 binding, whose error is the source of [`Pkcs11Error::Call`].
#[cfg(feature = "pkcs11")]
pub use cryptoki;
pub use envelope::{
    EnvelopeFormat, ExtendedAttribute, SignPayload, SignRequest, SigningInput, SigningScheme,
    VerifiedEnvelope,
};
pub use error::message_with_sources;
pub use error::{
    AlgorithmError, CertificateError, CertificateRole, ChainRule, EnvelopeError, Error, KeyError,
    KeyFormat, SignError, SignRequestProblem, SignatureDiagnosis, UnsupportedKey,
};
#[cfg(feature = "pkcs11")]
pub use error::{LoginRefusal, Pkcs11Error};
pub use key::{PrivateKey, PublicKey};
pub use payload::NotaryPayload;
/// The JSON library of [`ExtendedAttribute::value`].
pub use serde_json;
pub use signer::{CertifiedKey, CommandSigner, OutputEncoding, SigningKey, sign_verified};
#[cfg(feature = "pkcs11")]
pub use signer::{Pkcs11Pin, Pkcs11Signer, Pkcs11Uri};
pub use trust::TrustAnchors;
pub use x509::{Certificate, CertificateChain};
