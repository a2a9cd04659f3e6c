#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check
# End-to-end tests for keys in a PKCS#11 token (#8): the real notation CLI (v1.3.2) signs through
# target/release/notation-external-signer with `--plugin-config pkcs11_uri=...` and verifies, against
# a local CNCF distribution registry. The token is SoftHSM2, made here by scripts/softhsm-pki.sh:
# the keys are generated in the token and never leave it; the script certifies their public keys
# under a test CA (same profile as scripts/certificates.sh).
# Everything lives in a temp dir under <repo>/.e2e/ (removed on exit; KEEP_WORKDIR=1 keeps it):
# HOME, XDG_CONFIG_HOME, NOTATION_CONFIG, NOTATION_LIBEXEC, NOTATION_CACHE, DOCKER_CONFIG and
# SOFTHSM2_CONF point there, so neither the user's notation setup nor their tokens are touched.
#
# usage: tests/e2e/pkcs11.sh   (after `cargo build --release -p notation-plugin` and `make peers`)
# environment:
#   E2E_PKCS11_KEY_SPECS  token keys to sign with (default: all six key specs)
#   PLUGIN_BIN            plugin binary (default target/release/notation-external-signer)
#   KEEP_WORKDIR=1        keep the temp dir for debugging
#   CHECK_TIMEOUT         per-command limit in seconds (default 300)
# Needs Debian packages softhsm2 and opensc (pkcs11-tool) besides the peers of notation.sh.
# Prints each phase's duration and ends with `N passed, N failed`; exits 1 if anything failed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
cd "$REPO_ROOT"

PLUGIN_NAME=external-signer
PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"
read -r -a KEY_SPECS <<<"${E2E_PKCS11_KEY_SPECS:-RSA-2048 RSA-3072 RSA-4096 EC-256 EC-384 EC-521}"
declare -A SIG_ALG=(
  [RSA-2048]=RSASSA-PSS-SHA-256 [RSA-3072]=RSASSA-PSS-SHA-384 [RSA-4096]=RSASSA-PSS-SHA-512
  [EC-256]=ECDSA-SHA-256 [EC-384]=ECDSA-SHA-384 [EC-521]=ECDSA-SHA-512
)

# ====================================================================== preflight
phase "preflight"
need_tools notation crane jq openssl curl softhsm2-util pkcs11-tool docker-registry
[[ -x "$PLUGIN_BIN" ]] ||
  die "plugin binary $PLUGIN_BIN not found: run 'make build' (cargo build --release --locked -p notation-plugin)"
log "notation $(notation version 2>/dev/null | awk '/^Version:/ {print $2}'), plugin $PLUGIN_BIN"

W=$(make_workdir "$REPO_ROOT/.e2e" pkcs11)
log "work dir: $W"
isolate_env "$W"

# ====================================================================== token and PKI
phase "SoftHSM2 token: ${#KEY_SPECS[@]} keys generated in it, certified by a test CA"
HSM="$W/hsm"
check "scripts/softhsm-pki.sh --key-specs '${KEY_SPECS[*]}'" \
  scripts/softhsm-pki.sh --out "$HSM" --key-specs "${KEY_SPECS[*]}"
[[ -s "$HSM/softhsm2.conf" && -s "$HSM/user.pin" && -s "$HSM/module" ]] ||
  die "scripts/softhsm-pki.sh did not make the token (see above)"
export SOFTHSM2_CONF="$HSM/softhsm2.conf"
MODULE=$(cat "$HSM/module")
PIN_FILE="$HSM/user.pin"
dir_of() { printf '%s/%s\n' "$HSM" "${1,,}"; }
uri_of() { cat "$(dir_of "$1")/uri"; }
for spec in "${KEY_SPECS[@]}"; do
  for f in uri leaf.crt certificate_chain.pem; do
    [[ -s "$(dir_of "$spec")/$f" ]] || die "scripts/softhsm-pki.sh did not write $(dir_of "$spec")/$f"
  done
done
check_output_contains "pkcs11-tool lists the token's private keys" "Private Key Object" \
  pkcs11-tool --module "$MODULE" --token-label external-signer-test --login --pin "$(cat "$PIN_FILE")" \
  --list-objects --type privkey

