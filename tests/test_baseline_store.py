"""Baselines measured once and kept across processes (verifier/baseline_store.py): a stored one
serves later evaluations of the task until its fingerprint changes, it grows too old, or a fresh
one is asked for; a stored file that does not read back as a baseline costs a measurement, never
a verdict."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES

from kernelwright.bench_tasks import resolve_task
from kernelwright.verifier import EvalOptions, baseline_store, evaluate

# The module, not the function the package exports under the same name.
evaluate_module = importlib.import_module("kernelwright.verifier.evaluate")

GOOD = {
    "eager": [1.0, 1.1, 0.9],
    "compile": [0.5],
    "compile_error": None,
    "gap_ms": 0.02,
    "gap_iqr_ms": 0.01,
}


def test_a_baseline_reads_back_until_it_is_too_old(tmp_path: Path) -> None:
    digest = baseline_store.fingerprint({"key": ["smoke/relu", "cpu"]})
    assert digest != baseline_store.fingerprint({"key": ["smoke/relu", "triton"]})
    baseline_store.save(tmp_path, digest, GOOD, measured_at=1000.0)
    assert baseline_store.load(tmp_path, digest, max_age_s=100, now=1050.0) == (GOOD, 1000.0)
    assert baseline_store.load(tmp_path, digest, max_age_s=100, now=1101.0) is None
    assert baseline_store.load(tmp_path, "0" * 64, now=1050.0) is None
    path = tmp_path / "baselines" / f"{digest}.json"
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "baseline",
    [
        {**GOOD, "eager": []},
        {**GOOD, "eager": [1.0, -1.0]},
        {**GOOD, "eager": [1.0, float("nan")]},
        {**GOOD, "eager": [True]},
        {**GOOD, "compile": "fast"},
        {**GOOD, "gap_ms": -5.0},
        {**GOOD, "compile_error": 3},
        "not a baseline",
    ],
)
def test_a_malformed_stored_baseline_is_measured_again(tmp_path: Path, baseline: Any) -> None:
    digest = baseline_store.fingerprint({"key": "k"})
    folder = tmp_path / "baselines"
    folder.mkdir()
    record = {"fingerprint": digest, "measured_at": 1000.0, "baseline": baseline}
    (folder / f"{digest}.json").write_text(json.dumps(record))
    assert baseline_store.load(tmp_path, digest, now=1001.0) is None
    baseline_store.save(tmp_path, "1" * 64, baseline if isinstance(baseline, dict) else {}, 1.0)
    assert not (folder / f"{'1' * 64}.json").exists()


def test_a_stored_file_that_is_a_link_or_names_another_fingerprint_is_ignored(
    tmp_path: Path,
) -> None:
    digest = baseline_store.fingerprint({"key": "k"})
    other = baseline_store.fingerprint({"key": "other"})
    baseline_store.save(tmp_path, other, GOOD, 1000.0)
    folder = tmp_path / "baselines"
    os.symlink(folder / f"{other}.json", folder / f"{digest}.json")
    assert baseline_store.load(tmp_path, digest, now=1001.0) is None
    (folder / f"{digest}.json").unlink()
    (folder / f"{digest}.json").write_text((folder / f"{other}.json").read_text())
    assert baseline_store.load(tmp_path, digest, now=1001.0) is None


def test_later_evaluations_use_the_stored_baseline_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = resolve_task("smoke/relu")
    source = (EXAMPLES / "triton" / "relu.py").read_text()
    options: dict[str, Any] = dict(
        cache_dir=tmp_path,
        rep_ms=20.0,
        warmup_ms=5.0,
        trials=1,
        sampled_configs=0,
        compile_baseline=False,
    )

    def verdict(**extra: Any) -> Any:
        # A new process each time, as far as baselines go: only the store carries them over.
        monkeypatch.setattr(evaluate_module, "_BASELINES", {})
        return evaluate(task, source, "triton", EvalOptions(**options, **extra))

    first = verdict()
    assert first.status == "correct", first.log
    assert first.extra["baseline"]["from"] == "measured now"
    second = verdict()
    assert second.extra["baseline"]["from"] == "the baseline store"
    assert second.extra["baseline"]["fingerprint"] == first.extra["baseline"]["fingerprint"]
    assert second.timing.eager_samples == first.timing.eager_samples
    assert "baselines from the baseline store, measured" in second.timing.note
    fresh = verdict(fresh_baseline=True)
    assert fresh.extra["baseline"]["from"] == "measured now"
    assert fresh.timing.eager_samples != first.timing.eager_samples
