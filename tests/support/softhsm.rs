//! The `SoftHSM2` token the PKCS#11 tests of sig-core and notation-plugin sign with, shared by both
//! test crates (`#[path]`-included: a dev-only crate for one function would be heavier).

use std::path::Path;
use std::process::Command;

/// `SoftHSM2`'s PKCS#11 module, as Debian installs it.
pub(crate) const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// What installs `SoftHSM2` and `pkcs11-tool`.
pub(crate) const INSTALL: &str = "apt-get install softhsm2 opensc";

/// Makes a fresh token PKI in `dir` (deleted first) with `scripts/softhsm-pki.sh`. Panics, with
/// what to install, when `SoftHSM2` or `OpenSC` is missing, and with the script's output when it
/// fails.
pub(crate) fn make_token_pki(dir: &Path) {
    let missing: Vec<&str> = [("softhsm2-util", "softhsm2"), ("pkcs11-tool", "opensc")]
        .into_iter()
        .filter(|(tool, _)| {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .map(|(_, package)| package)
        .collect();
    assert!(
        missing.is_empty() && Path::new(MODULE).is_file(),
        "the PKCS#11 tests need `SoftHSM2` ({MODULE}, softhsm2-util) and OpenSC (pkcs11-tool); missing: {missing:?}; install them: {INSTALL}"
    );
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot remove the token of an earlier run, {}: {e}", dir.display()),
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/softhsm-pki.sh");
    let out = Command::new("bash").arg(&script).arg("--out").arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{} failed:\n{}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
