"""A stored run as a dataset: ``records.parquet``, ``records.jsonl`` (the same rows) and a
``README.md`` card, written into a new folder (``kernelwright runs export RUN --format dataset``).

One row per done evaluation of the run (a candidate measured twice, as by a resumed ``bench``,
has two rows; an evaluation still running or abandoned has none), in evaluation order, with the
candidate's source and lineage, the verdict, the timings, the environment, and the LLM calls
recorded for that candidate (the Coder's call that wrote it and the Judge's calls that reviewed
it), each as its messages: role and text.

Stored data is hostile (a shared store may have been written by anything):

- Every value is brought to the column's type; what does not fit becomes null.
- A task's source is read only from a shipped suite, by a task id of the form ``suite/stem``
  whose suite is a shipped one and whose stem is a plain file name: never from a path read from
  the store. Any other task has a null ``task_source``.
- Nothing of the run's options is exported (they hold the agent's settings, a base URL, the
  evaluation options); the verifier's per-run secret is never stored at all. Every string of a
  row (keys of mappings included) passes a scrubber that replaces what looks like a credential
  (provider keys such as ``sk-...``, ``Authorization``/``X-Api-Key`` header values, bearer tokens,
  the password of a URL, ``api_key = ...`` assignments, private keys, and the values of this
  process's credential-named environment variables and of the keys file) with ``[REDACTED]``.
- The folder is written under a temporary name next to it and renamed into place at the end:
  a failure leaves nothing half-written, and a folder that exists and is not empty is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from secrets import token_hex
from typing import Any

from sqlalchemy import select

from kernelwright.bench_tasks.task import SHIPPED_STEM, SUITES_DIR, list_suites
from kernelwright.runs.agent_records import StoredCall, run_calls
from kernelwright.runs.database import StoreError
from kernelwright.runs.models import Candidate, Evaluation
from kernelwright.runs.store import (
    RunInfo,
    Store,
    _figure,
    _malformed_is_store_error,
    _mapping,
    _optional_text,
    _task_result,
    _text,
    finite,
)
from kernelwright.textsafe import markdown

DATASET_FORMAT = "kernelwright.dataset/1"
FILES = ("records.parquet", "records.jsonl", "README.md")
EXTRA = "dataset"
REDACTED = "[REDACTED]"
# A shipped task file larger than this is not a task file: its source is left out.
MAX_TASK_SOURCE = 1 << 20
# The parts of a stored environment that are exported (``capture_environment``'s keys): a host
# name or anything else a writer added stays out.
ENVIRONMENT_KEYS = ("backend", "device", "gpu", "cpu", "versions", "platform")
# The labels ``agents.calls.prompt_text`` writes before each part of a request.
_PROMPT_LABEL = re.compile(r"(?:\A|\n\n)\[(system|user|assistant)\]\n")


class DatasetError(StoreError):
    """A dataset that cannot be written; the message is one line for the user."""


def require_pyarrow() -> Any:
    """``pyarrow`` (with its parquet module), or a ``DatasetError`` naming the extra."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise DatasetError(
            "the dataset format needs pyarrow, which is not installed: "
            f"pip install 'kernelwright[{EXTRA}]'"
        ) from None
    return pyarrow


# -- credentials ----------------------------------------------------------------------------------

