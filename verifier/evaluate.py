"""``evaluate``: the parent's side of one verdict, phase by phase.

static guards (here) -> compile (child, no device) -> correctness (child) -> timing (child,
and a trusted child for the eager and torch.compile baselines) -> the decision (here).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from kernelwright.backends import Backend, get_backend, profilers
from kernelwright.backends.base import BackendStatus
from kernelwright.backends.energy import EnergyMeter, joules_per_call
from kernelwright.backends.environment import capture_environment
from kernelwright.backends.roofline import ceiling_for, min_time_ms
from kernelwright.bench_tasks.task import Task, TaskError, call_with_config
from kernelwright.verifier import baseline_store, buildcache, native, sandbox
from kernelwright.verifier import reference as ref
from kernelwright.verifier.channel import ChannelError, Endpoint
from kernelwright.verifier.guards import candidate_op, static_guards, trace_violations
from kernelwright.verifier.secrets_guard import child_environment
from kernelwright.verifier.timed_loop import (
    MAX_HELD_OUT,
    MIN_LOOPS,
    LoopPlan,
    TimingRun,
    cached_results,
    drive,
)
from kernelwright.verifier.timing import Budget, summarize
from kernelwright.verifier.verdict import Finding, Verdict

# Flagged when a candidate beats eager by more than this on a meaningful timing (E18).
IMPLAUSIBLE_SPEEDUP = 50.0
# glibc returns the top of its heap to the system when enough of it is free, and whether that
# happens depends on where earlier blocks landed: one process then pays page faults for every
# output it allocates and the next does not (relu's medians split 0.10 / 0.18 ms across
# evaluations). A fixed mmap threshold and no trimming make every child allocate the same way.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184"
# A sample may exceed the parent's own clock around its call by no more than timer granularity.
WALL_SLACK_MS = 0.01
# Time per call the parent sees beyond the samples and the harness's own cost, past which work
# ran outside the timer: more than the sample itself, the harness's cost again, and this floor.
MOVED_WORK_MIN_MS = 2.0
MOVED_WORK_SPREADS = 3.0  # and this many interquartile ranges of the baseline's per-call gaps
# Flagged when a candidate runs faster than this fraction of the device's roofline time (E18).
ROOFLINE_MARGIN = 0.8


@dataclass
class EvalOptions:
    """How one evaluation runs; the CLI fills it from Settings."""

    cache_dir: Path
    timeout: float = 300.0
    compile_only: bool = False
    sandbox: str = "auto"
    warmup_ms: float = 25.0
    rep_ms: float = 100.0
    trials: int = 2
    sampled_configs: int = 2
    compile_baseline: bool = True
    timing: bool = True
    input_sets: int = 3
    memory_limit_bytes: int | None = None  # per child; default three quarters of the host's RAM
    device_index: int | None = None  # the one GPU this evaluation's children see
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    keep_scratch: bool = False
    # Measure eager and torch.compile again instead of reusing this process's or the baseline
    # store's measurement; a stored one older than this is measured again (verifier/baseline_store.py).
    fresh_baseline: bool = False
    baseline_max_age_s: float = baseline_store.MAX_AGE_S
    # The timing children's intra-op/OpenMP threads and CPUs; default: the CPUs this process may use.
    threads: int | None = None
    cpus: list[int] | None = None
    # Names that widen the static allowlist for this run (``--allow``); recorded in the verdict.
    allow: tuple[str, ...] = ()
    # Start the correctness and timing children while the phase before each runs, so that they
    # have imported torch by the time their job arrives (each is still used for this candidate's
    # one phase only).
    warm_workers: bool = True
    # A timing loop ends early once its median is known to within this fraction (and its halves
    # agree); 0 runs every loop to its count and wall-clock cap.
    precision: float = Budget.precision
    # Tests only: skip the static checks so that each dynamic defence is exercised on its own.
    static_checks: bool = True
    # After a correct verdict, profile the candidate's kernels with its backend's profiler in
    # one more sandboxed child (verifier/profile_phase.py); the result informs, never decides.
    profile: bool = False
    # compute-sanitizer tools (memcheck, racecheck, initcheck) run over a correct candidate on an
    # NVIDIA GPU, one sandboxed child each; what they find is flagged, never decided on.
    sanitize: tuple[str, ...] = ()
    # For a candidate flagged launch_bound: its forward timed as CUDA graph replays too, in one
    # more child, reported apart (extra["cuda_graph"]) from the verdict's timing.
    cuda_graph: bool = False


class _Stop(Exception):
    """Ends an evaluation early with a status and a one-line reason."""

    def __init__(self, status: str, reason: str, violations: list[Finding] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.violations = violations or []


# Baselines this process measured or loaded, by key, with when they were measured.
_BASELINES: dict[tuple[Any, ...], tuple[dict[str, Any], float]] = {}


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


# Kineto prints a line whenever the op profiler starts or stops.
_PROFILER_NOISE = re.compile(r"^USDT:.*profiler_(start|stop)\s*$")
LOG_LIMIT = 20000
# What one child may print into the verdict's log; the rest is cut in the middle (E24, F06).
CHILD_LOG_LIMIT = 4000
# Static findings from the most specific (tampering with the harness) to the most general.
_STATIC_ORDER = {
    name: n
    for n, name in enumerate(
        [
            "harness_tampering",
            "timer_patch",
            "dispatcher_bypass",
            "foreign_attribute",
            "introspection",
            "import_not_allowed",
            "no_kernel",
        ]
    )
}
# Trials alternate the byte the correctness child poisons fresh memory with: NaN in every float
# format, then huge finite values (E04).
POISON_BYTES = (0xFF, 0x7F)
# The parent watches the child's threads while it idles between the last call and the end of a
# phase: a thread using more than this fraction of a CPU over the window is background work.
IDLE_SETTLE_S = 0.3
IDLE_WINDOW_S = 0.3
IDLE_BUSY_FRACTION = 0.3
# Sending the job to a child that has not started reading yet.
CHANNEL_TIMEOUT = 120.0


def _candidate_output(phase: str, text: str, trusted: bool) -> str:
    """A child's output for the log: capped, and marked as the candidate's own words when it
    comes from a child that ran candidate code, so that no reader takes it for the verifier's."""
    if len(text) > CHILD_LOG_LIMIT:
        cut = len(text) - CHILD_LOG_LIMIT
        half = CHILD_LOG_LIMIT // 2
        text = f"{text[:half]}\n[... {cut} characters of output truncated ...]\n{text[-half:]}"
    if trusted:
        return f"[{phase}] {text}"
    quoted = "\n".join(f"| {line}" for line in text.splitlines())
    return f"[{phase}: output of the candidate's process, not the verifier's]\n{quoted}"


WORKER_COMMAND = (sys.executable, "-I", "-m", "kernelwright.verifier.worker")


@dataclass
class _Slot:
    """One child of a phase: where it runs and what it is given, and the process once started."""

    scratch: Path
    private: Path | None  # the private copy of the build, bound at the build cache's path
    result_name: str
    mounts: sandbox.Mounts
    limits: sandbox.Limits
    env: dict[str, str]
    started: sandbox.StartedChild | None = None
    # The child's argv: the worker, or the worker under a profiler (the profile phase).
    command: list[str] = field(default_factory=lambda: list(WORKER_COMMAND))


