"""The run store: every run, candidate, evaluation, timing sample and LLM call, in one database.

Within a run the parent process is the only writer; several runs (and readers) may share one
store. An evaluation is committed as ``running`` before its child starts and finished in one
transaction after, so a killed run loses nothing it reported as done and a resumed run redoes
only what was in flight. A run records its writer process, so that a run whose writer died is
listed as ``interrupted``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from kernelwright.runs.database import (
    WRITE_OPTION,
    StoreError,
    open_database,
    redact,
    resolve_db_url,
)
from kernelwright.runs.models import (
    RUN_STATUSES,
    Candidate,
    Evaluation,
    LLMCall,
    Run,
    TimingSample,
    utcnow,
)

if TYPE_CHECKING:
    from kernelwright.verifier.verdict import Verdict

Pick = Literal["latest", "best"]
P = ParamSpec("P")
R = TypeVar("R")
EXPORT_FORMAT = "kernelwright.results/1"
# The key of ``runs.options`` that names the process writing the run (see ``writer_identity``).
WRITER_KEY = "writer"
# Linux's largest pid (pid_max can be at most 2**22); a stored pid beyond it is no process.
PID_MAX = 1 << 22


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None, so that it is strict JSON everywhere."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot; None when it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # Field 2, the command name, may hold spaces and parentheses: the fields follow its last ')'.
    fields = text[text.rfind(")") + 1 :].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19]) if fields[19].isdigit() else None


@functools.lru_cache(maxsize=1)
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _pid_namespace() -> int | None:
    # Containers on one host share its boot id; a pid means something only in its own namespace.
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None


def writer_identity() -> dict[str, Any]:
    """This process as a run's writer: boot id, pid namespace, pid and start time (no host name).

    The start time tells a reused pid from the writer; all four are None-able off Linux.
    """
    pid = os.getpid()
    return {
        "boot_id": _boot_id(),
        "pid_ns": _pid_namespace(),
        "pid": pid,
        "start": _process_start(pid),
    }


def writer_alive(writer: dict[str, Any] | None) -> bool | None:
    """Whether a recorded writer still runs: None when this process cannot tell.

    Only a writer on this boot and in this pid namespace can be checked; a run written on another
    machine or in another container stays as stored. ``writer`` comes from the store: any shape.
    """
    me = writer_identity()
    if not isinstance(writer, dict) or me["boot_id"] is None or me["pid_ns"] is None:
        return None
    if writer.get("boot_id") != me["boot_id"] or writer.get("pid_ns") != me["pid_ns"]:
        return None
    pid, start = writer.get("pid"), writer.get("start")
    if type(pid) is not int or not 0 < pid <= PID_MAX or type(start) is not int:
        return None
    now = _process_start(pid)
    if now is not None:
        return now == start
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the pid exists
    except ProcessLookupError:
        return False
    except OSError:
        return None  # it exists but /proc hides it (hidepid): it cannot be told apart
    return None


def _same_writer(writer: Any, other: dict[str, Any]) -> bool:
    keys = ("boot_id", "pid_ns", "pid", "start")
    return isinstance(writer, dict) and all(writer.get(k) == other[k] for k in keys)


def write_file_afresh(path: Path | str, text: str) -> Path:
    """``write_afresh`` for one path: a report or an export named by the user."""
    path = Path(path)
    return write_afresh(path.parent, path.name, [text])


def write_afresh(folder: Path, name: str, chunks: Iterable[str]) -> Path:
    """Write ``folder/name`` as a new file renamed over the name: a link there is replaced, not
    followed, and a failed write leaves neither a partial file nor a temporary one behind."""
    path = folder / name
    temp: str | None = None
    dir_fd: int | None = None
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        temp = f".{name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temp, flags, 0o666, dir_fd=dir_fd)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        temp = None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise StoreError(f"cannot write {path}: {reason}") from None
    finally:
        if dir_fd is not None:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp, dir_fd=dir_fd)
            os.close(dir_fd)
    return path


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class RunInfo:
    """One run with the counts that listings and leaderboards show."""

    id: int
    label: str
    suite: str
    backend: str
    model: str | None
    strategy: str | None
    status: str
    created: datetime
    finished: datetime | None
    options: dict[str, Any] = field(default_factory=dict)
    tasks: int = 0
    correct: int = 0
    evaluations: int = 0
    cost_usd: float | None = None
    last_activity: datetime | None = None
    # The process that created or last resumed the run (``writer_identity``), when recorded.
    writer: dict[str, Any] | None = None

    @property
    def wall_s(self) -> float | None:
        """Seconds from creation to the end of the run (or its last finished evaluation)."""
        end = self.finished or self.last_activity
        return (end - self.created).total_seconds() if end else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(created=_iso(self.created), finished=_iso(self.finished))
        data.update(last_activity=_iso(self.last_activity), wall_s=self.wall_s)
        return data


@dataclass(frozen=True)
class TaskResult:
    """The evaluation that stands for one task of a run, with its verdict record and source."""

    run_id: int
    task_id: str
    evaluation_id: int
    candidate_id: int
    status: str
    correct: bool
    record: dict[str, Any]
    source: str = ""
    category: str | None = None
    speedup_eager: float | None = None
    speedup_compile: float | None = None
    candidate_ms: float | None = None
    eager_ms: float | None = None
    environment: dict[str, Any] | None = None
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def device(self) -> str:
        env_device = (self.environment or {}).get("device")
        return str(env_device or self.record.get("device") or "unknown")

    def verdict(self) -> Verdict:
        """The stored record as a ``Verdict`` (imported late: the verifier package loads torch)."""
        from kernelwright.verifier.verdict import Verdict

        return Verdict.from_json(self.record)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(started=_iso(self.started), finished=_iso(self.finished))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskResult:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values.update(
            started=_parse_time(data.get("started")), finished=_parse_time(data.get("finished"))
        )
        return cls(**values)


def _summary_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The evaluation columns that reports filter and sort on, read from a verdict record."""
    timing = record.get("timing") or {}
    speedup = record.get("speedup") or {}
    extra = record.get("extra") or {}
    return {
        "status": record.get("status"),
        "correct": record.get("status") == "correct",
        "device": record.get("device"),
        "speedup_eager": speedup.get("eager"),
        "speedup_compile": speedup.get("compile"),
        "candidate_ms": timing.get("candidate_ms"),
        "eager_ms": timing.get("eager_ms"),
        "compile_ms": timing.get("compile_ms"),
        "environment": extra.get("environment"),
    }


