"""``run_agents``: start or resume an agent run over a suite, the library face of
``kernelwright run``.

A new run records what a resume needs (suite, backend, the provider spec, strategy and its
parameters, the budget, the seed, the task ids and the evaluation options); a resumed run reads
them back, checks the user's flags against them, and drives every task again from the start (see
``agents/loop.py``: what is stored is not paid for or measured again).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from kernelwright.agents.calls import identity_digest
from kernelwright.agents.facts import device_facts, facts_from_record
from kernelwright.agents.loop import AgentEvent, AgentRun, Budget, RunStopped
from kernelwright.agents.providers.base import Provider, ProviderError, RetryPolicy, public_url
from kernelwright.agents.providers.prices import PriceLike, price_for
from kernelwright.agents.providers.registry import provider_for
from kernelwright.agents.providers.replay import ReplayProvider
from kernelwright.agents.providers.sdk import SdkProvider
from kernelwright.agents.strategies import STRATEGIES, make_strategy
from kernelwright.backends import UnknownBackend, get_backend
from kernelwright.bench_tasks import Task, TaskError, apply_scale, list_suites, scan_suite
from kernelwright.bench_tasks.task import unscaled_line
from kernelwright.runs.bench import (
    BenchError,
    build_workers,
    checked_record,
    differing_options,
    options_from_record,
    recorded_options,
    recorded_scale,
    stop_sandbox_children,
    suite_name,
    worker_limit,
)
from kernelwright.runs.ray_executor import EXECUTORS, RayEvaluator, RayUnavailable
from kernelwright.runs.scheduler import Scheduler
from kernelwright.runs.store import Store
from kernelwright.textsafe import visible
from kernelwright.verifier import EvalOptions


class AgentError(ValueError):
    """A run that cannot start as asked; one line for the user (exit 2)."""


class AgentInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a run; the run is stored as interrupted."""

    def __init__(self, run_id: int) -> None:
        super().__init__(run_id)
        self.run_id = run_id


class AgentStopped(RunStopped):
    """The run stopped before its end (see ``RunStopped``); it is stored as interrupted."""

    def __init__(self, stop: RunStopped, run_id: int) -> None:
        super().__init__(str(stop), usage_error=stop.usage_error)
        self.run_id = run_id


@dataclass(frozen=True)
class AgentPlan:
    """What the user asked for. On a resume, None fields are read from the run."""

    suite: str | None = None
    backend: str | None = None
    model: str | None = None
    strategy: str | None = None
    params: Mapping[str, Any] | None = None
    budget: Budget | None = None
    tasks: tuple[str, ...] = ()
    seed: int | None = None
    cache: bool = True
    temperature: float | None = None
    label: str | None = None
    base_url: str | None = None
    llm_workers: int = 4
    tasks_at_once: int = 2
    jobs: int = 1
    retry_failed: bool = False
    strict: bool = False  # a suite file that does not load is an error, not a skipped line
    scale: str | None = None  # the size preset tasks that have it run at (``--scale``)
    executor: str = "local"  # or "ray": evaluations on a Ray cluster (LLM calls stay here)
    ray_address: str | None = None


@dataclass(frozen=True)
class AgentOutcome:
    run_id: int
    stops: dict[str, str]
    stage_times: dict[str, Any]
    paid_calls: int
    reused_calls: int
    failed_calls: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class _Recorded:
    """What a resumed run keeps from its record: the identity its calls were keyed with and the
    device facts its prompts told, so that its requests are the same ones again."""

    options: dict[str, Any]
    identity: str
    facts: dict[str, Any]


_IDENTITY = re.compile(r"[0-9a-f]{32}")
MAX_SPEC = 200  # runs.model and runs.label are 200 characters wide


