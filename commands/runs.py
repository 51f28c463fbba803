"""The run-level commands: ``bench``, ``runs list|show|export``, ``leaderboard`` and ``regress``.

``register(app)`` adds them to the main ``kernelwright`` app. Each command is a thin layer over
``runs.bench``, ``runs.store``, ``runs.leaderboard``, ``runs.report`` and ``runs.regress``.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from kernelwright.commands.common import (
    EXIT_INFRA,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    ExecutorOption,
    FreshBaselineOption,
    RayAddressOption,
    ScaleOption,
    StrictOption,
    check_executor,
    check_sandbox,
    err,
    fail,
    out,
    print_json,
    say,
    settings,
    warn,
)
from kernelwright.runs.bench import (
    BenchError,
    BenchEvent,
    BenchInterrupted,
    SummaryRow,
    run_bench,
    run_summary,
)
from kernelwright.runs.database import StoreError, redact
from kernelwright.runs.measurements import profile_rows, profiler_name
from kernelwright.runs.store import Store, write_file_afresh
from kernelwright.textsafe import term, term_line, visible

runs_app = typer.Typer(help="List, show and export stored runs.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="Run store: sqlite:///PATH, postgresql://... or a file path (env KERNELWRIGHT_DB).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RunArgument = Annotated[str, typer.Argument(metavar="RUN", help="Run id, or 'latest'.")]
UseRecordedOption = Annotated[
    bool,
    typer.Option(
        "--use-recorded-options",
        help="Evaluate with the options stored in the run or baseline even where they check "
        "less strictly than your settings (stored data is otherwise never trusted to).",
    ),
]


@contextmanager
def open_store(db: str | None, code: int = EXIT_USAGE) -> Iterator[Store]:
    """The run store, with every store failure turned into one line and exit ``code``."""
    url = settings(db=db).db  # a bad setting is bad usage whatever the command
    try:
        store = Store(url)
    except StoreError as exc:
        fail(str(exc), code)
    try:
        yield store
    except StoreError as exc:
        fail(str(exc), code)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"the run store {redact(store.url)} failed: {reason}", code)
    finally:
        store.close()


def resolve_run(store: Store, ref: str, code: int = EXIT_USAGE) -> int:
    """A run id from ``ref``: a number, or ``latest``."""
    if ref == "latest":
        runs = store.list_runs()
        if not runs:
            fail("the run store holds no run yet", code)
        return runs[-1].id
    try:
        run_id = int(ref)
    except ValueError:
        fail(f"not a run id: {ref!r} (give a number from `kernelwright runs list`)", code)
    try:
        store.get_run(run_id)
    except StoreError as exc:
        fail(str(exc), code)
    return run_id


# -- bench ----------------------------------------------------------------------------------------


def _ms(value: float | None, meaningful: bool = True) -> str | Text:
    if value is None:
        return "-"
    return f"{value:.4g}" if meaningful else Text(f"{value:.4g}*", style="dim")


def _speedup(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


STATUS_STYLE = {
    "correct": "green",
    "compiled": "green",
    "incorrect": "red",
    "rejected": "magenta",
    "missing": "dim",
    "pending": "dim",
}


def summary_table(title: str, rows: list[SummaryRow]) -> Table:
    """Per task: status, candidate time, speedups over eager and torch.compile, and the reason."""
    table = Table(title=term_line(title), title_justify="left")
    table.add_column("task", no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column("status", no_wrap=True)
    for name in ("candidate ms", "vs eager", "vs compile"):
        table.add_column(name, justify="right", no_wrap=True)
    energy = any(row.joules_per_call is not None for row in rows)
    if energy:  # only where some verdict measured it (NVIDIA GPUs)
        table.add_column("J/call", justify="right", no_wrap=True)
    table.add_column("reason", overflow="fold", min_width=24)
    for row in rows:
        if row.status == "missing":
            continue
        style = STATUS_STYLE.get(row.status, "yellow")
        cells = [
            term(row.task_id),
            term(row.status, style),
            _ms(row.candidate_ms, row.meaningful),
            _speedup(row.speedup_eager),
            _speedup(row.speedup_compile),
        ]
        if energy:
            joules = row.joules_per_call
            cells.append(Text(f"{joules:.3g}" if joules is not None else "-"))
        table.add_row(*cells, term(row.reason))
    if any(r.candidate_ms is not None and not r.meaningful for r in rows):
        table.caption = "* timing not meaningful on this device (interpreter): no speedup"
    return table


def print_summary(title: str, rows: list[SummaryRow], unmatched: list[str]) -> None:
    """The summary table, then one line each for tasks without a candidate and stray files."""
    out.print(summary_table(title, rows))
    missing = [row.task_id for row in rows if row.status == "missing"]
    if missing:
        names = ", ".join(t.rsplit("/", 1)[-1] for t in missing)
        say(f"{len(missing)} tasks without a candidate (not evaluated): {names}")
    if unmatched:
        say(f"candidate files matching no task: {', '.join(map(str, unmatched))}")


class BenchProgress:
    """A progress bar on the terminal (nothing when stdout is not one) and warnings on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.running: list[str] = []
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("[bold]run {task.fields[run]}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}", markup=False),
            console=out,
            disable=not enabled,
            transient=False,
        )
        self.task_id = self.bar.add_task("", total=None, run="-", start=False)

    def __enter__(self) -> BenchProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def __call__(self, event: BenchEvent) -> None:
        if event.kind == "warning":
            warn(event.message)
            return
        if event.kind == "plan":
            self.bar.update(self.task_id, total=event.total, completed=0, run=str(event.run_id))
            self.bar.start_task(self.task_id)
        elif event.kind == "start" and event.task_id:
            self.running.append(event.task_id)
        elif event.kind == "done" and event.task_id:
            if event.task_id in self.running:
                self.running.remove(event.task_id)
            self.bar.update(self.task_id, completed=event.completed)
        shown = ", ".join(t.rsplit("/", 1)[-1] for t in self.running)
        # Task names on one line; the column renders them without markup.
        self.bar.update(self.task_id, description=visible(shown))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def bench_payload(store: Store, run_id: int) -> dict[str, Any]:
    rows, missing, unmatched, _ = run_summary(store, run_id)
    return {
        "run": store.get_run(run_id).to_json(),
        "tasks": [row.to_json() for row in rows],
        "missing": missing,
        "unmatched": unmatched,
    }


