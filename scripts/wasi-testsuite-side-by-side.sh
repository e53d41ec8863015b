#!/usr/bin/env bash
# wasi-testsuite-side-by-side.sh: run upstream's reference runner and wasmcert on the same WASI
# testsuite with the same wasmtime CLI, and print every test on which their verdicts differ.
#
# Usage:
#   scripts/wasi-testsuite-side-by-side.sh UPSTREAM [SUITES]
#
#   UPSTREAM  a checkout of github.com/WebAssembly/wasi-testsuite (its test-runner/ and
#             adapters/ are used; e.g. the branch prod/testsuite-base, which also holds the
#             prebuilt tests)
#   SUITES    a suite directory, or a directory with suites below it (default: UPSTREAM/tests)
#
# Environment:
#   PYTHON    Python >= 3.11 with `requests` and `colorama` (default: python3)
#   WASMTIME  the wasmtime CLI both runners use (default: .ci/tools/bin/wasmtime, from
#             scripts/install-validators.sh)
#   WASMCERT  the wasmcert binary (default: target/release/wasmcert, built if missing)
#   OUT       directory for the results (default: a temp dir, printed)
#   RERUNS    second opinions: how many more times the reference runs a test it disagrees on
#             (default 5)
#
# The reference runs every test in a fresh suite directory of its own (manifest.json, the
# .wasm, the .json and a copy of each *.dir fixture, symlinks kept), as upstream's CI does
# (tools/run_wasi_test.py): in place, tests leave `*.cleanup` symlinks behind that fail later
# tests. Verdicts compared: pass, fail (any failing wasmcert outcome) and skip (wasmcert's
# not-supported). No expectations file on either side. A disagreement gets a second opinion:
# the reference runs that test RERUNS more times, and if it gives wasmcert's verdict in one of
# them, its verdict on that test is not deterministic: the test is listed apart, not counted.
# Exit status: 0 when they agree on every test, 1 otherwise, 2 on a usage error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 1 && $# -le 2 ]] || { sed -n '2,29p' "$0" >&2; exit 2; }
UPSTREAM="$(cd "$1" && pwd)"
SUITES="$(cd "${2:-$UPSTREAM/tests}" && pwd)"
PYTHON="${PYTHON:-python3}"
WASMTIME="$(realpath "${WASMTIME:-$ROOT/.ci/tools/bin/wasmtime}")"
WASMCERT="${WASMCERT:-$ROOT/target/release/wasmcert}"
RERUNS="${RERUNS:-5}"
[[ -f "$UPSTREAM/test-runner/wasi_test_runner/test_suite_runner.py" ]] \
  || { echo "error: $UPSTREAM has no test-runner/ (not a wasi-testsuite checkout)" >&2; exit 2; }
[[ -x "$WASMTIME" ]] || { echo "error: no wasmtime at $WASMTIME (scripts/install-validators.sh)" >&2; exit 2; }
"$PYTHON" -c 'import sys, requests, colorama; assert sys.version_info >= (3, 11)' 2>/dev/null \
  || { echo "error: $PYTHON is not Python >= 3.11 with requests and colorama" >&2; exit 2; }
if [[ ! -x "$WASMCERT" ]]; then
  (cd "$ROOT" && cargo build --release --locked -q)
fi
OUT="${OUT:-$(mktemp -d /tmp/wasi-side-by-side-XXXXXX)}"
mkdir -p "$OUT"

echo "upstream:  $UPSTREAM ($(git -C "$UPSTREAM" rev-parse HEAD 2>/dev/null || echo 'not a git checkout'))"
echo "suites:    $SUITES"
echo "runtime:   $("$WASMTIME" --version)"
echo "results:   $OUT"

# 1. The reference runner, one fresh suite dir per test. `reference.py UPSTREAM SUITES OUT.json
#    [NAME...]`: only the tests of those names, $RERUNS times each when names are given.
cat > "$OUT/reference.py" <<'PY'
import json, os, shutil, sys, tempfile, time
from pathlib import Path

upstream, suites, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
only = set(sys.argv[4:])
runs = int(os.environ.get("RERUNS", "1")) if only else 1
sys.path.insert(0, str(upstream / "test-runner"))
from wasi_test_runner.filters import UnsupportedWasiTestExcludeFilter  # noqa: E402
from wasi_test_runner.runtime_adapter import RuntimeAdapter  # noqa: E402
from wasi_test_runner.test_suite_runner import run_tests_from_test_suite  # noqa: E402

runtime = RuntimeAdapter(str(upstream / "adapters" / "wasmtime.py"))
dirs = [suites] if (suites / "manifest.json").exists() or list(suites.glob("*.wasm")) else \
    sorted(p.parent for p in suites.rglob("manifest.json"))
