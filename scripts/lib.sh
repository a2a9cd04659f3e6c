# shellcheck shell=bash
# Shared helpers for scripts/*.sh, tests/e2e/*.sh and .ci/run. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
#
# What it gives:
#   REPO_ROOT, TOOLS_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/external-signer/tools: outside
#   the clone, so that fresh clones reuse the builds), PATH with each pinned tool's directory
#   $TOOLS_DIR/NAME-VERSION first (versions in scripts/peer-versions.sh)
#   log / warn / die                  messages on stderr
#   phase NAME / phase_end            timed phases; phases_summary prints them all
#                                     (LIB_PHASES_ON_EXIT=1: also on any exit, e.g. a failure)
#   timed NAME CMD...                 run one command and print how long it took
#   make_workdir BASE PREFIX          temp dir under BASE, removed on exit (KEEP_WORKDIR=1 keeps it)
#   free_port                         a free TCP port on 127.0.0.1
#   start_registry KIND DIR           KIND = distribution (no Referrers API) | referrers (Referrers API)
#                                     | crane (plain `crane registry serve`: no Referrers API either);
#                                     prints 127.0.0.1:port once /v2/ answers (safe inside $(...))
#   stop_registries / stop_services   stop everything started through this file
#   register_group PID NAME           stop the process group PID leads (setsid) with the services
#   pid_alive PID                     the process exists and is not a zombie
#   spawn_service NAME LOG CMD...     start a background service, recorded for cleanup
#   push_test_image REG REPO WORKDIR  push a fresh one-layer image with crane, print REG/REPO@sha256:...
#   check DESC CMD...                 assert CMD succeeds
#   check_fails DESC CMD...           assert CMD fails
#   check_output_contains DESC NEEDLE CMD...        assert the output contains NEEDLE (any exit status)
#   check_fails_with DESC NEEDLE CMD...             assert CMD fails and its output contains NEEDLE
#   record_pass DESC / record_fail DESC [REASON]    count a result decided by the caller
#   record_skip DESC REASON           count a case that cannot run here (printed loudly, not a pass)
#   finish                            print phases and the line `N passed, N failed`; exit 1 on failures
# NEEDLE matching is case-insensitive and literal. After every check: LAST_OUTPUT (file with the
# command's stdout+stderr), LAST_STATUS (exit status), LAST_SECONDS (wall time).
# Commands run under `timeout` (CHECK_TIMEOUT seconds, default 300) unless CMD is a shell function.
# A trap stops every service and removes every work dir on exit, Ctrl-C or TERM.

if [[ -n "${_LIB_SH_LOADED:-}" ]]; then
  return 0
fi
_LIB_SH_LOADED=1

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/external-signer/tools}"
export TOOLS_DIR
# shellcheck source=scripts/peer-versions.sh
source "$REPO_ROOT/scripts/peer-versions.sh"
for _t in "${PEER_TOOLS[@]}"; do
  _d=$(peer_tool_dir "$_t")
  case ":$PATH:" in
    *":$_d:"*) ;;
    *) PATH="$_d:$PATH" ;;
  esac
done
unset _t _d
export PATH

# Colour only on a terminal.
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  _C_RED=$'\033[31m' _C_GREEN=$'\033[32m' _C_BOLD=$'\033[1m' _C_DIM=$'\033[2m' _C_OFF=$'\033[0m'
else
  _C_RED='' _C_GREEN='' _C_BOLD='' _C_DIM='' _C_OFF=''
fi

