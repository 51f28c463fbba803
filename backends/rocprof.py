"""AMD's ``rocprofv3`` (ROCprofiler-SDK) for the Judge: which hardware counters to collect, the
command line that runs the sandboxed child under it, and strict parsers of the CSV files it
writes.

``rocprofv3 --kernel-trace --pmc C1 C2 ... --output-format csv -d DIR -o NAME -- target`` writes
``NAME_kernel_trace.csv`` (one row per kernel dispatch: its name, start and end timestamps in
nanoseconds, launch configuration) and ``NAME_counter_collection.csv`` (long format: one row per
dispatch and counter), possibly nested under host, pid or ``pmc_N`` folders of ``DIR``. Layouts
as documented in "Using rocprofv3" (ROCprofiler-SDK;
https://rocm.docs.amd.com/projects/rocprofiler-sdk/en/latest/how-to/using-rocprofv3.html):

- ``counter_collection.csv``: Correlation_Id, Dispatch_Id, Agent_Id, Queue_Id, Process_Id,
  Thread_Id, Grid_Size, Kernel_Id, Kernel_Name, Workgroup_Size, LDS_Block_Size, Scratch_Size,
  VGPR_Count, Accum_VGPR_Count, SGPR_Count, Counter_Name, Counter_Value, Start_Timestamp,
  End_Timestamp (releases of 2024 wrote neither Accum_VGPR_Count nor the timestamps);
- ``kernel_trace.csv``: Kind, Agent_Id, Queue_Id, Stream_Id, Thread_Id, Dispatch_Id, Kernel_Id,
  Kernel_Name, Correlation_Id, Start_Timestamp, End_Timestamp, LDS_Block_Size, Scratch_Size,
  VGPR_Count, Accum_VGPR_Count, SGPR_Count, Workgroup_Size_X/Y/Z, Grid_Size_X/Y/Z (releases of
  2024 wrote Private_Segment_Size and Group_Segment_Size instead of the register and LDS columns).

Both parsers give ``KernelProfile`` objects (``backends/ncu.py``), one per dispatch, in base
units: the device time under ncu's name ``gpu__time_duration.sum`` in ``nsecond``, sizes in
``byte``, counters as counts.

The files come from a child that ran candidate code, so they are untrusted: anything that is not
what rocprofv3 writes raises ``ValueError`` with a one-line reason, never another error.
"""

from __future__ import annotations

import csv
import glob
import io
import math
import os
import re
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from kernelwright.backends.ncu import DURATION, KernelProfile, version_key

