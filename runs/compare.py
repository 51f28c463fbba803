"""Two runs compared task by task: what changed, and by how much overall, with bootstrap intervals.

Run A is the baseline and run B the candidate; their verdict records are paired by task id. Per
task: each side's status, the correctness change, each side's speedup over eager, and the ratio
B/A of the median candidate times, decided by ``regress.compare_task`` (the same environment
check, ``backends.environment.comparable``, and the same outcomes). A task correct in both runs
whose timings come from different hardware or software, or are not meaningful (an interpreter),
is ``not_comparable`` and left out of the time ratio; its correctness change still counts.

Overall: the geometric mean of the time ratios of the tasks compared, and ``fast_p`` (as the
leaderboard defines it) of each run over the tasks in both, with the difference B - A. Intervals
are percentile bootstraps that resample tasks with replacement, both runs' results of a task
together, from a fixed seed: the same two runs always give the same report.

Task ids, statuses, reasons and run names come from the store: every renderer passes them through
the ``textsafe`` helper of its medium, or ``report_html.escape`` on the HTML page.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from kernelwright.runs.leaderboard import THRESHOLDS, ScoredTask, fast_p, geomean, threshold_name
from kernelwright.runs.regress import OUTCOMES, _by_task, compare_task
from kernelwright.runs.report_html import STYLE, _html_table, _legend, _rect, _svg, _text, escape
from kernelwright.runs.store import _figure
from kernelwright.textsafe import markdown, term, term_line, visible

FORMATS = ("table", "md", "json", "html")
RESAMPLES = 2000
SEED = 20250101
CONFIDENCE = 0.95

# Correctness change of a task in both runs (None for a task in one run only).
CHANGES = ("newly_broken", "newly_correct", "both_correct", "neither_correct")
# regress's outcomes whose ratio is a comparison of timings.
TIMED = ("slower", "faster", "same")


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval."""

    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class PairedTask:
    """One task's results in run A and run B, and what changed."""

    task_id: str
    outcome: str  # one of regress.OUTCOMES
    reason: str
    change: str | None  # one of CHANGES; None when the task is in one run only
    status_a: str | None = None
    status_b: str | None = None
    speedup_a: float | None = None  # over eager, as each verdict measured it
    speedup_b: float | None = None
    ms_a: float | None = None  # median candidate time
    ms_b: float | None = None
    ratio: float | None = None  # ms_b / ms_a, only where the timings compare
    p_value: float | None = None

    @property
    def paired(self) -> bool:
        return self.change is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "change": self.change,
            "status_a": self.status_a,
            "status_b": self.status_b,
            "speedup_a": _round(self.speedup_a),
            "speedup_b": _round(self.speedup_b),
            "ms_a": _round(self.ms_a),
            "ms_b": _round(self.ms_b),
            "ratio": _round(self.ratio),
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class FastDifference:
    """fast_p of each run over the tasks in both, and B - A with its interval."""

    a: float
    b: float
    interval: Interval | None

    @property
    def difference(self) -> float:
        return self.b - self.a


