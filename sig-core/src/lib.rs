//! Sign container images with keys that live anywhere.
//!
//! `sig-core` is the library behind the `notation-external-signer` plugin and the
//! `cosign-compat` tool:
//!
//! - [`KeySpec`], [`HashAlgorithm`], [`SignatureAlgorithm`]: Notation's key specs and their
//!   algorithm pairing (RSASSA-PSS with salt = hash length, ECDSA as raw `r || s`).
//! - [`PrivateKey`] / [`PublicKey`]: keys from PEM or DER (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1).
//! - [`Signer`]: the seam to whatever holds the key; [`KeyFileSigner`] signs in-process,
//!   [`CommandSigner`] runs an external program under a timeout. [`sign_verified`] checks every
//!   signature against the leaf certificate and names the cause when it does not verify.
//! - [`CertificateChain`]: PEM or DER in any order, ordered leaf → root and checked by notation's
//!   rules, each failure naming the certificate and the rule.
//! - [`envelope::sign`] / [`envelope::verify`]: Notary JWS and COSE envelopes byte-compatible
//!   with notation v1.3, over a [`NotaryPayload`]; [`media_type`] spells every media type and
//!   header name once.
//!
//! The crate reads files only where a function says so (`open`), runs programs only in
//! [`CommandSigner`], and takes the time as a parameter; it holds no global state.

mod algorithm;
pub mod ecdsa;
pub mod envelope;
mod error;
pub mod fs;
mod gojson;
mod hex;
mod key;
pub mod media_type;
pub mod payload;
mod pem;
pub mod signer;
pub mod x509;

pub use algorithm::{HashAlgorithm, KeySpec, SignatureAlgorithm, SignatureScheme};
pub use envelope::{
    EnvelopeFormat, ExtendedAttribute, SignPayload, SignRequest, SigningInput, SigningScheme,
    VerifiedEnvelope,
};
pub use error::{
    AlgorithmError, CertificateError, ChainRule, EnvelopeError, Error, KeyError, SignError,
    SignatureDiagnosis,
};
pub use key::{PrivateKey, PublicKey};
pub use payload::{Descriptor, NotaryPayload};
/// The JSON library of [`ExtendedAttribute::value`].
pub use serde_json;
pub use signer::{CommandSigner, KeyFileSigner, OutputEncoding, Signer, sign_verified};
pub use x509::{Certificate, CertificateChain};
