#!/usr/bin/env bash
# A throwaway Kubernetes control plane with the Kyverno admission controller, without Docker and
# without a kubelet (admission happens when an object is created; stored Pods stay Pending):
#
#   etcd v3.6 (tests/cluster/etcd) -> kube-apiserver (tests/cluster/kube) -> Kyverno's admission
#   controller (cmd/kyverno) as a plain process outside the cluster, its webhooks registered by
#   itself with failurePolicy Fail.
#
# Everything is per run, in one directory: a CA, the API server's serving certificate (127.0.0.1),
# an admin client certificate (O=system:masters), a service-account signing key, an admin
# kubeconfig, the etcd data and every log. Everything listens on 127.0.0.1 only, on free ports.
# The binaries come from `scripts/install-peers.sh kube etcd kyverno` (`make peers-admission`).
#
# Two ways to use it:
#   source scripts/cluster.sh      from a script that already sourced scripts/lib.sh; then
#       cluster_start DIR          etcd + kube-apiserver; exports KUBECONFIG, sets CLUSTER_API
#       kyverno_start              Kyverno CRDs, namespace, RBAC, the controller; waits until its
#                                  webhook server is ready (https://127.0.0.1:PORT/health/readiness)
#       kyverno_stop               stop the controller (its Fail webhooks stay: every matched
#                                  create is refused until kyverno_start or kyverno_unregister)
#       kyverno_unregister         delete Kyverno's webhook configurations
#       ensure_namespace NS        the namespace and its `default` ServiceAccount (no
#                                  controller-manager here creates it)
#     Every process is recorded with lib.sh's spawn_service: lib.sh's trap stops them all on exit,
#     failure or Ctrl-C.
#   scripts/cluster.sh [--no-kyverno] [DIR]
#       starts everything, prints `export KUBECONFIG=...`, and keeps running until Ctrl-C (or TERM),
#       then stops everything it started. DIR defaults to a temp dir under <repo>/.e2e/.
# Environment: KYVERNO_ARGS (extra controller flags), CLUSTER_START_TIMEOUT (seconds per component,
# default 120).
set -euo pipefail

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  # shellcheck source=scripts/lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fi
[[ -n "${_LIB_SH_LOADED:-}" ]] || {
  echo "scripts/cluster.sh: source scripts/lib.sh first" >&2
  # shellcheck disable=SC2317 # exit when run, return when sourced
  return 1 2>/dev/null || exit 1
}

CLUSTER_START_TIMEOUT="${CLUSTER_START_TIMEOUT:-120}"
CLUSTER_DIR=''
CLUSTER_API=''
KYVERNO_PID=''
KYVERNO_ADDR=''
KYVERNO_NAMESPACE=kyverno

# _cluster_fail WHAT LOG: say which component did not come up, show its log's tail, and die (the
# lib.sh trap then stops everything that was started).
_cluster_fail() {
  local what="$1" logf="$2"
  warn "$what did not come up; last lines of $logf:"
  tail -n 25 "$logf" 2>/dev/null | sed 's/^/     | /' >&2 || true
  die "$what did not come up (log: $logf; KEEP_WORKDIR=1 keeps it)"
}

# _cluster_wait NAME PID LOG CMD...: wait until CMD succeeds, the process dies, or the timeout.
_cluster_wait() {
  local name="$1" pid="$2" logf="$3" deadline
  shift 3
  deadline=$(($(date +%s) + CLUSTER_START_TIMEOUT))
  while ! "$@" >/dev/null 2>&1; do
    pid_alive "$pid" || _cluster_fail "$name (process $pid exited)" "$logf"
    (($(date +%s) < deadline)) || _cluster_fail "$name (not ready after ${CLUSTER_START_TIMEOUT}s)" "$logf"
    sleep 0.2
  done
}

