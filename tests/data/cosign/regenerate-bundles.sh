#!/usr/bin/env bash
# Regenerate the cosign v3 bundle goldens in this directory with the real cosign (see README.md):
# `cosign sign --key` (bundle format, no tlog) of the golden image with pki/rsa-2048 (RSA PKCS#1
# v1.5 signatures are deterministic), key-only and with the certificate chain, the referrer
# manifests, the fallback index, and `cosign trusted-root create`. Not run in CI. Needs cosign
# v3.1.3, crane, jq and docker-registry (`make peers`).
#
#   tests/data/cosign/regenerate-bundles.sh
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/scripts/lib.sh"
# shellcheck source=tests/data/cosign/golden-image.sh
source "$REPO_ROOT/tests/data/cosign/golden-image.sh"
out="$REPO_ROOT/tests/data/cosign"
pki="$REPO_ROOT/tests/data/pki/rsa-2048"
COSIGN=${COSIGN:-$(command -v cosign)}
version=$("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion)
[[ "$version" == v3.1.3 ]] || warn "expected cosign v3.1.3, found $version"

W=$(make_workdir "$REPO_ROOT/.e2e" cosign-bundle-goldens)
export DOCKER_CONFIG="$W/docker" HOME="$W/home" TUF_ROOT="$W/tuf" COSIGN_PASSWORD=goldens
golden_setup "$W"
reg=$(start_registry distribution "$W/registry")

# The golden image of regenerate.sh (golden_setup), once per signature form.
"$COSIGN" import-key-pair --key "$pki/leaf.key" --output-key-prefix "$W/rsa" >/dev/null 2>&1
for form in key chain; do
  crane append --oci-empty-base -f "$W/layer.tar" -t "$reg/$form:golden" >/dev/null 2>&1
  digest=$(crane digest "$reg/$form:golden")
  [[ "$digest" == "$(cat "$out/image-digest")" ]] || die "the golden image is $digest, not $(cat "$out/image-digest")"
  extra=()
  [[ $form == chain ]] && extra=(--certificate "$pki/leaf.crt" --certificate-chain "$pki/cosign_chain.pem")
  "$COSIGN" sign --key "$W/rsa.key" --tlog-upload=false --use-signing-config=false -y "${extra[@]}" \
    "$reg/$form@$digest" >/dev/null 2>&1
  index=$(crane manifest "$reg/$form:sha256-${digest#sha256:}")
  printf '%s' "$index" >"$out/bundle-$form-fallback-index.json"
  referrer=$(jq -r '.manifests[0].digest' <<<"$index")
  crane manifest "$reg/$form@$referrer" >"$out/bundle-$form-referrer.json"
  crane blob "$reg/$form@$(jq -r '.layers[0].digest' "$out/bundle-$form-referrer.json")" >"$out/bundle-$form.json"
done
"$COSIGN" trusted-root create --certificate-chain "$pki/cosign_chain.pem" --out "$out/trusted-root-rsa-2048.json" 2>/dev/null
log "wrote bundle-{key,chain}{,-referrer,-fallback-index}.json and trusted-root-rsa-2048.json in $out"
