#!/usr/bin/env bash
# The README's first command: on a fresh Debian machine, set vmsight up and run its main job on the
# embedded default — the bundled lab guest (a real Debian kernel under QEMU) and the ADFA-LD dataset:
#   1. host packages (apt, as root) and npm dependencies;
#   2. build the lab guest and boot it; list its processes from outside, through guest memory only;
#   3. evaluate the system-call anomaly detectors on ADFA-LD under the standard protocol;
#   4. power the guest off.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/setup-host.sh
else
  echo "quickstart: not root, so host packages are not installed; the lab build names any that are missing" >&2
fi
npm ci --no-audit --no-fund
vmsight() { node bin/vmsight.js "$@"; }

vmsight lab build
vmsight lab up --name quickstart
trap 'vmsight lab down --name quickstart >/dev/null 2>&1 || true' EXIT
vmsight lab status
echo "== the guest's processes, rebuilt from its memory (symbols from its BTF and kallsyms)"
vmsight ps --vm quickstart --pause --tree

dataset="${VMSIGHT_ADFA_LD:-../shared/datasets/adfa-ld}"
if [ -d "$dataset/Training_Data_Master" ]; then
  echo "== system-call anomaly detection on ADFA-LD ($dataset)"
  vmsight eval --dataset adfa-ld "$dataset" --model all --plot .vmsight/quickstart-roc.svg
else
  echo "quickstart: ADFA-LD not found at $dataset (set VMSIGHT_ADFA_LD); skipping the evaluation" >&2
fi
vmsight lab down --name quickstart
trap - EXIT
