"""``run_bench``: evaluate a folder of candidate kernels on a suite, as one stored run.

A solutions folder holds one candidate file per task, named like the task file (``relu.py`` for
``smoke/relu``). Tasks without a candidate are recorded as missing and not evaluated; candidate
files that match no task are reported. The calling process is the run store's only writer: each
evaluation is committed ``running`` before its children start and finished from the calling
thread, while up to ``jobs`` evaluations run at once in worker threads (each spawns its own
sandboxed children). A resumed run evaluates only the tasks that have no finished evaluation,
with the suite and backend the run recorded and the evaluation options of the user's settings
(a record that would check less strictly is refused: stored data never weakens a check).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from kernelwright.backends import UnknownBackend, get_backend
from kernelwright.bench_tasks import (
    Task,
    TaskError,
    Unloadable,
    apply_scale,
    list_suites,
    scan_suite,
    suite_dir,
)
from kernelwright.bench_tasks.task import SCALE_NAME, SUITES_DIR, unscaled_line
from kernelwright.runs.measurements import joules_per_call
from kernelwright.runs.ray_executor import EXECUTORS, RayEvaluator, RayUnavailable
from kernelwright.runs.scheduler import Scheduler
from kernelwright.runs.store import Pick, Store, TaskResult
from kernelwright.textsafe import visible
from kernelwright.verifier import EvalOptions, Verdict, evaluate

# The EvalOptions fields a run records: a resume or a regress compares them with the user's own.
RECORDED_OPTIONS = (
    "timeout",
    "compile_only",
    "sandbox",
    "warmup_ms",
    "rep_ms",
    "trials",
    "sampled_configs",
    "compile_baseline",
    "timing",
    "input_sets",
)
# How long an interrupted bench waits for its worker threads once their children are killed.
STOP_GRACE_S = 30.0


class BenchError(ValueError):
    """A bench that cannot start as asked; the message is one line for the user."""


class BenchInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a bench; the run is stored as ``interrupted``."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id


@dataclass(frozen=True)
class BenchEvent:
    """What ``run_bench`` reports to its progress callback.

    ``kind`` is ``plan`` (once, before the first evaluation), ``start`` (an evaluation was
    committed as running), ``done`` (its verdict was stored) or ``warning`` (``message`` says
    what). ``completed`` and ``total`` count the evaluations of this invocation.
    """

    kind: Literal["plan", "start", "done", "warning"]
    run_id: int
    completed: int = 0
    total: int = 0
    task_id: str | None = None
    status: str | None = None
    message: str = ""


Progress = Callable[[BenchEvent], None]


@dataclass(frozen=True)
class BenchPlan:
    """The tasks of a suite paired with the candidate files of a solutions folder."""

    suite: str
    tasks: list[Task]
    sources: dict[str, str]
    missing: list[str]
    unmatched: list[str]
    skipped: list[Unloadable] = field(default_factory=list)  # suite files that do not load
    scale: str | None = None  # the size preset the tasks run at (``--scale``)
    unscaled: list[str] = field(default_factory=list)  # task ids without that preset

    @property
    def evaluable(self) -> list[Task]:
        return [task for task in self.tasks if task.id in self.sources]


def suite_name(suite: str) -> str:
    """The suite as a run records it: a shipped suite's id, else the absolute folder path."""
    folder = suite_dir(suite)
    return folder.name if folder.parent == SUITES_DIR else str(folder)


