//! `sig-envelope` as a process: sign → verify in both formats, and failures exit with status 1
//! and an error on stderr.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DIGEST: &str = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";

fn pki(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/pki/ec-256").join(file)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sig-envelope")).args(args).output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sign(dir: &Path, format: &str) -> PathBuf {
    let descriptor = dir.join("descriptor.json");
    std::fs::write(
        &descriptor,
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{DIGEST}","size":481}}"#
        ),
    )
    .unwrap();
    let out = dir.join(format!("sig.{format}"));
    let output = run(&[
        "sign",
        "--format",
        format,
        "--key",
        path(&pki("leaf.key")),
        "--chain",
        path(&pki("certificate_chain.pem")),
        "--descriptor",
        path(&descriptor),
        "--out",
        path(&out),
        "--expiry-seconds",
        "3600",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty());
    out
}

#[test]
fn signs_and_verifies_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    for (format, media_type) in [("jws", "application/jose+json"), ("cose", "application/cose")] {
        let envelope = sign(dir.path(), format);
        let output = run(&[
            "verify",
            "--envelope",
            path(&envelope),
            "--media-type",
            media_type,
            "--trust-anchor",
            path(&pki("ca.crt")),
            "--digest",
            DIGEST,
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let payload: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(payload["targetArtifact"]["digest"], DIGEST, "{format}");
        assert_eq!(payload["targetArtifact"]["size"], 481);
    }
}

#[test]
fn failures_exit_1_with_the_error_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let envelope = sign(dir.path(), "cose");
    let root = pki("ca.crt");
    let rows: [(&[&str], &str); 3] = [
        (&["--digest", "sha256:00"], "but sha256:00 was expected"),
        (&["--media-type", "application/jose+json"], "malformed JWS envelope"),
        (&["--trust-anchor", "/nonexistent/root.pem"], "cannot read /nonexistent/root.pem"),
    ];
    for (extra, needle) in rows {
        let mut args = vec!["verify", "--envelope", path(&envelope)];
        if !extra.contains(&"--media-type") {
            args.extend(["--media-type", "application/cose"]);
        }
        if !extra.contains(&"--trust-anchor") {
            args.extend(["--trust-anchor", path(&root)]);
        }
        args.extend(extra);
        let output = run(&args);
        assert_eq!(output.status.code(), Some(1), "{extra:?}");
        assert!(output.stdout.is_empty(), "{extra:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("sig-envelope: error: "), "{stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
    }
}
