#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check
# End-to-end tests of the sigstore KMS plugin (sigstore-kms-external-signer, #16): the real cosign
# v3.1.3 signs with `--key external-signer://…` through our signers, on both registry kinds
# (Debian's distribution without the Referrers API, olareg with it).
#
#   a) for each signer: a key file, a signer program (examples/sign-with-openssl.sh), a key in a
#      SoftHSM2 token; and each format: the bundle (cosign's default) and `--new-bundle-format=false`
#      (.sig): `cosign sign --key external-signer://… --tlog-upload=false --use-signing-config=false`
#      signs; `cosign verify --key PUB.pem --insecure-ignore-tlog` accepts it, and so does
#      `cosign verify --key external-signer://…` (the plugin's verifySignature) and cosign-compat
#      verify; another key is refused, by cosign and through the plugin
#   b) refusals through cosign: a hanging signer program is stopped at cosign's deadline
#      (--timeout) and cosign reports the error; `generate-key-pair --kms` (createKey) is refused;
#      a reference without a key names the forms
#
# usage: tests/e2e/cosign-kms.sh
# environment: COSIGN (default: cosign on PATH), KMS_PLUGIN_BIN (default
#   target/release/sigstore-kms-external-signer), COSIGN_COMPAT_BIN (default
#   target/release/cosign-compat; both built here when not given), KEEP_WORKDIR=1, CHECK_TIMEOUT.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
cd "$REPO_ROOT"

PLUGIN="${KMS_PLUGIN_BIN:-$REPO_ROOT/target/release/sigstore-kms-external-signer}"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
FIX="$REPO_ROOT/tests/data/pki"
SIGNER="$REPO_ROOT/examples/sign-with-openssl.sh"

