#!/usr/bin/env bash
# rsassa-pss-sha512.sh: the classic fixed-algorithm signer for an RSA-4096 key and notation.
#
# Always signs with RSASSA-PSS, SHA-512, MGF1-SHA-512 and a 64-byte salt (= hash length), which is
# what notation expects for an RSA-4096 key (PS512) in both JWS and COSE envelopes.
# The original version of this example used `-sigopt rsa_pss_saltlen:32` with SHA-512 and no MGF1
# option: notation's JWS verifier accepts any salt length, but COSE verification (go-cose) requires
# salt = hash length, so `notation sign --signature-format cose` produced signatures that failed
# verification. `rsa_pss_saltlen:digest` (64 bytes here) and `rsa_mgf1_md:sha512` fix it.
#
# It refuses requests for anything else (e.g. cosign's PKCS#1 v1.5 SHA-256): use
# sign-with-openssl.sh for a key that serves both notation and cosign.
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
    echo "rsassa-pss-sha512.sh: $*" >&2
    exit 1
}

key=${EXTERNAL_PRIVATE_KEY:-}
[[ -n $key ]] || die "EXTERNAL_PRIVATE_KEY is not set: configure the plugin with the RSA-4096 private key path"
[[ -r $key ]] || die "cannot read private key '$key' (EXTERNAL_PRIVATE_KEY)"
# When the plugin says what it wants, make sure it is what this script does.
[[ ${EXTERNAL_SIGNER_SCHEME:-rsassa-pss} == rsassa-pss ]] ||
    die "this script only does RSASSA-PSS, the plugin asked for '$EXTERNAL_SIGNER_SCHEME' (use sign-with-openssl.sh)"
[[ ${EXTERNAL_SIGNER_HASH:-SHA-512} == SHA-512 ]] ||
    die "this script only does SHA-512 (RSA-4096 key), the plugin asked for '$EXTERNAL_SIGNER_HASH' (key spec ${EXTERNAL_SIGNER_KEY_SPEC:-?})"

encode() {
    case "${EXTERNAL_SIGNER_OUTPUT_ENCODING:-raw}" in
        raw) cat ;;
        base64) openssl base64 -A ;;
        hex) od -An -v -tx1 | tr -d ' \n' ;;
        *) die "unsupported EXTERNAL_SIGNER_OUTPUT_ENCODING '$EXTERNAL_SIGNER_OUTPUT_ENCODING'" ;;
    esac
}

openssl dgst -sha512 -sign "$key" \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt rsa_mgf1_md:sha512 | encode
