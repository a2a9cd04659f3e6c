//! Release identity for the external-signer binaries, set from a build script.
//!
//! ```no_run
//! // build.rs: `fn main() { release_identity::emit(); }`
//! release_identity::emit();
//! ```
//!
//! The crate then reads `env!("EXTERNAL_SIGNER_VERSION")` (the Cargo version, plus `+<commit>` as
//! semver build metadata when `EXTERNAL_SIGNER_COMMIT` is set at build time; `make dist` sets it
//! from git) and `env!("EXTERNAL_SIGNER_COMMIT_INFO")` (the commit, or a sentence saying it is
//! unknown).

/// The build-time variable naming the git commit of a release build.
pub const COMMIT_VARIABLE: &str = "EXTERNAL_SIGNER_COMMIT";

/// What a build script tells cargo, as the lines [`emit`] prints.
#[must_use]
pub fn directives(package_version: &str, commit: Option<&str>) -> Vec<String> {
    let mut out = vec![
        "cargo::rerun-if-changed=build.rs".to_owned(),
        format!("cargo::rerun-if-env-changed={COMMIT_VARIABLE}"),
    ];
    let commit = commit.map(str::trim).unwrap_or_default();
    if commit.is_empty() {
        out.push(format!("cargo::rustc-env=EXTERNAL_SIGNER_VERSION={package_version}"));
        out.push(format!(
            "cargo::rustc-env=EXTERNAL_SIGNER_COMMIT_INFO=unknown (built without {COMMIT_VARIABLE}; `make dist` sets it from git)"
        ));
    } else if is_commit_id(commit) {
        out.push(format!("cargo::rustc-env=EXTERNAL_SIGNER_VERSION={package_version}+{commit}"));
        out.push(format!("cargo::rustc-env=EXTERNAL_SIGNER_COMMIT_INFO={commit}"));
    } else {
        out.push(format!(
            "cargo::error={COMMIT_VARIABLE}={commit:?} is not a git commit id (7 to 40 hex digits): unset it or set it from `git rev-parse --short=12 HEAD`"
        ));
    }
    out
}

/// Prints [`directives`] for the package being built (call it from `build.rs`).
#[allow(clippy::print_stdout)]
pub fn emit() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = std::env::var(COMMIT_VARIABLE).ok();
    for line in directives(&version, commit.as_deref()) {
        println!("{line}");
    }
}

fn is_commit_id(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::directives;

    fn env_line<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
        let prefix = format!("cargo::rustc-env={name}=");
        lines.iter().find_map(|l| l.strip_prefix(prefix.as_str()))
    }

    #[test]
    fn a_commit_becomes_semver_build_metadata() {
        let lines = directives("0.1.0", Some(" 0123456789ab\n"));
        assert_eq!(env_line(&lines, "EXTERNAL_SIGNER_VERSION"), Some("0.1.0+0123456789ab"));
        assert_eq!(env_line(&lines, "EXTERNAL_SIGNER_COMMIT_INFO"), Some("0123456789ab"));
        assert!(lines.iter().any(|l| l == "cargo::rerun-if-env-changed=EXTERNAL_SIGNER_COMMIT"));
    }

    #[test]
    fn no_commit_says_it_is_unknown() {
        for commit in [None, Some(""), Some("  ")] {
            let lines = directives("0.1.0", commit);
            assert_eq!(env_line(&lines, "EXTERNAL_SIGNER_VERSION"), Some("0.1.0"));
            let info = env_line(&lines, "EXTERNAL_SIGNER_COMMIT_INFO").unwrap();
            assert!(info.starts_with("unknown") && info.contains("make dist"), "{info}");
        }
    }

    #[test]
    fn a_value_that_is_no_commit_stops_the_build() {
        for bad in ["abc", "main", "0123456789abcdef0123456789abcdef012345678", "012345g"] {
            let lines = directives("0.1.0", Some(bad));
            assert!(env_line(&lines, "EXTERNAL_SIGNER_VERSION").is_none(), "{bad}");
            let error = lines.iter().find(|l| l.starts_with("cargo::error=")).expect(bad);
            assert!(
                error.contains("7 to 40 hex digits") && error.contains("git rev-parse"),
                "{error}"
            );
        }
    }
}
