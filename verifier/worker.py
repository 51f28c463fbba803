"""The untrusted side: a child process that imports a candidate (or a task's reference model),
runs it on inputs the parent generated and writes raw data back.

Nothing this process writes is believed by the parent: it returns tensors, hashes, timing samples
and op traces, and the parent decides. Run as ``python -I -m kernelwright.verifier.worker JOB``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
import traceback
from pathlib import Path
from typing import Any

from kernelwright.bench_tasks.run import as_list
from kernelwright.verifier import timing
from kernelwright.verifier.channel import Endpoint
from kernelwright.verifier.reference import tensor_hash
from kernelwright.verifier.witness import OpTrace, profiled_ops


class CompiledOnly(Exception):
    """Raised by the compile-only build hook once the sources compiled."""


_RESULT_NAME = "result.pt"


def _write(scratch: Path, result: dict[str, Any]) -> None:
    import torch

    tmp = scratch / f"{_RESULT_NAME}.tmp"
    torch.save(result, tmp)
    tmp.replace(scratch / _RESULT_NAME)


def _import_candidate(path: Path) -> Any:
    _backend_hooks()
    spec = importlib.util.spec_from_file_location("candidate", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["candidate"] = module
    spec.loader.exec_module(module)
    return module


def _backend_hooks() -> None:
    """What a backend sets up in the child before the candidate is imported."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        from kernelwright.backends.triton_interp import install_interpreter_hooks

        install_interpreter_hooks()


def _install_compile_only_hook(build_dir: Path) -> None:
    """Make ``load_inline`` compile every source to an object file with the real compilers, then stop.

    Used where a backend's compiler exists but its hardware does not (nvcc without a GPU), so the
    verdict can say ``compiled`` or ``compile_error`` with the compiler's own message.
    """
    import torch.utils.cpp_extension as cpp_ext

    from kernelwright.backends.compile_only import compile_sources

    def load_inline(
        name: str, cpp_sources: Any, cuda_sources: Any = None, functions: Any = None, **kwargs: Any
    ) -> Any:
        compile_sources(build_dir, name, cpp_sources, cuda_sources, functions, kwargs)
        raise CompiledOnly(name)

    cpp_ext.load_inline = load_inline  # type: ignore[assignment]


def _signature_problem(cls: Any, init_inputs: list[Any]) -> str | None:
    import inspect

    try:
        inspect.signature(cls.__init__).bind(None, *init_inputs)
    except TypeError as exc:
        return f"ModelNew constructor does not accept the task's init inputs: {exc}"
    except ValueError:
        return None
    return None


def _model_class(module: Any) -> Any:
    import torch

    cls = getattr(module, "ModelNew", None)
    if cls is None:
        raise LookupError("the candidate defines no ModelNew")
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise LookupError("ModelNew is not a torch.nn.Module subclass")
    return cls


def mode_compile(job: dict[str, Any], scratch: Path) -> dict[str, Any]:
    if job.get("compile_only"):
        _install_compile_only_hook(scratch / "objects")
    try:
        module = _import_candidate(Path(job["candidate"]))
    except CompiledOnly:
        return {"ok": True, "compiled_only": True}
    cls = _model_class(module)
    problem = _signature_problem(cls, job.get("init_inputs_preview", []))
    if problem:
        raise LookupError(problem)
    return {"ok": True, "compiled_only": False}


def _to_device(value: Any, device: str) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().clone().to(device)
    return value


def build_model(cls: Any, trial: dict[str, Any], device: str) -> Any:
    """Seed as the reference was seeded, construct, and copy the reference's parameters over."""
    import torch

    torch.manual_seed(trial["init_seed"])
    model = cls(*trial["init_inputs"])
    reference_state = trial["state_dict"]
    own_state = model.state_dict()
    if own_state.keys() == reference_state.keys() and all(
        own_state[k].shape == reference_state[k].shape for k in own_state
    ):
        model.load_state_dict(reference_state)
    return model.to(device)