def _sample_rows(evaluation_id: int, record: dict[str, Any]) -> list[dict[str, Any]]:
    detail = (record.get("extra") or {}).get("timing_detail") or {}
    kinds = {
        "candidate": (record.get("timing") or {}).get("samples"),
        "eager": detail.get("eager_samples"),
        "compile": detail.get("compile_samples"),
    }
    rows = []
    for kind, samples in kinds.items():
        for idx, ms in enumerate(samples or []):
            if ms is not None:
                rows.append({"evaluation_id": evaluation_id, "kind": kind, "idx": idx, "ms": ms})
    return rows


def _pick(candidates: list[tuple[int, bool, float | None]], pick: Pick) -> int:
    """The evaluation id that stands for a task: the latest, or the fastest correct one."""
    if pick == "best":
        correct = [c for c in candidates if c[1]]
        if correct:
            return max(correct, key=lambda c: (c[2] if c[2] is not None else -math.inf, c[0]))[0]
    return max(c[0] for c in candidates)


def _malformed_is_store_error(read: Callable[P, R]) -> Callable[P, R]:
    """A read that meets a row no kernelwright wrote (a date that is no date, a count that is
    text) raises one ``StoreError`` line instead of a traceback."""

    @functools.wraps(read)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return read(*args, **kwargs)
        except (ValueError, TypeError, OverflowError, KeyError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"the run store holds a malformed row: {reason[:200]}") from None

    return checked


