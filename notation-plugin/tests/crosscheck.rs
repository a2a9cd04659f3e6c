//! Every signature the plugin returns is verified by the openssl CLI, independently of the
//! product's own verification: RSA-PSS strictly with salt length = hash length and MGF1 with the
//! same hash (what go-cose requires), ECDSA after converting `r || s` to DER here.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::{
    SPECS, Spec, check_signature_response, generate_request, key_file_config, plugin,
    sign_and_check, spec,
};

/// Verifies `signature` (as the plugin returns it: RSA-PSS bytes, or ECDSA `r || s`) over
/// `payload` with the openssl CLI and the public key of the spec's `leaf.crt`.
pub(crate) fn openssl_verify(spec: Spec, payload: &[u8], signature: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let public_key = dir.path().join("pub.pem");
    let out = Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(spec.file("leaf.crt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl x509: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&public_key, &out.stdout).unwrap();
    let signature = if spec.is_rsa() {
        signature.to_vec()
    } else {
        if signature.len() != spec.signature_len {
            return Err(format!("r || s of {} bytes", signature.len()));
        }
        ecdsa_raw_to_der(signature)
    };
    let signature_file = dir.path().join("sig.bin");
    let payload_file = dir.path().join("payload.bin");
    std::fs::write(&signature_file, signature).unwrap();
    std::fs::write(&payload_file, payload).unwrap();
    openssl_dgst_verify(spec, &public_key, &signature_file, &payload_file)
}

fn openssl_dgst_verify(
    spec: Spec,
    public_key: &Path,
    signature: &Path,
    payload: &Path,
) -> Result<(), String> {
    let mut cmd = Command::new("openssl");
    cmd.arg("dgst").arg(format!("-{}", spec.digest)).arg("-verify").arg(public_key);
    if spec.is_rsa() {
        cmd.args(["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"])
            .arg("-sigopt")
            .arg(format!("rsa_mgf1_md:{}", spec.digest));
    }
    let out = cmd.arg("-signature").arg(signature).arg(payload).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.contains("Verified OK") {
        Ok(())
    } else {
        Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// `r || s` → DER `SEQUENCE { INTEGER r, INTEGER s }`, written out here rather than taken from
/// sig-core so the check does not share code with the product.
pub(crate) fn ecdsa_raw_to_der(raw: &[u8]) -> Vec<u8> {
    fn push_len(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(u8::try_from(len).unwrap());
        } else {
            out.push(0x81);
            out.push(u8::try_from(len).unwrap());
        }
    }
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        let bytes = &bytes[first..];
        let mut body = Vec::new();
        if bytes[0] & 0x80 != 0 {
            body.push(0);
        }
        body.extend_from_slice(bytes);
        let mut out = vec![0x02];
        push_len(&mut out, body.len());
        out.extend(body);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30];
    push_len(&mut out, body.len());
    out.extend(body);
    out
}

#[test]
fn openssl_verifies_every_key_spec() {
    for spec in SPECS {
        sign_and_check(spec, key_file_config(spec), &[]);
    }
}

#[test]
fn openssl_verifies_binary_and_empty_looking_payloads() {
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let large = vec![0xa5; 1 << 20];
    for payload in [all_bytes.as_slice(), b"\0".as_slice(), b" ".as_slice(), large.as_slice()] {
        for spec in [spec("rsa-2048"), spec("ec-521")] {
            let req = generate_request(spec, "k", payload, key_file_config(spec));
            let response = plugin("generate-signature").request(&req).run().success();
            check_signature_response(spec, &response, "k", payload);
        }
    }
}

#[test]
fn own_der_conversion_matches_sig_core() {
    for raw in [
        [vec![0u8; 31], vec![1], vec![0x80; 32]].concat(),
        vec![0xff; 132],
        [vec![0; 66], vec![0x7f; 66]].concat(),
        (0..96u8).collect(),
    ] {
        assert_eq!(ecdsa_raw_to_der(&raw), sig_core::ecdsa::raw_to_der(&raw).unwrap());
    }
}

/// The strict salt check is real: openssl itself makes a PSS signature with a 32-byte salt over
/// SHA-512 (the classic `rsassa-pss-sha512.sh` bug) and the check rejects it, while the same
/// signature with `rsa_pss_saltlen:digest` passes.
#[test]
fn openssl_check_rejects_pss_salt_other_than_hash_length() {
    let spec = spec("rsa-4096");
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload.bin");
    std::fs::write(&payload, b"salt length check").unwrap();
    for (salt, ok) in [("32", false), ("digest", true), ("64", true), ("max", false)] {
        let sig = dir.path().join(format!("sig-{salt}.bin"));
        let out = Command::new("openssl")
            .args(["dgst", "-sha512", "-sign"])
            .arg(spec.file("leaf.key"))
            .args(["-sigopt", "rsa_padding_mode:pss", "-sigopt"])
            .arg(format!("rsa_pss_saltlen:{salt}"))
            .args(["-sigopt", "rsa_mgf1_md:sha512", "-out"])
            .arg(&sig)
            .arg(&payload)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let signature = std::fs::read(&sig).unwrap();
        let result = openssl_verify(spec, b"salt length check", &signature);
        assert_eq!(result.is_ok(), ok, "salt {salt}: {result:?}");
    }
}

#[test]
fn openssl_check_rejects_tampered_signatures_and_payloads() {
    for spec in [spec("rsa-3072"), spec("ec-384")] {
        let payload = b"tamper".to_vec();
        let req = generate_request(spec, "k", &payload, key_file_config(spec));
        let response = plugin("generate-signature").request(&req).run().success();
        let mut signature = check_signature_response(spec, &response, "k", &payload);
        assert!(openssl_verify(spec, b"tamper!", &signature).is_err(), "{}", spec.dir);
        signature[10] ^= 1;
        assert!(openssl_verify(spec, &payload, &signature).is_err(), "{}", spec.dir);
    }
}

/// 32 plugin processes at once, over all key specs and both signer kinds, all succeed and every
/// signature verifies.
#[test]
fn concurrent_invocations_all_succeed_and_verify() {
    let threads: Vec<_> = (0..32)
        .map(|i| {
            std::thread::spawn(move || {
                let spec = SPECS[i % SPECS.len()];
                let mut config = key_file_config(spec);
                if i % 4 == 3 {
                    config["signer"] = crate::support::path_value(&crate::support::example(
                        "sign-with-openssl.sh",
                    ));
                }
                let payload = format!("concurrent payload {i}").into_bytes();
                let key_id = format!("key-{i}");
                let req = generate_request(spec, &key_id, &payload, config);
                let response = plugin("generate-signature").request(&req).run().success();
                check_signature_response(spec, &response, &key_id, &payload);
            })
        })
        .collect();
    let failed = threads.into_iter().map(std::thread::JoinHandle::join).filter(Result::is_err);
    assert_eq!(failed.count(), 0, "some concurrent invocations failed (see their panics)");
}

#[test]
fn signature_is_fresh_per_call_and_each_verifies() {
    // RSA-PSS and ECDSA are randomised: two calls over the same payload differ, both verify.
    for spec in [spec("rsa-2048"), spec("ec-256")] {
        let config = json!({
            "cert_chain": crate::support::path_value(&spec.file("chain.pem")),
            "private_key": crate::support::path_value(&spec.file("leaf.key")),
        });
        let req = generate_request(spec, "k", b"same", config);
        let a = plugin("generate-signature").request(&req).run().success();
        let b = plugin("generate-signature").request(&req).run().success();
        assert_ne!(a["signature"], b["signature"], "{}", spec.dir);
        check_signature_response(spec, &a, "k", b"same");
        check_signature_response(spec, &b, "k", b"same");
    }
}