@dataclass(frozen=True)
class Comparison:
    """Every task's pairing and the overall figures."""

    name_a: str
    name_b: str
    tasks: list[PairedTask]
    geomean_ratio: float | None
    ratio_interval: Interval | None
    fast: dict[str, FastDifference]
    resamples: int = RESAMPLES
    seed: int = SEED
    confidence: float = CONFIDENCE

    @property
    def paired(self) -> int:
        return sum(1 for t in self.tasks if t.paired)

    @property
    def timed(self) -> int:
        return sum(1 for t in self.tasks if t.ratio is not None)

    def count(self, key: str) -> int:
        return sum(1 for t in self.tasks if key in (t.change, t.outcome))

    @property
    def summary(self) -> str:
        """One line: the tasks, the correctness changes and the overall time ratio."""
        parts = [f"{self.paired} task{'' if self.paired == 1 else 's'} in both runs"]
        parts += [f"{self.count(c)} {c.replace('_', ' ')}" for c in CHANGES[:2]]
        parts.append(f"{self.count('not_comparable')} not comparable")
        for key, side in (("missing", "A"), ("new", "B")):
            if self.count(key):
                parts.append(f"{self.count(key)} only in {side}")
        if self.geomean_ratio is not None:
            parts.append(
                f"time B/A {format_ratio(self.geomean_ratio)} "
                f"{format_interval(self.ratio_interval, format_ratio)} over {self.timed} "
                f"task{'' if self.timed == 1 else 's'}"
            )
        else:
            parts.append("no task timed comparably in both")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.name_a,
            "b": self.name_b,
            "summary": self.summary,
            "paired": self.paired,
            "changes": {c: self.count(c) for c in CHANGES},
            "outcomes": {o: self.count(o) for o in OUTCOMES if self.count(o)},
            "not_comparable": self.count("not_comparable"),
            "time_ratio": {
                "geomean": _round(self.geomean_ratio),
                **_interval_json(self.ratio_interval),
                "tasks": self.timed,
            },
            "fast_p": {
                name: {
                    "a": _round(f.a),
                    "b": _round(f.b),
                    "difference": _round(f.difference),
                    **_interval_json(f.interval),
                }
                for name, f in self.fast.items()
            },
            "bootstrap": {
                "resamples": self.resamples,
                "seed": self.seed,
                "confidence": self.confidence,
            },
            "tasks": [t.to_json() for t in self.tasks],
        }


