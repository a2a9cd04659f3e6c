#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check
# End-to-end tests of cosign-compat against the real cosign (v3.1.3, legacy `.sig` format) and
# sigstore-rs (the `sigstore` crate 0.14, through cosign-compat/examples/sigstore-verify.rs), on a
# local CNCF distribution registry started here (no Referrers API, plain HTTP on 127.0.0.1).
#
#   a) cosign-compat sign (--key, and --signer examples/sign-with-openssl.sh) for each key spec;
#      cosign verify --key, cosign verify --certificate-chain, sigstore-rs (key and certificate)
#      and cosign-compat verify accept it; cosign-compat verify prints what cosign verify prints
#   b) cosign-compat verify accepts what `cosign sign --key` (imported key) and
#      `cosign attach signature` stored, and cosign accepts what `cosign-compat attach signature` stored
#   c) tags, annotations, appending next to cosign's signatures, concurrent signers
#   d) refusals: wrong key, tampered payload, payload of another image, unsigned image, annotation
#      mismatch, failing signer (nothing pushed)
#   e) a registry with basic authentication: credentials from the docker config file, sent over
#      its plain HTTP only with --allow-http-registry; without them or with a wrong password, a
#      refusal that names `docker login` and nothing pushed
#   f) an HTTPS registry (127.0.0.2) with a certificate from a private CA: refused while the CA is
#      unknown, accepted with the CA in SSL_CERT_FILE or with --allow-insecure-registry; with
#      --allow-http-registry it stays HTTPS, certificate checked
#
# Everything lives in a temp dir under <repo>/.e2e/ (removed on exit; KEEP_WORKDIR=1 keeps it);
# HOME, DOCKER_CONFIG and TUF_ROOT point there. Every test image is built here with `crane append`.
#
# usage: tests/e2e/cosign.sh
# environment:
#   E2E_COSIGN_KEY_SPECS  key specs for the per-spec cases (default: RSA-2048 RSA-3072 RSA-4096 EC-256)
#   COSIGN                cosign binary (default: cosign on PATH, i.e. $TOOLS_DIR/cosign-v3.1.3/cosign)
#   COSIGN_COMPAT_BIN     default target/release/cosign-compat (built here when missing or stale)
#   SIGSTORE_VERIFY_BIN   default target/debug/examples/sigstore-verify (built here)
#   KEEP_WORKDIR=1, CHECK_TIMEOUT (seconds per command, default 300)
# Prints each phase's duration and ends with `N passed, N failed`; exits 1 if anything failed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
cd "$REPO_ROOT"

read -r -a KEY_SPECS <<<"${E2E_COSIGN_KEY_SPECS:-RSA-2048 RSA-3072 RSA-4096 EC-256}"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
SV="${SIGSTORE_VERIFY_BIN:-$REPO_ROOT/target/debug/examples/sigstore-verify}"
SIGNER_SCRIPT="$REPO_ROOT/examples/sign-with-openssl.sh"
COMMANDS="$REPO_ROOT/tests/data/commands"

