#!/usr/bin/env bash
# Side-by-side benchmarks, printed as ratios measured in one run (machines here are noisy; compare
# ratios, not absolute times). `make bench` runs it; BENCHMARKS.md has the results and the why.
#   1. in-process signing and verification per key spec: sig-core (aws-lc-rs) vs OpenSSL 3 on the
#      same key and payload (criterion, sig-core/benches/sign.rs); goal: sig-core within 1.1x of
#      the best of the two
#   2. one plugin `generate-signature` process round trip vs one `openssl dgst -sign` process with
#      the same key and payload (hyperfine); goal: at most 1.0x; and the plugin's peak memory
#      (goal: under 20 MiB)
#   3. `notation sign` through the plugin vs `notation sign` with the same key and certificate as
#      a notation local key, same image, same local registry (alternating runs, medians);
#      goal: at most 1.05x
#   4. envelope verification throughput: sig-core `envelope::verify` (parse, signature, headers,
#      chain rules, trust anchor) vs OpenSSL verifying the same signature over the same signing
#      input (the crypto only) (criterion, sig-core/benches/envelope.rs); goal: >= 0.9x
#   5. `cosign-compat sign` vs `cosign generate | openssl | base64 | cosign attach`
#      (scripts/bench-cosign.sh); goal: >= 3x; 5b. the same in the bundle format against
#      `cosign sign --key --tlog-upload=false` (BENCH_FORMAT=bundle); goal: >= 3x
# usage: scripts/bench.sh [--quick]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2" >&2; apt-get install -y -qq "$2" >/dev/null; }; }
need hyperfine hyperfine
need jq jq
[[ -x /usr/bin/time ]] || apt-get install -y -qq time >/dev/null

runs=30
[[ "${1:-}" == --quick ]] && runs=10

echo "== 1. in-process signing/verification: sig-core (aws-lc-rs) vs OpenSSL $(openssl version | awk '{print $2}')"
cargo bench -p sig-core --bench sign >/dev/null 2>&1 || cargo bench -p sig-core --bench sign
mean() { jq '.mean.point_estimate' "target/criterion/$1/$2/new/estimates.json"; }
printf '%-16s %12s %12s %8s  %s\n' "benchmark" "sig-core" "openssl" "ratio" "goal: ratio <= 1.10"
for op in sign verify; do
  for spec in RSA-2048 RSA-3072 RSA-4096 EC-256 EC-384 EC-521; do
    ours=$(mean "${op}_$spec" sig-core)
    theirs=$(mean "${op}_$spec" openssl)
    awk -v n="$op $spec" -v a="$ours" -v b="$theirs" 'BEGIN {
      best = (a < b) ? a : b; r = a / best;
      printf "%-16s %10.1fus %10.1fus %7.2fx  %s\n", n, a / 1000, b / 1000, a / b, (r <= 1.10) ? "ok" : "MISSED"
    }'
  done
done

echo
echo "== 2. process round trip: plugin generate-signature vs openssl dgst -sign"
cargo build --release -p notation-plugin >/dev/null 2>&1
plugin=target/release/notation-external-signer
work=$(make_workdir "$REPO_ROOT/.e2e" bench)
payload_text='eyJhbGciOiJQUzUxMiIsImNyaXQiOlsiaW8uY25jZi5ub3Rhcnkuc2lnbmluZ1NjaGVtZSJdfQ.eyJ0YXJnZXRBcnRpZmFjdCI6eyJkaWdlc3QiOiJzaGEyNTY6MDAwMCJ9fQ'
printf '%s' "$payload_text" >"$work/payload"
printf '%-10s %12s %12s %8s %10s  %s\n' "key spec" "plugin" "openssl" "ratio" "peak RSS" "goals: ratio <= 1.00, RSS < 20 MiB"
for spec in RSA-2048 RSA-4096 EC-256 EC-384; do
  dir="$PWD/tests/data/pki/$(tr '[:upper:]' '[:lower:]' <<<"$spec")"
  case "$spec" in *2048 | EC-256) h=SHA-256 d=sha256 ;; *3072 | EC-384) h=SHA-384 d=sha384 ;; *) h=SHA-512 d=sha512 ;; esac
  jq -cn --arg spec "$spec" --arg h "$h" --arg p "$(base64 -w0 "$work/payload")" \
    --arg key "$dir/leaf.key" --arg chain "$dir/certificate_chain.pem" \
    '{contractVersion:"1.0",keyId:"bench",keySpec:$spec,hashAlgorithm:$h,payload:$p,pluginConfig:{private_key:$key,cert_chain:$chain}}' \
    >"$work/req-$spec.json"
  "$plugin" generate-signature <"$work/req-$spec.json" >/dev/null
  sigopts=()
  [[ "$spec" == RSA-* ]] && sigopts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt "rsa_mgf1_md:$d")
  # Through the shell (hyperfine subtracts its start-up time) so the request can come on stdin.
  hyperfine --warmup 3 --runs "$runs" --export-json "$work/h-$spec.json" \
    "$plugin generate-signature < $work/req-$spec.json > /dev/null" \
    "openssl dgst -$d -sign $dir/leaf.key ${sigopts[*]} -out /dev/null $work/payload" >/dev/null 2>"$work/hyperfine.err" ||
    { cat "$work/hyperfine.err" >&2; die "hyperfine failed"; }
  rss=$(/usr/bin/time -f %M "$plugin" generate-signature <"$work/req-$spec.json" 2>&1 >/dev/null | tail -1)
  jq -r --arg spec "$spec" --arg rss "$rss" '.results as $r | ($r[0].mean) as $a | ($r[1].mean) as $b |
    "\($spec)|\($a*1000)|\($b*1000)|\($a/$b)|\($rss)"' "$work/h-$spec.json" |
    awk -F'|' '{ printf "%-10s %10.2fms %10.2fms %7.2fx %7.1fMiB  %s\n", $1, $2, $3, $4, $5/1024, ($4 <= 1.0 && $5/1024 < 20) ? "ok" : "MISSED" }'
