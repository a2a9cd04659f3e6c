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
//!         plus whatever the caller adds (EXTERNAL_PRIVATE_KEY, EXTERNAL_CERT_CHAIN), and
//!         the rest of the environment except SECRET_ENV
//! ```
//!
//! The program is an absolute path, or a bare name looked up in `PATH` (skipping empty, `.` and
//! other relative entries); a relative path such as `./sign.sh` is refused, since it would run
//! whatever the working directory holds. The program does not see the caller's secrets
//! (`EXTERNAL_PRIVATE_KEY_PASSWORD[_FILE]`, `EXTERNAL_PKCS11_PIN[_FILE]`) unless they are set
//! explicitly with [`CommandSigner::env`].
//!
//! The program runs in its own process group, with a watchdog (`/bin/sh`, in the same group) that
//! holds the read end of a pipe whose only writer is this process. However this process ends
//! (normal exit, SIGTERM from CI, SIGINT from Ctrl-C, SIGHUP, or SIGKILL from notation), the pipe
//! closes and the watchdog sends SIGTERM to the group, then SIGKILL 2 s later: the program and
//! every helper it started in its group die with the caller, on Linux and macOS alike. On return
//! (success, failure or timeout) the group is killed at once, so no helper outlives the call and
//! no grandchild in the group can hold the output pipes open. A helper that left the group (its
//! own session) is out of reach; if it holds stdout open after the program exited, what the
//! program printed is used after a 2 s grace period.
//!
//! When this process is the terminal's foreground job, the program's group is made the
//! foreground group while it runs (and the terminal given back after), so a program may prompt
//! on `/dev/tty` (pinentry-tty, openssl's passphrase prompt). When this process is a background
//! job, a program that uses the terminal is stopped by SIGTTIN or SIGTTOU; that is reported at
//! once instead of waiting for the timeout. stdout is capped at 64 KiB, stderr keeps 8 KiB.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, killpg, pthread_sigmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::SigningKey;
use crate::algorithm::{KeySpec, SignatureAlgorithm, SignatureScheme};
use crate::error::{ProgramStatus, SignError, SpawnFailure};
use crate::key::PublicKey;

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

/// Largest stdout accepted from a signer program (64 KiB, as the module doc says).
pub(crate) const MAX_STDOUT: usize = 64 * 1024;
/// How much of a signer program's stderr is kept for error messages (8 KiB).
pub(crate) const MAX_STDERR: usize = 8 * 1024;
/// Default time a signer program may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Environment variables holding the plugin's (and cosign-compat's) own secrets. They are not
/// part of the program contract and are removed from the program's environment, unless set
/// explicitly with [`CommandSigner::env`] (`key_source::SECRET_ENV`, with the `key-source`
/// feature).
pub(crate) const SECRET_ENV: [&str; 4] = [
    crate::key_source::env::PRIVATE_KEY_PASSWORD,
    crate::key_source::env::PRIVATE_KEY_PASSWORD_FILE,
    crate::key_source::env::PKCS11_PIN,
    crate::key_source::env::PKCS11_PIN_FILE,
];
/// How long the pipes may stay open after the program exited (a helper outside its group).
const GRACE: Duration = Duration::from_secs(2);
/// The watchdog: waits for EOF on stdin (the caller is gone, or dropped the pipe), then stops
/// its own process group, which is the program's. It ignores the terminal's signals, so Ctrl-C
/// given to the program's group while it has the terminal reaches only the program.
const WATCHDOG: &str =
    "trap '' HUP INT QUIT TERM; read -r line; kill -TERM 0; sleep 2; kill -KILL 0";

/// Signs by running an external program.
///
/// The program holds the private key; this side knows only its public key, which it is given:
/// the leaf certificate's key when there is a certificate chain (`chain.leaf().public_key()`),
/// else the key of a public key file, or the one derived from the private key file the program
/// reads. The key spec passed to the program (`EXTERNAL_SIGNER_KEY_SPEC`) is that key's.
#[derive(Debug, Clone)]
pub struct CommandSigner {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    encoding: OutputEncoding,
    public_key: PublicKey,
    key_id: String,
    caller: &'static str,
}

