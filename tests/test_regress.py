"""Regression checks (slowdowns, noise, newly broken kernels, other machines) and environments."""

from __future__ import annotations

import copy
import random
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest_runs import ENVIRONMENT, make_record

from kernelwright.backends.environment import capture_environment, comparable
from kernelwright.runs.regress import (
    EXIT_BROKEN,
    EXIT_CLEAN,
    EXIT_NOT_COMPARABLE,
    EXIT_SLOWER,
    compare,
    records_from_jsonl,
    records_from_run,
    render_markdown,
    write_junit,
)
from kernelwright.runs.store import Store


def _samples(seed: int, scale: float = 1.0, n: int = 50, noise: float = 0.03) -> list[float]:
    rng = random.Random(seed)
    return [scale * rng.lognormvariate(0.0, noise) for _ in range(n)]


def _record(task: str, samples: list[float] | None = None, **kwargs: Any) -> dict[str, Any]:
    return make_record(
        task, samples=samples if samples is not None else _samples(hash(task) % 1000), **kwargs
    )


def _other_environment(**changes: Any) -> dict[str, Any]:
    env = copy.deepcopy(ENVIRONMENT)
    for path, value in changes.items():
        target: dict[str, Any] = env
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return env


def test_planted_slowdown_is_caught() -> None:
    baseline = [_record("s/relu", _samples(1)), _record("s/gelu", _samples(2))]
    candidate = [_record("s/relu", _samples(3, scale=1.5)), _record("s/gelu", _samples(4))]
    result = compare(baseline, candidate)
    rows = {row.task_id: row for row in result.rows}
    assert rows["s/relu"].outcome == "slower"
    assert rows["s/relu"].ratio == pytest.approx(1.5, rel=0.05)
    assert rows["s/relu"].p_value is not None and rows["s/relu"].p_value < 0.002
    assert rows["s/gelu"].outcome == "same"
    assert result.exit_code == EXIT_SLOWER


def test_noise_is_not_flagged() -> None:
    for seed in range(20):
        baseline = {"s/relu": _record("s/relu", _samples(seed, noise=0.2))}
        candidate = {"s/relu": _record("s/relu", _samples(seed + 1000, noise=0.2))}
        result = compare(baseline, candidate)
        assert result.exit_code == EXIT_CLEAN, result.rows[0].reason


def test_large_ratio_on_few_samples_is_not_significant() -> None:
    result = compare([_record("s/relu", [1.0, 1.3])], [_record("s/relu", [1.4, 1.6])])
    (row,) = result.rows
    assert row.ratio is not None and row.ratio > 1.1
    assert row.outcome == "same" and "within noise" in row.reason
    assert result.exit_code == EXIT_CLEAN


def test_per_task_threshold_override() -> None:
    baseline = [_record("s/relu", _samples(1))]
    candidate = [_record("s/relu", _samples(2, scale=1.5))]
    assert compare(baseline, candidate, thresholds={"s/relu": 2.0}).exit_code == EXIT_CLEAN
    assert compare(baseline, candidate, thresholds={"s/other": 2.0}).exit_code == EXIT_SLOWER


def test_faster_is_reported_and_passes() -> None:
    result = compare([_record("s/relu", _samples(1))], [_record("s/relu", _samples(2, scale=0.5))])
    assert result.rows[0].outcome == "faster" and result.exit_code == EXIT_CLEAN


def test_newly_wrong_wins_over_slower() -> None:
    baseline = [_record("s/relu", _samples(1)), _record("s/gelu", _samples(2))]
    candidate = [_record("s/relu", _samples(3, scale=2.0)), _record("s/gelu", status="incorrect")]
    result = compare(baseline, candidate)
    outcomes = {row.task_id: row.outcome for row in result.rows}
    assert outcomes == {"s/relu": "slower", "s/gelu": "broken"}
    assert result.exit_code == EXIT_BROKEN


def test_broken_counts_on_any_machine_and_fixed_does_not_fail() -> None:
    other = _other_environment(device="Other CPU", cpu__model="Other CPU")
    baseline = [_record("s/relu"), _record("s/gelu", status="incorrect")]
    candidate = [
        _record("s/relu", status="timeout", environment=other),
        _record("s/gelu", environment=other),
    ]
    result = compare(baseline, candidate)
    assert {row.task_id: row.outcome for row in result.rows} == {
        "s/relu": "broken",
        "s/gelu": "fixed",
    }
    assert result.exit_code == EXIT_BROKEN


def test_different_environment_is_not_comparable() -> None:
    newer_torch = _other_environment(versions__torch="2.14.0")
    baseline = [_record("s/relu", _samples(1))]
    candidate = [_record("s/relu", _samples(2, scale=3.0), environment=newer_torch)]
    result = compare(baseline, candidate)
    (row,) = result.rows
    assert row.outcome == "not_comparable" and "torch differs" in row.reason
    assert result.exit_code == EXIT_NOT_COMPARABLE


def test_meaningless_timings_and_infrastructure_failures_are_not_comparable() -> None:
    interpreted = _record("s/relu")
    interpreted["timing"]["meaningful"] = False
    result = compare(
        [_record("s/relu"), _record("s/gelu")],
        [interpreted, _record("s/gelu", status="infra_error")],
    )
    assert [row.outcome for row in result.rows] == ["not_comparable", "not_comparable"]
    assert result.exit_code == EXIT_NOT_COMPARABLE