log() { printf '%s\n' "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_C_RED" "$_C_OFF" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$_C_RED" "$_C_OFF" "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- state and cleanup

# State shared with subshells (registries started inside $(...) record their PIDs here).
_LIB_STATE="$(mktemp -d "${TMPDIR:-/tmp}/lib-sh.XXXXXX")"
: >"$_LIB_STATE/pids"      # "pid<TAB>kind<TAB>name" per line
: >"$_LIB_STATE/dirs"      # dirs to remove
: >"$_LIB_STATE/ports"     # ports already handed out
_LIB_MAIN_PID=$$

_lib_cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  # Only the main shell cleans up.
  if [[ "$BASHPID" != "$_LIB_MAIN_PID" ]]; then
    return "$status"
  fi
  if [[ -n "${_LIB_CHECKS_USED:-}" && -z "${_LIB_FINISHED:-}" ]]; then
    # The script stopped before calling finish (set -e, die, Ctrl-C): still report.
    _LIB_FAILED=$((_LIB_FAILED + 1))
    _LIB_FAILURES+=("script aborted (exit status $status) before all cases ran")
    _lib_print_summary || true
    [[ $status -eq 0 ]] && status=1
  fi
  if [[ $status -ne 0 && -n "$_LIB_PHASE" ]]; then
    log "${_C_RED}failed during phase: $_LIB_PHASE${_C_OFF} (exit status $status)"
  fi
  if [[ -n "${LIB_PHASES_ON_EXIT:-}" && -z "${_LIB_FINISHED:-}" ]]; then
    phases_summary || true
  fi
  if [[ -n "${_LIB_CHECK_PGID:-}" ]]; then
    # A check was running (Ctrl-C): stop its process group (setsid made it a group leader).
    kill -TERM -- "-$_LIB_CHECK_PGID" 2>/dev/null || kill -TERM "$_LIB_CHECK_PGID" 2>/dev/null || true
    sleep 0.5
    kill -KILL -- "-$_LIB_CHECK_PGID" 2>/dev/null || true
  fi
  stop_services || true
  if [[ -z "${KEEP_WORKDIR:-}" ]]; then
    local d
    while IFS= read -r d; do
      [[ -n "$d" && -d "$d" ]] && rm -rf -- "$d"
    done <"$_LIB_STATE/dirs"
  elif [[ -s "$_LIB_STATE/dirs" ]]; then
    log "KEEP_WORKDIR set; kept: $(tr '\n' ' ' <"$_LIB_STATE/dirs")"
  fi
  rm -rf -- "$_LIB_STATE"
  exit "$status"
}
_lib_on_signal() {
  log "interrupted ($1); stopping services"
  case "$1" in
    INT) exit 130 ;;
    TERM) exit 143 ;;
    *) exit 129 ;;
  esac
}
trap _lib_cleanup EXIT
trap '_lib_on_signal INT' INT
trap '_lib_on_signal TERM' TERM
trap '_lib_on_signal HUP' HUP

# make_workdir BASE PREFIX: a fresh temp dir under BASE (created if needed), removed on exit.
make_workdir() {
  local base="$1" prefix="${2:-run}" d
  mkdir -p "$base"
  d="$(mktemp -d "$base/$prefix.XXXXXX")"
  printf '%s\n' "$d" >>"$_LIB_STATE/dirs"
  printf '%s\n' "$d"
}

# ---------------------------------------------------------------- timing

