"""Stored and user-supplied data is hostile: it never weakens a check, runs code, reaches a child's
secrets or steers a terminal.

Each test plants what an attacker with write access to a pull request or a shared store would:
a baseline that asks for a weaker sandbox or names a folder of task files, a result whose task id
points at a Python file, labels and logs full of markup and escape sequences, file names that
start a CI annotation, and keys in the environment of the process that runs a kernel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from conftest_runs import make_record
from typer.testing import CliRunner

from kernelwright.cli import app
from kernelwright.runs.store import Store

# A candidate that fails before any build: the commands below must not spend a C++ compile.
FAILS_AT_ONCE = "raise RuntimeError('this kernel does not build')\n"


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


def error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def no_annotation_lines(*texts: str) -> None:
    """No line of the output starts with data that a CI runner would read as a command."""
    for text in texts:
        for line in text.splitlines():
            assert not line.lstrip().startswith(("::", "##[", "##vso")), line


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user config or store is read: settings come from defaults and this test alone."""
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("KERNELWRIGHT_CONFIG", str(config))
    monkeypatch.setenv("KERNELWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KERNELWRIGHT_DB", raising=False)
    monkeypatch.delenv("KERNELWRIGHT_SANDBOX", raising=False)
    return tmp_path


def write_baseline(path: Path, run: dict[str, Any], task: str = "smoke/relu") -> Path:
    """An exported results file as ``runs export`` writes it, with the run facts given."""
    record = make_record(task, samples=[1.0, 1.01, 0.99], category="activation")
    line = {"format": "kernelwright.results/1", "run": run, "task_id": task, "run_id": 1}
    line.update(evaluation_id=1, candidate_id=1, status="correct", correct=True, record=record)
    path.write_text(json.dumps(line) + "\n")
    return path


