"""E18: a time below the device's roofline is flagged; the work is measured from the reference."""

from __future__ import annotations

from kernelwright.backends import get_backend
from kernelwright.backends.roofline import ceiling_for, min_time_ms
from kernelwright.bench_tasks import resolve_task
from kernelwright.verifier import Verdict
from kernelwright.verifier.evaluate import EvalOptions, Evaluation
from kernelwright.verifier.reference import make_trial, measure_work


def test_matmul_work_is_counted() -> None:
    task = resolve_task("smoke/matmul")
    trial = make_trial(task.module(), task, dict(task.default_config), b"s", "t", "cpu")
    moved, flops = measure_work(task.module(), trial)
    m, k, n = (task.default_config[key] for key in ("M", "K", "N"))
    assert flops == 2 * m * k * n
    assert moved == 4 * (m * k + k * n + m * n)


def test_ceiling_lookup_and_floor() -> None:
    h100 = ceiling_for("NVIDIA H100 80GB HBM3")
    assert h100 is not None and ceiling_for("Intel(R) Xeon(R)") is None
    # 1 GB at 3.35 TB/s takes about 0.3 ms.
    assert abs(min_time_ms(h100, 1e9, 0, False) - 0.2985) < 1e-3


def _evaluation_with_time(candidate_ms: float, tmp_path) -> Verdict:
    task = resolve_task("smoke/matmul")
    backend = get_backend("cpu")
    ev = Evaluation(task, "", backend, backend.status(), EvalOptions(cache_dir=tmp_path))
    ev.verdict.device = "NVIDIA H100 80GB HBM3"
    ev.verdict.timing.meaningful = True
    ev.verdict.timing.candidate_ms = candidate_ms
    ev.verdict.timing.eager_ms = candidate_ms * 2
    ev.verdict.extra["work"] = {"bytes": 4_000_000_000, "flops": 0, "half_precision": False}
    ev.speedups()
    return ev.verdict


def test_faster_than_physics_is_flagged(tmp_path) -> None:
    flagged = _evaluation_with_time(0.01, tmp_path)  # 4 GB in 10 us: impossible at 3.35 TB/s
    assert [f.check for f in flagged.flags] == ["beyond_roofline"]
    plausible = _evaluation_with_time(2.0, tmp_path)
    assert plausible.flags == []
