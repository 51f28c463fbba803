"""The ``compare`` command: two runs side by side, task by task, with bootstrap intervals.

``register(app)`` adds it to the main ``kernelwright`` app. A thin layer over ``runs.compare``;
runs are read as ``regress`` reads its baseline (a run id, ``latest`` or an exported .jsonl).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kernelwright.commands.common import EXIT_INFRA, fail
from kernelwright.commands.runs import (
    DbOption,
    _checked_records,
    _records_from_jsonl,
    open_store,
    resolve_run,
    show_report,
)
from kernelwright.runs.store import Store

RUN_HELP = "a run id, 'latest' or a file written by `runs export RUN --format jsonl`."


def _records(store: Store, ref: str) -> tuple[dict[str, dict[str, Any]], str]:
    """One run's latest verdict record per task, and the name it is shown by."""
    from kernelwright.runs.regress import records_from_run

    path = Path(ref)
    if path.is_file():
        return _records_from_jsonl(path), path.name
    if path.is_dir():
        fail(f"a run is a run id or an exported .jsonl file, not a folder: {ref}")
    run_id = resolve_run(store, ref)
    name = f"run {run_id} ({store.get_run(run_id).label})"
    return _checked_records(records_from_run(store, run_id), f"run {run_id}"), name


def compare_cmd(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="The baseline: " + RUN_HELP)],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="The candidate: " + RUN_HELP)],
    fmt: Annotated[str, typer.Option("--format", help="table, md, json or html.")] = "table",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the report to this file.")
    ] = None,
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples of the tasks for the intervals.")
    ] = 2000,
    seed: Annotated[
        int, typer.Option(help="Seed of the bootstrap (fixed: same runs, same report).")
    ] = 20250101,
    db: DbOption = None,
) -> None:
    """Compare run B against run A task by task: correctness changes, time ratios and fast_p,
    with bootstrap intervals."""
    from kernelwright.runs.compare import FORMATS, compare_runs, render, render_table

    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}: one of {', '.join(FORMATS)}")
    if not 1 <= resamples <= 100_000:
        fail("--resamples must be between 1 and 100000")
    if seed < 0:
        fail("--seed must be a non-negative integer")
    with open_store(db, EXIT_INFRA) as store:
        records_a, name_a = _records(store, run_a)
        records_b, name_b = _records(store, run_b)
    comparison = compare_runs(records_a, records_b, name_a, name_b, resamples, seed)
    show_report(
        fmt,
        output,
        lambda: render_table(comparison),
        lambda: render(comparison, fmt),
        f"the {fmt} comparison of {len(comparison.tasks)} tasks",
    )


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the main app."""
    app.command("compare")(compare_cmd)
