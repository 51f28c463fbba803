"""How much wall time a verdict costs over its floor.

Runs, side by side in one process: ``kernelwright eval --json`` on a smoke candidate whose build is
already cached, and the floor — a bare ``python -c "import torch"`` plus the kernel time that the
verdict itself measured (the sum of the raw samples of the candidate). Each repetition evaluates
twice, once with ``--fresh-baseline`` (eager and torch.compile measured again, as every verdict
did before the baseline store) and once with the stored baselines. Prints the ratio wall / floor
per repetition and the medians of both.

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
    env = dict(os.environ)
    exe = str(Path(sys.executable).parent / "kernelwright")
    eval_argv = [exe, "eval", args.candidate, "--task", args.task, "--json"]
    if args.backend:
        eval_argv += ["--backend", args.backend]
    timed(eval_argv, env)  # warms the build cache and the torch.compile cache
    rows = []
    for _ in range(args.reps):
        for mode, extra in (("fresh", ["--fresh-baseline"]), ("stored", [])):
            eval_wall, stdout = timed(eval_argv + extra, env)
            verdict = json.loads(stdout)
            import_wall, _ = timed([sys.executable, "-c", "import torch"], env)
            timing = verdict["timing"]
            kernel_s = sum(timing["samples"]) / 1000.0
            rows.append((mode, eval_wall, import_wall, kernel_s, verdict["status"]))
    print(
        f"task {args.task}  candidate {Path(args.candidate).relative_to(ROOT) if Path(args.candidate).is_relative_to(ROOT) else args.candidate}"
    )
    print(
        f"{'rep':>3} {'baselines':>9} {'status':>8} {'eval wall s':>12} {'import torch s':>15} {'kernel s':>9} {'floor s':>8} {'ratio':>7}"
    )
    ratios: dict[str, list[float]] = {"fresh": [], "stored": []}
    for i, (mode, eval_wall, import_wall, kernel_s, status) in enumerate(rows):
        floor = import_wall + kernel_s
        ratios[mode].append(eval_wall / floor)
        print(
            f"{i // 2:>3} {mode:>9} {status:>8} {eval_wall:>12.2f} {import_wall:>15.2f} {kernel_s:>9.3f} {floor:>8.2f} {ratios[mode][-1]:>7.1f}"
        )
    fresh, stored = statistics.median(ratios["fresh"]), statistics.median(ratios["stored"])
    print(f"median ratio eval / floor: {fresh:.1f}x with fresh baselines, {stored:.1f}x stored")
    print(f"stored / fresh wall: {stored / fresh:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
