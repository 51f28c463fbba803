"""Nsight Compute (``ncu``) for the Judge: which metrics to collect, the command line that
collects them for a candidate's kernels only, and strict parsers of what ncu writes.

A profile is collected for kernels launched inside one NVTX range (``ncu --nvtx
--nvtx-include RANGE/``), so the harness's own kernels (input generation, the reference, cache
flushes) stay out of it. Two forms of the result are read: ``ncu --import R --csv --page raw``
(one header row of metric names, one row of units, one row per kernel) and a JSON dump that
``scripts/ncu_capture.py`` writes with NVIDIA's ``ncu_report`` module. Both give
``KernelProfile`` objects in base units (nanoseconds, bytes, per-second rates); ``summarize``
folds several kernels into one number per metric for the Judge.

The files parsed here come from a child that ran candidate code, so they are untrusted: anything
that is not what ncu writes raises ``ValueError`` with a one-line reason, never another error.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A curated set, named as on Hopper with Nsight Compute 2024/2025. Where ncu renamed a metric,
# both names are listed; a capture asks only for the names the chip's ``--query-metrics``
# knows, so the other one is simply absent from the result.
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "speed_of_light": (
        "gpu__time_duration.sum",
        "sm__throughput.avg.pct_of_peak_sustained_elapsed",
        "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",
        "dram__throughput.avg.pct_of_peak_sustained_elapsed",
        "gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed",  # the newer name of the above
        "sm__cycles_elapsed.avg.per_second",  # the SM clock the kernel ran at
    ),
    "compute": (
        "sm__inst_executed.avg.per_cycle_active",  # executed IPC
        "sm__instruction_throughput.avg.pct_of_peak_sustained_active",
        "smsp__issue_active.avg.pct_of_peak_sustained_active",
        "sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active",
        "sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active",
        "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",  # mma.sync
        "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active",  # Hopper wgmma
    ),
    "memory": (
        "dram__bytes_read.sum",
        "dram__bytes_write.sum",
        "lts__t_sector_hit_rate.pct",
        "l1tex__t_sector_hit_rate.pct",
        "lts__throughput.avg.pct_of_peak_sustained_elapsed",
        "l1tex__throughput.avg.pct_of_peak_sustained_active",
    ),
    "access": (
        "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum",
        "l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum",
        "l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum",
        "l1tex__t_requests_pipe_lsu_mem_global_op_st.sum",
        "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum",
        "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum",
    ),
    "occupancy": (
        "sm__warps_active.avg.pct_of_peak_sustained_active",  # achieved occupancy
        "sm__maximum_warps_per_active_cycle_pct",  # theoretical occupancy
        "launch__registers_per_thread",
        "launch__block_size",
        "launch__grid_size",
        "launch__occupancy_limit_registers",
        "launch__occupancy_limit_shared_mem",
        "launch__occupancy_limit_warps",
        "launch__occupancy_limit_blocks",
        "smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio",
        "smsp__average_warps_issue_stalled_short_scoreboard_per_issue_active.ratio",
        "smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio",
        "smsp__average_warps_issue_stalled_mio_throttle_per_issue_active.ratio",
        "smsp__average_warps_issue_stalled_math_pipe_throttle_per_issue_active.ratio",
        "smsp__average_warps_issue_stalled_wait_per_issue_active.ratio",
    ),
}
ALL_METRICS: tuple[str, ...] = tuple(m for group in METRIC_GROUPS.values() for m in group)
DURATION = "gpu__time_duration.sum"
# (derived name, sectors metric, requests metric): 4 sectors per request is a fully coalesced
# 32-bit access by a warp; 32 is one sector per thread.
SECTORS_PER_REQUEST = (
    (
        "global_ld_sectors_per_request",
        "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum",
        "l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum",
    ),
    (
        "global_st_sectors_per_request",
        "l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum",
        "l1tex__t_requests_pipe_lsu_mem_global_op_st.sum",
    ),
)
NVTX_RANGE = "kw_candidate"

METRIC_NAME = re.compile(r"[a-z0-9]+__[a-z0-9_]+(\.[a-z0-9_]+)*")
_RANGE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# What ncu prints for a number: digits with optional thousands separators, a fraction and an
# exponent. Anything else in a metric cell is refused.
_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?([eE][+-]?\d{1,4})?")
_NOT_AVAILABLE = {"", "n/a", "N/A"}
_NON_FINITE = {"nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}
_MAX_TEXT = 64 * 1024 * 1024
_MAX_KERNELS = 100_000
_MAX_CELL = 64
_MAX_NAME = 4096
_NAME_COLUMNS = ("Kernel Name", "Function Name", "Name")


@dataclass
class KernelProfile:
    """One profiled kernel launch: its name and its metrics in base units (None: not measured)."""

    name: str
    metrics: dict[str, float | None] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)


# --- units -------------------------------------------------------------------------------------

_PREFIX = {"n": -9, "u": -6, "m": -3, "K": 3, "M": 6, "G": 9, "T": 12}  # powers of ten
_SCALED = {"byte", "sector", "request", "inst", "cycle", "warp", "second"}
# ncu 2025.3 writes durations as "us", "ms", "ns" in its auto-unit CSV (an H200 capture showed
# "us"); older versions and the base-unit export write "usecond" and the like.
_TIME_NS = {
    "nsecond": 1.0,
    "usecond": 1e3,
    "msecond": 1e6,
    "second": 1e9,
    "ns": 1.0,
    "us": 1e3,
    "ms": 1e6,
    "s": 1e9,
}


def _unit_power(word: str) -> tuple[int, str]:
    """(power of ten to the base unit, base unit) of one unit word: ``Mbyte`` is 1e6 ``byte``."""
    if word.lower() == "hz":
        return 0, "cycle/second"
    if word[:1] in _PREFIX and word[1:].lower() == "hz":
        return _PREFIX[word[0]], "cycle/second"
    if word[:1] in _PREFIX and word[1:] in _SCALED:
        return _PREFIX[word[0]], word[1:]
    return 0, word


def normalize(value: float | None, unit: str) -> tuple[float | None, str]:
    """A value in ncu's base units: durations in ``nsecond``, sizes in ``byte``, rates per
    ``second``; units ncu does not scale (``%``, ``register/thread``) pass unchanged."""
    num, sep, den = unit.partition("/")
    if not sep and num in _TIME_NS:
        factor, base = _TIME_NS[num], "nsecond"
    else:
        power, base = _unit_power(num)
        if sep:
            den_power, den_base = _unit_power(den)
            power, base = power - den_power, f"{base}/{den_base}"
        factor = 10.0**power
    if value is None or factor == 1.0:
        return value, base
    scaled = value * factor
    return (scaled if math.isfinite(scaled) else None), base


# --- parsing -----------------------------------------------------------------------------------


def _number(cell: str, where: str) -> float | None:
    text = cell.strip()
    if text in _NOT_AVAILABLE:
        return None
    if text.lower() in _NON_FINITE:
        return None
    if len(text) > _MAX_CELL:
        raise ValueError(f"{where}: value of {len(text)} characters is not a number ncu writes")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{where}: {text[:32]!r} is not a number")
    value = float(text.replace(",", ""))
    return value if math.isfinite(value) else None


def _kernel_name(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{where}: kernel name is not a string")
    name = raw.strip()
    if not name:
        raise ValueError(f"{where}: empty kernel name")
    if len(name) > _MAX_NAME:
        raise ValueError(f"{where}: kernel name of {len(name)} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"{where}: kernel name holds control characters")
    return name


def _csv_rows(text: str) -> list[list[str]]:
    # ncu's own log lines (``==PROF==``, ``==WARNING==``) may precede the table.
    lines = text.splitlines()
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].startswith("==")):
        start += 1
    try:
        rows = [row for row in csv.reader(io.StringIO("\n".join(lines[start:]))) if row]
    except csv.Error as exc:
        raise ValueError(f"not CSV: {exc}") from None
    if len(rows) > _MAX_KERNELS + 2:
        raise ValueError(f"{len(rows) - 2} rows: more kernels than a profile holds")
    return rows


def parse_csv(text: str, metrics: Iterable[str] | None = None) -> list[KernelProfile]:
    """Kernels from ``ncu --import R --csv --page raw``: a header row, a unit row, one row each.

    ``metrics`` are the columns read (default: every metric of ``METRIC_GROUPS`` present); other
    columns (ids, launch tuples, device strings) are ignored. A requested column must hold
    numbers, ``n/a`` or nothing.
    """
    if not isinstance(text, str):
        raise ValueError("ncu CSV must be text")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"ncu CSV of {len(text)} characters is too large")
    rows = _csv_rows(text)
    if len(rows) < 2:
        raise ValueError("ncu CSV needs a header row and a unit row")
    header = [cell.strip() for cell in rows[0]]
    if len(set(header)) != len(header):
        raise ValueError("ncu CSV header names a column twice")
    name_col = next((header.index(c) for c in _NAME_COLUMNS if c in header), None)
    if name_col is None:
        raise ValueError(f"ncu CSV header has no kernel name column ({', '.join(_NAME_COLUMNS)})")
    wanted = set(ALL_METRICS if metrics is None else metrics)
    columns = [(i, name) for i, name in enumerate(header) if name in wanted]
    if not columns:
        raise ValueError("ncu CSV holds none of the requested metrics")
    units = rows[1]
    if len(units) != len(header):
        raise ValueError(f"ncu CSV unit row has {len(units)} cells for {len(header)} columns")
    profiles = []
    for number, row in enumerate(rows[2:], start=3):
        if len(row) != len(header):
            raise ValueError(f"ncu CSV row {number} has {len(row)} cells for {len(header)} columns")
        profile = KernelProfile(_kernel_name(row[name_col], f"row {number}"))
        for i, name in columns:
            unit = units[i].strip()
            if len(unit) > _MAX_CELL:
                raise ValueError(f"{name}: unit of {len(unit)} characters")
            value, base = normalize(_number(row[i], f"row {number}, {name}"), unit)
            profile.metrics[name], profile.units[name] = value, base
        profiles.append(profile)
    return profiles


def _json_value(raw: Any, where: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError(f"{where}: value is {type(raw).__name__}, not a number")
    try:
        value = float(raw)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def parse_report_json(obj: Any) -> list[KernelProfile]:
    """Kernels from the JSON that ``scripts/ncu_capture.py`` dumps with ``ncu_report``:
    ``{"kernels": [{"name": str, "metrics": {METRIC: {"value": number|null, "unit": str}}}]}``.
    ``obj`` is the decoded object, or its text."""
    if isinstance(obj, (str, bytes)):
        if len(obj) > _MAX_TEXT:
            raise ValueError("ncu JSON is too large")
        try:
            obj = json.loads(obj)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"not JSON: {str(exc)[:100]}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("kernels"), list):
        raise ValueError('ncu JSON must be an object with a "kernels" list')
    if len(obj["kernels"]) > _MAX_KERNELS:
        raise ValueError("ncu JSON holds more kernels than a profile holds")
    profiles = []
    for number, kernel in enumerate(obj["kernels"]):
        where = f"kernel {number}"
        if not isinstance(kernel, dict) or not isinstance(kernel.get("metrics"), dict):
            raise ValueError(f'{where}: expected {{"name": ..., "metrics": {{...}}}}')
        profile = KernelProfile(_kernel_name(kernel.get("name"), where))
        for name, entry in kernel["metrics"].items():
            if not isinstance(name, str) or not METRIC_NAME.fullmatch(name):
                raise ValueError(f"{where}: {str(name)[:80]!r} is not a metric name")
            if not isinstance(entry, dict) or not isinstance(entry.get("unit", ""), str):
                raise ValueError(f'{where}, {name}: expected {{"value": ..., "unit": str}}')
            unit = entry.get("unit", "")
            if len(unit) > _MAX_CELL:
                raise ValueError(f"{where}, {name}: unit of {len(unit)} characters")
            value, base = normalize(_json_value(entry.get("value"), f"{where}, {name}"), unit)
            profile.metrics[name], profile.units[name] = value, base
        profiles.append(profile)
    return profiles


# --- summary -----------------------------------------------------------------------------------


def aggregation(metric: str) -> str:
    """How a metric folds over kernels: ``sum`` (counts, bytes, durations), ``dominant`` (launch
    configuration: the longest kernel's), ``weighted`` (percentages, ratios, rates: averaged,
    weighted by each kernel's duration)."""
    if metric.startswith("launch__"):
        return "dominant"
    if metric.endswith(".sum"):
        return "sum"
    return "weighted"


def _fold(metric: str, profiles: Sequence[KernelProfile], weights: list[float]) -> float | None:
    pairs = [
        (p.metrics[metric], w)
        for p, w in zip(profiles, weights, strict=True)
        if p.metrics.get(metric) is not None
    ]
    if not pairs:
        return None
    kind = aggregation(metric)
    if kind == "sum":
        total = math.fsum(v for v, _ in pairs if v is not None)
    elif kind == "dominant":
        total = max(pairs, key=lambda pair: pair[1])[0] or 0.0
    else:
        weight = math.fsum(w for _, w in pairs)
        total = math.fsum((v or 0.0) * w for v, w in pairs) / weight
    return total if math.isfinite(total) else None


def summarize(profiles: Sequence[KernelProfile]) -> dict[str, Any]:
    """One value per metric of each group, over all kernels, plus derived sectors per request.

    Percentages are weighted by ``gpu__time_duration.sum`` (equal weights where any kernel's
    duration is missing or zero), so a long kernel counts for what it costs.
    """
    durations = [p.metrics.get(DURATION) for p in profiles]
    if all(d is not None and d > 0 for d in durations):
        weights = [float(d or 0.0) for d in durations]
    else:
        weights = [1.0] * len(profiles)
    summary: dict[str, Any] = {"kernels": [p.name for p in profiles], "units": {}}
    for group, names in METRIC_GROUPS.items():
        values: dict[str, float | None] = {}
        for metric in names:
            units = {p.units[metric] for p in profiles if metric in p.units}
            if len(units) > 1:
                raise ValueError(f"{metric}: kernels report it in different units {sorted(units)}")
            if any(metric in p.metrics for p in profiles):
                values[metric] = _fold(metric, profiles, weights)
                summary["units"][metric] = units.pop() if units else ""
        summary[group] = values
    for derived, sectors, requests in SECTORS_PER_REQUEST:
        s, r = summary["access"].get(sectors), summary["access"].get(requests)
        summary["access"][derived] = s / r if s is not None and r else None
    return summary


# --- the command line --------------------------------------------------------------------------


def _check_metrics(metrics: Sequence[str]) -> list[str]:
    names = list(metrics)
    if not names:
        raise ValueError("no metrics to collect")
    for name in names:
        if not isinstance(name, str) or not METRIC_NAME.fullmatch(name):
            raise ValueError(f"{str(name)[:80]!r} is not a metric name")
    return names


def ncu_command(
    metrics: Sequence[str],
    report_path: str | Path,
    nvtx_range: str,
    target_cmd: Sequence[str],
    *,
    ncu: str = "ncu",
    launch_count: int = 10,
) -> list[str]:
    """ncu's command line that profiles ``target_cmd`` (and its children), collecting
    ``metrics`` for at most ``launch_count`` kernels launched inside the NVTX push/pop range
    ``nvtx_range``, into ``report_path`` (ncu appends ``.ncu-rep``)."""
    names = _check_metrics(metrics)
    if not isinstance(nvtx_range, str) or not _RANGE_NAME.fullmatch(nvtx_range):
        raise ValueError(f"{str(nvtx_range)[:80]!r} is not an NVTX range name ncu can match")
    if isinstance(launch_count, bool) or not isinstance(launch_count, int):
        raise ValueError("launch_count must be an integer")
    if not 1 <= launch_count <= 1000:
        raise ValueError(f"launch_count {launch_count} is outside 1..1000")
    target = list(target_cmd)
    if not target or not all(isinstance(arg, str) for arg in target):
        raise ValueError("the target command must be a non-empty list of strings")
    return [
        ncu,
        "--target-processes",
        "all",
        "--nvtx",
        # The trailing slash names a push/pop range (torch.cuda.nvtx.range), not start/end.
        "--nvtx-include",
        f"{nvtx_range}/",
        "--metrics",
        ",".join(names),
        "--launch-count",
        str(launch_count),
        "--force-overwrite",
        "-o",
        str(report_path),
        *target,
    ]


def ncu_import_command(
    report_path: str | Path, page: str = "raw", *, ncu: str = "ncu", base_units: bool = False
) -> list[str]:
    """ncu's command line that prints one page (``raw``, ``details``) of a report as CSV."""
    if page not in ("raw", "details", "session", "source"):
        raise ValueError(f"unknown ncu page {page!r}")
    argv = [ncu, "--import", str(report_path), "--csv", "--page", page]
    return argv + (["--print-units", "base"] if base_units else [])


def parse_query_metrics(text: str) -> set[str]:
    """Base metric names (``dram__bytes``) in ``ncu --query-metrics --csv`` output."""
    found = set()
    for line in text.splitlines():
        for cell in line.replace('"', ",").split(","):
            word = cell.strip()
            if METRIC_NAME.fullmatch(word):
                found.add(word.split(".", 1)[0])
    return found


def available_metrics(wanted: Sequence[str], known: set[str]) -> tuple[list[str], list[str]]:
    """(kept, missing): ``wanted`` split by whether the chip's query lists the base name.

    Names without a suffix (``launch__*``, ``sm__maximum_warps_per_active_cycle_pct``) and the
    ``gpu__`` breakdown metrics may be missing from ``--query-metrics`` and are kept (a capture
    drops a name ncu then refuses); an empty query keeps everything.
    """
    kept, missing = [], []
    for name in wanted:
        base, dot, _ = name.partition(".")
        if not known or not dot or name.startswith(("launch__", "gpu__")) or base in known:
            kept.append(name)
        else:
            missing.append(name)
    return kept, missing


# --- finding ncu -------------------------------------------------------------------------------


def version_key(path: str) -> list[int]:
    """Sort key of a versioned install path (``/usr/local/cuda-12.4``): its numbers."""
    return [int(n) for n in re.findall(r"\d+", path)]


def _executable(path: str | Path) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_ncu() -> str | None:
    """The ncu executable: on PATH, under $CUDA_HOME, /usr/local/cuda*, /opt/nvidia."""
    found = shutil.which("ncu")
    if found:
        return found
    roots = [os.environ.get(var) for var in ("CUDA_HOME", "CUDA_PATH")]
    places = [os.path.join(root, "bin", "ncu") for root in roots if root]
    places += sorted(glob.glob("/usr/local/cuda*/bin/ncu"), key=version_key, reverse=True)
    places += sorted(glob.glob("/opt/nvidia/nsight-compute/*/ncu"), key=version_key, reverse=True)
    return next((p for p in places if _executable(p)), None)


def find_ncu_report_module(ncu: str | None = None) -> Path | None:
    """The folder holding NVIDIA's ``ncu_report.py`` (ncu's ``extras/python``)."""
    ncu = ncu or find_ncu()
    roots: list[Path] = []
    if ncu:
        # /usr/local/cuda/bin/ncu is a script that runs ../nsight-compute-<version>/ncu.
        real = Path(ncu).resolve().parent
        roots += [real, real.parent]
    patterns = [str(root / "nsight-compute*") for root in roots]
    patterns += ["/usr/local/cuda*/nsight-compute*", "/opt/nvidia/nsight-compute/*"]
    for pattern in patterns:
        roots += [Path(p) for p in sorted(glob.glob(pattern), key=version_key, reverse=True)]
    for root in roots:
        folder = root / "extras" / "python"
        if (folder / "ncu_report.py").is_file():
            return folder
    return None