def _round(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None


def _interval_json(interval: Interval | None) -> dict[str, float | None]:
    if interval is None:
        return {"low": None, "high": None}
    return {"low": _round(interval.low), "high": _round(interval.high)}


# -- pairing --------------------------------------------------------------------------------------


def _speedup(record: Mapping[str, Any] | None) -> float | None:
    speedup = (record or {}).get("speedup")
    return _figure(speedup.get("eager")) if isinstance(speedup, Mapping) else None


def _median_ms(record: Mapping[str, Any] | None) -> float | None:
    timing = (record or {}).get("timing")
    return _figure(timing.get("candidate_ms")) if isinstance(timing, Mapping) else None


def _change(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> str | None:
    if a is None or b is None:
        return None
    correct_a, correct_b = a.get("status") == "correct", b.get("status") == "correct"
    if correct_a and correct_b:
        return "both_correct"
    if correct_a:
        return "newly_broken"
    return "newly_correct" if correct_b else "neither_correct"


def pair_task(task_id: str, a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> PairedTask:
    """One task of run A (baseline) and run B (candidate), judged as ``regress`` judges it."""
    found = compare_task(task_id, a, b)
    outcome, reason, ratio = found.outcome, found.reason, _figure(found.ratio)
    if outcome in TIMED and (ratio is None or ratio <= 0):
        # A median time that is not positive (only stored data can hold one) makes no ratio.
        outcome, reason, ratio = "not_comparable", "a median time that is not positive", None
    return PairedTask(
        task_id=task_id,
        outcome=outcome,
        reason=reason,
        change=_change(a, b),
        status_a=found.baseline_status,
        status_b=found.candidate_status,
        speedup_a=_speedup(a),
        speedup_b=_speedup(b),
        ms_a=_figure(found.baseline_ms) or _median_ms(a),
        ms_b=_figure(found.candidate_ms) or _median_ms(b),
        ratio=ratio if outcome in TIMED else None,
        p_value=_figure(found.p_value) if outcome in TIMED else None,
    )


# -- statistics -----------------------------------------------------------------------------------


_CHUNK = 500


def _resample_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The mean of ``values`` over ``resamples`` draws of as many tasks, with replacement."""
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    # In chunks, so that many resamples of many tasks never hold every draw at once.
    for start in range(0, resamples, _CHUNK):
        stop = min(start + _CHUNK, resamples)
        draws = rng.integers(0, len(values), size=(stop - start, len(values)))
        means[start:stop] = values[draws].mean(axis=1)
    return means


def _percentiles(means: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def ratio_interval(
    ratios: list[float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> Interval | None:
    """Bootstrap interval of the geometric mean of ``ratios`` (None when there are none)."""
    if not ratios:
        return None
    logs = np.array([math.log(r) for r in ratios])
    low, high = _percentiles(_resample_means(logs, resamples, seed), confidence)
    return Interval(math.exp(low), math.exp(high))


def _scored(task: PairedTask, side: str) -> ScoredTask:
    status = (task.status_a if side == "a" else task.status_b) or "missing"
    speedup = task.speedup_a if side == "a" else task.speedup_b
    # Grouping facts and the run id are not used: fast_p reads correctness and speedup only.
    return ScoredTask(0, task.task_id, "-", status, status == "correct", speedup, None)


def fast_differences(
    tasks: list[PairedTask],
    thresholds: Iterable[float] = THRESHOLDS,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> dict[str, FastDifference]:
    """fast_p of each run over ``tasks`` (those in both runs) and a paired interval of B - A."""
    scored_a = [_scored(t, "a") for t in tasks]
    scored_b = [_scored(t, "b") for t in tasks]
    figures = {}
    for p in thresholds:
        a, b = fast_p(scored_a, p), fast_p(scored_b, p)
        interval = None
        if tasks:
            # Per task, fast in B minus fast in A (each 1 or 0): their mean is fast_p(B) - fast_p(A).
            steps = np.array(
                [
                    fast_p([tb], p) - fast_p([ta], p)
                    for ta, tb in zip(scored_a, scored_b, strict=True)
                ]
            )
            interval = Interval(*_percentiles(_resample_means(steps, resamples, seed), confidence))
        figures[threshold_name(p)] = FastDifference(a, b, interval)
    return figures


def compare_runs(
    run_a: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    run_b: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    name_a: str = "A",
    name_b: str = "B",
    resamples: int = RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """Compare two runs' verdict records (keyed by task id, or lists keyed by their ``task``),
    as ``regress.records_from_run`` or ``records_from_jsonl`` read them."""
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError("resamples must be at least 1 and confidence between 0 and 1")
    a, b = _by_task(run_a), _by_task(run_b)
    tasks = [pair_task(task, a.get(task), b.get(task)) for task in sorted(set(a) | set(b))]
    ratios = [t.ratio for t in tasks if t.ratio is not None]
    return Comparison(
        name_a=name_a,
        name_b=name_b,
        tasks=tasks,
        geomean_ratio=geomean(ratios),
        ratio_interval=ratio_interval(ratios, resamples, seed, confidence),
        fast=fast_differences(
            [t for t in tasks if t.paired], THRESHOLDS, resamples, seed, confidence
        ),
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


# -- renderers ------------------------------------------------------------------------------------


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}x"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _signed_pct(value: float) -> str:
    return f"{100 * value:+.1f} pts"


def format_interval(interval: Interval | None, fmt: Callable[[float], str]) -> str:
    return "-" if interval is None else f"[{fmt(interval.low)}, {fmt(interval.high)}]"


def _figure_text(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else format(value, spec) + suffix


TASK_HEADERS = ["task", "A status", "B status", "change", "outcome", "reason"]
TASK_HEADERS += ["A vs eager", "B vs eager", "A ms", "B ms", "time B/A"]
FIGURES_FROM = 6  # the columns from here on are figures
DATA_COLUMNS = (0, 1, 2, 5)  # the task id, the statuses and the reason come from the store


def task_cells(task: PairedTask) -> list[str]:
    """The text cells of one task's line; the task id, statuses and reason are raw data."""
    return [
        task.task_id,
        task.status_a or "-",
        task.status_b or "-",
        (task.change or "-").replace("_", " "),
        task.outcome.replace("_", " "),
        task.reason,
        _figure_text(task.speedup_a, ".2f", "x"),
        _figure_text(task.speedup_b, ".2f", "x"),
        _figure_text(task.ms_a, ".4g"),
        _figure_text(task.ms_b, ".4g"),
        format_ratio(task.ratio),
    ]


FAST_HEADERS = ["fast_p", "A", "B", "B - A", "interval"]


def fast_cells(comparison: Comparison) -> list[list[str]]:
    return [
        [
            name,
            _pct(f.a),
            _pct(f.b),
            _signed_pct(f.difference),
            format_interval(f.interval, _signed_pct),
        ]
        for name, f in comparison.fast.items()
    ]


def _notes(comparison: Comparison) -> list[str]:
    level = f"{100 * comparison.confidence:g}%"
    return [
        "time B/A: the median candidate time in B over that in A (below 1x: B is faster); its "
        f"geometric mean is over the {comparison.timed} tasks correct in both and timed on the "
        "same hardware and software.",
        f"Intervals: {level} percentile bootstrap over tasks ({comparison.resamples} resamples, "
        f"seed {comparison.seed}). fast_p: share of the tasks in both runs that are correct and "
        "faster than eager PyTorch by more than p.",
    ]


_OUTCOME_STYLE = {"broken": "bold red", "slower": "red", "faster": "green", "fixed": "green"}


def render_table(comparison: Comparison) -> Group:
    """The comparison for the terminal: a line per task, the fast_p table and the summary."""
    title = term_line(f"compare: B = {comparison.name_b} against A = {comparison.name_a}")
    tasks = Table(title=title, title_justify="left")
    for index, header in enumerate(TASK_HEADERS):
        # A task id is folded, never cut: two ids may differ only at the end.
        tasks.add_column(
            header,
            justify="right" if index >= FIGURES_FROM else "left",
            overflow="fold",
            min_width=16 if index == 0 else None,
        )
    for task in comparison.tasks:
        cells = [term(cell) for cell in task_cells(task)]
        if task.outcome in _OUTCOME_STYLE:
            cells[4].stylize(_OUTCOME_STYLE[task.outcome])
        tasks.add_row(*cells)
    fast = Table(title="fast_p over the tasks in both runs", title_justify="left")
    for index, header in enumerate(FAST_HEADERS):
        fast.add_column(header, justify="left" if index == 0 else "right")
    for figures in fast_cells(comparison):
        fast.add_row(*figures)
    lines = [term(comparison.summary), *(Text(note) for note in _notes(comparison))]
    return Group(tasks, fast, *lines)


def render_text(comparison: Comparison, width: int = 160) -> str:
    """The terminal rendering as plain text (for a file)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    console.print(render_table(comparison), soft_wrap=False)
    return console.export_text()


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(comparison: Comparison) -> str:
    """The comparison as GitHub-flavoured Markdown; data never starts a line."""
    lines = [
        "## kernelwright compare",
        "",
        f"B = {markdown(comparison.name_b)} against A = {markdown(comparison.name_a)}: "
        f"{markdown(comparison.summary)}.",
        "",
        _markdown_row(FAST_HEADERS),
        _markdown_row(["---", *["---:"] * (len(FAST_HEADERS) - 1)]),
        *(_markdown_row(cells) for cells in fast_cells(comparison)),
        "",
        _markdown_row(TASK_HEADERS),
        _markdown_row(["---"] * FIGURES_FROM + ["---:"] * (len(TASK_HEADERS) - FIGURES_FROM)),
    ]
    for task in comparison.tasks:
        cells = task_cells(task)
        lines.append(
            _markdown_row([markdown(c) if i in DATA_COLUMNS else c for i, c in enumerate(cells)])
        )
    lines += ["", *_notes(comparison)]
    return "\n".join(lines) + "\n"


def render_json(comparison: Comparison) -> str:
    """The comparison as one JSON object."""
    return json.dumps(comparison.to_json(), indent=2, allow_nan=False) + "\n"


# Per-task plot: time B/A on a log2 axis from 1/8x to 8x; a ratio beyond is drawn at the edge.
_LOG2_SPAN = 3.0
_COLORS = {"faster": "#2e7d32", "slower": "#c62828", "same": "#1565c0"}


def _x(ratio: float, left: float, width: float) -> float:
    position = max(-_LOG2_SPAN, min(_LOG2_SPAN, math.log2(ratio)))
    return left + width * (position + _LOG2_SPAN) / (2 * _LOG2_SPAN)


def _circle(x: float, y: float, fill: str, title: str) -> str:
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}"><title>{escape(title)}</title></circle>'


def _label(x: float, y: float, text: str, anchor: str, limit: int) -> str:
    """Data as an SVG text cut to ``limit`` characters, the whole of it in a tooltip."""
    shown = visible(text)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "\u2026"
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(shown)}'
        f"<title>{escape(text)}</title></text>"
    )


def task_plot(comparison: Comparison) -> str:
    """One line per task: its time ratio B/A as a dot on a log scale (the geometric mean and its
    interval shaded); a task without a ratio says why instead."""
    label_w, plot_w, row_h, top, note_w = 240.0, 420.0, 18.0, 24.0, 300.0
    body: list[str] = []
    bottom = top + row_h * len(comparison.tasks)
    if comparison.ratio_interval is not None and comparison.geomean_ratio is not None:
        low = _x(comparison.ratio_interval.low, label_w, plot_w)
        high = _x(comparison.ratio_interval.high, label_w, plot_w)
        title = f"geometric mean {format_ratio(comparison.geomean_ratio)}, interval " + (
            format_interval(comparison.ratio_interval, format_ratio)
        )
        body.append(_rect(low, top, max(high - low, 1.0), bottom - top, "#1565c033", title))
        mean = _x(comparison.geomean_ratio, label_w, plot_w)
        body.append(
            f'<line x1="{mean:.1f}" y1="{top}" x2="{mean:.1f}" y2="{bottom:.1f}" stroke="#1565c0"/>'
        )
    for power in range(-int(_LOG2_SPAN), int(_LOG2_SPAN) + 1):
        x = _x(2.0**power, label_w, plot_w)
        dash = "" if power == 0 else ' stroke-dasharray="2,4"'
        body.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#999"{dash}/>'
        )
        body.append(_text(x, top - 8, f"{2.0**power:g}x", "middle"))
    for index, task in enumerate(comparison.tasks):
        y = top + row_h * index + row_h / 2
        body.append(_label(label_w - 8, y + 4, task.task_id, "end", 36))
        if task.ratio is not None:
            title = f"{task.task_id}: {format_ratio(task.ratio)} ({task.outcome})"
            color = _COLORS.get(task.outcome, "#616161")
            body.append(_circle(_x(task.ratio, label_w, plot_w), y, color, title))
        else:
            note = f"{task.outcome.replace('_', ' ')}: {task.reason}"
            body.append(_label(label_w + plot_w + 10, y + 4, note, "start", 48))
    width = label_w + plot_w + note_w
    svg = _svg(width, bottom + 10, body, "time ratio B/A per task")
    legend = [(o, c) for o, c in _COLORS.items()] + [("geometric mean and interval", "#1565c033")]
    return svg + _legend(legend)


def render_html(comparison: Comparison) -> str:
    """One self-contained page: the summary, the per-task plot and both tables."""
    title = f"kernelwright compare: {comparison.name_b} against {comparison.name_a}"
    task_rows = [task_cells(task) for task in comparison.tasks]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">{escape(comparison.summary)}</p>',
        *(f'<p class="note">{escape(note)}</p>' for note in _notes(comparison)),
        "<h2>Time ratio per task</h2>",
        task_plot(comparison),
        "<h2>fast_p</h2>",
        _html_table(FAST_HEADERS, fast_cells(comparison), 1),
        "<h2>Tasks</h2>",
        _html_table(TASK_HEADERS, task_rows, FIGURES_FROM),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render(comparison: Comparison, fmt: str) -> str:
    """The comparison in one of ``FORMATS`` as text."""
    renderers: dict[str, Callable[[Comparison], str]] = {
        "table": render_text,
        "md": render_markdown,
        "json": render_json,
        "html": render_html,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    return renderers[fmt](comparison)
