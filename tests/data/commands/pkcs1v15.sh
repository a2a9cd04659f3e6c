#!/usr/bin/env bash
# Toy signer: RSA PKCS#1 v1.5 with the requested digest, whatever scheme was asked for. Correct
# for cosign (EXTERNAL_SIGNER_SCHEME=rsassa-pkcs1v15), wrong padding for notation (PSS required).
set -euo pipefail
: "${EXTERNAL_PRIVATE_KEY:?EXTERNAL_PRIVATE_KEY is not set}"
digest=${EXTERNAL_SIGNER_DIGEST:-sha256}
case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) echo "pkcs1v15.sh: unsupported digest '$digest'" >&2; exit 1 ;;
esac
openssl dgst "-$digest" -sign "$EXTERNAL_PRIVATE_KEY" -sigopt rsa_padding_mode:pkcs1
