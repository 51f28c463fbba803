"""The HTML leaderboard in a real browser: headless Chromium parses the page and screenshots it.

Needs Debian's ``chromium`` (``scripts/install_chromium.sh``); skipped with a reason without it.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typer
from conftest_runs import make_record
from typer.testing import CliRunner

from kernelwright.commands.runs import register
from kernelwright.runs.store import Store

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_COPY = Path("/tmp/leaderboard.png")
WIDTH, HEIGHT = 1280, 2000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason="needs /usr/bin/chromium (run scripts/install_chromium.sh as root)",
    ),
]

# (label, model, task, category, status, candidate samples in ms; eager takes 1 ms)
RESULTS = [
    ("baseline", None, "smoke/relu", "activation", "correct", [0.9, 1.0, 1.1]),
    ("baseline", None, "smoke/gelu_tanh", "activation", "correct", [1.9, 2.0, 2.1]),
    ("baseline", None, "smoke/row_sum", "reduce", "incorrect", None),
    ("baseline", None, "smoke/matmul", "matmul", "correct", [0.45, 0.5, 0.55]),
    ("agent", "openai:gpt-x", "smoke/relu", "activation", "correct", [0.3, 0.33, 0.36]),
    ("agent", "openai:gpt-x", "smoke/gelu_tanh", "activation", "rejected", None),
    ("agent", "openai:gpt-x", "smoke/row_sum", "reduce", "correct", [0.6, 0.62, 0.64]),
    ("agent", "openai:gpt-x", "smoke/matmul", "matmul", "compile_error", None),
    ("evolve", "anthropic:claude-x", "smoke/relu", "activation", "correct", [0.2, 0.25, 0.3]),
    ("evolve", "anthropic:claude-x", "smoke/row_sum", "reduce", "correct", [0.4, 0.45, 0.5]),
    ("evolve", "anthropic:claude-x", "smoke/matmul", "matmul", "correct", [0.15, 0.2, 0.25]),
]


def build_store(url: str) -> None:
    with Store(url) as store:
        runs: dict[str, int] = {}
        for label, model, task, category, status, samples in RESULTS:
            if label not in runs:
                runs[label] = store.create_run(label, "smoke", "cpu", model=model)
            run_id = runs[label]
            record = make_record(
                task,
                status,
                samples,
                eager_samples=[1.0] * 3 if samples else None,
                category=category,
            )
            candidate = store.add_candidate(run_id, task, f"# {label} {task}\n", "cpu")
            evaluation = store.begin_evaluation(run_id, candidate, task)
            store.finish_evaluation(evaluation, record)
        for run_id in runs.values():
            store.finish_run(run_id)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


class DomCounter(HTMLParser):
    """Counts what the browser's serialized DOM holds: table rows, SVG plots and their bars."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[int] = []
        self.in_tbody = False
        self.svgs = 0
        self.rects = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(0)
        elif tag == "tbody":
            self.in_tbody = True
        elif tag == "tr" and self.in_tbody:
            self.tables[-1] += 1
        elif tag == "svg":
            self.svgs += 1
        elif tag == "rect":
            self.rects += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_tbody = False

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())


@pytest.fixture
def page(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    build_store(url)
    app = typer.Typer()
    register(app)
    target = tmp_path / "leaderboard.html"
    args = ["leaderboard", "--db", url, "--format", "html", "-o", str(target)]
    result = CliRunner().invoke(app, [*args, "--group-by", "label,model"])
    assert result.exit_code == 0, result.stderr
    return target


def test_browser_parses_tables_and_plots(page: Path, tmp_path: Path) -> None:
    done = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = DomCounter()
    dom.feed(done.stdout)
    assert len(dom.tables) == 2
    assert dom.tables[0] == 3  # one row per group
    assert dom.tables[1] == 9  # one row per group and category (three each)
    assert dom.svgs >= 5  # correctness, a speedup histogram per group, categories
    assert dom.rects > 20
    for text in ("evolve", "openai:gpt-x", "fast_1.5", "matmul", "Speedup over eager PyTorch"):
        assert text in dom.texts, text
    assert dom.texts.index("evolve") < dom.texts.index("baseline")  # ranked by fast_1


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_browser_screenshot(page: Path, tmp_path: Path) -> None:
    shots = {}
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    for name, source in (("report", page), ("blank", blank)):
        png = tmp_path / f"{name}.png"
        done = chromium(
            tmp_path, f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}", source.as_uri()
        )
        assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
        shots[name] = png.read_bytes()
    assert _png_size(shots["report"]) == (WIDTH, HEIGHT)
    # A white page compresses to almost nothing; tables, text and plots do not.
    assert len(shots["report"]) > 20_000
    assert len(shots["report"]) > 4 * len(shots["blank"])
    shutil.copy(tmp_path / "report.png", SCREENSHOT_COPY)
