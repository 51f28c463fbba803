"""Databases for the run-store tests: a SQLite file, and a PostgreSQL schema when a server is set.

The PostgreSQL parameter needs ``KERNELWRIGHT_TEST_PG_URL`` (``eval "$(scripts/start_postgres.sh)"``
starts a throwaway server and prints it); each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PG_URL_ENV = "KERNELWRIGHT_TEST_PG_URL"
PG_SKIP_REASON = (
    f'no PostgreSQL server: set {PG_URL_ENV} (eval "$(scripts/start_postgres.sh)" starts one)'
)

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not os.environ.get(PG_URL_ENV), reason=PG_SKIP_REASON),
        ],
    ),
]


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A URL of an empty database of ``kind`` that lives as long as the context."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'runs.db'}"
        return
    base = os.environ[PG_URL_ENV]
    schema = f"kw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


ENVIRONMENT = {
    "backend": "cpu",
    "device": "Test CPU 9000",
    "gpu": None,
    "cpu": {"model": "Test CPU 9000", "cores": 8, "usable_cores": 8, "memory_mib": 16384},
    "versions": {
        "torch": "2.13.0",
        "triton": "3.9.0",
        "jax": None,
        "jaxlib": None,
        "torch_cuda": None,
        "torch_hip": None,
        "kernelwright": "0.1.0",
        "python": "3.11.7",
    },
    "hostname": "testhost",
    "platform": "Linux",
}


def make_record(
    task: str,
    status: str = "correct",
    samples: list[float] | None = None,
    eager_samples: list[float] | None = None,
    compile_samples: list[float] | None = None,
    category: str | None = None,
    environment: dict[str, object] | None = None,
) -> dict[str, object]:
    """A verdict record as the verifier stores it, with timings only when the kernel is correct."""
    from statistics import median

    from kernelwright.verifier.verdict import TimingResult, Verdict

    env = environment if environment is not None else ENVIRONMENT
    timing = TimingResult()
    speedup: dict[str, float | None] = {"eager": None, "compile": None}
    if status == "correct":
        samples = samples if samples is not None else [1.0, 1.1, 0.9]
        eager_samples = eager_samples if eager_samples is not None else [2 * s for s in samples]
        compile_samples = compile_samples or []
        timing = TimingResult(
            candidate_ms=median(samples),
            eager_ms=median(eager_samples),
            compile_ms=median(compile_samples) if compile_samples else None,
            samples=list(samples),
            meaningful=True,
            eager_samples=list(eager_samples),
            compile_samples=list(compile_samples),
        )
        assert timing.candidate_ms and timing.eager_ms
        speedup["eager"] = timing.eager_ms / timing.candidate_ms
        if timing.compile_ms:
            speedup["compile"] = timing.compile_ms / timing.candidate_ms
    extra: dict[str, object] = {"environment": env}
    if category:
        extra["category"] = category
    verdict = Verdict(
        task=task,
        backend=str(env.get("backend", "cpu")) if env else "cpu",
        device=str(env.get("device", "cpu")) if env else "cpu",
        status=status,
        timing=timing,
        speedup=speedup,
        extra=extra,
    )
    return verdict.to_record()
