#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check
# End-to-end check of runtime admission: a real kube-apiserver (+ etcd) calls the real Kyverno
# admission controller, which verifies the signatures of the images of every Pod and Deployment
# created with kubectl. No Docker, no kubelet: admission happens at create, stored Pods stay Pending.
#
#   - control plane and Kyverno from scripts/cluster.sh (etcd v3.6, kube-apiserver v1.35, Kyverno
#     v1.19.1 outside the cluster, webhooks failurePolicy Fail), all on loopback, per-run certificates
#   - two registries: CNCF distribution (no Referrers API) and olareg (Referrers API)
#   - PKIs from scripts/certificates.sh (RSA-3072, EC-256, an untrusted EC-256 CA) and a SoftHSM2
#     token (scripts/softhsm-pki.sh); images signed with notation through notation-external-signer
#     (JWS and COSE, RSA and EC, key file, signer program, PKCS#11 token) and with `cosign-compat
#     sign` (--key, --key + --certificate-chain), and with the real cosign v3 (bundle format)
#   - the policies rendered by scripts/kyverno-policies.sh, each kind scoped to its own
#     repositories so that they are checked one by one in the same cluster:
#       REG/cpol-notary/*   ClusterPolicy type Notary        REG/ivpol-notary/*  ImageValidatingPolicy v1 notary
#       REG/cpol-cosign/*   ClusterPolicy type Cosign        REG/ivpol-cosign/*  ImageValidatingPolicy v1 cosign
#     and two rendered here for sigstore bundles:
#       REG/cpol-bundle/*   ClusterPolicy type SigstoreBundle  REG/ivpol-keyless/*  IVPOL keyless + trustedRoot
#   - sigstore bundles (cosign v3's default): cosign-compat key bundles on both registries (on
#     distribution through the sha256-<hex> fallback index), certificate bundles (leaf only, from
#     cosign; leaf + intermediate, from cosign-compat) and images signed both ways (.sig and
#     bundle by different keys), against every cosign policy: what each admits or refuses, with
#     the message (kubectl's error, or for an IVPOL each attestor's error in Kyverno's log)
#   - sigstore's TUF client, which some of these cases make Kyverno start, is pointed at a closed
#     loopback port ($TUF_ROOT/remote.json): nothing leaves the machine
#   - assertions on the API server's answer: admitted and stored with the image by digest (a tag
#     is rewritten to its digest), or refused with the policy's name and message in kubectl's error
#     and nothing stored; fail closed with the registry stopped and with Kyverno stopped.
#
# Everything lives in a temp dir under <repo>/.e2e/ (removed on exit; KEEP_WORKDIR=1 keeps it, with
# the control plane's logs). Every process started here is stopped on exit, failure or Ctrl-C.
#
# usage: tests/e2e/admission.sh   (or `make e2e-admission`, which builds everything first)
# environment: PLUGIN_BIN, COSIGN_COMPAT_BIN, KEEP_WORKDIR=1, CHECK_TIMEOUT (seconds per command)
# Prints each phase's duration and ends with `N passed, N failed`; exits 1 if anything failed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
# shellcheck source=scripts/cluster.sh
source "$REPO_ROOT/scripts/cluster.sh"
cd "$REPO_ROOT"

PLUGIN_NAME=external-signer
PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"
CC="${COSIGN_COMPAT_BIN:-$REPO_ROOT/target/release/cosign-compat}"
SIGNER_SCRIPT="$REPO_ROOT/examples/sign-with-openssl.sh"
NS=e2e

# ====================================================================== preflight
phase "preflight"
need_tools etcd kube-apiserver kubectl kyverno-controller notation crane olareg cosign jq openssl curl \
  docker-registry softhsm2-util pkcs11-tool
[[ -x "$PLUGIN_BIN" ]] || die "$PLUGIN_BIN not found: run 'make build'"
[[ -x "$CC" ]] || die "$CC not found: run 'make build' (cargo build --release --locked -p cosign-compat)"
log "kube-apiserver $(kube-apiserver --version 2>/dev/null | awk '{print $2}'), kyverno-controller $KYVERNO_VERSION, etcd $(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}'), notation $(notation version 2>/dev/null | awk '/^Version:/ {print $2}'), cosign $(cosign version 2>/dev/null | awk '/GitVersion/ {print $2}')"

# Go keeps its caches under HOME by default: pin them before HOME moves into the work dir (the
# Kyverno CRDs come from the module cache).
GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
export GOCACHE GOMODCACHE GOPATH
W=$(make_workdir "$REPO_ROOT/.e2e" admission)
log "work dir: $W"
isolate_env "$W"

# ====================================================================== control plane
phase "control plane: etcd, kube-apiserver, Kyverno admission controller"
# Some certificate-bundle cases below make Kyverno initialise sigstore's TUF client (that is what
# they show). It must never reach the public TUF repository: sigstore's client reads its mirror
# from $TUF_ROOT/remote.json (isolate_env points TUF_ROOT into the work dir, and the controller
# inherits it), so the mirror is a closed loopback port; the IVPOL keyless attestor names the same
# mirror itself. The assertions check that Kyverno's TUF errors name this mirror.
TUF_MIRROR=http://127.0.0.1:9
printf '{"mirror":"%s"}\n' "$TUF_MIRROR" >"$TUF_ROOT/remote.json"
cluster_start "$W/cluster"
kyverno_start
ensure_namespace "$NS"
check "the API server has Kyverno's webhooks, failurePolicy Fail" \
  bash -c 'kubectl get validatingwebhookconfigurations -l webhook.kyverno.io/managed-by=kyverno -o json |
    jq -e "[.items[] | (.webhooks // [])[] | select(.failurePolicy == \"Fail\")] | length > 0"'

# ====================================================================== registries, PKIs, token
phase "registries, notation plugin, PKIs, SoftHSM2 token"
_d=$(start_registry distribution "$W/registry-distribution")
REG_DIST="localhost:${_d##*:}"
_r=$(start_registry referrers "$W/registry-referrers")
REG_REF="localhost:${_r##*:}"
log "distribution (no Referrers API): $REG_DIST; olareg (Referrers API): $REG_REF"
check "notation plugin install --file $(basename "$PLUGIN_BIN")" notation plugin install --file "$PLUGIN_BIN"
PKI="$W/pki"
make_pkis "$PKI" "rsa:RSA-3072:E2E Admission RSA" "ec:EC-256:E2E Admission EC" "other:EC-256:E2E Other CA" \
  "chainonly:EC-256:E2E Chain-only"
