#!/usr/bin/env bash
# Toy signer: exits 0 after printing 64 MiB of zero bytes (tests the stdout size limit).
set -euo pipefail
cat >/dev/null
head -c 67108864 /dev/zero