_now_ms() {
  local t
  t=$(date +%s%N 2>/dev/null)
  if [[ "$t" == *N* || -z "$t" ]]; then
    echo $(($(date +%s) * 1000))
  else
    echo $((t / 1000000))
  fi
}
_fmt_ms() { printf '%d.%01ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }

_LIB_PHASE=''
_LIB_PHASE_START=0
_LIB_PHASES=()
_LIB_T0=$(_now_ms)

# phase NAME: close the current phase (printing its duration) and open a new one.
phase() {
  phase_end
  _LIB_PHASE="$*"
  _LIB_PHASE_START=$(_now_ms)
  printf '\n%s== %s%s\n' "$_C_BOLD" "$_LIB_PHASE" "$_C_OFF"
}
phase_end() {
  [[ -n "$_LIB_PHASE" ]] || return 0
  local ms=$(($(_now_ms) - _LIB_PHASE_START))
  printf '%s== %s: %s%s\n' "$_C_DIM" "$_LIB_PHASE" "$(_fmt_ms "$ms")" "$_C_OFF"
  _LIB_PHASES+=("$(printf '%8s  %s' "$(_fmt_ms "$ms")" "$_LIB_PHASE")")
  _LIB_PHASE=''
}
phases_summary() {
  phase_end
  ((${#_LIB_PHASES[@]})) || return 0
  printf '\nphase durations:\n'
  printf '  %s\n' "${_LIB_PHASES[@]}"
  printf '  %8s  total\n' "$(_fmt_ms $(($(_now_ms) - _LIB_T0)))"
}

# timed NAME CMD...: run CMD, print "NAME: 12.3s"; returns CMD's status.
timed() {
  local name="$1" t0 rc=0
  shift
  t0=$(_now_ms)
  "$@" || rc=$?
  printf '%s-- %s: %s%s\n' "$_C_DIM" "$name" "$(_fmt_ms $(($(_now_ms) - t0)))" "$_C_OFF" >&2
  return "$rc"
}

# ---------------------------------------------------------------- services

_port_in_use() {
  # A connect that succeeds means something listens there.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    grep -qx "$p" "$_LIB_STATE/ports" 2>/dev/null && continue
    if command -v ss >/dev/null 2>&1; then
      ss -Htan 2>/dev/null | awk '{print $4}' | grep -q ":$p\$" && continue
    fi
    _port_in_use "$p" && continue
    printf '%s\n' "$p" >>"$_LIB_STATE/ports"
    printf '%s\n' "$p"
    return 0
  done
  die "no free TCP port found on 127.0.0.1"
}

# spawn_service NAME LOG CMD...: start CMD in the background (stdin from /dev/null, output to LOG),
# record it for cleanup and print its PID.
spawn_service() {
  local name="$1" logf="$2" pid
  shift 2
  "$@" </dev/null >>"$logf" 2>&1 &
  pid=$!
  printf '%s\t%s\t%s\n' "$pid" "service" "$name" >>"$_LIB_STATE/pids"
  printf '%s\n' "$pid"
}

# pid_alive PID: the process exists and is not a zombie (an orphan may stay a zombie for a while
# before init reaps it).
pid_alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ') || return 1
  [[ -n "$st" && "$st" != Z* ]]
}

_stop_pid() {
  local pid="$1" i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# stop_services [NAME-PREFIX]: stop recorded services (all, or those whose name starts with the prefix).
stop_services() {
  local prefix="${1:-}" pid kind name keep=()
  [[ -f "$_LIB_STATE/pids" ]] || return 0
  while IFS=$'\t' read -r pid kind name; do
    [[ -n "$pid" ]] || continue
    if [[ -z "$prefix" || "$name" == "$prefix"* ]]; then
      if [[ "$kind" == group ]]; then _stop_group "$pid"; else _stop_pid "$pid"; fi
    else
      keep+=("$(printf '%s\t%s\t%s' "$pid" "$kind" "$name")")
    fi
  done <"$_LIB_STATE/pids"
  if ((${#keep[@]})); then printf '%s\n' "${keep[@]}" >"$_LIB_STATE/pids"; else : >"$_LIB_STATE/pids"; fi
}
stop_registries() { stop_services registry-; }
# register_group PID NAME: PID leads a process group of its own (started with setsid); stop the
# whole group (e.g. a build and its compilers) on exit, like a service.
register_group() { printf '%s\t%s\t%s\n' "$1" group "$2" >>"$_LIB_STATE/pids"; }
_stop_group() {
  local pgid="$1" i
  kill -0 -- "-$pgid" 2>/dev/null || return 0
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 -- "-$pgid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}
# detach_services: forget the recorded services, so that they outlive this script (scripts/registry.sh).
detach_services() { : >"$_LIB_STATE/pids"; }

# wait_http URL SECONDS [PID]: wait until URL answers (any HTTP status below 500).
wait_http() {
  local url="$1" secs="${2:-30}" pid="${3:-}" deadline code
  deadline=$(($(date +%s) + secs))
  while (($(date +%s) < deadline)); do
    # -k: only whether it answers matters here, not whose certificate it has.
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)
    if [[ "$code" =~ ^[1-4][0-9][0-9]$ ]]; then return 0; fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then return 2; fi
    sleep 0.1
  done
  return 1
}

# isolate_env W: point HOME, XDG, notation, docker and sigstore configuration into the work dir W
# (created; an empty docker config) and unset every setting of ours and of the peers that would
# leak in from the caller's environment.
isolate_env() {
  local w="$1"
  export HOME="$w/home" XDG_CONFIG_HOME="$w/xdg" XDG_CACHE_HOME="$w/xdg-cache"
  export NOTATION_CONFIG="$w/notation" NOTATION_LIBEXEC="$w/libexec" NOTATION_CACHE="$w/notation-cache"
  export DOCKER_CONFIG="$w/docker" TUF_ROOT="$w/tuf"
  mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$NOTATION_CONFIG" "$NOTATION_LIBEXEC" \
    "$NOTATION_CACHE" "$DOCKER_CONFIG" "$TUF_ROOT"
  echo '{}' >"$DOCKER_CONFIG/config.json"
  unset NOTATION_USERNAME NOTATION_PASSWORD NOTATION_EXPERIMENTAL COSIGN_REPOSITORY COSIGN_PASSWORD
  unset EXTERNAL_SIGNER EXTERNAL_PRIVATE_KEY EXTERNAL_CERT_CHAIN EXTERNAL_SIGNER_TIMEOUT EXTERNAL_SIGNATURE_ENCODING
  unset EXTERNAL_PRIVATE_KEY_PASSWORD EXTERNAL_PRIVATE_KEY_PASSWORD_FILE
  unset EXTERNAL_PKCS11_URI EXTERNAL_PKCS11_MODULE EXTERNAL_PKCS11_PIN EXTERNAL_PKCS11_PIN_FILE
}

# bench_side_by_side RUNS A B: run the commands A and B (function names, called with the run
# number) RUNS times, alternating, after one warm-up each (page cache, registry storage); the
# wall times in ns go to the arrays BENCH_A_NS and BENCH_B_NS. Dies naming the run that failed.
bench_side_by_side() {
  local runs="$1" a="$2" b="$3" i t0 t1 t2
  "$a" warmup || die "warm-up of $a failed"
  "$b" warmup || die "warm-up of $b failed"
  BENCH_A_NS=()
  BENCH_B_NS=()
  for ((i = 1; i <= runs; i++)); do
    t0=$(date +%s%N)
    "$a" "$i" || die "$a failed (run $i)"
    t1=$(date +%s%N)
    "$b" "$i" || die "$b failed (run $i)"
    t2=$(date +%s%N)
    BENCH_A_NS+=($((t1 - t0)))
    BENCH_B_NS+=($((t2 - t1)))
  done
}

# bench_stats NS...: "mean min max" in ms with one decimal.
bench_stats() {
  printf '%s\n' "$@" | awk '{s+=$1; if(min==""||$1<min)min=$1; if($1>max)max=$1} END {printf "%.1f %.1f %.1f", s/NR/1e6, min/1e6, max/1e6}'
}

# strict_trust_policy NAME STORE FILE: write to FILE a notation trust policy named NAME that
# verifies every registry scope strictly against the CA trust store STORE, trusting any identity.
# The caller imports it (notation policy import) and copies it to trustpolicy.oci.json (notation
# v1.3 reads trustpolicy.json; later versions prefer trustpolicy.oci.json).
strict_trust_policy() {
  cat >"$3" <<EOF
{
  "version": "1.0",
  "trustPolicies": [
    {
      "name": "$1",
      "registryScopes": ["*"],
      "signatureVerification": {"level": "strict"},
      "trustStores": ["ca:$2"],
      "trustedIdentities": ["*"]
    }
  ]
}
EOF
}

# make_pkis DIR ENTRY...: make test PKIs with scripts/certificates.sh, in parallel; ENTRY is
# NAME[:KEY_SPEC[:CA_NAME]] (KEY_SPEC defaults to NAME), the PKI goes to DIR/NAME (a NAME given twice is made once). Dies with
# the log of a PKI that failed or lacks one of its files.
make_pkis() {
  local dir="$1" entry name spec ca p f
  shift
  local -A made=()
  local pids=()
  mkdir -p "$dir"
  for entry in "$@"; do
    IFS=: read -r name spec ca <<<"$entry"
    spec=${spec:-$name}
    [[ -n "${made[$name]:-}" ]] && continue
    made[$name]=1
    "$REPO_ROOT/scripts/certificates.sh" --key-spec "$spec" --out "$dir/$name" ${ca:+--name "$ca"} \
      >"$dir/$name.log" 2>&1 &
    pids+=("$!:$name")
  done
  for p in "${pids[@]}"; do
    wait "${p%%:*}" || { cat "$dir/${p#*:}.log" >&2; die "scripts/certificates.sh failed for ${p#*:}"; }
    for f in ca.crt intermediate.crt leaf.crt leaf.key leaf.pub certificate_chain.pem cosign_chain.pem; do
      [[ -s "$dir/${p#*:}/$f" ]] || die "scripts/certificates.sh did not write $dir/${p#*:}/$f"
    done
  done
}

# need_tools CMD...: die unless every CMD is on PATH, saying how to get it. `docker-registry`
# also accepts upstream's name, `registry`.
need_tools() {
  local c how
  for c in "$@"; do
    case "$c" in
      docker-registry) _distribution_bin >/dev/null && continue ;;
      *) command -v "$c" >/dev/null 2>&1 && continue ;;
    esac
    case "$c" in
      notation | crane | oras | olareg | cosign)
        how="run 'make peers' (builds $c into $(peer_tool_dir "$c"))" ;;
      kyverno | kyverno-controller)
        how="run 'make peers-kyverno' (builds Kyverno $KYVERNO_VERSION into $(peer_tool_dir kyverno); minutes)" ;;
      kube-apiserver | kubectl)
        how="run 'make peers-admission' (builds Kubernetes $KUBE_VERSION into $(peer_tool_dir kube); minutes)" ;;
      etcd) how="run 'make peers-admission' (builds etcd $ETCD_VERSION into $(peer_tool_dir etcd))" ;;
      sigstore-go-verify) how="run 'make peers' (builds tests/sigstore-go, sigstore-go $SIGSTORE_GO_VERSION, into $(peer_tool_dir sigstore-go))" ;;
      cargo-auditable | cargo-cyclonedx) how="run 'make cargo-tools' (cargo install --locked $c into $(peer_tool_dir "$c"))" ;;
      jq | openssl | curl | docker-registry) how="run 'make peers' (Debian package $c)" ;;
      htpasswd) how="run 'make peers' (Debian package apache2-utils)" ;;
      softhsm2-util) how="install SoftHSM2: apt-get install softhsm2" ;;
      pkcs11-tool) how="install OpenSC: apt-get install opensc" ;;
      cargo) how="install the Rust toolchain (rustup)" ;;
      *) how="install it" ;;
    esac
    die "'$c' not found: $how"
  done
}