# A curated set for MI200 (gfx90a) and MI300 (gfx942), every name defined for both in
# ROCprofiler-SDK's counter_defs.yaml. rocprofv3 fails the run when a set needs more than one
# pass, so it stays within the per-block limits rocprofiler-compute uses for these chips (SQ 8,
# TCC 4, GRBM 2): 7 SQ, 2 TCC (the _sum counters reduce one counter over TCC instances) and 2
# GRBM counters; OccupancyPercent is derived from SQ_WAVE_CYCLES and GRBM_GUI_ACTIVE. FETCH_SIZE
# and WRITE_SIZE (DRAM kilobytes) need 5 more TCC counters on MI300 and so a run of their own.
COUNTERS: tuple[str, ...] = (
    "SQ_WAVES",  # wavefronts launched
    "SQ_INSTS_VALU",  # vector ALU instructions issued
    "SQ_INSTS_SALU",  # scalar ALU instructions issued
    "SQ_INSTS_LDS",  # LDS instructions issued
    "SQ_LDS_BANK_CONFLICT",  # cycles LDS stalled by bank conflicts
    "SQ_WAVE_CYCLES",  # quad-cycles spent executing waves
    "SQ_BUSY_CYCLES",  # cycles with any wave in a shader engine
    "GRBM_GUI_ACTIVE",  # GPU busy cycles
    "GRBM_COUNT",  # GPU cycles
    "TCC_HIT_sum",  # L2 hits
    "TCC_MISS_sum",  # L2 misses
    "OccupancyPercent",  # achieved occupancy, % of the maximum waves per CU
)
# The base unit of a counter's value; a counter not listed has unit "".
COUNTER_UNITS: dict[str, str] = {
    "SQ_WAVES": "wave",
    "SQ_INSTS_VALU": "inst",
    "SQ_INSTS_SALU": "inst",
    "SQ_INSTS_LDS": "inst",
    "SQ_INSTS_VMEM_RD": "inst",
    "SQ_INSTS_VMEM_WR": "inst",
    "SQ_INSTS_SMEM": "inst",
    "SQ_INSTS_MFMA": "inst",
    "SQ_LDS_BANK_CONFLICT": "cycle",
    "SQ_WAVE_CYCLES": "quad-cycle",  # counter_defs.yaml: "Units are in quad-cycles"
    "SQ_BUSY_CYCLES": "cycle",
    "SQ_BUSY_CU_CYCLES": "quad-cycle",
    "SQ_VALU_MFMA_BUSY_CYCLES": "cycle",
    "GRBM_GUI_ACTIVE": "cycle",
    "GRBM_COUNT": "cycle",
    "TCC_HIT_sum": "request",
    "TCC_MISS_sum": "request",
    "OccupancyPercent": "%",
    "VALUUtilization": "%",
    "VALUBusy": "%",
    "SALUBusy": "%",
    "LDSBankConflict": "%",
    "FETCH_SIZE": "byte",
    "WRITE_SIZE": "byte",
}
# Counters rocprofv3 reports in kilobytes (counter_defs.yaml divides bytes by 1024).
_KILOBYTES = {"FETCH_SIZE", "WRITE_SIZE"}
# Launch columns read as metrics, with their units ("work-item": threads).
_LAUNCH_UNITS: dict[str, str] = {
    "Grid_Size": "work-item",
    "Workgroup_Size": "work-item",
    "Grid_Size_X": "work-item",
    "Grid_Size_Y": "work-item",
    "Grid_Size_Z": "work-item",
    "Workgroup_Size_X": "work-item",
    "Workgroup_Size_Y": "work-item",
    "Workgroup_Size_Z": "work-item",
    "LDS_Block_Size": "byte",
    "Scratch_Size": "byte",
    "Private_Segment_Size": "byte",
    "Group_Segment_Size": "byte",
    "VGPR_Count": "register",
    "Accum_VGPR_Count": "register",
    "SGPR_Count": "register",
}
OUTPUT_NAME = "kw"
KINDS = ("kernel_trace", "counter_collection")

COUNTER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
_COLUMN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_UINT = re.compile(r"\d{1,20}")
# What rocprofv3 prints for a double: fixed ("16384.000000") or scientific notation.
_FLOAT = re.compile(r"[+-]?\d{1,400}(\.\d{0,400})?([eE][+-]?\d{1,4})?")
_NON_FINITE = {"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity"}
_MAX_TEXT = 64 * 1024 * 1024
_MAX_ROWS = 200_000
_MAX_CELL = 1024
_MAX_NAME = 4096
_MAX_WALK = 10_000
_MAX_DEPTH = 6
_UINT64 = 2**64 - 1


# --- parsing -----------------------------------------------------------------------------------


def _uint(cell: str, where: str) -> int:
    text = cell.strip()
    if not _UINT.fullmatch(text):
        raise ValueError(f"{where}: {text[:32]!r} is not a non-negative integer")
    value = int(text)
    if value > _UINT64:
        raise ValueError(f"{where}: {text[:32]} does not fit 64 bits")
    return value


def _counter_value(cell: str, where: str) -> float | None:
    """A counter's value; ``nan``/``inf`` (a derived counter divided by zero) is None."""
    text = cell.strip()
    if text.lower() in _NON_FINITE:
        return None
    if len(text) > 64 or not _FLOAT.fullmatch(text):
        raise ValueError(f"{where}: {text[:32]!r} is not a number")
    value = float(text)
    return value if math.isfinite(value) else None