def candidates(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def stored_runs(db: str) -> list[Any]:
    with Store(db) as store:
        return store.list_runs()


# -- a baseline decides nothing about how strictly kernels are checked ---------------------------


def test_a_baseline_cannot_turn_the_sandbox_off(isolated: Path, db: str) -> None:
    run = {"suite": "smoke", "backend": "cpu", "options": {"eval": {"sandbox": "process"}}}
    baseline = write_baseline(isolated / "baseline.jsonl", run)
    folder = candidates(isolated / "kernels", **{"relu.py": FAILS_AT_ONCE})
    refused = cli("regress", "--db", db, "--baseline", str(baseline), "--against", str(folder))
    assert refused.exit_code == 2, refused.stdout
    line = error_line(refused)
    assert "less strictly" in line and "sandbox process" in line
    assert stored_runs(db) == []  # nothing was evaluated

    # Only the user's own flag applies the record, and then the weak level is announced.
    trusted = cli(
        "regress", "--db", db, "--baseline", str(baseline), "--against", str(folder),
        "--use-recorded-options",
    )  # fmt: skip
    assert trusted.exit_code == 4, trusted.stderr  # correct in the baseline, not now
    assert "warning:" in trusted.stderr and "process" in trusted.stderr


@pytest.mark.parametrize(
    "weaker",
    [{"compile_only": True}, {"trials": 1}, {"sampled_configs": 0}, {"timing": False}],
)
def test_a_baseline_cannot_lower_the_checks(
    isolated: Path, db: str, weaker: dict[str, Any]
) -> None:
    run = {"suite": "smoke", "backend": "cpu", "options": {"eval": weaker}}
    baseline = write_baseline(isolated / "baseline.jsonl", run)
    folder = candidates(isolated / "kernels", **{"relu.py": FAILS_AT_ONCE})
    refused = cli("regress", "--db", db, "--baseline", str(baseline), "--against", str(folder))
    assert refused.exit_code == 2 and "less strictly" in error_line(refused)
    assert stored_runs(db) == []


def test_a_baseline_cannot_name_task_files_to_import(isolated: Path, db: str) -> None:
    marker = isolated / "imported"
    tasks = candidates(
        isolated / "evil_tasks",
        **{"relu.py": f"open({str(marker)!r}, 'w').write('ran')\n"},
    )
    run = {"suite": str(tasks), "backend": "cpu", "options": {}}
    baseline = write_baseline(isolated / "baseline.jsonl", run)
    folder = candidates(isolated / "kernels", **{"relu.py": FAILS_AT_ONCE})
    refused = cli("regress", "--db", db, "--baseline", str(baseline), "--against", str(folder))
    assert refused.exit_code == 2 and "--suite" in error_line(refused)
    assert not marker.exists()
    # The user naming the folder is what loads it (and so the planted file above was live).
    named = cli(
        "regress", "--db", db, "--baseline", str(baseline), "--against", str(folder),
        "--suite", str(tasks),
    )  # fmt: skip
    assert marker.exists(), named.stderr


@pytest.mark.parametrize(
    "content",
    [
        "not json\n",
        '{"format": "kernelwright.results/1", "task_id": "smoke/relu", "record": [1, 2]}\n',
        '{"task_id": "smoke/relu", "record": {"status": "correct",'
        ' "timing": {"samples": ["1", "x"]}}}\n',
        '{"task_id": "smoke/relu", "record": {"status": 5}}\n',
        '{"task_id": "smoke/relu", "record": {"status": "correct", "extra": []}}\n',
        '{"task_id": 7, "record": {}}\n',
        '["a list"]\n',
    ],
)
def test_a_malformed_baseline_is_a_usage_error(isolated: Path, db: str, content: str) -> None:
    with Store(db) as store:
        run_id = store.create_run("x", "smoke", "cpu")
        store.finish_run(run_id)
    baseline = isolated / "baseline.jsonl"
    baseline.write_text(content)
    result = cli("regress", "--db", db, "--baseline", str(baseline), "--against", str(run_id))
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    error_line(result)


def test_a_resumed_run_keeps_your_settings(isolated: Path, db: str) -> None:
    folder = candidates(isolated / "kernels", **{"relu.py": FAILS_AT_ONCE})
    with Store(db) as store:
        weak = store.create_run(
            "weak",
            "smoke",
            "cpu",
            options={"solutions": str(folder), "eval": {"sandbox": "process"}},
        )
        store.finish_run(weak, "interrupted")
        foreign = store.create_run(
            "foreign", str(isolated / "evil_tasks"), "cpu", options={"solutions": str(folder)}
        )
        store.finish_run(foreign, "interrupted")
        bad = store.create_run(
            "bad", "smoke", "cpu", options={"solutions": str(folder), "eval": {"trials": "many"}}
        )
        store.finish_run(bad, "interrupted")
    result = cli("bench", "--db", db, "--resume", str(weak))
    assert result.exit_code == 2 and "less strictly" in error_line(result)
    result = cli("bench", "--db", db, "--resume", str(foreign))
    assert result.exit_code == 2 and "--suite" in error_line(result)
    result = cli("bench", "--db", db, "--resume", str(bad))
    assert result.exit_code == 2 and "trials" in error_line(result)


# -- a stored task id is never imported -------------------------------------------------------------


def test_the_leaderboard_never_imports_a_stored_task_id(isolated: Path, db: str) -> None:
    marker = isolated / "imported"
    evil = isolated / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    relative = os.path.relpath(evil.with_suffix(""), ROOT / "bench_tasks" / "suites" / "smoke")
    with Store(db) as store:
        run_id = store.create_run("shared", "smoke", "cpu")
        for task_id in (str(evil), f"smoke/{relative}"):
            candidate = store.add_candidate(run_id, task_id, "x = 1\n", "cpu")
            evaluation = store.begin_evaluation(run_id, candidate, task_id)
            store.finish_evaluation(evaluation, make_record(task_id, status="incorrect"))
        store.finish_run(run_id)
    board = cli("leaderboard", "--db", db, "--json")
    assert board.exit_code == 0, board.stderr
    assert not marker.exists()
    rows = json.loads(board.stdout)["rows"]
    assert list(rows[0]["categories"]) == ["uncategorized"]


def test_a_shipped_task_id_cannot_climb_out_of_its_suite(isolated: Path) -> None:
    from kernelwright.bench_tasks import TaskError, resolve_task

    marker = isolated / "imported"
    evil = isolated / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    relative = os.path.relpath(evil.with_suffix(""), ROOT / "bench_tasks" / "suites" / "smoke")
    for ref in (f"smoke/{relative}", f"../{relative}", "smoke/.."):
        with pytest.raises(TaskError):
            resolve_task(ref)
    assert not marker.exists()


# -- what data shows on a terminal ------------------------------------------------------------------

HOSTILE_LABEL = "[/] \x1b[2J\x1b]8;;https://evil\x07x [link=https://evil]y[/link] [bold red]z"
HOSTILE_LOG = "[/]boom\x1b[31m\n::error file=a.py::pwned"


def test_markup_and_escape_sequences_in_a_store_reach_no_terminal(isolated: Path, db: str) -> None:
    with Store(db) as store:
        run_id = store.create_run(HOSTILE_LABEL, "smoke", "cpu", model="[/]model")
        candidate = store.add_candidate(run_id, "smoke/relu", "x = 1\n", "cpu")
        evaluation = store.begin_evaluation(run_id, candidate, "smoke/relu", "[/]cat")
        record = make_record("smoke/relu", status="runtime_error")
        record["log"] = HOSTILE_LOG
        store.finish_evaluation(evaluation, record)
        store.finish_run(run_id)
    for args in (["runs", "list"], ["runs", "show", str(run_id)], ["leaderboard"],
                 ["leaderboard", "--group-by", "label,model,device"]):  # fmt: skip
        result = cli(*args, "--db", db, env={"COLUMNS": "400"})
        assert result.exit_code == 0, (args, result.stderr, result.exception)
        shown = result.stdout + result.stderr
        assert "\x1b" not in shown and "\x07" not in shown, args
        assert "[/]" in shown, args  # the text itself, shown literally
        no_annotation_lines(shown)
    shown = cli("runs", "show", str(run_id), "--db", db, env={"COLUMNS": "400"}).stdout
    assert "[/]boom\\x1b[31m" in shown and "[link=https://evil]y[/link]" in shown


def test_hostile_file_names_start_no_line_of_bench_output(isolated: Path, db: str) -> None:
    folder = candidates(
        isolated / "kernels",
        **{
            "relu.py": FAILS_AT_ONCE,
            "x\n::error file=a::pwned.py": "x = 1\n",
            "[bold red]x[link=https:evil]y.py": "x = 1\n",
        },
    )
    result = cli(
        "bench", str(folder), "--suite", "smoke", "--backend", "cpu", "--db", db,
        env={"COLUMNS": "400"},
    )  # fmt: skip
    assert result.exit_code == 0, (result.stderr, result.exception)
    no_annotation_lines(result.stdout, result.stderr)
    assert "x\\x0a::error" in result.stdout + result.stderr
    assert "[bold red]x[link=https:evil]y.py" in result.stdout + result.stderr


# The kernel's own exception text is stored as its log and shown by eval and bench.
MARKUP_KERNEL = """
from torch.utils.cpp_extension import load_inline

raise RuntimeError("[/] [link=https://evil]x[/link] \\x1b[2J\\n::error file=a::pwned")
_ext = load_inline(name="never_built", cpp_sources="", functions=[])
"""


def test_markup_in_a_kernels_exception_reaches_no_terminal(isolated: Path, db: str) -> None:
    folder = candidates(isolated / "kernels", **{"relu.py": MARKUP_KERNEL})
    shown = cli("eval", str(folder / "relu.py"), "--task", "smoke/relu", env={"COLUMNS": "400"})
    assert shown.exit_code == 1, (shown.stderr, shown.exception)
    benched = cli(
        "bench", str(folder), "--suite", "smoke", "--backend", "cpu", "--db", db,
        env={"COLUMNS": "400"},
    )  # fmt: skip
    assert benched.exit_code == 0, (benched.stderr, benched.exception)
    for result in (shown, benched):
        text = result.stdout + result.stderr
        assert "[/] [link=https://evil]x[/link]" in text
        assert "\x1b" not in text
        no_annotation_lines(text)


# -- secrets ----------------------------------------------------------------------------------------

SECRETS = {
    "OPENAI_API_KEY": "sk-kwsecret-openai-0123456789",
    "ANTHROPIC_API_KEY": "sk-ant-kwsecret-anthropic",
    "GITHUB_TOKEN": "ghp_kwsecret_token",
    "DATABASE_URL": "postgresql://ci:kwsecret-pw@db.internal/kernels",
    "MY_SERVICE": "https://bot:kwsecret-inline@example.invalid/x",
    "MYSQL_PWD": "kwsecret-mysql",
    "DB_PASS": "kwsecret-db-pass",
    "GH_PAT": "kwsecret-pat",
    "CI_JOB_JWT": "kwsecret-jwt",
    "GPG_PASSPHRASE": "kwsecret-gpg",
}
# Reads every place a kernel in the parent's process tree could find them, and raises with what
# it found (the log is stored): its own environment, and /proc/<pid>/environ and cmdline of its
# parent and every ancestor it can read.
PROBE = """
import os

from torch.utils.cpp_extension import load_inline

found, read = [], 0
places = [("self", "/proc/self/environ")]
pid = os.getppid()
while pid > 1:
    places += [(str(pid), f"/proc/{pid}/environ"), (str(pid), f"/proc/{pid}/cmdline")]
    with open(f"/proc/{pid}/stat") as stat:
        pid = int(stat.read().rsplit(")", 1)[1].split()[1])
for who, place in places:
    try:
        with open(place, "rb") as view:
            data = view.read()
    except OSError:
        continue
    read += len(data)
    if b"kwsecret" in data:
        found.append(place)
found += [name for name, value in os.environ.items() if "kwsecret" in value]
raise RuntimeError(f"PROBE read={read} found={found}")
_ext = load_inline(name="never_built", cpp_sources="", functions=[])
"""


def _secret_free(text: str, where: str) -> None:
    assert "kwsecret" not in text, f"a planted secret reached {where}"


@pytest.mark.parametrize("level", ["process", "bwrap"])
def test_keys_and_database_urls_never_reach_a_kernel(tmp_path: Path, level: str) -> None:
    from kernelwright.verifier.sandbox import SandboxError, choose_level

    if level == "bwrap":
        try:
            choose_level("bwrap")
        except SandboxError as exc:
            pytest.fail(f"bubblewrap is required for this test: {exc}")
    store = tmp_path / "runs.db"
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KERNELWRIGHT_")},
        **SECRETS,
        "KERNELWRIGHT_DB": str(store),
        "KERNELWRIGHT_CONFIG": str(config),
        "KERNELWRIGHT_CACHE_DIR": str(tmp_path / "cache"),
    }
    probe = tmp_path / "relu.py"
    probe.write_text(PROBE)
    command = [
        sys.executable, "-m", "kernelwright.cli", "eval", str(probe), "--task", "smoke/relu",
        "--backend", "cpu", "--sandbox", level, "--allow", "os", "--allow", "open", "--json",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    verdict = json.loads(done.stdout)
    assert "PROBE read=" in verdict["log"], verdict["log"]  # the probe ran and reported
    assert "found=[]" in verdict["log"], verdict["log"]
    _secret_free(done.stdout + done.stderr, "the verdict")
    if level == "process":
        # It read its parent's start-up environment, where the keys were planted.
        read = int(verdict["log"].split("PROBE read=")[1].split()[0])
        assert read > 0

    # A bench stores the run, its options, environment and logs; exports and reports carry them.
    folder = candidates(tmp_path / "kernels", **{"relu.py": FAILS_AT_ONCE})
    steps = [
        ["bench", str(folder), "--suite", "smoke", "--backend", "cpu", "--json"],
        ["runs", "show", "latest", "--json"],
        ["runs", "export", "latest", "-o", str(tmp_path / "out.jsonl")],
        ["runs", "export", "latest", "--format", "sources", "-o", str(tmp_path / "src")],
        ["leaderboard", "--format", "md"],
    ]
    for step in steps:
        ran = subprocess.run(
            [sys.executable, "-m", "kernelwright.cli", *step, "--db", str(store)],
            capture_output=True,
            text=True,
            env={**env, "KERNELWRIGHT_SANDBOX": level},
            timeout=300,
        )
        assert ran.returncode == 0, (step, ran.stderr)
        _secret_free(ran.stdout + ran.stderr, " ".join(step))
    _secret_free(store.read_bytes().decode(errors="replace"), "the store file")
    for path in [tmp_path / "out.jsonl", *(tmp_path / "src").iterdir()]:
        _secret_free(path.read_text(), str(path))


def test_a_child_environment_holds_no_credential() -> None:
    from kernelwright.verifier.secrets_guard import child_environment

    parent = {
        **SECRETS,
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        # An allowlisted name is dropped too when its value carries a password.
        "CUDA_HOME": "https://u:kwsecret-in-a-path@example.invalid/cuda",
        "KERNELWRIGHT_DB": "postgresql://kw:kwsecret@db/kw",
    }
    assert child_environment(parent) == {"PATH": "/usr/bin", "LANG": "C.UTF-8"}


WITHDRAW = """
import os, sys
from kernelwright.verifier.secrets_guard import withdraw_from_proc
assert withdraw_from_proc() > 0
environ = open("/proc/self/environ", "rb").read()
cmdline = open("/proc/self/cmdline", "rb").read()
# The process itself keeps every value; /proc shows none of them.
kept = os.environ["OPENAI_API_KEY"] + os.environ["DATABASE_URL"] + " ".join(sys.argv)
# Libraries that call getenv() (libpq's PGPASSWORD) still find them.
import ctypes
libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p
seen = libc.getenv(b"DB_PASS")
print(b"kwsecret" in environ, b"kwsecret" in cmdline, kept.count("kwsecret"), b"PATH=" in environ,
      seen == os.environ["DB_PASS"].encode())
"""


def test_withdrawn_secrets_leave_proc_but_not_the_process(tmp_path: Path) -> None:
    env = {**os.environ, **SECRETS}
    script = tmp_path / "withdraw.py"
    script.write_text(WITHDRAW)
    argv = [sys.executable, str(script), "--db", "postgresql://kw:kwsecret-arg@db/kw"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "3", "True", "True"]


# -- what the review of the first version found -------------------------------------------------


def test_a_stored_suite_name_is_never_a_folder_of_the_working_directory(
    isolated: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = isolated / "imported"
    candidates(isolated / "cwd" / "smoke", **{"relu.py": f"open({str(marker)!r}, 'w')\n"})
    monkeypatch.chdir(isolated / "cwd")
    with Store(db) as store:
        baseline = store.create_run("base", "smoke", "cpu", options={"eval": {}})
        candidate = store.add_candidate(baseline, "smoke/relu", "x = 1\n", "cpu")
        evaluation = store.begin_evaluation(baseline, candidate, "smoke/relu")
        store.finish_evaluation(evaluation, make_record("smoke/relu"))
        store.finish_run(baseline)
    folder = candidates(isolated / "kernels", **{"relu.py": FAILS_AT_ONCE})
    result = cli("regress", "--db", db, "--baseline", str(baseline), "--against", str(folder))
    assert result.exit_code == 4, (result.stderr, result.exception)  # the shipped task, broken
    assert not marker.exists()
    # ``./smoke`` is how a user names that folder.
    from kernelwright.bench_tasks import suite_dir

    assert suite_dir("./smoke") == (isolated / "cwd" / "smoke").resolve()


def _sql(db: str, *statements: str) -> None:
    import sqlite3

    with sqlite3.connect(db.removeprefix("sqlite:///")) as connection:
        for statement in statements:
            connection.execute(statement)


MALFORMED_ROWS = [
    "UPDATE evaluations SET verdict = '[1, 2]'",
    "UPDATE evaluations SET verdict = '\"text\"'",
    'UPDATE evaluations SET verdict = \'{"extra": [1], "timing": "x", "flags": 3}\'',
    "UPDATE evaluations SET environment = '\"a string\"', category = 5",
    "UPDATE evaluations SET speedup_eager = 'fast', candidate_ms = 'x', eager_ms = 1e999",
    "UPDATE runs SET options = '[1]'",
    'UPDATE runs SET options = \'{"planned": 3, "missing": [[1]], "unmatched": [2]}\'',
    "UPDATE runs SET label = X'00ff', model = 7, status = 'running'",
    # A writer on this very boot and pid namespace, with a pid no process can have.
    "UPDATE runs SET status = 'running', options = "
    '\'{"writer": {"pid": 1180591620717411303424, "start": 1, "boot_id": "BOOT", "pid_ns": NS}}\'',
    "UPDATE runs SET created = 'not a date'",
    "UPDATE runs SET options = 'not json'",
]


@pytest.mark.parametrize("statement", MALFORMED_ROWS)
def test_malformed_rows_give_one_line_never_a_traceback(
    isolated: Path, db: str, statement: str
) -> None:
    with Store(db) as store:
        run_id = store.create_run("shared", "smoke", "cpu")
        candidate = store.add_candidate(run_id, "smoke/relu", "x = 1\n", "cpu")
        evaluation = store.begin_evaluation(run_id, candidate, "smoke/relu", "activation")
        store.finish_evaluation(evaluation, make_record("smoke/relu"))
        store.finish_run(run_id)
        other = store.create_run("other", "smoke", "cpu")
        store.finish_run(other)
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    pid_ns = os.stat("/proc/self/ns/pid").st_ino
    _sql(db, statement.replace("BOOT", boot_id).replace("NS", str(pid_ns)))
    commands = [
        ["runs", "list"], ["runs", "list", "--json"], ["runs", "show", "1"],
        ["runs", "show", "1", "--json"], ["runs", "export", "1", "-o", str(isolated / "o.jsonl")],
        ["leaderboard"], ["leaderboard", "--format", "md"], ["leaderboard", "--format", "csv"],
        ["leaderboard", "--format", "json"], ["leaderboard", "--format", "html"],
        ["regress", "--baseline", "1", "--against", "1"],
    ]  # fmt: skip
    for args in commands:
        result = cli(*args, "--db", db)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        if result.exit_code not in (0, 4, 5):
            assert result.exit_code in (2, 3), (args, result.exit_code)
            error_line(result)


def test_regress_exits_2_on_bad_settings_and_writes_no_report_through_a_link(
    isolated: Path, db: str
) -> None:
    for bad in ("notascheme://x", "postgresql://u:pw@h:notaport/d"):
        result = cli("regress", "--db", bad, "--baseline", "1", "--against", "2")
        assert result.exit_code == 2 and "pw" not in error_line(result), bad
    with Store(db) as store:
        run_id = store.create_run("base", "smoke", "cpu")
        candidate = store.add_candidate(run_id, "smoke/relu", "x = 1\n", "cpu")
        evaluation = store.begin_evaluation(run_id, candidate, "smoke/relu")
        store.finish_evaluation(evaluation, make_record("smoke/relu"))
        store.finish_run(run_id)
    target = isolated / "precious"
    target.write_text("keep me")
    links = {name: isolated / name for name in ("r.xml", "r.md", "board.md")}
    for link in links.values():
        link.symlink_to(target)
    result = cli(
        "regress", "--db", db, "--baseline", "1", "--against", "1",
        "--junit", str(links["r.xml"]), "--markdown", str(links["r.md"]),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    board = cli("leaderboard", "--db", db, "--format", "md", "-o", str(links["board.md"]))
    assert board.exit_code == 0, board.stderr
    assert target.read_text() == "keep me"
    assert all(not link.is_symlink() and link.stat().st_size > 0 for link in links.values())
    empty = isolated / "empty.jsonl"
    empty.write_text("\n")
    result = cli("regress", "--db", db, "--baseline", str(empty), "--against", "1")
    assert result.exit_code == 2 and "no results" in error_line(result)


def test_a_long_label_never_wraps_onto_a_line_of_its_own(isolated: Path, db: str) -> None:
    with Store(db) as store:
        run_id = store.create_run("x" * 150 + " ::warning::pwned", "smoke", "cpu")
        store.finish_run(run_id)
    for columns in ("60", "160"):
        shown = cli("runs", "show", str(run_id), "--db", db, env={"COLUMNS": columns})
        assert shown.exit_code == 0, shown.stderr
        no_annotation_lines(shown.stdout, shown.stderr)


def test_a_resume_records_the_options_it_used(isolated: Path, db: str) -> None:
    from kernelwright.runs.bench import recorded_options
    from kernelwright.verifier import EvalOptions

    mine = recorded_options(EvalOptions(cache_dir=isolated / "cache"))
    with Store(db) as store:
        run_id = store.create_run("r", "smoke", "cpu", options={"eval": {**mine, "trials": 5}})
        store.finish_run(run_id, "interrupted")
        store.resume_run(run_id, mine)
        options = store.get_run(run_id).options
    assert options["eval"] == mine and options["eval_before"] == [{**mine, "trials": 5}]


def test_tasks_show_sends_no_escape_sequence_from_a_task_file(isolated: Path) -> None:
    task = isolated / "title.py"
    task.write_text(
        (ROOT / "bench_tasks" / "suites" / "smoke" / "relu.py").read_text()
        + "\n# \x1b]0;pwned\x07 \x1b[2J\n"
    )
    shown = cli("tasks", "show", str(task), env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\\x1b]0;pwned" in shown.stdout


def test_a_planted_writer_cannot_take_the_listing_down(isolated: Path, db: str) -> None:
    with Store(db) as store:
        run_id = store.create_run("shared", "smoke", "cpu")
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    pid_ns = os.stat("/proc/self/ns/pid").st_ino
    writer = {"pid": 2**70, "start": 1, "boot_id": boot_id, "pid_ns": pid_ns}
    _sql(db, f"UPDATE runs SET options = '{json.dumps({'writer': writer})}'")
    listed = cli("runs", "list", "--db", db, "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [run["status"] for run in json.loads(listed.stdout)] == ["running"]
    assert run_id == 1