_distribution_bin() {
  # Debian ships distribution v2 as docker-registry; upstream/Homebrew call it registry.
  if command -v docker-registry >/dev/null 2>&1; then echo docker-registry
  elif command -v registry >/dev/null 2>&1; then echo registry
  else return 1
  fi
}

# start_registry KIND DIR [HTPASSWD]: start a registry storing its data in DIR (created), listening
# on a free 127.0.0.1 port; print 127.0.0.1:port once GET /v2/ answers. KIND:
#   distribution  CNCF distribution v2 (Debian docker-registry): no Referrers API, delete enabled;
#                 with HTPASSWD (a bcrypt htpasswd file), basic authentication for every request
#   distribution-tls  the same over HTTPS on 127.0.0.2 (which cosign, crane and cosign-compat
#                 reach with TLS, unlike 127.0.0.1); the third argument is a directory with
#                 server.crt and server.key (a certificate for IP 127.0.0.2); prints 127.0.0.2:port
#   referrers     olareg v0.1.2 (built by install-peers.sh): OCI 1.1 Referrers API, delete enabled
#   crane         `crane registry serve` (go-containerregistry v0.22.1): NO Referrers API (it does
#                 not enable it), so it behaves like distribution for discovery
# Use localhost:PORT in references: notation talks plain HTTP to localhost without extra flags.
start_registry() {
  local kind="$1" dir="$2" htpasswd="${3:-}" port pid attempt bin rc host=127.0.0.1 scheme=http
  mkdir -p "$dir"
  for attempt in 1 2 3; do
    port=$(free_port)
    case "$kind" in
      distribution | distribution-tls)
        bin=$(_distribution_bin) || die "docker-registry not found: run 'make peers' (Debian package docker-registry)"
        [[ "$kind" == distribution-tls ]] && host=127.0.0.2 scheme=https
        mkdir -p "$dir/data"
        cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $host:$port
  secret: e2e-not-secret
