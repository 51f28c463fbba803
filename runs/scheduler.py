"""One scheduler for ``bench`` and ``run``: a queue per stage, each with its own workers.

- ``llm``: calls to a model (network waits), up to a concurrency limit;
- ``build``: on a GPU backend, the sandboxed compile of a candidate (CPU work, no device), so
  that the next candidates build while one is timed;
- ``device``: the verifier's correctness and timing children, as many at once as the device
  allows (one per GPU; on a CPU backend one per usable core, see ``worker_limit``).

The stages hand work on through futures; the caller's thread stays the only one that writes the
store. Each stage's busy time is summed so that a run can be compared with its slowest stage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from kernelwright.bench_tasks.task import Task
from kernelwright.verifier.evaluate import EvalOptions, evaluate
from kernelwright.verifier.verdict import Verdict

T = TypeVar("T")
STAGES = ("llm", "build", "device")


def failed_verdict(task: Task, backend: str, exc: BaseException) -> Verdict:
    """An ``infra_error`` verdict for an evaluation that failed in the parent itself."""
    verdict = Verdict(task=task.id, backend=backend, device="", status="infra_error")
    verdict.log = f"the evaluation failed in the parent: {type(exc).__name__}: {exc}"
    verdict.extra["category"] = task.category
    return verdict


@dataclass
class StageClock:
    """Busy seconds summed over a stage's jobs, and the jobs counted."""

    busy_s: float = 0.0
    jobs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, fn: Callable[..., T], *args: Any) -> T:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            with self.lock:
                self.busy_s += time.perf_counter() - started
                self.jobs += 1


class Scheduler:
    """Stage pools for one run. ``verify`` chains build and device; ``call`` runs an LLM call."""

    def __init__(
        self,
        backend: str,
        options: EvalOptions,
        *,
        device_workers: int,
        llm_workers: int = 4,
        build_workers: int = 0,
        evaluate_fn: Callable[[Task, str, str, EvalOptions], Verdict] = evaluate,
    ) -> None:
        if device_workers < 1 or llm_workers < 1 or build_workers < 0:
            raise ValueError("each stage needs at least one worker (build: zero or more)")
        self.backend = backend
        self.options = options
        self._evaluate_fn = evaluate_fn
        self.clocks = {stage: StageClock() for stage in STAGES}
        self._device = ThreadPoolExecutor(device_workers, thread_name_prefix="kw-device")
        self._llm = ThreadPoolExecutor(llm_workers, thread_name_prefix="kw-llm")
        self._build = (
            ThreadPoolExecutor(build_workers, thread_name_prefix="kw-build")
            if build_workers
            else None
        )
        self.build_capacity = build_workers
        self.started = time.perf_counter()

    def call(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run an LLM call (or any network wait) on the llm stage."""
        return self._llm.submit(self.clocks["llm"].timed, fn, *args)

    def verify(self, task: Task, source: str) -> Future[Verdict]:
        """The verdict of ``source`` on ``task``: built on the build stage where there is one
        (a failed build is the verdict), then checked and timed on the device stage."""
        if self._build is None:
            return self._device.submit(self._on_device, task, source)
        outer: Future[Verdict] = Future()
        outer.set_running_or_notify_cancel()
        build_options = replace(self.options, compile_only=True)

        def built(done: Future[Verdict]) -> None:
            try:
                verdict = done.result()
            except BaseException as exc:  # cancelled at shutdown, or a bug
                outer.set_exception(exc)
                return
            if verdict.status != "compiled":
                outer.set_result(verdict)
                return
            try:
                later = self._device.submit(self._on_device, task, source)
            except RuntimeError as exc:  # the pool was shut down meanwhile
                outer.set_exception(exc)
                return
            later.add_done_callback(lambda f: _copy_outcome(f, outer))

        first = self._build.submit(
            self.clocks["build"].timed, self._evaluate, task, source, self.backend, build_options
        )
        first.add_done_callback(built)
        return outer

    def _evaluate(self, task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
        try:
            return self._evaluate_fn(task, source, backend, options)
        except Exception as exc:
            # A verdict for every started evaluation keeps the store consistent; the log says why.
            return failed_verdict(task, backend, exc)

    def _on_device(self, task: Task, source: str) -> Verdict:
        return self.clocks["device"].timed(self._evaluate, task, source, self.backend, self.options)

    def stage_times(self) -> dict[str, Any]:
        """Busy seconds and jobs per stage, and the wall time since the scheduler started."""
        return {
            "wall_s": time.perf_counter() - self.started,
            **{name: {"busy_s": c.busy_s, "jobs": c.jobs} for name, c in self.clocks.items()},
        }

    def shutdown(self, cancel: bool = False) -> None:
        for pool in (self._llm, self._build, self._device):
            if pool is not None:
                pool.shutdown(wait=not cancel, cancel_futures=cancel)


def _copy_outcome(source: Future[Verdict], target: Future[Verdict]) -> None:
    try:
        target.set_result(source.result())
    except BaseException as exc:
        target.set_exception(exc)
