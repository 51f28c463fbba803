"""The untrusted side: a child process that imports a candidate (or a task's reference model),
runs it on inputs the parent generated and writes raw data back.

Nothing this process writes is believed by the parent: it returns tensors, hashes, timing samples
and op traces, and the parent decides. Run as ``python -I -m kernelwright.verifier.worker`` with
the same argv, working-directory layout and environment in every phase: the first stdin line names
the result file and the fd of the reply pipe, and everything else (the job, then every input, one
call at a time) arrives as frames from the parent, so nothing the verdict depends on is in this
process before it is needed (E21, E23).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import sys
import traceback
from pathlib import Path
from typing import Any

from kernelwright.bench_tasks.run import as_list
from kernelwright.verifier import launches, timing
from kernelwright.verifier.channel import Endpoint
from kernelwright.verifier.harness_guard import EntryPoints, Watch
from kernelwright.verifier.reference import tensor_hash


class CompiledOnly(Exception):
    """Raised by the compile-only build hook once the sources compiled."""


_RESULT_NAME = "result.pt"
# Taken in main() before any candidate code runs; the harness calls tensors' methods and torch's
# functions through these (E22).
_H: EntryPoints | None = None
_WATCH: Watch | None = None
_JOB: dict[str, Any] = {}
# Backends whose kernel launches the child counts (verifier/launches.py).
_LAUNCH_BACKENDS = ("triton", "cpu", "cuda", "hip", "pallas")
# Set in every phase of a pallas candidate's children (backends/pallas.py: CHILD_FLAG).
_PALLAS_FLAG = "KERNELWRIGHT_PALLAS"


def _entry() -> EntryPoints:
    global _H
    if _H is None:
        _H = EntryPoints()
    return _H


def _watch() -> None:
    global _WATCH
    h = _entry()
    tables = {
        "worker": globals(),
        "worker.TimedRunner": vars(TimedRunner),
        "worker.InputStore": vars(InputStore),
        "the harness's entry points": vars(h),
        "launches": vars(launches),
        "launches.LaunchCounter": vars(launches.LaunchCounter),
    }
    if "kernelwright.verifier.jax_witness" in sys.modules:
        from kernelwright.verifier import jax_witness

        tables.update({"jax_witness": vars(jax_witness), **jax_witness.watched()})
    _WATCH = Watch(tables)


def _tampered() -> list[str]:
    """Harness entries the candidate replaced since it was imported (compared after every call)."""
    return _WATCH.changed() if _WATCH is not None else []


def _write(scratch: Path, result: dict[str, Any]) -> None:
    tmp = scratch / f"{_RESULT_NAME}.tmp"
    _entry().save(result, tmp)
    tmp.replace(scratch / _RESULT_NAME)


def _import_candidate(path: Path) -> Any:
    _backend_hooks()
    if _JOB.get("backend") in _LAUNCH_BACKENDS:
        launches.install(_JOB["backend"])
    if _JOB.get("backend") == "pallas":
        from kernelwright.verifier import jax_witness

        jax_witness.install()
    _watch()
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
    if os.environ.get(_PALLAS_FLAG) == "interpret":
        from kernelwright.backends import pallas_interp

        pallas_interp.install_interpreter_hooks()


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
        backend = str(_JOB.get("backend") or "cuda")
        compile_sources(build_dir, name, cpp_sources, cuda_sources, functions, kwargs, backend)
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
    # What the other phases do before the import, so that the candidate sees the same process.
    warm_thread_pools()
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
    h = _entry()
    if isinstance(value, h.Tensor):
        return h.to(h.clone(h.detach(value)), device)
    return value


def build_model(cls: Any, trial: dict[str, Any], device: str) -> Any:
    """Seed as the reference was seeded, construct, and copy the reference's parameters over."""
    h = _entry()
    h.manual_seed(trial["init_seed"])
    model = cls(*trial["init_inputs"])
    reference_state = trial["state_dict"]
    own_state = model.state_dict()
    if own_state.keys() == reference_state.keys() and all(
        h.shape(own_state[k]) == h.shape(reference_state[k]) for k in own_state
    ):
        model.load_state_dict(reference_state)
    return model.to(device)


