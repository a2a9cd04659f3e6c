#!/usr/bin/env bash
# shellcheck disable=SC2317  # helper functions are run indirectly, through check
# End-to-end tests: the real notation CLI (v1.3.2) signs through target/release/notation-external-signer
# and verifies, against two local registries started here:
#   - CNCF distribution v2 (Debian docker-registry): no Referrers API; notation (v1.3 default
#     --force-referrers-tag=true) stores the referrers tag-schema index
#   - olareg v0.1.2 (github.com/olareg/olareg): with the OCI 1.1 Referrers API; notation signs there
#     with --force-referrers-tag=false so the Referrers API path is used
# Everything lives in a temp dir under <repo>/.e2e/ (removed on exit; KEEP_WORKDIR=1 keeps it):
# HOME, XDG_CONFIG_HOME, NOTATION_CONFIG, NOTATION_LIBEXEC, NOTATION_CACHE and DOCKER_CONFIG point
# there, so the user's notation setup and registry credentials are never read or touched.
# No image is pulled from a public registry: every test image is built here with `crane append`.
#
# usage: tests/e2e/notation.sh            (or `make e2e`, which builds the plugin and the peers first)
# environment:
#   E2E_KEY_SPECS   key specs to run the per-spec cases for (default: all six)
#   PLUGIN_BIN      plugin binary (default target/release/notation-external-signer)
#   SIG_ENVELOPE    sig-envelope binary (default target/release/sig-envelope, else
#                   target/release/examples/sig-envelope)
#   KEEP_WORKDIR=1  keep the temp dir (configs, PKIs, envelopes, registry logs) for debugging
#   CHECK_TIMEOUT   per-command limit in seconds (default 300)
# Prints each phase's duration and ends with `N passed, N failed`; exits 1 if anything failed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
cd "$REPO_ROOT"

PLUGIN_NAME=external-signer
PLUGIN_BIN="${PLUGIN_BIN:-$REPO_ROOT/target/release/notation-external-signer}"
if [[ -z "${SIG_ENVELOPE:-}" ]]; then
  # A workspace binary, or a cargo example (cargo build --release --examples).
  SIG_ENVELOPE="$REPO_ROOT/target/release/sig-envelope"
  [[ -x "$SIG_ENVELOPE" || ! -x "$REPO_ROOT/target/release/examples/sig-envelope" ]] ||
    SIG_ENVELOPE="$REPO_ROOT/target/release/examples/sig-envelope"
fi
read -r -a KEY_SPECS <<<"${E2E_KEY_SPECS:-RSA-2048 RSA-3072 RSA-4096 EC-256 EC-384 EC-521}"
NOTARY_SIG=application/vnd.cncf.notary.signature
OCI_EMPTY=application/vnd.oci.empty.v1+json
COMMANDS="$REPO_ROOT/tests/data/commands"
EXAMPLES="$REPO_ROOT/examples"

# Signature algorithm notation reports for each key spec (notation-core-go).
declare -A SIG_ALG=(
  [RSA-2048]=RSASSA-PSS-SHA-256 [RSA-3072]=RSASSA-PSS-SHA-384 [RSA-4096]=RSASSA-PSS-SHA-512
  [EC-256]=ECDSA-SHA-256 [EC-384]=ECDSA-SHA-384 [EC-521]=ECDSA-SHA-512
)
media_type_of() { [[ "$1" == cose ]] && echo application/cose || echo application/jose+json; }

# ====================================================================== preflight
phase "preflight"
need_tools notation crane oras olareg jq openssl curl docker-registry
[[ -x "$PLUGIN_BIN" ]] ||
  die "plugin binary $PLUGIN_BIN not found: run 'make build' (cargo build --release --locked -p notation-plugin)"
[[ -x "$REPO_ROOT/scripts/certificates.sh" ]] || die "scripts/certificates.sh is missing or not executable"
NOTATION_VERSION=$(notation version 2>/dev/null | awk '/^Version:/ {print $2}')
log "notation $NOTATION_VERSION ($(command -v notation)), crane $(crane version 2>/dev/null), oras $(oras version 2>/dev/null | awk '/^Version:/ {print $2}')"
[[ "$NOTATION_VERSION" == v1.3.2* ]] || warn "expected notation v1.3.2, found '$NOTATION_VERSION' (run 'make peers')"
log "plugin: $PLUGIN_BIN"

W=$(make_workdir "$REPO_ROOT/.e2e" run)
log "work dir: $W"
isolate_env "$W"

# ====================================================================== registries
phase "registries"
_d=$(start_registry distribution "$W/registry-distribution")
REG_DIST="localhost:${_d##*:}" # notation talks plain HTTP to localhost only
_r=$(start_registry referrers "$W/registry-referrers")
REG_REF="localhost:${_r##*:}"
log "distribution (no Referrers API): $REG_DIST; olareg (Referrers API): $REG_REF"

_CASE=0
REG='' REG_KIND='' REG_FLAGS=()
# next_registry: alternate the two registries between cases (sets REG, REG_KIND and REG_FLAGS, the
# extra `notation sign` flags for that registry).
next_registry() {
  _CASE=$((_CASE + 1))
  if ((_CASE % 2)); then
    REG=$REG_DIST REG_KIND=distribution REG_FLAGS=()
  else
    REG=$REG_REF REG_KIND=referrers-api REG_FLAGS=(--force-referrers-tag=false)
  fi
}