EOF
        if [[ "$kind" == distribution-tls ]]; then
          printf '  tls:\n    certificate: %s\n    key: %s\n' "$htpasswd/server.crt" "$htpasswd/server.key" >>"$dir/config.yml"
        elif [[ -n "$htpasswd" ]]; then
          printf 'auth:\n  htpasswd:\n    realm: e2e\n    path: %s\n' "$htpasswd" >>"$dir/config.yml"
        fi
        pid=$("$bin" serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 & echo $!)
        ;;
      crane)
        command -v crane >/dev/null 2>&1 || die "crane not found: run 'make peers'"
        mkdir -p "$dir/data"
        pid=$(crane registry serve --address "127.0.0.1:$port" --disk "$dir/data" </dev/null >>"$dir/registry.log" 2>&1 & echo $!)
        ;;
      referrers)
        command -v olareg >/dev/null 2>&1 || die "olareg not found: run 'make peers' (builds olareg v0.1.2)"
        mkdir -p "$dir/data"
        pid=$(olareg serve --addr 127.0.0.1 --port "$port" --dir "$dir/data" --api-delete \
          </dev/null >>"$dir/registry.log" 2>&1 & echo $!)
        ;;
      *) die "start_registry: unknown kind '$kind' (distribution|distribution-tls|referrers|crane)" ;;
    esac
    printf '%s\t%s\t%s\n' "$pid" "registry" "registry-$kind-$port" >>"$_LIB_STATE/pids"
    rc=0
    wait_http "$scheme://$host:$port/v2/" 30 "$pid" || rc=$?
    if ((rc == 0)); then
      printf '%s\n' "$pid" >"$dir/pid"
      printf '%s:%s\n' "$host" "$port"
      return 0
    fi
    _stop_pid "$pid"
    warn "$kind registry on port $port did not start (attempt $attempt); log:"
    tail -n 20 "$dir/registry.log" >&2 || true
  done
  die "could not start the $kind registry (log: $dir/registry.log)"
}

