//! Signing by an external program: payload on stdin, signature on stdout.
//!
//! The program contract (compatible with the `EXTERNAL_SIGNER` scripts of the earlier Go plugin):
//!
//! ```text
//! stdin   the bytes to sign (not a digest)
//! stdout  the signature: raw bytes (default), base64 or hex; ECDSA as DER or r||s
//! stderr  shown to the user if the program fails (first 8 KiB)
//! exit    0 on success
//! env     EXTERNAL_SIGNER_KEY_SPEC         RSA-2048 | … | EC-521
//!         EXTERNAL_SIGNER_HASH             SHA-256 | SHA-384 | SHA-512
//!         EXTERNAL_SIGNER_DIGEST           sha256 | sha384 | sha512 (openssl's name)
//!         EXTERNAL_SIGNER_SCHEME           rsassa-pss | rsassa-pkcs1v15 | ecdsa
//!         EXTERNAL_SIGNER_PSS_SALT_LENGTH  32 | 48 | 64 (rsassa-pss only; = hash length)
//!         EXTERNAL_SIGNER_KEY_ID           the key id notation was given
//!         EXTERNAL_SIGNER_CALLER           notation | cosign
//!         EXTERNAL_SIGNER_OUTPUT_ENCODING  raw | base64 | hex
//!         EXTERNAL_SIGNER_TIMEOUT_SECONDS  the deadline enforced on the program
//!         EXTERNAL_SIGNER_CONTRACT         1
//!         plus whatever the caller adds (EXTERNAL_PRIVATE_KEY, EXTERNAL_CERT_CHAIN)
//! ```
//!
//! The program runs in its own process group. On timeout the whole group is killed, and so is
//! anything the program left running after it exited, so no helper outlives the call and no
//! grandchild can hold the output pipe open. stdout is capped at 64 KiB, stderr keeps 8 KiB.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::Signer;
use crate::algorithm::{KeySpec, SignatureAlgorithm, SignatureScheme};
use crate::error::SignError;
use crate::x509::CertificateChain;

/// How the program prints the signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputEncoding {
    /// The signature bytes as they are.
    #[default]
    Raw,
    /// Standard base64 (whitespace ignored; URL-safe and unpadded forms accepted).
    Base64,
    /// Hexadecimal (whitespace ignored).
    Hex,
}

impl OutputEncoding {
    /// `"raw"`, `"base64"` or `"hex"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Base64 => "base64",
            Self::Hex => "hex",
        }
    }
}

impl core::str::FromStr for OutputEncoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raw" | "" => Ok(Self::Raw),
            "base64" => Ok(Self::Base64),
            "hex" => Ok(Self::Hex),
            other => Err(format!("unknown signature encoding {other:?}: use raw, base64 or hex")),
        }
    }
}

/// Largest stdout accepted from a signer program.
pub const MAX_STDOUT: usize = 64 * 1024;
/// How much of a signer program's stderr is kept for error messages.
pub const MAX_STDERR: usize = 8 * 1024;
/// Default time a signer program may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Signs by running an external program.
#[derive(Debug, Clone)]
pub struct CommandSigner {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    encoding: OutputEncoding,
    chain: CertificateChain,
    key_spec: KeySpec,
    key_id: String,
    caller: &'static str,
}

