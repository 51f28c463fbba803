"""The profile phase and ``kernelwright profile`` (verifier/profile_phase.py, backends/profilers.py).

No GPU here, so no profiler can see a device kernel: ncu and rocprofv3 are absent, and JAX's
profiler on Pallas's interpreter records host events only. What runs for real is the phase
itself, with JAX's profiler allowed on the interpreter for the test: a sandboxed child that
imports the candidate, runs it under the profiler and leaves a trace the parent reads (and finds
no device kernel in), with the verdict left as it was. The parsers are tested in
test_profiler_parsers.py; every GPU path of the profile phase is untested here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from kernelwright.backends import profilers
from kernelwright.cli import app

RELU = ROOT / "examples" / "smoke" / "pallas" / "relu.py"


def test_each_gpu_backend_has_a_profiler_and_cpu_none() -> None:
    assert profilers.profiler_for("cpu") is None
    names = {
        b: p.name for b in ("cuda", "triton", "hip", "pallas") if (p := profilers.profiler_for(b))
    }
    assert names == {"cuda": "ncu", "triton": "ncu", "hip": "rocprofv3", "pallas": "jax"}


def test_ncu_runs_the_worker_with_a_csv_log(tmp_path: Path) -> None:
    profiler = profilers.profiler_for("cuda")
    assert profiler is not None and profiler.wrap is not None
    argv = profiler.wrap("/opt/ncu", tmp_path, ["python", "-m", "worker"])
    assert argv[0] == "/opt/ncu" and argv[-3:] == ["python", "-m", "worker"]
    assert "-o" not in argv and argv[argv.index("--log-file") + 1] == str(tmp_path / "ncu.csv")
    assert argv[argv.index("--page") + 1] == "raw" and "--csv" in argv


def test_ncu_reads_its_log_around_the_table(tmp_path: Path) -> None:
    # The documented layout of `ncu --csv --page raw --print-units base` (a header row, a unit
    # row, one row per kernel), between ncu's own ==PROF== lines; not captured on a GPU.
    (tmp_path / "ncu.csv").write_text(
        "==PROF== Connected to process 7\n"
        '"ID","Kernel Name","gpu__time_duration.sum"\n'
        '"","","nsecond"\n'
        '"0","relu_kernel","2048"\n'
        "==PROF== Disconnected from process 7\n"
    )
    profiler = profilers.profiler_for("triton")
    assert profiler is not None
    kernels = profiler.read(tmp_path)
    assert [k.name for k in kernels] == ["relu_kernel"]
    assert kernels[0].metrics["gpu__time_duration.sum"] == 2048


def test_a_linked_output_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x")
    (tmp_path / "ncu.csv").symlink_to(tmp_path / "secret")
    profiler = profilers.profiler_for("cuda")
    assert profiler is not None
    with pytest.raises(ValueError, match="not a plain file"):
        profiler.read(tmp_path)


def test_cli_says_why_it_cannot_profile_here() -> None:
    result = CliRunner().invoke(app, ["profile", str(RELU), "--task", "smoke/relu"])
    assert result.exit_code == 2
    assert "cannot profile pallas kernels here with jax" in result.output
    result = CliRunner().invoke(
        app, ["profile", str(ROOT / "examples/smoke/cpu/relu.py"), "--task", "smoke/relu"]
    )
    assert result.exit_code == 2 and "backend cpu has no profiler" in result.output


def test_the_phase_runs_sandboxed_and_decides_nothing(
    run_eval: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # JAX's profiler allowed on the interpreter: it runs, and its trace holds host events only.
    monkeypatch.setattr(profilers, "_jax_device", lambda: (True, ""))
    verdict = run_eval(
        RELU, "smoke/relu", "pallas", timing=True, trials=1, sampled_configs=0, profile=True
    )
    assert verdict.status == "correct", verdict.log
    assert "profile" in verdict.extra["phases"], verdict.extra["phases"]
    # The trace was written and read: what it lacks is a device.
    assert verdict.extra.get("profile_error") == (
        "jax: the profiler saw no device kernel in the profiled calls"
    ), verdict.extra
    assert "profile" not in verdict.extra


def test_runs_show_prints_only_numbers_from_a_stored_profile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kernelwright.commands.runs import print_profiles
    from kernelwright.runs.measurements import profile_rows

    record = {
        "extra": {
            "profile": {
                "profiler": "ncu\x1b[31m",
                "summary": {
                    "kernels": {"relu_kernel": {"launches": 3, "gpu__time_duration.sum": 6144.0}},
                    "memory": {"dram__bytes_read.sum": 1.5e6, "bad": "1e9", "nan": float("nan")},
                    "units": {"dram__bytes_read.sum": "byte"},
                    "junk": [1, 2],
                },
            }
        }
    }
    rows = profile_rows(record)
    assert ("kernels", "relu_kernel launches", 3.0) in rows
    assert ("memory", "dram__bytes_read.sum", 1.5e6) in rows
    assert all(metric not in ("bad", "nan") for _, metric, _ in rows)
    assert profile_rows({"extra": {"profile": "x"}}) == [] and profile_rows(None) == []
    print_profiles({"smoke/relu": record, "smoke/none": {"extra": {}}})
    shown = capsys.readouterr().out
    assert "profile of smoke/relu" in shown and "6144" in shown
    assert "\x1b[31m" not in shown and "smoke/none" not in shown
