"""The measuring environment: device, driver, clocks, CPU and software versions of a result.

Every stored result carries one, and two results are compared for speed only when their
environments are ``comparable``. Capturing is cheap after the first call: static facts are
cached, and NVML stays initialized so that only the clocks are read again.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import platform
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Versions whose change can move a kernel's timing (or its baselines'), by distribution name.
_DISTRIBUTIONS = {"torch": "torch", "triton": "triton", "jax": "jax", "jaxlib": "jaxlib"}


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _torch_build() -> dict[str, str | None]:
    """CUDA and HIP versions torch was built with, read from torch/version.py without importing torch."""
    build: dict[str, str | None] = {"cuda": None, "hip": None}
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return build
    if spec is None or not spec.submodule_search_locations:
        return build
    version_file = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    try:
        text = version_file.read_text()
    except OSError:
        return build
    for key in build:
        match = re.search(rf"^{key}\s*(?::\s*[^=]+)?=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        build[key] = match.group(1) if match else None
    return build


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for key in ("model name", "Hardware", "Processor", "cpu model"):
        match = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
        if match:
            return match.group(1).strip()
    return platform.processor() or platform.machine() or "unknown"


def _memory_mib() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) // 1024 if match else None


@functools.lru_cache(maxsize=1)
def _static_facts() -> dict[str, Any]:
    from kernelwright import __version__

    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 0
    torch_build = _torch_build()
    versions = {name: _version(dist) for name, dist in _DISTRIBUTIONS.items()}
    versions.update(torch_cuda=torch_build["cuda"], torch_hip=torch_build["hip"])
    versions.update(kernelwright=__version__, python=platform.python_version())
    # No host name: it would leak into every shared store and export, and no comparison needs it
    # (environments stored before it was dropped still carry one; nothing reads it).
    return {
        "platform": platform.platform(),
        "cpu": {
            "model": _cpu_model(),
            "cores": os.cpu_count() or 0,
            "usable_cores": usable,
            "memory_mib": _memory_mib(),
        },
        "versions": versions,
    }


class _NVML:
    """NVML, initialized once per process; ``None`` handles where no NVIDIA driver answers."""

    def __init__(self) -> None:
        self.module: Any = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self.module = pynvml
        except Exception:
            # No library, no driver or no device: the CPU facts are all there is.
            self.module = None

    def handle(self, device_index: int | None) -> Any:
        nvml = self.module
        if nvml is None or nvml.nvmlDeviceGetCount() == 0:
            return None
        index = device_index or 0
        # torch's device N is the Nth entry of CUDA_VISIBLE_DEVICES, which NVML does not read.
        visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")]
        visible = [v for v in visible if v]
        if "CUDA_VISIBLE_DEVICES" in os.environ and index >= len(visible):
            return None
        if visible:
            entry = visible[index]
            if not entry.isdigit():
                return nvml.nvmlDeviceGetHandleByUUID(entry)
            index = int(entry)
        return nvml.nvmlDeviceGetHandleByIndex(index)


@functools.lru_cache(maxsize=1)
def _nvml() -> _NVML:
    return _NVML()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional(read: Any, *args: Any) -> Any:
    try:
        return read(*args)
    except Exception:
        # Many NVML queries are unsupported on some boards (clocks on MIG slices, power on
        # passively cooled parts); a missing fact must not cost the whole environment.
        return None


@functools.lru_cache(maxsize=16)
def _gpu_static(device_index: int | None) -> dict[str, Any] | None:
    nvml_state = _nvml()
    nvml = nvml_state.module
    try:
        handle = nvml_state.handle(device_index)
    except Exception:
        return None
    if handle is None:
        return None
    memory = _optional(nvml.nvmlDeviceGetMemoryInfo, handle)
    capability = _optional(nvml.nvmlDeviceGetCudaComputeCapability, handle)
    cuda_driver = _optional(nvml.nvmlSystemGetCudaDriverVersion)
    power_mw = _optional(nvml.nvmlDeviceGetPowerManagementLimit, handle)
    return {
        "name": _text(nvml.nvmlDeviceGetName(handle)),
        "index": device_index or 0,
        "uuid": _text(_optional(nvml.nvmlDeviceGetUUID, handle)),
        "memory_mib": int(memory.total) // (1024 * 1024) if memory is not None else None,
        "driver": _text(nvml.nvmlSystemGetDriverVersion()),
        "cuda_driver": f"{cuda_driver // 1000}.{cuda_driver % 1000 // 10}" if cuda_driver else None,
        "compute_capability": ".".join(map(str, capability)) if capability else None,
        "power_limit_w": power_mw / 1000 if power_mw else None,
        "sm_clock_max_mhz": _optional(nvml.nvmlDeviceGetMaxClockInfo, handle, nvml.NVML_CLOCK_SM),
        "mem_clock_max_mhz": _optional(nvml.nvmlDeviceGetMaxClockInfo, handle, nvml.NVML_CLOCK_MEM),
    }


def _gpu_facts(device_index: int | None) -> dict[str, Any] | None:
    static = _gpu_static(device_index)
    if static is None:
        return None
    nvml_state = _nvml()
    nvml = nvml_state.module
    handle = _optional(nvml_state.handle, device_index)
    clocks = {"sm_clock_mhz": None, "mem_clock_mhz": None}
    if handle is not None:
        clocks["sm_clock_mhz"] = _optional(nvml.nvmlDeviceGetClockInfo, handle, nvml.NVML_CLOCK_SM)
        clocks["mem_clock_mhz"] = _optional(
            nvml.nvmlDeviceGetClockInfo, handle, nvml.NVML_CLOCK_MEM
        )
    return {**static, **clocks}


def capture_environment(backend: str, device_index: int | None = None) -> dict[str, Any]:
    """The facts a timing depends on, as a JSON-ready dict.

    Keys: ``backend``, ``device`` (the GPU's name, else the CPU model), ``gpu`` (None without an
    NVIDIA GPU; else name, memory, driver, CUDA driver version, compute capability, current and
    maximum clocks), ``cpu`` (model, cores, memory), ``versions`` (kernelwright, python, torch,
    torch_cuda, torch_hip, triton, jax, jaxlib; None when absent), ``platform``.
    """
    static = _static_facts()
    gpu = _gpu_facts(device_index)
    # The cpu backend (and Triton's interpreter without a GPU) measures the CPU.
    device = gpu["name"] if gpu and backend != "cpu" else static["cpu"]["model"]
    return {
        "backend": backend,
        "device": device,
        "gpu": gpu,
        "cpu": dict(static["cpu"]),
        "versions": dict(static["versions"]),
        "platform": static["platform"],
    }


def _get(env: Mapping[str, Any], *path: str) -> Any:
    value: Any = env
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def comparable(
    env_a: Mapping[str, Any] | None, env_b: Mapping[str, Any] | None
) -> tuple[bool, str]:
    """Whether timings from two environments may be compared; if not, the first difference."""
    if not env_a or not env_b:
        which = "first" if not env_a else "second"
        return False, f"the {which} result has no recorded environment"
    checks: list[tuple[str, tuple[str, ...]]] = [
        ("backend", ("backend",)),
        ("device", ("device",)),
        ("GPU driver", ("gpu", "driver")),
        ("torch", ("versions", "torch")),
        ("torch CUDA build", ("versions", "torch_cuda")),
        ("torch HIP build", ("versions", "torch_hip")),
        ("triton", ("versions", "triton")),
        ("size preset", ("scale",)),
    ]
    backend = _get(env_a, "backend")
    if backend == "pallas":
        checks += [("jax", ("versions", "jax")), ("jaxlib", ("versions", "jaxlib"))]
    if backend == "cpu":
        checks.append(("usable CPU cores", ("cpu", "usable_cores")))
    for name, path in checks:
        a, b = _get(env_a, *path), _get(env_b, *path)
        if a != b:
            return False, f"{name} differs: {a} vs {b}"
    return True, "same device and software"
