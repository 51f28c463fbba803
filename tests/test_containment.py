"""A fault does not change the next verdict: crashing, hanging and memory-bombing candidates,
then an honest one, all evaluated in this one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES

HONEST = EXAMPLES / "cpu" / "relu.py"

CRASH = """
import ctypes
import torch.nn as nn
from torch.utils.cpp_extension import load_inline  # the cpu backend's marker; never reached

class ModelNew(nn.Module):
    def forward(self, x):
        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return x
"""

HANG = """
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

class ModelNew(nn.Module):
    def forward(self, x):
        while True:
            pass
"""

MEMORY_BOMB = """
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

class ModelNew(nn.Module):
    def forward(self, x):
        hoard = []
        while True:
            hoard.append(bytearray(b"\\1") * (64 << 20))  # written, so every page is resident
"""


@pytest.mark.slow
def test_faults_leave_the_next_verdict_clean(run_eval: Any, tmp_path: Path) -> None:
    options = {"sampled_configs": 0, "trials": 1, "rep_ms": 200.0, "warmup_ms": 20.0}
    # The faults run with the static allowlist off, so that each reaches its child.
    faulty = {**options, "static_checks": False}
    clean = run_eval(HONEST, "smoke/relu", "cpu", **options)
    assert clean.status == "correct", clean.log
    expected = {
        "crash": ("crashed", CRASH),
        "hang": ("timeout", HANG),
        "bomb": ("crashed", MEMORY_BOMB),
    }
    for name, (status, source) in expected.items():
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        verdict = run_eval(
            path, "smoke/relu", "cpu", timeout=15.0, memory_limit_bytes=1 << 30, **faulty
        )
        assert verdict.status == status, f"{name}: {verdict.status}: {verdict.log[:500]}"
    bomb_reason = verdict.log.splitlines()[0]
    assert "memory limit" in bomb_reason or "SIGKILL" in bomb_reason or "MemoryError" in bomb_reason
    after = run_eval(HONEST, "smoke/relu", "cpu", **options)
    assert after.status == "correct", after.log
    assert not after.violations
    # unstable_timing reports the machine (a busy shared runner), not the candidate or a
    # leftover of the faults; any other flag would be state the faults left behind.
    assert [f for f in after.flags if f.check != "unstable_timing"] == [], after.flags
    # Same kernel, same machine: the medians agree within the noise of a shared 2-core runner.
    ratio = after.timing.candidate_ms / clean.timing.candidate_ms
    assert 0.33 < ratio < 3.0, (clean.timing.candidate_ms, after.timing.candidate_ms)
