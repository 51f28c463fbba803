"""``--executor ray``: evaluations on a Ray cluster, tested on a real one on this machine.

A head and a second node (one CPU each, so each runs one evaluation at a time) run a bench of the
smoke suite's Triton examples on the interpreter; the second node is killed while both are busy,
its evaluation becomes an ``infra_error`` row, and a resume on what is left of the cluster
evaluates it again. The statuses then match a local run of the same folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, ROOT
from typer.testing import CliRunner

from kernelwright.cli import app

EXE = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "kernelwright")
REAL = ("relu", "row_sum", "softmax", "layernorm")
PLAIN_TORCH = (
    "import torch\nimport torch.nn as nn\n\n\nclass ModelNew(nn.Module):\n"
    "    def forward(self, x):\n        return torch.nn.functional.gelu(x, approximate='tanh')\n"
)


def _env(root: Path, cache_dir: Path, db: str) -> dict[str, str]:
    return {
        **os.environ,
        "KERNELWRIGHT_DB": f"sqlite:///{root / db}",
        "KERNELWRIGHT_CACHE_DIR": str(cache_dir),
        "KERNELWRIGHT_CONFIG": os.devnull,
        "KERNELWRIGHT_REP_MS": "20",
        "KERNELWRIGHT_COMPILE_BASELINE": "0",
        "KERNELWRIGHT_TRIALS": "1",
        "KERNELWRIGHT_SAMPLED_CONFIGS": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def _kw(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=900)


def _rows(db: Path) -> list[tuple[str, str, str | None, str | None]]:
    try:
        with sqlite3.connect(db, timeout=5) as connection:
            return connection.execute(
                "SELECT task_id, state, status, verdict FROM evaluations ORDER BY id"
            ).fetchall()
    except sqlite3.Error:
        return []


def test_ray_flags_are_checked_before_anything_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    address_alone = runner.invoke(
        app, ["bench", str(tmp_path), "--suite", "smoke", "--ray-address", "auto"]
    )
    assert address_alone.exit_code == 2
    assert "--ray-address goes with --executor ray" in address_alone.output
    unknown = runner.invoke(app, ["bench", str(tmp_path), "--suite", "smoke", "--executor", "k8s"])
    assert unknown.exit_code == 2 and "choose from local, ray" in unknown.output


def test_without_ray_the_executor_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    result = CliRunner().invoke(
        app, ["bench", str(tmp_path), "--suite", "smoke", "--executor", "ray"]
    )
    assert result.exit_code == 2
    assert "needs Ray: pip install -e '.[ray]'" in result.output


@pytest.fixture(scope="module")
def cluster() -> Any:
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 1, "include_dashboard": False}
    made = Cluster(initialize_head=True, head_node_args=head)
    worker = made.add_node(num_cpus=1)
    made.wait_for_nodes()
    yield made, worker
    made.shutdown()


@pytest.mark.slow
def test_a_lost_node_becomes_infra_error_and_resume_redoes_it(
    cluster: Any, cache_dir: Path, tmp_path: Path
) -> None:
    made, worker = cluster
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    for name in REAL:
        shutil.copy(EXAMPLES / "triton" / f"{name}.py", solutions / f"{name}.py")
    (solutions / "gelu_tanh.py").write_text(PLAIN_TORCH)
    bench = ["bench", str(solutions), "--suite", "smoke", "--backend", "triton", "--json"]

    local = _kw(_env(tmp_path, cache_dir, "local.db"), *bench, "-j", "2")
    assert local.returncode in (0, 1), local.stderr
    expected = {(t["task_id"], t["status"]) for t in json.loads(local.stdout)["tasks"]}
    assert ("smoke/relu", "correct") in expected and ("smoke/gelu_tanh", "rejected") in expected

    env = _env(tmp_path, cache_dir, "ray.db")
    db = tmp_path / "ray.db"
    log = (tmp_path / "ray.log").open("w")
    ray_args = ["--executor", "ray", "--ray-address", made.address]
    proc = subprocess.Popen([EXE, *bench, *ray_args], env=env, stdout=log, stderr=log)
    try:
        # Kill the second node once both nodes have been busy for a moment: its evaluation is
        # then in flight, whichever it is.
        busy_since = None
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            running = Counter(state for _, state, _, _ in _rows(db))["running"]
            if running == 2:
                busy_since = busy_since or time.monotonic()
                if time.monotonic() - busy_since > 2.0:
                    break
            else:
                busy_since = None
            time.sleep(0.1)
        assert proc.poll() is None, "the bench ended before the node could be killed"
        made.remove_node(worker, allow_graceful=False)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = (tmp_path / "ray.log").read_text()
    rows = _rows(db)
    lost = [
        (task, json.loads(verdict or "{}"))
        for task, _, status, verdict in rows
        if status == "infra_error"
    ]
    assert lost, output[-2000:]
    assert all("Ray task" in v.get("log", "") for _, v in lost)
    finished = [
        json.loads(v or "{}") for _, state, s, v in rows if state == "done" and s != "infra_error"
    ]
    assert finished and all(v["extra"].get("ray_node") for v in finished)

    run_id = json.loads(output[output.index("{") :])["run"]["id"]
    resumed = _kw(env, "bench", "--resume", str(run_id), *ray_args, "--json")
    assert resumed.returncode in (0, 1), resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["run"]["status"] == "finished"
    assert {(t["task_id"], t["status"]) for t in summary["tasks"]} == expected
    # Each lost task was evaluated again, once; no other task was.
    done = Counter(task for task, state, _, _ in _rows(db) if state == "done")
    assert {task for task, n in done.items() if n == 2} == {task for task, _ in lost}
    assert all(n <= 2 for n in done.values())


@pytest.mark.slow
def test_an_agent_run_verifies_on_the_cluster(
    cluster: Any, cache_dir: Path, tmp_path: Path
) -> None:
    """``run --executor ray``: the Coder's kernel is verified on a node, the calls stay here."""
    made, _ = cluster
    relu = (EXAMPLES / "triton" / "relu.py").read_text()
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "coder:smoke/relu:r1": [f"Here it is.\n```python\n{relu}```\n"],
            }
        )
    )
    env = _env(tmp_path, cache_dir, "agent.db")
    done = _kw(
        env,
        "run",
        *("--suite", "smoke", "--tasks", "relu", "--backend", "triton", "--rounds", "1"),
        *("--model", f"scripted:{script}", "--json"),
        *("--executor", "ray", "--ray-address", made.address),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert [t["status"] for t in summary["tasks"]] == ["correct"]
    assert summary["paid_calls"] == 1  # one round: the Coder's call, made by the driver
    verdicts = [json.loads(v or "{}") for _, _, _, v in _rows(tmp_path / "agent.db")]
    assert verdicts and all(v["extra"].get("ray_node") for v in verdicts)


def test_auto_means_bwrap_on_every_node(cluster: Any, tmp_path: Path) -> None:
    """A node resolves ``auto`` by itself: one without bwrap would run the candidate at the
    process level unannounced, so the evaluator sends the level, never ``auto``."""
    import ray

    from kernelwright.bench_tasks import resolve_task
    from kernelwright.runs.ray_executor import RayEvaluator
    from kernelwright.verifier import EvalOptions, Verdict

    made, _ = cluster
    evaluator = RayEvaluator(made.address, "triton")
    sent: dict[str, Any] = {}

    class Remote:
        def options(self, **resources: Any) -> Remote:
            sent["resources"] = resources
            return self

        def remote(self, task: Any, source: str, backend: str, options: EvalOptions) -> Any:
            sent["options"] = options
            return ray.put(Verdict(task.id, backend, "cpu", "correct"))

    evaluator._remote = Remote()
    try:
        task = resolve_task("smoke/relu")
        for asked, expected in (("auto", "bwrap"), ("process", "process")):
            options = EvalOptions(cache_dir=tmp_path, sandbox=asked)
            assert evaluator(task, "source", "triton", options).status == "correct"
            assert sent["options"].sandbox == expected
        assert sent["resources"] == {"num_cpus": 1, "num_gpus": 0, "max_retries": 0}
    finally:
        evaluator.close()


def test_the_gpu_a_process_was_given_is_its_childrens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray gives each GPU evaluation one GPU through CUDA_VISIBLE_DEVICES: the verifier's
    children, whose environment is built from scratch, must see that one, not every GPU."""
    from kernelwright.backends import get_backend
    from kernelwright.bench_tasks import resolve_task
    from kernelwright.verifier import EvalOptions
    from kernelwright.verifier.evaluate import Evaluation

    target = get_backend("cpu")
    options = EvalOptions(cache_dir=tmp_path, sandbox="process")
    ev = Evaluation(resolve_task("smoke/relu"), "source", target, target.status(), options)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert ev._env("correctness", tmp_path, False)["CUDA_VISIBLE_DEVICES"] == "3"
    assert ev._gpu_index() == 3
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert "CUDA_VISIBLE_DEVICES" not in ev._env("correctness", tmp_path, False)
    assert ev._gpu_index() is None
