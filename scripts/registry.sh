#!/usr/bin/env bash
# Start or stop a local OCI registry for manual experiments (the e2e suite and the demo start their
# own). It keeps running after this script returns, until `registry.sh stop`.
#
# usage: scripts/registry.sh start [distribution|referrers|crane] [DIR]   prints localhost:PORT
#        scripts/registry.sh stop [DIR]
#        scripts/registry.sh status [DIR]
#   KIND  distribution  CNCF distribution v2 (Debian docker-registry), no Referrers API (default)
#         referrers     olareg v0.1.2, with the OCI 1.1 Referrers API
#         crane         `crane registry serve` (no Referrers API either)
#   DIR   data, config, log and pid (default <repo>/.e2e/registry)
# Use the printed localhost:PORT in references: notation, oras and crane talk plain HTTP to localhost.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd="${1:-}"
case "$cmd" in
  start)
    kind="${2:-distribution}"
    dir="${3:-$REPO_ROOT/.e2e/registry}"
    if [[ -f "$dir/pid" ]] && pid_alive "$(cat "$dir/pid")"; then
      die "a registry already runs from $dir (pid $(cat "$dir/pid"), $(cat "$dir/address" 2>/dev/null)): scripts/registry.sh stop${3:+ $3}"
    fi
    addr=$(start_registry "$kind" "$dir")
    detach_services
    printf 'localhost:%s\n' "${addr##*:}" | tee "$dir/address"
    log "$kind registry pid $(cat "$dir/pid"), data in $dir/data, log $dir/registry.log"
    ;;
  stop)
    dir="${2:-$REPO_ROOT/.e2e/registry}"
    [[ -f "$dir/pid" ]] || die "no registry pid file in $dir"
    pid=$(cat "$dir/pid")
    if pid_alive "$pid"; then
      kill -TERM "$pid"
      for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
      pid_alive "$pid" && kill -KILL "$pid"
      log "stopped registry pid $pid ($(cat "$dir/address" 2>/dev/null))"
    else
      log "registry pid $pid was not running"
    fi
    rm -f "$dir/pid" "$dir/address"
    ;;
  status)
    dir="${2:-$REPO_ROOT/.e2e/registry}"
    if [[ -f "$dir/pid" ]] && pid_alive "$(cat "$dir/pid")"; then
      echo "running: $(cat "$dir/address") (pid $(cat "$dir/pid"))"
    else
      echo "not running"
      exit 1
    fi
    ;;
  *)
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
