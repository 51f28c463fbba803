"""The GPU measurements a stored verdict may carry beside its time: its profile's numbers and its
energy per call. Stored records are data: only finite numbers are read out of them."""

from __future__ import annotations

import math
from typing import Any

MAX_PROFILE_ROWS = 30


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def joules_per_call(record: Any) -> float | None:
    """A stored record's energy estimate, if it is a finite positive number."""
    extra = record.get("extra") if isinstance(record, dict) else None
    energy = extra.get("energy") if isinstance(extra, dict) else None
    value = _finite(energy.get("joules_per_call")) if isinstance(energy, dict) else None
    return value if value is not None and value > 0 else None


def profiler_name(record: Any) -> str | None:
    extra = record.get("extra") if isinstance(record, dict) else None
    profile = extra.get("profile") if isinstance(extra, dict) else None
    name = profile.get("profiler") if isinstance(profile, dict) else None
    return name if isinstance(name, str) else None


def profile_rows(record: Any) -> list[tuple[str, str, float]]:
    """(group or kernel, metric, value) of a stored record's profile, numbers only."""
    extra = record.get("extra") if isinstance(record, dict) else None
    profile = extra.get("profile") if isinstance(extra, dict) else None
    summary = profile.get("summary") if isinstance(profile, dict) else None
    if not isinstance(summary, dict):
        return []
    rows: list[tuple[str, str, float]] = []
    for group, values in summary.items():
        if not isinstance(values, dict):
            continue
        for metric, value in values.items():
            inner = value if isinstance(value, dict) else {"": value}
            for name, number in inner.items():
                finite = _finite(number)
                if finite is None:
                    continue
                label = f"{metric} {name}".strip() if isinstance(value, dict) else str(metric)
                rows.append((str(group), label, finite))
    return rows[:MAX_PROFILE_ROWS]
