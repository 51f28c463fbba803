"""False alarms: how often an honest example gets a verdict other than `correct`.

Evaluates every honest example (examples/smoke/cpu and examples/smoke/triton; examples/smoke/cuda
too where a GPU is present) on the smoke task of the same name, ``--reps`` times, at the budgets a
user gets by default (EvalOptions' defaults, torch.compile baseline included unless
``--no-compile-baseline``). ``--load N`` keeps N busy processes spinning on the CPU meanwhile, as
a loaded host would. Prints a table of statuses and candidate medians per repetition, the number
of verdicts that were not `correct`, and for each of them its first log line and violations.
Exits 1 when any verdict is not `correct`.

    python bench/false_alarms.py [--reps 3] [--load N] [--backend cpu] [--only relu] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke"
BACKENDS = ("cpu", "triton", "cuda")
DEFAULT_CACHE = Path.home() / ".cache" / "kernelwright-bench"
# More spinners than this per core only measures the scheduler.
MAX_LOAD_PER_CPU = 4

# A pure CPU spinner that also ends by itself once its parent is gone (even after a SIGKILL).
SPINNER = """
import os, signal
signal.signal(signal.SIGINT, signal.SIG_DFL)
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(200000):
        pass
"""


@dataclass(frozen=True)
class Example:
    backend: str
    name: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.backend}/{self.name}"

    @property
    def task(self) -> str:
        return f"smoke/{self.name}"


@dataclass
class Row:
    backend: str
    example: str
    task: str
    rep: int
    status: str
    candidate_ms: float | None = None
    eager_ms: float | None = None
    compile_ms: float | None = None
    wall_s: float = 0.0
    first_log_line: str = ""
    violations: list[dict[str, str]] = field(default_factory=list)
    flags: list[dict[str, str]] = field(default_factory=list)


def examples(backends: list[str], only: list[str]) -> list[Example]:
    found = []
    for backend in backends:
        for path in sorted((EXAMPLES / backend).glob("*.py")):
            if not only or path.stem in only:
                found.append(Example(backend, path.stem, path))
    return found


def available_backends() -> list[str]:
    import torch

    return [b for b in BACKENDS if b != "cuda" or torch.cuda.is_available()]


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def busy_processes(count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` CPU spinners for the duration of the block; always killed when it ends."""
    spinners: list[subprocess.Popen[bytes]] = []
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for _ in range(count):
            spinners.append(
                subprocess.Popen([sys.executable, "-I", "-c", SPINNER], stdin=subprocess.DEVNULL)
            )
        yield spinners
    finally:
        for proc in spinners:
            if proc.poll() is None:
                proc.kill()
        for proc in spinners:
            proc.wait()
        signal.signal(signal.SIGTERM, previous)


def evaluate_one(example: Example, rep: int, options: Any) -> Row:
    from kernelwright.bench_tasks import resolve_task
    from kernelwright.verifier import evaluate

    started = time.perf_counter()
    try:
        verdict = evaluate(
            resolve_task(example.task), example.path.read_text(), example.backend, options
        )
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a verifier bug is a non-correct result too, and is reported
        return Row(
            example.backend,
            example.name,
            example.task,
            rep,
            "exception",
            wall_s=time.perf_counter() - started,
            first_log_line=f"{type(exc).__name__}: {exc}".splitlines()[0][:300],
        )
    timing = verdict.timing
    return Row(
        example.backend,
        example.name,
        example.task,
        rep,
        verdict.status,
        candidate_ms=timing.candidate_ms,
        eager_ms=timing.eager_ms,
        compile_ms=timing.compile_ms,
        wall_s=time.perf_counter() - started,
        first_log_line=(verdict.log.splitlines() or [""])[0][:300],
        violations=[asdict(v) for v in verdict.violations],
        flags=[asdict(f) for f in verdict.flags],
    )


def _cell(row: Row | None) -> str:
    if row is None:
        return "-"
    if row.candidate_ms is None:
        return row.status
    return f"{row.status} {row.candidate_ms:.4g}"


