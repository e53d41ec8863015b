#!/usr/bin/env bash
# action-check.sh: the `Check` step of action.yml. Runs `wasmcert check` with the inputs (one
# per line in WASMCERT_PATHS, WASMCERT_POLICY, WASMCERT_RUNTIME_REPORTS), prints the readable
# summary to the job log (WASMCERT_ATTESTATIONS adds signed analyses, one per line), writes
# the SARIF log to WASMCERT_SARIF (when set), and records the
# outcome in $GITHUB_OUTPUT (`exit`, `allowed`, `sarif-written`) instead of failing, so the
# SARIF upload still runs for a denied build; the action's last step fails the job.
# tests/integrations.rs runs this script with a real wasmcert.
set -uo pipefail
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set (this runs inside a GitHub Actions step)}"

lines() { while IFS= read -r l; do l="${l#"${l%%[![:space:]]*}"}"; l="${l%"${l##*[![:space:]]}"}"; [[ -n "$l" ]] && printf '%s\n' "$l"; done <<< "$1"; }

args=()
while IFS= read -r p; do args+=(--policy "$p"); done < <(lines "${WASMCERT_POLICY:-pack:baseline}")
while IFS= read -r r; do args+=(--runtime-report "$r"); done < <(lines "${WASMCERT_RUNTIME_REPORTS:-}")
while IFS= read -r a; do args+=(--attestation "$a"); done < <(lines "${WASMCERT_ATTESTATIONS:-}")
paths=()
while IFS= read -r p; do paths+=("$p"); done < <(lines "${WASMCERT_PATHS:-}")
if (( ${#paths[@]} == 0 )); then
  echo "::error::wasmcert: the paths input is empty"
  { echo "exit=2"; echo "allowed=false"; echo "sarif-written=false"; } >> "$GITHUB_OUTPUT"
  exit 0
fi

wasmcert check "${args[@]}" "${paths[@]}"
code=$?
written=false
if [[ -n "${WASMCERT_SARIF:-}" ]]; then
  # Never upload a log left by an earlier run.
  rm -f "$WASMCERT_SARIF"
  # Same inputs, same decision; exit 1 (denied) still writes the log.
  wasmcert check --quiet --format sarif --output "$WASMCERT_SARIF" "${args[@]}" "${paths[@]}" 2>/dev/null
  [[ -s "$WASMCERT_SARIF" ]] && written=true
fi
allowed=false
(( code == 0 )) && allowed=true
{ echo "exit=$code"; echo "allowed=$allowed"; echo "sarif-written=$written"; } >> "$GITHUB_OUTPUT"
exit 0
