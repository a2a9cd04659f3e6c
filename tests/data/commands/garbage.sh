#!/usr/bin/env bash
# Toy signer: exits 0 but prints text that is not a signature in any encoding.
set -euo pipefail
cat >/dev/null
echo 'not a signature'
