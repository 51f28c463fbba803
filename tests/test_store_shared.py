"""The run store shared by many processes, and stored data treated as hostile.

Several writers and readers on one SQLite file, many processes opening a fresh file at once, a
run whose writer was killed, the store file's mode, exports into folders with planted links,
malformed URLs, and no host name in what is stored.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest_runs import DATABASES, ENVIRONMENT, database_url, make_record
from sqlalchemy import event, update

from kernelwright.backends.environment import capture_environment, comparable
from kernelwright.runs import store as store_module
from kernelwright.runs.database import StoreError, create_store_engine
from kernelwright.runs.models import Run
from kernelwright.runs.store import Store

TESTS_DIR = str(Path(__file__).resolve().parent)
# Generous: CI runs these on a loaded two-core machine; nothing here asserts a duration.
CHILD_TIMEOUT_S = 180


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args, TESTS_DIR],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(child: subprocess.Popen[str]) -> str:
    """The child's stdout; fails the test with its stderr when it did not exit cleanly."""
    try:
        out, err = child.communicate(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        pytest.fail(f"a child process hung:\n{err[-3000:]}")
    assert child.returncode == 0, err[-3000:]
    return out


# -- several processes on one SQLite file ----------------------------------------------------

WRITER = """
import sys
sys.path.insert(0, sys.argv[-1])
from conftest_runs import make_record
from kernelwright.runs.store import Store

store = Store(sys.argv[1])
count = int(sys.argv[2])
run = store.create_run("writer", "suite", "cpu")
print(run, flush=True)
for i in range(count):
    task = f"suite/task{i}"
    candidate = store.add_candidate(run, task, f"kernel {i}", "cpu")
    evaluation = store.begin_evaluation(run, candidate, task)
    store.finish_evaluation(evaluation, make_record(task, samples=[1.0, 1.1, 0.9]))
store.finish_run(run)
"""

READER = """
import sys, time
from pathlib import Path
from typing import Any
from kernelwright.runs.store import Store

store = Store(sys.argv[1])
stop = Path(sys.argv[2])
deadline = time.monotonic() + 300
rounds = 0
while time.monotonic() < deadline:
    last = stop.exists()
    for run in store.list_runs():
        store.run_results(run.id)
        store.finished_tasks(run.id)
    rounds += 1
    if last:
        break
print(rounds)
"""

EVALUATIONS_PER_WRITER = 40


def test_two_writers_and_a_reader_share_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    Store(url).close()
    stop = tmp_path / "stop"
    reader = _python(READER, url, str(stop))
    writers = [_python(WRITER, url, str(EVALUATIONS_PER_WRITER)) for _ in range(2)]
    try:
        runs = [int(_finish(writer).split()[0]) for writer in writers]
    finally:
        stop.touch()
    assert int(_finish(reader)) >= 1
    with Store(url) as store:
        for run in runs:
            info = store.get_run(run)
            assert info.status == "finished"
            assert (info.tasks, info.evaluations) == (EVALUATIONS_PER_WRITER,) * 2
            assert store.evaluation_states(run) == {"done": EVALUATIONS_PER_WRITER}
            results = store.run_results(run)
            assert len(results) == EVALUATIONS_PER_WRITER
            assert all(
                len(store.timing_samples(r.evaluation_id)["candidate"]) == 3 for r in results
            )


FIRST_OPEN = """
import sys, time
from pathlib import Path
from typing import Any
from kernelwright.runs.store import Store

go = Path(sys.argv[2])
print("ready", flush=True)
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
with Store(sys.argv[1]) as store:
    store.create_run("first", "suite", "cpu")
    print(len(store.list_runs()))
"""


@pytest.mark.parametrize("attempt", range(3))
def test_many_processes_open_a_fresh_file_at_once(tmp_path: Path, attempt: int) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'runs.db'}"
    go = tmp_path / "go"
    children = [_python(FIRST_OPEN, url, str(go)) for _ in range(4)]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    go.touch()
    for child in children:
        _finish(child)
    with Store(url) as store:
        assert [r.label for r in store.list_runs()] == ["first"] * 4


