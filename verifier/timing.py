"""The clocks a timing child measures with: cache flushes between calls, device-wide
synchronization, one raw sample per call. The loop itself is driven by the parent
(``verifier.timed_loop``), which turns budgets into counts.

Timing functions are bound when this module is imported, before any candidate code runs, so a
candidate that later patches ``time.perf_counter_ns`` or ``torch.cuda.Event`` does not change
the clock this loop reads (E10); the worker also reports whether they were patched.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_perf_counter_ns = time.perf_counter_ns
_monotonic = time.monotonic


def clock_ids() -> dict[str, int]:
    """Identities of the timing functions, to compare before and after the candidate runs."""
    ids = {
        "time.perf_counter_ns": id(time.perf_counter_ns),
        "time.perf_counter": id(time.perf_counter),
        # The harness's own clock and loop, which a candidate could reach by importing it.
        "timing._perf_counter_ns": id(globals()["_perf_counter_ns"]),
        "timing.CpuClock.time_call": id(CpuClock.time_call),
        "timing.CudaClock.time_call": id(CudaClock.time_call),
        "timing.CpuClock.flush": id(CpuClock.flush),
        "timing.CudaClock.flush": id(CudaClock.flush),
    }
    try:
        import torch

        ids["torch.cuda.Event"] = id(torch.cuda.Event)
        ids["torch.cuda.Event.elapsed_time"] = id(torch.cuda.Event.elapsed_time)
        ids["torch.cuda.synchronize"] = id(torch.cuda.synchronize)
    except ImportError:
        pass
    return ids


@dataclass
class Budget:
    """Warm-up and measurement budgets in milliseconds, with bounds on the derived counts."""

    warmup_ms: float = 25.0
    rep_ms: float = 100.0
    min_reps: int = 10
    max_reps: int = 500
    max_warmup: int = 100
    # Wall-clock caps on each loop, flushes and checks included: for a microsecond kernel the
    # counts above would otherwise spend seconds flushing caches between calls.
    max_warmup_wall_ms: float = 1000.0
    max_wall_ms: float = 3000.0
    # A loop also ends once its median is known this precisely: the half-width of the median's
    # distribution-free 95% interval, relative to it, after at least ``precise_min`` samples.
    # A quiet loop stops early; a noisy one runs to the caps above. 0 turns this off.
    precision: float = 0.02
    precise_min: int = 100


def last_level_cache_bytes() -> int:
    best = 0
    for size_file in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = size_file.read_text().strip()
        try:
            if text.endswith("K"):
                best = max(best, int(text[:-1]) * 1024)
            elif text.endswith("M"):
                best = max(best, int(text[:-1]) * 1024 * 1024)
        except ValueError:
            continue
    return best or 32 * 1024 * 1024


class CpuClock:
    """Host timer plus a flush that reads a buffer twice the size of the last-level cache.

    The flush reads rather than writes: a written buffer leaves the cache full of dirty lines
    whose write-back then happens inside the next timed call, adding the flush's own memory
    traffic (and its noise) to a memory-bound kernel's time. Reading evicts the candidate's data
    just as well, and whatever it wrote is written back here, outside the timer.
    """

    def __init__(self) -> None:
        import torch

        self.flush_buffer = torch.ones(
            max(2 * last_level_cache_bytes(), 16 << 20) // 4, dtype=torch.float32
        )

    def flush(self) -> None:
        self.flush_buffer.max()

    def time_call(self, fn: Callable[[], Any]) -> tuple[Any, float]:
        start = _perf_counter_ns()
        out = fn()
        end = _perf_counter_ns()
        return out, (end - start) / 1e6


class CudaClock:
    """Device events around each call, an L2 flush before it and a device-wide synchronize in it.

    The end event is recorded after ``torch.cuda.synchronize()``, so work the candidate puts on
    any stream of the device is inside the measured interval (E07).
    """

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.event_cls = torch.cuda.Event
        self.synchronize = torch.cuda.synchronize
        # 256 MiB exceeds the L2 of every current NVIDIA part (H100: 50 MiB, H200: 60 MiB).
        self.flush_buffer = torch.empty(256 << 20, dtype=torch.int8, device="cuda")
        self.reset_l2 = persisting_l2_reset()
        self.l2_resets_failed = 0

    def flush(self) -> None:
        if self.reset_l2 is not None and not self.reset_l2():
            self.l2_resets_failed += 1
        self.flush_buffer.zero_()
        self.synchronize()

    def time_call(self, fn: Callable[[], Any]) -> tuple[Any, float]:
        start = self.event_cls(enable_timing=True)
        end = self.event_cls(enable_timing=True)
        start.record()
        out = fn()
        self.synchronize()
        end.record()
        end.synchronize()
        return out, float(start.elapsed_time(end))


CUDA_LIMIT_PERSISTING_L2_CACHE_SIZE = 0x06


def persisting_l2_reset() -> Callable[[], bool] | None:
    """A function that drops every persisting-L2 line and carve-out (E15), or None.

    A candidate can pin its data in L2 through a stream's access-policy window so it survives
    the flush between timed calls; resetting the persisting lines and setting the carve-out to
    zero before each call undoes that. Uses the CUDA runtime already loaded by torch.
    """
    import ctypes

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = sorted({line.split()[-1] for line in maps.splitlines() if "libcudart" in line})
    for path in paths:
        try:
            runtime = ctypes.CDLL(path)
            reset = runtime.cudaCtxResetPersistingL2Cache
            set_limit = runtime.cudaDeviceSetLimit
        except (OSError, AttributeError):
            continue
        set_limit.argtypes = [ctypes.c_int, ctypes.c_size_t]

        def call(set_limit: Any = set_limit, reset: Any = reset) -> bool:
            return bool(set_limit(CUDA_LIMIT_PERSISTING_L2_CACHE_SIZE, 0) == 0 and reset() == 0)

        return call
    return None


def make_clock(device: str) -> CpuClock | CudaClock:
    return CudaClock() if device.startswith("cuda") else CpuClock()


def median_interval(samples: list[float]) -> tuple[float, float] | None:
    """A distribution-free 95% interval of the median (order statistics, normal approximation
    of the binomial), or None for fewer than 20 samples."""
    n = len(samples)
    if n < 20:
        return None
    ordered = sorted(samples)
    spread = 0.98 * math.sqrt(n)
    low = max(1, math.floor(n / 2 - spread))
    high = min(n, math.ceil(n / 2 + 1 + spread))
    return ordered[low - 1], ordered[high - 1]


def precise_enough(samples: list[float], precision: float) -> bool:
    """Whether the median of ``samples`` is known to within ``precision`` (relative half-width of
    its 95% interval)."""
    interval = median_interval(samples)
    if interval is None or precision <= 0:
        return False
    median = statistics.median(samples)
    return median > 0 and (interval[1] - interval[0]) / 2 <= precision * median


def summarize(samples: list[float]) -> tuple[float | None, float | None]:
    """Median and interquartile range."""
    if not samples:
        return None, None
    median = statistics.median(samples)
    if len(samples) < 4:
        return median, max(samples) - min(samples)
    q = statistics.quantiles(samples, n=4)
    return median, q[2] - q[0]
