"""How much wall time a verdict costs over its floor, and where it goes.

Runs, side by side in one process: ``kernelwright eval --json --detail`` on a smoke candidate
whose build is already cached, and the floor — a bare ``python -c "import torch"`` plus the kernel
time that the verdict itself measured (the sum of the raw samples of the candidate). Each
repetition evaluates the candidate three ways, in turn:

- ``before``: baselines measured again (``--fresh-baseline``), every child started when its phase
  comes (``warm_workers = false``), every timing loop run to its count and wall-clock cap
  (``timing_precision = 0``): the verdict as it was before these were added;
- ``fresh``: baselines measured again, with warm workers and the precision rule;
- ``stored``: all of it, with the baselines from the baseline store.

Prints one row per evaluation (the ratio wall / floor and the time of each phase), then the
medians per mode and their ratios to ``before``.

    python bench/verdict_overhead.py [--task smoke/relu] [--candidate examples/smoke/cpu/relu.py] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("compile", "correctness", "timing", "baseline")
MODES: dict[str, tuple[list[str], dict[str, str]]] = {
    "before": (
        ["--fresh-baseline"],
        {"KERNELWRIGHT_WARM_WORKERS": "0", "KERNELWRIGHT_TIMING_PRECISION": "0"},
    ),
    "fresh": (["--fresh-baseline"], {}),
    "stored": ([], {}),
}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(
            f"command failed ({done.returncode}): {' '.join(argv)}\n{done.stderr[-2000:]}"
        )
    return wall, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="smoke/relu")
    parser.add_argument("--candidate", default=str(ROOT / "examples" / "smoke" / "cpu" / "relu.py"))
    parser.add_argument("--backend", default=None)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "kernelwright")
    eval_argv = [exe, "eval", args.candidate, "--task", args.task, "--json", "--detail"]
    if args.backend:
        eval_argv += ["--backend", args.backend]
    timed(eval_argv, dict(os.environ))  # warms the build cache and the torch.compile cache
    rows = []
    for _ in range(args.reps):
        for mode, (flags, settings) in MODES.items():
            env = {**os.environ, **settings}
            eval_wall, stdout = timed(eval_argv + flags, env)
            verdict = json.loads(stdout)
            import_wall, _ = timed([sys.executable, "-c", "import torch"], env)
            kernel_s = sum(verdict["timing"]["samples"]) / 1000.0
            phases = dict(verdict["extra"].get("phases", {}))
            loops = verdict["extra"].get("timing_loops") or []
            rows.append((mode, eval_wall, import_wall, kernel_s, verdict["status"], phases, loops))
    candidate = Path(args.candidate)
    shown = candidate.relative_to(ROOT) if candidate.is_relative_to(ROOT) else candidate
    print(f"task {args.task}  candidate {shown}  ({os.cpu_count()} CPUs)")
    phase_cols = " ".join(f"{p:>11}" for p in PHASES)
    print(
        f"{'rep':>3} {'mode':>6} {'status':>8} {'wall s':>7} {'floor s':>8} {'ratio':>6} "
        f"{phase_cols} {'samples':>12}"
    )
    ratios: dict[str, list[float]] = {mode: [] for mode in MODES}
    walls: dict[str, list[float]] = {mode: [] for mode in MODES}
    per_phase: dict[str, dict[str, list[float]]] = {m: {p: [] for p in PHASES} for m in MODES}
    for i, (mode, eval_wall, import_wall, kernel_s, status, phases, loops) in enumerate(rows):
        floor = import_wall + kernel_s
        ratios[mode].append(eval_wall / floor)
        walls[mode].append(eval_wall)
        for phase in PHASES:
            per_phase[mode][phase].append(float(phases.get(phase, 0.0)))
        cells = " ".join(f"{float(phases.get(p, 0.0)):>11.2f}" for p in PHASES)
        samples = "+".join(str(loop.get("samples")) for loop in loops)
        print(
            f"{i // len(MODES):>3} {mode:>6} {status:>8} {eval_wall:>7.2f} {floor:>8.2f} "
            f"{ratios[mode][-1]:>6.1f} {cells} {samples:>12}"
        )
    print()
    print(f"medians  {'mode':>6} {'wall s':>7} {'ratio':>6} {phase_cols} {'wall/before':>12}")
    before = statistics.median(walls["before"])
    for mode in MODES:
        wall = statistics.median(walls[mode])
        cells = " ".join(f"{statistics.median(per_phase[mode][p]):>11.2f}" for p in PHASES)
        print(
            f"{'':8} {mode:>6} {wall:>7.2f} {statistics.median(ratios[mode]):>6.1f} {cells} "
            f"{wall / before:>12.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
