#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check and the EXIT trap
# The whole admission flow on a real cluster: Kind + a local registry + Kyverno from its Helm chart,
# with the policies from scripts/kyverno-policies.sh, and images signed here with notation (through
# notation-external-signer) and with cosign-compat.
#
#   1. a registry container (registry:2) on 127.0.0.1:$KIND_REGISTRY_PORT, attached to the `kind`
#      network as $KIND_REGISTRY_NAME:5000; the Kind nodes' containerd pulls from it over HTTP
#      (certs.d/hosts.toml), and Pods name their images $KIND_REGISTRY_NAME:5000/... so that the
#      nodes and Kyverno (inside the cluster) reach the same registry
#   2. Kyverno (chart $KYVERNO_CHART_VERSION = Kyverno 1.15.x) with
#      features.registryClient.allowInsecure=true (--allowInsecureRegistry: plain HTTP to the registry)
#   3. a PKI (scripts/certificates.sh, RSA-3072), the policies rendered for it: the Notary policy for
#      $KIND_REGISTRY_NAME:5000/notation/*, the Cosign policy for $KIND_REGISTRY_NAME:5000/cosign/*
#   4. registry.k8s.io/pause copied into notation/, cosign/ and unsigned repositories; the
#      notation/ and cosign/ copies signed, plus unsigned copies in notation/ and cosign/
#   5. assertions: `kubectl run --dry-run=server` admits the signed images (and rewrites a tag to
#      its digest), denies the unsigned ones with the policy's message; `kubectl create deployment`
#      of a signed image rolls out, of an unsigned one never gets a Pod (FailedCreate, denied by
#      the policy: autogen is off, so the Pods, not the Deployment, are checked)
#
# It needs Docker (a running engine), kind, helm and kubectl on PATH, network access to pull the
# Kind node image, the Kyverno chart and images, and registry.k8s.io/pause; and what `make
# e2e-build` builds (notation, crane, the plugin, cosign-compat).
#
# usage: scripts/kind-cluster.sh          (or `make e2e-kind`)
# environment:
#   KIND_CLUSTER           cluster name (default external-signer-kyverno)
#   KIND_NODE_IMAGE        kind node image (default: kind's default)
#   KIND_REGISTRY_NAME     registry container name (default kind-registry-external-signer)
#   KIND_REGISTRY_PORT     host port of the registry (default 5001)
#   KYVERNO_CHART_VERSION  Kyverno Helm chart version (default 3.5.2, i.e. Kyverno v1.15.2)
#   PAUSE_IMAGE            the runnable test image copied into the registry (default registry.k8s.io/pause:3.10)
#   KEEP_CLUSTER=1         leave the cluster and the registry running (default: deleted on exit,
#                          unless they existed before)
#   KEEP_WORKDIR=1, CHECK_TIMEOUT
# Ends with `N passed, N failed`; exits 1 if anything failed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

CLUSTER="${KIND_CLUSTER:-external-signer-kyverno}"
REG_NAME="${KIND_REGISTRY_NAME:-kind-registry-external-signer}"
REG_PORT="${KIND_REGISTRY_PORT:-5001}"
CHART_VERSION="${KYVERNO_CHART_VERSION:-3.5.2}"
PAUSE_IMAGE="${PAUSE_IMAGE:-registry.k8s.io/pause:3.10}"
PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
HOST_REG="localhost:$REG_PORT"   # where this script pushes and signs (plain HTTP: localhost)
NODE_REG="$REG_NAME:5000"        # the same registry as the nodes and Kyverno see it
CTX="kind-$CLUSTER"

