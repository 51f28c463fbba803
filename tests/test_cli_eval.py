"""`kernelwright eval` end to end through the real console script: the DESIGN.md contract."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

from kernelwright.verifier.verdict import STATUSES

CONTRACT_KEYS = {
    "task",
    "backend",
    "device",
    "status",
    "correct",
    "violations",
    "flags",
    "correctness",
    "timing",
    "speedup",
    "log",
}
TIMING_KEYS = {"candidate_ms", "eager_ms", "compile_ms", "samples", "meaningful"}
EXE = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "kernelwright")


def kw(cache_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KERNELWRIGHT_CACHE_DIR": str(cache_dir),
        "KERNELWRIGHT_REP_MS": "20",
        "KERNELWRIGHT_COMPILE_BASELINE": "0",
    }
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=600)


def check_contract(stdout: str) -> dict:
    data = json.loads(stdout)  # exactly one JSON object and nothing else
    assert set(data) == CONTRACT_KEYS
    assert set(data["timing"]) == TIMING_KEYS
    assert set(data["speedup"]) == {"eager", "compile"}
    assert data["status"] in STATUSES
    assert data["correct"] == (data["status"] == "correct")
    for finding in data["violations"] + data["flags"]:
        assert set(finding) == {"check", "detail"}
    if data["violations"]:
        assert data["status"] == "rejected"
    return data


def test_eval_json_triton_by_task_id(cache_dir: Path) -> None:
    done = kw(
        cache_dir,
        "eval",
        str(EXAMPLES / "triton" / "relu.py"),
        "--task",
        "smoke/relu",
        "--backend",
        "triton",
        "--json",
    )
    data = check_contract(done.stdout)
    assert done.returncode == 0, done.stderr
    assert data["status"] == "correct" and data["backend"] == "triton"
    assert data["timing"]["meaningful"] is False  # the interpreter's timings mean nothing
    assert data["speedup"] == {"eager": None, "compile": None}
    assert len(data["timing"]["samples"]) >= 3


def test_eval_json_detail_adds_what_a_run_stores(cache_dir: Path) -> None:
    args = [str(EXAMPLES / "triton" / "relu.py"), "--task", "smoke/relu", "--json", "--detail"]
    done = kw(cache_dir, "eval", *args)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == CONTRACT_KEYS | {"extra"}
    assert set(data["extra"]["phases"]) >= {"compile", "correctness", "timing"}
    assert data["extra"]["timing_loops"] and "timing_detail" in data["extra"]
    alone = kw(cache_dir, "eval", *args[:-2], "--detail")
    assert alone.returncode == 2 and "--detail goes with --json" in alone.stderr


@pytest.mark.slow
def test_eval_json_cpu_by_task_path(cache_dir: Path) -> None:
    task_path = ROOT / "bench_tasks" / "suites" / "smoke" / "matmul.py"
    done = kw(
        cache_dir, "eval", str(EXAMPLES / "cpu" / "matmul.py"), "--task", str(task_path), "--json"
    )
    data = check_contract(done.stdout)
    assert done.returncode == 0, done.stderr
    assert data["status"] == "correct" and data["backend"] == "cpu"
    assert data["task"] == str(task_path)
    t = data["timing"]
    assert t["meaningful"] is True and t["candidate_ms"] > 0 and t["eager_ms"] > 0
    assert len(t["samples"]) >= 10
    assert data["speedup"]["eager"] == pytest.approx(t["eager_ms"] / t["candidate_ms"])
    assert data["correctness"]["trials"] >= 4  # several trials over the listed and sampled configs


def test_eval_wrong_kernel_exits_1(cache_dir: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    wrong.write_text((EXAMPLES / "triton" / "relu.py").read_text().replace("0.0", "0.5"))
    assert wrong.read_text() != (EXAMPLES / "triton" / "relu.py").read_text()
    done = kw(cache_dir, "eval", str(wrong), "--task", "smoke/relu", "--json")
    data = check_contract(done.stdout)
    assert (done.returncode, data["status"]) == (1, "incorrect")
    assert "outside atol" in data["log"].splitlines()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "/nonexistent/cand.py", "--task", "smoke/relu"], "cannot read candidate"),
        (["eval", "{relu}", "--task", "smoke/nope"], "unknown task"),
        (["eval", "{relu}", "--task", "smoke/relu", "--backend", "fortran"], "unknown backend"),
        (["eval", "{relu}", "--task", "smoke/relu", "--timeout", "-1"], "--timeout"),
        (["eval", "{relu}", "--task", "smoke/relu", "--set", "batch_size=x"], "expected a number"),
        (["eval", "{relu}", "--task", "smoke/relu", "--allow", "os; rm"], "--allow"),
        (["tasks", "show", "smoke/nope"], "unknown task"),
        (["tasks", "list", "--category", "nope"], "unknown category"),
    ],
)
def test_bad_usage_is_one_line_exit_2(cache_dir: Path, args: list[str], message: str) -> None:
    relu = str(EXAMPLES / "triton" / "relu.py")
    done = kw(cache_dir, *[relu if a == "{relu}" else a for a in args])
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_cuda_without_gpu_is_infra_error_unless_compile_only(cache_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; the GPU path is covered by tests marked gpu")
    done = kw(
        cache_dir,
        "eval",
        str(EXAMPLES / "cuda" / "relu.py"),
        "--task",
        "smoke/relu",
        "--backend",
        "cuda",
        "--json",
    )
    data = check_contract(done.stdout)
    assert (done.returncode, data["status"]) == (3, "infra_error")
    assert "compile-only" in data["log"] or "nvcc" in data["log"]


def test_tasks_list_names_each_file_that_does_not_load(cache_dir: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(ROOT / "bench_tasks" / "suites" / "smoke" / "relu.py", suite / "relu.py")
    (suite / "mamba.py").write_text("import einops_kw_stand_in\n")
    (suite / "loud.py").write_text('raise RuntimeError("\\x1b[31mred\\nforged: line")\n')
    done = kw(cache_dir, "tasks", "list", "--suite", str(suite), "--json")
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(done.stdout)] == [str(suite / "relu.py")]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr  # one line per file, whatever its exception said
    assert lines[0].startswith("warning: skipped loud.py: failed to import: RuntimeError")
    assert "\x1b" not in done.stderr and "\\x1b[31m" in lines[0]
    assert lines[1] == (
        "warning: skipped mamba.py: failed to import: ModuleNotFoundError: No module named "
        "'einops_kw_stand_in'; install the package that provides it"
    )
    strict = kw(cache_dir, "tasks", "list", "--suite", str(suite), "--strict")
    assert strict.returncode == 2 and strict.stdout == ""
    assert len(strict.stderr.strip().splitlines()) == 1
    assert "loud.py" in strict.stderr and "(and 1 more)" in strict.stderr


def test_tasks_list_json_and_show(cache_dir: Path) -> None:
    done = kw(cache_dir, "tasks", "list", "--suite", "smoke", "--category", "matmul", "--json")
    rows = json.loads(done.stdout)
    assert rows and all(r["category"] == "matmul" for r in rows)
    shown = json.loads(
        kw(cache_dir, "tasks", "show", "smoke/relu", "--set", "dim=64", "--json").stdout
    )
    assert shown["overrides"] == {"dim": 64} and "class Model" in shown["source"]


def test_doctor_json(cache_dir: Path) -> None:
    report = json.loads(kw(cache_dir, "doctor", "--json").stdout)
    states = {row["name"]: row["state"] for row in report["backends"]}
    assert states["cpu"] == "available"
    assert report["sandbox"]["level"] in ("bwrap", "process")


def test_tasks_lint_cli_exit_codes(cache_dir: Path) -> None:
    clean = kw(cache_dir, "tasks", "lint", "smoke/relu", "smoke/matmul", "--json")
    assert clean.returncode == 0, clean.stderr
    assert all(r["findings"] == [] for r in json.loads(clean.stdout))
    bad = kw(
        cache_dir, "tasks", "lint", str(ROOT / "tests" / "lint_cases" / "nan_inf.py"), "--json"
    )
    assert bad.returncode == 1
    assert [f["code"] for f in json.loads(bad.stdout)[0]["findings"]] == ["nan_inf"]