class Store:
    """A connection to the run store; opening it applies any pending migrations."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = resolve_db_url(url)
        self.engine = open_database(self.url, migrate=migrate)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({redact(self.url)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A writing transaction; on SQLite it takes the write lock at BEGIN (IMMEDIATE)."""
        with self._sessions.begin() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            yield session

    # -- writing -------------------------------------------------------------------------

    def create_run(
        self,
        label: str,
        suite: str,
        backend: str,
        model: str | None = None,
        strategy: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> int:
        """Record a new run in state ``running``, written by this process, and return its id."""
        recorded = finite(dict(options or {}))
        recorded[WRITER_KEY] = writer_identity()
        run = Run(
            label=label,
            suite=suite,
            backend=backend,
            model=model,
            strategy=strategy,
            status="running",
            options=recorded,
        )
        with self._transaction() as session:
            session.add(run)
            session.flush()
            return run.id

    def add_candidate(
        self,
        run_id: int,
        task_id: str,
        source: str,
        backend: str,
        origin: str = "file",
        parent_id: int | None = None,
    ) -> int:
        """Record a candidate source; the same source for the same task and run is stored once."""
        digest = source_hash(source)
        with self._transaction() as session:
            existing = session.scalar(
                select(Candidate.id).where(
                    Candidate.run_id == run_id,
                    Candidate.task_id == task_id,
                    Candidate.source_hash == digest,
                )
            )
            if existing is not None:
                return existing
            candidate = Candidate(
                run_id=run_id,
                task_id=task_id,
                source=source,
                source_hash=digest,
                backend=backend,
                origin=origin,
                parent_id=parent_id,
            )
            session.add(candidate)
            session.flush()
            return candidate.id

    def begin_evaluation(
        self, run_id: int, candidate_id: int, task_id: str, category: str | None = None
    ) -> int:
        """Commit an evaluation in state ``running``; call before the child process starts."""
        evaluation = Evaluation(
            run_id=run_id,
            candidate_id=candidate_id,
            task_id=task_id,
            category=category,
            state="running",
            correct=False,
        )
        with self._transaction() as session:
            session.add(evaluation)
            session.flush()
            return evaluation.id

    def finish_evaluation(self, evaluation_id: int, record: dict[str, Any]) -> None:
        """Store a verdict record, its summary columns and every raw timing sample, atomically."""
        record = finite(record)
        with self._transaction() as session:
            evaluation = session.get(Evaluation, evaluation_id, with_for_update=True)
            if evaluation is None:
                raise StoreError(f"no evaluation {evaluation_id} in the run store")
            if evaluation.state != "running":
                raise StoreError(f"evaluation {evaluation_id} is {evaluation.state}, not running")
            for name, value in _summary_columns(record).items():
                setattr(evaluation, name, value)
            category = (record.get("extra") or {}).get("category")
            evaluation.category = category or evaluation.category
            evaluation.verdict = record
            evaluation.state = "done"
            evaluation.finished = utcnow()
            rows = _sample_rows(evaluation_id, record)
            if rows:
                session.execute(insert(TimingSample), rows)

    def finish_run(self, run_id: int, status: str = "finished") -> None:
        """Mark a run ``finished`` or ``interrupted``."""
        if status not in RUN_STATUSES or status == "running":
            raise StoreError(f"a run ends as finished or interrupted, not {status!r}")
        with self._transaction() as session:
            run = self._run(session, run_id)
            run.status = status
            run.finished = utcnow()

    def resume_run(self, run_id: int, eval_options: dict[str, Any] | None = None) -> set[str]:
        """Reopen a run: abandon evaluations a killed process left running; return the done tasks.

        Refuses a run that another live process on this machine is still writing. With
        ``eval_options`` (the options the rest of the run is evaluated with), a run that recorded
        others keeps them under ``eval_before`` and records these, so that the run says how its
        later evaluations were checked.
        """
        me = writer_identity()
        with self._transaction() as session:
            run = self._run(session, run_id)
            options = dict(run.options) if isinstance(run.options, dict) else {}
            writer: dict[str, Any] = options.get(WRITER_KEY) or {}
            if run.status == "running" and writer_alive(writer) and not _same_writer(writer, me):
                raise StoreError(
                    f"run {run_id} is still being written by process {writer['pid']} on this "
                    "machine: let it finish or stop it first"
                )
            options[WRITER_KEY] = me
            if eval_options is not None and options.get("eval") != eval_options:
                before = options.get("eval_before")
                before = before if isinstance(before, list) else []
                options["eval_before"] = [*before, options.get("eval")]
                options["eval"] = finite(dict(eval_options))
            run.options = options
            run.status = "running"
            run.finished = None
            session.execute(
                update(Evaluation)
                .where(Evaluation.run_id == run_id, Evaluation.state == "running")
                .values(state="abandoned", finished=utcnow())
            )
        return self.finished_tasks(run_id)

    def record_llm_call(
        self,
        run_id: int,
        *,
        role: str,
        provider: str,
        model: str,
        prompt: str,
        response: str,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cost_usd: float | None = None,
        latency_s: float | None = None,
        candidate_id: int | None = None,
        tag: str | None = None,
        request_key: str | None = None,
        outcome: str | None = None,
        attempts: int | None = None,
        cached_from: int | None = None,
    ) -> int:
        """Record one LLM request and its reply, usage, cost and latency (never a key)."""
        call = LLMCall(
            run_id=run_id,
            candidate_id=candidate_id,
            role=role,
            provider=provider,
            model=model,
            prompt=prompt,
            response=response,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd,
            latency_s=latency_s,
            tag=tag,
            request_key=request_key,
            outcome=outcome,
            attempts=attempts,
            cached_from=cached_from,
        )
        with self._transaction() as session:
            session.add(call)
            session.flush()
            return call.id

    # -- reading -------------------------------------------------------------------------

    def _run(self, session: Session, run_id: int) -> Run:
        run = session.get(Run, run_id)
        if run is None:
            raise StoreError(f"no run {run_id} in the run store {redact(self.url)}")
        return run

    def finished_tasks(self, run_id: int) -> set[str]:
        """Tasks of the run that have a done evaluation with a verdict on the kernel (a resumed
        run skips them); an ``infra_error`` is no such verdict (a lost node, a failed parent),
        so a resume evaluates its task again."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Evaluation.task_id)
                .where(
                    Evaluation.run_id == run_id,
                    Evaluation.state == "done",
                    func.coalesce(Evaluation.status, "infra_error") != "infra_error",
                )
                .distinct()
            )
            return set(rows)

    @_malformed_is_store_error
    def list_runs(self, run_ids: Iterable[int] | None = None) -> list[RunInfo]:
        """Runs (all, or those named) in creation order, with task, correctness and cost counts."""
        done = Evaluation.state == "done"
        evaluations = (
            select(
                Evaluation.run_id.label("run_id"),
                func.count(func.distinct(case((done, Evaluation.task_id)))).label("tasks"),
                func.count(
                    func.distinct(case((done & Evaluation.correct, Evaluation.task_id)))
                ).label("correct"),
                func.count(case((done, Evaluation.id))).label("evaluations"),
                func.max(Evaluation.finished).label("last_activity"),
            )
            .group_by(Evaluation.run_id)
            .subquery()
        )
        costs = (
            select(LLMCall.run_id.label("run_id"), func.sum(LLMCall.cost_usd).label("cost"))
            .group_by(LLMCall.run_id)
            .subquery()
        )
        query = (
            select(Run, evaluations, costs.c.cost)
            .outerjoin(evaluations, evaluations.c.run_id == Run.id)
            .outerjoin(costs, costs.c.run_id == Run.id)
            .order_by(Run.id)
        )
        if run_ids is not None:
            query = query.where(Run.id.in_(list(run_ids)))
        with self._sessions() as session:
            rows = session.execute(query).all()
        return [self._run_info(row) for row in rows]

    @staticmethod
    def _run_info(row: Any) -> RunInfo:
        run: Run = row[0]
        last = row.last_activity
        # An aggregate over a typed column skips the type's result processing on some dialects.
        if isinstance(last, str):
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=run.created.tzinfo)
        options = dict(run.options) if isinstance(run.options, dict) else {}
        writer = options.pop(WRITER_KEY, None)
        writer = writer if isinstance(writer, dict) else None
        status = run.status
        # A run still marked running whose writer is gone was killed before it could say so.
        if status == "running" and writer_alive(writer) is False:
            status = "interrupted"
        return RunInfo(
            id=run.id,
            label=_text(run.label),
            suite=_text(run.suite),
            backend=_text(run.backend),
            model=_optional_text(run.model),
            strategy=_optional_text(run.strategy),
            status=_text(status),
            created=run.created,
            finished=run.finished,
            options=options,
            tasks=row.tasks or 0,
            correct=row.correct or 0,
            evaluations=row.evaluations or 0,
            cost_usd=_figure(row.cost),
            last_activity=last if isinstance(last, datetime) else None,
            writer=writer,
        )

    def get_run(self, run_id: int) -> RunInfo:
        """One run; raises ``StoreError`` when the store holds no run with that id."""
        runs = self.list_runs([run_id])
        if not runs:
            raise StoreError(f"no run {run_id} in the run store {redact(self.url)}")
        return runs[0]

    @_malformed_is_store_error
    def run_results(self, run_id: int, pick: Pick = "latest") -> list[TaskResult]:
        """One done evaluation per task, sorted by task id: the latest, or the fastest correct."""
        with self._sessions() as session:
            self._run(session, run_id)
            done = session.execute(
                select(
                    Evaluation.task_id, Evaluation.id, Evaluation.correct, Evaluation.speedup_eager
                ).where(Evaluation.run_id == run_id, Evaluation.state == "done")
            ).all()
            by_task: dict[str, list[tuple[int, bool, float | None]]] = {}
            for task_id, eval_id, correct, speedup in done:
                by_task.setdefault(task_id, []).append((eval_id, correct is True, _figure(speedup)))
            chosen = [_pick(evals, pick) for evals in by_task.values()]
            rows = session.execute(
                select(Evaluation, Candidate.source)
                .join(Candidate, Candidate.id == Evaluation.candidate_id)
                .where(Evaluation.id.in_(chosen))
            ).all()
        results = [_task_result(evaluation, source) for evaluation, source in rows]
        return sorted(results, key=lambda r: r.task_id)

    def timing_samples(self, evaluation_id: int) -> dict[str, list[float]]:
        """The raw samples of one evaluation by kind (candidate, eager, compile), in order."""
        with self._sessions() as session:
            rows = session.execute(
                select(TimingSample.kind, TimingSample.ms)
                .where(TimingSample.evaluation_id == evaluation_id)
                .order_by(TimingSample.kind, TimingSample.idx)
            ).all()
        samples: dict[str, list[float]] = {}
        for kind, ms in rows:
            samples.setdefault(kind, []).append(ms)
        return samples

    def evaluation_states(self, run_id: int) -> dict[str, int]:
        """How many evaluations of the run are running, done and abandoned."""
        with self._sessions() as session:
            rows = session.execute(
                select(Evaluation.state, func.count())
                .where(Evaluation.run_id == run_id)
                .group_by(Evaluation.state)
            ).all()
        return {state: count for state, count in rows}

    # -- exporting -----------------------------------------------------------------------

    def export_jsonl(self, run_id: int, path: Path | str, pick: Pick = "latest") -> int:
        """Write one JSON line per task (run facts, verdict record, source); return the count.

        The file is written afresh: a link at ``path`` is replaced, never written through.
        """
        run = self.get_run(run_id).to_json()
        run_facts = {k: run[k] for k in ("id", "label", "suite", "backend", "model", "strategy")}
        results = self.run_results(run_id, pick)
        lines = (
            json.dumps(
                {"format": EXPORT_FORMAT, "run": run_facts, **result.to_json()},
                sort_keys=True,
                allow_nan=False,
            )
            + "\n"
            for result in results
        )
        target = Path(path)
        write_afresh(target.parent, target.name, lines)
        return len(results)

    def export_sources(self, run_id: int, folder: Path | str, pick: Pick = "best") -> list[Path]:
        """Write each task's kernel as ``<task stem>.py``: a folder usable as a solutions set.

        Each file is written afresh: links already in the folder are replaced, never followed.
        """
        results = self.run_results(run_id, pick)
        names: dict[str, str] = {}
        for result in results:
            name = Path(result.task_id).stem + ".py"
            if name in names:
                raise StoreError(
                    f"tasks {names[name]} and {result.task_id} share the file name {name}"
                )
            names[name] = result.task_id
        target = Path(folder)
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {target}: {exc.strerror or exc}") from None
        return [
            write_afresh(target, name, [result.source])
            for name, result in zip(names, results, strict=True)
        ]


# -- what a read hands on: stored values of the shapes the readers expect ----------------------
# A shared store may have been written by anything; every value a report or a comparison reads
# is brought to its type here (or dropped), so that no renderer meets a list where it expects a
# mapping, or an infinity where it expects a time.


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else _text(value)


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _figure(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


# The parts of a verdict record that readers index into, and the type each must have.
_RECORD_MAPPINGS = ("timing", "speedup", "correctness", "extra")
_RECORD_LISTS = ("flags", "violations")


def clean_record(value: Any) -> dict[str, Any]:
    """A stored verdict record with the parts readers index into of the right type."""
    record = _mapping(value)
    for key in _RECORD_MAPPINGS:
        if key in record and not isinstance(record[key], dict):
            record[key] = {}
    for key in _RECORD_LISTS:
        if key in record:
            items = record[key] if isinstance(record[key], list) else []
            record[key] = [item for item in items if isinstance(item, dict)]
    for key in ("status", "log", "task", "backend", "device"):
        if key in record and not isinstance(record[key], str):
            record[key] = _text(record[key])
    timing = record.get("timing")
    if timing and not isinstance(timing.get("samples", []), list):
        record["timing"] = {**timing, "samples": []}
    return record


def _task_result(evaluation: Evaluation, source: Any) -> TaskResult:
    record = clean_record(evaluation.verdict)
    category = _optional_text(evaluation.category) or _optional_text(
        (record.get("extra") or {}).get("category")
    )
    environment = evaluation.environment
    return TaskResult(
        run_id=evaluation.run_id,
        task_id=_text(evaluation.task_id),
        evaluation_id=evaluation.id,
        candidate_id=evaluation.candidate_id,
        status=_optional_text(evaluation.status) or "infra_error",
        correct=evaluation.correct is True,
        record=record,
        source=_text(source),
        category=category,
        speedup_eager=_figure(evaluation.speedup_eager),
        speedup_compile=_figure(evaluation.speedup_compile),
        candidate_ms=_figure(evaluation.candidate_ms),
        eager_ms=_figure(evaluation.eager_ms),
        environment=_mapping(environment) if isinstance(environment, dict) else None,
        started=evaluation.started,
        finished=evaluation.finished,
    )


def read_jsonl(path: Path | str) -> list[TaskResult]:
    """Task results from a file written by ``Store.export_jsonl``."""
    results = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            results.append(TaskResult.from_json(data))
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise StoreError(
                f"{path}:{number}: not a kernelwright results line ({reason})"
            ) from None
    return results