# ====================================================================== preflight (fail fast)
phase "preflight"
missing=()
for c in docker kind helm kubectl; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
((${#missing[@]} == 0)) ||
  die "not found: ${missing[*]}. This flow needs Docker (running engine), kind (kind.sigs.k8s.io), helm (v3) and kubectl; 'make e2e-kyverno' checks the same policies without a cluster"
docker info >/dev/null 2>&1 ||
  die "'docker info' failed: the Docker engine is not running or not reachable by $(id -un) (kind needs it)"
for c in notation crane; do
  command -v "$c" >/dev/null 2>&1 || die "'$c' not found: run 'make peers'"
done
[[ -x "$PLUGIN_BIN" ]] || die "$PLUGIN_BIN not found: run 'make build'"
[[ -x "$CC" ]] || die "$CC not found: run 'make build'"
[[ "$REG_PORT" =~ ^[0-9]+$ ]] || die "KIND_REGISTRY_PORT must be a port number, not '$REG_PORT'"
log "docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(kind version 2>/dev/null), helm $(helm version --short 2>/dev/null), kubectl $(kubectl version --client -o json 2>/dev/null | jq -r .clientVersion.gitVersion)"

W=$(make_workdir "$REPO_ROOT/.e2e" kind)
export NOTATION_CONFIG="$W/notation" NOTATION_LIBEXEC="$W/libexec" NOTATION_CACHE="$W/notation-cache"
export DOCKER_CONFIG="$W/docker"
mkdir -p "$NOTATION_CONFIG" "$NOTATION_LIBEXEC" "$NOTATION_CACHE" "$DOCKER_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json"
# kind, kubectl and helm keep their own state under the real HOME (kubeconfig, helm cache): only
# the signing tools are isolated. kubectl always gets --context, so the current context is unused.
K() { kubectl --context "$CTX" "$@"; }
unset EXTERNAL_SIGNER EXTERNAL_PRIVATE_KEY EXTERNAL_CERT_CHAIN

# ====================================================================== cleanup
CREATED_CLUSTER='' CREATED_REGISTRY=''
_kind_cleanup() {
  if [[ -n "${KEEP_CLUSTER:-}" ]]; then
    log "KEEP_CLUSTER set: cluster '$CLUSTER' (kubectl --context $CTX) and registry $HOST_REG are left running"
    return 0
  fi
  if [[ -n "$CREATED_CLUSTER" ]]; then
    log "deleting kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || warn "kind delete cluster --name $CLUSTER failed"
  fi
  if [[ -n "$CREATED_REGISTRY" ]]; then
    log "removing registry container $REG_NAME"
    docker rm -f "$REG_NAME" >/dev/null 2>&1 || warn "docker rm -f $REG_NAME failed"
  fi
}
_kind_exit() {
  local status=$?
  _kind_cleanup || true
  (exit "$status")
  _lib_cleanup # lib.sh's handler: stops services, removes work dirs, exits with $status
}
trap _kind_exit EXIT

# ====================================================================== 1. registry + cluster
phase "local registry ($HOST_REG on the host, $NODE_REG in the cluster)"
if [[ "$(docker inspect -f '{{.State.Running}}' "$REG_NAME" 2>/dev/null || true)" != true ]]; then
  docker rm -f "$REG_NAME" >/dev/null 2>&1 || true
  docker run -d --restart=always -p "127.0.0.1:$REG_PORT:5000" --network bridge --name "$REG_NAME" registry:2 >/dev/null ||
    die "could not start the registry container (is port $REG_PORT free? set KIND_REGISTRY_PORT)"
  CREATED_REGISTRY=1
fi
wait_http "http://$HOST_REG/v2/" 60 || die "the registry does not answer on http://$HOST_REG/v2/"

phase "kind cluster $CLUSTER"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "cluster $CLUSTER exists: reusing it"
else
  cat >"$W/kind.yaml" <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
EOF
  node_image=()
  [[ -z "${KIND_NODE_IMAGE:-}" ]] || node_image=(--image "$KIND_NODE_IMAGE")
  CREATED_CLUSTER=1
  kind create cluster --name "$CLUSTER" --config "$W/kind.yaml" "${node_image[@]}" --wait 120s ||
    die "kind create cluster failed"
fi
# Containerd on every node: both names of the registry go to http://$NODE_REG.
for node in $(kind get nodes --name "$CLUSTER"); do
  for host in "$HOST_REG" "$NODE_REG"; do
    docker exec "$node" mkdir -p "/etc/containerd/certs.d/$host"
    printf '[host."http://%s"]\n' "$NODE_REG" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/$host/hosts.toml"
  done
done
if [[ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REG_NAME")" == null ]]; then
  docker network connect kind "$REG_NAME" || die "docker network connect kind $REG_NAME failed"
fi
K apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "$HOST_REG"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
EOF

# ====================================================================== 2. Kyverno
phase "Kyverno (Helm chart $CHART_VERSION, allowInsecure registry client)"
helm repo add kyverno https://kyverno.github.io/kyverno/ --force-update >/dev/null || die "helm repo add kyverno failed"
helm --kube-context "$CTX" upgrade --install kyverno kyverno/kyverno --namespace kyverno --create-namespace \
  --version "$CHART_VERSION" \
  --set features.registryClient.allowInsecure=true \
  --set admissionController.replicas=1 \
  --set backgroundController.enabled=false \
  --set cleanupController.enabled=false \
  --set reportsController.enabled=false \
  --wait --timeout 10m || die "helm install kyverno $CHART_VERSION failed"
K -n kyverno rollout status deploy/kyverno-admission-controller --timeout 300s ||
  die "the Kyverno admission controller did not become ready"
log "Kyverno image: $(K -n kyverno get deploy kyverno-admission-controller -o jsonpath='{.spec.template.spec.containers[0].image}')"

# ====================================================================== 3. PKI and policies
phase "PKI and policies"
PKI="$W/pki"
scripts/certificates.sh --key-spec RSA-3072 --out "$PKI" >"$W/pki.log" 2>&1 ||
  { cat "$W/pki.log" >&2; die "scripts/certificates.sh failed"; }
scripts/kyverno-policies.sh --no-autogen --cert-dir "$PKI" --out "$W/policies-notation" --image-ref "$NODE_REG/notation/*" ||
  die "scripts/kyverno-policies.sh failed"
scripts/kyverno-policies.sh --no-autogen --cert-dir "$PKI" --out "$W/policies-cosign" --image-ref "$NODE_REG/cosign/*" ||
  die "scripts/kyverno-policies.sh failed"
check "kubectl apply the Notary ClusterPolicy" K apply -f "$W/policies-notation/kyverno-policy-notation.yaml"
check "kubectl apply the Cosign ClusterPolicy" K apply -f "$W/policies-cosign/kyverno-policy-cosign.yaml"
check "the Notary ClusterPolicy becomes Ready" \
  K wait --for=condition=Ready clusterpolicy/verify-notation-signature --timeout=120s
check "the Cosign ClusterPolicy becomes Ready" \
  K wait --for=condition=Ready clusterpolicy/verify-cosign-signature --timeout=120s

# ====================================================================== 4. images and signatures
phase "images (copies of $PAUSE_IMAGE) and signatures"
copy_image() { # REPO -> prints the digest
  crane copy "$PAUSE_IMAGE" "$HOST_REG/$1:3.10" >"$W/copy-${1//\//-}.log" 2>&1 ||
    { cat "$W/copy-${1//\//-}.log" >&2; die "crane copy $PAUSE_IMAGE $HOST_REG/$1 failed (network?)"; }
  crane digest "$HOST_REG/$1:3.10"
}
D=$(copy_image notation/pause)
copy_image notation/unsigned >/dev/null
copy_image cosign/pause >/dev/null
copy_image cosign/unsigned >/dev/null
log "pause digest (the same in every repository): $D"
check "notation plugin install" notation plugin install --file "$PLUGIN_BIN"
check "notation sign (notation-external-signer) $HOST_REG/notation/pause@$D" \
  notation sign --plugin external-signer --id kind --plugin-config "private_key=$PKI/leaf.key" \
  --plugin-config "cert_chain=$PKI/certificate_chain.pem" "$HOST_REG/notation/pause@$D"
check "cosign-compat sign --key --certificate-chain $HOST_REG/cosign/pause@$D" \
  "$CC" sign --new-bundle-format=false --key "$PKI/leaf.key" --certificate-chain "$PKI/certificate_chain.pem" "$HOST_REG/cosign/pause@$D"

# ====================================================================== 5. admission
phase "admission: kubectl run --dry-run=server"
N=0
dry_run() { # IMAGE: kubectl run --dry-run=server, prints the admitted image
  N=$((N + 1))
  K run "dry-run-$N" --image="$1" --restart=Never --dry-run=server -o jsonpath='{.spec.containers[0].image}'
}
for kind in notation cosign; do
  policy=verify-$kind-signature
  check "$kind: signed image by digest is admitted" dry_run "$NODE_REG/$kind/pause@$D"
  check_output_contains "$kind: signed image by tag is admitted, the tag rewritten to the digest" \
    "@$D" dry_run "$NODE_REG/$kind/pause:3.10"
  check_fails_with "$kind: unsigned copy in the policy's repository is denied by $policy" \
    "$policy" dry_run "$NODE_REG/$kind/unsigned@$D"
done
check "an image outside the policies' imageReferences is not checked" dry_run "$PAUSE_IMAGE"

phase "admission: kubectl create deployment"
# rolled_out NAME: the Deployment's Pods run.
rolled_out() { K rollout status "deploy/$1" --timeout=180s; }
# never_admitted NAME POLICY: no Pod of the Deployment exists, and its ReplicaSet reports
# FailedCreate with the policy's denial.
failed_creates() { # DEPLOYMENT: "replicaset<TAB>message" of the FailedCreate events of its ReplicaSets
  K get events --field-selector reason=FailedCreate,involvedObject.kind=ReplicaSet \
    -o jsonpath='{range .items[*]}{.involvedObject.name}{"\t"}{.message}{"\n"}{end}' | grep "^$1-" || true
}
never_admitted() {
  local i ev
  for ((i = 0; i < 60; i++)); do
    ev=$(failed_creates "$1" | grep -F "$2" | tail -n 1)
    if [[ -n "$ev" ]]; then
      printf '%s\n' "$ev"
      [[ "$(K get pods -l "app=$1" -o name | wc -l)" -eq 0 ]] || { echo "but $1 has Pods"; return 1; }
      return 0
    fi
    sleep 2
  done
  echo "no FailedCreate event naming $2 for $1 after 120s"
  return 1
}
for kind in notation cosign; do
  K delete deploy "signed-$kind" "unsigned-$kind" --ignore-not-found >/dev/null
  check "$kind: kubectl create deployment (signed image)" \
    K create deployment "signed-$kind" --image="$NODE_REG/$kind/pause@$D"
  check "$kind: the signed Deployment rolls out" rolled_out "signed-$kind"
  check "$kind: kubectl create deployment (unsigned image): the Deployment itself is created" \
    K create deployment "unsigned-$kind" --image="$NODE_REG/$kind/unsigned@$D"
  check "$kind: ... but its Pods are denied by verify-$kind-signature (FailedCreate)" \
    never_admitted "unsigned-$kind" "verify-$kind-signature"
done

finish
