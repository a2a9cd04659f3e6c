#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check
# End-to-end tests of cosign-compat's bundle format (cosign v3's default: a Sigstore bundle v0.3
# with a DSSE envelope, stored as an OCI 1.1 referrer) against the real cosign v3.1.3, on both
# registry kinds: Debian's distribution (no Referrers API: the `sha256-<hex>` fallback index) and
# olareg (Referrers API).
#
#   a) cosign-compat sign (bundle, the default) with a key, and with a key and certificate chain;
#      the real `cosign verify --key K --insecure-ignore-tlog` (its defaults: bundles) accepts
#      the key bundles; cosign-compat verify accepts both forms; the referrer manifest and the
#      fallback index have cosign's shape
#   b) cosign-compat verify accepts what `cosign sign --key (imported) --tlog-upload=false
#      --use-signing-config=false` wrote (key and certificate-chain bundles)
#   c) trusted roots: cosign-compat trusted-root writes cosign's trusted_root.json byte for byte;
#      the real `cosign verify --trusted-root --allow-certificate-chain --insecure-ignore-tlog
#      --insecure-ignore-sct` accepts cosign-compat's certificate-chain bundles; cosign-compat
#      verify --trusted-root accepts both tools' chain bundles
#   s) an independent verifier: sigstore-go's verify package (tests/sigstore-go) accepts cosign-compat's
#      and cosign's key bundles (--key) and, with --allow-certificate-chain, their certificate-chain
#      bundles (our trusted root); leaf-only bundles without it; refuses another key, another CA,
#      another image's digest
#   d) byte compatibility with RSA PKCS#1 v1.5 keys (deterministic signatures): cosign's and
#      cosign-compat's statement, bundle blob and referrer manifest for the same key and image are
#      byte-identical (the manifest but for its creation time); the fallback index keeps both
#   e) an image signed both ways (a .sig by one key, a bundle by another): what cosign and
#      cosign-compat each see, with and without --new-bundle-format=false
#   f) concurrent cosign-compat signers on the registry without Referrers API: every referrer stays
#      in the fallback index, and cosign verifies them all
#   g) a registry with basic authentication (credentials from the docker config): the fallback
#      index is kept there too, cosign and cosign-compat verify each other's bundles
#
# usage: tests/e2e/cosign-bundle.sh
# environment: COSIGN (default: cosign on PATH), COSIGN_COMPAT_BIN (default
#   target/release/cosign-compat, built here), KEEP_WORKDIR=1, CHECK_TIMEOUT.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
cd "$REPO_ROOT"

CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
FIX="$REPO_ROOT/tests/data/pki"
SPECS=(rsa-2048 ec-256)

