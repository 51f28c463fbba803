#!/usr/bin/env bash
# The main job on a machine with no key and no GPU: set up, evaluate the shipped example kernels
# on the smoke suite as stored runs (C++ on the CPU; Triton on its interpreter), print the
# verdicts and the leaderboard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
kw=.venv/bin/kernelwright
$kw doctor
$kw bench examples/smoke/cpu --suite smoke --backend cpu --label cpu-examples
$kw bench examples/smoke/triton --suite smoke --backend triton --label triton-examples
$kw leaderboard --group-by label,backend
