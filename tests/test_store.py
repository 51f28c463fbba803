"""The run store: URLs, round trips, resume, exports, and what survives a killed writer."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest_runs import DATABASES, database_url, make_record

from kernelwright.runs import store as store_module
from kernelwright.runs.database import StoreError, kernelwright_home, resolve_db_url
from kernelwright.runs.store import Store, read_jsonl
from kernelwright.verifier.verdict import Verdict


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as opened:
        yield opened


def _evaluate(
    store: Store, run: int, task: str, record: dict[str, object], source: str = ""
) -> int:
    candidate = store.add_candidate(run, task, source or f"# kernel for {task}\n", "cpu")
    evaluation = store.begin_evaluation(run, candidate, task)
    store.finish_evaluation(evaluation, record)
    return evaluation


# -- where the store lives -----------------------------------------------------------------


def test_resolve_db_url_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("KERNELWRIGHT_DB", "KERNELWRIGHT_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_db_url(None) == f"sqlite:///{tmp_path}/.local/share/kernelwright/runs.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert kernelwright_home() == tmp_path / "xdg" / "kernelwright"
    monkeypatch.setenv("KERNELWRIGHT_HOME", str(tmp_path / "home"))
    assert resolve_db_url(None) == f"sqlite:///{tmp_path}/home/runs.db"
    monkeypatch.setenv("KERNELWRIGHT_DB", "postgresql://u@db/kw")
    assert resolve_db_url(None) == "postgresql+psycopg://u@db/kw"
    assert resolve_db_url("sqlite:///x.db") == "sqlite:///x.db"
    assert resolve_db_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path}/a.db"


def test_default_store_is_sqlite_in_wal_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KERNELWRIGHT_DB", raising=False)
    monkeypatch.setenv("KERNELWRIGHT_HOME", str(tmp_path / "kw"))
    with Store() as opened:
        opened.create_run("first", "smoke", "cpu")
        with opened.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "kw" / "runs.db").is_file()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/kernelwright",
        "not a url://",
        "sqlite:////proc/kernelwright-cannot-be-here/runs.db",
    ],
)
def test_unusable_url_raises_one_line_store_error(url: str) -> None:
    with pytest.raises(StoreError) as error:
        Store(url)
    assert "\n" not in str(error.value)


def test_message_hides_the_password() -> None:
    with pytest.raises(StoreError) as error:
        Store("postgresql+psycopg://user:s3cret@127.0.0.1:1/kernelwright")
    assert "s3cret" not in str(error.value)


# -- round trips ---------------------------------------------------------------------------


def test_roundtrip(store: Store) -> None:
    run = store.create_run(
        "baseline", "smoke", "cpu", model="m", strategy="refine", options={"seed": 3}
    )
    record = make_record(
        "smoke/relu", samples=[1.0, 1.2, 1.1], compile_samples=[1.5, 1.6], category="activation"
    )
    evaluation = _evaluate(store, run, "smoke/relu", record, source="print('relu')\n")
    _evaluate(store, run, "smoke/gelu", make_record("smoke/gelu", status="incorrect"))
    store.finish_run(run)

    info = store.get_run(run)
    assert (info.label, info.model, info.strategy, info.status) == (
        "baseline",
        "m",
        "refine",
        "finished",
    )
    assert info.options == {"seed": 3}
    assert (info.tasks, info.correct, info.evaluations) == (2, 1, 2)
    assert info.created.tzinfo is not None and info.wall_s is not None and info.wall_s >= 0

    results = {r.task_id: r for r in store.run_results(run)}
    relu = results["smoke/relu"]
    assert relu.correct and relu.status == "correct" and relu.category == "activation"
    assert relu.source == "print('relu')\n"
    assert relu.speedup_eager == pytest.approx(2.0) and relu.candidate_ms == pytest.approx(1.1)
    assert relu.environment == record["extra"]["environment"]
    assert relu.verdict() == Verdict.from_json(record)
    assert not results["smoke/gelu"].correct and results["smoke/gelu"].speedup_eager is None
    assert store.timing_samples(evaluation) == {
        "candidate": [1.0, 1.2, 1.1],
        "compile": [1.5, 1.6],
        "eager": [2.0, 2.4, 2.2],
    }


def test_candidates_are_deduplicated_per_run_and_task(store: Store) -> None:
    run = store.create_run("r", "smoke", "cpu")
    first = store.add_candidate(run, "smoke/relu", "source", "cpu")
    assert store.add_candidate(run, "smoke/relu", "source", "cpu") == first
    assert store.add_candidate(run, "smoke/gelu", "source", "cpu") != first
    child = store.add_candidate(run, "smoke/relu", "better", "cpu", origin="coder", parent_id=first)
    assert child != first


def test_non_finite_numbers_are_stored_as_null(store: Store) -> None:
    run = store.create_run("r", "smoke", "cpu")
    record = make_record("smoke/relu")
    record["speedup"] = {"eager": float("inf"), "compile": float("nan")}
    _evaluate(store, run, "smoke/relu", record)
    (result,) = store.run_results(run)
    assert result.speedup_eager is None and result.record["speedup"] == {
        "eager": None,
        "compile": None,
    }


def test_pick_latest_or_best(store: Store) -> None:
    run = store.create_run("agent", "smoke", "cpu", strategy="refine")
    fast = _evaluate(
        store, run, "smoke/relu", make_record("smoke/relu", samples=[0.5], eager_samples=[1.0]), "a"
    )
    _evaluate(
        store, run, "smoke/relu", make_record("smoke/relu", samples=[0.9], eager_samples=[1.0]), "b"
    )
    last = _evaluate(store, run, "smoke/relu", make_record("smoke/relu", status="incorrect"), "c")
    assert [r.evaluation_id for r in store.run_results(run, "latest")] == [last]
    assert [r.evaluation_id for r in store.run_results(run, "best")] == [fast]
    assert store.get_run(run).evaluations == 3 and store.get_run(run).tasks == 1


def test_finish_evaluation_is_one_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = store.create_run("r", "smoke", "cpu")
    candidate = store.add_candidate(run, "smoke/relu", "source", "cpu")
    evaluation = store.begin_evaluation(run, candidate, "smoke/relu")

    def broken_rows(*args: object) -> list[dict[str, object]]:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(store_module, "_sample_rows", broken_rows)
    with pytest.raises(RuntimeError):
        store.finish_evaluation(evaluation, make_record("smoke/relu"))
    assert store.evaluation_states(run) == {"running": 1}
    assert store.timing_samples(evaluation) == {}
    monkeypatch.undo()
    store.finish_evaluation(evaluation, make_record("smoke/relu"))
    assert store.evaluation_states(run) == {"done": 1}
    with pytest.raises(StoreError, match="not running"):
        store.finish_evaluation(evaluation, make_record("smoke/relu"))
    with pytest.raises(StoreError, match="no evaluation"):
        store.finish_evaluation(evaluation + 100, make_record("smoke/relu"))


def test_resume_abandons_running_evaluations(store: Store) -> None:
    run = store.create_run("r", "smoke", "cpu")
    _evaluate(store, run, "smoke/relu", make_record("smoke/relu"))
    candidate = store.add_candidate(run, "smoke/gelu", "source", "cpu")
    store.begin_evaluation(run, candidate, "smoke/gelu")
    store.finish_run(run, "interrupted")
    assert store.get_run(run).status == "interrupted"

    assert store.resume_run(run) == {"smoke/relu"}
    assert store.get_run(run).status == "running" and store.get_run(run).finished is None
    assert store.evaluation_states(run) == {"done": 1, "abandoned": 1}
    _evaluate(store, run, "smoke/gelu", make_record("smoke/gelu"))
    assert store.finished_tasks(run) == {"smoke/relu", "smoke/gelu"}
    assert len(store.run_results(run)) == 2


def test_unknown_run_and_bad_status(store: Store) -> None:
    with pytest.raises(StoreError, match="no run 42"):
        store.get_run(42)
    with pytest.raises(StoreError, match="no run 42"):
        store.run_results(42)
    run = store.create_run("r", "smoke", "cpu")
    with pytest.raises(StoreError, match="finished or interrupted"):
        store.finish_run(run, "running")


def test_llm_calls_add_up_to_the_run_cost(store: Store) -> None:
    run = store.create_run("r", "smoke", "cpu", model="openai:gpt")
    candidate = store.add_candidate(run, "smoke/relu", "source", "cpu", origin="coder")
    store.record_llm_call(run, role="coder", provider="openai", model="gpt", prompt="p", response="r",
                          prompt_tokens=10, completion_tokens=20, cost_usd=0.25, latency_s=1.5,
                          candidate_id=candidate)  # fmt: skip
    store.record_llm_call(
        run, role="judge", provider="openai", model="gpt", prompt="p", response="r"
    )
    store.record_llm_call(
        run, role="judge", provider="openai", model="gpt", prompt="p", response="r", cost_usd=0.5
    )
    assert store.get_run(run).cost_usd == pytest.approx(0.75)
    assert store.get_run(store.create_run("free", "smoke", "cpu")).cost_usd is None
    assert [r.id for r in store.list_runs()] == [run, run + 1]


def test_export_jsonl_and_sources(store: Store, tmp_path: Path) -> None:
    run = store.create_run("r", "smoke", "cpu")
    _evaluate(store, run, "smoke/relu", make_record("smoke/relu"), "relu kernel\n")
    _evaluate(
        store,
        run,
        "/abs/suite/gelu.py",
        make_record("/abs/suite/gelu.py", status="incorrect"),
        "gelu\n",
    )
    path = tmp_path / "out" / "results.jsonl"
    path.parent.mkdir()
    assert store.export_jsonl(run, path) == 2
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert {line["format"] for line in lines} == {"kernelwright.results/1"}
    assert lines[0]["run"]["label"] == "r"
    assert read_jsonl(path) == store.run_results(run)

    written = store.export_sources(run, tmp_path / "kernels")
    assert sorted(p.name for p in written) == ["gelu.py", "relu.py"]
    assert (tmp_path / "kernels" / "relu.py").read_text() == "relu kernel\n"


def test_read_jsonl_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task": "x"}\n')
    with pytest.raises(StoreError, match="bad.jsonl:1"):
        read_jsonl(path)
    with pytest.raises(StoreError, match="cannot read"):
        read_jsonl(tmp_path / "absent.jsonl")


# -- a writer killed mid-stream ------------------------------------------------------------

WRITER = """
import sys
sys.path.insert(0, sys.argv[3])
from conftest_runs import make_record
from kernelwright.runs.store import Store

