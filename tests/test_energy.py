"""Energy per call (backends/energy.py): the estimate from two NVML readings, and no reading at
all where NVML or a GPU is missing. The readings below are numbers of the NVML counter's unit
(millijoules), not taken from a GPU: none was lent, so the NVML path itself is untested."""

from __future__ import annotations

import pytest

from kernelwright.backends.energy import EnergyMeter, EnergyReading, joules_per_call


def test_mean_power_times_the_call() -> None:
    # 60 J over 0.2 s of timing phase is 300 W; a 2 ms call at 300 W is 0.6 J.
    got = joules_per_call(EnergyReading(1_000_000, 10.0), EnergyReading(1_060_000, 10.2), 2.0)
    assert got is not None
    assert got["mean_power_w"] == pytest.approx(300.0)
    assert got["joules_per_call"] == pytest.approx(0.6)
    assert "median call time" in got["method"]


@pytest.mark.parametrize(
    ("before", "after", "ms"),
    [
        (None, EnergyReading(5, 1.0), 1.0),
        (EnergyReading(5, 1.0), None, 1.0),
        (EnergyReading(5, 1.0), EnergyReading(5, 2.0), 1.0),  # the counter did not move
        (EnergyReading(9, 1.0), EnergyReading(5, 2.0), 1.0),  # it went back (driver reload)
        (EnergyReading(5, 2.0), EnergyReading(9, 2.0), 1.0),  # no time passed
        (EnergyReading(5, 1.0), EnergyReading(9, 2.0), None),
        (EnergyReading(5, 1.0), EnergyReading(9, 2.0), 0.0),
    ],
)
def test_no_estimate_without_two_sound_readings(
    before: EnergyReading | None, after: EnergyReading | None, ms: float | None
) -> None:
    assert joules_per_call(before, after, ms) is None


def test_no_meter_without_a_gpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the meter may open")
    assert EnergyMeter.open(None) is None


def test_runs_show_has_a_joules_column_only_where_measured() -> None:
    from rich.console import Console

    from kernelwright.commands.runs import summary_table
    from kernelwright.runs.bench import SummaryRow
    from kernelwright.runs.measurements import joules_per_call as _joules

    assert _joules({"extra": {"energy": {"joules_per_call": 0.25}}}) == 0.25
    for hostile in ("0.25", True, float("inf"), -1.0, None, [0.25]):
        assert _joules({"extra": {"energy": {"joules_per_call": hostile}}}) is None
    assert _joules({"extra": {"energy": "x"}}) is None and _joules({}) is None

    def shown(rows: list[SummaryRow]) -> str:
        console = Console(width=200, record=True)
        console.print(summary_table("run 1", rows))
        return console.export_text()

    plain = SummaryRow("smoke/relu", "correct", 0.01, True, 2.0, 1.5)
    assert "J/call" not in shown([plain])
    measured = SummaryRow("smoke/relu", "correct", 0.01, True, 2.0, 1.5, joules_per_call=0.0123)
    text = shown([measured, SummaryRow("smoke/sdpa", "correct", 0.02, True, 1.0, 1.0)])
    assert "J/call" in text and "0.0123" in text


def test_the_html_report_shows_measured_tasks_only() -> None:
    from kernelwright.runs.leaderboard import ScoredTask, build_leaderboard
    from kernelwright.runs.report_html import render_html

    def task(task_id: str, **measured: object) -> ScoredTask:
        return ScoredTask(
            run_id=1,
            task_id=task_id,
            category="activation",
            status="correct",
            correct=True,
            speedup_eager=1.5,
            speedup_compile=1.1,
            facts={"label": "gpu-run"},
            candidate_ms=0.02,
            **measured,  # type: ignore[arg-type]
        )

    plain = build_leaderboard([task("smoke/relu")], {})
    assert "Profiles and energy" not in render_html(plain)
    assert "measurements" not in plain.to_json()
    board = build_leaderboard(
        [
            task("smoke/relu"),
            task(
                "smoke/<b>softmax</b>",
                joules_per_call=0.0042,
                profiler="ncu",
                profile=(("kernels", "softmax_kernel launches", 3.0),),
            ),
        ],
        {},
    )
    page = render_html(board)
    assert "Profiles and energy" in page and "0.0042" in page
    assert "<b>softmax</b>" not in page and "&lt;b&gt;softmax&lt;/b&gt;" in page
    assert [m["task"] for m in board.to_json()["measurements"]] == ["smoke/<b>softmax</b>"]