_VALUE = r"[A-Za-z0-9._~+/=-]{8,}"
_SEP = r"(\s*[\"']?\s*[:=]\s*[\"']?)"
_CREDENTIAL_NAME = (
    r"api[_-]?key|apikey|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|"
    r"refresh[_-]?token|session[_-]?token|id[_-]?token|password|passwd|private[_-]?key"
)
# (pattern, replacement): what a credential looks like where no name says so, and where one does.
_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            re.S,
        ),
        REDACTED,
    ),
    # Header lines: everything after the name, to the end of the line.
    (
        re.compile(
            r"(?i)(\b(?:proxy-)?authorization|\bx-api-key|\bx-goog-api-key|\bapi-key|"
            r"\bocp-apim-subscription-key|\b(?:set-)?cookie)(\s*[\"']?\s*[:=]\s*)[^\r\n]*"
        ),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"), REDACTED),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), REDACTED),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    # scheme://user:password@host
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)([^/\s@]+)(@)"), rf"\1{REDACTED}\3"),
    (
        re.compile(rf"(?i)\b([A-Za-z0-9_.-]*(?:{_CREDENTIAL_NAME})[A-Za-z0-9_]*){_SEP}{_VALUE}"),
        rf"\1\2{REDACTED}",
    ),
    (
        re.compile(
            rf"\b([A-Z][A-Z0-9_]*_(?:KEY|TOKEN|SECRET|PASSWORD|PASS|PAT|JWT)){_SEP}{_VALUE}"
        ),
        rf"\1\2{REDACTED}",
    ),
)
# Environment variables that hold credentials by convention (as ``verifier.secrets_guard``).
_SECRET_ENV_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASS|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|DSN|JWT|"
    r"_PWD$|(^|_)PAT$|DATABASE_URL|^KERNELWRIGHT_DB$",
    re.IGNORECASE,
)
# A key of a stored mapping (correctness, environment) whose value is dropped whatever it is.
_SECRET_KEY = re.compile(
    r"authorization|api[_-]?key|apikey|secret|token|password|passwd|cookie|credential|"
    r"private[_-]?key",
    re.IGNORECASE,
)
# A literal shorter than this is too likely to be an ordinary word to replace everywhere.
MIN_LITERAL = 8


def local_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """The values of this process's credential-named environment variables."""
    environ = dict(os.environ) if environ is None else environ
    return [
        value
        for name, value in environ.items()
        if _SECRET_ENV_NAME.search(name) and len(value.strip()) >= MIN_LITERAL
    ]


class Scrubber:
    """Replaces what looks like a credential, and every known secret literal, in text."""

    def __init__(self, literals: Iterable[str] = ()) -> None:
        # Longest first, so that a secret containing another is replaced whole.
        self.literals = sorted(
            {s.strip() for s in literals if isinstance(s, str) and len(s.strip()) >= MIN_LITERAL},
            key=len,
            reverse=True,
        )

    def text(self, value: str) -> str:
        # Lone surrogates cannot be written as UTF-8: each becomes U+FFFD.
        value = value.encode("utf-8", "replace").decode("utf-8", "replace")
        for literal in self.literals:
            value = value.replace(literal, REDACTED)
        for pattern, replacement in _SCRUBS:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any, named: bool = False, depth: int = 0) -> Any:
        """``value`` with every string in it (mapping keys too) scrubbed; too deep is None.
        With ``named`` (a stored mapping of any shape), the value of a key that names a
        credential (``Authorization``, ``api_key``, ``token``, ...) is replaced whole."""
        if depth > 64:
            return None
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                self.text(str(k)): REDACTED
                if named and _SECRET_KEY.search(str(k))
                else self.value(v, named, depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.value(v, named, depth + 1) for v in value]
        return value


# -- reading --------------------------------------------------------------------------------------


class ShippedSources:
    """The source of a shipped task, read by its id: ``suite/stem`` of a shipped suite, the stem
    a plain file name, the file a regular file in that suite's folder. Anything else is None."""

    def __init__(self) -> None:
        self.suites = set(list_suites())
        self.read: dict[str, str | None] = {}

    def __call__(self, task_id: str) -> str | None:
        if task_id not in self.read:
            self.read[task_id] = self._read(task_id)
        return self.read[task_id]

    def _read(self, task_id: str) -> str | None:
        suite, sep, stem = task_id.partition("/")
        if not sep or suite not in self.suites or stem.startswith("_"):
            return None
        if not SHIPPED_STEM.fullmatch(stem):
            return None
        folder = SUITES_DIR / suite
        path = folder / f"{stem}.py"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_TASK_SOURCE:
                return None
            if path.resolve().parent != folder.resolve():
                return None
            data = handle.read(MAX_TASK_SOURCE + 1)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None


def prompt_messages(prompt: str) -> list[dict[str, str]]:
    """A stored prompt as its messages, split at the ``[system]``/``[user]``/``[assistant]``
    labels the agent writes before each part; a prompt without them is one user message."""
    marks = list(_PROMPT_LABEL.finditer(prompt))
    if not marks or marks[0].start() != 0:
        return [{"role": "user", "text": prompt}] if prompt else []
    messages = []
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(prompt)
        messages.append({"role": mark.group(1), "text": prompt[mark.end() : end]})
    return messages


