"""The reward API (reward.py): each part of the formula from a real verdict on the Triton
interpreter, the speedup term on verdicts built by hand, infra errors that give no reward, and
batches that keep their order.

Only two candidates run in sandboxed children (a correct and a wrong ReLU), both in one
``reward_batch`` that their tests share; the others stop at the static guards, or never reach
the verifier (its ``evaluate`` stood in for).
"""

from __future__ import annotations

import json
import math
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import EXAMPLES

import kernelwright.reward as reward_module
import kernelwright.runs.bench as bench_module
from kernelwright.bench_tasks import TaskError, resolve_task
from kernelwright.reward import (
    CORRECT_REWARD,
    FAILED_REWARD,
    INCORRECT_REWARD,
    REJECTED_REWARD,
    SPEEDUP_LOG2_MAX,
    SPEEDUP_LOG2_MIN,
    BatchItem,
    Reward,
    RewardUnavailable,
    batch_jobs,
    reward,
    reward_batch,
    reward_value,
    speedup_term,
)
from kernelwright.runs.bench import worker_limit
from kernelwright.verifier import EvalOptions, Finding, TimingResult, Verdict

HAS_CUDA = torch.cuda.is_available()
TASK = "smoke/relu"
RELU = (EXAMPLES / "triton" / "relu.py").read_text()
# Stores x unchanged: builds, runs, and is wrong on every negative input.
WRONG = RELU.replace("tl.where(x < 0.0, 0.0, x)", "x")
# The arithmetic in plain torch, no kernel of the backend: a cheat the static guard rejects.
PLAIN_TORCH = '''"""ReLU in plain torch."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)
'''
SYNTAX_ERROR = RELU.replace("def forward(self, x", "def forward(self x")


def _options(cache_dir: Path, **overrides: Any) -> EvalOptions:
    """Small evaluations, as conftest's ``run_eval`` makes them: short budgets, one trial, one
    sampled config, no torch.compile baseline."""
    values: dict[str, Any] = {
        "timeout": 120.0,
        "rep_ms": 20.0,
        "warmup_ms": 5.0,
        "compile_baseline": False,
        "trials": 1,
        "sampled_configs": 1,
        "timing": False,
    }
    return EvalOptions(cache_dir=cache_dir, **{**values, **overrides})


def _verdict(status: str, speedup: float | None = None, meaningful: bool = True) -> Verdict:
    """A verdict built by hand: ``speedup`` over eager, timed as ``meaningful`` says."""
    timed = speedup is not None
    return Verdict(
        task=TASK,
        backend="triton",
        device="NVIDIA H200",
        status=status,
        timing=TimingResult(
            candidate_ms=1.0 if timed else None,
            eager_ms=speedup,
            samples=[1.0] if timed else [],
            meaningful=meaningful,
        ),
        speedup={"eager": speedup if timed and meaningful else None, "compile": None},
    )


@pytest.fixture(scope="module")
def batch(cache_dir: Path) -> Iterator[tuple[list[Reward], list[tuple[str, str]]]]:
    """The correct ReLU (timed) and the wrong one in one batch. Each evaluation waits at a
    barrier for the other before it starts, so both must be in flight at once."""
    ran: list[tuple[str, str]] = []  # (task, thread) of each evaluation that ran to its end
    barrier = threading.Barrier(2, timeout=60)
    real = reward_module.evaluate

    def evaluate(task: Any, source: str, backend: str, options: EvalOptions) -> Verdict:
        barrier.wait()
        verdict = real(task, source, backend, options)
        ran.append((verdict.status, threading.current_thread().name))
        return verdict

    items: list[BatchItem] = [(TASK, RELU, "triton"), (resolve_task(TASK), WRONG, "triton")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reward_module, "evaluate", evaluate)
        # Two at once even on a one-core machine.
        patch.setattr(bench_module, "worker_limit", lambda backend: (2, "two for this test"))
        rewards = reward_batch(items, options=_options(cache_dir, timing=True))
    yield rewards, ran


def test_correct_kernel(batch: tuple[list[Reward], Any]) -> None:
    result = batch[0][0]
    assert result.status == "correct", result.verdict.log
    assert result.correct and result.compiled
    assert result.violations == []
    # Timing ran: the interpreter's numbers exist but mean nothing, so no speedup term.
    assert result.verdict.timing.candidate_ms is not None
    if HAS_CUDA:
        assert result.speedup_meaningful and result.speedup is not None
        assert result.value == CORRECT_REWARD + speedup_term(result.speedup)
    else:
        assert result.speedup is None and result.speedup_meaningful is False
        assert result.value == CORRECT_REWARD == 1.0
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["value"] == result.value and data["verdict"]["status"] == "correct"


def test_wrong_kernel(batch: tuple[list[Reward], Any]) -> None:
    result = batch[0][1]
    assert result.status == "incorrect", result.verdict.log
    assert not result.correct and result.compiled
    assert result.value == INCORRECT_REWARD == 0.1
    assert result.speedup is None and result.violations == []


def test_batch_keeps_order_and_runs_both(batch: tuple[list[Reward], Any]) -> None:
    rewards, ran = batch
    assert [r.status for r in rewards] == ["correct", "incorrect"]
    assert [r.value for r in rewards] == [reward_value(r.verdict) for r in rewards]
    # Both evaluations passed the barrier together and ran to their end, on two threads.
    assert sorted(status for status, _ in ran) == ["correct", "incorrect"]
    assert len({thread for _, thread in ran}) == 2
    assert all("correctness" in r.verdict.extra["phases"] for r in rewards)


