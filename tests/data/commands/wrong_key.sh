#!/usr/bin/env bash
# Toy signer: a well-formed signature over stdin, made with the WRONG key
# (tests/data/pki/ec-256/leaf.key, found relative to this script) whatever key spec the caller
# asked for: ECDSA, DER, hash from EXTERNAL_SIGNER_DIGEST. Use it with any other chain: the
# caller's verification against that chain's leaf must fail.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
key=$here/../pki/ec-256/leaf.key
digest=${EXTERNAL_SIGNER_DIGEST:-sha256}
case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) echo "wrong_key.sh: unsupported digest '$digest'" >&2; exit 1 ;;
esac
openssl dgst "-$digest" -sign "$key"