def describe_outputs(outputs: list[Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Metadata for every output, and raw CPU copies of those that are exactly ``torch.Tensor``."""
    import torch

    meta, data = [], []
    for out in outputs:
        kind = type(out)
        entry: dict[str, Any] = {"type": f"{kind.__module__}.{kind.__qualname__}"}
        if isinstance(out, torch.Tensor):
            entry.update(dtype=str(out.dtype), shape=list(out.shape), device=str(out.device))
            entry["has_storage"] = out.device.type != "meta"
        exact = kind is torch.Tensor and entry.get("has_storage", False)
        if isinstance(out, torch.Tensor) and kind is not torch.Tensor:
            entry["type"] = f"subclass {kind.__module__}.{kind.__qualname__}"
        meta.append(entry)
        data.append(out.detach().to("cpu").clone() if exact else None)
    return meta, data


POISON_BYTES = (0xFF, 0x7F)  # NaN in every float format, then huge finite values


def _poison_like(inputs: list[Any], outputs_hint: list[Any], device: str, byte: int) -> None:
    """Allocate and fill blocks of the sizes the candidate is about to allocate, then free them.

    Allocators hand freed blocks of the same size back first, so a kernel that reads memory it
    never wrote sees poison instead of plausible stale data (E04), different on each trial.
    """
    import torch

    blocks = []
    for t in [*inputs, *outputs_hint]:
        if isinstance(t, torch.Tensor) and t.numel():
            block = torch.empty(t.numel() * t.element_size(), dtype=torch.uint8, device=device)
            block.fill_(byte)
            blocks.append(block)
    del blocks


def warm_thread_pools() -> None:
    """Start the harness's own thread users (torch's intra-op pool, the op profiler) before
    counting threads, so that only the candidate's threads are counted."""
    import torch

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]):
        torch.ones(1 << 20).add_(1).sum()


def background_activity() -> dict[str, int]:
    """Python threads alive and child processes of this process (E08)."""
    import os
    import threading

    me = str(os.getpid())
    children = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me:
            children += 1
    try:
        os_threads = len(os.listdir("/proc/self/task"))
    except OSError:
        os_threads = 0
    return {"threads": threading.active_count(), "children": children, "os_threads": os_threads}


def _run_trial(
    cls: Any, trial: dict[str, Any], device: str, backward: bool, poison: int
) -> dict[str, Any]:
    import torch

    model = build_model(cls, trial, device)
    inputs = [_to_device(x, device) for x in trial["inputs"]]
    _poison_like(inputs, inputs, device, poison)
    if backward:
        for x in inputs:
            if isinstance(x, torch.Tensor) and x.is_floating_point():
                x.requires_grad_(True)
    trace = OpTrace(cls)
    with trace.mode:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            outputs = as_list(model(*inputs))
            grads: list[Any] = []
            if backward:
                grads = _backward(model, inputs, outputs, trial["grad_outputs"], device)
            _sync(device)
        trace_alive = trace.canary()
    meta, data = describe_outputs(outputs)
    grad_meta, grad_data = describe_outputs([g for _, g in grads])
    return {
        "outputs_meta": meta,
        "outputs": data,
        "grad_names": [name for name, _ in grads],
        "grads_meta": grad_meta,
        "grads": grad_data,
        "input_hashes": [tensor_hash(x) if isinstance(x, torch.Tensor) else None for x in inputs],
        "ops": trace.counts,
        "profiled_ops": profiled_ops(prof, trace),
        "trace_alive": trace_alive,
        "activity": background_activity(),
    }


def _backward(
    model: Any, inputs: list[Any], outputs: list[Any], grad_outputs: list[Any], device: str
) -> list[tuple[str, Any]]:
    import torch

    wrt: list[tuple[str, Any]] = [
        (f"input.{i}", x)
        for i, x in enumerate(inputs)
        if isinstance(x, torch.Tensor) and x.requires_grad
    ]
    wrt += [(f"param.{name}", p) for name, p in model.named_parameters() if p.requires_grad]
    differentiable = [o for o in outputs if isinstance(o, torch.Tensor) and o.requires_grad]
    if not differentiable:
        raise RuntimeError(
            "no output requires grad: the backward pass is not connected to the inputs"
        )
    go = [g.to(device) for g in grad_outputs[: len(differentiable)]]
    grads = torch.autograd.grad(differentiable, [t for _, t in wrt], go, allow_unused=True)
    return [(name, g) for (name, _), g in zip(wrt, grads, strict=True)]


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _poison_device_memory(device: str) -> None:
    """Fill the caching allocator's first blocks with NaN bytes so stale reads show (E01/E04)."""
    import torch

    if not device.startswith("cuda"):
        return
    free, _ = torch.cuda.mem_get_info()
    size = min(int(free * 0.5), 4 << 30)
    blob = torch.empty(size, dtype=torch.uint8, device=device)
    blob.fill_(0xFF)
    del blob