def describe_outputs(outputs: list[Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Metadata for every output, and raw CPU copies of those that are exactly ``torch.Tensor``."""
    h = _entry()
    meta, data = [], []
    for out in outputs:
        kind = type(out)
        entry: dict[str, Any] = {"type": f"{kind.__module__}.{kind.__qualname__}"}
        is_tensor = isinstance(out, h.Tensor)
        if is_tensor:
            device = h.device(out)
            entry.update(dtype=str(h.dtype(out)), shape=h.shape(out), device=str(device))
            entry["has_storage"] = device.type != "meta"
        exact = kind is h.Tensor and entry.get("has_storage", False)
        if is_tensor and kind is not h.Tensor:
            entry["type"] = f"subclass {kind.__module__}.{kind.__qualname__}"
        meta.append(entry)
        data.append(h.clone(h.to(h.detach(out), "cpu")) if exact else None)
    return meta, data


def _poison_like(inputs: list[Any], outputs_hint: list[Any], device: str, byte: int) -> None:
    """Allocate and fill blocks of the sizes the candidate is about to allocate, then free them.

    Allocators hand freed blocks of the same size back first, so a kernel that reads memory it
    never wrote sees poison instead of plausible stale data (E04), different on each trial.
    """
    h = _entry()
    blocks = []
    for t in [*inputs, *outputs_hint]:
        if isinstance(t, h.Tensor) and h.numel(t):
            block = h.empty(h.numel(t) * h.element_size(t), dtype=h.uint8, device=device)
            h.fill_(block, byte)
            blocks.append(block)
    del blocks


def warm_thread_pools() -> None:
    """Start the harness's own thread users (torch's intra-op pool, the op profiler) before
    counting threads, so that only the candidate's threads are counted."""
    import torch

    activities = [torch.profiler.ProfilerActivity.CPU]
    on_gpu = str(_JOB.get("device", "")).startswith("cuda")
    if on_gpu:
        # The witnessed calls record the device's kernels too (CUPTI starts threads of its own).
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities):
        x = torch.ones(1 << 20, device="cuda" if on_gpu else "cpu")
        x.add_(1).sum()
        if on_gpu:
            torch.cuda.synchronize()


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


def _witnessed(cls: Any, run: Any) -> tuple[Any, dict[str, Any]]:
    """Run ``run()`` under both op witnesses; its result and what they saw."""
    h = _entry()
    trace = h.OpTrace(cls)
    counting = launches.counter() if launches.counter().backends else None
    window: Any = counting.window() if counting is not None else contextlib.nullcontext({})
    # On a GPU the profiler also records the device's kernels: the launch overhead figures.
    on_gpu = str(_JOB.get("device", "")).startswith("cuda")
    activities = [h.cpu_activity, h.cuda_activity] if on_gpu else [h.cpu_activity]
    with trace.mode:
        with h.profile(activities=activities) as prof, window as launched:
            value = run()
        trace_alive = trace.canary()
    seen = {
        "ops": trace.counts,
        "profiled_ops": h.profiled_ops(prof, trace),
        "trace_alive": trace_alive,
    }
    if on_gpu:
        seen["device_activity"] = h.device_activity(prof)
    if _JOB.get("backend") == "pallas":
        from kernelwright.verifier import jax_witness

        # Counted since before the candidate was imported: a jitted computation binds its
        # primitives only when traced (verifier/jax_witness.py).
        seen["jax_alive"] = jax_witness.canary()
        seen["jax_ops"] = jax_witness.counts()
    if counting is not None:
        seen["launches"] = _own_launches(counting, launched)
    return value, seen


_OWN_KEYS: dict[str, bool] = {}


