"""Alembic migrations: a fresh database matches the models, and an old one upgrades without loss."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest_runs import DATABASES, database_url, make_record
from sqlalchemy import text

from kernelwright.runs.database import (
    StoreError,
    create_store_engine,
    current_revision,
    head_revision,
    upgrade,
)
from kernelwright.runs.models import Base
from kernelwright.runs.store import Store

FIRST_REVISION = "0001"


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


def test_revisions_form_one_line_to_head() -> None:
    from kernelwright.runs.database import _script_directory

    revisions = list(_script_directory().walk_revisions())
    assert [r.revision for r in reversed(revisions)] == ["0001", "0002", "0003"]
    assert head_revision() == "0003"


def test_fresh_database_matches_the_models(db_url: str) -> None:
    with Store(db_url) as store, store.engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_upgrade_from_first_revision_keeps_rows(db_url: str) -> None:
    engine = create_store_engine(db_url)
    with engine.begin() as connection:
        upgrade(connection, FIRST_REVISION)
        connection.execute(
            text(
                "INSERT INTO runs (id, label, suite, backend, status, created, options) "
                "VALUES (1, 'old', 'smoke', 'cpu', 'finished', :now, '{}')"
            ),
            {"now": "2024-01-02 03:04:05"},
        )
        connection.execute(
            text(
                "INSERT INTO candidates (id, run_id, task_id, source, source_hash, backend, origin, created) "
                "VALUES (1, 1, 'smoke/relu', 'old kernel', 'abc', 'cpu', 'file', :now)"
            ),
            {"now": "2024-01-02 03:04:05"},
        )
        connection.execute(
            text(
                "INSERT INTO evaluations (id, run_id, candidate_id, task_id, state, correct, started) "
                "VALUES (1, 1, 1, 'smoke/relu', 'running', :false, :now)"
            ),
            {"now": "2024-01-02 03:04:05", "false": False},
        )
    with engine.connect() as connection:
        assert current_revision(connection) == FIRST_REVISION
        # The model comparison above has teeth: the first revision lacks what the second adds.
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) != []
    engine.dispose()

    with Store(db_url) as store:
        with store.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
        (run,) = store.list_runs()
        assert (run.id, run.label, run.status) == (1, "old", "finished")
        assert run.created.year == 2024 and run.created.tzinfo is not None
        # The old row gains the new columns and tables work on it.
        store.finish_evaluation(1, make_record("smoke/relu", category="activation"))
        (result,) = store.run_results(1)
        assert result.source == "old kernel" and result.category == "activation"
        assert store.timing_samples(1)["candidate"] == [1.0, 1.1, 0.9]


def test_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    Store(url).close()
    engine = create_store_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this kernelwright"):
        Store(url)


def test_store_without_migrate_leaves_an_old_schema_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    engine = create_store_engine(url)
    with engine.begin() as connection:
        upgrade(connection, FIRST_REVISION)
    engine.dispose()
    with Store(url, migrate=False) as store, store.engine.connect() as connection:
        assert current_revision(connection) == FIRST_REVISION
