"""The interface every backend implements, and the registry the verifier and CLI use."""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend can run here: ``available``, ``compile-only`` or ``missing``, and why."""

    state: str
    reason: str
    device: str = ""
    timing_meaningful: bool = True


@dataclass
class Backend:
    """One target language and device.

    Subclasses say how to detect themselves, which device their kernels run on, which
    environment the sandboxed child needs, and what the candidate's source must contain.
    """

    name: str = ""
    language: str = ""
    kernel_markers: tuple[str, ...] = field(default_factory=tuple)

    def status(self) -> BackendStatus:
        raise NotImplementedError

    def device(self) -> str:
        """The torch device string the candidate's tensors live on (``cpu`` or ``cuda``)."""
        raise NotImplementedError

    def child_env(self, phase: str, compile_only: bool) -> dict[str, str]:
        """Environment variables for the sandboxed child in ``phase`` (compile/correctness/timing)."""
        return {}

    def needs_gpu_nodes(self, phase: str) -> bool:
        return phase != "compile" and self.device().startswith("cuda")

    def toolchain_id(self) -> str:
        """A string that changes when the compilers or torch change: part of the build-cache key."""
        import torch

        return f"torch={torch.__version__};{compiler_version('c++')}"

    def build_key(self, source: str) -> str:
        """The build-cache key: a hash of the source, the backend and the toolchain."""
        text = f"{self.name}\0{self.toolchain_id()}\0{source}"
        return hashlib.sha256(text.encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=8)
def compiler_version(exe: str) -> str:
    path = shutil.which(exe)
    if path is None:
        return f"{exe}=missing"
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return f"{exe}=unknown"
    lines = [line for line in out.splitlines() if line.strip()]
    return f"{exe}={lines[-1] if exe == 'nvcc' and lines else (lines[0] if lines else 'unknown')}"


@functools.lru_cache(maxsize=1)
def cuda_device() -> tuple[bool, str]:
    """Whether torch sees an NVIDIA GPU here, and its name (or why not)."""
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if torch.version.cuda is None:
        return False, f"torch {torch.__version__} is a build without CUDA"
    if not torch.cuda.is_available():
        return False, "no CUDA device visible"
    return True, torch.cuda.get_device_name(0)
