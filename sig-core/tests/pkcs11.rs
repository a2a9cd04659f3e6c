//! `Pkcs11Signer` against a real token: `SoftHSM2`, initialised by `scripts/softhsm-pki.sh`, with
//! RSA-2048/3072/4096 and EC P-256/384/521 keys generated in it (#8).
//!
//! `SoftHSM` reads `SOFTHSM2_CONF` once, at the process's first `C_Initialize`, and a test cannot
//! set its own environment (`set_var` is `unsafe` in edition 2024; the workspace forbids
//! `unsafe`). So the variable comes from cargo: `.cargo/config.toml` `[env]` sets
//! `SOFTHSM2_CONF=<workspace>/target/softhsm2-test/softhsm2.conf` for every process cargo runs,
//! test binaries included, and the tests in `token` make that token on first use ([`pki`]): the
//! directory is deleted and made anew once per test binary run, before any test of this process
//! initialises the module. Every test that reaches the token holds [`Token`], which lets one test
//! at a time use it (a PKCS#11 login belongs to the whole process, so a wrong-PIN test must not
//! run beside a logged-in signer). When `SoftHSM2` or `OpenSC` is missing, or `SOFTHSM2_CONF` is
//! not the one cargo sets (a `SOFTHSM2_CONF` of your own shell wins over `[env]`), those tests fail
//! and say what to do; none is skipped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use sig_core::signer::{Pkcs11Pin, Pkcs11Signer, Pkcs11Uri};
use sig_core::{CertificateChain, Error, Pkcs11Error};

use crate::common::data;

#[path = "../../tests/support/softhsm.rs"]
mod softhsm;
use softhsm::MODULE;

fn ec_chain() -> CertificateChain {
    CertificateChain::read_pem_file(&data("pki/ec-256/certificate_chain.pem")).unwrap()
}

#[test]
fn pin_value_in_the_uri_is_refused() {
    let err = "pkcs11:token=t;object=k?pin-value=98765".parse::<Pkcs11Uri>().unwrap_err();
    assert!(matches!(err, Pkcs11Error::PinInUri), "{err}");
    let text = err.to_string();
    // The library says what is wrong; the plugin and cosign-compat name their PIN variables.
    assert!(text.contains("pin-value") && text.contains("pin-source=PATH"), "{text}");
    assert!(!text.contains("EXTERNAL_"), "{text}");
    assert!(!text.contains("98765"), "the PIN is echoed: {text}");
}

#[test]
fn missing_module_says_how_to_install_it() {
    let uri = "pkcs11:token=t;object=k?module-path=/nonexistent/libsofthsm2.so".parse().unwrap();
    let err =
        Pkcs11Signer::builder(uri).pin(Pkcs11Pin::new("1234")).open(ec_chain().leaf()).unwrap_err();
    assert!(matches!(err, Error::Pkcs11(Pkcs11Error::ModuleLoad { .. })), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("cannot load PKCS#11 module /nonexistent/libsofthsm2.so: /nonexistent/libsofthsm2.so: cannot open shared object file: No such file or directory; install it"),
        "{text}"
    );
    assert!(text.contains("Debian softhsm2 puts it at /usr/lib/softhsm/libsofthsm2.so"), "{text}");
}

#[test]
fn module_must_be_given_once() {
    let uri: Pkcs11Uri = "pkcs11:token=t".parse().unwrap();
    let err = Pkcs11Signer::builder(uri).open(ec_chain().leaf()).unwrap_err();
    assert!(matches!(err, Error::Pkcs11(Pkcs11Error::NoModule)), "{err:?}");
    let uri: Pkcs11Uri = "pkcs11:token=t?module-path=/a.so".parse().unwrap();
    let err = Pkcs11Signer::builder(uri).module("/b.so").open(ec_chain().leaf()).unwrap_err();
    assert!(err.to_string().contains("two different PKCS#11 modules given: /b.so and"), "{err}");
}

#[test]
fn pin_source_that_cannot_be_read_is_access_denied() {
    // The real module: hold the token so that, should `open` ever load the module before reading
    // the PIN, `SoftHSM` still initialises with the test token's configuration.
    let _token = token();
    let uri = format!("pkcs11:token=t?module-path={MODULE}&pin-source=/nonexistent/pin");
    let err = Pkcs11Signer::builder(uri.parse().unwrap()).open(ec_chain().leaf()).unwrap_err();
    let Error::Pkcs11(inner) = &err else { panic!("{err:?}") };
    assert!(inner.is_access_denied(), "{err}");
    assert!(err.to_string().contains("cannot read the PKCS#11 PIN file /nonexistent/pin"), "{err}");
}

