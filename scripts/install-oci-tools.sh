#!/usr/bin/env bash
# install-oci-tools.sh: a real OCI registry and a pusher for the OCI and webhook tests
# (tests/oci.rs, tests/webhook.rs): Debian's `docker-registry` (distribution 2.8, started by
# the tests on 127.0.0.1 only, never as a service) and `skopeo`. Also `wrk` for the webhook
# load test (scripts/bench-webhook.sh). Idempotent; needs root to install.
set -euo pipefail
PKGS=(docker-registry skopeo wrk)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  if [ "$(id -u)" != 0 ]; then
    echo "install-oci-tools: missing ${missing[*]}; install them with apt-get (needs root)" >&2
    exit 1
  fi
  echo "install-oci-tools: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi
# The package may start its own service where an init system runs; the tests start their own
# on a free loopback port, so a system one is harmless but stopped if it is there.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi
echo "install-oci-tools: ok ($(/usr/bin/docker-registry --version 2>&1 | head -1); $(skopeo --version); $(wrk --version 2>&1 | head -1))"
