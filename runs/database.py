"""Where the run store lives, how to open it, and the Alembic migrations that keep it current.

SQLite (WAL, foreign keys on) by default under ``$KERNELWRIGHT_HOME``; PostgreSQL by URL.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DB_FILE_NAME = "runs.db"
# How long a connection attempt to a database server may take before the store gives up.
CONNECT_TIMEOUT_S = 5
# How long SQLite waits on a lock held by another process (a report read during a run).
SQLITE_BUSY_TIMEOUT_MS = 10_000


class StoreError(RuntimeError):
    """The run store cannot do what was asked; the message is one line for the user."""


def kernelwright_home() -> Path:
    """``$KERNELWRIGHT_HOME``, else ``$XDG_DATA_HOME/kernelwright``, else ``~/.local/share/kernelwright``."""
    explicit = os.environ.get("KERNELWRIGHT_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "kernelwright"


def _sqlite_url(path: Path) -> str:
    return URL.create("sqlite", database=str(path)).render_as_string()


def resolve_db_url(explicit: str | None = None) -> str:
    """The store URL: ``explicit``, then ``$KERNELWRIGHT_DB``, then ``$KERNELWRIGHT_HOME/runs.db``.

    A value without ``://`` is a path to a SQLite file; ``postgresql://`` and ``postgres://``
    are read as ``postgresql+psycopg://`` (the driver kernelwright installs).
    """
    value = explicit or os.environ.get("KERNELWRIGHT_DB") or ""
    if not value:
        return _sqlite_url(kernelwright_home() / DB_FILE_NAME)
    if "://" not in value:
        return _sqlite_url(Path(value).expanduser().resolve())
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for messages and listings."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Autocommit at the driver level, with BEGIN issued on SQLAlchemy's "begin" event below:
    # the stdlib driver otherwise commits implicitly before DDL, and a migration must be atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # In WAL mode NORMAL loses no committed transaction when the process is killed, only on
    # power loss; FULL would fsync every evaluation for no gain against kill -9.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with the store's connection settings; raises ``StoreError``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"not a database URL: {url!r} (give sqlite:///PATH or postgresql+psycopg://...)"
        ) from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            # One shared connection, or every session would see its own empty database.
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder of {database}: {exc.strerror}"
                ) from None
    elif backend == "postgresql":
        kwargs.update(pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        hint = " (pip install 'kernelwright[postgres]')" if backend == "postgresql" else ""
        raise StoreError(f"no database driver for {redact(parsed)}: {exc}{hint}") from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest schema revision this kernelwright knows."""
    head = _script_directory().get_current_head()
    assert head is not None, "the migrations folder holds no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    """The schema revision of the database behind ``connection`` (None when it holds none)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` inside the caller's transaction."""
    command.upgrade(alembic_config(connection), revision)


def open_database(url: str, migrate: bool = True) -> Engine:
    """Connect, check that the database answers, and bring its schema to the head revision."""
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            current = current_revision(connection)
            known = {script.revision for script in _script_directory().walk_revisions()}
            if current is not None and current not in known:
                raise StoreError(
                    f"the run store {redact(engine.url)} has schema revision {current}, newer than "
                    "this kernelwright knows: upgrade kernelwright"
                )
            if migrate and current != head_revision():
                upgrade(connection)
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StoreError(f"cannot open the run store {redact(engine.url)}: {reason}") from None
    except StoreError:
        engine.dispose()
        raise
    return engine