def test_missing_and_new_tasks_do_not_fail() -> None:
    result = compare([_record("s/relu")], [_record("s/gelu")])
    assert {row.task_id: row.outcome for row in result.rows} == {
        "s/relu": "missing",
        "s/gelu": "new",
    }
    assert result.exit_code == EXIT_CLEAN


def test_junit_and_markdown(tmp_path: Path) -> None:
    baseline = [
        _record("s/a", _samples(1)),
        _record("s/b", _samples(2)),
        _record("s/c", _samples(3)),
    ]
    candidate = [
        _record("s/a", _samples(4, scale=1.5)),
        _record("s/b", status="incorrect"),
        _record("s/c", _samples(5), environment=_other_environment(gpu={"driver": "999"})),
    ]
    result = compare(baseline, candidate, baseline_name="run 1", candidate_name="run 2")
    path = tmp_path / "regress.xml"
    write_junit(result, path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "2", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["s/a"].find("failure") is not None and cases["s/b"].find("failure") is not None
    assert cases["s/c"].find("skipped") is not None

    text = render_markdown(result)
    assert text.startswith("## kernelwright regress: newly broken kernels found")
    lines = [line for line in text.splitlines() if line.startswith("| s/")]
    assert [line.split(" | ")[1] for line in lines] == ["broken", "slower", "not comparable"]
    assert result.to_json()["exit_code"] == EXIT_BROKEN


def test_baseline_from_a_run_or_a_jsonl_export(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        runs = []
        for scale in (1.0, 1.5):
            run = store.create_run(f"x{scale}", "s", "cpu")
            record = _record("s/relu", _samples(int(scale * 10), scale=scale))
            candidate = store.add_candidate(run, "s/relu", "kernel", "cpu")
            store.finish_evaluation(store.begin_evaluation(run, candidate, "s/relu"), record)
            runs.append(run)
        store.export_jsonl(runs[0], tmp_path / "baseline.jsonl")
        candidate_records = records_from_run(store, runs[1])
        from_run = compare(records_from_run(store, runs[0]), candidate_records)
        from_file = compare(records_from_jsonl(tmp_path / "baseline.jsonl"), candidate_records)
    assert from_run.exit_code == from_file.exit_code == EXIT_SLOWER
    assert from_run.rows == from_file.rows


# -- environments --------------------------------------------------------------------------


def test_capture_environment_shape_and_speed() -> None:
    env = capture_environment("cpu")
    assert env["backend"] == "cpu" and env["device"] == env["cpu"]["model"]
    assert env["cpu"]["cores"] >= 1 and "hostname" not in env
    versions = env["versions"]
    assert versions["kernelwright"] and versions["python"] and versions["torch"]
    assert set(versions) >= {"torch", "triton", "jax", "torch_cuda", "kernelwright"}
    assert env["gpu"] is None or {"name", "driver", "memory_mib", "sm_clock_mhz"} <= set(env["gpu"])
    start = time.perf_counter()
    again = capture_environment("cpu")
    assert time.perf_counter() - start < 0.05
    assert comparable(env, again) == (True, "same device and software")


def test_capture_environment_does_not_import_jax_or_torch() -> None:
    code = (
        "import sys; from kernelwright.backends.environment import capture_environment; "
        "capture_environment('triton'); print('jax' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("changes", "difference"),
    [
        ({"backend": "triton"}, "backend differs"),
        ({"device": "NVIDIA H200"}, "device differs"),
        ({"gpu": {"driver": "570.1"}}, "GPU driver differs"),
        ({"versions__torch_cuda": "12.8"}, "torch CUDA build differs"),
        ({"versions__triton": "3.10.0"}, "triton differs"),
        ({"cpu__usable_cores": 2}, "usable CPU cores differs"),
    ],
)
def test_comparable_names_the_first_difference(changes: dict[str, Any], difference: str) -> None:
    same, reason = comparable(ENVIRONMENT, _other_environment(**changes))
    assert not same and reason.startswith(difference)


def test_comparable_ignores_what_does_not_move_timings() -> None:
    assert comparable(ENVIRONMENT, _other_environment(hostname="elsewhere", versions__jax="0.5"))[0]
    pallas = _other_environment(backend="pallas")
    assert not comparable(pallas, _other_environment(backend="pallas", versions__jax="0.5"))[0]
    assert comparable(ENVIRONMENT, None) == (False, "the second result has no recorded environment")


# -- exit codes -----------------------------------------------------------------------------------


def test_verdict_exit_codes_never_read_as_usage_or_infrastructure_errors() -> None:
    from kernelwright.runs.regress import EXIT_INFRA, EXIT_USAGE

    verdicts = (EXIT_CLEAN, EXIT_SLOWER, EXIT_BROKEN, EXIT_NOT_COMPARABLE)
    assert verdicts == (0, 1, 4, 5)
    assert (EXIT_USAGE, EXIT_INFRA) == (2, 3)  # what Click/typer and every other command use
