//! Error types. Each module returns its narrowest enum; [`Error`] nests them all.

use core::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::algorithm::{KeySpec, SignatureAlgorithm};
use crate::envelope::EnvelopeFormat;
use crate::x509::rfc3339;

/// `error`'s message followed by those of its sources (`: cause`), like anyhow's `{:#}`; a source
/// whose text the message already contains is left out.
pub fn message_with_sources(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Any error from this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An unknown or unsupported algorithm name.
    #[error(transparent)]
    Algorithm(#[from] AlgorithmError),
    /// A private or public key could not be loaded or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A certificate or chain could not be loaded or broke a rule.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// Signing failed. (A PKCS#11 token's failure to sign is [`Error::Pkcs11`], never
    /// `Sign(SignError::Pkcs11)`: `From<SignError>` moves it there.)
    #[error(transparent)]
    Sign(SignError),
    /// A signature envelope could not be built, parsed or verified.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A PKCS#11 module, token or key could not be used, or the token failed to sign.
    #[cfg(feature = "pkcs11")]
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11Error),
}

impl From<SignError> for Error {
    fn from(err: SignError) -> Self {
        match err {
            #[cfg(feature = "pkcs11")]
            SignError::Pkcs11(e) => Self::Pkcs11(e),
            other => Self::Sign(other),
        }
    }
}

/// An algorithm name this crate does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AlgorithmError {
    /// Not one of Notation's key specs.
    #[error(
        "unknown key spec {0:?}: expected one of RSA-2048, RSA-3072, RSA-4096, EC-256, EC-384, EC-521"
    )]
    UnknownKeySpec(String),
    /// Not one of SHA-256, SHA-384, SHA-512.
    #[error("unknown hash algorithm {0:?}: expected one of SHA-256, SHA-384, SHA-512")]
    UnknownHash(String),
    /// Not a Notary signing algorithm name.
    #[error(
        "unknown signing algorithm {0:?}: expected RSASSA-PSS-SHA-256/384/512 or ECDSA-SHA-256/384/512"
    )]
    UnknownSignatureAlgorithm(String),
    /// Not a supported JWS `alg`.
    #[error("unsupported JWS algorithm {0:?}: expected PS256, PS384, PS512, ES256, ES384 or ES512")]
    UnknownJwsAlgorithm(String),
    /// Not a supported COSE algorithm identifier.
    #[error("unsupported COSE algorithm {0}: expected -37, -38, -39, -7, -35 or -36")]
    UnknownCoseAlgorithm(i64),
}

/// A private or public key could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read key file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file could not be read for lack of permission.
    #[error("permission denied reading key file {path}: give the signing user read access")]
    AccessDenied {
        /// The file.
        path: PathBuf,
    },
    /// The bytes are neither a PEM private key nor a DER private key.
    #[error(
        "not a private key: expected PEM (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY) or DER (PKCS#8, PKCS#1, SEC1){}",
        found.as_ref().map(|f| format!("; found {f}")).unwrap_or_default()
    )]
    NotAPrivateKey {
        /// What was found instead, e.g. `"a PEM CERTIFICATE block"`.
        found: Option<String>,
    },
    /// A key with a type or size Notation does not accept.
    #[error("unsupported key {0}: use RSA 2048/3072/4096 or ECDSA P-256/P-384/P-521")]
    Unsupported(UnsupportedKey),
    /// The key is encrypted but no password was given.
    #[error("the private key is encrypted and no password was given")]
    PasswordRequired,
    /// The password does not decrypt the key.
    #[error("wrong password for the encrypted private key (or an unsupported encryption scheme)")]
    WrongPassword,
    /// The password file could not be read.
    #[error("cannot read the key password file {path}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key structure is damaged.
    #[error("malformed {format} private key: {reason}")]
    Malformed {
        /// The format that was tried.
        format: KeyFormat,
        /// Why it was rejected.
        reason: String,
    },
    /// A public key could not be parsed.
    #[error("malformed or unsupported public key: {0}")]
    PublicKey(String),
    /// A key whose public key is not known here (a signer program, a token key) was asked for
    /// without the certificate issued for it (or, for a program, its public key).
    #[error(
        "the public key of the signing key is not known: give the certificate issued for the key (or, for a signer program, its public key)"
    )]
    NoPublicKey,
    /// The private key does not belong to the leaf certificate.
    #[error(
        "the private key does not match the leaf certificate {subject:?}: the key is {key_spec} but it is not the key certified by the leaf; configure the key that belongs to the certificate, or the chain that certifies this key"
    )]
    Mismatch {
        /// Key spec of the private key.
        key_spec: KeySpec,
        /// Subject of the leaf certificate.
        subject: String,
    },
}

