#!/usr/bin/env bash
# make publish: push the release files of `make dist` (the archives, their SBOMs, checksums.txt) to
# an OCI registry as ONE artifact with oras, then sign that artifact twice with what it contains:
#   - notation, through the notation-external-signer plugin installed from the plugin archive
#     itself (into a throw-away plugin directory: your notation plugins are not touched), JWS;
#   - cosign-compat from the tools archive (cosign's legacy .sig tag format, no Rekor).
# Both signatures carry the certificate chain: `notation verify` checks it against a trust store,
# `cosign verify --certificate-chain` (or --key) against the chain's root.
#
# The artifact: artifactType application/vnd.external-signer.release.v1, one layer per file (its
# name in org.opencontainers.image.title, which `oras pull` uses), annotations version, revision
# (the commit) and created = SOURCE_DATE_EPOCH (the commit time), so the same dist/ pushed twice
# gives the same manifest digest.
#
# usage: scripts/publish.sh --registry HOST[:PORT]/REPO [--tag TAG] [--dist DIR]
#                           [--key FILE] [--cert-chain FILE] [--plain-http]
#   (or `make publish REGISTRY=HOST[:PORT]/REPO [TAG=..] [SIGNING_KEY=..] [SIGNING_CERT_CHAIN=..]`)
#   --registry    where to push (no tag, no digest): localhost:5000/external-signer/release
#   --tag         default: the version in the archive names (0.1.0)
#   --dist        the `make dist` output (default DIST_DIR or dist/); checksums.txt must verify
#   --key         the signing key (PEM: PKCS#8, PKCS#1, SEC1), default $SIGNING_KEY
#   --cert-chain  leaf first, then intermediates (and root), PEM, default $SIGNING_CERT_CHAIN
#   --plain-http  HTTP instead of HTTPS; implied for loopback registries (localhost, 127.x, [::1])
# Registry credentials: docker's config (`oras login` / `notation login` / `docker login`).
# Prints the pushed reference REGISTRY@sha256:... as its last line on stdout.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

usage() { sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
REGISTRY="${REGISTRY:-}"
TAG="${TAG:-}"
DIST="${DIST_DIR:-dist}"
KEY="${SIGNING_KEY:-}"
CHAIN="${SIGNING_CERT_CHAIN:-}"
PLAIN_HTTP="${PLAIN_HTTP:-}"
while (($#)); do
  case "$1" in
    --registry | --tag | --dist | --key | --cert-chain)
      [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (scripts/publish.sh --help)"
      case "$1" in
        --registry) REGISTRY="$2" ;;
        --tag) TAG="$2" ;;
        --dist) DIST="$2" ;;
        --key) KEY="$2" ;;
        --cert-chain) CHAIN="$2" ;;
      esac
      shift 2
      ;;
    --plain-http) PLAIN_HTTP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

# ------------------------------------------------------------------ inputs
[[ -n "$REGISTRY" ]] || die "no registry: make publish REGISTRY=host[:port]/repo (e.g. localhost:5000/external-signer/release)"
[[ "$REGISTRY" =~ ^[A-Za-z0-9.-]+(:[0-9]+)?/[a-z0-9]+([._/-][a-z0-9]+)*$ || "$REGISTRY" =~ ^\[[0-9a-fA-F:]+\](:[0-9]+)?/[a-z0-9]+([._/-][a-z0-9]+)*$ ]] ||
  die "REGISTRY='$REGISTRY' is not host[:port]/repository (lower-case repository, no tag or digest: the tag is TAG)"
[[ -s "$DIST/checksums.txt" ]] || die "$DIST/checksums.txt not found: run 'make dist' first (or pass --dist DIR)"
[[ -n "$KEY" && -n "$CHAIN" ]] ||
  die "no signing key or certificate chain: SIGNING_KEY=FILE SIGNING_CERT_CHAIN=FILE (a test PKI: make certificates, then SIGNING_KEY=examples/leaf.key SIGNING_CERT_CHAIN=examples/certificate_chain.pem)"
[[ -r "$KEY" ]] || die "signing key '$KEY' is not readable"
[[ -r "$CHAIN" ]] || die "certificate chain '$CHAIN' is not readable"
KEY=$(realpath "$KEY")
CHAIN=$(realpath "$CHAIN")
need_tools oras notation jq sha256sum tar

(cd "$DIST" && sha256sum --quiet -c --strict checksums.txt) >&2 ||
  die "$DIST/checksums.txt does not verify: the files changed since 'make dist'; run it again"
mapfile -t FILES < <(awk '{print $2}' "$DIST/checksums.txt")
PLUGIN_ARCHIVE='' TOOLS_ARCHIVE='' VERSION=''
for f in "${FILES[@]}"; do
  [[ "$f" =~ ^[A-Za-z0-9._+-]+$ ]] || die "unexpected file name '$f' in $DIST/checksums.txt"
  case "$f" in
    notation-external-signer_*_*.tar.gz)
      PLUGIN_ARCHIVE="$f"
      VERSION=${f#notation-external-signer_}
      VERSION=${VERSION%%_*}
      ;;
    external-signer-tools_*_*.tar.gz) TOOLS_ARCHIVE="$f" ;;
  esac