# ====================================================================== registry, plugin, trust
phase "registry, plugin install, trust store and policy"
_d=$(start_registry distribution "$W/registry")
REG="localhost:${_d##*:}" # notation talks plain HTTP to localhost only
log "registry: $REG"
check "notation plugin install --file $(basename "$PLUGIN_BIN")" notation plugin install --file "$PLUGIN_BIN"
PLUGIN_DIR="$NOTATION_LIBEXEC/plugins/$PLUGIN_NAME"
if [[ ! -x "$PLUGIN_DIR/notation-$PLUGIN_NAME" ]]; then
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$PLUGIN_BIN" "$PLUGIN_DIR/notation-$PLUGIN_NAME"
fi
check "notation cert add --type ca --store hsm ca.crt" notation cert add --type ca --store hsm "$HSM/ca.crt"
strict_trust_policy e2e-pkcs11 hsm "$W/trustpolicy.json"
check "notation policy import (strict, ca:hsm)" notation policy import --force "$W/trustpolicy.json"
cp "$NOTATION_CONFIG/trustpolicy.json" "$NOTATION_CONFIG/trustpolicy.oci.json"

# new_image REPO: a fresh test image in the registry, printed as REG/REPO@sha256:...
new_image() { push_test_image "$REG" "$1" "$W"; }

# token_args SPEC: the plugin flags for SPEC's token key (sets array TOKEN_ARGS).
token_args() {
  TOKEN_ARGS=(--plugin "$PLUGIN_NAME" --id "hsm-$1"
    --plugin-config "pkcs11_uri=$(uri_of "$1")" --plugin-config "pkcs11_module=$MODULE"
    --plugin-config "cert_chain=$(dir_of "$1")/certificate_chain.pem")
}

# ====================================================================== a) every key x {jws, cose}
phase "a) notation sign + verify: ${#KEY_SPECS[@]} token keys x {jws, cose}"
for spec in "${KEY_SPECS[@]}"; do
  for fmt in jws cose; do
    ref=$(new_image "hsm-${spec,,}-$fmt")
    token_args "$spec"
    desc="a) $spec $fmt, pkcs11_uri=$(uri_of "$spec")"
    check "$desc: notation sign" env "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" \
      notation sign --signature-format "$fmt" "${TOKEN_ARGS[@]}" "$ref"
    check "$desc: notation verify" notation verify -v "$ref"
    check_output_contains "$desc: notation inspect shows ${SIG_ALG[$spec]}" "\"${SIG_ALG[$spec]}\"" \
      notation inspect -o json "$ref"
  done
done

