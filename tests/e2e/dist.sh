#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2016  # helpers run through check; bash -c '...' takes its arguments as \$1..
# End-to-end tests of the release archives (scripts/dist.sh, `make dist`) with the real notation v1.3.2:
#   1. reproducible: `make dist` twice, the second after touching the binaries' sources (so cargo
#      recompiles and relinks them): checksums.txt is byte-identical; the archive layout is checked
#      (files at the top, modes, owner 0, mtime = SOURCE_DATE_EPOCH) and the binaries show the commit
#   2. `notation plugin install --file <archive>` over an older installed version (an upgrade),
#      then the same version again (refused, then --force); `notation plugin ls` shows name/version
#   3. `notation plugin install --url https://127.0.0.1:PORT/<archive> --sha256sum <hex>` from a
#      local HTTPS server (openssl s_server -WWW) whose certificate is from a private CA
#      (SSL_CERT_FILE); a wrong checksum is refused and nothing is installed
#   4. one `notation sign` with the installed plugin against a local registry, then
#      `notation plugin uninstall --yes` leaves nothing behind
#   5. supply chain: each binary's .dep-v0 section (cargo auditable) decoded with objcopy + zlib
#      lists its crates; each archive's CycloneDX SBOM (a sibling file in checksums.txt) parses,
#      is reproducible (timestamp = commit time, no serial number, no local path) and names the
#      crates, every crate embedded in the plugin included
#   6. `cargo install --locked --offline --path notation-plugin|cosign-compat` from a fresh clone
#      (version, commit), `cargo package -p release-identity -p sig-core -p cosign-compat` with verification (cosign-compat
#      built against the packaged sig-core), the docs as docs.rs builds them (nightly; else a SKIP)
#   7. `make publish` to distribution and to olareg (Referrers API): one OCI artifact (oras), signed
#      by our plugin through notation and by cosign-compat; `notation verify` and `cosign verify`
#      (chain and key) accept it, another key is refused, `oras pull` gives back the exact files,
#      and publishing again gives the same manifest digest
# Everything lives in a temp dir under <repo>/.e2e/ (KEEP_WORKDIR=1 keeps it), notation's config
# isolated there (isolate_env). Loopback only.
#
# usage: tests/e2e/dist.sh       (or `make e2e-dist`, which installs the peers first)
# environment: DIST_DIR  where the first build's archives go (default dist/)
#              DIST_BUILD_TIMEOUT  limit in seconds for each of the two builds (default 3600)
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"
cd "$REPO_ROOT"

PLUGIN_NAME=external-signer

phase "preflight"
need_tools notation crane oras cosign olareg openssl curl jq objcopy perl docker-registry cargo \
  cargo-auditable cargo-cyclonedx
W=$(make_workdir "$REPO_ROOT/.e2e" dist)
log "work dir: $W"
# The builds need the caller's cargo/rustup homes: resolve them before isolate_env moves HOME.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
VERSION=$(sed -n '/^\[workspace\.package\]/,/^\[/ s/^version = "\([^"]*\)"/\1/p' Cargo.toml)
COMMIT=$(git rev-parse --short=12 HEAD)
EPOCH=$(git log -1 --format=%ct HEAD)
DIST="${DIST_DIR:-$REPO_ROOT/dist}"
PLUGIN_ARCHIVE="notation-external-signer_${VERSION}_linux_amd64.tar.gz"
TOOLS_ARCHIVE="external-signer-tools_${VERSION}_linux_amd64.tar.gz"

# ====================================================================== reproducible archives
phase "make dist, twice"
# A cold release build takes far longer than one notation command: its own limit.
CHECK_TIMEOUT_SAVED=$CHECK_TIMEOUT
CHECK_TIMEOUT="${DIST_BUILD_TIMEOUT:-3600}"
check "scripts/dist.sh --out $DIST" scripts/dist.sh --out "$DIST"
[[ -s "$DIST/checksums.txt" ]] || die "scripts/dist.sh wrote no checksums.txt (log: $LAST_OUTPUT)"
cp "$DIST/checksums.txt" "$W/checksums-1.txt"
# Touch the binaries' sources (mtime only): cargo rebuilds and relinks them.
touch notation-plugin/src/main.rs cosign-compat/src/bin/cosign-compat/main.rs sigstore-kms-plugin/src/main.rs examples/src/bin/sig-envelope.rs
check "scripts/dist.sh again after touching the sources" scripts/dist.sh --out "$W/dist-2"
CHECK_TIMEOUT=$CHECK_TIMEOUT_SAVED
check_output_contains "the rebuild recompiled the plugin (so the comparison means something)" \
  "Compiling notation-plugin" cat "$LAST_OUTPUT"
