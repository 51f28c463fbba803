"""Evaluations run ahead in a thread pool, for test modules whose tests each check one verdict.

Evaluations mostly wait on sandboxed children, so a module starts every evaluation its selected
tests will ask for, a few at a time (``KERNELWRIGHT_TEST_JOBS``, default: the CPU count, at most
8), and each test waits only for its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kernelwright.verifier import Verdict


def describe(verdict: Verdict) -> str:
    first = verdict.log.splitlines()[0] if verdict.log else ""
    return f"status={verdict.status} violations={verdict.violations} flags={verdict.flags} reason={first[:300]!r}"


def _skipped(item: pytest.Item) -> bool:
    for mark in item.iter_markers():
        if mark.name == "skip" or (mark.name == "skipif" and mark.args and mark.args[0]):
            return True
    return False


class Prefetch:
    """Runs evaluations in a thread pool; each test waits only for its own."""

    def __init__(self, run: Callable[[Any], Verdict]) -> None:
        jobs = int(os.environ.get("KERNELWRIGHT_TEST_JOBS", "0")) or min(8, os.cpu_count() or 2)
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        self.run = run
        self.futures: dict[str, Future[Verdict]] = {}
        self.cache_dirs: dict[str, Path] = {}

    def submit(self, case: Any) -> None:
        if case.id not in self.futures:
            self.futures[case.id] = self.pool.submit(self.run, case)

    def verdict(self, case: Any) -> Verdict:
        self.submit(case)
        return self.futures[case.id].result()

    def start_module(
        self, request: pytest.FixtureRequest, prepare: Callable[[Any], None] | None = None
    ) -> None:
        """Submit the ``case`` of every selected, unskipped test of the requesting module,
        calling ``prepare(case)`` first, in this thread."""
        for item in request.session.items:
            params = getattr(item, "callspec", None)
            if not (item.path == request.path and params and "case" in params.params):
                continue
            case = params.params["case"]
            if _skipped(item) or case.id in self.futures:
                continue
            if prepare is not None:
                prepare(case)
            self.submit(case)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
