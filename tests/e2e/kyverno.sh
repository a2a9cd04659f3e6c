#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check
# End-to-end check of the Kyverno admission policies (scripts/kyverno-policies.sh) with the real
# Kyverno CLI (v1.19.1, built by `scripts/install-peers.sh kyverno`), offline, no cluster
# (tests/e2e/admission.sh runs the same policies in a real API server + Kyverno admission controller):
#
#   - two local registries: CNCF distribution (no Referrers API: notation's tag-schema index) and
#     olareg (Referrers API); addressed as localhost:PORT, so that notation, crane, cosign-compat
#     and Kyverno (go-containerregistry) all use plain HTTP
#   - four PKIs from scripts/certificates.sh: RSA-3072 and EC-256 (trusted: roots + leaf keys),
#     "chain-only" EC-256 (only its CA is trusted, not its leaf key), "other" EC-256 (not trusted)
#   - test images built with crane; signed with notation through notation-external-signer (JWS and
#     COSE, RSA and EC), with `cosign-compat sign` (--key only, --key + --certificate-chain,
#     --signer examples/sign-with-openssl.sh), with both, under the untrusted CA, or not at all;
#     sigstore bundles from cosign-compat (key bundles on both registries, a certificate-chain
#     bundle, an image with a .sig by a listed key and a bundle by another key)
#   - the four policies rendered for these PKIs and registry ports, then
#       kyverno test DIR   (ClusterPolicies; cli.kyverno.io/v1alpha1 Test with the expected
#                           pass/fail per policy, rule and Pod): must exit 0, every result matching
#       kyverno test DIR   (ImageValidatingPolicies policies.kyverno.io/v1, notary and cosign
#                           attestors, the same Pods; cosign offline through ctlog.insecureIgnoreTlog)
#       kyverno apply      a few single cases, to show the exit status and messages on violations
#
# Everything lives in a temp dir under <repo>/.e2e/ (removed on exit; KEEP_WORKDIR=1 keeps it,
# including the rendered policies, Pods and kyverno-test.yaml files: `kyverno test DIR` reruns them
# while the registries run). HOME, XDG_CONFIG_HOME, NOTATION_*, DOCKER_CONFIG and TUF_ROOT point there.
#
# usage: tests/e2e/kyverno.sh            (or `make e2e-kyverno`, which builds everything first)
# environment:
#   KYVERNO            kyverno CLI (default: kyverno on PATH, i.e. $TOOLS_DIR/kyverno-v1.19.1/kyverno)
#   PLUGIN_BIN         default target/release/notation-external-signer
#   COSIGN_COMPAT_BIN  default target/release/cosign-compat
#   KEEP_WORKDIR=1, CHECK_TIMEOUT (seconds per command, default 300)
# Prints each phase's duration and ends with `N passed, N failed`; exits 1 if anything failed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
cd "$REPO_ROOT"

PLUGIN_NAME=external-signer
PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
SIGNER_SCRIPT="$REPO_ROOT/examples/sign-with-openssl.sh"
KYVERNO_WANT=$KYVERNO_VERSION # scripts/peer-versions.sh

# ====================================================================== preflight
phase "preflight"
KYVERNO="${KYVERNO:-$(command -v kyverno || true)}"
[[ -n "$KYVERNO" && -x "$KYVERNO" ]] ||
  die "the Kyverno CLI was not found: run 'make peers-kyverno' (scripts/install-peers.sh kyverno builds $KYVERNO_WANT into $(peer_tool_dir kyverno); several minutes)"
need_tools notation crane olareg jq openssl curl docker-registry
[[ -x "$PLUGIN_BIN" ]] || die "$PLUGIN_BIN not found: run 'make build'"
[[ -x "$CC" ]] || die "$CC not found: run 'make build' (cargo build --release --locked -p cosign-compat)"
KYVERNO_VERSION=$("$KYVERNO" version 2>/dev/null | awk '/^Version:/ {print $2}')
[[ "$KYVERNO_VERSION" == "$KYVERNO_WANT" ]] ||
  warn "expected kyverno $KYVERNO_WANT, found '$KYVERNO_VERSION' (run 'make peers-kyverno'); ImageValidatingPolicy apiVersion v1 needs >= 1.17"
