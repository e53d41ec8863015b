#!/usr/bin/env bash
# bench-policy.sh: policy decision speed on a ready Analysis (targets: native <= 0.1 ms, Rego
# <= 2 ms per decision), side by side with the peer Rego interpreter regopy (PyPI; Microsoft's
# rego-cpp) evaluating the same baseline.rego on the same Analysis JSON, in one run.
#
# Every number is in process, per decision, after the policy is parsed and compiled once:
#   native   wasmcert-policy, policies/packs/baseline.toml
#   regorus  wasmcert-policy, policies/packs/baseline.rego (set input, eval deny and warn)
#   regopy   rego-cpp through regopy, the same .rego (set input, query deny and warn)
# The median of 21 batches is printed, and the ratio regorus / regopy (below 1: we are faster).
# Needs scripts/install-policy-tools.sh (regopy) and scripts/install-validators.sh (wasm-tools).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
PEER="$ROOT/.ci/tools/policy-venv/bin/python"
[[ -x "$PEER" ]] || { echo "bench-policy: run scripts/install-policy-tools.sh first" >&2; exit 2; }
cargo build --release --locked -q -p wasmcert-policy --example bench_policy
cargo build --release --locked -q
BENCH="$ROOT/target/release/examples/bench_policy"

# Inputs: a small command, a component with many interfaces, every preview1 function.
inputs=(policies/tests/fixtures/net-client.wat analyzer/tests/fixtures/component-wasi-p2.wat
        analyzer/tests/fixtures/preview1-all.wat)
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
printf '%-22s %10s %10s %10s %16s  %s\n' input native_us regorus_us regopy_us regorus/regopy decision
fail=0
for wat in "${inputs[@]}"; do
  name="$(basename "$wat" .wat)"
  "$ROOT/.ci/tools/bin/wasm-tools" parse "$wat" -o "$TMP/$name.wasm"
  "$ROOT/target/release/wasmcert" analyze --format json -o "$TMP/$name.json" "$TMP/$name.wasm"
  n=$("$BENCH" policies/packs/baseline.toml "$TMP/$name.json" 2000)
  r=$("$BENCH" policies/packs/baseline.rego "$TMP/$name.json" 200)
  p=$("$PEER" scripts/bench-regopy.py policies/packs/baseline.rego "$TMP/$name.json" 20)
  nu=$(field median_us <<<"$n"); ru=$(field median_us <<<"$r"); pu=$(field median_us <<<"$p")
  nd=$(field denied <<<"$n"); rd=$(field denied <<<"$r"); pd=$(field denied <<<"$p")
  [[ "$nd" == "$rd" && "$rd" == "$pd" ]] || { echo "bench-policy: decisions differ on $name: $nd $rd $pd" >&2; fail=1; }
  ratio=$(awk -v a="$ru" -v b="$pu" 'BEGIN { printf "%.3fx", a / b }')
  printf '%-22s %10s %10s %10s %16s  %s\n' "$name" "$nu" "$ru" "$pu" "$ratio" "$([[ $nd == true ]] && echo denied || echo allowed)"
  awk -v n="$nu" -v r="$ru" -v i="$name" 'BEGIN {
    if (n > 100) { printf "  MISS: native %s us > 100 us on %s\n", n, i }
    if (r > 2000) { printf "  MISS: rego %s us > 2000 us on %s\n", r, i } }'
done
echo "targets: native <= 100 us, Rego <= 2000 us per decision (one core, policy compiled once)"
exit "$fail"
