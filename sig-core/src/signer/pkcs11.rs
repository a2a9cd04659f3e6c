//! Signing with a private key that stays in a PKCS#11 token or HSM: [`Pkcs11Signer`].

mod module;
mod token;
mod uri;

use core::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::types::Ulong;
use zeroize::Zeroizing;

pub use uri::Pkcs11Uri;

use super::SigningKey;
use crate::algorithm::{HashAlgorithm, KeySpec, SignatureAlgorithm, SignatureScheme};
use crate::error::{Error, LoginRefusal, Pkcs11Error, SignError};
use crate::key::PublicKey;
use crate::x509::Certificate;

/// Largest PIN file read (a PIN is a few bytes; anything longer is the wrong file).
const MAX_PIN_FILE_LEN: u64 = 4096;

/// A token user PIN. `Debug` never shows it and its memory is cleared when dropped.
pub struct Pkcs11Pin(Zeroizing<Vec<u8>>);

impl Pkcs11Pin {
    /// A PIN from its bytes (as taken from an environment variable).
    pub fn new(pin: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(pin.into()))
    }

    /// Reads a PIN file. A trailing newline (`echo 1234 > pin`) is not part of the PIN.
    ///
    /// # Errors
    ///
    /// [`Pkcs11Error::PinFile`] when the file cannot be read or is longer than 4 KiB.
    pub fn read_file(path: &Path) -> Result<Self, Pkcs11Error> {
        let pin = crate::fs::read_secret(path, MAX_PIN_FILE_LEN)
            .map_err(|source| Pkcs11Error::PinFile { path: path.to_owned(), source })?;
        Ok(Self(pin))
    }
}

impl fmt::Debug for Pkcs11Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pkcs11Pin(..)")
    }
}

/// Configures and opens a [`Pkcs11Signer`]; made by [`Pkcs11Signer::builder`].
#[derive(Debug)]
#[must_use]
pub struct Pkcs11SignerBuilder {
    uri: Pkcs11Uri,
    module: Option<PathBuf>,
    pin: Option<Pkcs11Pin>,
    hash_in_software: bool,
}

impl Pkcs11SignerBuilder {
    /// The PKCS#11 module file. Needed unless the URI has `module-path`; when both are given
    /// they must name the same file.
    pub fn module(mut self, path: impl Into<PathBuf>) -> Self {
        self.module = Some(path.into());
        self
    }

    /// The user PIN. Without it, the file named by the URI's `pin-source` is read; without
    /// either, the token is used without logging in (or through its PIN pad, when it has one).
    ///
    /// A PKCS#11 login belongs to the whole process: while another session of this process is
    /// logged in to the token, the token accepts the login without checking the PIN
    /// (`CKR_USER_ALREADY_LOGGED_IN`).
    pub fn pin(mut self, pin: Pkcs11Pin) -> Self {
        self.pin = Some(pin);
        self
    }

    /// Hash in software and send only the digest to the token (`CKM_RSA_PKCS_PSS`,
    /// `CKM_RSA_PKCS`), even when it offers the hashing mechanisms: for tokens whose hashing
    /// mechanisms are slow or broken. ECDSA always hashes in software. Default `false`.
    pub fn hash_in_software(mut self, yes: bool) -> Self {
        self.hash_in_software = yes;
        self
    }

    /// Loads the module, finds the token, logs in, finds the private key and checks it against
    /// `certificate` (the leaf certificate issued for the key), whose public key becomes the
    /// signer's [`public_key`](SigningKey::public_key).
    ///
    /// # Errors
    ///
    /// [`Error::Key`] when the leaf's key is not one of Notation's key specs, and
    /// [`Error::Pkcs11`] with: [`Pkcs11Error::NoModule`] / [`Pkcs11Error::ModuleConflict`] /
    /// [`Pkcs11Error::ModuleLoad`] for the module; [`Pkcs11Error::TokenNotFound`] (listing the
    /// tokens found) / [`Pkcs11Error::AmbiguousToken`]; [`Pkcs11Error::PinRequired`] /
    /// [`Pkcs11Error::AccessDenied`] / [`Pkcs11Error::PinFile`] for the login;
    /// [`Pkcs11Error::KeyNotFound`] (naming what was searched) / [`Pkcs11Error::AmbiguousKey`];
    /// [`Pkcs11Error::UnsupportedKey`], [`Pkcs11Error::KeyTypeMismatch`],
    /// [`Pkcs11Error::KeyMismatch`] and [`Pkcs11Error::CannotSign`] for the key; and
    /// [`Pkcs11Error::Call`] when the token fails.
    pub fn open(self, certificate: &Certificate) -> Result<Pkcs11Signer, Error> {
        let leaf_key = certificate.public_key()?;
        let subject = certificate.subject().to_owned();
        self.open_checked(leaf_key, subject)
    }

