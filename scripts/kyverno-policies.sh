#!/usr/bin/env bash
# Render the Kyverno admission policies for both signature kinds from a PKI made by
# scripts/certificates.sh (`make certificates`):
#
#   kyverno-ivpol-notation.yaml   ImageValidatingPolicy (policies.kyverno.io/v1, Kyverno >= 1.17; the
#   kyverno-ivpol-cosign.yaml     default): the same checks as the two ClusterPolicies below, in CEL
#   kyverno-policy-notation.yaml  ClusterPolicy (kyverno.io/v1), verifyImages type: Notary; trust
#                                 anchors = the root CA (+ intermediate): what notation signs through
#                                 notation-external-signer
#   kyverno-policy-cosign.yaml    ClusterPolicy (kyverno.io/v1), verifyImages type: Cosign; one
#                                 attestor set, count 1: the leaf public key (SPKI) OR a certificate
#                                 chaining to the root CA: what `cosign-compat sign` stores (legacy .sig)
#   The ClusterPolicy forms are DEPRECATED: Kyverno deprecated ClusterPolicy in 1.17 and announced
#   its removal for 1.20; they are kept for clusters on Kyverno 1.13-1.16.
#
# All policies: Enforce/Deny, verifyDigest and mutateDigest (a tag is rewritten to its digest),
# required, background off, transparency log and SCT checks off (private PKI, no Rekor: offline),
# and autogen on: the same check applies to Deployments, StatefulSets, DaemonSets, Jobs, CronJobs
# and ReplicaSets (Kyverno's pod controllers), so `kubectl create deployment` of an unsigned image is
# refused itself, not only its Pods later (--no-autogen: Pods only).
#
# usage: scripts/kyverno-policies.sh [--cert-dir DIR]... [--ca-dir DIR]... [--out DIR]
#                                    [--image-ref GLOB]... [--ivpol-api VERSION] [--name-prefix P]
#   --cert-dir DIR    a scripts/certificates.sh output dir (ca.crt, intermediate.crt, leaf.pub): its
#                     root and intermediate become trust anchors, its leaf.pub a key attestor (default: $CERT_DIR, else examples).
#                     Repeat to trust several PKIs.
#   --ca-dir DIR      like --cert-dir, but only the CA certificates are trusted (not the leaf key)
#   --out DIR         where the four files are written (default: examples)
#   --image-ref GLOB  images the policies apply to (repeatable; default 'localhost:*/*' and
#                     '127.0.0.1:*/*'). Kyverno globs: '*' is any run of characters, '/' and ':'
#                     included; '?' is one character. Images not matched are not checked at all.
#   --ivpol-api V     ImageValidatingPolicy apiVersion: v1 (default, Kyverno >= 1.17), v1beta1
#                     (1.16), v1alpha1 (1.14-1.15)
#   --cosign-identity URI
#                     the certificate attestor of the cosign ClusterPolicy accepts only leaves whose
#                     URI SAN is URI (repeatable; default: the URI SANs of the --cert-dir leaf.crt
#                     files, i.e. the PKI's signer identity; 'any': any leaf chaining to the CAs).
#                     The ImageValidatingPolicy cannot pin it offline (Kyverno's keyless attestor
#                     there initialises TUF): its certificate attestor accepts any leaf under the CAs.
#   --no-autogen      Pods only: no rules for pod controllers (Deployments are then created and
#                     only the Pods their controllers make are refused)
#   --name-prefix P   prefix of the policy names (default: none)
#   --tuf-mirror URL  ImageValidatingPolicy cosign attestors only: the TUF mirror (https://..., or
#   --tuf-root FILE   file:///dir) and its trusted root.json. Only for --ivpol-api v1alpha1/v1beta1:
#                     Kyverno 1.15/1.16 initialise TUF for every cosign attestor of an
#                     ImageValidatingPolicy, even with a public key (default: the public sigstore TUF
#                     repository, i.e. network access). On >= 1.17 (v1) the attestors carry
#                     ctlog.insecureIgnoreTlog and need no TUF.
# Each file is written to a temp file next to it and moved into place: none is ever half-written.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,49p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