check "two builds of the same commit: byte-identical archives (checksums.txt)" \
  cmp "$W/checksums-1.txt" "$W/dist-2/checksums.txt"
check "checksums.txt verifies with sha256sum -c" bash -c 'cd "$1" && sha256sum -c --strict checksums.txt' _ "$DIST"
check_output_contains "checksums.txt names the plugin archive" "$PLUGIN_ARCHIVE" cat "$DIST/checksums.txt"
check_output_contains "checksums.txt names the tools archive" "$TOOLS_ARCHIVE" cat "$DIST/checksums.txt"

# tar_listing ARCHIVE: mode owner/group size date name per entry, numeric, UTC.
tar_listing() { TZ=UTC tar --numeric-owner --full-time -tvzf "$1" | awk '{print $1, $2, $4, $5, $6}'; }
check "plugin archive: the three files at the top, 0755/0644, owner 0/0, mtime = commit time" bash -c '
  exp_time=$(TZ=UTC date -d "@$2" "+%Y-%m-%d %H:%M:%S")
  diff <(printf "%s\n" "-rw-r--r-- 0/0 LICENSE" "-rw-r--r-- 0/0 README.md" "-rwxr-xr-x 0/0 notation-external-signer") \
       <(TZ=UTC tar --numeric-owner --full-time -tvzf "$1" | awk "{print \$1, \$2, \$6}") &&
  TZ=UTC tar --numeric-owner --full-time -tvzf "$1" | awk "{print \$4\" \"\$5}" | sort -u | grep -qx "$exp_time" &&
  [[ $(TZ=UTC tar --numeric-owner --full-time -tvzf "$1" | awk "{print \$4\" \"\$5}" | sort -u | wc -l) -eq 1 ]]' _ "$DIST/$PLUGIN_ARCHIVE" "$EPOCH"
check "tools archive: cosign-compat, sig-envelope, sigstore-kms-external-signer, LICENSE, README.md at the top, sorted" bash -c '
  diff <(printf "%s\n" LICENSE README.md cosign-compat sig-envelope sigstore-kms-external-signer) <(tar -tzf "$1")' _ "$DIST/$TOOLS_ARCHIVE"
log "$(tar_listing "$DIST/$PLUGIN_ARCHIVE")"
check "gzip header: no name, no timestamp (gzip -n)" bash -c '[[ $(od -An -tx1 -j4 -N4 "$1" | tr -d " ") == 00000000 ]]' _ "$DIST/$PLUGIN_ARCHIVE"

mkdir -p "$W/x"
tar -C "$W/x" -xzf "$DIST/$TOOLS_ARCHIVE"
tar -C "$W/x" -xzf "$DIST/$PLUGIN_ARCHIVE"
check_output_contains "cosign-compat --version shows the commit" "$COMMIT" "$W/x/cosign-compat" --version
check_output_contains "sigstore-kms-external-signer --version shows <version>+<commit>" \
  "sigstore-kms-external-signer $VERSION+$COMMIT" "$W/x/sigstore-kms-external-signer" --version
check_output_contains "notation-external-signer version shows <version>+<commit>" "Version: $VERSION+$COMMIT" \
  "$W/x/notation-external-signer" version
check_output_contains "get-plugin-metadata reports <version>+<commit>" "\"version\":\"$VERSION+$COMMIT\"" \
  bash -c 'echo "{}" | "$1" get-plugin-metadata' _ "$W/x/notation-external-signer"
check "no build path in the binaries (remapped: the checkout, CARGO_HOME)" bash -c '
  ! grep -qaF -e "$2" -e "$3" "$1"/notation-external-signer "$1"/cosign-compat "$1"/sigstore-kms-external-signer "$1"/sig-envelope' _ "$W/x" "$REPO_ROOT" "$CARGO_HOME"