def _call_row(call: StoredCall) -> dict[str, Any]:
    messages = prompt_messages(call.prompt)
    # A call that failed has no reply from the model, only the error the provider gave.
    if call.outcome not in ("error", "refused"):
        messages.append({"role": "assistant", "text": call.response})
    return {
        "call_id": call.id,
        "agent": call.role,
        "tag": call.tag,
        "provider": call.provider,
        "model": call.model,
        "outcome": call.outcome,
        "cached_from": call.cached_from,
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "cost_usd": call.cost_usd,
        "messages": messages,
    }


def _findings(items: Any) -> list[dict[str, str]]:
    if not isinstance(items, list):
        return []
    return [
        {"check": _text(item.get("check")), "detail": _text(item.get("detail"))}
        for item in items
        if isinstance(item, dict)
    ]


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(finite(value), sort_keys=True, allow_nan=False, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(1 << 63) <= value < (1 << 63) else None


@_malformed_is_store_error
def dataset_rows(
    store: Store, run_id: int, scrubber: Scrubber | None = None
) -> list[dict[str, Any]]:
    """The dataset's rows for one run, scrubbed, in evaluation order."""
    scrubber = scrubber or Scrubber()
    run = store.get_run(run_id)
    with store._sessions() as session:
        pairs = session.execute(
            select(Evaluation, Candidate)
            .join(Candidate, Candidate.id == Evaluation.candidate_id)
            .where(
                Evaluation.run_id == run_id,
                Evaluation.state == "done",
                Candidate.run_id == run_id,
            )
            .order_by(Evaluation.id)
        ).all()
    calls: dict[int, list[dict[str, Any]]] = {}
    for call in run_calls(store, run_id):
        if call.candidate_id is not None:
            calls.setdefault(call.candidate_id, []).append(_call_row(call))
    shipped = ShippedSources()
    rows = []
    for evaluation, candidate in pairs:
        result = _task_result(evaluation, candidate.source)
        row = scrubber.value(_row(run, evaluation, candidate, result, calls, shipped))
        # Stored mappings of any shape are scrubbed as values, then written as JSON text.
        for name in ("correctness", "environment"):
            row[name] = _json_text(scrubber.value(row[name], named=True))
        # The hash of the source as exported (the scrubber may have changed it).
        row["source_hash"] = hashlib.sha256(row["candidate_source"].encode()).hexdigest()
        rows.append(row)
    return rows


def _row(
    run: RunInfo,
    evaluation: Evaluation,
    candidate: Candidate,
    result: Any,
    calls: dict[int, list[dict[str, Any]]],
    shipped: ShippedSources,
) -> dict[str, Any]:
    record = result.record
    timing = _mapping(record.get("timing"))
    meaningful = timing.get("meaningful")
    environment = result.environment or _mapping(_mapping(record.get("extra")).get("environment"))
    kept = {k: environment[k] for k in ENVIRONMENT_KEYS if k in environment}
    return {
        "run_id": run.id,
        "label": run.label,
        "suite": run.suite,
        "backend": run.backend,
        "model": run.model,
        "strategy": run.strategy,
        "evaluation_id": result.evaluation_id,
        "candidate_id": result.candidate_id,
        "task_id": result.task_id,
        "category": result.category,
        "task_source": shipped(result.task_id),
        "candidate_source": result.source,
        "source_hash": "",
        "parent_id": _int(candidate.parent_id),
        "origin": _optional_text(candidate.origin),
        "status": result.status,
        "correct": result.correct,
        "violations": _findings(record.get("violations")),
        "flags": _findings(record.get("flags")),
        "correctness": _mapping(record.get("correctness")),
        "candidate_ms": result.candidate_ms,
        "eager_ms": result.eager_ms,
        "compile_ms": _figure(evaluation.compile_ms),
        "timing_meaningful": meaningful if isinstance(meaningful, bool) else None,
        "speedup_eager": result.speedup_eager,
        "speedup_compile": result.speedup_compile,
        "device": _optional_text(evaluation.device) or _optional_text(kept.get("device")),
        "environment": kept or None,
        "evaluated_at": result.finished.isoformat() if result.finished else None,
        "conversation": calls.get(result.candidate_id, []),
    }


# -- the columns ----------------------------------------------------------------------------------

# (name, type, description): the card's table and the parquet schema come from this list.
_MESSAGE = "list<struct<role: string, text: string>>"
_CALL = (
    "list<struct<call_id: int64, agent: string, tag: string, provider: string, model: string, "
    "outcome: string, cached_from: int64, prompt_tokens: int64, completion_tokens: int64, "
    f"cost_usd: double, messages: {_MESSAGE}>>"
)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("run_id", "int64", "The run's id in the store it was exported from."),
    ("label", "string", "The run's label."),
    ("suite", "string", "The run's suite: a shipped suite id, or the folder it was read from."),
    ("backend", "string", "cpu, cuda, hip, triton or pallas."),
    ("model", "string", "The agent's model (`provider:model`); null for a `bench` run."),
    ("strategy", "string", "The agent's search strategy; null for a `bench` run."),
    ("evaluation_id", "int64", "The evaluation's id: one row per done evaluation."),
    ("candidate_id", "int64", "The candidate's id."),
    ("task_id", "string", "The task: `suite/stem` for a shipped suite, else its file path."),
    ("category", "string", "The task's category (matmul, reduce, ...)."),
    (
        "task_source",
        "string",
        "The task file (reference `Model`, inputs), for shipped suites only; null otherwise.",
    ),
    ("candidate_source", "string", "The candidate kernel's source."),
    ("source_hash", "string", "SHA-256 (hex) of `candidate_source` as written here."),
    ("parent_id", "int64", "The candidate it was derived from (lineage); null for a first one."),
    ("origin", "string", "Where the candidate came from: `file` (bench) or the agent's step."),
    ("status", "string", "The verdict: correct, incorrect, rejected, compile_error, ..."),
    ("correct", "bool", "Whether the verdict is `correct`."),
    (
        "violations",
        "list<struct<check: string, detail: string>>",
        "Anti-cheat checks that rejected the candidate.",
    ),
    ("flags", "list<struct<check: string, detail: string>>", "Checks that flagged it."),
    (
        "correctness",
        "string",
        "JSON text: trials, configs, max absolute and relative errors, reference dtype.",
    ),
    ("candidate_ms", "double", "Median time per call of the candidate, ms."),
    ("eager_ms", "double", "Median time per call of PyTorch eager, ms."),
    ("compile_ms", "double", "Median time per call of `torch.compile`, ms (null if not run)."),
    (
        "timing_meaningful",
        "bool",
        "Whether the times are real measurements (false under an interpreter).",
    ),
    ("speedup_eager", "double", "eager_ms / candidate_ms."),
    ("speedup_compile", "double", "compile_ms / candidate_ms."),
    ("device", "string", "The device measured on."),
    (
        "environment",
        "string",
        "JSON text: backend, device, gpu, cpu, versions and platform of the measurement.",
    ),
    ("evaluated_at", "string", "When the evaluation finished (ISO 8601, UTC)."),
    (
        "conversation",
        _CALL,
        "The LLM calls recorded for this candidate, in order (the Coder's call that wrote it, "
        "the Judge's calls that reviewed it): each with its messages (role: system, user or "
        "assistant; text), the reply last (none for a call that failed); empty for a `bench` run.",
    ),
)


