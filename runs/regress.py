"""Regression checks: compare each task's kernel against a baseline and decide what a CI job says.

A slowdown counts only when it is both large (the candidate's median time over the baseline's
exceeds the task's threshold, 1.10 by default) and unlikely to be noise (a one-sided
Mann-Whitney U test on the raw timing samples gives p below ``alpha``). A kernel that was
correct in the baseline and is not now always counts, on any machine: correctness does not
depend on the hardware. Timings from environments that are not ``comparable`` are not compared.

Exit codes: 0 clean, 1 slower, 4 newly broken (wins over 1), 5 nothing wrong found but some
timings were not comparable. 2 and 3 mean what they mean for every other command: 2 bad usage
(a bad option, or a baseline that is malformed or refused), 3 an infrastructure error (the run
store cannot be reached), so a CI job never mistakes either for a verdict.

Task ids, statuses, reasons (which quote statuses and environment facts) and the baseline and
candidate names come from stored records and file names: the Markdown and JUnit renderings pass
each through the ``textsafe`` helper of their medium.
"""

from __future__ import annotations

import statistics
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy.stats import mannwhitneyu

from kernelwright.backends.environment import comparable
from kernelwright.runs.store import Store, TaskResult, read_jsonl, write_file_afresh
from kernelwright.textsafe import markdown, xml_text

DEFAULT_THRESHOLD = 1.10
DEFAULT_ALPHA = 0.002

# Verdicts: what the comparison found.
EXIT_CLEAN = 0
EXIT_SLOWER = 1
EXIT_BROKEN = 4
EXIT_NOT_COMPARABLE = 5
# Not verdicts: the comparison did not happen. 2 is bad usage, as Click and typer exit for an
# unknown option, including a baseline that is malformed or refused; 3 an infrastructure error
# such as a run store that cannot be reached.
EXIT_USAGE = 2
EXIT_INFRA = 3

# Outcomes of one task, and whether each fails the CI job.
OUTCOMES = {
    "broken": True,  # correct in the baseline, not now
    "slower": True,  # significantly and materially slower
    "not_comparable": False,  # timings from different hardware or software, or none at all
    "faster": False,
    "same": False,
    "fixed": False,  # not correct in the baseline, correct now
    "still_failing": False,
    "missing": False,  # in the baseline only
    "new": False,  # in the candidate set only
}


@dataclass(frozen=True)
class TaskComparison:
    """The outcome for one task, with the figures behind it."""

    task_id: str
    outcome: str
    reason: str
    baseline_status: str | None = None
    candidate_status: str | None = None
    baseline_ms: float | None = None
    candidate_ms: float | None = None
    ratio: float | None = None
    p_value: float | None = None
    threshold: float = DEFAULT_THRESHOLD

    @property
    def failed(self) -> bool:
        return OUTCOMES[self.outcome]

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "baseline_status": self.baseline_status,
            "candidate_status": self.candidate_status,
            "baseline_ms": self.baseline_ms,
            "candidate_ms": self.candidate_ms,
            "ratio": self.ratio,
            "p_value": self.p_value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class RegressResult:
    """Every task's comparison and the exit code a CI job should return."""

    rows: list[TaskComparison]
    alpha: float = DEFAULT_ALPHA
    baseline_name: str = "baseline"
    candidate_name: str = "candidate"

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def exit_code(self) -> int:
        if self.count("broken"):
            return EXIT_BROKEN
        if self.count("slower"):
            return EXIT_SLOWER
        if self.count("not_comparable"):
            return EXIT_NOT_COMPARABLE
        return EXIT_CLEAN

    @property
    def summary(self) -> str:
        """One line: how many tasks were compared and what was found."""
        found = [f"{self.count(o)} {o.replace('_', ' ')}" for o in OUTCOMES if self.count(o)]
        return f"{len(self.rows)} tasks: " + (", ".join(found) if found else "nothing to compare")

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline_name,
            "candidate": self.candidate_name,
            "alpha": self.alpha,
            "exit_code": self.exit_code,
            "summary": self.summary,
            "tasks": [row.to_json() for row in self.rows],
        }


def _environment(record: Mapping[str, Any]) -> dict[str, Any] | None:
    return (record.get("extra") or {}).get("environment")


def _samples(record: Mapping[str, Any]) -> list[float]:
    samples = (record.get("timing") or {}).get("samples") or []
    return [float(s) for s in samples if s is not None]


