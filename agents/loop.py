"""The agent loop: tasks in, verified kernels out, every step stored.

For each task a strategy asks for candidates (``TaskSession.propose``): the Coder writes one, it
is stored with its parent, the verifier decides on it in the scheduler's build and device stages,
and, when a later round needs it, the Judge reads the verdict and advises. Several tasks run at
once, so that LLM calls, builds and device runs overlap.

Every LLM call is written to the run as soon as its reply arrives, keyed by a hash of the
request (``agents/calls.py``); every verdict as soon as it is decided. A resumed run is driven
again from the start: a request already answered in the run is answered from the store and a
candidate already verified keeps its verdict, so a run killed at any point repeats no paid call
and no finished measurement. With the cache on, a request answered in any earlier run is reused
at no cost (``cached_from``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NoReturn

from kernelwright.agents.calls import identity_digest, prompt_text, request_key
from kernelwright.agents.coder import Feedback, coder_request, extract_code
from kernelwright.agents.facts import DeviceFacts
from kernelwright.agents.judge import (
    Judgement,
    MalformedJudgement,
    fallback_judgement,
    judge_request,
    parse_judgement,
    retry_request,
)
from kernelwright.agents.providers.base import Provider, ProviderError, Request
from kernelwright.agents.strategies import Proposal, Strategy
from kernelwright.bench_tasks.task import Task
from kernelwright.runs.agent_records import REUSABLE, done_record, reply_for, spend, stored_call
from kernelwright.runs.models import LLMCall
from kernelwright.runs.scheduler import Scheduler
from kernelwright.runs.store import Store, source_hash
from kernelwright.verifier.verdict import Verdict

# Provider failures in a row (after the provider's own retries) that end the run.
MAX_FAILED_CALLS = 3


class RunStopped(Exception):
    """The whole run must stop: ``usage_error`` for what the user must fix (exit 2)."""

    def __init__(self, message: str, *, usage_error: bool = False) -> None:
        super().__init__(message)
        self.usage_error = usage_error


@dataclass(frozen=True)
class Budget:
    """Limits of a run. Rounds and candidates count per task; tokens, dollars and wall seconds
    for the whole run; a task stops early at a target speedup or fraction of the roofline."""

    candidates: int | None = None
    tokens: int | None = None
    usd: float | None = None
    wall_s: float | None = None
    target_speedup: float | None = None
    target_roofline: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class AgentEvent:
    """What the live view shows: a task's progress, its best speedup and the run's spend."""

    kind: str  # plan, task, candidate, stop, warning
    task: str = ""
    label: str = ""
    status: str = ""
    speedup: float | None = None
    best: float | None = None
    cost_usd: float = 0.0
    tokens: int = 0
    message: str = ""
    total: int = 0


@dataclass
class Node:
    """One proposal and what became of it."""

    label: str
    parent: Node | None
    source: str | None = None
    candidate_id: int | None = None
    verdict: Verdict | None = None
    note: str = ""
    judgement: Judgement | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def correct(self) -> bool:
        return self.verdict is not None and self.verdict.correct

    @property
    def speedup(self) -> float | None:
        if not self.correct or self.verdict is None:
            return None
        return self.verdict.speedup.get("eager")

    @property
    def roofline_fraction(self) -> float | None:
        if not self.correct or self.verdict is None:
            return None
        work = self.verdict.extra.get("work")
        ms = self.verdict.timing.candidate_ms
        if isinstance(work, dict) and isinstance(work.get("roofline_ms"), float) and ms:
            return float(work["roofline_ms"]) / ms
        return None


def verdict_summary(verdict: Verdict) -> str:
    """The verdict in a few lines for the Coder."""
    if verdict.correct:
        t = verdict.timing
        speedup = verdict.speedup.get("eager")
        parts = [f"correct; {t.candidate_ms:.4g} ms per call" if t.candidate_ms else "correct"]
        if t.eager_ms:
            parts.append(f"eager PyTorch {t.eager_ms:.4g} ms")
        if speedup:
            parts.append(f"speedup {speedup:.3g}x")
        return "; ".join(parts)
    reasons = [f"{v.check}: {v.detail}" for v in verdict.violations[:3]]
    tail = verdict.log.strip()[-800:]
    return f"{verdict.status}. " + ("; ".join(reasons) + "\n" if reasons else "") + tail


class AgentRun:
    """Drives the tasks of one run with one provider and one strategy."""

    def __init__(
        self,
        store: Store,
        run_id: int,
        provider: Provider,
        strategy_factory: Callable[[], Strategy],
        scheduler: Scheduler,
        facts: DeviceFacts,
        *,
        budget: Budget,
        seed: int = 0,
        cache: bool = True,
        model: str | None = None,
        temperature: float | None = None,
        tasks_at_once: int = 2,
        progress: Callable[[AgentEvent], None] | None = None,
        identity: str | None = None,
        source_identity: str | None = None,
        retry_failed: bool = False,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.provider = provider
        self.strategy_factory = strategy_factory
        self.scheduler = scheduler
        self.facts = facts
        self.budget = budget
        self.seed = seed
        self.cache = cache
        self.model = model
        self.temperature = temperature
        self.tasks_at_once = max(1, tasks_at_once)
        self.progress = progress or (lambda event: None)
        # Keys of this run's calls; and the identity under which other runs stored the replies
        # it may reuse (a replay's: the replayed run's, so that its calls are found but a
        # replayed reply is never stored under a live model's key).
        self.identity = identity or identity_digest(provider)
        self.source_identity = source_identity or self.identity
        self.retry_failed = retry_failed
        self.failed_calls = 0
        self.last_error = ""
        self._verdicts: dict[tuple[str, str], Future[Verdict]] = {}
        self.backend = scheduler.backend
        self.started = time.monotonic()
        self._write = threading.Lock()
        self._state = threading.Lock()
        self._failed_calls = 0
        self._stop: RunStopped | None = None
        spent = spend(store, run_id)
        self.cost_usd = spent.cost_usd or 0.0
        self.tokens = spent.prompt_tokens + spent.completion_tokens
        self.paid_calls = 0
        self.reused_calls = 0
        self.stops: dict[str, str] = {}

    # -- the run ---------------------------------------------------------------------------

    def run(self, tasks: list[Task]) -> dict[str, str]:
        """Drive every task; returns why each task stopped. Raises RunStopped when the whole
        run must stop (a usage error, or the provider failing again and again)."""
        self.progress(AgentEvent("plan", total=len(tasks)))
        pool = ThreadPoolExecutor(self.tasks_at_once, thread_name_prefix="kw-task")
        try:
            futures = [pool.submit(self._drive, task) for task in tasks]
            for future in futures:
                future.result()
        except BaseException:
            # Ctrl-C or a bug: tasks still running stop at their next call; the caller kills
            # the sandboxed children and marks the run interrupted.
            with self._state:
                self._stop = self._stop or RunStopped("interrupted")
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if self._stop is not None:
            raise self._stop
        return dict(self.stops)

    def _drive(self, task: Task) -> None:
        if self._stop is not None:
            return
        session = TaskSession(self, task)
        self.progress(AgentEvent("task", task=task.id))
        try:
            self.strategy_factory().run(session)
            reason = session.stop_reason() or "strategy finished"
        except RunStopped as stop:
            with self._state:
                if self._stop is None or stop.usage_error:
                    self._stop = stop
            reason = f"run stopped: {stop}"
        except _TaskStop as stop:
            reason = str(stop)
        self.stops[task.id] = reason
        self.progress(AgentEvent("stop", task=task.id, best=session.best_speedup(), message=reason))

    def run_budget_reason(self) -> str | None:
        b = self.budget
        if self._stop is not None:
            return "the run is stopping"
        if b.usd is not None and self.cost_usd >= b.usd:
            return f"money budget spent (${self.cost_usd:.4f} of ${b.usd:g})"
        if b.tokens is not None and self.tokens >= b.tokens:
            return f"token budget spent ({self.tokens} of {b.tokens})"
        if b.wall_s is not None and time.monotonic() - self.started >= b.wall_s:
            return f"wall-time budget spent ({b.wall_s:g} s)"
        return None

    # -- LLM calls -------------------------------------------------------------------------

    def ask(self, role: str, request: Request, candidate_id: int | None = None) -> tuple[str, int]:
        """The reply to ``request`` and the id of its stored call: from this run (a resume),
        from the cache (another run, free), or from the provider (paid, then stored at once).

        A call of this run that failed is failed again on resume, so that the run takes the
        same path and pays for nothing twice (``retry_failed`` asks such calls again)."""
        key = request_key(request, self.identity)
        with self._write:
            stored = stored_call(self.store, key, self.run_id)
        if stored is not None and stored.outcome == "error" and not self.retry_failed:
            self._failed(stored.response.removeprefix("error: "), usage=False)
        if stored is not None and stored.outcome in REUSABLE:
            with self._state:
                self.reused_calls += 1
            return stored.response, stored.id
        if self.cache:
            source_key = request_key(request, self.source_identity)
            with self._write:
                earlier = reply_for(self.store, source_key)
                if earlier is not None:
                    call_id = self.store.record_llm_call(
                        self.run_id,
                        role=role,
                        provider=earlier.provider,
                        model=earlier.model,
                        prompt=earlier.prompt,
                        response=earlier.response,
                        prompt_tokens=0,
                        completion_tokens=0,
                        cost_usd=0.0,
                        latency_s=0.0,
                        candidate_id=candidate_id,
                        tag=request.tag,
                        request_key=key,
                        outcome="ok",
                        attempts=0,
                        cached_from=earlier.id,
                    )
                    with self._state:
                        self.reused_calls += 1
                    return earlier.response, call_id
        reason = self.run_budget_reason()
        if reason is not None:
            raise _TaskStop(reason)
        try:
            reply = self.scheduler.call(self.provider.complete, request).result()
        except Exception as exc:
            usage = isinstance(exc, ProviderError) and exc.usage_error
            message = str(exc) if isinstance(exc, ProviderError) else _unexpected(exc)
            with self._write:
                self.store.record_llm_call(
                    self.run_id,
                    role=role,
                    provider=self.provider.name,
                    model=request.model or self.provider.model,
                    prompt=prompt_text(request),
                    response=f"error: {message}",
                    candidate_id=candidate_id,
                    tag=request.tag,
                    request_key=key,
                    # A refused key or unknown model is the user's to fix: asked again on resume.
                    outcome="refused" if usage else "error",
                )
            self._failed(message, usage)
        with self._write:
            call_id = self.store.record_llm_call(
                self.run_id,
                role=role,
                provider=reply.provider,
                model=reply.model,
                prompt=prompt_text(request),
                response=reply.text,
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                cost_usd=reply.cost_usd,
                latency_s=reply.latency_s,
                candidate_id=candidate_id,
                tag=request.tag,
                request_key=key,
                outcome="ok",
                attempts=reply.attempts,
            )
        with self._state:
            self._failed_calls = 0
            self.paid_calls += 1
            self.cost_usd += reply.cost_usd or 0.0
            self.tokens += reply.prompt_tokens + reply.completion_tokens
        return reply.text, call_id

    def _failed(self, message: str, usage: bool) -> NoReturn:
        """Count a failed call and raise what it means: the run stops on a usage error or on
        the MAX_FAILED_CALLS-th failure in a row; otherwise this proposal fails."""
        with self._state:
            self._failed_calls += 1
            self.failed_calls += 1
            self.last_error = message
            failed = self._failed_calls
        if usage:
            raise RunStopped(message, usage_error=True)
        if failed >= MAX_FAILED_CALLS:
            raise RunStopped(
                f"{failed} LLM calls failed in a row; the last: {message} (a resume fails them "
                "again; add --retry-failed-calls to ask them again)"
            )
        raise _CallFailed(message)

    def mark_call(self, call_id: int, outcome: str, candidate_id: int | None = None) -> None:
        """Record what became of a reply (``no_code``, ``malformed``) and its candidate."""
        with self._write, self.store._transaction() as session:
            call = session.get(LLMCall, call_id)
            if call is None or call.run_id != self.run_id:
                return
            call.outcome = outcome if call.outcome != "error" else call.outcome
            if candidate_id is not None:
                call.candidate_id = candidate_id

    # -- verification ----------------------------------------------------------------------

    def verify(self, task: Task, source: str, candidate_id: int) -> Verdict:
        """The verdict of ``source``: one per source and task in a run, however many proposals
        bring it (concurrent ones wait for the first), stored or measured now."""
        key = (task.id, source_hash(source))
        with self._state:
            pending = self._verdicts.get(key)
            owner = pending is None
            if pending is None:
                pending = self._verdicts[key] = Future()
        if not owner:
            return pending.result()
        try:
            verdict = self._verify(task, source, candidate_id)
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        pending.set_result(verdict)
        return verdict

    def _verify(self, task: Task, source: str, candidate_id: int) -> Verdict:
        with self._write:
            record = done_record(self.store, self.run_id, task.id, source)
        if record is not None:
            return Verdict.from_json(record)
        with self._write:
            evaluation_id = self.store.begin_evaluation(
                self.run_id, candidate_id, task.id, task.category
            )
        verdict = self.scheduler.verify(task, source).result()
        if self._stop is not None:
            # Cut short by the stop (its children were killed): not a verdict on the kernel.
            # The row stays running, and a resume abandons it and measures again.
            raise _TaskStop("the run is stopping")
        with self._write:
            self.store.finish_evaluation(evaluation_id, verdict.to_record())
        return verdict


def _unexpected(exc: BaseException) -> str:
    """A provider's failure that is not a ProviderError (a bug): its type and first line."""
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"the provider failed unexpectedly: {type(exc).__name__}: {text}"