log "kyverno $KYVERNO_VERSION ($KYVERNO), notation $(notation version 2>/dev/null | awk '/^Version:/ {print $2}'), crane $(crane version 2>/dev/null)"

# Go keeps its caches under HOME by default: pin them before HOME moves into the work dir.
GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
export GOCACHE GOMODCACHE GOPATH

W=$(make_workdir "$REPO_ROOT/.e2e" kyverno)
log "work dir: $W"
isolate_env "$W"
export KUBECONFIG="$W/no-kubeconfig"

# ====================================================================== registries, plugin, PKIs
phase "registries, notation plugin, PKIs"
_d=$(start_registry distribution "$W/registry-distribution")
REG_DIST="localhost:${_d##*:}"
_r=$(start_registry referrers "$W/registry-referrers")
REG_REF="localhost:${_r##*:}"
log "distribution (no Referrers API): $REG_DIST; olareg (Referrers API): $REG_REF"

check "notation plugin install --file $(basename "$PLUGIN_BIN")" notation plugin install --file "$PLUGIN_BIN"

PKI="$W/pki"
make_pkis "$PKI" "rsa:RSA-3072:E2E Kyverno RSA" "ec:EC-256:E2E Kyverno EC" \
  "chainonly:EC-256:E2E Kyverno Chain-only" "other:EC-256:E2E Other CA"

# ====================================================================== images and signatures
phase "test images and signatures (notation + plugin, cosign-compat)"
# new_image REG REPO: a fresh test image (fresh digest: the CLI has no verification cache).
new_image() { push_test_image "$1" "$2" "$W"; }
notation_sign() { # PKI FORMAT REF [flags]
  local p="$1" fmt="$2" ref="$3"
  shift 3
  notation sign --plugin "$PLUGIN_NAME" --id "kyverno-e2e-$p" \
    --plugin-config "private_key=$PKI/$p/leaf.key" --plugin-config "cert_chain=$PKI/$p/certificate_chain.pem" \
    --signature-format "$fmt" "$@" "$ref"
}

# Every image: NAME -> reference; the expectations per policy are in the tables further down.
declare -A IMG
for name in n-rsa-jws n-ec-cose n-rsa-cose n-other c-rsa-key c-ec-chain c-rsa-signer c-chainonly \
  c-chainonly-nocert c-other both-rsa unsigned; do
  IMG[$name]=$(new_image "$REG_DIST" "kyverno-e2e/$name")
done
IMG[n-ec-referrers]=$(new_image "$REG_REF" kyverno-e2e/n-ec-referrers)
IMG[unsigned-referrers]=$(new_image "$REG_REF" kyverno-e2e/unsigned-referrers)
for name in b-key-ec b-chain both-ways; do
  IMG[$name]=$(new_image "$REG_DIST" "kyverno-e2e/$name")
done
IMG[b-key-referrers]=$(new_image "$REG_REF" kyverno-e2e/b-key-referrers)

check "notation sign RSA-3072, JWS (distribution: tag-schema index)" notation_sign rsa jws "${IMG[n-rsa-jws]}"
check "notation sign EC-256, COSE" notation_sign ec cose "${IMG[n-ec-cose]}"
check "notation sign RSA-3072, COSE" notation_sign rsa cose "${IMG[n-rsa-cose]}"
check "notation sign EC-256, JWS, on olareg (Referrers API)" \
  notation_sign ec jws "${IMG[n-ec-referrers]}" --force-referrers-tag=false
