#!/usr/bin/env bash
# make-wasi-testsuite-fixtures.sh: (re)make the pinned subset of upstream's prebuilt WASI
# testsuite that CI runs (tests/fixtures/wasi-testsuite/tests/, see its UPSTREAM file and
# docs/wasi-testsuite.md). CI cannot reach github.com, so the subset is committed.
#
# Usage:
#   scripts/make-wasi-testsuite-fixtures.sh UPSTREAM
#
#   UPSTREAM  a checkout (or `git archive`) of github.com/WebAssembly/wasi-testsuite at the
#             branch prod/testsuite-base. Its commits come from git, or from the environment:
#             UPSTREAM_COMMIT (prod/testsuite-base) and UPSTREAM_MAIN (the main commit it was
#             built from).
#
# Every module is upstream's with its DWARF debug sections removed (`wasm-tools strip`, which
# keeps `name` and `component-type`): the same code at a tenth of the size (a Rust test is
# 2-3 MB, 90% debug info). UPSTREAM records each original's sha256 next to the stripped one;
# SHA256SUMS covers every file written. The hand-written specs in
# tests/fixtures/wasi-testsuite/wasmcert/ are not touched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -eq 1 ]] || { sed -n '2,19p' "$0" >&2; exit 2; }
UPSTREAM="$(cd "$1" && pwd)"
OUT="$ROOT/tests/fixtures/wasi-testsuite"
WASM_TOOLS="${WASM_TOOLS:-$ROOT/.ci/tools/bin/wasm-tools}"
COMMIT="${UPSTREAM_COMMIT:-$(git -C "$UPSTREAM" rev-parse HEAD)}"
MAIN="${UPSTREAM_MAIN:-unknown}"

# The subset: every AssemblyScript and C test, and the Rust tests that exercise what the other
# tests do not (docs/wasi-testsuite.md says which feature each one covers).
AS=tests/assemblyscript/testsuite/wasm32-wasip1
C=tests/c/testsuite/wasm32-wasip1
P1=tests/rust/testsuite/wasm32-wasip1
P3=tests/rust/testsuite/wasm32-wasip3
TESTS=(
  $(cd "$UPSTREAM" && ls $AS/*.wasm $C/*.wasm)
  $P1/stdio.wasm $P1/fd_readdir.wasm $P1/sched_yield.wasm
  $P3/cli-env.wasm $P3/cli-exit.wasm $P3/cli-stdio-roundtrip.wasm $P3/cli-stdout-flush.wasm
  $P3/random.wasm $P3/filesystem-read-directory.wasm
  $P3/sockets-echo.wasm $P3/sockets-tcp-properties.wasm
  $P3/http-fields.wasm $P3/http-service-echo.wasm $P3/http-service-uri.wasm
  $P3/http-client.wasm $P3/http-client-chunked.wasm $P3/http-client-path.wasm
  $P3/http-client-send-errors.wasm
)
FIXTURES=($C/fs-tests.dir $P1/fs-tests.dir $P3/fs-tests.dir)

rm -rf "$OUT/tests"
mkdir -p "$OUT"
cp "$UPSTREAM/LICENSE" "$OUT/LICENSE"
{
  echo "source: https://github.com/WebAssembly/wasi-testsuite"
  echo "branch: prod/testsuite-base"
  echo "commit: $COMMIT"
  echo "built-from-main: $MAIN"
  echo "license: Apache-2.0 (LICENSE)"
  echo "modules: upstream's with DWARF debug sections removed by $("$WASM_TOOLS" --version | cut -d' ' -f1-2) strip"
  echo "         (scripts/make-wasi-testsuite-fixtures.sh); every other file is unmodified"
  echo
  echo "# sha256 upstream                                                   sha256 here                                                       path"
} > "$OUT/UPSTREAM"
for t in "${TESTS[@]}"; do
  d="$(dirname "$t")"; n="$(basename "$t" .wasm)"
  mkdir -p "$OUT/$d"
  "$WASM_TOOLS" strip "$UPSTREAM/$t" -o "$OUT/$t"
  echo "$(sha256sum < "$UPSTREAM/$t" | cut -c1-64) $(sha256sum < "$OUT/$t" | cut -c1-64) $t" >> "$OUT/UPSTREAM"
  [[ -f "$UPSTREAM/$d/$n.json" ]] && cp "$UPSTREAM/$d/$n.json" "$OUT/$d/$n.json"
  cp "$UPSTREAM/$d/manifest.json" "$OUT/$d/manifest.json"
done
for f in "${FIXTURES[@]}"; do
  cp -a "$UPSTREAM/$f" "$OUT/$f"
done
(cd "$OUT" && find LICENSE tests -type f | LC_ALL=C sort | xargs sha256sum) > "$OUT/SHA256SUMS"
echo "$OUT: $(find "$OUT/tests" -name '*.wasm' | wc -l) tests, $(du -sb "$OUT/tests" | cut -f1) bytes"