def mode_correctness(job: dict[str, Any], scratch: Path) -> dict[str, Any]:
    import torch

    device = job["device"]
    trials = torch.load(scratch / "trials.pt", weights_only=True)
    (scratch / "trials.pt").unlink()
    before = timing.clock_ids()
    _poison_device_memory(device)
    # torch.empty and friends then return NaN (floats) or the largest integer: a kernel that
    # reads memory it never wrote shows in the comparison (E04).
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = True  # type: ignore[attr-defined]
    warm_thread_pools()
    activity = background_activity()
    cls = _model_class(_import_candidate(Path(job["candidate"])))
    results = []
    for n, trial in enumerate(trials):
        poison = POISON_BYTES[n % len(POISON_BYTES)]
        results.append(_run_trial(cls, trial, device, job["backward"], poison))
    return {
        "ok": True,
        "trials": results,
        "activity_before": activity,
        "clock_ids_before": before,
        "clock_ids_after": timing.clock_ids(),
    }


def _spot_values(outputs: list[Any], picks: list[list[int]]) -> list[list[float]]:
    """The values at the flat positions the parent picked, one list per output."""
    import torch

    values: list[list[float]] = []
    for n, idx in enumerate(picks):
        out = outputs[n] if n < len(outputs) else None
        if not idx or not isinstance(out, torch.Tensor) or out.numel() == 0:
            values.append([])
            continue
        flat = out.detach().reshape(-1)
        where = torch.tensor([i % flat.numel() for i in idx], device=flat.device)
        values.append(flat[where].to("cpu", torch.float64).tolist())
    return values


_LAYOUT = random.Random()


class TimedRunner:
    """The call to time, over fresh copies of input sets, prepared outside the timing."""

    def __init__(
        self, job: dict[str, Any], cls: Any, payload: dict[str, Any], compile_model: bool = False
    ) -> None:
        import torch

        self.device = job["device"]
        self.backward = bool(job["backward"])
        model = build_model(cls, payload["model"], self.device)
        self.model = torch.compile(model) if compile_model else model
        self.sets: dict[int, list[Any]] = {
            n: [_to_device(x, self.device) for x in inputs]
            for n, inputs in enumerate(payload["input_sets"])
        }
        self.grad_outputs = [g.to(self.device) for g in payload.get("grad_outputs") or []]
        self.current: list[Any] = []
        self.shift: Any = None  # the random block ahead of the current copies (see prepare)
        # Held-out inputs are copied into this set, allocated up front like the loop's sets, so
        # a held-out call allocates exactly what a loop call does (no page faults of its own).
        self.slot = [x.clone() if isinstance(x, torch.Tensor) else x for x in self.sets[0]]

    def load_held_out(self, inputs: list[Any]) -> None:
        import torch

        for n, x in enumerate(inputs):
            kept = self.slot[n] if n < len(self.slot) else None
            same = isinstance(x, torch.Tensor) and isinstance(kept, torch.Tensor)
            if same and kept.shape == x.shape and kept.dtype == x.dtype:  # type: ignore[union-attr]
                kept.copy_(x)  # type: ignore[union-attr]
            elif n < len(self.slot):
                self.slot[n] = _to_device(x, self.device)
            else:
                self.slot.append(_to_device(x, self.device))

    def prepare(self, inputs: list[Any]) -> None:
        import torch

        self.current = []
        # A block of random size ahead of the fresh copies moves them (and the output allocated
        # after them) to a different offset on every call: how an input and an output line up
        # (4K aliasing, cache sets) otherwise stays fixed for a whole process and splits the
        # medians of a memory-bound kernel between evaluations.
        self.shift = torch.empty(_LAYOUT.randrange(1, 64) * 64, dtype=torch.uint8)
        for x in inputs:
            if isinstance(x, torch.Tensor):
                fresh = x.clone()
                if self.backward and fresh.is_floating_point():
                    fresh.requires_grad_(True)
                self.current.append(fresh)
            else:
                self.current.append(x)

    def call(self) -> Any:
        import torch

        outputs = self.model(*self.current)
        if self.backward:
            outs = [o for o in as_list(outputs) if isinstance(o, torch.Tensor) and o.requires_grad]
            torch.autograd.backward(outs, self.grad_outputs[: len(outs)])
        return outputs