# A CA the policies trust whose leaf is another signer (URI SAN https://intruder.example.test).
check "certificates.sh: a trusted CA whose leaf has another identity (--leaf-uri)" \
  scripts/certificates.sh --key-spec EC-256 --out "$PKI/intruder" --name "E2E Intruder" --leaf-uri https://intruder.example.test
HSM="$W/hsm"
check "scripts/softhsm-pki.sh --key-specs 'EC-256 RSA-3072'" scripts/softhsm-pki.sh --out "$HSM" --key-specs "EC-256 RSA-3072"
export SOFTHSM2_CONF="$HSM/softhsm2.conf"
[[ -s "$HSM/ec-256/uri" && -s "$HSM/rsa-3072/uri" ]] || die "scripts/softhsm-pki.sh did not make the token keys"

# ====================================================================== policies
phase "policies: scripts/kyverno-policies.sh, applied with kubectl"
# render KIND PREFIX FILE: the policies for REG/KIND/* on both registries; applies FILE of them.
POLICY_NAMES=()
render_apply() {
  local kind="$1" prefix="$2" file="$3" out="$W/policies/$1"
  check "kyverno-policies.sh renders the $kind policies (images $REG_DIST/$kind/*, $REG_REF/$kind/*)" \
    scripts/kyverno-policies.sh --cert-dir "$PKI/rsa" --cert-dir "$PKI/ec" --ca-dir "$HSM" --ca-dir "$PKI/chainonly" --ca-dir "$PKI/intruder" --out "$out" \
    --name-prefix "$prefix" --image-ref "$REG_DIST/$kind/*" --image-ref "$REG_REF/$kind/*"
  check "kubectl apply -f $file ($kind)" kubectl apply -f "$out/$file"
  POLICY_NAMES+=("$(awk '/^  name:/ {print $2; exit}' "$out/$file")")
}
render_apply cpol-notary cpol- kyverno-policy-notation.yaml
render_apply cpol-cosign cpol- kyverno-policy-cosign.yaml
render_apply ivpol-notary '' kyverno-ivpol-notation.yaml
render_apply ivpol-cosign '' kyverno-ivpol-cosign.yaml
CPOL_NOTARY=${POLICY_NAMES[0]} CPOL_COSIGN=${POLICY_NAMES[1]}
IVPOL_NOTARY=${POLICY_NAMES[2]} IVPOL_COSIGN=${POLICY_NAMES[3]}

