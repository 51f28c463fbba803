"""The ``docker`` sandbox level: one container per child through the ``docker`` SDK.

The container runs the host's own interpreter and packages, bound read-only at the same paths
(so the image only needs a compatible C library; ``debian:12-slim`` by default), with no network,
a read-only root, an executable scratch tmpfs, memory and pids limits, an unprivileged uid, no
capabilities, GPUs by device request, and it is removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kernelwright.verifier.sandbox import (
    NOBODY,
    ChildResult,
    Limits,
    Mounts,
    SandboxError,
    _hidden_home_paths,
    _LogSink,
)

DEFAULT_IMAGE = "debian:12-slim"


def docker_image() -> str:
    return os.environ.get("KERNELWRIGHT_DOCKER_IMAGE", DEFAULT_IMAGE)


def docker_status() -> tuple[bool, str]:
    """Whether a Docker engine answers here, and why not."""
    try:
        import docker
    except ImportError:
        return False, "the docker SDK is not installed (pip install 'kernelwright[docker]')"
    try:
        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as exc:
        return False, f"no Docker engine answers: {type(exc).__name__}"
    return True, "a Docker engine answers"


def container_spec(
    command: Sequence[str],
    *,
    scratch: Path,
    limits: Limits,
    env: dict[str, str],
    mounts: Mounts,
    gpu: bool,
    image: str,
) -> dict[str, Any]:
    """Keyword arguments for ``client.containers.run``: everything the isolation rests on."""
    from docker.types import DeviceRequest, Ulimit

    volumes: dict[str, dict[str, str]] = {}
    shared = {Path(p) for p in _hidden_home_paths()} | {Path(p) for p in mounts.read_only}
    import kernelwright

    shared.add(Path(kernelwright.__file__).resolve().parent)
    for path in sorted(shared):
        volumes[str(path)] = {"bind": str(path), "mode": "ro"}
    for path in mounts.writable:
        volumes[str(path)] = {"bind": str(path), "mode": "rw"}
    for source, target in mounts.remapped:
        volumes[str(source)] = {"bind": str(target), "mode": "rw"}
    volumes[str(scratch)] = {"bind": str(scratch), "mode": "rw"}
    spec: dict[str, Any] = {
        "image": image,
        "command": list(command),
        "detach": True,
        "network_disabled": True,
        "read_only": True,
        "tmpfs": {"/tmp": "rw,exec,nosuid,size=2g"},
        "user": f"{NOBODY}:{NOBODY}",
        "working_dir": str(scratch),
        "environment": env,
        "volumes": volumes,
        "pids_limit": limits.processes,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "ulimits": [
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
        ],
        "labels": {"kernelwright": "candidate"},
    }
    if limits.memory_bytes:
        spec["mem_limit"] = limits.memory_bytes
        spec["memswap_limit"] = limits.memory_bytes
    if gpu:
        spec["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    return spec


def run_in_docker(
    command: Sequence[str],
    *,
    scratch: Path,
    limits: Limits,
    env: dict[str, str],
    mounts: Mounts,
    gpu: bool,
) -> ChildResult:
    """Run one child in a fresh container, wait for it, and remove the container."""
    try:
        import docker
    except ImportError as exc:
        raise SandboxError(
            "sandbox level docker needs the docker SDK (pip install docker)"
        ) from exc
    spec = container_spec(
        command,
        scratch=scratch,
        limits=limits,
        env=env,
        mounts=mounts,
        gpu=gpu,
        image=docker_image(),
    )
    sink = _LogSink()
    start = time.monotonic()
    try:
        client = docker.from_env()
        container = client.containers.run(**spec)
    except Exception as exc:
        raise SandboxError(f"could not start a container: {type(exc).__name__}: {exc}") from exc
    timed_out = False
    try:
        try:
            status = container.wait(timeout=limits.wall_s)
            rc: int | None = int(status.get("StatusCode", -1))
        except Exception:
            timed_out = True
            rc = None
            with contextlib.suppress(Exception):
                container.kill()
        with contextlib.suppress(Exception):
            for chunk in container.logs(stdout=True, stderr=True, stream=True, follow=False):
                sink.feed(chunk)
        container.reload()
        oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)
    wall = time.monotonic() - start
    sig = rc - 128 if rc is not None and rc > 128 else None
    return ChildResult(rc, timed_out, wall, sink.text(), sink.total, sig, oom)
