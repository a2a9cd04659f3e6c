#!/usr/bin/env bash
# Regenerate tests/data/x509/: certificates for the path-validation rules that Go's crypto/x509
# (cosign) enforces beyond the fixture PKIs of scripts/testdata.sh. Run by testdata.sh; can run
# alone (`scripts/testdata-x509.sh`) without touching tests/data/pki/.
#
#   x509/hostile_loop/      15 CA certificates with one subject and one key (each "issues" every
#                           other), a leaf under them, an unrelated root: bounded chain search
#   x509/name_constraints/  root -> sub-CA with nameConstraints (email, DNS, URI, IP; permitted and
#                           excluded) -> one leaf per case (leaf_<case>.crt, chain_<case>.pem)
#   x509/critical_ext/      a leaf and an intermediate with an unknown critical extension, and a
#                           leaf with the same extension non-critical
#   x509/pss/               RSASSA-PSS-signed chains: Go's parameters (SHA-256/384/512, MGF1 = hash,
#                           salt = hash length) and one chain per parameter Go refuses
#
# Keys are random: every run changes every file; commit the lot. Tests use a fixed "now"
# (2030-03-17); everything is valid from an hour before the run for 36500 days.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=$repo/tests/data
# shellcheck source-path=SCRIPTDIR source=certificates.sh
source "$repo/scripts/certificates.sh"

