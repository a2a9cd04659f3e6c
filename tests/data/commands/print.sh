#!/usr/bin/env bash
# Toy signer: prints the file named by PRINT_FILE, whatever it holds (a signature prepared by
# the test, in any encoding and layout), after reading its stdin.
set -euo pipefail
: "${PRINT_FILE:?PRINT_FILE is not set}"
cat >/dev/null
cat "$PRINT_FILE"
