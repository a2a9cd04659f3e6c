#!/usr/bin/env bash
# Make a SoftHSM2 token with signing keys generated IN it, and a test PKI that certifies them:
# root CA -> intermediate CA (pathlen 0) -> one leaf per token key, same profile as certificates.sh.
#
#   scripts/softhsm-pki.sh --out DIR [--key-specs "SPEC..."] [--token LABEL] [--module PATH] [--days N]
#
#   --out DIR          output directory (created; must not hold a token store already)
#   --key-specs SPECS  token keys to generate (default: "RSA-2048 RSA-3072 RSA-4096 EC-256 EC-384 EC-521")
#   --token LABEL      token label (default external-signer-test)
#   --module PATH      SoftHSM2 PKCS#11 module (default: $SOFTHSM2_MODULE, else the first of
#                      /usr/lib/softhsm/libsofthsm2.so and the other usual places)
#   --days N           leaf validity in days (default 3650; the CAs get N + 365)
#
# Needs softhsm2-util and the module (Debian package softhsm2), pkcs11-tool (Debian package opensc)
# and OpenSSL 1.1.1 or 3.x. The private keys never leave the token: pkcs11-tool generates them there
# (C_GenerateKeyPair), exports only the public keys, and `openssl x509 -req -force_pubkey` certifies
# those public keys. The CA keys are made with openssl in a temp dir and deleted at the end.
#
# Outputs in DIR:
#   softhsm2.conf          SoftHSM2 configuration: export SOFTHSM2_CONF=DIR/softhsm2.conf to use the token
#   tokens/                the token store (directories.tokendir)
#   user.pin               the token's user PIN (random, mode 0600, no trailing newline)
#   module                 the module path, one line
#   env                    shell assignments: SOFTHSM2_CONF, PKCS11_MODULE, PKCS11_TOKEN, PKCS11_PIN_FILE
#   ca.crt                 root CA (PEM): the Notation trust store entry
#   intermediate.crt       intermediate CA (PEM)
#   <spec>/                one per key spec, lowercase (rsa-2048, ..., ec-521):
#     uri                  RFC 7512 URI of the private key: pkcs11:token=LABEL;object=<spec>;id=%0N;type=private
#     leaf.crt             leaf certificate of the token key (PEM)
#     leaf.pub             the token key's public key, SPKI PEM
#     certificate_chain.pem  leaf, intermediate, root (Notation plugin certificateChain order)
#     cosign_chain.pem     intermediate, root
#     key_spec             the key spec, one line
# Token objects: label <spec>, CKA_ID one byte: RSA-2048 01, RSA-3072 02, RSA-4096 03, EC-256 04,
# EC-384 05, EC-521 06.
set -euo pipefail

SOFTHSM_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/certificates.sh
source "$SOFTHSM_SCRIPT_DIR/certificates.sh"

readonly SOFTHSM_MODULES="/usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so /opt/homebrew/lib/softhsm/libsofthsm2.so"

hsm_die() {
    echo "softhsm-pki.sh: error: $*" >&2
    exit 1
}

hsm_usage() {
    sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# hsm_key_id SPEC: the one-byte CKA_ID (hex) of SPEC's token key.
hsm_key_id() {
    case "$1" in
        RSA-2048) echo 01 ;;
        RSA-3072) echo 02 ;;
        RSA-4096) echo 03 ;;
        EC-256) echo 04 ;;
        EC-384) echo 05 ;;
        EC-521) echo 06 ;;
        *) hsm_die "unknown key spec '$1' (expected one of: $PKI_KEY_SPECS)" ;;
    esac
}

# hsm_key_type SPEC: pkcs11-tool's --key-type for SPEC.
hsm_key_type() {
    case "$1" in
        RSA-*) echo "rsa:${1#RSA-}" ;;
        EC-256) echo EC:prime256v1 ;;
        EC-384) echo EC:secp384r1 ;;
        EC-521) echo EC:secp521r1 ;;
    esac
}

