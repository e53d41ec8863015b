#!/usr/bin/env bash
# seed-corpora.sh: seed fuzz/corpus/<target>/ from the test fixtures, so libFuzzer starts from
# real inputs: every .wat fixture (analyzer, policy, suites) compiled to .wasm, the shipped
# policies and template, WASI testsuite-style specs, and the committed signed bundles.
# Regression inputs (fuzz/regressions/<target>/) are added too. Idempotent; corpora are not
# committed (.gitignore). Needs wasm-tools (scripts/install-validators.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
C="$ROOT/fuzz/corpus"
WT="${WASM_TOOLS:-$ROOT/.ci/tools/bin/wasm-tools}"
[[ -x "$WT" ]] || WT="$(command -v wasm-tools)" || { echo "seed-corpora: wasm-tools not found" >&2; exit 2; }
mkdir -p "$C"/{analyze_bytes,analyze_smith,analyze_component,bundle_verify,policy_parse,wasi_testsuite_spec}

n=0
while IFS= read -r -d '' wat; do
  name="$(echo "${wat#"$ROOT"/}" | tr '/' '_')"
  if "$WT" parse "$wat" -o "$C/analyze_bytes/${name%.wat}.wasm" 2>/dev/null; then n=$((n + 1)); fi
done < <(find "$ROOT/analyzer/tests/fixtures" "$ROOT/policies/tests/fixtures" "$ROOT/suites" -name '*.wat' -print0)
# The generators read their choices from the input: fixtures are as good a start as any bytes.
cp "$C"/analyze_bytes/*.wasm "$C/analyze_smith/"
cp "$C"/analyze_bytes/*.wasm "$C/analyze_component/"

for f in "$ROOT"/policies/packs/*.toml "$ROOT/policies/template.toml"; do
  cp "$f" "$C/policy_parse/$(basename "$f")"
done
for f in "$ROOT"/reports/tests/data/*.sigstore.json "$ROOT"/docs/matrix/bundles/*.sigstore.json; do
  [[ -f "$f" ]] && cp "$f" "$C/bundle_verify/$(basename "$f")"
done
i=0
for spec in '{}' '{"args": ["a", "b"], "env": {"K": "V"}, "exit_code": 3}' \
            '{"dirs": ["fixture"], "stdout": "hi\n"}' '{"root": "r", "stderr": ""}' \
            '{"operations": [{"type": "run"}]}' '{"dirs": ["../up"]}'; do
  printf '%s' "$spec" > "$C/wasi_testsuite_spec/seed-$i.json"; i=$((i + 1))
done
if [[ -d "$ROOT/fuzz/regressions" ]]; then
  for d in "$ROOT"/fuzz/regressions/*/; do
    t="$(basename "$d")"; mkdir -p "$C/$t"; cp "$d"* "$C/$t/" 2>/dev/null || true
  done
fi
echo "seed-corpora: $n modules; $(ls "$C/policy_parse" | wc -l) policies; $(ls "$C/bundle_verify" | wc -l) bundles; $i specs -> $C"
