//! Fixture paths and decoding for the non-envelope tests (`keys`, `chain`, `signer`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use sig_core::KeySpec;

/// The six valid fixture directories and their key specs.
pub(crate) const SPECS: [(&str, KeySpec); 6] = [
    ("rsa-2048", KeySpec::Rsa2048),
    ("rsa-3072", KeySpec::Rsa3072),
    ("rsa-4096", KeySpec::Rsa4096),
    ("ec-256", KeySpec::Ec256),
    ("ec-384", KeySpec::Ec384),
    ("ec-521", KeySpec::Ec521),
];

/// The password of every `leaf.enc.pem`.
pub(crate) const KEY_PASSWORD: &[u8] = b"test-password";

/// 2030-01-01T00:00:00Z: every valid fixture is valid then, and no test reads the wall clock.
pub(crate) fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000)
}

/// `tests/data` of the workspace.
pub(crate) fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

/// `tests/data/pki/<dir>/<file>`.
pub(crate) fn pki(dir: &str, file: &str) -> PathBuf {
    data_dir().join("pki").join(dir).join(file)
}

/// The bytes of `tests/data/pki/<dir>/<file>`.
pub(crate) fn read(dir: &str, file: &str) -> Vec<u8> {
    let path = pki(dir, file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `tests/data/commands/<name>.sh`.
pub(crate) fn toy_signer(name: &str) -> PathBuf {
    data_dir().join("commands").join(format!("{name}.sh"))
}

/// `examples/<name>` of the workspace.
pub(crate) fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

/// Every `tests/data/pki/fail_*` directory name, sorted.
pub(crate) fn fail_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir().join("pki"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fail_"))
        .collect();
    names.sort();
    names
}

/// The DER of every PEM block in `pem`, decoded here rather than by the crate under test.
pub(crate) fn pem_ders(pem: &[u8]) -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(pem).unwrap();
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            body = Some(String::new());
        } else if line.starts_with("-----END ") {
            let b64 = body.take().unwrap();
            out.push(base64::engine::general_purpose::STANDARD.decode(b64).unwrap());
        } else if let Some(body) = &mut body {
            body.push_str(line);
        }
    }
    out
}

/// The DER of the single PEM block in `tests/data/pki/<dir>/<file>`.
pub(crate) fn pem_der(dir: &str, file: &str) -> Vec<u8> {
    let mut ders = pem_ders(&read(dir, file));
    assert_eq!(ders.len(), 1, "{dir}/{file}");
    ders.remove(0)
}

/// The traditional (PKCS#1 for RSA, SEC1 for EC) PEM key file name for `spec`.
pub(crate) fn traditional_key(spec: KeySpec) -> &'static str {
    if spec.is_rsa() { "leaf.pkcs1.pem" } else { "leaf.sec1.pem" }
}
