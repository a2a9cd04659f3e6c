#!/usr/bin/env bash
# Regenerate the committed test fixtures under tests/data/ (`make testdata`; not run in CI).
#
#   tests/data/pki/<rsa-2048|...|ec-521>/  positive chains from scripts/certificates.sh + key encodings
#   tests/data/pki/fail_<reason>/           negative chains, one broken rule each (see its `reason`)
#   tests/data/x509/                        path-validation fixtures (scripts/testdata-x509.sh)
#   tests/data/commands/*.sh                hand-written toy signers: checked and made executable here
#   tests/data/README.md                    the block between the "generated" markers is rewritten
#
# Everything is built in a temporary directory and swapped in at the end; other files under
# tests/data/ (envelopes, protocol, ...) are left alone. Keys are random, so every run changes all
# PKI files: commit the lot.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=$repo/tests/data
# shellcheck source-path=SCRIPTDIR source=certificates.sh
source "$repo/scripts/certificates.sh" # pki_* functions; does not run its main when sourced

pki_check_openssl
mkdir -p "$data"
work=$(mktemp -d "$data/.testdata.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 022
pki=$work/pki
mkdir -p "$pki"

# Long-lived fixtures: tests pass "now" explicitly, but the chains should also verify today.
readonly LEAF_DAYS=30000 CA_DAYS=36500
readonly PASSWORD=test-password

lower() { tr '[:upper:]' '[:lower:]' <<<"$1"; }
der() { openssl x509 -in "$1" -outform DER; }

# ---------------------------------------------------------------------------------------------
# Positive fixtures: one directory per Notation key spec.
# ---------------------------------------------------------------------------------------------
for spec in $PKI_KEY_SPECS; do
    d=$pki/$(lower "$spec")
    "$repo/scripts/certificates.sh" --key-spec "$spec" --out "$d" --days "$LEAF_DAYS" \
        --ca-days "$CA_DAYS" --name "External Signer Test $spec" >/dev/null
    # The same key in every encoding the file backend should read.
    case "$spec" in
        RSA-*) openssl pkey -in "$d/leaf.key" -traditional -out "$d/leaf.pkcs1.pem" ;;
        EC-*) openssl pkey -in "$d/leaf.key" -traditional -out "$d/leaf.sec1.pem" ;;
    esac
    openssl pkcs8 -topk8 -nocrypt -in "$d/leaf.key" -outform DER -out "$d/leaf.key.der"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout "pass:$PASSWORD" \
        -in "$d/leaf.key" -out "$d/leaf.enc.pem"
    # Chain variants: DER concatenation (leaf, intermediate, root) and a shuffled PEM bag.
    { der "$d/leaf.crt"; der "$d/intermediate.crt"; der "$d/ca.crt"; } >"$d/chain.der"
    cat "$d/ca.crt" "$d/leaf.crt" "$d/intermediate.crt" >"$d/chain_shuffled.pem"
    # Same file name as in the fail_* directories, so tests can iterate over pki/*/chain.pem.
    cp "$d/certificate_chain.pem" "$d/chain.pem"
    chmod 600 "$d"/leaf.key "$d"/leaf.*.pem "$d/leaf.key.der"
    echo "pki/$(lower "$spec"): ok"
done

# ---------------------------------------------------------------------------------------------
# Negative fixtures: one shared negative-test root and intermediate (P-384 CAs, valid from
# 2019-01-01 so that the expired leaf's notBefore is inside the CA validity: each fixture breaks
# exactly one rule). Leaves are EC-256 unless the rule needs RSA.
# ---------------------------------------------------------------------------------------------
ca=$work/negca
pki_write_config "$ca"
cat >>"$ca/openssl.cnf" <<'EOF'

[leaf_client_auth]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning, clientAuth
subjectAltName         = URI:https://signer.example.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_server_auth]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = URI:https://signer.example.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_ca]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, digitalSignature, keyCertSign
extendedKeyUsage       = codeSigning
subjectAltName         = URI:https://signer.example.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_no_key_usage]
basicConstraints       = critical, CA:FALSE
extendedKeyUsage       = codeSigning
subjectAltName         = URI:https://signer.example.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_noncritical_key_usage]
basicConstraints       = critical, CA:FALSE
keyUsage               = digitalSignature
extendedKeyUsage       = codeSigning
subjectAltName         = URI:https://signer.example.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_key_encipherment]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = codeSigning
subjectAltName         = URI:https://signer.example.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_no_san]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# A second CA level below the pathlen:0 intermediate.
[inter2_ext]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# A self-signed certificate posing as the intermediate.
[self_inter_ext]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
EOF