done
[[ -n "$PLUGIN_ARCHIVE" && -n "$TOOLS_ARCHIVE" ]] ||
  die "$DIST/checksums.txt lists no plugin archive or no tools archive: run 'make dist'"
TAG="${TAG:-$VERSION}"
[[ "$TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$ ]] || die "TAG='$TAG' is not a valid OCI tag"

COMMIT=unknown
if git rev-parse --git-dir >/dev/null 2>&1; then
  COMMIT=$(git rev-parse HEAD)
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
fi
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
[[ "$SOURCE_DATE_EPOCH" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH='$SOURCE_DATE_EPOCH' is not a number of seconds"
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

HOST=${REGISTRY%%/*}
ORAS_FLAGS=() NOTATION_FLAGS=() CC_FLAGS=()
if [[ -n "$PLAIN_HTTP" ]]; then
  # Asked for: every tool talks HTTP, credentials included.
  ORAS_FLAGS=(--plain-http)
  NOTATION_FLAGS=(--insecure-registry)
  CC_FLAGS=(--allow-http-registry)
else
  case "$HOST" in
    # A loopback registry: HTTP, as notation, cosign and cosign-compat do by themselves (the
    # latter sends no credentials over it unless --plain-http is given).
    localhost | localhost:* | 127.* | \[::1\] | \[::1\]:*)
      ORAS_FLAGS=(--plain-http)
      NOTATION_FLAGS=(--insecure-registry)
      ;;
  esac
fi

W=$(make_workdir "${TMPDIR:-/tmp}" external-signer-publish)

# ------------------------------------------------------------------ push
phase "oras push $REGISTRY:$TAG ($((${#FILES[@]} + 1)) files)"
media_type() {
  case "$1" in
    *.tar.gz) echo application/vnd.oci.image.layer.v1.tar+gzip ;;
    *.cdx.json) echo application/vnd.cyclonedx+json ;;
    *) echo text/plain ;;
  esac
}
PUSH_ARGS=()
for f in "${FILES[@]}"; do PUSH_ARGS+=("$f:$(media_type "$f")"); done
PUSH_ARGS+=("checksums.txt:text/plain")
(cd "$DIST" && oras push "${ORAS_FLAGS[@]}" --no-tty --format json \
  --artifact-type application/vnd.external-signer.release.v1 \
  --annotation "org.opencontainers.image.created=$CREATED" \
  --annotation "org.opencontainers.image.version=$VERSION" \
  --annotation "org.opencontainers.image.revision=$COMMIT" \
  --annotation "org.opencontainers.image.title=external-signer $VERSION" \
  "$REGISTRY:$TAG" "${PUSH_ARGS[@]}") >"$W/push.json" ||
  die "oras push to $REGISTRY:$TAG failed (credentials: oras login ${HOST}; plain HTTP: --plain-http)"
DIGEST=$(jq -r '.digest // empty' "$W/push.json")
[[ "$DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]] || die "oras push printed no digest: $(cat "$W/push.json")"
REF="$REGISTRY@$DIGEST"
log "pushed $REF"

# ------------------------------------------------------------------ sign with notation + our plugin
phase "notation sign (plugin from $PLUGIN_ARCHIVE)"
# The plugin from the archive being published, in a plugin directory of its own.
export NOTATION_LIBEXEC="$W/libexec"
mkdir -p "$NOTATION_LIBEXEC"
notation plugin install --file "$DIST/$PLUGIN_ARCHIVE" >"$W/plugin-install.log" 2>&1 ||
  { cat "$W/plugin-install.log" >&2; die "notation plugin install --file $DIST/$PLUGIN_ARCHIVE failed"; }
# --force-referrers-tag=false: the OCI 1.1 Referrers API where the registry has it (olareg, most
# registries now), else the tag schema (distribution v2); notation v1.3's default (true) writes only
# the tag-schema index, which a registry with the API does not list as a referrer.
notation sign "${NOTATION_FLAGS[@]}" --force-referrers-tag=false --plugin external-signer --id external-signer-release \
  --plugin-config "private_key=$KEY" --plugin-config "cert_chain=$CHAIN" "$REF" >"$W/notation-sign.log" 2>&1 ||
  { cat "$W/notation-sign.log" >&2; die "notation sign $REF failed"; }
log "notation: signed $REF"

# ------------------------------------------------------------------ sign with cosign-compat
phase "cosign-compat sign (from $TOOLS_ARCHIVE)"
mkdir -p "$W/tools"
tar -C "$W/tools" -xzf "$DIST/$TOOLS_ARCHIVE" cosign-compat || die "cannot extract cosign-compat from $TOOLS_ARCHIVE"
# The legacy .sig tag (cosign-compat's default is now cosign v3's bundle): what the suite's cosign
# --certificate-chain check and Kyverno 1.19.1 read today.
"$W/tools/cosign-compat" sign "${CC_FLAGS[@]}" --new-bundle-format=false --key "$KEY" --certificate-chain "$CHAIN" \
  -a "org.opencontainers.image.version=$VERSION" "$REF" >"$W/cosign-sign.log" 2>&1 ||
  { cat "$W/cosign-sign.log" >&2; die "cosign-compat sign $REF failed"; }
log "cosign-compat: signed $REF"

phase_end
printf '%s\n' "$REF"
