"""The ``kernelwright`` command line: thin commands over the library's functions."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from kernelwright import __version__
from kernelwright.backends import BACKENDS, UnknownBackend, get_backend, infer_backend
from kernelwright.bench_tasks import (
    CATEGORIES,
    Task,
    TaskError,
    Unloadable,
    apply_scale,
    list_suites,
    resolve_task,
    scan_suite,
)
from kernelwright.bench_tasks.task import parse_overrides, unscaled_line
from kernelwright.commands.agents import register as register_agent_commands
from kernelwright.commands.common import (
    FreshBaselineOption,
    ScaleOption,
    StrictOption,
    check_sandbox,
    err,
    fail,
    out,
    print_json,
    say,
    settings,
    warn,
)
from kernelwright.commands.compare import register as register_compare_command
from kernelwright.commands.keys import keys_app
from kernelwright.commands.profile import register as register_profile_command
from kernelwright.commands.runs import register as register_run_commands
from kernelwright.textsafe import term, term_line, visible
from kernelwright.verifier import Verdict, evaluate
from kernelwright.verifier.secrets_guard import withdraw_from_proc

app = typer.Typer(
    help="LLM agents that write GPU kernels, and a sandboxed verifier that proves them.",
    no_args_is_help=True,
    add_completion=False,
)
tasks_app = typer.Typer(help="List and inspect benchmark tasks.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")
app.add_typer(keys_app, name="keys")
register_run_commands(app)
register_compare_command(app)
register_agent_commands(app)
register_profile_command(app)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit(0)


# -- doctor -----------------------------------------------------------------------------------


@app.command()
def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show which backends work here, the sandbox level, compilers, profilers and GPUs."""
    from kernelwright.verifier.doctor import diagnose

    report = diagnose()
    if as_json:
        print_json(report)
        return
    table = Table(title="backends")
    for col in ("backend", "state", "device", "why"):
        table.add_column(col)
    colors = {"available": "green", "compile-only": "yellow", "missing": "red"}
    for row in report["backends"]:
        table.add_row(
            term(row["name"]),
            term(row["state"], colors.get(row["state"], "")),
            term(row["device"]),
            term(row["reason"]),
        )
    out.print(table)
    tools = Table(title="environment")
    tools.add_column("item")
    tools.add_column("value")
    tools.add_row("sandbox", term(f"{report['sandbox']['level']} ({report['sandbox']['reason']})"))
    for name, value in report["tools"].items():
        tools.add_row(term(name), term(value) if value else Text("not found", "red"))
    tools.add_row("GPUs", term(", ".join(report["gpus"]) or "none"))
    out.print(tools)


# -- tasks ------------------------------------------------------------------------------------


