"""`runs`, `leaderboard` and `regress` on stored runs made through the store API.

Most commands run in-process through typer's test runner on an app holding only the run
commands; a few go through the real console script, the way a CI job calls them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import ROOT
from conftest_runs import ENVIRONMENT, make_record
from typer.testing import CliRunner

from kernelwright.commands.runs import register
from kernelwright.runs.store import Store

EXE = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "kernelwright")
UNREACHABLE_DB = "postgresql://kw:hunter2@127.0.0.1:1/kernelwright"

BASE_SAMPLES = [1.0 + 0.01 * i for i in range(20)]
SLOWER_SAMPLES = [1.5 * s for s in BASE_SAMPLES]
OTHER_MACHINE = {
    **ENVIRONMENT,
    "device": "Other CPU 1",
    "cpu": {**ENVIRONMENT["cpu"], "model": "Other CPU 1"},
}


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


APP = _app()


def cli(*args: str) -> Any:
    return CliRunner().invoke(APP, list(args))


def store_run(
    store: Store,
    label: str,
    records: list[dict[str, Any]],
    backend: str = "cpu",
    model: str | None = None,
) -> int:
    """A finished run holding one evaluation per record, as the bench command stores them."""
    run_id = store.create_run(label, "smoke", backend, model=model, options={"kind": "bench"})
    for record in records:
        task = str(record["task"])
        candidate = store.add_candidate(run_id, task, f"# {label}: {task}\n", backend)
        evaluation = store.begin_evaluation(run_id, candidate, task)
        store.finish_evaluation(evaluation, record)
    store.finish_run(run_id)
    return run_id


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


@pytest.fixture
def runs(db: str) -> dict[str, int]:
    """A baseline and one candidate run per regress outcome."""

    def records(relu: list[float] | None = None, **kw: Any) -> list[dict[str, Any]]:
        return [
            make_record("smoke/relu", samples=relu or BASE_SAMPLES, category="activation", **kw),
            make_record("smoke/row_sum", samples=BASE_SAMPLES, category="reduce", **kw),
        ]

    with Store(db) as store:
        ids = {
            "baseline": store_run(store, "baseline", records()),
            "same": store_run(store, "same", records(), model="openai:gpt-x"),
            "slower": store_run(store, "slower", records(relu=SLOWER_SAMPLES)),
            "other_machine": store_run(store, "other", records(environment=OTHER_MACHINE)),
        }
        broken = [
            make_record("smoke/relu", status="incorrect", category="activation"),
            make_record("smoke/row_sum", samples=BASE_SAMPLES, category="reduce"),
        ]
        ids["broken"] = store_run(store, "broken", broken)
    return ids


def one_line_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# -- runs -----------------------------------------------------------------------------------------


def test_runs_list_and_show(db: str, runs: dict[str, int]) -> None:
    listed = cli("runs", "list", "--db", db, "--json")
    assert listed.exit_code == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [r["label"] for r in data] == ["baseline", "same", "slower", "other", "broken"]
    assert data[0]["tasks"] == 2 and data[0]["correct"] == 2 and data[0]["status"] == "finished"

    table = cli("runs", "list", "--db", db)
    assert table.exit_code == 0 and "baseline" in table.stdout and "2/2" in table.stdout

    shown = cli("runs", "show", str(runs["broken"]), "--db", db, "--json")
    assert shown.exit_code == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["run"]["label"] == "broken"
    by_task = {t["task_id"]: t for t in detail["tasks"]}
    assert by_task["smoke/relu"]["status"] == "incorrect"
    assert by_task["smoke/row_sum"]["record"]["timing"]["samples"] == BASE_SAMPLES

    latest = cli("runs", "show", "latest", "--db", db)
    assert latest.exit_code == 0
    assert "broken" in latest.stdout and "incorrect" in latest.stdout


def test_runs_errors_are_one_line(db: str, runs: dict[str, int], tmp_path: Path) -> None:
    missing = cli("runs", "show", "99", "--db", db)
    assert missing.exit_code == 2
    assert "no run 99" in one_line_error(missing)
    assert cli("runs", "show", "soon", "--db", db).exit_code == 2
    bad_format = cli("runs", "export", "1", "--format", "xml", "-o", str(tmp_path / "x"))
    assert bad_format.exit_code == 2 and "jsonl or sources" in one_line_error(bad_format)


def test_unreachable_database_loses_nothing(db: str, runs: dict[str, int]) -> None:
    down = cli("runs", "list", "--db", UNREACHABLE_DB)
    assert down.exit_code == 2
    line = one_line_error(down)
    assert "cannot open the run store" in line and "hunter2" not in line
    # An unreachable store is an infrastructure error for regress (3), as for eval.
    regress = cli("regress", "--db", UNREACHABLE_DB, "--baseline", "1", "--against", "2")
    assert regress.exit_code == 3
    one_line_error(regress)
    still = cli("runs", "list", "--db", db, "--json")
    assert len(json.loads(still.stdout)) == len(runs)


def test_runs_export_jsonl_and_sources(db: str, runs: dict[str, int], tmp_path: Path) -> None:
    target = tmp_path / "baseline.jsonl"
    done = cli("runs", "export", str(runs["baseline"]), "-o", str(target), "--db", db, "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["tasks"] == 2
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert {line["task_id"] for line in lines} == {"smoke/relu", "smoke/row_sum"}
    assert all(line["run"]["label"] == "baseline" for line in lines)

    folder = tmp_path / "kernels"
    done = cli("runs", "export", "1", "--format", "sources", "-o", str(folder), "--db", db)
    assert done.exit_code == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["relu.py", "row_sum.py"]
    assert (folder / "relu.py").read_text() == "# baseline: smoke/relu\n"


# -- leaderboard ----------------------------------------------------------------------------------


def test_leaderboard_formats(db: str, runs: dict[str, int], tmp_path: Path) -> None:
    table = cli("leaderboard", "--db", db)
    assert table.exit_code == 0, table.stderr
    assert "kernelwright leaderboard" in table.stdout and "baseline" in table.stdout

    as_json = json.loads(cli("leaderboard", "--db", db, "--format", "json").stdout)
    assert {tuple(r["group"].values()) for r in as_json["rows"]} == {
        ("baseline",),
        ("same",),
        ("slower",),
        ("other",),
        ("broken",),
    }
    assert (
        cli("leaderboard", "--db", db, "--json").stdout
        == cli("leaderboard", "--db", db, "--format", "json").stdout
    )

    md = cli("leaderboard", "1", "2", "--db", db, "--format", "md", "--group-by", "label,model")
    assert md.exit_code == 0
    assert "| label | model |" in md.stdout and "openai:gpt-x" in md.stdout
    assert "broken" not in md.stdout

    rows = list(csv.reader(io.StringIO(cli("leaderboard", "--db", db, "--format", "csv").stdout)))
    assert rows[0][:3] == ["label", "category", "tasks"]
    assert rows[[r[0] for r in rows].index("broken")][:4] == ["broken", "all", "2", "1"]

    page = tmp_path / "board.html"
    html = cli("leaderboard", "--db", db, "--format", "html", "-o", str(page))
    assert html.exit_code == 0 and html.stdout == ""
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_leaderboard_bad_usage(db: str, runs: dict[str, int]) -> None:
    assert "--group-by" in one_line_error(cli("leaderboard", "--db", db, "--group-by", "colour"))
    assert cli("leaderboard", "--db", db, "--format", "pdf").exit_code == 2
    unknown = cli("leaderboard", "42", "--db", db)
    assert unknown.exit_code == 2 and "no run 42" in one_line_error(unknown)


# -- regress --------------------------------------------------------------------------------------


def regress(db: str, baseline: int | str | Path, against: int | str | Path, *extra: str) -> Any:
    return cli(
        "regress", "--db", db, "--baseline", str(baseline), "--against", str(against), *extra
    )


@pytest.mark.parametrize(
    ("candidate", "code", "outcome"),
    [("same", 0, "same"), ("slower", 1, "slower"), ("broken", 4, "broken"),
     ("other_machine", 5, "not_comparable")],
)  # fmt: skip
def test_regress_exit_codes(
    db: str, runs: dict[str, int], candidate: str, code: int, outcome: str
) -> None:
    result = regress(db, runs["baseline"], runs[candidate], "--json")
    assert result.exit_code == code, result.stderr
    data = json.loads(result.stdout)
    assert data["exit_code"] == code
    relu = next(t for t in data["tasks"] if t["task"] == "smoke/relu")
    assert relu["outcome"] == outcome


def test_regress_reports_and_thresholds(db: str, runs: dict[str, int], tmp_path: Path) -> None:
    junit, markdown = tmp_path / "regress.xml", tmp_path / "regress.md"
    result = regress(
        db, runs["baseline"], runs["slower"], "--junit", str(junit), "--markdown", str(markdown)
    )
    assert result.exit_code == 1
    assert "slower" in result.stdout and "1.50x" in result.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "2"
    assert markdown.read_text().startswith("## kernelwright regress: slower kernels found")

    relaxed = regress(db, runs["baseline"], runs["slower"], "--threshold-for", "relu=1.6")
    assert relaxed.exit_code == 0, relaxed.stdout
    strict = regress(db, runs["baseline"], runs["same"], "--threshold", "1.0")
    assert strict.exit_code == 0


def test_regress_from_an_exported_baseline(db: str, runs: dict[str, int], tmp_path: Path) -> None:
    export = tmp_path / "baseline.jsonl"
    assert cli("runs", "export", "1", "-o", str(export), "--db", db).exit_code == 0
    assert regress(db, export, runs["slower"]).exit_code == 1
    assert regress(db, export, runs["same"]).exit_code == 0


def test_regress_bad_usage_exits_2(db: str, runs: dict[str, int], tmp_path: Path) -> None:
    # 2 is bad usage for regress as for every command (and as typer's own usage errors are);
    # no verdict shares it.
    missing = regress(db, 99, 1)
    assert missing.exit_code == 2 and "no run 99" in one_line_error(missing)
    cases = (["--threshold", "0.9"], ["--threshold", "nan"], ["--threshold-for", "relu"],
             ["--threshold-for", "x=2"], ["--threshold-for", "relu=inf"])  # fmt: skip
    for extra in cases:
        result = regress(db, 1, 2, *extra)
        assert result.exit_code == 2, extra
        one_line_error(result)
    assert regress(db, tmp_path, 2).exit_code == 2  # a folder is no baseline
    assert cli("regress", "--db", db, "--baseline", "1").exit_code == 2  # typer: no --against


# -- the real console script ----------------------------------------------------------------------


def test_console_script_lists_and_ranks(db: str, runs: dict[str, int]) -> None:
    env = {**os.environ, "KERNELWRIGHT_DB": db}
    listed = subprocess.run(
        [EXE, "runs", "list", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == len(runs)
    checked = subprocess.run(
        [EXE, "regress", "--baseline", "1", "--against", str(runs["slower"])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert checked.returncode == 1, checked.stderr
    assert "smoke/relu" in checked.stdout
