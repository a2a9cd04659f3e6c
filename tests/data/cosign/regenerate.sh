#!/usr/bin/env bash
# Regenerate the cosign golden outputs in this directory with the real cosign (see README.md).
# Not run in CI. Needs cosign v3.1.3, crane, openssl, jq and docker-registry (`make peers`).
#
#   tests/data/cosign/regenerate.sh
#
# The signatures are made with tests/data/pki/rsa-2048 and ec-256: regenerate after `make testdata`.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/scripts/lib.sh"
# shellcheck source=tests/data/cosign/golden-image.sh
source "$REPO_ROOT/tests/data/cosign/golden-image.sh"
out="$REPO_ROOT/tests/data/cosign"
pki="$REPO_ROOT/tests/data/pki"
COSIGN=${COSIGN:-$(command -v cosign || echo /tmp/peers/cosign)}
[[ -x "$COSIGN" ]] || die "cosign not found: run 'make peers'"
version=$("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion)
[[ "$version" == v3.1.3 ]] || warn "expected cosign v3.1.3, found $version"

W=$(make_workdir "$REPO_ROOT/.e2e" cosign-goldens)
export DOCKER_CONFIG="$W/docker" HOME="$W/home"
golden_setup "$W"
reg=$(start_registry distribution "$W/registry")

# The golden image, from W/layer.tar (golden_setup).
crane append --oci-empty-base -f "$W/layer.tar" -t "$reg/app:golden" >/dev/null 2>&1
digest=$(crane digest "$reg/app:golden")
crane manifest "$reg/app@$digest" >"$out/image-manifest.json"
[[ "sha256:$(sha256sum <"$out/image-manifest.json" | cut -d' ' -f1)" == "$digest" ]] ||
  die "crane manifest does not hash to $digest"

# cosign generate works offline for digest references; the registry name is fixed.
gen() { "$COSIGN" generate "$@" 2>/dev/null; }
gen "127.0.0.1:5000/app@$digest" >"$out/generate.json"
gen "127.0.0.1:5000/app@$digest" -a 'b=2,a=1' -a 'k=a=b' -a '"q=x,y"' >"$out/generate-annotations.json"
gen "127.0.0.1:5000/app@$digest" -a 'html=<script>&</script>' -a $'ctl=\t\b\f\x01\x7f' \
  -a $'sep=\u2028\u2029' -a 'slash=/é\' -a '"quote=say ""hi"""' -a $'line=a\r' >"$out/generate-escaping.json"
gen "ubuntu@$digest" >"$out/generate-dockerhub.json"
gen "docker.io/foo/bar:tag@$digest" >"$out/generate-dockerhub-tag.json"
gen "localhost:5000/a/b/c@$digest" -a 'env=prod' >"$out/generate-localhost.json"

# RSA PKCS#1 v1.5 signatures are deterministic: the same key and payload give the same bytes.
openssl dgst -sha256 -sign "$pki/rsa-2048/leaf.key" "$out/generate.json" | base64 -w0 >"$out/signature-rsa-2048.b64"
openssl dgst -sha256 -sign "$pki/ec-256/leaf.key" "$out/generate-annotations.json" | base64 -w0 >"$out/signature-ec-256.b64"

sig_ref="$reg/app:$(tr : - <<<"$digest").sig"
"$COSIGN" attach signature --payload "$out/generate.json" --signature "$out/signature-rsa-2048.b64" \
  --certificate "$pki/rsa-2048/leaf.crt" --certificate-chain "$pki/rsa-2048/cosign_chain.pem" \
  "$reg/app@$digest" 2>/dev/null
crane manifest "$sig_ref" >"$out/attach-manifest-1.json"
crane config "$sig_ref" >"$out/attach-config-1.json"
"$COSIGN" attach signature --payload "$out/generate-annotations.json" --signature "$out/signature-ec-256.b64" \
  "$reg/app@$digest" 2>/dev/null
crane manifest "$sig_ref" >"$out/attach-manifest-2.json"
crane config "$sig_ref" >"$out/attach-config-2.json"

# What cosign verify prints (stdout) for the two-layer manifest.
"$COSIGN" verify --key "$pki/rsa-2048/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false \
  "$reg/app@$digest" 2>/dev/null >"$out/verify-key-rsa-2048.stdout"
"$COSIGN" verify --key "$pki/ec-256/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false -a env=prod \
  "$reg/app@$digest" 2>/dev/null >"$out/verify-key-ec-256.stdout" || true
"$COSIGN" verify --key "$pki/ec-256/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false \
  "$reg/app@$digest" 2>/dev/null >"$out/verify-key-ec-256.stdout"
"$COSIGN" verify --certificate-chain "$pki/rsa-2048/cosign_chain.pem" --certificate-identity-regexp '.*' \
  --certificate-oidc-issuer-regexp '.*' --insecure-ignore-sct --insecure-ignore-tlog --new-bundle-format=false \
  "$reg/app@$digest" 2>/dev/null >"$out/verify-chain-rsa-2048.stdout"

printf '%s\n' "$digest" >"$out/image-digest"
printf '%s\n' "$version" >"$out/cosign-version"
log "goldens written to $out (cosign $version, image $digest)"
