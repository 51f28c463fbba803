"""Energy per call on NVIDIA GPUs, from NVML, read by the parent around the timing phase.

NVML's total-energy counter (``nvmlDeviceGetTotalEnergyConsumption``, millijoules since the
driver loaded; Volta and later) is read before and after the timing child runs, in the parent:
nothing the candidate does in its process changes it. The phase also flushes caches and waits on
the channel between calls, so the energy of one call is estimated as the board's mean power over
the phase times the median call time: ``J/call = (dE / dt) * t_call``. It overstates a call that
draws more than the phase's mean and understates one that draws less; reports name it an
estimate and give the mean power beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

METHOD = "mean board power over the timing phase x median call time (NVML energy counter)"


@dataclass(frozen=True)
class EnergyReading:
    millijoules: int
    seconds: float


class EnergyMeter:
    """The energy counter of one GPU; ``open`` gives None where NVML or the counter is missing."""

    def __init__(self, nvml: Any, handle: Any) -> None:
        self._nvml = nvml
        self._handle = handle

    @classmethod
    def open(cls, device_index: int | None) -> EnergyMeter | None:
        try:
            import pynvml
            import torch

            if not torch.cuda.is_available():
                return None
            pynvml.nvmlInit()
            uuid = str(torch.cuda.get_device_properties(device_index or 0).uuid)
            handle = pynvml.nvmlDeviceGetHandleByUUID(
                uuid if uuid.startswith("GPU-") else f"GPU-{uuid}"
            )
            pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)  # supported on this GPU?
        except Exception:
            return None
        return cls(pynvml, handle)

    def read(self) -> EnergyReading | None:
        try:
            value = int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))
        except Exception:
            return None
        return EnergyReading(value, time.monotonic())


def joules_per_call(
    before: EnergyReading | None, after: EnergyReading | None, call_ms: float | None
) -> dict[str, Any] | None:
    """The estimate from two readings around the phase and the median call time; None where a
    reading is missing or the counter did not move forward."""
    if before is None or after is None or call_ms is None or call_ms <= 0:
        return None
    seconds = after.seconds - before.seconds
    joules = (after.millijoules - before.millijoules) / 1000.0
    if seconds <= 0 or joules <= 0:
        return None
    watts = joules / seconds
    return {
        "joules_per_call": watts * call_ms / 1000.0,
        "mean_power_w": round(watts, 3),
        "phase_joules": round(joules, 3),
        "phase_s": round(seconds, 3),
        "method": METHOD,
    }
