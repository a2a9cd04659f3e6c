#!/usr/bin/env bash
# Toy signer: asks for a PIN on the terminal (/dev/tty, as pinentry-tty or openssl's passphrase
# prompt do), writes what it read to TTY_SEEN_FILE, then signs like examples/sign-with-openssl.sh.
set -euo pipefail
: "${TTY_SEEN_FILE:?TTY_SEEN_FILE is not set}"
printf 'PIN: ' >/dev/tty
IFS= read -r pin </dev/tty
printf '%s' "$pin" >"$TTY_SEEN_FILE"
exec "$(dirname "$0")/../../../examples/sign-with-openssl.sh"
