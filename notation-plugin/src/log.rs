//! Optional log file, named by `EXTERNAL_SIGNER_LOG`; off by default. Never stdout or stderr
//! (stdout is the protocol, stderr the error JSON). Nothing secret is logged: no payload bytes,
//! no key material, no passwords.

use std::fs::OpenOptions;
use std::io::Write;

/// Environment variable naming the log file.
pub const LOG_ENV: &str = "EXTERNAL_SIGNER_LOG";

/// Appends log lines to a file, if configured.
#[derive(Debug)]
pub struct Log {
    file: Option<std::fs::File>,
}

impl Log {
    /// Opens the log named by [`LOG_ENV`], or a no-op log.
    pub fn from_env(env: crate::config::Env<'_>) -> Self {
        let file = env(LOG_ENV)
            .filter(|p| !p.is_empty())
            .and_then(|path| OpenOptions::new().create(true).append(true).open(path).ok());
        Self { file }
    }

    /// Writes one line, prefixed with the UTC time and the process id.
    pub fn line(&mut self, message: &str) {
        if let Some(file) = &mut self.file {
            let now = time::OffsetDateTime::now_utc();
            let _ = writeln!(file, "{now} [{}] {message}", std::process::id());
        }
    }
}
