#!/usr/bin/env bash
# install-old-wasmtime.sh: install two wasmtime Python embeddings (PyPI `wasmtime`) into
# .ci/tools/, one venv each, for certifying the embedding through the `wasmtime-py` adapter
# (certify/adapters/wasmtime-py.toml + wasmtime-py.py, run by the venv's python):
#
#   .ci/tools/wasmtime-py-33/       wasmtime==33.0.0: before the fixes for the read-only
#                                   preopen advisories (GHSA-2r75-cxrj-cmph, GHSA-4ch3-9j33-3pmj)
#   .ci/tools/wasmtime-py-46/       wasmtime==46.0.1: with those fixes, still with DirPerms/FilePerms
#   .ci/tools/wasmtime-py-current/  the newest wasmtime on PyPI when this was written (pinned)
#
# From PyPI only (binary wheels; the native library ships inside the wheel). Idempotent: a
# second run with the same pins and interpreter only checks stamp files and exits.
#
# Usage: scripts/install-old-wasmtime.sh   (PYTHON=python3.12 to pick another interpreter)
# Then:  wasmcert certify --adapter certify/adapters/wasmtime-py-33.toml \
#          --runtime-path .ci/tools/wasmtime-py-33/bin/python
set -euo pipefail

# name → pip requirement (pinned; looked up with `pip index versions wasmtime`).
VENVS=(
  "wasmtime-py-33=wasmtime==33.0.0"
  "wasmtime-py-46=wasmtime==46.0.1"
  "wasmtime-py-current=wasmtime==50.0.1"
)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
PY="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
pyver() { "$1" -c 'import sys; print(sys.version)' 2>/dev/null || true; }

mkdir -p "$TOOLS"
for entry in "${VENVS[@]}"; do
  name="${entry%%=*}"
  req="${entry#*=}"
  venv="$TOOLS/$name"
  stamp="$venv/.installed"
  want="$(printf '%s\n%s' "$req" "$(pyver "$PY")")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]] \
      && "$venv/bin/python" -c 'import wasmtime' 2>/dev/null; then
    echo "$name: $req already installed"
    continue
  fi
  rm -f "$stamp"
  # (Re)create the venv if missing or made by another interpreter.
  [[ "$(pyver "$venv/bin/python")" == "$(pyver "$PY")" ]] || "$PY" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --only-binary=:all: "$req"
  # Smoke test: the native library loads and runs a module.
  "$venv/bin/python" -c 'import wasmtime; wasmtime.Module(wasmtime.Engine(), "(module)")'
  printf '%s' "$want" >"$stamp"
  echo "$name: $req installed in $venv"
done