def checked_base_url(url: str | None) -> str | None:
    """A --base-url the SDKs can use: http(s) with a host; else AgentError."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here, not deep in the SDK
    except ValueError as exc:
        raise AgentError(f"--base-url {visible(url)} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise AgentError(f"--base-url must be an http(s) URL with a host, not {visible(url)}")
    return url


def _checked_budget(run_id: int, budget: dict[str, Any]) -> Budget:
    """A recorded budget, each limit checked as the flags are; else AgentError."""
    whole = {"candidates", "tokens"}
    fields: dict[str, Any] = {}
    for name in Budget().__dict__:
        value = budget.get(name)
        if value is None:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value <= 0:
            raise AgentError(f"run {run_id} holds a malformed budget ({name})")
        if name in whole and not isinstance(value, int):
            raise AgentError(f"run {run_id} holds a malformed budget ({name})")
        if name == "target_roofline" and value > 1:
            raise AgentError(f"run {run_id} holds a malformed budget ({name})")
        fields[name] = value
    return Budget(**fields)


def make_provider(
    spec: str,
    store: Store,
    *,
    base_url: str | None,
    keys: Mapping[str, str] | None = None,
    prices: Mapping[str, PriceLike] | None = None,
    retry: RetryPolicy | None = None,
) -> tuple[Provider, str]:
    """The provider of ``spec`` and the identity under which earlier runs stored the replies it
    may reuse: its own, or for ``replay:RUN`` the replayed run's."""
    prefix, _, rest = spec.partition(":")
    if prefix == "replay":
        if not rest.strip().isdigit():
            raise ProviderError("replay needs a run id: replay:<run>", usage_error=True)
        replay = ReplayProvider(store, int(rest))
        return replay, replay.identity
    provider = provider_for(spec, base_url=base_url, keys=keys, prices=prices, retry=retry)
    return provider, identity_digest(provider)


def _check_price(
    provider: Provider, budget: Budget, prices: Mapping[str, PriceLike] | None
) -> None:
    """A money budget needs a price for the model: without one every call would count $0."""
    if budget.usd is None or not isinstance(provider, SdkProvider):
        return
    if price_for(provider.model, {**provider.prices, **(prices or {})}) is None:
        raise AgentError(
            f"--max-usd needs a price for {visible(provider.model)}: add it to the config file "
            f'under [prices] ("{visible(provider.model)}" = [input, output] USD per million tokens)'
        )


def _select_tasks(
    suite: str,
    wanted: tuple[str, ...],
    strict: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    scale: str | None = None,
) -> list[Task]:
    try:
        tasks, failed = scan_suite(suite, strict=strict)
        tasks, unscaled = apply_scale(tasks, scale)
    except TaskError as exc:
        raise AgentError(str(exc)) from None
    for bad in failed:
        warn(f"skipped {visible(bad.line())}")
    chosen = _chosen(suite, tasks, wanted)
    lacking = [t.id for t in chosen if t.id in unscaled]
    if lacking:
        warn(visible(unscaled_line(scale, lacking)))
    return chosen


def _chosen(suite: str, tasks: list[Task], wanted: tuple[str, ...]) -> list[Task]:
    if not wanted:
        return tasks
    by_name = {t.id: t for t in tasks} | {t.stem: t for t in tasks}
    missing = [w for w in wanted if w not in by_name]
    if missing:
        raise AgentError(
            f"no task {', '.join(map(visible, missing))} in suite {visible(suite_name(suite))}"
        )
    chosen: list[Task] = []
    for w in wanted:
        if by_name[w] not in chosen:
            chosen.append(by_name[w])
    return chosen