impl CommandSigner {
    /// A signer running `program` for the private key of `public_key`.
    pub fn new(program: impl Into<PathBuf>, public_key: PublicKey) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            encoding: OutputEncoding::Raw,
            public_key,
            key_id: String::new(),
            caller: "notation",
        }
    }

    /// Adds a command-line argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable for the program. This is also how one of the caller's
    /// secret variables is passed, when the configuration says so.
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
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The `PATH` the program is looked up in: the one set with [`env`](Self::env), else this
    /// process's.
    fn path_var(&self) -> Option<OsString> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var_os("PATH"))
    }

    fn command(&self, program: &Path, algorithm: SignatureAlgorithm, pgid: Pid) -> Command {
        let mut cmd = Command::new(program);
        for secret in SECRET_ENV {
            cmd.env_remove(secret);
        }
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("EXTERNAL_SIGNER_KEY_SPEC", self.public_key.key_spec().as_str())
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
            .process_group(pgid.as_raw());
        if algorithm.scheme() == SignatureScheme::RsaPss {
            cmd.env("EXTERNAL_SIGNER_PSS_SALT_LENGTH", algorithm.hash().output_len().to_string());
        }
        cmd
    }

    fn run(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        let program = self.program.clone();
        let path =
            resolve_program(&self.program, self.path_var().as_deref()).map_err(|reason| {
                SignError::Spawn {
                    program: program.clone(),
                    reason,
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "refused before running anything",
                    ),
                }
            })?;
        let spawn_error = |source: std::io::Error| SignError::Spawn {
            program: program.clone(),
            reason: spawn_remedy(&source),
            source,
        };
        let mut group = Group::start().map_err(|source| SignError::Spawn {
            program: program.clone(),
            reason: SpawnFailure::Watchdog,
            source,
        })?;
        let mut child = self.command(&path, algorithm, group.pgid).spawn().map_err(spawn_error)?;
        // Before anything waits for the program: a stop (SIGTTIN) that happened before it had
        // the terminal is undone by the SIGCONT, and never reported.
        group.give_terminal();

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
            // Sent as it comes, so that what was printed is kept even when a helper keeps the
            // pipe open after the program exited.
            std::thread::spawn(move || read_chunks(stdout, &tx));
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
            let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
            std::thread::spawn(move || wait_reporting_stops(pid, &tx));
        }
        drop(tx);

        let deadline = Instant::now() + self.timeout;
        let mut status: Option<ExitStatus> = None;
        let mut stdout: Vec<u8> = Vec::new();
        let mut stdout_done = false;
        let mut stderr: Option<Vec<u8>> = None;
        let mut grace: Option<Instant> = None;
        while status.is_none() || !stdout_done || stderr.is_none() {
            let limit = grace.unwrap_or(deadline);
            let wait = limit.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Event::Exited(Ok(s))) => {
                    status = Some(s);
                    // Helpers the program left behind must not outlive it or hold its pipes.
                    group.kill();
                    grace = Some(Instant::now() + GRACE);
                }
                Ok(Event::Exited(Err(source))) => {
                    return Err(SignError::Spawn { program, reason: SpawnFailure::Wait, source });
                }
                Ok(Event::Stopped(signal)) if is_terminal_stop(signal) => {
                    group.kill();
                    let stderr = collect_stderr(&rx, stderr);
                    return Err(SignError::Program {
                        program,
                        status: ProgramStatus::TerminalStop(signal.as_str()),
                        stderr: clean_stderr(&stderr),
                    });
                }
                // Suspended (Ctrl-Z) or stopped by hand: the deadline still applies.
                Ok(Event::Stopped(_)) => {}
                Ok(Event::Stdout(chunk)) => {
                    stdout.extend_from_slice(&chunk);
                    if stdout.len() > MAX_STDOUT {
                        return Err(SignError::OutputTooLarge { program, limit: MAX_STDOUT });
                    }
                }
                Ok(Event::StdoutEnd) => stdout_done = true,
                Ok(Event::Stderr(buf)) => stderr = Some(buf),
                // The program exited and a helper outside its group holds a pipe: go on with
                // what was read.
                Err(mpsc::RecvTimeoutError::Timeout) if grace.is_some() => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    group.kill();
                    let stderr = collect_stderr(&rx, stderr);
                    return Err(SignError::Timeout {
                        program,
                        timeout: self.timeout,
                        stderr: clean_stderr(&stderr),
                    });
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        drop(group);
        let stderr = clean_stderr(stderr.as_deref().unwrap_or_default());
        let status = status.ok_or_else(|| SignError::Program {
            program: program.clone(),
            status: ProgramStatus::Unknown,
            stderr: stderr.clone(),
        })?;
        if !status.success() {
            let status = match (status.code(), status.signal()) {
                (Some(code), _) => ProgramStatus::Exited(code),
                (None, Some(signal)) => ProgramStatus::Killed(signal),
                _ => ProgramStatus::Unknown,
            };
            return Err(SignError::Program { program, status, stderr });
        }
        let blank = stdout.iter().all(u8::is_ascii_whitespace);
        if stdout.is_empty() || (blank && self.encoding != OutputEncoding::Raw) {
            return Err(SignError::EmptyOutput { program });
        }
        let signature = decode_output(self.encoding, &stdout).map_err(|reason| {
            SignError::Encoding { program: program.clone(), encoding: self.encoding, reason }
        })?;
        if algorithm.scheme() == SignatureScheme::Ecdsa {
            return crate::ecdsa::normalize(self.public_key.key_spec(), &signature);
        }
        Ok(signature)
    }
}

