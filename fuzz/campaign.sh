#!/usr/bin/env bash
# campaign.sh: build the fuzz targets with the nightly toolchain and run a bounded libFuzzer
# campaign per target, from the seeded corpora (fuzz/seed-corpora.sh).
#
#   fuzz/campaign.sh [--build] [--no-trace-compares] [--time SECONDS | --runs N] [--max-len BYTES] TARGET...
#
# Prints one line per target: executions, exec/s, new corpus size, and whether it crashed
# (the input is then in fuzz/artifacts/TARGET/; copy it to fuzz/regressions/TARGET/ with the
# fix). Bounds every input: 8 KiB (--max-len), 512 MiB of mallocs in one go, 2 GiB RSS, 10 s
# per input. The generator targets (analyze_smith, analyze_component) run about 4x faster at
# --max-len 512: wasm-smith draws fewer choices, and libFuzzer keeps the corpus small.
# Built without a sanitizer (`-s none`): the code under test is safe Rust, and coverage-guided
# speed finds more than ASAN would add; build with `cargo +nightly fuzz build` (ASAN, the
# default) for a campaign over the unsafe corners.
# --no-trace-compares builds (into target/fuzz-fast) and runs binaries without libFuzzer's
# comparison tracing: a third of the generator targets' time goes to it, and wasm-smith reads
# its input as choices, not as magic values to match, so they run 1.5x faster without it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD=0; LIMIT=(-max_total_time=60); MAXLEN=8192; FAST=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=1; shift ;;
    --no-trace-compares) FAST=(--no-trace-compares --target-dir "$ROOT/target/fuzz-fast"); shift ;;
    --time) LIMIT=(-max_total_time="$2"); shift 2 ;;
    --runs) LIMIT=(-runs="$2"); shift 2 ;;
    --max-len) MAXLEN="$2"; shift 2 ;;
    *) break ;;
  esac
done
TARGETS=("$@")
(( ${#TARGETS[@]} )) || TARGETS=(analyze_bytes analyze_smith analyze_component bundle_verify policy_parse wasi_testsuite_spec)
if (( BUILD )); then
  cargo +nightly fuzz build --fuzz-dir fuzz -O -s none "${FAST[@]}"
fi
BIN="$ROOT/target/x86_64-unknown-linux-gnu/release"
(( ${#FAST[@]} )) && BIN="$ROOT/target/fuzz-fast/x86_64-unknown-linux-gnu/release"
crashed=0
[[ -d fuzz/corpus ]] || fuzz/seed-corpora.sh >/dev/null
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="$(mktemp)"
  set +e
  "$BIN/$t" "fuzz/corpus/$t" "${LIMIT[@]}" -max_len="$MAXLEN" -malloc_limit_mb=512 -rss_limit_mb=2048 \
    -timeout=10 -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  echo "$t: ${runs:-?} executions, ${eps:-?} exec/s, corpus $(ls "fuzz/corpus/$t" | wc -l), $([[ $rc == 0 ]] && echo 'no crash' || echo "CRASH (exit $rc, see fuzz/artifacts/$t/)")"
  if [[ $rc != 0 ]]; then tail -40 "$log"; crashed=1; fi
  rm -f "$log"
done
exit "$crashed"
