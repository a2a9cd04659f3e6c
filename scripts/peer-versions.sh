# shellcheck shell=bash
# The pinned peer tools: one line per tool, sourced by scripts/lib.sh (which puts each tool's
# per-version directory on PATH) and scripts/install-peers.sh (which builds them there).
# Each tool is built once per version into $TOOLS_DIR/NAME-VERSION/ (TOOLS_DIR defaults to
# ${XDG_CACHE_HOME:-$HOME/.cache}/external-signer/tools, outside the clone, so fresh clones reuse it).
# Changing a version here makes the next `make peers` (or the target needing the tool) build it.
# shellcheck disable=SC2034 # used by the files that source this one

NOTATION_VERSION=v1.3.2
CRANE_VERSION=v0.22.1
ORAS_VERSION=v1.3.6
COSIGN_VERSION=v3.1.3
OLAREG_VERSION=v0.1.2
# Kyverno: the CLI (kyverno) and the admission controller (kyverno-controller), from one module copy.
KYVERNO_VERSION=v1.19.1
# kube-apiserver + kubectl from k8s.io/kubernetes (tests/cluster/kube pins the k8s.io staging
# modules to the matching v0.35.x); Kyverno 1.19 supports Kubernetes 1.33-1.35.
KUBE_VERSION=v1.35.4
# etcd server from go.etcd.io/etcd/server/v3 (tests/cluster/etcd).
ETCD_VERSION=v3.6.17
# sigstore-go-verify (tests/sigstore-go: a verifier of cosign v3 bundles on sigstore-go's verify
# package). sigstore-go v1.4.x declares go 1.27.0, so this one tool is built with the Go toolchain
# SIGSTORE_GO_TOOLCHAIN, which the go command fetches from the Go module proxy: install-peers.sh sets
# GOTOOLCHAIN to it for this build only (every other peer tool keeps the machine's Go); it is part
# of the tool's source hash, so changing it rebuilds the tool.
SIGSTORE_GO_VERSION=v1.4.1
SIGSTORE_GO_TOOLCHAIN=go1.27.3
# Cargo subcommands for the release archives (`make dist`), from crates.io with `cargo install
# --locked` (scripts/install-peers.sh cargo-auditable cargo-cyclonedx, `make cargo-tools`):
# cargo-auditable embeds the dependency list in each binary (.dep-v0), cargo-cyclonedx writes the
# SBOMs (CycloneDX JSON) published beside the archives.
CARGO_AUDITABLE_VERSION=v0.7.7
CARGO_CYCLONEDX_VERSION=v0.5.9

# peer_tool_dir NAME: where NAME's binaries live (NAME: notation crane oras cosign olareg kyverno
# kube etcd sigstore-go cargo-auditable cargo-cyclonedx).
peer_tool_dir() {
  local v
  case "$1" in
    notation) v=$NOTATION_VERSION ;;
    crane) v=$CRANE_VERSION ;;
    oras) v=$ORAS_VERSION ;;
    cosign) v=$COSIGN_VERSION ;;
    olareg) v=$OLAREG_VERSION ;;
    kyverno) v=$KYVERNO_VERSION ;;
    kube) v=$KUBE_VERSION ;;
    etcd) v=$ETCD_VERSION ;;
    sigstore-go) v=$SIGSTORE_GO_VERSION ;;
    cargo-auditable) v=$CARGO_AUDITABLE_VERSION ;;
    cargo-cyclonedx) v=$CARGO_CYCLONEDX_VERSION ;;
    *) return 1 ;;
  esac
  printf '%s/%s-%s\n' "$TOOLS_DIR" "$1" "$v"
}
PEER_TOOLS=(notation crane oras cosign olareg kyverno kube etcd sigstore-go cargo-auditable cargo-cyclonedx)
