"""C++/OpenMP kernels through ``torch.utils.cpp_extension.load_inline``: runs everywhere."""

from __future__ import annotations

import platform
import shutil
from dataclasses import dataclass, field

from kernelwright.backends.base import Backend, BackendStatus


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass
class CpuBackend(Backend):
    name: str = "cpu"
    language: str = "C++ (OpenMP) via load_inline"
    kernel_markers: tuple[str, ...] = field(default=("load_inline", "load("))

    def status(self) -> BackendStatus:
        if shutil.which("c++") is None and shutil.which("g++") is None:
            return BackendStatus("missing", "no C++ compiler (c++/g++) on PATH")
        try:
            import ninja  # noqa: F401
        except ImportError:
            return BackendStatus("missing", "the ninja package is missing (pip install ninja)")
        return BackendStatus("available", "C++ compiler and ninja found", device=cpu_name())

    def device(self) -> str:
        return "cpu"