/// A private key encoding ([`KeyError::Malformed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFormat {
    /// PKCS#8 `PrivateKeyInfo` (`PRIVATE KEY`).
    #[error("PKCS#8")]
    Pkcs8,
    /// PKCS#8 `EncryptedPrivateKeyInfo` (`ENCRYPTED PRIVATE KEY`).
    #[error("encrypted PKCS#8")]
    EncryptedPkcs8,
    /// PKCS#1 `RSAPrivateKey` (`RSA PRIVATE KEY`).
    #[error("PKCS#1 RSA")]
    Pkcs1,
    /// SEC1 `ECPrivateKey` (`EC PRIVATE KEY`).
    #[error("SEC1 EC")]
    Sec1,
}

/// A key outside Notation's key specs ([`KeyError::Unsupported`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnsupportedKey {
    /// An RSA key of another size.
    #[error("RSA {bits}-bit key")]
    RsaSize {
        /// The modulus length.
        bits: usize,
    },
    /// An EC key on another curve.
    #[error("EC key on curve {0}")]
    Curve(String),
    /// Another key algorithm (Ed25519, DSA, ...), by name or OID.
    #[error("key algorithm {0}")]
    Algorithm(String),
}

/// The certificate rule a certificate broke. Notation enforces all of these (notation-core-go
/// `x509/codesigning_cert_validations.go`); each message names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainRule {
    /// Not yet valid at the given time.
    #[error("is not valid until {} (checked at {})", rfc3339(*not_before), rfc3339(*at))]
    NotYetValid {
        /// notBefore.
        not_before: SystemTime,
        /// The time of the check.
        at: SystemTime,
    },
    /// Expired at the given time.
    #[error(
        "expired at {} (checked at {}); issue a new certificate",
        rfc3339(*not_after),
        rfc3339(*at)
    )]
    Expired {
        /// notAfter.
        not_after: SystemTime,
        /// The time of the check.
        at: SystemTime,
    },
    /// Leaf without key usage extension.
    #[error("has no key usage extension; the leaf needs a critical keyUsage with digitalSignature")]
    LeafKeyUsageMissing,
    /// Leaf key usage not critical.
    #[error("has a non-critical key usage; notation requires keyUsage to be critical")]
    LeafKeyUsageNotCritical,
    /// Leaf key usage without digitalSignature.
    #[error("key usage lacks digitalSignature")]
    LeafKeyUsageNoDigitalSignature,
    /// Leaf key usage with a bit notation forbids.
    #[error(
        "key usage includes {0}, which notation forbids for signing certificates; allow only digitalSignature"
    )]
    LeafKeyUsageForbidden(&'static str),
    /// Leaf with a forbidden extended key usage.
    #[error(
        "extended key usage includes {0}, which notation forbids; use codeSigning only (as openssl: extendedKeyUsage = codeSigning)"
    )]
    LeafEkuForbidden(&'static str),
    /// Leaf that is a CA.
    #[error("is a CA certificate (basicConstraints CA:TRUE) but is used as the signing leaf")]
    LeafIsCa,
    /// CA without basic constraints CA:TRUE.
    #[error("issues another certificate but is not a CA (basicConstraints CA:TRUE missing)")]
    NotACa,
    /// CA without key usage keyCertSign.
    #[error("is a CA without a critical keyUsage containing keyCertSign")]
    CaKeyUsage,
    /// CA path length constraint violated.
    #[error("has pathLenConstraint {allowed} but {below} CA certificate(s) follow it in the chain")]
    PathLength {
        /// The constraint.
        allowed: u8,
        /// CAs below it.
        below: usize,
    },
    /// Signature by the issuer does not verify.
    #[error("signature does not verify with the issuer's public key")]
    BadSignature,
    /// Self-signed root whose self-signature does not verify.
    #[error("is self-issued but its self-signature does not verify")]
    BadSelfSignature,
    /// A SHA-1 or unknown signature algorithm.
    #[error("is signed with {0}, which notation does not accept (use SHA-256 or stronger)")]
    WeakSignatureAlgorithm(String),
    /// An RSASSA-PSS signature whose parameters Go's `crypto/x509` does not verify (it accepts
    /// only SHA-256/384/512 with MGF1 of the same hash, a salt as long as the hash, trailer 1).
    #[error(
        "is signed with RSASSA-PSS using {0}; Go's crypto/x509 (and so notation and cosign) accepts RSASSA-PSS only with SHA-256, SHA-384 or SHA-512, MGF1 with the same hash, a salt as long as the hash and trailer field 1 (openssl: -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt rsa_mgf1_md:<hash>)"
    )]
    PssParameters(String),
    /// A CA's nameConstraints refuse a name that a certificate below it claims (Go's
    /// `crypto/x509`, so cosign, and OpenSSL refuse the chain).
    #[error(
        "has nameConstraints that refuse {0}; Go's crypto/x509 (cosign) and openssl refuse such a chain: issue the certificate from a CA whose constraints allow the name, or drop the name"
    )]
    NameConstraint(String),
    /// An extension marked critical that Go's `crypto/x509` does not process.
    #[error(
        "has the critical extension {0}, which Go's crypto/x509 (cosign) and openssl do not understand and so refuse (RFC 5280): mark it non-critical or leave it out"
    )]
    UnhandledCriticalExtension(String),
    /// A key type or size notation does not accept.
    #[error("has an unsupported public key: {0}")]
    UnsupportedKey(String),
    /// A single certificate that is not self-signed.
    #[error(
        "is the only certificate but is not self-signed; add the intermediate and root certificates"
    )]
    LoneNotSelfSigned,
    /// A leaf that is self-signed in a longer chain.
    #[error("is self-signed but is the leaf of a chain of several certificates")]
    LeafSelfSigned,
    /// An intermediate that is self-signed.
    #[error("is a self-signed intermediate; only the last certificate may be a self-signed root")]
    IntermediateSelfSigned,
}