results, t0 = {}, time.time()
for sdir in dirs:
    for wasm in sorted(sdir.glob("*.wasm")):
        if only and wasm.stem not in only:
            continue
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="wasi-ref-") as tmp:
                t = Path(tmp)
                if (sdir / "manifest.json").exists():
                    shutil.copy2(sdir / "manifest.json", t / "manifest.json")
                shutil.copy2(wasm, t / wasm.name)
                if wasm.with_suffix(".json").exists():
                    shutil.copy2(wasm.with_suffix(".json"), t / (wasm.stem + ".json"))
                for d in sdir.glob("*.dir"):
                    shutil.copytree(d, t / d.name, symlinks=True)
                suite = run_tests_from_test_suite(str(t), runtime, [], [UnsupportedWasiTestExcludeFilter()])
                for tc in suite.test_cases:
                    r = results.setdefault(f"{suite.meta.name}\t{tc.name}", {"verdicts": []})
                    r["verdicts"].append({"pass": "pass", "skip": "skip"}.get(tc.outcome.value, "fail"))
                    r["verdict"] = r["verdicts"][0]
                    r.setdefault("why", " | ".join(f.message for f in tc.result.failures)[:400])
json.dump({"runtime": str(runtime.get_meta()), "wall_s": round(time.time() - t0, 1),
           "tests": results}, open(out, "w"), indent=1)
PY
WASMTIME="$WASMTIME" "$PYTHON" "$OUT/reference.py" "$UPSTREAM" "$SUITES" "$OUT/reference.json"

# 2. wasmcert, the same suites and binary.
set +e
"$WASMCERT" certify --runtime wasmtime --runtime-path "$WASMTIME" --wasi-testsuite "$SUITES" \
  --format json -o "$OUT/wasmcert.json"
rc=$?
set -e
[[ $rc -le 1 ]] || { echo "error: wasmcert exited $rc" >&2; exit 2; }

# 3. Side by side, with second opinions on disagreements.
WASMTIME="$WASMTIME" RERUNS="$RERUNS" "$PYTHON" - "$OUT" "$UPSTREAM" "$SUITES" "$PYTHON" <<'PY'
import json, re, subprocess, sys
from collections import defaultdict

out, upstream, suites, python = sys.argv[1:5]
ref = json.load(open(f"{out}/reference.json"))
ours = json.load(open(f"{out}/wasmcert.json"))

def category(name):
    # wasmcert's case category: the manifest name, [A-Za-z0-9._+-] kept, lower-cased, runs
    # of anything else one `-` (certify/src/testsuite/mod.rs `sanitize`).
    return re.sub(r"[^a-z0-9._+-]+", "-", name.lower()).strip("-") or "wasi-testsuite"

def test_id(name):
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-")

verdict = {"pass": "pass", "not-supported": "skip"}
mine_of, per_suite, seen = {}, defaultdict(lambda: [0, 0]), set()
for key in ref["tests"]:
    suite, name = key.split("\t")
    cid = f"{category(suite)}/{test_id(name)}"
    seen.add(cid)
    c = ours["cases"].get(cid)
    mine_of[key] = (c, verdict.get(c["outcome"], "fail") if c else "missing")
    per_suite[suite][0] += 1
differ = sorted(k for k, r in ref["tests"].items() if mine_of[k][1] != r["verdict"])
again = {}
if differ:
    subprocess.run([python, f"{out}/reference.py", upstream, suites, f"{out}/reference-reruns.json",
                    *sorted({k.split("\t")[1] for k in differ})], check=True)
    again = json.load(open(f"{out}/reference-reruns.json"))["tests"]
disagree, flaky = [], []
for key in differ:
    suite, name = key.split("\t")
    r, (c, mine) = ref["tests"][key], mine_of[key]
    votes = [r["verdict"]] + again.get(key, {}).get("verdicts", [])
    line = (f"  {suite} :: {name}: reference {'/'.join(votes)}, wasmcert {mine}"
            f" ({c['outcome'] if c else 'no such case'})"
            f"\n      reference: {r['why'][:300] or '-'}\n      wasmcert:  {(c or {}).get('why', '')[:300] or '-'}")
    if mine in votes:
        flaky.append(line)
    else:
        per_suite[suite][1] += 1
        disagree.append(line)
extra = sorted(set(ours["cases"]) - seen)
print(f"\nreference: {ref['runtime']}, {len(ref['tests'])} tests, {ref['wall_s']} s (isolated, sequential)")
print(f"wasmcert:  {ours['runtime']['name']} {ours['runtime']['version']}, {len(ours['cases'])} cases")
print("\nsuite                                         tests  disagreements")
for suite, (n, d) in sorted(per_suite.items()):
    print(f"{suite:45} {n:5}  {d:5}")
total = sum(d for _, d in per_suite.values()) + len(extra)
print(f"{'total':45} {sum(n for n, _ in per_suite.values()):5}  {total:5}")
if disagree:
    print("\ndisagreements:")
    print("\n".join(disagree))
if flaky:
    print("\nnot deterministic in the reference (a rerun gave wasmcert's verdict; not counted):")
    print("\n".join(flaky))
for e in extra:
    print(f"  wasmcert has a case the reference did not run: {e}")
sys.exit(1 if total else 0)
PY
