"""Device ceilings for plausibility checks: no kernel moves bytes faster than the memory system
or does arithmetic faster than the chip's peak (E18).

Figures are vendors' datasheet peaks (dense, no sparsity) for SXM parts; an unknown device has
no ceiling and is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ceiling:
    bandwidth_bytes_s: float
    fp32_flops: float
    half_flops: float  # fp16/bf16 tensor cores, dense
    compute_units: int | None = None  # SMs on NVIDIA, CUs on AMD


# Matched by substring of the device name, most specific first.
CEILINGS: tuple[tuple[str, Ceiling], ...] = (
    ("H200", Ceiling(4.8e12, 67e12, 990e12, 132)),
    ("H100", Ceiling(3.35e12, 67e12, 990e12, 132)),
    ("A100", Ceiling(2.04e12, 19.5e12, 312e12, 108)),
    ("L40S", Ceiling(0.864e12, 91.6e12, 366e12, 142)),
    ("MI300X", Ceiling(5.3e12, 163.4e12, 1307e12, 304)),
)


def ceiling_for(device_name: str) -> Ceiling | None:
    for key, ceiling in CEILINGS:
        if key in device_name:
            return ceiling
    return None


def min_time_ms(ceiling: Ceiling, bytes_moved: float, flops: float, half_precision: bool) -> float:
    """The least time the work can take on this device, in milliseconds."""
    peak = ceiling.half_flops if half_precision else ceiling.fp32_flops
    return max(bytes_moved / ceiling.bandwidth_bytes_s, flops / peak) * 1e3
