#!/usr/bin/env bash
# Benchmark: `cosign-compat sign --key` against cosign doing the same job, on the same image and
# key, in a local distribution registry (127.0.0.1, plain HTTP), side by side in one run.
#
# BENCH_FORMAT=sig (default): the legacy .sig format, against the cosign CLI pipeline
#
#   cosign generate IMG >p.json
#   openssl dgst -sha256 -sign KEY p.json | base64 -w0 >sig.b64
#   cosign attach signature --payload p.json --signature sig.b64 IMG
#
# BENCH_FORMAT=bundle: cosign v3's default format (a Sigstore bundle as an OCI 1.1 referrer; the
# registry has no Referrers API, so both maintain the sha256-<hex> fallback index), against
#
#   cosign sign --key imported.key --tlog-upload=false --use-signing-config=false -y IMG
#
# with the same key imported once with `cosign import-key-pair` (cosign sign --key takes only
# its own key format).
#
# Each run signs a distinct payload (`-a run=N`), so every run does the full read-modify-write
# of the .sig manifest (or of the fallback index); the two commands alternate so that both see
# the same growing manifest. Wall time of whole processes, measured in this shell.
#
# usage: scripts/bench-cosign.sh
# environment:
#   BENCH_RUNS       runs per contender (default 10)
#   BENCH_FORMAT     sig (default) or bundle
#   BENCH_KEY_SPEC   key spec of the signing key (default EC-256)
#   COSIGN           cosign binary (default: cosign on PATH, else /tmp/peers/cosign)
#   COSIGN_COMPAT_BIN  default target/release/cosign-compat (built here)
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

RUNS=${BENCH_RUNS:-10}
FORMAT=${BENCH_FORMAT:-sig}
[[ "$FORMAT" == sig || "$FORMAT" == bundle ]] || die "BENCH_FORMAT must be sig or bundle, not '$FORMAT'"
SPEC=${BENCH_KEY_SPEC:-EC-256}
COSIGN="${COSIGN:-$(command -v cosign || echo /tmp/peers/cosign)}"
[[ -x "$COSIGN" ]] || die "cosign not found: run 'make peers'"
command -v crane >/dev/null 2>&1 || die "crane not found: run 'make peers'"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
if [[ -z "${COSIGN_COMPAT_BIN:-}" ]]; then
  cargo build --release --locked -q -p cosign-compat --bin cosign-compat || die "cargo build failed"
fi

W=$(make_workdir "$REPO_ROOT/.e2e" bench-cosign)
export HOME="$W/home" DOCKER_CONFIG="$W/docker" TUF_ROOT="$W/tuf"
mkdir -p "$HOME" "$DOCKER_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json"
unset EXTERNAL_SIGNER EXTERNAL_PRIVATE_KEY EXTERNAL_CERT_CHAIN COSIGN_REPOSITORY

REG=$(start_registry distribution "$W/registry")
scripts/certificates.sh --key-spec "$SPEC" --out "$W/pki" >"$W/pki.log" 2>&1 || { cat "$W/pki.log" >&2; die "PKI failed"; }
KEY="$W/pki/leaf.key"
mkdir -p "$W/root"
echo "bench image" >"$W/root/f"
tar -C "$W/root" -cf "$W/layer.tar" f
crane append --oci-empty-base -f "$W/layer.tar" -t "$REG/bench:v1" >/dev/null 2>&1 || die "crane append failed"
IMG="$REG/bench@$(crane digest "$REG/bench:v1")"


if [[ "$FORMAT" == bundle ]]; then
  export COSIGN_PASSWORD=bench-cosign-password
  "$COSIGN" import-key-pair --key "$KEY" --output-key-prefix "$W/import" >"$W/import.log" 2>&1 ||
    { cat "$W/import.log" >&2; die "cosign import-key-pair failed"; }
  cc_run() { "$CC" sign --key "$KEY" -a "run=cc-$1" "$IMG" 2>/dev/null; }
  pipeline_run() {
    "$COSIGN" sign --key "$W/import.key" --tlog-upload=false --use-signing-config=false -y \
      -a "run=cosign-$1" "$IMG" >/dev/null 2>&1
  }
  CC_LABEL="cosign-compat sign --key (bundle)"
  COSIGN_LABEL="cosign sign --key (bundle, --tlog-upload=false)"
else
  cc_run() { "$CC" sign --new-bundle-format=false --key "$KEY" -a "run=cc-$1" "$IMG" 2>/dev/null; }
  pipeline_run() {
    "$COSIGN" generate -a "run=cosign-$1" "$IMG" 2>/dev/null >"$W/p.json"
    openssl dgst -sha256 -sign "$KEY" "$W/p.json" | base64 -w0 >"$W/sig.b64"
    "$COSIGN" attach signature --payload "$W/p.json" --signature "$W/sig.b64" "$IMG" 2>/dev/null
  }
  CC_LABEL="cosign-compat sign --key"
  COSIGN_LABEL="cosign generate | openssl dgst | base64 | cosign attach"
fi

bench_side_by_side "$RUNS" cc_run pipeline_run

if [[ "$FORMAT" == bundle ]]; then
  where="fallback index $REG/bench:sha256-${IMG##*sha256:}"
  count=$(crane manifest "$REG/bench:sha256-${IMG##*sha256:}" | jq '.manifests | length')
else
  where=".sig manifest"
  count=$(crane manifest "$REG/bench:sha256-${IMG##*sha256:}.sig" | jq '.layers | length')
fi
[[ "$count" == $((2 * RUNS + 2)) ]] || die "expected $((2 * RUNS + 2)) signatures in the $where, found $count"

read -r cc_mean cc_min cc_max <<<"$(bench_stats "${BENCH_A_NS[@]}")"
read -r p_mean p_min p_max <<<"$(bench_stats "${BENCH_B_NS[@]}")"
ratio=$(awk -v a="$p_mean" -v b="$cc_mean" 'BEGIN {printf "%.1f", a / b}')

printf '\ncosign-compat sign vs cosign (%s format): %s key, %d runs each, %s (%s)\n' "$FORMAT" "$SPEC" "$RUNS" "$IMG" "$("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion)"
printf '  %-58s mean %8s ms  (min %s, max %s)\n' "$CC_LABEL" "$cc_mean" "$cc_min" "$cc_max"
printf '  %-58s mean %8s ms  (min %s, max %s)\n' "$COSIGN_LABEL" "$p_mean" "$p_min" "$p_max"
printf '  ratio (cosign / cosign-compat): %sx\n' "$ratio"
printf '  all %d signatures are in the %s\n' "$count" "$where"