def arrow_schema(pa: Any) -> Any:
    finding = pa.list_(pa.struct([("check", pa.string()), ("detail", pa.string())]))
    message = pa.list_(pa.struct([("role", pa.string()), ("text", pa.string())]))
    call = pa.struct(
        [
            ("call_id", pa.int64()),
            ("agent", pa.string()),
            ("tag", pa.string()),
            ("provider", pa.string()),
            ("model", pa.string()),
            ("outcome", pa.string()),
            ("cached_from", pa.int64()),
            ("prompt_tokens", pa.int64()),
            ("completion_tokens", pa.int64()),
            ("cost_usd", pa.float64()),
            ("messages", message),
        ]
    )
    types = {
        "int64": pa.int64(),
        "string": pa.string(),
        "bool": pa.bool_(),
        "double": pa.float64(),
        "list<struct<check: string, detail: string>>": finding,
        _CALL: pa.list_(call),
    }
    return pa.schema([(name, types[kind]) for name, kind, _ in COLUMNS])


# -- writing --------------------------------------------------------------------------------------


def check_target(folder: Path | str) -> Path:
    """``folder`` if a dataset may be written there: it does not exist, or is an empty folder
    (not a link). Nothing is created or changed."""
    path = Path(folder)
    try:
        if path.is_symlink():
            raise DatasetError(f"{path} is a link: give a new or empty folder")
        if path.exists():
            if not path.is_dir():
                raise DatasetError(f"{path} exists and is not a folder: give a new or empty folder")
            if any(path.iterdir()):
                raise DatasetError(f"{path} is not empty: give a new or empty folder")
        elif not path.parent.is_dir():
            raise DatasetError(f"cannot write {path}: {path.parent} is not a folder")
    except OSError as exc:
        raise DatasetError(f"cannot use {path}: {exc.strerror or exc}") from None
    return path