CERT_DIRS=()
CA_DIRS=()
OUT=''
IMAGE_REFS=()
IVPOL_API=v1
AUTOGEN=1
IDENTITIES=()
PREFIX=''
TUF_MIRROR='' TUF_ROOT_FILE=''
while (($#)); do
  case "$1" in
    --cert-dir) CERT_DIRS+=("${2:?--cert-dir needs a directory}"); shift ;;
    --ca-dir) CA_DIRS+=("${2:?--ca-dir needs a directory}"); shift ;;
    --out) OUT="${2:?--out needs a directory}"; shift ;;
    --image-ref) IMAGE_REFS+=("${2:?--image-ref needs a glob}"); shift ;;
    --ivpol-api) IVPOL_API="${2:?--ivpol-api needs a version}"; shift ;;
    --name-prefix) PREFIX="${2?--name-prefix needs a value}"; shift ;;
    --no-autogen) AUTOGEN='' ;;
    --cosign-identity) IDENTITIES+=("${2:?--cosign-identity needs a URI or 'any'}"); shift ;;
    --tuf-mirror) TUF_MIRROR="${2:?--tuf-mirror needs a URL}"; shift ;;
    --tuf-root) TUF_ROOT_FILE="${2:?--tuf-root needs a file}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
((${#CERT_DIRS[@]})) || CERT_DIRS=("${CERT_DIR:-$REPO_ROOT/examples}")
OUT="${OUT:-$REPO_ROOT/examples}"
((${#IMAGE_REFS[@]})) || IMAGE_REFS=('localhost:*/*' '127.0.0.1:*/*')
case "$IVPOL_API" in
  v1alpha1 | v1beta1 | v1) ;;
  *) die "--ivpol-api must be v1 (Kyverno >= 1.17), v1beta1 (1.16) or v1alpha1 (1.14-1.15), not '$IVPOL_API'" ;;
esac
[[ -z "$TUF_MIRROR" && -z "$TUF_ROOT_FILE" ]] || [[ -n "$TUF_MIRROR" && -n "$TUF_ROOT_FILE" ]] ||
  die "--tuf-mirror and --tuf-root go together"
if [[ -n "$TUF_ROOT_FILE" ]]; then
  jq -e '.signed._type == "root"' "$TUF_ROOT_FILE" >/dev/null 2>&1 || die "--tuf-root $TUF_ROOT_FILE is not a TUF root.json"
fi
for g in "${IMAGE_REFS[@]}"; do
  [[ "$g" =~ ^[A-Za-z0-9._:/@*?-]+$ ]] || die "--image-ref '$g': only letters, digits and . _ : / @ * ? - are allowed"
done

# ------------------------------------------------------------------ inputs
# Every PEM file is checked here, before anything is written.
need_pem() { # FILE KIND("CERTIFICATE"|"PUBLIC KEY")
  [[ -s "$1" ]] || die "$1 is missing: run 'make certificates' first (or pass --cert-dir DIR with a scripts/certificates.sh output)"
  grep -q -- "-----BEGIN $2-----" "$1" || die "$1 holds no '$2' PEM block"
  if [[ "$2" == CERTIFICATE ]]; then
    openssl x509 -in "$1" -noout 2>/dev/null || die "$1 is not a readable PEM certificate"
  else
    openssl pkey -pubin -in "$1" -noout 2>/dev/null || die "$1 is not a readable SPKI public key"
  fi
}
for d in "${CERT_DIRS[@]}"; do
  for f in ca.crt intermediate.crt; do need_pem "$d/$f" CERTIFICATE; done
  need_pem "$d/leaf.pub" "PUBLIC KEY"
done
for d in "${CA_DIRS[@]}"; do
  for f in ca.crt intermediate.crt; do need_pem "$d/$f" CERTIFICATE; done
done
# The signer identities (URI SANs) the cosign ClusterPolicy's certificate attestor pins.
if ((${#IDENTITIES[@]} == 0)); then
  for d in "${CERT_DIRS[@]}"; do
    [[ -s "$d/leaf.crt" ]] || continue
    need_pem "$d/leaf.crt" CERTIFICATE
    while IFS= read -r u; do
      [[ -n "$u" ]] && IDENTITIES+=("$u")
    done < <(openssl x509 -in "$d/leaf.crt" -noout -ext subjectAltName 2>/dev/null | grep -o 'URI:[^,]*' | sed 's/^URI://')
  done
  ((${#IDENTITIES[@]})) || warn "no leaf.crt with a URI SAN in the --cert-dir directories: the cosign ClusterPolicy accepts any leaf under the CAs (pass --cosign-identity URI to pin one)"
elif [[ "${IDENTITIES[*]}" == any ]]; then
  IDENTITIES=()
fi
if ((${#IDENTITIES[@]})); then
  mapfile -t IDENTITIES < <(printf '%s\n' "${IDENTITIES[@]}" | sort -u)
  for u in "${IDENTITIES[@]}"; do
    [[ "$u" =~ ^[A-Za-z][A-Za-z0-9+.-]*:[^\'[:space:]]+$ ]] || die "--cosign-identity '$u' is not a URI (or 'any')"
  done
fi
mkdir -p "$OUT" || die "cannot create $OUT"

# pem_blocks FILE...: only the PEM blocks (BEGIN..END) of the files, nothing else (no comments,
# no trailing text), one block after the other.
pem_blocks() { awk '/^-----BEGIN /{p=1} p{sub(/\r$/, ""); print} /^-----END /{p=0}' "$@"; }
# indent N: prefix every line of stdin with N spaces.
indent() { local pad; pad=$(printf '%*s' "$1" ''); sed "s/^/$pad/"; }
# nth_pem N FILE...: the N-th (0-based) PEM block of the files.
nth_pem() {
  local n="$1"
  shift
  pem_blocks "$@" | awk -v n="$n" '/^-----BEGIN /{i++} i == n + 1'
}
count_pems() { pem_blocks "$@" | grep -c '^-----BEGIN ' || true; }
yaml_list() { # INDENT PREFIX ITEMS...: one "PREFIX'item'" line per item
  local n="$1" p="$2"
  shift 2
  printf -- "${p}'%s'\n" "$@" | indent "$n"
}

ROOTS=() INTERS=() KEYS=()
for d in "${CERT_DIRS[@]}"; do
  ROOTS+=("$d/ca.crt") INTERS+=("$d/intermediate.crt") KEYS+=("$d/leaf.pub")
done
for d in "${CA_DIRS[@]}"; do
  ROOTS+=("$d/ca.crt") INTERS+=("$d/intermediate.crt")
done
N_KEYS=$(count_pems "${KEYS[@]}")
SOURCES="$(for d in "${CERT_DIRS[@]}" "${CA_DIRS[@]}"; do printf '%s, ' "$(basename "$(cd "$d" && pwd)")"; done)"
SOURCES="${SOURCES%, }"
# Subject of each root, for the comments.
ROOT_SUBJECTS=$(for r in "${ROOTS[@]}"; do openssl x509 -in "$r" -noout -subject -nameopt RFC2253 | sed 's/^subject=/#   /'; done)

header() { # TITLE
  cat <<EOF
# $1
# Generated by scripts/kyverno-policies.sh (make kyverno-policies) from the PKI in: $SOURCES
# Trusted roots:
$ROOT_SUBJECTS
# Do not edit by hand: re-run 'make kyverno-policies' after 'make certificates'.
EOF
}

# cpol_autogen: the ClusterPolicy autogen annotation (Kyverno's pod controllers, or none).
cpol_autogen() {
  if [[ -n "$AUTOGEN" ]]; then
    echo "    pod-policies.kyverno.io/autogen-controllers: DaemonSet,Deployment,Job,StatefulSet,ReplicaSet,CronJob"
  else
    echo "    pod-policies.kyverno.io/autogen-controllers: none"
  fi
}

# ------------------------------------------------------------------ ClusterPolicy, Notary
render_cpol_notation() {
  header "DEPRECATED form (ClusterPolicy is deprecated since Kyverno 1.17, removal announced for 1.20; use kyverno-ivpol-notation.yaml). Kyverno ClusterPolicy (Kyverno >= 1.13): Pods may only run images signed with notation (notation-external-signer) under the CA below."
  cat <<EOF
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: ${PREFIX}verify-notation-signature
  annotations:
$(cpol_autogen)
    policies.kyverno.io/title: Notary signatures (notation + notation-external-signer)
    policies.kyverno.io/description: >-
      Every container image matching imageReferences must be referenced by digest (tags are
      rewritten to digests) and carry a Notary signature (JWS or COSE) whose certificate chain
      contains one of the certificates below.
spec:
  background: false
  webhookTimeoutSeconds: 30
  rules:
    - name: notary-signature
      match:
        any:
          - resources:
              kinds:
                - Pod
      verifyImages:
        - type: Notary
          imageReferences:
$(yaml_list 12 '- ' "${IMAGE_REFS[@]}")
          failureAction: Enforce
          mutateDigest: true
          verifyDigest: true
          required: true
          attestors:
            - count: 1
              entries:
                - certificates:
                    # trust anchors: the root CA(s)
                    cert: |-
$(pem_blocks "${ROOTS[@]}" | indent 22)
                    # added to the same trust store (optional: the root alone is enough)
                    certChain: |-
$(pem_blocks "${INTERS[@]}" | indent 22)
EOF
}

# ------------------------------------------------------------------ ClusterPolicy, Cosign
render_cpol_cosign() {
  header "DEPRECATED form (ClusterPolicy is deprecated since Kyverno 1.17, removal announced for 1.20; use kyverno-ivpol-cosign.yaml). Kyverno ClusterPolicy (Kyverno >= 1.13): Pods may only run images with a cosign (legacy .sig) signature by the key below or by a certificate under the CA below."
  cat <<EOF
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: ${PREFIX}verify-cosign-signature
  annotations:
$(cpol_autogen)
    policies.kyverno.io/title: cosign signatures (cosign-compat sign, legacy .sig format)
    policies.kyverno.io/description: >-
      Every container image matching imageReferences must be referenced by digest (tags are
      rewritten to digests) and carry a cosign signature that verifies with one of the public
      keys below, or whose certificate (dev.sigstore.cosign/certificate, written by
      cosign-compat sign --certificate-chain) chains to the CA certificates below. Offline: no
      Rekor transparency log and no SCT (private PKI).
spec:
  background: false
  webhookTimeoutSeconds: 30
  rules:
    - name: cosign-signature
      match:
        any:
          - resources:
              kinds:
                - Pod
      verifyImages:
        - type: Cosign
          imageReferences:
$(yaml_list 12 '- ' "${IMAGE_REFS[@]}")
          failureAction: Enforce
          mutateDigest: true
          verifyDigest: true
          required: true
          attestors:
            # one attestor set: any one entry verifying is enough (several keys in one
            # publicKeys block are split into one entry each)
            - count: 1
              entries:
                # the signing key (SPKI PEM; RSA signatures are PKCS#1 v1.5, hash sha256)
                - keys:
                    publicKeys: |-
$(pem_blocks "${KEYS[@]}" | indent 22)
                    signatureAlgorithm: sha256
                    rekor:
                      url: https://rekor.sigstore.dev
                      ignoreTlog: true
                    ctlog:
                      ignoreSCT: true
$(cpol_cert_entries)
EOF
}

# The certificate entries of the cosign ClusterPolicy: a leaf chaining to the CA certificates (every
# PEM here is a root for Kyverno; the leaf and its chain come from the signature's annotations),
# and, with identities, whose URI SAN is one of them (`keyless` with private roots: offline, no
# Fulcio, no Rekor, no SCT; the subject is matched against the leaf's SANs).
cpol_cert_entries() {
  local u
  if ((${#IDENTITIES[@]} == 0)); then
    cat <<EOF
                # or any leaf chaining to these CA certificates (every PEM here is a root for
                # Kyverno); the leaf comes from the signature's certificate annotation
                - certificates:
                    certChain: |-
$(pem_blocks "${ROOTS[@]}" "${INTERS[@]}" | indent 22)
                    rekor:
                      url: https://rekor.sigstore.dev
                      ignoreTlog: true
                    ctlog:
                      ignoreSCT: true
EOF
    return 0
  fi
  for u in "${IDENTITIES[@]}"; do
    cat <<EOF
                # or a leaf chaining to these CA certificates whose URI SAN is $u
                # (the leaf and its chain come from the signature's certificate annotations)
                - keyless:
                    subject: '$u'
                    roots: |-
$(pem_blocks "${ROOTS[@]}" "${INTERS[@]}" | indent 22)
                    rekor:
                      url: https://rekor.sigstore.dev
                      ignoreTlog: true
                    ctlog:
                      ignoreSCT: true
EOF
  done
}

ivpol_autogen() { [[ -z "$AUTOGEN" ]] || echo "daemonsets, deployments, jobs, statefulsets, replicasets, cronjobs"; }
ivpol_common() { # NAME TITLE
  cat <<EOF
apiVersion: policies.kyverno.io/$IVPOL_API
kind: ImageValidatingPolicy
metadata:
  name: $1
  annotations:
    policies.kyverno.io/title: $2
spec:
  validationActions:
    - Deny
  failurePolicy: Fail
  webhookConfiguration:
    timeoutSeconds: 30
  evaluation:
    background:
      enabled: false
  autogen:
    podControllers:
      controllers: [$(ivpol_autogen)]
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["pods"]
  matchImageReferences:
$(yaml_list 4 '- glob: ' "${IMAGE_REFS[@]}")
  validationConfigurations:
    mutateDigest: true
    verifyDigest: true
    required: true
EOF
}

# ------------------------------------------------------------------ ImageValidatingPolicy, Notary
render_ivpol_notation() {
  header "Kyverno ImageValidatingPolicy ($IVPOL_API): Pods may only run images signed with notation (notation-external-signer) under the CA below."
  ivpol_common "${PREFIX}ivpol-notation-signature" "Notary signatures (notation + notation-external-signer)"
  cat <<EOF
  attestors:
    - name: notary
      notary:
        certs:
          value: |-
$(pem_blocks "${ROOTS[@]}" "${INTERS[@]}" | indent 12)
  validations:
    - expression: >-
        images.containers.map(image, verifyImageSignatures(image, [attestors.notary])).all(e, e > 0)
      message: an image has no Notary signature from the trusted CA
EOF
}

# ------------------------------------------------------------------ ImageValidatingPolicy, Cosign
# The transparency-log block of every cosign attestor, checks off. v1 (Kyverno >= 1.17): nothing
# else, and no TUF is initialised. Older: url is required by Kyverno 1.15 whenever ctlog is set (the
# Rekor/CT keys then come from TUF).
ivpol_ctlog() {
  if [[ "$IVPOL_API" == v1 ]]; then
    printf '        ctlog:\n          insecureIgnoreTlog: true\n          insecureIgnoreSCT: true\n'
  else
    printf '        ctlog:\n          url: https://rekor.sigstore.dev\n          insecureIgnoreTlog: true\n          insecureIgnoreSCT: true\n'
  fi
  [[ -z "$TUF_MIRROR" ]] || cat <<EOF
        tuf:
          mirror: '$TUF_MIRROR'
          root:
            data: $(base64 -w0 "$TUF_ROOT_FILE")
EOF
}
# One key attestor per leaf key (a cosign attestor takes one key), and one certificate attestor.
render_ivpol_cosign() {
  local i names=()
  header "Kyverno ImageValidatingPolicy ($IVPOL_API): Pods may only run images with a cosign signature by a key below (legacy .sig, or a sigstore key bundle: cosign-compat sign's default) or a legacy .sig by a certificate under the CA below (Kyverno 1.19 verifies no certificate bundle offline)."
  ivpol_common "${PREFIX}ivpol-cosign-signature" "cosign signatures (cosign-compat sign - key bundle or .sig; certificates as .sig)"
  echo "  attestors:"
  for ((i = 0; i < N_KEYS; i++)); do
    names+=("attestors.key$i")
    cat <<EOF
    - name: key$i
      cosign:
        key:
          hashAlgorithm: sha256
          data: |-
$(nth_pem "$i" "${KEYS[@]}" | indent 12)
$(ivpol_ctlog)
EOF
  done
  # Any leaf certificate chaining to the CA certificates (the signature's own certificate, as
  # written by cosign-compat sign --certificate-chain): certChain without cert. (cert + certChain
  # would pin one leaf and use only its key.)
  names+=(attestors.certificates)
  cat <<EOF
    - name: certificates
      cosign:
        certificate:
          certChain:
            value: |-
$(pem_blocks "${ROOTS[@]}" "${INTERS[@]}" | indent 14)
$(ivpol_ctlog)
EOF
  local list
  list=$(
    IFS=,
    echo "${names[*]}"
  )
  cat <<EOF
  validations:
    - expression: >-
        images.containers.map(image, verifyImageSignatures(image, [${list//,/, }])).all(e, e > 0)
      message: an image has no cosign signature by a trusted key or certificate
EOF
}

# ------------------------------------------------------------------ write
# Render all four into temp files next to their destinations, then move them into place: a failure
# leaves the previous files untouched.
TARGETS=(
  "kyverno-policy-notation.yaml:render_cpol_notation"
  "kyverno-policy-cosign.yaml:render_cpol_cosign"
  "kyverno-ivpol-notation.yaml:render_ivpol_notation"
  "kyverno-ivpol-cosign.yaml:render_ivpol_cosign"
)
TMPS=()
cleanup_tmps() { ((${#TMPS[@]} == 0)) || rm -f "${TMPS[@]}"; }
for t in "${TARGETS[@]}"; do
  dest="$OUT/${t%%:*}"
  tmp=$(mktemp "$dest.XXXXXX") || { cleanup_tmps; die "cannot write in $OUT"; }
  TMPS+=("$tmp")
  if ! "${t#*:}" >"$tmp"; then
    cleanup_tmps
    die "rendering $dest failed"
  fi
  chmod 0644 "$tmp"
done
for i in "${!TARGETS[@]}"; do
  dest="$OUT/${TARGETS[$i]%%:*}"
  mv -f "${TMPS[$i]}" "$dest"
  log "wrote $dest"
done
