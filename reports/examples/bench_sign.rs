//! Times signing and verifying a ~1 MB conformance report in process (key already decrypted:
//! scrypt key decryption is deliberately slow and happens once per `wasmcert` run).
//! Run by `scripts/bench-sign.sh`, which also times `openssl dgst` on the same PAE.
//! Usage: bench_sign KEY.pem PUB.pem PASSWORD OUT_DIR

use std::time::Instant;
use wasmcert_report::sign::{REPORT_PREDICATE, Signer, Subject, verify};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, key, public, password, out] = args.as_slice() else {
        eprintln!("usage: bench_sign KEY PUB PASSWORD OUT_DIR");
        std::process::exit(2);
    };
    let key = std::fs::read(key).expect("key");
    let public = std::fs::read(public).expect("public key");
    // A report-shaped predicate of about 1 MB: 4000 cases with evidence.
    let mut cases = serde_json::Map::new();
    for i in 0..4000 {
        cases.insert(
            format!("sandbox/case-{i:05}"),
            serde_json::json!({"category": "sandbox", "outcome": "pass",
                "evidence": {"exit_code": 0, "stdout_head": "ok open \"data.txt\": read-only-data\n".repeat(5), "stderr_head": "", "duration_ms": 3}}),
        );
    }
    let predicate =
        serde_json::json!({"schema_version": 1, "runtime": {"name": "bench"}, "cases": cases});
    let size = serde_json::to_vec(&predicate).unwrap().len();
    let signer = Signer::load(&key, password.as_bytes()).expect("decrypt");
    let subject = Subject {
        name: "bench".into(),
        sha256: "00".repeat(32),
    };
    let runs = 20;
    let mut bundle = String::new();
    let mut best_sign = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        bundle = signer
            .sign(&subject, REPORT_PREDICATE, &predicate)
            .expect("sign");
        best_sign = best_sign.min(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut best_verify = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        verify(bundle.as_bytes(), &public, None).expect("verify");
        best_verify = best_verify.min(t.elapsed().as_secs_f64() * 1e3);
    }
    std::fs::write(format!("{out}/bundle.json"), &bundle).expect("write bundle");
    println!(
        "report {size} bytes: sign {best_sign:.2} ms, verify {best_verify:.2} ms (best of {runs}, in process)"
    );
}
