#!/usr/bin/env bash
# install-verifiers.sh: install the two independent verifiers of wasmcert's signed
# bundles (Sigstore bundle v0.3, DSSE envelope, in-toto Statement v1) into .ci/tools/,
# from package registries only (PyPI and npm). Idempotent: when the pinned versions
# are already installed it only checks them and exits (well under a second).
#
#   .ci/tools/verifiers-venv/  Python venv with securesystemslib (+ cryptography)
#                              -> scripts/verify-bundle-securesystemslib.py
#   .ci/tools/node/            npm prefix with @sigstore/verify and its peers
#                              -> scripts/verify-bundle-sigstore.mjs
#
# Usage: scripts/install-verifiers.sh   (PYTHON=python3.12 to pick another interpreter)
# Both verifiers: VERIFIER BUNDLE PUBKEY_PEM [EXPECTED_SUBJECT_SHA256]
set -euo pipefail

# Pinned versions (looked up with `pip index versions` / `npm view`).
PIP_PKGS=(
  "securesystemslib==1.6.0"
  "cryptography==50.0.2"
)
# @sigstore/verify 4.x needs node ^22.22.2 || ^24.15 || >=26; 3.1.1 is the newest
# line that supports node 20 (^20.17.0 || >=22.9.0), which is what this machine has.
# Every package of the tree is pinned exactly (these four are the whole tree).
NPM_PKGS=(
  "@sigstore/verify@3.1.1"
  "@sigstore/bundle@4.0.0"
  "@sigstore/core@3.2.1"
  "@sigstore/protobuf-specs@0.5.2"
)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
VENV="$TOOLS/verifiers-venv"
NODE_PREFIX="$TOOLS/node"
PY="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
mkdir -p "$TOOLS"

# --- Python: securesystemslib ---------------------------------------------------
py_ok() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - "${PIP_PKGS[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if version(name) != want:
        sys.exit(1)
import securesystemslib.dsse, securesystemslib.signer  # noqa: F401  (imports work)
EOF
}
if py_ok; then
  echo "install-verifiers: securesystemslib venv up to date ($VENV)"
else
  echo "install-verifiers: installing ${PIP_PKGS[*]} into $VENV"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q "${PIP_PKGS[@]}"
  py_ok || { echo "install-verifiers: securesystemslib install did not check out" >&2; exit 1; }
fi

# --- Node: @sigstore/verify -------------------------------------------------------
command -v node >/dev/null || { echo "install-verifiers: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
node_ok() {
  node - "$NODE_PREFIX" "${NPM_PKGS[@]}" <<'EOF' 2>/dev/null
const fs = require("fs"), path = require("path");
const [prefix, ...pkgs] = process.argv.slice(2);
for (const spec of pkgs) {
  const at = spec.lastIndexOf("@");
  const name = spec.slice(0, at), want = spec.slice(at + 1);
  const pj = JSON.parse(fs.readFileSync(path.join(prefix, "node_modules", name, "package.json"), "utf8"));
  if (pj.version !== want) process.exit(1);
}
EOF
}
if node_ok; then
  echo "install-verifiers: @sigstore/verify up to date ($NODE_PREFIX)"
else
  NODE_V="$(node -p 'process.versions.node')"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=17)?0:1)' \
    || { echo "install-verifiers: node $NODE_V is too old for @sigstore/verify 3.1.1 (needs ^20.17.0 || >=22.9.0)" >&2; exit 1; }
  echo "install-verifiers: installing ${NPM_PKGS[*]} into $NODE_PREFIX (node $NODE_V)"
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --save-exact --engine-strict --no-audit --no-fund \
    --loglevel=error "${NPM_PKGS[@]}"
  node_ok || { echo "install-verifiers: @sigstore/verify install did not check out" >&2; exit 1; }
fi
echo "install-verifiers: ok"