def test_writes_begin_immediate_and_reads_stay_deferred(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        begins: list[str] = []

        @event.listens_for(store.engine, "before_cursor_execute")
        def record(conn: object, cursor: object, statement: str, *args: object) -> None:
            if statement.upper().startswith("BEGIN"):
                begins.append(statement.upper())

        run = store.create_run("r", "suite", "cpu")
        candidate = store.add_candidate(run, "suite/relu", "kernel", "cpu")
        store.finish_evaluation(
            store.begin_evaluation(run, candidate, "suite/relu"), make_record("suite/relu")
        )
        assert begins and set(begins) == {"BEGIN IMMEDIATE"}
        begins.clear()
        store.list_runs()
        store.run_results(run)
        assert begins and set(begins) == {"BEGIN"}


# -- a run whose writer died -----------------------------------------------------------------

HOLDER = """
import sys, time
from kernelwright.runs.store import Store

store = Store(sys.argv[1])
print(store.create_run("held", "suite", "cpu"), flush=True)
time.sleep(600)
"""


def test_a_killed_writer_leaves_its_run_interrupted(db_url: str) -> None:
    child = _python(HOLDER, db_url)
    try:
        assert child.stdout is not None
        run = int(child.stdout.readline())
        with Store(db_url) as store:
            assert store.get_run(run).status == "running"
            assert store.get_run(run).writer is not None
            assert "writer" not in store.get_run(run).options
            with pytest.raises(StoreError, match="still being written") as refused:
                store.resume_run(run)
            assert "\n" not in str(refused.value)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=CHILD_TIMEOUT_S)
    with Store(db_url) as store:
        assert store.get_run(run).status == "interrupted"
        assert [r.status for r in store.list_runs()] == ["interrupted"]
        assert store.resume_run(run) == set()
        resumed = store.get_run(run)
        assert resumed.status == "running" and resumed.writer == store_module.writer_identity()
        store.finish_run(run)
        assert store.get_run(run).status == "finished"


