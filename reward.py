"""Rewards for RL loops: one number per candidate kernel, read from the verifier's verdict.

``reward(task, source, backend)`` runs the same verifier as ``kernelwright eval`` (static guards,
sandboxed build, correctness trials, timing) and turns its verdict into a ``Reward``;
``reward_batch(items)`` does that for many candidates at once, in input order.

The scalar ``Reward.value``, by verdict status:

- ``rejected`` (a violation: the candidate games the benchmark) -> ``REJECTED_REWARD`` = -1.0
- ``compile_error``, ``runtime_error``, ``timeout``, ``crashed`` -> ``FAILED_REWARD`` = 0.0
- ``incorrect`` (it builds and runs, wrong output) -> ``INCORRECT_REWARD`` = 0.1
- ``correct`` -> ``CORRECT_REWARD + clip(log2(speedup), SPEEDUP_LOG2_MIN, SPEEDUP_LOG2_MAX)``
  = ``1.0 + clip(log2(speedup), -0.5, 3.0)``, in [0.5, 4.0], where ``speedup`` is the
  verdict's speedup over PyTorch eager; ``1.0`` when there is none (timing off, or not
  meaningful: the Triton and Pallas interpreters on a CPU)
- ``infra_error`` (the machine, the sandbox or the verifier failed, not the candidate) -> no
  value: ``reward`` raises ``RewardUnavailable``, and ``reward_batch`` returns that item with
  ``value`` None, so that an RL loop never learns from an infrastructure failure.

Why these numbers: the order rejected < failed < incorrect < correct always holds, whatever
the speedup (a correct kernel 4x slower than eager still gets 0.5, above any incorrect one).
Cheating is the only negative outcome, so a policy never prefers a cheat to failing honestly.
Failures get 0, not less: a timeout or a crash can come from a loaded machine as well as from
the candidate, and a build error is the common first step of learning a backend. The speedup
term is capped at 8x (log2 = 3): past that a speedup is more often a timing artefact or an
exploit the verifier flags (``implausible_speedup`` at 50x) than real work, and an uncapped
term would make one such sample outweigh a batch. Flags never change the value; they are
reported in ``Reward.flags``.

Every evaluation draws a fresh per-run secret (the seeds of its inputs and sampled configs),
even when the caller passes ``options``: an RL loop evaluates thousands of candidates of one
task, and with one secret they would all be checked on the same inputs, which an optimizer
can fit. Baselines are cached under a key without the secret, so this costs nothing.
"""

from __future__ import annotations

import math
import os
import secrets
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from kernelwright.backends import get_backend
from kernelwright.bench_tasks import Task, resolve_task
from kernelwright.verifier import EvalOptions, Verdict, evaluate

REJECTED_REWARD = -1.0
FAILED_REWARD = 0.0
INCORRECT_REWARD = 0.1
CORRECT_REWARD = 1.0
# The speedup term: log2 of the speedup over eager, clipped to this range.
SPEEDUP_LOG2_MIN = -0.5
SPEEDUP_LOG2_MAX = 3.0
# Statuses where the candidate ran into its own failure before an output could be judged.
FAILED_STATUSES = ("compile_error", "runtime_error", "timeout", "crashed")

TaskRef = Task | str | os.PathLike[str]
# One item of a batch: (task, candidate source, backend name).
BatchItem = tuple[TaskRef, str, str]


class RewardUnavailable(RuntimeError):
    """The verifier could not judge the candidate (``infra_error``): there is no reward to learn
    from. ``verdict`` is the infra_error verdict; its ``log`` says what failed."""

    def __init__(self, verdict: Verdict) -> None:
        first = verdict.log.splitlines()[0] if verdict.log else "no reason given"
        super().__init__(f"no reward for {verdict.task} on {verdict.backend}: {first}")
        self.verdict = verdict