# Two policies for sigstore bundles that scripts/kyverno-policies.sh does not render (what they
# show is what Kyverno 1.19.1 cannot do offline), each scoped to its own repositories:
#   REG/cpol-bundle/*     ClusterPolicy verifyImages type SigstoreBundle (deprecated form): the
#                         two leaf keys (rekor.ignoreTlog, ctlog.ignoreSCT) or a certificate under
#                         the CAs, count 1
#   REG/ivpol-keyless/*   ImageValidatingPolicy cosign keyless attestor with a trustedRoot (the
#                         file `cosign-compat trusted-root` writes for the EC PKI)
pem_blocks() { awk '/^-----BEGIN /{p=1} p{sub(/\r$/, ""); print} /^-----END /{p=0}' "$@"; }
indent() { sed "s/^/$(printf '%*s' "$1" '')/"; }
CPOL_BUNDLE=cpol-verify-sigstore-bundle IVPOL_KEYLESS=ivpol-keyless-trusted-root
render_bundle_policies() {
  local d="$W/policies/bundle"
  mkdir -p "$d"
  "$CC" trusted-root --certificate-chain "$PKI/ec/cosign_chain.pem" --out "$d/trusted_root.json" || return 1
  cat >"$d/cpol-sigstore-bundle.yaml" <<EOF
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: $CPOL_BUNDLE
  annotations:
    pod-policies.kyverno.io/autogen-controllers: none
spec:
  background: false
  webhookTimeoutSeconds: 30
  rules:
    - name: sigstore-bundle
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - type: SigstoreBundle
          imageReferences: ['$REG_DIST/cpol-bundle/*', '$REG_REF/cpol-bundle/*']
          failureAction: Enforce
          mutateDigest: true
          verifyDigest: true
          required: true
          attestors:
            - count: 1
              entries:
                - keys:
                    publicKeys: |-
$(pem_blocks "$PKI/rsa/leaf.pub" "$PKI/ec/leaf.pub" | indent 22)
                    signatureAlgorithm: sha256
                    rekor: {url: https://rekor.sigstore.dev, ignoreTlog: true}
                    ctlog: {ignoreSCT: true}
                - certificates:
                    certChain: |-
$(pem_blocks "$PKI/ec/ca.crt" "$PKI/ec/intermediate.crt" | indent 22)
                    rekor: {url: https://rekor.sigstore.dev, ignoreTlog: true}
                    ctlog: {ignoreSCT: true}
EOF
  cat >"$d/ivpol-keyless-trusted-root.yaml" <<EOF
apiVersion: policies.kyverno.io/v1
kind: ImageValidatingPolicy
metadata:
  name: $IVPOL_KEYLESS
spec:
  validationActions: [Deny]
  failurePolicy: Fail
  webhookConfiguration: {timeoutSeconds: 30}
  evaluation: {background: {enabled: false}}
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"]}
  matchImageReferences:
    - glob: '$REG_DIST/ivpol-keyless/*'
    - glob: '$REG_REF/ivpol-keyless/*'
  validationConfigurations: {mutateDigest: true, verifyDigest: true, required: true}
  attestors:
    - name: keyless
      cosign:
        keyless:
          identities:
            - {subjectRegExp: '.*', issuerRegExp: '.*'}
        trustedRoot:
          value: |-
$(indent 12 <"$d/trusted_root.json")
        ctlog: {insecureIgnoreTlog: true, insecureIgnoreSCT: true}
        tuf: {mirror: '$TUF_MIRROR'}
  validations:
    - expression: "images.containers.map(image, verifyImageSignatures(image, [attestors.keyless])).all(e, e > 0)"
      message: no cosign signature by a certificate of the trusted root
EOF
}
check "render a ClusterPolicy type SigstoreBundle and an ImageValidatingPolicy keyless + trustedRoot" render_bundle_policies
check "kubectl apply -f cpol-sigstore-bundle.yaml (cpol-bundle)" kubectl apply -f "$W/policies/bundle/cpol-sigstore-bundle.yaml"
check "kubectl apply -f ivpol-keyless-trusted-root.yaml (ivpol-keyless)" kubectl apply -f "$W/policies/bundle/ivpol-keyless-trusted-root.yaml"

check "ClusterPolicies Ready" kubectl wait --for=condition=Ready --timeout=60s \
  "clusterpolicy/$CPOL_NOTARY" "clusterpolicy/$CPOL_COSIGN" "clusterpolicy/$CPOL_BUNDLE"
ivpol_ready() {
  local p
  for p in "$IVPOL_NOTARY" "$IVPOL_COSIGN" "$IVPOL_KEYLESS"; do
    wait_policy_ready imagevalidatingpolicies.policies.kyverno.io "$p" || return 1
  done
}
check "ImageValidatingPolicies Ready" ivpol_ready

# ====================================================================== images and signatures
phase "test images and signatures"
# new_image REG REPO: a fresh image (fresh digest), REG/REPO@sha256:...
new_image() { push_test_image "$1" "$2" "$W"; }
digest_of() { printf '%s\n' "${1##*@}"; }
notation_key() { # PKI FORMAT REF [flags]: notation + plugin with a key file
  local p="$1" fmt="$2" ref="$3"
  shift 3
  notation sign --plugin "$PLUGIN_NAME" --id "admission-$p" --signature-format "$fmt" \
    --plugin-config "private_key=$PKI/$p/leaf.key" --plugin-config "cert_chain=$PKI/$p/certificate_chain.pem" "$@" "$ref"
}
notation_signer() { # PKI FORMAT REF: notation + plugin + examples/sign-with-openssl.sh
  notation sign --plugin "$PLUGIN_NAME" --id "admission-signer-$1" --signature-format "$2" \
    --plugin-config "signer=$SIGNER_SCRIPT" --plugin-config "private_key=$PKI/$1/leaf.key" \
    --plugin-config "cert_chain=$PKI/$1/certificate_chain.pem" "$3"
}
notation_hsm() { # SPEC-DIR FORMAT REF: notation + plugin + the SoftHSM2 token key
  env "EXTERNAL_PKCS11_PIN_FILE=$HSM/user.pin" notation sign --plugin "$PLUGIN_NAME" --id "admission-hsm-$1" \
    --signature-format "$2" --plugin-config "pkcs11_uri=$(cat "$HSM/$1/uri")" \
    --plugin-config "pkcs11_module=$(cat "$HSM/module")" --plugin-config "cert_chain=$HSM/$1/certificate_chain.pem" "$3"
}
cc_key() { "$CC" sign --new-bundle-format=false --key "$PKI/$1/leaf.key" "$2"; }                                                # PKI REF
cc_chain() { "$CC" sign --new-bundle-format=false --key "$PKI/$1/leaf.key" --certificate-chain "$PKI/$1/certificate_chain.pem" "$2"; } # PKI REF

# Sigstore bundles (cosign v3's default format, an OCI 1.1 referrer; on distribution, which has no
# Referrers API, listed in the sha256-<hex> fallback index).
cc_bundle_key() { "$CC" sign --key "$PKI/$1/leaf.key" "$2"; }                                                      # PKI REF
cc_bundle_chain() { "$CC" sign --key "$PKI/$1/leaf.key" --certificate-chain "$PKI/$1/certificate_chain.pem" "$2"; } # PKI REF
# A leaf-only certificate bundle (`certificate`, no chain): cosign-compat always writes the chain
# it is given (leaf + intermediate here), the real cosign writes the lone leaf with --certificate.
check "cosign import-key-pair (EC-256 leaf key into cosign's format)" \
  env COSIGN_PASSWORD= cosign import-key-pair --key "$PKI/ec/leaf.key" --output-key-prefix "$W/cosign-ec"
cosign_leaf_bundle() {
  env COSIGN_PASSWORD= cosign sign --yes --key "$W/cosign-ec.key" --certificate "$PKI/ec/leaf.crt" \
    --tlog-upload=false --use-signing-config=false "$1"
}
# both_ways SIG-PKI BUNDLE-PKI REF: a legacy .sig by one key, then a bundle by another.
both_ways() { cc_key "$1" "$3" && cc_bundle_key "$2" "$3"; }
# both_bundles REF: a key bundle and a certificate-chain bundle, both by the EC-256 key.
both_bundles() { cc_bundle_key ec "$1" && cc_bundle_chain ec "$1"; }

declare -A IMG
# sign_case NAME REG KIND DESC SIGN-FUNCTION ARGS...: a fresh image REG/KIND/NAME, signed by
# SIGN-FUNCTION ARGS... REF (the reference is appended).
sign_case() {
  local name="$1" reg="$2" kind="$3" desc="$4"
  shift 4
  IMG[$kind/$name]=$(new_image "$reg" "$kind/$name")
  check "sign $kind/$name: $desc" "$@" "${IMG[$kind/$name]}"
}
unsigned_case() { IMG[$2/$1]=$(new_image "$3" "$2/$1"); } # NAME KIND REG

for kind in cpol-notary ivpol-notary; do
  sign_case n-rsa-jws "$REG_DIST" "$kind" "notation + plugin, RSA-3072 key file, JWS" notation_key rsa jws
  sign_case n-ec-cose "$REG_DIST" "$kind" "notation + plugin, EC-256 key file, COSE" notation_key ec cose
  sign_case n-signer-rsa-cose "$REG_DIST" "$kind" "notation + plugin, signer program sign-with-openssl.sh, RSA-3072, COSE" notation_signer rsa cose
  sign_case n-signer-ec-jws "$REG_DIST" "$kind" "notation + plugin, signer program sign-with-openssl.sh, EC-256, JWS" notation_signer ec jws
  sign_case n-hsm-ec-jws "$REG_DIST" "$kind" "notation + plugin, PKCS#11 token (SoftHSM2) EC-256, JWS" notation_hsm ec-256 jws
  sign_case n-hsm-rsa-cose "$REG_DIST" "$kind" "notation + plugin, PKCS#11 token (SoftHSM2) RSA-3072, COSE" notation_hsm rsa-3072 cose
  sign_case n-ec-referrers "$REG_REF" "$kind" "notation + plugin, EC-256, JWS, on olareg (Referrers API)" \
    notation_key ec jws --force-referrers-tag=false
  sign_case n-rsa-cose-referrers "$REG_REF" "$kind" "notation + plugin, RSA-3072, COSE, on olareg (Referrers API)" \
    notation_key rsa cose --force-referrers-tag=false
  sign_case n-tag "$REG_DIST" "$kind" "notation + plugin, EC-256, JWS (the Pod names the tag)" notation_key ec jws
  sign_case n-other "$REG_DIST" "$kind" "notation + plugin under an untrusted CA" notation_key other jws
  sign_case n-cosign-only "$REG_DIST" "$kind" "cosign-compat only (no Notary signature)" cc_key rsa
  unsigned_case unsigned "$kind" "$REG_DIST"
  unsigned_case unsigned-referrers "$kind" "$REG_REF"
  unsigned_case unsigned-deploy "$kind" "$REG_DIST"
  sign_case n-deploy "$REG_DIST" "$kind" "notation + plugin, RSA-3072, JWS (for a Deployment)" notation_key rsa jws
  # Two images in one repository on olareg: the first signed, its Notary signature then moved to
  # the second (the signature manifest re-pointed at the second image through its subject).
  sign_case n-moved-from "$REG_REF" "$kind" "notation + plugin, EC-256, JWS (its signature is then moved to another image)" \
    notation_key ec jws --force-referrers-tag=false
  IMG[$kind/n-moved-to]=$(new_image "$REG_REF" "$kind/n-moved-from")
  sign_case n-tampered "$REG_REF" "$kind" "notation + plugin, EC-256, JWS (its signature is then tampered with)" \
    notation_key ec jws --force-referrers-tag=false
done
for kind in cpol-cosign ivpol-cosign; do
  sign_case c-rsa-key "$REG_DIST" "$kind" "cosign-compat sign --key, RSA-3072" cc_key rsa
  sign_case c-ec-key "$REG_DIST" "$kind" "cosign-compat sign --key, EC-256" cc_key ec
  sign_case c-ec-chain "$REG_DIST" "$kind" "cosign-compat sign --key --certificate-chain, EC-256" cc_chain ec
  sign_case c-rsa-chain "$REG_DIST" "$kind" "cosign-compat sign --key --certificate-chain, RSA-3072" cc_chain rsa
  sign_case c-ec-referrers "$REG_REF" "$kind" "cosign-compat sign --key, EC-256, on olareg (Referrers API)" cc_key ec
  sign_case c-tag "$REG_DIST" "$kind" "cosign-compat sign --key, EC-256 (the Pod names the tag)" cc_key ec
  sign_case c-other "$REG_DIST" "$kind" "cosign-compat sign --key --certificate-chain under an untrusted CA" cc_chain other
  sign_case c-notary-only "$REG_DIST" "$kind" "notation only (no cosign signature)" notation_key ec jws
  sign_case c-moved-from "$REG_DIST" "$kind" "cosign-compat sign --key, RSA-3072 (its signature is then copied to another image)" cc_key rsa
  unsigned_case c-moved-to "$kind" "$REG_DIST"
  sign_case c-tampered "$REG_DIST" "$kind" "cosign-compat sign --key, EC-256 (its signature is then tampered with)" cc_key ec
  sign_case c-chainonly "$REG_DIST" "$kind" "cosign-compat sign --key --certificate-chain, a trusted CA, the signer identity, a key the policy does not list" cc_chain chainonly
  sign_case c-intruder "$REG_DIST" "$kind" "cosign-compat sign --key --certificate-chain, a leaf of a trusted CA with another identity" cc_chain intruder
  unsigned_case unsigned "$kind" "$REG_DIST"
  unsigned_case unsigned-deploy "$kind" "$REG_DIST"
  sign_case c-deploy "$REG_DIST" "$kind" "cosign-compat sign --key, RSA-3072 (for a Deployment)" cc_key rsa
done

# Bundles for the cosign policies: the ImageValidatingPolicy (bundles first, as cosign), the
# ClusterPolicy type Cosign (.sig only) and the ClusterPolicy type SigstoreBundle (bundles only).
for kind in cpol-cosign ivpol-cosign cpol-bundle; do
  sign_case b-key-ec "$REG_DIST" "$kind" "cosign-compat sign --key EC-256, sigstore bundle (distribution: sha256-<hex> fallback index)" cc_bundle_key ec
  sign_case b-key-rsa-referrers "$REG_REF" "$kind" "cosign-compat sign --key RSA-3072, sigstore bundle (olareg: Referrers API)" cc_bundle_key rsa
  sign_case b-key-other "$REG_DIST" "$kind" "cosign-compat sign --key, sigstore bundle, a key no policy lists" cc_bundle_key other
  sign_case b-chain "$REG_DIST" "$kind" "cosign-compat sign --key --certificate-chain EC-256, certificate-chain bundle" cc_bundle_chain ec
  sign_case b-leaf "$REG_REF" "$kind" "cosign v3.1.3 sign --key --certificate EC-256, leaf-only certificate bundle" cosign_leaf_bundle
  sign_case both-sig-trusted "$REG_DIST" "$kind" "both ways: a .sig by the EC-256 key (listed), a bundle by the chain-only key (not listed)" \
    both_ways ec chainonly
  sign_case both-bundle-trusted "$REG_DIST" "$kind" "both ways: a .sig by the other key (not listed), a bundle by the EC-256 key (listed)" \
    both_ways other ec
done
sign_case sig-ec "$REG_DIST" cpol-bundle "cosign-compat sign --new-bundle-format=false --key EC-256 (.sig only)" cc_key ec
sign_case mixed "$REG_DIST" cpol-bundle "a key bundle by EC-256 (listed) and a certificate-chain bundle by the same key" \
  both_bundles
unsigned_case unsigned cpol-bundle "$REG_DIST"
sign_case b-chain "$REG_DIST" ivpol-keyless "cosign-compat sign --key --certificate-chain EC-256, certificate-chain bundle" cc_bundle_chain ec
sign_case b-leaf "$REG_REF" ivpol-keyless "cosign v3.1.3 sign --key --certificate EC-256, leaf-only certificate bundle" cosign_leaf_bundle

# A signature moved from another image: the .sig manifest of c-moved-from copied, as is, to the
# signature tag of c-moved-to (its payload still names c-moved-from's digest).
sig_tag() { local r="${1%@*}" d; d=$(digest_of "$1"); printf '%s:%s.sig\n' "$r" "${d/:/-}"; }
move_signature() { crane copy "$(sig_tag "$1")" "$(sig_tag "$2")"; }
# A tampered signature: the signature annotation of the .sig manifest changed in one character
# (still valid base64), the manifest put back under the same tag.
tamper_signature() {
  local tag="${1%@*}" d m repo reg
  d=$(digest_of "$1")
  reg=${tag%%/*} repo=${tag#*/}
  m="$W/tampered-${d#sha256:}.json"
  crane manifest "$(sig_tag "$1")" | jq -c '.layers[0].annotations["dev.cosignproject.cosign/signature"] |=
    (if startswith("A") then "B" + .[1:] else "A" + .[1:] end)' >"$m"
  curl -sSf -X PUT -H "Content-Type: $(jq -r .mediaType "$m")" --data-binary "@$m" \
    "http://$reg/v2/$repo/manifests/sha256-${d#sha256:}.sig"
}
# A Notary signature moved from another image (Referrers API): A's signature manifest with its
# subject replaced by B's descriptor, put into the same repository (the layers are shared).
move_notary_signature() { # FROM-REF TO-REF
  local repo="${1%@*}" from to reg path sig m size
  reg=${repo%%/*} path=${repo#*/}
  from=$(digest_of "$1") to=$(digest_of "$2")
  sig=$(curl -sSf "http://$reg/v2/$path/referrers/$from" | jq -r '.manifests[0].digest // empty')
  [[ -n "$sig" ]] || { echo "no referrer of $1"; return 1; }
  size=$(crane manifest "$2" | wc -c)
  m="$W/moved-${to#sha256:}.json"
  crane manifest "$repo@$sig" | jq -c --arg d "$to" --argjson s "$size" '.subject.digest = $d | .subject.size = $s' >"$m"
  curl -sSf -X PUT -H "Content-Type: $(jq -r .mediaType "$m")" --data-binary "@$m" \
    "http://$reg/v2/$path/manifests/sha256:$(sha256sum "$m" | cut -d' ' -f1)" >/dev/null
  # B now lists a signature (the moved one).
  curl -sSf "http://$reg/v2/$path/referrers/$to" | jq -e '.manifests | length == 1' >/dev/null
}
# A tampered Notary signature (Referrers API): the JWS envelope blob with one character of its
# signature changed, uploaded as a new blob, the signature manifest re-pointed at it, the original
# signature manifest deleted (so the image carries only the tampered one).
put_blob() { # REG PATH FILE: upload FILE as a blob (POST, then PUT with the digest)
  local loc sep
  loc=$(curl -sSf -X POST -D - -o /dev/null "http://$1/v2/$2/blobs/uploads/" | tr -d '\r' |
    awk 'tolower($1) == "location:" {print $2}')
  [[ -n "$loc" ]] || return 1
  [[ "$loc" == http* ]] || loc="http://$1$loc"
  sep='?'
  [[ "$loc" == *\?* ]] && sep='&'
  curl -sSf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$3" \
    "$loc${sep}digest=sha256:$(sha256sum "$3" | cut -d' ' -f1)" >/dev/null
}
tamper_notary_signature() { # REF
  local repo="${1%@*}" d reg path sig m env t
  reg=${repo%%/*} path=${repo#*/} d=$(digest_of "$1")
  sig=$(curl -sSf "http://$reg/v2/$path/referrers/$d" | jq -r '.manifests[0].digest // empty')
  [[ -n "$sig" ]] || { echo "no referrer of $1"; return 1; }
  m="$W/notary-sig-${d#sha256:}.json" env="$W/notary-env-${d#sha256:}.jws" t="$W/notary-tampered-${d#sha256:}.json"
  crane manifest "$repo@$sig" >"$m"
  crane blob "$repo@$(jq -r '.layers[0].digest' "$m")" |
    jq -c '.signature |= (if startswith("A") then "B" + .[1:] else "A" + .[1:] end)' >"$env"
  put_blob "$reg" "$path" "$env" || { echo "blob upload failed"; return 1; }
  jq -c --arg d "sha256:$(sha256sum "$env" | cut -d' ' -f1)" --argjson s "$(wc -c <"$env")" \
    '.layers[0].digest = $d | .layers[0].size = $s' "$m" >"$t"
  curl -sSf -X PUT -H "Content-Type: $(jq -r .mediaType "$t")" --data-binary "@$t" \
    "http://$reg/v2/$path/manifests/sha256:$(sha256sum "$t" | cut -d' ' -f1)" >/dev/null
  curl -sSf -X DELETE "http://$reg/v2/$path/manifests/$sig" >/dev/null
  # Exactly one signature left: the tampered one.
  curl -sSf "http://$reg/v2/$path/referrers/$d" | jq -e --arg t "sha256:$(sha256sum "$t" | cut -d' ' -f1)" \
    '.manifests | length == 1 and .[0].digest == $t' >/dev/null
}
for kind in cpol-notary ivpol-notary; do
  check "move the Notary signature of $kind/n-moved-from to another image (subject rewritten)" \
    move_notary_signature "${IMG[$kind/n-moved-from]}" "${IMG[$kind/n-moved-to]}"
  check "tamper with the Notary signature of $kind/n-tampered (JWS signature changed, original deleted)" \
    tamper_notary_signature "${IMG[$kind/n-tampered]}"
done
for kind in cpol-cosign ivpol-cosign; do
  check "copy the signature of $kind/c-moved-from to $kind/c-moved-to" \
    move_signature "${IMG[$kind/c-moved-from]}" "${IMG[$kind/c-moved-to]}"
  check "tamper with the signature of $kind/c-tampered" tamper_signature "${IMG[$kind/c-tampered]}"
done

# The real cosign v3 (sigstore bundle, OCI 1.1 referrer) for the ImageValidatingPolicy cosign
# attestor, which reads bundles on Kyverno >= 1.17. Offline: no Rekor, no signing config.
IMG[ivpol-cosign/cosign-bundle]=$(new_image "$REG_REF" ivpol-cosign/cosign-bundle)
check "sign ivpol-cosign/cosign-bundle: cosign v3 sign --key (bundle format, Referrers API)" \
  env COSIGN_PASSWORD= cosign sign --yes --key "$W/cosign-ec.key" --tlog-upload=false --use-signing-config=false \
  "${IMG[ivpol-cosign/cosign-bundle]}"

# ====================================================================== admission checks
# next_name PREFIX: a fresh Pod/Deployment name in NAME (no subshell: the counter must persist).
_N=0
ADMITTED_PODS=0
next_name() { _N=$((_N + 1)); NAME="$1-$_N"; }
# admitted DESC REF [EXPECTED-IMAGE]: kubectl run of a Pod with image REF is admitted and the API
# server stored EXPECTED-IMAGE (default REF itself).
admitted() {
  local desc="$1" ref="$2" want="${3:-$2}" pod got
  next_name pod
  pod=$NAME
  check "admitted: $desc" kubectl -n "$NS" run "$pod" --image "$ref" --restart Never
  ((LAST_STATUS == 0)) || return 0
  ADMITTED_PODS=$((ADMITTED_PODS + 1))
  got=$(kubectl -n "$NS" get pod "$pod" -o jsonpath='{.spec.containers[0].image}')
  if [[ "$got" == "$want" ]]; then
    record_pass "... stored with image $got"
  else
    record_fail "... stored image" "expected $want, the API server has '$got'"
  fi
}
# refused DESC POLICY NEEDLE REF: kubectl run is refused by the admission webhook, the error names
# POLICY and contains NEEDLE, and no Pod was stored.
refused() {
  local desc="$1" policy="$2" needle="$3" ref="$4" pod
  next_name pod
  pod=$NAME
  check_fails_with "refused: $desc" "denied the request" kubectl -n "$NS" run "$pod" --image "$ref" --restart Never
  _refusal_details "$policy" "$needle" pod "$pod"
}
_refusal_details() { # POLICY NEEDLE KIND NAME
  local policy="$1" needle="$2"
  if ! _output_has "$policy" || ! _output_has "$needle"; then
    record_fail "... kubectl's error names the policy $policy and says '$needle'" "$(tail -c 600 "$LAST_OUTPUT")"
  else
    record_pass "... kubectl's error names $policy: $(tr -s '\n ' '  ' <"$LAST_OUTPUT" | grep -oiE "denied the request.{0,200}" | head -n 1)"
  fi
  if kubectl -n "$NS" get "$3" "$4" >/dev/null 2>&1; then
    record_fail "... and nothing is stored" "$3/$4 exists"
  else
    record_pass "... and no $3 $4 is stored"
  fi
}
deployment_admitted() { # DESC REF
  local desc="$1" ref="$2" name got
  next_name deploy
  name=$NAME
  check "admitted: $desc" kubectl -n "$NS" create deployment "$name" --image "$ref"
  ((LAST_STATUS == 0)) || return 0
  got=$(kubectl -n "$NS" get deployment "$name" -o jsonpath='{.spec.template.spec.containers[0].image}')
  if [[ "$got" == "$ref" ]]; then record_pass "... Deployment stored with image $got"; else record_fail "... stored image" "expected $ref, got '$got'"; fi
}
deployment_refused() { # DESC POLICY NEEDLE REF
  local name
  next_name deploy
  name=$NAME
  check_fails_with "refused: $1" "denied the request" kubectl -n "$NS" create deployment "$name" --image "$4"
  _refusal_details "$2" "$3" deployment "$name"
}
# tag_of REF: the image's tag reference (push_test_image pushed it as REG/REPO:TAG).
tag_ref() {
  local repo="${1%@*}" tag
  tag=$(crane ls "$repo" | grep -v '^sha256-' | head -n 1)
  printf '%s:%s\n' "$repo" "$tag"
}

IVPOL_NOTARY_MSG="an image has no Notary signature from the trusted CA"
IVPOL_COSIGN_MSG="an image has no cosign signature by a trusted key or certificate"

for kind in cpol-notary ivpol-notary; do
  if [[ $kind == cpol-* ]]; then
    phase "admission: ClusterPolicy type Notary (deprecated form), $CPOL_NOTARY"
    pol=$CPOL_NOTARY msg="failed to verify image"
  else
    phase "admission: ImageValidatingPolicy v1, notary attestor, $IVPOL_NOTARY"
    pol=$IVPOL_NOTARY msg=$IVPOL_NOTARY_MSG
  fi
  admitted "$kind: notation RSA-3072 key file, JWS (distribution)" "${IMG[$kind/n-rsa-jws]}"
  admitted "$kind: notation EC-256 key file, COSE (distribution)" "${IMG[$kind/n-ec-cose]}"
  admitted "$kind: notation signer program RSA-3072, COSE" "${IMG[$kind/n-signer-rsa-cose]}"
  admitted "$kind: notation signer program EC-256, JWS" "${IMG[$kind/n-signer-ec-jws]}"
  admitted "$kind: notation PKCS#11 token EC-256, JWS" "${IMG[$kind/n-hsm-ec-jws]}"
  admitted "$kind: notation PKCS#11 token RSA-3072, COSE" "${IMG[$kind/n-hsm-rsa-cose]}"
  admitted "$kind: notation EC-256, JWS, olareg (Referrers API)" "${IMG[$kind/n-ec-referrers]}"
  admitted "$kind: notation RSA-3072, COSE, olareg (Referrers API)" "${IMG[$kind/n-rsa-cose-referrers]}"
  tag=$(tag_ref "${IMG[$kind/n-tag]}")
  admitted "$kind: a tag ($tag) is resolved, verified and rewritten to its digest" "$tag" "$tag@$(digest_of "${IMG[$kind/n-tag]}")"
  deployment_admitted "$kind: Deployment of a notation-signed image" "${IMG[$kind/n-deploy]}"
  refused "$kind: unsigned image (distribution)" "$pol" "$msg" "${IMG[$kind/unsigned]}"
  refused "$kind: unsigned image (olareg)" "$pol" "$msg" "${IMG[$kind/unsigned-referrers]}"
  refused "$kind: signed under another CA" "$pol" "$msg" "${IMG[$kind/n-other]}"
  refused "$kind: only a cosign signature" "$pol" "$msg" "${IMG[$kind/n-cosign-only]}"
  admitted "$kind: the image whose Notary signature is moved away (olareg)" "${IMG[$kind/n-moved-from]}"
  refused "$kind: a Notary signature moved from another image (subject rewritten, olareg)" "$pol" "$msg" "${IMG[$kind/n-moved-to]}"
  refused "$kind: a tampered Notary signature (olareg)" "$pol" "$msg" "${IMG[$kind/n-tampered]}"
  deployment_refused "$kind: Deployment of an unsigned image (autogen: the Deployment itself is refused)" \
    "$pol" "$msg" "${IMG[$kind/unsigned-deploy]}"
  next_name pod
  cat >"$W/$NAME.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $NAME, namespace: $NS}
spec:
  containers:
    - {name: signed, image: "${IMG[$kind/n-rsa-jws]}"}
    - {name: unsigned, image: "${IMG[$kind/unsigned]}"}
EOF
  check_fails_with "refused: $kind: a Pod with a signed and an unsigned container" "denied the request" \
    kubectl create -f "$W/$NAME.yaml"
  _refusal_details "$pol" "$msg" pod "$NAME"
done

for kind in cpol-cosign ivpol-cosign; do
  if [[ $kind == cpol-* ]]; then
    phase "admission: ClusterPolicy type Cosign (deprecated form), $CPOL_COSIGN"
    pol=$CPOL_COSIGN msg="failed to verify image"
  else
    phase "admission: ImageValidatingPolicy v1, cosign attestors (key, certificate chain), $IVPOL_COSIGN"
    pol=$IVPOL_COSIGN msg=$IVPOL_COSIGN_MSG
  fi
  admitted "$kind: cosign-compat --key RSA-3072" "${IMG[$kind/c-rsa-key]}"
  admitted "$kind: cosign-compat --key EC-256" "${IMG[$kind/c-ec-key]}"
  admitted "$kind: cosign-compat --key --certificate-chain EC-256" "${IMG[$kind/c-ec-chain]}"
  admitted "$kind: cosign-compat --key --certificate-chain RSA-3072" "${IMG[$kind/c-rsa-chain]}"
  admitted "$kind: cosign-compat --key EC-256, olareg (Referrers API)" "${IMG[$kind/c-ec-referrers]}"
  admitted "$kind: cosign-compat --certificate-chain, admitted by the certificate attestor alone (CA trusted, key not listed)" "${IMG[$kind/c-chainonly]}"
  tag=$(tag_ref "${IMG[$kind/c-tag]}")
  admitted "$kind: a tag ($tag) is resolved, verified and rewritten to its digest" "$tag" "$tag@$(digest_of "${IMG[$kind/c-tag]}")"
  deployment_admitted "$kind: Deployment of a cosign-compat-signed image" "${IMG[$kind/c-deploy]}"
  if [[ $kind == ivpol-* ]]; then
    admitted "$kind: the real cosign v3.1.3, --key, sigstore bundle (OCI referrer)" "${IMG[$kind/cosign-bundle]}"
  fi
  refused "$kind: unsigned image" "$pol" "$msg" "${IMG[$kind/unsigned]}"
  refused "$kind: signed under another CA (its own certificate chain)" "$pol" "$msg" "${IMG[$kind/c-other]}"
  refused "$kind: only a Notary signature" "$pol" "$msg" "${IMG[$kind/c-notary-only]}"
  refused "$kind: a signature moved from another image" "$pol" "$msg" "${IMG[$kind/c-moved-to]}"
  refused "$kind: a tampered signature" "$pol" "$msg" "${IMG[$kind/c-tampered]}"
  if [[ $kind == cpol-* ]]; then
    refused "$kind: a leaf under a trusted CA but outside the policy's identity (URI SAN)" "$pol" "subject mismatch" "${IMG[$kind/c-intruder]}"
  fi
  deployment_refused "$kind: Deployment of an unsigned image (autogen: the Deployment itself is refused)" \
    "$pol" "$msg" "${IMG[$kind/unsigned-deploy]}"
done

# ====================================================================== sigstore bundles
# kyverno_logged DESC REF NEEDLE...: Kyverno's log has a line about REF's digest with every NEEDLE
# (the ImageValidatingPolicy's denial carries only the policy's message; each attestor's error is
# in the controller's log). The log is written while the request is answered; read it a few times.
kyverno_logged() {
  local desc="$1" d i n ok
  d=$(digest_of "$2")
  shift 2
  for ((i = 0; i < 25; i++)); do
    ok=1
    for n in "$@"; do
      grep -F -- "$d" "$CLUSTER_DIR/logs/kyverno.log" | grep -qF -- "$n" || { ok=''; break; }
    done
    [[ -z "$ok" ]] || break
    sleep 0.2
  done
  if [[ -n "$ok" ]]; then
    record_pass "$desc"
  else
    record_fail "$desc" "no line about $d in $CLUSTER_DIR/logs/kyverno.log says '$n'; its lines about the image:
$(grep -F -- "$d" "$CLUSTER_DIR/logs/kyverno.log" | cut -c1-400 | tail -n 5)"
  fi
}
# says NEEDLE...: kubectl's last error contains every NEEDLE.
says() {
  local n
  for n in "$@"; do
    if _output_has "$n"; then record_pass "... and says '$n'"; else record_fail "... and says '$n'" "$(tail -c 800 "$LAST_OUTPUT")"; fi
  done
}
NOT_CHAIN="verification material cannot be X.509 certificate chain (for bundle v0.3)"

phase "admission: sigstore bundles, ImageValidatingPolicy v1 cosign attestors, $IVPOL_COSIGN"
kind=ivpol-cosign pol=$IVPOL_COSIGN msg=$IVPOL_COSIGN_MSG
admitted "$kind: cosign-compat key bundle EC-256, distribution (found through the sha256-<hex> fallback index)" "${IMG[$kind/b-key-ec]}"
kyverno_logged "... Kyverno's log: the certificate attestor (certChain, no trusted root) refused the same bundle" \
  "${IMG[$kind/b-key-ec]}" "attestor=certificates" "a trusted root is required for identity-based verification"
admitted "$kind: cosign-compat key bundle RSA-3072, olareg (Referrers API)" "${IMG[$kind/b-key-rsa-referrers]}"
refused "$kind: a key bundle by a key no attestor lists" "$pol" "$msg" "${IMG[$kind/b-key-other]}"
kyverno_logged "... Kyverno's log: the key attestors checked the bundle and refused its signature" "${IMG[$kind/b-key-other]}" \
  "attestor=" "accepted signatures do not match threshold"
refused "$kind: a leaf-only certificate bundle (cosign --certificate) by the listed EC-256 key" "$pol" "$msg" "${IMG[$kind/b-leaf]}"
kyverno_logged "... Kyverno's log: the key attestors refuse a certificate in a bundle" "${IMG[$kind/b-leaf]}" \
  "expected key signature, not certificate"
kyverno_logged "... Kyverno's log: the certificate attestor (certChain, no trusted root) cannot verify a bundle offline" \
  "${IMG[$kind/b-leaf]}" "a trusted root is required for identity-based verification"
refused "$kind: a certificate-chain bundle (cosign-compat --certificate-chain) by the listed EC-256 key" "$pol" "$msg" "${IMG[$kind/b-chain]}"
kyverno_logged "... Kyverno's log: the chain bundle is not read at all (sigstore-go refuses a chain in a v0.3 bundle; no .sig either)" \
  "${IMG[$kind/b-chain]}" "no signatures found"
refused "$kind: both ways, a .sig by a listed key hidden by a bundle by an unlisted key" "$pol" "$msg" "${IMG[$kind/both-sig-trusted]}"
kyverno_logged "... Kyverno's log: only the bundle was verified" "${IMG[$kind/both-sig-trusted]}" \
  "accepted signatures do not match threshold"
admitted "$kind: both ways, a .sig by an unlisted key next to a bundle by a listed key" "${IMG[$kind/both-bundle-trusted]}"
# The same rule with the two CLIs, on the same image (cosign-bundle.sh phase e covers them in depth).
check_fails "$kind: cosign verify --key (the .sig's key, EC-256) does not see the .sig either" \
  cosign verify --key "$PKI/ec/leaf.pub" --insecure-ignore-tlog "${IMG[$kind/both-sig-trusted]}"
check_fails_with "$kind: cosign-compat verify --key (the .sig's key) refuses it, naming the bundle" \
  "no matching bundle signatures" "$CC" verify --key "$PKI/ec/leaf.pub" "${IMG[$kind/both-sig-trusted]}"
check "$kind: cosign verify --key ... --new-bundle-format=false reads the .sig" \
  cosign verify --key "$PKI/ec/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false "${IMG[$kind/both-sig-trusted]}"

phase "admission: sigstore bundles, ClusterPolicy type Cosign (reads .sig only), $CPOL_COSIGN"
kind=cpol-cosign pol=$CPOL_COSIGN
refused "$kind: a cosign-compat key bundle by a listed key (distribution)" "$pol" "no signatures found" "${IMG[$kind/b-key-ec]}"
refused "$kind: a cosign-compat key bundle by a listed key (olareg)" "$pol" "no signatures found" "${IMG[$kind/b-key-rsa-referrers]}"
refused "$kind: a certificate-chain bundle" "$pol" "no signatures found" "${IMG[$kind/b-chain]}"
admitted "$kind: both ways, the .sig by a listed key (the bundle by an unlisted key is not read)" "${IMG[$kind/both-sig-trusted]}"
refused "$kind: both ways, the .sig by an unlisted key (the bundle by a listed key is not read)" "$pol" "failed to verify image" \
  "${IMG[$kind/both-bundle-trusted]}"

phase "admission: ClusterPolicy type SigstoreBundle (deprecated form, reads bundles only), $CPOL_BUNDLE"
kind=cpol-bundle pol=$CPOL_BUNDLE
admitted "$kind: cosign-compat key bundle EC-256, distribution (sha256-<hex> fallback index)" "${IMG[$kind/b-key-ec]}"
admitted "$kind: cosign-compat key bundle RSA-3072, olareg (Referrers API)" "${IMG[$kind/b-key-rsa-referrers]}"
refused "$kind: a key bundle by a key no entry lists" "$pol" "sigstore bundle verification failed: no matching signatures found" \
  "${IMG[$kind/b-key-other]}"
says "certificates: failed to get trusted material" "initializing tuf" "$TUF_MIRROR"
refused "$kind: a leaf-only certificate bundle by a listed key" "$pol" "keys: sigstore bundle verification failed: no matching signatures found" \
  "${IMG[$kind/b-leaf]}"
says "certificates: failed to get trusted material" "initializing tuf"
refused "$kind: a certificate-chain bundle" "$pol" "$NOT_CHAIN" "${IMG[$kind/b-chain]}"
refused "$kind: a .sig only, by a listed key" "$pol" "no matching signatures found" "${IMG[$kind/sig-ec]}"
refused "$kind: unsigned" "$pol" "no matching signatures found" "${IMG[$kind/unsigned]}"
refused "$kind: both ways, the .sig by a listed key (not read), the bundle by an unlisted key" "$pol" "no matching signatures found" \
  "${IMG[$kind/both-sig-trusted]}"
admitted "$kind: both ways, the bundle by a listed key" "${IMG[$kind/both-bundle-trusted]}"
refused "$kind: a key bundle by a listed key next to a certificate-chain bundle: the chain bundle fails the whole image" \
  "$pol" "$NOT_CHAIN" "${IMG[$kind/mixed]}"

phase "admission: ImageValidatingPolicy cosign keyless attestor with a trustedRoot, $IVPOL_KEYLESS"
kind=ivpol-keyless pol=$IVPOL_KEYLESS msg="no cosign signature by a certificate of the trusted root"
for c in b-leaf b-chain; do
  refused "$kind: $c: a certificate bundle under the trusted root's CA" "$pol" "$msg" "${IMG[$kind/$c]}"
  kyverno_logged "... Kyverno's log: the keyless attestor initialises sigstore's TUF client first (trustedRoot or not), at the loopback mirror" \
    "${IMG[$kind/$c]}" "failed to initialize TUF client" "$TUF_MIRROR"
done

# ====================================================================== fail closed
phase "fail closed: registry stopped, Kyverno stopped"
sign_case n-late "$REG_DIST" cpol-notary "notation + plugin, EC-256 (first used with the registry stopped)" notation_key ec jws
sign_case n-late "$REG_DIST" ivpol-cosign "cosign-compat --key EC-256 (first used with the registry stopped)" cc_key ec
stop_services "registry-distribution"
show_error() { log "     $(tr -s '\n ' '  ' <"$LAST_OUTPUT" | cut -c1-300)"; }
check_fails_with "refused: registry stopped, ClusterPolicy Notary, a signed image" "denied the request" \
  kubectl -n "$NS" run fail-closed-1 --image "${IMG[cpol-notary/n-late]}" --restart Never
show_error
check_fails_with "refused: registry stopped, ImageValidatingPolicy cosign, a signed image" "denied the request" \
  kubectl -n "$NS" run fail-closed-2 --image "${IMG[ivpol-cosign/n-late]}" --restart Never
show_error

kyverno_stop
check_fails_with "refused: Kyverno stopped, an image signed for the notary ClusterPolicy (olareg still up)" \
  "failed calling webhook" kubectl -n "$NS" run fail-closed-3 --image "${IMG[cpol-notary/n-ec-referrers]}" --restart Never
show_error
check_fails_with "refused: Kyverno stopped, an image no policy matches (the Fail webhook still applies)" \
  "failed calling webhook" kubectl -n "$NS" run fail-closed-4 --image "$REG_REF/unmatched/x@sha256:$(printf '0%.0s' {1..64})" --restart Never
for i in 1 2 3 4; do
  check_fails "fail closed: no Pod fail-closed-$i stored" kubectl -n "$NS" get pod "fail-closed-$i"
done
n_pods=$(kubectl -n "$NS" get pods -o name | wc -l)
if ((n_pods == ADMITTED_PODS)); then
  record_pass "the API server stored $n_pods Pods: exactly the $ADMITTED_PODS admitted cases"
else
  record_fail "the API server stored exactly the admitted Pods" "$n_pods stored, $ADMITTED_PODS admitted"
fi

finish