/// A certificate or certificate chain could not be loaded, or broke a rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The chain file could not be read.
    #[error("cannot read certificate chain file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No certificate found.
    #[error(
        "no certificate found{}: give a PEM bundle (-----BEGIN CERTIFICATE-----) or DER certificates",
        path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default()
    )]
    Empty {
        /// The file, if any.
        path: Option<PathBuf>,
    },
    /// A certificate could not be parsed.
    #[error("certificate {index} is malformed: {reason}")]
    Malformed {
        /// Position in the input (0-based).
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A PEM private key where a certificate was expected (a key file given as the chain).
    #[error("certificate {index} is malformed: a private key is not a certificate")]
    PrivateKey {
        /// Position of the PEM block in the input (0-based).
        index: usize,
    },
    /// Too many certificates.
    #[error("too many certificates ({count}); at most {max} are accepted")]
    TooMany {
        /// How many were found.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More than one certificate is not the issuer of any other.
    #[error(
        "the chain has {} leaf certificates ({}); give exactly one signing certificate with its issuers",
        subjects.len(), subjects.join("; ")
    )]
    MultipleLeaves {
        /// Subjects of the candidate leaves.
        subjects: Vec<String>,
    },
    /// Every certificate issues another one: a loop.
    #[error("the certificates form a loop; no leaf certificate found")]
    Loop,
    /// The chain does not end at a self-signed root.
    #[error(
        "the chain does not end at a self-signed root: the issuer {issuer:?} of {subject:?} is missing; append the root (and any intermediate) certificate to the chain file"
    )]
    MissingIssuer {
        /// Subject of the last certificate found.
        subject: String,
        /// The issuer that is missing.
        issuer: String,
    },
    /// A certificate that is not part of the leaf's chain.
    #[error(
        "certificate {subject:?} is not part of the leaf's chain, which ends at the self-signed {ends_at:?}; remove it from the chain file (or, if {ends_at:?} should be an intermediate, reissue it signed by its CA)"
    )]
    Unrelated {
        /// Its subject.
        subject: String,
        /// Subject of the self-signed certificate where the leaf's chain ends.
        ends_at: String,
    },
    /// A certificate broke a rule.
    #[error("{role} certificate {index} ({subject:?}) {rule}")]
    Rule {
        /// Position in the ordered chain, 0 = leaf.
        index: usize,
        /// Its place in the chain.
        role: CertificateRole,
        /// Its subject (RFC 4514).
        subject: String,
        /// The rule.
        rule: ChainRule,
    },
}

/// The place of a certificate in an ordered chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateRole {
    /// The signing certificate (index 0).
    Leaf,
    /// A CA between the leaf and the root.
    Intermediate,
    /// The last certificate.
    Root,
}

