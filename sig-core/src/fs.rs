//! Bounded file reads. Key and chain files are small; a huge file is a mistake or an attack.

use std::io::{self, Read};
use std::path::Path;

/// Largest key or certificate-chain file read (1 MiB).
pub const MAX_FILE_LEN: u64 = 1 << 20;

/// Reads at most `max` bytes of `path`; a longer file is an `InvalidData` error.
///
/// # Errors
///
/// Any I/O error, or `InvalidData` when the file is longer than `max` or is not a regular file.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "is a directory, not a file"));
    }
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

/// Whether `path` is readable by its group or by others (a private key should not be).
pub fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}
