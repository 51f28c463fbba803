"""The leaderboard as one self-contained HTML page with inline SVG plots.

No script, stylesheet, font or image is fetched: the page opens offline and can be attached to
a CI job or mailed as it is. Plots: correctness by status, the distribution of speedups over
eager PyTorch, and correctness and fast_1 per category.
"""

from __future__ import annotations

import html
import math

from kernelwright.runs.leaderboard import Leaderboard, threshold_name
from kernelwright.runs.report import category_rows, format_pct, summary_rows
from kernelwright.textsafe import visible

STATUS_COLORS = {
    "correct": "#2e7d32",
    "incorrect": "#c62828",
    "rejected": "#6a1b9a",
    "compile_error": "#ef6c00",
    "runtime_error": "#d84315",
    "timeout": "#616161",
    "crashed": "#4e342e",
    "infra_error": "#9e9e9e",
    "compiled": "#1565c0",
}
GROUP_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
# Speedup histogram: half-octave bins from 1/8x to 8x, plus one open bin at each end.
LOG2_LOW, LOG2_HIGH, LOG2_STEP = -3.0, 3.0, 0.5

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f5f5f5; text-align: left; }
svg text { font-family: inherit; font-size: 11px; fill: #333; }
.note { color: #666; font-size: 0.85rem; max-width: 60rem; }
.legend span { display: inline-block; margin-right: 1rem; font-size: 0.85rem; }
.legend i { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem; vertical-align: middle; }
"""


def escape(text: str) -> str:
    """Text for an HTML text node or a quoted attribute: markup characters as entities, and
    control and bidirectional-override characters written out so that a label cannot reorder
    or hide what the page shows. Every piece of data on the page goes through here."""
    return html.escape(visible(text), quote=True)


def _color(index: int) -> str:
    return GROUP_COLORS[index % len(GROUP_COLORS)]


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
        f'fill="{fill}"><title>{escape(title)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def _html_table(headers: list[str], rows: list[list[str]], numeric_from: int) -> str:
    def cell(tag: str, index: int, text: str) -> str:
        cls = ' class="num"' if index >= numeric_from else ""
        return f"<{tag}{cls}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(cells)) + "</tr>" for cells in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _legend(items: list[tuple[str, str]]) -> str:
    spans = "".join(f'<span><i style="background:{c}"></i>{escape(n)}</span>' for n, c in items)
    return f'<div class="legend">{spans}</div>'


def correctness_plot(board: Leaderboard) -> str:
    """Stacked horizontal bars: each group's tasks split by verdict status."""
    label_w, bar_w, bar_h, gap = 220.0, 480.0, 18.0, 8.0
    height = len(board.rows) * (bar_h + gap) + gap
    body: list[str] = []
    for index, row in enumerate(board.rows):
        y = gap + index * (bar_h + gap)
        body.append(_text(label_w - 6, y + bar_h - 5, row.name, "end"))
        x = label_w
        for status, count in sorted(row.stats.statuses.items(), key=lambda s: s[0] != "correct"):
            width = bar_w * count / row.stats.tasks if row.stats.tasks else 0
            color = STATUS_COLORS.get(status, "#bdbdbd")
            body.append(_rect(x, y, width, bar_h, color, f"{row.name}: {count} {status}"))
            x += width
        body.append(_text(label_w + bar_w + 6, y + bar_h - 5, format_pct(row.stats.correct_pct)))
    statuses = sorted({s for row in board.rows for s in row.stats.statuses})
    legend = _legend([(s, STATUS_COLORS.get(s, "#bdbdbd")) for s in statuses])
    return _svg(label_w + bar_w + 60, height, body, "correctness by status") + legend


def _histogram(speedups: list[float]) -> list[int]:
    inner = int(round((LOG2_HIGH - LOG2_LOW) / LOG2_STEP))
    counts = [0] * (inner + 2)
    for speedup in speedups:
        if speedup <= 0:
            continue
        position = (math.log2(speedup) - LOG2_LOW) / LOG2_STEP
        counts[min(max(int(math.floor(position)) + 1, 0), inner + 1)] += 1
    return counts


def speedup_plot(board: Leaderboard) -> str:
    """One histogram per group of the speedups over eager of its correct tasks (log scale)."""
    plot_w, plot_h, left, top, bottom = 420.0, 120.0, 30.0, 22.0, 22.0
    panels: list[str] = []
    for index, row in enumerate(board.rows):
        counts = _histogram(row.stats.speedups)
        peak = max(counts) or 1
        bin_w = plot_w / len(counts)
        body = [_text(left, 14, f"{row.name} ({len(row.stats.speedups)} correct with a speedup)")]
        for b, count in enumerate(counts):
            h = plot_h * count / peak
            low = LOG2_LOW + (b - 1) * LOG2_STEP
            span = (
                f"below {2**LOG2_LOW:g}x"
                if b == 0
                else f"{2**low:.2f}x to {2 ** (low + LOG2_STEP):.2f}x"
            )
            if b == len(counts) - 1:
                span = f"above {2**LOG2_HIGH:g}x"
            body.append(
                _rect(
                    left + b * bin_w + 1,
                    top + plot_h - h,
                    bin_w - 2,
                    h,
                    _color(index),
                    f"{count} tasks {span}",
                )
            )
        for power in range(int(LOG2_LOW), int(LOG2_HIGH) + 1):
            x = left + bin_w * (1 + (power - LOG2_LOW) / LOG2_STEP)
            body.append(_text(x, top + plot_h + 14, f"{2.0**power:g}x", "middle"))
        one_x = left + bin_w * (1 + (0 - LOG2_LOW) / LOG2_STEP)
        body.append(
            f'<line x1="{one_x:.1f}" y1="{top}" x2="{one_x:.1f}" y2="{top + plot_h}" stroke="#555" stroke-dasharray="3,3"/>'
        )
        body.append(_text(left - 4, top + 10, str(peak), "end"))
        panels.append(
            _svg(left + plot_w + 10, top + plot_h + bottom, body, f"speedups of {row.name}")
        )
    return "".join(panels)


def category_plot(board: Leaderboard) -> str:
    """Per category, one bar per group: its height is correct %, the dark part fast_1."""
    categories = board.categories
    bar_w, gap, plot_h, top, left = 14.0, 24.0, 140.0, 10.0, 80.0
    group_w = len(board.rows) * bar_w + gap
    width = left + len(categories) * group_w + 10
    body = [_text(left - 4, top + 8, "100%", "end"), _text(left - 4, top + plot_h, "0%", "end")]
    fast_name = threshold_name(1.0)
    for c, category in enumerate(categories):
        x0 = left + c * group_w
        for g, row in enumerate(board.rows):
            stats = row.categories.get(category)
            if stats is None:
                continue
            x = x0 + g * bar_w
            correct_h = plot_h * stats.correct_pct / 100
            fast_h = plot_h * stats.fast.get(fast_name, 0.0)
            title = f"{row.name}, {category}: {stats.correct}/{stats.tasks} correct"
            body.append(
                _rect(x, top + plot_h - correct_h, bar_w - 2, correct_h, _color(g) + "66", title)
            )
            title = f"{row.name}, {category}: {format_pct(100 * stats.fast.get(fast_name, 0.0))} {fast_name}"
            body.append(_rect(x, top + plot_h - fast_h, bar_w - 2, fast_h, _color(g), title))
        label_x = x0 + (group_w - gap) / 2
        body.append(
            f'<text x="{label_x:.1f}" y="{top + plot_h + 12:.1f}" text-anchor="end" '
            f'transform="rotate(-35 {label_x:.1f} {top + plot_h + 12:.1f})">{escape(category)}</text>'
        )
    legend = _legend([(row.name, _color(g)) for g, row in enumerate(board.rows)])
    return _svg(width, top + plot_h + 80, body, "correctness and fast_1 by category") + legend


def render_html(board: Leaderboard, title: str = "kernelwright leaderboard") -> str:
    """The whole report page: tables and plots, with every style and image inline."""
    headers, rows = summary_rows(board)
    cat_headers, cat_rows = category_rows(board)
    thresholds = ", ".join(f"{p:g}" for p in board.thresholds)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _html_table(headers, rows, len(board.group_by)),
        f'<p class="note">fast_p: share of tasks that are correct and faster than eager PyTorch by '
        f"more than p (p = {thresholds}); an incorrect task is never fast. Geometric means are "
        "over correct tasks with a measured speedup.</p>",
        "<h2>Correctness</h2>",
        correctness_plot(board),
        "<h2>Speedup over eager PyTorch</h2>",
        '<p class="note">Correct tasks only; the dashed line is 1x (as fast as eager).</p>',
        speedup_plot(board),
        "<h2>By category</h2>",
        '<p class="note">Light bar: correct; dark bar: correct and more than 1x faster than eager.</p>',
        category_plot(board),
        _html_table(cat_headers, cat_rows, len(board.group_by) + 1),
        *measurement_section(board),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def measurement_section(board: Leaderboard) -> list[str]:
    """Per task, where its verdict measured them on a GPU: time, energy per call and the
    profiler's busiest figures. Nothing where no verdict did (the section is then left out)."""
    if not board.measured:
        return []
    rows = []
    for task in board.measured:
        shown = ", ".join(f"{metric} {value:.4g}" for _, metric, value in task.profile[:6])
        rows.append(
            [
                f"run {task.run_id}",
                task.task_id,
                task.profiler or "-",
                shown or "-",
                f"{task.candidate_ms:.4g}" if task.candidate_ms is not None else "-",
                f"{task.joules_per_call:.4g}" if task.joules_per_call is not None else "-",
            ]
        )
    headers = ["run", "task", "profiler", "profile", "time (ms)", "J/call"]
    return [
        "<h2>Profiles and energy</h2>",
        '<p class="note">From the verdicts that took them on a GPU: the profiler\'s figures, and '
        "the energy per call estimated from NVML (mean board power over the timing phase times "
        "the median call).</p>",
        _html_table(headers, rows, 4),
    ]
