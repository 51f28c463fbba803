"""`runs export RUN --format dataset`: a bench run and an agent run (with its LLM conversations)
stored through the store API, exported, and read back from parquet and JSON lines; credentials
planted in the store reach no output file; hostile task ids read nothing outside the shipped
suites; a folder that is not new or empty is refused untouched; pyarrow missing is one line."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest_runs import ENVIRONMENT, make_record
from typer.testing import CliRunner

from kernelwright.bench_tasks.task import SUITES_DIR
from kernelwright.commands.runs import register
from kernelwright.runs import dataset
from kernelwright.runs.dataset import COLUMNS, Scrubber, prompt_messages
from kernelwright.runs.store import Store

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

APP = typer.Typer()
register(APP)

# Every planted credential carries this marker: none may appear in any output.
MARK = "PLANTEDSECRET"
ANTHROPIC_KEY = f"sk-ant-api03-{MARK}0123456789abcdefABCDEF"
BEARER = f"{MARK}bearer0123456789"
# Formats no pattern knows: only the literal scrub of the environment and the keys file finds them.
ENV_KEY = f"opaque.{MARK}.env.4f9c2e7a"
KEYS_FILE_KEY = f"opaque.{MARK}.keysfile.1b3d5f60"
URL_PASSWORD = f"{MARK}urlpw"
VERIFIER_SECRET = f"{MARK}verifier0123456789"
ENV_TOKEN = f"{MARK}envtoken"

SYSTEM = "You write fast GPU kernels."
TASK_PROMPT = "## Task\nWrite relu for smoke/relu."
RELU = "import torch\n# relu kernel\nclass ModelNew(torch.nn.Module):\n    pass\n"


def cli(*args: str) -> Any:
    return CliRunner().invoke(APP, list(args))


def one_line_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


@pytest.fixture
def planted_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the environment and one in the keys file, as a user of `run` has them."""
    monkeypatch.setenv("KERNELWRIGHT_OPENAI_COMPATIBLE_KEY", ENV_KEY)
    keys = tmp_path / "keys.toml"
    keys.write_text(f'openai = "{KEYS_FILE_KEY}"\n')
    keys.chmod(0o600)
    monkeypatch.setenv("KERNELWRIGHT_KEYS", str(keys))


def store_bench_run(store: Store) -> int:
    run_id = store.create_run("cpu-examples", "smoke", "cpu", options={"kind": "bench"})
    for task, category in (("smoke/relu", "activation"), ("smoke/row_sum", "reduce")):
        candidate = store.add_candidate(run_id, task, f"# bench: {task}\n{RELU}", "cpu")
        evaluation = store.begin_evaluation(run_id, candidate, task)
        store.finish_evaluation(evaluation, make_record(task, category=category))
    store.finish_run(run_id)
    return run_id


def prompt(system: str, *messages: tuple[str, str]) -> str:
    """A prompt as ``agents.calls.prompt_text`` stores it."""
    return "\n\n".join([f"[system]\n{system}", *(f"[{r}]\n{t}" for r, t in messages)])


