"""Where the run store lives, how to open it, and the Alembic migrations that keep it current.

SQLite (WAL, foreign keys on) by default under ``$KERNELWRIGHT_HOME``; PostgreSQL by URL.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import random
import time
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
# How long SQLite waits on a lock held by another process (another writer, a first open).
SQLITE_BUSY_TIMEOUT_MS = 30_000
# The execution option that marks a connection's transaction as one that will write: SQLite then
# takes the write lock at BEGIN, where the busy timeout applies, instead of failing at once when a
# read transaction tries to upgrade after another process committed.
WRITE_OPTION = "kernelwright_write"
# Serializes first opens on PostgreSQL (any constant of the store's own).
_PG_MIGRATION_LOCK = 0x6B77_5255


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
    except (ArgumentError, ValueError, TypeError):
        return "<unparsable URL>"


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Autocommit at the driver level, with BEGIN issued on SQLAlchemy's "begin" event below:
    # the stdlib driver otherwise commits implicitly before DDL, and a migration must be atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching a fresh file to WAL takes a lock that another process
    # opening the same file at the same moment may hold.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # In WAL mode NORMAL loses no committed transaction when the process is killed, only on
    # power loss; FULL would fsync every evaluation for no gain against kill -9.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # Readers stay deferred so that they never wait on a writer (WAL gives them a snapshot).
    immediate = connection.get_execution_options().get(WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _make_private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700; existing folders keep theirs."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process created it first
            path.mkdir(mode=0o700)


def _create_private_file(database: str) -> None:
    """Create the SQLite file with mode 0600 before SQLite does (its -wal and -shm copy the mode).

    An existing file is left as it is, and a link in its place is not followed.
    """
    path = Path(database).expanduser()
    _make_private_folder(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        os.close(os.open(path, flags, 0o600))
    except FileExistsError:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)) from None


def _sqlite_file(parsed: URL) -> str | None:
    """The file a SQLite URL names, or None for an in-memory or URI-style database."""
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or "uri" in parsed.query:
        return None
    return database


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with the store's connection settings; raises ``StoreError``.

    A SQLite file that does not exist yet is created here, readable by its owner only.
    """
    not_a_url = StoreError(
        f"not a database URL: {url!r} (give sqlite:///PATH or postgresql+psycopg://...)"
    )
    if "\x00" in str(url):
        raise not_a_url
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
    except (ArgumentError, ValueError, TypeError):
        raise not_a_url from None
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        database = _sqlite_file(parsed)
        if database is None:
            if (parsed.database or "") in ("", ":memory:"):
                # One shared connection, or every session would see its own empty database.
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            try:
                _create_private_file(database)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise StoreError(f"cannot create the run store {database}: {reason}") from None
    elif backend == "postgresql":
        kwargs.update(pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        hint = " (pip install 'kernelwright[postgres]')" if backend == "postgresql" else ""
        raise StoreError(f"no database driver for {redact(parsed)}: {exc}{hint}") from None
    except (ArgumentError, ValueError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"not a usable database URL {redact(parsed)}: {reason}") from None
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


def _check_revision(engine: Engine, current: str | None) -> None:
    known = {script.revision for script in _script_directory().walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"the run store {redact(engine.url)} has schema revision {current}, newer than "
            "this kernelwright knows: upgrade kernelwright"
        )


def _migrate(engine: Engine) -> None:
    """Upgrade to head in one writing transaction, re-reading the revision once it holds the lock.

    Several processes may open a fresh store at once: the first migrates, the others wait for
    its lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) and then find it current.
    """
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            current = current_revision(connection)
            _check_revision(engine, current)
            if current != head_revision():
                upgrade(connection)


def _reason(exc: Exception) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _locked(exc: Exception) -> bool:
    """SQLite's "database is locked" or "busy": some of its lock conflicts (a fresh file switched
    to WAL by another process at the same moment) are reported at once, without waiting out the
    busy timeout."""
    text = str(exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc).lower()
    return "database is locked" in text or "database is busy" in text


def _open_once(engine: Engine, migrate: bool) -> None:
    # A deferred read first: opening a current store never waits on a writer.
    with engine.connect() as connection:
        current = current_revision(connection)
    _check_revision(engine, current)
    if migrate and current != head_revision():
        _migrate(engine)


def open_database(url: str, migrate: bool = True) -> Engine:
    """Connect, check that the database answers, and bring its schema to the head revision."""
    engine = create_store_engine(url)
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000.0
    try:
        while True:
            try:
                _open_once(engine, migrate)
                break
            except DBAPIError as exc:
                # The open is read-only or one transaction, so trying it again is safe.
                if engine.dialect.name != "sqlite" or not _locked(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                engine.dispose()
                time.sleep(random.uniform(0.02, 0.2))
    except (DBAPIError, ValueError) as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the run store {redact(engine.url)}: {_reason(exc)}"
        ) from None
    except StoreError:
        engine.dispose()
        raise
    return engine