    /// As [`open`](Self::open), for key-only signing (no certificate, as cosign `--key`): the
    /// token key is checked against `public_key` (type, size, RSA modulus, and the public key
    /// object when the token has one), which becomes the signer's public key. Mismatch errors
    /// name the public key as `(the configured public key)` where they name a leaf's subject.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with_public_key(self, public_key: PublicKey) -> Result<Pkcs11Signer, Error> {
        self.open_checked(public_key, "(the configured public key)".to_owned())
    }

    fn open_checked(self, leaf_key: PublicKey, subject: String) -> Result<Pkcs11Signer, Error> {
        let module = match (self.module, self.uri.module_path()) {
            (Some(configured), Some(in_uri)) if configured != in_uri => {
                return Err(
                    Pkcs11Error::ModuleConflict { configured, in_uri: in_uri.to_owned() }.into()
                );
            }
            (Some(module), _) => module,
            (None, Some(in_uri)) => in_uri.to_owned(),
            (None, None) => return Err(Pkcs11Error::NoModule.into()),
        };
        let pin = match (self.pin, self.uri.pin_source()) {
            (Some(pin), _) => Some(pin),
            (None, Some(file)) => Some(Pkcs11Pin::read_file(file)?),
            (None, None) => None,
        };
        let context = module::load(&module)?;
        let (slot, info, token) = token::find_token(&context, &self.uri, &module)?;
        let session = context
            .open_ro_session(slot)
            .map_err(|e| module::call_error(format!("opening a session with {token}"), e))?;
        let logged_in = token::login(&session, &info, pin.as_ref(), &token)?;
        drop(pin);
        let (key, key_name) = token::find_private_key(&session, &self.uri, &token, logged_in)?;
        let attributes = session
            .get_attributes(
                key,
                &[
                    AttributeType::KeyType,
                    AttributeType::Modulus,
                    AttributeType::EcParams,
                    AttributeType::Sign,
                    AttributeType::AlwaysAuthenticate,
                    AttributeType::Id,
                    AttributeType::Label,
                ],
            )
            .map_err(|e| module::call_error(format!("reading the attributes of {key_name}"), e))?;
        let spec = token::key_spec(&attributes, &key_name)?;
        if spec != leaf_key.key_spec() {
            return Err(Pkcs11Error::KeyTypeMismatch {
                key: key_name,
                actual: spec,
                expected: leaf_key.key_spec(),
                subject,
            }
            .into());
        }
        token::check_can_sign(&attributes, &key_name)?;
        if let Some(modulus) = token::find_attr(&attributes, |a| match a {
            Attribute::Modulus(m) => Some(m.as_slice()),
            _ => None,
        }) && !token::same_modulus(modulus, &leaf_key)
        {
            return Err(Pkcs11Error::KeyMismatch {
                key: key_name,
                subject,
                compared: "the private key's CKA_MODULUS",
            }
            .into());
        }
        let public_key_checked = token::check_public_key_object(&session, &attributes, &leaf_key)
            .map_err(|compared| Pkcs11Error::KeyMismatch {
            key: key_name.clone(),
            subject: subject.clone(),
            compared,
        })?;
        // Tokens that cannot list their mechanisms get the hashing ones tried first.
        let mechanisms = context.get_mechanism_list(slot).ok();
        Ok(Pkcs11Signer {
            public: leaf_key,
            spec,
            session: Mutex::new(session),
            key,
            mechanisms,
            hash_in_software: self.hash_in_software,
            module,
            token,
            key_name,
            public_key_checked,
        })
    }
}

