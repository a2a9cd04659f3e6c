#!/usr/bin/env bash
# `make demo`: sign a container image with notation through the external-signer plugin and verify it,
# on this machine only:
#   1. install the pinned peer tools (scripts/install-peers.sh) and build the plugin (cargo, release)
#   2. make a test PKI root -> intermediate -> leaf (scripts/certificates.sh, KEY_SPEC, default RSA-4096)
#   3. start a local registry (CNCF distribution) on a free 127.0.0.1 port and push two small images
#   4. install the plugin into a throw-away notation config (your ~/.config/notation is not touched),
#      trust the test root, write a strict trust policy
#   5. sign image 1 with the key file read by the plugin itself (JWS), image 2 through the signer
#      program examples/sign-with-openssl.sh (COSE), and verify both with `notation verify`
# Everything it starts is stopped and its temp dir (under <repo>/.demo/) removed when it ends;
# KEEP_WORKDIR=1 keeps the temp dir (PKI, notation config) for a look around.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

KEY_SPEC="${KEY_SPEC:-RSA-4096}"
SIGNER="$REPO_ROOT/examples/sign-with-openssl.sh"
# PLUGIN_BIN=path uses that plugin binary instead of building one.
PLUGIN_BIN_GIVEN="${PLUGIN_BIN:-}"
PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"

# step DESC CMD...: run CMD quietly; on failure show its output and stop with a clear message.
step() {
  local desc="$1" out
  shift
  out=$(mktemp "$W/step.XXXXXX")
  if ! "$@" >"$out" 2>&1; then
    printf '\n' >&2
    sed 's/^/  | /' "$out" >&2
    die "demo failed while trying to $desc (command: $*)"
  fi
  cat "$out"
}

W=$(make_workdir "$REPO_ROOT/.demo" demo)

phase "peer tools (scripts/install-peers.sh notation crane)"
step "install the peer tools (scripts/install-peers.sh)" scripts/install-peers.sh notation crane >/dev/null
log "notation $(notation version | awk '/^Version:/ {print $2}'), crane $(crane version)"

if [[ -z "$PLUGIN_BIN_GIVEN" ]]; then
  phase "build the plugin (cargo build --release --locked -p notation-plugin)"
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (rustup) >= 1.95"
  cargo build --release --locked -p notation-plugin || die "cargo build failed"
fi
[[ -x "$PLUGIN_BIN" ]] || die "the build did not produce $PLUGIN_BIN"

export HOME="$W/home" XDG_CONFIG_HOME="$W/xdg" DOCKER_CONFIG="$W/docker"
export NOTATION_CONFIG="$W/notation" NOTATION_LIBEXEC="$W/notation" NOTATION_CACHE="$W/notation-cache"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$DOCKER_CONFIG" "$NOTATION_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json"
unset NOTATION_USERNAME NOTATION_PASSWORD EXTERNAL_SIGNER EXTERNAL_PRIVATE_KEY EXTERNAL_CERT_CHAIN

phase "test PKI ($KEY_SPEC)"
PKI="$W/pki"
step "make the test PKI" scripts/certificates.sh --key-spec "$KEY_SPEC" --out "$PKI" >/dev/null
log "leaf: $(openssl x509 -in "$PKI/leaf.crt" -noout -subject | sed 's/^subject=//')"

phase "local registry"
addr=$(start_registry distribution "$W/registry")
REG="localhost:${addr##*:}"
log "registry: http://$REG (CNCF distribution)"

push_image() { # NAME: push a small image, print REG/demo/app@sha256:...
  local name="$1" d="$W/image-$1"
  mkdir -p "$d/root"
  printf 'external-signer demo image %s, %s\n' "$name" "$(date -u +%FT%TZ)" >"$d/root/hello.txt"
  head -c 32 /dev/urandom | od -An -tx1 >>"$d/root/hello.txt"
  tar -C "$d/root" -cf "$d/layer.tar" hello.txt
  step "push the $name image" crane append --oci-empty-base -f "$d/layer.tar" -t "$REG/demo/app:$name" >/dev/null
  printf '%s/demo/app@%s\n' "$REG" "$(step "resolve the $name image digest" crane digest "$REG/demo/app:$name")"
}
IMG1=$(push_image in-process)
IMG2=$(push_image signer-program)
log "image 1: $IMG1"
log "image 2: $IMG2"

phase "notation setup (isolated config)"
step "install the plugin" notation plugin install --file "$PLUGIN_BIN" >/dev/null
log "$(notation plugin list)"
step "trust the test root CA" notation cert add --type ca --store demo "$PKI/ca.crt" >/dev/null
strict_trust_policy demo demo "$W/trustpolicy.json"
step "import the trust policy" notation policy import --force "$W/trustpolicy.json" >/dev/null
cp "$NOTATION_CONFIG/trustpolicy.json" "$NOTATION_CONFIG/trustpolicy.oci.json"

phase "sign image 1: key file read by the plugin (JWS)"
step "sign image 1" notation sign --signature-format jws \
  --plugin external-signer --id demo-key \
  --plugin-config "private_key=$PKI/leaf.key" --plugin-config "cert_chain=$PKI/certificate_chain.pem" \
  "$IMG1"

phase "sign image 2: signer program examples/sign-with-openssl.sh (COSE)"
step "sign image 2" notation sign --signature-format cose \
  --plugin external-signer --id demo-key \
  --plugin-config "signer=$SIGNER" \
  --plugin-config "private_key=$PKI/leaf.key" --plugin-config "cert_chain=$PKI/certificate_chain.pem" \
  "$IMG2"

phase "verify"
VERIFIED=()
for img in "$IMG1" "$IMG2"; do
  if notation verify "$img" >"$W/verify.log" 2>&1; then
    VERIFIED+=(yes)
  else
    VERIFIED+=(no)
    sed 's/^/  | /' "$W/verify.log" >&2
  fi
done

phase_end
describe_sig() { # IMG -> "format algorithm signature-manifest-digest"
  notation inspect -o json "$1" 2>/dev/null |
    jq -r '.Signatures[] | "\(.mediaType)  \(.signatureAlgorithm)  signed \(.signedAttributes.signingTime)  (manifest \(.digest))"'
}
cat <<EOF

================================ external-signer demo ================================
key spec        $KEY_SPEC (leaf: $(openssl x509 -in "$PKI/leaf.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'))
registry        $REG (local CNCF distribution)

image 1         $IMG1
  signed by     the plugin's in-process key (private_key=leaf.key)
  signature     $(describe_sig "$IMG1")
  verified      ${VERIFIED[0]}

image 2         $IMG2
  signed by     examples/sign-with-openssl.sh (signer=...)
  signature     $(describe_sig "$IMG2")
  verified      ${VERIFIED[1]}
=======================================================================================
EOF
phases_summary
[[ "${VERIFIED[0]}" == yes && "${VERIFIED[1]}" == yes ]] ||
  die "notation verify failed for at least one image (output above)"
log "demo OK: both images signed through external-signer and verified by notation"