def store_agent_run(store: Store) -> tuple[int, list[int]]:
    """A refine run of three candidates, each the child of the one before, with the Coder's
    and the Judge's calls recorded for them, credentials planted where the store holds text."""
    options = {
        "kind": "run",
        "eval": {"trials": 1, "secret": VERIFIER_SECRET},
        "agent": {
            "base_url": f"https://user:{URL_PASSWORD}@llm.example/v1",
            "headers": {"Authorization": f"Bearer {BEARER}"},
        },
    }
    run_id = store.create_run(
        "refine anthropic", "smoke", "cpu", "anthropic:claude-x", "refine", options
    )
    task = "smoke/relu"
    # A host name (never exported) and a token under a key that names one, inside a kept part.
    versions = {**ENVIRONMENT["versions"], "api_token": ENV_TOKEN}
    leaky_env = {**ENVIRONMENT, "hostname": f"{MARK}host", "versions": versions}
    sources = [
        f"{RELU}# wrong\n",
        f'{RELU}api_key = "{MARK}inkernel0123"\n',
        f"{RELU}# faster\n",
    ]
    statuses = ["incorrect", "correct", "correct"]
    ids: list[int] = []
    for round_, (source, status) in enumerate(zip(sources, statuses, strict=True), start=1):
        parent = ids[-1] if ids else None
        candidate = store.add_candidate(run_id, task, source, "cpu", "coder", parent)
        ids.append(candidate)
        reply = f"Here is the kernel.\n```python\n{source}```\n"
        if round_ == 2:
            reply += f"(I used the key {ANTHROPIC_KEY} and {ENV_KEY})\n"
        store.record_llm_call(
            run_id,
            role="coder",
            provider="anthropic",
            model="claude-x",
            prompt=prompt(SYSTEM, ("user", f"{TASK_PROMPT}\nround {round_}")),
            response=reply,
            prompt_tokens=100,
            completion_tokens=50,
            cost_usd=0.01,
            latency_s=1.5,
            candidate_id=candidate,
            # Request metadata holding a header, as a careless provider might log it.
            tag=f"coder:{task}:r{round_} Authorization: Bearer {BEARER}",
            request_key=f"{round_:064d}",
            outcome="ok",
            attempts=1,
        )
        evaluation = store.begin_evaluation(run_id, candidate, task, "activation")
        store.finish_evaluation(
            evaluation, make_record(task, status, category="activation", environment=leaky_env)
        )
        store.record_llm_call(
            run_id,
            role="judge",
            provider="anthropic",
            model="claude-x",
            prompt=prompt(
                "You review GPU kernels.", ("user", f"verdict: {status}\nx-api-key: {BEARER}")
            ),
            response=f'{{"critical_issue": "none", "note": "{KEYS_FILE_KEY}"}}',
            candidate_id=candidate,
            tag=f"judge:{task}:r{round_}",
            outcome="ok",
        )
    # A Coder call that gave no code belongs to no candidate and to no row.
    store.record_llm_call(
        run_id,
        role="coder",
        provider="anthropic",
        model="claude-x",
        prompt="[user]\nno code please",
        response="no code",
        outcome="no_code",
    )
    store.finish_run(run_id)
    return run_id, ids


@pytest.fixture
def stored(db: str) -> dict[str, Any]:
    with Store(db) as store:
        bench = store_bench_run(store)
        agent, candidates = store_agent_run(store)
    return {"bench": bench, "agent": agent, "candidates": candidates}


def export(db: str, run_id: int, target: Path) -> Any:
    return cli("runs", "export", str(run_id), "--format", "dataset", "-o", str(target), "--db", db)


