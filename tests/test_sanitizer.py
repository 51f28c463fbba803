"""compute-sanitizer's log (backends/sanitizer.py) and the --sanitize flag.

The logs below are written in the documented layout of compute-sanitizer's report
(https://docs.nvidia.com/compute-sanitizer/ComputeSanitizer/index.html): not captured on a GPU,
as none was lent. The sanitizer passes themselves are a GPU path, untested here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from kernelwright.backends.sanitizer import parse_log, read_log, sanitizer_command
from kernelwright.cli import app

MEMCHECK = """\
========= COMPUTE-SANITIZER
========= Invalid __global__ read of size 4 bytes
=========     at relu_kernel(const float *, float *, int)+0x70
=========     by thread (255,0,0) in block (63,0,0)
=========     Address 0x7f2a4c000400 is out of bounds
=========
========= Invalid __global__ read of size 4 bytes
=========     at relu_kernel(const float *, float *, int)+0x70
=========     by thread (254,0,0) in block (63,0,0)
=========
========= ERROR SUMMARY: 2 errors
"""
RACECHECK = """\
========= COMPUTE-SANITIZER
========= Error: Race reported between Write access at row_sum_kernel(const float *, float *)+0x120
=========     and Read access at row_sum_kernel(const float *, float *)+0x1a0 [4 hazards]
=========
========= RACECHECK SUMMARY: 1 hazard displayed (1 error, 0 warnings)
"""
CLEAN = "========= COMPUTE-SANITIZER\n========= ERROR SUMMARY: 0 errors\n"


def test_memcheck_findings_are_counted_and_deduplicated() -> None:
    report = parse_log(MEMCHECK, "memcheck")
    assert report.errors == 2
    assert report.findings == ["Invalid __global__ read of size 4 bytes (relu_kernel)"]


def test_racecheck_summary_and_clean_run() -> None:
    report = parse_log(RACECHECK, "racecheck")
    assert report.errors == 1 and len(report.findings) == 1
    assert report.findings[0].startswith("Error: Race reported between Write access")
    clean = parse_log(CLEAN, "initcheck")
    assert clean.errors == 0 and clean.findings == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no prefix at all\n",
        "========= COMPUTE-SANITIZER\n========= Invalid read\n",  # no summary: the run died
        "========= Invalid \x1b[31mread\n========= ERROR SUMMARY: 1 error\n",
        "=========" + "x" * (17 * 1024 * 1024),
    ],
)
def test_what_is_not_the_tools_log_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_log(text, "memcheck")


def test_the_log_is_read_as_a_plain_file(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text(CLEAN)
    (tmp_path / "sanitizer.log").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="sanitizer.log is not a plain file"):
        read_log(tmp_path, "memcheck")
    (tmp_path / "sanitizer.log").unlink()
    with pytest.raises(ValueError, match="left no sanitizer.log"):
        read_log(tmp_path, "memcheck")
    # A folder swapped for a link to elsewhere is refused too.
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "sanitizer.log").write_text(CLEAN)
    (tmp_path / "out").symlink_to(tmp_path / "real")
    with pytest.raises(ValueError, match="folder of sanitizer.log is a link"):
        read_log(tmp_path / "out", "memcheck")


def test_command_logs_to_the_output_folder(tmp_path: Path) -> None:
    argv = sanitizer_command(
        "/cuda/bin/compute-sanitizer", "racecheck", tmp_path, ["py", "-m", "w"]
    )
    assert argv[:3] == ["/cuda/bin/compute-sanitizer", "--tool", "racecheck"]
    assert argv[argv.index("--log-file") + 1] == str(tmp_path / "sanitizer.log")
    assert argv[-3:] == ["py", "-m", "w"]
    with pytest.raises(ValueError):
        sanitizer_command("cs", "leakcheck", tmp_path, ["py"])


def test_an_unknown_tool_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            str(ROOT / "examples/smoke/cpu/relu.py"),
            "--task",
            "smoke/relu",
            "--sanitize",
            "x",
        ],
    )
    assert result.exit_code == 2 and "choose from memcheck, racecheck, initcheck" in result.output


def test_a_finding_that_ended_the_run_is_still_flagged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """memcheck stops the faulting kernel, the forward raises and the child does not finish:
    the log it left is read all the same."""
    from kernelwright.backends import get_backend
    from kernelwright.verifier import profile_phase
    from kernelwright.verifier.evaluate import Evaluation
    from kernelwright.verifier.verdict import Verdict

    (tmp_path / "sanitizer.log").write_text(MEMCHECK)

    def child(*args: object, **kwargs: object) -> tuple[Path, str]:
        return tmp_path, "RuntimeError: CUDA error: unspecified launch failure"

    monkeypatch.setattr(profile_phase, "run_under", child)
    monkeypatch.setattr("kernelwright.backends.base.cuda_device", lambda: (True, "H200"))
    monkeypatch.setattr(
        "kernelwright.backends.sanitizer.find_compute_sanitizer",
        lambda: "/cuda/bin/compute-sanitizer",
    )
    ev = Evaluation.__new__(Evaluation)
    ev.verdict = Verdict(task="t", backend="cuda", device="H200", status="correct")
    ev.backend = get_backend("cuda")
    profile_phase.sanitize(ev, {}, ("memcheck",))
    assert [f.check for f in ev.verdict.flags] == ["sanitizer_memcheck"]
    assert "Invalid __global__ read" in ev.verdict.flags[0].detail
    assert ev.verdict.status == "correct"
