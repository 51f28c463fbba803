"""Honest candidates must pass: every example in examples/smoke/{triton,cpu}/ is `correct` on the
smoke task of the same name, with no violations (no false alarms from the defences that
test_exploits.py checks). A few examples also run the timing phase, at the timing budgets a user
gets by default: shrunk budgets would hide false alarms that only longer loops provoke.

Evaluations run a few at a time in threads, as in test_exploits.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest
import torch
from prefetch import Prefetch, describe

from kernelwright.verifier import EvalOptions, Verdict

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "smoke"

# Correctness on the default config, the listed configs and one sampled config; no timing.
CHECK: dict[str, Any] = {"timing": False, "trials": 1, "sampled_configs": 1}
_DEFAULTS = {f.name: f.default for f in fields(EvalOptions)}
# Timed at the default warm-up and measurement budgets (conftest's run_eval shrinks them); the
# torch.compile baseline stays off, as it only adds time.
TIMED: dict[str, Any] = {
    "timing": True,
    "trials": 1,
    "sampled_configs": 1,
    "rep_ms": _DEFAULTS["rep_ms"],
    "warmup_ms": _DEFAULTS["warmup_ms"],
}
# The examples of each backend that are also timed.
# linear_relu has a backward pass: timed, its gradients must not pile up into torch arithmetic.
TIMED_EXAMPLES = {"triton": {"relu", "linear_relu"}, "cpu": {"relu", "bias_add_broadcast"}}
HAS_CUDA = torch.cuda.is_available()


@dataclass(frozen=True)
class Case:
    id: str
    path: Path
    task: str
    backend: str
    options: dict[str, Any] = field(default_factory=dict)


def _cases(backend: str) -> list[Any]:
    cases = []
    for path in sorted((EXAMPLES / backend).glob("*.py")):
        options = TIMED if path.stem in TIMED_EXAMPLES[backend] else CHECK
        case = Case(f"{backend}-{path.stem}", path, f"smoke/{path.stem}", backend, options)
        marks = [pytest.mark.slow] if backend == "cpu" else []
        cases.append(pytest.param(case, id=case.id, marks=marks))
    return cases


CASES = _cases("triton") + _cases("cpu")


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest, run_eval: Any) -> Iterator[Prefetch]:
    def run(case: Case) -> Verdict:
        return run_eval(case.path, case.task, case.backend, **case.options)

    prefetch = Prefetch(run)
    prefetch.start_module(request)
    yield prefetch
    prefetch.close()


def test_every_backend_has_examples() -> None:
    assert [c for c in CASES if c.values[0].backend == "triton"]
    assert [c for c in CASES if c.values[0].backend == "cpu"]
    timed = {
        (c.values[0].backend, c.values[0].path.stem) for c in CASES if c.values[0].options is TIMED
    }
    assert timed == {(b, name) for b, names in TIMED_EXAMPLES.items() for name in names}


@pytest.mark.parametrize("case", CASES)
def test_example_is_correct(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "correct", describe(verdict)
    assert verdict.correct and verdict.to_json()["correct"] is True
    assert verdict.violations == [], describe(verdict)
    assert verdict.correctness["trials"] >= 1
    # The Judge's "kernels launched per forward": every example launches its own kernels.
    assert verdict.extra.get("launches_per_forward", 0) >= 1, verdict.extra
    if case.options is not TIMED:
        return
    timing = verdict.timing
    assert timing.samples and all(s > 0 for s in timing.samples)
    assert timing.candidate_ms is not None and timing.candidate_ms > 0
    assert timing.eager_ms is not None and timing.eager_ms > 0
    if case.backend == "triton" and not HAS_CUDA:
        # The Triton interpreter on a CPU: timings are taken but mean nothing, and say so.
        assert timing.meaningful is False
        assert verdict.speedup == {"eager": None, "compile": None}
    else:
        assert timing.meaningful is True
        assert verdict.speedup["eager"] is not None and verdict.speedup["eager"] > 0
