#!/usr/bin/env bash
# Toy signer: never answers. Starts a background child (`sleep 300`) that inherits stdout and
# stderr, then sleeps 300 s itself. A caller that kills only this process still sees its pipes
# held open by the child: the whole process group must be killed at the timeout.
# If HANG_PID_FILE is set, writes "<script pid> <child pid>" there so a test can check both died.
set -euo pipefail
cat >/dev/null
sleep 300 &
if [[ -n ${HANG_PID_FILE:-} ]]; then
    echo "$$ $!" >"$HANG_PID_FILE"
fi
sleep 300