impl fmt::Display for CertificateRole {
    /// `leaf`, `intermediate` or `root`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Leaf => "leaf",
            Self::Intermediate => "intermediate",
            Self::Root => "root",
        })
    }
}

/// What is wrong with a signature, found by examining it after verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureDiagnosis {
    /// Wrong length for the key.
    #[error("the signature is {actual} bytes but a {key_spec} signature is {expected} bytes")]
    WrongLength {
        /// The key spec.
        key_spec: KeySpec,
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// RSA-PSS with the wrong salt length.
    #[error(
        "the signer used RSA-PSS with a {actual}-byte salt; notation (COSE) requires the salt length to equal the hash length, {expected} bytes (openssl: -sigopt rsa_pss_saltlen:digest)"
    )]
    PssSaltLength {
        /// Required salt length.
        expected: usize,
        /// Salt length found.
        actual: usize,
    },
    /// PKCS#1 v1.5 where PSS was asked for.
    #[error(
        "the signer used RSA PKCS#1 v1.5 padding; {expected} needs RSASSA-PSS (openssl: -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)"
    )]
    Pkcs1v15InsteadOfPss {
        /// The algorithm asked for.
        expected: SignatureAlgorithm,
    },
    /// PSS where PKCS#1 v1.5 was asked for.
    #[error("the signer used RSA-PSS padding; {expected} needs PKCS#1 v1.5 padding")]
    PssInsteadOfPkcs1v15 {
        /// The algorithm asked for.
        expected: SignatureAlgorithm,
    },
    /// Right scheme, wrong hash.
    #[error("the signer hashed with {actual} but {expected} was asked for")]
    WrongHash {
        /// The hash asked for.
        expected: crate::HashAlgorithm,
        /// The hash found.
        actual: crate::HashAlgorithm,
    },
    /// The signature verifies with no parameters under this key.
    #[error(
        "the signature was not made by the private key of {} (wrong key, or the payload was altered)",
        subject.as_ref().map_or_else(|| String::from("the public key"), |s| format!("the leaf certificate {s:?}"))
    )]
    WrongKey {
        /// Subject of the leaf certificate, `None` for key-only signing.
        subject: Option<String>,
    },
}

/// Why a signer program could not be run ([`SignError::Spawn`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnFailure {
    /// No program was given.
    #[error("no program given: give an absolute path such as /usr/local/bin/sign.sh")]
    NoProgram,
    /// A relative path, refused before running anything.
    #[error(
        "is a relative path, which would run whatever the working directory holds; give an absolute path (such as /usr/local/bin/sign.sh), or a bare program name that is looked up in PATH"
    )]
    RelativePath,
    /// A bare name not found in the absolute entries of `PATH`.
    #[error(
        "not found in PATH (empty, `.` and other relative PATH entries are skipped, so nothing in the working directory is run); give an absolute path, or install the program in a directory of PATH"
    )]
    NotInPath,
    /// The file does not exist (or a script's interpreter does not).
    #[error("not found: check the path (and, for a script, the interpreter on its #! line)")]
    NotFound,
    /// Not executable or not readable.
    #[error("permission denied: make it executable (chmod +x) and readable")]
    PermissionDenied,
    /// Not an executable format (`ENOEXEC`).
    #[error("not a valid executable: a script needs a #! line such as #!/bin/sh")]
    NotExecutable,
    /// The watchdog that stops the program when the caller dies could not be started.
    #[error("cannot start the watchdog /bin/sh that stops the signer program if this process dies")]
    Watchdog,
    /// Waiting for the program failed.
    #[error("wait failed")]
    Wait,
    /// Another I/O error (the source says which).
    #[error("the system refused to start it")]
    Other,
}

/// How a signer program that failed ended ([`SignError::Program`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramStatus {
    /// It exited with a non-zero status.
    #[error("exited with status {0}")]
    Exited(i32),
    /// A signal killed it.
    #[error("was killed by signal {0}")]
    Killed(i32),
    /// It was stopped by `signal` (SIGTTIN, SIGTTOU) for using the terminal while the signing
    /// process was a background job.
    #[error(
        "was stopped by {0}: it used the terminal (a PIN or passphrase prompt?) while the signing process is not the terminal's foreground job; run it in the foreground, or give the signer its secret another way (a file, an agent)"
    )]
    TerminalStop(&'static str),
    /// Its end could not be told.
    #[error("ended in an unknown state")]
    Unknown,
}

/// Signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The algorithm cannot be used with this key.
    #[error("{algorithm} cannot be used with a {key_spec} key")]
    AlgorithmMismatch {
        /// The algorithm asked for.
        algorithm: SignatureAlgorithm,
        /// The key.
        key_spec: KeySpec,
    },
    /// The crypto backend failed.
    #[error("the crypto backend failed to sign with the {key_spec} key")]
    Backend {
        /// The key.
        key_spec: KeySpec,
    },
    /// The signer program could not be started.
    #[error("cannot run signer program {program}: {reason}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        reason: SpawnFailure,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The signer program failed.
    #[error(
        "signer program {program} {status}{}",
        if stderr.is_empty() { String::from(" and wrote nothing to stderr") } else { format!(": {stderr}") }
    )]
    Program {
        /// The program.
        program: PathBuf,
        /// How it ended.
        status: ProgramStatus,
        /// What it wrote to stderr (bounded, trimmed).
        stderr: String,
    },
    /// The signer program did not finish in time; it was killed with its process group.
    #[error(
        "signer program {program} timed out after {} s and was stopped{}",
        timeout.as_secs_f64(),
        if stderr.is_empty() { String::new() } else { format!(" (stderr: {stderr})") }
    )]
    Timeout {
        /// The program.
        program: PathBuf,
        /// The limit.
        timeout: Duration,
        /// What it wrote to stderr before (bounded, trimmed).
        stderr: String,
    },
    /// The signer program printed too much.
    #[error(
        "signer program {program} printed more than {limit} bytes on stdout; a signature is at most 1 KiB"
    )]
    OutputTooLarge {
        /// The program.
        program: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// The signer program printed nothing.
    #[error("signer program {program} printed no signature on stdout")]
    EmptyOutput {
        /// The program.
        program: PathBuf,
    },
    /// The signer program's output is not in the configured encoding.
    #[error("signer program {program} output is not valid {}: {reason}", encoding.as_str())]
    Encoding {
        /// The program.
        program: PathBuf,
        /// The configured encoding.
        encoding: crate::signer::OutputEncoding,
        /// Why.
        reason: String,
    },
    /// The signature does not verify against the leaf certificate (or, for key-only signing,
    /// the key's public key).
    #[error(
        "the signature does not verify with the {} public key for {algorithm}: {diagnosis}",
        if *certificate { "leaf certificate's" } else { "key's" }
    )]
    Verification {
        /// The algorithm asked for.
        algorithm: SignatureAlgorithm,
        /// Whether it was checked against a leaf certificate (else against the key's own public
        /// key).
        certificate: bool,
        /// What is wrong.
        diagnosis: SignatureDiagnosis,
    },
    /// An ECDSA signature that is neither r||s nor DER.
    #[error("malformed ECDSA signature: {0}")]
    MalformedEcdsa(String),
    /// The PKCS#11 token failed to sign.
    #[cfg(feature = "pkcs11")]
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11Error),
}