def fix_conditions(threads: int | None, cpus: list[int] | None) -> dict[str, Any]:
    """Pin the timing child's thread counts and CPUs, as the parent chose them, before any
    candidate code runs, so that every evaluation is measured under the same conditions."""
    import torch

    applied: dict[str, Any] = {}
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)
            applied["cpus"] = sorted(os.sched_getaffinity(0))
        except OSError:
            applied["cpus"] = None
    if threads:
        torch.set_num_threads(threads)
    applied["threads"] = torch.get_num_threads()
    return applied


def mode_timing(job: dict[str, Any], scratch: Path, channel: Endpoint | None) -> dict[str, Any]:
    """Serve the parent's timing loop: each request names one input set (or brings one the child
    has never seen) and gets back one sample, with the output values the parent asked for."""
    import torch

    if channel is None:
        raise RuntimeError("the timing phase needs the parent's channel")
    payload = torch.load(scratch / "timing.pt", weights_only=True)
    (scratch / "timing.pt").unlink()
    conditions = fix_conditions(job.get("threads"), job.get("cpus"))
    before = timing.clock_ids()
    warm_thread_pools()
    activity = background_activity()
    if job.get("reference"):
        sys.path.insert(0, str(Path(job["task_path"]).parent))
        from kernelwright.bench_tasks.task import load_task_module

        cls = load_task_module(Path(job["task_path"]), job.get("overrides") or {}).Model
    else:
        cls = _model_class(_import_candidate(Path(job["candidate"])))
    runners: dict[str, TimedRunner] = {"eager": TimedRunner(job, cls, payload)}
    clock = timing.make_clock(job["device"])
    channel.send({"ready": True, "conditions": conditions})
    while True:
        request = channel.recv()
        if request.get("op") == "end":
            break
        model = request.get("model", "eager")
        if model not in runners:
            try:
                runners[model] = TimedRunner(job, cls, payload, compile_model=True)
            except Exception as exc:
                channel.send({"error": f"{type(exc).__name__}: {str(exc)[:300]}"})
                continue
        runner = runners[model]
        s = int(request["set"])
        held_out = request.get("inputs") is not None
        if held_out:  # an input set seen for the first and only time
            runner.load_held_out(request.pop("inputs"))
        try:
            runner.prepare(runner.slot if held_out else runner.sets[s])
            clock.flush()
            out, ms = clock.time_call(runner.call)
        except Exception as exc:
            if model == "eager":
                raise
            channel.send({"error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            continue
        outputs = as_list(out)
        reply: dict[str, Any] = {"ms": ms}
        if request.get("spots"):
            reply["spots"] = _spot_values(outputs, request["spots"])
        if request.get("full"):
            reply["output"] = describe_outputs(outputs)[1]
        del out, outputs
        runner.current = []
        channel.send(reply)
    result: dict[str, Any] = {"ok": True, "conditions": conditions}
    if isinstance(clock, timing.CudaClock):
        result["l2_reset"] = {
            "available": clock.reset_l2 is not None,
            "failed": clock.l2_resets_failed,
        }
    result["clock_ids_before"] = before
    result["clock_ids_after"] = timing.clock_ids()
    result["activity_before"] = activity
    result["activity_after"] = background_activity()
    return result


MODES = {"compile": mode_compile, "correctness": mode_correctness, "timing": mode_timing}


def main(argv: list[str]) -> int:
    job_path = Path(argv[0])
    scratch = job_path.parent
    job = json.loads(job_path.read_text())
    job_path.unlink()
    # The parent names the result file (and, for a driven phase, the fd of its reply pipe) on
    # stdin, read before any candidate code runs, so the candidate cannot know where its verdict
    # data goes (E12).
    global _RESULT_NAME
    first = sys.stdin.buffer.readline().decode(errors="replace").split()
    _RESULT_NAME = first[0] if first else _RESULT_NAME
    channel = Endpoint(0, int(first[1]), trusted=True) if len(first) > 1 else None
    try:
        if job["mode"] == "timing":
            result = mode_timing(job, scratch, channel)
        else:
            result = MODES[job["mode"]](job, scratch)  # type: ignore[operator]
    except BaseException as exc:  # the candidate may raise anything, SystemExit included
        kind = "compile" if job["mode"] == "compile" else "runtime"
        message = f"{type(exc).__name__}: {exc}".strip()
        result = {
            "ok": False,
            "error_kind": kind,
            "error": message[:4000],
            "traceback": traceback.format_exc()[-8000:],
        }
    _write(scratch, result)
    sys.stdout.flush()
    sys.stderr.flush()
    # No atexit handler or thread the candidate left behind gets to run after the result.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
