"""JAX's profiler for the Judge: a strict reader of the trace-event file that
``jax.profiler.trace(log_dir, create_perfetto_trace=True)`` leaves, reduced to device time per
kernel.

JAX writes ``log_dir/plugins/profile/<run>/<host>.trace.json.gz`` and, with
``create_perfetto_trace``, ``perfetto_trace.json.gz`` beside it (the same events without the
``metadata`` key); see https://docs.jax.dev/en/latest/profiling.html and
https://docs.jax.dev/en/latest/_autosummary/jax.profiler.trace.html. Both hold Chrome's Trace
Event Format (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU):
``{"traceEvents": [...]}`` or a bare list of events, where

- a metadata event ``{"ph": "M", "name": "process_name", "pid": P, "args": {"name": N}}`` names
  process ``P``: ``/device:GPU:0``, ``/device:TPU:0`` for a device (XLA's device planes),
  ``/host:CPU`` and the like for the host; ``"thread_name"`` likewise names ``(pid, tid)``;
- a complete event ``{"ph": "X", "name": ..., "pid": P, "tid": T, "ts": us, "dur": us}`` is one
  span, its times in microseconds (fractions allowed).

On a GPU, kernels run on a device's ``Stream #N`` lines and XLA adds derived lines (``XLA Ops``,
``XLA Modules``, ``Steps``...) that repeat the same time; on a TPU the ``XLA Ops`` line is where
ops run. So a device's events are read from its stream lines where it has any, else from its
``XLA Ops`` line, else from every line but the derived ones. ``parse_trace`` gives one
``KernelProfile`` (``backends/ncu.py``) per event name: the total device time under ncu's name
``gpu__time_duration.sum`` in ``nsecond``, and ``launches``.

The file is written inside the candidate's process, so it is untrusted: anything that is not what
the profiler writes raises ``ValueError`` with a one-line reason, never another error.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import re
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.backends.ncu import DURATION, KernelProfile

LAUNCHES = "launches"
PERFETTO_FILE = "perfetto_trace.json.gz"
TRACE_SUFFIX = ".trace.json.gz"

# "/device:GPU:0", "/device:TPU:3"; not "/host:CPU", "/host:python-tracer".
DEVICE_PROCESS = re.compile(r"/device:(?P<kind>[A-Z][A-Z_]*):(?P<ordinal>\d{1,6})(\s.*)?", re.S)
_STREAM_LINE = "Stream #"
_XLA_OPS_LINE = "XLA Ops"
# Lines XLA derives from the device's own events (xplane_schema): their time is counted twice.
_DERIVED_LINES = {
    "Steps",
    "XLA Modules",
    "XLA Ops",
    "Async XLA Ops",
    "Framework Ops",
    "Framework Name Scope",
    "TensorFlow Ops",
    "TensorFlow Name Scope",
    "Source code",
    "Launch Stats",
    "Host Offload Ops",
    "_counters_",
    "Sparse Core Steps",
    "Sparse Core Modules",
    "Sparse Core Ops",
}
_MAX_INPUT = 64 * 1024 * 1024  # the file as stored
_MAX_JSON = 128 * 1024 * 1024  # the JSON text, once decompressed
_MAX_EVENTS = 500_000
_MAX_NAME = 4096
_MAX_US = 1e12  # about 11.6 days: longer than any profiled session
_MAX_WALK = 10_000


# --- parsing -----------------------------------------------------------------------------------


def _decompress(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            text = stream.read(_MAX_JSON + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"not gzip: {str(exc)[:100]}") from None
    if len(text) > _MAX_JSON:
        raise ValueError(f"trace decompresses to more than {_MAX_JSON >> 20} MiB")
    return text


def _refuse_constant(word: str) -> Any:
    raise ValueError(f"{word} is not a number a trace holds")


def _load(data: bytes | str) -> Any:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError("a trace must be bytes")
    if len(data) > _MAX_INPUT:
        raise ValueError(f"trace file of {len(data)} bytes is larger than {_MAX_INPUT >> 20} MiB")
    if data[:2] == b"\x1f\x8b":
        data = _decompress(bytes(data))
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("trace JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, overlong integers
        raise ValueError(f"not JSON: {str(exc)[:100]}") from None


def _events(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        obj = obj.get("traceEvents")
        if not isinstance(obj, list):
            raise ValueError('trace JSON must be {"traceEvents": [...]} or a list of events')
    elif not isinstance(obj, list):
        raise ValueError('trace JSON must be {"traceEvents": [...]} or a list of events')
    if len(obj) > _MAX_EVENTS:
        raise ValueError(f"trace holds {len(obj)} events, more than {_MAX_EVENTS}")
    return obj


def _int(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError(f"{where}: {type(raw).__name__} where an integer id belongs")
    return raw


def _micros(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError(f"{where}: {type(raw).__name__} where microseconds belong")
    try:
        value = float(raw)
    except OverflowError:
        raise ValueError(f"{where}: time out of range") from None
    if not math.isfinite(value) or abs(value) > _MAX_US:
        raise ValueError(f"{where}: time {str(raw)[:32]} out of range")
    return value


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{where}: {type(raw).__name__} where a name belongs")
    name = raw.strip()
    if not name:
        raise ValueError(f"{where}: empty name")
    if len(name) > _MAX_NAME:
        raise ValueError(f"{where}: name of {len(name)} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"{where}: name holds control characters")
    return name


def _metadata_name(event: dict[str, Any], where: str) -> str:
    args = event.get("args")
    if not isinstance(args, dict):
        raise ValueError(f'{where}: metadata without {{"args": {{"name": ...}}}}')
    return _text(args.get("name"), where)


def _name_table(
    events: list[Any],
) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    processes: dict[int, str] = {}
    threads: dict[tuple[int, int], str] = {}
    for number, event in enumerate(events):
        if not isinstance(event, dict):
            raise ValueError(f"event {number} is {type(event).__name__}, not an object")
        if event.get("ph") != "M" or event.get("name") not in ("process_name", "thread_name"):
            continue
        where = f"event {number}"
        pid = _int(event.get("pid"), f"{where}, pid")
        name = _metadata_name(event, where)
        if event["name"] == "process_name":
            if processes.setdefault(pid, name) != name:
                raise ValueError(f"{where}: process {pid} named twice")
        else:
            key = (pid, _int(event.get("tid"), f"{where}, tid"))
            if threads.setdefault(key, name) != name:
                raise ValueError(f"{where}: thread {key[1]} of process {pid} named twice")
    return processes, threads


def device_processes(processes: dict[int, str]) -> dict[int, str]:
    """The processes (pid: name) that are devices: ``/device:GPU:0``, ``/device:TPU:0``."""
    found = {}
    for pid, name in processes.items():
        match = DEVICE_PROCESS.fullmatch(name)
        if match and match["kind"] != "CPU":
            found[pid] = name
    return found


def _kernel_lines(
    devices: dict[int, str], threads: dict[tuple[int, int], str]
) -> dict[int, set[int] | None]:
    """Per device, the tids whose events are kernels (None: every line not derived)."""
    lines: dict[int, set[int] | None] = {}
    for pid in devices:
        named = {tid: name for (p, tid), name in threads.items() if p == pid}
        streams = {tid for tid, name in named.items() if name.startswith(_STREAM_LINE)}
        ops = {tid for tid, name in named.items() if name == _XLA_OPS_LINE}
        lines[pid] = streams or ops or None
    return lines


def parse_trace(
    data: bytes | str, name_filter: Callable[[str], bool] | None = None
) -> list[KernelProfile]:
    """Kernels on the devices of a JAX profiler trace (gzip or plain JSON): one
    ``KernelProfile`` per event name, in order of first appearance, with the summed device time
    ``gpu__time_duration.sum`` (ns) and ``launches``. ``name_filter`` keeps only the names it
    accepts (e.g. those holding a Pallas kernel's name).

    Host events are skipped; every device event must be well formed (a name, integer ids, finite
    non-negative times), else ``ValueError``. A trace with no device process gives ``[]``.
    """
    events = _events(_load(data))
    processes, threads = _name_table(events)
    devices = device_processes(processes)
    lines = _kernel_lines(devices, threads)
    profiles: dict[str, KernelProfile] = {}
    for number, event in enumerate(events):
        if event.get("ph") != "X":
            continue
        where = f"event {number}"
        pid = _int(event.get("pid"), f"{where}, pid")
        if pid not in devices:
            continue
        tid = _int(event.get("tid"), f"{where}, tid")
        wanted = lines[pid]
        if wanted is None:
            if threads.get((pid, tid)) in _DERIVED_LINES:
                continue
        elif tid not in wanted:
            continue
        name = _text(event.get("name"), where)
        _micros(event.get("ts"), f"{where}, ts")
        dur = _micros(event.get("dur"), f"{where}, dur")
        if dur < 0:
            raise ValueError(f"{where}: negative duration {dur} us")
        if name_filter is not None and not name_filter(name):
            continue
        profile = profiles.get(name)
        if profile is None:
            profile = KernelProfile(
                name, {DURATION: 0.0, LAUNCHES: 0.0}, {DURATION: "nsecond", LAUNCHES: "launch"}
            )
            profiles[name] = profile
        profile.metrics[DURATION] = (profile.metrics[DURATION] or 0.0) + dur * 1e3
        profile.metrics[LAUNCHES] = (profile.metrics[LAUNCHES] or 0.0) + 1.0
    return list(profiles.values())


# --- finding the trace -------------------------------------------------------------------------


def _listing(folder: Path, root: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            listing = list(entries)
    except OSError as exc:
        raise ValueError(f"{folder.relative_to(root)}: {exc.strerror}") from None
    if len(listing) > _MAX_WALK:
        raise ValueError(f"{folder.relative_to(root)} holds more than {_MAX_WALK} entries")
    for entry in listing:
        if entry.is_symlink():
            where = Path(entry.path).relative_to(root)
            raise ValueError(f"{where} is a symbolic link; JAX's profiler writes none")
    return listing


def _folder(path: Path, root: Path) -> bool:
    """Whether ``path`` is a real folder (False: absent); a link or a file there is refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ValueError(f"{path.name}: {exc.strerror}") from None
    where = path.relative_to(root) if path != root else Path(path.name)
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(f"{where} is a symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{where} is not a folder")
    return True


def find_trace(out_dir: str | Path) -> Path | None:
    """The trace file of the latest run under ``out_dir`` (the ``log_dir`` given to
    ``jax.profiler.trace``): ``plugins/profile/<run>/perfetto_trace.json.gz``, else that run's
    one ``<host>.trace.json.gz``. Runs are named by their start time (``2025_01_31_12_00_00``),
    so the latest is the greatest name. None where there is none; a symbolic link on the way, a
    special file by a trace's name or two host traces in one run raise ``ValueError``.
    """
    root = Path(out_dir)
    if not _folder(root, root):
        return None
    profile_dir = root
    for part in ("plugins", "profile"):
        profile_dir = profile_dir / part
        if not _folder(profile_dir, root):
            return None
    runs = [e for e in _listing(profile_dir, root) if e.is_dir(follow_symlinks=False)]
    if not runs:
        return None
    run = Path(max(runs, key=lambda e: e.name).path)
    listing = _listing(run, root)
    perfetto = [e for e in listing if e.name == PERFETTO_FILE]
    hosts = sorted(
        (e for e in listing if e.name.endswith(TRACE_SUFFIX) and e.name != TRACE_SUFFIX),
        key=lambda e: e.name,
    )
    chosen = perfetto or hosts
    if not chosen:
        return None
    if not perfetto and len(hosts) > 1:
        raise ValueError(f"{run.relative_to(root)} holds {len(hosts)} host traces")
    entry = chosen[0]
    if not entry.is_file(follow_symlinks=False):
        raise ValueError(f"{Path(entry.path).relative_to(root)} is not a plain file")
    return Path(entry.path)
