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
need_tools notation crane openssl curl docker-registry cargo
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
touch notation-plugin/src/main.rs cosign-compat/src/bin/cosign-compat/main.rs examples/src/bin/sig-envelope.rs
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
check "tools archive: cosign-compat, sig-envelope, LICENSE, README.md at the top, sorted" bash -c '
  diff <(printf "%s\n" LICENSE README.md cosign-compat sig-envelope) <(tar -tzf "$1")' _ "$DIST/$TOOLS_ARCHIVE"
log "$(tar_listing "$DIST/$PLUGIN_ARCHIVE")"
check "gzip header: no name, no timestamp (gzip -n)" bash -c '[[ $(od -An -tx1 -j4 -N4 "$1" | tr -d " ") == 00000000 ]]' _ "$DIST/$PLUGIN_ARCHIVE"

mkdir -p "$W/x"
tar -C "$W/x" -xzf "$DIST/$TOOLS_ARCHIVE"
tar -C "$W/x" -xzf "$DIST/$PLUGIN_ARCHIVE"
check_output_contains "cosign-compat --version shows the commit" "$COMMIT" "$W/x/cosign-compat" --version
check_output_contains "notation-external-signer version shows <version>+<commit>" "Version: $VERSION+$COMMIT" \
  "$W/x/notation-external-signer" version
check_output_contains "get-plugin-metadata reports <version>+<commit>" "\"version\":\"$VERSION+$COMMIT\"" \
  bash -c 'echo "{}" | "$1" get-plugin-metadata' _ "$W/x/notation-external-signer"
check "no build path in the binaries (remapped: the checkout, CARGO_HOME)" bash -c '
  ! grep -qaF -e "$2" -e "$3" "$1"/notation-external-signer "$1"/cosign-compat "$1"/sig-envelope' _ "$W/x" "$REPO_ROOT" "$CARGO_HOME"

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

finish
