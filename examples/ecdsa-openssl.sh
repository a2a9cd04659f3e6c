#!/usr/bin/env bash
# ecdsa-openssl.sh: ECDSA signer for an EC private key (P-256, P-384 or P-521) with openssl.
#
# Prints the DER-encoded ECDSA signature (SEQUENCE { r, s }), which is what openssl produces and
# what cosign wants; the plugin converts it to the fixed-width r||s form that notation's JWS and
# COSE envelopes need. The hash comes from EXTERNAL_SIGNER_DIGEST (default sha256): notation uses
# the curve's hash (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512), cosign SHA-256 unless configured.
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
set -euo pipefail

die() {
    echo "ecdsa-openssl.sh: $*" >&2
    exit 1
}

key=${EXTERNAL_PRIVATE_KEY:-}
[[ -n $key ]] || die "EXTERNAL_PRIVATE_KEY is not set: configure the plugin with the EC private key path"
[[ -r $key ]] || die "cannot read private key '$key' (EXTERNAL_PRIVATE_KEY)"
[[ ${EXTERNAL_SIGNER_SCHEME:-ecdsa} == ecdsa ]] ||
    die "this script only does ECDSA, the plugin asked for '$EXTERNAL_SIGNER_SCHEME' (key spec ${EXTERNAL_SIGNER_KEY_SPEC:-?})"
digest=${EXTERNAL_SIGNER_DIGEST:-sha256}
case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) die "unsupported EXTERNAL_SIGNER_DIGEST '$digest' (expected sha256, sha384 or sha512)" ;;
esac

encode() {
    case "${EXTERNAL_SIGNER_OUTPUT_ENCODING:-raw}" in
        raw) cat ;;
        base64) openssl base64 -A ;;
        hex) od -An -v -tx1 | tr -d ' \n' ;;
        *) die "unsupported EXTERNAL_SIGNER_OUTPUT_ENCODING '$EXTERNAL_SIGNER_OUTPUT_ENCODING'" ;;
    esac
}

openssl dgst "-$digest" -sign "$key" | encode
