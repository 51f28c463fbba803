"""Launch overhead figures (verifier/witness.py: device_activity; evaluate: the launch_bound
flag). The profiler events below stand for torch's FunctionEvent fields on a GPU (device_type,
device_time_total, cpu_time_total): no GPU was lent, so the profiler's CUDA activity itself is
untested here."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kernelwright.backends import get_backend
from kernelwright.verifier.evaluate import Evaluation, _launch_figures
from kernelwright.verifier.verdict import Verdict
from kernelwright.verifier.witness import device_activity


def _event(name: str, device: str, device_us: float = 0.0, cpu_us: float = 0.0) -> Any:
    return SimpleNamespace(
        name=name,
        device_type=f"DeviceType.{device}",
        device_time_total=device_us,
        cpu_time_total=cpu_us,
    )


def test_kernels_device_time_and_launch_time_of_a_forward() -> None:
    prof = SimpleNamespace(
        events=lambda: [
            _event("aten::empty_like", "CPU", cpu_us=3.0),
            _event("cudaLaunchKernel", "CPU", cpu_us=4.5),
            _event("relu_kernel", "CUDA", device_us=2.0),
            _event("cudaLaunchKernel", "CPU", cpu_us=5.5),
            _event("scale_kernel", "CUDA", device_us=1.0),
        ]
    )
    assert device_activity(prof) == {"kernels": 2, "device_us": 3.0, "launch_us": 10.0}
    assert device_activity(SimpleNamespace(events=lambda: [])) == {}


@pytest.mark.parametrize(
    "activity",
    [
        {"kernels": 2, "device_us": "3", "launch_us": 1.0},
        {"kernels": True, "device_us": 3.0, "launch_us": 1.0},
        {"kernels": 2, "device_us": float("nan"), "launch_us": 1.0},
        {"kernels": 2, "device_us": -1.0, "launch_us": 1.0},
        {"kernels": 2, "device_us": 3.0},
    ],
)
def test_the_childs_figures_are_refused_unless_sound(activity: dict[str, Any]) -> None:
    assert _launch_figures(activity) is None


def _flags(launch: dict[str, float], call_ms: float) -> list[str]:
    ev = Evaluation.__new__(Evaluation)
    ev.verdict = Verdict(task="t", backend="cuda", device="gpu", status="correct")
    ev.verdict.extra["launch"] = launch
    ev.verdict.timing.candidate_ms = call_ms
    ev._launch_check()
    return [f.check for f in ev.verdict.flags]


def test_a_forward_mostly_idle_between_launches_is_flagged() -> None:
    # 8 kernels busy 6 us of a 40 us call: launch-bound.
    assert _flags({"kernels": 8, "device_us": 6.0, "launch_us": 30.0}, 0.040) == ["launch_bound"]
    # One kernel, or a busy device, is not.
    assert _flags({"kernels": 1, "device_us": 1.0, "launch_us": 5.0}, 0.040) == []
    assert _flags({"kernels": 8, "device_us": 35.0, "launch_us": 5.0}, 0.040) == []


def _graph(monkeypatch: pytest.MonkeyPatch, samples: Any, wall_s: float, device: str) -> Any:
    from kernelwright.verifier import profile_phase

    def child(
        ev: Any, phase: str, wrap: Any, roots: Any, window: str, trial: Any, reply: Any
    ) -> Any:
        assert (phase, window) == ("graph", "graph")
        ev.verdict.extra.setdefault("phases", {})["graph"] = wall_s
        reply["samples"] = samples
        return Path("/nonexistent"), ""

    monkeypatch.setattr(profile_phase, "run_under", child)
    ev = Evaluation.__new__(Evaluation)
    ev.verdict = Verdict(task="t", backend="cuda", device="gpu", status="correct")
    ev.verdict.timing.candidate_ms = 0.040
    ev.device = device
    ev.backend = get_backend("triton")
    profile_phase.graph_timing(ev, {})
    return ev.verdict.extra


def test_graph_replays_are_reported_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = _graph(monkeypatch, [0.010, 0.012, 0.011], 2.0, "cuda")
    assert extra["cuda_graph"]["median_ms"] == pytest.approx(0.011)
    assert extra["cuda_graph"]["vs_launched"] == pytest.approx(0.040 / 0.011)


@pytest.mark.parametrize(
    ("samples", "wall_s"),
    [
        ([0.01, "0.01"], 2.0),
        ([0.01, float("nan")], 2.0),
        ([0.01, -0.01], 2.0),
        ([], 2.0),
        ([600.0, 600.0], 1.0),  # more time than the child ran for
    ],
)
def test_graph_samples_the_child_could_not_have_taken_are_refused(
    monkeypatch: pytest.MonkeyPatch, samples: Any, wall_s: float
) -> None:
    extra = _graph(monkeypatch, samples, wall_s, "cuda")
    assert "cuda_graph" not in extra and extra["cuda_graph_error"]


def test_no_graphs_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = _graph(monkeypatch, [0.01], 1.0, "cpu")
    assert extra["cuda_graph_error"].startswith("CUDA graphs are timed for cuda and triton")
