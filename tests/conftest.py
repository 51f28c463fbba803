"""Shared fixtures: a build cache that survives the session, and a helper to evaluate a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from kernelwright.bench_tasks import resolve_task
from kernelwright.verifier import EvalOptions, Verdict, evaluate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke"
TESTS = Path(__file__).resolve().parent


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _has_cuda():
        return
    skip = pytest.mark.skip(
        reason="needs an NVIDIA GPU with a CUDA build of torch; runs from scripts/device_check.sh"
    )
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Builds are cached by source hash; keeping them for the session makes C++ rebuilds rare."""
    shared = os.environ.get("KERNELWRIGHT_TEST_CACHE")
    if shared:
        path = Path(shared)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("kwcache")


@pytest.fixture(scope="session")
def run_eval(cache_dir: Path) -> Any:
    """Evaluate a candidate file on a task; keyword options go to EvalOptions."""

    def run(candidate: Path | str, task: str, backend: str, **options: Any) -> Verdict:
        options.setdefault("timeout", 120.0)
        options.setdefault("rep_ms", 20.0)
        options.setdefault("warmup_ms", 5.0)
        options.setdefault("compile_baseline", False)
        source = Path(candidate).read_text()
        return evaluate(
            resolve_task(task), source, backend, EvalOptions(cache_dir=cache_dir, **options)
        )

    return run
