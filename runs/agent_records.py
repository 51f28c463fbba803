"""What an agent run reads back from the store: replies it already paid for (the response
cache), verdicts it already has, the lineage of its candidates and its spend.

A resumed or repeated run is driven again from the start; every LLM request whose key is stored
is answered from the store, and every candidate with a done evaluation keeps its verdict, so
nothing finished is paid for or measured twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from kernelwright.runs.models import Candidate, Evaluation, LLMCall
from kernelwright.runs.store import Store, _figure, _optional_text, _text, source_hash

# Replies that a later request may reuse: the call came back (whatever the agent made of it).
REUSABLE = ("ok", "no_code", "malformed")


@dataclass(frozen=True)
class StoredCall:
    id: int
    run_id: int
    candidate_id: int | None
    role: str
    provider: str
    model: str
    tag: str | None
    request_key: str | None
    prompt: str
    response: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_s: float | None
    outcome: str | None
    attempts: int | None
    cached_from: int | None
    created: datetime | None

    def to_json(self, with_text: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "candidate_id": self.candidate_id,
            "role": self.role,
            "provider": self.provider,
            "model": self.model,
            "tag": self.tag,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "latency_s": self.latency_s,
            "outcome": self.outcome,
            "attempts": self.attempts,
            "cached_from": self.cached_from,
            "created": self.created.isoformat() if self.created else None,
        }
        if with_text:
            data.update(prompt=self.prompt, response=self.response)
        return data


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _call(row: LLMCall) -> StoredCall:
    return StoredCall(
        id=row.id,
        run_id=row.run_id,
        candidate_id=_int(row.candidate_id),
        role=_text(row.role),
        provider=_text(row.provider),
        model=_text(row.model),
        tag=_optional_text(row.tag),
        request_key=_optional_text(row.request_key),
        prompt=_text(row.prompt),
        response=_text(row.response),
        prompt_tokens=_int(row.prompt_tokens),
        completion_tokens=_int(row.completion_tokens),
        cost_usd=_figure(row.cost_usd),
        latency_s=_figure(row.latency_s),
        outcome=_optional_text(row.outcome),
        attempts=_int(row.attempts),
        cached_from=_int(row.cached_from),
        created=row.created if isinstance(row.created, datetime) else None,
    )


def reply_for(store: Store, request_key: str, run_id: int | None = None) -> StoredCall | None:
    """A stored reply to the request with ``request_key``: from run ``run_id`` when given (a
    resume, or a replay of that run), else from any run (the response cache). The first call
    made with that key wins."""
    query = select(LLMCall).where(LLMCall.request_key == request_key, LLMCall.outcome.in_(REUSABLE))
    if run_id is not None:
        query = query.where(LLMCall.run_id == run_id)
    with store._sessions() as session:
        row = session.scalars(query.order_by(LLMCall.id).limit(1)).first()
        return _call(row) if row is not None else None


def stored_call(store: Store, request_key: str, run_id: int) -> StoredCall | None:
    """The first call of run ``run_id`` made with ``request_key``, whatever became of it."""
    query = (
        select(LLMCall)
        .where(LLMCall.request_key == request_key, LLMCall.run_id == run_id)
        .order_by(LLMCall.id)
        .limit(1)
    )
    with store._sessions() as session:
        row = session.scalars(query).first()
        return _call(row) if row is not None else None


def run_calls(store: Store, run_id: int) -> list[StoredCall]:
    """Every LLM call of a run, in the order they were recorded."""
    with store._sessions() as session:
        rows = session.scalars(
            select(LLMCall).where(LLMCall.run_id == run_id).order_by(LLMCall.id)
        ).all()
        return [_call(row) for row in rows]


def done_record(store: Store, run_id: int, task_id: str, source: str) -> dict[str, Any] | None:
    """The verdict record of the first done evaluation of ``source`` for ``task_id`` in the
    run (the one every proposal of that source got when it was measured); an ``infra_error``
    does not count."""
    digest = source_hash(source)
    with store._sessions() as session:
        record = session.scalars(
            select(Evaluation.verdict)
            .join(Candidate, Candidate.id == Evaluation.candidate_id)
            .where(
                Evaluation.run_id == run_id,
                Evaluation.task_id == task_id,
                Evaluation.state == "done",
                # An infrastructure failure is no verdict on the source: it is measured again.
                func.coalesce(Evaluation.status, "infra_error") != "infra_error",
                Candidate.source_hash == digest,
            )
            .order_by(Evaluation.id)
            .limit(1)
        ).first()
    return record if isinstance(record, dict) else None


@dataclass(frozen=True)
class LineageNode:
    candidate_id: int
    task_id: str
    parent_id: int | None
    origin: str
    status: str | None
    speedup: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate_id": self.candidate_id,
            "task_id": self.task_id,
            "parent_id": self.parent_id,
            "origin": self.origin,
            "status": self.status,
            "speedup_eager": self.speedup,
        }


def lineage(store: Store, run_id: int) -> list[LineageNode]:
    """Every candidate of the run with its parent and its latest verdict, in creation order."""
    latest = (
        select(Evaluation.candidate_id, func.max(Evaluation.id).label("eval_id"))
        .where(Evaluation.run_id == run_id, Evaluation.state == "done")
        .group_by(Evaluation.candidate_id)
        .subquery()
    )
    query = (
        select(Candidate, Evaluation.status, Evaluation.speedup_eager)
        .outerjoin(latest, latest.c.candidate_id == Candidate.id)
        .outerjoin(Evaluation, Evaluation.id == latest.c.eval_id)
        .where(Candidate.run_id == run_id)
        .order_by(Candidate.id)
    )
    with store._sessions() as session:
        rows = session.execute(query).all()
    return [
        LineageNode(
            candidate_id=candidate.id,
            task_id=_text(candidate.task_id),
            parent_id=_int(candidate.parent_id),
            origin=_text(candidate.origin),
            status=_optional_text(status),
            speedup=_figure(speedup),
        )
        for candidate, status, speedup in rows
    ]


@dataclass(frozen=True)
class Spend:
    calls: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "cached": self.cached,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "latency_s": round(self.latency_s, 3),
        }


def spend(store: Store, run_id: int) -> Spend:
    """What a run's LLM calls cost: calls made, calls answered from the cache, tokens, dollars
    (None when no call had a known price) and the summed latency."""
    calls = run_calls(store, run_id)
    costs = [c.cost_usd for c in calls if c.cost_usd is not None]
    return Spend(
        calls=len(calls),
        cached=sum(1 for c in calls if c.cached_from is not None),
        prompt_tokens=sum(c.prompt_tokens or 0 for c in calls),
        completion_tokens=sum(c.completion_tokens or 0 for c in calls),
        cost_usd=round(sum(costs), 6) if costs else None,
        latency_s=sum(c.latency_s or 0.0 for c in calls),
    )
