#!/usr/bin/env bash
# The main job on a machine with no key and no GPU: set up, let the agents write C++ kernels for
# two smoke tasks (refine: Coder, verifier, Judge for three rounds) with replies scripted in
# examples/agents/ instead of a model, store the run, show its lineage and print the leaderboard.
# With a key, swap the --model for a real one (README: "Agents").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
kw=.venv/bin/kernelwright
$kw doctor
$kw run --suite smoke --tasks relu,row_sum --backend cpu --strategy refine --rounds 3 \
  --model scripted:examples/agents/smoke_cpu_scripted.json --label scripted-agents
$kw runs show latest
$kw leaderboard --group-by label,backend