def _timing_problem(record: Mapping[str, Any], side: str) -> str | None:
    timing = record.get("timing") or {}
    if not timing.get("meaningful", True):
        return f"the {side} timings are marked not meaningful"
    if len(_samples(record)) == 0:
        return f"the {side} result holds no timing samples"
    return None


def compare_task(
    task_id: str,
    baseline: Mapping[str, Any] | None,
    candidate: Mapping[str, Any] | None,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
) -> TaskComparison:
    """Compare one task's candidate verdict record with its baseline record."""
    if baseline is None:
        status = (candidate or {}).get("status")
        return TaskComparison(task_id, "new", "not in the baseline", candidate_status=status)
    if candidate is None:
        status = baseline.get("status")
        return TaskComparison(task_id, "missing", "not in the candidate set", status)
    base_status, cand_status = baseline.get("status"), candidate.get("status")
    base_ok, cand_ok = base_status == "correct", cand_status == "correct"
    facts: dict[str, Any] = {
        "baseline_status": base_status,
        "candidate_status": cand_status,
        "threshold": threshold,
    }
    if not base_ok:
        outcome = "fixed" if cand_ok else "still_failing"
        return TaskComparison(task_id, outcome, f"baseline was {base_status}", **facts)
    if cand_status == "infra_error":
        reason = "the candidate's evaluation failed on infrastructure, not on the kernel"
        return TaskComparison(task_id, "not_comparable", reason, **facts)
    if not cand_ok:
        return TaskComparison(task_id, "broken", f"was correct, now {cand_status}", **facts)
    same, why = comparable(_environment(baseline), _environment(candidate))
    if not same:
        return TaskComparison(task_id, "not_comparable", why, **facts)
    for record, side in ((baseline, "baseline"), (candidate, "candidate")):
        problem = _timing_problem(record, side)
        if problem:
            return TaskComparison(task_id, "not_comparable", problem, **facts)
    return _compare_timings(task_id, baseline, candidate, threshold, alpha, facts)


def _compare_timings(
    task_id: str,
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    threshold: float,
    alpha: float,
    facts: dict[str, Any],
) -> TaskComparison:
    base, cand = _samples(baseline), _samples(candidate)
    base_ms, cand_ms = statistics.median(base), statistics.median(cand)
    ratio = cand_ms / base_ms if base_ms > 0 else float("inf")
    facts.update(baseline_ms=base_ms, candidate_ms=cand_ms, ratio=ratio)
    slower_p = float(mannwhitneyu(cand, base, alternative="greater").pvalue)
    if ratio > threshold:
        if slower_p < alpha:
            reason = f"{ratio:.2f}x the baseline time (p={slower_p:.2g})"
            return TaskComparison(task_id, "slower", reason, p_value=slower_p, **facts)
        reason = f"{ratio:.2f}x the baseline time, but within noise (p={slower_p:.2g})"
        return TaskComparison(task_id, "same", reason, p_value=slower_p, **facts)
    faster_p = float(mannwhitneyu(cand, base, alternative="less").pvalue)
    if ratio < 1 / threshold and faster_p < alpha:
        reason = f"{ratio:.2f}x the baseline time (p={faster_p:.2g})"
        return TaskComparison(task_id, "faster", reason, p_value=faster_p, **facts)
    reason = f"{ratio:.2f}x the baseline time, within the {threshold:.2f}x threshold"
    return TaskComparison(task_id, "same", reason, p_value=slower_p, **facts)


def _by_task(
    records: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
) -> dict[str, Mapping[str, Any]]:
    if isinstance(records, Mapping):
        return dict(records)
    return {record["task"]: record for record in records}


def compare(
    baseline: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    candidate: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    threshold: float = DEFAULT_THRESHOLD,
    thresholds: Mapping[str, float] | None = None,
    alpha: float = DEFAULT_ALPHA,
    baseline_name: str = "baseline",
    candidate_name: str = "candidate",
) -> RegressResult:
    """Compare two sets of verdict records (keyed by task id, or lists keyed by their ``task``).

    Each record's environment is read from ``record["extra"]["environment"]``; ``thresholds``
    overrides ``threshold`` per task id.
    """
    base, cand = _by_task(baseline), _by_task(candidate)
    overrides = dict(thresholds or {})
    rows = [
        compare_task(task, base.get(task), cand.get(task), overrides.get(task, threshold), alpha)
        for task in sorted(set(base) | set(cand))
    ]
    return RegressResult(rows, alpha, baseline_name, candidate_name)