def plan_bench(
    solutions: Path, suite: str, strict: bool = False, scale: str | None = None
) -> BenchPlan:
    """Pair each task of ``suite`` with ``solutions/<task file stem>.py``; raise ``BenchError``.
    A suite file that does not load is skipped (listed in the plan), or with ``strict`` an
    error. With ``scale``, tasks that have that size preset run at it."""
    try:
        tasks, skipped = scan_suite(suite, strict=strict)
        tasks, unscaled = apply_scale(tasks, scale)
        name = suite_name(suite)
    except TaskError as exc:
        raise BenchError(str(exc)) from None
    if not solutions.is_dir():
        raise BenchError(f"solutions folder not found: {solutions}")
    files = {p.stem: p for p in sorted(solutions.glob("*.py")) if not p.name.startswith("_")}
    sources: dict[str, str] = {}
    for task in tasks:
        path = files.get(task.stem)
        if path is None:
            continue
        try:
            sources[task.id] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BenchError(f"cannot read candidate {path}: {exc}") from None
    stems = {task.stem for task in tasks}
    return BenchPlan(
        suite=name,
        tasks=tasks,
        sources=sources,
        missing=[task.id for task in tasks if task.id not in sources],
        unmatched=sorted(f"{stem}.py" for stem in files if stem not in stems),
        skipped=skipped,
        scale=scale,
        unscaled=[t for t in unscaled if t in sources],
    )


def recorded_scale(options: dict[str, Any], where: str) -> str | None:
    """The size preset a stored run recorded, refused unless it is a preset name."""
    scale = options.get("scale")
    if scale is not None and not (isinstance(scale, str) and SCALE_NAME.fullmatch(scale)):
        raise BenchError(f"{where}: recorded scale {visible(scale)} is not a preset name")
    return scale


def recorded_options(options: EvalOptions) -> dict[str, Any]:
    """The evaluation options a run stores (never the per-run secret or local paths)."""
    return {name: getattr(options, name) for name in RECORDED_OPTIONS}


def _number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) if integer else math.isfinite(value)


# How much each sandbox level isolates; ``auto`` picks the strongest one this machine has.
SANDBOX_STRENGTH = {"process": 0, "docker": 1, "bwrap": 1, "auto": 1}
# What each recorded option may hold; anything else in a record is refused, never applied.
_RECORD_RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "timeout": ("a positive number", lambda v: _number(v, False) and v > 0),
    "compile_only": ("true or false", lambda v: isinstance(v, bool)),
    "sandbox": ("auto, bwrap, docker or process", lambda v: v in SANDBOX_STRENGTH),
    "warmup_ms": ("a number >= 0", lambda v: _number(v, False) and v >= 0),
    "rep_ms": ("a positive number", lambda v: _number(v, False) and v > 0),
    "trials": ("an integer >= 1", lambda v: _number(v, True) and v >= 1),
    "sampled_configs": ("an integer >= 0", lambda v: _number(v, True) and v >= 0),
    "compile_baseline": ("true or false", lambda v: isinstance(v, bool)),
    "timing": ("true or false", lambda v: isinstance(v, bool)),
    "input_sets": ("an integer >= 1", lambda v: _number(v, True) and v >= 1),
}


def checked_record(recorded: Any, where: str) -> dict[str, Any]:
    """The recorded evaluation options of a run or baseline, refused unless every one is known
    and well-formed (``BenchError`` naming ``where``)."""
    if recorded is None:
        return {}
    if not isinstance(recorded, dict):
        raise BenchError(f"{where}: recorded options are not a mapping")
    for name, value in recorded.items():
        rule = _RECORD_RULES.get(name)
        if rule is None:
            raise BenchError(f"{where}: unknown recorded option {visible(name)!r}")
        if not rule[1](value):
            raise BenchError(f"{where}: recorded {name} must be {rule[0]}, not {visible(value)}")
    return dict(recorded)


def weaker_options(recorded: dict[str, Any], mine: EvalOptions) -> list[str]:
    """Where ``recorded`` would check a kernel less strictly than ``mine``, one phrase each."""
    found = []
    sandbox = recorded.get("sandbox", mine.sandbox)
    if SANDBOX_STRENGTH[sandbox] < SANDBOX_STRENGTH.get(mine.sandbox, 1):
        found.append(f"sandbox {sandbox} instead of {mine.sandbox}")
    if recorded.get("compile_only") and not mine.compile_only:
        found.append("compile only (no correctness check)")
    if recorded.get("timing") is False and mine.timing:
        found.append("no timing")
    for name in ("trials", "sampled_configs", "input_sets"):
        if name in recorded and recorded[name] < getattr(mine, name):
            found.append(f"{name} {recorded[name]} instead of {getattr(mine, name)}")
    return found


