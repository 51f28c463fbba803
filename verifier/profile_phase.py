"""The optional phases after a correct verdict, each in one more sandboxed child: the profile
phase and the compute-sanitizer passes.

The profile phase: after a correct verdict, the candidate's kernels are profiled with
its backend's profiler (``backends/profilers.py``) in one more sandboxed child, at the same
sandbox level, and the parent reads what the profiler wrote.

The child builds the model on the benchmark's inputs, runs a few forward calls unprofiled (builds,
autotuning, compilation), then ``PROFILED_CALLS`` inside the profiler's window: an NVTX range for
ncu, JAX's profiler for pallas, the whole child for rocprofv3. A profile informs the Judge and the
reports; it never changes a verdict, and anything that goes wrong is one line in
``extra["profile_error"]``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernelwright.backends.ncu import DURATION
from kernelwright.backends.profilers import (
    OUTPUT_DIR,
    PROFILED_CALLS,
    install_root,
    profiler_for,
)
from kernelwright.verifier.channel import ChannelError, Endpoint

if TYPE_CHECKING:
    from kernelwright.verifier.evaluate import Evaluation

_MAX_KERNELS_SHOWN = 40


def optional(ev: Evaluation, name: str, phase: Callable[..., None], *args: Any) -> None:
    """Run one optional phase; any failure of its own (a sandbox that cannot start, a tool's
    argv refused, a summary that trips) is ``extra["<name>_error"]``, and the verdict stands."""
    try:
        phase(ev, *args)
    except Exception as exc:
        ev.verdict.extra.setdefault(f"{name}_error", f"{type(exc).__name__}: {exc}"[:300])


def run_under(
    ev: Evaluation,
    phase: str,
    wrap: Callable[[Path], list[str]] | None,
    roots: list[Path],
    window: str,
    trial: dict[str, Any],
    reply: dict[str, Any] | None = None,
) -> tuple[Path | None, str]:
    """Run the candidate's forward on ``trial`` in one more sandboxed child of ``phase``, its
    argv from ``wrap`` (given the child's output folder; None: the worker alone), with
    ``roots`` bound read-only and the profiled calls inside ``window`` (``ncu``, ``jax`` or
    ``none``; ``graph``: timed as CUDA graph replays). The output folder the tool wrote into
    (None where no child ran) and why the child did not finish ("" when it did); the child's
    last reply goes into ``reply``."""
    from kernelwright.verifier.evaluate import WORKER_COMMAND

    if ev.level == "docker":
        return None, f"the {phase} phase does not run at the docker sandbox level"
    folders: list[Path] = []

    def command(scratch: Path) -> list[str]:
        folders.append(scratch / OUTPUT_DIR)
        if wrap is None:
            return list(WORKER_COMMAND)
        return wrap(scratch / OUTPUT_DIR)

    job = {"device": ev.device, "mode": "profile", "profiler": window}
    timeout = ev.options.timeout
    replies: list[Any] = []

    def serve(endpoint: Endpoint) -> None:
        hello = endpoint.recv(timeout=timeout)
        if not isinstance(hello, dict) or hello.get("ready") is not True:
            raise ChannelError(f"the {phase} child did not report ready")
        request = {"op": "profile", "trial": trial, "calls": PROFILED_CALLS}
        endpoint.send({**request, "replays": GRAPH_REPLAYS}, timeout=timeout)
        replies.append(endpoint.recv(timeout=timeout))

    child, result = ev.run_phase(phase, job, timeout, conversation=serve, wrap=(command, roots))
    folder = folders[0] if folders else None
    if child.timed_out or not result or result.get("ok") is not True or not replies:
        error = (result or {}).get("error") if isinstance(result, dict) else None
        return folder, "timed out" if child.timed_out else str(error or "the child did not finish")
    if reply is not None and isinstance(replies[0], dict):
        reply.update(replies[0])
    return folder, ""


def profile(ev: Evaluation, trial: dict[str, Any]) -> None:
    """Profile the candidate on ``trial`` (the benchmark config's inputs); the result goes into
    ``ev.verdict.extra["profile"]``, or why not into ``extra["profile_error"]``."""
    extra = ev.verdict.extra
    profiler = profiler_for(ev.backend.name)
    if profiler is None:
        extra["profile_error"] = f"backend {ev.backend.name} has no profiler"
        return
    ok, why = profiler.status()
    if not ok:
        extra["profile_error"] = f"{profiler.name}: {why}"
        return
    exe, around = profiler.find() or "", profiler.wrap
    root = profiler.install_root()
    wrap = None
    if around is not None:

        def wrap(folder: Path) -> list[str]:
            from kernelwright.verifier.evaluate import WORKER_COMMAND

            return around(exe, folder, list(WORKER_COMMAND))

    where, failed = run_under(ev, "profile", wrap, [root] if root else [], profiler.name, trial)
    if failed or where is None:
        extra["profile_error"] = f"{profiler.name}: {failed}"[:300]
        return
    try:
        kernels = profiler.read(where)
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


def sanitize(ev: Evaluation, trial: dict[str, Any], tools: tuple[str, ...]) -> None:
    """Run ``tools`` of compute-sanitizer over a correct candidate, one child each; what they
    find becomes flags (``sanitizer_<tool>``), and why one could not run, a line in
    ``extra["sanitizer_error"]``."""
    from kernelwright.backends.base import cuda_device
    from kernelwright.backends.sanitizer import (
        find_compute_sanitizer,
        read_log,
        sanitizer_command,
    )
    from kernelwright.verifier.evaluate import WORKER_COMMAND
    from kernelwright.verifier.guards import Finding

    extra = ev.verdict.extra
    exe = find_compute_sanitizer()
    ok, what = cuda_device()
    if ev.backend.name not in ("cuda", "triton") or not ok or exe is None:
        why = "no NVIDIA GPU" if not ok else "compute-sanitizer not found"
        if ev.backend.name not in ("cuda", "triton"):
            why = f"compute-sanitizer checks cuda and triton kernels, not {ev.backend.name}"
        extra["sanitizer_error"] = why
        return
    root = install_root(exe)
    found: dict[str, Any] = {}
    for tool in tools:

        def wrap(folder: Path, tool: str = tool) -> list[str]:
            return sanitizer_command(exe, tool, folder, list(WORKER_COMMAND))

        # A finding often ends the run (memcheck stops the kernel, the forward raises): the
        # log is read whether or not the child finished.
        where, failed = run_under(ev, f"sanitize_{tool}", wrap, [root], "none", trial)
        try:
            if where is None:
                raise ValueError(failed)
            report = read_log(where, tool)
        except ValueError as exc:
            extra.setdefault("sanitizer_error", f"{tool}: {failed or exc}"[:300])
            continue
        found[tool] = {"errors": report.errors, "findings": report.findings}
        if report.errors or report.findings:
            listed = "; ".join(report.findings[:3]) or "see the tool's log"
            detail = f"{report.errors} error(s): {listed}"[:400]
            ev.verdict.flags.append(Finding(f"sanitizer_{tool}", detail))
    extra["sanitizer"] = found


# CUDA graph replays timed per launch-bound candidate: enough for a median, a fraction of a second.
GRAPH_REPLAYS = 50


def graph_timing(ev: Evaluation, trial: dict[str, Any]) -> None:
    """Time a launch-bound candidate's forward captured in a CUDA graph, replayed (one launch
    for the whole forward), reported apart from the verdict's timing in ``extra["cuda_graph"]``.
    The samples are the child's own CUDA events: a figure for the Judge, never a verdict's; the
    parent's clock around the child bounds them."""
    extra = ev.verdict.extra
    if not ev.device.startswith("cuda") or ev.backend.name not in ("cuda", "triton"):
        extra["cuda_graph_error"] = "CUDA graphs are timed for cuda and triton kernels on a GPU"
        return
    reply: dict[str, Any] = {}
    _, failed = run_under(ev, "graph", None, [], "graph", trial, reply)
    samples = reply.get("samples")
    if failed or not isinstance(samples, list) or not samples:
        extra["cuda_graph_error"] = str(failed or "no samples")[:300]
        return
    clean = [float(v) for v in samples if isinstance(v, int | float) and not isinstance(v, bool)]
    clean = [v for v in clean if math.isfinite(v) and v > 0]
    wall_ms = 1000.0 * float(extra.get("phases", {}).get("graph", 0.0))
    if len(clean) != len(samples) or (wall_ms and sum(clean) > wall_ms):
        extra["cuda_graph_error"] = "the graph samples are not times the child could have taken"
        return
    median = statistics.median(clean)
    eager = ev.verdict.timing.candidate_ms
    extra["cuda_graph"] = {
        "median_ms": median,
        "replays": len(clean),
        "vs_launched": (eager / median) if eager else None,
    }