# ---------------------------------------------------------------- test images
# push_test_image REG REPO WORKDIR: push a fresh one-layer image to REG/REPO with crane (random
# content, so a fresh digest: no signature or verification cache carries over between cases) and
# print REG/REPO@sha256:... Never pulls from a public registry.
push_test_image() {
  local reg="$1" repo="$2" work="$3" d tag dig
  tag=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  d="$work/images/$tag"
  mkdir -p "$d/root"
  { echo "test image $tag"; head -c 256 /dev/urandom | od -An -tx1; } >"$d/root/payload.txt"
  tar -C "$d/root" -cf "$d/layer.tar" payload.txt
  crane append --oci-empty-base -f "$d/layer.tar" -t "$reg/$repo:$tag" >"$d/push.log" 2>&1 ||
    { cat "$d/push.log" >&2; die "could not push a test image to $reg/$repo"; }
  dig=$(crane digest "$reg/$repo:$tag") || die "crane digest $reg/$repo:$tag failed"
  printf '%s/%s@%s\n' "$reg" "$repo" "$dig"
}

# ---------------------------------------------------------------- assertions

_LIB_PASSED=0
_LIB_FAILED=0
_LIB_FAILURES=()
_LIB_SKIPPED=0
_LIB_SKIPS=()
_LIB_CHECK_N=0
LAST_OUTPUT=''
LAST_STATUS=0
LAST_SECONDS=0
CHECK_TIMEOUT="${CHECK_TIMEOUT:-300}"

# _run_captured CMD...: run CMD with stdout+stderr to a fresh file; sets LAST_*.
_run_captured() {
  _LIB_CHECKS_USED=1
  _LIB_CHECK_N=$((_LIB_CHECK_N + 1))
  LAST_OUTPUT="$_LIB_STATE/check-$_LIB_CHECK_N.log"
  local t0
  t0=$(_now_ms)
  LAST_STATUS=0
  if [[ "$(type -t "$1" 2>/dev/null)" == function ]]; then
    "$@" </dev/null >"$LAST_OUTPUT" 2>&1 || LAST_STATUS=$?
  else
    # In its own session (so the timeout and Ctrl-C reach the whole tree: notation, the plugin, the
    # signer script) and in the background, because `wait` returns at once on a trapped signal
    # while a foreground command would delay Ctrl-C until it ends.
    setsid timeout -k 10 "$CHECK_TIMEOUT" "$@" </dev/null >"$LAST_OUTPUT" 2>&1 &
    _LIB_CHECK_PGID=$!
    wait "$_LIB_CHECK_PGID" || LAST_STATUS=$?
    _LIB_CHECK_PGID=''
  fi
  LAST_SECONDS=$(((($(_now_ms) - t0) + 500) / 1000))
  if [[ $LAST_STATUS -eq 124 ]]; then
    printf '\n[check harness: killed after %ss (CHECK_TIMEOUT)]\n' "$CHECK_TIMEOUT" >>"$LAST_OUTPUT"
  fi
}