# ====================================================================== embedded dependency lists
phase "dependency lists in the binaries (cargo auditable, .dep-v0)"
# (jq -en 'input | ...' throughout: plain `jq -e` succeeds on an empty file.)
# deps_json BIN: the JSON cargo auditable embedded (the .dep-v0 section, zlib), decoded with
# objcopy + perl's Compress::Zlib (no cargo-audit needed).
deps_json() {
  local tmp
  tmp=$(mktemp "$W/dep-v0.XXXXXX")
  objcopy --dump-section ".dep-v0=$tmp" "$1" "$tmp.elf" && rm -f "$tmp.elf" &&
    perl -MCompress::Zlib -0777 -e 'my $d = uncompress(<STDIN>); defined $d or die "not zlib data\n"; print $d' <"$tmp"
}
for b in notation-external-signer cosign-compat sigstore-kms-external-signer sig-envelope; do
  deps_json "$W/x/$b" >"$W/deps-$b.json" 2>"$W/deps-$b.err" || true
  check "$b: .dep-v0 section decodes to JSON with a package list" \
    jq -en 'input | (.packages | type == "array") and (.packages | length > 50)' "$W/deps-$b.json"
done
check "notation-external-signer: the root package is notation-plugin $VERSION" \
  jq -en --arg v "$VERSION" 'input | [.packages[] | select(.root == true) | "\(.name) \(.version)"] == ["notation-plugin \($v)"]' \
  "$W/deps-notation-external-signer.json"
check "notation-external-signer: lists sig-core (local) and aws-lc-rs, serde_json (crates.io)" \
  jq -en 'input | [.packages[] | "\(.name)/\(.source)"] | (index("sig-core/local") != null) and (index("aws-lc-rs/crates.io") != null) and (index("serde_json/crates.io") != null)' \
  "$W/deps-notation-external-signer.json"
check "cosign-compat: root cosign-compat, lists sig-core and oci-client" \
  jq -en 'input | ([.packages[] | select(.root == true) | .name] == ["cosign-compat"]) and ([.packages[].name] | index("sig-core") != null and index("oci-client") != null)' \
  "$W/deps-cosign-compat.json"
check "sigstore-kms-external-signer: root sigstore-kms-plugin, lists sig-core and cosign-compat" \
  jq -en 'input | ([.packages[] | select(.root == true) | .name] == ["sigstore-kms-plugin"]) and ([.packages[].name] | index("sig-core") != null and index("cosign-compat") != null)' \
  "$W/deps-sigstore-kms-external-signer.json"
check "sig-envelope: root examples, lists sig-core" \
  jq -en 'input | ([.packages[] | select(.root == true) | .name] == ["examples"]) and ([.packages[].name] | index("sig-core") != null)' \
  "$W/deps-sig-envelope.json"
if command -v cargo-audit >/dev/null 2>&1; then
  check_output_contains "cargo audit bin reads the embedded list (no 'not built with cargo auditable')" \
    "Loaded" cargo audit --no-fetch bin "$W/x/notation-external-signer"
fi

