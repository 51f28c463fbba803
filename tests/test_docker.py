"""The docker sandbox level: the container spec (checked everywhere) and real runs (engine only).

The real runs need a Docker engine and the local base image: ``scripts/start_docker.sh`` starts
both (as root, from Debian's mirror). Without them they skip, and the skip says why.
"""

from __future__ import annotations

import secrets
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES

from kernelwright.verifier.channel import Endpoint
from kernelwright.verifier.docker_sandbox import (
    CHILD_REPLY_FD,
    container_spec,
    docker_status,
    run_in_docker,
    wrap_command,
)
from kernelwright.verifier.sandbox import Limits, Mounts, share_with_child

ENGINE, WHY = docker_status()
needs_engine = pytest.mark.skipif(
    not ENGINE, reason=f"needs a Docker engine with its image (scripts/start_docker.sh): {WHY}"
)
RELU = EXAMPLES / "triton" / "relu.py"


def test_container_spec_isolates(tmp_path: Path) -> None:
    build = tmp_path / "build"
    spec = container_spec(
        ["python", "-I", "-m", "kernelwright.verifier.worker", "job.json"],
        scratch=tmp_path,
        limits=Limits(wall_s=10, memory_bytes=1 << 30, processes=128),
        env={"HOME": str(tmp_path)},
        mounts=Mounts(remapped=[(tmp_path / "copy", build)]),
        gpu=True,
        image="debian:12-slim",
    )
    assert spec["network_disabled"] is True and spec["read_only"] is True
    assert spec["user"] == "65534:65534" and spec["cap_drop"] == ["ALL"]
    assert spec["security_opt"] == ["no-new-privileges"]
    assert spec["mem_limit"] == 1 << 30 and spec["memswap_limit"] == 1 << 30
    assert spec["pids_limit"] == 128
    assert "exec" in spec["tmpfs"]["/tmp"].split(",")
    assert spec["volumes"][str(tmp_path)]["mode"] == "rw"
    assert spec["volumes"][str(tmp_path / "copy")] == {"bind": str(build), "mode": "rw"}
    ro = [k for k, v in spec["volumes"].items() if v["mode"] == "ro"]
    assert ro, "the interpreter and the package are bound read-only"
    # Only Python's own parts are bound, never a whole system directory or home.
    assert not set(ro) & {"/", "/usr", "/usr/local", "/root", "/home", "/tmp", "/etc"}
    assert "privileged" not in spec and "network_mode" not in spec and "cap_add" not in spec
    assert spec["device_requests"][0].capabilities == [["gpu"]]
    no_gpu = container_spec(
        ["true"],
        scratch=tmp_path,
        limits=Limits(wall_s=1),
        env={},
        mounts=Mounts(),
        gpu=False,
        image="x",
    )
    assert "device_requests" not in no_gpu


def test_wrapper_only_adds_the_redirections(tmp_path: Path) -> None:
    command = ["python", "-I", "-m", "kernelwright.verifier.worker", "a b", "$HOME"]
    p2c, c2p = tmp_path / "in", tmp_path / "out"
    plain = wrap_command(command, p2c, None)
    assert plain[:2] == ["/bin/sh", "-c"] and plain[-len(command) :] == command
    assert str(p2c) in plain and f"{CHILD_REPLY_FD}>" not in plain[2]
    talking = wrap_command(command, p2c, c2p)
    assert talking[-len(command) :] == command and f"{CHILD_REPLY_FD}>" in talking[2]


def _scratch(tmp_path: Path) -> Path:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    share_with_child(scratch)
    return scratch


_CHILD = r"""
import os, sys
from kernelwright.verifier.channel import Endpoint
first = sys.stdin.buffer.readline().decode().split()
print("first line", first, "uid", os.getuid(), "left", sorted(os.listdir(".")), flush=True)
endpoint = Endpoint(0, int(first[1]), trusted=True)
endpoint.send({"ready": True})
endpoint.send({"echo": endpoint.recv()})
with open(first[0], "w") as out:
    out.write("done")
"""


@pytest.mark.docker
@needs_engine
def test_conversation_over_fifos(tmp_path: Path) -> None:
    """The child reads the secret first line and the parent's frames on stdin, answers on fd 3,
    and sees no FIFO left in its scratch dir."""
    scratch = _scratch(tmp_path)
    name = f"r-{secrets.token_hex(8)}.pt"
    heard: list[Any] = []

    def talk(endpoint: Endpoint) -> None:
        heard.append(endpoint.recv(timeout=60))
        endpoint.send("ping", timeout=10)
        heard.append(endpoint.recv(timeout=60))

    child = run_in_docker(
        [sys.executable, "-I", "-c", _CHILD],
        scratch=scratch,
        limits=Limits(wall_s=120),
        env={},
        mounts=Mounts(),
        gpu=False,
        stdin_data=f"{name}\n".encode(),
        conversation=talk,
    )
    assert child.returncode == 0 and child.conversation_error is None, child.log
    assert heard == [{"ready": True}, {"echo": "ping"}]
    assert f"first line ['{name}', '{CHILD_REPLY_FD}'] uid 65534 left []" in child.log
    assert sorted(p.name for p in scratch.iterdir()) == [name]


