#!/usr/bin/env bash
# install-browser-tools.sh: what the browser test of the compatibility matrix needs
# (tests/matrix.rs -> scripts/test-matrix-browser.mjs): Debian's chromium (apt, when missing)
# and npm playwright-core pointed at it (playwright's own browser download is never used).
# Idempotent.
#
#   /usr/bin/chromium                 Debian package `chromium`
#   .ci/tools/playwright/             npm playwright-core (pinned)
set -euo pipefail
PW_VERSION="1.65.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.ci/tools/playwright"

if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-browser-tools: /usr/bin/chromium is missing; install Debian's chromium (needs root)" >&2
    exit 1
  fi
  echo "install-browser-tools: apt-get install chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
/usr/bin/chromium --version 2>/dev/null | head -1

have="$(node -p "require('$PREFIX/node_modules/playwright-core/package.json').version" 2>/dev/null || true)"
if [ "$have" == "$PW_VERSION" ]; then
  echo "install-browser-tools: playwright-core $PW_VERSION up to date ($PREFIX)"
else
  echo "install-browser-tools: installing playwright-core@$PW_VERSION into $PREFIX"
  mkdir -p "$PREFIX"
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the machine's chromium is used, nothing is downloaded.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$PREFIX" --save-exact --no-audit --no-fund \
    --loglevel=error "playwright-core@$PW_VERSION"
fi
echo "install-browser-tools: ok"