# ====================================================================== preflight
phase "preflight"
need_tools crane jq openssl curl htpasswd cargo docker-registry
COSIGN="${COSIGN:-$(command -v cosign || true)}"
[[ -n "$COSIGN" ]] || die "cosign not found: run 'make peers' (builds cosign $COSIGN_VERSION into $(peer_tool_dir cosign))"
[[ -x "$COSIGN" ]] || die "cosign not found: run 'make peers' (builds cosign $COSIGN_VERSION into $(peer_tool_dir cosign))"
COSIGN_FOUND=$("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion)
[[ "$COSIGN_FOUND" == "$COSIGN_VERSION" ]] || warn "expected cosign $COSIGN_VERSION, found '$COSIGN_FOUND' (run 'make peers')"
log "cosign $COSIGN_FOUND ($COSIGN), crane $(crane version 2>/dev/null)"

phase "build (cosign-compat release binary, sigstore-verify example)"
if [[ -z "${COSIGN_COMPAT_BIN:-}" ]]; then
  timed "cargo build --release -p cosign-compat --bin cosign-compat" \
    cargo build --release --locked -q -p cosign-compat --bin cosign-compat ||
    die "building cosign-compat failed"
fi
if [[ -z "${SIGSTORE_VERIFY_BIN:-}" ]]; then
  timed "cargo build -p cosign-compat --example sigstore-verify" \
    cargo build --locked -q -p cosign-compat --example sigstore-verify ||
    die "building the sigstore-verify example failed"
fi
[[ -x "$CC" ]] || die "$CC not found"
[[ -x "$SV" ]] || die "$SV not found"

W=$(make_workdir "$REPO_ROOT/.e2e" cosign)
log "work dir: $W"
isolate_env "$W"

# ====================================================================== registry, PKI
phase "registry (distribution) and PKIs"
REG=$(start_registry distribution "$W/registry")
log "registry: $REG (plain HTTP: cosign, crane and cosign-compat all use HTTP for 127.0.0.1)"
PKI="$W/pki"
make_pkis "$PKI" "${KEY_SPECS[@]}" EC-256 "other:EC-256:E2E Other CA"

# new_image REPO: a fresh test image in the registry, printed as REG/REPO@sha256:...
new_image() { push_test_image "$REG" "$1" "$W"; }

# sig_ref REF: the .sig tag reference of REF (repo@sha256:hex -> repo:sha256-hex.sig).
sig_ref() { local ref="$1"; printf '%s:sha256-%s.sig\n' "${ref%@*}" "${ref##*sha256:}"; }

cosign_verify_key() { # PUB REF [flags...]
  local pub="$1" ref="$2"
  shift 2
  "$COSIGN" verify --key "$pub" --insecure-ignore-tlog --new-bundle-format=false "$@" "$ref"
}
cosign_verify_chain() { # SPEC REF [flags...]
  local spec="$1" ref="$2"
  shift 2
  "$COSIGN" verify --certificate-chain "$PKI/$spec/cosign_chain.pem" --certificate-identity-regexp '.*' \
    --certificate-oidc-issuer-regexp '.*' --insecure-ignore-sct --insecure-ignore-tlog \
    --new-bundle-format=false "$@" "$ref"
}
cc_verify_key() { "$CC" verify --key "$1" "$2" "${@:3}"; }
cc_verify_chain() {
  "$CC" verify --certificate-chain "$PKI/$1/cosign_chain.pem" --certificate-identity-regexp '.*' "$2" "${@:3}"
}

# same_stdout DESC REF ARGS...: cosign verify and cosign-compat verify print the same stdout.
same_stdout() {
  local desc="$1" ref="$2" mode="$3" spec="$4"
  _same() {
    local a b
    if [[ $mode == key ]]; then
      a=$(cosign_verify_key "$PKI/$spec/leaf.pub" "$ref" 2>/dev/null; echo x)
      b=$("$CC" verify --key "$PKI/$spec/leaf.pub" "$ref" 2>/dev/null; echo x)
    else
      a=$(cosign_verify_chain "$spec" "$ref" 2>/dev/null; echo x)
      b=$(cc_verify_chain "$spec" "$ref" 2>/dev/null; echo x)
    fi
    printf 'cosign:        %s\ncosign-compat: %s\n' "$a" "$b"
    [[ "$a" == "$b" && "$a" != x ]]
  }
  check "$desc" _same
}

# ====================================================================== a) cosign-compat signs
phase "a) cosign-compat sign -> cosign, sigstore-rs, cosign-compat verify (${KEY_SPECS[*]} x {--key, --signer})"
for spec in "${KEY_SPECS[@]}"; do
  P="$PKI/$spec"
  for mode in key signer; do
    ref=$(new_image "app-${spec,,}-$mode")
    desc="a) $spec $mode"
    if [[ $mode == key ]]; then
      check "$desc: cosign-compat sign --key --certificate-chain" \
        "$CC" sign --new-bundle-format=false --key "$P/leaf.key" --certificate-chain "$P/certificate_chain.pem" "$ref"
    else
      check "$desc: cosign-compat sign --signer sign-with-openssl.sh" \
        "$CC" sign --new-bundle-format=false --signer "$SIGNER_SCRIPT" --key "$P/leaf.key" --certificate-chain "$P/certificate_chain.pem" "$ref"
    fi
    check "$desc: cosign verify --key" cosign_verify_key "$P/leaf.pub" "$ref"
    check "$desc: cosign verify --certificate-chain (identity/issuer '.*')" cosign_verify_chain "$spec" "$ref"
    check "$desc: sigstore-rs verifies with the key" "$SV" --http --key "$P/leaf.pub" "$ref"
    check "$desc: sigstore-rs verifies with certificate + chain" "$SV" --http --cert "$P/leaf.crt" --cert-chain "$P/cosign_chain.pem" "$ref"
    check "$desc: cosign-compat verify --key" cc_verify_key "$P/leaf.pub" "$ref"
    check "$desc: cosign-compat verify --certificate-chain --certificate-identity signer@example.test" \
      "$CC" verify --certificate-chain "$P/cosign_chain.pem" --certificate-identity signer@example.test "$ref"
    if [[ $spec == "${KEY_SPECS[0]}" && $mode == key ]]; then
      same_stdout "$desc: cosign-compat verify --key prints exactly what cosign verify prints" "$ref" key "$spec"
      same_stdout "$desc: the same with --certificate-chain" "$ref" chain "$spec"
      _one_layer() {
        crane manifest "$(sig_ref "$ref")" | jq -e '.layers | length == 1 and
          .[0].mediaType == "application/vnd.dev.cosign.simplesigning.v1+json" and
          (.[0].annotations | has("dev.cosignproject.cosign/signature") and has("dev.sigstore.cosign/certificate") and has("dev.sigstore.cosign/chain"))'
      }
      check "$desc: the .sig manifest has one simple-signing layer with signature, certificate and chain" _one_layer
      _payload_matches_generate() {
        local digest
        digest=$(crane manifest "$(sig_ref "$ref")" | jq -r '.layers[0].digest')
        cmp <(crane blob "${ref%@*}@$digest") <("$COSIGN" generate "$ref" 2>/dev/null)
      }
      check "$desc: the stored payload is byte-identical to cosign generate" _payload_matches_generate
    fi
  done
done

# ====================================================================== b) cosign signs
phase "b) cosign sign / cosign attach -> cosign-compat verify; cosign-compat attach -> cosign verify"
export COSIGN_PASSWORD=e2e-cosign-password
for spec in "${KEY_SPECS[@]}"; do
  P="$PKI/$spec"
  desc="b) $spec"
  # cosign signs only with its own encrypted key format: import the PKI's key.
  check "$desc: cosign import-key-pair --key leaf.key" \
    "$COSIGN" import-key-pair --key "$P/leaf.key" --output-key-prefix "$W/import-${spec,,}"
  ref=$(new_image "cosign-signed-${spec,,}")
  check "$desc: cosign sign --key (imported) --certificate --certificate-chain --tlog-upload=false" \
    "$COSIGN" sign --key "$W/import-${spec,,}.key" --certificate "$P/leaf.crt" --certificate-chain "$P/cosign_chain.pem" \
    --tlog-upload=false --new-bundle-format=false --use-signing-config=false -y "$ref"
  check "$desc: cosign-compat verify --key accepts cosign sign" cc_verify_key "$P/leaf.pub" "$ref"
  check "$desc: cosign-compat verify --certificate-chain accepts cosign sign" cc_verify_chain "$spec" "$ref"

  # cosign attach signature with a payload from cosign generate and an openssl signature (wrapped
  # base64, as `base64` writes it: Go's decoder and cosign-compat skip the newlines).
  ref=$(new_image "cosign-attached-${spec,,}")
  "$COSIGN" generate "$ref" >"$W/payload-${spec,,}.json" 2>/dev/null
  openssl dgst -sha256 -sign "$P/leaf.key" "$W/payload-${spec,,}.json" | base64 >"$W/sig-${spec,,}.b64"
  check "$desc: cosign attach signature --certificate --certificate-chain" \
    "$COSIGN" attach signature --payload "$W/payload-${spec,,}.json" --signature "$W/sig-${spec,,}.b64" \
    --certificate "$P/leaf.crt" --certificate-chain "$P/cosign_chain.pem" "$ref"
  check "$desc: cosign-compat verify --key accepts cosign attach" cc_verify_key "$P/leaf.pub" "$ref"
  check "$desc: cosign-compat verify --certificate-chain accepts cosign attach" cc_verify_chain "$spec" "$ref"

  # cosign-compat attach signature with a raw openssl signature.
  ref=$(new_image "cc-attached-${spec,,}")
  "$CC" generate "$ref" >"$W/cc-payload-${spec,,}.json"
  openssl dgst -sha256 -sign "$P/leaf.key" -out "$W/cc-sig-${spec,,}.bin" "$W/cc-payload-${spec,,}.json"
  check "$desc: cosign-compat attach signature (raw signature file)" \
    "$CC" attach signature --payload "$W/cc-payload-${spec,,}.json" --signature "$W/cc-sig-${spec,,}.bin" \
    --certificate "$P/leaf.crt" --certificate-chain "$P/cosign_chain.pem" "$ref"
  check "$desc: cosign verify --key accepts cosign-compat attach" cosign_verify_key "$P/leaf.pub" "$ref"
  check "$desc: cosign verify --certificate-chain accepts cosign-compat attach" cosign_verify_chain "$spec" "$ref"
done
unset COSIGN_PASSWORD

# ====================================================================== c) tags, annotations, appends, concurrency
phase "c) tags, annotations, appending to cosign's signatures, concurrent signers"
P="$PKI/EC-256"
ref=$(new_image tagged)
tagged="${ref%@*}:v1"
crane tag "$ref" v1 >/dev/null 2>&1 || die "crane tag failed"
check "c) cosign-compat sign a tag with -a env=prod -a team=a,b=c" \
  "$CC" sign --new-bundle-format=false --key "$P/leaf.key" --certificate-chain "$P/certificate_chain.pem" -a env=prod -a team=a,b=c "$tagged"
check "c) cosign verify the digest the tag resolved to, with -a env=prod -a b=c" \
  cosign_verify_key "$P/leaf.pub" "$ref" -a env=prod -a b=c
check_fails "c) cosign verify -a env=dev fails" cosign_verify_key "$P/leaf.pub" "$ref" -a env=dev
check "c) cosign-compat verify -a env=prod (by tag)" cc_verify_key "$P/leaf.pub" "$tagged" -a env=prod
check_fails_with "c) cosign-compat verify -a env=dev fails" "missing or incorrect annotation" \
  cc_verify_key "$P/leaf.pub" "$ref" -a env=dev
check "c) sigstore-rs verifies the annotations" "$SV" --http --key "$P/leaf.pub" -a env=prod -a b=c "$ref"

# cosign's signature next to ours: both kept, each verifies with its own key.
O="$PKI/other"
"$COSIGN" generate "$ref" >"$W/other-payload.json" 2>/dev/null
openssl dgst -sha256 -sign "$O/leaf.key" "$W/other-payload.json" | base64 -w0 >"$W/other-sig.b64"
check "c) cosign attach signature appends to cosign-compat's manifest" \
  "$COSIGN" attach signature --payload "$W/other-payload.json" --signature "$W/other-sig.b64" "$ref"
check "c) cosign-compat sign again (new ECDSA signature) appends" "$CC" sign --new-bundle-format=false --key "$P/leaf.key" "$ref"
_three_layers() { crane manifest "$(sig_ref "$ref")" | jq -e '.layers | length == 3'; }
check "c) the .sig manifest has 3 layers" _three_layers
check_output_contains "c) the same signing once more (same key, payload, no certificate): no new layer" \
  "already has this signature" "$CC" sign --new-bundle-format=false --key "$P/leaf.key" "$ref"
check "c) ... still 3 layers" _three_layers
_count() { # PUB EXPECTED
  local n
  n=$("$CC" verify --key "$1" "$ref" 2>/dev/null | jq length)
  echo "verified: $n"
  [[ "$n" == "$2" ]]
}
check "c) cosign-compat verifies 2 signatures with the EC-256 key" _count "$P/leaf.pub" 2
check "c) cosign-compat verifies 1 signature with the other key" _count "$O/leaf.pub" 1
check "c) cosign verify --key other accepts the mixed manifest" cosign_verify_key "$O/leaf.pub" "$ref"

ref=$(new_image concurrent)
_concurrent() {
  local i pids=() rc=0
  for i in 1 2 3 4 5 6; do
    "$CC" sign --new-bundle-format=false --key "$P/leaf.key" -a "n=$i" "$ref" >"$W/concurrent-$i.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  cat "$W"/concurrent-*.log
  return "$rc"
}
check "c) 6 concurrent cosign-compat sign processes on one image" _concurrent
_all_six() {
  crane manifest "$(sig_ref "$ref")" | jq -e '.layers | length == 6' &&
    [[ $("$CC" verify --key "$P/leaf.pub" "$ref" 2>/dev/null | jq length) == 6 ]]
}
check "c) no signature was lost: 6 layers, all verify" _all_six

# ====================================================================== d) refusals
phase "d) refusals"
S="${KEY_SPECS[0]}"
P="$PKI/$S"
ref=$(new_image refusals)
"$CC" sign --new-bundle-format=false --key "$P/leaf.key" --certificate-chain "$P/certificate_chain.pem" "$ref" 2>/dev/null ||
  die "setup: cosign-compat sign failed"
check_fails_with "d) cosign-compat verify with the wrong key" "no matching signatures" \
  cc_verify_key "$PKI/other/leaf.pub" "$ref"
check_fails "d) cosign verify with the wrong key" cosign_verify_key "$PKI/other/leaf.pub" "$ref"
check_fails "d) sigstore-rs with the wrong key" "$SV" --http --key "$PKI/other/leaf.pub" "$ref"
check_fails_with "d) cosign-compat verify with another CA's chain" "certificate chain" cc_verify_chain other "$ref"
check_fails_with "d) cosign-compat verify with a non-matching identity" "none of the certificate's identities" \
  "$CC" verify --certificate-chain "$P/cosign_chain.pem" --certificate-identity nobody@example.test "$ref"
_exit_12() { "$CC" verify --key "$PKI/other/leaf.pub" "$ref"; [[ $? -eq 12 ]]; }
check "d) no matching signature exits 12, as cosign" _exit_12

# A tampered payload with the original signature, attached by cosign.
ref=$(new_image tampered)
"$COSIGN" generate "$ref" >"$W/tamper-payload.json" 2>/dev/null
openssl dgst -sha256 -sign "$P/leaf.key" "$W/tamper-payload.json" | base64 -w0 >"$W/tamper-sig.b64"
sed 's/"optional":null/"optional":{"evil":"yes"}/' "$W/tamper-payload.json" >"$W/tampered.json"
cmp -s "$W/tamper-payload.json" "$W/tampered.json" && die "setup: the payload was not tampered"
"$COSIGN" attach signature --payload "$W/tampered.json" --signature "$W/tamper-sig.b64" "$ref" >/dev/null 2>&1 ||
  die "setup: cosign attach (tampered) failed"
check_fails_with "d) cosign-compat verify rejects a tampered payload" "does not verify" cc_verify_key "$P/leaf.pub" "$ref"
check_fails "d) cosign verify rejects the tampered payload too" cosign_verify_key "$P/leaf.pub" "$ref"

# A valid signature of another image, attached to this one.
ref=$(new_image wrong-digest)
other=$(new_image wrong-digest-other)
"$COSIGN" generate "$other" >"$W/other-image.json" 2>/dev/null
openssl dgst -sha256 -sign "$P/leaf.key" "$W/other-image.json" | base64 -w0 >"$W/other-image.b64"
check_fails_with "d) cosign-compat attach refuses a payload for another image" "invalid or missing digest in claim" \
  "$CC" attach signature --payload "$W/other-image.json" --signature "$W/other-image.b64" "$ref"
"$CC" generate "$ref" >"$W/wd-payload.json"
check_fails_with "d) cosign-compat attach refuses a signature that does not verify with --certificate" "does not verify" \
  "$CC" attach signature --payload "$W/wd-payload.json" --signature "$W/other-image.b64" --certificate "$P/leaf.crt" "$ref"
"$COSIGN" attach signature --payload "$W/other-image.json" --signature "$W/other-image.b64" "$ref" >/dev/null 2>&1 ||
  die "setup: cosign attach (other image) failed"
check_fails_with "d) cosign-compat verify rejects a signature of another image" "invalid or missing digest in claim" \
  cc_verify_key "$P/leaf.pub" "$ref"
check_fails "d) cosign verify rejects it too" cosign_verify_key "$P/leaf.pub" "$ref"

ref=$(new_image unsigned)
check_fails_with "d) cosign-compat verify: unsigned image" "no signatures found" cc_verify_key "$P/leaf.pub" "$ref"
_exit_10() { "$CC" verify --key "$P/leaf.pub" "$ref"; [[ $? -eq 10 ]]; }
check "d) an unsigned image exits 10, as cosign" _exit_10
check_fails "d) cosign verify: unsigned image" cosign_verify_key "$P/leaf.pub" "$ref"

check_fails_with "d) a failing signer program fails the sign" "signer failed: key locked" \
  "$CC" sign --new-bundle-format=false --signer "$COMMANDS/exit_1.sh" --certificate-chain "$P/certificate_chain.pem" "$ref"
check_fails_with "d) a signer using the wrong key is caught before the push" "not made by the private key" \
  "$CC" sign --new-bundle-format=false --signer "$COMMANDS/wrong_key.sh" --certificate-chain "$PKI/other/certificate_chain.pem" "$ref"
check_fails "d) ... and the registry is unchanged: still no .sig tag" crane manifest "$(sig_ref "$ref")"

# ====================================================================== e) authentication
phase "e) a registry with basic authentication (docker config credentials)"
htpasswd -Bbn e2e-user e2e-password >"$W/htpasswd" 2>/dev/null || die "htpasswd failed"
AREG=$(start_registry distribution "$W/registry-auth" "$W/htpasswd")
docker_config() { # DIR USER:PASSWORD: a docker config with credentials for AREG
  mkdir -p "$1"
  jq -n --arg r "$AREG" --arg a "$(printf '%s' "$2" | base64 -w0)" '{auths: {($r): {auth: $a}}}' >"$1/config.json"
}
docker_config "$W/docker-auth" e2e-user:e2e-password
docker_config "$W/docker-wrong" e2e-user:not-the-password
ref=$(DOCKER_CONFIG="$W/docker-auth" push_test_image "$AREG" auth "$W")
with_auth() { DOCKER_CONFIG="$W/docker-auth" "$@"; }
with_wrong_password() { DOCKER_CONFIG="$W/docker-wrong" "$@"; }
check_fails_with "e) cosign-compat sign without credentials: refused, names docker login" "docker login $AREG" \
  "$CC" sign --new-bundle-format=false --key "$P/leaf.key" "$ref"
# AREG is plain HTTP (127.0.0.1): cosign-compat sends credentials there only with
# --allow-http-registry (cosign sends them anyway).
check_fails_with "e) cosign-compat sign with credentials over plain HTTP, no --allow-http-registry: not sent" \
  "are not sent in clear" with_auth "$CC" sign --new-bundle-format=false --key "$P/leaf.key" "$ref"
check_fails_with "e) cosign-compat sign with a wrong password: refused" "not authorized" \
  with_wrong_password "$CC" sign --new-bundle-format=false --allow-http-registry --key "$P/leaf.key" "$ref"
check_fails "e) ... and nothing was pushed" with_auth crane manifest "$(sig_ref "$ref")"
check "e) cosign-compat sign --allow-http-registry with credentials from the docker config" \
  with_auth "$CC" sign --new-bundle-format=false --allow-http-registry --key "$P/leaf.key" --certificate-chain "$P/certificate_chain.pem" "$ref"
check "e) cosign verify --key accepts it" with_auth cosign_verify_key "$P/leaf.pub" "$ref"
check "e) cosign verify --certificate-chain accepts it" with_auth cosign_verify_chain "$S" "$ref"
check "e) cosign-compat verify accepts it" with_auth cc_verify_key "$P/leaf.pub" "$ref" --allow-http-registry
check_fails_with "e) cosign-compat verify without credentials: refused" "docker login $AREG" \
  cc_verify_key "$P/leaf.pub" "$ref"
(cd "$W" && COSIGN_PASSWORD=e2e "$COSIGN" generate-key-pair --output-key-prefix auth-cosign >/dev/null 2>&1) ||
  die "setup: cosign generate-key-pair failed"
cosign_sign_auth() {
  COSIGN_PASSWORD=e2e with_auth "$COSIGN" sign --key "$W/auth-cosign.key" --tlog-upload=false \
    --new-bundle-format=false --use-signing-config=false -y "$ref"
}
check "e) cosign sign on the same registry, next to ours" cosign_sign_auth
check "e) cosign-compat verify accepts cosign's signature there" \
  with_auth cc_verify_key "$W/auth-cosign.pub" "$ref" --allow-http-registry
check "e) ... and still ours" with_auth cc_verify_key "$P/leaf.pub" "$ref" --allow-http-registry

# ====================================================================== f) HTTPS
phase "f) an HTTPS registry with a private CA (127.0.0.2: TLS for cosign, crane and cosign-compat)"
T="$W/tls"
mkdir -p "$T"
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=E2E Registry CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout "$T/ca.key" -out "$T/ca.crt" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.2" \
      -keyout "$T/server.key" -out "$T/server.csr" &&
    printf 'subjectAltName=IP:127.0.0.2\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$T/server.ext" &&
    openssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
      -extfile "$T/server.ext" -out "$T/server.crt"
} >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log" >&2; die "setup: the registry's TLS certificate"; }
TREG=$(start_registry distribution-tls "$W/registry-tls" "$T")
with_ca() { SSL_CERT_FILE="$T/ca.crt" "$@"; }
ref=$(with_ca push_test_image "$TREG" tls "$W")
check_fails_with "f) cosign-compat sign: the registry's CA is unknown, refused, naming the fix" "is not trusted: add the CA" \
  "$CC" sign --new-bundle-format=false --key "$P/leaf.key" "$ref"