def _own_launches(counting: Any, launched: dict[str, int]) -> dict[str, int]:
    """The launches of kernels the candidate defined (its file, its extension builds)."""
    # Anything the candidate could write is its own: its file, its builds, its scratch dir.
    roots = [str(_JOB.get("candidate", "")), os.environ.get("TORCH_EXTENSIONS_DIR", "")]
    roots += [str(_JOB.get("scratch", "")), os.environ.get("TMPDIR", "")]
    unknown = {k: n for k, n in launched.items() if k not in _OWN_KEYS}
    if unknown:
        own = counting.own(unknown, [r for r in roots if r])
        _OWN_KEYS.update({k: k in own for k in unknown})
    return {k: n for k, n in launched.items() if _OWN_KEYS[k]}


def _run_trial(
    cls: Any, trial: dict[str, Any], device: str, backward: bool, poison: int
) -> dict[str, Any]:
    h = _entry()
    model = build_model(cls, trial, device)
    inputs = [_to_device(x, device) for x in trial["inputs"]]
    _poison_like(inputs, inputs, device, poison)
    if backward:
        for x in inputs:
            if isinstance(x, h.Tensor) and h.is_floating_point(x):
                h.requires_grad_(x, True)

    def forward() -> tuple[list[Any], list[Any]]:
        outputs = as_list(model(*inputs))
        grads: list[Any] = []
        if backward:
            grads = _backward(model, inputs, outputs, trial["grad_outputs"], device)
        _sync(device)
        return outputs, grads

    (outputs, grads), seen = _witnessed(cls, forward)
    meta, data = describe_outputs(outputs)
    grad_meta, grad_data = describe_outputs([g for _, g in grads])
    return {
        "outputs_meta": meta,
        "outputs": data,
        "grad_names": [name for name, _ in grads],
        "grads_meta": grad_meta,
        "grads": grad_data,
        "input_hashes": [tensor_hash(x) if isinstance(x, h.Tensor) else None for x in inputs],
        **seen,
        "activity": background_activity(),
    }


def _backward(
    model: Any, inputs: list[Any], outputs: list[Any], grad_outputs: list[Any], device: str
) -> list[tuple[str, Any]]:
    h = _entry()
    wrt: list[tuple[str, Any]] = [
        (f"input.{i}", x)
        for i, x in enumerate(inputs)
        if isinstance(x, h.Tensor) and h.requires_grad(x)
    ]
    wrt += [(f"param.{name}", p) for name, p in model.named_parameters() if h.requires_grad(p)]
    differentiable = [o for o in outputs if isinstance(o, h.Tensor) and h.requires_grad(o)]
    if not differentiable:
        raise RuntimeError(
            "no output requires grad: the backward pass is not connected to the inputs"
        )
    go = [h.to(g, device) for g in grad_outputs[: len(differentiable)]]
    grads = h.grad(differentiable, [t for _, t in wrt], go, allow_unused=True)
    return [(name, g) for (name, _), g in zip(wrt, grads, strict=True)]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        _entry().synchronize()


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


def mode_correctness(job: dict[str, Any], scratch: Path, channel: Endpoint) -> dict[str, Any]:
    """Serve the parent's trials, one at a time: each arrives only after the previous one's
    outputs went back, so no trial's inputs are in this process before it runs (E21)."""
    import torch

    device = job["device"]
    before = timing.clock_ids()
    _poison_device_memory(device)
    # torch.empty and friends then return NaN (floats) or the largest integer: a kernel that
    # reads memory it never wrote shows in the comparison (E04).
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = True  # type: ignore[attr-defined]
    warm_thread_pools()
    activity = background_activity()
    cls = _model_class(_import_candidate(Path(job["candidate"])))
    channel.send({"ready": True})
    served = 0
    while True:
        request = channel.recv()
        if request.get("op") == "end":
            break
        out = _run_trial(cls, request["trial"], device, job["backward"], int(request["poison"]))
        out["tampered"] = _tampered()
        channel.send(out)
        served += 1
    return {
        "ok": True,
        "served": served,
        "activity_before": activity,
        "clock_ids_before": before,
        "clock_ids_after": timing.clock_ids(),
    }


