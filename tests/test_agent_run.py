"""``kernelwright run`` end to end with the real verifier (Triton's interpreter on this CPU):
refine with a scripted provider, its resume and its replay; evolve against a local server that
speaks the OpenAI wire format, killed with SIGKILL mid-run and resumed without a paid call
repeated; and a planted key that must appear nowhere the run writes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES
from llm_wire_server import Answer, WireServer, ok

EXE = str(Path(sys.executable).with_name("kernelwright"))
RELU = (EXAMPLES / "triton" / "relu.py").read_text()
WRONG = RELU.replace("tl.where(x < 0.0, 0.0, x)", "tl.where(x < 0.0, x, 0.0)")
PLANTED_KEY = "sk-planted-4f9c2e7a1b3d5f60"


def fenced(source: str) -> str:
    return f"Here is the kernel.\n```python\n{source}```\n"


def blocked(block: int) -> str:
    return RELU.replace("BLOCK=1024", f"BLOCK={block}").replace(
        "triton.cdiv(n, 1024)", f"triton.cdiv(n, {block})"
    )


FAILURE = {"critical_issue": "the select is inverted", "why": "mismatch", "fix": "swap operands"}
SUCCESS = {
    "bottleneck": "many small programs",
    "evidence": [{"metric": "candidate_ms", "value": 1.0}],
    "optimization": "larger blocks",
    "plan": ["BLOCK=2048"],
}


@pytest.fixture
def env(cache_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KERNELWRIGHT_DB": f"sqlite:///{tmp_path / 'runs.db'}",
        "KERNELWRIGHT_CACHE_DIR": str(cache_dir),
        "KERNELWRIGHT_CONFIG": os.devnull,
        "KERNELWRIGHT_REP_MS": "20",
        "KERNELWRIGHT_WARMUP_MS": "5",
        "KERNELWRIGHT_COMPILE_BASELINE": "0",
        "KERNELWRIGHT_TRIALS": "1",
        "KERNELWRIGHT_SAMPLED_CONFIGS": "0",
    }


def kw(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=timeout)


def db_file(env: dict[str, str]) -> Path:
    return Path(env["KERNELWRIGHT_DB"].removeprefix("sqlite:///"))


def rows(env: dict[str, str], query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_file(env), timeout=10) as connection:
        return connection.execute(query).fetchall()


def test_refine_run_resume_and_replay(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "coder:smoke/relu:r1": [fenced(WRONG)],
                "judge:smoke/relu:r1": [json.dumps(FAILURE)],
                "coder:smoke/relu:r2": [fenced(RELU)],
                "judge:smoke/relu:r2": ["Sure! The kernel looks fine.", json.dumps(SUCCESS)],
                "coder:smoke/relu:r3": [fenced(blocked(2048))],
            }
        )
    )
    model = f"scripted:{script}"
    common = ("--suite", "smoke", "--tasks", "relu", "--backend", "triton", "--json")
    done = kw(env, "run", *common, "--model", model, "--rounds", "3")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    run_id = summary["run"]["id"]
    assert summary["run"]["status"] == "finished" and summary["run"]["strategy"] == "refine"
    assert summary["paid_calls"] == 6 and summary["reused_calls"] == 0
    assert [t["status"] for t in summary["tasks"]] == ["correct"]
    # One lineage: each candidate improves the one before; the first one was wrong.
    lineage = rows(
        env,
        "select c.id, c.parent_id, e.status from candidates c join evaluations e "
        f"on e.candidate_id = c.id where c.run_id = {run_id} order by c.id",
    )
    assert [status for _, _, status in lineage] == ["incorrect", "correct", "correct"]
    assert [parent for _, parent, _ in lineage] == [None, lineage[0][0], lineage[1][0]]
    calls = rows(env, f"select tag, outcome from llm_calls where run_id = {run_id} order by id")
    assert calls == [
        ("coder:smoke/relu:r1", "ok"),
        ("judge:smoke/relu:r1", "ok"),
        ("coder:smoke/relu:r2", "ok"),
        ("judge:smoke/relu:r2", "malformed"),
        ("judge:smoke/relu:r2:retry", "ok"),
        ("coder:smoke/relu:r3", "ok"),
    ]
    shown = kw(env, "runs", "show", str(run_id), "--json")
    assert shown.returncode == 0, shown.stderr
    shown_run = json.loads(shown.stdout)
    assert [n["parent_id"] for n in shown_run["lineage"]] == [None, lineage[0][0], lineage[1][0]]
    assert shown_run["spend"]["calls"] == 6
    listed = kw(env, "runs", "calls", str(run_id), "--json", "--full")
    assert listed.returncode == 0, listed.stderr
    stored_calls = json.loads(listed.stdout)
    assert [c["tag"] for c in stored_calls] == [tag for tag, _ in calls]
    assert "```python" in stored_calls[0]["response"] and "## Task" in stored_calls[0]["prompt"]

    # Resumed after the end, it asks nothing and measures nothing again.
    again = kw(env, "run", "--resume", str(run_id), "--json")
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["paid_calls"] == 0 and resumed["reused_calls"] == 6
    assert rows(env, f"select count(*) from evaluations where run_id = {run_id}") == [(3,)]

    # Replayed offline as a new run: the stored calls answer, at no cost; one round more than
    # the stored run held fails loudly instead of asking a live model.
    replay = kw(env, "run", *common, "--model", f"replay:{run_id}", "--rounds", "4")
    assert replay.returncode == 2, replay.stderr
    assert "holds no reply for the call judge:smoke/relu:r3" in replay.stderr
    replay_id = rows(env, "select max(id) from runs")[0][0]
    replayed = rows(
        env,
        f"select tag, cost_usd, cached_from is not null from llm_calls where run_id = {replay_id} "
        "and outcome in ('ok', 'malformed', 'no_code') order by id",
    )
    assert [tag for tag, _, _ in replayed] == [tag for tag, _ in calls]
    assert all(cost == 0 for _, cost, _ in replayed)
    statuses = rows(env, f"select status from evaluations where run_id = {replay_id} order by id")
    assert statuses == [("incorrect",), ("correct",), ("correct",)]


def _responder(body: dict[str, Any]) -> Answer:
    text = json.dumps(body.get("messages", []))
    if "You review GPU" in text:
        return ok(json.dumps(FAILURE if "critical_issue" in text else SUCCESS))
    # The same prompt gets the same kernel: a block size drawn from the prompt's hash.
    digest = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return ok(fenced(blocked((256, 512, 2048)[digest % 3])))


def _wait_for_calls(env: dict[str, str], count: int, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if db_file(env).exists():
            try:
                with sqlite3.connect(db_file(env), timeout=10) as connection:
                    found = connection.execute("select count(*) from llm_calls").fetchone()[0]
            except sqlite3.OperationalError:  # the store is still being created and migrated
                found = 0
            if found >= count:
                return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} LLM calls stored in {timeout_s} s")


def test_evolve_killed_and_resumed_pays_no_call_twice_and_leaks_no_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    env = {**env, "KERNELWRIGHT_OPENAI_COMPATIBLE_KEY": PLANTED_KEY}
    with WireServer(responder=_responder, hold_after=3) as server:
        args = (
            "run",
            "--suite",
            "smoke",
            "--tasks",
            "relu",
            "--backend",
            "triton",
            "--model",
            "openai-compatible:local-model",
            "--base-url",
            f"{server.url}/v1",
            "--strategy",
            "evolve",
            "--population",
            "2",
            "--generations",
            "2",
        )
        first = subprocess.Popen(
            [EXE, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _wait_for_calls(env, 3)
            assert server.wait_for_requests(4, timeout_s=300)  # the fourth is held unanswered
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            out_first, err_first = first.communicate(timeout=60)
        assert len(server.answered) == 3
        server.hold_after = None
        run_id = rows(env, "select max(id) from runs")[0][0]
        listed = kw(env, "runs", "list", "--json")
        assert [r["status"] for r in json.loads(listed.stdout)] == ["interrupted"]

        # The server's URL is given again: one read from the store is never sent a key.
        refused = kw(env, "run", "--resume", str(run_id))
        assert refused.returncode == 2 and "pass --base-url again" in refused.stderr
        resumed = kw(
            env, "run", "--resume", str(run_id), "--base-url", f"{server.url}/v1", "--json"
        )
        assert resumed.returncode == 0, resumed.stderr
        summary = json.loads(resumed.stdout)
        assert summary["run"]["status"] == "finished" and summary["reused_calls"] >= 3
        assert server.requests[0].headers["authorization"] == f"Bearer {PLANTED_KEY}"

    stored = rows(
        env,
        f"select request_key, cached_from, outcome, role from llm_calls where run_id = {run_id}",
    )
    keys = Counter(key for key, _, _, _ in stored)
    assert all(n == 1 for n in keys.values()), "a request was stored twice"
    # Every reply the server gave is one stored call: none was paid for twice.
    assert len(server.answered) == len(stored) == summary["spend"]["calls"]
    assert sum(1 for *_, role in stored if role == "coder") == 4
    assert rows(
        env, f"select count(distinct candidate_id) from evaluations where run_id = {run_id}"
    ) == rows(env, f"select count(*) from candidates where run_id = {run_id}")

    # The planted key appears nowhere the run wrote or printed.
    written = [out_first, err_first, resumed.stdout, resumed.stderr, listed.stdout]
    for command in (
        ("runs", "show", str(run_id), "--json"),
        ("runs", "export", str(run_id), "-o", str(tmp_path / "export.jsonl")),
        ("leaderboard", str(run_id), "--format", "html", "-o", str(tmp_path / "board.html")),
        ("leaderboard", str(run_id), "--format", "json"),
    ):
        shown = kw(env, *command)
        assert shown.returncode == 0, (command, shown.stderr)
        written += [shown.stdout, shown.stderr]
    files = [
        tmp_path / "export.jsonl",
        tmp_path / "board.html",
        *db_file(env).parent.glob("runs.db*"),
    ]
    assert all(PLANTED_KEY not in text for text in written)
    for path in files:
        assert PLANTED_KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--model", "openai:gpt-5"), "OPENAI_API_KEY is not set"),
        (("--model", "anthropic:claude-sonnet-4-5"), "ANTHROPIC_API_KEY is not set"),
        (("--model", "foo:bar"), "unknown provider spec 'foo:bar'"),
        (("--model", "replay:abc"), "replay needs a run id"),
        (("--model", "replay:99"), "no run 99"),
        (("--model", "scripted:/nonexistent.json"), "no script file"),
        (("--model", "openai-compatible:m"), "needs the server's base URL"),
        (("--model", "scripted:x", "--strategy", "annealing"), "unknown strategy 'annealing'"),
        (("--model", "scripted:x", "--rounds", "0"), "at least one round"),
        (("--model", "scripted:x", "--tasks", "nope"), "no task nope in suite smoke"),
        (("--model", "scripted:x", "--target-roofline", "2"), "between 0 and 1"),
    ],
)
def test_what_cannot_run_is_one_line_and_exit_2_and_stores_nothing(
    env: dict[str, str], tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    env = {k: v for k, v in env.items() if not k.endswith("_API_KEY")}
    env["KERNELWRIGHT_KEYS"] = str(tmp_path / "no-keys.toml")
    done = kw(env, "run", "--suite", "smoke", "--tasks", "relu", "--backend", "cpu", *flags)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    if db_file(env).exists():
        assert rows(env, "select count(*) from runs") == [(0,)]


def test_ctrl_c_while_a_call_is_in_flight_exits_at_once(env: dict[str, str]) -> None:
    from llm_wire_server import slow

    with WireServer() as server:
        server.queue(slow(120.0))  # a reply that would take two minutes
        child = subprocess.Popen(
            [
                EXE,
                "run",
                "--suite",
                "smoke",
                "--tasks",
                "relu",
                "--backend",
                "triton",
                "--model",
                "openai-compatible:m",
                "--base-url",
                f"{server.url}/v1",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert server.wait_for_requests(1, timeout_s=120)
        started = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        waited = time.monotonic() - started
    assert child.returncode == 130, err
    assert waited < 30, f"exited {waited:.0f} s after Ctrl-C"
    assert "stored as interrupted" in err and "--resume" in err
    assert rows(env, "select status from runs") == [("interrupted",)]
