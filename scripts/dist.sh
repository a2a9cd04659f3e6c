#!/usr/bin/env bash
# make dist: reproducible release archives, in DIST_DIR (default dist/):
#   notation-external-signer_<version>_linux_amd64.tar.gz   the notation plugin, LICENSE, README.md
#   external-signer-tools_<version>_linux_amd64.tar.gz      cosign-compat, sigstore-kms-external-signer,
#                                                           sig-envelope, LICENSE, README.md
#   <archive>.cdx.json                                       the SBOM of each archive (CycloneDX 1.5)
#   checksums.txt                                            SHA-256 of the four (sha256sum format)
# The files sit at the top of each archive, as `notation plugin install --file|--url` expects.
# <version> is the workspace version (Cargo.toml); the git commit (12 hex digits) is embedded in the
# binaries (EXTERNAL_SIGNER_COMMIT, read by the crates' build.rs): `notation plugin ls` shows
# <version>+<commit>, and `cosign-compat --version` / `notation-external-signer version` show it too.
# Without git (or outside a checkout) the binaries say the commit is unknown, and the archive
# timestamps come from SOURCE_DATE_EPOCH if set, else 0.
# Reproducible: the same commit, toolchain and Cargo.lock give the same archive bytes - release build
# with the checkout and CARGO_HOME paths remapped (--remap-path-prefix) into its own target dir
# (target/dist), every file mode fixed, mtimes = SOURCE_DATE_EPOCH (the commit time), entries sorted,
# owner/group 0, gzip -n (no name, no timestamp). tests/e2e/dist.sh builds twice and compares.
# Supply chain: `cargo auditable build` embeds each binary's dependency list (.dep-v0 section);
# cargo-cyclonedx writes the SBOMs (both tools pinned in scripts/peer-versions.sh, `make cargo-tools`).
# Only linux/amd64 is built here (the host); see README "Other platforms".
#
# usage: scripts/dist.sh [--out DIR]       (or `make dist DIST_DIR=...`)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
log() { printf 'dist: %s\n' "$*" >&2; }
die() { printf 'dist: error: %s\n' "$*" >&2; exit 1; }

OUT="${DIST_DIR:-dist}"
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; OUT="$2"; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (usage: scripts/dist.sh [--out DIR])" ;;
  esac
done
# The pinned cargo subcommands (scripts/peer-versions.sh), built by `make cargo-tools` into TOOLS_DIR.
TOOLS_DIR="${TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/external-signer/tools}"
# shellcheck source=scripts/peer-versions.sh
source "$REPO_ROOT/scripts/peer-versions.sh"
PATH="$(peer_tool_dir cargo-auditable):$(peer_tool_dir cargo-cyclonedx):$PATH"
for c in cargo tar gzip sha256sum jq; do
  command -v "$c" >/dev/null 2>&1 || die "'$c' not found: install it (coreutils, tar, gzip, jq, Rust)"
done
for c in cargo-auditable cargo-cyclonedx; do
  command -v "$c" >/dev/null 2>&1 || die "'$c' not found: run 'make cargo-tools' (cargo install --locked into $(peer_tool_dir "$c"))"
done
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (--sort=name, --mtime, --owner)"

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) PLATFORM=linux_amd64 ;;
  Linux/aarch64) PLATFORM=linux_arm64 ;;
  *) die "make dist builds for the host and knows only Linux x86_64/aarch64, not $(uname -s)/$(uname -m) (README: Other platforms)" ;;
esac

VERSION=$(sed -n '/^\[workspace\.package\]/,/^\[/ s/^version = "\([^"]*\)"/\1/p' Cargo.toml)
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "no version in Cargo.toml [workspace.package] (found '$VERSION')"

COMMIT=''
if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
  COMMIT=$(git rev-parse --short=12 HEAD)
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
  [[ -z "$(git status --porcelain --untracked-files=no)" ]] ||
    log "warning: the work tree has uncommitted changes; the archives embed $COMMIT but are built from the modified files"
