"""``tasks lint``: planted bad tasks each give exactly their finding; shipped tasks lint clean."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from kernelwright.bench_tasks import TaskError, load_task
from kernelwright.bench_tasks.lint import (
    CODES,
    LintReport,
    child_headroom,
    lint_isolated,
    lint_paths,
    lint_rows,
    lint_task,
)

CASES = Path(__file__).resolve().parent / "lint_cases"

EXPECTED = {
    "constant_output": "constant_output",
    "input_insensitive": "input_insensitive",
    "nan_inf": "nan_inf",
    "loose_tolerance": "loose_tolerance",
    "memory_budget": "memory_budget",
    "eager_exceeds_tolerance": "eager_exceeds_tolerance",
    "waived": "constant_output",
}


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Small CPU tensors: one thread is as fast and does not stall on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def lint_case(stem: str, **kwargs: int) -> LintReport:
    return lint_task(load_task(CASES / f"{stem}.py"), **kwargs)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SIMPLE = """
import torch
import torch.nn as nn
{extra}

class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return {body}

def get_inputs(batch=4, dim=64):
    return [torch.randn(batch, dim)]

def get_init_inputs():
    return []
"""


def test_every_case_file_is_expected() -> None:
    assert {p.stem for p in CASES.glob("*.py")} == set(EXPECTED)
    assert set(EXPECTED.values()) <= set(CODES)


@pytest.mark.parametrize("stem", [s for s in EXPECTED if s != "waived"])
def test_planted_case_gives_exactly_its_finding(stem: str) -> None:
    report = lint_case(stem)
    assert report.codes() == {EXPECTED[stem]}, [f.message for f in report.findings]
    assert not report.ok
    finding = report.findings[0]
    assert finding.message and "\n" not in finding.message
    assert not finding.waived


def test_constant_output_message_and_config() -> None:
    (finding,) = lint_case("constant_output").findings
    assert "nearly constant" in finding.message
    assert finding.config == {"batch": 8, "dim": 256}


def test_nan_inf_reports_the_fraction() -> None:
    (finding,) = lint_case("nan_inf").findings
    assert "NaN" in finding.message and "%" in finding.message


def test_loose_tolerance_names_the_tolerance() -> None:
    (finding,) = lint_case("loose_tolerance").findings
    assert "atol=10" in finding.message


def test_memory_budget_small_budget_flags_the_first_config_too() -> None:
    report = lint_case("memory_budget", memory_budget_bytes=1 << 20)
    (finding,) = report.findings
    assert finding.code == "memory_budget"
    assert finding.config == {"n": 1 << 20}
    assert "1 more config" in finding.message


def test_memory_budget_default_flags_only_the_huge_config_without_allocating() -> None:
    report = lint_case("memory_budget")
    (finding,) = report.findings
    assert finding.config == {"n": 1 << 34}
    assert "64.00 GiB" in finding.message and "8.00 GiB budget" in finding.message
    assert report.configs_checked == 3


def test_waived_finding_is_reported_but_not_failing() -> None:
    report = lint_case("waived")
    assert report.ok
    (finding,) = report.findings
    assert finding.code == "constant_output"
    assert finding.waived and "overflow" in (finding.waiver or "")
    assert report.waived == [finding] and report.failures == []


def test_unknown_waiver_is_its_own_failure(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad_waiver.py",
        SIMPLE.format(extra='LINT_WAIVERS = {"no_such_code": "because"}', body="torch.relu(x)"),
    )
    report = lint_task(load_task(path))
    assert report.codes() == {"invalid_waiver"}
    assert not report.ok


def test_reference_error(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.py", SIMPLE.format(extra="", body="x @ x"))
    report = lint_task(load_task(path))
    assert report.codes() == {"reference_error"}
    assert "RuntimeError" in report.findings[0].message


def test_scalar_output_that_varies_is_clean(tmp_path: Path) -> None:
    path = write(tmp_path, "mean_sq.py", SIMPLE.format(extra="", body="(x * x).mean()"))
    assert lint_task(load_task(path)).findings == []


def test_same_inputs_for_every_seed_is_input_insensitive(tmp_path: Path) -> None:
    text = SIMPLE.format(extra="", body="x * 3").replace(
        "torch.randn(batch, dim)",
        "torch.arange(batch * dim, dtype=torch.float32).reshape(batch, dim)",
    )
    report = lint_task(load_task(write(tmp_path, "fixed_inputs.py", text)))
    assert report.codes() == {"input_insensitive"}
    assert "same values for every seed" in report.findings[0].message


def test_lint_paths_folder_file_and_ids(tmp_path: Path) -> None:
    reports = lint_paths([str(CASES)])
    assert {Path(r.path).stem: r.codes() for r in reports} == {
        stem: {code} for stem, code in EXPECTED.items()
    }
    again = lint_paths([str(CASES / "nan_inf.py"), str(CASES / "nan_inf.py"), "smoke/relu"])
    assert [r.task_id for r in again] == [str(CASES / "nan_inf.py"), "smoke/relu"]
    assert again[1].ok
    with pytest.raises(TaskError):
        lint_paths(["smoke/no_such_task"])


def test_folder_with_a_broken_file_reports_load_error(tmp_path: Path) -> None:
    write(tmp_path, "good.py", SIMPLE.format(extra="", body="torch.relu(x)"))
    write(tmp_path, "bad.py", "import torch\n")
    reports = {Path(r.path).stem: r for r in lint_paths([str(tmp_path)])}
    assert reports["good"].ok
    assert reports["bad"].codes() == {"load_error"}


def test_json_and_rows() -> None:
    reports = [lint_case("waived"), lint_case("nan_inf")]
    data = json.loads(json.dumps([r.to_json() for r in reports]))
    assert data[0]["ok"] is True and data[0]["findings"][0]["waived"] is True
    assert data[1]["findings"][0]["code"] == "nan_inf"
    rows = lint_rows(reports)
    assert [(r["status"], r["code"]) for r in rows] == [
        ("waived", "constant_output"),
        ("fail", "nan_inf"),
    ]
    assert rows[1]["config"] == "batch=8, dim=256"
    assert set(rows[0]) == {"task", "status", "code", "config", "message"}


def test_smoke_suite_is_lint_clean() -> None:
    reports = lint_paths(["smoke"])
    assert len(reports) >= 10
    bad = {r.task_id: [f.message for f in r.failures] for r in reports if not r.ok}
    assert bad == {}
    assert all(r.reference_dtype == "float64" for r in reports)
    rows = lint_rows(reports)
    assert {r["status"] for r in rows} <= {"ok", "waived"}


HOG = """
import torch
import torch.nn as nn


