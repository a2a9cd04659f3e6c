//! Plugin request handling in-process: `notation_plugin::run` with an in-memory
//! `generate-signature` request (parse, load key and chain, validate the chain, sign, verify the
//! signature against the leaf, write the response) and `describe-key`, per key spec. What the
//! process round trip in `scripts/bench.sh` adds on top is process start-up.

// Benchmarks abort on fixture errors: there is no one to report them to.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};

fn request(command: &str, spec: &str, hash: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/pki")
        .join(spec.to_ascii_lowercase());
    let payload = base64::engine::general_purpose::STANDARD.encode(
        "eyJhbGciOiJQUzUxMiIsImNyaXQiOlsiaW8uY25jZi5ub3Rhcnkuc2lnbmluZ1NjaGVtZSJdfQ.eyJ0YXJnZXRBcnRpZmFjdCI6eyJkaWdlc3QiOiJzaGEyNTY6MDAwMCJ9fQ",
    );
    let config = serde_json::json!({
        "private_key": dir.join("leaf.key"),
        "cert_chain": dir.join("certificate_chain.pem"),
    });
    let body = if command == "generate-signature" {
        serde_json::json!({"contractVersion": "1.0", "keyId": "bench", "keySpec": spec,
            "hashAlgorithm": hash, "payload": payload, "pluginConfig": config})
    } else {
        serde_json::json!({"contractVersion": "1.0", "keyId": "bench", "pluginConfig": config})
    };
    serde_json::to_vec(&body).expect("json")
}

fn run(command: &str, request: &[u8]) -> Vec<u8> {
    let args = ["notation-external-signer".to_owned(), command.to_owned()];
    let mut stdin = request;
    let mut stdout = Vec::with_capacity(16 * 1024);
    let mut stderr = Vec::new();
    let status = notation_plugin::run(&args, &mut stdin, &mut stdout, &mut stderr, &|_| None);
    assert_eq!(status, ExitCode::SUCCESS, "{}", String::from_utf8_lossy(&stderr));
    stdout
}

fn bench_plugin(c: &mut Criterion) {
    for (spec, hash) in [("RSA-2048", "SHA-256"), ("RSA-4096", "SHA-512"), ("EC-256", "SHA-256")] {
        let mut group = c.benchmark_group(format!("plugin/{spec}"));
        let sign = request("generate-signature", spec, hash);
        run("generate-signature", &sign);
        group.bench_function("generate-signature", |b| {
            b.iter(|| run("generate-signature", black_box(&sign)));
        });
        let describe = request("describe-key", spec, hash);
        run("describe-key", &describe);
        group.bench_function("describe-key", |b| {
            b.iter(|| run("describe-key", black_box(&describe)));
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2));
    targets = bench_plugin
}
criterion_main!(benches);
