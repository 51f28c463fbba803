"""The trust boundary (ROBUSTNESS.md E19-E26): the candidate owns its process, so each planted
case here is caught by what the parent observes from outside, or by the harness's own defences
with the static allowlist switched off (``static_checks=False``) wherever the defence under test
is dynamic. The static allowlist itself is tested construct by construct in test_allowlist.py.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from host_services import UnixServer
from prefetch import Prefetch, describe

from kernelwright.verifier import Verdict, sandbox

EXPLOITS = Path(__file__).resolve().parent / "exploits"
QUICK: dict[str, Any] = {"timing": False, "trials": 1, "sampled_configs": 0}
TIMED: dict[str, Any] = {"timing": True, "trials": 1, "sampled_configs": 0}
BWRAP, WHY_NOT = sandbox.bwrap_status()
needs_bwrap = pytest.mark.skipif(not BWRAP, reason=f"needs bubblewrap: {WHY_NOT}")
TOKEN = secrets.token_hex(6)


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    task: str = "smoke/relu"
    backend: str = "triton"
    options: dict[str, Any] = field(default_factory=lambda: dict(QUICK))
    static: bool = False  # the static allowlist on (only where it is the defence under test)


CASES = {
    case.id: case
    for case in [
        Case("E19-numpy", "E19_numpy_compute.py"),
        Case("E19-comment-static", "E19_marker_in_comment.py", static=True),
        Case("E19-comment", "E19_marker_in_comment.py"),
        Case("E20-python-static", "E20_redispatch_python.py", static=True),
        Case("E20-cpp", "E20_redispatch_cpp.py", backend="cpu"),
        Case("E21-inputs-ahead", "E21_inputs_ahead.py", options={**TIMED, "trials": 2}),
        Case("E21-rewrite-samples", "E21_rewrite_samples.py", backend="cpu", options=TIMED),
        Case("E22-patch-clone", "E22_patch_tensor_clone.py"),
        Case("E23-mode", "E23_mode_detect.py", options=TIMED),
        Case("E23-fingerprint", "E23_phase_fingerprint.py", options=TIMED),
        Case("E24-host-files", "E24_read_host_files.py"),
        Case("E25-unix-socket", "E25_unix_socket.py"),
        Case("E26-build-cache", "E26_fill_build_cache.py"),
        Case("E08-busy-thread", "E08_busy_native_thread.py"),
    ]
}


def case(case_id: str, *marks: pytest.MarkDecorator) -> Any:
    return pytest.param(CASES[case_id], id=case_id, marks=marks)


@dataclass
class Host:
    """What the host holds that a candidate must not reach: secret files and Unix sockets."""

    secrets: list[tuple[Path, str]] = field(default_factory=list)
    servers: list[UnixServer] = field(default_factory=list)


@pytest.fixture(scope="module")
def host(cache_dir: Path) -> Iterator[Host]:
    planted = Host()
    places = [Path("/var/tmp"), Path("/srv"), cache_dir, cache_dir.parent]
    for place in places:
        try:
            place.mkdir(parents=True, exist_ok=True)
            path = place / f"kw-e24-{TOKEN}.txt"
            text = f"KW-E24-SECRET-{secrets.token_hex(8)}"
            path.write_text(text)
            path.chmod(0o644)  # readable by any uid: only what the sandbox binds decides
            planted.secrets.append((path, text))
        except OSError:
            continue
    for place in (Path("/run"), Path("/var/tmp")):
        try:
            planted.servers.append(UnixServer(place / f"kw-e25-{TOKEN}.sock"))
        except OSError:
            continue
    yield planted
    for path, _ in planted.secrets:
        path.unlink(missing_ok=True)
    for server in planted.servers:
        server.close()


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest, run_eval: Any, host: Host) -> Iterator[Prefetch]:
    def run(case: Case) -> Verdict:
        options = {"static_checks": case.static, **case.options}
        return run_eval(EXPLOITS / case.file, case.task, case.backend, **options)

    prefetch = Prefetch(run)
    prefetch.start_module(request)
    yield prefetch
    prefetch.close()


def _rejected(verdict: Verdict, check: str) -> None:
    assert verdict.status == "rejected", describe(verdict)
    assert verdict.violations and verdict.violations[0].check == check, describe(verdict)


@pytest.mark.parametrize("case", [case("E19-numpy"), case("E19-comment")])
def test_work_outside_any_kernel_is_rejected(case: Case, verdicts: Prefetch) -> None:
    """E19: numpy or a Python loop does the work; no kernel of the candidate's is launched."""
    _rejected(verdicts.verdict(case), "no_kernel_launched")


@pytest.mark.parametrize("case", [case("E19-comment-static")])
def test_kernel_word_in_a_comment_is_no_kernel(case: Case, verdicts: Prefetch) -> None:
    _rejected(verdicts.verdict(case), "no_kernel")


@pytest.mark.parametrize("case", [case("E20-python-static")])
def test_python_redispatch_is_rejected_in_source(case: Case, verdicts: Prefetch) -> None:
    """E20 in Python: below the dispatcher's entry no witness sees the op, and the candidate
    launched a kernel of its own too; the source allowlist is the defence."""
    _rejected(verdicts.verdict(case), "dispatcher_bypass")