check "notation sign under the untrusted CA" notation_sign other jws "${IMG[n-other]}"
check "cosign-compat sign --key (RSA-3072, no certificate)" "$CC" sign --new-bundle-format=false --key "$PKI/rsa/leaf.key" "${IMG[c-rsa-key]}"
check "cosign-compat sign --key --certificate-chain (EC-256)" \
  "$CC" sign --new-bundle-format=false --key "$PKI/ec/leaf.key" --certificate-chain "$PKI/ec/certificate_chain.pem" "${IMG[c-ec-chain]}"
check "cosign-compat sign --signer sign-with-openssl.sh (RSA-3072, with certificate chain)" \
  "$CC" sign --new-bundle-format=false --signer "$SIGNER_SCRIPT" --key "$PKI/rsa/leaf.key" --certificate-chain "$PKI/rsa/certificate_chain.pem" "${IMG[c-rsa-signer]}"
check "cosign-compat sign --key --certificate-chain (chain-only PKI: key not in the policy, CA is)" \
  "$CC" sign --new-bundle-format=false --key "$PKI/chainonly/leaf.key" --certificate-chain "$PKI/chainonly/certificate_chain.pem" "${IMG[c-chainonly]}"
check "cosign-compat sign --key (chain-only PKI, no certificate: nothing the policy trusts)" \
  "$CC" sign --new-bundle-format=false --key "$PKI/chainonly/leaf.key" "${IMG[c-chainonly-nocert]}"
check "cosign-compat sign --key --certificate-chain under the untrusted CA" \
  "$CC" sign --new-bundle-format=false --key "$PKI/other/leaf.key" --certificate-chain "$PKI/other/certificate_chain.pem" "${IMG[c-other]}"
check "notation sign RSA-3072 (image signed by both tools)" notation_sign rsa jws "${IMG[both-rsa]}"
check "cosign-compat sign --key --certificate-chain RSA-3072 (image signed by both tools)" \
  "$CC" sign --new-bundle-format=false --key "$PKI/rsa/leaf.key" --certificate-chain "$PKI/rsa/certificate_chain.pem" "${IMG[both-rsa]}"
# Sigstore bundles (cosign-compat's default; tests/e2e/admission.sh has the certificate-bundle and
# ClusterPolicy type SigstoreBundle cases).
check "cosign-compat sign --key EC-256, sigstore bundle (distribution: sha256-<hex> fallback index)" \
  "$CC" sign --key "$PKI/ec/leaf.key" "${IMG[b-key-ec]}"
check "cosign-compat sign --key RSA-3072, sigstore bundle (olareg: Referrers API)" \
  "$CC" sign --key "$PKI/rsa/leaf.key" "${IMG[b-key-referrers]}"
check "cosign-compat sign --key --certificate-chain EC-256, certificate-chain bundle" \
  "$CC" sign --key "$PKI/ec/leaf.key" --certificate-chain "$PKI/ec/certificate_chain.pem" "${IMG[b-chain]}"
check "both ways: cosign-compat sign --new-bundle-format=false --key EC-256 (.sig, a listed key)" \
  "$CC" sign --new-bundle-format=false --key "$PKI/ec/leaf.key" "${IMG[both-ways]}"
check "both ways: cosign-compat sign --key (bundle) by the chain-only key (not listed)" \
  "$CC" sign --key "$PKI/chainonly/leaf.key" "${IMG[both-ways]}"

# ====================================================================== policies
phase "policies (scripts/kyverno-policies.sh)"
POL="$W/policies"
mkdir -p "$W/empty"
check_fails_with "kyverno-policies.sh refuses a directory without a PKI ('run make certificates first')" \
  "run 'make certificates' first" scripts/kyverno-policies.sh --cert-dir "$W/empty" --out "$W/nowhere"
check "... and writes nothing" test ! -e "$W/nowhere/kyverno-policy-notation.yaml"
check "scripts/kyverno-policies.sh renders the four policies for the test PKIs and registry ports" \
  scripts/kyverno-policies.sh --cert-dir "$PKI/rsa" --cert-dir "$PKI/ec" --ca-dir "$PKI/chainonly" \
  --out "$POL" --image-ref "$REG_DIST/*" --image-ref "$REG_REF/*"
