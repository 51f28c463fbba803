"""Hostile stored text (labels, task ids, categories, statuses) cannot steer any renderer's medium.

One test per medium: the terminal (rich), Markdown (leaderboard and regress), CSV and JUnit XML.
Each feeds the same payloads: rich markup, terminal escapes, newlines that would start a line of
their own (a Markdown heading, a CI ``::error`` command), bidirectional overrides, characters
XML cannot hold, spreadsheet formulas, HTML and Markdown links.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest_runs import ENVIRONMENT, make_record
from markdown_it import MarkdownIt
from rich.console import Console

from kernelwright.runs.leaderboard import Leaderboard, ScoredTask, build_leaderboard
from kernelwright.runs.regress import compare, write_junit
from kernelwright.runs.regress import render_markdown as regress_markdown
from kernelwright.runs.report import render_csv, render_markdown, render_table, render_text
from kernelwright.runs.store import RunInfo
from kernelwright.textsafe import csv_cell, markdown, term, visible, xml_text

PAYLOADS = [
    "[/]",
    "[link=https://evil]x[/link]",
    "[bold red]x",
    ":thumbs_up:",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://evil\x07link\x1b]8;;\x07",
    "a\nb",
    "a\r\n::error file=x::pwned",
    "::error file=x::pwned",
    "##vso[task.setvariable variable=x]1",
    "\u202etxt.exe",
    "x\x00y",
    "\x01\x0b\x0c\x1f\x7f\x85",
    "\u2028line\u2029para",
    "\ud800",
    "\ufffe",
    '=HYPERLINK("http://x")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "# heading",
    "> quote",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![img](http://x/y.png)",
    "| a | b |",
    "a\\|b",
    "@someone",
    "`code`",
    "$x$",
    "*em* _em_ ~~gone~~",
    "&lt;b&gt; &amp;",
    'a,b"c',
    "plain",
]

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _board() -> Leaderboard:
    """One run per payload, labelled, filed under a suite and a category named by it."""
    runs, tasks = {}, []
    for run_id, payload in enumerate(PAYLOADS, start=1):
        run = RunInfo(run_id, payload, payload, "cpu", None, None, "finished", START, None)
        facts = {"label": payload, "suite": payload, "model": "-", "device": payload}
        runs[run_id] = run
        tasks.append(ScoredTask(run_id, payload, payload, "correct", True, 1.5, None, facts))
    return build_leaderboard(tasks, runs, group_by=("label", "suite"))


def _unescaped(line: str, char: str) -> int:
    """How many times ``char`` appears in ``line`` without a Markdown backslash before it."""
    count, index = 0, 0
    while index < len(line):
        if line[index] == "\\":
            index += 2
            continue
        count += line[index] == char
        index += 1
    return count


def _no_line_starts_with_data(text: str, fixed_starts: tuple[str, ...]) -> None:
    for line in text.splitlines():
        assert not line.startswith("::"), line
        assert line == "" or line.startswith(("| ", "## ", "### ", *fixed_starts)), line


def _markdown_cells(text: str) -> list[list[str]]:
    """The Markdown parsed as CommonMark with GFM tables: each body row's cells as plain text.

    Fails on anything that is not a heading, a paragraph of plain text or a table of plain text:
    HTML, links, images, emphasis, code, line breaks."""
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)
    allowed_blocks = {"heading", "paragraph", "table", "thead", "tbody", "tr", "th", "td"}
    rows: list[list[str]] = []
    in_row = False
    for token in tokens:
        kind = token.type.removesuffix("_open").removesuffix("_close")
        assert token.type == "inline" or kind in allowed_blocks, token.type
        if kind == "tr":
            in_row = token.type == "tr_open"
            rows += [[]] if in_row else []
        if token.type == "inline":
            children = token.children or []
            # The program's prose may run over lines (a soft break); a cell holds one line.
            plain = {"text", "text_special"} | (set() if in_row else {"softbreak"})
            assert {c.type for c in children} <= plain, token.content
            if in_row:
                rows[-1].append("".join(c.content for c in children))
    return rows


def test_terminal_text_and_table() -> None:
    def show(renderable: Any, width: int = 1000) -> str:
        console = Console(
            file=io.StringIO(), force_terminal=True, color_system="truecolor", width=width
        )
        console.print(renderable)
        assert isinstance(console.file, io.StringIO)
        return console.file.getvalue()

    reference = show(term("plain safe text", "bold red"))
    for payload in PAYLOADS:
        out = show(term(payload, "bold red"))
        assert out.count("\x1b") == reference.count("\x1b"), repr(payload)
        plain = SGR.sub("", out).removesuffix("\n")
        assert plain == visible(payload)
        assert not [c for c in plain if c in "\n\r\x07\x1b\u202e\u2028\x85"], repr(payload)

    board = _board()
    table = show(render_table(board), width=4000)
    assert "\x1b]8" not in table and "\u202e" not in table and "\x00" not in table
    text = render_text(board, width=4000)
    lines = text.splitlines()
    for payload in PAYLOADS:
        shown = visible(payload)
        assert any(line.count(shown) >= 2 for line in lines), repr(payload)  # label and suite
    assert not SGR.search(text) and "\x1b" not in text


def test_markdown_leaderboard() -> None:
    text = render_markdown(_board())
    _no_line_starts_with_data(text, ("fast_p: ",))
    assert "<" not in text and _unescaped(text, "[") == 0
    table_lines = [line for line in text.splitlines() if line.startswith("| ")]
    # summary: header, alignment, one row per group; categories: the same.
    assert len(table_lines) == 2 * (2 + len(PAYLOADS))
    # groups, figures, cost, wall time, baseline age; categories: groups, category, figures
    summary_columns, category_columns = 2 + 8 + 3, 2 + 1 + 8
    for line in table_lines[: 2 + len(PAYLOADS)]:
        assert _unescaped(line, "|") == summary_columns + 1, line
    for line in table_lines[2 + len(PAYLOADS) :]:
        assert _unescaped(line, "|") == category_columns + 1, line

    rows = _markdown_cells(text)
    assert len(rows) == 2 * (1 + len(PAYLOADS))
    summary, categories = rows[1 : 1 + len(PAYLOADS)], rows[2 + len(PAYLOADS) :]
    assert sorted(row[0] for row in summary) == sorted(visible(p) for p in PAYLOADS)
    for row in summary:
        assert row[1] == row[0] and row[2:4] == ["1", "100.0%"]
    for row in categories:
        assert row[0] == row[1] == row[2]


def _regress_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per payload: a task named by it, broken in the candidate with a status named by it."""
    baseline, candidate = [], []
    for payload in PAYLOADS:
        baseline.append(make_record(payload))
        broken = make_record(payload, status="incorrect")
        broken["status"] = payload
        candidate.append(broken)
    elsewhere = copy.deepcopy(ENVIRONMENT)
    elsewhere["device"] = "<img src=x>\n::error ::pwned [x](y)"
    baseline.append(make_record("other machine"))
    candidate.append(make_record("other machine", environment=elsewhere))
    return baseline, candidate


