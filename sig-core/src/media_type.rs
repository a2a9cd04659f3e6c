//! Media types, annotation keys and header names of Notary signatures, each spelled once (the
//! OCI media types are in [`oci`](crate::oci)).
//!
//! Values are those notation v1.3 writes (notation-go `internal/envelope`, notation-core-go
//! `signature/jws/types.go` and `signature/cose/envelope.go`); see the Notary Project
//! [signature specification](https://github.com/notaryproject/specifications/blob/main/specs/signature-specification.md).

/// JWS envelope (flattened JWS JSON serialization), the signature layer's media type.
pub const JWS: &str = "application/jose+json";

/// COSE envelope (`COSE_Sign1_Tagged`), the signature layer's media type.
pub const COSE: &str = "application/cose";

/// Content type of the signed payload (JWS `cty`, COSE label 3).
pub const NOTARY_PAYLOAD: &str = "application/vnd.cncf.notary.payload.v1+json";

/// `artifactType` of a Notary signature manifest (and `config.mediaType` of the legacy form).
pub const NOTARY_SIGNATURE_ARTIFACT: &str = "application/vnd.cncf.notary.signature";

/// Signature manifest annotation: a JSON array (as a string) of the lowercase hex SHA-256 of each
/// certificate of the chain, leaf first.
pub const THUMBPRINT_S256: &str = "io.cncf.notary.x509chain.thumbprint#S256";

/// Protected header: the signing scheme (always critical).
pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";

/// Protected header: the signing time claimed by the signer (`notary.x509`; not critical).
pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";

/// Protected header: the expiry (critical when present).
pub const EXPIRY: &str = "io.cncf.notary.expiry";

/// Protected header: the signing time asserted by a signing authority
/// (`notary.x509.signingAuthority`; critical).
pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";

/// Protected header: the name of the plugin that must verify the signature (critical).
pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";

/// Protected header: the lowest version of [`VERIFICATION_PLUGIN`] that may verify (critical).
pub const VERIFICATION_PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";

/// Unprotected header: the client that made the signature, an opaque string.
pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";

/// Unprotected header: an RFC 3161 timestamp token over the signature bytes.
pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";

/// Signing scheme `notary.x509`: the signing time is the signer's claim.
pub const SCHEME_X509: &str = "notary.x509";

/// Signing scheme `notary.x509.signingAuthority`: a signing authority asserts the signing time.
pub const SCHEME_SIGNING_AUTHORITY: &str = "notary.x509.signingAuthority";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_share_the_notary_prefix() {
        for name in [
            SIGNING_SCHEME,
            SIGNING_TIME,
            EXPIRY,
            AUTHENTIC_SIGNING_TIME,
            SIGNING_AGENT,
            TIMESTAMP_SIGNATURE,
            VERIFICATION_PLUGIN,
            VERIFICATION_PLUGIN_MIN_VERSION,
            THUMBPRINT_S256,
        ] {
            assert!(name.starts_with("io.cncf.notary."), "{name}");
        }
    }

    #[test]
    fn signing_authority_scheme_extends_x509() {
        assert_eq!(SCHEME_SIGNING_AUTHORITY.strip_prefix(SCHEME_X509), Some(".signingAuthority"));
    }
}
