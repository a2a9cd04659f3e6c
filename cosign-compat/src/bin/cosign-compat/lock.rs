//! The single-host lock: `cosign-compat` processes of one user that sign the same image take
//! turns on its `.sig` manifest (registries cannot lock a tag; the read-back in
//! `remote::attach_signature` covers every other writer).
//!
//! The lock files live in a directory of the user's own: `$XDG_RUNTIME_DIR/cosign-compat`
//! (per user and 0700 by the XDG spec), else `$XDG_CACHE_HOME/cosign-compat/locks`, else
//! `$HOME/.cache/cosign-compat/locks`; never in a shared temp directory, where another user could
//! create the file first and so disable or hold the lock. The directory must be owned by the user
//! and writable by nobody else, and the lock file a regular file of the user's (no symlink is
//! followed). When it cannot be used, signing goes on without it, saying why. A held lock is
//! waited for, saying so and naming the process that holds it, and at most the given time (a
//! stopped process keeps its lock until it is resumed or killed).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a held lock is tried again.
const POLL: Duration = Duration::from_millis(50);

/// Why the lock was not taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// The lock cannot be used (signing may go on without it).
    Unusable { path: PathBuf, reason: String },
    /// Another process held it for the whole timeout.
    Timeout { path: PathBuf, holder: Option<u32>, waited: Duration },
}

impl LockError {
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Unusable { path, reason } => format!(
                "cannot use the signing lock {}: {reason}; signing without it (concurrent signers on this host are still checked by the read-back)",
                path.display()
            ),
            Self::Timeout { path, holder, waited } => format!(
                "gave up after {} s waiting for the signing lock {} held by {}: another cosign-compat is signing this image (a stopped one, e.g. after Ctrl-Z, keeps the lock until resumed or killed); try again when it is done, or wait longer with --lock-timeout SECONDS",
                waited.as_secs(),
                path.display(),
                holder.map_or_else(|| "another process".to_owned(), |pid| format!("process {pid}")),
            ),
        }
    }
}

/// Where the lock files of this user go (see the module docs); `None` when none of the
/// variables is set.
pub(crate) fn lock_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(runtime) = var("XDG_RUNTIME_DIR") {
        return Some(runtime.join("cosign-compat"));
    }
    let cache = var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache")))?;
    Some(cache.join("cosign-compat").join("locks"))
}

/// A held lock; released on drop (and by the kernel when the process dies).
#[derive(Debug)]
pub(crate) struct SignatureLock {
    _file: File,
}

/// Takes the lock `name` in `dir`, waiting at most `timeout` for another holder; `note` is told
/// once when it has to wait.
pub(crate) fn lock(
    dir: &Path,
    name: &str,
    timeout: Duration,
    note: &mut dyn FnMut(&str),
) -> Result<SignatureLock, LockError> {
    let path = dir.join(name);
    let unusable = |reason: String| LockError::Unusable { path: path.clone(), reason };
    let uid = nix::unistd::geteuid().as_raw();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| unusable(format!("cannot create {}: {e}", dir.display())))?;
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| unusable(format!("cannot inspect {}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(unusable(format!("{} is not a directory", dir.display())));
    }
    if meta.uid() != uid {
        return Err(unusable(format!(
            "{} belongs to user {}, not to this user ({uid})",
            dir.display(),
            meta.uid()
        )));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(unusable(format!(
            "{} is writable by other users (chmod go-w it)",
            dir.display()
        )));
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(&path)
        .map_err(|e| unusable(format!("cannot open it: {e}")))?;
    let meta = file.metadata().map_err(|e| unusable(format!("cannot inspect it: {e}")))?;
    if !meta.is_file() || meta.uid() != uid {
        return Err(unusable("not a regular file of this user".to_owned()));
    }
    let start = Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(unusable(format!("cannot lock it: {e}")));
            }
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(LockError::Timeout { path, holder: holder(&mut file), waited });
        }
        if !told {
            told = true;
            let by = holder(&mut file).map_or_else(String::new, |pid| format!(" (process {pid})"));
            note(&format!(
                "Waiting for another cosign-compat{by} signing this image to finish (lock {}; giving up after {} s, see --lock-timeout)",
                path.display(),
                timeout.as_secs()
            ));
        }
        std::thread::sleep(POLL.min(timeout.saturating_sub(waited)));
    }
    // Who holds it, for the message of the next waiter; the lock works without it.
    let pid = std::process::id();
    let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| writeln!(file, "{pid}"));
    Ok(SignatureLock { _file: file })
}

