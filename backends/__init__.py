"""One module per target (cpu, cuda, hip, triton, pallas): detection, device facts, build and timing hooks.

May import ``bench_tasks`` only.
"""

from __future__ import annotations

from kernelwright.backends.base import Backend, BackendStatus
from kernelwright.backends.cpu import CpuBackend
from kernelwright.backends.cuda import CudaBackend
from kernelwright.backends.hip import HipBackend
from kernelwright.backends.pallas import PallasBackend
from kernelwright.backends.triton import TritonBackend

BACKENDS: dict[str, type[Backend]] = {
    "cpu": CpuBackend,
    "cuda": CudaBackend,
    "hip": HipBackend,
    "triton": TritonBackend,
    "pallas": PallasBackend,
}


class UnknownBackend(ValueError):
    """A backend name that kernelwright does not know."""


def get_backend(name: str) -> Backend:
    try:
        return BACKENDS[name]()
    except KeyError:
        raise UnknownBackend(
            f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})"
        ) from None


def infer_backend(source: str) -> str:
    """The backend a candidate's source is written for, when the user names none."""
    if "triton.jit" in source:
        return "triton"
    if "pallas_call" in source:
        return "pallas"
    if "cuda_sources" in source:
        # HIP is written for load_inline's cuda_sources too; its runtime header tells it apart.
        return "hip" if "hip/hip_runtime.h" in source or "hipLaunchKernelGGL" in source else "cuda"
    return "cpu"


__all__ = ["BACKENDS", "Backend", "BackendStatus", "UnknownBackend", "get_backend", "infer_backend"]