class Evaluation:
    """State of one evaluation: the candidate, its scratch space and what each phase found."""

    def __init__(
        self, task: Task, source: str, backend: Backend, status: BackendStatus, options: EvalOptions
    ) -> None:
        self.task = task
        self.source = source
        self.backend = backend
        self.options = options
        self.level = sandbox.choose_level(options.sandbox)
        self.device = backend.device()
        self.verdict = Verdict(
            task=task.id, backend=backend.name, device=status.device, status="correct"
        )
        self.verdict.timing.meaningful = status.timing_meaningful
        self.verdict.extra.update(sandbox=self.level, category=task.category, phases={})
        self.verdict.extra["environment"] = {
            **capture_environment(backend.name, options.device_index),
            "sandbox": self.level,
        }
        if task.scale is not None:  # measured at a size preset: only comparable at the same one
            self.verdict.extra["environment"]["scale"] = task.scale
        self.root = options.cache_dir / "scratch" / uuid.uuid4().hex[:12]
        self.build_dir = options.cache_dir / "builds" / backend.build_key(source)
        self.logs: list[str] = []
        self.reason: str | None = None  # the one line that says why the status is what it is
        self.timing_run: TimingRun | None = None  # the candidate's accepted timing run
        self.baseline_gap_ms: float | None = None  # the harness's own time per call (baseline)
        self.baseline_gap_iqr_ms = 0.0  # and its spread over the baseline's calls
        self.native_findings: list[Finding] = []
        self.counted_launches = False  # a witnessed call showed counted launches of its own
        self.native_seen: list[str] = []
        self._roots: list[Path] | None = None
        self._ahead: dict[str, _Slot] = {}  # children started ahead of their phase

    # -- children -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _build_lock(self) -> Iterator[None]:
        """Serialize builds of one source, and copies of its build, across threads and processes."""
        self.build_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.build_dir.with_suffix(".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _limits(self, wall_s: float, device: bool) -> sandbox.Limits:
        memory = self.options.memory_limit_bytes or _host_memory_limit()
        # Without a cgroup, an address-space rlimit bounds host memory; CUDA needs a huge one.
        address_space = None if device or sandbox.cgroups_available() else memory
        return sandbox.Limits(wall_s=wall_s, address_space_bytes=address_space, memory_bytes=memory)

    def _env(self, phase: str, scratch: Path, trusted: bool) -> dict[str, str]:
        env = {k: v for k, v in _passthrough_env().items()}
        env.update(
            HOME=str(scratch),
            TMPDIR=str(scratch / "tmp"),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            TORCH_EXTENSIONS_DIR=str(self.build_dir / "torch_extensions"),
            TRITON_CACHE_DIR=str(scratch / "triton"),
            MAX_JOBS="4",
        )
        threads = str(self.conditions()[0])
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, GLIBC_TUNABLES=MALLOC_TUNABLES)
        env.update(self.backend.child_env(phase, self.options.compile_only))
        # The same in every phase, the compile phase included: the environment must not tell
        # the phases apart (E23); the compile child simply gets no device nodes.
        if self.options.device_index is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(self.options.device_index)
        elif os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
            # The GPUs this process was given (by the user, or by Ray for one evaluation) are
            # the children's too, not every GPU of the machine.
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        # Set by the parent: torch._inductor, which every child imports before its job
        # (worker._preload), would otherwise set a default of its own in the child.
        if phase.startswith("sanitize_"):
            # Without torch's caching allocator, an access past a tensor is past an allocation,
            # which memcheck sees (a finding, never a verdict: this child times nothing).
            env["PYTORCH_NO_CUDA_MEMORY_CACHING"] = "1"
        env["TORCHINDUCTOR_CACHE_DIR"] = str(
            self.options.cache_dir / "inductor" if trusted else scratch / "tmp" / "torchinductor"
        )
        return env

    def _prepare(self, phase: str, wall_s: float, trusted: bool) -> _Slot:
        """The scratch dir, mounts, environment and result name of one child of ``phase``.

        Every phase looks the same from inside (E23): a scratch dir with a random name, the
        candidate at the same name in it, the same argv and environment; the job arrives as the
        first frame on the channel, so a child can be started before its job is known."""
        scratch = self.root / secrets.token_hex(6)
        (scratch / "tmp" / "torchinductor").mkdir(parents=True, exist_ok=True)
        if not trusted:
            (scratch / "candidate.py").write_text(self.source)
        mounts = sandbox.Mounts()
        ext_dir = self.build_dir / "torch_extensions"
        ext_dir.mkdir(parents=True, exist_ok=True)
        private: Path | None = None
        if self.level == "process":
            mounts.writable.append(self.build_dir)  # no mounts at this level: no isolation
        else:
            # Every phase builds or loads in a private copy of the cached build, bound at the
            # cache's path (torch takes a lock file there, and ninja's records hold absolute
            # paths), outside the scratch dir so every phase's scratch looks the same. The copy
            # is made when the job is handed over (``run_phase``): a child started ahead sees
            # the build as it is then. Only the compile phase's build products go back into the
            # cache, size-capped (E26).
            private = self.root / f"{scratch.name}-build"
            private.mkdir(parents=True)
            mounts.remapped.append((private, self.build_dir))
        if trusted:
            inductor = self.options.cache_dir / "inductor"
            inductor.mkdir(parents=True, exist_ok=True)
            if self.level != "process":
                sandbox.share_with_child(inductor)
            mounts.writable.append(inductor)
            mounts.read_only.append(self.task.path.parent)
        if self._driver_glue() and not trusted:
            # The driver glue, built by the parent: the child finds it cached and maps this copy.
            _trusted_driver_hashes(self.options.cache_dir)
            shutil.copytree(trusted_driver_dir(self.options.cache_dir), scratch / "triton")
        if phase == "profile" or phase.startswith("sanitize_"):
            # Where the profiler writes: made before the child starts, as the child's own.
            (scratch / profilers.OUTPUT_DIR).mkdir(parents=True, exist_ok=True)
        if self.level in ("bwrap", "docker"):
            sandbox.prepare_scratch(scratch, "bwrap")
            if self.backend.needs_gpu_nodes(phase):
                mounts.devices.extend(sandbox.gpu_device_nodes(self._gpu_index()))
        device = self.backend.needs_gpu_nodes(phase)
        return _Slot(
            scratch=scratch,
            private=private,
            # A result name the candidate cannot know: it reaches the worker on stdin (E12).
            result_name=f"r-{secrets.token_hex(8)}.pt",
            mounts=mounts,
            limits=self._limits(wall_s, device),
            env=self._env(phase, scratch, trusted),
        )

    def _launch(self, slot: _Slot) -> None:
        slot.started = sandbox.start_child(
            list(slot.command),
            scratch=slot.scratch,
            level=self.level,
            limits=slot.limits,
            env=slot.env,
            mounts=slot.mounts,
            stdin_data=f"{slot.result_name}\n".encode(),
        )

    def prestart(self, phase: str) -> None:
        """Start the (untrusted) child of ``phase`` now, to be handed its job later; only where
        children start as plain processes (bwrap, process) and ``warm_workers`` is on. A
        prestarted child that is never used is killed by ``cleanup``."""
        if not self.options.warm_workers or self.level not in ("bwrap", "process"):
            return
        if phase in self._ahead:
            return
        try:
            slot = self._prepare(phase, self.options.timeout, trusted=False)
            self._launch(slot)
        except Exception:
            return  # the phase starts its own child when it comes, and reports what fails
        self._ahead[phase] = slot

    def run_phase(
        self,
        phase: str,
        job: dict[str, Any],
        wall_s: float,
        trusted: bool = False,
        conversation: Callable[[Endpoint], None] | None = None,
        wrap: tuple[Callable[[Path], list[str]], list[Path]] | None = None,
    ) -> tuple[sandbox.ChildResult, dict[str, Any] | None]:
        """Run one child of ``phase`` (the one started ahead for it, if any): the job goes over
        the channel as the first frame, before ``conversation`` takes over. ``wrap``: the argv
        of a profiler around the worker, given the scratch dir, and the folders the profiler
        needs bound read-only."""
        # A child started ahead stays in ``_ahead`` until its job is handed over, so that
        # ``cleanup`` still ends it if anything before that fails.
        slot = None if trusted or wrap else self._ahead.get(phase)
        if slot is None:
            slot = self._prepare(phase, wall_s, trusted)
            if wrap is not None:
                slot.command = wrap[0](slot.scratch)
                slot.mounts.read_only.extend(wrap[1])
        else:
            self.verdict.extra.setdefault("started_ahead", []).append(phase)
        scratch, private = slot.scratch, slot.private
        job = {**job, "mode": job.get("mode", phase), "scratch": str(scratch)}
        job["backend"] = self.backend.name
        if not trusted:
            job["candidate"] = str(scratch / "candidate.py")
        ext_dir = self.build_dir / "torch_extensions"
        if private is not None and phase != "compile":
            with self._build_lock():
                shutil.copytree(self.build_dir, private, symlinks=True, dirs_exist_ok=True)

        def talk(endpoint: Endpoint) -> None:
            endpoint.send(job, timeout=CHANNEL_TIMEOUT)
            if conversation is not None:
                conversation(endpoint)

        with self._build_lock() if phase == "compile" else contextlib.nullcontext():
            if private is not None and phase == "compile":
                shutil.copytree(self.build_dir, private, symlinks=True, dirs_exist_ok=True)
            if private is not None and self.level in ("bwrap", "docker"):
                # The compile child builds there. Later children may create files (torch's lock)
                # but not rewrite the built objects, which stay root's and read-only: a loaded
                # object replaced on disk shows as deleted in the maps the parent reads (E20).
                sandbox.share_with_child(private, files=phase == "compile")
            if slot.started is not None:
                self._ahead.pop(phase, None)
                child = slot.started.finish(talk, wall_s=wall_s)
            elif self.level == "docker":
                child = sandbox.run_child(
                    list(WORKER_COMMAND),
                    scratch=scratch,
                    level=self.level,
                    limits=slot.limits,
                    env=slot.env,
                    mounts=slot.mounts,
                    stdin_data=f"{slot.result_name}\n".encode(),
                    conversation=talk,
                )
            else:
                self._launch(slot)
                assert slot.started is not None
                child = slot.started.finish(talk)
            if private is not None and phase == "compile" and child.returncode == 0:
                # Only a build that finished is cached, and only its products (E26).
                dropped = buildcache.copy_products(private / "torch_extensions", ext_dir)
                if dropped:
                    self.verdict.extra["build_dropped"] = dropped[:20]
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
        self.verdict.extra["phases"][phase] = round(child.wall_s, 3)
        text = "\n".join(line for line in child.log.splitlines() if not _PROFILER_NOISE.match(line))
        if text.strip():
            self.logs.append(_candidate_output(phase, text.strip(), trusted))
        result = None
        result_path = scratch / slot.result_name
        if result_path.is_file():
            try:
                result = torch.load(result_path, weights_only=True)
            except Exception as exc:
                self.logs.append(f"[{phase}] unreadable result: {type(exc).__name__}: {exc}")
            if not isinstance(result, dict):
                result = None
        return child, result

    def _failure(
        self, phase: str, child: sandbox.ChildResult, result: dict[str, Any] | None, limit: float
    ) -> None:
        """Raise _Stop when a phase's child did not produce a usable result."""
        if child.timed_out:
            status = "compile_error" if phase == "compile" else "timeout"
            raise _Stop(status, f"{phase} phase exceeded its {limit:g} s limit and was killed")
        if result is None and child.oom_killed:
            raise _Stop("crashed", f"{phase} child exceeded its memory limit and was killed")
        if result is None:
            if child.signal:
                raise _Stop("crashed", f"{phase} child was killed by {child.signal_name}")
            raise _Stop(
                "crashed", f"{phase} child exited with code {child.returncode} and left no result"
            )
        if not result.get("ok"):
            status = "compile_error" if result.get("error_kind") == "compile" else "runtime_error"
            self.logs.append(f"[{phase}] {result.get('traceback', '')}")
            raise _Stop(
                status,
                str(result.get("error", "unknown error")).splitlines()[0][:500]
                if result.get("error")
                else "unknown error",
            )

    # -- phases -------------------------------------------------------------------------------

    def static(self) -> None:
        report = static_guards(
            self.source, self.backend.kernel_markers, self.backend.name, self.options.allow
        )
        if report.syntax_error:
            raise _Stop("compile_error", report.syntax_error)
        if self.options.allow:
            used = list(report.allowed)
            self.verdict.extra["allowed"] = {"asked": list(self.options.allow), "used": used}
            if used:
                # Shown apart in every listing: flags travel with the verdict into the store.
                self.verdict.flags.append(
                    Finding(
                        "allowlist_widened",
                        f"the source needed {', '.join(used)}, allowed for this run with --allow",
                    )
                )
        if not self.options.static_checks:
            self.verdict.extra["static_checks"] = "off"
            return
        self.verdict.flags.extend(report.flags)
        if report.violations:
            # The most specific finding first: it becomes the verdict's one-line reason.
            found = sorted(report.violations, key=lambda f: _STATIC_ORDER.get(f.check, 99))
            raise _Stop("rejected", found[0].detail, found)

    def reference_device(self) -> str:
        return "cuda" if self.device.startswith("cuda") and torch.cuda.is_available() else "cpu"

    def make_trials(self) -> list[ref.Trial]:
        ref_device = self.reference_device()
        rng = random.Random(ref.derive_seed(self.options.secret, self.task.id, "configs"))
        configs = self.task.correctness_configs(rng, self.options.sampled_configs)
        trials = []
        for c, config in enumerate(configs):
            # A config that sets module-level sizes runs the task file with them.
            module = self.task.module_for(config)
            repeats = self.options.trials if c == 0 else 1
            for r in range(repeats):
                # Every second trial shrinks the float inputs by a secret factor in [0.5, 1):
                # shrinking keeps inputs inside the domains tasks rely on (probabilities, logs).
                scale = 0.5 + 0.5 * rng.random() if r % 2 == 1 else None
                label = ("trial", c, r)
                trials.append(
                    ref.make_trial(
                        module,
                        self.task,
                        config,
                        self.options.secret,
                        label,
                        ref_device,
                        input_scale=scale,
                    )
                )
        return trials

    def compile(self) -> bool:
        try:
            init_inputs = list(
                call_with_config(self.task.module().get_init_inputs, self.task.default_config)
            )
        except Exception as exc:
            raise TaskError(
                f"the task's get_init_inputs failed: {type(exc).__name__}: {exc}"
            ) from exc
        # Only plain values travel in the job file; tensors in init inputs skip the signature check.
        preview = [] if any(isinstance(x, torch.Tensor) for x in init_inputs) else init_inputs
        job = {
            "compile_only": self.options.compile_only
            and self.backend.status().state == "compile-only",
            "init_inputs_preview": preview,
        }
        timeout = self.options.timeout

        def built(endpoint: Endpoint) -> None:
            done = endpoint.recv(timeout=timeout)
            if not isinstance(done, dict) or done.get("done") is not True:
                raise ChannelError("the compile child did not report done")
            self._inspect_native(endpoint, "compile")
            endpoint.send({"op": "end"}, timeout=timeout)

        child, result = self.run_phase("compile", job, timeout, conversation=built)
        self._native_verdict()
        self._failure("compile", child, result, self.options.timeout)
        return bool(result and result.get("compiled_only"))

    def correctness(self, trials: list[ref.Trial]) -> None:
        job = {"device": self.device, "backward": self.task.backward}
        got: list[Any] = []
        timeout = self.options.timeout

        def serve(endpoint: Endpoint) -> None:
            # One trial at a time, the next only after the previous outputs are back (E21).
            hello = endpoint.recv(timeout=timeout)
            if not isinstance(hello, dict) or hello.get("ready") is not True:
                raise ChannelError("the correctness child did not report ready")
            for n, trial in enumerate(trials):
                request: dict[str, Any] = {"op": "trial", "trial": trial.payload}
                request["poison"] = POISON_BYTES[n % len(POISON_BYTES)]
                endpoint.send(request, timeout=timeout)
                reply = endpoint.recv(timeout=timeout)
                if not isinstance(reply, dict):
                    raise ChannelError("a trial's reply is not a mapping")
                got.append(reply)
            self._inspect_native(endpoint, "correctness")
            endpoint.send({"op": "end"}, timeout=timeout)

        child, result = self.run_phase("correctness", job, timeout, conversation=serve)
        self._native_verdict()
        broken = child.conversation_error
        if broken and not child.timed_out and not broken.startswith("ChannelClosed"):
            raise _Stop("crashed", f"the correctness child did not answer as asked: {broken}")
        self._failure("correctness", child, result, timeout)
        assert result is not None
        if len(got) != len(trials) or result.get("served") != len(trials):
            raise _Stop("crashed", f"correctness child answered {len(got)} of {len(trials)} trials")
        self._clock_check(result)
        summary: dict[str, Any] = {
            "trials": len(trials),
            "configs": _unique(t.config for t in trials),
            "max_abs_err": 0.0,
            "max_rel_err": 0.0,
        }
        summary["reference_dtype"] = trials[0].reference_dtype
        summary["eager_max_abs_err"] = max((t.eager_error or 0.0) for t in trials)
        self.verdict.correctness = summary
        for n, (trial, out) in enumerate(zip(trials, got, strict=True)):
            self._activity_check(result.get("activity_before"), out.get("activity"), f"trial {n}")
            self._tamper_check(out.get("tampered"), f"trial {n}")
            self._witness_check(out, f"trial {n}")
            mutated = [
                i
                for i, (a, b) in enumerate(
                    zip(trial.input_hashes, out.get("input_hashes", []), strict=False)
                )
                if a is not None and a != b
            ]
            if mutated:
                raise _Stop(
                    "rejected",
                    f"the candidate modified input(s) {mutated} in place",
                    [
                        Finding(
                            "input_mutation",
                            f"input(s) {mutated} changed during forward (trial {n})",
                        )
                    ],
                )
            comparison = ref.check_outputs(
                self.task, trial, out["outputs_meta"], out["outputs"], self.device
            )
            if comparison.ok and self.task.backward:
                comparison = ref.check_grads(
                    self.task, trial, out["grad_names"], out["grads_meta"], out["grads"]
                )
            if comparison.violations:
                raise _Stop("rejected", comparison.reason, comparison.violations)
            if not comparison.ok:
                summary["failed_trial"] = {"index": n, "config": trial.config}
                raise _Stop("incorrect", f"config {trial.config}: {comparison.reason}")
            summary["max_abs_err"] = max(summary["max_abs_err"], comparison.max_abs_err)
            summary["max_rel_err"] = max(summary["max_rel_err"], comparison.max_rel_err)

    def _inspect_native(self, endpoint: Endpoint, phase: str) -> None:
        """Every shared object the child has mapped, read from outside while it waits for the
        parent (E20): each one not under a trusted, read-only root is judged by its symbols."""
        pid = getattr(endpoint, "pid", None)
        worker = native.python_descendant(pid) if isinstance(pid, int) else None
        if worker is None:
            self.native_seen.append(phase + ": not inspected (no process to read)")
            return
        try:
            paths = native.mapped_files(worker)
        except OSError as exc:
            self.native_seen.append(f"{phase}: maps unreadable: {exc}")
            return
        # Nothing this evaluation's children could write is trusted, wherever it lies.
        where = f"/proc/{worker}/root"
        known = _trusted_driver_hashes(self.options.cache_dir) if self._driver_glue() else set()
        mine = [
            p
            for p in paths
            if _under(p, self.options.cache_dir) and _file_hash(where + p) not in known
        ]
        rest = [p for p in paths if not _under(p, self.options.cache_dir)]
        trusted = [r for r in self._trusted_roots() if not _under(str(self.options.cache_dir), r)]
        findings = native.inspect_objects(
            mine, [], root=where, triton_launchers=self._driver_glue()
        )
        findings += native.inspect_objects(rest, trusted, root=where)
        if phase != "compile":
            busy = _busy_threads(worker)
            if busy:
                detail = (
                    f"{phase}: {len(busy)} thread(s) kept computing while the harness waited "
                    f"({', '.join(busy[:4])} of CPU in {2 * IDLE_WINDOW_S:g} s)"
                )
                findings.append(Finding("background_work", detail))
        self.native_findings.extend(findings)
        self.native_seen.append(f"{phase}: {len(paths)} mapped files, {len(mine)} built here")

    def _driver_glue(self) -> bool:
        """Whether the child uses Triton's GPU driver glue, which Triton builds at run time."""
        return self.backend.name == "triton" and self.device.startswith(("cuda", "hip"))

    def _trusted_roots(self) -> list[Path]:
        if self._roots is None:
            self._roots = native.default_trusted_roots()
        return self._roots

    def _native_verdict(self) -> None:
        self.verdict.extra["native"] = list(self.native_seen)
        if self.native_findings:
            first = self.native_findings[0]
            raise _Stop("rejected", first.detail, list(self.native_findings))

    def _tamper_check(self, names: Any, when: str) -> None:
        """Harness entries the child found replaced after a call (E22)."""
        if not names:
            return
        listed = ", ".join(str(n) for n in list(names)[:6]) if isinstance(names, list) else "?"
        detail = f"the candidate replaced what the harness calls, found after {when}: {listed}"
        raise _Stop("rejected", detail, [Finding("harness_tampering", detail)])

    def _witness_check(self, seen: Any, when: str) -> None:
        """What the op witnesses saw during one traced call (E13, E23)."""
        if not isinstance(seen, dict) or seen.get("trace_alive") is not True:
            detail = f"the aten op trace stopped counting during {when}"
            raise _Stop("rejected", detail, [Finding("harness_tampering", detail)])
        ops = {str(k): int(v) for k, v in dict(seen.get("ops") or {}).items()}
        for name, count in dict(seen.get("profiled_ops") or {}).items():
            ops[str(name)] = max(ops.get(str(name), 0), int(count))
        if self.backend.name == "pallas":
            # JAX's computations outside the Pallas kernels (verifier/jax_witness.py): a
            # pallas_call among jnp work is jnp doing the task (E13, E19).
            if seen.get("jax_alive") is not True:
                detail = f"the JAX witness stopped counting during {when}"
                raise _Stop("rejected", detail, [Finding("harness_tampering", detail)])
            for name, count in dict(seen.get("jax_ops") or {}).items():
                key = "jax." + str(name).removeprefix("jax.")
                ops[key] = max(ops.get(key, 0), int(count))
        violations = trace_violations(ops)
        if violations:
            raise _Stop("rejected", violations[0].detail, violations)
        activity = seen.get("device_activity")
        figures = _launch_figures(activity) if isinstance(activity, dict) else None
        if figures:
            # The latest witnessed call's: the timing loop's come last, warm (no autotuning or
            # compilation in them), on the benchmark's inputs.
            self.verdict.extra["launch"] = figures
        launched = seen.get("launches")
        if launched is None:
            return
        counted = any(int(n) > 0 for n in dict(launched).values())
        # For the Judge and the reports, from the first witnessed call (the benchmark's config):
        # a figure the child reports, so it informs and decides nothing.
        self.verdict.extra.setdefault(
            "launches_per_forward", sum(max(int(n), 0) for n in dict(launched).values())
        )
        # An op the candidate registered itself (a C++ TORCH_LIBRARY op, a custom_op) is its own
        # kernel as the witnesses see it, though no Python-level launch is counted for it.
        own_ops = any(candidate_op(key) and int(n) > 0 for key, n in ops.items())
        if counted:
            self.counted_launches = True
        if not counted and not own_ops:
            # The work was done outside any kernel of the candidate's: numpy, another library,
            # Python loops (E19).
            detail = f"{when} launched none of the candidate's own kernels"
            raise _Stop("rejected", detail, [Finding("no_kernel_launched", detail)])

    def _activity_check(self, before: Any, after: Any, when: str) -> None:
        """Threads or processes the candidate left running after its forward returned (E08)."""
        if not isinstance(before, dict) or not isinstance(after, dict):
            return
        extra_threads = int(after.get("threads", 0)) - int(before.get("threads", 0))
        children = int(after.get("children", 0)) - int(before.get("children", 0))
        if extra_threads > 0:
            detail = f"{extra_threads} Python thread(s) still running after {when}"
            raise _Stop("rejected", detail, [Finding("background_work", detail)])
        if children > 0:
            detail = f"{children} child process(es) still running after {when}"
            raise _Stop("rejected", detail, [Finding("background_work", detail)])
        native = int(after.get("os_threads", 0)) - int(before.get("os_threads", 0))
        flagged = any(f.check == "native_threads" for f in self.verdict.flags)
        if native > 0 and not flagged:
            # Native thread pools of libraries start lazily too, so this is a flag, not a verdict.
            detail = (
                f"{native} more OS thread(s) after {when} than before the candidate was imported"
            )
            self.verdict.flags.append(Finding("native_threads", detail))

    def _clock_check(self, result: dict[str, Any]) -> None:
        before, after = result.get("clock_ids_before"), result.get("clock_ids_after")
        if before != after:
            changed = sorted(
                k
                for k in set(before or {}) | set(after or {})
                if (before or {}).get(k) != (after or {}).get(k)
            )
            raise _Stop(
                "rejected",
                f"timing functions were replaced: {', '.join(changed)}",
                [Finding("timer_patch", f"replaced while the candidate ran: {', '.join(changed)}")],
            )

    def _gpu_index(self) -> int | None:
        """The one GPU whose device node the children get: the chosen index, or the one GPU
        this process was given by number; None mounts every GPU's node."""
        if self.options.device_index is not None:
            return self.options.device_index
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
        return int(visible) if visible.isdigit() else None

    def conditions(self) -> tuple[int, list[int]]:
        """The threads and CPUs every timing child of this evaluation runs with.

        One CPU is left to the parent and the rest of the machine, and the child is pinned to the
        others: a parallel region whose threads fill every CPU waits at each barrier for the one
        a neighbour preempted (a 0.1 ms kernel took 20 ms on 2 CPUs beside one busy process), and
        an unpinned child that moves between CPUs spread relu's medians over 0.12-0.18 ms across
        evaluations where a pinned one kept them within 0.09-0.10 ms.
        """
        import os

        allowed = sorted(os.sched_getaffinity(0))
        threads = self.options.threads or max(1, len(allowed) - 1)
        cpus = sorted(self.options.cpus or allowed[-min(threads, len(allowed)) :])
        return threads, cpus

    def timing_sets(self, round_no: int = 0) -> list[ref.Trial]:
        """The loop's input sets, then the held-out sets (fresh ones for each re-measurement)."""
        module = self.task.module()
        ref_device = self.reference_device()
        loop_sets = max(1, self.options.input_sets)
        labels: list[tuple[Any, ...]] = [("timing", i) for i in range(loop_sets)]
        labels += [("held-out", round_no, i) for i in range(MAX_HELD_OUT)]
        return [
            ref.make_trial(
                module,
                self.task,
                dict(self.task.default_config),
                self.options.secret,
                label,
                ref_device,
                model_label="timing-model",  # one model is timed over every input set
            )
            for label in labels
        ]

    def _budget(self) -> dict[str, Any]:
        if not self.verdict.timing.meaningful:
            return {"warmup_ms": 0.0, "rep_ms": 0.0, "min_reps": 3, "max_reps": 3, "max_warmup": 1}
        return {
            "warmup_ms": self.options.warmup_ms,
            "rep_ms": self.options.rep_ms,
            "precision": self.options.precision,
        }

    def _min_loops(self) -> int:
        """One loop where timings mean nothing (the interpreter): only its outputs are used."""
        return MIN_LOOPS if self.verdict.timing.meaningful else 1

    def _timing_payload(self, sets: list[ref.Trial]) -> dict[str, Any]:
        first = sets[0].payload
        model = {k: first[k] for k in ("init_seed", "init_inputs", "state_dict")}
        return {"model": model, "grad_outputs": first["grad_outputs"]}

    def _driven_phase(
        self, phase: str, job: dict[str, Any], sets: list[ref.Trial], plan: LoopPlan, limit: float
    ) -> tuple[sandbox.ChildResult, dict[str, Any] | None, TimingRun]:
        """Run a timing child whose loop this process drives call by call; the loop's input sets
        go over the channel on the calls that first use them."""
        threads, cpus = self.conditions()
        job = {**job, "mode": "timing", "threads": threads, "cpus": cpus}
        job["payload"] = self._timing_payload(sets)
        plan.loop_inputs = [s.payload["inputs"] for s in sets[: plan.loop_sets]]
        run = TimingRun()
        child, result = self.run_phase(
            phase,
            job,
            limit,
            trusted=bool(job.get("reference")),
            # The trusted baseline child's objects (inductor's builds) are not the candidate's.
            conversation=lambda endpoint: drive(
                endpoint,
                plan,
                run,
                None if job.get("reference") else lambda: self._inspect_native(endpoint, phase),
            ),
        )
        if not job.get("reference"):
            self._native_verdict()
        return child, result, run

    def _measure(self, sets: list[ref.Trial], phase: str = "timing") -> TimingRun:
        """One timing child for the candidate, with every output it returned checked."""
        loop_sets = max(1, self.options.input_sets)
        plan = LoopPlan(
            budget=Budget(**self._budget()),
            loop_sets=loop_sets,
            held_out_inputs=[t.payload["inputs"] for t in sets[loop_sets:]],
            output_numels=[math.prod(m.get("shape") or [0]) for m in sets[0].expected_meta],
            call_timeout=self.options.timeout,
            min_loops=self._min_loops(),
        )
        job = {"device": self.device, "backward": self.task.backward}
        child, result, run = self._driven_phase(phase, job, sets, plan, self.options.timeout)
        broken = child.conversation_error
        if broken and not child.timed_out and not broken.startswith("ChannelClosed"):
            # The parent ended the conversation (a malformed or missing answer) and killed it.
            raise _Stop("crashed", f"the timing child did not answer as asked: {broken}")
        if broken and result is not None and result.get("ok"):
            raise _Stop("crashed", "the timing child left its loop before the parent ended it")
        self._failure("timing", child, result, self.options.timeout)
        assert result is not None
        self._clock_check(result)
        self._activity_check(
            result.get("activity_before"), result.get("activity_after"), "the timing loop"
        )
        self._check_timed_outputs(sets, run)
        self._check_traced(sets, run)
        self._check_samples(run)
        if result.get("l2_reset") is not None:
            self.verdict.extra["l2_reset"] = result["l2_reset"]
        self.verdict.extra["timing_conditions"] = result.get("conditions") or run.conditions
        return run

    def _check_traced(self, sets: list[ref.Trial], run: TimingRun) -> None:
        """Harness entries replaced during the loop, and the untimed calls the witnesses saw at
        random points of it (E22, E23)."""
        for n, call in enumerate(run.calls):
            self._tamper_check(call.tampered, f"timed call {n}")
            if call.launches == 0 and self.counted_launches:
                # Honest while a witness watches, something else when none does (E23). Only
                # where the witnessed calls showed launches that can be counted at all.
                detail = f"timed call {n} launched none of the candidate's own kernels"
                raise _Stop("rejected", detail, [Finding("no_kernel_launched", detail)])
        for traced in run.traced:
            when = f"an untraced-looking call of the timing loop (after {traced.position} calls)"
            self._tamper_check(traced.tampered, when)
            self._witness_check(traced.seen, when)
            if traced.spots is not None:
                trial = sets[traced.set_index]
                problem = ref.check_spot(
                    self.task, trial.expected, trial.expected_meta, traced.spots
                )
                if problem:
                    raise _Stop(
                        "rejected",
                        f"a traced call of the timing loop returned a wrong result: {problem}",
                        [Finding("timed_output_mismatch", f"{when}: {problem}")],
                    )

    def _check_samples(self, run: TimingRun) -> None:
        """Every sample must be positive and fit inside the parent's own clock around its call."""
        for n, call in enumerate(run.calls):
            if not (call.ms > 0):
                raise _Stop(
                    "rejected",
                    "timing samples are missing or not positive",
                    [Finding("timing_forged", f"call {n}: sample {call.ms!r}")],
                )
            if call.ms > call.wall_ms * 1.01 + WALL_SLACK_MS:
                detail = (
                    f"call {n} reports {call.ms:.4g} ms but took {call.wall_ms:.4g} ms "
                    "by the parent's clock"
                )
                raise _Stop(
                    "rejected",
                    "reported kernel time exceeds the wall-clock time of the call",
                    [Finding("timing_forged", detail)],
                )

    def timing(self, sets: list[ref.Trial]) -> None:
        # NVML's energy counter around the timing child, read here in the parent (NVIDIA only).
        cuda = self.device.startswith("cuda")
        meter = EnergyMeter.open(self.options.device_index) if cuda else None
        before = meter.read() if meter is not None else None
        run = self._measure(sets)
        after = meter.read() if meter is not None else None
        finding = cached_results(run.loops[0]) if self.verdict.timing.meaningful else None
        if finding is not None:
            # Noise does not repeat; a cache does. Measure again in a fresh child, with fresh
            # held-out sets at fresh positions, and reject only if the finding holds again.
            first = finding
            run = self._measure(self.timing_sets(round_no=1), phase="timing-again")
            finding = cached_results(run.loops[0])
            self.verdict.extra["remeasured"] = {
                "check": "cached_results",
                "first": first,
                "repeated": finding is not None,
            }
            if finding is not None:
                raise _Stop("rejected", finding, [Finding("cached_results", finding)])
        self.timing_run = run
        loop = run.loop
        samples = loop.samples
        self.verdict.extra["timing_loops"] = [lp.summary() for lp in run.loops]
        self.verdict.extra["held_out_ms"] = [c.ms for c in run.loops[0].held_out]
        if self.verdict.timing.meaningful and loop.summary()["disturbed"]:
            halves = loop.halves() or (0.0, 0.0)
            self.verdict.flags.append(
                Finding(
                    "unstable_timing",
                    f"the halves of every one of {len(run.loops)} timing loops disagree "
                    f"(best: {halves[0]:.4g} ms against {halves[1]:.4g} ms)",
                )
            )
        median, iqr = summarize(samples)
        self.verdict.timing.samples = samples
        energy = joules_per_call(before, after, median) if self.verdict.timing.meaningful else None
        if energy is not None:
            self.verdict.extra["energy"] = energy
        self.verdict.timing.candidate_ms = median
        self.verdict.timing.candidate_iqr_ms = iqr

    def _compare_full(self, trial: ref.Trial, data: list[Any], what: str) -> None:
        meta = [
            {
                "type": "torch.Tensor",
                "has_storage": True,
                "dtype": str(d.dtype),
                "shape": list(d.shape),
                "device": self.device,
            }
            if isinstance(d, torch.Tensor)
            else {"type": "missing"}
            for d in data
        ]
        comparison = ref.check_outputs(self.task, trial, meta, data, self.device)
        if not comparison.ok:
            detail = f"{what} returned a wrong result: {comparison.reason}"
            raise _Stop(
                "rejected",
                detail,
                [Finding("timed_output_mismatch", f"{what}: {comparison.reason}")],
            )

    def _check_timed_outputs(self, sets: list[ref.Trial], run: TimingRun) -> None:
        """Every timed call's sampled values, some calls in full, every held-out call in full,
        and one call after the loops (E05, E06)."""
        for call_no, call in enumerate(run.calls):
            if not (0 <= call.set_index < len(sets)):
                raise _Stop(
                    "rejected",
                    "timed call used an unknown input set",
                    [Finding("timed_output_mismatch", f"call {call_no}")],
                )
            trial = sets[call.set_index]
            if call.spots is not None:
                problem = ref.check_spot(self.task, trial.expected, trial.expected_meta, call.spots)
                if problem:
                    raise _Stop(
                        "rejected",
                        f"timed call {call_no} returned a wrong result: {problem}",
                        [
                            Finding(
                                "timed_output_mismatch",
                                f"call {call_no} (input set {call.set_index}): {problem}",
                            )
                        ],
                    )
            if call.output is not None:
                what = "a call on unseen inputs" if call.held_out else f"timed call {call_no}"
                self._compare_full(trial, call.output, what)
        self._compare_full(sets[0], run.final_output or [], "the call after the timing loop")

    def baselines(self, sets: list[ref.Trial]) -> None:
        threads, cpus = self.conditions()
        key = (
            self.task.id,
            self.task.source_hash,
            self.backend.name,
            self.device,
            json.dumps(self._budget()),
            self.options.compile_baseline,
            threads,
            tuple(cpus),
        )
        digest = baseline_store.fingerprint(
            {
                "key": list(key),
                "software": baseline_store.software(self.verdict.extra["environment"]),
            }
        )
        remembered = None if self.options.fresh_baseline else _BASELINES.get(key)
        source = "this process"
        if remembered is None and not self.options.fresh_baseline:
            remembered = baseline_store.load(
                self.options.cache_dir, digest, self.options.baseline_max_age_s
            )
            source = "the baseline store"
        if remembered is None:
            measured = self._measure_baselines(sets)
            if measured is None:
                return
            remembered = (measured, time.time())
            source = "measured now"
            baseline_store.save(self.options.cache_dir, digest, *remembered)
        _BASELINES[key] = remembered
        cached, measured_at = remembered
        age_s = max(0.0, time.time() - measured_at)
        self.verdict.extra["baseline"] = {
            "from": source,
            "age_s": round(age_s, 1),
            "fingerprint": digest[:16],
        }
        self.baseline_gap_ms = cached.get("gap_ms")
        self.baseline_gap_iqr_ms = float(cached.get("gap_iqr_ms") or 0.0)
        timing = self.verdict.timing
        timing.eager_samples = [float(s) for s in cached["eager"]]
        timing.compile_samples = [float(s) for s in cached["compile"]]
        timing.eager_ms = summarize(timing.eager_samples)[0]
        timing.compile_ms = summarize(timing.compile_samples)[0]
        if cached.get("compile_error"):
            timing.note = f"torch.compile baseline unavailable: {cached['compile_error']}"
        if source == "the baseline store":
            stored = f"baselines from the baseline store, measured {_age(age_s)} ago"
            timing.note = f"{timing.note}; {stored}" if timing.note else stored

    def _measure_baselines(self, sets: list[ref.Trial]) -> dict[str, Any] | None:
        """Eager and torch.compile timings of the reference, in a trusted child driven like the
        candidate's, under the same conditions."""
        loop_sets = max(1, self.options.input_sets)
        compile_model = self.options.compile_baseline and self.verdict.timing.meaningful
        limit = max(self.options.timeout, 300.0)
        plan = LoopPlan(
            budget=Budget(**self._budget()),
            loop_sets=loop_sets,
            compile_model=compile_model,
            call_timeout=limit,
            traced_calls=0,
            # Spot checks as in the candidate's loop: the same work per call, so the gaps compare.
            output_numels=[math.prod(m.get("shape") or [0]) for m in sets[0].expected_meta],
            min_loops=self._min_loops(),
        )
        job = {
            "reference": True,
            "task_path": str(self.task.path),
            "overrides": self.task.overrides,
            "device": self.device,
            "backward": self.task.backward,
        }
        child, result, run = self._driven_phase("baseline", job, sets, plan, limit)
        if not run.loops:
            why = (
                "timed out"
                if child.timed_out
                else (result or {}).get("error")
                or child.conversation_error
                or f"exit {child.returncode}"
            )
            self.verdict.timing.note = f"eager baseline failed: {why}"
            return None
        compile_error = run.compile_error
        if compile_model and run.compile_loop is None and compile_error is None:
            compile_error = "the torch.compile baseline did not finish" + (
                f" ({child.conversation_error})" if child.conversation_error else ""
            )
        return {
            "eager": run.loop.samples,
            "compile": run.compile_loop.samples if run.compile_loop else [],
            "compile_error": compile_error,
            "gap_ms": run.gap_ms(),
            "gap_iqr_ms": run.gap_iqr_ms(),
        }

    def _moved_work(
        self, run: TimingRun, baseline_gap: float | None, baseline_iqr: float = 0.0
    ) -> str | None:
        """Why the parent saw far more time per call than the samples account for, or None.

        The trusted baseline child runs the same loop for the same task, so its gap (the parent's
        wall time around a call minus the sample) is the harness's own cost per call. A candidate
        whose gap exceeds it by more than its own sample, and twice over, did work outside the
        timed interval: in the harness's calls, a hook or a finalizer (E21, E22).
        """
        gap = run.gap_ms()
        samples = run.loop.samples
        if gap is None or baseline_gap is None or not samples:
            return None
        median = statistics.median(samples)
        excess = gap - baseline_gap
        if excess <= max(
            MOVED_WORK_MIN_MS, median, baseline_gap, MOVED_WORK_SPREADS * baseline_iqr
        ):
            return None
        return (
            f"the parent saw {gap:.4g} ms per call besides the {median:.4g} ms the samples say, "
            f"where the harness itself takes {baseline_gap:.4g} ms: work ran outside the timer"
        )

    def overhead(self, sets: list[ref.Trial]) -> None:
        """Reject work moved out of the timed interval; noise does not repeat in fresh children,
        so both the candidate and the baseline are measured again before rejecting."""
        run, gap = self.timing_run, self.baseline_gap_ms
        if run is None or not self.verdict.timing.meaningful:
            return
        finding = self._moved_work(run, gap, self.baseline_gap_iqr_ms)
        self.verdict.extra["timing_gap_ms"] = {"candidate": run.gap_ms(), "baseline": gap}
        if finding is None:
            return
        again = self._measure(self.timing_sets(round_no=2), phase="timing-again")
        fresh = self._measure_baselines(sets) or {}
        repeated = self._moved_work(again, fresh.get("gap_ms"), float(fresh.get("gap_iqr_ms") or 0))
        self.verdict.extra["remeasured"] = {
            "check": "timing_forged",
            "first": finding,
            "repeated": repeated is not None,
        }
        if repeated is not None:
            raise _Stop("rejected", repeated, [Finding("timing_forged", repeated)])

    def speedups(self) -> None:
        t = self.verdict.timing
        if not t.meaningful or not t.candidate_ms:
            return
        self.verdict.speedup = {
            "eager": t.eager_ms / t.candidate_ms if t.eager_ms else None,
            "compile": t.compile_ms / t.candidate_ms if t.compile_ms else None,
        }
        self._roofline_check()
        self._launch_check()
        eager = self.verdict.speedup["eager"]
        if eager is not None and eager > IMPLAUSIBLE_SPEEDUP:
            self.verdict.flags.append(
                Finding(
                    "implausible_speedup",
                    f"{eager:.1f}x over eager exceeds {IMPLAUSIBLE_SPEEDUP:g}x",
                )
            )

    def _launch_check(self) -> None:
        """Flag a forward whose kernels keep the device busy for less than half of its measured
        time: it is bound by launches and host work, and a CUDA graph or fusion would help. The
        device figures come from the child's profiler (they inform, never decide)."""
        launch = self.verdict.extra.get("launch")
        call_ms = self.verdict.timing.candidate_ms
        if not isinstance(launch, dict) or not call_ms:
            return
        kernels, device_us = launch["kernels"], launch["device_us"]
        if kernels >= LAUNCH_BOUND_KERNELS and device_us < LAUNCH_BOUND_BUSY * call_ms * 1000:
            self.verdict.flags.append(
                Finding(
                    "launch_bound",
                    f"{kernels:g} kernels keep the device busy {device_us:.1f} us of a "
                    f"{call_ms * 1000:.1f} us call; launches {launch['launch_us']:.1f} us",
                )
            )

    def _roofline_check(self) -> None:
        """Flag a time below what the device's memory bandwidth and peak arithmetic allow (E18)."""
        work = self.verdict.extra.get("work")
        ceiling = ceiling_for(self.verdict.device)
        candidate_ms = self.verdict.timing.candidate_ms
        if not work or ceiling is None or not candidate_ms:
            return
        floor_ms = min_time_ms(ceiling, work["bytes"], work["flops"], work["half_precision"])
        work["roofline_ms"] = floor_ms
        if candidate_ms < ROOFLINE_MARGIN * floor_ms:
            self.verdict.flags.append(
                Finding(
                    "beyond_roofline",
                    f"{candidate_ms:.4g} ms is below the {floor_ms:.4g} ms that {work['bytes']} bytes "
                    f"and {work['flops']} FLOPs take at this device's peak",
                )
            )

    def record_work(self, sets: list[ref.Trial]) -> None:
        try:
            moved, flops = ref.measure_work(self.task.module(), sets[0])
        except Exception as exc:  # a task the flop counter cannot trace is only left unchecked
            self.verdict.extra["work"] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
            return
        half = any(
            m.get("dtype") in ("torch.float16", "torch.bfloat16") for m in sets[0].expected_meta
        )
        self.verdict.extra["work"] = {"bytes": moved, "flops": flops, "half_precision": half}

    def cleanup(self) -> None:
        for slot in self._ahead.values():
            if slot.started is not None:
                slot.started.discard()
        self._ahead.clear()
        if not self.options.keep_scratch:
            shutil.rmtree(self.root, ignore_errors=True)


