"""Leaderboard math: correctness, fast_p and geometric-mean speedups over runs, by group and category.

``fast_p`` is the fraction of tasks that are correct and faster than eager PyTorch by more than
``p`` (an incorrect task is never fast; ``fast_0`` counts correct tasks with a measured speedup).
Geometric means are over the correct tasks that have a speedup. A task counts once per run, so
a group that holds three runs of one suite weighs each run equally.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kernelwright.runs.database import StoreError
from kernelwright.runs.measurements import joules_per_call, profile_rows, profiler_name
from kernelwright.runs.store import Pick, RunInfo, Store, TaskResult

THRESHOLDS: tuple[float, ...] = (0.0, 1.0, 1.5, 2.0)
GROUP_FIELDS = ("label", "model", "strategy", "backend", "device", "suite", "run")
UNCATEGORIZED = "uncategorized"


def threshold_name(p: float) -> str:
    """``fast_1.5`` style key of a threshold."""
    return f"fast_{p:g}"


def geomean(values: Iterable[float]) -> float | None:
    """Geometric mean of the positive values; None when there are none."""
    logs = [math.log(v) for v in values if v is not None and v > 0 and math.isfinite(v)]
    return math.exp(sum(logs) / len(logs)) if logs else None


@dataclass(frozen=True)
class ScoredTask:
    """One task's result in one run, with the facts a leaderboard groups by."""

    run_id: int
    task_id: str
    category: str
    status: str
    correct: bool
    speedup_eager: float | None
    speedup_compile: float | None
    facts: Mapping[str, str] = field(default_factory=dict)
    # How old the eager and torch.compile timings its speedups were computed against were when
    # it was evaluated (0: measured in its own verdict); None where the record does not say.
    baseline_age_s: float | None = None
    # GPU measurements beside the time, where the verdict took them (runs/measurements.py).
    candidate_ms: float | None = None
    joules_per_call: float | None = None
    profiler: str | None = None
    profile: tuple[tuple[str, str, float], ...] = ()

    @property
    def measured(self) -> bool:
        return self.joules_per_call is not None or bool(self.profile)

    def measurements_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "task": self.task_id,
            "group": dict(self.facts),
            "candidate_ms": self.candidate_ms,
            "joules_per_call": self.joules_per_call,
            "profiler": self.profiler,
            "profile": [list(row) for row in self.profile],
        }


def fast_p(tasks: Sequence[ScoredTask], p: float) -> float:
    """Fraction of ``tasks`` that are correct with a speedup over eager above ``p``."""
    if not tasks:
        return 0.0
    fast = sum(
        1 for t in tasks if t.correct and t.speedup_eager is not None and t.speedup_eager > p
    )
    return fast / len(tasks)


