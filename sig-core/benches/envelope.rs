//! Notary envelopes: building (`envelope::sign`, which also validates the chain, verifies the
//! signature against the leaf and decodes the result, as notation does) and verifying
//! (`envelope::verify`: parse, signature, headers, chain rules, trust anchor), JWS and COSE,
//! RSA-4096 and EC-256. For the throughput comparison, OpenSSL verifies the same signature over
//! the same signing input: the crypto alone, no parsing, no chain. `scripts/bench.sh` turns the
//! results into ratios.

// Benchmarks abort on fixture errors: there is no one to report them to.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509, X509StoreContext};
use sig_core::envelope::{self, SigningInput};
use sig_core::oci::Descriptor;
use sig_core::{
    CertificateChain, CertifiedKey, EnvelopeFormat, KeySpec, NotaryPayload, PrivateKey, SignRequest,
};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{digest, pki};

fn bench_envelopes(c: &mut Criterion) {
    let manifest = Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        "sha256:b5ce83abbe900f57e0dbce7e763dceb0e118e888624d58fe41f9a9936ac64c79",
        481,
    );
    let now = SystemTime::now();
    let request = SignRequest::new(NotaryPayload::new(manifest), now)
        .with_signing_agent("external-signer/bench");
    for spec in [KeySpec::Rsa4096, KeySpec::Ec256] {
        let dir = pki(spec);
        let key = PrivateKey::from_pem(&std::fs::read(dir.join("leaf.key")).expect("key"), None)
            .expect("key parses");
        let chain_pem = std::fs::read(dir.join("certificate_chain.pem")).expect("chain");
        let chain = CertificateChain::from_pem(&chain_pem).expect("chain");
        let root = chain.certificates().last().expect("root").clone();
        let signer = CertifiedKey::new(chain.clone(), key).expect("signer");
        let leaf = X509::from_der(chain.leaf().as_der()).expect("x509");
        let ossl_pub = leaf.public_key().expect("public key");
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let mut group = c.benchmark_group(format!("envelope/{format}/{spec}"));
            group.bench_function("build", |b| {
                b.iter(|| envelope::sign(format, black_box(&request), &signer).expect("signs"));
            });
            let bytes = envelope::sign(format, &request, &signer).expect("signs");
            let anchors = sig_core::TrustAnchors::from(root.clone());
            group.bench_function("verify", |b| {
                b.iter(|| {
                    envelope::verify(format, black_box(&bytes), &anchors, now).expect("verifies")
                });
            });
            // The same signature over the same signing input, checked by OpenSSL.
            let verified = envelope::verify(format, &bytes, &anchors, now).expect("verifies");
            let input =
                SigningInput::new(format, &request, spec.notary_algorithm()).expect("input");
            let signature = if spec.is_rsa() {
                verified.signature().to_vec()
            } else {
                sig_core::ecdsa::raw_to_der(verified.signature()).expect("der")
            };
            let openssl_verify = |data: &[u8]| {
                let mut verifier = Verifier::new(digest(spec), &ossl_pub).expect("verifier");
                if spec.is_rsa() {
                    verifier.set_rsa_padding(Padding::PKCS1_PSS).expect("pss");
                    verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).expect("salt");
                    verifier.set_rsa_mgf1_md(digest(spec)).expect("mgf1");
                }
                verifier.verify_oneshot(&signature, data).expect("verify")
            };
            assert!(openssl_verify(input.as_bytes()), "OpenSSL verifies the envelope's signature");
            group.bench_function("openssl-verify-crypto-only", |b| {
                b.iter(|| assert!(openssl_verify(black_box(input.as_bytes()))));
            });
            // Like for like: from the DER certificates, as an envelope carries them, the
            // signature plus OpenSSL's own chain validation up to the same root (what
            // `openssl verify` does). The trust store is built once, as a verifier would.
            let ders: Vec<Vec<u8>> =
                chain.certificates().iter().map(|c| c.as_der().to_vec()).collect();
            let mut store = X509StoreBuilder::new().expect("store");
            store.add_cert(X509::from_der(&ders[ders.len() - 1]).expect("root")).expect("root");
            let store = store.build();
            let openssl_chain = || {
                let certs: Vec<X509> =
                    ders.iter().map(|d| X509::from_der(d).expect("x509")).collect();
                let mut untrusted = Stack::new().expect("stack");
                for cert in &certs[1..] {
                    untrusted.push(cert.clone()).expect("chain certificate");
                }
                let mut ctx = X509StoreContext::new().expect("context");
                ctx.init(&store, &certs[0], &untrusted, |c| c.verify_cert()).expect("verify_cert")
            };
            assert!(openssl_chain(), "OpenSSL validates the chain");
            group.bench_function("openssl-verify-with-chain", |b| {
                b.iter(|| assert!(openssl_verify(black_box(input.as_bytes())) && openssl_chain()));
            });
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench_envelopes
}
criterion_main!(benches);
