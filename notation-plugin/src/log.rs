//! Optional log file, named by `EXTERNAL_SIGNER_LOG`; off by default. Never stdout or stderr
//! (stdout is the protocol, stderr the error JSON). Nothing secret is logged: no payload bytes,
//! no key material, no passwords. The file is created `0600`; an existing file that others may
//! read is made `0600`, and a file that is not a regular file (a FIFO would block), or cannot be
//! made private, is not logged to. Each message is cut to [`MAX_MESSAGE_CHARS`] characters, so
//! a signer's stderr (which the error itself carries) is logged short.

use std::io::Write;

/// Environment variable naming the log file.
pub const LOG_ENV: &str = "EXTERNAL_SIGNER_LOG";
/// Longest message logged, in characters.
pub const MAX_MESSAGE_CHARS: usize = 240;

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
            .and_then(|path| sig_core::__private::fs::open_private_append(path.as_ref()).ok());
        Self { file }
    }

    /// Writes one line, prefixed with the UTC time and the process id.
    pub fn line(&mut self, message: &str) {
        if let Some(file) = &mut self.file {
            let now = time::OffsetDateTime::now_utc();
            let mut short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
            if short.len() < message.len() {
                short.push('…');
            }
            let _ = writeln!(file, "{now} [{}] {short}", std::process::id());
        }
    }
}
