"""NVIDIA's ``compute-sanitizer`` on a correct candidate: memcheck (out-of-bounds and misaligned
accesses), racecheck (shared-memory hazards) and initcheck (reads of uninitialised device
memory), each run over the worker in its own sandboxed child (``verifier/profile_phase.py``), its
findings kept as flags on the verdict.

The tool writes its report to a log file (``--log-file``). Every line of it starts with
``=========`` and a space; a finding's headline is a line whose text follows directly (its
details, ``at ...``, ``by thread ...``, are indented further), and the run ends with ``ERROR SUMMARY: N
errors`` (racecheck: ``RACECHECK SUMMARY: N hazards displayed (E errors, W warnings)``). See
https://docs.nvidia.com/compute-sanitizer/ComputeSanitizer/index.html. The log comes from a child
that ran candidate code, so it is read as data: bounded, and anything that is not the tool's
layout raises ``ValueError``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("memcheck", "racecheck", "initcheck")
LOG_NAME = "sanitizer.log"
PREFIX = "========="
_MAX_TEXT = 16 * 1024 * 1024
_MAX_HEADLINES = 20
_SUMMARY = re.compile(r"ERROR SUMMARY: (\d+) errors?")
_RACE_SUMMARY = re.compile(
    r"RACECHECK SUMMARY: (\d+) hazards? displayed \((\d+) errors?, (\d+) warnings?\)"
)
# Lines of the tool's own that are not findings.
_NOT_FINDINGS = ("COMPUTE-SANITIZER", "ERROR SUMMARY", "RACECHECK SUMMARY", "Target application")
_KERNEL = re.compile(r"^\s+at (?:0x[0-9a-f]+ in )?([A-Za-z_][\w:<>, *&]*?)(?:\(|\+0x|$)")


@dataclass
class SanitizerReport:
    """What one tool found: the error count from its summary and the distinct findings."""

    tool: str
    errors: int
    findings: list[str] = field(default_factory=list)


def find_compute_sanitizer() -> str | None:
    """The compute-sanitizer executable: on PATH, under $CUDA_HOME or /usr/local/cuda*."""
    found = shutil.which("compute-sanitizer")
    if found:
        return found
    roots = [os.environ.get(var) for var in ("CUDA_HOME", "CUDA_PATH")]
    places = [os.path.join(root, "bin", "compute-sanitizer") for root in roots if root]
    places += sorted(glob.glob("/usr/local/cuda*/bin/compute-sanitizer"), reverse=True)
    places += sorted(
        glob.glob("/usr/local/cuda*/compute-sanitizer/compute-sanitizer"), reverse=True
    )
    return next((p for p in places if os.path.isfile(p) and os.access(p, os.X_OK)), None)


def sanitizer_command(exe: str, tool: str, out_dir: Path, target: Sequence[str]) -> list[str]:
    """compute-sanitizer's argv running ``target`` (and its children) under ``tool``."""
    if tool not in TOOLS:
        raise ValueError(
            f"unknown compute-sanitizer tool {tool!r} (choose from {', '.join(TOOLS)})"
        )
    argv = list(target)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("the target command must be a non-empty list of strings")
    return [
        exe,
        "--tool",
        tool,
        "--target-processes",
        "all",
        "--print-limit",
        str(_MAX_HEADLINES),
        # Errors torch and Triton meet and handle in their own API calls are not the kernel's.
        "--report-api-errors",
        "no",
        "--log-file",
        str(out_dir / LOG_NAME),
        *argv,
    ]


def parse_log(text: str, tool: str) -> SanitizerReport:
    """The findings of one tool's log: headlines (with the kernel they were in, where the next
    detail line names it), de-duplicated, and the count from the summary line."""
    if not isinstance(text, str):
        raise ValueError("a compute-sanitizer log must be text")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"a compute-sanitizer log of {len(text)} characters is too large")
    lines = [line for line in text.splitlines() if line.startswith(PREFIX)]
    if not lines:
        raise ValueError("not a compute-sanitizer log: no line starts with =========")
    errors: int | None = None
    findings: list[str] = []
    for n, line in enumerate(lines):
        body = line[len(PREFIX) + 1 :]  # "========= " then the text
        if not body.strip():
            continue
        summary = _SUMMARY.search(body) or _RACE_SUMMARY.search(body)
        if summary:
            errors = int(summary.group(2) if summary.re is _RACE_SUMMARY else summary.group(1))
            continue
        if body.startswith((" ", "\t")) or body.strip().startswith(_NOT_FINDINGS):
            continue
        headline = " ".join(body.split())[:200]
        kernel = _kernel_after(lines, n)
        finding = f"{headline} ({kernel})" if kernel else headline
        if any(ord(c) < 32 for c in finding):
            raise ValueError("a compute-sanitizer finding holds control characters")
        if finding not in findings and len(findings) < _MAX_HEADLINES:
            findings.append(finding)
    if errors is None:
        raise ValueError("the compute-sanitizer log has no summary line (the run did not end)")
    return SanitizerReport(tool, errors, findings)


def _kernel_after(lines: list[str], n: int) -> str:
    for line in lines[n + 1 : n + 4]:
        found = _KERNEL.match(line[len(PREFIX) + 1 :])
        if found:
            return found.group(1).strip()[:120]
    return ""


def read_log(out_dir: Path, tool: str) -> SanitizerReport:
    """The tool's log in ``out_dir``. The child could rewrite it: a finding is evidence against
    the candidate, but a clean log proves nothing."""
    from kernelwright.backends.profilers import read_plain_file

    path = out_dir / LOG_NAME
    if not path.exists() and not path.is_symlink():
        raise ValueError(f"compute-sanitizer left no {LOG_NAME}")
    try:
        return parse_log(read_plain_file(path, _MAX_TEXT).decode("utf-8"), tool)
    except UnicodeDecodeError:
        raise ValueError(f"{LOG_NAME} is not UTF-8 text") from None
