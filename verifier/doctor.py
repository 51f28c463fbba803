"""What ``kernelwright doctor`` reports: backends, sandbox level, compilers, profilers, GPUs.

In the verifier because the sandbox level is part of it (backends never import the verifier).
"""

from __future__ import annotations

import shutil
from typing import Any

from kernelwright.backends import BACKENDS, get_backend, rocprof
from kernelwright.backends.base import compiler_version, cuda_device
from kernelwright.backends.hip import hipcc_version


def _tool(exe: str) -> str | None:
    if shutil.which(exe) is None:
        return None
    return compiler_version(exe).split("=", 1)[1]


def diagnose() -> dict[str, Any]:
    from kernelwright.verifier.sandbox import bwrap_status, choose_level

    rows = []
    for name in BACKENDS:
        status = get_backend(name).status()
        rows.append(
            {
                "name": name,
                "state": status.state,
                "reason": status.reason,
                "device": status.device,
                "timing_meaningful": status.timing_meaningful,
            }
        )
    ok, why = bwrap_status()
    level = choose_level("auto")
    gpus: list[str] = []
    has_gpu, _ = cuda_device()
    if has_gpu:
        import torch

        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "backends": rows,
        "sandbox": {"level": level, "bwrap": ok, "reason": why},
        "tools": {
            "c++": _tool("c++"),
            "nvcc": _tool("nvcc"),
            "ncu": _tool("ncu"),
            "bwrap": _tool("bwrap"),
            "hipcc": hipcc_version(),
            "rocprofv3": rocprof.find_rocprof(),
        },
        "gpus": gpus,
    }
