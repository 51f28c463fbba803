"""CUDA C++ kernels through ``load_inline`` with nvcc; compile-only where nvcc exists without a GPU."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

from kernelwright.backends.base import Backend, BackendStatus, compiler_version, cuda_device


def arch_list() -> str:
    """TORCH_CUDA_ARCH_LIST for builds: the visible GPU's, else Hopper (sm_90) for compile-only."""
    explicit = os.environ.get("TORCH_CUDA_ARCH_LIST")
    if explicit:
        return explicit
    ok, _ = cuda_device()
    if ok:
        import torch

        major, minor = torch.cuda.get_device_capability(0)
        return f"{major}.{minor}"
    return "9.0"


@dataclass
class CudaBackend(Backend):
    name: str = "cuda"
    language: str = "CUDA C++ via load_inline"
    kernel_markers: tuple[str, ...] = field(default=("cuda_sources", "load("))

    def status(self) -> BackendStatus:
        has_nvcc = shutil.which("nvcc") is not None
        ok, what = cuda_device()
        if ok and has_nvcc:
            return BackendStatus("available", "nvcc and an NVIDIA GPU found", device=what)
        if has_nvcc:
            return BackendStatus("compile-only", f"nvcc found but {what}: use --compile-only")
        return BackendStatus("missing", f"nvcc not found on PATH; {what}")

    def device(self) -> str:
        return "cuda"

    def child_env(self, phase: str, compile_only: bool) -> dict[str, str]:
        env = {"TORCH_CUDA_ARCH_LIST": arch_list()}
        nvcc = shutil.which("nvcc")
        if nvcc and "CUDA_HOME" not in os.environ:
            real = os.path.realpath(nvcc)
            env["CUDA_HOME"] = os.path.dirname(os.path.dirname(real))
        return env

    def toolchain_id(self) -> str:
        return f"{super().toolchain_id()};{compiler_version('nvcc')};arch={arch_list()}"
