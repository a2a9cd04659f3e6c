#!/usr/bin/env bash
# Toy signer: writes every EXTERNAL_* environment variable ("NAME=value" lines, sorted) to the
# file named by ENV_DUMP_FILE, then signs correctly like examples/sign-with-openssl.sh:
# PSS (salt = hash length, MGF1 same hash), PKCS#1 v1.5 or ECDSA (DER), output encoded as
# EXTERNAL_SIGNER_OUTPUT_ENCODING says.
set -euo pipefail
: "${ENV_DUMP_FILE:?ENV_DUMP_FILE is not set}"
for name in $(compgen -e | grep '^EXTERNAL_' | sort); do
    printf '%s=%s\n' "$name" "${!name}"
done >"$ENV_DUMP_FILE"

: "${EXTERNAL_PRIVATE_KEY:?EXTERNAL_PRIVATE_KEY is not set}"
digest=${EXTERNAL_SIGNER_DIGEST:-sha256}
case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) echo "env_dump.sh: unsupported digest '$digest'" >&2; exit 1 ;;
esac
opts=()
case "${EXTERNAL_SIGNER_SCHEME:-}" in
    rsassa-pss) opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt "rsa_mgf1_md:$digest") ;;
    rsassa-pkcs1v15 | ecdsa | "") ;;
    *) echo "env_dump.sh: unsupported scheme '$EXTERNAL_SIGNER_SCHEME'" >&2; exit 1 ;;
esac
encode() {
    case "${EXTERNAL_SIGNER_OUTPUT_ENCODING:-raw}" in
        raw) cat ;;
        base64) openssl base64 -A ;;
        hex) od -An -v -tx1 | tr -d ' \n' ;;
        *) echo "env_dump.sh: unsupported output encoding" >&2; exit 1 ;;
    esac
}
openssl dgst "-$digest" -sign "$EXTERNAL_PRIVATE_KEY" ${opts[@]+"${opts[@]}"} | encode
