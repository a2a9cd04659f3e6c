#!/usr/bin/env bash
# `make bench-admission`: what signature verification adds to a Pod create, through the real
# kube-apiserver and the Kyverno admission controller (scripts/cluster.sh; Kyverno's image
# verification cache off, so every create verifies).
#
# Three kinds of create, interleaved round by round in one run, BENCH_RUNS each (default 20),
# after BENCH_WARMUP (default 3) unmeasured rounds:
#   notary    a Pod with an image signed by notation + notation-external-signer (EC-256, JWS), in
#             a namespace the ImageValidatingPolicy (notary attestor) matches
#   cosign    a Pod with an image signed by `cosign-compat sign --key` (EC-256), in a namespace the
#             ImageValidatingPolicy (cosign attestors: the key and the certificate chain) matches
#   unmatched a Pod with an unsigned image in a namespace neither policy matches (each policy is
#             patched with a namespaceSelector, which Kyverno copies into its webhook: the API
#             server does not call Kyverno for it): the baseline
# Each create is one HTTPS POST to the API server (curl with the admin client certificate; no
# kubectl start-up in the number), answered 201; the time is curl's time_total. Prints the median,
# the minimum and the 90th percentile of each, and the medians' differences to the baseline.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/cluster.sh
source "$REPO_ROOT/scripts/cluster.sh"
cd "$REPO_ROOT"

RUNS="${BENCH_RUNS:-20}"
WARMUP="${BENCH_WARMUP:-3}"
[[ "$RUNS" =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_RUNS must be 1-9999, not '$RUNS'"
[[ "$WARMUP" =~ ^[0-9]{1,3}$ ]] || die "BENCH_WARMUP must be 0-999, not '$WARMUP'"
PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
[[ -x "$PLUGIN_BIN" ]] || die "$PLUGIN_BIN not found: run 'make build'"
[[ -x "$CC" ]] || die "$CC not found: run 'make build'"
need_tools notation crane jq openssl curl docker-registry etcd kube-apiserver kubectl kyverno-controller

GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)
export GOMODCACHE GOCACHE
W=$(make_workdir "$REPO_ROOT/.e2e" bench-admission)
isolate_env "$W"

phase "PKI, registry, signed images"
scripts/certificates.sh --key-spec EC-256 --out "$W/pki" >/dev/null 2>&1 || die "scripts/certificates.sh failed"
addr=$(start_registry distribution "$W/registry")
REG="localhost:${addr##*:}"
notation plugin install --file "$PLUGIN_BIN" >/dev/null || die "notation plugin install failed"
IMG_NOTARY=$(push_test_image "$REG" bench/notary "$W")
IMG_COSIGN=$(push_test_image "$REG" bench/cosign "$W")
IMG_UNSIGNED=$(push_test_image "$REG" bench/unsigned "$W")
notation sign --plugin external-signer --id bench --plugin-config "private_key=$W/pki/leaf.key" \
  --plugin-config "cert_chain=$W/pki/certificate_chain.pem" "$IMG_NOTARY" >/dev/null || die "notation sign failed"
"$CC" sign --new-bundle-format=false --key "$W/pki/leaf.key" "$IMG_COSIGN" >/dev/null || die "cosign-compat sign failed"

phase "control plane, Kyverno, policies"
cluster_start "$W/cluster"
kyverno_start
for ns in bench-notary bench-cosign bench-unmatched; do ensure_namespace "$ns"; done
scripts/kyverno-policies.sh --cert-dir "$W/pki" --out "$W/policies" --image-ref "$REG/*" >/dev/null 2>&1 ||
  die "scripts/kyverno-policies.sh failed"
# Each policy scoped to its namespace (the rendered policies match every namespace).
for kind in notation cosign; do
  f="$W/policies/kyverno-ivpol-$kind.yaml"
  name=$(awk '/^  name:/ {print $2; exit}' "$f")
  ns=bench-$([[ $kind == notation ]] && echo notary || echo cosign)
  kubectl apply -f "$f" >/dev/null || die "kubectl apply $f failed"
  kubectl patch imagevalidatingpolicies.policies.kyverno.io "$name" --type merge \
    -p "{\"spec\":{\"matchConstraints\":{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"$ns\"}}}}}" >/dev/null ||
    die "kubectl patch $name failed"
  wait_policy_ready imagevalidatingpolicies.policies.kyverno.io "$name" || die "$name did not become Ready"
done

P="$CLUSTER_DIR/pki"
# create KIND N: POST one Pod; prints curl's time_total in ms; dies unless the answer is 201.
create() {
  local kind="$1" n="$2" img ns body out code t
  case "$kind" in
    notary) img=$IMG_NOTARY ns=bench-notary ;;
    cosign) img=$IMG_COSIGN ns=bench-cosign ;;
    unmatched) img=$IMG_UNSIGNED ns=bench-unmatched ;;
  esac
  body=$(jq -nc --arg n "$kind-$n" --arg i "$img" \
    '{apiVersion:"v1",kind:"Pod",metadata:{name:$n},spec:{containers:[{name:"c",image:$i}]}}')
  out=$(curl -s -o "$W/last-create.json" -w '%{http_code} %{time_total}' --max-time 60 \
    --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" \
    -H 'Content-Type: application/json' -X POST --data "$body" "$CLUSTER_API/api/v1/namespaces/$ns/pods")
  read -r code t <<<"$out"
  [[ "$code" == 201 ]] || { cat "$W/last-create.json" >&2; die "creating a $kind Pod answered HTTP $code"; }
  awk -v t="$t" 'BEGIN {printf "%.2f\n", t * 1000}'
}

phase "$WARMUP warm-up rounds, then $RUNS measured rounds (notary, cosign, unmatched interleaved)"
for ((i = 0; i < WARMUP; i++)); do
  for kind in notary cosign unmatched; do create "$kind" "w$i" >/dev/null; done
done
: >"$W/times"
for ((i = 0; i < RUNS; i++)); do
  for kind in notary cosign unmatched; do
    printf '%s %s\n' "$kind" "$(create "$kind" "$i")" >>"$W/times"
  done
done

phase_end
# stats KIND: median min p90 (ms)
stats() {
  awk -v k="$1" '$1 == k {print $2}' "$W/times" | sort -n | awk '{v[NR] = $1}
    END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; p = v[int(NR * 0.9 + 0.999)];
      printf "%.1f %.1f %.1f\n", m, v[1], p}'
}
read -r base bmin bp90 < <(stats unmatched)
printf '\nPod create through kube-apiserver %s + Kyverno %s admission (%s runs each, image verification cache off):\n' \
  "$KUBE_VERSION" "$KYVERNO_VERSION" "$RUNS"
printf '  %-42s %9s %9s %9s %12s\n' "create" "median" "min" "p90" "vs baseline"
for kind in notary cosign; do
  read -r med mn p90 < <(stats "$kind")
  desc=$([[ $kind == notary ]] && echo "Notary-signed (IVPOL notary attestor)" || echo "cosign-signed (IVPOL cosign attestors)")
  printf '  %-42s %7.1fms %7.1fms %7.1fms %+10.1fms\n' "$desc" "$med" "$mn" "$p90" "$(awk -v a="$med" -v b="$base" 'BEGIN {print a - b}')"
done
printf '  %-42s %7.1fms %7.1fms %7.1fms %12s\n' "unsigned, namespace no policy matches" "$base" "$bmin" "$bp90" "baseline"