# hsm_export_public SPEC ID TMP_PREFIX OUT: write the token public key with CKA_ID ID as SPKI PEM.
# RSA: `pkcs11-tool --read-object --type pubkey` (SPKI DER). EC: that fails for P-384 in OpenSC 0.23
# ("cannot create EVP_PKEY"), so the SPKI is assembled from the CKA_EC_POINT that --list-objects
# prints (a DER OCTET STRING around the uncompressed point) and the curve.
hsm_export_public() {
    local spec=$1 id=$2 tmp=$3 out=$4
    if [[ $spec == RSA-* ]]; then
        "${p11[@]}" --read-object --type pubkey --id "$id" -o "$tmp.pub.der" >"$tmp.read.log" 2>&1 ||
            { cat "$tmp.read.log" >&2; hsm_die "pkcs11-tool --read-object (public key $id) failed"; }
        openssl pkey -pubin -inform DER -in "$tmp.pub.der" -out "$out"
        return
    fi
    local point curve
    "${p11[@]}" --list-objects --type pubkey >"$tmp.list" 2>&1 ||
        { cat "$tmp.list" >&2; hsm_die "pkcs11-tool --list-objects failed"; }
    # Objects are blocks starting "Public Key Object"; take EC_POINT of the block with our ID.
    point=$(awk -v id="$id" '
        /^Public Key Object/ { p = "" }
        $1 == "EC_POINT:" { p = $2 }
        $1 == "ID:" && $2 == id { print p; exit }' "$tmp.list")
    [[ $point =~ ^04([0-9a-f]{2}|81[0-9a-f]{2})(04[0-9a-f]+)$ ]] ||
        hsm_die "no uncompressed CKA_EC_POINT for token key $id in: $(cat "$tmp.list")"
    point=${BASH_REMATCH[2]}
    case "$spec" in
        EC-256) curve=prime256v1 ;;
        EC-384) curve=secp384r1 ;;
        EC-521) curve=secp521r1 ;;
    esac
    cat >"$tmp.spki.cnf" <<EOF
asn1 = SEQUENCE:spki
[spki]
algorithm = SEQUENCE:algorithm
key = FORMAT:HEX,BITSTRING:$point
[algorithm]
oid = OID:id-ecPublicKey
curve = OID:$curve
EOF
    openssl asn1parse -genconf "$tmp.spki.cnf" -noout -out "$tmp.pub.der"
    openssl pkey -pubin -inform DER -in "$tmp.pub.der" -out "$out"
}

hsm_main() {
    local out="" specs="$PKI_KEY_SPECS" token=external-signer-test module="${SOFTHSM2_MODULE:-}"
    local days=3650 name="External Signer HSM Test"
    while (($#)); do
        case "$1" in
            --out) out=${2:?--out needs a value}; shift 2 ;;
            --out=*) out=${1#*=}; shift ;;
            --key-specs) specs=${2:?--key-specs needs a value}; shift 2 ;;
            --key-specs=*) specs=${1#*=}; shift ;;
            --token) token=${2:?--token needs a value}; shift 2 ;;
            --token=*) token=${1#*=}; shift ;;
            --module) module=${2:?--module needs a value}; shift 2 ;;
            --module=*) module=${1#*=}; shift ;;
            --days) days=${2:?--days needs a value}; shift 2 ;;
            --days=*) days=${1#*=}; shift ;;
            -h | --help) hsm_usage; exit 0 ;;
            *) hsm_usage >&2; hsm_die "unknown argument '$1'" ;;
        esac
    done
    [[ -n $out ]] || hsm_die "--out DIR is required"
    [[ $days =~ ^[1-9][0-9]*$ ]] || hsm_die "--days must be a positive integer, got '$days'"
    [[ $token =~ ^[A-Za-z0-9._-]{1,32}$ ]] || hsm_die "--token must be 1-32 characters of [A-Za-z0-9._-], got '$token'"
    local spec
    for spec in $specs; do hsm_key_id "$spec" >/dev/null; done

    command -v softhsm2-util >/dev/null ||
        hsm_die "softhsm2-util not found: install SoftHSM2 (Debian/Ubuntu: apt-get install softhsm2)"
    command -v pkcs11-tool >/dev/null ||
        hsm_die "pkcs11-tool not found: install OpenSC (Debian/Ubuntu: apt-get install opensc)"
    if [[ -z $module ]]; then
        local m
        for m in $SOFTHSM_MODULES; do
            if [[ -f $m ]]; then module=$m; break; fi
        done
        [[ -n $module ]] ||
            hsm_die "the SoftHSM2 PKCS#11 module is not in any of: $SOFTHSM_MODULES; install it (Debian/Ubuntu: apt-get install softhsm2) or pass --module PATH"
    fi
    [[ -f $module ]] || hsm_die "PKCS#11 module $module not found (Debian/Ubuntu: apt-get install softhsm2)"
    pki_check_openssl

    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    [[ ! -e $out/tokens ]] || hsm_die "$out/tokens already exists; give an empty or new directory"
    umask 077
    local tmp
    tmp=$(mktemp -d "$out/.softhsm-pki.XXXXXX")
    # shellcheck disable=SC2064 # expand now: $tmp is local
    trap "rm -rf '$tmp'" EXIT

    # ---- token
    mkdir -p "$out/tokens"
    cat >"$out/softhsm2.conf" <<EOF