# ====================================================================== b) other configurations
phase "b) PIN and module from the URI, from the environment; notation key add"
rsa=${KEY_SPECS[0]}
ec=${KEY_SPECS[${#KEY_SPECS[@]} - 1]}
for spec in "${KEY_SPECS[@]}"; do
  [[ $spec == RSA-* && $rsa != RSA-* ]] && rsa=$spec
  [[ $spec == EC-* && $ec != EC-* ]] && ec=$spec
done
ref=$(new_image hsm-uri-only)
check "b) $ec: module-path and pin-source in the URI, nothing else: notation sign" \
  notation sign --plugin "$PLUGIN_NAME" --id hsm-uri-only \
  --plugin-config "pkcs11_uri=$(uri_of "$ec")?module-path=$MODULE&pin-source=$PIN_FILE" \
  --plugin-config "cert_chain=$(dir_of "$ec")/certificate_chain.pem" "$ref"
check "b) module-path and pin-source in the URI: notation verify" notation verify -v "$ref"

ref=$(new_image hsm-env)
check "b) $rsa: EXTERNAL_PKCS11_URI, EXTERNAL_PKCS11_MODULE, EXTERNAL_PKCS11_PIN, EXTERNAL_CERT_CHAIN: notation sign" \
  env "EXTERNAL_PKCS11_URI=$(uri_of "$rsa")" "EXTERNAL_PKCS11_MODULE=$MODULE" \
  "EXTERNAL_PKCS11_PIN=$(cat "$PIN_FILE")" "EXTERNAL_CERT_CHAIN=$(dir_of "$rsa")/certificate_chain.pem" \
  notation sign --plugin "$PLUGIN_NAME" --id hsm-env "$ref"
check "b) configuration from the environment: notation verify" notation verify -v "$ref"

token_args "$rsa"
check "b) notation key add hsm-key (pkcs11_uri, $rsa)" notation key add "${TOKEN_ARGS[@]}" hsm-key
ref=$(new_image hsm-keyed)
check "b) notation sign --key hsm-key (cose)" env "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" \
  notation sign --signature-format cose --key hsm-key "$ref"
check "b) notation sign --key hsm-key: notation verify" notation verify -v "$ref"
if grep -q "pin" <(jq -r '.. | objects | .pluginConfig? // empty | keys[]' "$NOTATION_CONFIG/signingkeys.json" 2>/dev/null); then
  record_fail "b) signingkeys.json holds no PIN" "a pluginConfig key mentions a PIN: $(cat "$NOTATION_CONFIG/signingkeys.json")"
elif grep -qF -- "$(cat "$PIN_FILE")" "$NOTATION_CONFIG/signingkeys.json"; then
  record_fail "b) signingkeys.json holds no PIN" "the PIN is in signingkeys.json"
else
  record_pass "b) signingkeys.json holds no PIN"
fi

check_output_contains "b) notation-external-signer doctor with the token key: all checks passed" "all checks passed" \
  env "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" "$PLUGIN_BIN" doctor \
  --plugin-config "pkcs11_uri=$(uri_of "$ec")" --plugin-config "pkcs11_module=$MODULE" \
  --plugin-config "cert_chain=$(dir_of "$ec")/certificate_chain.pem"

# ====================================================================== c) refusals
phase "c) refusals reach the user through notation sign"
ref=$(new_image hsm-refusals)
token_args "$ec"
echo "not-the-pin" >"$W/wrong.pin"
check_fails_with "c) wrong PIN -> 'wrong PIN (CKR_PIN_INCORRECT)'" "wrong PIN (CKR_PIN_INCORRECT)" \
  env "EXTERNAL_PKCS11_PIN_FILE=$W/wrong.pin" notation sign "${TOKEN_ARGS[@]}" "$ref"
check_fails_with "c) no PIN -> 'needs a PIN'" "needs a PIN" notation sign "${TOKEN_ARGS[@]}" "$ref"
check_fails_with "c) pin-value in the URI -> refused" "contains pin-value" \
  notation sign --plugin "$PLUGIN_NAME" --id hsm-pin-value \
  --plugin-config "pkcs11_uri=$(uri_of "$ec")?pin-value=$(cat "$PIN_FILE")" --plugin-config "pkcs11_module=$MODULE" \
  --plugin-config "cert_chain=$(dir_of "$ec")/certificate_chain.pem" "$ref"
if grep -qF -- "$(cat "$PIN_FILE")" "$LAST_OUTPUT"; then
  record_fail "c) pin-value refusal does not echo the PIN" "$(cat "$LAST_OUTPUT")"
else
  record_pass "c) pin-value refusal does not echo the PIN"
fi
check_fails_with "c) missing module -> 'cannot load PKCS#11 module'" "cannot load PKCS#11 module" \
  env "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" notation sign --plugin "$PLUGIN_NAME" --id hsm-no-module \
  --plugin-config "pkcs11_uri=$(uri_of "$ec")" --plugin-config "pkcs11_module=$W/nonexistent.so" \
  --plugin-config "cert_chain=$(dir_of "$ec")/certificate_chain.pem" "$ref"
check_fails_with "c) unknown token -> lists the tokens found" "tokens found" \
  env "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" notation sign --plugin "$PLUGIN_NAME" --id hsm-no-token \
  --plugin-config "pkcs11_uri=pkcs11:token=no-such-token;object=${ec,,}" --plugin-config "pkcs11_module=$MODULE" \
  --plugin-config "cert_chain=$(dir_of "$ec")/certificate_chain.pem" "$ref"
check_fails_with "c) unknown key -> names the search" "object=no-such-key" \
  env "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" notation sign --plugin "$PLUGIN_NAME" --id hsm-no-key \
  --plugin-config "pkcs11_uri=pkcs11:token=external-signer-test;object=no-such-key" --plugin-config "pkcs11_module=$MODULE" \
  --plugin-config "cert_chain=$(dir_of "$ec")/certificate_chain.pem" "$ref"
if [[ $rsa == RSA-* && $ec == EC-* ]]; then
  check_fails_with "c) $ec token key with the $rsa chain -> key type mismatch" "but the leaf certificate" \
    env "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" notation sign --plugin "$PLUGIN_NAME" --id hsm-mismatch \
    --plugin-config "pkcs11_uri=$(uri_of "$ec")" --plugin-config "pkcs11_module=$MODULE" \
    --plugin-config "cert_chain=$(dir_of "$rsa")/certificate_chain.pem" "$ref"
else
  record_skip "c) key type mismatch" "E2E_PKCS11_KEY_SPECS has no RSA and EC key pair"
fi
check_fails_with "c) pkcs11_uri together with private_key -> refused" "both pkcs11_uri and private_key" \
  notation sign "${TOKEN_ARGS[@]}" --plugin-config "private_key=$REPO_ROOT/tests/data/pki/ec-256/leaf.key" "$ref"
check_fails "c) the refused image has no signature (notation verify fails)" notation verify -v "$ref"

# ====================================================================== d) cosign-compat
phase "d) cosign-compat sign --key pkcs11:... then the real cosign verify"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
COSIGN="$(command -v cosign || true)"
if [[ ! -x "$CC" || -z "$COSIGN" ]]; then
  record_fail "d) cosign-compat and cosign present" "need $CC (cargo build --release -p cosign-compat) and cosign (make peers)"
else
  for spec in "${KEY_SPECS[@]}"; do
    # cosign verifies with SHA-256 (PKCS#1 v1.5 for RSA): RSA keys and P-256 only.
    [[ $spec == RSA-* || $spec == EC-256 ]] || continue
    ref=$(new_image "cosign-hsm-${spec,,}")
    dir=$(dir_of "$spec")
    check "d) $spec: cosign-compat sign --key \"$(uri_of "$spec")\"" \
      env "EXTERNAL_PKCS11_MODULE=$MODULE" "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" \
      "$CC" sign --new-bundle-format=false --key "$(uri_of "$spec")" --certificate-chain "$dir/certificate_chain.pem" "$ref"
    check "d) $spec: cosign verify --key leaf.pub" \
      "$COSIGN" verify --key "$dir/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false "$ref"
    check "d) $spec: cosign verify --certificate-chain (identity from the SAN)" \
      "$COSIGN" verify --certificate-chain "$dir/cosign_chain.pem" \
      --certificate-identity-regexp '.*' --certificate-oidc-issuer-regexp '.*' \
      --insecure-ignore-sct --insecure-ignore-tlog --new-bundle-format=false "$ref"
    # cosign v3's default format: a bundle referrer signed in the token.
    ref=$(new_image "cosign-hsm-bundle-${spec,,}")
    check "d) $spec: cosign-compat sign --key \"$(uri_of "$spec")\" (bundle, the default)" \
      env "EXTERNAL_PKCS11_MODULE=$MODULE" "EXTERNAL_PKCS11_PIN_FILE=$PIN_FILE" \
      "$CC" sign --key "$(uri_of "$spec")" --certificate-chain "$dir/certificate_chain.pem" "$ref"
    "$CC" trusted-root --certificate-chain "$dir/cosign_chain.pem" --out "$dir/trusted_root.json"
    check "d) $spec: cosign verify --trusted-root --allow-certificate-chain accepts the bundle" \
      "$COSIGN" verify --trusted-root "$dir/trusted_root.json" --allow-certificate-chain \
      --certificate-identity-regexp '.*' --certificate-oidc-issuer-regexp '.*' \
      --insecure-ignore-sct --insecure-ignore-tlog "$ref"
    check "d) $spec: cosign-compat verify --key leaf.pub accepts the bundle" \
      "$CC" verify --key "$dir/leaf.pub" "$ref"
  done
  ref=$(new_image cosign-hsm-refused)
  check_fails_with "d) cosign-compat sign with a wrong PIN -> wrong PIN" "wrong PIN" \
    env "EXTERNAL_PKCS11_MODULE=$MODULE" "EXTERNAL_PKCS11_PIN_FILE=$W/wrong.pin" \
    "$CC" sign --new-bundle-format=false --key "$(uri_of "$ec")" --certificate-chain "$(dir_of "$ec")/certificate_chain.pem" "$ref"
  check_fails "d) the refused image has no cosign signature" \
    "$COSIGN" verify --key "$(dir_of "$ec")/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false "$ref"
fi

finish
