#!/usr/bin/env bash
# Toy signer: RSA-PSS with a fixed 32-byte salt whatever the hash (the classic bug of the original
# rsassa-pss-sha512.sh). Right for SHA-256; for SHA-384/512 notation JWS accepts it (any salt) but
# COSE (go-cose: salt = hash length) must reject it.
set -euo pipefail
: "${EXTERNAL_PRIVATE_KEY:?EXTERNAL_PRIVATE_KEY is not set}"
digest=${EXTERNAL_SIGNER_DIGEST:-sha256}
case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) echo "pss_salt_32.sh: unsupported digest '$digest'" >&2; exit 1 ;;
esac
openssl dgst "-$digest" -sign "$EXTERNAL_PRIVATE_KEY" \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt "rsa_mgf1_md:$digest"
