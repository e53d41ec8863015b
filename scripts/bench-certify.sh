#!/usr/bin/env bash
# bench-certify.sh: the two speed targets of `wasmcert certify`, measured side by side.
#
#   1. the whole built-in suite on the embedded engine: wall time (target <= 5 s on 2 cores);
#   2. runner overhead on a CLI runtime: `wasmcert certify --runtime wasmtime --jobs 1` over N
#      identical trivial cases versus invoking `wasmtime run` on the same module N times in a
#      bare shell loop (target: ratio <= 1.10, i.e. <= 10 % overhead per case).
#
# Usage: scripts/bench-certify.sh [N]   (N cases for the overhead run, default 40)
# Needs the wasmtime CLI: scripts/install-validators.sh puts it in .ci/tools/bin.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${1:-40}"
WC="$ROOT/target/release/wasmcert"
[[ -x "$WC" ]] || cargo build --release --locked -q
export PATH="$ROOT/.ci/tools/bin:$PATH"
command -v wasmtime >/dev/null || { echo "wasmtime CLI not found: run scripts/install-validators.sh" >&2; exit 2; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

echo "== bench-certify: $(date -u +%FT%TZ), nproc $(nproc)"
echo "wasmcert: $("$WC" --version)   wasmtime: $(wasmtime --version)"

# 1. Whole built-in suite on the embedded engine (best of 3; the first run fills caches).
best=999999
for _ in 1 2 3; do
  t0=$(now); "$WC" certify --format json --output "$TMP/embedded.json" || true; t1=$(now)
  t=$(ms "$t0" "$t1"); (( t < best )) && best=$t
done
cases=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["suite"]["cases"])' "$TMP/embedded.json")
verdict=$([[ $best -le 5000 ]] && echo PASS || echo FAIL)
printf 'embedded: %d cases in %d ms  [%s, target <= 5000 ms]\n' "$cases" "$best" "$verdict"

# 2. Runner overhead per case against a bare loop on the same module. Per-case cost is the
#    marginal cost: (time for 3N cases - time for N cases) / 2N, which leaves out the fixed
#    start-up of each side (wasmcert hashes the 70 MB runtime binary once per run, for the
#    report's identity).
make_suite() { # DIR COUNT
  for i in $(seq -w 1 "$2"); do
    d="$1/bench/case-$i"; mkdir -p "$d"
    cat > "$d/module.wat" <<'WAT'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 6))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
WAT
    printf 'summary = "bench"\n[expect]\nexit_code = 0\nstdout = "hello\\n"\n' > "$d/case.toml"
  done
}
N3=$((3 * N))
make_suite "$TMP/s1" "$N"; make_suite "$TMP/s3" "$N3"
"$ROOT/.ci/tools/bin/wasm-tools" parse "$TMP/s1/bench/case-$(printf '%0*d' ${#N} 1)/module.wat" -o "$TMP/module.wasm"
mkdir -p "$TMP/cwd"
bare() { # COUNT -> ms (best of 3)
  local best=999999 t0 t1 t
  for _ in 1 2 3; do
    t0=$(now)
    for _i in $(seq 1 "$1"); do (cd "$TMP/cwd" && wasmtime run -W timeout=10000ms "$TMP/module.wasm" </dev/null >/dev/null); done
    t1=$(now); t=$(ms "$t0" "$t1"); (( t < best )) && best=$t
  done
  echo "$best"
}
cert() { # SUITE -> ms (best of 3)
  local best=999999 t0 t1 t
  for _ in 1 2 3; do
    t0=$(now); "$WC" certify --runtime wasmtime --suite "$1" --jobs 1 --format json --output "$TMP/cli.json"; t1=$(now)
    t=$(ms "$t0" "$t1"); (( t < best )) && best=$t
  done
  echo "$best"
}
b1=$(bare "$N"); b3=$(bare "$N3"); c1=$(cert "$TMP/s1"); c3=$(cert "$TMP/s3")
read -r bare_case cert_case ratio < <(awk -v b1="$b1" -v b3="$b3" -v c1="$c1" -v c3="$c3" -v n="$N" 'BEGIN {
  b = (b3 - b1) / (2 * n); c = (c3 - c1) / (2 * n); printf "%.2f %.2f %.2f\n", b, c, c / b }')
verdict=$([[ $(awk -v r="$ratio" 'BEGIN { print (r <= 1.10) }') == 1 ]] && echo PASS || echo FAIL)
printf 'wasmtime CLI, jobs 1: bare loop %s ms/case (%d cases %d ms, %d cases %d ms)\n' "$bare_case" "$N" "$b1" "$N3" "$b3"
printf '                      wasmcert  %s ms/case (%d cases %d ms, %d cases %d ms)\n' "$cert_case" "$N" "$c1" "$N3" "$c3"
printf 'runner overhead per case: ratio %sx  [%s, target <= 1.10x]\n' "$ratio" "$verdict"