pki_check_openssl
work=$(mktemp -d "$data/.testdata-x509.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 022
out=$work/x509
mkdir -p "$out"
ca=$work/ca
pki_write_config "$ca"
cat >>"$ca/openssl.cnf" <<'EOF'

[loop_ext]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign

[teama_ext]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
nameConstraints        = critical, @teama_nc

[teama_nc]
permitted;email.1 = teama.example
permitted;DNS.1   = teama.example
permitted;URI.1   = .teama.example
permitted;IP.1    = 10.0.0.0/255.0.0.0
excluded;email.1  = blocked.teama.example
excluded;DNS.1    = blocked.teama.example
excluded;URI.1    = blocked.teama.example
excluded;IP.1     = 10.9.0.0/255.255.0.0

[inter_unknown_critical_ext]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.4.1.55555.1    = critical, ASN1:UTF8String:must-understand

[leaf_unknown_critical_ext]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectAltName         = email:release@example.test
1.3.6.1.4.1.55555.1    = critical, ASN1:UTF8String:must-understand

[leaf_unknown_noncritical_ext]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectAltName         = email:release@example.test
1.3.6.1.4.1.55555.1    = ASN1:UTF8String:may-ignore

[leaf_plain_ext]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectAltName         = email:release@example.test
EOF

now=$(date +%s)
start=$((now - 3600))
end=$((now + 36500 * 86400))
subj() { echo "/C=US/ST=WA/O=External Signer Test X509/CN=$1"; }

# issue ISSUER_CRT|self ISSUER_KEY SUBJECT_KEY CN SECTION OUT [MD [SIGOPT...]]: like pki_issue,
# with -sigopt options for RSASSA-PSS.
issue() {
    local issuer_crt=$1 issuer_key=$2 subject_key=$3 cn=$4 section=$5 dest=$6 md=${7:-sha256}
    shift 7 2>/dev/null || shift $#
    local sigopts=() csr=$ca/req.csr
    for o in "$@"; do sigopts+=(-sigopt "$o"); done
    local signer=(-cert "$issuer_crt")
    [[ $issuer_crt == self ]] && signer=(-selfsign)
    openssl req -new -config "$ca/openssl.cnf" -key "$subject_key" -subj "$(subj "$cn")" -out "$csr"
    if ! openssl ca -batch -config "$ca/openssl.cnf" -notext -preserveDN -rand_serial \
        "${signer[@]}" -keyfile "$issuer_key" -md "$md" "${sigopts[@]}" \
        -extfile "$ca/openssl.cnf" -extensions "$section" \
        -startdate "$(pki_time "$start")" -enddate "$(pki_time "$end")" \
        -in "$csr" -out "$dest" >"$ca/ca.log" 2>&1; then
        cat "$ca/ca.log" >&2
        pki_die "openssl ca failed for '$cn'"
    fi
}
# leaf_section NAME SAN: an extension section for a code-signing leaf with the given SAN.
leaf_section() {
    cat >>"$ca/openssl.cnf" <<EOF

[$1]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectAltName         = $2
EOF
}

# ---------------------------------------------------------------------------------------------
# hostile_loop: 15 self-issued CAs "Hostile Loop CA" sharing one key; none chains to root.crt.
# ---------------------------------------------------------------------------------------------
d=$out/hostile_loop
mkdir -p "$d"
pki_genkey EC-256 "$work/root.key"
pki_genkey EC-256 "$work/loop.key"
issue self "$work/root.key" "$work/root.key" "Hostile Test Root CA" root_ext "$d/root.crt"
: >"$d/loop_cas.pem"
for i in $(seq 1 15); do
    issue self "$work/loop.key" "$work/loop.key" "Hostile Loop CA" loop_ext "$work/loop$i.crt"
    cat "$work/loop$i.crt" >>"$d/loop_cas.pem"
done
pki_genkey EC-256 "$d/leaf.key"
issue "$work/loop1.crt" "$work/loop.key" "$d/leaf.key" "Hostile Loop Signer" leaf_plain_ext "$d/leaf.crt"
# The layer's dev.sigstore.cosign/chain annotation: the 15 CAs, then the (unrelated) root last.
cat "$d/loop_cas.pem" "$d/root.crt" >"$d/chain_annotation.pem"
if openssl verify -CAfile "$d/root.crt" -untrusted "$d/loop_cas.pem" "$d/leaf.crt" >/dev/null 2>&1; then
    pki_die "hostile_loop: the leaf must not chain to the root"
fi
echo "x509/hostile_loop: ok"

# ---------------------------------------------------------------------------------------------
# name_constraints: root -> "Team A CA" (nameConstraints, see [teama_nc]) -> leaves.
# ---------------------------------------------------------------------------------------------
d=$out/name_constraints
mkdir -p "$d"
pki_genkey EC-256 "$work/nc_root.key"
pki_genkey EC-256 "$work/teama.key"
issue self "$work/nc_root.key" "$work/nc_root.key" "Name Constraints Root CA" root_ext "$d/root.crt"
issue "$d/root.crt" "$work/nc_root.key" "$work/teama.key" "Team A CA" teama_ext "$d/teama_ca.crt"
cat "$d/teama_ca.crt" "$d/root.crt" >"$d/cosign_chain.pem"
# case -> SAN; the ok_* leaves are inside the permitted subtrees and outside the excluded ones.
cases=(
    "ok_email|email:release@teama.example"
    "ok_all|email:release@teama.example, DNS:build.teama.example, URI:https://ci.teama.example/build, IP:10.1.2.3"
    "ok_other_types|email:release@teama.example, otherName:1.3.6.1.4.1.57264.1.7;UTF8:anything"
    "fail_email_teamb|email:release@teamb.example"
    "fail_dns_outside|email:release@teama.example, DNS:build.teamb.example"
    "fail_uri_outside|email:release@teama.example, URI:https://ci.teamb.example/build"
    "fail_uri_bare_domain|email:release@teama.example, URI:https://teama.example/build"
    "fail_ip_outside|email:release@teama.example, IP:192.0.2.7"
    "fail_email_excluded|email:release@blocked.teama.example"
    "fail_dns_excluded|email:release@teama.example, DNS:x.blocked.teama.example"
    "fail_uri_excluded|email:release@teama.example, URI:https://blocked.teama.example/x"
    "fail_ip_excluded|email:release@teama.example, IP:10.9.1.1"
)
for c in "${cases[@]}"; do
    name=${c%%|*}
    san=${c#*|}
    leaf_section "leaf_$name" "$san"
    pki_genkey EC-256 "$d/leaf_$name.key"
    issue "$d/teama_ca.crt" "$work/teama.key" "$d/leaf_$name.key" "Team A Signer $name" \
        "leaf_$name" "$d/leaf_$name.crt"
    cat "$d/leaf_$name.crt" "$d/teama_ca.crt" "$d/root.crt" >"$d/chain_$name.pem"
    # Cross-check with OpenSSL: ok_* verify, fail_* are refused for a subtree violation.
    if result=$(openssl verify -CAfile "$d/root.crt" -untrusted "$d/teama_ca.crt" "$d/leaf_$name.crt" 2>&1); then
        [[ $name == ok_* ]] || pki_die "name_constraints/$name: openssl verify accepted it"
    else
        [[ $name == fail_* ]] || pki_die "name_constraints/$name: openssl verify refused it: $result"
        grep -q "subtree violation" <<<"$result" ||
            pki_die "name_constraints/$name: unexpected openssl error: $result"
    fi
done
chmod 600 "$d"/leaf_*.key
echo "x509/name_constraints: ok"

# ---------------------------------------------------------------------------------------------
# critical_ext: unknown critical extension 1.3.6.1.4.1.55555.1 on a leaf / on the intermediate.
# ---------------------------------------------------------------------------------------------
d=$out/critical_ext
mkdir -p "$d"
pki_genkey EC-256 "$work/ce_root.key"
pki_genkey EC-256 "$work/ce_inter.key"
pki_genkey EC-256 "$work/ce_inter_uc.key"
issue self "$work/ce_root.key" "$work/ce_root.key" "Critical Extension Root CA" root_ext "$d/root.crt"
issue "$d/root.crt" "$work/ce_root.key" "$work/ce_inter.key" "Critical Extension Intermediate CA" \
    inter_ext "$d/intermediate.crt"
issue "$d/root.crt" "$work/ce_root.key" "$work/ce_inter_uc.key" "Critical Extension Strict Intermediate CA" \
    inter_unknown_critical_ext "$d/intermediate_unknown_critical.crt"
for name in leaf_unknown_critical leaf_unknown_noncritical leaf_plain; do
    pki_genkey EC-256 "$d/$name.key"
done
issue "$d/intermediate.crt" "$work/ce_inter.key" "$d/leaf_unknown_critical.key" \
    "Critical Extension Signer" leaf_unknown_critical_ext "$d/leaf_unknown_critical.crt"
issue "$d/intermediate.crt" "$work/ce_inter.key" "$d/leaf_unknown_noncritical.key" \
    "Noncritical Extension Signer" leaf_unknown_noncritical_ext "$d/leaf_unknown_noncritical.crt"
issue "$d/intermediate_unknown_critical.crt" "$work/ce_inter_uc.key" "$d/leaf_plain.key" \
    "Plain Signer" leaf_plain_ext "$d/leaf_plain.crt"
cat "$d/leaf_unknown_critical.crt" "$d/intermediate.crt" "$d/root.crt" >"$d/chain_leaf_unknown_critical.pem"
cat "$d/leaf_unknown_noncritical.crt" "$d/intermediate.crt" "$d/root.crt" >"$d/chain_leaf_unknown_noncritical.pem"
cat "$d/leaf_plain.crt" "$d/intermediate_unknown_critical.crt" "$d/root.crt" >"$d/chain_intermediate_unknown_critical.pem"
chmod 600 "$d"/*.key
openssl verify -CAfile "$d/root.crt" -untrusted "$d/intermediate.crt" "$d/leaf_unknown_noncritical.crt" \
    >/dev/null || pki_die "critical_ext: the non-critical case must verify"
for pair in "leaf_unknown_critical intermediate" "leaf_plain intermediate_unknown_critical"; do
    read -r leaf inter <<<"$pair"
    if r=$(openssl verify -CAfile "$d/root.crt" -untrusted "$d/$inter.crt" "$d/$leaf.crt" 2>&1); then
        pki_die "critical_ext/$leaf: openssl verify accepted it"
    fi
    grep -q "unsupported certificate extension\|unhandled critical extension" <<<"$r" ||
        pki_die "critical_ext/$leaf: unexpected openssl error: $r"
done
echo "x509/critical_ext: ok"

# ---------------------------------------------------------------------------------------------
# pss: RSA keys (rsaEncryption SPKI), certificates signed RSASSA-PSS.
#   ok/:            root self-signed PSS-SHA-512 salt 64, intermediate PSS-SHA-384 salt 48,
#                   leaf PSS-SHA-256 salt 32 (MGF1 = message hash): what Go accepts
#   fail_<param>/:  the leaf signed with one parameter Go refuses, under the ok/ intermediate
# ---------------------------------------------------------------------------------------------
d=$out/pss
mkdir -p "$d/ok"
pki_genkey RSA-2048 "$work/pss_root.key"
pki_genkey RSA-2048 "$work/pss_inter.key"
pss() { echo rsa_padding_mode:pss "rsa_pss_saltlen:$1" "rsa_mgf1_md:$2"; }
# shellcheck disable=SC2046 # word splitting of pss's output is intended
issue self "$work/pss_root.key" "$work/pss_root.key" "PSS Root CA" root_ext "$d/ok/ca.crt" \
    sha512 $(pss 64 sha512)
# shellcheck disable=SC2046
issue "$d/ok/ca.crt" "$work/pss_root.key" "$work/pss_inter.key" "PSS Intermediate CA" inter_ext \
    "$d/ok/intermediate.crt" sha384 $(pss 48 sha384)
pki_genkey RSA-2048 "$d/ok/leaf.key"
# shellcheck disable=SC2046
issue "$d/ok/intermediate.crt" "$work/pss_inter.key" "$d/ok/leaf.key" "PSS Signer" leaf_plain_ext \
    "$d/ok/leaf.crt" sha256 $(pss 32 sha256)
cat "$d/ok/leaf.crt" "$d/ok/intermediate.crt" "$d/ok/ca.crt" >"$d/ok/chain.pem"
cat "$d/ok/intermediate.crt" "$d/ok/ca.crt" >"$d/ok/cosign_chain.pem"
openssl verify -CAfile "$d/ok/ca.crt" -untrusted "$d/ok/intermediate.crt" "$d/ok/leaf.crt" >/dev/null
# name|md|salt|mgf1 md
fails=(
    "fail_salt_20|sha256|20|sha256"
    "fail_salt_64_sha256|sha256|64|sha256"
    "fail_mgf1_sha1|sha256|32|sha1"
    "fail_mgf1_sha512|sha256|32|sha512"
    "fail_hash_sha1|sha1|20|sha1"
)
for f in "${fails[@]}"; do
    IFS='|' read -r name md salt mgf <<<"$f"
    mkdir -p "$d/$name"
    pki_genkey RSA-2048 "$d/$name/leaf.key"
    # shellcheck disable=SC2046
    issue "$d/ok/intermediate.crt" "$work/pss_inter.key" "$d/$name/leaf.key" "PSS Signer $name" \
        leaf_plain_ext "$d/$name/leaf.crt" "$md" $(pss "$salt" "$mgf")
    cp "$d/ok/intermediate.crt" "$d/ok/ca.crt" "$d/$name/"
    cat "$d/$name/leaf.crt" "$d/ok/intermediate.crt" "$d/ok/ca.crt" >"$d/$name/chain.pem"
done
chmod 600 "$d"/*/leaf.key
echo "x509/pss: ok"

rm -rf "$data/x509.old"
[[ ! -e $data/x509 ]] || mv "$data/x509" "$data/x509.old"
mv "$out" "$data/x509"
rm -rf "$data/x509.old"
echo "testdata-x509.sh: fixtures regenerated under $data/x509"
