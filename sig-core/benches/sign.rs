//! Signing and verification per key spec: sig-core (aws-lc-rs) against OpenSSL on the same key
//! and payload. `scripts/bench.sh` turns the results into ratios.

// Benchmarks abort on fixture errors: there is no one to report them to.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use openssl::pkey::PKey;
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer as OpenSslSigner};
use sig_core::{CertificateChain, KeySpec, PrivateKey};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{digest, pki};

fn bench_sign(c: &mut Criterion) {
    // A JWS signing input of realistic size (protected header + payload, base64url).
    let payload = vec![b'e'; 600];
    for spec in KeySpec::ALL {
        let dir = pki(spec);
        let pem = std::fs::read(dir.join("leaf.key")).expect("fixture key");
        let key = PrivateKey::from_pem(&pem, None).expect("key parses");
        let algorithm = spec.notary_algorithm();
        let mut group = c.benchmark_group(format!("sign/{spec}"));
        group.bench_function("sig-core", |b| {
            b.iter(|| key.sign(algorithm, black_box(&payload)).expect("signs"));
        });
        let ossl = PKey::private_key_from_pem(&pem).expect("openssl parses the key");
        group.bench_function("openssl", |b| {
            b.iter(|| {
                let mut signer = OpenSslSigner::new(digest(spec), &ossl).expect("signer");
                if spec.is_rsa() {
                    signer.set_rsa_padding(Padding::PKCS1_PSS).expect("pss");
                    signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).expect("salt");
                    signer.set_rsa_mgf1_md(digest(spec)).expect("mgf1");
                }
                signer.sign_oneshot_to_vec(black_box(&payload)).expect("openssl signs")
            });
        });
        group.finish();

        let chain_pem = std::fs::read(dir.join("certificate_chain.pem")).expect("fixture chain");
        let chain = CertificateChain::from_pem(&chain_pem).expect("chain");
        let public = chain.leaf().public_key().expect("leaf key");
        let signature = key.sign(algorithm, &payload).expect("signs");
        let mut group = c.benchmark_group(format!("verify/{spec}"));
        group.bench_function("sig-core", |b| {
            b.iter(|| assert!(public.verify(algorithm, black_box(&payload), &signature)));
        });
        let ossl_sig = if spec.is_rsa() {
            signature.clone()
        } else {
            sig_core::ecdsa::raw_to_der(&signature).expect("der")
        };
        let leaf = openssl::x509::X509::from_der(chain.leaf().as_der()).expect("x509");
        let ossl_pub = leaf.public_key().expect("public key");
        group.bench_function("openssl", |b| {
            b.iter(|| {
                let mut verifier =
                    openssl::sign::Verifier::new(digest(spec), &ossl_pub).expect("verifier");
                if spec.is_rsa() {
                    verifier.set_rsa_padding(Padding::PKCS1_PSS).expect("pss");
                    verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).expect("salt");
                    verifier.set_rsa_mgf1_md(digest(spec)).expect("mgf1");
                }
                assert!(verifier.verify_oneshot(&ossl_sig, black_box(&payload)).expect("verify"));
            });
        });
        group.finish();
    }
}

fn bench_chain(c: &mut Criterion) {
    let pem = std::fs::read(pki(KeySpec::Rsa4096).join("chain_shuffled.pem")).expect("chain");
    let now = std::time::SystemTime::now();
    c.bench_function("chain/order+validate RSA-4096 shuffled", |b| {
        b.iter(|| {
            let chain = CertificateChain::from_pem(black_box(&pem)).expect("chain");
            chain.validate(now).expect("valid");
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench_sign, bench_chain
}
criterion_main!(benches);
