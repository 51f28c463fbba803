"""Leaderboard math on a fixed fixture, golden renderings, and the same board built from a store."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest_runs import make_record

from kernelwright.runs.leaderboard import (
    Leaderboard,
    ScoredTask,
    build_leaderboard,
    fast_p,
    geomean,
    leaderboard,
)
from kernelwright.runs.report import (
    render,
    render_csv,
    render_json,
    render_markdown,
    render_text,
)
from kernelwright.runs.store import RunInfo, Store, StoreError

GOLDEN = Path(__file__).resolve().parent / "golden"
START = datetime(2025, 1, 1, tzinfo=timezone.utc)

RUNS = {
    1: RunInfo(1, "baseline", "smoke", "cpu", None, None, "finished", START, START + timedelta(seconds=90)),
    2: RunInfo(2, "agent", "smoke", "cpu", "openai:gpt-x", "refine", "finished", START,
               START + timedelta(seconds=3725), cost_usd=1.234),
}  # fmt: skip

# (run, task, category, status, speedup over eager, speedup over torch.compile)
FIXTURE = [
    (1, "smoke/a", "activation", "correct", 1.2, 0.8),
    (1, "smoke/b", "activation", "correct", 0.9, 0.5),
    (1, "smoke/c", "matmul", "incorrect", None, None),
    (1, "smoke/d", "matmul", "correct", 2.5, 1.1),
    (2, "smoke/a", "activation", "correct", 3.0, 2.0),
    (2, "smoke/b", "activation", "compile_error", None, None),
    (2, "smoke/c", "matmul", "correct", 1.6, None),
    (2, "smoke/d", "uncategorized", "rejected", None, None),
]


def _facts(run: RunInfo) -> dict[str, str]:
    return {
        "label": run.label,
        "model": run.model or "-",
        "strategy": run.strategy or "-",
        "backend": run.backend,
        "suite": run.suite,
        "run": str(run.id),
        "device": "Test CPU 9000",
    }


# The age of the baseline each task's speedups were computed against (run 1 measured its own).
BASELINE_AGES = {(2, "smoke/a"): 7260.0, (2, "smoke/c"): 95.0, (2, "smoke/d"): 999_999.0}


def fixture_tasks() -> list[ScoredTask]:
    return [
        ScoredTask(
            run,
            task,
            category,
            status,
            status == "correct",
            eager,
            compiled,
            _facts(RUNS[run]),
            BASELINE_AGES.get((run, task), 0.0 if run == 1 else None),
        )
        for run, task, category, status, eager, compiled in FIXTURE
    ]


def fixture_board() -> Leaderboard:
    return build_leaderboard(fixture_tasks(), RUNS, group_by=("label",))


def test_fast_p_and_geomean() -> None:
    tasks = fixture_tasks()[:4]
    assert [fast_p(tasks, p) for p in (0, 1, 1.5, 2)] == [0.75, 0.5, 0.25, 0.25]
    assert fast_p([], 1.0) == 0.0
    assert geomean([1.2, 0.9, 2.5]) == pytest.approx(2.7 ** (1 / 3))
    assert geomean([]) is None and geomean([0.0, -1.0]) is None


def test_incorrect_is_never_fast() -> None:
    wrong = ScoredTask(1, "t", "math", "incorrect", False, 10.0, 10.0)
    assert fast_p([wrong], 0.0) == 0.0


def test_board_figures() -> None:
    board = fixture_board()
    assert [row.group["label"] for row in board.rows] == ["baseline", "agent"]
    baseline, agent = board.rows
    assert (baseline.stats.tasks, baseline.stats.correct, baseline.stats.correct_pct) == (
        4,
        3,
        75.0,
    )
    assert baseline.stats.fast == {"fast_0": 0.75, "fast_1": 0.5, "fast_1.5": 0.25, "fast_2": 0.25}
    assert baseline.stats.geomean_eager == pytest.approx(2.7 ** (1 / 3))
    assert baseline.stats.geomean_compile == pytest.approx(0.44 ** (1 / 3))
    assert baseline.cost_usd is None and baseline.wall_s == 90
    assert agent.stats.fast == {"fast_0": 0.5, "fast_1": 0.5, "fast_1.5": 0.5, "fast_2": 0.25}
    assert agent.stats.geomean_eager == pytest.approx(math.sqrt(4.8))
    assert agent.stats.geomean_compile == pytest.approx(2.0)
    assert agent.stats.statuses == {"compile_error": 1, "correct": 2, "rejected": 1}
    assert agent.cost_usd == pytest.approx(1.234) and agent.wall_s == 3725
    assert list(agent.categories) == ["activation", "matmul", "uncategorized"]
    assert agent.categories["matmul"].fast["fast_1"] == 1.0
    # The oldest baseline behind a correct task's speedup: a rejected task's does not count.
    assert baseline.stats.oldest_baseline_s == 0.0
    assert agent.stats.oldest_baseline_s == 7260.0
    assert agent.categories["matmul"].oldest_baseline_s == 95.0
    assert board.categories == ["activation", "matmul", "uncategorized"]


def test_group_by_several_facts_and_across_runs() -> None:
    board = build_leaderboard(fixture_tasks(), RUNS, group_by=("backend", "device"))
    (row,) = board.rows
    assert row.group == {"backend": "cpu", "device": "Test CPU 9000"}
    assert row.runs == [1, 2] and row.stats.tasks == 8 and row.stats.correct == 5
    assert row.wall_s == 90 + 3725
    with pytest.raises(ValueError, match="group by"):
        build_leaderboard(fixture_tasks(), RUNS, group_by=("colour",))


@pytest.mark.parametrize(
    ("name", "renderer"),
    [
        ("leaderboard.md", render_markdown),
        ("leaderboard.csv", render_csv),
        ("leaderboard.json", render_json),
    ],
)
def test_golden_renderings(name: str, renderer: object) -> None:
    assert callable(renderer)
    output = renderer(fixture_board())
    golden = GOLDEN / name
    if os.environ.get("KERNELWRIGHT_UPDATE_GOLDEN"):
        golden.write_text(output)
    assert output == golden.read_text(), (
        f"rerun with KERNELWRIGHT_UPDATE_GOLDEN=1 if {name} should change"
    )


def test_json_is_strict_and_complete() -> None:
    data = json.loads(render(fixture_board(), "json"))
    assert data["group_by"] == ["label"] and data["thresholds"] == [0.0, 1.0, 1.5, 2.0]
    assert data["rows"][1]["categories"]["activation"]["speedups"] == [3.0]


def test_terminal_table_and_unknown_format() -> None:
    text = render_text(fixture_board())
    assert "baseline" in text and "fast_1.5" in text and "$1.23" in text and "1h 02m" in text
    assert "no finished evaluations" in render_text(build_leaderboard([], {}))
    with pytest.raises(ValueError, match="unknown format"):
        render(fixture_board(), "pdf")


def test_markdown_escapes_pipes() -> None:
    run = RunInfo(3, "a|b", "smoke", "cpu", None, None, "finished", START, None)
    task = ScoredTask(3, "t", "math", "correct", True, 1.5, None, _facts(run))
    assert "| a\\|b |" in render_markdown(build_leaderboard([task], {3: run}))


def test_store_board_matches_the_fixture(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        ids = {}
        for run_id, info in RUNS.items():
            ids[run_id] = store.create_run(
                info.label, info.suite, info.backend, info.model, info.strategy
            )
        for run_id, task, category, status, eager, compiled in FIXTURE:
            record = make_record(
                task,
                status=status,
                samples=[1.0],
                eager_samples=[eager or 1.0],
                compile_samples=[compiled] if compiled else None,
                category=None if category == "uncategorized" else category,
            )
            if run_id == 1:
                record["extra"]["baseline"] = {"from": "measured now", "age_s": 0.4}
            elif (run_id, task) in BASELINE_AGES:
                age = BASELINE_AGES[run_id, task]
                record["extra"]["baseline"] = {"from": "the baseline store", "age_s": age}
            candidate = store.add_candidate(ids[run_id], task, f"{run_id} {task}", "cpu")
            evaluation = store.begin_evaluation(ids[run_id], candidate, task)
            store.finish_evaluation(evaluation, record)
        board = leaderboard(store, group_by=("label",))
        with pytest.raises(StoreError, match="no run 99"):
            leaderboard(store, [99])
        by_model = leaderboard(store, [ids[2]], group_by=("model", "strategy"))

    expected = fixture_board()
    for got, want in zip(board.rows, expected.rows, strict=True):
        assert got.group == want.group
        assert got.stats.to_json() == want.stats.to_json()
        assert {c: s.to_json() for c, s in got.categories.items()} == {
            c: s.to_json() for c, s in want.categories.items()
        }
    assert [row.group for row in by_model.rows] == [{"model": "openai:gpt-x", "strategy": "refine"}]


@pytest.mark.parametrize(
    ("baseline", "age"),
    [
        ({"from": "the baseline store", "age_s": 4904.6}, 4904.6),
        ({"from": "this process", "age_s": 12}, 12.0),
        ({"from": "measured now", "age_s": 3.0}, 0.0),
        # Stored data that is not an age is not shown as one.
        ({"from": "the baseline store", "age_s": "4904"}, None),
        ({"from": "the baseline store", "age_s": True}, None),
        ({"from": "the baseline store", "age_s": -5}, None),
        ({"from": "the baseline store", "age_s": 1e300}, None),
        ({"from": "the baseline store"}, None),
        ("the baseline store", None),
        (None, None),
    ],
)
def test_the_baseline_age_comes_from_the_record_when_it_is_one(
    baseline: object, age: object
) -> None:
    from kernelwright.runs.leaderboard import baseline_age
    from kernelwright.runs.store import TaskResult

    record = {"status": "correct", "extra": {} if baseline is None else {"baseline": baseline}}
    result = TaskResult(1, "smoke/a", 1, 1, "correct", True, record)
    assert baseline_age(result) == age
