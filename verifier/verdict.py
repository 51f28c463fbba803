"""The verdict: what ``kernelwright eval --json`` prints and what the run store keeps."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

STATUSES = (
    "correct",
    "incorrect",
    "rejected",
    "compile_error",
    "runtime_error",
    "timeout",
    "crashed",
    "infra_error",
    "compiled",
)

# Exit codes of `kernelwright eval` (DESIGN.md).
EXIT_OK = 0
EXIT_NOT_CORRECT = 1
EXIT_USAGE = 2
EXIT_INFRA = 3


@dataclass
class Finding:
    """One anti-cheat check that fired: ``check`` names it, ``detail`` says what it saw."""

    check: str
    detail: str


@dataclass
class TimingResult:
    """Timing of the candidate and its baselines, in milliseconds per call."""

    candidate_ms: float | None = None
    eager_ms: float | None = None
    compile_ms: float | None = None
    samples: list[float] = field(default_factory=list)
    meaningful: bool = False
    # Beyond the contract keys above: kept in the run store, shown in tables.
    candidate_iqr_ms: float | None = None
    eager_samples: list[float] = field(default_factory=list)
    compile_samples: list[float] = field(default_factory=list)
    note: str = ""

    CONTRACT_KEYS: ClassVar[tuple[str, ...]] = (
        "candidate_ms",
        "eager_ms",
        "compile_ms",
        "samples",
        "meaningful",
    )

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.CONTRACT_KEYS}

    def detail(self) -> dict[str, Any]:
        return {
            "candidate_iqr_ms": self.candidate_iqr_ms,
            "eager_samples": self.eager_samples,
            "compile_samples": self.compile_samples,
            "note": self.note,
        }


@dataclass
class Verdict:
    """The parent's decision about one candidate on one task and backend."""

    task: str
    backend: str
    device: str
    status: str
    violations: list[Finding] = field(default_factory=list)
    flags: list[Finding] = field(default_factory=list)
    correctness: dict[str, Any] = field(default_factory=dict)
    timing: TimingResult = field(default_factory=TimingResult)
    speedup: dict[str, float | None] = field(
        default_factory=lambda: {"eager": None, "compile": None}
    )
    log: str = ""
    # Beyond the eval contract: sandbox level, phase durations, the measuring environment.
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    @property
    def exit_code(self) -> int:
        if self.status in ("correct", "compiled"):
            return EXIT_OK
        if self.status == "infra_error":
            return EXIT_INFRA
        return EXIT_NOT_CORRECT

    def to_json(self) -> dict[str, Any]:
        """The object ``kernelwright eval --json`` prints: exactly the DESIGN.md contract keys."""
        return {
            "task": self.task,
            "backend": self.backend,
            "device": self.device,
            "status": self.status,
            "correct": self.correct,
            "violations": [asdict(v) for v in self.violations],
            "flags": [asdict(f) for f in self.flags],
            "correctness": self.correctness,
            "timing": self.timing.to_json(),
            "speedup": dict(self.speedup),
            "log": self.log,
        }

    def to_record(self) -> dict[str, Any]:
        """The contract plus ``extra`` (timing detail, sandbox, phases, environment): what is stored."""
        record = self.to_json()
        record["extra"] = {**self.extra, "timing_detail": self.timing.detail()}
        return record

    def dumps(self, detail: bool = False) -> str:
        """One line of JSON: the contract, or with ``detail`` the record as it is stored."""
        data = self.to_record() if detail else self.to_json()
        return json.dumps(_finite(data), allow_nan=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        extra = dict(data.get("extra", {}))
        timing_fields = {**data.get("timing", {}), **extra.pop("timing_detail", {})}
        timing_keys = TimingResult.__dataclass_fields__.keys()
        timing = TimingResult(**{k: v for k, v in timing_fields.items() if k in timing_keys})
        return cls(
            task=data["task"],
            backend=data["backend"],
            device=data.get("device", ""),
            status=data["status"],
            violations=[Finding(**v) for v in data.get("violations", [])],
            flags=[Finding(**f) for f in data.get("flags", [])],
            correctness=data.get("correctness", {}),
            timing=timing,
            speedup=data.get("speedup", {"eager": None, "compile": None}),
            log=data.get("log", ""),
            extra=extra,
        )


def _finite(value: Any) -> Any:
    """Replace NaN/Inf floats by None so the output is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