@dataclass(frozen=True)
class Reward:
    """A candidate's reward and the parts it was computed from.

    ``value`` is the scalar of the module docstring (None only for ``infra_error``).
    ``compiled``: the build finished and the candidate reached the correctness phase.
    ``speedup``: the verdict's speedup over eager, None unless the candidate is correct and
    timed meaningfully. ``speedup_meaningful``: timing was measured on a backend whose timings
    mean something (false on the interpreters). ``flags`` and ``violations``: the names of the
    checks that fired (their details are in ``verdict``).
    """

    value: float | None
    status: str
    correct: bool
    compiled: bool
    speedup: float | None
    speedup_meaningful: bool
    flags: list[str]
    violations: list[str]
    verdict: Verdict

    @classmethod
    def of(cls, verdict: Verdict) -> Reward:
        """The reward for a verdict; ``value`` is None when the verdict is ``infra_error``."""
        timing = verdict.timing
        return cls(
            value=reward_value(verdict),
            status=verdict.status,
            correct=verdict.correct,
            compiled=verdict.status in ("correct", "incorrect")
            or "correctness" in (verdict.extra.get("phases") or {}),
            speedup=measured_speedup(verdict),
            speedup_meaningful=bool(timing.meaningful and timing.candidate_ms is not None),
            flags=[f.check for f in verdict.flags],
            violations=[v.check for v in verdict.violations],
            verdict=verdict,
        )

    def to_json(self) -> dict[str, Any]:
        """The parts as one JSON object; ``verdict`` as ``kernelwright eval --json`` prints it."""
        return {
            "value": self.value,
            "status": self.status,
            "correct": self.correct,
            "compiled": self.compiled,
            "speedup": self.speedup,
            "speedup_meaningful": self.speedup_meaningful,
            "flags": list(self.flags),
            "violations": list(self.violations),
            "verdict": self.verdict.to_json(),
        }


def measured_speedup(verdict: Verdict) -> float | None:
    """The speedup over eager that enters the value: a correct verdict's, when its timing is
    meaningful and the speedup a finite positive number; else None."""
    speedup = verdict.speedup.get("eager")
    if not (verdict.correct and verdict.timing.meaningful and isinstance(speedup, (int, float))):
        return None
    return float(speedup) if math.isfinite(speedup) and speedup > 0 else None


def speedup_term(speedup: float) -> float:
    """``clip(log2(speedup), SPEEDUP_LOG2_MIN, SPEEDUP_LOG2_MAX)``."""
    return min(SPEEDUP_LOG2_MAX, max(SPEEDUP_LOG2_MIN, math.log2(speedup)))


def reward_value(verdict: Verdict) -> float | None:
    """The scalar reward of a verdict (the formula of the module docstring); None for
    ``infra_error``. A ``compiled`` verdict (compile only) has no correctness to reward."""
    status = verdict.status
    if status == "infra_error":
        return None
    if status == "rejected":
        return REJECTED_REWARD
    if status in FAILED_STATUSES:
        return FAILED_REWARD
    if status == "incorrect":
        return INCORRECT_REWARD
    if status == "correct":
        speedup = measured_speedup(verdict)
        return CORRECT_REWARD + (speedup_term(speedup) if speedup is not None else 0.0)
    raise ValueError(f"a {status!r} verdict has no reward: rewards need a correctness check")


def default_options() -> EvalOptions:
    """The evaluation options of the user's settings, as ``kernelwright eval`` uses them
    (flags aside); a bad setting raises ``ConfigError``."""
    from kernelwright.config import load_settings

    return load_settings().eval_options()


def _checked_options(options: EvalOptions | None) -> EvalOptions:
    options = options if options is not None else default_options()
    if options.compile_only:
        raise ValueError("compile_only options cannot give a reward: it needs a correctness check")
    _warn_process_sandbox(options.sandbox)
    return options


_warned_process_sandbox = False


def _warn_process_sandbox(level: str) -> None:
    """Warn once per process when candidates would run without isolation, as the CLI does."""
    global _warned_process_sandbox
    from kernelwright.verifier.sandbox import SandboxError, choose_level, process_level_warning

    try:
        resolved = choose_level(level)
    except SandboxError:
        return  # every evaluation then ends in infra_error, which says why
    if resolved == "process" and not _warned_process_sandbox:
        _warned_process_sandbox = True
        warnings.warn(process_level_warning(), RuntimeWarning, stacklevel=4)


def _task(task: TaskRef) -> Task:
    return task if isinstance(task, Task) else resolve_task(os.fspath(task))