for f in kyverno-policy-notation kyverno-policy-cosign kyverno-ivpol-notation kyverno-ivpol-cosign; do
  [[ -s "$POL/$f.yaml" ]] || die "scripts/kyverno-policies.sh did not write $POL/$f.yaml"
done

# ====================================================================== expectations
# Pod name -> images; policy -> expected result per Pod. Every Pod references its images by digest.
declare -A POD_IMAGES=()
for name in "${!IMG[@]}"; do
  POD_IMAGES[pod-$name]="${IMG[$name]}"
done
POD_IMAGES[pod-mixed]="${IMG[n-rsa-jws]} ${IMG[unsigned]}" # one signed and one unsigned container
mapfile -t POD_ORDER < <(printf '%s\n' "${!POD_IMAGES[@]}" | sort)
TEST_PODS=("${POD_ORDER[@]}") # the Pods of the next test_dir
# Pods that pass each policy; every other Pod must fail it.
PASS_NOTATION=(pod-n-rsa-jws pod-n-ec-cose pod-n-rsa-cose pod-n-ec-referrers pod-both-rsa)
# The ClusterPolicy type Cosign reads only .sig: it passes the image signed both ways on its .sig
# and fails the bundle-only images.
PASS_COSIGN=(pod-c-rsa-key pod-c-ec-chain pod-c-rsa-signer pod-c-chainonly pod-both-rsa pod-both-ways)
# The ImageValidatingPolicy reads bundles first, as cosign: it passes the key bundles and fails the
# image signed both ways (its bundle, by a key no attestor lists, hides the .sig by a listed key)
# and the certificate-chain bundle (Kyverno does not read a chain in a bundle).
PASS_IVPOL_COSIGN=(pod-c-rsa-key pod-c-ec-chain pod-c-rsa-signer pod-c-chainonly pod-both-rsa pod-b-key-ec pod-b-key-referrers)

