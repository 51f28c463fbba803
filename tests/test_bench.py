"""`kernelwright bench`: planning, the single-writer thread pool, Ctrl-C, and end to end runs.

The end-to-end tests drive the real console script on the Triton interpreter with a solutions
folder of two real kernels (relu, row_sum) and two that fail at once (a plain-torch gelu_tanh is
rejected, a softmax with a syntax error does not compile), so that kill -9, --resume and
`regress --against FOLDER` cost few real evaluations.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import EXAMPLES, ROOT
from conftest_runs import ENVIRONMENT
from typer.testing import CliRunner

from kernelwright.backends import get_backend
from kernelwright.bench_tasks import Task
from kernelwright.commands.runs import register
from kernelwright.runs import bench as bench_module
from kernelwright.runs.bench import (
    BenchError,
    BenchEvent,
    BenchInterrupted,
    plan_bench,
    run_bench,
    worker_limit,
)
from kernelwright.runs.store import Store
from kernelwright.verifier import EvalOptions, Verdict

EXE = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "kernelwright")
# Without a GPU, Triton kernels run in the interpreter, whose timings mean nothing.
INTERPRETED = get_backend("triton").device() == "cpu"

PLAIN_TORCH_GELU = """import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        return torch.nn.functional.gelu(x, approximate="tanh")
"""
BROKEN_SOFTMAX = "import torch\n\nclass ModelNew(torch.nn.Module:\n    pass\n"
EXPECTED = {
    ("smoke/gelu_tanh", "rejected"),
    ("smoke/relu", "correct"),
    ("smoke/row_sum", "correct"),
    ("smoke/softmax", "compile_error"),
}


def write_solutions(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("relu.py", "row_sum.py"):
        shutil.copy(EXAMPLES / "triton" / name, folder / name)
    (folder / "gelu_tanh.py").write_text(PLAIN_TORCH_GELU)
    (folder / "softmax.py").write_text(BROKEN_SOFTMAX)
    (folder / "not_a_task.py").write_text("x = 1\n")
    return folder


# -- the library, with a stand-in for the verifier --------------------------------------------------


class FakeVerifier:
    """Replaces ``evaluate``: records which thread ran it and what the store held at the time."""

    def __init__(self, store: Store, delay: float = 0.15, fail_on: str | None = None) -> None:
        self.store = store
        self.delay = delay
        self.fail_on = fail_on
        self.lock = threading.Lock()
        self.active = 0
        self.most_active = 0
        self.running_seen: list[int] = []

    def __call__(self, task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            run_id = self.store.list_runs()[-1].id
            self.running_seen.append(self.store.evaluation_states(run_id).get("running", 0))
            time.sleep(self.delay)
            if task.stem == self.fail_on:
                raise OSError("scratch folder vanished")
            extra = {"category": task.category, "environment": ENVIRONMENT}
            return Verdict(task.id, backend, "cpu", "correct", extra=extra)
        finally:
            with self.lock:
                self.active -= 1


class WriterCheck:
    """Wraps a store so that every write records the thread it came from."""

    WRITES = ("create_run", "add_candidate", "begin_evaluation", "finish_evaluation", "finish_run")

    def __init__(self, store: Store) -> None:
        self.threads: set[str] = set()
        for name in self.WRITES:
            method = getattr(store, name)
            setattr(store, name, self._wrap(method))

    def _wrap(self, method: Any) -> Any:
        def write(*args: Any, **kwargs: Any) -> Any:
            self.threads.add(threading.current_thread().name)
            return method(*args, **kwargs)

        return write


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as opened:
        yield opened


@pytest.fixture
def solutions(tmp_path: Path) -> Path:
    return write_solutions(tmp_path / "solutions")


def options(tmp_path: Path) -> EvalOptions:
    return EvalOptions(cache_dir=tmp_path / "cache")


def test_plan_pairs_candidates_with_tasks(solutions: Path) -> None:
    plan = plan_bench(solutions, "smoke")
    assert plan.suite == "smoke"
    assert [t.id for t in plan.evaluable] == [t for t, _ in sorted(EXPECTED)]
    assert "smoke/matmul" in plan.missing and len(plan.missing) == len(plan.tasks) - 4
    assert plan.unmatched == ["not_a_task.py"]
    assert plan.sources["smoke/gelu_tanh"] == PLAIN_TORCH_GELU


def test_a_suite_file_that_does_not_load_is_skipped_unless_strict(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(ROOT / "bench_tasks" / "suites" / "smoke" / "relu.py", suite / "relu.py")
    (suite / "mamba.py").write_text("import kw_no_such_package\n")
    sols = tmp_path / "sols"
    sols.mkdir()
    shutil.copy(EXAMPLES / "cpu" / "relu.py", sols / "relu.py")
    plan = plan_bench(sols, str(suite))
    assert [t.stem for t in plan.evaluable] == ["relu"]
    assert [bad.path.name for bad in plan.skipped] == ["mamba.py"]
    assert plan.skipped[0].missing == "kw_no_such_package"
    with pytest.raises(BenchError, match=r"mamba\.py.*kw_no_such_package.*--strict"):
        plan_bench(sols, str(suite), strict=True)


def test_plan_errors(tmp_path: Path, solutions: Path) -> None:
    with pytest.raises(BenchError, match="unknown suite"):
        plan_bench(solutions, "no-such-suite")
    with pytest.raises(BenchError, match="not found"):
        plan_bench(tmp_path / "nowhere", "smoke")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "unrelated.py").write_text("")
    with (
        Store(f"sqlite:///{tmp_path / 'e.db'}") as store,
        pytest.raises(BenchError, match="no candidate"),
    ):
        run_bench(store, empty, "smoke", "cpu", options(tmp_path))
    assert worker_limit("cpu")[0] == len(os.sched_getaffinity(0))


def test_workers_evaluate_while_the_caller_writes(
    store: Store, solutions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeVerifier(store, fail_on="softmax")
    monkeypatch.setattr(bench_module, "evaluate", fake)
    monkeypatch.setattr(bench_module, "_usable_cores", lambda: 4)
    writers = WriterCheck(store)
    events: list[BenchEvent] = []
    with pytest.warns(RuntimeWarning, match="not_a_task.py"):
        run_bench(store, solutions, "smoke", "cpu", options(tmp_path), jobs=3)
    run_id = run_bench(
        store, solutions, "smoke", "cpu", options(tmp_path), "second", 3, None, events.append
    )
    assert writers.threads == {threading.main_thread().name}
    assert fake.most_active >= 2
    # Each evaluation was committed as running before the verifier saw it.
    assert all(running >= 1 for running in fake.running_seen)
    assert store.evaluation_states(run_id) == {"done": 4}
    results = {r.task_id: r for r in store.run_results(run_id)}
    assert results["smoke/softmax"].status == "infra_error"
    assert "scratch folder vanished" in results["smoke/softmax"].record["log"]
    assert [e.kind for e in events][:2] == ["warning", "plan"]
    assert [e.completed for e in events if e.kind == "done"] == [1, 2, 3, 4]
    run = store.get_run(run_id)
    assert run.label == "second" and run.status == "finished"
    assert run.options["jobs"] == 3 and run.options["unmatched"] == ["not_a_task.py"]


def test_interrupt_marks_the_run_and_resume_finishes_it(
    store: Store, solutions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_module, "evaluate", FakeVerifier(store, delay=0.05))

    def ctrl_c_after_two(event: BenchEvent) -> None:
        if event.kind == "done" and event.completed == 2:
            raise KeyboardInterrupt

    slow = options(tmp_path)
    slow.rep_ms = 7.0
    with pytest.raises(BenchInterrupted) as stopped:
        run_bench(store, solutions, "smoke", "cpu", slow, progress=ctrl_c_after_two)
    run_id = stopped.value.run_id
    assert store.get_run(run_id).status == "interrupted"
    assert len(store.finished_tasks(run_id)) == 2

    with pytest.raises(BenchError, match="backend cpu, not triton"):
        run_bench(store, None, None, "triton", options(tmp_path), resume_run=run_id)
    seen: list[EvalOptions] = []
    recorder = FakeVerifier(store, delay=0.0)

    def evaluate(task: Task, source: str, backend: str, opts: EvalOptions) -> Verdict:
        seen.append(opts)
        return recorder(task, source, backend, opts)

    monkeypatch.setattr(bench_module, "evaluate", evaluate)
    with pytest.warns(RuntimeWarning) as warned:
        resumed = run_bench(store, None, None, None, options(tmp_path), resume_run=run_id)
    messages = [str(w.message) for w in warned]
    assert any("match no task" in m for m in messages)
    # Your settings, not the stored ones, and a warning that says where they differ.
    assert any("resuming with your settings: rep_ms 7.0 -> 100.0" in m for m in messages)
    assert resumed == run_id
    assert len(seen) == 2 and all(o.rep_ms == options(tmp_path).rep_ms for o in seen)
    assert store.get_run(run_id).status == "finished"
    assert store.evaluation_states(run_id) == {"done": 4}


def test_bench_usage_errors(tmp_path: Path, solutions: Path) -> None:
    app = typer.Typer()
    register(app)
    db = f"sqlite:///{tmp_path / 'runs.db'}"

    def bench(*args: str) -> Any:
        return CliRunner().invoke(app, ["bench", *args, "--db", db])

    cases = [
        ([str(solutions)], "--suite"),
        ([str(solutions), "--suite", "nope", "--backend", "triton"], "unknown suite"),
        ([str(tmp_path / "none"), "--suite", "smoke", "--backend", "triton"], "not found"),
        ([str(solutions), "--suite", "smoke", "--backend", "metal"], "unknown backend"),
        ([str(solutions), "--suite", "smoke", "-j", "0"], "--jobs"),
        (["--resume", "7"], "no run 7"),
        ([str(solutions), "--suite", "smoke", "--use-recorded-options"], "goes with --resume"),
    ]
    for args, message in cases:
        result = bench(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], args
    unreachable = "postgresql://x@127.0.0.1:1/y"
    args = [str(solutions), "--suite", "smoke", "--backend", "triton", "--db", unreachable]
    down = CliRunner().invoke(app, ["bench", *args])
    assert down.exit_code == 2 and "cannot open the run store" in down.stderr
    mixed = bench(str(solutions), "--suite", "smoke")
    assert mixed.exit_code == 2 and "give --backend" in mixed.stderr


# -- end to end on the Triton interpreter -----------------------------------------------------------


def kw(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def e2e(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A solutions folder and the environment of a store that holds one uninterrupted bench."""
    root = tmp_path_factory.mktemp("bench")
    env = {
        **os.environ,
        "KERNELWRIGHT_DB": f"sqlite:///{root / 'runs.db'}",
        "KERNELWRIGHT_CACHE_DIR": str(cache_dir),
        "KERNELWRIGHT_CONFIG": os.devnull,  # no config file
        "KERNELWRIGHT_REP_MS": "20",
        "KERNELWRIGHT_COMPILE_BASELINE": "0",
        "KERNELWRIGHT_TRIALS": "1",
        "KERNELWRIGHT_SAMPLED_CONFIGS": "0",
    }
    solutions = write_solutions(root / "solutions")
    done = kw(
        env, "bench", str(solutions), "--suite", "smoke", "--backend", "triton", "-j", "2", "--json"
    )
    assert done.returncode == 0, done.stderr
    return {"root": root, "env": env, "solutions": solutions, "done": done}