/// The process id the holder wrote into the lock file.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_note(_: &str) {}

    #[test]
    fn lock_dir_is_per_user() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let runtime = env(&[("XDG_RUNTIME_DIR", "/run/user/7"), ("HOME", "/home/u")]);
        assert_eq!(lock_dir(&runtime), Some(PathBuf::from("/run/user/7/cosign-compat")));
        let cache = env(&[("XDG_RUNTIME_DIR", ""), ("XDG_CACHE_HOME", "/c"), ("HOME", "/h")]);
        assert_eq!(lock_dir(&cache), Some(PathBuf::from("/c/cosign-compat/locks")));
        let home = env(&[("HOME", "/home/u"), ("TMPDIR", "/tmp")]);
        assert_eq!(lock_dir(&home), Some(PathBuf::from("/home/u/.cache/cosign-compat/locks")));
        assert_eq!(lock_dir(&env(&[("TMPDIR", "/tmp")])), None, "never the temp dir");
    }

    #[test]
    fn a_stale_lock_file_is_taken_and_records_our_pid() {
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("locks");
        std::fs::create_dir(&locks).unwrap();
        // Left by a process that died: the file stays, the flock went with the process.
        std::fs::write(locks.join("x.lock"), "999999\n").unwrap();
        let held = lock(&locks, "x.lock", Duration::ZERO, &mut no_note).unwrap();
        let text = std::fs::read_to_string(locks.join("x.lock")).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
        drop(held);
        let fresh = lock(&locks, "new.lock", Duration::ZERO, &mut no_note).unwrap();
        let meta = std::fs::metadata(locks.join("new.lock")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o077, 0, "created 0600");
        drop(fresh);
    }

    #[test]
    fn a_directory_of_another_user_is_not_used() {
        // CI runs as root: give a directory away. Otherwise `/` belongs to root, not to us.
        let dir = tempfile::tempdir().unwrap();
        let theirs = if nix::unistd::geteuid().is_root() {
            let theirs = dir.path().join("theirs");
            std::fs::create_dir(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
            theirs
        } else {
            PathBuf::from("/")
        };
        let err = lock(&theirs, "x.lock", Duration::ZERO, &mut no_note).unwrap_err();
        assert!(err.message().contains("not to this user"), "{}", err.message());
    }

    #[test]
    fn a_held_lock_is_waited_for_with_a_note_then_given_up_on() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), "x.lock", Duration::ZERO, &mut no_note).unwrap();
        let mut notes = Vec::new();
        let err = lock(dir.path(), "x.lock", Duration::from_millis(120), &mut |n: &str| {
            notes.push(n.to_owned());
        })
        .unwrap_err();
        assert_eq!(notes.len(), 1, "{notes:?}");
        let pid = std::process::id();
        assert!(notes[0].contains(&format!("Waiting for another cosign-compat (process {pid})")));
        let text = err.message();
        assert!(matches!(err, LockError::Timeout { holder: Some(p), .. } if p == pid), "{text}");
        assert!(text.contains("--lock-timeout") && text.contains("x.lock"), "{text}");
        drop(first);
    }

    #[test]
    fn the_wait_ends_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Some(lock(dir.path(), "x.lock", Duration::ZERO, &mut no_note).unwrap());
        // The holder lets go when we say we wait: taken on the next try, well before an hour.
        let got = lock(dir.path(), "x.lock", Duration::from_secs(3600), &mut |_: &str| {
            first = None;
        });
        assert!(got.is_ok(), "{got:?}");
    }

    #[test]
    fn a_directory_others_can_write_or_a_symlink_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = lock(&open, "x.lock", Duration::ZERO, &mut no_note).unwrap_err();
        assert!(err.message().contains("writable by other users"), "{}", err.message());
        let safe = dir.path().join("safe");
        std::fs::create_dir(&safe).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), safe.join("x.lock")).unwrap();
        let err = lock(&safe, "x.lock", Duration::ZERO, &mut no_note).unwrap_err();
        assert!(matches!(err, LockError::Unusable { .. }), "{}", err.message());
        assert!(!dir.path().join("elsewhere").exists(), "the symlink was not followed");
    }
}