impl CommandSigner {
    /// A signer running `program` for the leaf key of `chain`.
    ///
    /// # Errors
    ///
    /// The leaf's key errors when the leaf has an unsupported key.
    pub fn new(
        program: impl Into<PathBuf>,
        chain: CertificateChain,
    ) -> Result<Self, crate::error::KeyError> {
        let key_spec = chain.leaf().public_key()?.key_spec();
        Ok(Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            encoding: OutputEncoding::Raw,
            chain,
            key_spec,
            key_id: String::new(),
            caller: "notation",
        })
    }

    /// Adds a command-line argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable for the program.
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the time limit (default [`DEFAULT_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how the program prints the signature (default raw).
    #[must_use]
    pub fn encoding(mut self, encoding: OutputEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sets the key id passed as `EXTERNAL_SIGNER_KEY_ID`.
    #[must_use]
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = key_id.into();
        self
    }

    /// Sets `EXTERNAL_SIGNER_CALLER` (`"notation"` by default, `"cosign"`).
    #[must_use]
    pub fn caller(mut self, caller: &'static str) -> Self {
        self.caller = caller;
        self
    }

    /// The program.
    pub fn program(&self) -> &std::path::Path {
        &self.program
    }

    fn command(&self, algorithm: SignatureAlgorithm) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("EXTERNAL_SIGNER_KEY_SPEC", self.key_spec.as_str())
            .env("EXTERNAL_SIGNER_HASH", algorithm.hash().as_str())
            .env("EXTERNAL_SIGNER_DIGEST", algorithm.hash().short_name())
            .env("EXTERNAL_SIGNER_SCHEME", algorithm.scheme().as_str())
            .env("EXTERNAL_SIGNER_KEY_ID", &self.key_id)
            .env("EXTERNAL_SIGNER_CALLER", self.caller)
            .env("EXTERNAL_SIGNER_OUTPUT_ENCODING", self.encoding.as_str())
            .env("EXTERNAL_SIGNER_TIMEOUT_SECONDS", self.timeout.as_secs().max(1).to_string())
            .env("EXTERNAL_SIGNER_CONTRACT", "1")
            .env_remove("EXTERNAL_SIGNER_PSS_SALT_LENGTH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if algorithm.scheme() == SignatureScheme::RsaPss {
            cmd.env("EXTERNAL_SIGNER_PSS_SALT_LENGTH", algorithm.hash().output_len().to_string());
        }
        cmd
    }

    fn run(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        let program = self.program.clone();
        let mut child = self.command(algorithm).spawn().map_err(|source| SignError::Spawn {
            program: program.clone(),
            reason: spawn_remedy(&source),
            source,
        })?;
        let pgid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        let kill_group = || {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        };

        let (tx, rx) = mpsc::channel::<Event>();
        // Each pipe has its own thread so that a program that fills one pipe while we block on
        // another cannot deadlock us (ripgrep's CommandReader does the same).
        if let Some(mut stdin) = child.stdin.take() {
            let payload = payload.to_vec();
            std::thread::spawn(move || {
                // A program that exits without reading stdin makes this fail with EPIPE: fine.
                let _ = stdin.write_all(&payload);
            });
        }
        if let Some(stdout) = child.stdout.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let result = stdout.take(MAX_STDOUT as u64 + 1).read_to_end(&mut buf);
                let _ = tx.send(match result {
                    Ok(_) if buf.len() > MAX_STDOUT => Event::StdoutOverflow,
                    _ => Event::Stdout(buf),
                });
            });
        }
        if let Some(mut stderr) = child.stderr.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let _ = (&mut stderr).take(MAX_STDERR as u64).read_to_end(&mut kept);
                // Drain the rest so the program never blocks on a full pipe.
                let _ = std::io::copy(&mut stderr, &mut std::io::sink());
                let _ = tx.send(Event::Stderr(kept));
            });
        }
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(Event::Exited(child.wait()));
            });
        }
        drop(tx);

        let deadline = Instant::now() + self.timeout;
        let mut status: Option<ExitStatus> = None;
        let mut stdout: Option<Vec<u8>> = None;
        let mut stderr: Option<Vec<u8>> = None;
        let mut grace: Option<Instant> = None;
        while status.is_none() || stdout.is_none() || stderr.is_none() {
            let limit = grace.unwrap_or(deadline);
            let wait = limit.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Event::Exited(Ok(s))) => {
                    status = Some(s);
                    // Helpers the program left behind must not outlive it or hold its pipes.
                    kill_group();
                    grace = Some(Instant::now() + Duration::from_secs(2));
                }
                Ok(Event::Exited(Err(source))) => {
                    kill_group();
                    return Err(SignError::Spawn { program, reason: "wait failed".into(), source });
                }
                Ok(Event::Stdout(buf)) => stdout = Some(buf),
                Ok(Event::StdoutOverflow) => {
                    kill_group();
                    return Err(SignError::OutputTooLarge { program, limit: MAX_STDOUT });
                }
                Ok(Event::Stderr(buf)) => stderr = Some(buf),
                Err(mpsc::RecvTimeoutError::Timeout) if grace.is_some() => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    kill_group();
                    // Collect what the program said before it was stopped.
                    let until = Instant::now() + Duration::from_millis(500);
                    while stderr.is_none() {
                        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                            Ok(Event::Stderr(buf)) => stderr = Some(buf),
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                    return Err(SignError::Timeout {
                        program,
                        timeout: self.timeout,
                        stderr: clean_stderr(stderr.as_deref().unwrap_or_default()),
                    });
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let stderr = clean_stderr(stderr.as_deref().unwrap_or_default());
        let status = status.ok_or_else(|| SignError::Program {
            program: program.clone(),
            status: "ended in an unknown state".into(),
            stderr: stderr.clone(),
        })?;
        if !status.success() {
            let status = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exited with status {code}"),
                (None, Some(signal)) => format!("was killed by signal {signal}"),
                _ => "failed".to_owned(),
            };
            return Err(SignError::Program { program, status, stderr });
        }
        let stdout = stdout.unwrap_or_default();
        let blank = stdout.iter().all(u8::is_ascii_whitespace);
        if stdout.is_empty() || (blank && self.encoding != OutputEncoding::Raw) {
            return Err(SignError::EmptyOutput { program });
        }
        let signature =
            decode_output(self.encoding, &stdout).map_err(|reason| SignError::Encoding {
                program: program.clone(),
                encoding: self.encoding.as_str(),
                reason,
            })?;
        if algorithm.scheme() == SignatureScheme::Ecdsa {
            return crate::ecdsa::normalize(self.key_spec, &signature);
        }
        Ok(signature)
    }
}

enum Event {
    Exited(std::io::Result<ExitStatus>),
    Stdout(Vec<u8>),
    StdoutOverflow,
    Stderr(Vec<u8>),
}

impl Signer for CommandSigner {
    fn key_spec(&self) -> KeySpec {
        self.key_spec
    }

    fn certificate_chain(&self) -> &CertificateChain {
        &self.chain
    }

    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        self.run(algorithm, payload)
    }
}

fn spawn_remedy(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => {
            "not found: check the path (relative paths are resolved from the working directory of notation, or searched in PATH when there is no slash)".into()
        }
        std::io::ErrorKind::PermissionDenied => {
            "permission denied: make it executable (chmod +x) and readable".into()
        }
        _ if err.raw_os_error() == Some(nix::libc::ENOEXEC) => {
            "not a valid executable: a script needs a #! line such as #!/bin/sh".into()
        }
        _ => err.to_string(),
    }
}

/// Printable, trimmed, bounded stderr for messages.
fn clean_stderr(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text: String =
        text.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect();
    let text = text.trim();
    let mut out: String = text.chars().take(2000).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn decode_output(encoding: OutputEncoding, out: &[u8]) -> Result<Vec<u8>, String> {
    match encoding {
        OutputEncoding::Raw => Ok(out.to_vec()),
        OutputEncoding::Base64 => {
            let text: Vec<u8> = out.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            let engines = [
                &base64::engine::general_purpose::STANDARD,
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines
                .iter()
                .find_map(|engine| engine.decode(&text).ok())
                .ok_or_else(|| "not base64".to_owned())
        }
        OutputEncoding::Hex => {
            let text = std::str::from_utf8(out).map_err(|_| "not text".to_owned())?;
            crate::hex::decode(text)
        }
    }
}