# _cluster_pki DIR: CA, API server certificate, admin client certificate, service-account key.
_cluster_pki() {
  local d="$1"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -keyout ca.key -out ca.crt -subj "/CN=e2e-kube-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout apiserver.key \
      -out apiserver.csr -subj "/CN=kube-apiserver"
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -out apiserver.crt -extfile <(printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature")
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout admin.key \
      -out admin.csr -subj "/O=system:masters/CN=e2e-admin"
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -out admin.crt -extfile <(printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature")
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key
    openssl pkey -in sa.key -pubout -out sa.pub
    chmod 0600 ./*.key
  ) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "could not make the control plane's certificates in $d"; }
}

# cluster_start DIR: etcd and kube-apiserver on free loopback ports; KUBECONFIG points at DIR.
cluster_start() {
  local d="$1" etcd_port peer_port api_port pid
  need_tools etcd kube-apiserver kubectl openssl curl
  CLUSTER_DIR="$d"
  mkdir -p "$d/logs"
  _cluster_pki "$d/pki"

  etcd_port=$(free_port)
  peer_port=$(free_port)
  pid=$(spawn_service cluster-etcd "$d/logs/etcd.log" etcd --name e2e --data-dir "$d/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "e2e=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level warn)
  _cluster_wait "etcd (127.0.0.1:$etcd_port)" "$pid" "$d/logs/etcd.log" \
    curl -sf --max-time 2 "http://127.0.0.1:$etcd_port/health"
  log "etcd ready on 127.0.0.1:$etcd_port (pid $pid)"

  api_port=$(free_port)
  CLUSTER_API="https://127.0.0.1:$api_port"
  pid=$(spawn_service cluster-kube-apiserver "$d/logs/kube-apiserver.log" kube-apiserver \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$d/pki/apiserver.crt" --tls-private-key-file "$d/pki/apiserver.key" \
    --client-ca-file "$d/pki/ca.crt" \
    --service-account-issuer "$CLUSTER_API" --service-account-key-file "$d/pki/sa.pub" \
    --service-account-signing-key-file "$d/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/24 --authorization-mode RBAC \
    --endpoint-reconciler-type none --cert-dir "$d/apiserver-certs" --profiling=false)
  cat >"$d/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: e2e
    cluster:
      server: $CLUSTER_API
      certificate-authority: $d/pki/ca.crt
users:
  - name: e2e-admin
    user:
      client-certificate: $d/pki/admin.crt
      client-key: $d/pki/admin.key
contexts:
  - name: e2e
    context: {cluster: e2e, user: e2e-admin}
current-context: e2e
EOF
  export KUBECONFIG="$d/kubeconfig"
  _cluster_wait "kube-apiserver ($CLUSTER_API)" "$pid" "$d/logs/kube-apiserver.log" \
    kubectl get --raw /readyz
  log "kube-apiserver $(kubectl version -o json 2>/dev/null | jq -r '.serverVersion.gitVersion') ready at $CLUSTER_API (pid $pid); KUBECONFIG=$KUBECONFIG"
}

# ensure_namespace NS: the namespace and its `default` ServiceAccount (the ServiceAccount admission
# plugin refuses Pods without it; no controller-manager creates it here).
ensure_namespace() {
  kubectl create namespace "$1" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl -n "$1" create serviceaccount default --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

# _kyverno_rbac: the accounts Kyverno checks its policies' permissions against. Without a
# controller-manager the aggregated ClusterRoles (view, ...) have no rules, so read access is
# granted explicitly; Kyverno itself runs with the admin kubeconfig.
_kyverno_rbac() {
  local sa
  for sa in kyverno-background-controller kyverno-reports-controller; do
    kubectl -n "$KYVERNO_NAMESPACE" create serviceaccount "$sa" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  done
  kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: e2e-kyverno-read
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: e2e-kyverno-read
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-kyverno-read}
subjects:
  - {kind: ServiceAccount, name: kyverno-background-controller, namespace: $KYVERNO_NAMESPACE}
  - {kind: ServiceAccount, name: kyverno-reports-controller, namespace: $KYVERNO_NAMESPACE}
EOF
}

# _kyverno_crds: the CRDs of the same Kyverno module version the controller was built from.
_kyverno_crds() {
  local dir i
  dir=$(go mod download -json "github.com/kyverno/kyverno@$KYVERNO_VERSION" | jq -r '.Dir // empty') ||
    die "go mod download github.com/kyverno/kyverno@$KYVERNO_VERSION failed (its CRDs are needed)"
  [[ -d "$dir/config/crds" ]] || die "no config/crds in $dir"
  # Server-side apply: some CRDs are too large for the client-side last-applied annotation.
  kubectl apply --server-side --force-conflicts -R -f "$dir/config/crds" >"$CLUSTER_DIR/logs/crds.log" 2>&1 ||
    { cat "$CLUSTER_DIR/logs/crds.log" >&2; die "applying Kyverno's CRDs failed"; }
  # `kubectl wait` right after the apply can fail while the CRDs are being registered: retry.
  for ((i = 0; i < 30; i++)); do
    kubectl wait --for condition=established --timeout=60s crd --all >>"$CLUSTER_DIR/logs/crds.log" 2>&1 && return 0
    sleep 1
  done
  cat "$CLUSTER_DIR/logs/crds.log" >&2
  die "Kyverno's CRDs were not established"
}

# kyverno_start: CRDs, namespace, RBAC (once), then the controller; waits until it serves.
kyverno_start() {
  local port pid t0
  need_tools kyverno-controller
  [[ -n "$CLUSTER_DIR" ]] || die "kyverno_start: call cluster_start first"
  t0=$(date +%s)
  if [[ ! -e "$CLUSTER_DIR/.kyverno-setup" ]]; then
    _kyverno_crds
    ensure_namespace "$KYVERNO_NAMESPACE"
    _kyverno_rbac
    : >"$CLUSTER_DIR/.kyverno-setup"
  fi
  port=$(free_port)
  KYVERNO_ADDR="127.0.0.1:$port"
  # Out of cluster: the environment a Deployment would give it (it checks that these are set; the
  # config maps they name are optional); webhook URLs are https://<serverIP><path>; it makes its own CA and serving
  # certificate (stored in the two Secrets) and registers its webhooks. Metrics, the
  # controller-runtime metrics server and profiling are off (they would listen on every interface).
  # --imageVerifyCacheEnabled=false: every create verifies its images (tests and the benchmark
  # measure verification, not the cache).
  # shellcheck disable=SC2086 # KYVERNO_ARGS: extra flags, split on purpose
  pid=$(spawn_service cluster-kyverno "$CLUSTER_DIR/logs/kyverno.log" \
    env KYVERNO_NAMESPACE="$KYVERNO_NAMESPACE" KYVERNO_SERVICEACCOUNT_NAME=kyverno-admission-controller \
    KYVERNO_DEPLOYMENT=kyverno-admission-controller KYVERNO_POD_NAME=kyverno-admission-controller-e2e \
    INIT_CONFIG=kyverno METRICS_CONFIG=kyverno-metrics kyverno-controller --kubeconfig "$KUBECONFIG" --serverIP "$KYVERNO_ADDR" \
    --webhookServerHost 127.0.0.1 --webhookServerPort "$port" \
    --caSecretName kyverno-e2e-ca --tlsSecretName kyverno-e2e-tls \
    --backgroundServiceAccountName "system:serviceaccount:$KYVERNO_NAMESPACE:kyverno-background-controller" \
    --reportsServiceAccountName "system:serviceaccount:$KYVERNO_NAMESPACE:kyverno-reports-controller" \
    --disableMetrics --metricsHost 127.0.0.1 --controllerRuntimeMetricsAddress 0 \
    --allowInsecureRegistry --imageVerifyCacheEnabled=false --loggingFormat text --disableLogColor \
    ${KYVERNO_ARGS:-})
  KYVERNO_PID=$pid
  # Its webhooks are registered a moment before its TLS secret exists: wait for readiness.
  _cluster_wait "the Kyverno admission controller ($KYVERNO_ADDR)" "$pid" "$CLUSTER_DIR/logs/kyverno.log" \
    curl -skf --max-time 2 "https://$KYVERNO_ADDR/health/readiness"
  _cluster_wait "Kyverno's webhook registration" "$pid" "$CLUSTER_DIR/logs/kyverno.log" \
    _kyverno_webhooks_present
  log "Kyverno $KYVERNO_VERSION admission controller ready at $KYVERNO_ADDR (pid $pid) after $(($(date +%s) - t0))s"
}

_kyverno_webhooks_present() {
  [[ -n "$(kubectl get validatingwebhookconfigurations -l webhook.kyverno.io/managed-by=kyverno -o name 2>/dev/null)" ]]
}

# kyverno_stop: stop the controller only (its webhooks stay registered, failurePolicy Fail).
kyverno_stop() {
  [[ -n "$KYVERNO_PID" ]] || return 0
  stop_services cluster-kyverno
  KYVERNO_PID=''
}

kyverno_unregister() {
  kubectl delete validatingwebhookconfigurations,mutatingwebhookconfigurations \
    -l webhook.kyverno.io/managed-by=kyverno --ignore-not-found >/dev/null
}

# wait_policy_ready KIND NAME: wait until Kyverno marks the policy Ready (its webhooks are then
# configured for it).
wait_policy_ready() {
  local i
  for ((i = 0; i < 150; i++)); do
    [[ "$(kubectl get "$1" "$2" -o jsonpath='{.status.conditionStatus.ready}{.status.ready}' 2>/dev/null)" == *true* ]] && return 0
    sleep 0.2
  done
  kubectl get "$1" "$2" -o yaml >&2 || true
  return 1
}

# ---------------------------------------------------------------- run directly
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  WITH_KYVERNO=1
  DIR=''
  while (($#)); do
    case "$1" in
      --no-kyverno) WITH_KYVERNO='' ;;
      -h | --help) sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      -*) die "unknown option '$1' (see --help)" ;;
      *) DIR="$1" ;;
    esac
    shift
  done
  if [[ -z "$DIR" ]]; then
    DIR=$(make_workdir "$REPO_ROOT/.e2e" cluster)
  else
    mkdir -p "$DIR"
  fi
  GOMODCACHE=$(go env GOMODCACHE) && export GOMODCACHE
  cluster_start "$DIR"
  [[ -z "$WITH_KYVERNO" ]] || kyverno_start
  printf 'export KUBECONFIG=%s\n' "$KUBECONFIG"
  log "running; Ctrl-C stops etcd, kube-apiserver${WITH_KYVERNO:+ and Kyverno}"
  while true; do
    sleep 1 &
    wait $! || true
  done
fi
