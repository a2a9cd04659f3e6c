#!/usr/bin/env bash
# read-signature-from-file.sh: two-phase signer for human approval or offline signing.
#
# Phase 1 writes a self-describing signing request into a directory:
#   payload.bin    the exact bytes to sign (stdin)
#   request.json   key spec, hash, scheme, PSS salt length, key id, caller, sha256 of payload.bin,
#                  deadline (epoch seconds) and the openssl command that produces signature.bin
# request.json is written last (via a temporary file and rename), so once it exists the request
# is complete. Then the script tells stderr where it waits and, if SIGNATURE_REQUEST_NOTIFY is set,
# runs that program with the directory as its only argument (mail, chat, ticket, ...).
#
# Phase 2 polls for DIR/signature.bin (0.2 s, growing to 1 s) until the deadline. Protocol for
# whoever signs: write the raw signature to DIR/signature.bin.tmp and rename it to
# DIR/signature.bin, so the file is complete when it appears (approve-signature-request.sh does
# exactly that). To refuse, create DIR/rejected (its first line is reported as the reason).
# On success the signature goes to stdout and the script exits 0; at the deadline it prints
# "timed out after N s waiting for DIR/signature.bin" to stderr and exits 1.
#
# Settings (optional, not part of the plugin contract):
#   SIGNATURE_REQUEST_DIR     request directory (default: a new mktemp -d, removed on exit).
#                             Use one directory per signing: stale files are removed at the start.
#   SIGNATURE_WAIT_SECONDS    how long to wait (default: EXTERNAL_SIGNER_TIMEOUT_SECONDS - 2, so
#                             the script reports its own timeout before the plugin kills it)
#   SIGNATURE_REQUEST_NOTIFY  program run as `$SIGNATURE_REQUEST_NOTIFY DIR` after phase 1
# Raise the plugin timeout for human approval: the default deadline is minutes, not hours.
#
# Contract (EXTERNAL_SIGNER_CONTRACT=1)
#   stdin   the bytes to sign: hash them with EXTERNAL_SIGNER_HASH and sign the hash
#   stdout  the signature and nothing else: raw bytes, or base64/hex when the plugin is
#           configured for that (EXTERNAL_SIGNER_OUTPUT_ENCODING)
#   stderr  diagnostics; the plugin reports them when the script fails
#   exit    0 on success, anything else is a failure
# Environment exported by the plugin:
#   EXTERNAL_SIGNER_CONTRACT         1 (contract version)
#   EXTERNAL_SIGNER_CALLER           notation | cosign
#   EXTERNAL_SIGNER_KEY_SPEC         RSA-2048 | RSA-3072 | RSA-4096 | EC-256 | EC-384 | EC-521
#   EXTERNAL_SIGNER_KEY_ID           the key id given to notation/cosign
#   EXTERNAL_SIGNER_HASH             SHA-256 | SHA-384 | SHA-512
#   EXTERNAL_SIGNER_DIGEST           sha256 | sha384 | sha512 (the same hash, as an openssl name)
#   EXTERNAL_SIGNER_SCHEME           rsassa-pss | rsassa-pkcs1v15 | ecdsa
#   EXTERNAL_SIGNER_PSS_SALT_LENGTH  32 | 48 | 64, rsassa-pss only (always the hash length)
#   EXTERNAL_SIGNER_OUTPUT_ENCODING  raw | base64 | hex: how the plugin decodes stdout
#   EXTERNAL_SIGNER_TIMEOUT_SECONDS  the plugin kills the script (whole process group) after this
#   EXTERNAL_PRIVATE_KEY             private key path, when configured
#   EXTERNAL_CERT_CHAIN              certificate chain path (leaf first), when configured
# The plugin converts DER ECDSA signatures to r||s where notation needs it and verifies every
# signature against the leaf certificate, so a wrong scheme or key fails with a clear message.
set -euo pipefail

me=read-signature-from-file.sh
die() {
    echo "$me: $*" >&2
    exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

timeout=${EXTERNAL_SIGNER_TIMEOUT_SECONDS:-60}
is_uint "$timeout" || die "EXTERNAL_SIGNER_TIMEOUT_SECONDS must be a number of seconds, got '$timeout'"
wait_s=${SIGNATURE_WAIT_SECONDS:-$((timeout - 2))}
is_uint "$wait_s" || die "SIGNATURE_WAIT_SECONDS must be a number of seconds, got '$wait_s'"
((wait_s >= 1)) || wait_s=1

digest=${EXTERNAL_SIGNER_DIGEST:-sha256}
case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) die "unsupported EXTERNAL_SIGNER_DIGEST '$digest'" ;;
esac
scheme=${EXTERNAL_SIGNER_SCHEME:-}
salt=""
sigopts=""
case "$scheme" in
    rsassa-pss)
        salt=${EXTERNAL_SIGNER_PSS_SALT_LENGTH:-}
        if [[ -z $salt ]]; then
            case "$digest" in sha256) salt=32 ;; sha384) salt=48 ;; sha512) salt=64 ;; esac
        fi
        is_uint "$salt" || die "EXTERNAL_SIGNER_PSS_SALT_LENGTH must be a number, got '$salt'"
        sigopts=" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:$salt -sigopt rsa_mgf1_md:$digest"
        ;;
    rsassa-pkcs1v15 | ecdsa) ;;
    "") die "EXTERNAL_SIGNER_SCHEME is not set: run this script from the plugin" ;;
    *) die "unsupported EXTERNAL_SIGNER_SCHEME '$scheme'" ;;
