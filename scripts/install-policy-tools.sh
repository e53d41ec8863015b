#!/usr/bin/env bash
# install-policy-tools.sh: install what the tests of `wasmcert check`'s integrations need, into
# .ci/tools/, from package registries only. Idempotent: when the pinned versions are installed
# it only checks them and exits.
#
#   .ci/tools/policy-venv/      PyPI pre-commit: runs .pre-commit-hooks.yaml for real
#                               (`pre-commit try-repo`) in tests/integrations.rs; PyPI regopy:
#                               the peer Rego interpreter of scripts/bench-policy.sh; PyPI
#                               prometheus-client: the independent parser of the webhook's
#                               /metrics (tests/webhook.rs, scripts/bench-webhook.sh)
#   .ci/tools/action-validator/ npm @action-validator/cli: validates action.yml against the
#                               GitHub Actions action schema (SchemaStore), offline
#
# Usage: scripts/install-policy-tools.sh   (PYTHON=python3.12 to pick another interpreter)
set -euo pipefail

# regopy (rego-cpp) is the peer Rego interpreter scripts/bench-policy.sh compares against.
# prometheus-client (the Prometheus project's Python client, pure Python) parses `serve`'s /metrics.
PIP_PKGS=("pre-commit==4.7.0" "regopy==1.5.2" "prometheus-client==0.26.0")
# The whole npm tree, pinned exactly (looked up with `npm view`).
NPM_PKGS=("@action-validator/cli@0.6.0" "@action-validator/core@0.6.0" "chalk@5.2.0")

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
VENV="$TOOLS/policy-venv"
NODE_PREFIX="$TOOLS/action-validator"
PY="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
mkdir -p "$TOOLS"

py_ok() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - "${PIP_PKGS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if version(name) != want:
        sys.exit(1)
import regopy  # noqa: F401  (the native library loads)
PY
}
if py_ok; then
  echo "install-policy-tools: pre-commit and regopy up to date ($VENV)"
else
  echo "install-policy-tools: installing ${PIP_PKGS[*]} into $VENV"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q "${PIP_PKGS[@]}"
  py_ok || { echo "install-policy-tools: the PyPI install did not check out" >&2; exit 1; }
fi

command -v node >/dev/null || { echo "install-policy-tools: node is not installed" >&2; exit 1; }
node_ok() {
  node - "$NODE_PREFIX" "${NPM_PKGS[@]}" <<'JS' 2>/dev/null
const fs = require("fs"), path = require("path");
const [prefix, ...pkgs] = process.argv.slice(2);
for (const spec of pkgs) {
  const at = spec.lastIndexOf("@");
  const name = spec.slice(0, at), want = spec.slice(at + 1);
  const pj = JSON.parse(fs.readFileSync(path.join(prefix, "node_modules", name, "package.json"), "utf8"));
  if (pj.version !== want) process.exit(1);
}
JS
}
if node_ok; then
  echo "install-policy-tools: action-validator up to date ($NODE_PREFIX)"
else
  echo "install-policy-tools: installing ${NPM_PKGS[*]} into $NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --save-exact --no-audit --no-fund --loglevel=error "${NPM_PKGS[@]}"
  node_ok || { echo "install-policy-tools: action-validator install did not check out" >&2; exit 1; }
fi
echo "install-policy-tools: ok"
