"""Baselines kept across processes: the eager and ``torch.compile`` timings of a task.

They depend on the task and its overrides, the timing budget and input policy, the device, the
threads, and the software (torch, Triton, JAX, Python, kernelwright, driver), never on the
candidate: measured once, they serve every candidate of that task until one of those changes,
``fresh_baseline`` asks for a new measurement, or they pass ``max_age_s``. A fingerprint of
exactly those things names the file, under the cache dir, which only the parent writes (the
children never see it). A file that does not read back as a well-formed baseline is ignored
and measured again: a stored baseline can cost a measurement, never change a verdict's checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

FORMAT = 1
FOLDER = "baselines"
# A week: long enough to serve a suite's worth of runs, short enough that a driver or firmware
# update nobody recorded does not stay hidden.
MAX_AGE_S = 7 * 86400.0
_MAX_SAMPLES = 100_000


def fingerprint(parts: dict[str, Any]) -> str:
    """The hash that names a baseline: of everything its timings depend on."""
    text = json.dumps({"format": FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def software(environment: dict[str, Any]) -> dict[str, Any]:
    """The parts of a captured environment that a baseline's timings depend on (not clocks,
    temperatures or the time of day)."""
    gpu: dict[str, Any] = environment["gpu"] if isinstance(environment.get("gpu"), dict) else {}
    cpu: dict[str, Any] = environment["cpu"] if isinstance(environment.get("cpu"), dict) else {}
    return {
        "versions": environment.get("versions"),
        "torch_build": environment.get("torch_build"),
        "device": environment.get("device"),
        "platform": environment.get("platform"),
        "gpu": {k: gpu.get(k) for k in ("name", "uuid", "driver", "cuda_driver", "memory_mib")},
        "cpu": {k: cpu.get(k) for k in ("model", "cores", "usable_cores", "memory_mib")},
        "sandbox": environment.get("sandbox"),
    }


def _path(cache_dir: Path, digest: str) -> Path:
    return cache_dir / FOLDER / f"{digest}.json"


def _samples(value: Any, allow_empty: bool) -> bool:
    return (
        isinstance(value, list)
        and (allow_empty or bool(value))
        and len(value) <= _MAX_SAMPLES
        and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0
            for x in value
        )
    )


def _optional_figure(value: Any) -> bool:
    return value is None or (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def well_formed(baseline: Any) -> bool:
    """Whether ``baseline`` has the shape ``Evaluation._measure_baselines`` returns."""
    return (
        isinstance(baseline, dict)
        and _samples(baseline.get("eager"), allow_empty=False)
        and _samples(baseline.get("compile"), allow_empty=True)
        and (baseline.get("compile_error") is None or isinstance(baseline["compile_error"], str))
        and _optional_figure(baseline.get("gap_ms"))
        and _optional_figure(baseline.get("gap_iqr_ms"))
    )


def load(
    cache_dir: Path, digest: str, max_age_s: float = MAX_AGE_S, now: float | None = None
) -> tuple[dict[str, Any], float] | None:
    """The stored baseline of ``digest`` and when it was measured (epoch seconds), or None when
    there is none, it is older than ``max_age_s``, or it is not well formed."""
    path = _path(cache_dir, digest)
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 8 << 20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != digest:
        return None
    measured = data.get("measured_at")
    baseline = data.get("baseline")
    if not isinstance(measured, (int, float)) or isinstance(measured, bool):
        return None
    age = (time.time() if now is None else now) - float(measured)
    if not math.isfinite(age) or age < -60 or age > max_age_s or not well_formed(baseline):
        return None
    assert isinstance(baseline, dict)
    return baseline, float(measured)


def save(cache_dir: Path, digest: str, baseline: dict[str, Any], measured_at: float) -> None:
    """Store a baseline (a failed write only costs a measurement later)."""
    if not well_formed(baseline):
        return
    folder = cache_dir / FOLDER
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{digest}.{os.getpid()}.tmp"
        record = {"fingerprint": digest, "measured_at": measured_at, "baseline": baseline}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(tmp, _path(cache_dir, digest))