def _clip_log(reason: str | None, logs: list[str]) -> str:
    """The reason line first and whole, then the children's logs cut in the middle with a marker."""
    head = (reason or "").splitlines()[0][:2000] if reason else ""
    rest = "\n".join(logs)
    room = LOG_LIMIT - len(head) - 1
    if len(rest) > room:
        marker = f"\n[... {len(rest) - room} characters of log truncated ...]\n"
        keep = room - len(marker)
        rest = f"{rest[: keep // 3]}{marker}{rest[-(keep - keep // 3) :]}"
    return f"{head}\n{rest}" if head and rest else head or rest


_DRIVER_HASHES: dict[Path, set[str]] = {}


def _file_hash(path: str) -> str:
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""


def trusted_driver_dir(cache_dir: Path) -> Path:
    return cache_dir / "triton-driver"


def _trusted_driver_hashes(cache_dir: Path) -> set[str]:
    """Triton builds its driver glue (``cuda_utils*.so``, which imports the CUDA driver API and
    ``dlopen``) into its cache on first GPU use. The parent builds it once, in a process that runs
    no candidate code, and hands a copy to every child's cache; a mapped copy whose bytes are the
    trusted build's is Triton's, any other is judged like the candidate's own objects."""
    import subprocess

    if cache_dir in _DRIVER_HASHES:
        return _DRIVER_HASHES[cache_dir]
    target = trusted_driver_dir(cache_dir)
    target.mkdir(parents=True, exist_ok=True)
    probe = "import triton; triton.runtime.driver.active.utils"
    env = {**_passthrough_env(), "TRITON_CACHE_DIR": str(target), "HOME": str(target)}
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-I", "-c", probe], env=env, timeout=600, check=False)
    hashes = {_file_hash(str(p)) for p in target.rglob("*.so")} - {""}
    _DRIVER_HASHES[cache_dir] = hashes
    return hashes