/// Signs with a private key that stays in a PKCS#11 token or HSM.
///
/// The key is named by an RFC 7512 URI ([`Pkcs11Uri`]); the module (the vendor's `.so`) comes from
/// the URI's `module-path` or is given explicitly; the PIN comes from the caller (read from an
/// environment variable or a file, [`Pkcs11Pin`]) or from the file the URI names in `pin-source`,
/// never from the URI itself. Its public key is that of the certificate it was checked against.
///
/// [`Pkcs11SignerBuilder::open`] finds the token, logs in, finds the private key and checks it
/// against the leaf certificate: key type and size, the RSA modulus, and the matching public key
/// object's `CKA_MODULUS` / `CKA_EC_POINT` when the token has one (same `CKA_ID`). The session
/// stays open and logged in for the signer's life and is shared by its callers under a lock.
///
/// ```text
/// algorithm            mechanism (hash on the token)   or, without it / hash_in_software(true)
/// RSASSA-PSS-SHA-256   CKM_SHA256_RSA_PKCS_PSS          CKM_RSA_PKCS_PSS over SHA-256(payload)
/// RSASSA-PSS-SHA-384   CKM_SHA384_RSA_PKCS_PSS          CKM_RSA_PKCS_PSS over SHA-384(payload)
/// RSASSA-PSS-SHA-512   CKM_SHA512_RSA_PKCS_PSS          CKM_RSA_PKCS_PSS over SHA-512(payload)
///   (CK_RSA_PKCS_PSS_PARAMS: hashAlg = the hash, mgf = MGF1 with the same hash, sLen = hash length)
/// RSA PKCS#1 v1.5 SHA-n CKM_SHAn_RSA_PKCS               CKM_RSA_PKCS over DigestInfo(SHA-n(payload))
/// ECDSA-SHA-n          CKM_ECDSA over SHA-n(payload), always; the token returns r || s
/// ```
///
/// ```no_run
/// use sig_core::signer::{CertifiedKey, Pkcs11Pin, Pkcs11Signer, SigningKey as _};
/// use sig_core::{CertificateChain, SignatureAlgorithm};
///
/// let chain = CertificateChain::read_pem_file("chain.pem".as_ref())?;
/// let token_key = Pkcs11Signer::builder(
///     "pkcs11:token=ci;object=release;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so"
///         .parse()?,
/// )
/// .pin(Pkcs11Pin::read_file("/run/secrets/token-pin".as_ref())?)
/// .open(chain.leaf())?;
/// let signer = CertifiedKey::new(chain, token_key)?;
/// let signature = signer.sign(SignatureAlgorithm::EcdsaSha256, b"payload")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Pkcs11Signer {
    /// The leaf certificate's key, checked against the token key.
    public: PublicKey,
    spec: KeySpec,
    // A cryptoki Session is Send but not Sync: one caller at a time.
    session: Mutex<Session>,
    key: ObjectHandle,
    mechanisms: Option<Vec<MechanismType>>,
    hash_in_software: bool,
    module: PathBuf,
    token: String,
    key_name: String,
    public_key_checked: bool,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("key", &self.key_name)
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// Starts configuring a signer for the key `uri` names.
    pub fn builder(uri: Pkcs11Uri) -> Pkcs11SignerBuilder {
        Pkcs11SignerBuilder { uri, module: None, pin: None, hash_in_software: false }
    }

    /// The module file.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The token, described: label, manufacturer, model, serial and slot.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The private key, described: label and id.
    pub fn key(&self) -> &str {
        &self.key_name
    }

    /// Whether a public key object with the key's `CKA_ID` was found on the token and compared
    /// with the leaf certificate (the private key's type, size and RSA modulus always are).
    pub fn public_key_checked(&self) -> bool {
        self.public_key_checked
    }

    fn supports(&self, mechanism: MechanismType) -> bool {
        self.mechanisms.as_ref().is_none_or(|list| list.contains(&mechanism))
    }

    fn sign_on_token(
        &self,
        algorithm: SignatureAlgorithm,
        payload: &[u8],
    ) -> Result<Vec<u8>, Pkcs11Error> {
        let choice =
            choose(algorithm, self.hash_in_software, |m| self.supports(m)).map_err(|wanted| {
                Pkcs11Error::MechanismUnsupported {
                    token: self.token.clone(),
                    algorithm,
                    mechanisms: wanted
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?;
        let hash = algorithm.hash();
        let data = match choice.input {
            Input::Message => payload.to_vec(),
            Input::Digest => hash.digest(payload),
            Input::DigestInfo => [digest_info_prefix(hash), &hash.digest(payload)].concat(),
        };
        let session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let signature = session.sign(&choice.mechanism, self.key, &data).map_err(|e| match e {
            CryptokiError::Pkcs11(RvError::UserNotLoggedIn, _) => Pkcs11Error::AccessDenied {
                token: self.token.clone(),
                reason: LoginRefusal::NotLoggedIn,
            },
            other => module::call_error(format!("signing with {}", self.key_name), other),
        })?;
        drop(session);
        if algorithm.scheme() != SignatureScheme::Ecdsa
            || signature.len() == self.spec.signature_len()
        {
            return Ok(signature);
        }
        // PKCS#11 specifies r || s for CKM_ECDSA; some tokens return DER anyway.
        crate::ecdsa::normalize(self.spec, &signature).map_err(|e| Pkcs11Error::BadSignature {
            token: self.token.clone(),
            algorithm,
            reason: e.to_string(),
        })
    }
}

impl SigningKey for Pkcs11Signer {
    fn key_spec(&self) -> KeySpec {
        self.spec
    }

    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        if !algorithm.fits(self.spec) {
            return Err(SignError::AlgorithmMismatch { algorithm, key_spec: self.spec });
        }
        Ok(self.sign_on_token(algorithm, payload)?)
    }
}

/// What the token signs: the payload, its digest, or a PKCS#1 `DigestInfo` of the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Message,
    Digest,
    DigestInfo,
}