@pytest.mark.docker
@needs_engine
def test_silent_child_cannot_hang_the_parent(tmp_path: Path) -> None:
    """A child that never reads nor answers: the parent's limit ends it, and the conversation's
    failure is reported."""
    scratch = _scratch(tmp_path)
    start = time.monotonic()
    child = run_in_docker(
        ["sleep", "60"],
        scratch=scratch,
        limits=Limits(wall_s=3),
        env={},
        mounts=Mounts(),
        gpu=False,
        stdin_data=b"r-x.pt\n",
        conversation=lambda endpoint: endpoint.recv(),
    )
    assert child.timed_out and child.conversation_error
    assert time.monotonic() - start < 45
    assert list(scratch.iterdir()) == []


@pytest.mark.docker
@needs_engine
def test_host_files_outside_the_binds_are_invisible(tmp_path: Path) -> None:
    secret = tmp_path / "private" / "key.txt"
    secret.parent.mkdir()
    secret.write_text("the-host-secret")
    secret.chmod(0o644)
    secret.parent.chmod(0o755)
    # A host file next to what is bound: only Python's lib and binary are, not its headers.
    header = Path(sysconfig.get_paths()["include"]) / "Python.h"
    paths = (str(secret), str(header), "/root/.bash_history")
    probe = (
        f"for path in {paths!r}:\n"
        "    try:\n"
        "        print(path, 'READ', open(path).read()[:40], flush=True)\n"
        "    except OSError as exc:\n"
        "        print(path, 'HIDDEN', type(exc).__name__, flush=True)\n"
    )
    child = run_in_docker(
        [sys.executable, "-I", "-c", probe],
        scratch=_scratch(tmp_path),
        limits=Limits(wall_s=60),
        env={},
        mounts=Mounts(),
        gpu=False,
    )
    assert child.returncode == 0, child.log
    assert f"{secret} HIDDEN FileNotFoundError" in child.log
    if header.is_file():
        assert f"{header} HIDDEN FileNotFoundError" in child.log
    assert "the-host-secret" not in child.log and "READ" not in child.log


@pytest.mark.docker
@needs_engine
def test_honest_example_in_docker(run_eval: Any) -> None:
    verdict = run_eval(RELU, "smoke/relu", "triton", sandbox="docker", timing=False)
    assert verdict.status == "correct", verdict.log
    assert verdict.extra["sandbox"] == "docker"


@pytest.mark.docker
@needs_engine
def test_honest_example_timed_in_docker(run_eval: Any) -> None:
    """The timed phase is a conversation with the parent: it works across the container."""
    verdict = run_eval(RELU, "smoke/relu", "triton", sandbox="docker", timing=True)
    assert verdict.status == "correct", verdict.log
    assert verdict.extra["sandbox"] == "docker"
    assert verdict.timing.samples and all(s > 0 for s in verdict.timing.samples), verdict.log
    assert verdict.timing.candidate_ms is not None and verdict.timing.candidate_ms > 0


_FORGER = """
import os


def _forge():
    import torch

    forged = {"ok": True, "status": "correct", "correct": True, "outputs": [], "trials": []}
    names = {"result.pt", "r-0000000000000000.pt"}
    names |= {n for n in os.listdir(".") if n.startswith(("r-", ".")) or n.endswith(".pt")}
    for name in names:
        try:
            torch.save(forged, name)
        except OSError:
            pass
    os._exit(0)
"""


@pytest.mark.docker
@needs_engine
def test_forged_result_file_is_not_believed_in_docker(run_eval: Any, tmp_path: Path) -> None:
    """E12: the candidate writes every result name it can guess in its working dir, then exits
    before the worker writes the real one; the parent finds no result under its secret name."""
    source = RELU.read_text().replace(
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        _forge()\n",
    )
    forger = tmp_path / "forger.py"
    forger.write_text(_FORGER + source)
    # The static guard would reject ``os`` first; the sandbox's own defence is tested here.
    verdict = run_eval(
        forger, "smoke/relu", "triton", sandbox="docker", timing=False, allow=("os",)
    )
    assert verdict.status == "crashed", verdict.log
    assert "left no result" in verdict.log


@pytest.mark.docker
@needs_engine
def test_network_is_unreachable_in_docker(run_eval: Any, tmp_path: Path) -> None:
    source = RELU.read_text()
    probe = tmp_path / "net.py"
    probe.write_text(
        source + "\nimport socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)\n"
    )
    # The static guard would reject ``socket`` first; the container's own defence is tested here.
    verdict = run_eval(
        probe, "smoke/relu", "triton", sandbox="docker", timing=False, allow=("socket",)
    )
    assert verdict.status == "compile_error", verdict.log
    assert ("Network is unreachable" in verdict.log) or ("OSError" in verdict.log), verdict.log