esac

encode() {
    case "${EXTERNAL_SIGNER_OUTPUT_ENCODING:-raw}" in
        raw) cat ;;
        base64) openssl base64 -A ;;
        hex) od -An -v -tx1 | tr -d ' \n' ;;
        *) die "unsupported EXTERNAL_SIGNER_OUTPUT_ENCODING '$EXTERNAL_SIGNER_OUTPUT_ENCODING'" ;;
    esac
}

# JSON string literal: escape backslash, quote and control characters.
json_str() {
    local s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        # shellcheck disable=SC1003 # '\' is a lone backslash, not an escaped quote
        case "$c" in
            '"') out+='\"' ;;
            '\') out+='\\' ;;
            $'\n') out+='\n' ;;
            $'\r') out+='\r' ;;
            $'\t') out+='\t' ;;
            [[:cntrl:]]) out+=$(printf '\\u%04x' "'$c") ;;
            *) out+=$c ;;
        esac
    done
    printf '"%s"' "$out"
}

# ---- Phase 1: write the request ----------------------------------------------------------------
created=0
if [[ -n ${SIGNATURE_REQUEST_DIR:-} ]]; then
    dir=$SIGNATURE_REQUEST_DIR
    if [[ ! -d $dir ]]; then
        mkdir -p "$(dirname "$dir")"
        mkdir -m 700 "$dir"
    fi
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/signature-request.XXXXXX")
    created=1
fi
dir=$(cd "$dir" && pwd)
cleanup() {
    rm -f "$dir/payload.bin.tmp" "$dir/request.json.tmp"
    if ((created)); then rm -rf "$dir"; fi
}
trap cleanup EXIT
# Never hand back a signature left over from an earlier request.
rm -f "$dir/signature.bin" "$dir/signature.bin.tmp" "$dir/rejected" "$dir/request.json"

cat >"$dir/payload.bin.tmp"
mv -f "$dir/payload.bin.tmp" "$dir/payload.bin"
payload_sha256=$(openssl dgst -sha256 -r "$dir/payload.bin" | cut -d' ' -f1)
payload_size=$(wc -c <"$dir/payload.bin" | tr -d ' ')
now=$(date +%s)
deadline=$((now + wait_s))
key_hint=${EXTERNAL_PRIVATE_KEY:-/path/to/private-key.pem}
q_dir=$(printf '%q' "$dir")
q_key=$(printf '%q' "$key_hint")
command="cd $q_dir && openssl dgst -$digest -sign $q_key$sigopts -out signature.bin.tmp payload.bin && mv signature.bin.tmp signature.bin"

{
    echo "{"
    echo "  \"version\": 1,"
    echo "  \"caller\": $(json_str "${EXTERNAL_SIGNER_CALLER:-}"),"
    echo "  \"key_id\": $(json_str "${EXTERNAL_SIGNER_KEY_ID:-}"),"
    echo "  \"key_spec\": $(json_str "${EXTERNAL_SIGNER_KEY_SPEC:-}"),"
    echo "  \"hash\": $(json_str "${EXTERNAL_SIGNER_HASH:-}"),"
    echo "  \"digest\": $(json_str "$digest"),"
    echo "  \"scheme\": $(json_str "$scheme"),"
    echo "  \"pss_salt_length\": ${salt:-null},"
    echo "  \"payload\": \"payload.bin\","
    echo "  \"payload_sha256\": \"$payload_sha256\","
    echo "  \"payload_size\": $payload_size,"
    echo "  \"created\": $now,"
    echo "  \"deadline\": $deadline,"
    echo "  \"signature\": \"signature.bin\","
    echo "  \"openssl_command\": $(json_str "$command")"
    echo "}"
} >"$dir/request.json.tmp"
mv -f "$dir/request.json.tmp" "$dir/request.json"

echo "$me: signing request in $dir (${EXTERNAL_SIGNER_KEY_SPEC:-?} $scheme $digest, payload sha256 $payload_sha256)" >&2
echo "$me: waiting up to $wait_s s for $dir/signature.bin; approve with:" >&2
echo "  examples/approve-signature-request.sh $q_dir /path/to/private-key.pem" >&2
if [[ -n ${SIGNATURE_REQUEST_NOTIFY:-} ]]; then
    "$SIGNATURE_REQUEST_NOTIFY" "$dir" >&2 || echo "$me: warning: $SIGNATURE_REQUEST_NOTIFY failed" >&2
fi

# ---- Phase 2: wait for the signature -----------------------------------------------------------
delay_ms=200
while :; do
    if [[ -e $dir/signature.bin ]]; then
        [[ -s $dir/signature.bin ]] || die "$dir/signature.bin is empty"
        encode <"$dir/signature.bin"
        exit 0
    fi
    if [[ -e $dir/rejected ]]; then
        die "signing request rejected: $(head -n 1 "$dir/rejected" | head -c 500)"
    fi
    if (("$(date +%s)" >= deadline)); then
        die "timed out after $wait_s s waiting for $dir/signature.bin"
    fi
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    delay_ms=$((delay_ms * 3 / 2))
    ((delay_ms <= 1000)) || delay_ms=1000
done
