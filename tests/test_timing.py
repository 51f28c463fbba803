"""Timing: rotated input sets with their own references, budgets, and statistics."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EXAMPLES

from kernelwright.verifier import timing
from kernelwright.verifier.timing import summarize


def test_summarize_median_and_iqr() -> None:
    assert summarize([]) == (None, None)
    median, iqr = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert median == 3.0 and iqr is not None and 0 < iqr < 100


def test_clock_ids_change_when_a_timer_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    before = timing.clock_ids()
    monkeypatch.setattr(time, "perf_counter", lambda: 0.0)
    assert timing.clock_ids() != before


def test_task_with_parameters_is_timed_over_every_input_set(run_eval: Any) -> None:
    # Every timed call is spot-checked against the reference of its own input set, so the
    # sets must share the timed model's weights: a task with parameters shows if they don't.
    verdict = run_eval(
        EXAMPLES / "triton" / "bias_add_broadcast.py",
        "smoke/bias_add_broadcast",
        "triton",
        sampled_configs=0,
        trials=1,
    )
    assert verdict.status == "correct", verdict.log
    assert len(verdict.timing.samples) >= 3