/// A signature envelope could not be built, parsed or verified.
///
/// Only the envelope's own failures: a chain in the envelope that breaks a rule is an
/// [`Error::Certificate`], a leaf key that cannot be used an [`Error::Key`], a signer that fails
/// an [`Error::Sign`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Unknown envelope media type.
    #[error(
        "unsupported signature envelope type {0:?}: expected application/jose+json or application/cose"
    )]
    UnsupportedFormat(String),
    /// The envelope is not well-formed.
    #[error("malformed {format} envelope: {reason}")]
    Malformed {
        /// The format.
        format: EnvelopeFormat,
        /// What the parser found wrong.
        reason: String,
    },
    /// A required header is missing or has the wrong value.
    #[error("{format} envelope header {header}: {reason}")]
    Header {
        /// The format.
        format: EnvelopeFormat,
        /// The header name.
        header: String,
        /// What is wrong.
        reason: String,
    },
    /// The expiry header is not after the signing time.
    #[error(
        "{format} envelope header {}: expiry {} is not after the signing time {}",
        crate::media_type::EXPIRY,
        rfc3339(*expiry),
        rfc3339(*signing_time)
    )]
    ExpiryNotAfterSigningTime {
        /// The format.
        format: EnvelopeFormat,
        /// The expiry.
        expiry: SystemTime,
        /// The signing time.
        signing_time: SystemTime,
    },
    /// The signature does not verify.
    #[error("the envelope signature does not verify with the leaf certificate's key ({algorithm})")]
    BadSignature {
        /// The algorithm in the header.
        algorithm: SignatureAlgorithm,
    },
    /// The header algorithm is not the one the leaf key requires.
    #[error(
        "the envelope algorithm {header} does not match the algorithm {derived} derived from the signing certificate ({key_spec})"
    )]
    AlgorithmMismatch {
        /// Algorithm in the header.
        header: SignatureAlgorithm,
        /// Algorithm derived from the leaf.
        derived: SignatureAlgorithm,
        /// Leaf key spec.
        key_spec: KeySpec,
    },
    /// The signature has expired.
    #[error("the signature expired at {}", rfc3339(*expiry))]
    Expired {
        /// The expiry.
        expiry: SystemTime,
    },
    /// The payload is not a Notary payload.
    #[error("malformed Notary payload: {0}")]
    Payload(String),
    /// The envelope is larger than a verifier accepts.
    #[error("{format} envelope of {size} bytes is larger than the {max}-byte limit")]
    TooLarge {
        /// The format.
        format: EnvelopeFormat,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The header names an algorithm Notary does not allow.
    #[error(
        "unsupported {format} signature algorithm {algorithm}: expected PS256, PS384, PS512, ES256, ES384 or ES512"
    )]
    UnsupportedAlgorithm {
        /// The format.
        format: EnvelopeFormat,
        /// The algorithm as found (`"RS256"`, `"-257"`, ...).
        algorithm: String,
    },
    /// The sign request cannot be turned into an envelope.
    #[error("invalid sign request: {0}")]
    InvalidSignRequest(SignRequestProblem),
    /// No certificate of the envelope's chain is one of the trust anchors.
    #[error(
        "the certificate chain of {leaf:?} contains none of the {} trusted certificate(s) ({}); the signature was made under another CA",
        anchors.len(), anchors.join("; ")
    )]
    Untrusted {
        /// Subject of the signing certificate.
        leaf: String,
        /// Subjects of the trust anchors.
        anchors: Vec<String>,
    },
}

/// Why a [`SignRequest`](crate::SignRequest) cannot be turned into an envelope.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignRequestProblem {
    /// The signing time cannot be written as RFC 3339 whole seconds since 1970.
    #[error("signing time {}", out_of_range(*before_1970))]
    SigningTimeOutOfRange {
        /// Before 1970 (else after 9999).
        before_1970: bool,
    },
    /// The expiry cannot be written as RFC 3339 whole seconds since 1970.
    #[error("expiry {}", out_of_range(*before_1970))]
    ExpiryOutOfRange {
        /// Before 1970 (else after 9999).
        before_1970: bool,
    },
    /// The expiry is not after the signing time (both truncated to whole seconds).
    #[error(
        "expiry {} is not after the signing time {}",
        rfc3339(*expiry),
        rfc3339(*signing_time)
    )]
    ExpiryNotAfterSigningTime {
        /// The expiry.
        expiry: SystemTime,
        /// The signing time.
        signing_time: SystemTime,
    },
    /// An extended attribute without a name.
    #[error("an extended attribute has an empty name")]
    EmptyAttributeName,
    /// An extended attribute named like a header the envelope writes itself, or named twice.
    #[error("extended attribute {0:?} repeats a header of the envelope")]
    RepeatedHeader(String),
    /// An extended attribute whose value the format cannot encode.
    #[error("extended attribute {key:?}: {reason}")]
    AttributeValue {
        /// The attribute.
        key: String,
        /// What the encoder refused.
        reason: String,
    },
    /// A raw JWS payload that is not a JSON object.
    #[error("a JWS payload must be a JSON object: {0}")]
    PayloadNotJsonObject(String),
    /// An empty payload.
    #[error("the payload is empty")]
    EmptyPayload,
    /// An empty signature given to assemble.
    #[error("the signature is empty")]
    EmptySignature,
}

fn out_of_range(before_1970: bool) -> &'static str {
    if before_1970 { "is before 1970-01-01T00:00:00Z" } else { "is after 9999-12-31T23:59:59Z" }
}

