#!/usr/bin/env bash
# Set up kernelwright on a fresh machine: bubblewrap for the sandbox (Debian, as root), a .venv
# with a CPU build of torch where no torch is present, and kernelwright with its dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing bubblewrap" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "setup: bubblewrap is missing; candidates will run at sandbox level 'process'" >&2
  fi
fi

# HIP for AMD GPUs, where asked (KERNELWRIGHT_WITH_HIP=1; the tests ask): Debian's hipcc and the
# ROCm device libraries, so the hip backend builds --compile-only without an AMD GPU.
if [ "${KERNELWRIGHT_WITH_HIP:-0}" = 1 ] && ! command -v hipcc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing hipcc and the ROCm device libraries" >&2
    # Optional: where the distribution has no hipcc, the hip backend shows as missing and its
    # tests are skipped with that reason; the rest of the setup goes on.
    { apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        hipcc rocm-device-libs >/dev/null; } ||
      echo "setup: could not install hipcc; the hip backend will show as missing" >&2
  else
    echo "setup: hipcc is missing; the hip backend will show as missing" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
py=.venv/bin/python
$py -m pip install -q --upgrade pip >/dev/null
# An unpinned torch would pull a multi-GB CUDA build; take the CPU build where none is present.
if ! $py -c "import torch" >/dev/null 2>&1; then
  $py -m pip install -q "torch==2.13.0"
fi
$py -m pip install -q -e ".[dev]"
echo "setup: done ($($py -c 'import torch, kernelwright; print("torch", torch.__version__, "kernelwright", kernelwright.__version__)'))" >&2
