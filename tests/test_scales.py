"""Size presets (``SCALES``, ``--scale``): a task benchmarked at sizes that fill a GPU, with its
small configs still checked, recorded with a run so that a resume or a regress measures the same."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest_runs import ENVIRONMENT
from typer.testing import CliRunner

from kernelwright.bench_tasks import Task, TaskError, apply_scale, load_task, resolve_task
from kernelwright.bench_tasks.lint import lint_task
from kernelwright.cli import app
from kernelwright.runs import bench as bench_module
from kernelwright.runs.bench import BenchError, run_bench
from kernelwright.runs.store import Store
from kernelwright.verifier import EvalOptions, Verdict

SCALED = """
import torch
import torch.nn as nn

CATEGORY = "activation"
CONFIGS = [dict(batch=3, dim=5)]
SCALES = {{"gpu": dict(batch={gpu_batch}, dim=4096)}}


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs(batch=8, dim=64):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs():
    return []
"""
PLAIN = SCALED.replace('SCALES = {{"gpu": dict(batch={gpu_batch}, dim=4096)}}\n', "")


def write_suite(folder: Path, gpu_batch: int = 16384) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scaled.py").write_text(SCALED.format(gpu_batch=gpu_batch))
    (folder / "plain.py").write_text(PLAIN.format())
    return folder


def test_a_preset_replaces_the_benchmark_config_and_keeps_the_others(tmp_path: Path) -> None:
    task = load_task(write_suite(tmp_path) / "scaled.py")
    assert task.scales == {"gpu": {"batch": 16384, "dim": 4096}}
    big = task.at_scale("gpu")
    assert big.scale == "gpu" and big.default_config == {"batch": 16384, "dim": 4096}
    # Correctness still covers the task's own default and its small and awkward sizes, which
    # never inherit the preset's sizes.
    configs = big.correctness_configs(random.Random(0), 0)
    assert configs == [
        {"batch": 16384, "dim": 4096},
        {"batch": 8, "dim": 64},
        {"batch": 3, "dim": 5},
    ]
    partial = replace(big, configs=[{"batch": 2}])
    assert partial.correctness_configs(random.Random(0), 0)[-1] == {"batch": 2, "dim": 64}
    # Nothing measured at one size is taken for the other (baselines key on the hash).
    assert big.source_hash != task.source_hash
    assert task.at_scale(None) is task
    with pytest.raises(TaskError, match="no 'tpu' scale preset"):
        task.at_scale("tpu")
    assert json.loads(json.dumps(big.to_json()))["scale"] == "gpu"


@pytest.mark.parametrize(
    ("scales", "message"),
    [
        ("[1, 2]", "SCALES must be a dict"),
        ('{"GPU!": dict(batch=1)}', "not a short lowercase name"),
        ('{"gpu": [1]}', "must be a dict of config values"),
        ('{"gpu": dict(rows=1)}', "not keyword parameters"),
        # A module-level size would need the file run with it: presets take keyword sizes.
        ('{"gpu": dict(width=4096)}', "not keyword parameters"),
    ],
)
def test_malformed_presets_are_one_line_errors(tmp_path: Path, scales: str, message: str) -> None:
    path = tmp_path / "t.py"
    path.write_text(
        PLAIN.format() + f"\nwidth = 64\nCONFIGS = [dict(width=8)]\nSCALES = {scales}\n"
    )
    with pytest.raises(TaskError, match=message):
        load_task(path)


def test_results_at_different_presets_are_not_comparable() -> None:
    from kernelwright.backends.environment import comparable

    env = {"backend": "cuda", "device": "H100", "versions": {"torch": "2.13.0"}}
    assert comparable(env, dict(env))[0]
    ok, why = comparable({**env, "scale": "gpu"}, env)
    assert not ok and "size preset differs" in why


def test_apply_scale_names_the_tasks_without_the_preset(tmp_path: Path) -> None:
    folder = write_suite(tmp_path)
    tasks = [load_task(folder / "plain.py", "s/plain"), load_task(folder / "scaled.py", "s/scaled")]
    scaled, lacking = apply_scale(tasks, "gpu")
    assert lacking == ["s/plain"]
    assert [t.scale for t in scaled] == [None, "gpu"]
    with pytest.raises(TaskError, match="no task here has that preset"):
        apply_scale(tasks[:1], "gpu")
    with pytest.raises(TaskError, match="expected a preset name"):
        apply_scale(tasks, "../gpu")
    with pytest.raises(TaskError, match="expected a preset name"):
        resolve_task(str(folder / "scaled.py"), scale="GPU")


def test_lint_measures_a_preset_without_running_it(tmp_path: Path) -> None:
    # 2**22 x 4096 float32 is 64 GiB of input alone: flagged from the meta device, never built.
    folder = write_suite(tmp_path, gpu_batch=1 << 22)
    report = lint_task(load_task(folder / "scaled.py"))
    codes = [(f.code, f.message.split(":")[0]) for f in report.findings]
    assert codes == [("memory_budget", "scale gpu")]
    assert lint_task(load_task(write_suite(tmp_path / "ok") / "scaled.py")).ok


def test_tasks_show_and_list_at_a_scale(tmp_path: Path) -> None:
    folder = write_suite(tmp_path)
    runner = CliRunner()
    shown = runner.invoke(
        app, ["tasks", "show", str(folder / "scaled.py"), "--scale", "gpu", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["default_config"] == {"batch": 16384, "dim": 4096}
    missing = runner.invoke(app, ["tasks", "show", str(folder / "plain.py"), "--scale", "gpu"])
    assert missing.exit_code == 2 and "has no 'gpu' scale preset" in missing.output
    listed = runner.invoke(
        app, ["tasks", "list", "--suite", str(folder), "--scale", "gpu", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    rows = {Path(t["path"]).stem: t for t in json.loads(listed.stdout)}
    assert rows["scaled"]["scale"] == "gpu" and rows["plain"]["scale"] is None
    assert "1 task(s) have no 'gpu' preset" in listed.stderr


class Recorder:
    def __init__(self) -> None:
        self.seen: dict[str, Task] = {}
        self.lock = threading.Lock()

    def __call__(self, task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
        with self.lock:
            self.seen[task.stem] = task
        extra = {"category": task.category, "environment": ENVIRONMENT}
        return Verdict(task.id, backend, "cpu", "correct", extra=extra)


def test_bench_records_the_scale_and_a_resume_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = write_suite(tmp_path / "suite")
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    for stem in ("scaled", "plain"):
        (solutions / f"{stem}.py").write_text("# a candidate\n")
    recorder = Recorder()
    monkeypatch.setattr(bench_module, "evaluate", recorder)
    options = EvalOptions(cache_dir=tmp_path / "cache")
    db = tmp_path / "runs.db"
    with Store(f"sqlite:///{db}") as store, pytest.warns(RuntimeWarning, match="no 'gpu' preset"):
        run_id = run_bench(store, solutions, str(suite), "cpu", options, scale="gpu")
        assert store.get_run(run_id).options["scale"] == "gpu"
    assert recorder.seen["scaled"].default_config == {"batch": 16384, "dim": 4096}
    assert recorder.seen["plain"].scale is None

    with Store(f"sqlite:///{db}") as store:
        with pytest.raises(BenchError, match="with scale gpu, not --scale big"):
            run_bench(store, None, str(suite), None, options, resume_run=run_id, scale="big")
        store.finish_run(run_id, "interrupted")
    # The run store is hostile data: a scale written into it is a name or the resume stops.
    with sqlite3.connect(db) as raw:
        recorded: dict[str, Any] = json.loads(
            raw.execute("SELECT options FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
        )
        recorded["scale"] = "gpu; rm -rf /"
        raw.execute("UPDATE runs SET options = ? WHERE id = ?", (json.dumps(recorded), run_id))
    with (
        Store(f"sqlite:///{db}") as store,
        pytest.raises(BenchError, match="recorded scale .* is not a preset name"),
    ):
        run_bench(store, None, str(suite), None, options, resume_run=run_id)


def test_an_infra_error_is_no_verdict_a_resume_or_an_agent_reuses(tmp_path: Path) -> None:
    """A lost node's infra_error row is not a verdict on the kernel: a bench resume evaluates
    the task again and an agent run measures the source again."""
    from kernelwright.runs.agent_records import done_record

    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run_id = store.create_run("r", "smoke", "cpu", options={})
        for task_id, status in (("smoke/relu", "infra_error"), ("smoke/gelu", "correct")):
            candidate = store.add_candidate(run_id, task_id, f"# {task_id}\n", "cpu")
            evaluation = store.begin_evaluation(run_id, candidate, task_id, "activation")
            verdict = Verdict(task_id, "cpu", "cpu", status, extra={"environment": ENVIRONMENT})
            store.finish_evaluation(evaluation, verdict.to_record())
        assert store.finished_tasks(run_id) == {"smoke/gelu"}
        assert done_record(store, run_id, "smoke/relu", "# smoke/relu\n") is None
        assert done_record(store, run_id, "smoke/gelu", "# smoke/gelu\n") is not None