class Model(nn.Module):
    # Tiny inputs, so the meta-device estimate passes; the forward reserves 8 GiB.
    def forward(self, x):
        return x + torch.empty(1 << 31)[:1].zero_()


def get_inputs():
    return [torch.randn(64)]


def get_init_inputs():
    return []
"""

DIES = HOG.replace(
    "return x + torch.empty(1 << 31)[:1].zero_()",
    "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
)


def test_a_task_too_big_for_the_lint_child_costs_one_finding(tmp_path: Path) -> None:
    """Each task is linted in a child whose address space is capped: a reference that needs more
    fails its allocation there (a finding) and the run goes on to the next task."""
    (tmp_path / "a_hog.py").write_text(HOG)
    (tmp_path / "b_relu.py").write_text(
        (CASES.parent.parent / "bench_tasks" / "suites" / "smoke" / "relu.py").read_text()
    )
    budget = 64 << 20
    assert child_headroom(budget) < 8 << 30  # the hog's 8 GiB cannot fit
    reports = {
        Path(r.path).stem: r for r in lint_isolated([str(tmp_path)], memory_budget_bytes=budget)
    }
    assert reports["a_hog"].codes() == {"memory_budget"}, reports["a_hog"].findings
    assert "ran out of memory" in reports["a_hog"].findings[0].message
    assert reports["b_relu"].ok, reports["b_relu"].findings


def test_a_lint_child_that_dies_is_replaced_for_the_next_task(tmp_path: Path) -> None:
    (tmp_path / "a_dies.py").write_text(DIES)
    (tmp_path / "b_relu.py").write_text(
        (CASES.parent.parent / "bench_tasks" / "suites" / "smoke" / "relu.py").read_text()
    )
    reports = list(lint_isolated([str(tmp_path)], samples=1))
    assert [Path(r.path).stem for r in reports] == ["a_dies", "b_relu"]
    assert not reports[0].ok
    assert "lint child" in reports[0].findings[0].message
    assert "signal 9" in reports[0].findings[0].message
    assert reports[1].ok, reports[1].findings