def _thread_cpu(pid: int) -> dict[str, int]:
    """CPU ticks (user + system) of every thread of ``pid``, read from outside."""
    ticks = {}
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks[stat.parent.name] = int(fields[11]) + int(fields[12])
    return ticks


def _busy_threads(pid: int) -> list[str]:
    """Threads of the child that burn CPU while it waits for the parent's next request: work
    that runs outside any call, where no timer sees it (E08), observed from outside."""
    import os
    import time

    # Spinning thread pools go to sleep first: libgomp within milliseconds, LLVM's and Intel's
    # OpenMP after KMP_BLOCKTIME (200 ms by default).
    time.sleep(IDLE_SETTLE_S)
    hz = os.sysconf("SC_CLK_TCK")
    limit = IDLE_BUSY_FRACTION * IDLE_WINDOW_S * hz
    busy: dict[str, int] = {}
    for _ in range(2):  # busy in two windows in a row: work, not a pool winding down
        before = _thread_cpu(pid)
        time.sleep(IDLE_WINDOW_S)
        after = _thread_cpu(pid)
        now = {t: after[t] - before[t] for t in set(before) & set(after)}
        busy = {
            t: now[t] + busy.get(t, 0) for t in now if now[t] > limit and (not busy or t in busy)
        }
        if not busy:
            return []
    return [f"{busy[t] / hz:.2f} s" for t in sorted(busy)]


