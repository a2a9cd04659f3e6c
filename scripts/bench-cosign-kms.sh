#!/usr/bin/env bash
# Benchmark: `cosign sign` through our sigstore KMS plugin against `cosign sign` with its own key
#
#   cosign sign --key external-signer:///KEY.pem   (sigstore-kms-external-signer signs in-process)
#   cosign sign --key import-cosign.key            (the same key, `cosign import-key-pair`)
#
# both in the bundle format (cosign v3's default), `--tlog-upload=false --use-signing-config=false`,
# on the same image in a local distribution registry (127.0.0.1, plain HTTP). Each run signs a
# distinct payload (`-a run=N`), so each adds a referrer; the two commands alternate so that both
# see the same growing referrer list. Wall time of whole processes, measured in this shell. Goal
# (#16): the plugin within 1.2x of cosign's own key.
#
# usage: scripts/bench-cosign-kms.sh
# environment:
#   BENCH_RUNS       runs per contender (default 10)
#   BENCH_KEY_SPEC   key spec of the signing key (default EC-256)
#   COSIGN           cosign binary (default: cosign on PATH)
#   KMS_PLUGIN_BIN   default target/release/sigstore-kms-external-signer (built here)
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

RUNS=${BENCH_RUNS:-10}
SPEC=${BENCH_KEY_SPEC:-EC-256}
COSIGN="${COSIGN:-$(command -v cosign || true)}"
[[ -x "$COSIGN" ]] || die "cosign not found: run 'make peers'"
command -v crane >/dev/null 2>&1 || die "crane not found: run 'make peers'"
PLUGIN="${KMS_PLUGIN_BIN:-$REPO_ROOT/target/release/sigstore-kms-external-signer}"
if [[ -z "${KMS_PLUGIN_BIN:-}" ]]; then
  cargo build --release --locked -q -p sigstore-kms-plugin --bin sigstore-kms-external-signer || die "cargo build failed"
fi

W=$(make_workdir "$REPO_ROOT/.e2e" bench-cosign-kms)
isolate_env "$W"
mkdir -p "$W/bin"
ln -sf "$PLUGIN" "$W/bin/sigstore-kms-external-signer"
export PATH="$W/bin:$PATH"

REG=$(start_registry distribution "$W/registry")
scripts/certificates.sh --key-spec "$SPEC" --out "$W/pki" >"$W/pki.log" 2>&1 || { cat "$W/pki.log" >&2; die "PKI failed"; }
KEY="$W/pki/leaf.key"
export COSIGN_PASSWORD=bench-password
(cd "$W" && "$COSIGN" import-key-pair --key "$KEY" --output-key-prefix import >/dev/null 2>&1) ||
  die "cosign import-key-pair failed"
mkdir -p "$W/root"
echo "bench image" >"$W/root/f"
tar -C "$W/root" -cf "$W/layer.tar" f
crane append --oci-empty-base -f "$W/layer.tar" -t "$REG/bench:v1" >/dev/null 2>&1 || die "crane append failed"
IMG="$REG/bench@$(crane digest "$REG/bench:v1")"

sign() { # KEY RUN
  "$COSIGN" sign --key "$1" --tlog-upload=false --use-signing-config=false -y -a "run=$2" "$IMG" 2>/dev/null >/dev/null
}
kms_run() { sign "external-signer://$KEY" "kms-$1"; }
cosign_run() { sign "$W/import.key" "cosign-$1"; }

bench_side_by_side "$RUNS" kms_run cosign_run

# Both contenders signed every run with the same key: cosign verifies them all.
n=$("$COSIGN" verify --key "$W/pki/leaf.pub" --insecure-ignore-tlog "$IMG" 2>/dev/null | jq length)
[[ "$n" == $((2 * RUNS + 2)) ]] || die "expected $((2 * RUNS + 2)) verified bundles, found $n"

read -r k_mean k_min k_max <<<"$(bench_stats "${BENCH_A_NS[@]}")"
read -r c_mean c_min c_max <<<"$(bench_stats "${BENCH_B_NS[@]}")"
ratio=$(awk -v a="$k_mean" -v b="$c_mean" 'BEGIN {printf "%.2f", a / b}')

printf '\ncosign sign through the KMS plugin vs cosign sign with its own key: %s key, bundle, %d runs each, %s (%s)\n' \
  "$SPEC" "$RUNS" "$IMG" "$("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion)"
printf '  %-52s mean %8s ms  (min %s, max %s)\n' "cosign sign --key external-signer:///KEY" "$k_mean" "$k_min" "$k_max"
printf '  %-52s mean %8s ms  (min %s, max %s)\n' "cosign sign --key import.key (cosign's own)" "$c_mean" "$c_min" "$c_max"
printf '  ratio (plugin / own key): %sx (goal: within 1.2x)\n' "$ratio"
printf '  all %d bundles verify with cosign verify --key\n' "$n"