check_fails "f) ... and nothing was pushed" with_ca crane manifest "$(sig_ref "$ref")"
check "f) cosign-compat sign with the CA in SSL_CERT_FILE" \
  with_ca "$CC" sign --new-bundle-format=false --key "$P/leaf.key" --certificate-chain "$P/certificate_chain.pem" "$ref"
check "f) cosign verify --key accepts it (CA in SSL_CERT_FILE)" with_ca cosign_verify_key "$P/leaf.pub" "$ref"
check "f) cosign-compat verify --certificate-chain accepts it" with_ca cc_verify_chain "$S" "$ref"
check "f) cosign-compat sign --allow-insecure-registry, CA unknown" \
  "$CC" sign --new-bundle-format=false --allow-insecure-registry --key "$P/leaf.key" -a run=insecure "$ref"
check "f) cosign verify --allow-insecure-registry accepts both" \
  cosign_verify_key "$P/leaf.pub" "$ref" --allow-insecure-registry
_two_layers() { [[ "$(with_ca crane manifest "$(sig_ref "$ref")" | jq '.layers | length')" == 2 ]]; }
check "f) both signatures are in the .sig manifest" _two_layers
check "f) cosign-compat verify --allow-insecure-registry" cc_verify_key "$P/leaf.pub" "$ref" --allow-insecure-registry
# --allow-http-registry tries HTTPS first: this registry answers it, so it stays HTTPS, and an
# untrusted certificate is still an error rather than a reason to go plain.
check_fails_with "f) cosign-compat verify --allow-http-registry, CA unknown: still refused" "is not trusted: add the CA" \
  cc_verify_key "$P/leaf.pub" "$ref" --allow-http-registry
check "f) cosign-compat verify --allow-http-registry with the CA: HTTPS" \
  with_ca cc_verify_key "$P/leaf.pub" "$ref" --allow-http-registry

finish
