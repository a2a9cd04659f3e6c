//! Release identity (`EXTERNAL_SIGNER_VERSION`, `EXTERNAL_SIGNER_COMMIT_INFO`): see the
//! `release-identity` crate.

fn main() {
    release_identity::emit();
}
