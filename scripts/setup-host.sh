#!/usr/bin/env bash
# Installs the Debian packages vmsight's lab guest and tests need (run as root, non-interactive).
# The package list lives in ONE place, LAB_HOST_PACKAGES in src/lab/host-tools.ts; this script reads
# it from there because CI runs it before `npm ci` (so `vmsight lab build --install`, which installs
# the same list, cannot run yet). With node_modules present it also builds the lab guest (cached
# under .vmsight/lab/), so the first test does not pay for it.
#   bash scripts/setup-host.sh            install (+ build when node_modules exists)
#   bash scripts/setup-host.sh --print    print the package names and exit
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(sed -n "s/^ *{ package: '\([a-z0-9.+-]*\)', tool: '[^']*' },\$/\1/p" src/lab/host-tools.ts)
if [ "${#packages[@]}" -eq 0 ]; then
  echo "setup-host.sh: cannot read LAB_HOST_PACKAGES from src/lab/host-tools.ts" >&2
  exit 1
fi
if [ "${1:-}" = "--print" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-host.sh: run as root, or run: apt-get update && apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -q
apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${packages[@]}"

if [ -d node_modules ]; then
  node bin/vmsight.js lab build
fi