store = Store(sys.argv[1])
run = int(sys.argv[2])
samples = [1.0 + i / 1000 for i in range(200)]
for i in range(100_000):
    task = f"suite/task{i}"
    candidate = store.add_candidate(run, task, f"kernel {i}", "cpu")
    evaluation = store.begin_evaluation(run, candidate, task)
    print("begun", evaluation, task, flush=True)
    store.finish_evaluation(evaluation, make_record(task, samples=samples))
    print("done", evaluation, task, flush=True)
"""


def test_kill_9_loses_no_committed_evaluation(db_url: str) -> None:
    with Store(db_url) as opened:
        run = opened.create_run("killed", "suite", "cpu")
    tests_dir = str(Path(__file__).resolve().parent)
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, db_url, str(run), tests_dir],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    done: dict[int, str] = {}
    deadline = time.monotonic() + 30
    while len(done) < 25 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        kind, evaluation, task = line.split()
        if kind == "done":
            done[int(evaluation)] = task
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert len(done) >= 25, "the writer did not get going"

    with Store(db_url) as reopened:
        states = reopened.evaluation_states(run)
        assert states.get("running", 0) <= 1
        finished = reopened.finished_tasks(run)
        assert set(done.values()) <= finished
        for evaluation_id in done:
            assert len(reopened.timing_samples(evaluation_id)["candidate"]) == 200
        assert reopened.resume_run(run) == finished
        assert "running" not in reopened.evaluation_states(run)
        redo = f"suite/task{len(finished)}"
        _evaluate(reopened, run, redo, make_record(redo))
        results = reopened.run_results(run)
        assert len(results) == len({r.task_id for r in results}) == len(finished) + 1
    if db_url.startswith("sqlite:///"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
