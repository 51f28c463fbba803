"""Profilers behind one interface: which one a backend's kernels are profiled with, whether it can
run here, how the verifier's sandboxed child is run under it, and how its output is read.

- ``ncu`` (Nsight Compute) for ``cuda`` and ``triton`` on an NVIDIA GPU: wraps the child; only
  kernels launched inside the worker's NVTX range are profiled (``backends/ncu.py``).
- ``rocprofv3`` for ``hip`` on an AMD GPU: wraps the child; kernel trace and counters as CSV
  (``backends/rocprof.py``).
- ``jax`` (JAX's profiler) for ``pallas`` on a TPU or a GPU: runs inside the child around the
  profiled calls and writes a trace-event file (``backends/jax_trace.py``). Being inside the
  candidate's process, what it writes is the candidate's to forge: it informs the Judge and
  decides nothing, as is true of every profile.

Every file a profiler leaves is read by the parent as untrusted data: a parser refuses anything
that is not what the tool writes with ``ValueError``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernelwright.backends.base import cuda_device
from kernelwright.backends.ncu import KernelProfile

# The folder, inside the profiled child's scratch dir, that a profiler writes into.
OUTPUT_DIR = "profile"
# Forward calls profiled (after as many unprofiled ones): enough for a kernel's steady state,
# few enough that ncu's replay passes stay within a phase's time limit.
PROFILED_CALLS = 3


@dataclass(frozen=True)
class Profiler:
    """One profiler: ``wrap`` gives the argv that runs ``target`` under it (None: it runs inside
    the child, which starts it by ``name``), ``read`` the kernels from its output folder."""

    name: str
    find: Callable[[], str | None]
    why_missing: str
    wrap: Callable[[str, Path, Sequence[str]], list[str]] | None
    read: Callable[[Path], list[KernelProfile]]
    summarize: Callable[[Sequence[KernelProfile]], dict[str, Any]]
    needs: Callable[[], tuple[bool, str]] = field(default=lambda: (True, ""))

    def status(self) -> tuple[bool, str]:
        """Whether it can profile here, and why not."""
        ok, why = self.needs()
        if not ok:
            return False, why
        if self.find() is None:
            return False, self.why_missing
        return True, ""

    def install_root(self) -> Path | None:
        """The folder the sandbox binds read-only so that the child can run the profiler."""
        exe = self.find()
        return install_root(exe) if exe is not None and self.wrap is not None else None


def install_root(exe: str) -> Path:
    """The install tree of a tool run inside the sandbox: ncu, rocprofv3 and compute-sanitizer
    load their libraries from beside the folder that holds the executable."""
    real = Path(os.path.realpath(exe))
    return real.parent.parent if real.parent.name in ("bin", "compute-sanitizer") else real.parent


def _nvidia_gpu() -> tuple[bool, str]:
    ok, what = cuda_device()
    return (True, "") if ok else (False, f"no NVIDIA GPU: {what}")


def _amd_gpu() -> tuple[bool, str]:
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if getattr(torch.version, "hip", None) is None or not torch.cuda.is_available():
        return False, "no AMD GPU visible to a ROCm build of torch"
    return True, ""


def _jax_device() -> tuple[bool, str]:
    from kernelwright.backends.pallas import platform

    where = platform()
    if where == "interpreter":
        return False, "Pallas runs interpreted here (no TPU, no JAX GPU plugin): no device trace"
    return True, ""


def _ncu() -> Profiler:
    from kernelwright.backends import ncu

    def wrap(exe: str, out: Path, target: Sequence[str]) -> list[str]:
        argv = ncu.ncu_command(
            list(ncu.ALL_METRICS),
            out / "report",
            ncu.NVTX_RANGE,
            target,
            ncu=exe,
            launch_count=min(1000, 50 * PROFILED_CALLS),
        )
        # No report file for the parent to import with ncu (a native parser run on a file the
        # child could have written): ncu prints the raw page as CSV, in base units, to a log.
        cut = argv.index("--force-overwrite")
        # Clocks left alone: ncu would lock the GPU's clocks to base, under any other work on it.
        csv_page = ["--csv", "--page", "raw", "--print-units", "base", "--clock-control", "none"]
        return argv[:cut] + csv_page + ["--log-file", str(out / "ncu.csv")] + argv[cut + 3 :]

    def read(out: Path) -> list[KernelProfile]:
        text = _text(out / "ncu.csv")
        if "ERR_NVGPUCTRPERM" in text:
            raise ValueError(
                "the driver lets only administrators read the GPU's counters (ERR_NVGPUCTRPERM), "
                "and the sandboxed child is not one: see NVreg_RestrictProfilingToAdminUsers"
            )
        # ncu's own lines (==PROF==, ==WARNING==) surround the table in its log.
        lines = [ln for ln in text.splitlines() if not ln.startswith("==")]
        return ncu.parse_csv("\n".join(lines))

    return Profiler(
        name="ncu",
        find=ncu.find_ncu,
        why_missing="Nsight Compute (ncu) not found on PATH, $CUDA_HOME or /opt/nvidia",
        wrap=wrap,
        read=read,
        summarize=ncu.summarize,
        needs=_nvidia_gpu,
    )


def _rocprof() -> Profiler:
    from kernelwright.backends import rocprof

    def wrap(exe: str, out: Path, target: Sequence[str]) -> list[str]:
        return rocprof.rocprof_command(exe, out, rocprof.COUNTERS, target)

    def read(out: Path) -> list[KernelProfile]:
        found = rocprof.find_outputs(out)
        if "counter_collection" in found:
            return rocprof.parse_counter_collection(_text(found["counter_collection"]))
        if "kernel_trace" in found:
            return rocprof.parse_kernel_trace(_text(found["kernel_trace"]))
        raise ValueError("rocprofv3 left no counter collection or kernel trace CSV")

    return Profiler(
        name="rocprofv3",
        find=rocprof.find_rocprof,
        why_missing="rocprofv3 not found on PATH or under /opt/rocm",
        wrap=wrap,
        read=read,
        summarize=summarize_durations,
        needs=_amd_gpu,
    )


def _jax() -> Profiler:
    from kernelwright.backends import jax_trace

    def find() -> str | None:
        import importlib.util

        return "jax.profiler" if importlib.util.find_spec("jax") is not None else None

    def read(out: Path) -> list[KernelProfile]:
        path = jax_trace.find_trace(out)
        if path is None:
            raise ValueError("JAX's profiler left no trace file")
        return jax_trace.parse_trace(_bytes(path))

    return Profiler(
        name="jax",
        find=find,
        why_missing="jax is not installed",
        wrap=None,
        read=read,
        summarize=summarize_durations,
        needs=_jax_device,
    )


_MAX_FILE = 64 * 1024 * 1024


def _bytes(path: Path) -> bytes:
    """A profiler's output file, refused when it or its folder is a link, or when it is larger
    than any real one: the child could have put either there."""
    return read_plain_file(path, _MAX_FILE)


def read_plain_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, opened without following a link (its own name or its folder's)."""
    if path.parent.is_symlink():
        raise ValueError(f"the folder of {path.name} is a link")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise ValueError(f"{path.name} is not a plain file") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError(f"{path.name} is not a plain file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit >> 20} MiB")
    return data