# Generated by scripts/softhsm-pki.sh.
directories.tokendir = $out/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
    export SOFTHSM2_CONF="$out/softhsm2.conf"
    local pin so_pin
    pin=$(openssl rand -hex 8)
    so_pin=$(openssl rand -hex 8)
    printf '%s' "$pin" >"$out/user.pin"
    chmod 600 "$out/user.pin"
    softhsm2-util --module "$module" --init-token --free --label "$token" --so-pin "$so_pin" --pin "$pin" \
        >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log" >&2; hsm_die "softhsm2-util --init-token failed"; }
    local p11=(pkcs11-tool --module "$module" --token-label "$token")

    # ---- CAs (openssl, like certificates.sh; the keys stay in $tmp)
    pki_write_config "$tmp"
    local now start ca_end
    now=$(date +%s)
    start=$((now - 3600))
    ca_end=$((now + (days + 365) * 86400))
    pki_genkey EC-384 "$tmp/ca.key"
    pki_genkey EC-384 "$tmp/intermediate.key"
    pki_issue "$tmp" self "$tmp/ca.key" "$tmp/ca.key" "/C=US/ST=WA/O=$name/CN=$name Root CA" "" root_ext \
        "$start" "$ca_end" sha384 "$tmp/ca.crt"
    pki_issue "$tmp" "$tmp/ca.crt" "$tmp/ca.key" "$tmp/intermediate.key" \
        "/C=US/ST=WA/O=$name/CN=$name Intermediate CA" "" inter_ext "$start" "$ca_end" sha384 "$tmp/intermediate.crt"
    # Any key signs the leaf requests: -force_pubkey replaces it with the token key.
    pki_genkey EC-256 "$tmp/request.key"

    # ---- one key pair in the token and one leaf per key spec
    local id label dir serial
    for spec in $specs; do
        id=$(hsm_key_id "$spec")
        label=${spec,,}
        dir="$out/$label"
        mkdir -p "$dir"
        "${p11[@]}" --login --pin "$pin" --keypairgen --key-type "$(hsm_key_type "$spec")" \
            --label "$label" --id "$id" --usage-sign >"$tmp/keygen.log" 2>&1 ||
            { cat "$tmp/keygen.log" >&2; hsm_die "pkcs11-tool --keypairgen $spec failed"; }
        hsm_export_public "$spec" "$id" "$tmp/$label" "$dir/leaf.pub"
        openssl req -new -config "$tmp/openssl.cnf" -key "$tmp/request.key" \
            -subj "/C=US/ST=WA/O=$name/CN=$name $spec Signer" -out "$tmp/$label.csr"
        # Random positive serial (Go rejects negative ones): 16 bytes, first nibble 1.
        serial="0x1$(openssl rand -hex 16 | cut -c2-)"
        openssl x509 -req -in "$tmp/$label.csr" -force_pubkey "$dir/leaf.pub" \
            -CA "$tmp/intermediate.crt" -CAkey "$tmp/intermediate.key" -set_serial "$serial" \
            -days "$days" -sha384 -extfile "$tmp/openssl.cnf" -extensions leaf_ext \
            -out "$dir/leaf.crt" 2>"$tmp/x509.log" ||
            { cat "$tmp/x509.log" >&2; hsm_die "openssl x509 -req -force_pubkey failed for $spec"; }
        openssl verify -x509_strict -CAfile "$tmp/ca.crt" -untrusted "$tmp/intermediate.crt" \
            "$dir/leaf.crt" >/dev/null || hsm_die "the $spec leaf does not verify"
        [[ "$(openssl x509 -in "$dir/leaf.crt" -noout -pubkey)" == "$(cat "$dir/leaf.pub")" ]] ||
            hsm_die "the $spec leaf does not certify the token key"
        cat "$dir/leaf.crt" "$tmp/intermediate.crt" "$tmp/ca.crt" >"$dir/certificate_chain.pem"
        cat "$tmp/intermediate.crt" "$tmp/ca.crt" >"$dir/cosign_chain.pem"
        echo "$spec" >"$dir/key_spec"
        echo "pkcs11:token=$token;object=$label;id=%$id;type=private" >"$dir/uri"
        chmod 644 "$dir"/*
        chmod 755 "$dir"
    done
    cp "$tmp/ca.crt" "$tmp/intermediate.crt" "$out/"
    chmod 644 "$out/ca.crt" "$out/intermediate.crt"
    echo "$module" >"$out/module"
    cat >"$out/env" <<EOF
SOFTHSM2_CONF=$out/softhsm2.conf
PKCS11_MODULE=$module
PKCS11_TOKEN=$token
PKCS11_PIN_FILE=$out/user.pin
EOF
    chmod 644 "$out/module" "$out/env" "$out/softhsm2.conf"

    echo "softhsm-pki.sh: token '$token' in $out/tokens (module $module)"
    for spec in $specs; do
        echo "  $(cat "$out/${spec,,}/uri")  ->  ${spec,,}/certificate_chain.pem"
    done
    echo "  export SOFTHSM2_CONF=$out/softhsm2.conf; the user PIN is in $out/user.pin"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    hsm_main "$@"
fi
