#!/usr/bin/env bash
# Install the peer tools the demo and the end-to-end tests run against:
#   - Debian packages: docker-registry (CNCF distribution v2), jq, openssl, pkg-config, libssl-dev,
#     curl, shellcheck, softhsm2, opensc, apache2-utils (htpasswd, for the registry with authentication)
#   - pinned Go tools built from their upstream modules into $TOOLS_DIR/bin (default <repo>/.tools/bin):
#     notation v1.3.2, crane v0.22.1, oras v1.3.6, cosign v3.1.2, and olareg v0.1.2 (a registry with
#     the OCI 1.1 Referrers API)
#   - on request only (not in the default list: a heavy Kubernetes build, minutes on 2 cores):
#     the Kyverno CLI v1.15.2 (`scripts/install-peers.sh kyverno`, `make peers-kyverno`)
# Idempotent: a tool already built at the pinned version (recorded in $TOOLS_DIR/versions) is kept.
#
# usage: scripts/install-peers.sh [--no-apt] [--force] [TOOL...]
#   TOOL       notation | crane | oras | cosign | olareg (default: these five) | kyverno (only by name)
#   --no-apt   do not install Debian packages (only report what is missing)
#   --force    rebuild the Go tools even when the stamp says they are current
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(docker-registry jq openssl pkg-config libssl-dev curl ca-certificates shellcheck softhsm2 opensc apache2-utils)
GO_MIN_MINOR=24 # Go >= 1.24; newer toolchains wanted by a module's go.mod come through GOTOOLCHAIN=auto

# name | module | version | package | extra -ldflags
GO_TOOLS=(
  "notation|github.com/notaryproject/notation|v1.3.2|./cmd/notation|-X github.com/notaryproject/notation/internal/version.BuildMetadata="
  "crane|github.com/google/go-containerregistry|v0.22.1|./cmd/crane|-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=v0.22.1"
  "oras|oras.land/oras|v1.3.6|./cmd/oras|-X oras.land/oras/internal/version.GitTreeState=clean"
  "cosign|github.com/sigstore/cosign/v3|v3.1.2|./cmd/cosign|-X sigs.k8s.io/release-utils/version.gitVersion=v3.1.2"
  "olareg|github.com/olareg/olareg|v0.1.2|./cmd/olareg|-X github.com/olareg/olareg/internal/version.vcsTag=v0.1.2"
)
# The Kyverno CLI (kubectl-kyverno), built only when asked for by name. v1.15.2: per-rule
# failureAction (>= 1.13), ImageValidatingPolicy policies.kyverno.io/v1alpha1 (1.14-1.15), go >= 1.24.6.
KYVERNO_MODULE=github.com/kyverno/kyverno
KYVERNO_VERSION=v1.15.2

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

NO_APT=''
FORCE=''
WANT=()
while (($#)); do
  case "$1" in
    --no-apt) NO_APT=1 ;;
    --force) FORCE=1 ;;
    -h | --help) usage; exit 0 ;;
    notation | crane | oras | cosign | olareg | kyverno) WANT+=("$1") ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