class _TaskStop(Exception):
    """This task's search ends (a run budget is spent)."""


class _CallFailed(Exception):
    """One LLM call failed after its retries; the proposal is recorded as failed."""


class TaskSession:
    """What a strategy sees of one task: propose candidates, read budgets, draw random numbers."""

    def __init__(self, run: AgentRun, task: Task) -> None:
        self.run = run
        self.task = task
        self.rng = random.Random(f"{run.seed}:{task.id}")
        self.nodes: list[Node] = []
        self._lock = threading.Lock()

    def best(self) -> Node | None:
        with self._lock:
            correct = [n for n in self.nodes if n.correct]
        return max(correct, key=lambda n: n.speedup or 0.0, default=None)

    def best_speedup(self) -> float | None:
        best = self.best()
        return best.speedup if best is not None else None

    def stop_reason(self) -> str | None:
        """Why this task's search should stop now, or None."""
        run_reason = self.run.run_budget_reason()
        if run_reason is not None:
            return run_reason
        budget = self.run.budget
        with self._lock:
            count = len(self.nodes)
        if budget.candidates is not None and count >= budget.candidates:
            return f"candidate budget reached ({budget.candidates})"
        best = self.best()
        if best is not None:
            if budget.target_speedup is not None and (best.speedup or 0) >= budget.target_speedup:
                return f"target speedup reached ({best.speedup:.3g}x)"
            fraction = best.roofline_fraction
            target = budget.target_roofline
            if target is not None and fraction is not None and fraction >= target:
                return f"target fraction of the roofline reached ({fraction:.0%})"
        return None

    def _room(self) -> int | None:
        budget = self.run.budget.candidates
        if budget is None:
            return None
        with self._lock:
            return max(0, budget - len(self.nodes))

    def propose(self, proposal: Proposal) -> Node:
        """Ask the Coder for the proposal's candidate, verify it, and return it."""
        nodes = self.propose_all([proposal])
        if not nodes:
            raise _TaskStop(self.stop_reason() or "no candidate left in the budget")
        return nodes[0]

    def propose_all(self, proposals: list[Proposal]) -> list[Node]:
        """Several proposals at once (their LLM calls and verdicts overlap), in order."""
        room = self._room()
        if room is not None:
            proposals = proposals[:room]
        if not proposals:
            return []
        if len(proposals) == 1:
            return [self._propose(proposals[0])]
        with ThreadPoolExecutor(len(proposals), thread_name_prefix="kw-proposal") as pool:
            return list(pool.map(self._propose, proposals))

    def feedback(self, node: Node) -> Feedback:
        """What ``node`` teaches the next round: its verdict and the Judge's advice (asked once
        per node, when first needed)."""
        if node.source is None or node.verdict is None:
            return Feedback(
                source=node.source or "(no code)",
                verdict=node.note or "no candidate",
                advice="Answer with the complete Python file in one fenced ```python block.",
            )
        with node.lock:
            if node.judgement is None:
                node.judgement = self._judge(node)
        return Feedback(node.source, verdict_summary(node.verdict), node.judgement.advice())

    def _judge(self, node: Node) -> Judgement:
        assert node.verdict is not None and node.source is not None
        request, kind = judge_request(
            node.verdict,
            node.source,
            self.run.facts,
            tag=f"judge:{self.task.id}:{node.label}",
            model=self.run.model,
        )
        problem = ""
        for _ in range(2):  # a malformed reply is asked again once, then recorded
            try:
                text, call_id = self.run.ask("judge", request, node.candidate_id)
            except _CallFailed as exc:
                return fallback_judgement(node.verdict, f"the Judge's call failed: {exc}")
            try:
                return parse_judgement(text, kind)
            except MalformedJudgement as malformed:
                self.run.mark_call(call_id, "malformed")
                problem = str(malformed)
                request = retry_request(request, text, problem, kind)
        return fallback_judgement(node.verdict, problem)

    def _propose(self, proposal: Proposal) -> Node:
        parent = proposal.parent
        node = Node(proposal.label, parent)
        with self._lock:
            self.nodes.append(node)
        feedback = self.feedback(parent) if parent is not None else None
        history = (self.feedback(proposal.other),) if proposal.other is not None else ()
        request = coder_request(
            self.task,
            self.run.backend,
            self.run.facts,
            feedback=feedback,
            history=history,
            tag=f"coder:{self.task.id}:{proposal.label}",
            model=self.run.model,
            temperature=self.run.temperature,
        )
        try:
            text, call_id = self.run.ask("coder", request)
        except _CallFailed as exc:
            node.note = f"the Coder's call failed: {exc}"
            self._event(node, "call_failed", str(exc))
            return node
        source = extract_code(text)
        if source is None:
            node.note = "the reply held no fenced code block"
            self.run.mark_call(call_id, "no_code")
            self._event(node, "no_code")
            return node
        node.source = source
        with self.run._write:
            node.candidate_id = self.run.store.add_candidate(
                self.run.run_id,
                self.task.id,
                source,
                self.run.backend,
                origin="coder",
                parent_id=parent.candidate_id if parent is not None else None,
            )
        self.run.mark_call(call_id, "ok", node.candidate_id)
        node.verdict = self.run.verify(self.task, source, node.candidate_id)
        self._event(node, node.verdict.status)
        return node

    def _event(self, node: Node, status: str, message: str = "") -> None:
        self.run.progress(
            AgentEvent(
                "candidate",
                task=self.task.id,
                label=node.label,
                status=status,
                message=message,
                speedup=node.speedup,
                best=self.best_speedup(),
                cost_usd=self.run.cost_usd,
                tokens=self.run.tokens,
            )
        )