def _resumed_plan(store: Store, run_id: int, plan: AgentPlan) -> tuple[AgentPlan, _Recorded]:
    """The recorded plan of run ``run_id``, with the user's flags checked against it."""
    info = store.get_run(run_id)
    agent = info.options.get("agent")
    if info.options.get("kind") != "run" or not isinstance(agent, dict):
        raise AgentError(f"run {run_id} is not an agent run (resume a bench with bench --resume)")
    if plan.suite is not None and suite_name(plan.suite) != info.suite:
        raise AgentError(f"run {run_id} ran suite {visible(info.suite)}, not {plan.suite}")
    try:
        scale = recorded_scale(info.options, f"run {run_id}")
    except BenchError as exc:
        raise AgentError(str(exc)) from None
    if plan.scale is not None and plan.scale != scale:
        shown = f"scale {visible(scale)}" if scale else "no --scale"
        raise AgentError(f"run {run_id} ran with {shown}, not --scale {plan.scale}")
    if plan.suite is None and info.suite not in list_suites():
        raise AgentError(
            f"run {run_id} ran the task folder {visible(info.suite)}: pass --suite with that "
            "folder to load its task files"
        )
    for name, given, stored in (
        ("backend", plan.backend, info.backend),
        ("model", plan.model, info.model),
        ("strategy", plan.strategy, info.strategy),
    ):
        if given is not None and given != stored:
            raise AgentError(f"run {run_id} ran with {name} {visible(stored or '?')}, not {given}")
    tasks = agent.get("tasks")
    params = agent.get("params")
    budget = agent.get("budget")
    seed = agent.get("seed")
    if (
        not isinstance(tasks, list)
        or not all(isinstance(t, str) for t in tasks)
        or not isinstance(params, dict)
        or not isinstance(budget, dict)
        or not isinstance(seed, int)
        or not isinstance(info.model, str)
        or info.strategy not in STRATEGIES
    ):
        raise AgentError(f"run {run_id} holds a malformed agent record; it cannot be resumed")
    recorded_budget = _checked_budget(run_id, budget)
    if plan.budget is not None and plan.budget.wall_s is not None:
        recorded_budget = replace(recorded_budget, wall_s=plan.budget.wall_s)
    temperature = agent.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, (int, float)) or isinstance(temperature, bool)
    ):
        raise AgentError(f"run {run_id} holds a malformed temperature")
    if plan.temperature is not None and plan.temperature != temperature:
        raise AgentError(
            f"run {run_id} ran with temperature {temperature}, not {plan.temperature}: "
            "a resumed run asks what it asked before"
        )
    identity = agent.get("identity")
    facts = agent.get("facts")
    if not isinstance(identity, str) or not _IDENTITY.fullmatch(identity):
        raise AgentError(f"run {run_id} holds a malformed agent record; it cannot be resumed")
    stored_url = agent.get("base_url")
    if info.model.startswith("openai-compatible:") and plan.base_url is None:
        shown = visible(stored_url) if isinstance(stored_url, str) else "a server"
        raise AgentError(
            f"run {run_id} asked {shown}: pass --base-url again (a URL read from the run store "
            "is never sent a key)"
        )
    resumed = AgentPlan(
        suite=plan.suite or info.suite,
        backend=info.backend,
        model=info.model,
        strategy=info.strategy,
        params=params,
        budget=recorded_budget,
        tasks=tuple(tasks),
        seed=seed,
        cache=plan.cache and agent.get("cache", True) is True,
        temperature=temperature,
        label=info.label,
        base_url=plan.base_url,
        llm_workers=plan.llm_workers,
        tasks_at_once=plan.tasks_at_once,
        jobs=plan.jobs,
        retry_failed=plan.retry_failed,
        scale=scale,
        executor=plan.executor,  # where the rest is evaluated: the user's choice now
        ray_address=plan.ray_address,
    )
    return resumed, _Recorded(info.options, identity, facts if isinstance(facts, dict) else {})