def _round(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None


@dataclass(frozen=True)
class Stats:
    """Correctness and speed figures over a set of task results."""

    tasks: int
    correct: int
    fast: dict[str, float]
    geomean_eager: float | None
    geomean_compile: float | None
    statuses: dict[str, int]
    speedups: list[float]
    # The oldest baseline a correct task's speedups were computed against (None: none known).
    oldest_baseline_s: float | None = None

    @property
    def correct_pct(self) -> float:
        return 100.0 * self.correct / self.tasks if self.tasks else 0.0

    @classmethod
    def of(cls, tasks: Sequence[ScoredTask], thresholds: Sequence[float]) -> Stats:
        correct = [t for t in tasks if t.correct]
        statuses: dict[str, int] = {}
        for task in tasks:
            statuses[task.status] = statuses.get(task.status, 0) + 1
        eager = [t.speedup_eager for t in correct if t.speedup_eager is not None]
        compiled = [t.speedup_compile for t in correct if t.speedup_compile is not None]
        return cls(
            tasks=len(tasks),
            correct=len(correct),
            fast={threshold_name(p): fast_p(tasks, p) for p in thresholds},
            geomean_eager=geomean(eager),
            geomean_compile=geomean(compiled),
            statuses=dict(sorted(statuses.items())),
            speedups=sorted(eager),
            oldest_baseline_s=max(
                (t.baseline_age_s for t in correct if t.baseline_age_s is not None), default=None
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "correct": self.correct,
            "correct_pct": _round(self.correct_pct),
            **{name: _round(value) for name, value in self.fast.items()},
            "geomean_eager": _round(self.geomean_eager),
            "geomean_compile": _round(self.geomean_compile),
            "statuses": self.statuses,
            "speedups": [_round(s) for s in self.speedups],
            "oldest_baseline_s": _round(self.oldest_baseline_s),
        }


@dataclass(frozen=True)
class LeaderboardRow:
    """One group (a label, a model, a device, ...) with its figures overall and per category."""

    group: dict[str, str]
    runs: list[int]
    stats: Stats
    categories: dict[str, Stats]
    cost_usd: float | None
    wall_s: float | None

    @property
    def name(self) -> str:
        return " / ".join(self.group.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "runs": self.runs,
            **self.stats.to_json(),
            "cost_usd": _round(self.cost_usd),
            "wall_s": _round(self.wall_s),
            "categories": {name: s.to_json() for name, s in self.categories.items()},
        }


@dataclass(frozen=True)
class Leaderboard:
    """Rows ranked by fast_1 (then correctness, then geometric-mean speedup)."""

    group_by: tuple[str, ...]
    thresholds: tuple[float, ...]
    rows: list[LeaderboardRow]
    # Tasks whose verdicts carry a profile or an energy estimate (GPUs), for the reports.
    measured: list[ScoredTask] = field(default_factory=list)

    @property
    def fast_names(self) -> list[str]:
        return [threshold_name(p) for p in self.thresholds]

    @property
    def categories(self) -> list[str]:
        return sorted({c for row in self.rows for c in row.categories})

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "group_by": list(self.group_by),
            "thresholds": list(self.thresholds),
            "rows": [row.to_json() for row in self.rows],
        }
        if self.measured:
            data["measurements"] = [task.measurements_json() for task in self.measured]
        return data


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _rank_key(row: LeaderboardRow) -> tuple[float, float, float, str]:
    stats = row.stats
    main = stats.fast.get(threshold_name(1.0), 0.0)
    return (-main, -stats.correct_pct, -(stats.geomean_eager or 0.0), row.name)


def build_leaderboard(
    tasks: Sequence[ScoredTask],
    runs: Mapping[int, RunInfo],
    group_by: Sequence[str] = ("label",),
    thresholds: Sequence[float] = THRESHOLDS,
) -> Leaderboard:
    """Group scored tasks by the named facts and compute each group's figures."""
    unknown = [g for g in group_by if g not in GROUP_FIELDS]
    if unknown or not group_by:
        raise ValueError(f"group by one or more of {', '.join(GROUP_FIELDS)}, not {unknown}")
    groups: dict[tuple[str, ...], list[ScoredTask]] = {}
    for task in tasks:
        key = tuple(task.facts.get(g, "-") for g in group_by)
        groups.setdefault(key, []).append(task)
    rows = []
    for key, members in groups.items():
        run_ids = sorted({t.run_id for t in members})
        by_category: dict[str, list[ScoredTask]] = {}
        for task in members:
            by_category.setdefault(task.category, []).append(task)
        rows.append(
            LeaderboardRow(
                group=dict(zip(group_by, key, strict=True)),
                runs=run_ids,
                stats=Stats.of(members, thresholds),
                categories={c: Stats.of(by_category[c], thresholds) for c in sorted(by_category)},
                cost_usd=_sum_known(runs[r].cost_usd for r in run_ids if r in runs),
                wall_s=_sum_known(runs[r].wall_s for r in run_ids if r in runs),
            )
        )
    rows.sort(key=_rank_key)
    measured = sorted((t for t in tasks if t.measured), key=lambda t: (t.run_id, t.task_id))
    return Leaderboard(
        group_by=tuple(group_by), thresholds=tuple(thresholds), rows=rows, measured=measured
    )


def task_category(result: TaskResult) -> str:
    """The category stored with a result (``uncategorized`` when none was).

    Never looked up in the task file: a task id read from a store is data, and loading the file
    it names would run code from wherever the store says.
    """
    stored = result.category or (result.record.get("extra") or {}).get("category")
    return stored if isinstance(stored, str) and stored else UNCATEGORIZED


# The longest a stored baseline is believed to have been kept: an age beyond it is not a fact.
_MAX_BASELINE_AGE_S = 10 * 365 * 86400.0


def baseline_age(result: TaskResult) -> float | None:
    """How old the baseline of a stored verdict was, from its record: 0 when the verdict measured
    it, None when the record does not say or says something that is not an age (stored data)."""
    info = (result.record.get("extra") or {}).get("baseline")
    if not isinstance(info, dict):
        return None
    if info.get("from") == "measured now":
        return 0.0
    age = info.get("age_s")
    if isinstance(age, bool) or not isinstance(age, int | float):
        return None
    return float(age) if 0.0 <= age <= _MAX_BASELINE_AGE_S else None


def score_results(run: RunInfo, results: Iterable[TaskResult]) -> list[ScoredTask]:
    """The scored form of one run's task results, carrying the run's facts for grouping."""
    base = {
        "label": run.label,
        "model": run.model or "-",
        "strategy": run.strategy or "-",
        "backend": run.backend,
        "suite": run.suite,
        "run": str(run.id),
    }
    return [
        ScoredTask(
            run_id=run.id,
            task_id=result.task_id,
            category=task_category(result),
            status=result.status,
            correct=result.correct,
            speedup_eager=result.speedup_eager,
            speedup_compile=result.speedup_compile,
            facts={**base, "device": result.device},
            baseline_age_s=baseline_age(result),
            candidate_ms=result.candidate_ms,
            joules_per_call=joules_per_call(result.record),
            profiler=profiler_name(result.record),
            profile=tuple(profile_rows(result.record)),
        )
        for result in results
    ]


def leaderboard(
    store: Store,
    run_ids: Sequence[int] | None = None,
    group_by: Sequence[str] = ("label",),
    thresholds: Sequence[float] = THRESHOLDS,
    pick: Pick = "best",
) -> Leaderboard:
    """The leaderboard of the named runs (all runs when None), one result per task and run."""
    runs = {run.id: run for run in store.list_runs(run_ids)}
    if run_ids is not None:
        missing = sorted(set(run_ids) - set(runs))
        if missing:
            raise StoreError(f"no run {', '.join(map(str, missing))} in the run store")
    tasks: list[ScoredTask] = []
    for run in runs.values():
        tasks.extend(score_results(run, store.run_results(run.id, pick)))
    return build_leaderboard(tasks, runs, group_by, thresholds)
