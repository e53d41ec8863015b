#!/usr/bin/env bash
# bench-wasi-testsuite.sh: how fast `wasmcert certify --wasi-testsuite` runs upstream's WASI
# testsuite on the wasmtime CLI, against upstream's own reference runner on the same suites,
# binary and machine, compile caches warm. Prints both times and the ratio, for the wasip1
# suites and for everything, plus wasmcert's overhead per test over the bare runtime.
#
# Usage:
#   scripts/bench-wasi-testsuite.sh UPSTREAM [SUITES]
#
#   UPSTREAM  a checkout of github.com/WebAssembly/wasi-testsuite (test-runner/, adapters/)
#   SUITES    a directory with the suites below it (default: UPSTREAM/tests)
#
# Environment: PYTHON (>= 3.11 with requests and colorama; default python3), WASMTIME
# (default .ci/tools/bin/wasmtime), WASMCERT (default target/release/wasmcert, built if
# missing), RUNS (best of, default 3).
#
# Upstream's time is its runner as its README runs it: `wasi_test_runner.py -t SUITE... -r
# adapters/wasmtime.py`, sequential, in a fresh copy of the suites (it writes into fixtures).
# wasmcert's is `certify --runtime wasmtime --wasi-testsuite SUITES` with its default --jobs.
# Targets (docs/wasi-testsuite.md): wasip1 no slower than upstream, everything >= 3x faster.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 1 && $# -le 2 ]] || { sed -n '2,22p' "$0" >&2; exit 2; }
UPSTREAM="$(cd "$1" && pwd)"
SUITES="$(cd "${2:-$UPSTREAM/tests}" && pwd)"
PYTHON="${PYTHON:-python3}"
WASMTIME="$(realpath "${WASMTIME:-$ROOT/.ci/tools/bin/wasmtime}")"
WASMCERT="${WASMCERT:-$ROOT/target/release/wasmcert}"
RUNS="${RUNS:-3}"
[[ -x "$WASMTIME" ]] || { echo "error: no wasmtime at $WASMTIME" >&2; exit 2; }
"$PYTHON" -c 'import sys, requests, colorama; assert sys.version_info >= (3, 11)' 2>/dev/null \
  || { echo "error: $PYTHON is not Python >= 3.11 with requests and colorama" >&2; exit 2; }
[[ -x "$WASMCERT" ]] || (cd "$ROOT" && cargo build --release --locked -q)

WORK="$(mktemp -d /tmp/wasi-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# Each side keeps its own warm cache: upstream's wasmtime reads $XDG_CACHE_HOME, wasmcert's
# adapter points it at $WASMCERT_CACHE_DIR/wasmtime.
export WASMCERT_CACHE_DIR="$WORK/cache-wasmcert"
UP_CACHE="$WORK/cache-upstream"
mkdir -p "$UP_CACHE"

# The suite dirs (a manifest.json and tests in it), wasip1 ones apart.
mapfile -t ALL < <(cd "$SUITES" && find . -name manifest.json -printf '%h\n' | sort \
  | while read -r d; do compgen -G "$d/*.wasm" >/dev/null && echo "${d#./}"; done)
P1=()
for d in "${ALL[@]}"; do grep -q 'wasm32-wasip1' "$SUITES/$d/manifest.json" && P1+=("$d"); done

now() { date +%s.%N; }
# best WALL_TIME_OF_N: the fastest of $RUNS runs of "$@".
best() {
  local b=999999 s e t
  for _ in $(seq "$RUNS"); do
    s=$(now); "$@" >/dev/null 2>&1 || true; e=$(now)
    t=$(echo "$e - $s" | bc); (( $(echo "$t < $b" | bc) )) && b=$t
  done
  printf '%.2f' "$b"
}

upstream() { # upstream SUITE_DIR...: the reference runner on a fresh copy
  rm -rf "$WORK/copy" && mkdir "$WORK/copy"
  (cd "$SUITES" && tar -cf - "$@") | tar -xf - -C "$WORK/copy"
  (cd "$WORK/copy" && XDG_CACHE_HOME="$UP_CACHE" WASMTIME="$WASMTIME" "$PYTHON" \
    "$UPSTREAM/test-runner/wasi_test_runner.py" -t "$@" -r "$UPSTREAM/adapters/wasmtime.py" \
    --disable-colors)
}
wasmcert() { # wasmcert [certify options...]
  "$WASMCERT" certify --runtime wasmtime --runtime-path "$WASMTIME" --wasi-testsuite "$SUITES" "$@"
}