@tasks_app.command("list")
def tasks_list(
    suite: Annotated[
        list[str] | None,
        typer.Option("--suite", help="Shipped suite id or folder of task files (repeatable)."),
    ] = None,
    category: Annotated[
        str | None, typer.Option(help=f"Only this category ({', '.join(CATEGORIES)}).")
    ] = None,
    strict: StrictOption = False,
    scale: ScaleOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tasks of the shipped suites (or of the given suites or folders). A file that does
    not load is named on stderr with the reason (and, for a missing package, the command that
    installs it); the others are listed."""
    if category is not None and category not in CATEGORIES:
        fail(f"unknown category {category!r} (choose from {', '.join(CATEGORIES)})")
    tasks: list[Task] = []
    skipped: list[Unloadable] = []
    try:
        for name in suite or list_suites():
            loaded, failed = scan_suite(name, strict=strict)
            tasks += loaded
            skipped += failed
        tasks, lacking = apply_scale(tasks, scale)
    except TaskError as exc:
        fail(str(exc))
    for bad in skipped:
        warn(f"skipped {bad.line()}")
    if lacking:
        warn(unscaled_line(scale, lacking))
    tasks = [t for t in tasks if category is None or t.category == category]
    if as_json:
        print_json([t.to_json() for t in tasks])
        return
    table = Table(title=f"{len(tasks)} tasks")
    for col in ("id", "category", "configs", "backward", "tolerance", "scales"):
        table.add_column(col)
    for t in tasks:
        n_configs = 1 + len(t.configs)
        configs = f"{n_configs}{' + sampled' if t.has_sampler else ''}"
        tol = (
            f"atol={t.atol:g} rtol={t.rtol:g}"
            if t.atol is not None and t.rtol is not None
            else "by dtype"
        )
        table.add_row(
            term(t.id),
            term(t.category or "-"),
            configs,
            "yes" if t.backward else "",
            tol,
            term(", ".join(sorted(t.scales))),
        )
    out.print(table)


@tasks_app.command("import")
def tasks_import(
    kind: Annotated[str, typer.Argument(help="kernelbench, multikernelbench or robust-kbench.")],
    source: Annotated[
        Path, typer.Argument(help="A checkout of that benchmark (or its task folder).")
    ],
    dest: Annotated[
        Path, typer.Option("-o", "--output", help="A new (or empty) folder for the suite folders.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Copy a benchmark's task files unchanged into suite folders, each with a sidecar of the
    categories, the configs its tasks are also checked on (sizes that are module globals,
    checked on the meta device) and its backward tasks. List them with tasks list --suite."""
    from kernelwright.bench_tasks.importers import import_tasks

    try:
        # Progress on stderr, a line every 25 files: checking configs runs each file.
        suites = import_tasks(kind, source, dest, progress=lambda line: err.print(term(line)))
    except TaskError as exc:
        fail(str(exc))
    if as_json:
        print_json([s.to_json() for s in suites])
        return
    for suite in suites:
        say(f"{suite.folder}: {suite.tasks} tasks, {suite.configs} configs attached")
        for name, reason in suite.skipped:
            warn(f"left out {name}: {reason}")


@tasks_app.command("show")
def tasks_show(
    task_ref: Annotated[
        str, typer.Argument(metavar="TASK", help="Task id (smoke/relu) or path to a task file.")
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a module-level size: NAME=VALUE.")
    ] = None,
    scale: ScaleOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one task's metadata and source."""
    try:
        task = resolve_task(task_ref, parse_overrides(set_), scale)
    except TaskError as exc:
        fail(str(exc))
        return
    if as_json:
        print_json({**task.to_json(), "source": task.source})
        return
    out.print(
        Text.assemble(
            term(task.id, "bold"),
            term(f"  category={task.category}  backward={task.backward}  path={task.path}"),
        )
    )
    out.print(
        term(
            f"default config: {task.default_config}  configs: {task.configs}  "
            f"sampler: {task.has_sampler}  scales: {task.scales}"
            + (f"  (at scale {task.scale})" if task.scale else "")
        )
    )
    from rich.syntax import Syntax

    # A task file may come from anywhere: its control characters are shown, not sent.
    source = "\n".join(visible(line, keep="\t") for line in task.source.split("\n"))
    out.print(Syntax(source, "python", line_numbers=True))


@tasks_app.command("lint")
def tasks_lint(
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[SUITE|PATH|TASK]...",
            help="Suites, folders, task files or ids (default: every shipped suite).",
        ),
    ] = None,
    memory_budget_gb: Annotated[
        float, typer.Option("--memory-budget-gb", help="Flag configs whose tensors exceed this.")
    ] = 8.0,
    samples: Annotated[int, typer.Option(help="Input draws per config.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Flag tasks that cannot tell a right kernel from a wrong one; exit 1 if any finding is unwaived."""
    from kernelwright.bench_tasks.lint import lint_isolated, lint_rows

    # Each task is linted in a child whose memory is capped, and shown as soon as it is done:
    # a task too big for the machine costs its own line, not the run.
    reports = []
    colors = {"ok": "green", "waived": "yellow", "fail": "red"}
    try:
        for report in lint_isolated(
            refs or list_suites(),
            samples=samples,
            memory_budget_bytes=int(memory_budget_gb * (1 << 30)),
        ):
            reports.append(report)
            if as_json:
                continue
            for row in lint_rows([report]):
                line = Text.assemble(
                    term(row["status"], colors.get(row["status"], "white")), "  ", term(row["task"])
                )
                for key in ("code", "config", "message"):
                    if row[key]:
                        line.append("  ")
                        line.append_text(term(row[key]))
                out.print(line, soft_wrap=True)
    except TaskError as exc:
        fail(str(exc))
    if as_json:
        print_json([r.to_json() for r in reports])
    else:
        out.print(f"lint: {sum(r.ok for r in reports)} of {len(reports)} tasks clean")
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


# -- eval -------------------------------------------------------------------------------------


# What --allow accepts: a dotted module path or a builtin's name.
ALLOW_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@app.command("eval")
def eval_cmd(
    candidate: Annotated[Path, typer.Argument(help="Python file defining ModelNew.")],
    task_ref: Annotated[
        str, typer.Option("--task", help="Task id (smoke/relu) or path to a task file.")
    ],
    backend: Annotated[
        str | None,
        typer.Option(help=f"One of {', '.join(BACKENDS)} (default: guessed from the source)."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Wall-clock limit in seconds for each phase.")
    ] = None,
    compile_only: Annotated[
        bool,
        typer.Option(
            "--compile-only", help="Stop after the build (status compiled or compile_error)."
        ),
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a module-level size of the task: NAME=VALUE."),
    ] = None,
    scale: ScaleOption = None,
    sandbox: Annotated[str | None, typer.Option(help="auto, bwrap, docker or process.")] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="Widen the source allowlist for this run: a module (numpy) or a builtin (open). "
            "The verdict is flagged allowlist_widened.",
        ),
    ] = None,
    fresh_baseline: FreshBaselineOption = False,
    sanitize: Annotated[
        list[str] | None,
        typer.Option(
            "--sanitize",
            help="After a correct verdict on an NVIDIA GPU, run compute-sanitizer's memcheck, "
            "racecheck or initcheck over the kernel (repeatable); findings are flagged.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object.")] = False,
    detail: Annotated[
        bool,
        typer.Option(
            "--detail",
            help="With --json: the verdict as a run stores it, with the time of each phase, the "
            "timing loops, where the baselines came from, the sandbox and the environment.",
        ),
    ] = False,
) -> None:
    """Evaluate one candidate on one task: correctness, anti-cheat checks and timing."""
    if detail and not as_json:
        fail("--detail goes with --json")
    if timeout is not None and timeout <= 0:
        fail("--timeout must be a positive number of seconds")
    from kernelwright.backends.sanitizer import TOOLS

    for tool in sanitize or []:
        if tool not in TOOLS:
            fail(f"--sanitize {tool!r}: choose from {', '.join(TOOLS)}")
    for name in allow or []:
        if not ALLOW_NAME.fullmatch(name):
            fail(f"--allow {name!r}: expected a module or builtin name such as numpy or open")
    try:
        source = candidate.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read candidate {candidate}: {exc.__class__.__name__}: {exc}")
        return
    try:
        task = resolve_task(task_ref, parse_overrides(set_), scale)
        name = backend or infer_backend(source)
        get_backend(name)
    except (TaskError, UnknownBackend) as exc:
        fail(str(exc))
        return
    cfg = settings(timeout=timeout, sandbox=sandbox)
    check_sandbox(cfg.sandbox, quiet=False)
    options = cfg.eval_options(
        compile_only=compile_only,
        allow=tuple(allow or ()),
        fresh_baseline=fresh_baseline,
        sanitize=tuple(dict.fromkeys(sanitize or ())),
    )
    verdict = evaluate(task, source, name, options)
    if as_json:
        sys.stdout.write(verdict.dumps(detail=detail) + "\n")
    else:
        render_verdict(verdict)
    raise typer.Exit(verdict.exit_code)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g} ms"


def render_verdict(v: Verdict) -> None:
    color = {
        "correct": "green",
        "compiled": "green",
        "incorrect": "red",
        "rejected": "magenta",
    }.get(v.status, "yellow")
    table = Table(show_header=False, title=term_line(f"{v.task} on {v.backend}"))
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("status", term(v.status, color))
    table.add_row("device", term(v.device))
    table.add_row("sandbox", term(v.extra.get("sandbox", "")))
    if v.correctness:
        c = v.correctness
        if "trials" in c:
            table.add_row(
                "correctness",
                f"{c['trials']} trials over {len(c.get('configs', []))} configs, max abs err {c.get('max_abs_err', 0):.3g}",
            )
    t = v.timing
    if t.candidate_ms is not None:
        spread = (
            f" (IQR {t.candidate_iqr_ms:.3g}, n={len(t.samples)})"
            if t.candidate_iqr_ms is not None
            else ""
        )
        table.add_row("candidate", _ms(t.candidate_ms) + spread)
        table.add_row("eager / compile", f"{_ms(t.eager_ms)} / {_ms(t.compile_ms)}")
        baseline = v.extra.get("baseline") or {}
        if baseline.get("from") == "the baseline store":
            table.add_row("baselines", term(t.note.rsplit("; ", 1)[-1]))
        conditions = v.extra.get("timing_conditions") or {}
        if conditions:
            loops = v.extra.get("timing_loops") or []
            table.add_row(
                "conditions",
                term(
                    f"{conditions.get('threads')} thread(s) on CPUs {conditions.get('cpus')}, "
                    f"{len(loops)} loop(s), {len(v.extra.get('held_out_ms') or [])} held-out calls"
                ),
            )
        again = v.extra.get("remeasured")
        if again:
            outcome = "repeated" if again.get("repeated") else "did not repeat"
            table.add_row("re-measured", term(f"{again.get('check')}: {outcome}"))
        if not t.meaningful:
            table.add_row("timing", Text("not meaningful on this device (interpreter)", "yellow"))
    energy = v.extra.get("energy")
    if isinstance(energy, dict) and isinstance(energy.get("joules_per_call"), float):
        table.add_row(
            "energy (estimate)",
            f"{energy['joules_per_call']:.4g} J/call at {energy.get('mean_power_w')} W mean",
        )
    for key in ("eager", "compile"):
        value = v.speedup.get(key)
        if value is not None:
            table.add_row(f"speedup vs {key}", f"{value:.2f}x")
    for f in v.violations:
        table.add_row(Text("violation", "magenta"), term(f"{f.check}: {f.detail}"))
    for f in v.flags:
        table.add_row(Text("flag", "yellow"), term(f"{f.check}: {f.detail}"))
    if v.status not in ("correct", "compiled") and v.log:
        table.add_row("reason", term(v.log.splitlines()[0]))
    out.print(table)


def main() -> None:
    # Before anything starts a child: a kernel at the process level can read this process's
    # start-up environment and arguments through /proc; keys and passwords are zeroed there.
    withdraw_from_proc()
    app()


if __name__ == "__main__":
    main()