def test_bench_stores_one_run(e2e: dict[str, Any]) -> None:
    done = e2e["done"]
    assert "not_a_task.py" in done.stderr and "match no task" in done.stderr
    summary = json.loads(done.stdout)
    run_id = summary["run"]["id"]
    assert summary["run"]["status"] == "finished" and summary["run"]["label"] == "solutions"
    evaluated = {(t["task_id"], t["status"]) for t in summary["tasks"] if t["status"] != "missing"}
    assert evaluated == EXPECTED
    assert "smoke/matmul" in summary["missing"] and summary["unmatched"] == ["not_a_task.py"]
    relu = next(t for t in summary["tasks"] if t["task_id"] == "smoke/relu")
    assert relu["candidate_ms"] > 0 and relu["meaningful"] is not INTERPRETED
    assert (relu["speedup_eager"] is None) is INTERPRETED

    with Store(e2e["env"]["KERNELWRIGHT_DB"]) as store:
        assert store.evaluation_states(run_id) == {"done": 4}
        results = {r.task_id: r for r in store.run_results(run_id)}
        recorded = store.get_run(run_id).options
    assert results["smoke/relu"].source == (e2e["solutions"] / "relu.py").read_text()
    environment = results["smoke/relu"].environment
    assert environment is not None and environment["backend"] == "triton"
    assert results["smoke/row_sum"].category == "reduce"
    assert recorded["eval"]["trials"] == 1 and recorded["solutions"] == str(e2e["solutions"])
    assert recorded["jobs"] == min(2, worker_limit("triton")[0])

    shown = kw(e2e["env"], "runs", "show", str(run_id))
    assert shown.returncode == 0, shown.stderr
    for text in (
        "smoke/relu",
        "compile_error",
        "SyntaxError",
        "without a candidate",
        "not_a_task.py",
    ):
        assert text in shown.stdout


