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
