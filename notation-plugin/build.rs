//! Release identity: `EXTERNAL_SIGNER_VERSION` is the Cargo version, plus `+<commit>` (semver build
//! metadata, which `notation plugin ls` shows) when `EXTERNAL_SIGNER_COMMIT` is set at build time
//! (`make dist` sets it from git); `EXTERNAL_SIGNER_COMMIT_INFO` is the commit or says it is unknown.
//! Kept in step with `cosign-compat/build.rs`.

#![allow(clippy::print_stdout)]

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=EXTERNAL_SIGNER_COMMIT");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = std::env::var("EXTERNAL_SIGNER_COMMIT").unwrap_or_default();
    let commit = commit.trim();
    if commit.is_empty() {
        println!("cargo::rustc-env=EXTERNAL_SIGNER_VERSION={version}");
        println!(
            "cargo::rustc-env=EXTERNAL_SIGNER_COMMIT_INFO=unknown (built without EXTERNAL_SIGNER_COMMIT; `make dist` sets it from git)"
        );
    } else if (7..=40).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        println!("cargo::rustc-env=EXTERNAL_SIGNER_VERSION={version}+{commit}");
        println!("cargo::rustc-env=EXTERNAL_SIGNER_COMMIT_INFO={commit}");
    } else {
        println!(
            "cargo::error=EXTERNAL_SIGNER_COMMIT={commit:?} is not a git commit id (7 to 40 hex digits): unset it or set it from `git rev-parse --short=12 HEAD`"
        );
    }
}
