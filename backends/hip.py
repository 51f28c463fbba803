"""HIP C++ kernels for AMD GPUs through ``load_inline`` on ROCm builds of torch; compile-only where
``hipcc`` exists without them.

A candidate is written as for the cuda backend (``load_inline`` with ``cuda_sources``), in HIP:
``#include <hip/hip_runtime.h>``, kernels launched with ``hipLaunchKernelGGL`` or ``<<<...>>>``.
On a ROCm build of torch with an AMD GPU, torch builds and loads it (the device is ``cuda``, as
ROCm torch names it). Where ``hipcc`` exists but not those, ``--compile-only`` compiles every
translation unit to an object file for each target of ``hip_targets()`` that the compiler knows,
and names those it does not: Debian's hipcc (ROCm 5.2, clang 15) builds for gfx90a (MI200) and
has no gfx942 (MI300). ``hipcc`` is told the AMD platform explicitly: next to nvcc it would
otherwise take the NVIDIA one.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kernelwright.backends.base import Backend, BackendStatus

# The targets compile-only builds for unless PYTORCH_ROCM_ARCH (torch's own variable, with
# ``;`` between targets) names others: MI200 (gfx90a) and MI300 (gfx942).
DEFAULT_TARGETS = ("gfx90a", "gfx942")
HIP_ENV = {"HIP_PLATFORM": "amd", "HIP_COMPILER": "clang"}
_PROBE = (
    "#include <hip/hip_runtime.h>\n__global__ void kw_probe(float* x) { x[threadIdx.x] = 1.f; }\n"
)


def hip_targets() -> tuple[str, ...]:
    named = os.environ.get("PYTORCH_ROCM_ARCH", "").replace(",", ";").split(";")
    return tuple(t.strip() for t in named if t.strip()) or DEFAULT_TARGETS


def hipcc_env() -> dict[str, str]:
    return {**os.environ, **HIP_ENV}


@functools.lru_cache(maxsize=4)
def hipcc_version() -> str | None:
    hipcc = shutil.which("hipcc")
    if hipcc is None:
        return None
    try:
        done = subprocess.run(
            [hipcc, "--version"], capture_output=True, text=True, timeout=60, env=hipcc_env()
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    hip = next((line for line in lines if line.startswith("HIP version")), None)
    clang = next((line for line in lines if "clang version" in line), None)
    return "; ".join(x for x in (hip, clang) if x) or "unknown"


@functools.lru_cache(maxsize=4)
def supported_targets(targets: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Which of ``targets`` the found hipcc builds for (a tiny kernel compiled for each), and why
    each other one fails (the compiler's first error line)."""
    hipcc = shutil.which("hipcc")
    if hipcc is None:
        return (), {t: "hipcc not found" for t in targets}
    ok: list[str] = []
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="kw-hip-") as tmp:
        source = Path(tmp) / "probe.hip"
        source.write_text(_PROBE)
        for target in targets:
            argv = [hipcc, "-x", "hip", f"--offload-arch={target}", "-c", str(source)]
            argv += ["-o", str(Path(tmp) / f"{target}.o")]
            try:
                done = subprocess.run(
                    argv, capture_output=True, text=True, timeout=120, env=hipcc_env()
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                failed[target] = f"{type(exc).__name__}"
                continue
            if done.returncode == 0:
                ok.append(target)
            else:
                lines = (done.stderr or done.stdout).strip().splitlines()
                first = next((line for line in lines if "error" in line), lines[0] if lines else "")
                failed[target] = first.strip()[:200]
    return tuple(ok), failed


def rocm_device() -> tuple[bool, str]:
    """Whether torch is a ROCm build that sees an AMD GPU, and its name (or why not)."""
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if getattr(torch.version, "hip", None) is None:
        return False, f"torch {torch.__version__} is not a ROCm build"
    if not torch.cuda.is_available():
        return False, "no AMD GPU visible"
    return True, torch.cuda.get_device_name(0)


@dataclass
class HipBackend(Backend):
    name: str = "hip"
    language: str = "HIP C++ via load_inline"
    kernel_markers: tuple[str, ...] = field(default=("cuda_sources", "load("))

    def status(self) -> BackendStatus:
        has_hipcc = shutil.which("hipcc") is not None
        ok, what = rocm_device()
        if ok and has_hipcc:
            return BackendStatus("available", "hipcc and an AMD GPU found", device=what)
        if not has_hipcc:
            return BackendStatus("missing", f"hipcc not found on PATH; {what}")
        built, failed = supported_targets(hip_targets())
        if not built:
            why = "; ".join(f"{t}: {e}" for t, e in failed.items())
            return BackendStatus("missing", f"hipcc builds for none of the targets ({why})")
        reason = f"hipcc found but {what}: use --compile-only (builds for {', '.join(built)}"
        if failed:
            reason += f"; not {', '.join(failed)}, which this hipcc does not know"
        return BackendStatus("compile-only", reason + ")")

    def device(self) -> str:
        return "cuda"  # ROCm builds of torch name AMD GPUs "cuda"

    def child_env(self, phase: str, compile_only: bool) -> dict[str, str]:
        env = dict(HIP_ENV)
        env["PYTORCH_ROCM_ARCH"] = ";".join(hip_targets())
        return env

    def toolchain_id(self) -> str:
        return f"{super().toolchain_id()};hipcc={hipcc_version()};arch={';'.join(hip_targets())}"