def _spot_values(outputs: list[Any], picks: list[list[int]]) -> list[list[float]]:
    """The values at the flat positions the parent picked, one list per output."""
    h = _entry()
    values: list[list[float]] = []
    for n, idx in enumerate(picks):
        out = outputs[n] if n < len(outputs) else None
        if not idx or not isinstance(out, h.Tensor) or h.numel(out) == 0:
            values.append([])
            continue
        flat = h.reshape(h.detach(out), (-1,))
        size = h.numel(flat)
        where = h.tensor([i % size for i in idx], device=h.device(flat))
        values.append(h.tolist(h.to(h.index(flat, where), "cpu", h.float64)))
    return values


_LAYOUT = random.Random()


class InputStore:
    """The input sets a timing child has been handed, each on the call that first used it, and
    the slot held-out sets are copied into."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.sets: dict[int, list[Any]] = {}
        # Held-out inputs are copied into this set, allocated with the first loop set, so a
        # held-out call allocates exactly what a loop call does (no page faults of its own).
        self.slot: list[Any] | None = None

    def add(self, n: int, inputs: list[Any]) -> None:
        h = _entry()
        self.sets[n] = [_to_device(x, self.device) for x in inputs]
        if self.slot is None:
            self.slot = [h.clone(x) if isinstance(x, h.Tensor) else x for x in self.sets[n]]

    def load_held_out(self, inputs: list[Any]) -> list[Any]:
        h = _entry()
        if self.slot is None:
            self.slot = []
        for n, x in enumerate(inputs):
            kept = self.slot[n] if n < len(self.slot) else None
            same = isinstance(x, h.Tensor) and isinstance(kept, h.Tensor)
            if same and h.shape(kept) == h.shape(x) and h.dtype(kept) == h.dtype(x):
                h.copy_(kept, x)
            elif n < len(self.slot):
                self.slot[n] = _to_device(x, self.device)
            else:
                self.slot.append(_to_device(x, self.device))
        return self.slot


class TimedRunner:
    """The call to time, over fresh copies of input sets, prepared outside the timing."""

    def __init__(
        self, job: dict[str, Any], cls: Any, payload: dict[str, Any], compile_model: bool = False
    ) -> None:
        import torch

        h = _entry()
        self.device = job["device"]
        self.backward = bool(job["backward"])
        model = build_model(cls, payload["model"], self.device)
        self.model = torch.compile(model) if compile_model else model
        self.grad_outputs = [h.to(g, self.device) for g in payload.get("grad_outputs") or []]
        self.params = [p for p in model.parameters()]
        self.current: list[Any] = []
        self.shift: Any = None  # the random block ahead of the current copies (see prepare)

    def prepare(self, inputs: list[Any]) -> None:
        h = _entry()
        self.current = []
        # A block of random size ahead of the fresh copies moves them (and the output allocated
        # after them) to a different offset on every call: how an input and an output line up
        # (4K aliasing, cache sets) otherwise stays fixed for a whole process and splits the
        # medians of a memory-bound kernel between evaluations.
        self.shift = h.empty(_LAYOUT.randrange(1, 64) * 64, dtype=h.uint8)
        for x in inputs:
            if isinstance(x, h.Tensor):
                fresh = h.clone(x)
                if self.backward and h.is_floating_point(fresh):
                    h.requires_grad_(fresh, True)
                self.current.append(fresh)
            else:
                self.current.append(x)

    def call(self) -> Any:
        h = _entry()
        outputs = self.model(*self.current)
        if self.backward:
            outs = [o for o in as_list(outputs) if isinstance(o, h.Tensor) and h.requires_grad(o)]
            # Gradients returned, not accumulated: accumulating into .grad would run an add
            # (torch's arithmetic, seen by the witnesses) on every call after the first.
            wrt = [x for x in self.current if isinstance(x, h.Tensor) and h.requires_grad(x)]
            wrt += [p for p in self.params if h.requires_grad(p)]
            h.grad(outs, wrt, self.grad_outputs[: len(outs)], allow_unused=True)
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


def mode_timing(job: dict[str, Any], scratch: Path, channel: Endpoint) -> dict[str, Any]:
    """Serve the parent's timing loop: each request names one input set (handed over on the
    call that first uses it) or brings one the child never sees again, and gets back one sample
    with the output values the parent asked for; some calls run untimed under the witnesses."""
    payload = job["payload"]
    conditions = fix_conditions(job.get("threads"), job.get("cpus"))
    before = timing.clock_ids()
    warm_thread_pools()
    activity = background_activity()
    # The clock and its bound methods are taken before the candidate is imported (E10, E22).
    clock = timing.make_clock(job["device"])
    flush, time_call = clock.flush, clock.time_call
    if job.get("reference"):
        sys.path.insert(0, str(Path(job["task_path"]).parent))
        from kernelwright.bench_tasks.task import load_task_module

        cls = load_task_module(Path(job["task_path"]), job.get("overrides") or {}).Model
        _watch()  # the same per-call work as a candidate's child, so the gaps compare
    else:
        cls = _model_class(_import_candidate(Path(job["candidate"])))
    store = InputStore(job["device"])
    runners: dict[str, TimedRunner] = {"eager": TimedRunner(job, cls, payload)}
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
        if request.get("load") is not None:
            store.add(s, request.pop("load"))
        held_out = request.get("inputs") is not None
        inputs = store.load_held_out(request.pop("inputs")) if held_out else store.sets[s]
        reply: dict[str, Any] = {}
        try:
            runner.prepare(inputs)
            if request.get("traced"):
                out, reply["traced"] = _witnessed(cls, runner.call)
            else:
                flush()
                # The parent's clock brackets only what follows: the call, its sample and the
                # reply, not the copies and the flush, so its time beyond the sample is small
                # and steady, and work moved out of the timed interval shows (E21).
                channel.send({"prepared": True})
                go = channel.recv()
                if go.get("op") != "go":
                    break
                counting = launches.counter() if launches.counter().backends else None
                window: Any = counting.window() if counting else contextlib.nullcontext({})
                with window as launched:  # read outside the clock's interval
                    out, reply["ms"] = time_call(runner.call)
                if counting is not None:
                    reply["launches"] = _own_launches(counting, launched)
        except Exception as exc:
            if model == "eager":
                raise
            channel.send({"error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            continue
        reply["tampered"] = _tampered()
        channel.send(reply)
        # Which values the parent checks, and whether in full, it says only now, after the call
        # (E06: a call cannot know which of its outputs will be looked at).
        inspect = channel.recv()
        if inspect.get("op") != "inspect":
            break
        outputs = as_list(out)
        answer: dict[str, Any] = {}
        if inspect.get("spots"):
            answer["spots"] = _spot_values(outputs, inspect["spots"])
        if inspect.get("full"):
            answer["output"] = describe_outputs(outputs)[1]
        del out, outputs
        runner.current = []
        channel.send(answer)
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


def mode_compile_driven(job: dict[str, Any], scratch: Path, channel: Endpoint) -> dict[str, Any]:
    """Build and import the candidate, then wait while the parent reads what this process
    mapped (every phase ends that way)."""
    result = mode_compile(job, scratch)
    channel.send({"done": True})
    channel.recv()
    return result


def mode_profile(job: dict[str, Any], scratch: Path, channel: Endpoint) -> dict[str, Any]:
    """Run the benchmark's inputs through the candidate, a few calls unprofiled, then a few
    inside the profiler's window (verifier/profile_phase.py); the profiler's files are the
    result, read by the parent."""
    device = job["device"]
    cls = _model_class(_import_candidate(Path(job["candidate"])))
    channel.send({"ready": True})
    request = channel.recv()
    trial, calls = request["trial"], int(request["calls"])
    model = build_model(cls, trial, device)
    inputs = [_to_device(x, device) for x in trial["inputs"]]
    for _ in range(calls):  # builds, autotuning and compilation stay out of the profile
        model(*inputs)
    _sync(device)
    if job.get("profiler") == "graph":
        channel.send(
            {"done": True, "samples": _graph_replays(model, inputs, int(request["replays"]))}
        )
        return {"ok": True}
    from kernelwright.backends.profilers import OUTPUT_DIR

    with _profiled(str(job.get("profiler")), scratch / OUTPUT_DIR, device):
        for _ in range(calls):
            model(*inputs)
        _sync(device)
    channel.send({"done": True})
    return {"ok": True}


def _graph_replays(model: Any, inputs: list[Any], replays: int) -> list[float]:
    """The forward captured in a CUDA graph (warmed on a side stream first, as capture needs),
    then each replay timed with CUDA events, in milliseconds."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            model(*inputs)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        model(*inputs)
    samples = []
    for _ in range(replays):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        samples.append(float(start.elapsed_time(end)))
    return samples


