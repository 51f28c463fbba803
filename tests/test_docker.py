"""The docker sandbox level: the container spec (checked everywhere) and real runs (engine only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES

from kernelwright.verifier.docker_sandbox import container_spec, docker_status
from kernelwright.verifier.sandbox import Limits, Mounts

ENGINE, WHY = docker_status()
needs_engine = pytest.mark.skipif(not ENGINE, reason=f"needs a Docker engine: {WHY}")


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
    assert spec["mem_limit"] == 1 << 30 and spec["memswap_limit"] == 1 << 30
    assert spec["pids_limit"] == 128
    assert "exec" in spec["tmpfs"]["/tmp"].split(",")
    assert spec["volumes"][str(tmp_path)]["mode"] == "rw"
    assert spec["volumes"][str(tmp_path / "copy")] == {"bind": str(build), "mode": "rw"}
    ro = [v for k, v in spec["volumes"].items() if v["mode"] == "ro"]
    assert ro, "the interpreter and the package are bound read-only"
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


@pytest.mark.docker
@needs_engine
def test_honest_example_in_docker(run_eval: Any) -> None:
    verdict = run_eval(
        EXAMPLES / "triton" / "relu.py", "smoke/relu", "triton", sandbox="docker", timing=False
    )
    assert verdict.status == "correct", verdict.log
    assert verdict.extra["sandbox"] == "docker"


@pytest.mark.docker
@needs_engine
def test_network_is_unreachable_in_docker(run_eval: Any, tmp_path: Path) -> None:
    source = (EXAMPLES / "triton" / "relu.py").read_text()
    probe = tmp_path / "net.py"
    probe.write_text(
        source + "\nimport socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)\n"
    )
    verdict = run_eval(probe, "smoke/relu", "triton", sandbox="docker", timing=False)
    assert (
        verdict.status == "compile_error"
        and "Network is unreachable" in verdict.log
        or "OSError" in verdict.log
    )
