#!/usr/bin/env bash
# build.sh: OSS-Fuzz style build of every fuzz target (the project's entry for an OSS-Fuzz
# `projects/wasmcert/build.sh`). In OSS-Fuzz, $SRC holds the checkout and $OUT receives the
# binaries; the sanitizer and flags come from the environment OSS-Fuzz sets for `cargo fuzz`.
# Locally it builds into target/oss-fuzz-out/:
#
#   fuzz/build.sh            # cargo +nightly fuzz build -O, then copy every target to $OUT
#
# Each target gets a seed corpus zip from fuzz/seed-corpora.sh when wasm-tools is installed
# (`<target>_seed_corpus.zip`, the name OSS-Fuzz looks for).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/target/oss-fuzz-out}"
mkdir -p "$OUT"
if [[ -n "${SRC:-}" ]]; then
  # OSS-Fuzz's base-builder-rust puts `cargo fuzz` on a nightly toolchain already.
  cargo fuzz build -O --debug-assertions
else
  cargo +nightly fuzz build -O --debug-assertions
fi
BIN="$ROOT/target/x86_64-unknown-linux-gnu/release"
targets=()
for f in fuzz/fuzz_targets/*.rs; do
  t="$(basename "${f%.rs}")"
  cp "$BIN/$t" "$OUT/$t"
  targets+=("$t")
done
if command -v zip >/dev/null && { [[ -d fuzz/corpus ]] || fuzz/seed-corpora.sh >/dev/null 2>&1; }; then
  for t in "${targets[@]}"; do
    [[ -d "fuzz/corpus/$t" ]] || continue
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "fuzz/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  done
fi
echo "build.sh: ${#targets[@]} targets in $OUT: ${targets[*]}"