def _states(db_file: Path) -> Counter[str]:
    try:
        with sqlite3.connect(db_file, timeout=5) as connection:
            rows = connection.execute("SELECT state FROM evaluations").fetchall()
    except sqlite3.Error:
        return Counter()
    return Counter(state for (state,) in rows)


def test_kill_9_then_resume(e2e: dict[str, Any]) -> None:
    db_file = e2e["root"] / "killed.db"
    env = {**e2e["env"], "KERNELWRIGHT_DB": f"sqlite:///{db_file}"}
    log = (e2e["root"] / "killed.log").open("w")
    command = [EXE, "bench", str(e2e["solutions"]), "--suite", "smoke", "--backend", "triton"]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            states = _states(db_file) if db_file.exists() else Counter()
            if states["done"] >= 1 and states["running"] >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "bench finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        log.close()
    killed = _states(db_file)
    assert killed["done"] >= 1 and killed["running"] == 1

    resumed = kw(env, "bench", "--resume", "1", "-j", "2", "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["run"]["status"] == "finished"
    reference = json.loads(e2e["done"].stdout)
    final = {(t["task_id"], t["status"]) for t in summary["tasks"]}
    assert final == {(t["task_id"], t["status"]) for t in reference["tasks"]}
    with Store(env["KERNELWRIGHT_DB"]) as store:
        final_states = store.evaluation_states(1)
        done_tasks = [r.task_id for r in store.run_results(1)]
    assert (
        final_states["done"] == 4
        and final_states["abandoned"] == 1
        and "running" not in final_states
    )
    assert len(done_tasks) == len(set(done_tasks)) == 4
    with sqlite3.connect(db_file) as connection:
        per_task = connection.execute(
            "SELECT task_id, COUNT(*) FROM evaluations WHERE state = 'done' GROUP BY task_id"
        ).fetchall()
    assert all(count == 1 for _, count in per_task)


def test_regress_against_a_folder_on_the_interpreter(e2e: dict[str, Any]) -> None:
    folder = e2e["root"] / "against"
    folder.mkdir()
    shutil.copy(e2e["solutions"] / "relu.py", folder / "relu.py")
    baseline = json.loads(e2e["done"].stdout)["run"]["id"]
    result = kw(
        e2e["env"], "regress", "--baseline", str(baseline), "--against", str(folder), "--json"
    )
    data = json.loads(result.stdout)
    outcomes = {t["task"]: t["outcome"] for t in data["tasks"]}
    assert outcomes["smoke/row_sum"] == "missing"
    relu = next(t for t in data["tasks"] if t["task"] == "smoke/relu")
    assert relu["candidate_status"] == "correct"
    if INTERPRETED:
        # The interpreter's timings mean nothing, so a correct kernel is "not comparable".
        assert result.returncode == 5, result.stderr
        assert relu["outcome"] == "not_comparable" and "not meaningful" in relu["reason"]
    else:
        assert result.returncode in (0, 1), result.stderr
        assert relu["outcome"] in ("same", "faster", "slower")
    listed = json.loads(kw(e2e["env"], "runs", "list", "--json").stdout)
    against = [r for r in listed if r["label"] == "regress-against"]
    assert len(against) == 1 and against[0]["suite"] == "smoke" and against[0]["correct"] == 1