def _kernel_name(raw: str, where: str) -> str:
    name = raw.strip()
    if not name:
        raise ValueError(f"{where}: empty kernel name")
    if len(name) > _MAX_NAME:
        raise ValueError(f"{where}: kernel name of {len(name)} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"{where}: kernel name holds control characters")
    return name


def _table(
    text: str, what: str, required: Sequence[str], forbidden: Sequence[str] = ()
) -> tuple[dict[str, int], list[list[str]]]:
    """(column index by name, data rows) of one rocprofv3 CSV, its header checked."""
    if not isinstance(text, str):
        raise ValueError(f"{what} CSV must be text")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{what} CSV of {len(text)} characters is too large")
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), strict=True):
            if not row or row == [""]:
                continue
            if len(rows) > _MAX_ROWS:
                raise ValueError(f"{what} CSV holds more than {_MAX_ROWS} rows")
            rows.append(row)
    except csv.Error as exc:
        raise ValueError(f"{what}: not CSV: {str(exc)[:100]}") from None
    if not rows:
        raise ValueError(f"{what} CSV is empty")
    header = [cell.strip() for cell in rows[0]]
    for cell in header:
        if not _COLUMN.fullmatch(cell):
            raise ValueError(f"{what} CSV header: {cell[:40]!r} is not a rocprofv3 column name")
    if len(set(header)) != len(header):
        raise ValueError(f"{what} CSV header names a column twice")
    missing = [name for name in required if name not in header]
    if missing:
        raise ValueError(f"{what} CSV header lacks {', '.join(missing)}")
    foreign = [name for name in forbidden if name in header]
    if foreign:
        raise ValueError(f"{what} CSV header has {', '.join(foreign)}: another kind of file")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{what} row {number} has {len(row)} cells for {len(header)} columns")
        if any(len(cell) > _MAX_NAME + 2 for cell in row):
            raise ValueError(f"{what} row {number} holds an overlong cell")
    return {name: i for i, name in enumerate(header)}, rows[1:]


def _duration(row: list[str], col: dict[str, int], where: str) -> float | None:
    if "Start_Timestamp" not in col and "End_Timestamp" not in col:
        return None
    if "Start_Timestamp" not in col or "End_Timestamp" not in col:
        raise ValueError("a start timestamp column without an end one, or the reverse")
    start = _uint(row[col["Start_Timestamp"]], f"{where}, Start_Timestamp")
    end = _uint(row[col["End_Timestamp"]], f"{where}, End_Timestamp")
    if end < start:
        raise ValueError(f"{where}: ends {start - end} ns before it starts")
    return float(end - start)


def _launch(profile: KernelProfile, row: list[str], col: dict[str, int], where: str) -> None:
    for name, unit in _LAUNCH_UNITS.items():
        if name in col:
            profile.metrics[name] = float(_uint(row[col[name]], f"{where}, {name}"))
            profile.units[name] = unit


def _dispatch_key(row: list[str], col: dict[str, int], where: str) -> tuple[str, int]:
    agent = row[col["Agent_Id"]].strip()[:_MAX_CELL] if "Agent_Id" in col else ""
    return agent, _uint(row[col["Dispatch_Id"]], f"{where}, Dispatch_Id")