def options_from_record(
    recorded: Any, base: EvalOptions, where: str, *, use_recorded: bool = False
) -> EvalOptions:
    """The options to evaluate with when a stored run or a baseline recorded its own.

    Stored data never decides how strictly a kernel is checked: the result is ``base`` (the
    user's settings), and a record that would weaken them is refused with ``BenchError``.
    Only ``use_recorded`` (a flag the user gave) applies the recorded options instead.
    """
    record = checked_record(recorded, where)
    if use_recorded:
        return replace(base, **record)
    weaker = weaker_options(record, base)
    if weaker:
        raise BenchError(
            f"{where} records options that check kernels less strictly than your settings "
            f"({'; '.join(weaker)}); pass --use-recorded-options to evaluate with them anyway"
        )
    return base


def differing_options(recorded: dict[str, Any], options: EvalOptions) -> list[str]:
    """``name recorded -> now`` for every recorded option that differs from ``options``."""
    return [
        f"{name} {visible(value)} -> {getattr(options, name)}"
        for name, value in sorted(recorded.items())
        if getattr(options, name) != value
    ]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_limit(backend: str) -> tuple[int, str]:
    """How many evaluations may run at once on ``backend`` here, and why.

    CPU-side backends (cpu, and the Triton interpreter) get one per usable core. A GPU backend
    gets one: the verifier starts every child on the same device (it has no per-child device
    choice), so concurrent timings would share, and disturb, one GPU.
    """
    if get_backend(backend).device().startswith("cuda"):
        return 1, "the verifier runs every child on the same GPU"
    cores = _usable_cores()
    return cores, f"{cores} usable CPU cores"


