"""Does an agent run overlap its stages? A scripted run with artificial LLM latency, measured.

One ``run`` (refine, two rounds, several Triton tasks on this machine's interpreter) with a
scripted provider that waits ``--latency`` seconds per reply, so that LLM calls cost wall time
the way a real model's do. The scheduler sums each stage's busy time; the run's wall time is set
against (a) the sum of every stage's busy time, what a run that did one thing at a time would
take, and (b) the slowest stage's busy time per worker, what no schedule can beat. Both as
ratios, from the same run.

    python bench/pipeline_overlap.py [--latency 4] [--tasks relu,row_sum,softmax,layernorm]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def script(tasks: list[str], folder: Path) -> Path:
    """Replies for refine's two rounds per task: an example kernel, the Judge's advice, the same
    kernel again as a new candidate (a comment makes it one)."""
    replies: dict[str, list[str]] = {}
    advice = {
        "bottleneck": "launch overhead",
        "evidence": [{"metric": "candidate_ms", "value": 1.0}],
        "optimization": "larger blocks",
        "plan": ["retune"],
    }
    for task in tasks:
        source = (ROOT / "examples" / "smoke" / "triton" / f"{task}.py").read_text()
        replies[f"coder:smoke/{task}:r1"] = [f"```python\n{source}```\n"]
        replies[f"judge:smoke/{task}:r1"] = [json.dumps(advice)]
        replies[f"coder:smoke/{task}:r2"] = [f"```python\n{source}# round 2\n```\n"]
    path = folder / "script.json"
    path.write_text(json.dumps(replies))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=4.0, help="seconds per LLM reply")
    parser.add_argument("--tasks", default="relu,row_sum,softmax,layernorm")
    parser.add_argument("--tasks-at-once", type=int, default=4)
    args = parser.parse_args()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    folder = Path(tempfile.mkdtemp(prefix="kw-overlap-"))
    os.environ.update(
        KERNELWRIGHT_DB=f"sqlite:///{folder / 'runs.db'}",
        KERNELWRIGHT_CONFIG=os.devnull,
        KERNELWRIGHT_TRIALS="1",
        KERNELWRIGHT_SAMPLED_CONFIGS="0",
        KERNELWRIGHT_COMPILE_BASELINE="0",
        KERNELWRIGHT_REP_MS="20",
    )
    sys.path.insert(0, str(ROOT.parent))
    from kernelwright.agents.driver import AgentPlan, run_agents
    from kernelwright.agents.providers.scripted import ScriptedProvider
    from kernelwright.config import load_settings
    from kernelwright.runs.bench import worker_limit
    from kernelwright.runs.store import Store

    settings = load_settings()
    path = script(tasks, folder)
    provider = ScriptedProvider(path, latency_s=args.latency)
    device_workers, _ = worker_limit("triton")
    plan = AgentPlan(
        suite="smoke",
        backend="triton",
        model=f"scripted:{path}",
        strategy="refine",
        params={"rounds": 2},
        tasks=tuple(tasks),
        cache=False,
        llm_workers=4,
        tasks_at_once=args.tasks_at_once,
        jobs=device_workers,
    )
    started = time.perf_counter()
    with Store(os.environ["KERNELWRIGHT_DB"]) as store:
        outcome = run_agents(store, plan, settings.eval_options(), provider=provider)
    wall = time.perf_counter() - started
    stages = outcome.stage_times
    workers = {"llm": plan.llm_workers, "build": 0, "device": device_workers}
    print(
        f"{len(tasks)} tasks, refine x2, LLM latency {args.latency:g} s, {device_workers} device workers"
    )
    print(f"{'stage':8} {'jobs':>5} {'busy s':>8} {'workers':>8} {'busy/worker s':>14}")
    per_worker = {}
    for name in ("llm", "build", "device"):
        stage = stages[name]
        if not stage["jobs"]:
            continue
        per_worker[name] = stage["busy_s"] / max(1, workers[name])
        print(
            f"{name:8} {stage['jobs']:>5} {stage['busy_s']:>8.1f} {workers[name]:>8} "
            f"{per_worker[name]:>14.1f}"
        )
    total = sum(stages[name]["busy_s"] for name in ("llm", "build", "device"))
    slowest = max(per_worker.values())
    print(f"wall {wall:.1f} s; sum of stage times {total:.1f} s; slowest stage {slowest:.1f} s")
    print(f"wall / sum of stages   = {wall / total:.2f}  (1.00: no overlap at all)")
    print(f"wall / slowest stage   = {wall / slowest:.2f}  (1.00: as fast as any schedule can be)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