/// A PKCS#11 module, token or key could not be used ([`Pkcs11Signer`](crate::signer::Pkcs11Signer)).
///
/// No message contains a PIN. [`is_access_denied`](Self::is_access_denied) tells the failures
/// that a user fixes with the right PIN from the others.
#[cfg(feature = "pkcs11")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// Not an RFC 7512 URI naming a private key.
    #[error("invalid PKCS#11 URI: {reason}")]
    Uri {
        /// What is wrong (the URI itself is not repeated).
        reason: String,
    },
    /// The URI carries the PIN (`pin-value`).
    #[error(
        "the PKCS#11 URI contains pin-value: a PIN never goes in a URI or in configuration, which is stored and shown in plain text; give the PIN apart, or name a file holding it with pin-source=PATH in the URI"
    )]
    PinInUri,
    /// No module was given.
    #[error(
        "no PKCS#11 module given: add ?module-path=/path/to/module.so to the URI or give the module apart; SoftHSM2's is /usr/lib/softhsm/libsofthsm2.so on Debian"
    )]
    NoModule,
    /// The module given explicitly and the URI's `module-path` differ.
    #[error(
        "two different PKCS#11 modules given: {configured} and the URI's module-path {in_uri}; give one of them"
    )]
    ModuleConflict {
        /// The module given explicitly.
        configured: PathBuf,
        /// The URI's `module-path`.
        in_uri: PathBuf,
    },
    /// The module could not be loaded (`dlopen` failed).
    #[error(
        "cannot load PKCS#11 module {path}: {reason}; install it (e.g. Debian softhsm2 puts it at /usr/lib/softhsm/libsofthsm2.so)"
    )]
    ModuleLoad {
        /// The module.
        path: PathBuf,
        /// The loader's message (`dlerror`).
        reason: String,
    },
    /// A PKCS#11 function failed.
    #[error("{action}: {function} returned {code}")]
    Call {
        /// What was being done, e.g. `"signing with \"rsa-2048\""`.
        action: String,
        /// The PKCS#11 function, e.g. `"C_Sign"`.
        function: String,
        /// The return value, e.g. `"CKR_DEVICE_ERROR"`.
        code: String,
        /// The error from the PKCS#11 binding.
        #[source]
        source: cryptoki::error::Error,
    },
    /// No initialized token matches the URI.
    #[error(
        "no PKCS#11 token matches {wanted} in module {module}; {}",
        if found.is_empty() { String::from("the module has no initialized token (SoftHSM2: softhsm2-util --init-token --free --label NAME; is SOFTHSM2_CONF set?)") }
        else { format!("tokens found: {}", found.join("; ")) }
    )]
    TokenNotFound {
        /// The URI's token attributes.
        wanted: String,
        /// The module.
        module: PathBuf,
        /// The initialized tokens present, described.
        found: Vec<String>,
    },
    /// Several tokens match the URI.
    #[error(
        "{} PKCS#11 tokens match {wanted}: {}; add token=, serial= or slot-id= to the URI to pick one",
        found.len(), found.join("; ")
    )]
    AmbiguousToken {
        /// The URI's token attributes.
        wanted: String,
        /// The matching tokens, described.
        found: Vec<String>,
    },
    /// The token needs a PIN and none was given.
    #[error("{token} needs a PIN to log in and none was given")]
    PinRequired {
        /// The token, described.
        token: String,
    },
    /// The token refused the login.
    #[error("{token} refused the login: {reason}")]
    AccessDenied {
        /// The token, described.
        token: String,
        /// Why.
        reason: LoginRefusal,
    },
    /// The PIN file could not be read.
    #[error("cannot read the PKCS#11 PIN file {path}")]
    PinFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No private key on the token matches the URI.
    #[error(
        "no private key on {token} matches {searched} (searched CKA_CLASS=CKO_PRIVATE_KEY{}); {}",
        if *logged_in { "" } else { " without logging in: no PIN was given" },
        if available.is_empty() { String::from("the token has no private key") }
        else { format!("private keys on the token: {}", available.join(", ")) }
    )]
    KeyNotFound {
        /// The token, described.
        token: String,
        /// The URI's object attributes, e.g. `"object=release;id=%01"`.
        searched: String,
        /// Whether the session was logged in (private objects are invisible otherwise).
        logged_in: bool,
        /// The private keys present, described.
        available: Vec<String>,
    },
    /// Several private keys match the URI.
    #[error(
        "{} private keys on {token} match {searched}: {}; add object= or id= to the URI to pick one",
        found.len(), found.join(", ")
    )]
    AmbiguousKey {
        /// The token, described.
        token: String,
        /// The URI's object attributes.
        searched: String,
        /// The matching keys, described.
        found: Vec<String>,
    },
    /// The token key is not of a type Notation accepts.
    #[error("the token key {key} is {kind}: use RSA 2048/3072/4096 or ECDSA P-256/P-384/P-521")]
    UnsupportedKey {
        /// The key, described.
        key: String,
        /// What it is, e.g. `"an RSA 1024-bit key"`.
        kind: String,
    },
    /// The token key's type or size differs from the leaf certificate's key.
    #[error(
        "the token key {key} is {actual} but the leaf certificate {subject:?} certifies an {expected} key; point the URI at the key the certificate was issued for, or configure that key's certificate chain"
    )]
    KeyTypeMismatch {
        /// The key, described.
        key: String,
        /// The token key's spec.
        actual: KeySpec,
        /// The leaf certificate's key spec.
        expected: KeySpec,
        /// The leaf's subject.
        subject: String,
    },
    /// The token key is not the key the leaf certificate certifies.
    #[error(
        "the token key {key} does not match the leaf certificate {subject:?}: {compared} differs; point the URI at the key the certificate was issued for, or configure that key's certificate chain"
    )]
    KeyMismatch {
        /// The key, described.
        key: String,
        /// The leaf's subject.
        subject: String,
        /// What was compared, e.g. `"the public key object's CKA_EC_POINT"`.
        compared: &'static str,
    },
    /// The token key may not sign.
    #[error("the token key {key} may not sign ({reason})")]
    CannotSign {
        /// The key, described.
        key: String,
        /// Why, e.g. `"CKA_SIGN is false"`.
        reason: &'static str,
    },
    /// The token offers no mechanism for the algorithm.
    #[error("{token} offers none of {mechanisms} for {algorithm}")]
    MechanismUnsupported {
        /// The token, described.
        token: String,
        /// The algorithm asked for.
        algorithm: SignatureAlgorithm,
        /// The mechanisms that would do, e.g. `"CKM_SHA256_RSA_PKCS_PSS, CKM_RSA_PKCS_PSS"`.
        mechanisms: String,
    },
    /// The token returned a signature of the wrong length or encoding.
    #[error("{token} returned a malformed {algorithm} signature: {reason}")]
    BadSignature {
        /// The token, described.
        token: String,
        /// The algorithm asked for.
        algorithm: SignatureAlgorithm,
        /// What is wrong.
        reason: String,
    },
}