def _text(path: Path) -> str:
    try:
        return _bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text") from None


def summarize_durations(profiles: Sequence[KernelProfile]) -> dict[str, Any]:
    """Per kernel name: launches, total device time (``gpu__time_duration.sum``, ns) and every
    other metric summed."""
    kernels: dict[str, dict[str, float]] = {}
    for profile in profiles:
        row = kernels.setdefault(profile.name, {"launches": 0.0})
        # A profile is one launch (rocprofv3's dispatches) or says how many it covers (JAX's).
        launches = profile.metrics.get("launches")
        row["launches"] += 1.0 if launches is None else float(launches)
        for metric, value in profile.metrics.items():
            if value is not None and metric != "launches":
                row[metric] = row.get(metric, 0.0) + float(value)
    return {"kernels": kernels}


PROFILERS: dict[str, Callable[[], Profiler]] = {"ncu": _ncu, "rocprofv3": _rocprof, "jax": _jax}
# Which profiler each backend's kernels are profiled with; ``cpu`` has none.
FOR_BACKEND = {"cuda": "ncu", "triton": "ncu", "hip": "rocprofv3", "pallas": "jax"}


def profiler_for(backend: str) -> Profiler | None:
    """The profiler of ``backend``'s kernels (None: the backend has none, ``cpu``)."""
    name = FOR_BACKEND.get(backend)
    return PROFILERS[name]() if name else None