# ====================================================================== SBOMs
phase "SBOMs (CycloneDX, cargo-cyclonedx $CARGO_CYCLONEDX_VERSION)"
PLUGIN_SBOM="${PLUGIN_ARCHIVE%.tar.gz}.cdx.json"
TOOLS_SBOM="${TOOLS_ARCHIVE%.tar.gz}.cdx.json"
check_output_contains "checksums.txt lists the plugin SBOM" "$PLUGIN_SBOM" cat "$DIST/checksums.txt"
check_output_contains "checksums.txt lists the tools SBOM" "$TOOLS_SBOM" cat "$DIST/checksums.txt"
for s in "$PLUGIN_SBOM" "$TOOLS_SBOM"; do
  check "$s: CycloneDX JSON 1.5, timestamp = the commit time, no serialNumber" jq -en --argjson t "$EPOCH" \
    'input | .bomFormat == "CycloneDX" and .specVersion == "1.5" and (has("serialNumber") | not) and
     (.metadata.timestamp | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) == $t' "$DIST/$s"
  check "$s: no path of this checkout or of CARGO_HOME" bash -c '! grep -qF -e "$2" -e "$3" "$1"' _ "$DIST/$s" "$REPO_ROOT" "$CARGO_HOME"
  check "$s: every component has a purl, every dependency ref names a component" jq -en 'input |
    ([.components[] | select((.purl // "") | startswith("pkg:cargo/") | not)] | length == 0) and
    ([.components[]."bom-ref", .metadata.component."bom-ref"] as $refs | [.dependencies[] | .ref, .dependsOn[]?] | all(. as $r | $refs | index($r) != null))' "$DIST/$s"
done
check "$PLUGIN_SBOM: describes notation-plugin $VERSION and names sig-core, aws-lc-rs" jq -en --arg v "$VERSION" 'input |
  .metadata.component.name == "notation-plugin" and .metadata.component.version == $v and
  ([.components[].name] | index("sig-core") != null and index("aws-lc-rs") != null)' "$DIST/$PLUGIN_SBOM"
check "$TOOLS_SBOM: describes external-signer-tools, which depends on cosign-compat, sigstore-kms-plugin and examples" jq -en 'input |
  .metadata.component.name == "external-signer-tools" and
  ([.components[].name] | index("cosign-compat") != null and index("sigstore-kms-plugin") != null and index("examples") != null and index("sig-core") != null and index("oci-client") != null) and
  ([.dependencies[] | select(.ref | startswith("external-signer-tools@")) | .dependsOn | length] == [3])' "$DIST/$TOOLS_SBOM"
check "every crate embedded in sigstore-kms-external-signer is in $TOOLS_SBOM" bash -c '
  missing=$(comm -23 <(jq -r ".packages[] | \"\(.name)@\(.version)\"" "$1" | sort -u) \
    <(jq -r "(.components[], .metadata.component) | \"\(.name)@\(.version)\"" "$2" | sort -u))
  [[ -z "$missing" ]] || { echo "missing from the SBOM: $missing"; exit 1; }' _ "$W/deps-sigstore-kms-external-signer.json" "$DIST/$TOOLS_SBOM"
# The two records of the same build agree: every crate cargo auditable embedded in the plugin
# (name@version) is a component of its SBOM (or the SBOM's subject).
check "every crate embedded in notation-external-signer is in $PLUGIN_SBOM" bash -c '
  missing=$(comm -23 <(jq -r ".packages[] | \"\(.name)@\(.version)\"" "$1" | sort -u) \
    <(jq -r "(.components[], .metadata.component) | \"\(.name)@\(.version)\"" "$2" | sort -u))
  [[ -z "$missing" ]] || { echo "missing from the SBOM: $missing"; exit 1; }' _ "$W/deps-notation-external-signer.json" "$DIST/$PLUGIN_SBOM"
log "sizes: $(cd "$DIST" && stat -c '%n %s' ./* | tr '\n' ';')"

# ====================================================================== cargo install, fresh clone
phase "cargo install --path notation-plugin / cosign-compat (fresh clone, offline)"
git clone -q --no-local "$REPO_ROOT" "$W/clone" || die "git clone of $REPO_ROOT failed"
# --target-dir: the release artifacts of the registry dependencies (make e2e-build) are reused.
CHECK_TIMEOUT="${DIST_BUILD_TIMEOUT:-3600}"
check "EXTERNAL_SIGNER_COMMIT=<commit> cargo install --locked --offline --path notation-plugin" \
  env EXTERNAL_SIGNER_COMMIT="$COMMIT" cargo install --locked --offline --path "$W/clone/notation-plugin" \
  --root "$W/cargo-root" --target-dir "$REPO_ROOT/target"
check "cargo install --locked --offline --path cosign-compat" env -u EXTERNAL_SIGNER_COMMIT \
  cargo install --locked --offline --path "$W/clone/cosign-compat" --root "$W/cargo-root" --target-dir "$REPO_ROOT/target"
CHECK_TIMEOUT=$CHECK_TIMEOUT_SAVED
check_output_contains "the installed notation-external-signer shows <version>+<commit>" "Version: $VERSION+$COMMIT" \
  "$W/cargo-root/bin/notation-external-signer" version
check_output_contains "the installed cosign-compat --version shows $VERSION" "cosign-compat $VERSION" \
  "$W/cargo-root/bin/cosign-compat" --version
check_output_contains "... and says the commit is unknown (built without EXTERNAL_SIGNER_COMMIT)" "commit: unknown" \
  "$W/cargo-root/bin/cosign-compat" --version
check_output_contains "the installed cosign-compat runs (completion bash)" "complete" "$W/cargo-root/bin/cosign-compat" completion bash

# ====================================================================== cargo package, docs.rs
phase "cargo package -p release-identity -p sig-core -p cosign-compat (verified); docs as docs.rs builds them"
CHECK_TIMEOUT="${DIST_BUILD_TIMEOUT:-3600}"
# In the fresh clone (clean work tree, as cargo package wants); the shared target dir keeps the
# debug builds of the dependencies (cargo test), which the verification builds reuse.
check "cargo package --locked --offline -p release-identity -p sig-core -p cosign-compat (each .crate built)" \
  bash -c 'cd "$1" && cargo package --locked --offline -p release-identity -p sig-core -p cosign-compat --target-dir "$2"' _ "$W/clone" "$REPO_ROOT/target"
CHECK_TIMEOUT=$CHECK_TIMEOUT_SAVED
check_output_contains "sig-core was verified (built from its .crate)" "Verifying sig-core v$VERSION" cat "$LAST_OUTPUT"
check_output_contains "release-identity was verified (built from its .crate)" "Verifying release-identity v$VERSION" cat "$LAST_OUTPUT"
check_output_contains "cosign-compat was verified against the packaged sig-core and release-identity" "Verifying cosign-compat v$VERSION" cat "$LAST_OUTPUT"
for c in release-identity sig-core cosign-compat; do
  crate="$REPO_ROOT/target/package/$c-$VERSION.crate"
  check "$c-$VERSION.crate has Cargo.toml, LICENSE, README.md, src/lib.rs" bash -c '
    list=$(tar -tzf "$1") && for f in Cargo.toml LICENSE README.md src/lib.rs; do grep -qx "$2/$f" <<<"$list" || { echo "no $f"; exit 1; }; done' _ "$crate" "$c-$VERSION"
done
for dep in dependencies.sig-core build-dependencies.release-identity; do
  check "cosign-compat's packaged Cargo.toml: [$dep] by version, no path" bash -c '
    toml=$(tar -xzOf "$1" "cosign-compat-$2/Cargo.toml") &&
    grep -A3 "^\[$3\]" <<<"$toml" | grep -qx "version = \"$2\"" &&
    ! grep -q "path = " <<<"$(grep -A3 "^\[$3\]" <<<"$toml")"' _ "$REPO_ROOT/target/package/cosign-compat-$VERSION.crate" "$VERSION" "$dep"
done
check "docs.rs metadata: all-features, --cfg docsrs (sig-core, cosign-compat)" bash -c '
  cargo metadata --locked --offline --no-deps --format-version 1 | jq -en "input | [.packages[] | select(.name == \"sig-core\" or .name == \"cosign-compat\") | .metadata.docs.rs | .\"all-features\" == true and .\"rustdoc-args\" == [\"--cfg\", \"docsrs\"]] == [true, true]"'
DOCSRS_TOOLCHAIN="${DOCSRS_TOOLCHAIN:-nightly}"
DOCSRS_TARGET_DIR="${DOCSRS_TARGET_DIR:-$TOOLS_DIR/../docsrs-target}"
if cargo +"$DOCSRS_TOOLCHAIN" --version >/dev/null 2>&1; then
  CHECK_TIMEOUT="${DIST_BUILD_TIMEOUT:-3600}"
  check "make doc-docsrs: $DOCSRS_TOOLCHAIN rustdoc, --cfg docsrs -D warnings, all features (sig-core, cosign-compat)" \
    make -s doc-docsrs DOCSRS_TOOLCHAIN="$DOCSRS_TOOLCHAIN" DOCSRS_TARGET_DIR="$DOCSRS_TARGET_DIR"
  CHECK_TIMEOUT=$CHECK_TIMEOUT_SAVED
  check "the docs.rs build wrote sig_core/index.html and cosign_compat/index.html" \
    test -s "$DOCSRS_TARGET_DIR/doc/sig_core/index.html" -a -s "$DOCSRS_TARGET_DIR/doc/cosign_compat/index.html"
else
  record_skip "docs as docs.rs builds them" "no $DOCSRS_TOOLCHAIN toolchain (rustup toolchain install $DOCSRS_TOOLCHAIN)"
fi

isolate_env "$W"
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
PLUGIN_DIR="$NOTATION_LIBEXEC/plugins/$PLUGIN_NAME"

# ====================================================================== install by file; upgrade
phase "notation plugin install --file (upgrade, same version, --force)"
# An "older release": a plugin answering get-plugin-metadata with version 0.0.1, packed the same way.
mkdir -p "$W/old"
cat >"$W/old/notation-$PLUGIN_NAME" <<'OLD'
#!/bin/sh
case "$1" in
  get-plugin-metadata) printf '%s\n' '{"name":"external-signer","description":"older","version":"0.0.1","url":"https://example.invalid","supportedContractVersions":["1.0"],"capabilities":["SIGNATURE_GENERATOR.RAW"]}' ;;
  *) exit 1 ;;
esac
OLD
chmod 0755 "$W/old/notation-$PLUGIN_NAME"
tar -C "$W/old" -czf "$W/old.tar.gz" "notation-$PLUGIN_NAME"
check "install an older version (0.0.1) by file" notation plugin install --file "$W/old.tar.gz"
check_output_contains "notation plugin ls shows 0.0.1" "0.0.1" notation plugin ls
check "upgrade: install $PLUGIN_ARCHIVE over 0.0.1 (no --force)" notation plugin install --file "$DIST/$PLUGIN_ARCHIVE"
check_output_contains "notation plugin ls shows $PLUGIN_NAME $VERSION+$COMMIT" "$VERSION+$COMMIT" notation plugin ls
check_output_contains "notation plugin ls shows the name" "$PLUGIN_NAME" notation plugin ls
check "the installed plugin is the archive's binary" cmp "$W/x/notation-external-signer" "$PLUGIN_DIR/notation-$PLUGIN_NAME"
check_fails_with "the same version again is refused without --force" "already" \
  notation plugin install --file "$DIST/$PLUGIN_ARCHIVE"
check "the same version with --force" notation plugin install --force --file "$DIST/$PLUGIN_ARCHIVE"
check_fails_with "a downgrade (0.0.1) is refused" "lower" notation plugin install --file "$W/old.tar.gz"
log "$(notation plugin ls 2>&1)"

# ====================================================================== install by URL
phase "notation plugin install --url (HTTPS, private CA)"
TLS="$W/tls"
mkdir -p "$TLS" "$W/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=dist e2e CA" \
  -keyout "$TLS/ca.key" -out "$TLS/ca.crt" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign >"$TLS/openssl.log" 2>&1 || { cat "$TLS/openssl.log" >&2; die "CA"; }
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$TLS/server.key" -out "$TLS/server.csr" >>"$TLS/openssl.log" 2>&1 || die "server CSR (log: $TLS/openssl.log)"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$TLS/ext.cnf"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
  -extfile "$TLS/ext.cnf" -out "$TLS/server.crt" >>"$TLS/openssl.log" 2>&1 || die "server certificate (log: $TLS/openssl.log)"
cp "$DIST/$PLUGIN_ARCHIVE" "$W/www/"
PORT=$(free_port)
SERVER_PID=$(cd "$W/www" && spawn_service https-dist "$W/s_server.log" \
  openssl s_server -accept "127.0.0.1:$PORT" -cert "$TLS/server.crt" -key "$TLS/server.key" -WWW -quiet)
URL="https://127.0.0.1:$PORT/$PLUGIN_ARCHIVE"
wait_http "$URL" 30 "$SERVER_PID" || { cat "$W/s_server.log" >&2; die "the HTTPS server did not start"; }
SUM=$(awk -v f="$PLUGIN_ARCHIVE" '$2 == f {print $1}' "$DIST/checksums.txt")
[[ "$SUM" =~ ^[0-9a-f]{64}$ ]] || die "no checksum for $PLUGIN_ARCHIVE in checksums.txt"
check "notation plugin uninstall --yes (before the URL install)" notation plugin uninstall --yes "$PLUGIN_NAME"
check_fails_with "without SSL_CERT_FILE the private CA is not trusted" "certificate" \
  env SSL_CERT_FILE=/dev/null notation plugin install --url "$URL" --sha256sum "$SUM"
WRONG=$(printf '%s' "$SUM" | tr '0-9a-f' '1-9a-f0')
check_fails_with "a wrong --sha256sum is refused" "checksum" \
  env SSL_CERT_FILE="$TLS/ca.crt" notation plugin install --url "$URL" --sha256sum "$WRONG"
check "nothing installed after the wrong checksum" test ! -e "$PLUGIN_DIR"
check "notation plugin install --url https://127.0.0.1:PORT/... --sha256sum (private CA via SSL_CERT_FILE)" \
  env SSL_CERT_FILE="$TLS/ca.crt" notation plugin install --url "$URL" --sha256sum "$SUM"
check_output_contains "notation plugin ls after the URL install" "$VERSION+$COMMIT" notation plugin ls
check "the installed plugin is the archive's binary" cmp "$W/x/notation-external-signer" "$PLUGIN_DIR/notation-$PLUGIN_NAME"
stop_services https-dist

# ====================================================================== sign; uninstall
phase "notation sign with the installed plugin; uninstall"
make_pkis "$W/pki" EC-256
REG=$(start_registry distribution "$W/registry")
REG="localhost:${REG##*:}"
REF=$(push_test_image "$REG" dist "$W")
check "notation sign through the installed plugin" notation sign --plugin "$PLUGIN_NAME" --id e2e-dist \
  --plugin-config "private_key=$W/pki/EC-256/leaf.key" --plugin-config "cert_chain=$W/pki/EC-256/certificate_chain.pem" "$REF"
check_output_contains "notation ls lists the signature" "application/vnd.cncf.notary.signature" notation ls "$REF"
check "notation plugin uninstall --yes $PLUGIN_NAME" notation plugin uninstall --yes "$PLUGIN_NAME"
check "nothing left behind in the plugin directory" bash -c '[[ ! -e "$1" && -z "$(ls -A "$2")" ]]' _ "$PLUGIN_DIR" "$NOTATION_LIBEXEC/plugins"
check_fails_with "notation sign now says the plugin is gone" "$PLUGIN_NAME" notation sign --plugin "$PLUGIN_NAME" --id e2e-dist \
  --plugin-config "private_key=$W/pki/EC-256/leaf.key" --plugin-config "cert_chain=$W/pki/EC-256/certificate_chain.pem" "$REF"

check "notation plugin install --file <the cargo-installed binary> (README: With cargo)" \
  notation plugin install --file "$W/cargo-root/bin/notation-external-signer"
check_output_contains "notation plugin ls shows it" "$VERSION+$COMMIT" notation plugin ls
check "notation plugin uninstall --yes (again)" notation plugin uninstall --yes "$PLUGIN_NAME"

# ====================================================================== make publish
phase "make publish: oras push + notation (our plugin) + cosign-compat, then verify"
check_fails_with "make publish without REGISTRY says what to set" "REGISTRY=" \
  make -s -o peers publish REGISTRY= DIST_DIR="$DIST" SIGNING_KEY="$W/pki/EC-256/leaf.key" \
  SIGNING_CERT_CHAIN="$W/pki/EC-256/certificate_chain.pem"
make_pkis "$W/pki" "other:EC-256:Dist Other CA"
check "notation cert add --type ca --store dist (the test root)" notation cert add --type ca --store dist "$W/pki/EC-256/ca.crt"
strict_trust_policy dist-release dist "$W/trustpolicy.json"
check "notation policy import (strict, ca:dist)" notation policy import --force "$W/trustpolicy.json"
cp "$NOTATION_CONFIG/trustpolicy.json" "$NOTATION_CONFIG/trustpolicy.oci.json"
N_FILES=$(($(wc -l <"$DIST/checksums.txt") + 1))
FIRST_DIGEST=''
for kind in distribution referrers; do
  addr=$(start_registry "$kind" "$W/registry-publish-$kind")
  PUB="localhost:${addr##*:}/external-signer/release"
  publish() { # TAG: make publish to $PUB:TAG; the reference on the last line of stdout
    make -s -o peers publish REGISTRY="$PUB" TAG="$1" DIST_DIR="$DIST" \
      SIGNING_KEY="$W/pki/EC-256/leaf.key" SIGNING_CERT_CHAIN="$W/pki/EC-256/certificate_chain.pem"
  }
  check "$kind: make publish REGISTRY=$PUB" publish "$VERSION"
  # The reference is publish.sh's last line on stdout (LAST_OUTPUT has stderr too).
  PREF=$(grep -E "^$PUB@sha256:[0-9a-f]{64}\$" "$LAST_OUTPUT" | tail -n 1 || true)
  [[ -n "$PREF" ]] || { record_fail "$kind: make publish printed the reference" "output: $LAST_OUTPUT"; continue; }
  log "published: $PREF"
  check "$kind: oras manifest: artifactType, $N_FILES layers, version and revision annotations" bash -c '
    oras manifest fetch --plain-http "$1" | jq -en --arg v "$2" --arg c "$3" --argjson n "$4" "input |
      .artifactType == \"application/vnd.external-signer.release.v1\" and (.layers | length) == \$n and
      .annotations[\"org.opencontainers.image.version\"] == \$v and .annotations[\"org.opencontainers.image.revision\"] == \$c"' \
    _ "$PREF" "$VERSION" "$(git rev-parse HEAD)" "$N_FILES"
  check "$kind: notation verify (trust store ca:dist, strict)" notation verify "$PREF"
  check_output_contains "$kind: notation ls shows the Notary signature" "application/vnd.cncf.notary.signature" notation ls "$PREF"
  check "$kind: cosign verify --certificate-chain (the .sig tag cosign-compat pushed)" \
    cosign verify --certificate-chain "$W/pki/EC-256/cosign_chain.pem" --certificate-identity-regexp '.*' \
    --certificate-oidc-issuer-regexp '.*' --insecure-ignore-sct --insecure-ignore-tlog --new-bundle-format=false "$PREF"
  check "$kind: cosign verify --key leaf.pub -a org.opencontainers.image.version=$VERSION" \
    cosign verify --key "$W/pki/EC-256/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false \
    -a "org.opencontainers.image.version=$VERSION" "$PREF"
  check_fails_with "$kind: cosign verify --key of another key fails" "no matching signatures" \
    cosign verify --key "$W/pki/other/leaf.pub" --insecure-ignore-tlog --new-bundle-format=false "$PREF"
  check "$kind: oras pull gives back the exact files (sha256sum -c checksums.txt, cmp)" bash -c '
    oras pull --plain-http --no-tty -o "$1" "$2" >/dev/null &&
    diff <(cd "$1" && ls | LC_ALL=C sort) <( (awk "{print \$2}" "$3/checksums.txt"; echo checksums.txt) | LC_ALL=C sort) &&
    (cd "$1" && sha256sum -c --strict --quiet checksums.txt) && cmp "$1/checksums.txt" "$3/checksums.txt"' \
    _ "$W/pulled-$kind" "$PREF" "$DIST"
  if [[ -z "$FIRST_DIGEST" ]]; then
    FIRST_DIGEST=${PREF##*@}
    check "$kind: make publish again (tag again): the same manifest digest (created = commit time)" publish again
    check_output_contains "$kind: ... $FIRST_DIGEST" "$PUB@$FIRST_DIGEST" cat "$LAST_OUTPUT"
  else
    check "$kind: the same manifest digest as on the first registry" test "${PREF##*@}" = "$FIRST_DIGEST"
  fi
  stop_registries
done
check "make publish left no plugin in notation's plugin directory" bash -c '[[ -z "$(ls -A "$1")" ]]' _ "$NOTATION_LIBEXEC/plugins"

finish
