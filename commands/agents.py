"""``kernelwright run``: LLM agents write kernels for a suite, verified and stored as one run.

A thin layer over ``agents.driver.run_agents``: flags to a plan, a live view of each task's
round, status, best speedup and the run's spend, and one line with an exit code on anything the
user must fix (2), an infrastructure failure (3) or an interruption (130).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from kernelwright.commands.common import (
    EXIT_INFRA,
    EXIT_INTERRUPTED,
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
from kernelwright.commands.runs import DbOption, UseRecordedOption, open_store, print_summary
from kernelwright.textsafe import term

STRATEGY_HELP = "refine (one lineage, N rounds), evolve (a population), best-of-n."


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class LiveView:
    """One row per task (its last candidate, status, best speedup) and the spend, redrawn on a
    terminal; elsewhere one line per candidate on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.rows: dict[str, dict[str, Any]] = {}
        self.spend = (0.0, 0)
        self.lock = threading.Lock()
        self.live = Live(self._table(), console=out, auto_refresh=False) if enabled else None

    def __enter__(self) -> LiveView:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _table(self) -> Table:
        cost, tokens = self.spend
        table = Table(title=f"spend ${cost:.4f}, {tokens} tokens", title_justify="left")
        for name in ("task", "candidate", "status", "best", "state"):
            table.add_column(name)
        for task, row in self.rows.items():
            best = row.get("best")
            table.add_row(
                term(task),
                term(row.get("label", "")),
                term(row.get("status", "")),
                f"{best:.3g}x" if isinstance(best, float) else "-",
                term(row.get("state", "")),
            )
        return table

    def __call__(self, event: Any) -> None:
        with self.lock:
            if event.kind == "warning":
                warn(event.message)
                return
            if event.kind == "plan":
                return
            row = self.rows.setdefault(event.task, {"state": "running"})
            if event.kind == "candidate":
                row.update(label=event.label, status=event.status, best=event.best)
                self.spend = (event.cost_usd, event.tokens)
                if not self.enabled:
                    speedup = f" {event.speedup:.3g}x" if event.speedup else ""
                    best = f", best {event.best:.3g}x" if event.best else ""
                    why = f": {event.message}" if event.message else ""
                    err.print(
                        term(
                            f"{event.task} {event.label}: {event.status}{why}{speedup}{best} "
                            f"(spend ${event.cost_usd:.4f}, {event.tokens} tokens)"
                        ),
                        soft_wrap=True,
                        highlight=False,
                    )
            elif event.kind == "stop":
                row.update(state=f"done: {event.message}", best=event.best)
                if not self.enabled:
                    err.print(term(f"{event.task}: {event.message}"), soft_wrap=True)
            if self.live is not None:
                self.live.update(self._table(), refresh=True)