def _evaluate(task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
    # Looked up at call time, so that tests can stand a verifier of their own in for it.
    return evaluate(task, source, backend, options)


def build_workers(backend: str) -> int:
    """Workers for the build stage: on a GPU backend candidates build on spare cores while one
    is timed; on a CPU backend builds and timings share the cores, so there is no such stage."""
    if not get_backend(backend).device().startswith("cuda"):
        return 0
    return max(1, min(2, _usable_cores() - 1))


def _own_sandbox_children() -> list[int]:
    """Direct children of this process that lead their own process group (sandboxed children)."""
    me = os.getpid()
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            # Fields after the parenthesized command: state, ppid, pgrp, session, ...
            rest = stat[stat.rfind(")") + 2 :].split()
            pid = int(entry.name)
            if len(rest) > 2 and int(rest[1]) == me and int(rest[2]) == pid:
                found.append(pid)
    return found


def stop_sandbox_children(grace_s: float = 2.0) -> None:
    """Kill the process groups of this process's sandboxed children for ``grace_s`` seconds."""
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        children = _own_sandbox_children()
        if not children:
            return
        for pid in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        time.sleep(0.1)


def _stop_children(in_flight: dict[Future[Verdict], Any]) -> None:
    """Kill the sandboxed children of running evaluations until their threads return."""
    deadline = time.monotonic() + STOP_GRACE_S
    while any(not f.done() for f in in_flight) and time.monotonic() < deadline:
        for pid in _own_sandbox_children():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        wait(list(in_flight), timeout=0.2)


@dataclass
class _Runner:
    """Feeds evaluations to a thread pool; every store write happens on the calling thread."""

    store: Store
    run_id: int
    backend: str
    options: EvalOptions
    jobs: int
    progress: Progress
    pending: Iterator[tuple[Task, str]]
    total: int
    completed: int = 0
    in_flight: dict[Future[Verdict], tuple[int, Task]] = field(default_factory=dict)
    # A Ray cluster's evaluator and build slots (``--executor ray``); None: this machine.
    ray: RayEvaluator | None = None
    builds: int | None = None

    def submit_next(self, scheduler: Scheduler) -> bool:
        item = next(self.pending, None)
        if item is None:
            return False
        task, source = item
        candidate_id = self.store.add_candidate(self.run_id, task.id, source, self.backend)
        evaluation_id = self.store.begin_evaluation(
            self.run_id, candidate_id, task.id, task.category
        )
        self.progress(BenchEvent("start", self.run_id, self.completed, self.total, task.id))
        future = scheduler.verify(task, source)
        self.in_flight[future] = (evaluation_id, task)
        return True

    def finish(self, future: Future[Verdict]) -> None:
        evaluation_id, task = self.in_flight.pop(future)
        verdict = future.result()
        self.store.finish_evaluation(evaluation_id, verdict.to_record())
        self.completed += 1
        event = BenchEvent("done", self.run_id, self.completed, self.total, task.id, verdict.status)
        self.progress(event)

    def run(self) -> None:
        scheduler = Scheduler(
            self.backend,
            self.options,
            device_workers=self.jobs,
            llm_workers=1,
            build_workers=build_workers(self.backend) if self.builds is None else self.builds,
            evaluate_fn=_evaluate if self.ray is None else self.ray,
        )
        # With a build stage, keep the builders busy ahead of the device.
        ahead = self.jobs + scheduler.build_capacity
        try:
            while len(self.in_flight) < ahead and self.submit_next(scheduler):
                pass
            while self.in_flight:
                finished, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
                for future in finished:
                    self.finish(future)
                    self.submit_next(scheduler)
        except BaseException:
            # Verdicts of evaluations cut short are not stored: their rows stay ``running``
            # and a resumed run abandons and redoes them.
            scheduler.shutdown(cancel=True)
            if self.ray is not None:
                self.ray.cancel()
            _stop_children(self.in_flight)
            raise
        scheduler.shutdown()


def _warn(progress: Progress | None, run_id: int, message: str) -> None:
    if progress is None:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    else:
        progress(BenchEvent("warning", run_id, message=message))


def _resume_plan(
    store: Store,
    run_id: int,
    solutions: Path | None,
    suite: str | None,
    backend: str | None,
    options: EvalOptions,
    use_recorded: bool,
    scale: str | None,
) -> tuple[Path, str, str, EvalOptions, str | None]:
    """What a resumed run evaluates: its recorded suite, backend, size preset and solutions
    folder, checked the way a user's own input is; evaluation options from the user's settings
    (see ``options_from_record``)."""
    run = store.get_run(run_id)
    recorded = dict(run.options)
    run_scale = recorded_scale(recorded, f"run {run_id}")
    if scale is not None and scale != run_scale:
        shown = f"scale {visible(run_scale)}" if run_scale else "no --scale"
        raise BenchError(f"run {run_id} was a bench with {shown}, not --scale {scale}")
    if suite is not None:
        if suite_name(suite) != run.suite:
            raise BenchError(f"run {run_id} was a bench of suite {visible(run.suite)}, not {suite}")
    elif run.suite not in list_suites():
        # A folder named in the store is not one the user chose: its task files run in this
        # process when they are loaded.
        raise BenchError(
            f"run {run_id} evaluated the task folder {visible(run.suite)}: pass --suite with that "
            "folder to load its task files"
        )
    if backend is not None and backend != run.backend:
        raise BenchError(f"run {run_id} ran on backend {visible(run.backend)}, not {backend}")
    stored_folder = recorded.get("solutions")
    if solutions is None and not isinstance(stored_folder, str):
        raise BenchError(f"run {run_id} recorded no solutions folder: give SOLUTIONS")
    folder = solutions or Path(str(stored_folder))
    resumed = options_from_record(
        recorded.get("eval"), options, f"run {run_id}", use_recorded=use_recorded
    )
    return folder, run.suite, run.backend, resumed, run_scale


def _create_run(
    store: Store,
    plan: BenchPlan,
    folder: Path,
    backend: str,
    options: EvalOptions,
    label: str | None,
    workers: int,
    executor: str = "local",
) -> int:
    """Record a new bench run with what a resume and a summary need to know."""
    return store.create_run(
        label or folder.resolve().name,
        plan.suite,
        backend,
        options={
            "kind": "bench",
            "solutions": str(folder.resolve()),
            "scale": plan.scale,
            "eval": recorded_options(options),
            "jobs": workers,
            "executor": executor,
            "planned": [task.id for task in plan.evaluable],
            "missing": plan.missing,
            "unmatched": plan.unmatched,
        },
    )


def run_bench(
    store: Store,
    solutions: Path | None,
    suite: str | None,
    backend: str | None,
    options: EvalOptions,
    label: str | None = None,
    jobs: int = 1,
    resume_run: int | None = None,
    progress: Progress | None = None,
    use_recorded: bool = False,
    strict: bool = False,
    scale: str | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> int:
    """Evaluate every candidate of ``solutions`` on its task of ``suite``; return the run id.
    A suite file that does not load is skipped with a warning, or with ``strict`` an error.
    With ``scale``, each task that has that size preset is benchmarked at it (recorded with
    the run; a resume uses the run's). With ``executor="ray"`` the evaluations run on the Ray
    cluster at ``ray_address`` (None: a Ray instance started here), as many at once as it has
    slots (GPUs, or CPUs on a CPU backend), capped by ``jobs`` when that is above 1.

    With ``resume_run``, the run's recorded suite, backend and (when ``solutions`` is None)
    solutions folder are used; ``suite`` or ``backend`` that differ raise ``BenchError``. The
    evaluation options are ``options`` unless ``use_recorded`` (see ``options_from_record``).
    Ctrl-C stores the run as ``interrupted`` and raises ``BenchInterrupted``.
    """
    if jobs < 1:
        raise BenchError("-j/--jobs must be at least 1")
    if resume_run is not None:
        folder, suite, backend, options, scale = _resume_plan(
            store, resume_run, solutions, suite, backend, options, use_recorded, scale
        )
    else:
        if solutions is None or suite is None or backend is None:
            raise BenchError("a new bench needs a solutions folder, a suite and a backend")
        folder = solutions
    try:
        get_backend(backend)
    except UnknownBackend as exc:
        raise BenchError(str(exc)) from None
    plan = plan_bench(folder, suite, strict, scale)
    if not plan.sources:
        raise BenchError(
            f"no candidate in {folder} matches a task of suite {plan.suite} "
            "(name each file like its task file, e.g. relu.py)"
        )
    where = _executor(executor, ray_address, backend, jobs)
    try:
        return _bench_with(
            store, plan, folder, backend, options, label, jobs, resume_run, progress, where
        )
    finally:
        if where.ray is not None:
            where.ray.close()


@dataclass
class _Where:
    """Where a bench's evaluations run: this machine's workers, or a Ray cluster's slots."""

    name: str
    workers: int
    why: str  # what limits ``workers``
    ray: RayEvaluator | None = None
    builds: int | None = None  # build-stage workers (None: as on this machine)


def _executor(executor: str, address: str | None, backend: str, jobs: int) -> _Where:
    if executor not in EXECUTORS:
        raise BenchError(f"--executor {executor!r}: choose from {', '.join(EXECUTORS)}")
    if executor == "local":
        limit, why = worker_limit(backend)
        return _Where(executor, min(jobs, limit), why)
    ray: RayEvaluator | None = None
    try:
        ray = RayEvaluator(address, backend)
        limit, builds = ray.slots()
    except RayUnavailable as exc:
        if ray is not None:
            ray.close()
        raise BenchError(str(exc)) from None
    why = f"the Ray cluster has {limit} slot(s) for backend {backend}"
    return _Where(executor, min(jobs, limit) if jobs > 1 else limit, why, ray, builds)


def _bench_with(
    store: Store,
    plan: BenchPlan,
    folder: Path,
    backend: str,
    options: EvalOptions,
    label: str | None,
    jobs: int,
    resume_run: int | None,
    progress: Progress | None,
    where: _Where,
) -> int:
    workers = where.workers
    if resume_run is None:
        run_id = _create_run(store, plan, folder, backend, options, label, workers, where.name)
        done: set[str] = set()
    else:
        run_id = resume_run
        recorded = checked_record(store.get_run(run_id).options.get("eval"), f"run {run_id}")
        changed = differing_options(recorded, options)
        if changed:
            _warn(progress, run_id, f"resuming with your settings: {', '.join(changed)}")
        done = store.resume_run(run_id, recorded_options(options))
    for bad in plan.skipped:
        _warn(progress, run_id, f"skipped {bad.line()}")
    if plan.unscaled:
        _warn(progress, run_id, unscaled_line(plan.scale, plan.unscaled))
    if plan.unmatched:
        _warn(
            progress,
            run_id,
            f"{len(plan.unmatched)} candidate file(s) in {folder} match no task of suite "
            f"{plan.suite}: {', '.join(plan.unmatched)}",
        )
    if workers < jobs:
        _warn(progress, run_id, f"running {workers} evaluation(s) at once, not {jobs}: {where.why}")
    todo = [(task, plan.sources[task.id]) for task in plan.evaluable if task.id not in done]
    runner = _Runner(
        store,
        run_id,
        backend,
        options,
        workers,
        progress or _ignore,
        iter(todo),
        len(todo),
        ray=where.ray,
        builds=where.builds,
    )
    runner.progress(BenchEvent("plan", run_id, 0, len(todo)))
    try:
        runner.run()
    except KeyboardInterrupt:
        store.finish_run(run_id, "interrupted")
        raise BenchInterrupted(run_id) from None
    store.finish_run(run_id, "finished")
    return run_id


def _ignore(event: BenchEvent) -> None:
    return None


# -- summaries ----------------------------------------------------------------------------------


def _reason(record: dict[str, Any]) -> str:
    if record.get("status") in ("correct", "compiled"):
        flags = record.get("flags") or []
        return f"flag {flags[0].get('check')}: {flags[0].get('detail')}" if flags else ""
    lines = [line for line in str(record.get("log") or "").splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


@dataclass(frozen=True)
class SummaryRow:
    """One task's line in a bench summary: its verdict, or ``missing`` when no candidate was given."""

    task_id: str
    status: str
    candidate_ms: float | None = None
    meaningful: bool = False
    speedup_eager: float | None = None
    speedup_compile: float | None = None
    reason: str = ""
    evaluation_id: int | None = None
    # NVML's estimate, where the verdict measured one on an NVIDIA GPU (backends/energy.py).
    joules_per_call: float | None = None

    @classmethod
    def of(cls, result: TaskResult) -> SummaryRow:
        timing = result.record.get("timing") or {}
        return cls(
            joules_per_call=joules_per_call(result.record),
            task_id=result.task_id,
            status=result.status,
            candidate_ms=result.candidate_ms,
            meaningful=bool(timing.get("meaningful", False)),
            speedup_eager=result.speedup_eager,
            speedup_compile=result.speedup_compile,
            reason=_reason(result.record),
            evaluation_id=result.evaluation_id,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_summary(
    store: Store, run_id: int, pick: Pick | None = None
) -> tuple[list[SummaryRow], list[str], list[str], dict[str, TaskResult]]:
    """A run's rows (evaluated, pending, missing), unmatched candidate files, and stored results.

    ``pending`` rows are tasks with a candidate that an interrupted run has not finished. A bench
    shows each task's latest evaluation; an agent run (many candidates per task) its best,
    unless ``pick`` says otherwise.
    """
    run = store.get_run(run_id)
    if pick is None:
        pick = "best" if run.options.get("kind") == "run" else "latest"
    results = {r.task_id: r for r in store.run_results(run_id, pick)}
    rows = [SummaryRow.of(result) for result in results.values()]
    pending = [t for t in _names(run.options.get("planned")) if t not in results]
    rows += [SummaryRow(task_id=t, status="pending", reason="not evaluated yet") for t in pending]
    missing = [t for t in _names(run.options.get("missing")) if t not in results]
    rows += [SummaryRow(task_id=t, status="missing", reason="no candidate file") for t in missing]
    unmatched = _names(run.options.get("unmatched"))
    return rows, missing, unmatched, results


def _names(value: Any) -> list[str]:
    """A stored list of task ids or file names; whatever else a store holds there is dropped."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


__all__ = [
    "BenchError",
    "BenchEvent",
    "BenchInterrupted",
    "BenchPlan",
    "SummaryRow",
    "plan_bench",
    "run_bench",
    "run_summary",
    "worker_limit",
]
