"""Leaderboard renderers: a rich table for the terminal, Markdown, JSON and CSV.

The self-contained HTML page with plots is in ``report_html``; ``render`` dispatches on a format
name so that the command line maps ``--format`` straight onto it. Labels, group values and
category names come from the run store, so each renderer passes them through the ``textsafe``
helper of its medium; the program's own headers and formatted numbers go out as they are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kernelwright.runs.leaderboard import Leaderboard, LeaderboardRow, Stats
from kernelwright.textsafe import csv_cell, markdown, term

FORMATS = ("table", "md", "json", "csv", "html")


def format_pct(value: float) -> str:
    return f"{value:.1f}%"


def format_speedup(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "-"


def format_cost(value: float | None) -> str:
    return f"${value:.2f}" if value is not None else "-"


def format_duration(seconds: float | None) -> str:
    """``1h 02m``, ``3m 05s`` or ``12.3s``."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _figures(board: Leaderboard, stats: Stats) -> list[str]:
    return [
        str(stats.tasks),
        format_pct(stats.correct_pct),
        *(format_pct(100 * stats.fast[name]) for name in board.fast_names),
        format_speedup(stats.geomean_eager),
        format_speedup(stats.geomean_compile),
    ]


def _figure_headers(board: Leaderboard) -> list[str]:
    return ["tasks", "correct", *board.fast_names, "geomean vs eager", "geomean vs compile"]


def summary_rows(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of the main table: one line per group.

    The cells are raw: the first ``len(board.group_by)`` of each row hold stored data, which
    every renderer makes safe for its medium."""
    headers = [*board.group_by, *_figure_headers(board), "cost", "wall time", "baseline age"]
    rows = [
        [
            *row.group.values(),
            *_figures(board, row.stats),
            format_cost(row.cost_usd),
            format_duration(row.wall_s),
            format_duration(row.stats.oldest_baseline_s),
        ]
        for row in board.rows
    ]
    return headers, rows


def category_rows(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of the per-category table: one line per group and category.

    As in ``summary_rows``, the cells are raw; the group values and the category are data."""
    headers = [*board.group_by, "category", *_figure_headers(board)]
    rows = [
        [*row.group.values(), category, *_figures(board, stats)]
        for row in board.rows
        for category, stats in row.categories.items()
    ]
    return headers, rows


def render_table(board: Leaderboard) -> Table:
    """The leaderboard as a rich table for the terminal."""
    headers, rows = summary_rows(board)
    table = Table(title="kernelwright leaderboard", title_justify="left")
    for index, header in enumerate(headers):
        is_number = index >= len(board.group_by)
        table.add_column(
            Text(header), justify="right" if is_number else "left", no_wrap=not is_number
        )
    for cells in rows:
        # A str cell would be parsed for rich markup and emoji codes; a Text never is.
        table.add_row(*(term(cell) for cell in cells))
    if not rows:
        table.caption = "no finished evaluations"
    return table


def render_text(board: Leaderboard, width: int = 160) -> str:
    """The terminal table as plain text (for logs and for non-terminal output)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    console.print(render_table(board))
    return console.export_text()


def _markdown_table(headers: list[str], rows: list[list[str]], numeric_from: int) -> list[str]:
    """A GFM table whose first ``numeric_from`` columns hold data (escaped with ``markdown``,
    as are their headers, which name group fields) and the rest the program's figures."""

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    align = ["---" if i < numeric_from else "---:" for i in range(len(headers))]
    lines = [row([markdown(h) if i < numeric_from else h for i, h in enumerate(headers)])]
    lines.append(row(align))
    lines += [
        row([markdown(c) if i < numeric_from else c for i, c in enumerate(cells)]) for cells in rows
    ]
    return lines


def render_markdown(board: Leaderboard) -> str:
    """The leaderboard and its per-category breakdown as GitHub-flavoured Markdown."""
    headers, rows = summary_rows(board)
    lines = ["## kernelwright leaderboard", ""]
    lines += _markdown_table(headers, rows, len(board.group_by))
    thresholds = ", ".join(f"{p:g}" for p in board.thresholds)
    lines += [
        "",
        f"fast_p: share of tasks that are correct and faster than eager PyTorch by more than p "
        f"(p = {thresholds}). Geometric means are over correct tasks with a measured speedup.",
    ]
    headers, rows = category_rows(board)
    if rows:
        lines += ["", "### By category", ""]
        lines += _markdown_table(headers, rows, len(board.group_by) + 1)
    return "\n".join(lines) + "\n"


def render_json(board: Leaderboard) -> str:
    """The leaderboard as indented JSON (every figure, per-category figures and speedups)."""
    return json.dumps(board.to_json(), indent=2, sort_keys=False, allow_nan=False) + "\n"


def _number(value: float | None) -> object:
    return "" if value is None else round(value, 6)


def _csv_figures(board: Leaderboard, stats: Stats) -> list[object]:
    return [
        stats.tasks,
        stats.correct,
        _number(stats.correct_pct),
        *(_number(stats.fast[name]) for name in board.fast_names),
        _number(stats.geomean_eager),
        _number(stats.geomean_compile),
    ]


def _csv_lines(board: Leaderboard, row: LeaderboardRow) -> list[list[object]]:
    group = [csv_cell(value) for value in row.group.values()]
    extra = [_number(row.cost_usd), _number(row.wall_s), _number(row.stats.oldest_baseline_s)]
    lines = [[*group, "all", *_csv_figures(board, row.stats), *extra]]
    for category, stats in row.categories.items():
        age = _number(stats.oldest_baseline_s)
        lines.append([*group, csv_cell(category), *_csv_figures(board, stats), "", "", age])
    return lines


def render_csv(board: Leaderboard) -> str:
    """One line per group (category ``all``) followed by one line per group and category."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            *(csv_cell(name) for name in board.group_by),
            "category",
            "tasks",
            "correct",
            "correct_pct",
            *board.fast_names,
            "geomean_eager",
            "geomean_compile",
            "cost_usd",
            "wall_s",
            "oldest_baseline_s",
        ]
    )
    for row in board.rows:
        writer.writerows(_csv_lines(board, row))
    return out.getvalue()


def render(board: Leaderboard, fmt: str) -> str:
    """The leaderboard in one of ``FORMATS`` as text."""
    from kernelwright.runs.report_html import render_html

    renderers: dict[str, Callable[[Leaderboard], str]] = {
        "table": render_text,
        "md": render_markdown,
        "json": render_json,
        "csv": render_csv,
        "html": render_html,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    return renderers[fmt](board)
