#!/usr/bin/env bash
# Side-by-side benchmarks, printed as ratios measured in one run (machines here are noisy; compare
# ratios, not absolute times). `make bench` runs it.
#   1. in-process signing and verification per key spec: sig-core (aws-lc-rs) vs OpenSSL 3 on the
#      same key and payload (criterion, sig-core/benches/sign.rs); goal: sig-core within 1.1x of
#      the best of the two
#   2. one plugin `generate-signature` process round trip vs one `openssl dgst -sign` process with
#      the same key and payload (hyperfine); goal: at most 1.0x; and the plugin's peak memory
#      (goal: under 20 MiB)
# usage: scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

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
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
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
    "openssl dgst -$d -sign $dir/leaf.key ${sigopts[*]} -out /dev/null $work/payload" >/dev/null
  rss=$(/usr/bin/time -f %M "$plugin" generate-signature <"$work/req-$spec.json" 2>&1 >/dev/null | tail -1)
  jq -r --arg spec "$spec" --arg rss "$rss" '.results as $r | ($r[0].mean) as $a | ($r[1].mean) as $b |
    "\($spec)|\($a*1000)|\($b*1000)|\($a/$b)|\($rss)"' "$work/h-$spec.json" |
    awk -F'|' '{ printf "%-10s %10.2fms %10.2fms %7.2fx %7.1fMiB  %s\n", $1, $2, $3, $4, $5/1024, ($4 <= 1.0 && $5/1024 < 20) ? "ok" : "MISSED" }'
done