NEG="External Signer Test Negative"
now=$(date +%s)
ca_start=$(date -u -d 2019-01-01T00:00:00Z +%s 2>/dev/null || echo 1546300800)
ca_end=$((now + CA_DAYS * 86400))
leaf_start=$((now - 3600))
leaf_end=$((now + LEAF_DAYS * 86400))
subj() { echo "/C=US/ST=WA/O=$NEG/CN=$NEG $1"; }

pki_genkey EC-384 "$ca/root.key"
pki_genkey EC-384 "$ca/inter.key"
pki_issue "$ca" self "$ca/root.key" "$ca/root.key" "$(subj 'Root CA')" "" root_ext \
    "$ca_start" "$ca_end" sha384 "$ca/root.crt"
pki_issue "$ca" "$ca/root.crt" "$ca/root.key" "$ca/inter.key" "$(subj 'Intermediate CA')" "" \
    inter_ext "$ca_start" "$ca_end" sha384 "$ca/inter.crt"

# leaf NAME SPEC SECTION [START END [ISSUER_CRT ISSUER_KEY [MD]]]: make pki/NAME/{leaf.key,leaf.crt}
# issued by the negative intermediate (or the given issuer), plus ca.crt, intermediate.crt,
# key_spec and the default chain.pem (leaf, intermediate, root). Callers override what they break.
leaf() {
    local name=$1 spec=$2 section=$3 start=${4:-$leaf_start} end=${5:-$leaf_end}
    local issuer_crt=${6:-$ca/inter.crt} issuer_key=${7:-$ca/inter.key} md=${8:-sha384}
    local d=$pki/$name
    mkdir -p "$d"
    pki_genkey "$spec" "$d/leaf.key"
    pki_issue "$ca" "$issuer_crt" "$issuer_key" "$d/leaf.key" "$(subj "Signer (${name#fail_})")" "" \
        "$section" "$start" "$end" "$md" "$d/leaf.crt"
    cp "$ca/root.crt" "$d/ca.crt"
    cp "$ca/inter.crt" "$d/intermediate.crt"
    cat "$d/leaf.crt" "$ca/inter.crt" "$ca/root.crt" >"$d/chain.pem"
    echo "$spec" >"$d/key_spec"
}
# reason NAME TEXT: the one-line rule the fixture breaks.
reason() {
    echo "$2" >"$pki/$1/reason"
    echo "pki/$1: $2"
}

leaf fail_client_auth_eku EC-256 leaf_client_auth
reason fail_client_auth_eku "leaf EKU is codeSigning,clientAuth: notation rejects leaves whose EKU includes serverAuth, clientAuth, emailProtection, timeStamping or OCSPSigning"

leaf fail_server_auth_eku EC-256 leaf_server_auth
reason fail_server_auth_eku "leaf EKU is serverAuth only (openssl/mkcert TLS default): notation rejects serverAuth, cosign needs codeSigning"

leaf fail_ca_leaf EC-256 leaf_ca
reason fail_ca_leaf "leaf has basicConstraints CA:TRUE and keyUsage keyCertSign: a signing leaf must be CA:FALSE with digitalSignature only"

leaf fail_missing_key_usage EC-256 leaf_no_key_usage
reason fail_missing_key_usage "leaf has no keyUsage extension: notation requires a critical keyUsage with digitalSignature"

leaf fail_noncritical_key_usage EC-256 leaf_noncritical_key_usage
reason fail_noncritical_key_usage "leaf keyUsage digitalSignature is not marked critical: notation requires it critical"

leaf fail_key_encipherment RSA-2048 leaf_key_encipherment
reason fail_key_encipherment "RSA-2048 leaf keyUsage is digitalSignature,keyEncipherment: notation allows only digitalSignature (+ contentCommitment)"

leaf fail_no_san EC-256 leaf_no_san
reason fail_no_san "leaf has no subjectAltName: cosign --certificate-identity and sigstore-rs need a URI or email SAN (notation alone accepts it)"

leaf fail_expired EC-256 leaf_ext "$(date -u -d 2020-01-01T00:00:00Z +%s 2>/dev/null || echo 1577836800)" \
    "$(date -u -d 2021-01-01T00:00:00Z +%s 2>/dev/null || echo 1609459200)"
reason fail_expired "leaf validity is 2020-01-01..2021-01-01 (expired); the CAs are valid since 2019"

leaf fail_not_yet_valid EC-256 leaf_ext "$(date -u -d 2090-01-01T00:00:00Z +%s 2>/dev/null || echo 3786912000)" \
    "$(date -u -d 2095-01-01T00:00:00Z +%s 2>/dev/null || echo 3944678400)"
reason fail_not_yet_valid "leaf validity starts 2090-01-01: not yet valid"

leaf fail_rsa_1024 RSA-1024 leaf_ext
reason fail_rsa_1024 "leaf key is RSA-1024: notation accepts only RSA 2048/3072/4096 and P-256/384/521"

leaf fail_sha1_signature EC-256 leaf_ext "" "" "" "" sha1
reason fail_sha1_signature "leaf certificate is signed with ecdsa-with-SHA1: SHA-1 signatures are rejected by Go and notation"

leaf fail_no_root EC-256 leaf_ext
cat "$pki/fail_no_root/leaf.crt" "$ca/inter.crt" >"$pki/fail_no_root/chain.pem"
reason fail_no_root "chain.pem is leaf + intermediate without the root: notation needs the chain to end in a self-signed root, cosign --certificate-chain needs the root last"

leaf fail_two_leaves EC-256 leaf_ext
d=$pki/fail_two_leaves
pki_genkey EC-256 "$work/second_leaf.key"
pki_issue "$ca" "$ca/inter.crt" "$ca/inter.key" "$work/second_leaf.key" "$(subj 'Signer (second leaf)')" "" \
    leaf_ext "$leaf_start" "$leaf_end" sha384 "$d/second_leaf.crt"
cat "$d/leaf.crt" "$d/second_leaf.crt" "$ca/inter.crt" "$ca/root.crt" >"$d/chain.pem"
reason fail_two_leaves "chain.pem holds two leaf certificates (leaf.crt, second_leaf.crt) + intermediate + root: ambiguous signer"

# Self-signed "intermediate" that issued the leaf; the real root is still last in chain.pem.
d=$pki/fail_self_signed_intermediate
mkdir -p "$d"
pki_genkey EC-384 "$work/self_inter.key"
pki_issue "$ca" self "$work/self_inter.key" "$work/self_inter.key" "$(subj 'Self-Signed Intermediate CA')" "" \
    self_inter_ext "$ca_start" "$ca_end" sha384 "$work/self_inter.crt"
leaf fail_self_signed_intermediate EC-256 leaf_ext "" "" "$work/self_inter.crt" "$work/self_inter.key"
cp "$work/self_inter.crt" "$d/intermediate.crt"
cat "$d/leaf.crt" "$work/self_inter.crt" "$ca/root.crt" >"$d/chain.pem"
reason fail_self_signed_intermediate "the intermediate that issued the leaf is self-signed, not issued by the root in chain.pem: the chain is broken at intermediate -> root"

# root -> inter1 (pathlen:0) -> inter2 -> leaf: inter2 violates inter1's path length constraint.
d=$pki/fail_intermediate_pathlen
mkdir -p "$d"
pki_genkey EC-384 "$work/inter2.key"
pki_issue "$ca" "$ca/inter.crt" "$ca/inter.key" "$work/inter2.key" "$(subj 'Second-Level Intermediate CA')" "" \
    inter2_ext "$ca_start" "$ca_end" sha384 "$work/inter2.crt"
leaf fail_intermediate_pathlen EC-256 leaf_ext "" "" "$work/inter2.crt" "$work/inter2.key"
cat "$work/inter2.crt" "$ca/inter.crt" >"$d/intermediate.crt"
cat "$d/leaf.crt" "$work/inter2.crt" "$ca/inter.crt" "$ca/root.crt" >"$d/chain.pem"
reason fail_intermediate_pathlen "root -> intermediate (pathlen:0) -> second intermediate -> leaf: the pathlen:0 constraint forbids the second CA level"

leaf fail_unrelated_cert EC-256 leaf_ext
d=$pki/fail_unrelated_cert
pki_genkey EC-256 "$work/unrelated.key"
pki_issue "$ca" self "$work/unrelated.key" "$work/unrelated.key" \
    "/C=US/ST=WA/O=Unrelated Test/CN=Unrelated Self-Signed Root CA" "" root_ext \
    "$ca_start" "$ca_end" sha256 "$d/unrelated.crt"
cat "$d/leaf.crt" "$ca/inter.crt" "$ca/root.crt" "$d/unrelated.crt" >"$d/chain.pem"
reason fail_unrelated_cert "chain.pem is a valid leaf, intermediate, root followed by an unrelated self-signed certificate"

leaf fail_key_mismatch EC-256 leaf_ext
pki_genkey EC-256 "$pki/fail_key_mismatch/leaf.key"
reason fail_key_mismatch "chain.pem is valid but leaf.key is a different EC-256 key than the one in leaf.crt"

chmod 600 "$pki"/fail_*/leaf.key

# Sanity checks: positives verify, each negative fails for its own reason where openssl can tell.
for d in "$pki"/rsa-* "$pki"/ec-*; do
    openssl verify -x509_strict -CAfile "$d/ca.crt" -untrusted "$d/intermediate.crt" "$d/leaf.crt" >/dev/null
done
for n in fail_client_auth_eku fail_server_auth_eku fail_ca_leaf fail_missing_key_usage \
    fail_noncritical_key_usage fail_key_encipherment fail_no_san fail_key_mismatch fail_no_root \
    fail_two_leaves fail_unrelated_cert; do
    # Chain-valid per openssl; the broken rule is a profile rule openssl does not check.
    openssl verify -CAfile "$pki/$n/ca.crt" -untrusted "$pki/$n/intermediate.crt" "$pki/$n/leaf.crt" \
        >/dev/null || pki_die "$n: chain should verify with openssl"
done
expect_verify_error() {
    local n=$1 want=$2 out
    if out=$(openssl verify -CAfile "$pki/$n/ca.crt" -untrusted "$pki/$n/intermediate.crt" \
        "$pki/$n/leaf.crt" 2>&1); then
        pki_die "$n: openssl verify unexpectedly succeeded"
    fi
    grep -q "$want" <<<"$out" || pki_die "$n: expected '$want', got: $out"
}
expect_verify_error fail_expired "certificate has expired"
expect_verify_error fail_not_yet_valid "certificate is not yet valid"
expect_verify_error fail_self_signed_intermediate "self-signed certificate in certificate chain"
expect_verify_error fail_intermediate_pathlen "path length constraint exceeded"
[[ "$(openssl x509 -in "$pki/fail_key_mismatch/leaf.crt" -noout -pubkey)" != \
    "$(openssl pkey -in "$pki/fail_key_mismatch/leaf.key" -pubout)" ]] ||
    pki_die "fail_key_mismatch: key matches"

# Swap the new tree in.
rm -rf "$data/pki.old"
[[ ! -e $data/pki ]] || mv "$data/pki" "$data/pki.old"
mv "$pki" "$data/pki"
rm -rf "$data/pki.old"

# ---------------------------------------------------------------------------------------------
# Toy signer commands: hand-written, committed as they are; make sure they are executable.
# ---------------------------------------------------------------------------------------------
commands="exit_1 hang garbage empty huge killed stderr_flood wrong_key pkcs1v15 pss_salt_32 env_dump"
for c in $commands; do
    f=$data/commands/$c.sh
    [[ -f $f ]] || pki_die "missing $f"
    chmod 755 "$f"
    bash -n "$f"
done
echo "commands: $(wc -w <<<"$commands" | tr -d ' ') scripts ok"

# Path-validation fixtures (tests/data/x509/): their own script, also runnable alone.
"$repo/scripts/testdata-x509.sh"

# ---------------------------------------------------------------------------------------------
# README: rewrite the generated block (tool version and date); the rest is hand-written.
# ---------------------------------------------------------------------------------------------
readme=$data/README.md
begin='<!-- BEGIN generated by scripts/testdata.sh -->'
end='<!-- END generated by scripts/testdata.sh -->'
if [[ -f $readme ]] && grep -qF "$begin" "$readme"; then
    {
        awk -v b="$begin" '{ print } $0 == b { exit }' "$readme"
        echo "Last regenerated: $(date -u +%Y-%m-%d) with \`$(openssl version)\`, \`bash $BASH_VERSION\`"
        echo "(\`scripts/testdata.sh\`). Leaf validity $LEAF_DAYS days, CA validity $CA_DAYS days."
        awk -v e="$end" '$0 == e { on = 1 } on { print }' "$readme"
    } >"$work/README.md"
    mv "$work/README.md" "$readme"
else
    echo "testdata.sh: warning: $readme has no generated block; not updated" >&2
fi
echo "testdata.sh: fixtures regenerated under $data"