def _parse_tasks(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def run_cmd(
    suite: Annotated[
        str | None, typer.Option("--suite", help="Shipped suite id or folder of task files.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="openai:MODEL, anthropic:MODEL, openai-compatible:MODEL (with --base-url), "
            "scripted:FILE or replay:RUN.",
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option(help="cpu, cuda or triton.")] = None,
    strategy: Annotated[str | None, typer.Option(help=STRATEGY_HELP)] = None,
    tasks: Annotated[
        str | None,
        typer.Option("--tasks", help="Only these tasks, comma-separated (relu,softmax)."),
    ] = None,
    rounds: Annotated[int | None, typer.Option(help="refine: rounds per task (3).")] = None,
    population: Annotated[int | None, typer.Option(help="evolve: population (4).")] = None,
    generations: Annotated[int | None, typer.Option(help="evolve: generations (3).")] = None,
    crossover: Annotated[
        float | None, typer.Option(help="evolve: chance of crossing in a second parent (0).")
    ] = None,
    n: Annotated[int | None, typer.Option("-n", help="best-of-n: candidates per task (4).")] = None,
    max_candidates: Annotated[int | None, typer.Option(help="Budget: candidates per task.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Budget: tokens for the run.")] = None,
    max_usd: Annotated[float | None, typer.Option(help="Budget: dollars for the run.")] = None,
    max_wall: Annotated[
        float | None, typer.Option(help="Budget: wall seconds for this invocation.")
    ] = None,
    target_speedup: Annotated[
        float | None, typer.Option(help="Stop a task at this speedup over eager.")
    ] = None,
    target_roofline: Annotated[
        float | None, typer.Option(help="Stop a task at this fraction of the roofline (0-1).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the strategy's choices (0).")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Server URL for openai-compatible.")
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache", help="Do not reuse replies stored by other runs (a resume still does)."
        ),
    ] = False,
    strict: StrictOption = False,
    scale: ScaleOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    retry_failed_calls: Annotated[
        bool,
        typer.Option(
            "--retry-failed-calls",
            help="On --resume, ask again the calls that failed (by default they fail again, so "
            "that the run takes the same path).",
        ),
    ] = False,
    llm_concurrency: Annotated[int, typer.Option(help="LLM calls at once.")] = 4,
    tasks_at_once: Annotated[int, typer.Option(help="Tasks searched at once.")] = 2,
    jobs: Annotated[
        int, typer.Option("-j", "--jobs", help="Evaluations at once (one on a GPU).")
    ] = 1,
    label: Annotated[str | None, typer.Option(help="Name of the run on leaderboards.")] = None,
    resume: Annotated[
        int | None,
        typer.Option(
            "--resume",
            metavar="RUN",
            help="Continue an interrupted run: stored calls and verdicts are not repeated.",
        ),
    ] = None,
    use_recorded: UseRecordedOption = False,
    fresh_baseline: FreshBaselineOption = False,
    db: DbOption = None,
    timeout: Annotated[
        float | None, typer.Option(help="Wall-clock limit in seconds for each phase.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: the run, tasks and spend.")
    ] = False,
) -> None:
    """Let an LLM write kernels for a suite: Coder, verifier and Judge, stored as one run."""
    from kernelwright.agents.driver import (
        AgentError,
        AgentInterrupted,
        AgentPlan,
        AgentStopped,
        run_agents,
    )
    from kernelwright.agents.loop import Budget
    from kernelwright.agents.providers.base import ProviderError
    from kernelwright.runs.agent_records import spend
    from kernelwright.runs.bench import run_summary

    for name, value in (("--jobs", jobs), ("--llm-concurrency", llm_concurrency)):
        if value < 1:
            fail(f"{name} must be at least 1")
    if tasks_at_once < 1:
        fail("--tasks-at-once must be at least 1")
    check_executor(executor, ray_address)
    if timeout is not None and timeout <= 0:
        fail("--timeout must be a positive number of seconds")
    if resume is None:
        if use_recorded:
            fail("--use-recorded-options goes with --resume")
        if retry_failed_calls:
            fail("--retry-failed-calls goes with --resume")
        if suite is None or model is None or backend is None:
            fail("give --suite, --model and --backend (or --resume RUN)")
    else:
        recorded_flags = {
            "--tasks": tasks,
            "--rounds": rounds,
            "--population": population,
            "--generations": generations,
            "--crossover": crossover,
            "-n": n,
            "--max-candidates": max_candidates,
            "--max-tokens": max_tokens,
            "--max-usd": max_usd,
            "--target-speedup": target_speedup,
            "--target-roofline": target_roofline,
            "--seed": seed,
            "--label": label,
        }
        given = [name for name, value in recorded_flags.items() if value is not None]
        if given:
            fail(
                f"{', '.join(given)}: run {resume}'s plan is recorded and a resume follows it "
                "(only --max-wall, the concurrency flags and --retry-failed-calls may change)"
            )
    for name, whole in (("--max-candidates", max_candidates), ("--max-tokens", max_tokens)):
        if whole is not None and whole < 1:
            fail(f"{name} must be at least 1")
    for name, number in (
        ("--max-usd", max_usd),
        ("--max-wall", max_wall),
        ("--target-speedup", target_speedup),
    ):
        if number is not None and not number > 0:
            fail(f"{name} must be positive")
    if target_roofline is not None and not 0 < target_roofline <= 1:
        fail("--target-roofline is a fraction between 0 and 1")
    budget = Budget(wall_s=max_wall)
    if resume is None:
        budget = Budget(
            candidates=max_candidates,
            tokens=max_tokens,
            usd=max_usd,
            wall_s=max_wall,
            target_speedup=target_speedup,
            target_roofline=target_roofline,
        )
    params = {
        "rounds": rounds,
        "population": population,
        "generations": generations,
        "crossover": crossover,
        "n": n,
    }
    plan = AgentPlan(
        suite=suite,
        backend=backend,
        model=model,
        strategy=strategy,
        params={k: v for k, v in params.items() if v is not None} if resume is None else None,
        budget=budget,
        tasks=_parse_tasks(tasks),
        seed=seed,
        cache=not no_cache,
        temperature=temperature,
        label=label,
        base_url=base_url,
        llm_workers=llm_concurrency,
        tasks_at_once=tasks_at_once,
        jobs=jobs,
        retry_failed=retry_failed_calls,
        strict=strict,
        scale=scale,
        executor=executor,
        ray_address=ray_address,
    )
    cfg = settings(timeout=timeout, db=db)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with open_store(cfg.db) as store:
            check_sandbox(cfg.sandbox, quiet=False)
            try:
                with LiveView(sys.stdout.isatty() and not as_json) as view:
                    outcome = run_agents(
                        store,
                        plan,
                        cfg.eval_options(fresh_baseline=fresh_baseline),
                        resume_run=resume,
                        use_recorded=use_recorded,
                        prices=cfg.prices,
                        progress=view,
                        warn=warn,
                    )
            except (AgentError, ValueError) as exc:
                fail(str(exc))
            except ProviderError as exc:
                fail(str(exc), 2 if exc.usage_error else EXIT_INFRA)
            except AgentStopped as stop:
                _exit_now(
                    f"{stop} (run {stop.run_id} is stored as interrupted; continue it with "
                    f"`kernelwright run --resume {stop.run_id}`)",
                    2 if stop.usage_error else EXIT_INFRA,
                )
            except AgentInterrupted as stop:
                _exit_now(
                    f"interrupted: run {stop.run_id} is stored as interrupted; continue it with "
                    f"`kernelwright run --resume {stop.run_id}`",
                    EXIT_INTERRUPTED,
                )
            run_id = outcome.run_id
            rows, _, _, _ = run_summary(store, run_id, pick="best")
            info = store.get_run(run_id)
            spent = spend(store, run_id)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        print_json(
            {
                "run": info.to_json(),
                "tasks": [row.to_json() for row in rows],
                "stops": outcome.stops,
                "spend": spent.to_json(),
                "paid_calls": outcome.paid_calls,
                "reused_calls": outcome.reused_calls,
                "stages": outcome.stage_times,
            }
        )
        return
    print_summary(f"run {run_id}: {info.label} on {info.backend} ({info.model})", rows, [])
    cost = f"${spent.cost_usd:.4f}" if spent.cost_usd is not None else "cost unknown"
    say(
        f"run {run_id}: {info.correct}/{info.tasks} correct; {spent.calls} LLM calls "
        f"({outcome.paid_calls} made now, {outcome.reused_calls} answered from the store), "
        f"{spent.prompt_tokens + spent.completion_tokens} tokens, {cost}"
    )
    if outcome.failed_calls:
        warn(f"{outcome.failed_calls} LLM call(s) failed; the last: {outcome.last_error}")
    verified = [row for row in rows if row.status not in ("pending", "missing")]
    if not verified and outcome.failed_calls:
        fail(f"no candidate was verified: {outcome.last_error}", EXIT_INFRA)
    if verified and all(row.status == "infra_error" for row in verified):
        raise typer.Exit(EXIT_INFRA)


def _exit_now(message: str, code: int) -> NoReturn:
    """One line and exit at once. The run is stored as interrupted and its sandboxed children
    are killed; threads still waiting on an LLM reply (up to its timeout) are not waited for."""
    err.print(Text.assemble(("error:", "bold red"), " ", term(message)), soft_wrap=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
