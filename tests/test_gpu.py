"""Defences that need an NVIDIA GPU: side streams (E07) and sticky device faults (F07).

Skipped with a reason on machines without one; scripts/device_check.sh runs them on a GPU.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EXAMPLES, TESTS

pytestmark = pytest.mark.gpu


def test_side_stream_work_is_timed(run_eval: Any) -> None:
    options = {"sampled_configs": 0, "trials": 1, "rep_ms": 50.0}
    honest = run_eval(
        TESTS / "honest" / "E07_same_stream_twin.py", "smoke/relu", "triton", **options
    )
    side = run_eval(TESTS / "exploits" / "E07_side_stream.py", "smoke/relu", "triton", **options)
    assert honest.status == "correct", honest.log
    assert side.status == "correct", side.log  # the output is right; only the timing is at stake
    assert honest.timing.candidate_ms and side.timing.candidate_ms
    # The device-wide synchronize before the end event puts the side stream's work in the time.
    assert side.timing.candidate_ms > 0.5 * honest.timing.candidate_ms


def test_l2_persistence_is_reset_before_timed_calls(run_eval: Any) -> None:
    # Written for E15 and marked gpu; it needs an NVIDIA GPU with persisting-L2 support.
    options = {"sampled_configs": 0, "trials": 1, "rep_ms": 50.0}
    honest = run_eval(EXAMPLES / "triton" / "relu.py", "smoke/relu", "triton", **options)
    pinned = run_eval(
        TESTS / "exploits" / "E15_l2_persistence.py", "smoke/relu", "triton", **options
    )
    assert honest.status == "correct" and pinned.status == "correct", pinned.log
    assert pinned.extra.get("l2_reset") == {"available": True, "failed": 0}
    # With the persisting lines dropped before every call, pinning buys nothing measurable.
    assert pinned.timing.candidate_ms and honest.timing.candidate_ms
    assert pinned.timing.candidate_ms > 0.7 * honest.timing.candidate_ms


def test_illegal_address_then_an_honest_kernel(run_eval: Any) -> None:
    fault = run_eval(
        TESTS / "faults" / "F07_illegal_address.py",
        "smoke/relu",
        "triton",
        sampled_configs=0,
        trials=1,
        timing=False,
    )
    assert fault.status in ("runtime_error", "crashed"), fault.log
    assert fault.extra.get("device_health") == "ok"
    after = run_eval(
        EXAMPLES / "triton" / "relu.py", "smoke/relu", "triton", sampled_configs=0, trials=1
    )
    assert after.status == "correct", after.log
    assert after.timing.meaningful and after.speedup["eager"] is not None


def test_cuda_example_with_l2_reset_and_roofline(run_eval: Any) -> None:
    verdict = run_eval(
        EXAMPLES / "cuda" / "bias_add_broadcast.py", "smoke/bias_add_broadcast", "cuda"
    )
    assert verdict.status == "correct", verdict.log
    work = verdict.extra.get("work", {})
    assert work.get("bytes", 0) > 0 and work.get("roofline_ms", 0) > 0
    assert not any(f.check == "beyond_roofline" for f in verdict.flags)
    assert verdict.extra.get("l2_reset") == {"available": True, "failed": 0}