/// The token PKI in `<workspace>/target/softhsm2-test`, made on first use in this process: checks
/// that `SOFTHSM2_CONF` names its `softhsm2.conf` and that `SoftHSM2` and `OpenSC` are installed,
/// takes `target/softhsm2-test.lock` for the rest of the process (two test runs at once would
/// remake each other's token), deletes what an earlier run left and runs
/// `scripts/softhsm-pki.sh --out <dir>`. Panics, with what to do, when any of that fails; the
/// next caller tries again.
fn pki() -> &'static Path {
    static PKI: OnceLock<(File, PathBuf)> = OnceLock::new();
    &PKI.get_or_init(make_token_pki).1
}

fn make_token_pki() -> (File, PathBuf) {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("target");
    let dir = target.join("softhsm2-test");
    let conf = dir.join("softhsm2.conf");
    let actual = std::env::var_os("SOFTHSM2_CONF");
    assert!(
        actual.as_deref() == Some(conf.as_os_str()),
        "SOFTHSM2_CONF is {actual:?}, but the PKCS#11 tests need it to be {}: `.cargo/config.toml` \
         [env] sets it for processes run by cargo unless the environment sets it already; \
         unset SOFTHSM2_CONF, or run the test binary with SOFTHSM2_CONF={}",
        conf.display(),
        conf.display()
    );
    std::fs::create_dir_all(&target).unwrap();
    let lock = File::create(target.join("softhsm2-test.lock")).unwrap();
    lock.lock().unwrap();
    softhsm::make_token_pki(&dir);
    (lock, dir)
}

/// The token, for one test at a time: the PKI is made first ([`pki`]), so this is also what
/// every test calls before anything can initialise `SoftHSM`.
#[derive(Debug)]
struct Token {
    pki: &'static Path,
    _turn: MutexGuard<'static, ()>,
}

fn token() -> Token {
    static TURN: Mutex<()> = Mutex::new(());
    let pki = pki();
    Token { pki, _turn: TURN.lock().unwrap_or_else(PoisonError::into_inner) }
}

/// Tests that sign with, or are refused by, the token.
mod token {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use openssl::ecdsa::EcdsaSig;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Padding;
    use openssl::sign::{RsaPssSaltlen, Verifier};
    use sig_core::envelope::{self, EnvelopeFormat};
    use sig_core::signer::{Pkcs11Pin, Pkcs11Signer, Pkcs11Uri};
    use sig_core::{
        CertificateChain, CertifiedKey, Error, HashAlgorithm, KeySpec, Pkcs11Error,
        SignatureAlgorithm, SignatureScheme, SigningKey as _, sign_verified,
    };

    use super::{MODULE, Token, token};
    use crate::common::{data, request, signing_time};

    impl Token {
        fn pki(&self) -> &Path {
            self.pki
        }

        fn dir(&self, spec: KeySpec) -> PathBuf {
            self.pki.join(spec.as_str().to_ascii_lowercase())
        }

        fn uri(&self, spec: KeySpec) -> Pkcs11Uri {
            std::fs::read_to_string(self.dir(spec).join("uri")).unwrap().parse().unwrap()
        }

        fn chain(&self, spec: KeySpec) -> CertificateChain {
            CertificateChain::read_pem_file(&self.dir(spec).join("certificate_chain.pem")).unwrap()
        }

        fn pin(&self) -> Pkcs11Pin {
            Pkcs11Pin::read_file(&self.pki.join("user.pin")).unwrap()
        }

        fn open(&self, spec: KeySpec) -> Pkcs11Signer {
            Pkcs11Signer::builder(self.uri(spec))
                .module(MODULE)
                .pin(self.pin())
                .open(self.chain(spec).leaf())
                .unwrap()
        }

        fn open_err(&self, uri: &str, spec: KeySpec, pin: Option<Pkcs11Pin>) -> Error {
            let mut builder = Pkcs11Signer::builder(uri.parse().unwrap()).module(MODULE);
            if let Some(pin) = pin {
                builder = builder.pin(pin);
            }
            builder.open(self.chain(spec).leaf()).unwrap_err()
        }

