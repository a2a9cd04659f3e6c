#!/usr/bin/env bash
# Toy signer: exits 0 with empty stdout.
set -euo pipefail
cat >/dev/null
