"""The shipped suites beyond smoke: ops (single operators), fusion (chains of 3–6 operators),
models (small architectures) and backward (gradients checked too). Their shape is part of what
users rely on: counts, categories, configs beyond the benchmark one, a sampler, a ``gpu`` size
preset, inputs that exercise the operators, and tasks that lint clean."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch

from kernelwright.bench_tasks import CATEGORIES, load_suite
from kernelwright.bench_tasks.lint import lint_isolated
from kernelwright.bench_tasks.task import call_with_config

MINIMUM = {"ops": 80, "fusion": 50, "models": 12, "backward": 15}


@pytest.fixture(scope="module")
def suites() -> dict[str, list]:
    return {name: load_suite(name) for name in MINIMUM}


def test_counts_and_categories(suites: dict[str, list]) -> None:
    counts = {name: len(tasks) for name, tasks in suites.items()}
    assert all(counts[name] >= least for name, least in MINIMUM.items()), counts
    categories = Counter(t.category for name in ("ops", "fusion", "models") for t in suites[name])
    assert None not in categories and set(categories) <= set(CATEGORIES)
    assert len(categories) >= 12, categories
    assert {t.category for t in suites["fusion"]} == {"fusion"}
    assert all(t.backward for t in suites["backward"])
    assert not any(t.backward for name in ("ops", "fusion", "models") for t in suites[name])


def test_every_task_has_configs_a_sampler_and_a_gpu_preset(suites: dict[str, list]) -> None:
    for tasks in suites.values():
        for task in tasks:
            assert task.configs and task.has_sampler, task.id
            assert set(task.scales) == {"gpu"}, task.id
            drawn = task.correctness_configs(random.Random(1), 2)
            assert len({repr(sorted(c.items())) for c in drawn}) >= 3, task.id


def test_inputs_are_not_uniform_in_the_unit_interval(suites: dict[str, list]) -> None:
    """Inputs in [0, 1) make ReLU, LeakyReLU, HardTanh and ELU the identity: every task with a
    floating input draws some value outside that interval."""
    for tasks in suites.values():
        for task in tasks:
            torch.manual_seed(0)
            inputs = call_with_config(task.module().get_inputs, task.default_config)
            floats = [x for x in inputs if isinstance(x, torch.Tensor) and x.is_floating_point()]
            if not floats:
                continue
            outside = any(bool(((x < 0) | (x >= 1)).any()) for x in floats)
            assert outside, f"{task.id}: every floating input lies in [0, 1)"


@pytest.mark.slow
def test_the_suites_lint_clean() -> None:
    reports = list(lint_isolated(list(MINIMUM), samples=2))
    assert len(reports) >= sum(MINIMUM.values())
    unclean = {r.task_id: sorted(r.codes(include_waived=False)) for r in reports if not r.ok}
    assert not unclean


HAND_WRITTEN = Path(__file__).resolve().parent.parent / "examples" / "ops"


def test_hand_written_kernels_cover_a_third_of_ops(suites: dict[str, list]) -> None:
    stems = {t.stem for t in suites["ops"]}
    for backend in ("cpu", "triton"):
        files = {p.stem for p in (HAND_WRITTEN / backend).glob("*.py")}
        assert files <= stems, sorted(files - stems)
        assert len(files) * 3 >= len(stems), (backend, len(files), len(stems))


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["softmax", "log_softmax", "gelu_tanh", "bias_add_rows"])
def test_hand_written_triton_kernels_are_correct(run_eval: Any, stem: str) -> None:
    """The trickier Triton references (row reductions, a tanh of their own, a parameter), on the
    interpreter; every reference is checked by ``bench examples/ops/<backend> --suite ops``."""
    verdict = run_eval(
        HAND_WRITTEN / "triton" / f"{stem}.py", f"ops/{stem}", "triton", timing=False, trials=1
    )
    assert verdict.status == "correct", verdict.log[-2000:]
    assert not verdict.violations
