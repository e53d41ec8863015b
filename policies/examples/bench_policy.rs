//! Decision speed on a ready Analysis, for `scripts/bench-policy.sh`.
//!
//!     bench_policy POLICY ANALYSIS.json [DECISIONS_PER_BATCH]
//!
//! Loads (parses and compiles) the policy once, then times batches of decisions and prints the
//! median and the best batch as microseconds per decision, on one line:
//! `POLICY ANALYSIS median_us=… min_us=… denied=… findings=…`.

use std::time::Instant;
use wasmcert_analyzer::Analysis;
use wasmcert_policy::Policy;

const BATCHES: usize = 21;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bench_policy POLICY ANALYSIS.json [DECISIONS_PER_BATCH]");
        std::process::exit(2);
    }
    let policy = Policy::load(args[1].as_ref()).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let text = std::fs::read_to_string(&args[2]).expect("analysis JSON");
    let analysis: Analysis = serde_json::from_str(&text).expect("an Analysis document");
    let per_batch: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    // Warm up (first Rego evaluation prepares the engine).
    let first = policy.evaluate(&analysis, &[]).expect("evaluates");
    let mut times = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let t = Instant::now();
        for _ in 0..per_batch {
            let d = policy.evaluate(&analysis, &[]).expect("evaluates");
            std::hint::black_box(d);
        }
        times.push(t.elapsed().as_secs_f64() * 1e6 / per_batch as f64);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{} {} median_us={:.2} min_us={:.2} denied={} findings={}",
        args[1],
        args[2],
        times[BATCHES / 2],
        times[0],
        !first.allowed,
        first.findings.len()
    );
}
