"""SQLAlchemy models of the run store: runs, candidates, evaluations, timing samples, LLM calls.

The Alembic revisions in ``runs/migrations/versions`` build exactly this schema; a test compares
the two, so a change here needs a new revision there.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

RUN_STATUSES = ("running", "finished", "interrupted")
EVALUATION_STATES = ("running", "done", "abandoned")
SAMPLE_KINDS = ("candidate", "eager", "compile")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware on every database.

    SQLite keeps no zone and PostgreSQL answers in the session's zone; normalizing both ways
    keeps wall-time arithmetic and report output identical across the two.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Run(Base):
    """One invocation of ``bench`` or ``run``: a suite on a backend, possibly with an agent."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    suite: Mapped[str] = mapped_column(String(500))
    backend: Mapped[str] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(200))
    strategy: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="running")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    finished: Mapped[datetime | None] = mapped_column()
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Candidate(Base):
    """One kernel source proposed for one task in one run (read from a file or written by the Coder)."""

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("run_id", "task_id", "source_hash", name="uq_candidate_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(50))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(String(50), default="file")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Evaluation(Base):
    """One verification of a candidate: written ``running`` before the child starts, ``done`` after."""

    __tablename__ = "evaluations"
    __table_args__ = (Index("ix_evaluations_run_task_state", "run_id", "task_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(20), default="running")
    status: Mapped[str | None] = mapped_column(String(30))
    correct: Mapped[bool] = mapped_column(Boolean, default=False)
    device: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    speedup_eager: Mapped[float | None] = mapped_column(Float)
    speedup_compile: Mapped[float | None] = mapped_column(Float)
    candidate_ms: Mapped[float | None] = mapped_column(Float)
    eager_ms: Mapped[float | None] = mapped_column(Float)
    compile_ms: Mapped[float | None] = mapped_column(Float)
    environment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started: Mapped[datetime] = mapped_column(default=utcnow)
    finished: Mapped[datetime | None] = mapped_column()


class TimingSample(Base):
    """One raw timing sample, so that regression tests can rank the samples themselves."""

    __tablename__ = "timing_samples"

    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    ms: Mapped[float] = mapped_column(Float)


class LLMCall(Base):
    """One request to an LLM provider with its usage, cost and latency (never a key)."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="SET NULL")
    )
    role: Mapped[str] = mapped_column(String(50))
    provider: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_s: Mapped[float | None] = mapped_column(Float)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # A hash of everything sent (provider, model, system, messages, options, tag): the response
    # cache's key, so that a resumed run or a re-run answers a request it already paid for.
    tag: Mapped[str | None] = mapped_column(String(1000))
    request_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # ok, no_code, malformed (a reply the agent could not use), or error (no reply).
    outcome: Mapped[str | None] = mapped_column(String(30))
    attempts: Mapped[int | None] = mapped_column(Integer)
    # The call of an earlier run whose reply this one reused, at no cost.
    cached_from: Mapped[int | None] = mapped_column(Integer)