def card(run: RunInfo, rows: list[dict[str, Any]]) -> str:
    """The dataset card: what the run was, how many rows, every field."""
    shipped = run.suite in list_suites()
    lines = [
        f"# kernelwright run {run.id}: {markdown(run.label)}",
        "",
        "Kernels written for a suite of PyTorch tasks and the verdicts kernelwright's sandboxed "
        "verifier reached on them, exported from one stored run "
        f"(`kernelwright runs export {run.id} --format dataset`, format `{DATASET_FORMAT}`).",
        "",
        f"- suite: {markdown(run.suite)}",
        f"- backend: {markdown(run.backend)}",
        f"- label: {markdown(run.label)}",
        f"- model: {markdown(run.model) if run.model else 'none (a `bench` run)'}",
        f"- strategy: {markdown(run.strategy) if run.strategy else 'none'}",
        f"- rows: {len(rows)}",
        "",
        "`records.parquet` and `records.jsonl` hold the same rows. One row per done evaluation "
        "of the run, in the order they were made: a candidate evaluated twice (a resumed run) "
        "has two rows; evaluations still running or abandoned have none. `correctness` and "
        "`environment` are JSON text in both files.",
        "",
        "`task_source` is filled only for tasks of the suites shipped with kernelwright, read "
        "from the installed suite by task id; for any other task (a folder of your own, an "
        "imported benchmark) it is null"
        + ("." if shipped else ": this run's suite is not a shipped one, so it is null here."),
        "",
        "No key, authorization header or per-run verifier secret is included: the run's options "
        "are not exported, and every text passed a scrubber that replaces what looks like a "
        f"credential with `{REDACTED}` (`source_hash` is the hash of the source as written "
        "here).",
        "",
        "## Fields",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | `{kind}` | {text} |" for name, kind, text in COLUMNS]
    lines += [
        "",
        "## License",
        "",
        "The kernels and verdicts are the run's output; the task files keep their own licenses.",
        "",
    ]
    return "\n".join(lines)


def export_dataset(
    store: Store, run_id: int, folder: Path | str, known_secrets: Iterable[str] = ()
) -> int:
    """Write the dataset of run ``run_id`` into ``folder`` (new or empty); return the row count.

    ``known_secrets``: literal values (keys) to scrub besides this process's credential-named
    environment variables and whatever looks like a credential."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    target = check_target(folder)
    run = store.get_run(run_id)
    scrubber = Scrubber([*local_secrets(), *known_secrets])
    rows = dataset_rows(store, run_id, scrubber)
    shown = replace(
        run,
        **scrubber.value(
            {k: getattr(run, k) for k in ("label", "suite", "backend", "model", "strategy")}
        ),
    )
    temp = target.parent / f".{target.name}.{token_hex(6)}.tmp"
    try:
        table = pa.Table.from_pylist(rows, schema=arrow_schema(pa))
        lines = [json.dumps(row, ensure_ascii=True, allow_nan=False) + "\n" for row in rows]
        temp.mkdir()
        pq.write_table(table, temp / "records.parquet")
        with open(temp / "records.jsonl", "x", encoding="utf-8") as out:
            out.writelines(lines)
        with open(temp / "README.md", "x", encoding="utf-8") as out:
            out.write(card(shown, rows))
        # rename(2) replaces an empty folder and refuses one that is not (any more) empty.
        os.rename(temp, target)
    except (OSError, ValueError, pa.ArrowException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:200]
        raise DatasetError(f"cannot write the dataset to {target}: {reason}") from None
    finally:
        with contextlib.suppress(OSError):
            if temp.exists():
                shutil.rmtree(temp)
    return len(rows)