def print_report(found: list[Example], reps: int, rows: list[Row], header: str) -> None:
    print(header)
    by_key = {(r.backend, r.example, r.rep): r for r in rows}
    width = max([len(e.label) for e in found] + [len("candidate")])
    cells = {
        (e.label, rep): _cell(by_key.get((e.backend, e.name, rep)))
        for e in found
        for rep in range(1, reps + 1)
    }
    col = max([len(c) for c in cells.values()] + [len(f"rep {reps}")])
    print("status and candidate median ms per repetition")
    heads = "  ".join(f"{f'rep {r}':<{col}}" for r in range(1, reps + 1))
    print(f"{'candidate':<{width}}  {heads}".rstrip())
    for e in found:
        line = "  ".join(f"{cells[(e.label, r)]:<{col}}" for r in range(1, reps + 1))
        print(f"{e.label:<{width}}  {line}".rstrip())
    bad = [r for r in rows if r.status != "correct"]
    print(f"\nnot correct: {len(bad)} of {len(rows)} verdicts")
    for r in bad:
        print(f"  {r.backend}/{r.example} rep {r.rep}: {r.status}: {r.first_log_line}")
        for v in r.violations:
            print(f"      violation {v['check']}: {v['detail']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="evaluations of each example")
    parser.add_argument(
        "--load", type=int, default=0, metavar="N", help="busy processes spinning meanwhile"
    )
    parser.add_argument(
        "--backend", action="append", choices=BACKENDS, help="only this backend (repeatable)"
    )
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="only the example NAME (repeatable)"
    )
    parser.add_argument(
        "--no-compile-baseline",
        action="store_true",
        help="skip the torch.compile baseline (faster; it does not decide the status)",
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    max_load = MAX_LOAD_PER_CPU * (os.cpu_count() or 1)
    if not 0 <= args.load <= max_load:
        parser.error(f"--load must be between 0 and {max_load} on this host")

    from kernelwright.verifier import EvalOptions

    usable = available_backends()
    wanted = args.backend or usable
    skipped = [b for b in wanted if b not in usable]
    if skipped:
        parser.error(f"backend(s) {', '.join(skipped)} need a GPU, and none is present")
    found = examples(wanted, args.only or [])
    if not found:
        parser.error("no example matches --backend/--only")
    total = len(found) * args.reps
    header = (
        f"{len(found)} examples x {args.reps} reps, load {args.load} busy process(es) on "
        f"{os.cpu_count()} CPUs, compile baseline {'off' if args.no_compile_baseline else 'on'}"
    )
    print(header, file=sys.stderr)
    rows: list[Row] = []
    interrupted = False
    with busy_processes(args.load) as spinners:
        try:
            # Repetition-major, so the repetitions of one example are spread over the run.
            for rep in range(1, args.reps + 1):
                for example in found:
                    options = EvalOptions(
                        cache_dir=args.cache_dir,
                        compile_baseline=not args.no_compile_baseline,
                    )
                    row = evaluate_one(example, rep, options)
                    rows.append(row)
                    ms = "" if row.candidate_ms is None else f" {row.candidate_ms:.4g} ms"
                    alive = sum(p.poll() is None for p in spinners)
                    print(
                        f"[{len(rows)}/{total}] {example.label} rep {rep}: {row.status}{ms} "
                        f"({row.wall_s:.1f} s, {alive}/{args.load} busy)",
                        file=sys.stderr,
                        flush=True,
                    )
        except KeyboardInterrupt:
            interrupted = True
            print("interrupted: reporting what finished", file=sys.stderr)
    bad = sum(r.status != "correct" for r in rows)
    if args.json:
        report = {
            "reps": args.reps,
            "load": args.load,
            "cpus": os.cpu_count(),
            "compile_baseline": not args.no_compile_baseline,
            "interrupted": interrupted,
            "verdicts": len(rows),
            "not_correct": bad,
            "rows": [asdict(r) for r in rows],
        }
        print(json.dumps(report, indent=2))
    else:
        print_report(found, args.reps, rows, header)
    if interrupted:
        return 130
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
