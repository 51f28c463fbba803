"""Planted faults (ROBUSTNESS.md, F01-F09): each must end in its status with a one-line reason,
leave nothing running, and leave the harness able to evaluate the next candidate cleanly.

Evaluations run a few at a time in threads, as in test_exploits.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from host_services import TcpListener
from prefetch import Prefetch, describe

from kernelwright.bench_tasks import resolve_task
from kernelwright.verifier import EvalOptions, Verdict, evaluate
from kernelwright.verifier.sandbox import cgroups_available

TESTS = Path(__file__).resolve().parent
FAULTS = TESTS / "faults"
HONEST_RELU = TESTS.parent / "examples" / "smoke" / "triton" / "relu.py"

QUICK: dict[str, Any] = {"timing": False, "trials": 1, "sampled_configs": 0}
LOG_LIMIT = 20_000  # evaluate() keeps at most this many characters of log

# F08 targets: outside every sandbox path, on the host's root file system.
SENTINEL = Path("/var/tmp/kernelwright_f08_sentinel")
SENTINEL_TEXT = "written by tests/test_faults.py; a candidate must not change it\n"

FORK_BOMB_ENV = "KERNELWRIGHT_TEST_FORK_BOMB"


@dataclass(frozen=True)
class Case:
    """One planted fault, where it runs, and the verdict it must get."""

    id: str
    file: str
    task: str
    status: str | tuple[str, ...]
    reason: str = ""  # expected in the first line of the log
    options: dict[str, Any] = field(default_factory=dict)
    own_cache: bool = False  # a cache dir of its own, so leftover processes can be told apart
    backend: str = "triton"


def param(case: Case, *marks: pytest.MarkDecorator) -> Any:
    return pytest.param(case, id=case.id, marks=marks)


CASES: list[Any] = [
    param(Case("F01-abort", "F01_abort.py", "smoke/relu", "crashed", "killed by SIGABRT", QUICK)),
    param(
        Case("F01-segfault", "F01_segfault.py", "smoke/relu", "crashed", "killed by SIGSEGV", QUICK)
    ),
    param(
        Case(
            "F02-endless-loop",
            "F02_endless_loop.py",
            "smoke/relu",
            "timeout",
            "correctness phase exceeded its 15 s limit",
            {**QUICK, "timeout": 15.0},
            own_cache=True,
        )
    ),
    param(
        Case(
            "F05-endless-compile",
            "F05_endless_compile.py",
            "smoke/relu",
            "compile_error",
            "compile phase exceeded its 20 s limit",
            {**QUICK, "timeout": 20.0},
            backend="cpu",
            own_cache=True,
        )
    ),
    param(
        Case(
            "F03-memory-bomb",
            "F03_memory_bomb.py",
            "smoke/relu",
            ("runtime_error", "crashed"),
            "",
            QUICK,
        )
    ),
    param(
        Case(
            "F03-memory-touched",
            "F03_memory_touched.py",
            "smoke/relu",
            ("runtime_error", "crashed"),
            "",
            # The bomb writes to twice this much and then answers correctly: only a limit that
            # holds stops it.
            {**QUICK, "memory_limit_bytes": 1 << 30},
        )
    ),
    param(
        Case(
            "F04-fork-bomb",
            "F04_fork_bomb.py",
            "smoke/relu",
            ("crashed", "rejected", "runtime_error"),
            "",
            {**QUICK, "timeout": 60.0},
            own_cache=True,
        ),
        pytest.mark.slow,
        pytest.mark.skipif(
            not (cgroups_available() or os.environ.get(FORK_BOMB_ENV)),
            reason=f"no pids cgroup can be made here, and the fallback process limit is per uid "
            f"(65534), so the bomb would starve other sandboxed evaluations; set {FORK_BOMB_ENV}=1 "
            "to run it anyway",
        ),
    ),
    param(
        Case(
            "F08-write-outside",
            "F08_write_outside.py",
            "smoke/relu",
            "runtime_error",
            "Errno",
            QUICK,
        )
    ),
    param(Case("F08-network", "F08_network.py", "smoke/relu", "runtime_error", "Errno", QUICK)),
    param(
        Case(
            "F09-syntax-error",
            "F09_syntax_error.py",
            "smoke/relu",
            "compile_error",
            "SyntaxError",
            QUICK,
        )
    ),
    param(
        Case(
            "F09-no-modelnew",
            "F09_no_modelnew.py",
            "smoke/relu",
            "compile_error",
            "defines no ModelNew",
            QUICK,
        )
    ),
    param(
        Case(
            "F09-wrong-signature",
            "F09_wrong_signature.py",
            "smoke/bias_add_broadcast",
            "compile_error",
            "constructor does not accept the task's init inputs",
            QUICK,
        )
    ),
    param(
        Case(
            "F09-wrong-shape",
            "F09_wrong_shape.py",
            "smoke/relu",
            "incorrect",
            "has shape [262144], expected [16, 16384]",
            QUICK,
        )
    ),
    param(
        Case(
            "F09-import-error",
            "F09_import_error.py",
            "smoke/relu",
            "compile_error",
            "ModuleNotFoundError",
            QUICK,
        )
    ),
]
BY_ID: dict[str, Any] = {p.values[0].id: p for p in CASES}

F06_FLOOD = Case("F06-flood", "F06_flood_output.py", "smoke/relu", "correct", options=QUICK)
F06_FLOOD_WRONG = Case(
    "F06-flood-then-wrong-shape",
    "F06_flood_then_wrong_shape.py",
    "smoke/relu",
    "incorrect",
    "has shape [262144], expected [16, 16384]",
    QUICK,
)


def _processes_with(text: str, uid: int | None = None) -> list[str]:
    """Command lines of live processes that contain ``text`` (optionally: owned by ``uid``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            owner = entry.stat().st_uid
        except OSError:
            continue
        if text in cmdline and (uid is None or owner == uid):
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


@pytest.fixture(scope="module")
def f08_targets() -> Iterator[TcpListener]:
    SENTINEL.parent.mkdir(parents=True, exist_ok=True)
    SENTINEL.write_text(SENTINEL_TEXT)
    SENTINEL.chmod(0o666)  # writable by anyone outside a sandbox: only the sandbox stops the write
    listener = TcpListener()
    yield listener
    listener.close()
    SENTINEL.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def verdicts(
    request: pytest.FixtureRequest,
    run_eval: Any,
    tmp_path_factory: pytest.TempPathFactory,
    f08_targets: TcpListener,
) -> Iterator[Prefetch]:
    def run(case: Case) -> Verdict:
        # Faults are about what the sandbox and the parent do when a child misbehaves; the static
        # allowlist would reject most of these files (os, ctypes, socket) before they run.
        static = {"static_checks": False}
        path = FAULTS / case.file
        if case.file == "F08_network.py":
            # The listener's port, written into a copy of the candidate: nothing on the host is
            # visible inside the sandbox to pass it through.
            path = tmp_path_factory.mktemp("f08") / case.file
            source = (FAULTS / case.file).read_text()
            path.write_text(source.replace("PORT = 0\n", f"PORT = {f08_targets.port}\n"))
        if not case.own_cache:
            return run_eval(path, case.task, case.backend, **static, **case.options)
        cache = prefetch.cache_dirs[case.id]
        options: dict[str, Any] = {"rep_ms": 20.0, "warmup_ms": 5.0, "compile_baseline": False}
        options.update(static)
        options.update(case.options)
        source = (FAULTS / case.file).read_text()
        return evaluate(
            resolve_task(case.task), source, case.backend, EvalOptions(cache_dir=cache, **options)
        )

    def own_cache(case: Case) -> None:
        if case.own_cache:
            prefetch.cache_dirs[case.id] = tmp_path_factory.mktemp(case.id)

    prefetch = Prefetch(run)
    prefetch.start_module(request, own_cache)
    yield prefetch
    prefetch.close()


def _status_ok(case: Case, verdict: Verdict) -> bool:
    wanted = case.status if isinstance(case.status, tuple) else (case.status,)
    return verdict.status in wanted


@pytest.mark.parametrize("case", CASES)
def test_fault_gets_its_status(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert _status_ok(case, verdict), describe(verdict)
    assert not verdict.violations, describe(verdict)
    lines = verdict.log.splitlines()
    assert lines and lines[0].strip(), describe(verdict)
    assert len(lines[0]) <= 500, describe(verdict)  # a one-line reason, not a traceback
    assert case.reason in lines[0], describe(verdict)
    assert verdict.speedup == {"eager": None, "compile": None}


def _again(case_id: str) -> list[Any]:
    return [BY_ID[case_id]]  # the same parameter, marks included


@pytest.mark.parametrize("case", _again("F02-endless-loop"))
def test_endless_loop_leaves_nothing_running(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "timeout", describe(verdict)
    # The child was killed with its process group; nothing of it survives the verdict.
    assert _processes_with(str(verdicts.cache_dirs[case.id])) == []
    assert verdict.extra["phases"]["correctness"] < 15.0 + 10.0


@pytest.mark.parametrize("case", _again("F05-endless-compile"))
def test_endless_compile_is_stopped(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "compile_error", describe(verdict)
    # The compiler and ninja were killed with the build's process group.
    assert _processes_with(str(verdicts.cache_dirs[case.id])) == []
    assert _processes_with("kw_fault_endless_compile") == []
    assert verdict.extra["phases"]["compile"] < 20.0 + 10.0


@pytest.mark.parametrize("case", _again("F04-fork-bomb"))
def test_fork_bomb_is_contained(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert _status_ok(case, verdict), describe(verdict)
    assert _processes_with("sleep 300", uid=65534) == []
    assert _processes_with(str(verdicts.cache_dirs[case.id])) == []


@pytest.mark.parametrize("case", _again("F08-write-outside"))
def test_write_outside_scratch_is_blocked(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "runtime_error", describe(verdict)
    assert SENTINEL.read_text() == SENTINEL_TEXT


@pytest.mark.parametrize("case", _again("F08-network"))
def test_network_is_blocked(case: Case, verdicts: Prefetch, f08_targets: TcpListener) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "runtime_error", describe(verdict)
    assert "Connection refused" in verdict.log.splitlines()[0] or "unreachable" in verdict.log
    assert f08_targets.accepted == 0


@pytest.mark.parametrize("case", [param(F06_FLOOD)])
def test_output_flood_is_evaluated_normally(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "correct", describe(verdict)
    assert not verdict.violations
    assert 0 < len(verdict.log) <= LOG_LIMIT  # 20 MB printed, a bounded log kept
    assert "F06 flood" in verdict.log


@pytest.mark.parametrize("case", [param(F06_FLOOD)])
def test_output_flood_log_says_it_was_truncated(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert "truncated" in verdict.log, describe(verdict)


@pytest.mark.parametrize("case", [param(F06_FLOOD_WRONG)])
def test_output_flood_keeps_the_reason_first(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "incorrect", describe(verdict)
    assert len(verdict.log) <= LOG_LIMIT
    assert case.reason in verdict.log.splitlines()[0], describe(verdict)


def test_next_evaluation_is_clean(verdicts: Prefetch, run_eval: Any, cache_dir: Path) -> None:
    """After every fault above: nothing of theirs still runs, and an honest candidate passes."""
    for future in list(verdicts.futures.values()):
        future.result()
    assert _processes_with(str(cache_dir)) == []
    for path in verdicts.cache_dirs.values():
        assert _processes_with(str(path)) == []
    verdict = run_eval(HONEST_RELU, "smoke/relu", "triton", **QUICK)
    assert verdict.status == "correct", describe(verdict)
    assert not verdict.violations
