#!/usr/bin/env bash
# Install the peer tools the demo and the end-to-end tests run against:
#   - Debian packages: docker-registry (CNCF distribution v2), jq, openssl, pkg-config, libssl-dev,
#     curl, shellcheck, softhsm2, opensc, apache2-utils (htpasswd, for the registry with authentication)
#   - pinned Go tools (versions in scripts/peer-versions.sh) built from their upstream modules, each
#     into its own $TOOLS_DIR/NAME-VERSION/ (TOOLS_DIR defaults to
#     ${XDG_CACHE_HOME:-$HOME/.cache}/external-signer/tools: outside the clone, so a fresh clone,
#     as CI makes on every run, reuses what an earlier run built): notation, crane, oras, cosign,
#     olareg (a registry with the OCI 1.1 Referrers API) and sigstore-go (sigstore-go-verify, built
#     from tests/sigstore-go: an independent verifier of cosign v3 bundles): `make peers`
#   - on request only (heavy Kubernetes builds, minutes each on 2 cores and GBs of RAM):
#       kyverno  the Kyverno CLI (kyverno) and admission controller (kyverno-controller), built
#                together from one copy of github.com/kyverno/kyverno (`make peers-kyverno`)
#       kube     kube-apiserver and kubectl from k8s.io/kubernetes (tests/cluster/kube)
#       etcd     an etcd v3.6 server (tests/cluster/etcd)          (`make peers-admission`: all three)
#       cargo-auditable, cargo-cyclonedx   cargo subcommands for `make dist`, `cargo install --locked
#                --version` from crates.io into $TOOLS_DIR/NAME-VERSION/ (`make cargo-tools`)
# Idempotent: a tool whose NAME-VERSION directory holds its binaries is kept. Concurrent runs are
# safe: each tool is built under a lock, so a second run waits for the first and then reuses it.
#
# usage: scripts/install-peers.sh [--no-apt] [--force] [TOOL...]
#   TOOL       notation | crane | oras | cosign | olareg | sigstore-go (default: these six)
#              | kyverno (kyverno-controller is the same build) | kube | etcd
#              | cargo-auditable | cargo-cyclonedx (only by name)
#   --no-apt   do not install Debian packages (only report what is missing)
#   --force    rebuild the Go tools even when they are present
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(docker-registry jq openssl pkg-config libssl-dev curl ca-certificates shellcheck softhsm2 opensc apache2-utils)
GO_MIN_MINOR=24 # Go >= 1.24; newer toolchains wanted by a module's go.mod come through GOTOOLCHAIN=auto
# (sigstore-go-verify alone sets GOTOOLCHAIN=$SIGSTORE_GO_TOOLCHAIN for its build: build_sigstore_go)

# name | module | version | package | extra -ldflags
GO_TOOLS=(
  "notation|github.com/notaryproject/notation|$NOTATION_VERSION|./cmd/notation|-X github.com/notaryproject/notation/internal/version.BuildMetadata="
  "crane|github.com/google/go-containerregistry|$CRANE_VERSION|./cmd/crane|-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$CRANE_VERSION"
  "oras|oras.land/oras|$ORAS_VERSION|./cmd/oras|-X oras.land/oras/internal/version.GitTreeState=clean"
  "cosign|github.com/sigstore/cosign/v3|$COSIGN_VERSION|./cmd/cosign|-X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION"
  "olareg|github.com/olareg/olareg|$OLAREG_VERSION|./cmd/olareg|-X github.com/olareg/olareg/internal/version.vcsTag=$OLAREG_VERSION"
)
# Kyverno v1.19.1: per-rule failureAction, ImageValidatingPolicy policies.kyverno.io/v1 (>= 1.17),
# cosign attestors with ctlog.insecureIgnoreTlog offline; go >= 1.26.6 (GOTOOLCHAIN=auto fetches it).
KYVERNO_MODULE=github.com/kyverno/kyverno

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