def test_markdown_regress() -> None:
    baseline, candidate = _regress_records()
    result = compare(
        baseline, candidate, baseline_name="a\n# base <b>", candidate_name="::error [c](x)|"
    )
    text = regress_markdown(result)
    _no_line_starts_with_data(text, ("Compared ", "A slowdown counts "))
    fixed_less_than = f"p < {result.alpha:g}"
    assert "<" not in text.replace(fixed_less_than, "") and _unescaped(text, "[") == 0
    table_lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table_lines) == 2 + len(PAYLOADS) + 1
    for line in table_lines:
        assert _unescaped(line, "|") == 8, line

    rows = _markdown_cells(text)[1:]
    assert len(rows) == len(PAYLOADS) + 1
    broken = {row[0]: row for row in rows if row[1] == "broken"}
    assert sorted(broken) == sorted(visible(p) for p in PAYLOADS)
    for payload in PAYLOADS:
        assert broken[visible(payload)][6] == f"was correct, now {visible(payload)}"
    (other,) = [row for row in rows if row[1] == "not comparable"]
    assert "::error" in other[6] and "\\x0a" in other[6]


def test_csv() -> None:
    board = _board()
    text = render_csv(board)
    assert not [line for line in text.splitlines() if line.startswith("::")]
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + 2 * len(PAYLOADS)  # header, then "all" and one category per group
    assert rows[0][:3] == ["label", "suite", "category"]
    seen = set()
    for row in rows[1:]:
        label, suite, category, tasks, correct, correct_pct, *figures = row
        payload = next(p for p in PAYLOADS if csv_cell(p) == label)
        seen.add(payload)
        starts_formula = payload.startswith(("=", "+", "-", "@", "\t", "\r", "::", "##"))
        assert label == ("'" + visible(payload) if starts_formula else visible(payload))
        assert suite == label and category in (label, "all")
        assert (tasks, correct, correct_pct) == ("1", "1", "100.0")
        assert all(cell == "" or float(cell) >= 0 for cell in figures)
    assert seen == set(PAYLOADS)
    for cell in ("-", "-1.5", "+", "a-b", "ok"):
        assert csv_cell(cell) == (cell if cell in ("-", "a-b", "ok") else "'" + cell)
    assert [csv_cell(v) for v in (3, -2.5, None, True)] == [3, -2.5, None, True]


def test_junit(tmp_path: Path) -> None:
    baseline, candidate = _regress_records()
    result = compare(baseline, candidate)
    path = tmp_path / "regress.xml"
    write_junit(result, path)
    raw = path.read_text(encoding="utf-8")
    assert not [line for line in raw.splitlines() if line.startswith("::")]
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    cases = list(suite.iter("testcase"))
    assert len(cases) == int(suite.get("tests", "0")) == len(PAYLOADS) + 1
    names = {case.get("name") for case in cases}
    assert names == {visible(p) for p in PAYLOADS} | {"other machine"}
    for case in cases:
        failure = case.find("failure")
        if case.get("name") == "other machine":
            assert failure is None and case.find("skipped") is not None
            continue
        assert failure is not None
        assert failure.get("message") == f"broken: was correct, now {case.get('name')}"
        assert f"candidate status: {case.get('name')}" in (failure.text or "")
    assert xml_text("a\nb") == "a\\x0ab" and xml_text("a\nb\x00", one_line=False) == "a\nb\\x00"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_helper_is_one_line_of_plain_text(payload: str) -> None:
    cell = markdown(payload)
    assert "\n" not in cell and "<" not in cell and _unescaped(cell, "|") == 0
    assert _markdown_cells(f"| x |\n| --- |\n| {cell} |\n") == [["x"], [visible(payload)]]
