#!/usr/bin/env bash
# Toy signer: fails like a locked HSM. Drains stdin first so the caller never sees EPIPE, then
# prints `signer failed: key locked` to stderr and exits 1.
set -euo pipefail
cat >/dev/null
echo 'signer failed: key locked' >&2
exit 1