#[derive(Debug)]
struct Choice {
    mechanism: Mechanism<'static>,
    input: Input,
}

/// The mechanism for `algorithm`: the hashing one when the token has it (and `hash_in_software`
/// is off), else the raw one over a digest. `Err` lists the mechanisms that would do.
fn choose(
    algorithm: SignatureAlgorithm,
    hash_in_software: bool,
    supports: impl Fn(MechanismType) -> bool,
) -> Result<Choice, Vec<MechanismType>> {
    let hash = algorithm.hash();
    let pss = pss_params(hash);
    let (hashing, raw) = match algorithm.scheme() {
        SignatureScheme::RsaPss => (
            Some(match hash {
                HashAlgorithm::Sha256 => Mechanism::Sha256RsaPkcsPss(pss),
                HashAlgorithm::Sha384 => Mechanism::Sha384RsaPkcsPss(pss),
                HashAlgorithm::Sha512 => Mechanism::Sha512RsaPkcsPss(pss),
            }),
            (Mechanism::RsaPkcsPss(pss), Input::Digest),
        ),
        SignatureScheme::RsaPkcs1v15 => (
            Some(match hash {
                HashAlgorithm::Sha256 => Mechanism::Sha256RsaPkcs,
                HashAlgorithm::Sha384 => Mechanism::Sha384RsaPkcs,
                HashAlgorithm::Sha512 => Mechanism::Sha512RsaPkcs,
            }),
            (Mechanism::RsaPkcs, Input::DigestInfo),
        ),
        // Hashing in software keeps to the one mechanism every EC token has.
        SignatureScheme::Ecdsa => (None, (Mechanism::Ecdsa, Input::Digest)),
    };
    let wanted: Vec<MechanismType> =
        hashing.iter().chain([&raw.0]).map(Mechanism::mechanism_type).collect();
    if let Some(mechanism) = hashing.filter(|m| !hash_in_software && supports(m.mechanism_type())) {
        return Ok(Choice { mechanism, input: Input::Message });
    }
    let (mechanism, input) = raw;
    if supports(mechanism.mechanism_type()) {
        return Ok(Choice { mechanism, input });
    }
    Err(wanted)
}

/// RSASSA-PSS parameters Notation (go-cose) requires: MGF1 with the signing hash, salt length =
/// hash length.
fn pss_params(hash: HashAlgorithm) -> PkcsPssParams {
    let (hash_alg, mgf, s_len) = match hash {
        HashAlgorithm::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32),
        HashAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384, 48),
        HashAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512, 64),
    };
    PkcsPssParams { hash_alg, mgf, s_len: Ulong::new(s_len) }
}