enum Event {
    Exited(std::io::Result<ExitStatus>),
    Stopped(Signal),
    Stdout(Vec<u8>),
    StdoutEnd,
    Stderr(Vec<u8>),
}

/// Sends what `pipe` gives, chunk by chunk, then [`Event::StdoutEnd`]; stops when nobody
/// listens any more.
fn read_chunks(mut pipe: impl Read, tx: &mpsc::Sender<Event>) {
    let mut buf = [0_u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if tx.send(Event::Stdout(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Event::StdoutEnd);
}

/// Waits for `pid` to end, reporting each time it is stopped (`WUNTRACED`) on the way.
fn wait_reporting_stops(pid: Pid, tx: &mpsc::Sender<Event>) {
    loop {
        let status = match waitpid(pid, Some(WaitPidFlag::WUNTRACED)) {
            Ok(WaitStatus::Exited(_, code)) => ExitStatus::from_raw((code & 0xff) << 8),
            Ok(WaitStatus::Signaled(_, signal, core)) => {
                ExitStatus::from_raw(signal as i32 | if core { 0x80 } else { 0 })
            }
            Ok(WaitStatus::Stopped(_, signal)) => {
                if tx.send(Event::Stopped(signal)).is_err() {
                    return;
                }
                continue;
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => {
                let _ = tx.send(Event::Exited(Err(std::io::Error::from(errno))));
                return;
            }
        };
        let _ = tx.send(Event::Exited(Ok(status)));
        return;
    }
}

/// Whether `signal` stops a background job that uses the terminal.
fn is_terminal_stop(signal: Signal) -> bool {
    matches!(signal, Signal::SIGTTIN | Signal::SIGTTOU)
}

/// What the program wrote to stderr, waiting briefly for the pipe after its group was killed.
fn collect_stderr(rx: &mpsc::Receiver<Event>, mut stderr: Option<Vec<u8>>) -> Vec<u8> {
    let until = Instant::now() + Duration::from_millis(500);
    while stderr.is_none() {
        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(Event::Stderr(buf)) => stderr = Some(buf),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    stderr.unwrap_or_default()
}

/// The program's process group: led by the watchdog, killed when dropped, with the terminal
/// while the program runs if this process had it.
struct Group {
    pgid: Pid,
    watchdog: Child,
    /// Only this process writes to the watchdog's stdin; it closes when this process ends.
    _lifeline: std::io::PipeWriter,
    terminal: Option<Foreground>,
}

impl Group {
    /// Starts the watchdog as the leader of a new process group. The group id stays reserved
    /// until the watchdog is reaped (in `drop`), so killing the group never hits another one.
    fn start() -> std::io::Result<Self> {
        let (reader, writer) = std::io::pipe()?;
        let watchdog = Command::new("/bin/sh")
            .args(["-c", WATCHDOG])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(reader)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let pgid = Pid::from_raw(i32::try_from(watchdog.id()).unwrap_or(i32::MAX));
        Ok(Self { pgid, watchdog, _lifeline: writer, terminal: None })
    }

    /// Makes the group the terminal's foreground group when this process's group is (and
    /// continues the program, in case it was stopped reading the terminal before).
    fn give_terminal(&mut self) {
        self.terminal = Foreground::give(self.pgid);
        if self.terminal.is_some() {
            let _ = killpg(self.pgid, Signal::SIGCONT);
        }
    }

    /// Kills every process of the group, the watchdog included.
    fn kill(&self) {
        let _ = killpg(self.pgid, Signal::SIGKILL);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
        self.terminal = None;
        let _ = self.watchdog.wait();
    }
}

/// The terminal, given to the program's group; given back to ours when dropped.
struct Foreground {
    tty: File,
    ours: Pid,
}

impl Foreground {
    fn give(pgid: Pid) -> Option<Self> {
        let tty = File::options().read(true).write(true).open("/dev/tty").ok()?;
        let ours = nix::unistd::getpgrp();
        // A background job leaves the terminal to the foreground job.
        if nix::unistd::tcgetpgrp(&tty).ok()? != ours {
            return None;
        }
        nix::unistd::tcsetpgrp(&tty, pgid).ok()?;
        Some(Self { tty, ours })
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        // This process is now a background job of the terminal: tcsetpgrp would stop it with
        // SIGTTOU unless that is blocked. Blocked in this thread only, and only for the call.
        let mut ttou = SigSet::empty();
        ttou.add(Signal::SIGTTOU);
        let mut previous = SigSet::empty();
        if pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut previous)).is_ok() {
            let _ = nix::unistd::tcsetpgrp(&self.tty, self.ours);
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None);
        }
    }
}

/// Where `program` is: an absolute path as it is, a bare name (no `/`) in the absolute entries of
/// `path_var` (`PATH`). A relative path is refused, and so are empty, `.` and other relative
/// `PATH` entries: they would run whatever the working directory holds.
///
/// # Errors
///
/// [`SpawnFailure::NoProgram`], [`SpawnFailure::RelativePath`] or [`SpawnFailure::NotInPath`].
pub(crate) fn resolve_program(
    program: &Path,
    path_var: Option<&OsStr>,
) -> Result<PathBuf, SpawnFailure> {
    use std::os::unix::ffi::OsStrExt as _;
    if program.is_absolute() {
        return Ok(program.to_owned());
    }
    let name = program.as_os_str();
    if name.is_empty() {
        return Err(SpawnFailure::NoProgram);
    }
    if name.as_bytes().contains(&b'/') {
        return Err(SpawnFailure::RelativePath);
    }
    let found = path_var
        .map(std::env::split_paths)
        .into_iter()
        .flatten()
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        });
    found.ok_or(SpawnFailure::NotInPath)
}

impl SigningKey for CommandSigner {
    fn key_spec(&self) -> KeySpec {
        self.public_key.key_spec()
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn sign(&self, algorithm: SignatureAlgorithm, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        self.run(algorithm, payload)
    }
}

fn spawn_remedy(err: &std::io::Error) -> SpawnFailure {
    match err.kind() {
        std::io::ErrorKind::NotFound => SpawnFailure::NotFound,
        std::io::ErrorKind::PermissionDenied => SpawnFailure::PermissionDenied,
        _ if err.raw_os_error() == Some(nix::libc::ENOEXEC) => SpawnFailure::NotExecutable,
        _ => SpawnFailure::Other,
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
            // `xxd -p` wraps at 60 columns, `od` separates bytes: all ASCII whitespace goes.
            let text: Vec<u8> = out.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            let text = std::str::from_utf8(&text).map_err(|_| "not text".to_owned())?;
            crate::hex::decode(text)
        }
    }
}