def _evaluate(task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
    """One verdict under a fresh per-run secret (see the module docstring)."""
    return evaluate(task, source, backend, replace(options, secret=secrets.token_bytes(16)))


def _parent_failure(task: Task, backend: str, exc: Exception) -> Verdict:
    verdict = Verdict(task=task.id, backend=backend, device="", status="infra_error")
    verdict.log = f"the evaluation failed in the parent: {type(exc).__name__}: {exc}"
    return verdict


def reward(task: TaskRef, source: str, backend: str, options: EvalOptions | None = None) -> Reward:
    """Evaluate ``source`` on ``task`` with the verifier and return its reward.

    ``task`` is a Task, a shipped task id (``smoke/relu``) or a path to a task file. Options
    default to the user's settings. An unknown task or backend raises ``TaskError`` or
    ``UnknownBackend`` before anything runs. An ``infra_error`` verdict, or an exception from
    the verifier itself, raises ``RewardUnavailable`` (the exception chained).
    """
    resolved = _task(task)
    get_backend(backend)
    options = _checked_options(options)
    try:
        verdict = _evaluate(resolved, source, backend, options)
    except Exception as exc:
        raise RewardUnavailable(_parent_failure(resolved, backend, exc)) from exc
    result = Reward.of(verdict)
    if result.value is None:
        raise RewardUnavailable(verdict)
    return result


def batch_jobs(backends: Iterable[str], jobs: int | None = None) -> int:
    """How many evaluations of a batch run at once: ``jobs``, or by default, at most the
    smallest ``runs.bench.worker_limit`` of its backends (one per core on CPU backends, one on
    a GPU, whose timings concurrent evaluations would disturb). More is refused with a
    warning, as ``bench -j`` does."""
    # Imported here: the run store behind runs.bench (SQLAlchemy) is not needed to score.
    from kernelwright.runs.bench import worker_limit

    if jobs is not None and jobs < 1:
        raise ValueError("jobs must be at least 1")
    limits = [worker_limit(name) for name in sorted(set(backends))]
    if not limits:
        return 1
    limit, why = min(limits)
    if jobs is None:
        return limit
    if jobs > limit:
        warnings.warn(
            f"running {limit} evaluation(s) at once, not {jobs}: {why}", RuntimeWarning, 3
        )
    return min(jobs, limit)


def reward_batch(
    items: Sequence[BatchItem], jobs: int | None = None, options: EvalOptions | None = None
) -> list[Reward]:
    """The rewards of ``(task, source, backend)`` items, in input order, evaluated ``jobs`` at
    a time in threads (each evaluation runs its own sandboxed children; see ``batch_jobs``).

    Every task and backend is checked before any evaluation starts (bad input raises then).
    After that no item is lost to another's failure: an item whose verdict is ``infra_error``,
    or whose evaluation raised, gets a Reward with status ``infra_error`` and ``value`` None
    (skip it: ``[r for r in rewards if r.value is not None]``). Ctrl-C cancels the items not
    started and re-raises; running evaluations end within their phases' time limits.
    """
    resolved = [(_task(task), source, backend) for task, source, backend in items]
    for _, _, backend in resolved:
        get_backend(backend)
    options = _checked_options(options)
    if not resolved:
        return []
    workers = batch_jobs((backend for _, _, backend in resolved), jobs)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kw-reward")
    try:
        futures = [
            pool.submit(_evaluate, task, source, backend, options)
            for task, source, backend in resolved
        ]
        return [
            Reward.of(_outcome(future, task, backend))
            for future, (task, _, backend) in zip(futures, resolved, strict=True)
        ]
    finally:
        # On success every future is done; on Ctrl-C, items not started are dropped.
        pool.shutdown(wait=False, cancel_futures=True)


def _outcome(future: Future[Verdict], task: Task, backend: str) -> Verdict:
    try:
        return future.result()
    except Exception as exc:
        return _parent_failure(task, backend, exc)


__all__ = [
    "CORRECT_REWARD",
    "FAILED_REWARD",
    "FAILED_STATUSES",
    "INCORRECT_REWARD",
    "REJECTED_REWARD",
    "SPEEDUP_LOG2_MAX",
    "SPEEDUP_LOG2_MIN",
    "BatchItem",
    "Reward",
    "RewardUnavailable",
    "batch_jobs",
    "default_options",
    "measured_speedup",
    "reward",
    "reward_batch",
    "reward_value",
    "speedup_term",
]