        /// Verifies with OpenSSL and the token's exported public key, independently of sig-core.
        fn openssl_verifies(
            &self,
            spec: KeySpec,
            algorithm: SignatureAlgorithm,
            payload: &[u8],
            signature: &[u8],
        ) -> bool {
            let pem = std::fs::read(self.dir(spec).join("leaf.pub")).unwrap();
            let key = PKey::public_key_from_pem(&pem).unwrap();
            let digest = match algorithm.hash() {
                HashAlgorithm::Sha256 => MessageDigest::sha256(),
                HashAlgorithm::Sha384 => MessageDigest::sha384(),
                _ => MessageDigest::sha512(),
            };
            let signature = if algorithm.scheme() == SignatureScheme::Ecdsa {
                let half = signature.len() / 2;
                let r = openssl::bn::BigNum::from_slice(&signature[..half]).unwrap();
                let s = openssl::bn::BigNum::from_slice(&signature[half..]).unwrap();
                EcdsaSig::from_private_components(r, s).unwrap().to_der().unwrap()
            } else {
                signature.to_vec()
            };
            let mut verifier = Verifier::new(digest, &key).unwrap();
            if algorithm.scheme() == SignatureScheme::RsaPss {
                verifier.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
                verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).unwrap();
                verifier.set_rsa_mgf1_md(digest).unwrap();
            }
            verifier.verify_oneshot(&signature, payload).unwrap_or(false)
        }
    }

    fn token_uri(rest: &str) -> String {
        format!("pkcs11:token=external-signer-test;{rest}")
    }

    /// The algorithms cosign uses with a key of `spec` (PKCS#1 v1.5 for RSA).
    fn cosign_algorithms(spec: KeySpec) -> Vec<SignatureAlgorithm> {
        if spec.is_rsa() {
            HashAlgorithm::ALL
                .map(|h| SignatureAlgorithm::new(SignatureScheme::RsaPkcs1v15, h))
                .to_vec()
        } else {
            vec![SignatureAlgorithm::new(SignatureScheme::Ecdsa, spec.hash())]
        }
    }

    #[test]
    fn signs_notary_and_cosign_algorithms_with_every_key_spec() {
        let t = token();
        let payload = b"payload signed in SoftHSM2";
        for spec in KeySpec::ALL {
            let signer = t.open(spec);
            assert_eq!(signer.key_spec(), spec);
            assert!(signer.public_key_checked(), "{spec}: public key object not compared");
            for algorithm in [vec![spec.notary_algorithm()], cosign_algorithms(spec)].concat() {
                let signature = sign_verified(&signer, algorithm, payload)
                    .unwrap_or_else(|e| panic!("{spec} {algorithm}: {e}"));
                assert_eq!(signature.len(), spec.signature_len(), "{spec} {algorithm}");
                assert!(
                    t.openssl_verifies(spec, algorithm, payload, &signature),
                    "{spec} {algorithm}: openssl"
                );
                assert!(!t.openssl_verifies(spec, algorithm, b"other payload", &signature));
            }
        }
    }

    #[test]
    fn hashing_in_software_uses_the_raw_mechanisms() {
        let t = token();
        let payload = b"digest signed with CKM_RSA_PKCS_PSS and CKM_RSA_PKCS";
        for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
            let signer = Pkcs11Signer::builder(t.uri(spec))
                .module(MODULE)
                .pin(t.pin())
                .hash_in_software(true)
                .open(t.chain(spec).leaf())
                .unwrap();
            for algorithm in [vec![spec.notary_algorithm()], cosign_algorithms(spec)].concat() {
                let signature = sign_verified(&signer, algorithm, payload)
                    .unwrap_or_else(|e| panic!("{spec} {algorithm}: {e}"));
                assert!(
                    t.openssl_verifies(spec, algorithm, payload, &signature),
                    "{spec} {algorithm}"
                );
            }
        }
    }

    #[test]
    fn envelopes_signed_in_the_token_verify() {
        let t = token();
        let root = CertificateChain::read_pem_file(&t.pki().join("ca.crt")).unwrap().leaf().clone();
        for spec in [KeySpec::Rsa3072, KeySpec::Ec384] {
            let signer = CertifiedKey::new(t.chain(spec), t.open(spec)).unwrap();
            for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
                let bytes = envelope::sign(format, &request(&signer), &signer).unwrap();
                let verified = envelope::verify(
                    format,
                    &bytes,
                    &sig_core::TrustAnchors::from(root.clone()),
                    signing_time(&signer),
                )
                .unwrap_or_else(|e| panic!("{spec} {format:?}: {e}"));
                assert_eq!(verified.signing_time(), signing_time(&signer));
            }
        }
    }

    #[test]
    fn one_signer_signs_from_many_threads() {
        let t = token();
        let signer = Arc::new(t.open(KeySpec::Ec256));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let signer = Arc::clone(&signer);
                std::thread::spawn(move || {
                    let payload = format!("payload {i}");
                    sign_verified(
                        signer.as_ref(),
                        SignatureAlgorithm::EcdsaSha256,
                        payload.as_bytes(),
                    )
                    .unwrap()
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap().len(), 64);
        }
    }

    #[test]
    fn module_path_and_pin_source_can_come_from_the_uri() {
        let t = token();
        let text = format!(
            "{}?module-path={MODULE}&pin-source=file:{}",
            t.uri(KeySpec::Ec521),
            t.pki().join("user.pin").display()
        );
        let signer = Pkcs11Signer::builder(text.parse().unwrap())
            .open(t.chain(KeySpec::Ec521).leaf())
            .unwrap();
        sign_verified(&signer, SignatureAlgorithm::EcdsaSha512, b"x").unwrap();
        // The token attributes select too; object alone and id alone find the key.
        for selector in [
            "object=ec-521",
            "id=%06",
            "manufacturer=SoftHSM%20project;model=SoftHSM%20v2;object=ec-521;type=private",
        ] {
            let signer = Pkcs11Signer::builder(token_uri(selector).parse().unwrap())
                .module(MODULE)
                .pin(t.pin())
                .open(t.chain(KeySpec::Ec521).leaf())
                .unwrap();
            assert!(signer.key().contains("\"ec-521\" (id %06)"), "{selector}: {}", signer.key());
            assert!(
                signer.token().contains(
                    "token \"external-signer-test\" (SoftHSM project SoftHSM v2, serial "
                ),
                "{}",
                signer.token()
            );
            assert_eq!(signer.module(), Path::new(MODULE));
        }
    }

    #[test]
    fn wrong_pin_is_access_denied() {
        let t = token();
        let err = t.open_err(
            &token_uri("object=rsa-2048"),
            KeySpec::Rsa2048,
            Some(Pkcs11Pin::new("not-the-pin-4711")),
        );
        let Error::Pkcs11(inner) = &err else { panic!("{err:?}") };
        assert!(
            matches!(
                inner,
                Pkcs11Error::AccessDenied {
                    reason: sig_core::LoginRefusal::WrongPin("CKR_PIN_INCORRECT"),
                    ..
                }
            ) && inner.is_access_denied(),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("refused the login: wrong PIN (CKR_PIN_INCORRECT)"), "{text}");
        assert!(!text.contains("4711"), "the PIN is echoed: {text}");
        // The right PIN still works (`SoftHSM2` does not lock the PIN).
        t.open(KeySpec::Rsa2048);
    }

    #[test]
    fn missing_pin_is_access_denied() {
        let t = token();
        let err = t.open_err(&token_uri("object=ec-256"), KeySpec::Ec256, None);
        let Error::Pkcs11(inner) = &err else { panic!("{err:?}") };
        assert!(
            matches!(inner, Pkcs11Error::PinRequired { .. }) && inner.is_access_denied(),
            "{err:?}"
        );
        assert!(err.to_string().contains("needs a PIN to log in and none was given"), "{err}");
    }

    #[test]
    fn missing_token_lists_the_tokens_found() {
        let t = token();
        let err =
            t.open_err("pkcs11:token=no-such-token;object=ec-256", KeySpec::Ec256, Some(t.pin()));
        assert!(matches!(err, Error::Pkcs11(Pkcs11Error::TokenNotFound { .. })), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("no PKCS#11 token matches token=no-such-token in module {MODULE}; tokens found: token \"external-signer-test\" (SoftHSM project SoftHSM v2, serial ")), "{text}");
        let err = t.open_err(
            "pkcs11:token=external-signer-test;slot-id=1;object=ec-256",
            KeySpec::Ec256,
            Some(t.pin()),
        );
        assert!(
            err.to_string().contains("matches token=external-signer-test;slot-id=1 in module"),
            "{err}"
        );
        let err =
            t.open_err("pkcs11:library-version=0.1;object=ec-256", KeySpec::Ec256, Some(t.pin()));
        assert!(err.to_string().contains("matches library-version=0.1"), "{err}");
    }

    #[test]
    fn missing_key_says_what_was_searched() {
        let t = token();
        let err = t.open_err(
            &token_uri("object=nope;id=%99;type=private"),
            KeySpec::Ec256,
            Some(t.pin()),
        );
        assert!(matches!(err, Error::Pkcs11(Pkcs11Error::KeyNotFound { .. })), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("no private key on token \"external-signer-test\""), "{text}");
        assert!(
            text.contains("matches object=nope;id=%99 (searched CKA_CLASS=CKO_PRIVATE_KEY)"),
            "{text}"
        );
        assert!(
            text.contains("private keys on the token: ") && text.contains("\"rsa-4096\" (id %03)"),
            "{text}"
        );
    }

    #[test]
    fn several_matching_keys_are_refused() {
        let t = token();
        let err = t.open_err("pkcs11:token=external-signer-test", KeySpec::Ec256, Some(t.pin()));
        assert!(matches!(err, Error::Pkcs11(Pkcs11Error::AmbiguousKey { .. })), "{err:?}");
        assert!(err.to_string().contains("6 private keys on token"), "{err}");
    }

    #[test]
    fn key_type_must_match_the_certificate() {
        let t = token();
        let err = t.open_err(&token_uri("object=ec-256"), KeySpec::Rsa2048, Some(t.pin()));
        assert!(
            matches!(
                err,
                Error::Pkcs11(Pkcs11Error::KeyTypeMismatch {
                    actual: KeySpec::Ec256,
                    expected: KeySpec::Rsa2048,
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("the token key \"ec-256\" (id %04) is EC-256 but the leaf certificate"),
            "{err}"
        );
        let err = t.open_err(&token_uri("object=rsa-4096"), KeySpec::Rsa3072, Some(t.pin()));
        assert!(
            matches!(
                err,
                Error::Pkcs11(Pkcs11Error::KeyTypeMismatch { actual: KeySpec::Rsa4096, .. })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn key_must_be_the_certified_key() {
        let t = token();
        // Same key type, another key: the fixture chains of tests/data/pki.
        for (spec, compared) in
            [(KeySpec::Ec256, "CKA_EC_POINT"), (KeySpec::Rsa2048, "the private key's CKA_MODULUS")]
        {
            let chain = CertificateChain::read_pem_file(&data(&format!(
                "pki/{}/certificate_chain.pem",
                spec.as_str().to_ascii_lowercase()
            )))
            .unwrap();
            let err = Pkcs11Signer::builder(t.uri(spec))
                .module(MODULE)
                .pin(t.pin())
                .open(chain.leaf())
                .unwrap_err();
            assert!(matches!(err, Error::Pkcs11(Pkcs11Error::KeyMismatch { .. })), "{err:?}");
            assert!(err.to_string().contains(compared), "{err}");
        }
    }

    #[test]
    fn algorithm_must_fit_the_key() {
        let t = token();
        let signer = t.open(KeySpec::Ec384);
        let err = signer.sign(SignatureAlgorithm::RsaPssSha384, b"x").unwrap_err();
        assert!(err.to_string().contains("cannot be used with a EC-384 key"), "{err}");
    }
}

/// Key-only signing (the sigstore KMS plugin, cosign `--key`): the token key checked against a
/// public key instead of a certificate.
mod key_only {
    use sig_core::signer::Pkcs11Signer;
    use sig_core::{
        Error, KeySpec, Pkcs11Error, SignatureAlgorithm, SigningKey as _, sign_verified,
    };

    use super::{MODULE, token};

    #[test]
    fn signs_for_the_matching_public_key_and_refuses_another() {
        let t = token();
        let dir = t.pki.join("ec-256");
        let uri: sig_core::Pkcs11Uri =
            std::fs::read_to_string(dir.join("uri")).unwrap().parse().unwrap();
        let pin = || sig_core::Pkcs11Pin::read_file(&t.pki.join("user.pin")).unwrap();
        let chain =
            sig_core::CertificateChain::read_pem_file(&dir.join("certificate_chain.pem")).unwrap();
        let public = chain.leaf().public_key().unwrap();
        let signer = Pkcs11Signer::builder(uri.clone())
            .module(MODULE)
            .pin(pin())
            .open_with_public_key(public.clone())
            .unwrap();
        assert_eq!(signer.public_key(), &public);
        assert!(signer.public_key_checked());
        sign_verified(&signer, SignatureAlgorithm::EcdsaSha256, b"key-only").unwrap();
        // Another P-256 key (the committed fixture's) is not the token's.
        let pem = std::fs::read(crate::common::data("pki/ec-256/leaf.crt")).unwrap();
        let other = sig_core::Certificate::from_bundle_pem(&pem).unwrap().remove(0);
        let err = Pkcs11Signer::builder(uri)
            .module(MODULE)
            .pin(pin())
            .open_with_public_key(other.public_key().unwrap())
            .unwrap_err();
        assert!(matches!(err, Error::Pkcs11(Pkcs11Error::KeyMismatch { .. })), "{err}");
        assert_eq!(KeySpec::Ec256, signer.key_spec());
    }
}