else
  log "warning: no git checkout: the binaries will say the commit is unknown; mtimes from SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}"
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
fi
[[ "$SOURCE_DATE_EPOCH" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH='$SOURCE_DATE_EPOCH' is not a number of seconds"
export SOURCE_DATE_EPOCH
log "version $VERSION, commit ${COMMIT:-unknown}, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH, $PLATFORM"

# Release build, paths remapped so neither the checkout nor CARGO_HOME location ends up in the binaries.
TARGET_DIR="$REPO_ROOT/target/dist"
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="--remap-path-prefix=$REPO_ROOT=/build --remap-path-prefix=$CARGO_HOME_DIR=/cargo"
# The C code (aws-lc-sys) too: __FILE__ in its error strings.
export CFLAGS="-ffile-prefix-map=$REPO_ROOT=/build -ffile-prefix-map=$CARGO_HOME_DIR=/cargo"
export CXXFLAGS="$CFLAGS"
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
# `cargo auditable build`: the dependency tree (names, versions, sources) goes into each binary as
# zlib-compressed JSON in a .dep-v0 section (`cargo audit bin`, syft, trivy read it).
EXTERNAL_SIGNER_COMMIT="$COMMIT" cargo auditable build --release --locked --target-dir "$TARGET_DIR" \
  -p notation-plugin -p cosign-compat -p sigstore-kms-plugin -p examples --bins
BIN="$TARGET_DIR/release"

# pack NAME FILE...: NAME.tar.gz in OUT, the files at the top of the archive.
pack() {
  local name="$1" stage f
  shift
  stage="$OUT/.stage/$name"
  rm -rf "$stage"
  mkdir -p "$stage"
  for f in "$@"; do
    [[ -f "$f" ]] || die "$f is missing"
    if [[ -x "$f" && "$f" == "$BIN"/* ]]; then install -m 0755 "$f" "$stage/"; else install -m 0644 "$f" "$stage/"; fi
  done
  (cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$OUT/.stage/$name.list"
  LC_ALL=C tar --create --format=gnu --sort=name --mtime="@$SOURCE_DATE_EPOCH" \
    --owner=0 --group=0 --numeric-owner --no-acls --no-selinux --no-xattrs \
    -C "$stage" -T "$OUT/.stage/$name.list" | gzip -n -9 >"$OUT/$name.tar.gz"
  log "$OUT/$name.tar.gz ($(stat -c %s "$OUT/$name.tar.gz") bytes)"
}

mkdir -p "$OUT"
rm -rf "$OUT/.stage" "$OUT"/*.tar.gz "$OUT"/*.cdx.json "$OUT/checksums.txt"
PLUGIN_ARCHIVE="notation-external-signer_${VERSION}_${PLATFORM}"
TOOLS_ARCHIVE="external-signer-tools_${VERSION}_${PLATFORM}"
pack "$PLUGIN_ARCHIVE" "$BIN/notation-external-signer" LICENSE README.md
pack "$TOOLS_ARCHIVE" "$BIN/cosign-compat" "$BIN/sigstore-kms-external-signer" "$BIN/sig-envelope" LICENSE README.md

# SBOMs (CycloneDX 1.5 JSON, cargo-cyclonedx), one per archive, beside it (not inside: the plugin
# archive holds what notation installs) and in checksums.txt: <archive>.cdx.json. cargo-cyclonedx
# writes one file per workspace member next to its Cargo.toml; the timestamp comes from
# SOURCE_DATE_EPOCH, there is no serial number, and the checkout path in the bom-refs of our own
# crates becomes /build (as in the binaries), so the SBOMs are reproducible too.
SBOM_NAME=.dist-sbom
trap 'rm -f "$REPO_ROOT"/*/"$SBOM_NAME.json"' EXIT
HOST_TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
cargo cyclonedx --format json --spec-version 1.5 --target "$HOST_TRIPLE" --override-filename "$SBOM_NAME" -q ||
  die "cargo cyclonedx failed"
# sbom_clean CRATE_DIR: its SBOM, local paths replaced.
sbom_clean() {
  jq --arg p "path+file://$REPO_ROOT/" \
    'walk(if type == "string" then split($p) | join("path+file:///build/") else . end)' "$1/$SBOM_NAME.json"
}
for d in notation-plugin cosign-compat sigstore-kms-plugin examples; do
  [[ -s "$d/$SBOM_NAME.json" ]] || die "cargo cyclonedx wrote no $d/$SBOM_NAME.json"
  sbom_clean "$d" >"$OUT/.stage/$d.cdx.json"
done
rm -f "$REPO_ROOT"/*/"$SBOM_NAME.json"
cp "$OUT/.stage/notation-plugin.cdx.json" "$OUT/$PLUGIN_ARCHIVE.cdx.json"
# The tools archive holds three crates' binaries: one SBOM whose subject is the archive, depending
# on each crate; components and dependency lists merged (the same crate once).
jq -n --arg v "$VERSION" --arg name "${TOOLS_ARCHIVE%%_*}" \
  --slurpfile a "$OUT/.stage/cosign-compat.cdx.json" --slurpfile k "$OUT/.stage/sigstore-kms-plugin.cdx.json" \
  --slurpfile b "$OUT/.stage/examples.cdx.json" '
  [$a[0], $k[0], $b[0]] as $boms | $boms[0] as $a |
  {
    bomFormat: $a.bomFormat, specVersion: $a.specVersion, version: 1,
    metadata: ($a.metadata | .component = {
      type: "application", "bom-ref": "\($name)@\($v)", name: $name, version: $v,
      description: "cosign-compat, sigstore-kms-external-signer and sig-envelope, the tools archive of external-signer",
      licenses: $a.metadata.component.licenses, externalReferences: $a.metadata.component.externalReferences
    }),
    components: ([$boms[].metadata.component] + [$boms[].components[]] | unique_by(."bom-ref")),
    dependencies: ([{ref: "\($name)@\($v)", dependsOn: [$boms[].metadata.component."bom-ref"]}]
      + [$boms[].dependencies[]]
      | group_by(.ref) | map({ref: .[0].ref, dependsOn: ([.[].dependsOn[]?] | unique)}))
  }' >"$OUT/$TOOLS_ARCHIVE.cdx.json" || die "merging the tools SBOMs failed"
for f in "$PLUGIN_ARCHIVE" "$TOOLS_ARCHIVE"; do
  log "$OUT/$f.cdx.json ($(stat -c %s "$OUT/$f.cdx.json") bytes, $(jq '.components | length' "$OUT/$f.cdx.json") components)"
done

rm -rf "$OUT/.stage"
(cd "$OUT" && sha256sum "$PLUGIN_ARCHIVE.tar.gz" "$PLUGIN_ARCHIVE.cdx.json" "$TOOLS_ARCHIVE.tar.gz" \
  "$TOOLS_ARCHIVE.cdx.json" >checksums.txt)
cat "$OUT/checksums.txt"
