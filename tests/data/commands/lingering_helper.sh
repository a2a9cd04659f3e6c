#!/usr/bin/env bash
# Toy signer: prints the file named by PRINT_FILE (a valid signature), then leaves a helper in a
# session of its own (out of reach of the signer's process group) that keeps stdout open for
# 300 s, and exits 0. The signature already printed must still be used.
# The helper writes its pid to HELPER_PID_FILE once it is in its own session (the script waits
# for that), so the test can stop it.
set -euo pipefail
: "${PRINT_FILE:?PRINT_FILE is not set}"
: "${HELPER_PID_FILE:?HELPER_PID_FILE is not set}"
cat >/dev/null
cat "$PRINT_FILE"
# shellcheck disable=SC2016 # expanded by the inner sh
setsid sh -c 'echo $$ >"$HELPER_PID_FILE.tmp" && mv "$HELPER_PID_FILE.tmp" "$HELPER_PID_FILE" && exec sleep 300' &
while [[ ! -s $HELPER_PID_FILE ]]; do sleep 0.05; done