/// The DER `DigestInfo` prefix of a hash (RFC 8017 §9.2, note 1).
fn digest_info_prefix(hash: HashAlgorithm) -> &'static [u8] {
    match hash {
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mechanism_of(
        algorithm: SignatureAlgorithm,
        soft: bool,
        has: &[MechanismType],
    ) -> Result<(MechanismType, Input), Vec<MechanismType>> {
        choose(algorithm, soft, |m| has.contains(&m))
            .map(|c| (c.mechanism.mechanism_type(), c.input))
    }

    #[test]
    fn prefers_hashing_mechanisms() {
        let all = [
            MechanismType::SHA256_RSA_PKCS_PSS,
            MechanismType::SHA384_RSA_PKCS_PSS,
            MechanismType::SHA512_RSA_PKCS_PSS,
            MechanismType::RSA_PKCS_PSS,
            MechanismType::SHA256_RSA_PKCS,
            MechanismType::RSA_PKCS,
            MechanismType::ECDSA,
            MechanismType::ECDSA_SHA256,
        ];
        use SignatureAlgorithm as A;
        assert_eq!(
            mechanism_of(A::RsaPssSha384, false, &all),
            Ok((MechanismType::SHA384_RSA_PKCS_PSS, Input::Message))
        );
        assert_eq!(
            mechanism_of(A::RsaPkcs1v15Sha256, false, &all),
            Ok((MechanismType::SHA256_RSA_PKCS, Input::Message))
        );
        assert_eq!(
            mechanism_of(A::EcdsaSha256, false, &all),
            Ok((MechanismType::ECDSA, Input::Digest))
        );
        assert_eq!(
            mechanism_of(A::RsaPssSha512, true, &all),
            Ok((MechanismType::RSA_PKCS_PSS, Input::Digest))
        );
        assert_eq!(
            mechanism_of(A::RsaPkcs1v15Sha256, true, &all),
            Ok((MechanismType::RSA_PKCS, Input::DigestInfo))
        );
    }

    #[test]
    fn falls_back_to_raw_mechanisms_and_names_what_is_missing() {
        use SignatureAlgorithm as A;
        let raw = [MechanismType::RSA_PKCS_PSS, MechanismType::RSA_PKCS];
        assert_eq!(
            mechanism_of(A::RsaPssSha256, false, &raw),
            Ok((MechanismType::RSA_PKCS_PSS, Input::Digest))
        );
        assert_eq!(
            mechanism_of(A::RsaPkcs1v15Sha512, false, &raw),
            Ok((MechanismType::RSA_PKCS, Input::DigestInfo))
        );
        assert_eq!(
            mechanism_of(A::RsaPssSha256, false, &[]),
            Err(vec![MechanismType::SHA256_RSA_PKCS_PSS, MechanismType::RSA_PKCS_PSS])
        );
        assert_eq!(mechanism_of(A::EcdsaSha384, false, &raw), Err(vec![MechanismType::ECDSA]));
    }

    #[test]
    fn pss_salt_len_equals_hash_len() {
        for hash in HashAlgorithm::ALL {
            let params = pss_params(hash);
            assert_eq!(usize::from(params.s_len), hash.output_len());
        }
        assert_eq!(pss_params(HashAlgorithm::Sha384).mgf, PkcsMgfType::MGF1_SHA384);
        assert_eq!(pss_params(HashAlgorithm::Sha512).hash_alg, MechanismType::SHA512);
    }

    #[test]
    fn digest_info_prefixes_end_with_the_digest_length() {
        for hash in HashAlgorithm::ALL {
            let prefix = digest_info_prefix(hash);
            assert_eq!(usize::from(prefix[prefix.len() - 1]), hash.output_len());
            assert_eq!(usize::from(prefix[1]) + 2, prefix.len() + hash.output_len());
        }
    }

    #[test]
    fn pin_files_lose_the_trailing_newline_and_never_show() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "12 34\r\n\n").unwrap();
        let pin = Pkcs11Pin::read_file(&path).unwrap();
        assert_eq!(pin.0.as_slice(), b"12 34");
        assert_eq!(format!("{pin:?}"), "Pkcs11Pin(..)");
        let err = Pkcs11Pin::read_file(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(err, Pkcs11Error::PinFile { .. }) && err.is_access_denied(), "{err}");
    }
}
