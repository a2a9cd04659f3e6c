#!/usr/bin/env bash
# sign-with-openssl.sh: a generic external signer for notation-external-signer.
#
# Signs whatever the plugin asks for with a local PEM/DER private key (EXTERNAL_PRIVATE_KEY):
# RSASSA-PSS or PKCS#1 v1.5 for RSA keys, ECDSA for EC keys, with the hash the plugin names.
# Use it as-is, or copy it and replace the `openssl dgst` line with your KMS/HSM/agent call.
#
# Contract (EXTERNAL_SIGNER_CONTRACT=1)
#   stdin   the bytes to sign: hash them with EXTERNAL_SIGNER_HASH and sign the hash
#   stdout  the signature and nothing else: raw bytes, or base64/hex when the plugin is
#           configured for that (EXTERNAL_SIGNER_OUTPUT_ENCODING)
#   stderr  diagnostics; the plugin reports them when the script fails
#   exit    0 on success, anything else is a failure
# Environment exported by the plugin:
#   EXTERNAL_SIGNER_CONTRACT         1 (contract version)
#   EXTERNAL_SIGNER_CALLER           notation | cosign
#   EXTERNAL_SIGNER_KEY_SPEC         RSA-2048 | RSA-3072 | RSA-4096 | EC-256 | EC-384 | EC-521
#   EXTERNAL_SIGNER_KEY_ID           the key id given to notation/cosign
#   EXTERNAL_SIGNER_HASH             SHA-256 | SHA-384 | SHA-512
#   EXTERNAL_SIGNER_DIGEST           sha256 | sha384 | sha512 (the same hash, as an openssl name)
#   EXTERNAL_SIGNER_SCHEME           rsassa-pss | rsassa-pkcs1v15 | ecdsa
#   EXTERNAL_SIGNER_PSS_SALT_LENGTH  32 | 48 | 64, rsassa-pss only (always the hash length)
#   EXTERNAL_SIGNER_OUTPUT_ENCODING  raw | base64 | hex: how the plugin decodes stdout
#   EXTERNAL_SIGNER_TIMEOUT_SECONDS  the plugin kills the script (whole process group) after this
#   EXTERNAL_PRIVATE_KEY             private key path, when configured
#   EXTERNAL_CERT_CHAIN              certificate chain path (leaf first), when configured
# The plugin converts DER ECDSA signatures to r||s where notation needs it and verifies every
# signature against the leaf certificate, so a wrong scheme or key fails with a clear message.
#
# Notation asks for PSS with the key-spec hash (RSA-4096 -> SHA-512); cosign asks for PKCS#1 v1.5
# with SHA-256 for the same key. This script follows whatever the plugin says.
#
# Optional, not part of the plugin contract:
#   KEY_PASSWORD_FILE  file holding the passphrase of an encrypted private key (openssl -passin)
set -euo pipefail

die() {
    echo "sign-with-openssl.sh: $*" >&2
    exit 1
}

key=${EXTERNAL_PRIVATE_KEY:-}
[[ -n $key ]] || die "EXTERNAL_PRIVATE_KEY is not set: configure the plugin with the private key path"
[[ -r $key ]] || die "cannot read private key '$key' (EXTERNAL_PRIVATE_KEY)"

digest=${EXTERNAL_SIGNER_DIGEST:-sha256}
case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) die "unsupported EXTERNAL_SIGNER_DIGEST '$digest' (expected sha256, sha384 or sha512)" ;;
esac

opts=()
case "${EXTERNAL_SIGNER_SCHEME:-}" in
    rsassa-pss)
        # Salt length = hash length and MGF1 with the same hash. JWS verifiers accept any salt,
        # but COSE (go-cose) requires salt = hash length; OpenSSL's default would be the maximum.
        opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt "rsa_mgf1_md:$digest")
        ;;
    rsassa-pkcs1v15 | ecdsa | "")
        # OpenSSL's defaults: PKCS#1 v1.5 for RSA keys, DER-encoded ECDSA for EC keys.
        ;;
    *) die "unsupported EXTERNAL_SIGNER_SCHEME '$EXTERNAL_SIGNER_SCHEME'" ;;
esac
if [[ -n ${KEY_PASSWORD_FILE:-} ]]; then
    opts+=(-passin "file:$KEY_PASSWORD_FILE")
elif grep -q ENCRYPTED "$key"; then
    # Without -passin openssl would prompt, and with no terminal read the payload as passphrase.
    die "private key '$key' is encrypted: set KEY_PASSWORD_FILE to a file holding its passphrase"
fi

# Encode stdout the way the plugin will decode it.
encode() {
    case "${EXTERNAL_SIGNER_OUTPUT_ENCODING:-raw}" in
        raw) cat ;;
        base64) openssl base64 -A ;;
        hex) od -An -v -tx1 | tr -d ' \n' ;;
        *) die "unsupported EXTERNAL_SIGNER_OUTPUT_ENCODING '$EXTERNAL_SIGNER_OUTPUT_ENCODING'" ;;
    esac
}

# stdin -> hash -> sign. `${opts[@]+...}` keeps `set -u` happy on bash 3.2 (macOS).
openssl dgst "-$digest" -sign "$key" ${opts[@]+"${opts[@]}"} | encode
