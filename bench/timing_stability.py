"""Timing stability: how much the medians of repeated evaluations of one candidate vary.

For each of a few C++ examples (examples/smoke/cpu), runs ``--evals`` evaluations on the smoke
task of the same name at the default budgets, measuring eager again each time (no torch.compile
baseline), and prints the candidate and eager medians of every evaluation with their coefficient
of variation (sample standard deviation / mean, in %). Exits 1 when any verdict is not `correct`.

    python bench/timing_stability.py [--examples matmul relu softmax] [--evals 5] [--precision P] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke" / "cpu"
DEFAULT_CACHE = Path.home() / ".cache" / "kernelwright-bench"
DEFAULT_EXAMPLES = ("matmul", "relu", "softmax")


@dataclass
class Series:
    example: str
    task: str
    statuses: list[str] = field(default_factory=list)
    candidate_ms: list[float] = field(default_factory=list)
    eager_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    samples: list[int] = field(default_factory=list)  # timed calls of every loop, per evaluation
    candidate_cv_pct: float | None = None
    eager_cv_pct: float | None = None


def cv_pct(values: list[float]) -> float | None:
    """Sample standard deviation over mean, in percent; None below two values."""
    if len(values) < 2 or statistics.fmean(values) == 0:
        return None
    return 100.0 * statistics.stdev(values) / statistics.fmean(values)


def _fmt_ms(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g} ms"


def _fmt_cv(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def run_series(
    name: str, evals: int, cache_dir: Path, done: int, total: int, precision: float | None
) -> Series:
    from kernelwright.bench_tasks import resolve_task
    from kernelwright.verifier import EvalOptions, evaluate
    from kernelwright.verifier.timing import Budget

    path = EXAMPLES / f"{name}.py"
    series = Series(name, f"smoke/{name}")
    source = path.read_text()
    for n in range(1, evals + 1):
        started = time.perf_counter()
        verdict = evaluate(
            resolve_task(series.task),
            source,
            "cpu",
            EvalOptions(
                cache_dir=cache_dir,
                fresh_baseline=True,
                compile_baseline=False,
                precision=Budget.precision if precision is None else precision,
            ),
        )
        series.samples.append(
            sum(loop["samples"] for loop in verdict.extra.get("timing_loops", []))
        )
        series.statuses.append(verdict.status)
        timing = verdict.timing
        if verdict.status != "correct":
            first = (verdict.log.splitlines() or [""])[0][:300]
            series.problems.append(f"evaluation {n}: {verdict.status}: {first}")
        elif timing.candidate_ms is None or timing.eager_ms is None:
            series.problems.append(f"evaluation {n}: no median ({timing.note or 'no note'})")
        else:
            series.candidate_ms.append(timing.candidate_ms)
            series.eager_ms.append(timing.eager_ms)
        print(
            f"[{done + n}/{total}] cpu/{name} evaluation {n}: {verdict.status} "
            f"candidate {_fmt_ms(timing.candidate_ms)}, eager {_fmt_ms(timing.eager_ms)} "
            f"({time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
    series.candidate_cv_pct = cv_pct(series.candidate_ms)
    series.eager_cv_pct = cv_pct(series.eager_ms)
    return series


def print_report(results: list[Series], evals: int, precision: float | None) -> None:
    rule = "the default" if precision is None else f"{precision:g}"
    print(
        f"medians of {evals} evaluations per example (ms), eager re-measured each time, "
        f"timing precision {rule}"
    )
    for s in results:
        print(f"cpu/{s.example} on {s.task}")
        print(
            f"  candidate  cv {_fmt_cv(s.candidate_cv_pct):>7}  "
            + " ".join(f"{v:.4g}" for v in s.candidate_ms)
        )
        print(
            f"  eager      cv {_fmt_cv(s.eager_cv_pct):>7}  "
            + " ".join(f"{v:.4g}" for v in s.eager_ms)
        )
        print(f"  samples    per evaluation: {' '.join(str(n) for n in s.samples)}")
        for problem in s.problems:
            print(f"  {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples",
        nargs="+",
        default=list(DEFAULT_EXAMPLES),
        metavar="NAME",
        help="examples of examples/smoke/cpu (names, or one comma-separated list)",
    )
    parser.add_argument("--evals", type=int, default=5, help="evaluations of each example")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--precision",
        type=float,
        default=None,
        help="timing_precision of every evaluation (0: every loop runs to its count and cap)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    names = [n for item in args.examples for n in item.split(",") if n]
    missing = [n for n in names if not (EXAMPLES / f"{n}.py").is_file()]
    if missing:
        parser.error(f"no example {', '.join(missing)} in {EXAMPLES.relative_to(ROOT)}")
    if args.evals < 1:
        parser.error("--evals must be at least 1")
    results: list[Series] = []
    for i, name in enumerate(names):
        results.append(
            run_series(
                name,
                args.evals,
                args.cache_dir,
                i * args.evals,
                len(names) * args.evals,
                args.precision,
            )
        )
    if args.json:
        print(json.dumps({"evals": args.evals, "examples": [asdict(s) for s in results]}, indent=2))
    else:
        print_report(results, args.evals, args.precision)
    return 1 if any(s.problems for s in results) else 0


if __name__ == "__main__":
    sys.exit(main())