def _guess_backend(solutions: Path | None) -> str | None:
    from kernelwright.backends import infer_backend

    if solutions is None or not solutions.is_dir():
        return None
    guesses = set()
    for path in solutions.glob("*.py"):
        try:
            guesses.add(infer_backend(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    if len(guesses) > 1:
        fail(f"candidates in {solutions} look like {', '.join(sorted(guesses))}: give --backend")
    return guesses.pop() if guesses else None


def _check_backend(name: str, compile_only: bool) -> None:
    from kernelwright.backends import UnknownBackend, get_backend

    try:
        status = get_backend(name).status()
    except UnknownBackend as exc:
        fail(str(exc))
    if status.state == "missing" or (status.state == "compile-only" and not compile_only):
        fail(f"backend {name} cannot run here: {status.reason}", EXIT_INFRA)


def bench_into_store(
    store: Store,
    solutions: Path | None,
    suite: str | None,
    backend: str | None,
    options: Any,
    *,
    label: str | None,
    jobs: int,
    resume: int | None,
    show_progress: bool,
    use_recorded: bool = False,
    strict: bool = False,
    scale: str | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> int:
    """Run a bench with a progress bar; Ctrl-C and SIGTERM store the run as interrupted."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with BenchProgress(show_progress) as progress:
            return run_bench(
                store,
                solutions,
                suite,
                backend,
                options,
                label,
                jobs,
                resume,
                progress,
                use_recorded=use_recorded,
                strict=strict,
                scale=scale,
                executor=executor,
                ray_address=ray_address,
            )
    except BenchError as exc:
        fail(str(exc))
    except BenchInterrupted as stop:
        fail(
            f"interrupted: run {stop.run_id} is stored as interrupted; continue it with "
            f"`kernelwright bench --resume {stop.run_id}`",
            EXIT_INTERRUPTED,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)


def bench(
    solutions: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of candidate files, one per task, named like the task file (relu.py)."
        ),
    ] = None,
    suite: Annotated[
        str | None,
        typer.Option("--suite", help="Shipped suite id or folder of task files."),
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="cpu, cuda or triton (default: guessed from the sources).")
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(help="Name of the run on leaderboards (default: the folder's name)."),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "-j", "--jobs", help="Evaluations at once (at most one per CPU core, one on a GPU)."
        ),
    ] = 1,
    resume: Annotated[
        int | None,
        typer.Option(
            "--resume",
            metavar="RUN",
            help="Finish an interrupted run: its suite, backend and folder, your settings.",
        ),
    ] = None,
    use_recorded: UseRecordedOption = False,
    fresh_baseline: FreshBaselineOption = False,
    strict: StrictOption = False,
    scale: ScaleOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    db: DbOption = None,
    timeout: Annotated[
        float | None, typer.Option(help="Wall-clock limit in seconds for each phase.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: the run and its tasks.")
    ] = False,
) -> None:
    """Evaluate a folder of candidate kernels on a suite as one stored run."""

    if jobs < 1:
        fail("-j/--jobs must be at least 1")
    if timeout is not None and timeout <= 0:
        fail("--timeout must be a positive number of seconds")
    check_executor(executor, ray_address)
    if resume is None:
        if use_recorded:
            fail("--use-recorded-options goes with --resume")
        if solutions is None:
            fail("give the SOLUTIONS folder (or --resume RUN)")
        if suite is None:
            fail("give --suite: a shipped suite id (kernelwright tasks list) or a folder of tasks")
        backend = backend or _guess_backend(solutions)
        if backend is None:
            fail(f"no candidate file (*.py) in {solutions}")
    cfg = settings(timeout=timeout, db=db)
    with open_store(cfg.db) as store:
        if resume is not None:
            backend = store.get_run(resume).backend if backend is None else backend
        assert backend is not None
        _check_backend(backend, False)
        check_sandbox(cfg.sandbox, quiet=False)
        run_id = bench_into_store(
            store,
            solutions,
            suite,
            backend,
            cfg.eval_options(fresh_baseline=fresh_baseline),
            label=label,
            jobs=jobs,
            resume=resume,
            show_progress=sys.stdout.isatty() and not as_json,
            use_recorded=use_recorded,
            strict=strict,
            scale=scale,
            executor=executor,
            ray_address=ray_address,
        )
        payload = bench_payload(store, run_id)
    if as_json:
        print_json(payload)
    else:
        rows = [SummaryRow(**row) for row in payload["tasks"]]
        run = payload["run"]
        title = f"run {run_id}: {run['label']} on {run['backend']}"
        print_summary(title, rows, payload["unmatched"])
        say(f"run {run_id}: {run['correct']}/{run['tasks']} correct")
    statuses = {row["status"] for row in payload["tasks"]} - {"missing", "pending"}
    if statuses == {"infra_error"}:
        raise typer.Exit(EXIT_INFRA)


# -- runs -----------------------------------------------------------------------------------------


@runs_app.command("list")
def runs_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List stored runs with their task and correctness counts."""
    from kernelwright.runs.report import format_cost, format_duration

    with open_store(db) as store:
        runs = store.list_runs()
    if as_json:
        print_json([run.to_json() for run in runs])
        return
    table = Table(title=f"{len(runs)} runs", title_justify="left")
    for name in ("id", "label", "suite", "backend", "model", "status", "correct", "cost", "wall"):
        table.add_column(name, justify="right" if name in ("id", "correct", "cost") else "left")
    for run in runs:
        table.add_row(
            str(run.id),
            term(run.label),
            term(run.suite),
            term(run.backend),
            term(run.model or "-"),
            term(run.status),
            f"{run.correct}/{run.tasks}",
            format_cost(run.cost_usd),
            format_duration(run.wall_s),
        )
    out.print(table)


@runs_app.command("show")
def runs_show(run_ref: RunArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one run's per-task results; for an agent run, its lineage and spend too."""
    from kernelwright.runs.agent_records import lineage, spend

    with open_store(db) as store:
        run_id = resolve_run(store, run_ref)
        run = store.get_run(run_id)
        rows, missing, unmatched, results = run_summary(store, run_id)
        agent_run = run.options.get("kind") == "run"
        nodes = lineage(store, run_id) if agent_run else []
        spent = spend(store, run_id) if agent_run else None
    if as_json:
        tasks = []
        for row in rows:
            result = results.get(row.task_id)
            tasks.append({**row.to_json(), "record": result.record if result else None})
        payload: dict[str, Any] = {
            "run": run.to_json(),
            "tasks": tasks,
            "missing": missing,
            "unmatched": unmatched,
        }
        if agent_run and spent is not None:
            payload["lineage"] = [node.to_json() for node in nodes]
            payload["spend"] = spent.to_json()
        print_json(payload)
        return
    head = f"run {run.id}: {run.label}  suite={run.suite}  backend={run.backend}  {run.status}"
    if run.model:
        head += f"  model={run.model}"
    print_summary(head, rows, unmatched)
    print_profiles({task: result.record for task, result in results.items() if result})
    if agent_run and spent is not None:
        print_lineage(nodes)
        cost = f"${spent.cost_usd:.4f}" if spent.cost_usd is not None else "cost unknown"
        say(
            f"spend: {spent.calls} LLM calls ({spent.cached} from the cache), "
            f"{spent.prompt_tokens} prompt + {spent.completion_tokens} completion tokens, {cost}, "
            f"{spent.latency_s:.1f} s waiting"
        )


MAX_TREE_DEPTH = 24


def print_profiles(records: dict[str, Any]) -> None:
    """One table per task whose verdict carries a profile (``--profile``)."""
    for task_id, record in sorted(records.items()):
        rows = profile_rows(record)
        if not rows:
            continue
        profiler = profiler_name(record) or "?"
        table = Table(title=term_line(f"profile of {task_id} ({profiler})"), title_justify="left")
        for name in ("kernel or group", "metric", "value"):
            table.add_column(name)
        for group, metric, value in rows:
            table.add_row(term(group), term(metric), f"{value:.4g}")
        out.print(table)


def print_lineage(nodes: list[Any]) -> None:
    """Each task's candidates as a tree: a child under the parent it improved. Built without
    recursion (a run may hold long lineages); a node whose parent chain loops or leaves the
    run is shown at the top."""
    from rich.tree import Tree

    by_id = {node.candidate_id: node for node in nodes}
    children: dict[int | None, list[Any]] = {}
    for node in nodes:
        parent, seen = node.parent_id, {node.candidate_id}
        # Walk up to check the chain ends at a root; a loop or a stranger makes this a root.
        while parent is not None and parent in by_id and parent not in seen:
            seen.add(parent)
            parent = by_id[parent].parent_id
        looped = parent is not None and parent in seen
        attach = node.parent_id in by_id and not looped
        children.setdefault(node.parent_id if attach else None, []).append(node)

    def label(node: Any) -> Text:
        speed = f" {node.speedup:.3g}x" if node.speedup is not None else ""
        return term(f"#{node.candidate_id} {node.status or 'not verified'}{speed}")

    depth: dict[int, int] = {}
    stack_depth = [(root, 1) for root in children.get(None, [])]
    while stack_depth:
        node, level = stack_depth.pop()
        depth[node.candidate_id] = level
        stack_depth += [(child, level + 1) for child in children.get(node.candidate_id, [])]
    if max(depth.values(), default=0) > MAX_TREE_DEPTH:
        # Too deep to draw as a tree in a terminal: one row per candidate, with its parent.
        table = Table(title="lineage", title_justify="left")
        for name in ("task", "candidate", "parent", "status", "vs eager"):
            table.add_column(name)
        for node in nodes:
            table.add_row(
                term(node.task_id),
                f"#{node.candidate_id}",
                f"#{node.parent_id}" if node.parent_id is not None else "-",
                term(node.status or "not verified"),
                f"{node.speedup:.3g}x" if node.speedup is not None else "-",
            )
        out.print(table)
        return
    by_task: dict[str, Tree] = {}
    for root in children.get(None, []):
        tree = by_task.setdefault(root.task_id, Tree(term(f"lineage of {root.task_id}")))
        stack = [(tree.add(label(root)), root)]
        while stack:
            branch, node = stack.pop()
            for child in reversed(children.get(node.candidate_id, [])):
                stack.append((branch.add(label(child)), child))
    for tree in by_task.values():
        out.print(tree)


@runs_app.command("calls")
def runs_calls(
    run_ref: RunArgument,
    full: Annotated[
        bool, typer.Option("--full", help="With each call's prompt and reply (JSON only).")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List an agent run's LLM calls: role, tag, outcome, tokens, cost and latency."""
    from kernelwright.runs.agent_records import run_calls

    if full and not as_json:
        fail("--full goes with --json")
    with open_store(db) as store:
        run_id = resolve_run(store, run_ref)
        calls = run_calls(store, run_id)
    if as_json:
        print_json([call.to_json(with_text=full) for call in calls])
        return
    table = Table(title=f"run {run_id}: {len(calls)} LLM calls", title_justify="left")
    for name in ("id", "role", "tag", "outcome", "tokens", "cost", "latency", "from"):
        table.add_column(name, justify="right" if name in ("id", "tokens", "cost") else "left")
    for call in calls:
        tokens = (call.prompt_tokens or 0) + (call.completion_tokens or 0)
        table.add_row(
            str(call.id),
            term(call.role),
            term(call.tag or ""),
            term(call.outcome or ""),
            str(tokens),
            f"${call.cost_usd:.4f}" if call.cost_usd is not None else "-",
            f"{call.latency_s:.2f} s" if call.latency_s is not None else "-",
            f"cache #{call.cached_from}" if call.cached_from is not None else "",
        )
    out.print(table)


@runs_app.command("export")
def runs_export(
    run_ref: RunArgument,
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="File (jsonl) or folder (sources; dataset: new or empty)."
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="jsonl: one verdict record per task; sources: one kernel file per task; "
            "dataset: parquet and JSON lines of every evaluation with lineage and LLM "
            "conversation, and a dataset card.",
        ),
    ] = "jsonl",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export a run's results as JSON lines, its kernels as a solutions folder, or a dataset."""
    if fmt not in ("jsonl", "sources", "dataset"):
        fail(f"unknown --format {fmt!r}: dataset, jsonl or sources")
    if fmt == "dataset":
        from kernelwright.runs.dataset import DatasetError, check_target, require_pyarrow

        try:
            require_pyarrow()
            check_target(output)
        except DatasetError as exc:
            fail(str(exc))
    try:
        with open_store(db) as store:
            run_id = resolve_run(store, run_ref)
            if fmt == "jsonl":
                count = store.export_jsonl(run_id, output)
            elif fmt == "dataset":
                from kernelwright.runs.dataset import export_dataset

                count = export_dataset(store, run_id, output, _stored_keys())
            else:
                count = len(store.export_sources(run_id, output))
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    if as_json:
        print_json({"run": run_id, "format": fmt, "path": str(output), "tasks": count})
    else:
        what = "evaluations" if fmt == "dataset" else "tasks"
        say(f"wrote {count} {what} of run {run_id} to {output}")


def _stored_keys() -> list[str]:
    """The keys in the keys file, for the dataset export to scrub (none if it cannot be read)."""
    from kernelwright.agents.providers.base import ProviderError
    from kernelwright.agents.providers.keys import load_keys

    try:
        return list(load_keys().values())
    except (ProviderError, OSError):
        return []


# -- leaderboard ----------------------------------------------------------------------------------


def leaderboard_cmd(
    run_refs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[RUN]...", help="Runs to rank (default: every stored run)."),
    ] = None,
    group_by: Annotated[
        str,
        typer.Option(
            "--group-by",
            help="Comma-separated: label, model, strategy, backend, device, suite, run.",
        ),
    ] = "label",
    fmt: Annotated[str, typer.Option("--format", help="table, md, json, csv or html.")] = "table",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the report to this file.")
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Rank runs by fast_p and geometric-mean speedup, overall and per category."""
    from kernelwright.runs.leaderboard import GROUP_FIELDS, leaderboard
    from kernelwright.runs.report import FORMATS, render, render_table

    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}: one of {', '.join(FORMATS)}")
    groups = [g.strip() for g in group_by.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUP_FIELDS]
    if unknown or not groups:
        fail(f"--group-by takes {', '.join(GROUP_FIELDS)}; not {', '.join(unknown) or 'nothing'}")
    with open_store(db) as store:
        run_ids = [resolve_run(store, ref) for ref in run_refs] if run_refs else None
        board = leaderboard(store, run_ids, groups)
    show_report(
        fmt,
        output,
        lambda: render_table(board),
        lambda: render(board, fmt),
        f"the {fmt} leaderboard of {len(board.rows)} groups",
    )


def show_report(fmt: str, output: Path | None, table: Any, text: Any, what: str) -> None:
    """A report on the terminal (``table``: a rich renderable, for ``--format table``), on
    stdout (``text``), or written to ``output`` when it is a new file."""
    if output is None and fmt == "table":
        out.print(table())
        return
    rendered = text()
    if output is None:
        sys.stdout.write(rendered)
        return
    try:
        write_file_afresh(output, rendered)
    except StoreError as exc:
        fail(str(exc))
    err.print(term(f"wrote {what} to {output}"))


# -- regress --------------------------------------------------------------------------------------

# regress: 1 slower, 4 newly broken and 5 not comparable are verdicts; 2 is bad usage (a
# malformed or refused baseline included) and 3 an infrastructure error, as everywhere else.


def _parse_threshold_overrides(pairs: list[str]) -> dict[str, float]:
    overrides = {}
    for pair in pairs:
        task, sep, value = pair.rpartition("=")
        try:
            ratio = float(value)
        except ValueError:
            ratio = 0.0
        if not sep or not task or not math.isfinite(ratio) or ratio < 1.0:
            fail(f"--threshold-for expects TASK=RATIO with RATIO >= 1, got {pair!r}")
        overrides[task] = ratio
    return overrides


def _match_task_ids(overrides: dict[str, float], task_ids: set[str]) -> dict[str, float]:
    """Map each ``--threshold-for`` key to a compared task id: the id itself, or its file stem."""
    matched = {}
    for key, ratio in overrides.items():
        if key in task_ids:
            matched[key] = ratio
            continue
        hits = [t for t in task_ids if Path(t).stem == key or t.rsplit("/", 1)[-1] == key]
        if len(hits) != 1:
            why = "matches several tasks" if hits else "is not a compared task"
            fail(f"--threshold-for {key}: {why}")
        matched[hits[0]] = ratio
    return matched


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _finite_list(value: Any) -> bool:
    return isinstance(value, list) and all(v is None or _finite(v) for v in value)


def _record_problem(record: Any) -> str | None:
    """What makes a stored verdict record unusable for a comparison, or None."""
    if not isinstance(record, dict):
        return "the verdict record is not a mapping"
    if not isinstance(record.get("status"), (str, type(None))):
        return "its status is not a string"
    timing = record.get("timing")
    if not isinstance(timing, (dict, type(None))):
        return "its timing is not a mapping"
    if timing and not _finite_list(timing.get("samples") or []):
        return "its timing samples are not a list of finite numbers"
    if timing and not isinstance(timing.get("meaningful", True), bool):
        return "its timing's meaningful is not true or false"
    extra = record.get("extra")
    if not isinstance(extra, (dict, type(None))):
        return "its extra is not a mapping"
    if extra and not isinstance(extra.get("environment"), (dict, type(None))):
        return "its environment is not a mapping"
    return None


def _checked_records(records: dict[Any, Any], name: str) -> dict[str, dict[str, Any]]:
    if not records:
        fail(f"{name} holds no results to compare")
    for task_id, record in records.items():
        if not isinstance(task_id, str) or not task_id:
            fail(f"{name}: a result without a task id")
        problem = _record_problem(record)
        if problem:
            fail(f"{name}: task {task_id}: {problem}")
    return records


def _records_from_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    from kernelwright.runs.regress import records_from_jsonl

    try:
        return _checked_records(records_from_jsonl(path), path.name)
    except StoreError as exc:
        fail(str(exc))
    except (TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else ""
        fail(f"{path}: not a kernelwright results file ({type(exc).__name__}: {reason})")


def _jsonl_run_facts(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as lines:
            first = next((line for line in lines if line.strip()), "{}")
        facts = json.loads(first).get("run") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return facts if isinstance(facts, dict) else {}


def _baseline(store: Store, ref: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The baseline's records, its run facts (suite, backend, options) and its name."""
    from kernelwright.runs.regress import records_from_run

    path = Path(ref)
    if path.is_file():
        return _records_from_jsonl(path), _jsonl_run_facts(path), path.name
    if path.is_dir():
        fail(f"--baseline takes a run id or an exported .jsonl file, not a folder: {ref}")
    run_id = resolve_run(store, ref)
    run = store.get_run(run_id)
    facts = {"id": run.id, "suite": run.suite, "backend": run.backend, "options": run.options}
    name = f"run {run_id}"
    return _checked_records(records_from_run(store, run_id), name), facts, name


def _against_suite(facts: dict[str, Any], suite: str | None, name: str) -> str:
    """The suite a folder is evaluated on: the user's ``--suite``, else the baseline's when it is
    a shipped suite. A folder named by the baseline is never loaded on its word: loading task
    files runs them in this process."""
    from kernelwright.bench_tasks import list_suites

    if suite is not None:
        return suite
    recorded = facts.get("suite")
    if not isinstance(recorded, str) or not recorded:
        fail(f"{name} records no suite: give --suite")
    if recorded not in list_suites():
        fail(
            f"{name} names the task folder {recorded}: pass --suite with that folder to load "
            "its task files"
        )
    return recorded


def _against(
    store: Store,
    ref: str,
    facts: dict[str, Any],
    base_name: str,
    suite: str | None,
    backend: str | None,
    use_recorded: bool,
    jobs: int,
    as_json: bool,
) -> tuple[dict[str, Any], str]:
    """The candidate records: a stored run, an export, or a folder evaluated into a new run."""
    from kernelwright.runs.bench import options_from_record, recorded_scale
    from kernelwright.runs.regress import records_from_run

    path = Path(ref)
    if path.is_file():
        return _records_from_jsonl(path), path.name
    if not path.is_dir():
        run_id = resolve_run(store, ref)
        name = f"run {run_id}"
        return _checked_records(records_from_run(store, run_id), name), name
    suite = _against_suite(facts, suite, base_name)
    backend = backend or facts.get("backend")
    if not isinstance(backend, str) or not backend:
        fail(f"{base_name} records no backend: give --backend")
    cfg = settings()
    recorded = (facts.get("options") or {}) if isinstance(facts.get("options"), dict) else {}
    try:
        options = options_from_record(
            recorded.get("eval"), cfg.eval_options(), base_name, use_recorded=use_recorded
        )
        # The folder is measured at the baseline's size preset, or the two would not compare.
        scale = recorded_scale(recorded, base_name)
    except BenchError as exc:
        fail(str(exc))
    _check_backend(backend, options.compile_only)
    check_sandbox(options.sandbox, quiet=False)
    run_id = bench_into_store(
        store,
        path,
        suite,
        backend,
        options,
        label="regress-against",
        jobs=jobs,
        resume=None,
        show_progress=sys.stdout.isatty() and not as_json,
        scale=scale,
    )
    return records_from_run(store, run_id), f"run {run_id} ({path})"


def _regress_table(result: Any) -> Table:
    table = Table(title=term_line(f"{result.candidate_name} against {result.baseline_name}"))
    for name in ("task", "outcome", "baseline ms", "candidate ms", "ratio", "p", "reason"):
        table.add_column(
            name, justify="right" if name in ("baseline ms", "candidate ms") else "left"
        )
    style = {"broken": "bold red", "slower": "red", "faster": "green", "fixed": "green"}
    for row in result.rows:
        color = style.get(row.outcome, "yellow" if row.outcome == "not_comparable" else "")
        table.add_row(
            term(row.task_id),
            term(row.outcome.replace("_", " "), color),
            _ms(row.baseline_ms),
            _ms(row.candidate_ms),
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
            "-" if row.p_value is None else f"{row.p_value:.2g}",
            term(row.reason),
        )
    return table


def regress(
    baseline: Annotated[
        str, typer.Option("--baseline", metavar="RUN|EXPORT.jsonl", help="What to compare against.")
    ],
    against: Annotated[
        str,
        typer.Option(
            "--against",
            metavar="RUN|FOLDER",
            help="A stored run, or a folder of kernels evaluated now with your settings on the "
            "baseline's suite and backend.",
        ),
    ],
    suite: Annotated[
        str | None,
        typer.Option(
            "--suite",
            help="Suite for --against FOLDER (default: the baseline's, if it is a shipped suite).",
        ),
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Backend for --against FOLDER (default: the baseline's).")
    ] = None,
    use_recorded: UseRecordedOption = False,
    threshold: Annotated[
        float, typer.Option(help="Median time ratio above which a kernel counts as slower.")
    ] = 1.10,
    threshold_for: Annotated[
        list[str] | None,
        typer.Option("--threshold-for", metavar="TASK=RATIO", help="Per-task threshold."),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a Markdown report here.")] = None,
    jobs: Annotated[
        int, typer.Option("-j", "--jobs", help="Evaluations at once for --against FOLDER.")
    ] = 1,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compare kernels against a baseline.

    Exit 0 clean, 1 slower, 4 newly broken, 5 not comparable; 2 bad usage, 3 infrastructure.
    """
    try:
        _regress(
            baseline, against, suite, backend, use_recorded, threshold, threshold_for or [],
            junit, markdown, jobs, db, as_json,
        )  # fmt: skip
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as exc:
        # A traceback exits 1, which a CI job reads as "slower": whatever went wrong is one line
        # and exit 3, the status of a check that could not be made.
        reason = str(exc).splitlines()[0] if str(exc) else ""
        fail(f"regress failed: {type(exc).__name__}: {reason[:300]}", EXIT_INFRA)


def _regress(
    baseline: str,
    against: str,
    suite: str | None,
    backend: str | None,
    use_recorded: bool,
    threshold: float,
    threshold_for: list[str],
    junit: Path | None,
    markdown: Path | None,
    jobs: int,
    db: str | None,
    as_json: bool,
) -> None:
    from kernelwright.runs.regress import compare, render_markdown, write_junit

    if not math.isfinite(threshold) or threshold < 1.0:
        fail("--threshold must be at least 1.0 (1.10 means 10% slower)")
    if jobs < 1:
        fail("-j/--jobs must be at least 1")
    overrides = _parse_threshold_overrides(threshold_for)
    with open_store(db, EXIT_INFRA) as store:
        base_records, facts, base_name = _baseline(store, baseline)
        cand_records, cand_name = _against(
            store, against, facts, base_name, suite, backend, use_recorded, jobs, as_json
        )
    thresholds = _match_task_ids(overrides, set(base_records) | set(cand_records))
    result = compare(
        base_records,
        cand_records,
        threshold=threshold,
        thresholds=thresholds,
        baseline_name=base_name,
        candidate_name=cand_name,
    )
    try:
        if junit is not None:
            write_junit(result, junit)
        if markdown is not None:
            write_file_afresh(markdown, render_markdown(result))
    except StoreError as exc:
        fail(str(exc))
    if as_json:
        print_json(result.to_json())
    else:
        out.print(_regress_table(result))
        say(result.summary)
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    """Add ``bench``, ``runs``, ``leaderboard`` and ``regress`` to the main app."""
    app.command("bench")(bench)
    app.add_typer(runs_app, name="runs")
    app.command("leaderboard")(leaderboard_cmd)
    app.command("regress")(regress)