echo "suites:   $SUITES (${#ALL[@]} suites, ${#P1[@]} of them wasm32-wasip1)"
echo "runtime:  $("$WASMTIME" --version)"
echo "machine:  $(nproc) cores; best of $RUNS, compile caches warmed by one run each"
upstream "${ALL[@]}" >/dev/null 2>&1 || true
wasmcert >/dev/null 2>&1 || true

up1=$(best upstream "${P1[@]}")
wc1=$(best wasmcert --filter wasip1)
upa=$(best upstream "${ALL[@]}")
wca=$(best wasmcert)
printf '\n%-24s %10s %10s %8s\n' "" "upstream" "wasmcert" "ratio"
printf '%-24s %9ss %9ss %7.1fx\n' "wasm32-wasip1 suites" "$up1" "$wc1" "$(echo "$up1 / $wc1" | bc -l)"
printf '%-24s %9ss %9ss %7.1fx\n' "all suites" "$upa" "$wca" "$(echo "$upa / $wca" | bc -l)"

# Overhead per test: wasmcert with one job against the same command lines run bare from a
# shell loop (upstream's adapter's argv, a fresh fixture copy per test as wasmcert makes).
"$PYTHON" - "$SUITES" "$WASMTIME" "$WORK/bare" "${P1[@]}" > "$WORK/bare.sh" <<'EOF'
import json, shlex, sys
from pathlib import Path
suites, wasmtime, bare = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
n = 0
for d in sys.argv[4:]:
    for w in sorted((suites / d).glob("*.wasm")):
        spec = json.loads(w.with_suffix(".json").read_text()) if w.with_suffix(".json").exists() else {}
        argv = [wasmtime]
        for k, v in spec.get("env", {}).items():
            argv += ["--env", f"{k}={v}"]
        if spec.get("root"):
            root = f"{bare}/{n}"
            print(f"rm -rf {root}; cp -a {shlex.quote(str(w.parent / spec['root']))} {root}")
            argv += ["--dir", f"{root}::/"]
        argv += [str(w)] + spec.get("args", [])
        print(" ".join(shlex.quote(a) for a in argv) + " </dev/null >/dev/null 2>&1")
        n += 1
print(f"# {n}")
EOF
n=$(tail -1 "$WORK/bare.sh" | tr -dc 0-9)
mkdir -p "$WORK/bare"
XDG_CACHE_HOME="$WASMCERT_CACHE_DIR/wasmtime" bash "$WORK/bare.sh" || true
bare=$(XDG_CACHE_HOME="$WASMCERT_CACHE_DIR/wasmtime" best bash "$WORK/bare.sh")
wc1j=$(best wasmcert --filter wasip1 --jobs 1)
# Loading the suites and hashing every module and spec for the report's suite digest is a cost
# per run (about 1 s per GB of modules), not per test: measured apart.
load=$(best "$WASMCERT" suites list --wasi-testsuite "$SUITES" --filter wasip1)
printf '\n%s wasm32-wasip1 tests, one at a time: bare wasmtime loop %ss, wasmcert --jobs 1 %ss,\n' "$n" "$bare" "$wc1j"
printf 'of which loading and hashing the suites %ss\n' "$load"
# The runner's own cost per test, without the runtime's noise: the same tests on a "runtime"
# that is /bin/true (every test then fails its checks, which costs nothing), against a shell loop
# starting /bin/true as often.
cat > "$WORK/true.toml" <<'TOML'
name = "true"
program = "/bin/true"
command = ["{module}"]
[wasi_testsuite]
root = ["{host}"]
[wasi_testsuite.worlds]
"wasi:cli/command" = ["{version}", "{env}", "{root}", "{module}", "{args}"]
[wasi_testsuite.versions]
wasm32-wasip1 = []
[flags]
env = ["{key}={value}"]
TOML
truerun() { "$WASMCERT" certify --adapter "$WORK/true.toml" --wasi-testsuite "$SUITES" --filter wasip1 --jobs 1; }
trueloop() { for _ in $(seq "$n"); do /bin/true; done; }
tr=$(best truerun)
tl=$(best trueloop)
printf 'runner overhead per test: %.2f ms (the same tests on /bin/true: %ss, minus loading %ss and %s bare /bin/true %ss;\n' \
  "$(echo "($tr - $load - $tl) * 1000 / $n" | bc -l)" "$tr" "$load" "$n" "$tl"
printf 'the work dir with its module link, the fixture copy, the oracle snapshots, the process group)\n'
