"""The HTML report is one self-contained page: no fetched script, style, font or image."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from test_leaderboard import RUNS, START, _facts, fixture_board

from kernelwright.runs.leaderboard import ScoredTask, build_leaderboard
from kernelwright.runs.report import render
from kernelwright.runs.report_html import _histogram, render_html
from kernelwright.runs.store import RunInfo


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [
            value or "" for name, value in attrs if name in ("src", "href", "xlink:href")
        ]


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector


def test_page_is_self_contained(tmp_path: Path) -> None:
    page = render_html(fixture_board())
    parsed = _parse(page)
    assert parsed.links == []
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert not re.search(r"https?://", page)
    assert "@import" not in page and "url(" not in page
    assert parsed.tags.count("svg") >= 4  # correctness, one histogram per group, categories
    (tmp_path / "report.html").write_text(page)


def test_page_shows_every_group_and_category() -> None:
    page = render(fixture_board(), "html")
    for text in ("baseline", "agent", "activation", "matmul", "fast_1.5", "75.0%", "1.39x"):
        assert text in page


def test_names_are_escaped() -> None:
    run = RunInfo(
        3, "<script>alert(1)</script>", "smoke", "cpu", None, None, "finished", START, None
    )
    task = ScoredTask(3, "t", "math", "correct", True, 1.5, None, _facts(run))
    page = render_html(build_leaderboard([task], {**RUNS, 3: run}))
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_every_stored_value_is_escaped() -> None:
    """Labels, devices, categories and statuses reach the tables, the SVG titles and labels
    and the legends: none of them opens a tag or an attribute, or reorders the text."""
    hostile = '"><img src=x onerror=alert(1)>\u202e\x1b[31m'
    run = RunInfo(3, hostile, "smoke", "cpu", None, None, "finished", START, None)
    facts = {**_facts(run), "device": hostile + "dev"}
    tasks = [
        ScoredTask(3, "t1", hostile + "cat", "correct", True, 1.5, None, facts),
        ScoredTask(3, "t2", hostile + "cat", hostile + "status", False, None, None, facts),
    ]
    board = build_leaderboard(tasks, {3: run}, group_by=("label", "device"))
    page = render_html(board)
    parsed = _parse(page)
    assert not {"img", "script"} & set(parsed.tags) and parsed.links == []
    assert "<img" not in page and "\u202e" not in page and "\x1b" not in page
    shown = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\\u202e\\x1b[31m"
    for suffix in ("", "dev", "cat", "status"):
        assert shown + suffix in page, suffix


def test_empty_board_renders() -> None:
    page = render_html(build_leaderboard([], {}))
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_histogram_bins_are_half_octaves_with_open_ends() -> None:
    counts = _histogram([0.01, 0.99, 1.0, 1.3, 100.0])
    assert len(counts) == 14 and sum(counts) == 5
    assert counts[0] == 1 and counts[-1] == 1
    assert counts[6] == 1  # 0.99 lies in [2**-0.5, 1)
    assert counts[7] == 2  # 1.0 and 1.3 lie in [1, 2**0.5)