def _under(path: str, root: Path) -> bool:
    try:
        Path(path).relative_to(root)
    except ValueError:
        return False
    return True


def _unique(items: Any) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# A forward of at least this many kernels whose device time is under this share of its call is
# launch-bound.
LAUNCH_BOUND_KERNELS = 2
LAUNCH_BOUND_BUSY = 0.5


def _launch_figures(activity: dict[str, Any]) -> dict[str, float] | None:
    """The child's device activity of one forward, if it is three finite non-negative numbers."""
    figures = {}
    for key in ("kernels", "device_us", "launch_us"):
        value = activity.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value) or value < 0:
            return None
        figures[key] = float(value)
    return figures


def _host_memory_limit() -> int | None:
    try:
        with open("/proc/meminfo") as info:
            total_kb = int(info.readline().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return int(total_kb * 1024 * 0.75)


def _passthrough_env() -> dict[str, str]:
    return child_environment()


_UNHEALTHY: dict[str, str] = {}
_FAULT_STATUSES = ("crashed", "runtime_error", "timeout")


def device_health(device: str, timeout: float = 120.0) -> str | None:
    """Run a tiny kernel on ``device`` in a fresh process; None when healthy, else why not."""
    import subprocess

    probe = "import torch; x = torch.ones(1024, device='cuda'); torch.cuda.synchronize(); assert float(x.sum()) == 1024.0"
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", probe], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"a health-check kernel on {device} did not finish in {timeout:g} s"
    if done.returncode != 0:
        return f"a health-check kernel on {device} failed: {(done.stderr.strip().splitlines() or ['?'])[-1][:200]}"
    return None


def evaluate(task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
    """Decide whether ``source`` is a correct and fast ``ModelNew`` for ``task`` on ``backend``."""
    target = get_backend(backend)
    status = target.status()
    device = target.device()
    if device in _UNHEALTHY and device_health(device) is not None:
        log = f"the device is unhealthy since an earlier candidate's fault: {_UNHEALTHY[device]}"
        return Verdict(
            task=task.id, backend=backend, device=status.device, status="infra_error", log=log
        )
    _UNHEALTHY.pop(device, None)
    if status.state == "missing" or (status.state == "compile-only" and not options.compile_only):
        verdict = Verdict(task=task.id, backend=backend, device=status.device, status="infra_error")
        verdict.log = f"backend {backend} cannot run here: {status.reason}"
        return verdict
    try:
        ev = Evaluation(task, source, target, status, options)
    except sandbox.SandboxError as exc:
        return Verdict(
            task=task.id, backend=backend, device=status.device, status="infra_error", log=str(exc)
        )
    try:
        _run(ev)
    except _Stop as stop:
        ev.verdict.status = stop.status
        ev.verdict.violations.extend(stop.violations)
        ev.reason = stop.reason
    except (TaskError, sandbox.SandboxError) as exc:
        ev.verdict.status = "infra_error"
        ev.reason = str(exc)
    finally:
        ev.cleanup()
    if ev.verdict.status != "correct":
        ev.verdict.speedup = {"eager": None, "compile": None}
    if ev.verdict.status in _FAULT_STATUSES and device.startswith("cuda"):
        # A faulting kernel can leave the GPU in a sticky error state (F07): check it in a fresh
        # process before anything else runs there.
        problem = device_health(device)
        ev.verdict.extra["device_health"] = problem or "ok"
        if problem:
            _UNHEALTHY[device] = problem
    ev.verdict.log = _clip_log(ev.reason, ev.logs)
    return ev.verdict


def _run(ev: Evaluation) -> None:
    ev.static()
    if not ev.options.compile_only:
        # Each child imports torch while the phase before it runs. Never while a timing child
        # runs: a start-up on a shared core would disturb what it measures.
        ev.prestart("correctness")
    compiled_only = ev.compile()
    if ev.options.compile_only:
        ev.verdict.status = "compiled"
        ev.verdict.correctness = {"object_files_only": compiled_only}
        return
    if ev.options.timing:
        ev.prestart("timing")
    try:
        trials = ev.make_trials()
    except TaskError:
        raise
    except Exception as exc:
        raise TaskError(f"the task's reference failed: {type(exc).__name__}: {exc}") from exc
    if not ev.options.timing:
        ev.correctness(trials)
        return
    sets = ev.timing_sets()
    # The reference's bytes and FLOPs are counted in this process while the correctness child
    # runs (which times nothing), not before the timing child, which must run alone.
    work = threading.Thread(target=ev.record_work, args=(sets,), daemon=True)
    work.start()
    try:
        ev.correctness(trials)
    finally:
        work.join()
    ev.timing(sets)
    ev.baselines(sets)
    ev.overhead(sets)
    ev.speedups()
    from kernelwright.verifier import profile_phase

    # Each informs and never decides: whatever goes wrong in one is a line in the verdict.
    if ev.options.profile:
        profile_phase.optional(ev, "profile", profile_phase.profile, trials[0].payload)
    if ev.options.sanitize:
        tools = ev.options.sanitize
        profile_phase.optional(ev, "sanitizer", profile_phase.sanitize, trials[0].payload, tools)
    if ev.options.cuda_graph and any(f.check == "launch_bound" for f in ev.verdict.flags):
        profile_phase.optional(ev, "cuda_graph", profile_phase.graph_timing, trials[0].payload)