def test_plain_torch_is_rejected(cache_dir: Path) -> None:
    result = reward(TASK, PLAIN_TORCH, "triton", _options(cache_dir))
    assert result.status == "rejected", result.verdict.log
    assert result.value == REJECTED_REWARD == -1.0
    assert result.violations and all(isinstance(v, str) for v in result.violations)
    assert result.violations == [v.check for v in result.verdict.violations]
    assert not result.correct and not result.compiled


def test_syntax_error_with_the_users_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No options: the user's settings, as the CLI reads them (here: no config file).
    monkeypatch.setenv("KERNELWRIGHT_CONFIG", "/dev/null")
    monkeypatch.setenv("KERNELWRIGHT_CACHE_DIR", str(tmp_path))
    result = reward(TASK, SYNTAX_ERROR, "triton")
    assert result.status == "compile_error", result.verdict.log
    assert result.value == FAILED_REWARD == 0.0
    assert not result.compiled and result.violations == []


@pytest.mark.parametrize("status", ["compile_error", "runtime_error", "timeout", "crashed"])
def test_failures_are_worth_nothing(status: str) -> None:
    assert reward_value(_verdict(status)) == FAILED_REWARD


@pytest.mark.parametrize(
    ("speedup", "value"),
    [
        (0.25, CORRECT_REWARD + SPEEDUP_LOG2_MIN),  # log2 = -2, clipped
        (0.5, CORRECT_REWARD + SPEEDUP_LOG2_MIN),  # log2 = -1, clipped
        (1.0, 1.0),
        (2.0, 2.0),
        (100.0, CORRECT_REWARD + SPEEDUP_LOG2_MAX),  # log2 = 6.6, clipped
    ],
)
def test_speedup_term(speedup: float, value: float) -> None:
    verdict = _verdict("correct", speedup)
    verdict.flags.append(Finding("implausible_speedup", "flags never change the value"))
    result = Reward.of(verdict)
    assert result.value == pytest.approx(value)
    assert result.speedup == speedup and result.speedup_meaningful
    assert result.flags == ["implausible_speedup"]
    # Any correct kernel outranks any incorrect one.
    assert result.value is not None and result.value > INCORRECT_REWARD


def test_speedup_is_ignored_unless_meaningful() -> None:
    result = Reward.of(_verdict("correct", 4.0, meaningful=False))
    assert result.value == CORRECT_REWARD and result.speedup is None
    assert not result.speedup_meaningful
    for odd in (math.inf, math.nan, 0.0):
        assert reward_value(_verdict("correct", odd)) == CORRECT_REWARD


def _stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verifier replaced by one that answers by the source: infra, raise, else correct."""

    def evaluate(task: Any, source: str, backend: str, options: EvalOptions) -> Verdict:
        if source == "infra":
            verdict = _verdict("infra_error")
            verdict.log = "the sandbox could not start"
            return verdict
        if source == "raise":
            raise OSError("disk full")
        return _verdict("correct")

    monkeypatch.setattr(reward_module, "evaluate", evaluate)


def test_infra_error_gives_no_reward(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stand_in(monkeypatch)
    with pytest.raises(RewardUnavailable, match="the sandbox could not start") as caught:
        reward(TASK, "infra", "triton", _options(cache_dir))
    assert caught.value.verdict.status == "infra_error"
    with pytest.raises(RewardUnavailable, match="OSError: disk full") as raised:
        reward(TASK, "raise", "triton", _options(cache_dir))
    assert isinstance(raised.value.__cause__, OSError)
    assert reward_value(_verdict("infra_error")) is None


def test_batch_keeps_the_others_when_one_fails(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stand_in(monkeypatch)
    items = [(TASK, source, "triton") for source in ("ok", "infra", "raise", "ok")]
    rewards = reward_batch(items, jobs=1, options=_options(cache_dir))
    assert [r.status for r in rewards] == ["correct", "infra_error", "infra_error", "correct"]
    assert [r.value for r in rewards] == [CORRECT_REWARD, None, None, CORRECT_REWARD]
    assert "OSError: disk full" in rewards[2].verdict.log


def test_bad_input_raises_before_anything_runs(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stand_in(monkeypatch)
    with pytest.raises(TaskError):
        reward_batch([(TASK, "ok", "triton"), ("smoke/no_such_task", "ok", "triton")])
    with pytest.raises(ValueError, match="unknown backend"):
        reward(TASK, "ok", "no-such-backend", _options(cache_dir))
    with pytest.raises(ValueError, match="correctness"):
        reward(TASK, "ok", "triton", _options(cache_dir, compile_only=True))
    assert reward_batch([], options=_options(cache_dir)) == []


def test_batch_jobs_follow_the_bench_limit() -> None:
    limit = worker_limit("triton")[0]
    assert batch_jobs(["triton"]) == limit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert batch_jobs(["triton", "cpu"], jobs=limit + 1) == limit
    assert any("not" in str(w.message) for w in caught)
    with pytest.raises(ValueError):
        batch_jobs(["triton"], jobs=0)
