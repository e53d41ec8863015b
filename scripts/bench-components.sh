#!/usr/bin/env bash
# bench-components.sh: the cost of tracing components' instance graphs. Times `wasmcert
# analyze` on the largest real components the tests use (hyperlight-sandbox's published
# guests, scripts/install-components.sh) with this build and with a base build from before
# the graph (default: the commit before it, built in a worktree under target/bench-base), and
# `wasm-tools validate` as the peer, side by side in one run; prints the ratios.
# Target: this build <= 1.1x the base.
#
#   scripts/bench-components.sh [--runs N]
#   BASE_BIN=/path/to/old/wasmcert scripts/bench-components.sh   # skip building the base
#   BASE_REV=<commit> to build another base
set -euo pipefail
RUNS=10
[[ "${1:-}" == "--runs" ]] && RUNS="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WC="$ROOT/target/release/wasmcert"
WT="$ROOT/.ci/tools/bin/wasm-tools"
cargo build --release --locked -q
scripts/install-components.sh >/dev/null
BASE_REV="${BASE_REV:-66c816e}"
if [[ -z "${BASE_BIN:-}" ]]; then
  BASE_DIR="$ROOT/target/bench-base"
  if [[ ! -x "$BASE_DIR/target/release/wasmcert" || "$(cat "$BASE_DIR/.rev" 2>/dev/null)" != "$BASE_REV" ]]; then
    rm -rf "$BASE_DIR"; mkdir -p "$BASE_DIR"
    git archive "$BASE_REV" | tar -x -C "$BASE_DIR"
    (cd "$BASE_DIR" && cargo build --release --locked -q)
    echo "$BASE_REV" > "$BASE_DIR/.rev"
  fi
  BASE_BIN="$BASE_DIR/target/release/wasmcert"
fi
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
time_ms() { # command... -> median wall ms over RUNS, after 2 warm-ups
  for _ in 1 2; do "$@" >/dev/null 2>&1 || true; done
  for _ in $(seq "$RUNS"); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
  done | median
}
printf '%-22s %10s %10s %10s %8s %8s\n' component "base ms" "this ms" "w-t ms" "this/base" "this/w-t"
worst=0
for f in .ci/tools/components/*/*.wasm; do
  b=$(time_ms "$BASE_BIN" analyze --format json "$f")
  t=$(time_ms "$WC" analyze --format json "$f")
  w=$(time_ms "$WT" validate "$f")
  r=$(awk -v t="$t" -v b="$b" 'BEGIN{printf "%.2f", t/b}')
  rw=$(awk -v t="$t" -v w="$w" 'BEGIN{printf "%.2f", t/w}')
  printf '%-22s %10s %10s %10s %8sx %7sx\n' "$(basename "$f")" "$b" "$t" "$w" "$r" "$rw"
  worst=$(awk -v r="$r" -v w="$worst" 'BEGIN{print (r>w)?r:w}')
done
echo "worst this/base: ${worst}x (target <= 1.10x)"