phase "preflight"
need_tools crane oras jq openssl curl htpasswd docker-registry olareg sigstore-go-verify
COSIGN="${COSIGN:-$(command -v cosign || true)}"
[[ -x "$COSIGN" ]] || die "cosign not found: run 'make peers' (builds cosign $COSIGN_VERSION into $(peer_tool_dir cosign))"
COSIGN_FOUND=$("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion)
[[ "$COSIGN_FOUND" == "$COSIGN_VERSION" ]] || warn "expected cosign $COSIGN_VERSION, found '$COSIGN_FOUND' (run 'make peers')"
if [[ -z "${COSIGN_COMPAT_BIN:-}" ]]; then
  timed "cargo build --release -p cosign-compat --bin cosign-compat" \
    cargo build --release --locked -q -p cosign-compat --bin cosign-compat || die "building cosign-compat failed"
fi
[[ -x "$CC" ]] || die "$CC not found"

W=$(make_workdir "$REPO_ROOT/.e2e" cosign-bundle)
log "work dir: $W"
isolate_env "$W"

phase "registries: distribution (no Referrers API), olareg (Referrers API)"
declare -A REGS
REGS[distribution]=$(start_registry distribution "$W/reg-dist")
REGS[olareg]=$(start_registry referrers "$W/reg-ola")
log "distribution: ${REGS[distribution]}, olareg: ${REGS[olareg]}"

# new_image KIND REPO: a fresh image on registry KIND, printed as REG/REPO@sha256:...
new_image() { push_test_image "${REGS[$1]}" "$2" "$W"; }
# fallback REF: the referrers fallback tag of REF (repo@sha256:hex -> repo:sha256-hex).
fallback() { printf '%s:sha256-%s\n' "${1%@*}" "${1##*sha256:}"; }
# referrers REF: the referrer digests of REF (Referrers API, else the fallback index), one a line.
referrers() {
  local reg="${1%%/*}" rest="${1#*/}"
  local repo="${rest%@*}" dig="${1##*@}" out
  out=$(curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$reg/v2/$repo/referrers/$dig" 2>/dev/null) ||
    out=$(crane manifest "$(fallback "$1")" 2>/dev/null) || out='{"manifests":[]}'
  jq -r '.manifests[].digest' <<<"$out"
}
n_referrers() { referrers "$1" | grep -c . || true; }
cosign_verify_key() { "$COSIGN" verify --key "$1" --insecure-ignore-tlog "${@:3}" "$2"; }
cc_verify_key() { "$CC" verify --key "$1" "${@:3}" "$2"; }
cc_verify_chain() {
  "$CC" verify --certificate-chain "$FIX/$1/cosign_chain.pem" --certificate-identity-regexp '.*' "${@:3}" "$2"
}

declare -A CC_CHAIN_REF COSIGN_CHAIN_REF SIGNER_REF
# ====================================================================== a) cosign-compat signs
phase "a) cosign-compat sign (bundle) -> cosign verify, cosign-compat verify (both registries)"
for kind in distribution olareg; do
  for spec in "${SPECS[@]}"; do
    P="$FIX/$spec"
    desc="a) $kind $spec"
    ref=$(new_image "$kind" "cc-key-$spec")
    check "$desc: cosign-compat sign --key (bundle by default)" "$CC" sign --key "$P/leaf.key" "$ref"
    check "$desc: no .sig tag was written" bash -c "! crane manifest '${ref%@*}:sha256-${ref##*sha256:}.sig' >/dev/null 2>&1"
    _one_referrer() { [[ $(n_referrers "$ref") == 1 ]]; }
    check "$desc: one referrer listed" _one_referrer
    check "$desc: cosign verify --key --insecure-ignore-tlog (defaults: bundles) accepts it" \
      cosign_verify_key "$P/leaf.pub" "$ref"
    _cosign_says_bundle() {
      local out
      out=$(cosign_verify_key "$P/leaf.pub" "$ref" 2>/dev/null)
      jq -e --arg d "${ref##*@}" 'length == 1 and .[0].critical.type == "https://sigstore.dev/cosign/sign/v1"
        and .[0].critical.image["docker-manifest-digest"] == $d' <<<"$out"
    }
    check "$desc: cosign prints one bundle signature (type cosign/sign/v1, the image digest)" _cosign_says_bundle
    _same_output() {
      local a b
      a=$(cosign_verify_key "$P/leaf.pub" "$ref" 2>/dev/null; echo x)
      b=$(cc_verify_key "$P/leaf.pub" "$ref" 2>/dev/null; echo x)
      printf 'cosign:        %s\ncosign-compat: %s\n' "$a" "$b"
      [[ "$a" == "$b" && "$a" != x ]]
    }
    check "$desc: cosign-compat verify prints what cosign verify prints" _same_output
    check_fails "$desc: cosign verify with another key refuses it" cosign_verify_key "$FIX/rsa-3072/leaf.pub" "$ref"
    check_fails "$desc: cosign-compat verify with another key refuses it" cc_verify_key "$FIX/rsa-3072/leaf.pub" "$ref"
    _manifest_shape() {
      local m
      m=$(crane manifest "${ref%@*}@$(referrers "$ref" | head -1)")
      jq -e --arg d "${ref##*@}" '
        .schemaVersion == 2 and .mediaType == "application/vnd.oci.image.manifest.v1+json"
        and .artifactType == "application/vnd.dev.sigstore.bundle.v0.3+json"
        and .config.mediaType == "application/vnd.oci.empty.v1+json" and .config.size == 2
        and .config.artifactType == "application/vnd.dev.sigstore.bundle.v0.3+json"
        and (.layers | length) == 1 and .layers[0].mediaType == "application/vnd.dev.sigstore.bundle.v0.3+json"
        and .annotations["dev.sigstore.bundle.content"] == "dsse-envelope"
        and .annotations["dev.sigstore.bundle.predicateType"] == "https://sigstore.dev/cosign/sign/v1"
        and (.annotations["org.opencontainers.image.created"] | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))
        and .subject.digest == $d' <<<"$m"
    }
    check "$desc: the referrer manifest has cosign's shape" _manifest_shape
    if [[ $kind == distribution ]]; then
      _fallback_index() {
        crane manifest "$(fallback "$ref")" | jq -e '.schemaVersion == 2
          and .mediaType == "application/vnd.oci.image.index.v1+json" and (.manifests | length) == 1
          and .manifests[0].artifactType == "application/vnd.dev.sigstore.bundle.v0.3+json"
          and .manifests[0].mediaType == "application/vnd.oci.image.manifest.v1+json"'
      }
      check "$desc: the fallback index lists it" _fallback_index
    fi

    ref=$(new_image "$kind" "cc-chain-$spec")
    CC_CHAIN_REF[$kind-$spec]=$ref
    check "$desc: cosign-compat sign --key --certificate-chain (bundle)" \
      "$CC" sign --key "$P/leaf.key" --certificate-chain "$P/certificate_chain.pem" "$ref"
    _chain_material() {
      local m layer
      m=$(crane manifest "${ref%@*}@$(referrers "$ref" | head -1)")
      layer=$(jq -r '.layers[0].digest' <<<"$m")
      crane blob "${ref%@*}@$layer" | jq -e '(.verificationMaterial.x509CertificateChain.certificates | length) == 2'
    }
    check "$desc: the bundle holds leaf + intermediate (root left out)" _chain_material
    check "$desc: cosign-compat verify --certificate-chain accepts it" cc_verify_chain "$spec" "$ref"
    check "$desc: cosign-compat verify --key (leaf key) accepts it" cc_verify_key "$P/leaf.pub" "$ref"
    check_fails "$desc: cosign-compat verify --certificate-chain of another CA refuses it" \
      cc_verify_chain rsa-3072 "$ref"

    ref=$(new_image "$kind" "cc-signer-$spec")
    SIGNER_REF[$kind-$spec]=$ref
    check "$desc: cosign-compat sign --signer sign-with-openssl.sh --certificate-chain -a env=prod (bundle)" \
      "$CC" sign --signer "$REPO_ROOT/examples/sign-with-openssl.sh" --key "$P/leaf.key" \
      --certificate-chain "$P/certificate_chain.pem" -a env=prod "$ref"
    check "$desc: cosign-compat verify --certificate-chain -a env=prod accepts it" cc_verify_chain "$spec" "$ref" -a env=prod
    check_fails_with "$desc: cosign-compat verify -a env=dev refuses it" "lacks annotation env=dev" \
      cc_verify_chain "$spec" "$ref" -a env=dev
  done
done

# ====================================================================== b) cosign signs
phase "b) cosign sign (bundle, no tlog) -> cosign-compat verify (both registries)"
export COSIGN_PASSWORD=e2e-cosign-password
for spec in "${SPECS[@]}"; do
  check "b) $spec: cosign import-key-pair" \
    "$COSIGN" import-key-pair --key "$FIX/$spec/leaf.key" --output-key-prefix "$W/import-$spec"
done
cosign_sign() { # SPEC REF [flags...]
  "$COSIGN" sign --key "$W/import-$1.key" --tlog-upload=false --use-signing-config=false -y "${@:3}" "$2"
}
for kind in distribution olareg; do
  for spec in "${SPECS[@]}"; do
    P="$FIX/$spec"
    desc="b) $kind $spec"
    ref=$(new_image "$kind" "cosign-key-$spec")
    check "$desc: cosign sign --key (bundle)" cosign_sign "$spec" "$ref"
    check "$desc: cosign-compat verify --key accepts it" cc_verify_key "$P/leaf.pub" "$ref"
    check_fails "$desc: cosign-compat verify with another key refuses it" cc_verify_key "$FIX/rsa-3072/leaf.pub" "$ref"
    ref=$(new_image "$kind" "cosign-chain-$spec")
    COSIGN_CHAIN_REF[$kind-$spec]=$ref
    check "$desc: cosign sign --key --certificate --certificate-chain (bundle)" \
      cosign_sign "$spec" "$ref" --certificate "$P/leaf.crt" --certificate-chain "$P/cosign_chain.pem"
    check "$desc: cosign-compat verify --certificate-chain accepts it" cc_verify_chain "$spec" "$ref"
  done
done

# ====================================================================== c) trusted root
phase "c) cosign-compat trusted-root -> cosign verify --trusted-root (certificate-chain bundles)"
for spec in "${SPECS[@]}"; do
  P="$FIX/$spec"
  check "c) $spec: cosign trusted-root create --certificate-chain" \
    "$COSIGN" trusted-root create --certificate-chain "$P/cosign_chain.pem" --out "$W/cosign-tr-$spec.json"
  check "c) $spec: cosign-compat trusted-root --certificate-chain (CA chain)" \
    "$CC" trusted-root --certificate-chain "$P/cosign_chain.pem" --out "$W/tr-$spec.json"
  check "c) $spec: byte-identical to cosign's" cmp "$W/cosign-tr-$spec.json" "$W/tr-$spec.json"
  _full_chain_same() { cmp <("$CC" trusted-root --certificate-chain "$P/certificate_chain.pem") "$W/tr-$spec.json"; }
  check "c) $spec: from the full signing chain (leaf left out), the same file" _full_chain_same
done
"$CC" trusted-root --certificate-chain "$FIX/rsa-3072/cosign_chain.pem" --out "$W/tr-other.json"
cosign_verify_tr() { # TRUSTED_ROOT REF [flags...]
  "$COSIGN" verify --trusted-root "$1" --certificate-identity-regexp '.*' --certificate-oidc-issuer-regexp '.*' \
    --insecure-ignore-tlog --insecure-ignore-sct "${@:3}" "$2"
}
cc_verify_tr() { "$CC" verify --trusted-root "$1" --certificate-identity-regexp '.*' "${@:3}" "$2"; }
for kind in distribution olareg; do
  for spec in "${SPECS[@]}"; do
    desc="c) $kind $spec"
    ref=${CC_CHAIN_REF[$kind-$spec]}
    check "$desc: cosign verify --trusted-root --allow-certificate-chain accepts cosign-compat's chain bundle" \
      cosign_verify_tr "$W/tr-$spec.json" "$ref" --allow-certificate-chain
    check_fails "$desc: ... not without --allow-certificate-chain (cosign skips chain bundles then)" \
      cosign_verify_tr "$W/tr-$spec.json" "$ref"
    check_fails "$desc: cosign verify --trusted-root of another CA refuses it" \
      cosign_verify_tr "$W/tr-other.json" "$ref" --allow-certificate-chain
    check "$desc: cosign-compat verify --trusted-root accepts its own chain bundle" cc_verify_tr "$W/tr-$spec.json" "$ref"
    ref=${SIGNER_REF[$kind-$spec]}
    _signer_bundle_annotations() {
      cosign_verify_tr "$W/tr-$spec.json" "$ref" --allow-certificate-chain -a env=prod 2>/dev/null |
        jq -e '.[0].optional == {"env":"prod"}'
    }
    check "$desc: cosign verify --trusted-root -a env=prod accepts the signer program's bundle, optional {env: prod}" \
      _signer_bundle_annotations
    check_fails "$desc: cosign verify -a env=dev refuses it" \
      cosign_verify_tr "$W/tr-$spec.json" "$ref" --allow-certificate-chain -a env=dev
    ref=${CC_CHAIN_REF[$kind-$spec]}
    check "$desc: cosign-compat verify --trusted-root accepts cosign's chain bundle" \
      cc_verify_tr "$W/tr-$spec.json" "${COSIGN_CHAIN_REF[$kind-$spec]}"
    check_fails "$desc: cosign-compat verify --trusted-root of another CA refuses it" \
      cc_verify_tr "$W/tr-other.json" "$ref"
  done
done

# ====================================================================== s) sigstore-go
# An independent verifier besides cosign: sigstore-go-verify (tests/sigstore-go, on sigstore-go
# $SIGSTORE_GO_VERSION's bundle + verify packages, configured as cosign v3 does without Rekor: a key
# with no observer timestamp, a certificate at the current time against a trusted_root.json; the
# artifact policy is the image digest). The bundle is fetched as a verifier would: oras discovers
# the bundle referrers (Referrers API on olareg, the fallback tag on distribution), oras fetches
# the referrer manifest and its one layer.
phase "s) sigstore-go verify: cosign-compat's and cosign's bundles (both registries)"
SGO_ID=(--certificate-identity-regexp '.*' --certificate-oidc-issuer-regexp '.*')
# bundle_of REF OUT: the one sigstore bundle referrer of REF, its layer written to OUT.
bundle_of() {
  local repo="${1%@*}" refs n m layer
  refs=$(oras discover --plain-http --format json --artifact-type "application/vnd.dev.sigstore.bundle.v0.3+json" "$1") ||
    return 1
  n=$(jq '.referrers | length' <<<"$refs")
  [[ $n == 1 ]] || { echo "expected one bundle referrer of $1, oras discover lists $n" >&2; return 1; }
  m=$(oras manifest fetch --plain-http "$repo@$(jq -r '.referrers[0].digest' <<<"$refs")") || return 1
  layer=$(jq -r 'select(.layers[0].mediaType == "application/vnd.dev.sigstore.bundle.v0.3+json") | .layers[0].digest' <<<"$m")
  [[ -n $layer ]] || { echo "the referrer of $1 has no bundle layer: $m" >&2; return 1; }
  oras blob fetch --plain-http --output "$2" "$repo@$layer"
}
sgo() { # BUNDLE REF-OR-DIGEST [flags...]: sigstore-go-verify, --digest from the reference
  sigstore-go-verify --bundle "$1" --digest "${2##*@}" "${@:3}"
}
cosign_sign_sgo() { COSIGN_PASSWORD=e2e-cosign-password cosign_sign "$@"; }
for kind in distribution olareg; do
  for spec in "${SPECS[@]}"; do
    P="$FIX/$spec"
    desc="s) $kind $spec"
    B="$W/sgo-$kind-$spec"
    mkdir -p "$B"
    other=$(new_image "$kind" "sgo-other-$spec")

    # Key bundle (verificationMaterial.publicKey): accepted with the key, refused otherwise.
    ref=$(new_image "$kind" "sgo-key-$spec")
    check "$desc: cosign-compat sign --key (key bundle)" "$CC" sign --key "$P/leaf.key" "$ref"
    check "$desc: oras discover + fetch: the bundle of the key-signed image" bundle_of "$ref" "$B/key.json"
    check "$desc: sigstore-go accepts cosign-compat's key bundle (--key)" sgo "$B/key.json" "$ref" --key "$P/leaf.pub"
    check_fails_with "$desc: sigstore-go refuses it with another key" "could not verify envelope" \
      sgo "$B/key.json" "$ref" --key "$FIX/rsa-3072/leaf.pub"
    check_fails_with "$desc: sigstore-go refuses it for another image's digest" \
      "artifact digest does not match any digest in statement" sgo "$B/key.json" "$other" --key "$P/leaf.pub"

    # Certificate-chain bundle (x509CertificateChain: leaf + intermediate), signed in a).
    ref=${CC_CHAIN_REF[$kind-$spec]}
    check "$desc: oras discover + fetch: the chain bundle" bundle_of "$ref" "$B/chain.json"
    # sigstore-go refuses x509CertificateChain in a v0.3 bundle unless the caller opts in
    # (pkg/bundle Bundle.validate: "only allow certificate chain if option is set";
    # bundle.AllowCertificateChain(), which cosign v3 passes for --allow-certificate-chain): the
    # bundle spec requires the single-certificate form in v0.3 for the public-good instance's
    # keyless signing, and sigstore-go applies that to every v0.3 bundle.
    check_fails_with "$desc: sigstore-go refuses the chain bundle by default (v0.3 allows no x509CertificateChain)" \
      "verification material cannot be X.509 certificate chain" \
      sgo "$B/chain.json" "$ref" --trusted-root "$W/tr-$spec.json" "${SGO_ID[@]}"
    check "$desc: sigstore-go accepts it with --allow-certificate-chain and our trusted root" \
      sgo "$B/chain.json" "$ref" --trusted-root "$W/tr-$spec.json" "${SGO_ID[@]}" --allow-certificate-chain
    # The SAN sigstore-go matches is the URI SAN (the leaf also has an email SAN), as cosign.
    check "$desc: ... --certificate-identity https://signer.example.test (the URI SAN)" \
      sgo "$B/chain.json" "$ref" --trusted-root "$W/tr-$spec.json" --allow-certificate-chain \
      --certificate-identity https://signer.example.test --certificate-oidc-issuer-regexp '.*'
    check_fails_with "$desc: ... refused for another identity" "expected SAN value" \
      sgo "$B/chain.json" "$ref" --trusted-root "$W/tr-$spec.json" --allow-certificate-chain \
      --certificate-identity https://other.example.test --certificate-oidc-issuer-regexp '.*'
    check_fails_with "$desc: sigstore-go refuses it with another CA's trusted root" "leaf certificate verification failed" \
      sgo "$B/chain.json" "$ref" --trusted-root "$W/tr-other.json" "${SGO_ID[@]}" --allow-certificate-chain
    check_fails_with "$desc: sigstore-go refuses it for another image's digest" \
      "artifact digest does not match any digest in statement" \
      sgo "$B/chain.json" "$other" --trusted-root "$W/tr-$spec.json" "${SGO_ID[@]}" --allow-certificate-chain
    # A key policy (--key) refuses any certificate bundle, even for the leaf's own key
    # (verify.WithKey: "expected key signature, not certificate"); cosign-compat verify --key
    # accepts it (checked in a).
    check_fails_with "$desc: sigstore-go --key (the leaf's key) refuses a certificate bundle" \
      "expected key signature, not certificate" sgo "$B/chain.json" "$ref" --key "$P/leaf.pub" --allow-certificate-chain

    # Leaf-only bundle (verificationMaterial.certificate): the trusted root's chain supplies the
    # intermediate, so no option is needed.
    ref=$(new_image "$kind" "sgo-leaf-$spec")
    check "$desc: cosign-compat sign --key --certificate (leaf-only bundle)" \
      "$CC" sign --key "$P/leaf.key" --certificate "$P/leaf.crt" "$ref"
    check "$desc: oras discover + fetch: the leaf-only bundle" bundle_of "$ref" "$B/leaf.json"
    _leaf_material() { jq -e '.verificationMaterial.certificate.rawBytes and (.verificationMaterial | has("x509CertificateChain") | not)' "$B/leaf.json"; }
    check "$desc: it holds one certificate (no x509CertificateChain)" _leaf_material
    check "$desc: sigstore-go accepts the leaf-only bundle with our trusted root (no option)" \
      sgo "$B/leaf.json" "$ref" --trusted-root "$W/tr-$spec.json" "${SGO_ID[@]}"
    check_fails_with "$desc: sigstore-go refuses it with another CA's trusted root" "leaf certificate verification failed" \
      sgo "$B/leaf.json" "$ref" --trusted-root "$W/tr-other.json" "${SGO_ID[@]}"
    check_fails_with "$desc: sigstore-go refuses it for another image's digest" \
      "artifact digest does not match any digest in statement" \
      sgo "$B/leaf.json" "$other" --trusted-root "$W/tr-$spec.json" "${SGO_ID[@]}"

    # For comparison, the bundles cosign itself wrote: the same answers.
    ref=$(new_image "$kind" "sgo-cosign-key-$spec")
    check "$desc: cosign sign --key (key bundle)" cosign_sign_sgo "$spec" "$ref"
    check "$desc: oras discover + fetch: cosign's key bundle" bundle_of "$ref" "$B/cosign-key.json"
    check "$desc: sigstore-go accepts cosign's key bundle (--key)" sgo "$B/cosign-key.json" "$ref" --key "$P/leaf.pub"
    check_fails_with "$desc: sigstore-go refuses cosign's key bundle with another key" "could not verify envelope" \
      sgo "$B/cosign-key.json" "$ref" --key "$FIX/rsa-3072/leaf.pub"
    ref=${COSIGN_CHAIN_REF[$kind-$spec]}
    check "$desc: oras discover + fetch: cosign's chain bundle" bundle_of "$ref" "$B/cosign-chain.json"
    check_fails_with "$desc: sigstore-go refuses cosign's chain bundle by default too" \
      "verification material cannot be X.509 certificate chain" \
      sgo "$B/cosign-chain.json" "$ref" --trusted-root "$W/tr-$spec.json" "${SGO_ID[@]}"
    check "$desc: sigstore-go accepts cosign's chain bundle with --allow-certificate-chain" \
      sgo "$B/cosign-chain.json" "$ref" --trusted-root "$W/tr-$spec.json" "${SGO_ID[@]}" --allow-certificate-chain
  done
done

# ====================================================================== d) byte compatibility
phase "d) same RSA key, same image: cosign's bundle and referrer vs cosign-compat's"
for kind in distribution olareg; do
  spec=rsa-2048
  desc="d) $kind $spec"
  ref=$(new_image "$kind" "bytes-$spec")
  check "$desc: cosign sign --key -a team=a -a env=prod" cosign_sign "$spec" "$ref" -a team=a -a env=prod
  cosign_referrer=$(referrers "$ref" | head -1)
  check "$desc: cosign-compat sign --key -a team=a -a env=prod" \
    "$CC" sign --key "$FIX/$spec/leaf.key" -a team=a -a env=prod "$ref"
  # Within the same second, cosign-compat's referrer manifest is cosign's, byte for byte: one
  # digest, listed once.
  cc_referrer=$(referrers "$ref" | grep -vx "$cosign_referrer" | head -1 || true)
  n_expected=2
  if [[ -z "$cc_referrer" ]]; then
    cc_referrer=$cosign_referrer n_expected=1
    record_pass "$desc: cosign-compat's referrer manifest is cosign's (same digest, same second)"
  fi
  repo="${ref%@*}"
  crane manifest "$repo@$cosign_referrer" >"$W/c-$kind-cosign-manifest.json"
  crane manifest "$repo@$cc_referrer" >"$W/c-$kind-cc-manifest.json"
  crane blob "$repo@$(jq -r '.layers[0].digest' "$W/c-$kind-cosign-manifest.json")" >"$W/c-$kind-cosign-bundle.json"
  crane blob "$repo@$(jq -r '.layers[0].digest' "$W/c-$kind-cc-manifest.json")" >"$W/c-$kind-cc-bundle.json"
  _same_json() { cmp <(jq -S -c . "$1") <(jq -S -c . "$2"); }
  check "$desc: the bundles are equal as JSON (statement, envelope, signature, key hint)" \
    _same_json "$W/c-$kind-cosign-bundle.json" "$W/c-$kind-cc-bundle.json"
  _same_statement() {
    cmp <(jq -r .dsseEnvelope.payload "$W/c-$kind-cosign-bundle.json" | base64 -d) \
      <(jq -r .dsseEnvelope.payload "$W/c-$kind-cc-bundle.json" | base64 -d)
  }
  check "$desc: the signed statements are byte-identical" _same_statement
  _same_bytes() { cmp "$W/c-$kind-cosign-bundle.json" "$W/c-$kind-cc-bundle.json"; }
  check "$desc: the bundle blobs are byte-identical (protojson's \", \" layout, same RSA signature)" _same_bytes
  _same_manifest() {
    cmp <(jq -r 'keys_unsorted | join(",")' "$W/c-$kind-cosign-manifest.json") \
      <(jq -r 'keys_unsorted | join(",")' "$W/c-$kind-cc-manifest.json") &&
      cmp <(sed -E 's/"org.opencontainers.image.created":"[^"]*"/CREATED/' "$W/c-$kind-cosign-manifest.json") \
        <(sed -E 's/"org.opencontainers.image.created":"[^"]*"/CREATED/' "$W/c-$kind-cc-manifest.json")
  }
  check "$desc: the referrer manifests are byte-identical but for the creation time" _same_manifest
  if [[ $kind == distribution ]]; then
    _index_entries() {
      crane manifest "$(fallback "$ref")" | jq -e --argjson n "$n_expected" '(.manifests | length) == $n
        and ([.manifests[] | keys_unsorted == ["mediaType","size","digest","artifactType"]] | all)
        and (.manifests | map(.digest)) == (.manifests | map(.digest) | sort)'
    }
    check "$desc: the fallback index keeps cosign's entry and ours, sorted by digest, in ggcr's shape" _index_entries
  fi
  check "$desc: cosign verify --key sees every referrer" bash -c \
    "'$COSIGN' verify --key '$FIX/$spec/leaf.pub' --insecure-ignore-tlog '$ref' 2>/dev/null | jq -e 'length == $n_expected'"
  check "$desc: cosign-compat verify --key sees every referrer" bash -c \
    "'$CC' verify --key '$FIX/$spec/leaf.pub' '$ref' 2>/dev/null | jq -e 'length == $n_expected'"
done

# ====================================================================== e) signed both ways
phase "e) an image with a .sig (key A) and a bundle (key B): bundles hide .sig"
for kind in distribution olareg; do
  A="$FIX/ec-256" B="$FIX/rsa-2048"
  desc="e) $kind"
  ref=$(new_image "$kind" both-ways)
  check "$desc: cosign-compat sign --new-bundle-format=false --key A (.sig)" \
    "$CC" sign --new-bundle-format=false --key "$A/leaf.key" "$ref"
  check "$desc: before any bundle, cosign verify --key A (defaults) reads the .sig" cosign_verify_key "$A/leaf.pub" "$ref"
  check "$desc: before any bundle, cosign-compat verify --key A reads the .sig" cc_verify_key "$A/leaf.pub" "$ref"
  check "$desc: cosign sign --key B (bundle)" cosign_sign rsa-2048 "$ref"
  check_fails "$desc: cosign verify --key A (defaults) no longer sees the .sig" cosign_verify_key "$A/leaf.pub" "$ref"
  check_fails_with "$desc: cosign-compat verify --key A refuses it too, naming the bundle referrer" \
    "no matching bundle signatures" cc_verify_key "$A/leaf.pub" "$ref"
  check "$desc: cosign verify --key A --new-bundle-format=false reads the .sig" \
    cosign_verify_key "$A/leaf.pub" "$ref" --new-bundle-format=false
  check "$desc: cosign-compat verify --key A --new-bundle-format=false reads the .sig" \
    cc_verify_key "$A/leaf.pub" "$ref" --new-bundle-format=false
  check "$desc: cosign verify --key B accepts the bundle" cosign_verify_key "$B/leaf.pub" "$ref"
  check "$desc: cosign-compat verify --key B accepts the bundle" cc_verify_key "$B/leaf.pub" "$ref"
  check_fails "$desc: cosign verify --key B --new-bundle-format=false: no .sig by B" \
    cosign_verify_key "$B/leaf.pub" "$ref" --new-bundle-format=false
  check_fails "$desc: cosign-compat verify --key B --new-bundle-format=false: no .sig by B" \
    cc_verify_key "$B/leaf.pub" "$ref" --new-bundle-format=false
done
unset COSIGN_PASSWORD

# ====================================================================== f) concurrency
phase "f) concurrent cosign-compat signers, registry without Referrers API"
ref=$(new_image distribution concurrent)
N=6
_concurrent() {
  local i pids=() rc=0
  for i in $(seq 1 "$N"); do
    # Separate lock directories: the registry-side re-check is what is tested, not the host lock.
    XDG_RUNTIME_DIR="$W/lock-$i" "$CC" sign --key "$FIX/ec-256/leaf.key" -a "n=$i" "$ref" >"$W/concurrent-$i.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  return "$rc"
}
mkdir -p "$W"/lock-{1..6}
check "f) $N cosign-compat sign at once" _concurrent
_all_listed() { [[ $(n_referrers "$ref") == "$N" ]]; }
check "f) the fallback index lists all $N referrers" _all_listed
check "f) cosign verify --key verifies all $N" bash -c \
  "'$COSIGN' verify --key '$FIX/ec-256/leaf.pub' --insecure-ignore-tlog '$ref' 2>/dev/null | jq -e 'length == $N'"

# ====================================================================== g) credentials
phase "g) a registry with basic authentication (distribution + htpasswd, no Referrers API)"
htpasswd -Bbn e2e-user e2e-password >"$W/htpasswd" 2>/dev/null || die "htpasswd failed"
AREG=$(start_registry distribution "$W/reg-auth" "$W/htpasswd")
mkdir -p "$W/docker-auth"
jq -n --arg r "$AREG" --arg a "$(printf 'e2e-user:e2e-password' | base64 -w0)" '{auths: {($r): {auth: $a}}}' \
  >"$W/docker-auth/config.json"
with_auth() { DOCKER_CONFIG="$W/docker-auth" "$@"; }
ref=$(with_auth push_test_image "$AREG" auth "$W")
check "g) cosign-compat sign --allow-http-registry (credentials from the docker config, bundle)" \
  with_auth "$CC" sign --allow-http-registry --key "$FIX/ec-256/leaf.key" "$ref"
_auth_fallback() { with_auth crane manifest "$(fallback "$ref")" | jq -e '(.manifests | length) == 1'; }
check "g) the fallback index lists it (the registry has no Referrers API)" _auth_fallback
check "g) cosign verify --key accepts it" with_auth cosign_verify_key "$FIX/ec-256/leaf.pub" "$ref"
check "g) cosign-compat verify --key accepts it" with_auth cc_verify_key "$FIX/ec-256/leaf.pub" "$ref" --allow-http-registry
export COSIGN_PASSWORD=e2e-cosign-password
check "g) cosign sign --key (bundle) on the same image" with_auth cosign_sign rsa-2048 "$ref"
unset COSIGN_PASSWORD
check "g) cosign-compat verify --key accepts cosign's bundle there" \
  with_auth cc_verify_key "$FIX/rsa-2048/leaf.pub" "$ref" --allow-http-registry
check_fails_with "g) cosign-compat verify without credentials: refused, names docker login" "docker login $AREG" \
  cc_verify_key "$FIX/ec-256/leaf.pub" "$ref"

# ====================================================================== r) --recursive
# BEGIN section r (sign --recursive, issue #16). Self-contained: its own helpers (r_*), images,
# imported cosign key, SoftHSM2 token, trusted roots and COSIGN_PASSWORD; from the preamble it
# uses only CC, COSIGN, FIX, W, REGS, new_image and n_referrers. On each registry kind, an index
# of 2 platforms and a nested index (crane index append; 5 manifests): without --recursive only
# the index is signed; cosign-compat sign --recursive (bundle with a key file; bundle through a
# signer program and with a key in a PKCS#11 token, both with a certificate chain; .sig), and the
# real cosign v3.1.3 verify accepts the index and every child digest; a re-sign of .sig adds
# nothing; --max-manifests 3 is refused with nothing pushed; cosign's own sign --recursive (both
# formats) is verified by cosign-compat for every digest.
phase "r) sign --recursive: an index of 2 platforms + a nested index, both formats, both registries"
export COSIGN_PASSWORD=e2e-cosign-password
R_KEY="$FIX/ec-256"
check "r) cosign import-key-pair (ec-256)" \
  "$COSIGN" import-key-pair --key "$R_KEY/leaf.key" --output-key-prefix "$W/r-import"
# r_index KIND REPO: an index [platform a, platform b, nested index [platform c]] in REPO on
# registry KIND (crane index append), printed as REG/REPO@sha256:...
r_index() {
  local reg="${REGS[$1]}" repo="$2" a b c
  a=$(new_image "$1" "$repo") b=$(new_image "$1" "$repo") c=$(new_image "$1" "$repo")
  crane index append -m "$c" -t "$reg/$repo:inner" >/dev/null 2>&1 || die "crane index append (inner) failed"
  crane index append -m "$a" -m "$b" -m "$reg/$repo:inner" --flatten=false -t "$reg/$repo:multi" \
    >/dev/null 2>&1 || die "crane index append failed"
  printf '%s/%s@%s\n' "$reg" "$repo" "$(crane digest "$reg/$repo:multi")"
}
# r_digests REF: REF's digest and every manifest below it, depth first (cosign's order), one a line.
r_digests() {
  local repo="${1%@*}" d
  printf '%s\n' "${1##*@}"
  crane manifest "$1" | jq -r '.manifests[] | "\(.mediaType) \(.digest)"' | while read -r mt d; do
    case "$mt" in
      *index* | *manifest.list*) r_digests "$repo@$d" ;;
      *) printf '%s\n' "$d" ;;
    esac
  done
}
# r_all CMD...: CMD REPO@DIGEST succeeds for every digest of $R_REF (the last argument is the reference).
r_all() {
  local d n=0
  for d in $(r_digests "$R_REF"); do
    "$@" "${R_REF%@*}@$d" >/dev/null 2>&1 || { echo "failed for ${R_REF%@*}@$d"; return 1; }
    n=$((n + 1))
  done
  echo "$n digests"
  [[ $n == 5 ]]
}
r_cosign_key() { "$COSIGN" verify --key "$R_KEY/leaf.pub" --insecure-ignore-tlog "$@"; }
r_cosign_key_sig() { "$COSIGN" verify --key "$R_KEY/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false "$@"; }
r_cc_key() { "$CC" verify --key "$R_KEY/leaf.pub" "$@"; }
r_cc_key_sig() { "$CC" verify --key "$R_KEY/leaf.pub" --new-bundle-format=false "$@"; }
r_one_referrer() { [[ $(n_referrers "$1") == 1 ]]; }
r_no_referrer() { [[ $(n_referrers "$1") == 0 ]]; }
r_sig_layers() { # REF N: the .sig manifest of REF has N layers
  [[ $(crane manifest "${1%@*}:sha256-${1##*sha256:}.sig" | jq '.layers | length') == "$2" ]]
}
r_cosign_tr() {
  "$COSIGN" verify --trusted-root "$W/r-tr.json" --certificate-identity-regexp '.*' \
    --certificate-oidc-issuer-regexp '.*' --insecure-ignore-tlog --insecure-ignore-sct --allow-certificate-chain "$@"
}
check "r) cosign-compat trusted-root (ec-256 CA chain)" \
  "$CC" trusted-root --certificate-chain "$R_KEY/cosign_chain.pem" --out "$W/r-tr.json"
# r-signer.sh: examples/sign-with-openssl.sh, counting its calls in $R_CALLS.
# shellcheck disable=SC2016  # $R_CALLS and $@ are expanded by the generated script
printf '#!/bin/sh\necho call >>"$R_CALLS"\nexec %q "$@"\n' "$REPO_ROOT/examples/sign-with-openssl.sh" >"$W/r-signer.sh"
chmod +x "$W/r-signer.sh"
# A SoftHSM2 token with an EC-256 key generated in it (scripts/softhsm-pki.sh, as pkcs11.sh).
need_tools softhsm2-util pkcs11-tool
check "r) scripts/softhsm-pki.sh --key-specs EC-256 (a key in a SoftHSM2 token)" \
  scripts/softhsm-pki.sh --out "$W/r-hsm" --key-specs EC-256
R_HSM="$W/r-hsm/ec-256"
"$CC" trusted-root --certificate-chain "$R_HSM/cosign_chain.pem" --out "$W/r-hsm-tr.json"
r_token_sign() {
  SOFTHSM2_CONF="$W/r-hsm/softhsm2.conf" EXTERNAL_PKCS11_MODULE="$(cat "$W/r-hsm/module")" \
    EXTERNAL_PKCS11_PIN_FILE="$W/r-hsm/user.pin" "$CC" sign "$@"
}
r_cosign_hsm_tr() {
  "$COSIGN" verify --trusted-root "$W/r-hsm-tr.json" --certificate-identity-regexp '.*' \
    --certificate-oidc-issuer-regexp '.*' --insecure-ignore-tlog --insecure-ignore-sct --allow-certificate-chain "$@"
}
r_cosign_sign() { "$COSIGN" sign --key "$W/r-import.key" --tlog-upload=false --use-signing-config=false -y "$@"; }
for kind in distribution olareg; do
  desc="r) $kind"
  R_REF=$(r_index "$kind" r-tree)
  check "$desc: the index lists 2 platforms and a nested index (5 manifests in all)" \
    bash -c "[[ \$(crane manifest '$R_REF' | jq '.manifests | length') == 3 ]]"

  # Without --recursive an index is signed alone, as in cosign.
  R_REF=$(r_index "$kind" r-alone)
  check "$desc: cosign-compat sign --key INDEX (no --recursive)" "$CC" sign --key "$R_KEY/leaf.key" "$R_REF"
  check "$desc: ... the index has one referrer" r_one_referrer "$R_REF"
  _children_unsigned() {
    local d
    for d in $(r_digests "$R_REF" | tail -n +2); do r_no_referrer "${R_REF%@*}@$d" || return 1; done
  }
  check "$desc: ... no child manifest is signed" _children_unsigned

  # Bundles (the default): one referrer per digest, each accepted by the real cosign.
  R_REF=$(r_index "$kind" r-bundle)
  check "$desc: cosign-compat sign --recursive --key (bundle)" "$CC" sign --recursive --key "$R_KEY/leaf.key" "$R_REF"
  _bundle_each_one() {
    local d
    for d in $(r_digests "$R_REF"); do r_one_referrer "${R_REF%@*}@$d" || return 1; done
  }
  check "$desc: ... exactly one referrer on each of the 5 digests" _bundle_each_one
  check "$desc: ... cosign verify --key --insecure-ignore-tlog accepts the index and every child" r_all r_cosign_key
  check "$desc: ... cosign-compat verify accepts each" r_all r_cc_key

  # A signer program signs each digest once (N calls), with a certificate chain; the real cosign
  # verifies every certificate-chain bundle through a trusted root.
  R_REF=$(r_index "$kind" r-signer)
  rm -f "$W/r-signer-calls"
  check "$desc: cosign-compat sign -r --signer PROGRAM --certificate-chain (bundle)" \
    env R_CALLS="$W/r-signer-calls" "$CC" sign -r --signer "$W/r-signer.sh" --key "$R_KEY/leaf.key" \
    --certificate-chain "$R_KEY/certificate_chain.pem" "$R_REF"
  _five_calls() { [[ $(wc -l <"$W/r-signer-calls") == 5 ]]; }
  check "$desc: ... the signer program ran once per digest (5 times)" _five_calls
  check "$desc: ... cosign verify --trusted-root --allow-certificate-chain accepts the index and every child" \
    r_all r_cosign_tr

  # The same with the key in the PKCS#11 token: one signature in the token per digest.
  R_REF=$(r_index "$kind" r-token)
  check "$desc: cosign-compat sign -r --key pkcs11:... --certificate-chain (bundle)" \
    r_token_sign -r --key "$(cat "$R_HSM/uri")" --certificate-chain "$R_HSM/certificate_chain.pem" "$R_REF"
  check "$desc: ... cosign verify --trusted-root accepts the index and every child" r_all r_cosign_hsm_tr

  # .sig: one layer per digest; a second run adds nothing.
  R_REF=$(r_index "$kind" r-sig)
  check "$desc: cosign-compat sign -r --new-bundle-format=false --key (.sig)" \
    "$CC" sign -r --new-bundle-format=false --key "$R_KEY/leaf.key" "$R_REF"
  check "$desc: ... cosign verify --new-bundle-format=false accepts the index and every child" r_all r_cosign_key_sig
  check "$desc: ... cosign-compat verify --new-bundle-format=false accepts each" r_all r_cc_key_sig
  check "$desc: re-sign -r (.sig)" "$CC" sign -r --new-bundle-format=false --key "$R_KEY/leaf.key" "$R_REF"
  _sig_once_each() {
    local d
    for d in $(r_digests "$R_REF"); do r_sig_layers "${R_REF%@*}@$d" 1 || return 1; done
  }
  check "$desc: ... still one .sig layer per digest (the equivalent signature is reused)" _sig_once_each

  # Bounded by count: refused before anything is pushed.
  R_REF=$(r_index "$kind" r-limit)
  check_fails_with "$desc: sign -r --max-manifests 3 refuses the 5-manifest tree" "more than 3 manifests" \
    "$CC" sign -r --max-manifests 3 --key "$R_KEY/leaf.key" "$R_REF"
  check "$desc: ... nothing was pushed (the index has no referrer)" r_no_referrer "$R_REF"

  # cosign's own sign --recursive, read by cosign-compat.
  R_REF=$(r_index "$kind" r-cosign-bundle)
  check "$desc: cosign sign --recursive (bundle)" r_cosign_sign --recursive "$R_REF"
  check "$desc: ... cosign-compat verify accepts the index and every child" r_all r_cc_key
  R_REF=$(r_index "$kind" r-cosign-sig)
  check "$desc: cosign sign --recursive --new-bundle-format=false (.sig)" \
    r_cosign_sign --recursive --new-bundle-format=false "$R_REF"
  check "$desc: ... cosign-compat verify --new-bundle-format=false accepts the index and every child" r_all r_cc_key_sig
done
unset COSIGN_PASSWORD
# END section r

finish
