#!/usr/bin/env bash
# `make demo-admission`: runtime admission as a cluster user sees it, on this machine only, no Docker:
#   1. a test PKI (scripts/certificates.sh, EC-256), a local registry (CNCF distribution), two images;
#      image 1 signed with notation through notation-external-signer, image 2 left unsigned
#   2. a control plane (etcd + kube-apiserver, per-run certificates, loopback) and the Kyverno
#      admission controller (scripts/cluster.sh), webhooks with failurePolicy Fail
#   3. the ImageValidatingPolicy rendered from the PKI (scripts/kyverno-policies.sh), applied with kubectl
#   4. `kubectl run` of image 1: admitted, the stored Pod's image shown (by digest; the Pod names the
#      tag, Kyverno rewrites it); `kubectl run` of image 2: refused with Kyverno's message
#   5. everything stopped, the temp dir (under <repo>/.demo/) removed; KEEP_WORKDIR=1 keeps it
# Needs the binaries `make demo-admission` builds first: the plugin (cargo) and the peers
# (`make peers peers-admission`: notation, crane, Kyverno, kube-apiserver, kubectl, etcd).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/cluster.sh
source "$REPO_ROOT/scripts/cluster.sh"
cd "$REPO_ROOT"

PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"
[[ -x "$PLUGIN_BIN" ]] || die "$PLUGIN_BIN not found: run 'make build' (or 'make demo-admission', which builds it)"
need_tools notation crane jq openssl curl docker-registry etcd kube-apiserver kubectl kyverno-controller

# step DESC CMD...: run CMD quietly; on failure show its output and stop with a clear message.
step() {
  local desc="$1" out
  shift
  out=$(mktemp "$W/step.XXXXXX")
  if ! "$@" >"$out" 2>&1; then
    sed 's/^/  | /' "$out" >&2
    die "demo failed while trying to $desc (command: $*)"
  fi
  cat "$out"
}

GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)
export GOMODCACHE GOCACHE
W=$(make_workdir "$REPO_ROOT/.demo" admission)
isolate_env "$W"

phase "PKI, registry, images"
step "make the test PKI" scripts/certificates.sh --key-spec EC-256 --out "$W/pki" >/dev/null
addr=$(start_registry distribution "$W/registry")
REG="localhost:${addr##*:}"
push() { # NAME: push a small image tagged NAME, print its digest
  mkdir -p "$W/img-$1"
  printf 'external-signer admission demo %s %s\n' "$1" "$(od -An -N8 -tx1 /dev/urandom | tr -d ' ')" >"$W/img-$1/hello.txt"
  tar -C "$W/img-$1" -cf "$W/img-$1.tar" hello.txt
  step "push the $1 image" crane append --oci-empty-base -f "$W/img-$1.tar" -t "$REG/demo/app:$1" >/dev/null
  step "resolve the $1 image" crane digest "$REG/demo/app:$1"
}
SIGNED_DIGEST=$(push signed)
push unsigned >/dev/null
log "registry http://$REG: $REG/demo/app:signed ($SIGNED_DIGEST), $REG/demo/app:unsigned"

phase "sign $REG/demo/app:signed with notation + notation-external-signer"
step "install the plugin" notation plugin install --file "$PLUGIN_BIN" >/dev/null
step "sign the image" notation sign --plugin external-signer --id demo \
  --plugin-config "private_key=$W/pki/leaf.key" --plugin-config "cert_chain=$W/pki/certificate_chain.pem" \
  "$REG/demo/app@$SIGNED_DIGEST" | sed 's/^/  /'

phase "control plane and Kyverno admission controller"
cluster_start "$W/cluster"
kyverno_start
ensure_namespace demo

phase "policy: ImageValidatingPolicy rendered from the PKI"
step "render the policies" scripts/kyverno-policies.sh --cert-dir "$W/pki" --out "$W/policies" --image-ref "$REG/*" >/dev/null
step "apply the policy" kubectl apply -f "$W/policies/kyverno-ivpol-notation.yaml" | sed 's/^/  /'
POLICY=$(awk '/^  name:/ {print $2; exit}' "$W/policies/kyverno-ivpol-notation.yaml")
wait_policy_ready imagevalidatingpolicies.policies.kyverno.io "$POLICY" || die "the policy $POLICY did not become Ready"
log "  $POLICY is Ready"

phase "kubectl run of the signed image (by tag)"
printf '$ kubectl -n demo run signed --image %s --restart Never\n' "$REG/demo/app:signed"
step "create the Pod of the signed image" kubectl -n demo run signed --image "$REG/demo/app:signed" --restart Never | sed 's/^/  /'
stored=$(kubectl -n demo get pod signed -o jsonpath='{.spec.containers[0].image}')
printf '  stored Pod image: %s\n' "$stored"
[[ "$stored" == *"@$SIGNED_DIGEST" ]] || die "the stored image '$stored' does not carry the digest $SIGNED_DIGEST"

phase "kubectl run of the unsigned image"
printf '$ kubectl -n demo run unsigned --image %s --restart Never\n' "$REG/demo/app:unsigned"
if kubectl -n demo run unsigned --image "$REG/demo/app:unsigned" --restart Never >"$W/unsigned.log" 2>&1; then
  die "the unsigned image was admitted"
fi
sed 's/^/  /' "$W/unsigned.log"
grep -q "denied the request" "$W/unsigned.log" || die "the refusal does not come from the admission webhook"
! kubectl -n demo get pod unsigned >/dev/null 2>&1 || die "a Pod of the unsigned image was stored"

phase_end
phases_summary
log "demo done: the signed Pod was admitted (image $stored), the unsigned one refused; stopping Kyverno, the API server, etcd and the registry"
