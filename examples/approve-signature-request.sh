#!/usr/bin/env bash
# approve-signature-request.sh: the human side of read-signature-from-file.sh.
#
#   examples/approve-signature-request.sh DIR KEYFILE        sign DIR/payload.bin, write DIR/signature.bin
#   examples/approve-signature-request.sh --reject DIR [WHY]  refuse the request (writes DIR/rejected)
#
# Reads DIR/request.json written by read-signature-from-file.sh, checks that payload.bin still has
# the recorded sha256 and that the deadline has not passed, shows what is being signed and, when
# run from a terminal, asks for confirmation (APPROVE_YES=1 skips the question). Then it signs with
# openssl exactly as request.json says (scheme, hash, PSS salt length), verifies the signature
# with KEYFILE's public key, and publishes it atomically: DIR/signature.bin.tmp, then rename to
# DIR/signature.bin, the only name the waiting script accepts.
#
# KEYFILE is a PEM or DER private key (an encrypted one makes openssl prompt for the passphrase).
# The signature is raw (DER for ECDSA); the waiting script encodes it for the plugin.
set -euo pipefail

me=approve-signature-request.sh
die() {
    echo "$me: $*" >&2
    exit 1
}
usage() {
    sed -n '4,5s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

if [[ ${1:-} == --reject ]]; then
    (($# >= 2)) || usage
    dir=$2
    why=${3:-rejected by $(id -un 2>/dev/null || echo approver)}
    [[ -f $dir/request.json ]] || die "no request.json in $dir"
    printf '%s\n' "$why" >"$dir/rejected.tmp"
    mv -f "$dir/rejected.tmp" "$dir/rejected"
    echo "$me: rejected $dir: $why" >&2
    exit 0
fi
(($# == 2)) || usage
dir=$1
key=$2
request=$dir/request.json
[[ -f $request ]] || die "no request.json in $dir (is this a signing request directory?)"
[[ -f $dir/payload.bin ]] || die "no payload.bin in $dir"
[[ -r $key ]] || die "cannot read private key '$key'"

# request.json is written by read-signature-from-file.sh with one "key": value per line; read the
# few fields needed without depending on jq.
field() {
    sed -n -E -e "s/^ *\"$1\": *\"(.*)\",? *\$/\1/p" -e "s/^ *\"$1\": *([0-9a-z]+),? *\$/\1/p" "$request" |
        head -n 1
}
digest=$(field digest)
scheme=$(field scheme)
salt=$(field pss_salt_length)
[[ $salt != null ]] || salt=""
want_sha256=$(field payload_sha256)
deadline=$(field deadline)
key_spec=$(field key_spec)
key_id=$(field key_id)
caller=$(field caller)

case "$digest" in
    sha256 | sha384 | sha512) ;;
    *) die "request.json: unsupported digest '$digest'" ;;
esac
sigopts=()
case "$scheme" in
    rsassa-pss)
        [[ $salt =~ ^[0-9]+$ ]] || die "request.json: bad pss_salt_length '$salt'"
        sigopts=(-sigopt rsa_padding_mode:pss -sigopt "rsa_pss_saltlen:$salt" -sigopt "rsa_mgf1_md:$digest")
        ;;
    rsassa-pkcs1v15) sigopts=(-sigopt rsa_padding_mode:pkcs1) ;;
    ecdsa) ;;
    *) die "request.json: unsupported scheme '$scheme'" ;;
esac
[[ $deadline =~ ^[0-9]+$ ]] || die "request.json: bad deadline '$deadline'"

have_sha256=$(openssl dgst -sha256 -r "$dir/payload.bin" | cut -d' ' -f1)
[[ $have_sha256 == "$want_sha256" ]] ||
    die "payload.bin sha256 $have_sha256 does not match request.json ($want_sha256): refusing to sign"
now=$(date +%s)
((now < deadline)) || die "the request expired $((now - deadline)) s ago; the signer is no longer waiting"
[[ ! -e $dir/signature.bin ]] || die "$dir/signature.bin already exists"

echo "$me: request in $dir" >&2
echo "  caller $caller, key id '$key_id', key spec $key_spec, $scheme with $digest${salt:+ (salt $salt)}" >&2
echo "  payload sha256 $have_sha256, $((deadline - now)) s left" >&2
if [[ -t 0 && ${APPROVE_YES:-} != 1 ]]; then
    read -r -p "Sign this payload? [y/N] " answer
    [[ $answer == [yY]* ]] || die "not signed"
fi

tmp=$dir/signature.bin.tmp
pub=$(mktemp "${TMPDIR:-/tmp}/approve-pub.XXXXXX")
trap 'rm -f "$tmp" "$pub"' EXIT
openssl dgst "-$digest" -sign "$key" ${sigopts[@]+"${sigopts[@]}"} -out "$tmp" "$dir/payload.bin"
openssl pkey -in "$key" -pubout -out "$pub"
openssl dgst "-$digest" -verify "$pub" ${sigopts[@]+"${sigopts[@]}"} -signature "$tmp" "$dir/payload.bin" \
    >/dev/null || die "the new signature does not verify with $key"
mv -f "$tmp" "$dir/signature.bin"
echo "$me: wrote $dir/signature.bin ($(wc -c <"$dir/signature.bin" | tr -d ' ') bytes)" >&2
