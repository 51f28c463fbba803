"""An honest candidate stays `correct` on a loaded host: the C++ relu example, evaluated five times
in a row at the default timing budgets while another process keeps a core busy, gets `correct`
every time. Only statuses are checked: under load the timings themselves are expected to move.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from prefetch import describe

from kernelwright.verifier import EvalOptions

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "smoke" / "cpu" / "relu.py"
RUNS = 5
_DEFAULTS = {f.name: f.default for f in fields(EvalOptions)}

# Spins on the CPU; ends by itself if the test process dies without killing it.
SPINNER = """
import os
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(200000):
        pass
"""


@pytest.fixture
def busy_core() -> Iterator[subprocess.Popen[bytes]]:
    """A python child spinning on one core for the duration of the test; always killed."""
    proc = subprocess.Popen([sys.executable, "-I", "-c", SPINNER], stdin=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_relu_stays_correct_under_load(busy_core: subprocess.Popen[bytes], run_eval: Any) -> None:
    statuses = []
    for n in range(RUNS):
        assert busy_core.poll() is None, "the busy process ended before the evaluations did"
        verdict = run_eval(
            EXAMPLE,
            "smoke/relu",
            "cpu",
            timing=True,
            rep_ms=_DEFAULTS["rep_ms"],
            warmup_ms=_DEFAULTS["warmup_ms"],
        )
        statuses.append(verdict.status)
        assert verdict.status == "correct", f"run {n + 1} of {RUNS}: {describe(verdict)}"
    assert statuses == ["correct"] * RUNS
    assert busy_core.poll() is None, "the busy process ended before the evaluations did"