def read_back(target: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    assert sorted(p.name for p in target.iterdir()) == sorted(dataset.FILES)
    parquet = pq.read_table(target / "records.parquet").to_pylist()
    lines = (target / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return parquet, [json.loads(line) for line in lines]


def test_bench_run_exports_the_same_rows_to_parquet_and_jsonl(
    db: str, stored: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "bench-dataset"
    done = export(db, stored["bench"], target)
    assert done.exit_code == 0, done.stderr
    assert "wrote 2 evaluations" in done.stdout
    parquet, jsonl = read_back(target)
    assert parquet == jsonl and len(jsonl) == 2
    names = [name for name, _, _ in COLUMNS]
    assert pq.read_table(target / "records.parquet").column_names == names
    for row in jsonl:
        assert set(row) == set(names)
        assert row["run_id"] == stored["bench"] and row["label"] == "cpu-examples"
        assert (row["suite"], row["backend"], row["model"]) == ("smoke", "cpu", None)
        assert row["status"] == "correct" and row["correct"] is True
        assert row["candidate_ms"] == pytest.approx(1.0) and row["eager_ms"] == pytest.approx(2.0)
        assert row["speedup_eager"] == pytest.approx(2.0) and row["timing_meaningful"] is True
        assert row["parent_id"] is None and row["origin"] == "file"
        assert row["conversation"] == [] and row["violations"] == [] and row["flags"] == []
        assert json.loads(row["environment"])["device"] == "Test CPU 9000"
        # Only the environment's known keys: no host name.
        assert "hostname" not in json.loads(row["environment"])
        assert isinstance(json.loads(row["correctness"]), dict)
        shipped = SUITES_DIR / "smoke" / f"{row['task_id'].split('/')[1]}.py"
        assert row["task_source"] == shipped.read_text(encoding="utf-8")
        assert row["candidate_source"].startswith(f"# bench: {row['task_id']}")
    assert [row["category"] for row in jsonl] == ["activation", "reduce"]
    card = (target / "README.md").read_text(encoding="utf-8")
    assert "the task files keep their own licenses" in card
    assert "- rows: 2" in card and "- suite: smoke" in card and "cpu-examples" in card
    assert all(f"`{name}`" in card for name in names)
    # Nothing but the dataset next to it: the temporary folder is gone.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bench-dataset")]


def test_agent_run_keeps_lineage_and_conversations_and_no_credential(
    db: str, stored: dict[str, Any], tmp_path: Path, planted_env: None
) -> None:
    target = tmp_path / "agent-dataset"
    done = export(db, stored["agent"], target)
    assert done.exit_code == 0, done.stderr
    parquet, jsonl = read_back(target)
    assert parquet == jsonl
    first, second, third = stored["candidates"]
    assert [row["candidate_id"] for row in jsonl] == [first, second, third]
    assert [row["parent_id"] for row in jsonl] == [None, first, second]
    assert [row["status"] for row in jsonl] == ["incorrect", "correct", "correct"]
    assert all(row["origin"] == "coder" for row in jsonl)
    assert all(row["model"] == "anthropic:claude-x" for row in jsonl)
    assert all(row["strategy"] == "refine" for row in jsonl)

    conversation = jsonl[0]["conversation"]
    assert [call["agent"] for call in conversation] == ["coder", "judge"]
    coder = conversation[0]
    assert [m["role"] for m in coder["messages"]] == ["system", "user", "assistant"]
    assert coder["messages"][0]["text"] == SYSTEM
    assert coder["messages"][1]["text"] == f"{TASK_PROMPT}\nround 1"
    assert "```python" in coder["messages"][2]["text"]
    assert coder["prompt_tokens"] == 100 and coder["cost_usd"] == pytest.approx(0.01)
    # The header in the call's metadata is kept as a name, its value is not.
    assert coder["tag"].startswith("coder:smoke/relu:r1 Authorization:")
    assert "[REDACTED]" in coder["tag"]
    # The no-code call has no candidate, so no row.
    assert all(
        "no code please" not in m["text"]
        for row in jsonl
        for call in row["conversation"]
        for m in call["messages"]
    )
    assert 'api_key = "[REDACTED]' in jsonl[1]["candidate_source"]

    card = (target / "README.md").read_text(encoding="utf-8")
    assert "anthropic:claude-x" in card and "- rows: 3" in card

    # No planted credential reaches a file: neither its bytes (parquet pages included) nor
    # the decoded parquet values (a compressed page could hide them from a byte search).
    decoded = json.dumps(parquet)
    planted = (
        MARK,
        ANTHROPIC_KEY,
        BEARER,
        ENV_KEY,
        KEYS_FILE_KEY,
        URL_PASSWORD,
        VERIFIER_SECRET,
        ENV_TOKEN,
    )
    for path in target.iterdir():
        data = path.read_bytes()
        for secret in planted:
            assert secret.encode() not in data, (path.name, secret)
    for secret in planted:
        assert secret not in decoded
    assert "Authorization" not in json.dumps([row["environment"] for row in jsonl])


def test_hostile_ids_and_labels_are_data_and_read_nothing_outside_the_suites(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = tmp_path / "outside" / "canary.py"
    canary.parent.mkdir()
    canary.write_text("CANARY = 'must not be read'\n")
    hostile_ids = [
        "smoke/relu",
        "../../etc/passwd",
        "smoke/../../../etc/passwd",
        f"smoke/{os.path.relpath(canary, SUITES_DIR / 'smoke')}",
        str(canary),
        "smoke/relu\n",
        "smoke/relu\x1b[2J",
        "smoke/_hidden",
        "smoke/.hidden",
        "ops/../smoke/relu",
        "smoke/relu/../relu",
    ]
    label = "evil\x1b[31m\n# injected | <b>x</b>"
    with Store(db) as store:
        run_id = store.create_run(label, "../../outside", "cpu", options={"kind": "bench"})
        for task in hostile_ids:
            candidate = store.add_candidate(run_id, task, f"# {task!r}\n", "cpu")
            evaluation = store.begin_evaluation(run_id, candidate, task)
            store.finish_evaluation(evaluation, make_record(task))
        store.finish_run(run_id)

    opened: list[str] = []
    real_open = os.open

    def spy(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fsdecode(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(dataset.os, "open", spy)
    target = tmp_path / "hostile"
    done = export(db, run_id, target)
    assert done.exit_code == 0, done.stderr
    parquet, jsonl = read_back(target)
    assert parquet == jsonl
    assert [row["task_id"] for row in jsonl] == hostile_ids
    assert all(row["label"] == label for row in jsonl)
    sources = {row["task_id"]: row["task_source"] for row in jsonl}
    assert sources.pop("smoke/relu") == (SUITES_DIR / "smoke" / "relu.py").read_text()
    assert set(sources.values()) == {None}
    # The only task files opened are shipped ones; nothing under the canary's folder or /etc.
    tasks_opened = [p for p in opened if p.endswith(".py")]
    assert tasks_opened == [str(SUITES_DIR / "smoke" / "relu.py")]
    assert not any("passwd" in p or "outside" in p for p in opened)
    for path in target.iterdir():
        assert b"must not be read" not in path.read_bytes()
    card = (target / "README.md").read_text(encoding="utf-8")
    assert "\x1b" not in card and "<b>" not in card
    heading = card.splitlines()[0]
    assert heading.startswith(f"# kernelwright run {run_id}: evil") and "injected" in heading
    assert "not a shipped one" in card


def test_a_folder_that_is_not_new_or_empty_is_refused_untouched(
    db: str, stored: dict[str, Any], tmp_path: Path
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine\n")
    refused = export(db, stored["bench"], full)
    assert refused.exit_code == 2
    assert "is not empty" in one_line_error(refused)
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    assert (full / "keep.txt").read_text() == "mine\n"

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    refused = export(db, stored["bench"], a_file)
    assert refused.exit_code == 2 and "not a folder" in one_line_error(refused)
    assert a_file.read_text() == "x"

    link = tmp_path / "link"
    link.symlink_to(tmp_path / "empty-elsewhere", target_is_directory=True)
    (tmp_path / "empty-elsewhere").mkdir()
    refused = export(db, stored["bench"], link)
    assert refused.exit_code == 2 and "is a link" in one_line_error(refused)
    assert list((tmp_path / "empty-elsewhere").iterdir()) == []

    empty = tmp_path / "empty"
    empty.mkdir()
    done = export(db, stored["bench"], empty)
    assert done.exit_code == 0, done.stderr
    assert sorted(p.name for p in empty.iterdir()) == sorted(dataset.FILES)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_failed_write_leaves_nothing(
    db: str, stored: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", broken)
    target = tmp_path / "out"
    failed = export(db, stored["bench"], target)
    assert failed.exit_code == 2
    assert "No space left on device" in one_line_error(failed)
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_a_malformed_row_is_one_line_and_writes_nothing(
    db: str, stored: dict[str, Any], tmp_path: Path
) -> None:
    with sqlite3.connect(tmp_path / "runs.db") as connection:
        connection.execute(
            "update evaluations set finished = 'not a date' where run_id = ?", (stored["bench"],)
        )
    target = tmp_path / "out"
    broken = export(db, stored["bench"], target)
    assert broken.exit_code == 2
    assert "malformed row" in one_line_error(broken)
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_missing_pyarrow_is_one_line_naming_the_extra(
    db: str, stored: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes `import pyarrow` raise ImportError.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    target = tmp_path / "out"
    missing = export(db, stored["bench"], target)
    assert missing.exit_code == 2
    line = one_line_error(missing)
    assert "pyarrow" in line and "kernelwright[dataset]" in line
    assert not target.exists()


def test_unknown_run_and_bad_format_are_one_line(
    db: str, stored: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "out"
    missing = export(db, 99, target)
    assert missing.exit_code == 2 and "no run 99" in one_line_error(missing)
    assert not target.exists()
    bad = cli("runs", "export", "1", "--format", "arrow", "-o", str(target), "--db", db)
    assert bad.exit_code == 2 and "dataset" in one_line_error(bad)


def test_scrubber_and_prompt_split() -> None:
    scrub = Scrubber(["literal-secret-value"]).text
    assert scrub(f"key {ANTHROPIC_KEY} end") == "key [REDACTED] end"
    assert scrub("Authorization: Bearer abc.def.ghi\nnext") == "Authorization: [REDACTED]\nnext"
    assert scrub("postgresql://kw:hunter2@db/x") == "postgresql://kw:[REDACTED]@db/x"
    assert scrub('OPENAI_API_KEY="abcdefgh12345678"') == 'OPENAI_API_KEY="[REDACTED]"'
    assert scrub("x literal-secret-value y") == "x [REDACTED] y"
    # Kernel code is left alone.
    code = "num_tokens = x.shape[0]\nmask = offs < n  # disk-backed tokens\nBLOCK_KEY = 1024\n"
    assert scrub(code) == code
    assert Scrubber().value({"Api-Key": "opaque", "n": 1}, named=True) == {
        "Api-Key": "[REDACTED]",
        "n": 1,
    }
    assert prompt_messages("[system]\nS\n\n[user]\nU1\n\n[assistant]\nA\n\n[user]\nU2") == [
        {"role": "system", "text": "S"},
        {"role": "user", "text": "U1"},
        {"role": "assistant", "text": "A"},
        {"role": "user", "text": "U2"},
    ]
    assert prompt_messages("plain text") == [{"role": "user", "text": "plain text"}]
    assert prompt_messages("") == []