# new_image REG REPO: a fresh test image, printed as REG/REPO@sha256:...
new_image() { push_test_image "$1" "$2" "$W"; }

# referrers_of REG REPO DIGEST: GET /v2/REPO/referrers/DIGEST, printed; fails unless it is an OCI image
# index. olareg answers an empty list with "manifests":null, which the spec's readers accept as [].
referrers_of() {
  local body
  body=$(curl -fsS "http://$1/v2/$2/referrers/$3") || return 1
  printf '%s\n' "$body"
  jq -e '.schemaVersion == 2 and .mediaType == "application/vnd.oci.image.index.v1+json"
    and ((.manifests // []) | type) == "array"' >/dev/null <<<"$body"
}
_probe=$(new_image "$REG_REF" probe)
check "olareg serves the Referrers API (an OCI image index for an unreferenced manifest)" \
  referrers_of "$REG_REF" probe "${_probe#*@}"
_probe=$(new_image "$REG_DIST" probe)
check_fails "distribution registry has no Referrers API (tag schema fallback is exercised)" \
  curl -fsS -o /dev/null "http://$REG_DIST/v2/probe/referrers/${_probe#*@}"

# ====================================================================== plugin
phase "plugin install"
PLUGIN_DIR="$NOTATION_LIBEXEC/plugins/$PLUGIN_NAME"
check "notation plugin install --file $(basename "$PLUGIN_BIN")" notation plugin install --file "$PLUGIN_BIN"
if [[ ! -x "$PLUGIN_DIR/notation-$PLUGIN_NAME" ]]; then
  # Keep going with a plain copy so that the signing cases still say something.
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$PLUGIN_BIN" "$PLUGIN_DIR/notation-$PLUGIN_NAME"
fi
check_output_contains "notation plugin list shows $PLUGIN_NAME" "$PLUGIN_NAME" notation plugin list
check_output_contains "notation plugin list shows capability SIGNATURE_GENERATOR.RAW" "SIGNATURE_GENERATOR.RAW" notation plugin list
log "$(notation plugin list 2>&1)"

# ====================================================================== PKI, trust store, policy
phase "PKI (certificates.sh x $((${#KEY_SPECS[@]} + 1)))"
PKI="$W/pki"
make_pkis "$PKI" "${KEY_SPECS[@]}" "other:EC-256:E2E Other CA"

phase "trust store and trust policy"
for spec in "${KEY_SPECS[@]}"; do
  # The store is keyed by file name: give each root its own.
  cp "$PKI/$spec/ca.crt" "$PKI/root-$spec.crt"
  check "notation cert add --type ca --store e2e root-$spec.crt" \
    notation cert add --type ca --store e2e "$PKI/root-$spec.crt"
done
check_output_contains "notation cert ls lists the e2e roots" "root-${KEY_SPECS[0]}.crt" notation cert ls --type ca --store e2e
LAYOUT_SCOPE=local/e2e-layout
# Identity statements: the leaf subject's C, ST, O (notation requires all three), and a wrong O.
subject_rdn() { # PEM KEY -> value of RDN KEY in the subject
  openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//' | tr ',' '\n' |
    awk -F= -v k="$2" '$1 == k {print substr($0, length(k) + 2); exit}'
}
_leaf="$PKI/${KEY_SPECS[0]}/leaf.crt"
IDENTITY_OK="x509.subject: C=$(subject_rdn "$_leaf" C), ST=$(subject_rdn "$_leaf" ST), O=$(subject_rdn "$_leaf" O)"
IDENTITY_BAD="x509.subject: C=$(subject_rdn "$_leaf" C), ST=$(subject_rdn "$_leaf" ST), O=Somebody Else"
log "trusted identity for $REG_DIST/identity-ok: $IDENTITY_OK"
policy_json() {
  cat <<EOF
{
  "version": "1.0",
  "trustPolicies": [
    {
      "name": "e2e-identity-ok",
      "registryScopes": ["$REG_DIST/identity-ok"],
      "signatureVerification": {"level": "strict"},
      "trustStores": ["ca:e2e"],
      "trustedIdentities": ["$IDENTITY_OK"]
    },
    {
      "name": "e2e-identity-bad",
      "registryScopes": ["$REG_DIST/identity-bad"],
      "signatureVerification": {"level": "strict"},
      "trustStores": ["ca:e2e"],
      "trustedIdentities": ["$IDENTITY_BAD"]
    },
    {
      "name": "e2e-oci-layout",
      "registryScopes": ["$LAYOUT_SCOPE"],
      "signatureVerification": {"level": "strict"},
      "trustStores": ["ca:e2e"],
      "trustedIdentities": ["*"]
    },
    {
      "name": "e2e-registries",
      "registryScopes": ["*"],
      "signatureVerification": {"level": "strict"},
      "trustStores": ["ca:e2e"],
      "trustedIdentities": ["*"]
    }
  ]
}
EOF
}
policy_json >"$W/trustpolicy.json"
# notation v1.3 reads trustpolicy.json; later versions prefer trustpolicy.oci.json: write both.
check "notation policy import (strict, ca:e2e)" notation policy import --force "$W/trustpolicy.json"
cp "$NOTATION_CONFIG/trustpolicy.json" "$NOTATION_CONFIG/trustpolicy.oci.json"
cat >"$NOTATION_CONFIG/trustpolicy.blob.json" <<'EOF'
{
  "version": "1.0",
  "trustPolicies": [
    {
      "name": "e2e-blob",
      "signatureVerification": {"level": "strict"},
      "trustStores": ["ca:e2e"],
      "trustedIdentities": ["*"],
      "globalPolicy": true
    }
  ]
}
EOF

# ====================================================================== helpers for the cases
# with_key SPEC: the plugin flags for the in-process key of SPEC's PKI (sets array KEY_ARGS).
with_key() {
  KEY_ARGS=(--plugin "$PLUGIN_NAME" --id "e2e-$1"
    --plugin-config "private_key=$PKI/$1/leaf.key" --plugin-config "cert_chain=$PKI/$1/certificate_chain.pem")
}
has_spec() { local s; for s in "${KEY_SPECS[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }
# first_of SPEC...: the first of the given specs that this run has (E2E_KEY_SPECS may narrow them).
first_of() { local s; for s in "$@"; do has_spec "$s" && { echo "$s"; return 0; }; done; echo "${KEY_SPECS[0]}"; }

# sign_verify DESC SPEC FORMAT REF NOTATION-SIGN-FLAGS...: sign REF then verify it.
sign_verify() {
  local desc="$1" spec="$2" fmt="$3" ref="$4"
  shift 4
  check "$desc: notation sign" notation sign "${REG_FLAGS[@]}" --signature-format "$fmt" "$@" "$ref"
  check "$desc: notation verify" notation verify -v "$ref"
}

# sig_manifest REF: the signature manifest (JSON) of the only signature on REF.
sig_manifest() {
  local ref="$1" repo="${1%@*}" m
  m=$(notation inspect -o json "$ref" | jq -r '.Signatures[0].digest') || return 1
  [[ -n "$m" && "$m" != null ]] || { echo "no signature on $ref" >&2; return 1; }
  crane manifest "$repo@$m"
}

# fetch_envelope REF OUT: save the envelope blob of the only signature on REF to OUT.
fetch_envelope() {
  local ref="$1" out="$2" repo="${1%@*}" layer
  layer=$(sig_manifest "$ref" | jq -er '.layers[0].digest') || return 1
  crane blob "$repo@$layer" >"$out" && [[ -s "$out" ]]
}

# der_sha256 PEM: sha256 hex of the DER encoding of the first certificate in PEM.
der_sha256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# check_stored_shape REF SPEC FORMAT DESC: the signature manifest has a notary signature shape and the
# thumbprints leaf, intermediate, root of SPEC's PKI (i.e. the plugin returned the full chain, leaf
# first). Two shapes are accepted: notation v1.3.x pushes config.mediaType
# application/vnd.cncf.notary.signature ({}) and no artifactType; notation v2/main (and `oras attach
# --artifact-type`) push artifactType application/vnd.cncf.notary.signature with the OCI empty config.
check_stored_shape() {
  local ref="$1" spec="$2" fmt="$3" mt want
  mt=$(media_type_of "$fmt")
  want=$(jq -cn --arg a "$(der_sha256 "$PKI/$spec/leaf.crt")" --arg b "$(der_sha256 "$PKI/$spec/intermediate.crt")" \
    --arg c "$(der_sha256 "$PKI/$spec/ca.crt")" '[$a,$b,$c]')
  _shape() {
    local m
    m=$(sig_manifest "$ref") || return 1
    printf '%s\n' "$m"
    jq -e --arg at "$NOTARY_SIG" --arg cfg "$OCI_EMPTY" --arg mt "$mt" --arg subj "${ref#*@}" --argjson want "$want" '
      ((.artifactType == $at and .config.mediaType == $cfg)
        or (.artifactType == null and .config.mediaType == $at and .config.size == 2))
      and (.layers | length) == 1
      and .layers[0].mediaType == $mt and .subject.digest == $subj
      and (.annotations["io.cncf.notary.x509chain.thumbprint#S256"] | fromjson) == $want' <<<"$m"
  }
  check "$4: stored signature manifest (notary signature, one $mt layer, subject, thumbprints leaf/intermediate/root)" _shape
}

# sig_envelope_missing DESC: count a sig-envelope case as failed because the tool is absent.
sig_envelope_missing() {
  record_fail "$1" "$SIG_ENVELOPE not found: build it (a workspace binary or example named sig-envelope) — the e2e suite never skips these"
}

# ====================================================================== a) six key specs x {jws, cose}
phase "a) sign + verify: ${#KEY_SPECS[@]} key specs x {jws, cose}, in-process key"
declare -A ENVELOPE_OF=() # "spec/fmt" -> envelope file notation stored
declare -A TAGS_CHECKED=()
mkdir -p "$W/envelopes"
for spec in "${KEY_SPECS[@]}"; do
  for fmt in jws cose; do
    next_registry
    ref=$(new_image "$REG" "app-${spec,,}-$fmt")
    with_key "$spec"
    desc="a) $spec $fmt ($REG_KIND)"
    sign_verify "$desc" "$spec" "$fmt" "$ref" "${KEY_ARGS[@]}"
    check_output_contains "$desc: notation inspect shows ${SIG_ALG[$spec]}" "\"${SIG_ALG[$spec]}\"" \
      notation inspect -o json "$ref"
    check_stored_shape "$ref" "$spec" "$fmt" "$desc"
    if [[ -z "${TAGS_CHECKED[$REG_KIND]:-}" ]]; then
      TAGS_CHECKED[$REG_KIND]=1
      tag_schema="sha256-$(cut -d: -f2 <<<"${ref#*@}")"
      if [[ $REG_KIND == distribution ]]; then
        check_output_contains "$desc: referrers tag-schema index $tag_schema was written" "$tag_schema" crane ls "${ref%@*}"
      else
        _no_tag_schema() { crane ls "${ref%@*}" && ! crane ls "${ref%@*}" | grep -qx "$tag_schema"; }
        check "$desc: no tag-schema index $tag_schema (the Referrers API was used)" _no_tag_schema
        _listed() {
          local repo="${ref%@*}"
          referrers_of "$REG" "${repo#*/}" "${ref#*@}" >"$W/referrers.json" && cat "$W/referrers.json" &&
            jq -e --arg at "$NOTARY_SIG" '[.manifests // [] | .[] | select(.artifactType == $at)] | length == 1' "$W/referrers.json"
        }
        check "$desc: GET /v2/<repo>/referrers/<digest> lists the signature (artifactType $NOTARY_SIG)" _listed
      fi
    fi
    env_file="$W/envelopes/$spec.$fmt.sig"
    check "$desc: fetch the envelope notation pushed" fetch_envelope "$ref" "$env_file"
    [[ -s "$env_file" ]] && ENVELOPE_OF["$spec/$fmt"]="$env_file"
  done
done

# ====================================================================== b) signer programs
phase "b) sign + verify through signer programs (examples/)"
signer_case() { # DESC SPEC FORMAT SIGNER [EXTRA-FLAGS...]
  local desc="$1" spec="$2" fmt="$3" signer="$4"
  shift 4
  next_registry
  local ref
  ref=$(new_image "$REG" "signer-${spec,,}-$fmt")
  sign_verify "$desc ($REG_KIND)" "$spec" "$fmt" "$ref" \
    --plugin "$PLUGIN_NAME" --id "e2e-signer-$spec" \
    --plugin-config "signer=$signer" \
    --plugin-config "private_key=$PKI/$spec/leaf.key" \
    --plugin-config "cert_chain=$PKI/$spec/certificate_chain.pem" "$@"
}
ec=$(first_of EC-384 EC-256 EC-521)
rsa=$(first_of RSA-3072 RSA-2048 RSA-4096)
for fmt in jws cose; do
  signer_case "b) sign-with-openssl.sh $ec $fmt" "$ec" "$fmt" "$EXAMPLES/sign-with-openssl.sh"
  signer_case "b) sign-with-openssl.sh $rsa $fmt" "$rsa" "$fmt" "$EXAMPLES/sign-with-openssl.sh"
done
signer_case "b) sign-with-openssl.sh $ec jws, signature_encoding=base64" "$ec" jws \
  "$EXAMPLES/sign-with-openssl.sh" --plugin-config signature_encoding=base64
signer_case "b) sign-with-openssl.sh $rsa cose, signature_encoding=hex" "$rsa" cose \
  "$EXAMPLES/sign-with-openssl.sh" --plugin-config signature_encoding=hex
if [[ -x "$EXAMPLES/ecdsa-openssl.sh" ]]; then
  signer_case "b) ecdsa-openssl.sh (DER ECDSA) $ec cose" "$ec" cose "$EXAMPLES/ecdsa-openssl.sh"
fi
if has_spec RSA-4096; then
  for fmt in cose jws; do
    signer_case "b) rsassa-pss-sha512.sh RSA-4096 $fmt" RSA-4096 "$fmt" "$EXAMPLES/rsassa-pss-sha512.sh"
  done
else
  record_skip "b) rsassa-pss-sha512.sh RSA-4096" "RSA-4096 not in E2E_KEY_SPECS"
fi

# ====================================================================== c) chain out of order
phase "c) certificate chain given out of order"
spec=$(first_of EC-256 "${KEY_SPECS[@]}")
cat "$PKI/$spec/ca.crt" "$PKI/$spec/leaf.crt" "$PKI/$spec/intermediate.crt" >"$PKI/$spec/chain_shuffled.pem"
for fmt in jws cose; do
  next_registry
  ref=$(new_image "$REG" shuffled)
  sign_verify "c) $spec $fmt, chain root+leaf+intermediate ($REG_KIND)" "$spec" "$fmt" "$ref" \
    --plugin "$PLUGIN_NAME" --id e2e-shuffled \
    --plugin-config "private_key=$PKI/$spec/leaf.key" --plugin-config "cert_chain=$PKI/$spec/chain_shuffled.pem"
  check_stored_shape "$ref" "$spec" "$fmt" "c) $spec $fmt shuffled chain"
done

# ====================================================================== d) environment and key list
phase "d) configuration from the environment; notation key add"
spec=$(first_of RSA-2048 "${KEY_SPECS[@]}")
next_registry
ref=$(new_image "$REG" env)
check "d) EXTERNAL_PRIVATE_KEY + EXTERNAL_CERT_CHAIN ($spec, $REG_KIND): notation sign" \
  env "EXTERNAL_PRIVATE_KEY=$PKI/$spec/leaf.key" "EXTERNAL_CERT_CHAIN=$PKI/$spec/certificate_chain.pem" \
  notation sign "${REG_FLAGS[@]}" --plugin "$PLUGIN_NAME" --id e2e-env "$ref"
check "d) EXTERNAL_PRIVATE_KEY + EXTERNAL_CERT_CHAIN: notation verify" notation verify -v "$ref"

spec=$(first_of EC-256 "${KEY_SPECS[@]}")
next_registry
ref=$(new_image "$REG" env-signer)
check "d) EXTERNAL_SIGNER=sign-with-openssl.sh + EXTERNAL_PRIVATE_KEY + EXTERNAL_CERT_CHAIN ($spec cose, $REG_KIND): notation sign" \
  env "EXTERNAL_SIGNER=$EXAMPLES/sign-with-openssl.sh" "EXTERNAL_PRIVATE_KEY=$PKI/$spec/leaf.key" \
  "EXTERNAL_CERT_CHAIN=$PKI/$spec/certificate_chain.pem" \
  notation sign "${REG_FLAGS[@]}" --signature-format cose --plugin "$PLUGIN_NAME" --id e2e-env-signer "$ref"
check "d) EXTERNAL_SIGNER: notation verify" notation verify -v "$ref"

next_registry
ref=$(new_image "$REG" env-precedence)
with_key "$spec"
check "d) pluginConfig wins over EXTERNAL_* (environment names the other CA's key and chain): notation sign" \
  env "EXTERNAL_PRIVATE_KEY=$PKI/other/leaf.key" "EXTERNAL_CERT_CHAIN=$PKI/other/certificate_chain.pem" \
  notation sign "${REG_FLAGS[@]}" "${KEY_ARGS[@]}" "$ref"
check "d) pluginConfig wins over EXTERNAL_*: notation verify (signed under the trusted CA)" notation verify -v "$ref"

next_registry
ref=$(new_image "$REG" env-encoding)
check "d) EXTERNAL_SIGNATURE_ENCODING=hex with signer=sign-with-openssl.sh ($spec, $REG_KIND): notation sign" \
  env EXTERNAL_SIGNATURE_ENCODING=hex notation sign "${REG_FLAGS[@]}" --plugin "$PLUGIN_NAME" --id e2e-env-encoding \
  --plugin-config "signer=$EXAMPLES/sign-with-openssl.sh" \
  --plugin-config "private_key=$PKI/$spec/leaf.key" --plugin-config "cert_chain=$PKI/$spec/certificate_chain.pem" "$ref"
check "d) EXTERNAL_SIGNATURE_ENCODING=hex: notation verify" notation verify -v "$ref"

spec=$(first_of EC-384 "${KEY_SPECS[@]}")
check "d) notation key add --plugin $PLUGIN_NAME e2e-key ($spec)" \
  notation key add --plugin "$PLUGIN_NAME" --id e2e-key-id \
  --plugin-config "private_key=$PKI/$spec/leaf.key" --plugin-config "cert_chain=$PKI/$spec/certificate_chain.pem" e2e-key
check_output_contains "d) notation key ls shows e2e-key" e2e-key notation key ls
for fmt in jws cose; do
  next_registry
  ref=$(new_image "$REG" keyed)
  sign_verify "d) notation sign --key e2e-key $fmt ($REG_KIND)" "$spec" "$fmt" "$ref" --key e2e-key
done

# ====================================================================== e) verification refusals
phase "e) notation verify refuses unsigned and untrusted images"
next_registry
ref=$(new_image "$REG" unsigned)
check_fails_with "e) unsigned image ($REG_KIND): notation verify fails" "no signature is associated" notation verify -v "$ref"
next_registry
ref=$(new_image "$REG" other-ca)
check "e) sign under the other (untrusted) CA ($REG_KIND)" notation sign "${REG_FLAGS[@]}" --plugin "$PLUGIN_NAME" --id e2e-other \
  --plugin-config "private_key=$PKI/other/leaf.key" --plugin-config "cert_chain=$PKI/other/certificate_chain.pem" "$ref"
check_fails_with "e) image signed under the other CA: notation verify fails (untrusted chain)" \
  "does not contain any trusted certificate" notation verify -v "$ref"

spec=$(first_of EC-256 "${KEY_SPECS[@]}")
with_key "$spec"
ref=$(new_image "$REG_DIST" identity-ok)
check "e) sign $REG_DIST/identity-ok" notation sign "${KEY_ARGS[@]}" "$ref"
check "e) trustedIdentities [$IDENTITY_OK]: notation verify passes" notation verify -v "$ref"
ref=$(new_image "$REG_DIST" identity-bad)
check "e) sign $REG_DIST/identity-bad" notation sign "${KEY_ARGS[@]}" "$ref"
check_fails "e) trustedIdentities [$IDENTITY_BAD]: notation verify fails" notation verify -v "$ref"

# ====================================================================== f) plugin refusals
phase "f) refusals reach the user through notation sign"
ref=$(new_image "$REG_DIST" refusals)
ec=$(first_of EC-256 EC-384 EC-521)
check_fails_with "f) private_key of another PKI (same curve) -> 'does not match'" "does not match" \
  notation sign --plugin "$PLUGIN_NAME" --id e2e-mismatch \
  --plugin-config "private_key=$PKI/other/leaf.key" --plugin-config "cert_chain=$PKI/$ec/certificate_chain.pem" "$ref"
rsa=$(first_of RSA-2048 RSA-3072 RSA-4096)
check_fails_with "f) EC private_key with an RSA chain -> 'does not match'" "does not match" \
  notation sign --plugin "$PLUGIN_NAME" --id e2e-mismatch \
  --plugin-config "private_key=$PKI/other/leaf.key" --plugin-config "cert_chain=$PKI/$rsa/certificate_chain.pem" "$ref"
printf 'this is not a certificate\n' >"$W/garbage-chain.pem"
: >"$W/empty-chain.pem"
check_fails_with "f) cert_chain file with garbage -> 'certificate chain'" "certificate chain" \
  notation sign --plugin "$PLUGIN_NAME" --id e2e-bad-chain \
  --plugin-config "private_key=$PKI/$ec/leaf.key" --plugin-config "cert_chain=$W/garbage-chain.pem" "$ref"
check_fails_with "f) empty cert_chain file -> mentions the chain" "chain" \
  notation sign --plugin "$PLUGIN_NAME" --id e2e-bad-chain \
  --plugin-config "private_key=$PKI/$ec/leaf.key" --plugin-config "cert_chain=$W/empty-chain.pem" "$ref"
check_fails_with "f) missing cert_chain file -> mentions the chain" "chain" \
  notation sign --plugin "$PLUGIN_NAME" --id e2e-bad-chain \
  --plugin-config "private_key=$PKI/$ec/leaf.key" --plugin-config "cert_chain=$W/does-not-exist.pem" "$ref"

# Hanging signer: the plugin must give up after signer_timeout and kill the whole process group.
hang_case() { # DESC MODE(config|env)
  local desc="$1" mode="$2" pidfile="$W/hang-$2.pids" pids p alive=()
  if [[ ! -f "$COMMANDS/hang.sh" ]]; then
    record_fail "$desc" "fixture $COMMANDS/hang.sh is missing"
    return
  fi
  rm -f "$pidfile"
  local args=(--plugin "$PLUGIN_NAME" --id e2e-hang --plugin-config "private_key=$PKI/$ec/leaf.key"
    --plugin-config "cert_chain=$PKI/$ec/certificate_chain.pem")
  local envs=("HANG_PID_FILE=$pidfile")
  if [[ "$mode" == config ]]; then
    args+=(--plugin-config "signer=$COMMANDS/hang.sh" --plugin-config signer_timeout=2)
  else
    envs+=("EXTERNAL_SIGNER=$COMMANDS/hang.sh" EXTERNAL_SIGNER_TIMEOUT=2)
  fi
  CHECK_TIMEOUT=60 check_fails_with "$desc -> 'timed out'" "timed out" env "${envs[@]}" notation sign "${args[@]}" "$ref"
  if ((LAST_SECONDS <= 15)); then
    record_pass "$desc: gave up within 15 s (took ${LAST_SECONDS}s)"
  else
    record_fail "$desc: gave up within 15 s" "took ${LAST_SECONDS}s"
  fi
  pids=$(cat "$pidfile" 2>/dev/null || true)
  # Give the kill up to 5 s to land; a zombie (not reaped yet) counts as gone.
  local i
  for ((i = 0; i < 50; i++)); do
    alive=()
    for p in $pids; do pid_alive "$p" && alive+=("$p"); done
    ((${#alive[@]} == 0)) && break
    sleep 0.1
  done
  if [[ -z "$pids" ]]; then
    record_fail "$desc: signer process group killed" "hang.sh never ran (no PIDs in $pidfile)"
  elif ((${#alive[@]})); then
    record_fail "$desc: signer process group killed" "still running 5 s after the timeout: ${alive[*]} (of $pids): $(ps -o pid=,stat=,args= -p "${alive[*]// /,}" 2>/dev/null | tr '\n' ';')"
    kill -KILL "${alive[@]}" 2>/dev/null || true
  else
    record_pass "$desc: signer process group killed (pids $pids gone)"
  fi
}
hang_case "f) hanging signer, signer_timeout=2" config
hang_case "f) hanging signer, EXTERNAL_SIGNER_TIMEOUT=2" env

if [[ -f "$COMMANDS/exit_1.sh" ]]; then
  check_fails_with "f) signer exits 1 -> its stderr reaches the user" "key locked" \
    notation sign --plugin "$PLUGIN_NAME" --id e2e-exit1 --plugin-config "signer=$COMMANDS/exit_1.sh" \
    --plugin-config "private_key=$PKI/$ec/leaf.key" --plugin-config "cert_chain=$PKI/$ec/certificate_chain.pem" "$ref"
else
  record_fail "f) signer exits 1" "fixture $COMMANDS/exit_1.sh is missing"
fi
# Misbehaving signer programs (tests/data/commands): notation sign must fail, quickly, with a short
# message (the plugin caps what it relays), and leave no signature behind.
bad_signer() { # DESC SCRIPT SPEC FORMAT [NEEDLE]
  local desc="$1" script="$COMMANDS/$2" spec="$3" fmt="$4" needle="${5:-}"
  if [[ ! -f "$script" ]]; then
    record_fail "$desc" "fixture $script is missing"
    return
  fi
  local args=(notation sign --signature-format "$fmt" --plugin "$PLUGIN_NAME" --id e2e-bad-signer
    --plugin-config "signer=$script" --plugin-config signer_timeout=20
    --plugin-config "private_key=$PKI/$spec/leaf.key" --plugin-config "cert_chain=$PKI/$spec/certificate_chain.pem" "$ref")
  if [[ -n "$needle" ]]; then
    CHECK_TIMEOUT=60 check_fails_with "$desc -> '$needle'" "$needle" "${args[@]}"
  else
    CHECK_TIMEOUT=60 check_fails "$desc" "${args[@]}"
  fi
  local size
  size=$(wc -c <"$LAST_OUTPUT")
  if ((size <= 65536)); then
    record_pass "$desc: notation output stays short ($size bytes)"
  else
    record_fail "$desc: notation output stays short" "$size bytes of output"
  fi
}
rsa_big=$(first_of RSA-4096 RSA-3072 "${KEY_SPECS[@]}")
bad_signer "f) signer prints garbage" garbage.sh "$ec" jws
bad_signer "f) signer prints nothing" empty.sh "$ec" jws
bad_signer "f) signer killed by SIGKILL" killed.sh "$ec" jws
bad_signer "f) signer prints 64 MiB" huge.sh "$ec" jws
bad_signer "f) signer floods stderr (10 MiB) and exits 1" stderr_flood.sh "$ec" jws "chatty"
bad_signer "f) signer signs with another key" wrong_key.sh "$ec" jws
bad_signer "f) RSA signer does PKCS#1 v1.5 instead of PSS" pkcs1v15.sh "$rsa" jws
bad_signer "f) RSA-PSS salt 32 with $rsa_big, COSE (go-cose needs salt = hash length)" pss_salt_32.sh "$rsa_big" cose
check_fails "f) the refused image has no signature (notation verify fails)" notation verify -v "$ref"

# ====================================================================== g) blobs
phase "g) blob sign + blob verify"
if notation --help 2>/dev/null | grep -qE '^[[:space:]]+blob[[:space:]]'; then
  spec=$(first_of EC-256 "${KEY_SPECS[@]}")
  with_key "$spec"
  mkdir -p "$W/blob"
  head -c 4096 /dev/urandom >"$W/blob/file.bin"
  for fmt in jws cose; do
    rm -f "$W/blob/file.bin.$fmt.sig"
    check "g) notation blob sign $spec $fmt" \
      notation blob sign --signature-format "$fmt" --signature-directory "$W/blob" "${KEY_ARGS[@]}" "$W/blob/file.bin"
    check "g) notation blob verify $spec $fmt" \
      notation blob verify --signature "$W/blob/file.bin.$fmt.sig" "$W/blob/file.bin"
    cp "$W/blob/file.bin" "$W/blob/tampered.bin"
    printf 'x' >>"$W/blob/tampered.bin"
    check_fails "g) notation blob verify $fmt fails for a modified blob" \
      notation blob verify --signature "$W/blob/file.bin.$fmt.sig" "$W/blob/tampered.bin"
  done
else
  record_skip "g) notation blob sign/verify (jws, cose)" \
    "notation $NOTATION_VERSION has no 'blob' command"
fi

# ====================================================================== j) concurrency
phase "j) 8 parallel notation sign runs on different images, same key, both registries"
spec=$(first_of EC-256 RSA-2048)
with_key "$spec"
par_refs=() par_flags=() par_pids=()
for i in 1 2 3 4 5 6 7 8; do
  next_registry
  par_refs+=("$(new_image "$REG" "parallel-$i")")
  par_flags+=("${REG_FLAGS[*]:-}")
done
for i in "${!par_refs[@]}"; do
  # shellcheck disable=SC2086  # par_flags[i] is empty or one flag
  notation sign ${par_flags[$i]} "${KEY_ARGS[@]}" "${par_refs[$i]}" >"$W/parallel-$i.log" 2>&1 &
  par_pids+=($!)
done
par_failed=()
for i in "${!par_pids[@]}"; do
  wait "${par_pids[$i]}" || par_failed+=("${par_refs[$i]}: $(tail -n 3 "$W/parallel-$i.log")")
done
if ((${#par_failed[@]})); then
  record_fail "j) 8 parallel notation sign runs ($spec) all succeed" "${par_failed[*]}"
else
  record_pass "j) 8 parallel notation sign runs ($spec) all succeed"
fi
for ref in "${par_refs[@]}"; do
  check "j) parallel-signed ${ref##*/}: notation verify" notation verify "$ref"
done

# ====================================================================== h) OCI layout
phase "h) OCI image layout (NOTATION_EXPERIMENTAL=1)"
src=$(new_image "$REG_REF" layout-src)
LAYOUT="$W/layout"
check "h) crane pull --format=oci into an OCI layout" crane pull --format=oci "$src" "$LAYOUT"
ldig=$(jq -r '.manifests[0].digest' "$LAYOUT/index.json" 2>/dev/null || true)
spec=$(first_of EC-521 RSA-4096 "${KEY_SPECS[@]}")
with_key "$spec"
for fmt in jws cose; do
  check "h) notation sign --oci-layout $spec $fmt" env NOTATION_EXPERIMENTAL=1 \
    notation sign --oci-layout --signature-format "$fmt" "${KEY_ARGS[@]}" "$LAYOUT@$ldig"
done
check "h) notation verify --oci-layout --scope $LAYOUT_SCOPE" env NOTATION_EXPERIMENTAL=1 \
  notation verify -v --oci-layout --scope "$LAYOUT_SCOPE" "$LAYOUT@$ldig"
check_output_contains "h) notation list --oci-layout shows 2 signatures" "$NOTARY_SIG" env NOTATION_EXPERIMENTAL=1 \
  notation list --oci-layout "$LAYOUT@$ldig"
if [[ $(grep -c 'sha256:' "$LAST_OUTPUT" || true) -ge 3 ]]; then
  record_pass "h) notation list --oci-layout: subject + 2 signatures listed"
else
  record_fail "h) notation list --oci-layout: subject + 2 signatures listed" "$(cat "$LAST_OUTPUT")"
fi

# ====================================================================== i) sig-core <-> notation envelopes
phase "i) sig-envelope verifies what notation stored; notation verifies what sig-envelope made"
if [[ -x "$SIG_ENVELOPE" ]]; then
  for spec in "${KEY_SPECS[@]}"; do
    for fmt in jws cose; do
      f="${ENVELOPE_OF[$spec/$fmt]:-}"
      if [[ -z "$f" ]]; then
        record_fail "i) sig-envelope verify $spec $fmt" "no envelope was fetched in case a)"
        continue
      fi
      check "i) sig-envelope verify (notation's $spec $fmt envelope)" \
        "$SIG_ENVELOPE" verify --envelope "$f" --media-type "$(media_type_of "$fmt")" --trust-anchor "$PKI/$spec/ca.crt"
    done
  done
  # A wrong trust anchor must be refused.
  spec=${KEY_SPECS[0]}
  if [[ -n "${ENVELOPE_OF[$spec/jws]:-}" ]]; then
    check_fails "i) sig-envelope verify refuses notation's $spec jws envelope under the other CA" \
      "$SIG_ENVELOPE" verify --envelope "${ENVELOPE_OF[$spec/jws]}" --media-type application/jose+json \
      --trust-anchor "$PKI/other/ca.crt"
  fi

  # Reverse: sig-envelope signs, oras attaches the envelope as a notary signature, notation verifies.
  attach_case() { # SPEC FORMAT
    local spec="$1" fmt="$2" mt ref repo d desc out
    mt=$(media_type_of "$fmt")
    next_registry
    ref=$(new_image "$REG" "sig-envelope-${spec,,}-$fmt")
    d="$W/attach/$spec.$fmt"
    mkdir -p "$d"
    crane manifest "${ref}" >"$d/manifest.json"
    jq -c --arg dig "${ref#*@}" --argjson size "$(wc -c <"$d/manifest.json")" \
      '{mediaType: .mediaType, digest: $dig, size: $size}' "$d/manifest.json" >"$d/descriptor.json"
    desc="i) sig-envelope sign $spec $fmt -> oras attach ($REG_KIND) -> notation verify"
    check "$desc: sig-envelope sign" "$SIG_ENVELOPE" sign --format "$fmt" --key "$PKI/$spec/leaf.key" \
      --chain "$PKI/$spec/certificate_chain.pem" --descriptor "$d/descriptor.json" --out "$d/env.sig"
    _attach() {
      (cd "$d" && oras attach --no-tty --artifact-type "$NOTARY_SIG" --export-manifest sigmanifest.json \
        "$ref" "env.sig:$mt")
    }
    check "$desc: oras attach" _attach
    check "$desc: notation verify" notation verify -v "$ref"
  }
  for spec in "${KEY_SPECS[@]}"; do
    for fmt in jws cose; do attach_case "$spec" "$fmt"; done
  done
else
  sig_envelope_missing "i) sig-envelope verify of the envelopes notation stored (${#ENVELOPE_OF[@]} fetched)"
  sig_envelope_missing "i) sig-envelope sign -> oras attach -> notation verify"
fi

finish
