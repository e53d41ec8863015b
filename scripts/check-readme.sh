#!/usr/bin/env bash
# check-readme.sh: run the README's two commands exactly as printed (the first ```sh block
# after "## The two commands" is the main job, the second the test command) and check what a
# new user relies on. Run by .ci/run on a clean checkout.
#
#   scripts/check-readme.sh run     # the main job only
#   scripts/check-readme.sh test    # the test command only
set -euo pipefail
cd "$(dirname "$0")/.."
block() { # N-th ```sh block after the heading, joined into one command
  awk -v n="$1" '/^## The two commands/{on=1} on && /^```sh/{k++; if(k==n){inb=1; next}} inb && /^```/{exit} inb{print}' README.md
}
what="${1:-run}"
case "$what" in
  run)
    cmd="$(block 1)"
    [[ -n "$cmd" ]] || { echo "check-readme: no run command in README.md" >&2; exit 2; }
    echo "check-readme: \$ $cmd"
    out="$(mktemp)"; trap 'rm -f "$out"' EXIT
    set +e; bash -c "$cmd" >"$out"; code=$?; set -e
    cat "$out"
    # The embedded engine: a verdict first, no escape, no crash; exit 0 or 1 (its two
    # documented conformance failures), never 2 or a crash of wasmcert itself.
    [[ $code == 0 || $code == 1 ]] || { echo "check-readme: exit $code" >&2; exit 1; }
    head -1 "$out" | grep -q '^verdict ' || { echo "check-readme: output does not start with the verdict" >&2; exit 1; }
    grep -q '^  containment  0 escapes$' "$out" || { echo "check-readme: the embedded engine escaped" >&2; exit 1; }
    grep -q '^  stability    0 crashed or timed out$' "$out" || { echo "check-readme: the embedded engine crashed" >&2; exit 1; }
    echo "check-readme: run command ok (exit $code)"
    ;;
  test)
    cmd="$(block 2)"
    [[ -n "$cmd" ]] || { echo "check-readme: no test command in README.md" >&2; exit 2; }
    echo "check-readme: \$ $cmd"
    bash -c "$cmd"
    ;;
  *) echo "usage: check-readme.sh run|test" >&2; exit 2 ;;
esac