def parse_counter_collection(text: str) -> list[KernelProfile]:
    """Dispatches from ``*_counter_collection.csv``: one row per (dispatch, counter), grouped
    into one ``KernelProfile`` per dispatch (Agent_Id, Dispatch_Id), in dispatch order.

    Metrics: every counter by its name (``FETCH_SIZE``/``WRITE_SIZE`` converted from kilobytes
    to bytes; ``nan``/``inf``, which a derived counter gives when it divides by zero, read as
    None), ``gpu__time_duration.sum`` from the timestamps when the file has them, and the launch
    columns (Grid_Size, Workgroup_Size, LDS_Block_Size, Scratch_Size, VGPR/SGPR counts). The rows
    of one dispatch must agree on everything but the counter; a counter given twice is refused.
    """
    what = "rocprofv3 counter collection"
    col, rows = _table(text, what, ("Dispatch_Id", "Kernel_Name", "Counter_Name", "Counter_Value"))
    counter_cols = {col["Counter_Name"], col["Counter_Value"]}
    dispatch_cols = [i for i in sorted(col.values()) if i not in counter_cols]
    profiles: dict[tuple[str, int], KernelProfile] = {}
    signature: dict[tuple[str, int], list[str]] = {}
    for number, row in enumerate(rows, start=2):
        where = f"row {number}"
        key = _dispatch_key(row, col, where)
        cells = [row[i].strip() for i in dispatch_cols]
        profile = profiles.get(key)
        if profile is None:
            profile = KernelProfile(_kernel_name(row[col["Kernel_Name"]], where))
            duration = _duration(row, col, where)
            if duration is not None:
                profile.metrics[DURATION], profile.units[DURATION] = duration, "nsecond"
            _launch(profile, row, col, where)
            profiles[key], signature[key] = profile, cells
        elif cells != signature[key]:
            raise ValueError(f"{where}: dispatch {key[1]} disagrees with its earlier rows")
        counter = row[col["Counter_Name"]].strip()
        if not COUNTER_NAME.fullmatch(counter):
            raise ValueError(f"{where}: {counter[:40]!r} is not a counter name")
        if counter in profile.metrics:
            raise ValueError(f"{where}: dispatch {key[1]} reports {counter} twice")
        value = _counter_value(row[col["Counter_Value"]], f"{where}, {counter}")
        if counter in _KILOBYTES and value is not None:
            value *= 1024.0
        profile.metrics[counter] = value
        profile.units[counter] = COUNTER_UNITS.get(counter, "")
    return [profiles[key] for key in sorted(profiles, key=lambda k: (k[1], k[0]))]


def parse_kernel_trace(text: str) -> list[KernelProfile]:
    """Dispatches from ``*_kernel_trace.csv``: one ``KernelProfile`` per row, in dispatch order.

    Metrics: ``gpu__time_duration.sum`` (End_Timestamp - Start_Timestamp, ns), the grid and
    workgroup sizes per dimension and as products (``Grid_Size``, ``Workgroup_Size``: work-items)
    and whichever of LDS_Block_Size, Scratch_Size, VGPR/Accum_VGPR/SGPR counts (current releases) or
    Private/Group_Segment_Size (releases of 2024) the file has. ``Kind``, when present, must be
    ``KERNEL_DISPATCH``; a dispatch listed twice is refused.
    """
    what = "rocprofv3 kernel trace"
    required = ("Dispatch_Id", "Kernel_Name", "Start_Timestamp", "End_Timestamp")
    col, rows = _table(text, what, required, forbidden=("Counter_Name", "Counter_Value"))
    profiles: dict[tuple[str, int], KernelProfile] = {}
    for number, row in enumerate(rows, start=2):
        where = f"row {number}"
        if "Kind" in col and row[col["Kind"]].strip() != "KERNEL_DISPATCH":
            raise ValueError(f"{where}: kind {row[col['Kind']][:32]!r} is not KERNEL_DISPATCH")
        key = _dispatch_key(row, col, where)
        if key in profiles:
            raise ValueError(f"{where}: dispatch {key[1]} listed twice")
        profile = KernelProfile(_kernel_name(row[col["Kernel_Name"]], where))
        profile.metrics[DURATION] = _duration(row, col, where)
        profile.units[DURATION] = "nsecond"
        _launch(profile, row, col, where)
        for total in ("Grid_Size", "Workgroup_Size"):
            dims = [profile.metrics.get(f"{total}_{axis}") for axis in "XYZ"]
            if all(d is not None for d in dims):
                profile.metrics[total] = math.prod(d or 0.0 for d in dims)
                profile.units[total] = "work-item"
        profiles[key] = profile
    return [profiles[key] for key in sorted(profiles, key=lambda k: (k[1], k[0]))]


# --- finding the output ------------------------------------------------------------------------


def _kind(filename: str) -> str | None:
    for kind in KINDS:
        if filename == f"{kind}.csv" or filename.endswith(f"_{kind}.csv"):
            return kind
    return None