@contextlib.contextmanager
def _profiled(profiler: str, out: Path, device: str) -> Any:
    if profiler == "ncu" and device.startswith("cuda"):
        import torch.cuda.nvtx

        from kernelwright.backends.ncu import NVTX_RANGE

        with torch.cuda.nvtx.range(NVTX_RANGE):
            yield
    elif profiler == "jax":
        import jax

        with jax.profiler.trace(str(out), create_perfetto_trace=True):
            yield
    else:  # rocprofv3 traces the whole child
        yield


MODES = {
    "compile": mode_compile_driven,
    "correctness": mode_correctness,
    "timing": mode_timing,
    "profile": mode_profile,
}


def _preload() -> None:
    """Import what the harness would otherwise load lazily once the candidate is in: the op
    profiler's first start imports ``torch._inductor``, and with it ``torch._dynamo``, which
    rewraps entries the harness watches (``torch.manual_seed``), so it must be in before the
    watch's snapshot. Done before the job is read, in every phase alike (E23: what is loaded
    must not tell the phases apart): a child started ahead of its phase pays this second while
    it waits for its job."""
    with contextlib.suppress(Exception):
        import torch._inductor  # noqa: F401
    if os.environ.get(_PALLAS_FLAG):
        # jax, Pallas and XLA's client, whose thread pools (LLVM's workers among them) start with
        # the first compiled computation, so that they are there before the candidate is
        # imported (E08 counts threads) and its first call does not pay for them.
        with contextlib.suppress(Exception):
            _preload_jax(os.environ[_PALLAS_FLAG] == "interpret")


