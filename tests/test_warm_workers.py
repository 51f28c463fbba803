"""Children started ahead of their phase: each one imports torch while the phase before it runs,
then serves exactly one phase of one candidate, and one whose phase never comes is killed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES

from kernelwright.verifier import sandbox
from kernelwright.verifier.channel import Endpoint

# Imports what the channel needs and says so, reads the first stdin line (result name and reply
# fd), waits for its job, answers, lingers.
WAITER = """
import os, time
import torch
from kernelwright.verifier.channel import Endpoint
open("waiting", "w").close()
line = b""
while not line.endswith(b"\\n"):
    line += os.read(0, 1)
name, fd = line.split()
channel = Endpoint(0, int(fd), trusted=True)
job = channel.recv()
channel.send({"echo": job["n"], "pid": os.getpid()})
time.sleep(job["linger"])
"""


def _start(tmp_path: Path, level: str = "process") -> sandbox.StartedChild:
    return sandbox.start_child(
        [sys.executable, "-c", WAITER],
        scratch=tmp_path,
        level=level,
        limits=sandbox.Limits(wall_s=60.0),
        env={"PATH": os.environ.get("PATH", "/usr/bin")},
        stdin_data=b"r-x.pt\n",
    )


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _waiting(scratch: Path) -> None:
    """Until the child has imported torch and waits for its job (however busy the machine)."""
    deadline = time.monotonic() + 300
    while not (scratch / "waiting").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_child_started_ahead_gets_its_wall_limit_from_the_handover(tmp_path: Path) -> None:
    child = _start(tmp_path)
    _waiting(tmp_path)
    time.sleep(2.0)  # longer than the phase's limit below: the wait must not count
    replies: list[Any] = []

    def talk(endpoint: Endpoint) -> None:
        endpoint.send({"n": 7, "linger": 0.2})
        replies.append(endpoint.recv(timeout=30))

    result = child.finish(talk, wall_s=1.5)
    assert replies and replies[0]["echo"] == 7
    assert not result.timed_out and result.returncode == 0, result.log
    assert result.wall_s < 1.5


def test_the_wall_limit_still_holds_after_the_handover(tmp_path: Path) -> None:
    child = _start(tmp_path)

    def talk(endpoint: Endpoint) -> None:
        endpoint.send({"n": 1, "linger": 60})
        endpoint.recv(timeout=30)

    result = child.finish(talk, wall_s=1.0)
    assert result.timed_out
    assert not _alive(child.pid)


def test_a_discarded_child_is_gone_with_its_group(tmp_path: Path) -> None:
    child = _start(tmp_path)
    assert _alive(child.pid)
    child.discard()
    assert not _alive(child.pid)
    child.discard()  # a second discard is harmless
    with pytest.raises(sandbox.SandboxError):
        child.finish(None)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[sandbox.StartedChild]:
    """Every child the evaluation starts, to look at after it returned."""
    seen: list[sandbox.StartedChild] = []
    real = sandbox.start_child

    def recording(*args: Any, **kwargs: Any) -> sandbox.StartedChild:
        child = real(*args, **kwargs)
        seen.append(child)
        return child

    monkeypatch.setattr(sandbox, "start_child", recording)
    return seen


def _levels() -> list[str]:
    return ["process", "bwrap"] if sandbox.bwrap_status()[0] else ["process"]


@pytest.mark.parametrize("level", _levels())
def test_correctness_and_timing_run_in_children_started_ahead(
    run_eval: Any, started: list[sandbox.StartedChild], level: str
) -> None:
    verdict = run_eval(EXAMPLES / "triton" / "relu.py", "smoke/relu", "triton", sandbox=level)
    assert verdict.status == "correct", verdict.log
    assert verdict.extra["started_ahead"] == ["correctness", "timing"]
    # One process per phase (compile, correctness, timing, and the baselines' unless stored):
    # none serves two.
    assert len({child.pid for child in started}) == len(started) >= 3
    assert all(not _alive(child.pid) for child in started)


def test_without_warm_workers_every_child_starts_with_its_phase(
    run_eval: Any, started: list[sandbox.StartedChild]
) -> None:
    verdict = run_eval(EXAMPLES / "triton" / "relu.py", "smoke/relu", "triton", warm_workers=False)
    assert verdict.status == "correct", verdict.log
    assert "started_ahead" not in verdict.extra
    assert len({child.pid for child in started}) == len(started) >= 3


def test_children_whose_phase_never_comes_are_killed(
    run_eval: Any, started: list[sandbox.StartedChild], tmp_path: Path
) -> None:
    source = (EXAMPLES / "triton" / "relu.py").read_text()
    broken = tmp_path / "broken.py"
    broken.write_text(source + "\nraise RuntimeError('this candidate fails to import')\n")
    verdict = run_eval(broken, "smoke/relu", "triton")
    assert verdict.status == "compile_error", verdict.log
    assert "started_ahead" not in verdict.extra
    # The compile child and the correctness child started ahead of it (the timing child starts
    # only once the build succeeded).
    assert len(started) == 2
    assert all(not _alive(child.pid) for child in started)