def record_with_environment(result: TaskResult) -> dict[str, Any]:
    """A stored result's verdict record, with the environment column folded into ``extra``."""
    record = dict(result.record)
    extra = dict(record.get("extra") or {})
    if result.environment and not extra.get("environment"):
        extra["environment"] = result.environment
    record["extra"] = extra
    record.setdefault("task", result.task_id)
    return record


def records_from_run(store: Store, run_id: int) -> dict[str, dict[str, Any]]:
    """The latest verdict record of each task of a stored run, keyed by task id."""
    return {r.task_id: record_with_environment(r) for r in store.run_results(run_id, "latest")}


def records_from_jsonl(path: Path | str) -> dict[str, dict[str, Any]]:
    """The verdict records of a file written by ``Store.export_jsonl``, keyed by task id."""
    return {r.task_id: record_with_environment(r) for r in read_jsonl(path)}


def write_junit(result: RegressResult, path: Path | str) -> None:
    """JUnit XML: one testcase per task; slower and broken fail, not comparable is skipped."""
    failures = sum(1 for row in result.rows if row.failed)
    skipped = sum(1 for row in result.rows if row.outcome in ("not_comparable", "missing"))
    suite = ET.Element(
        "testsuite",
        name="kernelwright.regress",
        tests=str(len(result.rows)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
    )
    for row in result.rows:
        # Every value from a record goes through xml_text: a control character, a lone
        # surrogate or U+FFFE in a task id would otherwise make the whole file unparseable.
        name = xml_text(row.task_id)
        case = ET.SubElement(suite, "testcase", classname="kernelwright.regress", name=name)
        message = xml_text(f"{row.outcome}: {row.reason}")
        if row.failed:
            failure = ET.SubElement(case, "failure", message=message, type=row.outcome)
            failure.text = _junit_detail(row)
        elif row.outcome in ("not_comparable", "missing"):
            ET.SubElement(case, "skipped", message=message)
        else:
            ET.SubElement(case, "system-out").text = message
    root = ET.Element("testsuites", name="kernelwright regress")
    root.append(suite)
    ET.indent(root)
    text = ET.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8")
    # A link planted where the report goes is replaced, never written through.
    write_file_afresh(path, text + "\n")


def _junit_detail(row: TaskComparison) -> str:
    lines = [
        f"baseline status: {xml_text(row.baseline_status)}",
        f"candidate status: {xml_text(row.candidate_status)}",
    ]
    if row.ratio is not None:
        lines.append(
            f"median ms: {row.baseline_ms:.6g} -> {row.candidate_ms:.6g} ({row.ratio:.3f}x)"
        )
    if row.p_value is not None:
        lines.append(f"Mann-Whitney U p-value: {row.p_value:.3g}, threshold {row.threshold:.2f}x")
    return "\n".join(lines)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_markdown(result: RegressResult) -> str:
    """The comparison as Markdown: a verdict line and one table row per task, failures first."""
    verdict = {
        EXIT_CLEAN: "no regression",
        EXIT_SLOWER: "slower kernels found",
        EXIT_BROKEN: "newly broken kernels found",
        EXIT_NOT_COMPARABLE: "no regression found, but some timings could not be compared",
    }[result.exit_code]
    # Data never starts a line (where it could open a heading or a CI ``::error`` command) and
    # goes through ``markdown`` wherever it appears.
    lines = [
        f"## kernelwright regress: {verdict}",
        "",
        f"Compared {markdown(result.candidate_name)} against {markdown(result.baseline_name)}: "
        f"{result.summary}.",
        f"A slowdown counts when the median time ratio exceeds the threshold and a one-sided "
        f"Mann-Whitney U test gives p < {result.alpha:g}.",
        "",
        "| task | outcome | baseline ms | candidate ms | ratio | p | reason |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    order = list(OUTCOMES)
    for row in sorted(result.rows, key=lambda r: (order.index(r.outcome), r.task_id)):
        cells = [
            markdown(row.task_id),
            row.outcome.replace("_", " "),
            _fmt(row.baseline_ms, ".4g"),
            _fmt(row.candidate_ms, ".4g"),
            _fmt(row.ratio, ".2f"),
            _fmt(row.p_value, ".2g"),
            markdown(row.reason),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