((${#WANT[@]})) || WANT=(notation crane oras cosign olareg)

BIN="$TOOLS_DIR/bin"
STAMP="$TOOLS_DIR/versions"
mkdir -p "$BIN"
touch "$STAMP"

# ------------------------------------------------------------------ Debian packages
apt_step() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    local missing=()
    for c in jq openssl curl pkg-config htpasswd; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
    command -v docker-registry >/dev/null 2>&1 || command -v registry >/dev/null 2>&1 || missing+=("docker-registry (CNCF distribution 'registry')")
    if ((${#missing[@]})); then
      die "not a Debian/Ubuntu system; install these yourself: ${missing[*]}"
    fi
    command -v shellcheck >/dev/null 2>&1 || warn "shellcheck not found: 'make lint' needs it (install it yourself)"
    log "not a Debian/Ubuntu system; the needed commands are present"
    return 0
  fi
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "Debian packages present: ${APT_PACKAGES[*]}"
    return 0
  fi
  if [[ -n "$NO_APT" ]]; then
    die "missing Debian packages: ${missing[*]} (run: apt-get update && apt-get install -y ${missing[*]})"
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing Debian packages (${missing[*]}) and not root: run as root or install them yourself"
    sudo=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# ------------------------------------------------------------------ Go
go_check() {
  command -v go >/dev/null 2>&1 ||
    die "'go' not found: install Go >= 1.$GO_MIN_MINOR from your distribution or go.dev, then re-run 'make peers'"
  local v minor
  v=$(go env GOVERSION 2>/dev/null || true) # go1.26.8
  [[ "$v" =~ ^go1\.([0-9]+) ]] || die "cannot tell the Go version ('$v'); install Go >= 1.$GO_MIN_MINOR from your distribution or go.dev"
  minor=${BASH_REMATCH[1]}
  ((minor >= GO_MIN_MINOR)) || die "Go $v is too old: install Go >= 1.$GO_MIN_MINOR from your distribution or go.dev"
  log "using $v ($(command -v go))"
}

stamp_get() { awk -v n="$1" '$1 == n {print $2}' "$STAMP"; }
stamp_set() {
  local tmp
  tmp=$(mktemp "$STAMP.XXXXXX")
  awk -v n="$1" '$1 != n' "$STAMP" >"$tmp"
  printf '%s %s\n' "$1" "$2" >>"$tmp"
  mv "$tmp" "$STAMP"
}

build_tool() {
  local name="$1" module="$2" version="$3" pkg="$4" ldflags="$5" dir out
  if [[ -z "$FORCE" && -x "$BIN/$name" && "$(stamp_get "$name")" == "$version" ]]; then
    log "$name $version already in $BIN"
    return 0
  fi
  log "building $name $version from $module"
  # `go install module/cmd@version` needs the proxy's version list (refused here); downloading the
  # exact module version and building inside it does not.
  dir=$(go mod download -json "$module@$version" | jq -r '.Dir // empty') ||
    die "go mod download $module@$version failed (is the Go module proxy reachable?)"
  [[ -n "$dir" && -d "$dir" ]] || die "go mod download $module@$version gave no directory"
  out=$(mktemp "$BIN/.$name.XXXXXX")
  if ! (cd "$dir" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w $ldflags" -o "$out" "$pkg"); then
    rm -f "$out"
    die "building $name $version failed"
  fi
  chmod 0755 "$out"
  mv -f "$out" "$BIN/$name"
  stamp_set "$name" "$version"
}

# The Kyverno CLI: its go.mod has replace directives, so `go install ...@version` is refused; build
# inside a writable copy of the downloaded module (the module cache is read-only).
build_kyverno() {
  local version="$KYVERNO_VERSION" dir src out start
  if [[ -z "$FORCE" && -x "$BIN/kyverno" && "$(stamp_get kyverno)" == "$version" ]]; then
    log "kyverno $version already in $BIN"
    return 0
  fi
  log "building kyverno $version from $KYVERNO_MODULE (a heavy build: about 7 minutes with a cold cache on 2 cores, ~2.5 GB of RAM)"
  dir=$(go mod download -json "$KYVERNO_MODULE@$version" | jq -r '.Dir // empty') ||
    die "go mod download $KYVERNO_MODULE@$version failed (is the Go module proxy reachable?)"
  [[ -n "$dir" && -d "$dir/cmd/cli/kubectl-kyverno" ]] ||
    die "go mod download $KYVERNO_MODULE@$version gave no usable directory ('$dir')"
  src=$(make_workdir "${TMPDIR:-/tmp}" kyverno-src) # removed on exit, like every lib.sh work dir
  out=$(mktemp "$BIN/.kyverno.XXXXXX")
  { cp -r "$dir/." "$src/" && chmod -R u+w "$src"; } || { rm -f "$out"; die "could not copy $dir to $src"; }
  start=$(date +%s)
  if ! (cd "$src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X $KYVERNO_MODULE/pkg/version.BuildVersion=$version" -o "$out" ./cmd/cli/kubectl-kyverno); then
    rm -f "$out"
    die "building kyverno $version failed (go $(go env GOVERSION); it needs go >= 1.24.6 and several GB of free RAM and disk)"
  fi
  chmod 0755 "$out"
  mv -f "$out" "$BIN/kyverno"
  stamp_set kyverno "$version"
  log "kyverno $version built in $(($(date +%s) - start))s: $("$BIN/kyverno" version 2>/dev/null | awk '/^Version:/ {print $2}')"
}

phase "peer tools: Debian packages"
apt_step

phase "peer tools: Go toolchain"
go_check

for spec in "${GO_TOOLS[@]}"; do
  IFS='|' read -r name module version pkg ldflags <<<"$spec"
  for w in "${WANT[@]}"; do
    if [[ "$w" == "$name" ]]; then
      phase "peer tools: $name $version"
      build_tool "$name" "$module" "$version" "$pkg" "$ldflags"
    fi
  done
done

for w in "${WANT[@]}"; do
  if [[ "$w" == kyverno ]]; then
    phase "peer tools: kyverno $KYVERNO_VERSION"
    build_kyverno
  fi
done

phase_end
phases_summary
log "peer tools in $BIN: $(cd "$BIN" && echo *)"