/// Why a PKCS#11 token refused the login ([`Pkcs11Error::AccessDenied`]), with the PKCS#11
/// return value.
#[cfg(feature = "pkcs11")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginRefusal {
    /// A wrong PIN: `CKR_PIN_INCORRECT`, `CKR_PIN_INVALID` or `CKR_PIN_LEN_RANGE`.
    #[error("wrong PIN ({0}); the token counts failed attempts and locks the PIN after too many")]
    WrongPin(&'static str),
    /// `CKR_PIN_LOCKED`.
    #[error(
        "the user PIN is locked after too many wrong attempts (CKR_PIN_LOCKED); the token's security officer must reset it"
    )]
    PinLocked,
    /// `CKR_PIN_EXPIRED`.
    #[error("the user PIN has expired (CKR_PIN_EXPIRED); set a new one")]
    PinExpired,
    /// `CKR_USER_PIN_NOT_INITIALIZED`.
    #[error("the token's user PIN is not initialized (CKR_USER_PIN_NOT_INITIALIZED)")]
    PinNotInitialized,
    /// `CKR_USER_NOT_LOGGED_IN` while signing: the session lost its login.
    #[error("the session is no longer logged in (CKR_USER_NOT_LOGGED_IN); open the signer again")]
    NotLoggedIn,
}

#[cfg(feature = "pkcs11")]
impl Pkcs11Error {
    /// Whether the failure is about authentication: a missing, wrong, locked or expired PIN, a
    /// PIN file that cannot be read (but not one that is not a regular file or is too large: a
    /// configuration mistake), or a session that is no longer logged in. A caller maps these to
    /// "access denied".
    pub fn is_access_denied(&self) -> bool {
        match self {
            // A PIN file that is not a regular file (a FIFO) or is too large is a configuration
            // mistake, not a credential problem.
            Self::PinFile { source, .. } => source.kind() != std::io::ErrorKind::InvalidData,
            _ => matches!(self, Self::PinRequired { .. } | Self::AccessDenied { .. }),
        }
    }
}