_quote_cmd() {
  local out='' a
  for a in "$@"; do out+="$(printf '%q' "$a") "; done
  printf '%s' "${out% }"
}

record_pass() {
  _LIB_CHECKS_USED=1
  _LIB_PASSED=$((_LIB_PASSED + 1))
  printf '%sok%s   %s %s(%ss)%s\n' "$_C_GREEN" "$_C_OFF" "$1" "$_C_DIM" "${LAST_SECONDS:-0}" "$_C_OFF"
}

# record_fail DESC [REASON]: count a failure; prints REASON and, when set, the tail of LAST_OUTPUT.
record_fail() {
  _LIB_CHECKS_USED=1
  _LIB_FAILED=$((_LIB_FAILED + 1))
  _LIB_FAILURES+=("$1")
  printf '%sFAIL%s %s\n' "$_C_RED" "$_C_OFF" "$1"
  [[ -n "${2:-}" ]] && printf '     %s\n' "$2"
  return 0
}

# record_skip DESC REASON: a case that cannot run with these tools; listed in the summary.
record_skip() {
  _LIB_CHECKS_USED=1
  _LIB_SKIPPED=$((_LIB_SKIPPED + 1))
  _LIB_SKIPS+=("$1: $2")
  printf '%sSKIP%s %s\n     %s\n' "$_C_RED" "$_C_OFF" "$1" "$2"
}

_fail_with_output() {
  local desc="$1" reason="$2"
  shift 2
  record_fail "$desc" "$reason"
  printf '     command: %s\n' "$(_quote_cmd "$@")"
  printf '     exit status %s after %ss; output (last 40 lines):\n' "$LAST_STATUS" "$LAST_SECONDS"
  tail -n 40 "$LAST_OUTPUT" | sed 's/^/     | /'
}

check() {
  local desc="$1"
  shift
  _run_captured "$@"
  if [[ $LAST_STATUS -eq 0 ]]; then record_pass "$desc"; else _fail_with_output "$desc" "expected success" "$@"; fi
}

check_fails() {
  local desc="$1"
  shift
  _run_captured "$@"
  if [[ $LAST_STATUS -ne 0 && $LAST_STATUS -ne 124 ]]; then
    record_pass "$desc"
  else
    _fail_with_output "$desc" "expected a failure" "$@"
  fi
}

_output_has() { grep -qiF -- "$1" "$LAST_OUTPUT"; }

check_output_contains() {
  local desc="$1" needle="$2"
  shift 2
  _run_captured "$@"
  if _output_has "$needle"; then
    record_pass "$desc"
  else
    _fail_with_output "$desc" "expected the output to contain '$needle'" "$@"
  fi
}

check_fails_with() {
  local desc="$1" needle="$2"
  shift 2
  _run_captured "$@"
  if [[ $LAST_STATUS -eq 0 || $LAST_STATUS -eq 124 ]]; then
    _fail_with_output "$desc" "expected a failure mentioning '$needle'" "$@"
  elif ! _output_has "$needle"; then
    _fail_with_output "$desc" "failed as expected, but the output does not contain '$needle'" "$@"
  else
    record_pass "$desc"
  fi
}

_lib_print_summary() {
  phases_summary
  if ((${#_LIB_FAILURES[@]})); then
    printf '\nfailed:\n'
    printf '  - %s\n' "${_LIB_FAILURES[@]}"
  fi
  if ((${#_LIB_SKIPS[@]})); then
    printf '\nskipped:\n'
    printf '  - %s\n' "${_LIB_SKIPS[@]}"
  fi
  if ((_LIB_SKIPPED)); then
    printf '\n%d passed, %d failed, %d skipped\n' "$_LIB_PASSED" "$_LIB_FAILED" "$_LIB_SKIPPED"
  else
    printf '\n%d passed, %d failed\n' "$_LIB_PASSED" "$_LIB_FAILED"
  fi
}

# finish: print phase durations, the failures and `N passed, N failed`; exit 1 if anything failed.
finish() {
  _LIB_FINISHED=1
  _lib_print_summary
  ((_LIB_FAILED == 0)) || exit 1
  exit 0
}