def find_outputs(out_dir: str | Path) -> dict[str, Path]:
    """The CSVs rocprofv3 left under ``out_dir``, by kind (``kernel_trace``,
    ``counter_collection``), searched through its host/pid/``pmc_N`` folders.

    rocprofv3 writes no links: a symbolic link anywhere under ``out_dir`` (or ``out_dir`` being
    one), a special file by an output's name, two files of one kind, or a tree deeper or larger
    than rocprofv3 makes raise ``ValueError``. No output at all gives an empty dict.
    """
    root = Path(out_dir)
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValueError(f"{root.name}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(f"{root.name} is a symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{root.name} is not a folder")
    found: dict[str, Path] = {}
    pending: list[tuple[Path, int]] = [(root, 0)]
    seen = 0
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listing = list(entries)
        except OSError as exc:
            raise ValueError(f"{folder.name}: {exc.strerror}") from None
        for entry in listing:
            seen += 1
            if seen > _MAX_WALK:
                raise ValueError(f"more than {_MAX_WALK} entries under {root.name}")
            where = Path(entry.path).relative_to(root)
            if entry.is_symlink():
                raise ValueError(f"{where} is a symbolic link; rocprofv3 writes none")
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 > _MAX_DEPTH:
                    raise ValueError(f"{where} is nested deeper than rocprofv3 writes")
                pending.append((Path(entry.path), depth + 1))
                continue
            kind = _kind(entry.name)
            if kind is None:
                continue
            if not entry.is_file(follow_symlinks=False):
                raise ValueError(f"{where} is not a plain file")
            if kind in found:
                raise ValueError(f"two {kind} files: {found[kind].relative_to(root)}, {where}")
            found[kind] = Path(entry.path)
    return found


# --- the command line --------------------------------------------------------------------------


def _check_counters(counters: Sequence[str]) -> list[str]:
    if isinstance(counters, str):
        raise ValueError("counters must be a sequence of names, not one string")
    names = list(counters)
    for name in names:
        if not isinstance(name, str) or not COUNTER_NAME.fullmatch(name):
            raise ValueError(f"{str(name)[:80]!r} is not a rocprofv3 counter name")
    if len(set(names)) != len(names):
        raise ValueError("a counter is named twice")
    return names


def rocprof_command(
    executable: str,
    out_dir: str | Path,
    counters: Sequence[str],
    target_argv: Sequence[str],
    *,
    name: str = OUTPUT_NAME,
) -> list[str]:
    """rocprofv3's command line that runs ``target_argv`` with kernel tracing and (when
    ``counters`` is not empty) dispatch counter collection, writing CSV into ``out_dir`` as
    ``<name>_kernel_trace.csv`` and ``<name>_counter_collection.csv`` (``find_outputs``).

    rocprofv3 expands ``%...%`` and ``$ENV{...}`` keys in ``-d`` and ``-o``, so a folder or name
    holding ``%`` or ``$`` is refused; so is a set of counters that does not fit one pass, by
    rocprofv3 itself when it runs.
    """
    if not isinstance(executable, str) or not executable:
        raise ValueError("the rocprofv3 executable must be a non-empty path")
    folder = str(out_dir)
    if not folder or "%" in folder or "$" in folder or folder.startswith("-"):
        raise ValueError(f"{folder[:80]!r} is not an output folder rocprofv3 takes literally")
    if not isinstance(name, str) or not _OUTPUT_NAME.fullmatch(name):
        raise ValueError(f"{str(name)[:80]!r} is not an output name rocprofv3 takes literally")
    names = _check_counters(counters)
    target = list(target_argv)
    if not target or not all(isinstance(arg, str) for arg in target):
        raise ValueError("the target command must be a non-empty list of strings")
    argv = [executable, "--kernel-trace"]
    if names:
        argv += ["--pmc", *names]
    return [*argv, "--output-format", "csv", "-d", folder, "-o", name, "--", *target]


# --- finding rocprofv3 -------------------------------------------------------------------------


def find_rocprof() -> str | None:
    """The rocprofv3 executable: on PATH, under $ROCM_PATH, /opt/rocm, /opt/rocm-*."""
    found = shutil.which("rocprofv3")
    if found:
        return found
    roots = [os.environ.get(var) for var in ("ROCM_PATH", "ROCM_HOME")]
    places = [os.path.join(root, "bin", "rocprofv3") for root in roots if root]
    places.append("/opt/rocm/bin/rocprofv3")
    places += sorted(glob.glob("/opt/rocm-*/bin/rocprofv3"), key=version_key, reverse=True)
    return next((p for p in places if os.path.isfile(p) and os.access(p, os.X_OK)), None)
