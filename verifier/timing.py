"""The timing loop that runs inside a child: budgets turned into counts, cache flushes between
calls, device-wide synchronization, every raw sample kept.

Timing functions are bound when this module is imported, before any candidate code runs, so a
candidate that later patches ``time.perf_counter_ns`` or ``torch.cuda.Event`` does not change
the clock this loop reads (E10); the worker also reports whether they were patched.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
        "timing.measure": id(globals()["measure"]),
        "timing.CpuClock.time_call": id(CpuClock.time_call),
        "timing.CudaClock.time_call": id(CudaClock.time_call),
        "timing.CpuClock.flush": id(CpuClock.flush),
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


@dataclass
class Samples:
    """Raw per-call times and the input set each call used."""

    ms: list[float] = field(default_factory=list)
    set_index: list[int] = field(default_factory=list)
    warmup_calls: int = 0


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
    """Host timer plus a flush that writes a buffer twice the size of the last-level cache."""

    def __init__(self) -> None:
        import torch

        self.flush_buffer = torch.empty(
            max(2 * last_level_cache_bytes(), 16 << 20) // 4, dtype=torch.float32
        )

    def flush(self) -> None:
        self.flush_buffer.fill_(1.0)

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


def measure(
    call: Callable[[int], Any],
    n_sets: int,
    clock: CpuClock | CudaClock,
    budget: Budget,
    prepare: Callable[[int], None] | None = None,
    after: Callable[[int, int, Any], None] | None = None,
) -> Samples:
    """Time ``call(set_index)`` over rotating input sets.

    ``prepare(set_index)`` runs before the flush (fresh input copies), ``after(call_no, set_index,
    output)`` after the timed interval (spot checks); neither is timed.
    """

    def one(i: int) -> float:
        s = i % n_sets
        if prepare is not None:
            prepare(s)
        clock.flush()
        out, ms = clock.time_call(lambda: call(s))
        if after is not None:
            after(i, s, out)
        return ms

    estimate = statistics.median(one(i) for i in range(3))
    estimate = max(estimate, 1e-3)
    warmup = min(budget.max_warmup, max(1, math.ceil(budget.warmup_ms / estimate)))
    reps = min(budget.max_reps, max(budget.min_reps, math.ceil(budget.rep_ms / estimate)))
    i = 3
    started = _perf_counter_ns()
    while i < 3 + warmup and (_perf_counter_ns() - started) / 1e6 < budget.max_warmup_wall_ms:
        one(i)
        i += 1
    samples = Samples(warmup_calls=i)
    started = _perf_counter_ns()
    while len(samples.ms) < reps:
        over_wall = (_perf_counter_ns() - started) / 1e6 >= budget.max_wall_ms
        if over_wall and len(samples.ms) >= budget.min_reps:
            break
        samples.ms.append(one(i))
        samples.set_index.append(i % n_sets)
        i += 1
    return samples


def summarize(samples: list[float]) -> tuple[float | None, float | None]:
    """Median and interquartile range."""
    if not samples:
        return None, None
    median = statistics.median(samples)
    if len(samples) < 4:
        return median, max(samples) - min(samples)
    q = statistics.quantiles(samples, n=4)
    return median, q[2] - q[0]
