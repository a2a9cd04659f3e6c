#!/usr/bin/env bash
# Toy signer: dies from SIGKILL (no exit code, killed by signal 9).
set -euo pipefail
cat >/dev/null
kill -9 $$
