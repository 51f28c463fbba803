"""JAX Pallas kernels (``pallas_call``): real on a TPU or an NVIDIA GPU; on a machine without
either, Pallas's interpreter (``interpret=True``), which checks correctness and whose timings
mean nothing.

Tensors pass between torch and JAX by DLPack (``jax.dlpack.from_dlpack``, ``torch.from_dlpack``),
without a copy. The platform is told from the installed packages, not by importing jax in the
parent (seconds): a JAX CUDA plugin beside a torch that sees a GPU, or ``libtpu``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from kernelwright.backends.base import Backend, BackendStatus, cuda_device

# The variable that tells the child it serves a pallas candidate (``worker._preload`` imports jax
# before the job, in every phase alike) and whether Pallas runs interpreted there.
CHILD_FLAG = "KERNELWRIGHT_PALLAS"
_CUDA_PLUGINS = (
    "jax_cuda13_plugin",
    "jax_cuda12_plugin",
    "jax_plugins.xla_cuda13",
    "jax_plugins.xla_cuda12",
)


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def jax_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("jax")
    except Exception:
        return None


# The oldest jax whose internals the JAX witness hooks (verifier/jax_witness.py) was tested on.
MIN_JAX = (0, 10)


def _release(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def platform() -> str:
    """Where Pallas kernels would run here: ``tpu``, ``gpu`` or ``interpreter``."""
    if _found("libtpu"):
        return "tpu"
    if any(_found(m) for m in _CUDA_PLUGINS) and cuda_device()[0]:
        return "gpu"
    return "interpreter"


@dataclass
class PallasBackend(Backend):
    name: str = "pallas"
    language: str = "JAX Pallas (pallas_call)"
    kernel_markers: tuple[str, ...] = field(default=("pallas_call",))

    def status(self) -> BackendStatus:
        version = jax_version()
        if version is None or not _found("jax.experimental.pallas"):
            return BackendStatus(
                "missing", "jax is not installed (pip install 'kernelwright[jax]')"
            )
        if _release(version) < MIN_JAX:
            wanted = ".".join(map(str, MIN_JAX))
            return BackendStatus(
                "missing",
                f"jax {version} is older than {wanted}, the first the pallas witness knows "
                f"(pip install 'jax>={wanted}')",
            )
        where = platform()
        if where == "tpu":
            return BackendStatus("available", f"jax {version} with libtpu", device="tpu")
        if where == "gpu":
            return BackendStatus("available", f"jax {version} on a GPU", device=cuda_device()[1])
        return BackendStatus(
            "available",
            f"jax {version}, Pallas interpreter on the CPU (no TPU, no JAX GPU plugin with a "
            "GPU): correctness only, timings not meaningful",
            device="pallas-interpreter (cpu)",
            timing_meaningful=False,
        )

    def interpreted(self) -> bool:
        return platform() == "interpreter"

    def device(self) -> str:
        # On a TPU, torch's tensors stay on the host and the candidate moves them to the TPU.
        return "cuda" if platform() == "gpu" else "cpu"

    def child_env(self, phase: str, compile_only: bool) -> dict[str, str]:
        where = platform()
        env = {CHILD_FLAG: "interpret" if where == "interpreter" else where}
        if where == "interpreter":
            env["JAX_PLATFORMS"] = "cpu"
        elif where == "gpu":
            # JAX would otherwise take three quarters of the GPU's memory up front, which torch
            # (inputs, outputs, the cache flush) needs too.
            env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        return env

    def toolchain_id(self) -> str:
        return f"{super().toolchain_id()};jax={jax_version()};pallas={platform()}"
