"""Triton kernels: real on a GPU; on a machine without one, Triton's interpreter (no timings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kernelwright.backends.base import Backend, BackendStatus, cuda_device


def triton_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("triton")
    except Exception:
        return None


@dataclass
class TritonBackend(Backend):
    name: str = "triton"
    language: str = "Triton (@triton.jit)"
    kernel_markers: tuple[str, ...] = field(default=("triton.jit",))

    def status(self) -> BackendStatus:
        version = triton_version()
        if version is None:
            return BackendStatus(
                "missing", "triton is not installed (pip install 'kernelwright[triton]')"
            )
        ok, what = cuda_device()
        if ok:
            return BackendStatus("available", f"triton {version} on a GPU", device=what)
        return BackendStatus(
            "available",
            f"triton {version} interpreter on the CPU ({what}): correctness only, timings not meaningful",
            device="triton-interpreter (cpu)",
            timing_meaningful=False,
        )

    def interpreted(self) -> bool:
        return not cuda_device()[0]

    def device(self) -> str:
        return "cpu" if self.interpreted() else "cuda"

    def child_env(self, phase: str, compile_only: bool) -> dict[str, str]:
        # TRITON_INTERPRET is read when a kernel is decorated, so it must be set before import.
        return {"TRITON_INTERPRET": "1"} if self.interpreted() else {}

    def toolchain_id(self) -> str:
        return f"{super().toolchain_id()};triton={triton_version()}"