def run_agents(
    store: Store,
    plan: AgentPlan,
    options: EvalOptions,
    *,
    resume_run: int | None = None,
    use_recorded: bool = False,
    keys: Mapping[str, str] | None = None,
    prices: Mapping[str, PriceLike] | None = None,
    retry: RetryPolicy | None = None,
    progress: Callable[[AgentEvent], None] | None = None,
    warn: Callable[[str], None] = lambda message: None,
    provider: Provider | None = None,
) -> AgentOutcome:
    """Run (or resume) the agents; raises AgentError or ProviderError (usage: exit 2) and
    RunStopped; Ctrl-C leaves the run ``interrupted`` and propagates. ``provider`` stands in
    for the one ``plan.model`` names (benchmarks: a scripted provider with latency)."""
    recorded: _Recorded | None = None
    if resume_run is not None:
        plan, recorded = _resumed_plan(store, resume_run, plan)
        try:
            options = options_from_record(
                recorded.options.get("eval"),
                options,
                f"run {resume_run}",
                use_recorded=use_recorded,
            )
        except BenchError as exc:
            raise AgentError(str(exc)) from None
    if plan.suite is None or plan.backend is None or plan.model is None:
        raise AgentError("a new run needs --suite, --backend and --model")
    if len(plan.model) > MAX_SPEC or len(plan.label or "") > MAX_SPEC:
        raise AgentError(f"--model and --label take at most {MAX_SPEC} characters")
    checked_base_url(plan.base_url)
    strategy_name = plan.strategy or "refine"
    params = dict(plan.params or {})
    try:
        make_strategy(strategy_name, **params)
    except (ValueError, TypeError) as exc:
        raise AgentError(str(exc)) from None
    try:
        get_backend(plan.backend)
    except UnknownBackend as exc:
        raise AgentError(str(exc)) from None
    tasks = _select_tasks(plan.suite, plan.tasks, plan.strict, warn, plan.scale)
    if provider is None:
        provider, source_identity = make_provider(
            plan.model, store, base_url=plan.base_url, keys=keys, prices=prices, retry=retry
        )
    else:
        source_identity = identity_digest(provider)
    # A new run keys its calls by its provider; a resumed one by what it recorded, so that its
    # stored calls answer it even if the server's address changed meanwhile.
    identity = identity_digest(provider) if recorded is None else recorded.identity
    if recorded is not None and not isinstance(provider, ReplayProvider):
        if identity_digest(provider) != recorded.identity:
            warn(
                f"the provider is not the one run {resume_run} recorded: its stored replies are "
                "used, new calls go to the provider named now"
            )
        source_identity = recorded.identity
    budget = plan.budget or Budget()
    _check_price(provider, budget, prices)
    seed = plan.seed if plan.seed is not None else 0
    facts = device_facts(plan.backend)
    if recorded is not None and recorded.facts:
        told = facts_from_record(recorded.facts, plan.backend)
        if told is not None:
            if told.name != facts.name:
                warn(
                    f"run {resume_run} was told of {visible(told.name)}; this is "
                    f"{visible(facts.name)}: its prompts keep the recorded device"
                )
            facts = told
    ray: RayEvaluator | None = None
    builds = build_workers(plan.backend)
    if plan.executor == "ray":
        try:
            ray = RayEvaluator(plan.ray_address, plan.backend)
            limit, builds = ray.slots()
        except RayUnavailable as exc:
            if ray is not None:
                ray.close()
            raise AgentError(str(exc)) from None
        why = f"the Ray cluster has {limit} slot(s) for backend {plan.backend}"
        device_workers = min(plan.jobs, limit) if plan.jobs > 1 else limit
    elif plan.executor == "local":
        limit, why = worker_limit(plan.backend)
        device_workers = min(plan.jobs, limit)
    else:
        raise AgentError(f"--executor {plan.executor!r}: choose from {', '.join(EXECUTORS)}")
    if device_workers < plan.jobs:
        warn(f"running {device_workers} evaluation(s) at once, not {plan.jobs}: {why}")
    if resume_run is None:
        run_id = store.create_run(
            plan.label or f"{strategy_name} {plan.model}",
            suite_name(plan.suite),
            plan.backend,
            model=plan.model,
            strategy=strategy_name,
            options={
                "kind": "run",
                "eval": recorded_options(options),
                "scale": plan.scale,
                "executor": plan.executor,
                "planned": [t.id for t in tasks],
                "agent": {
                    "identity": identity,
                    "params": params,
                    "budget": budget.to_json(),
                    "seed": seed,
                    "cache": plan.cache,
                    "temperature": plan.temperature,
                    "tasks": [t.id for t in tasks],
                    "base_url": public_url(plan.base_url) if plan.base_url else None,
                    "facts": facts.to_json(),
                },
            },
        )
    else:
        assert recorded is not None
        run_id = resume_run
        earlier = checked_record(recorded.options.get("eval"), f"run {run_id}")
        changed = differing_options(earlier, options)
        if changed:
            warn(f"resuming with your settings: {', '.join(changed)}")
        store.resume_run(run_id, recorded_options(options))
    scheduler = Scheduler(
        plan.backend,
        options,
        device_workers=device_workers,
        llm_workers=max(1, plan.llm_workers),
        build_workers=builds,
        **({} if ray is None else {"evaluate_fn": ray}),
    )
    agent = AgentRun(
        store,
        run_id,
        provider,
        lambda: make_strategy(strategy_name, **params),
        scheduler,
        facts,
        budget=budget,
        seed=seed,
        cache=plan.cache,
        temperature=plan.temperature,
        tasks_at_once=plan.tasks_at_once,
        progress=progress,
        identity=identity,
        source_identity=source_identity,
        retry_failed=plan.retry_failed,
    )
    try:
        stops = agent.run(tasks)
    except BaseException as exc:
        # Verdicts cut short are not stored: their rows stay running, and a resume redoes them.
        scheduler.shutdown(cancel=True)
        if ray is not None:
            ray.cancel()
        stop_sandbox_children()
        store.finish_run(run_id, "interrupted")
        if isinstance(exc, RunStopped):
            raise AgentStopped(exc, run_id) from None
        if isinstance(exc, KeyboardInterrupt):
            raise AgentInterrupted(run_id) from None
        raise
    finally:
        if ray is not None:
            ray.close()
    scheduler.shutdown()
    store.finish_run(run_id, "finished")
    return AgentOutcome(
        run_id=run_id,
        stops=stops,
        stage_times=scheduler.stage_times(),
        paid_calls=agent.paid_calls,
        reused_calls=agent.reused_calls,
        failed_calls=agent.failed_calls,
        last_error=agent.last_error,
    )
