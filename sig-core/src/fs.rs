//! Bounded file reads. Key and chain files are small; a huge file is a mistake or an attack.

use std::io::{self, Read};
use std::path::Path;

/// Largest key or certificate-chain file read (1 MiB).
pub const MAX_FILE_LEN: u64 = 1 << 20;

/// Reads at most `max` bytes of `path`; a longer file is an `InvalidData` error.
///
/// The file is opened without blocking (`O_NONBLOCK`) and must be a regular file: opening a FIFO
/// for reading would otherwise wait for a writer forever, and a device can be read forever.
///
/// # Errors
///
/// Any I/O error, or `InvalidData` when the file is longer than `max` or is not a regular file.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)?;
    regular_file_metadata(&file)?;
    let mut buf = Vec::new();
    file.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("file is larger than {max} bytes; is it the right file?"),
        ));
    }
    Ok(buf)
}

/// Reads a secret (a password, a PIN) from `path` as [`read_bounded`] does; a trailing newline
/// (`echo secret > file`) is not part of it. The buffer is zeroized when dropped.
#[cfg_attr(not(any(feature = "pkcs11", feature = "key-source")), allow(dead_code))]
pub(crate) fn read_secret(path: &Path, max: u64) -> io::Result<zeroize::Zeroizing<Vec<u8>>> {
    let bytes = zeroize::Zeroizing::new(read_bounded(path, max)?);
    let end = bytes.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |i| i + 1);
    Ok(zeroize::Zeroizing::new(bytes[..end].to_vec()))
}

/// Opens `path` for appending, creating it `0600`; an existing file that its group or others may
/// read is made `0600`. Opened without blocking; anything but a regular file is refused.
///
/// # Errors
///
/// Any I/O error (including a failed `chmod` of a file owned by another user), or `InvalidData`
/// when `path` is not a regular file.
pub fn open_private_append(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::File::options()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)?;
    let meta = regular_file_metadata(&file)?;
    if meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// The metadata of `file`, or `InvalidData` naming its kind when it is not a regular file.
fn regular_file_metadata(file: &std::fs::File) -> io::Result<std::fs::Metadata> {
    let meta = file.metadata()?;
    if meta.is_file() {
        Ok(meta)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}, not a regular file", file_kind(&meta)),
        ))
    }
}

/// "is a directory", "is a FIFO (named pipe)", ... for a file that is not a regular file.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_dir() {
        "is a directory"
    } else if kind.is_fifo() {
        "is a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "is a device"
    } else if kind.is_socket() {
        "is a socket"
    } else {
        "is not a file"
    }
}

/// Whether `path` is readable by its group or by others (a private key should not be).
pub fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}
