"""The optional profile phase: after a correct verdict, the candidate's kernels are profiled with
its backend's profiler (``backends/profilers.py``) in one more sandboxed child, at the same
sandbox level, and the parent reads what the profiler wrote.

The child builds the model on the benchmark's inputs, runs a few forward calls unprofiled (builds,
autotuning, compilation), then ``PROFILED_CALLS`` inside the profiler's window: an NVTX range for
ncu, JAX's profiler for pallas, the whole child for rocprofv3. A profile informs the Judge and the
reports; it never changes a verdict, and anything that goes wrong is one line in
``extra["profile_error"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernelwright.backends.ncu import DURATION
from kernelwright.backends.profilers import OUTPUT_DIR, PROFILED_CALLS, profiler_for
from kernelwright.verifier.channel import ChannelError, Endpoint

if TYPE_CHECKING:
    from kernelwright.verifier.evaluate import Evaluation

_MAX_KERNELS_SHOWN = 40


def profile(ev: Evaluation, trial: dict[str, Any]) -> None:
    """Profile the candidate on ``trial`` (the benchmark config's inputs); the result goes into
    ``ev.verdict.extra["profile"]``, or why not into ``extra["profile_error"]``."""
    from kernelwright.verifier.evaluate import WORKER_COMMAND

    extra = ev.verdict.extra
    profiler = profiler_for(ev.backend.name)
    if profiler is None:
        extra["profile_error"] = f"backend {ev.backend.name} has no profiler"
        return
    ok, why = profiler.status()
    if not ok:
        extra["profile_error"] = f"{profiler.name}: {why}"
        return
    if ev.level == "docker":
        extra["profile_error"] = "profiling at the docker sandbox level is not supported"
        return
    exe = profiler.find() or ""
    root = profiler.install_root()

    scratches: list[Path] = []

    def command(scratch: Path) -> list[str]:
        scratches.append(scratch)
        if profiler.wrap is None:
            return list(WORKER_COMMAND)
        return profiler.wrap(exe, scratch / OUTPUT_DIR, list(WORKER_COMMAND))

    job = {"device": ev.device, "mode": "profile", "profiler": profiler.name}
    timeout = ev.options.timeout
    replies: list[Any] = []

    def serve(endpoint: Endpoint) -> None:
        hello = endpoint.recv(timeout=timeout)
        if not isinstance(hello, dict) or hello.get("ready") is not True:
            raise ChannelError("the profile child did not report ready")
        endpoint.send({"op": "profile", "trial": trial, "calls": PROFILED_CALLS}, timeout=timeout)
        replies.append(endpoint.recv(timeout=timeout))

    wrap = (command, [root] if root is not None else [])
    child, result = ev.run_phase("profile", job, timeout, conversation=serve, wrap=wrap)
    if child.timed_out or not result or result.get("ok") is not True or not replies:
        error = (result or {}).get("error") if isinstance(result, dict) else None
        reason = "timed out" if child.timed_out else str(error or "the child did not finish")
        extra["profile_error"] = f"{profiler.name}: {reason}"[:300]
        return
    try:
        kernels = profiler.read(scratches[0] / OUTPUT_DIR)
        if not kernels:
            raise ValueError("the profiler saw no device kernel in the profiled calls")
        summary = profiler.summarize(kernels)
    except ValueError as exc:
        extra["profile_error"] = f"{profiler.name}: {exc}"[:300]
        return
    extra["profile"] = {
        "profiler": profiler.name,
        "calls": PROFILED_CALLS,
        "kernels": len(kernels),
        "summary": _bounded(summary),
    }


def _bounded(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as stored: at most ``_MAX_KERNELS_SHOWN`` kernel entries."""
    kernels = summary.get("kernels")
    if isinstance(kernels, dict) and len(kernels) > _MAX_KERNELS_SHOWN:
        keep = sorted(kernels, key=lambda k: -float(kernels[k].get(DURATION, 0)))
        summary = {**summary, "kernels": {k: kernels[k] for k in keep[:_MAX_KERNELS_SHOWN]}}
    if isinstance(kernels, list) and len(kernels) > _MAX_KERNELS_SHOWN:
        summary = {**summary, "kernels": kernels[:_MAX_KERNELS_SHOWN]}
    return summary
