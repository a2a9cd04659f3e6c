#!/usr/bin/env bash
# Toy signer: writes 10 MiB of text lines to stderr, then exits 1 (tests stderr capture limits
# and that a full stderr pipe does not deadlock the caller).
set -euo pipefail
cat >/dev/null
yes 'stderr flood: the signer is very chatty today' | head -c 10485760 >&2 || true
exit 1