phase "preflight"
need_tools crane jq openssl curl docker-registry olareg softhsm2-util pkcs11-tool
COSIGN="${COSIGN:-$(command -v cosign || true)}"
[[ -x "$COSIGN" ]] || die "cosign not found: run 'make peers' (builds cosign $COSIGN_VERSION into $(peer_tool_dir cosign))"
COSIGN_FOUND=$("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion)
[[ "$COSIGN_FOUND" == "$COSIGN_VERSION" ]] || warn "expected cosign $COSIGN_VERSION, found '$COSIGN_FOUND' (run 'make peers')"
if [[ -z "${KMS_PLUGIN_BIN:-}" || -z "${COSIGN_COMPAT_BIN:-}" ]]; then
  timed "cargo build --release -p sigstore-kms-plugin -p cosign-compat" \
    cargo build --release --locked -q -p sigstore-kms-plugin -p cosign-compat \
    --bin sigstore-kms-external-signer --bin cosign-compat || die "building the plugin failed"
fi
[[ -x "$PLUGIN" && -x "$CC" ]] || die "$PLUGIN or $CC not found"

W=$(make_workdir "$REPO_ROOT/.e2e" cosign-kms)
log "work dir: $W"
isolate_env "$W"
unset EXTERNAL_PUBLIC_KEY
# cosign finds the plugin as sigstore-kms-<scheme> on PATH; only ours, from a directory of its own.
mkdir -p "$W/bin"
ln -sf "$PLUGIN" "$W/bin/sigstore-kms-external-signer"
export PATH="$W/bin:$PATH"

phase "SoftHSM2 token with an EC-256 key (scripts/softhsm-pki.sh)"
HSM="$W/hsm"
check "scripts/softhsm-pki.sh --key-specs EC-256" scripts/softhsm-pki.sh --out "$HSM" --key-specs EC-256
[[ -s "$HSM/softhsm2.conf" && -s "$HSM/user.pin" && -s "$HSM/module" && -s "$HSM/ec-256/uri" ]] ||
  die "scripts/softhsm-pki.sh did not make the token (see above)"
export SOFTHSM2_CONF="$HSM/softhsm2.conf"
openssl x509 -in "$HSM/ec-256/leaf.crt" -pubkey -noout >"$HSM/ec-256/leaf.pub" || die "openssl x509 -pubkey failed"

phase "registries: distribution (no Referrers API), olareg (Referrers API)"
declare -A REGS
REGS[distribution]=$(start_registry distribution "$W/reg-dist")
REGS[olareg]=$(start_registry referrers "$W/reg-ola")
log "distribution: ${REGS[distribution]}, olareg: ${REGS[olareg]}"

# The signers: the key reference, the public key PEM, and the environment the plugin reads.
declare -A KEYREF PUB ENVS
KEYREF[file]="external-signer://$FIX/ec-256/leaf.key"
PUB[file]="$FIX/ec-256/leaf.pub"
ENVS[file]=""
KEYREF[program]="external-signer://program:$SIGNER"
PUB[program]="$FIX/rsa-2048/leaf.pub"
ENVS[program]="EXTERNAL_PRIVATE_KEY=$FIX/rsa-2048/leaf.key EXTERNAL_PUBLIC_KEY=$FIX/rsa-2048/leaf.pub"
KEYREF[pkcs11]="external-signer://$(cat "$HSM/ec-256/uri")"
PUB[pkcs11]="$HSM/ec-256/leaf.pub"
ENVS[pkcs11]="EXTERNAL_PKCS11_MODULE=$(cat "$HSM/module") EXTERNAL_PKCS11_PIN_FILE=$HSM/user.pin EXTERNAL_PUBLIC_KEY=$HSM/ec-256/leaf.crt"

# with_signer SIGNER CMD...: run CMD with the signer's environment.
with_signer() {
  local signer="$1"
  shift
  # shellcheck disable=SC2086  # ENVS holds NAME=VALUE words without spaces
  env ${ENVS[$signer]} "$@"
}
kms_sign() { # SIGNER REF [flags...]
  with_signer "$1" "$COSIGN" sign --key "${KEYREF[$1]}" --tlog-upload=false --use-signing-config=false -y "${@:3}" "$2"
}
cosign_verify() { "$COSIGN" verify --key "$1" --insecure-ignore-tlog "${@:3}" "$2"; }
kms_verify() { with_signer "$1" "$COSIGN" verify --key "${KEYREF[$1]}" --insecure-ignore-tlog "${@:3}" "$2"; }

# ====================================================================== a) sign and verify
phase "a) cosign sign --key external-signer://… (bundle and .sig) -> cosign verify, cosign-compat verify"
for kind in distribution olareg; do
  for signer in file program pkcs11; do
    for format in bundle sig; do
      flags=()
      [[ "$format" == sig ]] && flags=(--new-bundle-format=false)
      desc="a) $kind $signer $format"
      ref=$(push_test_image "${REGS[$kind]}" "kms-$signer-$format" "$W")
      check "$desc: cosign sign --key ${KEYREF[$signer]%%:*}://${signer}…" kms_sign "$signer" "$ref" "${flags[@]}"
      check "$desc: cosign verify --key PUB.pem --insecure-ignore-tlog accepts it" \
        cosign_verify "${PUB[$signer]}" "$ref" "${flags[@]}"
      check "$desc: cosign verify --key external-signer://… (verifySignature) accepts it" \
        kms_verify "$signer" "$ref" "${flags[@]}"
      check "$desc: cosign-compat verify --key PUB.pem accepts it" "$CC" verify --key "${PUB[$signer]}" "$ref"
      check_fails "$desc: cosign verify with another key refuses it" \
        cosign_verify "$FIX/ec-384/leaf.pub" "$ref" "${flags[@]}"
      check_fails "$desc: cosign verify --key external-signer:// of another key file (verifySignature) refuses it" \
        "$COSIGN" verify --key "external-signer://$FIX/rsa-3072/leaf.key" --insecure-ignore-tlog "${flags[@]}" "$ref"
    done
  done
done

# ====================================================================== b) refusals
phase "b) refusals through cosign: a hanging signer at the deadline, createKey, a bad reference"
ref=$(push_test_image "${REGS[olareg]}" kms-refusals "$W")
printf '#!/bin/sh\nsleep 600\n' >"$W/hang.sh"
chmod +x "$W/hang.sh"
_hang() {
  EXTERNAL_PUBLIC_KEY="$FIX/ec-256/leaf.pub" EXTERNAL_SIGNER_TIMEOUT=600 \
    "$COSIGN" sign --timeout 5s --key "external-signer://program:$W/hang.sh" \
    --tlog-upload=false --use-signing-config=false -y "$ref"
}
check_fails_with "b) a hanging signer program: stopped at cosign's --timeout deadline, cosign reports it" \
  "timed out" _hang
check "b) ... reported as the plugin's errorMessage" grep -qiF "plugin returned error" "$LAST_OUTPUT"
_no_process_left() { ! pgrep -f "$W/hang.sh" >/dev/null; }
check "b) no signer program process is left behind" _no_process_left
check_fails_with "b) cosign generate-key-pair --kms external-signer://… (createKey) is refused" \
  "does not create keys" "$COSIGN" generate-key-pair --kms "external-signer://$W/new.key"
check_fails_with "b) a relative key path is refused with the forms" "needs an absolute path" \
  "$COSIGN" sign --key "external-signer://keys/k.pem" --tlog-upload=false --use-signing-config=false -y "$ref"
check_fails_with "b) a program without its public key: never a null publicKey, the variable is named" \
  "EXTERNAL_PUBLIC_KEY" "$COSIGN" sign --key "external-signer://program:$SIGNER" \
  --tlog-upload=false --use-signing-config=false -y "$ref"
check_fails_with "b) an encrypted key without its password names the variables" \
  "EXTERNAL_PRIVATE_KEY_PASSWORD" "$COSIGN" sign --key "external-signer://$FIX/ec-256/leaf.enc.pem" \
  --tlog-upload=false --use-signing-config=false -y "$ref"

finish