@pytest.mark.slow
@pytest.mark.parametrize("case", [case("E20-cpp")])
def test_cpp_redispatch_is_rejected_by_its_symbols(case: Case, verdicts: Prefetch) -> None:
    """E20 in C++: the parent reads the child's mapped objects and finds the redispatch import."""
    verdict = verdicts.verdict(case)
    _rejected(verdict, "native_symbols")
    assert "redispatch" in verdict.violations[0].detail


@pytest.mark.parametrize("case", [case("E21-inputs-ahead")])
def test_no_input_waits_in_the_child(case: Case, verdicts: Prefetch) -> None:
    """E21: at import, no trial, loop or held-out input is in the child's process to be read
    ahead; the candidate prints how many input-shaped tensors its heap walk found in each phase."""
    verdict = verdicts.verdict(case)
    assert verdict.status == "correct", describe(verdict)
    counts = [int(n) for n in re.findall(r"E21: (\d+) input-shaped tensors", verdict.log)]
    assert len(counts) >= 3, verdict.log[-2000:]  # compile, correctness, timing
    assert counts == [0] * len(counts), counts


@pytest.mark.slow
@pytest.mark.parametrize("case", [case("E21-rewrite-samples")])
def test_rewritten_samples_show_against_the_parents_clock(case: Case, verdicts: Prefetch) -> None:
    """E21: the samples leave the child 5x too small; the parent's clock around each call,
    against the trusted baseline's own cost per call, shows the time they leave out, twice."""
    verdict = verdicts.verdict(case)
    _rejected(verdict, "timing_forged")
    again = verdict.extra.get("remeasured")
    assert again and again["check"] == "timing_forged" and again["repeated"], describe(verdict)


@pytest.mark.parametrize("case", [case("E22-patch-clone")])
def test_patched_tensor_method_is_found(case: Case, verdicts: Prefetch) -> None:
    """E22: the harness copies inputs through torch's C type, not the patched method, and finds
    the method table changed after the first call."""
    verdict = verdicts.verdict(case)
    _rejected(verdict, "harness_tampering")
    assert "torch.Tensor.clone" in verdict.violations[0].detail


@pytest.mark.parametrize("case", [case("E23-mode")])
def test_honest_only_while_watched_is_rejected(case: Case, verdicts: Prefetch) -> None:
    """E23: torch.relu whenever no dispatch mode is active; every timed call counts the
    candidate's own launches, and the witnessed calls of the loop are honest, so it is the
    launch count of a timed call that rejects it."""
    verdict = verdicts.verdict(case)
    _rejected(verdict, "no_kernel_launched")
    assert "timed call" in verdict.violations[0].detail


@pytest.mark.parametrize("case", [case("E23-fingerprint")])
def test_every_phase_looks_the_same_from_inside(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "correct", describe(verdict)
    prints = re.findall(r"E23-FINGERPRINT (\w+)", verdict.log)
    assert len(prints) >= 3, verdict.log[-3000:]  # compile, correctness, timing
    assert len(set(prints)) == 1, "\n".join(re.findall(r"E23-VIEW .*", verdict.log))


@needs_bwrap
@pytest.mark.parametrize("case", [case("E24-host-files")])
def test_host_files_stay_out_of_the_sandbox(case: Case, verdicts: Prefetch, host: Host) -> None:
    verdict = verdicts.verdict(case)
    assert host.secrets, "no secret could be planted on this host"
    assert verdict.status == "correct", describe(verdict)
    assert "E24: 0 host files read" in verdict.log, verdict.log[-2000:]
    for _, text in host.secrets:
        assert text not in verdict.log


@needs_bwrap
@pytest.mark.parametrize("case", [case("E25-unix-socket")])
def test_host_sockets_are_unreachable(case: Case, verdicts: Prefetch, host: Host) -> None:
    verdict = verdicts.verdict(case)
    assert host.servers, "no socket could be planted on this host"
    assert verdict.status == "correct", describe(verdict)
    assert "E25: reached" not in verdict.log
    assert all(server.accepted == 0 for server in host.servers)


@pytest.mark.parametrize("case", [case("E26-build-cache")])
def test_writes_do_not_outlive_the_evaluation(
    case: Case, verdicts: Prefetch, cache_dir: Path
) -> None:
    verdict = verdicts.verdict(case)
    assert "E26: wrote 32 MiB into TORCH_EXTENSIONS_DIR" in verdict.log, verdict.log[-2000:]
    left = [p for p in cache_dir.rglob("e26_blob.bin")]
    assert left == [], left


@pytest.mark.parametrize("case", [case("E08-busy-thread")])
def test_busy_native_thread_is_seen_from_outside(case: Case, verdicts: Prefetch) -> None:
    """E08: a thread below the threading module computing while the harness waits: the parent
    reads each thread's CPU time from /proc."""
    _rejected(verdicts.verdict(case), "background_work")