write_pod() { # POD: one Pod manifest on stdout
  local i=0 img
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: default\nspec:\n  containers:\n' "$1"
  for img in ${POD_IMAGES[$1]}; do
    printf '    - name: c%d\n      image: %s\n' "$i" "$img"
    i=$((i + 1))
  done
}
write_pods() { # FILE
  local pod
  for pod in "${TEST_PODS[@]}"; do write_pod "$pod"; done >"$1"
}
in_list() {
  local x="$1" y
  shift
  for y in "$@"; do [[ "$x" == "$y" ]] && return 0; done
  return 1
}
# results_yaml POLICY RULE EXTRA PASS-PODS...: the `results` entries of one policy, every Pod listed
# once (pass if it is among PASS-PODS, fail otherwise). EXTRA: a line added to each entry.
results_yaml() {
  local policy="$1" rule="$2" extra="$3" pod r pass=() fail=()
  shift 3
  for pod in "${TEST_PODS[@]}"; do
    if in_list "$pod" "$@"; then pass+=("$pod"); else fail+=("$pod"); fi
  done
  for r in pass fail; do
    local -n list="$r"
    ((${#list[@]})) || continue
    printf '  - policy: %s\n' "$policy"
    [[ -z "$rule" ]] || printf '    rule: %s\n' "$rule"
    [[ -z "$extra" ]] || printf '    %s\n' "$extra"
    printf '    kind: Pod\n    result: %s\n    resources:\n' "$r"
    printf '      - %s\n' "${list[@]}"
    unset -n list
  done
}

# kyverno_test DIR N: `kyverno test DIR` must exit 0 and its summary must say that every result
# matched ("Test Summary: M tests passed and 0 tests failed"; M counts Kyverno's rule responses,
# two per image for verifyImages, so M >= N, the number of expected results).
kyverno_test() {
  local out rc=0 passed
  out=$("$KYVERNO" test "$1" --detailed-results 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g'
  ((rc == 0)) || { echo "kyverno test exited $rc"; return 1; }
  passed=$(sed -n 's/.*Test Summary: \([0-9][0-9]*\) tests passed and 0 tests failed.*/\1/p' <<<"$out")
  [[ -n "$passed" ]] || { echo "expected 'Test Summary: N tests passed and 0 tests failed'"; return 1; }
  ((passed >= $2)) || { echo "only $passed results checked, expected at least $2"; return 1; }
}

# test_dir NAME POLICY-FILE POLICY RULE EXTRA PASS-PODS...: a `kyverno test` directory with one
# policy, all the Pods, and the expected result of every Pod. One policy per directory: the CLI
# evaluates a directory's policies together, and the verifyImages status it records per image
# (the kyverno.io/verify-images annotation) is shared by the policies, so a second policy on the
# same images reports the first one's image status in its "image verified" check.
test_dir() {
  local name="$1" file="$2" policy="$3" rule="$4" extra="$5" d
  shift 5
  d="$W/kyverno-test-$name"
  mkdir -p "$d"
  cp "$file" "$d/policy.yaml"
  write_pods "$d/pods.yaml"
  {
    printf 'apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n  name: %s\n' "$name"
    printf 'policies:\n  - policy.yaml\nresources:\n  - pods.yaml\nresults:\n'
    results_yaml "$policy" "$rule" "$extra" "$@"
  } >"$d/kyverno-test.yaml"
  printf '%s\n' "$d"
}
# run_test_dir DESC DIR: kyverno test DIR, summary line in the log, output kept in DIR/kyverno-test.log
run_test_dir() {
  check "$1" kyverno_test "$2" "${#TEST_PODS[@]}"
  cp "$LAST_OUTPUT" "$2/kyverno-test.log"
  log "     $(grep -E 'Test Summary' "$2/kyverno-test.log" || echo 'kyverno test printed no summary')"
}

# ====================================================================== kyverno test: ClusterPolicy
phase "kyverno test: ClusterPolicies (kyverno.io/v1, type Notary and type Cosign)"
# Kyverno 1.19's CLI reports the Notary rule once per image, so the Pod with one signed and one
# unsigned image gets a pass and a fail, which a Test file cannot expect; that Pod is checked with
# `kyverno apply` below (and refused by the admission webhook in tests/e2e/admission.sh).
mapfile -t TEST_PODS < <(printf '%s\n' "${POD_ORDER[@]}" | grep -vx pod-mixed)
D=$(test_dir clusterpolicy-notation "$POL/kyverno-policy-notation.yaml" verify-notation-signature notary-signature '' "${PASS_NOTATION[@]}")
run_test_dir "kyverno test: Notary ClusterPolicy, all ${#TEST_PODS[@]} one-image Pods as expected (notation RSA/EC, JWS/COSE, both registries pass; cosign-only, other CA, unsigned fail)" "$D"
TEST_PODS=("${POD_ORDER[@]}")
D=$(test_dir clusterpolicy-cosign "$POL/kyverno-policy-cosign.yaml" verify-cosign-signature cosign-signature '' "${PASS_COSIGN[@]}")
run_test_dir "kyverno test: Cosign ClusterPolicy, all ${#POD_ORDER[@]} Pods as expected (key attestor, certificate-chain attestor, signer program, the .sig of an image signed both ways pass; notation-only, other CA, untrusted key, unsigned, mixed, bundle-only fail)" "$D"

# ====================================================================== kyverno test: ImageValidatingPolicy
phase "kyverno test: ImageValidatingPolicies (policies.kyverno.io/v1)"
D=$(test_dir ivpol-notation "$POL/kyverno-ivpol-notation.yaml" ivpol-notation-signature '' 'isImageValidatingPolicy: true' "${PASS_NOTATION[@]}")
run_test_dir "kyverno test: ImageValidatingPolicy with a notary attestor, all ${#POD_ORDER[@]} Pods as expected" "$D"
# Offline: the cosign attestors carry ctlog.insecureIgnoreTlog (Kyverno >= 1.17 then initialises
# no TUF root; 1.15 fetched it from the network even for a public key).
D=$(test_dir ivpol-cosign "$POL/kyverno-ivpol-cosign.yaml" ivpol-cosign-signature '' 'isImageValidatingPolicy: true' "${PASS_IVPOL_COSIGN[@]}")
run_test_dir "kyverno test: ImageValidatingPolicy with cosign attestors (key, certificate chain), all ${#POD_ORDER[@]} Pods as expected, offline (key bundles pass on both registries; both ways: the bundle hides the .sig)" "$D"

# ====================================================================== kyverno apply
phase "kyverno apply: exit status and messages on violations"
# apply_one POLICY-FILE POD: `kyverno apply` of one policy to one Pod (the Pod file written here).
# verifyImages gives two rule responses per image (the signature check, then "image verified"):
# a one-container Pod that passes prints "pass: 2, fail: 0", one that fails "pass: 0, fail: 2".
apply_one() {
  write_pod "$2" >"$W/apply-$2.yaml"
  "$KYVERNO" apply "$1" --resource "$W/apply-$2.yaml"
}
check_output_contains "kyverno apply Notary policy, notation-signed RSA image: exit 0, pass: 2, fail: 0" \
  "pass: 2, fail: 0, warn: 0, error: 0" apply_one "$POL/kyverno-policy-notation.yaml" pod-n-rsa-jws
[[ $LAST_STATUS -eq 0 ]] || record_fail "... and exit status 0" "got $LAST_STATUS"
check_fails_with "kyverno apply Notary policy, unsigned image: exit status 1, pass: 0, fail: 2" \
  "pass: 0, fail: 2" apply_one "$POL/kyverno-policy-notation.yaml" pod-unsigned
log "     $(grep -m1 -iE 'failed to verify image|no signature' "$LAST_OUTPUT" | cut -c1-240 || true)"
check_fails_with "kyverno apply Notary policy, image signed under another CA: exit status 1" \
  "pass: 0, fail: 2" apply_one "$POL/kyverno-policy-notation.yaml" pod-n-other
check_fails_with "kyverno apply Notary policy, a Pod with a signed and an unsigned image: exit status 1, the unsigned image's rule fails" \
  "unsigned@sha256" apply_one "$POL/kyverno-policy-notation.yaml" pod-mixed
if grep -qE 'fail: [1-9]' "$LAST_OUTPUT"; then
  record_pass "... and 'fail: N' with N > 0 ($(grep -oE 'pass: [0-9]+, fail: [0-9]+' "$LAST_OUTPUT" | head -n 1))"
else
  record_fail "... and 'fail: N' with N > 0" "$(grep -oE 'pass: [0-9]+, fail: [0-9]+' "$LAST_OUTPUT" | head -n 1)"
fi
check_output_contains "kyverno apply Cosign policy, cosign-compat --key image: exit 0, pass: 2, fail: 0" \
  "pass: 2, fail: 0, warn: 0, error: 0" apply_one "$POL/kyverno-policy-cosign.yaml" pod-c-rsa-key
[[ $LAST_STATUS -eq 0 ]] || record_fail "... and exit status 0" "got $LAST_STATUS"
check_fails_with "kyverno apply Cosign policy, image signed under another CA: exit status 1, pass: 0, fail: 2" \
  "pass: 0, fail: 2" apply_one "$POL/kyverno-policy-cosign.yaml" pod-c-other
log "     $(grep -m1 -iE 'failed to verify image' "$LAST_OUTPUT" | cut -c1-240 || true)"
check_fails_with "kyverno apply Cosign policy, notation-only image: exit status 1" \
  "pass: 0, fail: 2" apply_one "$POL/kyverno-policy-cosign.yaml" pod-n-ec-cose

finish