def _preload_jax(interpreted: bool) -> None:
    import jax
    from jax.experimental import pallas as pl

    x = jax.numpy.zeros((16, 128), dtype=jax.numpy.float32)
    jax.jit(lambda v: v * 2 + 1)(x).block_until_ready()
    if interpreted:

        def add_one(x_ref: Any, o_ref: Any) -> None:
            o_ref[...] = x_ref[...] + 1

        spec = pl.BlockSpec((8, 128), lambda i: (i, 0))
        out = jax.ShapeDtypeStruct(x.shape, x.dtype)
        staged = pl.pallas_call(
            add_one, out_shape=out, grid=(2,), in_specs=[spec], out_specs=spec, interpret=True
        )
        staged(x).block_until_ready()


def main(argv: list[str]) -> int:
    # The parent names the result file and the fd of its reply pipe on the first stdin line, read
    # before any candidate code runs, so the candidate cannot know where its verdict data goes
    # (E12); the job follows as the first frame.
    global _RESULT_NAME
    line = bytearray()
    # Byte by byte: a buffered read would swallow the start of the first frame.
    while not line.endswith(b"\n") and len(line) < 4096:
        byte = os.read(0, 1)
        if not byte:
            break
        line += byte
    first = line.decode(errors="replace").split()
    if len(first) != 2:
        print("worker: the first stdin line must name the result file and the reply fd")
        return 2
    _RESULT_NAME = first[0]
    channel = Endpoint(0, int(first[1]), trusted=True)
    _preload()
    job = channel.recv()
    _JOB.update(job)
    scratch = Path(job["scratch"])
    _entry()
    try:
        result = MODES[job["mode"]](job, scratch, channel)
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