done

echo
echo "== 3. notation sign: through the plugin vs notation's own local key (same key, image, registry)"
command -v notation >/dev/null 2>&1 || die "notation not found: run 'make peers'"
command -v crane >/dev/null 2>&1 || die "crane not found: run 'make peers'"
# notation in an isolated configuration (cargo keeps the real HOME).
nt() { HOME="$work/home" XDG_CONFIG_HOME="$work/config" DOCKER_CONFIG="$work/docker" notation "$@"; }
mkdir -p "$work/config/notation/plugins/external-signer" "$work/home" "$work/docker"
echo '{}' >"$work/docker/config.json"
cp "$plugin" "$work/config/notation/plugins/external-signer/"
port=$(start_registry distribution "$work/registry")
reg="localhost:${port##*:}"
mkdir -p "$work/root"
echo "bench image" >"$work/root/f"
tar -C "$work/root" -cf "$work/layer.tar" f
crane append --oci-empty-base -f "$work/layer.tar" -t "$reg/bench:v1" >/dev/null 2>&1 || die "crane append failed"
img="$reg/bench@$(crane digest "$reg/bench:v1")"
nruns=$((runs < 20 ? 10 : runs / 2))
printf '%-10s %12s %12s %8s  %s\n' "key spec" "plugin" "local key" "ratio" "goal: ratio <= 1.05 (medians of $nruns alternating runs)"
for spec in EC-256 RSA-3072; do
  dir="$PWD/tests/data/pki/$(tr '[:upper:]' '[:lower:]' <<<"$spec")"
  # notation's signingkeys.json: a local key (keyPath/certPath, chain leaf first) and the plugin.
  jq -n --arg key "$dir/leaf.key" --arg chain "$dir/certificate_chain.pem" \
    '{default: "local", keys: [{name: "local", keyPath: $key, certPath: $chain},
      {name: "plugin", id: "bench", pluginName: "external-signer",
       pluginConfig: {private_key: $key, cert_chain: $chain}}]}' >"$work/config/notation/signingkeys.json"
  for k in local plugin; do nt sign --key "$k" "$img" >/dev/null 2>&1 || die "notation sign --key $k failed"; done
  local_ms=() plugin_ms=()
  for ((i = 0; i < nruns; i++)); do
    t0=$(date +%s%N); nt sign --key plugin "$img" >/dev/null 2>&1 || die "notation sign (plugin) failed"
    t1=$(date +%s%N); nt sign --key local "$img" >/dev/null 2>&1 || die "notation sign (local key) failed"
    t2=$(date +%s%N)
    plugin_ms+=("$(((t1 - t0) / 1000))") local_ms+=("$(((t2 - t1) / 1000))")
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
  awk -v s="$spec" -v a="$(median "${plugin_ms[@]}")" -v b="$(median "${local_ms[@]}")" 'BEGIN {
    printf "%-10s %10.1fms %10.1fms %7.2fx  %s\n", s, a / 1000, b / 1000, a / b, (a / b <= 1.05) ? "ok" : "MISSED" }'
done

echo
echo "== 4. envelope verification: sig-core envelope::verify vs OpenSSL on the same envelope's signature and chain"
cargo bench -p sig-core --bench envelope >/dev/null 2>&1 || cargo bench -p sig-core --bench envelope
# Reference: OpenSSL parsing the same DER certificates, verifying the same signature and validating
# the chain to the same root (X509_verify_cert, as `openssl verify`); "crypto only" is just the
# leaf signature, for scale.
printf '%-18s %11s %11s %11s %11s %10s  %s
' "envelope" "build" "verify" "openssl" "crypto only" "throughput" "goal: >= 0.90x openssl's"
for format in JWS COSE; do
  for spec in RSA-4096 EC-256; do
    group="envelope_${format}_$spec"
    build=$(mean "$group" build) ours=$(mean "$group" verify)
    theirs=$(mean "$group" openssl-verify-with-chain) crypto=$(mean "$group" openssl-verify-crypto-only)
    awk -v n="$format $spec" -v c="$build" -v a="$ours" -v b="$theirs" -v k="$crypto" 'BEGIN {
      printf "%-18s %9.1fus %9.1fus %9.1fus %9.1fus %9.2fx  %s\n", n, c / 1000, a / 1000, b / 1000, k / 1000, b / a, (b / a >= 0.9) ? "ok" : "MISSED" }'
  done
done

echo
echo "== 5. cosign-compat sign vs the cosign CLI pipeline"
BENCH_RUNS=$((runs < 20 ? 10 : runs / 2)) scripts/bench-cosign.sh 2>&1 | grep -E 'mean|ratio'
echo "== 5b. cosign-compat sign vs cosign sign --key, bundle format (goal >= 3x)"
BENCH_FORMAT=bundle BENCH_RUNS=$((runs < 20 ? 10 : runs / 2)) scripts/bench-cosign.sh 2>&1 | grep -E 'mean|ratio'
