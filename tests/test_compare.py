"""`compare`: two stored runs paired task by task, with bootstrap intervals, in every format."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from conftest_runs import ENVIRONMENT, make_record
from typer.testing import CliRunner

from kernelwright.cli import app
from kernelwright.runs.compare import Comparison, compare_runs
from kernelwright.runs.regress import records_from_run
from kernelwright.runs.store import Store

OTHER_DEVICE = {**copy.deepcopy(ENVIRONMENT), "device": "Other CPU 1"}
HOSTILE_LABEL = "<script>alert(1)</script>"
HOSTILE_TASK = "s/<script>x</script>\x1b[31mred"
UNREACHABLE_DB = "postgresql://kw:hunter2@127.0.0.1:1/kernelwright"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def one_line_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def timed(task: str, ms: float, eager_ms: float = 2.0, **kwargs: Any) -> dict[str, Any]:
    """A correct verdict whose median candidate time is ``ms`` and eager time ``eager_ms``."""
    return make_record(
        task,
        samples=[0.9 * ms, ms, 1.1 * ms],
        eager_samples=[0.9 * eager_ms, eager_ms, 1.1 * eager_ms],
        **kwargs,
    )


def wrong(task: str) -> dict[str, Any]:
    return make_record(task, status="incorrect")


def interpreted(task: str, ms: float) -> dict[str, Any]:
    """A correct verdict timed on an interpreter: its timings mean nothing, so no speedup."""
    record = timed(task, ms)
    record["timing"]["meaningful"] = False
    record["speedup"] = {"eager": None, "compile": None}
    return record


# Run A, run B: three tasks timed comparably (B/A = 1, 2 and 4: geometric mean 2), one newly
# broken, one newly correct, one measured on another device in B, one interpreted in B, and one
# wrong in both. Eager takes 2 ms everywhere, so a task's speedup is 2 / its time.
RUN_A = [
    timed("s/t1", 1.0),
    timed("s/t2", 1.0),
    timed("s/t3", 1.0),
    timed("s/broken", 1.0),
    wrong("s/fixed"),
    timed("s/moved", 1.0),
    timed("s/interp", 1.0),
    wrong("s/neither"),
]
RUN_B = [
    timed("s/t1", 1.0),
    timed("s/t2", 2.0),
    timed("s/t3", 4.0),
    wrong("s/broken"),
    timed("s/fixed", 1.0),
    timed("s/moved", 3.0, environment=OTHER_DEVICE),
    interpreted("s/interp", 1.0),
    wrong("s/neither"),
]


def store_run(store: Store, label: str, records: list[dict[str, Any]]) -> int:
    """A finished run holding one evaluation per record, as `bench` stores them."""
    run_id = store.create_run(label, "smoke", "cpu", options={"kind": "bench"})
    for record in records:
        task = str(record["task"])
        candidate = store.add_candidate(run_id, task, f"# {task}\n", "cpu")
        store.finish_evaluation(store.begin_evaluation(run_id, candidate, task), record)
    store.finish_run(run_id)
    return run_id


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with Store(url) as store:
        assert store_run(store, "baseline", RUN_A) == 1
        assert store_run(store, HOSTILE_LABEL, [*RUN_B, timed(HOSTILE_TASK, 1.0)]) == 2
    return url


def stored_comparison(db: str) -> Comparison:
    with Store(db) as store:
        return compare_runs(records_from_run(store, 1), records_from_run(store, 2))


def test_geomean_ratio_by_hand_with_an_interval_around_it(db: str) -> None:
    comparison = stored_comparison(db)
    ratios = {t.task_id: t.ratio for t in comparison.tasks if t.ratio is not None}
    assert ratios == pytest.approx({"s/t1": 1.0, "s/t2": 2.0, "s/t3": 4.0})
    assert comparison.geomean_ratio == pytest.approx(2.0)  # (1 * 2 * 4) ** (1/3)
    interval, geomean = comparison.ratio_interval, comparison.geomean_ratio
    assert interval is not None and geomean is not None and interval.contains(geomean)
    assert 1.0 <= interval.low < 2.0 < interval.high <= 4.0
    assert comparison.timed == 3


def test_correctness_changes_count_and_are_left_out_of_the_ratio(db: str) -> None:
    tasks = {t.task_id: t for t in stored_comparison(db).tasks}
    assert (tasks["s/broken"].change, tasks["s/broken"].outcome) == ("newly_broken", "broken")
    assert (tasks["s/fixed"].change, tasks["s/fixed"].outcome) == ("newly_correct", "fixed")
    assert tasks["s/neither"].change == "neither_correct"
    assert tasks["s/t2"].change == "both_correct"
    assert tasks["s/broken"].speedup_a == pytest.approx(2.0) and tasks["s/broken"].ratio is None
    assert tasks["s/fixed"].speedup_b == pytest.approx(2.0) and tasks["s/fixed"].ratio is None
    assert tasks[HOSTILE_TASK].outcome == "new" and tasks[HOSTILE_TASK].change is None


def test_another_environment_or_an_interpreter_is_not_comparable(db: str) -> None:
    comparison = stored_comparison(db)
    tasks = {t.task_id: t for t in comparison.tasks}
    moved, interp = tasks["s/moved"], tasks["s/interp"]
    assert moved.outcome == "not_comparable" and "device differs" in moved.reason
    assert interp.outcome == "not_comparable" and "not meaningful" in interp.reason
    assert moved.ratio is None and interp.ratio is None
    assert moved.change == interp.change == "both_correct"  # correctness still compares
    assert comparison.count("not_comparable") == 2
    assert "2 not comparable" in comparison.summary and "over 3 tasks" in comparison.summary
    # A newly broken kernel on another device is still newly broken.
    elsewhere = compare_runs(
        [timed("s/a", 1.0)], [{**wrong("s/a"), "extra": {"environment": OTHER_DEVICE}}]
    )
    assert elsewhere.tasks[0].change == "newly_broken"


def test_fast_p_of_each_run_and_the_paired_difference(db: str) -> None:
    fast = stored_comparison(db).fast
    # Over the 8 tasks in both runs. A: six correct at 2x. B: 2x (t1, fixed), 1x (t2), 0.5x
    # (t3), 0.67x (moved); the interpreted one has no speedup, so it is not fast.
    assert (fast["fast_0"].a, fast["fast_0"].b) == (6 / 8, 5 / 8)
    assert (fast["fast_1"].a, fast["fast_1"].b) == (6 / 8, 2 / 8)
    assert (fast["fast_1.5"].a, fast["fast_1.5"].b) == (6 / 8, 2 / 8)
    assert (fast["fast_2"].a, fast["fast_2"].b) == (0.0, 0.0)  # more than 2x: none
    for figures in fast.values():
        assert figures.interval is not None and figures.interval.contains(figures.difference)
        assert -1.0 <= figures.interval.low <= figures.interval.high <= 1.0
    assert fast["fast_1"].difference == pytest.approx(-0.5)
    assert fast["fast_1"].interval is not None and fast["fast_1"].interval.high <= 0.0


def _cycle(n: int) -> Comparison:
    ratios = [0.8, 1.0, 1.25, 1.6]
    run_a = [timed(f"s/t{i}", 1.0) for i in range(n)]
    run_b = [timed(f"s/t{i}", ratios[i % 4]) for i in range(n)]
    return compare_runs(run_a, run_b)


def test_the_interval_narrows_with_more_tasks_and_is_reproducible() -> None:
    few, many = _cycle(4), _cycle(40)
    assert few.geomean_ratio == pytest.approx(many.geomean_ratio)
    assert few.geomean_ratio == pytest.approx(math.prod([0.8, 1.0, 1.25, 1.6]) ** 0.25)
    for comparison in (few, many):
        assert comparison.ratio_interval is not None
        assert comparison.geomean_ratio is not None
        assert comparison.ratio_interval.contains(comparison.geomean_ratio)
    assert few.ratio_interval is not None and many.ratio_interval is not None
    width = lambda i: math.log(i.high / i.low)  # noqa: E731
    assert width(many.ratio_interval) < 0.5 * width(few.ratio_interval)
    assert _cycle(40).to_json() == many.to_json()  # a fixed seed: the same report every time


def test_every_format_through_the_cli(db: str, tmp_path: Path) -> None:
    table = cli("compare", "1", "2", "--db", db)
    assert table.exit_code == 0, table.stderr
    assert "s/t3" in table.stdout and "4.000x" in table.stdout and "\x1b" not in table.stdout
    assert "\\" in table.stdout  # the hostile task id's escape is written out, not sent

    as_json = cli("compare", "1", "latest", "--db", db, "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    assert payload["a"] == "run 1 (baseline)" and payload["b"] == f"run 2 ({HOSTILE_LABEL})"
    assert payload["time_ratio"]["geomean"] == pytest.approx(2.0)
    assert payload["changes"] == {
        "newly_broken": 1,
        "newly_correct": 1,
        "both_correct": 5,
        "neither_correct": 1,
    }
    assert payload["not_comparable"] == 2 and payload["fast_p"]["fast_1"]["difference"] == -0.5

    md = cli("compare", "1", "2", "--db", db, "--format", "md")
    assert md.exit_code == 0, md.stderr
    assert md.stdout.startswith("## kernelwright compare")
    assert "&lt;script&gt;" in md.stdout and "<script>" not in md.stdout

    page = tmp_path / "compare.html"
    html = cli("compare", "1", "2", "--db", db, "--format", "html", "-o", str(page))
    assert html.exit_code == 0, html.stderr
    text = page.read_text()
    assert "<svg" in text and "<circle" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>" not in text and "\x1b" not in text

    written = tmp_path / "compare.txt"
    assert cli("compare", "1", "2", "--db", db, "-o", str(written)).exit_code == 0
    assert "fast_p over the tasks in both runs" in written.read_text()


def test_an_exported_run_compares_like_the_stored_one(db: str, tmp_path: Path) -> None:
    export = tmp_path / "a.jsonl"
    with Store(db) as store:
        store.export_jsonl(1, export)
    from_file = json.loads(cli("compare", str(export), "2", "--db", db, "--format", "json").stdout)
    from_run = json.loads(cli("compare", "1", "2", "--db", db, "--format", "json").stdout)
    assert from_file["tasks"] == from_run["tasks"] and from_file["a"] == "a.jsonl"


def test_bad_usage_is_one_line_and_exit_2(db: str) -> None:
    missing = cli("compare", "1", "99", "--db", db)
    assert missing.exit_code == 2 and "no run 99" in one_line_error(missing)
    not_an_id = cli("compare", "nope", "2", "--db", db)
    assert not_an_id.exit_code == 2 and "not a run id" in one_line_error(not_an_id)
    bad_format = cli("compare", "1", "2", "--db", db, "--format", "pdf")
    assert bad_format.exit_code == 2 and "--format" in one_line_error(bad_format)
    assert cli("compare", "1", "2", "--db", db, "--resamples", "0").exit_code == 2
    down = cli("compare", "1", "2", "--db", UNREACHABLE_DB)
    assert down.exit_code == 3 and "hunter2" not in one_line_error(down)