NO_APT=''
FORCE=''
WANT=()
while (($#)); do
  case "$1" in
    --no-apt) NO_APT=1 ;;
    --force) FORCE=1 ;;
    -h | --help) usage; exit 0 ;;
    notation | crane | oras | cosign | olareg | sigstore-go | kyverno | kube | etcd | cargo-auditable | cargo-cyclonedx) WANT+=("$1") ;;
    kyverno-controller) WANT+=(kyverno) ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
((${#WANT[@]})) || WANT=(notation crane oras cosign olareg sigstore-go)
mkdir -p "$TOOLS_DIR" || die "cannot create TOOLS_DIR $TOOLS_DIR"

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

# with_lock NAME CMD...: run CMD holding $TOOLS_DIR/.NAME.lock (a concurrent install of the same
# tool waits, then finds it built).
with_lock() {
  local name="$1" fd
  shift
  exec {fd}>"$TOOLS_DIR/.$name.lock" || die "cannot create the lock file $TOOLS_DIR/.$name.lock"
  if ! flock -n "$fd"; then
    log "$name: another install is building it; waiting for it to finish"
    flock "$fd"
  fi
  local rc=0
  "$@" || rc=$?
  exec {fd}>&-
  return "$rc"
}

# present DIR BIN...: every BIN is an executable in DIR.
present() {
  local dir="$1" b
  shift
  for b in "$@"; do [[ -x "$dir/$b" ]] || return 1; done
}

# install_dir NAME TMPDIR: move a finished build into place ($TOOLS_DIR/NAME-VERSION), atomically
# for readers (rename of a whole directory).
install_dir() {
  local dest old
  dest=$(peer_tool_dir "$1")
  if [[ -e "$dest" ]]; then
    old=$(mktemp -d "$TOOLS_DIR/.old.XXXXXX")
    mv "$dest" "$old/" && rm -rf "$old"
  fi
  mv "$2" "$dest"
}

# go_build_timed NAME LOGNAME DIR OUT CMD-ARGS...: `go build` in DIR with /usr/bin/time -v when
# present; prints the duration and peak memory.
go_build_timed() {
  local name="$1" dir="$2" start rc=0 tf rss=''
  shift 2
  tf=$(mktemp "$TOOLS_DIR/.$name.time.XXXXXX")
  start=$(date +%s)
  if [[ -x /usr/bin/time ]]; then
    (cd "$dir" && CGO_ENABLED=0 /usr/bin/time -v -o "$tf" go build -trimpath -buildvcs=false "$@") || rc=$?
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f GB", $2 / 1048576}' "$tf" 2>/dev/null || true)
  else
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -buildvcs=false "$@") || rc=$?
  fi
  rm -f "$tf"
  ((rc == 0)) || return "$rc"
  log "$name built in $(($(date +%s) - start))s${rss:+, peak RSS of the largest process $rss}"
}

# module_dir MODULE VERSION: the read-only module cache directory of MODULE@VERSION.
module_dir() {
  local dir
  dir=$(go mod download -json "$1@$2" | jq -r '.Dir // empty') ||
    die "go mod download $1@$2 failed (is the Go module proxy reachable?)"
  [[ -n "$dir" && -d "$dir" ]] || die "go mod download $1@$2 gave no directory"
  printf '%s\n' "$dir"
}

build_tool() {
  local name="$1" module="$2" version="$3" pkg="$4" ldflags="$5" dir tmp dest
  dest=$(peer_tool_dir "$name")
  if [[ -z "$FORCE" ]] && present "$dest" "$name"; then
    log "$name $version already in $dest"
    return 0
  fi
  log "building $name $version from $module"
  # `go install module/cmd@version` needs the proxy's version list (refused here for some modules);
  # downloading the exact module version and building inside it does not.
  dir=$(module_dir "$module" "$version")
  tmp=$(mktemp -d "$TOOLS_DIR/.$name-$version.XXXXXX")
  if ! go_build_timed "$name $version" "$dir" -ldflags "-s -w $ldflags" -o "$tmp/$name" "$pkg"; then
    rm -rf "$tmp"
    die "building $name $version failed"
  fi
  install_dir "$name" "$tmp"
}

# The Kyverno CLI and admission controller: the module's go.mod has replace directives, so `go
# install ...@version` is refused; build both from one writable copy of the downloaded module (the
# module cache is read-only), in one `go build`, so they share every compiled package.
build_kyverno() {
  local version="$KYVERNO_VERSION" dir src tmp dest
  dest=$(peer_tool_dir kyverno)
  if [[ -z "$FORCE" ]] && present "$dest" kyverno kyverno-controller; then
    log "kyverno $version (CLI and controller) already in $dest"
    return 0
  fi
  log "building the Kyverno CLI and admission controller $version (heavy: ~10 min with a cold Go cache on 2 cores, ~3 GB of RAM)"
  dir=$(module_dir "$KYVERNO_MODULE" "$version")
  [[ -d "$dir/cmd/kyverno" && -d "$dir/cmd/cli/kubectl-kyverno" ]] ||
    die "go mod download $KYVERNO_MODULE@$version gave no usable directory ('$dir')"
  src=$(make_workdir "${TMPDIR:-/tmp}" kyverno-src) # removed on exit, like every lib.sh work dir
  { cp -r "$dir/." "$src/" && chmod -R u+w "$src"; } || die "could not copy $dir to $src"
  tmp=$(mktemp -d "$TOOLS_DIR/.kyverno-$version.XXXXXX")
  if ! go_build_timed "kyverno $version (CLI + controller)" "$src" \
    -ldflags "-s -w -X $KYVERNO_MODULE/pkg/version.BuildVersion=$version" -o "$tmp/" ./cmd/kyverno ./cmd/cli/kubectl-kyverno; then
    rm -rf "$tmp"
    die "building kyverno $version failed (go $(go env GOVERSION); it needs go >= 1.26.6 through GOTOOLCHAIN=auto, and several GB of free RAM and disk)"
  fi
  { mv "$tmp/kyverno" "$tmp/kyverno-controller" && mv "$tmp/kubectl-kyverno" "$tmp/kyverno"; } ||
    die "kyverno build output missing in $tmp"
  install_dir kyverno "$tmp"
  log "kyverno CLI: $("$dest/kyverno" version 2>/dev/null | awk '/^Version:/ {print $2}')"
}

# kube-apiserver and kubectl from tests/cluster/kube (a module requiring k8s.io/kubernetes with
# the staging modules pinned to the matching v0.Y.Z), with the version stamped as upstream does.
build_kube() {
  local version="$KUBE_VERSION" tmp dest major minor v ld p
  dest=$(peer_tool_dir kube)
  if [[ -z "$FORCE" ]] && present "$dest" kube-apiserver kubectl; then
    log "kube-apiserver and kubectl $version already in $dest"
    return 0
  fi
  grep -q "k8s.io/kubernetes $version\$" "$REPO_ROOT/tests/cluster/kube/go.mod" ||
    die "tests/cluster/kube/go.mod does not require k8s.io/kubernetes $version (KUBE_VERSION in scripts/peer-versions.sh): update both"
  [[ "$version" =~ ^v([0-9]+)\.([0-9]+)\. ]] || die "KUBE_VERSION '$version' is not vX.Y.Z"
  major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
  log "building kube-apiserver and kubectl $version (heavy: ~10 min with a cold Go cache on 2 cores, ~2.5 GB of RAM)"
  ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for v in "gitVersion=$version" "gitMajor=$major" "gitMinor=$minor" "gitTreeState=clean"; do
      ld+=" -X $p.$v"
    done
  done
  tmp=$(mktemp -d "$TOOLS_DIR/.kube-$version.XXXXXX")
  if ! go_build_timed "kube-apiserver + kubectl $version" "$REPO_ROOT/tests/cluster/kube" \
    -ldflags "$ld" -o "$tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl; then
    rm -rf "$tmp"
    die "building kube-apiserver/kubectl $version failed (tests/cluster/kube; several GB of free RAM and disk needed)"
  fi
  install_dir kube "$tmp"
  log "kubectl: $("$dest/kubectl" version --client 2>/dev/null | head -n 1)"
}

build_etcd() {
  local version="$ETCD_VERSION" tmp dest
  dest=$(peer_tool_dir etcd)
  if [[ -z "$FORCE" ]] && present "$dest" etcd; then
    log "etcd $version already in $dest"
    return 0
  fi
  grep -q "go.etcd.io/etcd/server/v3 $version\$" "$REPO_ROOT/tests/cluster/etcd/go.mod" ||
    die "tests/cluster/etcd/go.mod does not require go.etcd.io/etcd/server/v3 $version (ETCD_VERSION in scripts/peer-versions.sh): update both"
  log "building etcd $version"
  tmp=$(mktemp -d "$TOOLS_DIR/.etcd-$version.XXXXXX")
  if ! go_build_timed "etcd $version" "$REPO_ROOT/tests/cluster/etcd" -ldflags "-s -w" -o "$tmp/etcd" .; then
    rm -rf "$tmp"
    die "building etcd $version failed (tests/cluster/etcd)"
  fi
  install_dir etcd "$tmp"
}

# sigstore-go-verify from tests/sigstore-go (a module requiring sigstore-go $SIGSTORE_GO_VERSION).
# Its main is ours, not upstream's: the directory keeps the SHA-256 of the module's sources and of
# the Go toolchain it is built with (.source-sha256), and a changed source or toolchain is rebuilt
# even when the version is the same.
sigstore_go_source_hash() {
  {
    printf 'toolchain %s\n' "$SIGSTORE_GO_TOOLCHAIN"
    (cd "$REPO_ROOT/tests/sigstore-go" && cat go.mod go.sum ./*.go)
  } | sha256sum | cut -d' ' -f1
}
build_sigstore_go() {
  local version="$SIGSTORE_GO_VERSION" tmp dest hash gov
  # sigstore-go v1.4 declares go 1.27.0, newer than the Go many machines have: this build (and only
  # this one: the variable is local to this function) uses the Go toolchain SIGSTORE_GO_TOOLCHAIN,
  # which the go command downloads from the Go module proxy like a module (~76 MB, once per machine).
  [[ "$SIGSTORE_GO_TOOLCHAIN" =~ ^go1\.[0-9]+\.[0-9]+$ ]] ||
    die "SIGSTORE_GO_TOOLCHAIN '$SIGSTORE_GO_TOOLCHAIN' (scripts/peer-versions.sh) is not a Go toolchain name like go1.27.3"
  local -x GOTOOLCHAIN="$SIGSTORE_GO_TOOLCHAIN"
  dest=$(peer_tool_dir sigstore-go)
  hash=$(sigstore_go_source_hash) || die "cannot read tests/sigstore-go"
  if [[ -z "$FORCE" ]] && present "$dest" sigstore-go-verify &&
    [[ "$(cat "$dest/.source-sha256" 2>/dev/null)" == "$hash" ]]; then
    log "sigstore-go-verify (sigstore-go $version, $GOTOOLCHAIN) already in $dest"
    return 0
  fi
  grep -q "github.com/sigstore/sigstore-go $version\$" "$REPO_ROOT/tests/sigstore-go/go.mod" ||
    die "tests/sigstore-go/go.mod does not require github.com/sigstore/sigstore-go $version (SIGSTORE_GO_VERSION in scripts/peer-versions.sh): update both"
  gov=$(cd "$REPO_ROOT/tests/sigstore-go" && go env GOVERSION) || gov=''
  if [[ "$gov" != "$GOTOOLCHAIN" ]]; then
    die "cannot run the Go toolchain $GOTOOLCHAIN (GOTOOLCHAIN=$GOTOOLCHAIN gave '${gov:-nothing}'): the go command fetches it from the Go module proxy, which must be reachable (GOPROXY not 'off'); or install $GOTOOLCHAIN and put it first on PATH"
  fi
  log "building sigstore-go-verify (sigstore-go $version) with $gov (GOTOOLCHAIN, this tool only)"
  tmp=$(mktemp -d "$TOOLS_DIR/.sigstore-go-$version.XXXXXX")
  if ! go_build_timed "sigstore-go-verify (sigstore-go $version, $gov)" "$REPO_ROOT/tests/sigstore-go" \
    -ldflags "-s -w" -o "$tmp/sigstore-go-verify" .; then
    rm -rf "$tmp"
    die "building sigstore-go-verify failed (tests/sigstore-go, with $GOTOOLCHAIN)"
  fi
  printf '%s\n' "$hash" >"$tmp/.source-sha256"
  install_dir sigstore-go "$tmp"
}

phase "peer tools: Debian packages"
apt_step

# build_cargo_tool NAME: `cargo install --locked --version` NAME from crates.io into
# $TOOLS_DIR/NAME-VERSION/NAME (its own target dir, removed afterwards).
build_cargo_tool() {
  local name="$1" version tmp dest start
  dest=$(peer_tool_dir "$name")
  version=${dest##*/"$name"-}
  if [[ -z "$FORCE" ]] && present "$dest" "$name"; then
    log "$name $version already in $dest"
    return 0
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain (rustup), then re-run"
  log "building $name $version (cargo install --locked)"
  tmp=$(mktemp -d "$TOOLS_DIR/.$name-$version.XXXXXX")
  start=$(date +%s)
  if ! cargo install --locked --quiet --version "${version#v}" "$name" --root "$tmp/root" --target-dir "$tmp/target"; then
    rm -rf "$tmp"
    die "cargo install --locked --version ${version#v} $name failed (is crates.io reachable?)"
  fi
  mkdir -p "$tmp/out"
  mv "$tmp/root/bin/$name" "$tmp/out/$name"
  rm -rf "$tmp/root" "$tmp/target"
  mv "$tmp/out" "$tmp.out" && rmdir "$tmp"
  install_dir "$name" "$tmp.out"
  log "$name $version built in $(($(date +%s) - start))s"
}

NEED_GO=''
for w in "${WANT[@]}"; do [[ "$w" == cargo-* ]] || NEED_GO=1; done
if [[ -n "$NEED_GO" ]]; then
  phase "peer tools: Go toolchain"
  go_check
fi

for spec in "${GO_TOOLS[@]}"; do
  IFS='|' read -r name module version pkg ldflags <<<"$spec"
  for w in "${WANT[@]}"; do
    if [[ "$w" == "$name" ]]; then
      phase "peer tools: $name $version"
      with_lock "$name" build_tool "$name" "$module" "$version" "$pkg" "$ldflags"
    fi
  done
done

for w in "${WANT[@]}"; do
  case "$w" in
    kyverno) phase "peer tools: kyverno $KYVERNO_VERSION (CLI + admission controller)"; with_lock kyverno build_kyverno ;;
    kube) phase "peer tools: kube-apiserver + kubectl $KUBE_VERSION"; with_lock kube build_kube ;;
    etcd) phase "peer tools: etcd $ETCD_VERSION"; with_lock etcd build_etcd ;;
    sigstore-go) phase "peer tools: sigstore-go-verify (sigstore-go $SIGSTORE_GO_VERSION, $SIGSTORE_GO_TOOLCHAIN)"; with_lock sigstore-go build_sigstore_go ;;
    cargo-auditable | cargo-cyclonedx) phase "peer tools: $w"; with_lock "$w" build_cargo_tool "$w" ;;
  esac
done

phase_end
phases_summary
for w in "${WANT[@]}"; do log "$w: $(peer_tool_dir "$w")"; done
