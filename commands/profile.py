"""``kernelwright profile``: one candidate's kernels under its backend's profiler."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kernelwright.commands.common import (
    EXIT_INFRA,
    ScaleOption,
    check_sandbox,
    fail,
    out,
    print_json,
    say,
    settings,
)
from kernelwright.textsafe import term, term_line


def profile_cmd(
    candidate: Annotated[Path, typer.Argument(help="Python file defining ModelNew.")],
    task_ref: Annotated[
        str, typer.Option("--task", help="Task id (smoke/relu) or path to a task file.")
    ],
    backend: Annotated[
        str | None, typer.Option(help="The candidate's backend (default: guessed from the source).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Wall-clock limit in seconds for each phase.")
    ] = None,
    sandbox: Annotated[str | None, typer.Option(help="auto, bwrap or process.")] = None,
    scale: ScaleOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object.")] = False,
) -> None:
    """Profile one kernel: evaluate it, then, if correct, run it under its backend's profiler
    (ncu for cuda and triton, rocprofv3 for hip, JAX's profiler for pallas) and print the metrics."""
    from kernelwright.backends import UnknownBackend, get_backend, infer_backend
    from kernelwright.backends.profilers import profiler_for
    from kernelwright.bench_tasks import TaskError, resolve_task
    from kernelwright.verifier import evaluate

    if timeout is not None and timeout <= 0:
        fail("--timeout must be a positive number of seconds")
    try:
        source = candidate.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read candidate {candidate}: {exc.__class__.__name__}: {exc}")
    try:
        task = resolve_task(task_ref, scale=scale)
        name = backend or infer_backend(source)
        get_backend(name)
    except (TaskError, UnknownBackend) as exc:
        fail(str(exc))
    profiler = profiler_for(name)
    if profiler is None:
        fail(f"backend {name} has no profiler (ncu: cuda, triton; rocprofv3: hip; jax: pallas)")
    ok, why = profiler.status()
    if not ok:
        fail(f"cannot profile {name} kernels here with {profiler.name}: {why}")
    cfg = settings(timeout=timeout, sandbox=sandbox)
    check_sandbox(cfg.sandbox, quiet=as_json)
    verdict = evaluate(task, source, name, cfg.eval_options(profile=True))
    report = {
        "task": verdict.task,
        "backend": verdict.backend,
        "status": verdict.status,
        "candidate_ms": verdict.timing.candidate_ms,
        "profile": verdict.extra.get("profile"),
        "profile_error": verdict.extra.get("profile_error"),
    }
    if as_json:
        print_json(report)
    else:
        _render(report)
    if verdict.status != "correct":
        if not as_json:
            first = (verdict.log.splitlines() or [""])[0]
            say(f"not profiled: the verdict is {verdict.status} ({first})")
        raise typer.Exit(verdict.exit_code)
    if report["profile"] is None:
        raise typer.Exit(EXIT_INFRA)


def _render(report: dict[str, Any]) -> None:
    profile = report.get("profile")
    if not isinstance(profile, dict):
        if report.get("profile_error"):
            say(f"profile: {report['profile_error']}")
        return
    summary = profile.get("summary") or {}
    title = (
        f"{report['task']} on {report['backend']}: {profile['profiler']}, {profile['calls']} calls"
    )
    table = Table(title=term_line(title))
    table.add_column("group")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for group, values in summary.items():
        if group in ("units",) or not isinstance(values, dict):
            continue
        for metric, value in values.items():
            shown = (
                value
                if not isinstance(value, dict)
                else ", ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items()
                )
            )
            table.add_row(term(group), term(str(metric)), term(str(shown)))
    out.print(table)
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("profile")(profile_cmd)