def test_a_run_written_on_another_machine_stays_as_stored(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run = store.create_run("elsewhere", "suite", "cpu")
        other = {**store_module.writer_identity(), "boot_id": "another-boot", "pid": 1}
        old = store.create_run("old", "suite", "cpu")
        with store.engine.begin() as connection:
            connection.execute(update(Run).where(Run.id == run).values(options={"writer": other}))
            connection.execute(update(Run).where(Run.id == old).values(options={"seed": 1}))
        assert store.get_run(run).status == "running"
        assert store.get_run(old).status == "running" and store.get_run(old).writer is None
        assert store.get_run(old).options == {"seed": 1}
        # Another machine's writer cannot be checked: resuming it is the user's decision.
        store.resume_run(run)
        assert store.get_run(run).writer == store_module.writer_identity()


# -- files the store creates -----------------------------------------------------------------


def test_store_file_and_its_folders_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    outside = stat.S_IMODE(tmp_path.stat().st_mode)
    try:
        path = tmp_path / "home" / "kw" / "runs.db"
        with Store(f"sqlite:///{path}") as store:
            store.create_run("r", "suite", "cpu")
            with store.engine.connect() as connection:
                connection.exec_driver_sql("SELECT count(*) FROM runs").scalar()
                files = [path, path.with_name("runs.db-wal"), path.with_name("runs.db-shm")]
                for file in files:
                    assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        for folder in (tmp_path / "home", tmp_path / "home" / "kw"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        assert stat.S_IMODE(tmp_path.stat().st_mode) == outside
    finally:
        os.umask(previous)


def test_an_existing_store_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.touch()
    path.chmod(0o640)
    with Store(f"sqlite:///{path}") as store:
        store.create_run("r", "suite", "cpu")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# -- exports never follow links --------------------------------------------------------------


@pytest.fixture
def exported(tmp_path: Path) -> Iterator[tuple[Store, int]]:
    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run = store.create_run("r", "smoke", "cpu")
        for task in ("smoke/relu", "smoke/gelu"):
            candidate = store.add_candidate(run, task, f"# {task}\n", "cpu")
            evaluation = store.begin_evaluation(run, candidate, task)
            store.finish_evaluation(evaluation, make_record(task))
        yield store, run


def test_export_sources_replaces_planted_links(exported: tuple[Store, int], tmp_path: Path) -> None:
    store, run = exported
    victim = tmp_path / "bashrc"
    victim.write_text("precious\n")
    folder = tmp_path / "kernels"
    folder.mkdir()
    (folder / "relu.py").symlink_to(victim)
    (folder / "gelu.py").symlink_to(tmp_path / "absent")
    written = store.export_sources(run, folder)
    assert sorted(p.name for p in written) == ["gelu.py", "relu.py"]
    assert victim.read_text() == "precious\n" and not (tmp_path / "absent").exists()
    assert sorted(os.listdir(folder)) == ["gelu.py", "relu.py"]
    for name, task in (("relu.py", "smoke/relu"), ("gelu.py", "smoke/gelu")):
        assert not (folder / name).is_symlink()
        assert (folder / name).read_text() == f"# {task}\n"


def test_export_sources_failure_is_one_line_and_leaves_no_temp_file(
    exported: tuple[Store, int], tmp_path: Path
) -> None:
    store, run = exported
    folder = tmp_path / "kernels"
    (folder / "relu.py").mkdir(parents=True)
    with pytest.raises(StoreError) as error:
        store.export_sources(run, folder)
    assert "\n" not in str(error.value) and "relu.py" in str(error.value)
    assert sorted(os.listdir(folder)) in (["relu.py"], ["gelu.py", "relu.py"])


def test_export_jsonl_does_not_write_through_a_link(
    exported: tuple[Store, int], tmp_path: Path
) -> None:
    store, run = exported
    victim = tmp_path / "bashrc"
    victim.write_text("precious\n")
    path = tmp_path / "out" / "results.jsonl"
    path.parent.mkdir()
    path.symlink_to(victim)
    try:
        assert store.export_jsonl(run, path) == 2
    except StoreError as error:
        assert "\n" not in str(error)
    else:
        assert not path.is_symlink() and len(path.read_text().splitlines()) == 2
    assert victim.read_text() == "precious\n"
    assert [p.name for p in path.parent.iterdir()] == ["results.jsonl"]


# -- malformed URLs and the host name --------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u@h:notaport/db",
        "sqlite://///",
        "foo://",
        "://x",
        "sqlite:///runs\x00.db",
        "postgresql+psycopg://u@h/d\x00b",
    ],
)
def test_malformed_url_is_one_line_store_error(url: str) -> None:
    for open_it in (create_store_engine, Store):
        try:
            opened = open_it(url)
        except StoreError as error:
            assert "\n" not in str(error)
        else:
            # Only a URL that names a usable database may open; none of these does.
            pytest.fail(f"{url!r} opened as {opened!r}")


def test_no_host_name_is_recorded_and_old_environments_still_compare() -> None:
    env = capture_environment("cpu")
    assert "hostname" not in env
    assert "hostname" in ENVIRONMENT
    old = {**ENVIRONMENT, "device": env["device"], "cpu": env["cpu"], "versions": env["versions"]}
    assert comparable(old, env) == (True, "same device and software")


def test_an_open_that_sqlite_reports_locked_at_once_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reports some lock conflicts at once, without waiting out the busy timeout (a
    fresh file switched to WAL by another process at the same moment): the open is tried again.
    Any other error is not."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from kernelwright.runs import database

    real = database._open_once
    calls: list[int] = []

    def flaky(engine: Any, migrate: bool) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError(
                "PRAGMA journal_mode=WAL", {}, sqlite3.OperationalError("database is locked")
            )
        real(engine, migrate)

    monkeypatch.setattr(database, "_open_once", flaky)
    with Store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        assert store.list_runs() == []
    assert len(calls) == 3

    def broken(engine: Any, migrate: bool) -> None:
        calls.append(1)
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    calls.clear()
    monkeypatch.setattr(database, "_open_once", broken)
    with pytest.raises(StoreError, match="disk I/O error"):
        Store(f"sqlite:///{tmp_path / 'other.db'}")
    assert len(calls) == 1
