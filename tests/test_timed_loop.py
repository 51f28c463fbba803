"""The parent's timing loop against simulated children: where held-out calls go, what the
held-out statistic decides under noise and under a cache, and how a disturbed loop is handled.

The simulated child answers in-process through the same request and reply dictionaries a real
worker exchanges with the parent, with the sample it is told to report.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from typing import Any

import pytest

from kernelwright.verifier.timed_loop import (
    DISTURBED,
    MIN_HELD_OUT,
    Call,
    CallFailed,
    Loop,
    LoopPlan,
    TimingRun,
    cached_results,
    drive,
    held_out_count,
    steadiest,
)
from kernelwright.verifier.timing import Budget, median_interval, precise_enough

Sampler = Callable[[dict[str, Any], int], float]


class FakeChild:
    """An endpoint whose replies come from ``sampler(request, call_number)``."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self.requests: list[dict[str, Any]] = []
        self.replies: list[Any] = [{"ready": True, "conditions": {"threads": 1}}]
        self.held: dict[str, Any] = {}
        self.told_early = 0  # calls that learned before running which outputs are checked

    def send(self, message: Any, timeout: float | None = None) -> None:
        if message.get("op") == "go":  # the second step of a timed call
            self.replies.append(self.held)
            return
        if message.get("op") == "inspect":  # the third: what the parent checks, told after
            # Recorded on the call's own request, so tests read one dict per call.
            self.requests[-1].update(spots=message["spots"], full=message["full"])
            answer: dict[str, Any] = {}
            if message.get("spots"):
                answer["spots"] = [[0.0] * len(idx) for idx in message["spots"]]
            if message.get("full"):
                answer["output"] = []
            self.replies.append(answer)
            return
        self.requests.append(message)
        if message.get("op") != "call":
            return
        self.told_early += int("spots" in message or "full" in message)
        if message.get("traced"):
            self.replies.append({"traced": {"ops": {}, "profiled_ops": {}, "trace_alive": True}})
        else:
            self.held = {"ms": float(self.sampler(message, len(self.requests) - 1))}
            self.replies.append({"prepared": True})

    def recv(self, timeout: float | None = None) -> Any:
        return self.replies.pop(0)


def _plan(**kw: Any) -> LoopPlan:
    budget = Budget(warmup_ms=5.0, rep_ms=60.0, max_wall_ms=10_000.0)
    held = [[f"held-{i}"] for i in range(8)]
    return LoopPlan(budget=budget, loop_sets=3, held_out_inputs=held, output_numels=[100], **kw)


def _run(sampler: Sampler, **kw: Any) -> tuple[TimingRun, FakeChild]:
    child = FakeChild(sampler)
    run = TimingRun()
    drive(child, _plan(**kw), run)  # type: ignore[arg-type]
    return run, child


def test_held_out_calls_come_after_warm_up_once_each_and_in_full() -> None:
    run, child = _run(lambda req, n: 1.0)
    calls = [r for r in child.requests if r.get("op") == "call" and not r.get("traced")]
    held = [r for r in calls if "inputs" in r]
    first = run.loops[0]
    assert len(held) == held_count(first) >= MIN_HELD_OUT
    assert sorted(r["set"] for r in held) == list(range(3, 3 + len(held)))  # each set once
    assert all(r["full"] for r in held)
    # None during warm-up: the first held-out request comes after every warm-up call.
    first_held = next(n for n, r in enumerate(calls) if "inputs" in r)
    assert first_held >= first.warmup_calls
    # Loop calls rotate over the sets the child holds; every call is spot-checked.
    assert {r["set"] for r in calls if "inputs" not in r} == {0, 1, 2}
    assert all(len(r["spots"][0]) == 16 for r in calls)
    assert child.requests[-1] == {"op": "end"}
    assert run.final_output == []


def held_count(loop: Loop) -> int:
    return len(loop.held_out)


def test_held_out_positions_are_secret_and_vary() -> None:
    orders = set()
    for _ in range(6):
        run, _ = _run(lambda req, n: 1.0)
        orders.add(tuple(n for n, c in enumerate(run.loops[0].calls) if c.held_out))
    assert len(orders) > 1


def test_fast_kernels_get_more_held_out_calls() -> None:
    assert held_out_count(0.05, 8) > held_out_count(5.0, 8) >= MIN_HELD_OUT
    assert held_out_count(0.05, 3) == 3


def test_honest_kernel_under_noise_is_rarely_a_cache() -> None:
    """Bursts of load slow 30% of the calls 3-8x, held-out ones included. The statistic alone
    fires on well under 2% of such loops (all held-out calls must be slow by chance); the
    evaluation then measures again in a fresh child and rejects only if it fires twice."""
    rng = random.Random(7)
    fired = 0
    for _ in range(200):

        def noisy(req: dict[str, Any], n: int) -> float:
            base = 1.0 + rng.random() * 0.05
            return base * (rng.choice([3.0, 8.0]) if rng.random() < 0.3 else 1.0)

        run, _ = _run(noisy)
        fired += cached_results(run.loops[0]) is not None
    assert fired <= 4


def test_content_cache_is_found() -> None:
    """A cache makes every held-out call slow, however noisy the loop is."""
    rng = random.Random(11)

    def cache(req: dict[str, Any], n: int) -> float:
        noise = rng.choice([1.0, 1.0, 1.0, 4.0])
        return (2.0 if "inputs" in req else 0.1) * noise

    run, _ = _run(cache)
    detail = cached_results(run.loops[0])
    assert detail is not None and "unseen inputs" in detail


def test_one_slow_held_out_call_is_not_enough() -> None:
    def sampler(req: dict[str, Any], n: int) -> float:
        return 10.0 if req.get("set") == 3 else 1.0

    run, _ = _run(sampler)
    assert cached_results(run.loops[0]) is None


def test_disturbed_loop_is_measured_again() -> None:
    """A loop whose second half is slower (a neighbour started) gets another loop; the report
    comes from one whose halves agree."""
    state = {"calls": 0}

    def sampler(req: dict[str, Any], n: int) -> float:
        state["calls"] += 1
        return 3.0 if 30 <= state["calls"] < 60 else 1.0

    run, _ = _run(sampler, min_loops=1)
    assert len(run.loops) >= 2
    assert run.loops[0].disagreement() > DISTURBED
    assert run.loop.disagreement() <= DISTURBED
    assert statistics.median(run.loop.samples) == 1.0


def _loop(samples: list[float]) -> Loop:
    return Loop(calls=[Call(0, ms, ms + 0.1) for ms in samples])


def test_steadiest_takes_the_fastest_when_every_loop_is_disturbed() -> None:
    loops = [_loop([5.0] * 5 + [8.0] * 5), _loop([1.0] * 5 + [2.0] * 5)]
    assert all(lp.disagreement() > DISTURBED for lp in loops)
    assert steadiest(loops) == 1


def test_steadiest_prefers_the_fastest_steady_loop() -> None:
    loops = [_loop([2.0] * 10), _loop([1.0] * 5 + [3.0] * 5), _loop([1.5] * 10)]
    assert steadiest(loops) == 2


def test_at_least_two_loops_where_timing_means_something() -> None:
    run, _ = _run(lambda req, n: 1.0)
    assert len(run.loops) == 2 and all(not lp.held_out for lp in run.loops[1:])
    run, _ = _run(lambda req, n: 1.0, min_loops=1)
    assert len(run.loops) == 1


def test_malformed_replies_fail_the_call() -> None:
    child = FakeChild(lambda req, n: 1.0)
    child.replies = [{"ready": True}, {"ms": "fast"}]
    child.send = lambda message, timeout=None: None  # type: ignore[method-assign]
    with pytest.raises(CallFailed):
        drive(child, _plan(), TimingRun())  # type: ignore[arg-type]


def test_loop_sets_arrive_on_first_use_only() -> None:
    """No input set is in the child before the call that uses it (E21), and none is sent twice."""
    inputs = [[f"set-{i}"] for i in range(3)]
    run, child = _run(lambda req, n: 1.0, loop_inputs=inputs)
    calls = [r for r in child.requests if r.get("op") == "call"]
    loads = [(n, r["set"]) for n, r in enumerate(calls) if "load" in r]
    assert [s for _, s in loads] == [0, 1, 2]
    first_use = {s: next(n for n, r in enumerate(calls) if r["set"] == s) for s in range(3)}
    assert all(n == first_use[s] for n, s in loads)
    assert all(calls[n]["load"] == inputs[s] for n, s in loads)


def test_traced_calls_are_untimed_and_placed_after_warm_up() -> None:
    run, child = _run(lambda req, n: 1.0)
    calls = [r for r in child.requests if r.get("op") == "call"]
    traced = [n for n, r in enumerate(calls) if r.get("traced")]
    first = run.loops[0]
    assert len(traced) == len(first.traced) == 2
    assert min(traced) >= first.warmup_calls  # after warm-up (indices from 0), at secret positions
    assert all(t.spots is not None for t in first.traced)  # their outputs are checked too
    # They are not samples: every measured call still has a sample of its own.
    timed = sum(loop.warmup_calls + len(loop.calls) for loop in run.loops) + 1  # + the final call
    assert timed == len([r for r in calls if not r.get("traced")])
    # Only the first loop traces: later loops time the same way the first one does.
    assert all(not loop.traced for loop in run.loops[1:])


def test_replaced_harness_entries_are_reported_per_call() -> None:
    class Tampering(FakeChild):
        def send(self, message: Any, timeout: float | None = None) -> None:
            super().send(message, timeout)
            if message.get("op") == "go" and len(self.requests) > 20:
                self.replies[-1]["tampered"] = ["torch.Tensor.clone"]

    child = Tampering(lambda req, n: 1.0)
    run = TimingRun()
    drive(child, _plan(), run)  # type: ignore[arg-type]
    assert any(c.tampered == ["torch.Tensor.clone"] for c in run.calls)


def test_gap_is_the_parents_time_beyond_the_samples() -> None:
    loop = Loop(calls=[Call(0, 1.0, 3.0), Call(1, 1.0, 3.5), Call(2, 1.0, 2.5)])
    loop.calls.append(Call(3, 9.0, 40.0, held_out=True))  # held-out calls are left out
    run = TimingRun(loops=[loop])
    assert run.gap_ms() == 2.0


def test_checked_positions_are_named_only_after_the_call() -> None:
    """A call cannot know which of its outputs the parent will look at (E06)."""
    run, child = _run(lambda req, n: 1.0)
    assert child.told_early == 0
    checked = [r for r in child.requests if r.get("op") == "call" and r.get("spots")]
    assert len(checked) == len([r for r in child.requests if r.get("op") == "call"])


# -- loops that end once their median is precise -----------------------------------------------


def _precision_plan(**kw: Any) -> LoopPlan:
    # Counts that would run 1000 calls per loop: only the precision rule can end one early.
    budget = Budget(warmup_ms=5.0, rep_ms=1000.0, max_reps=1000, max_wall_ms=60_000.0, **kw)
    held = [[f"held-{i}"] for i in range(8)]
    return LoopPlan(budget=budget, loop_sets=3, held_out_inputs=held, output_numels=[100])


def _precision_run(sampler: Sampler, **kw: Any) -> tuple[TimingRun, FakeChild]:
    child = FakeChild(sampler)
    run = TimingRun()
    drive(child, _precision_plan(**kw), run)  # type: ignore[arg-type]
    return run, child


def test_median_interval_narrows_with_samples_and_needs_enough_of_them() -> None:
    rng = random.Random(3)
    assert median_interval([1.0] * 19) is None
    few = [rng.gauss(1.0, 0.05) for _ in range(40)]
    many = [rng.gauss(1.0, 0.05) for _ in range(1000)]
    wide, narrow = median_interval(few), median_interval(many)
    assert wide is not None and narrow is not None
    assert wide[0] <= statistics.median(few) <= wide[1]
    assert narrow[1] - narrow[0] < (wide[1] - wide[0]) / 2
    assert precise_enough(many, 0.02) and not precise_enough(few, 0.002)
    assert not precise_enough(many, 0.0)  # 0 turns the rule off


def test_a_quiet_loop_ends_early_with_every_planned_check_done() -> None:
    rng = random.Random(5)
    run, child = _precision_run(lambda req, n: rng.gauss(1.0, 0.01))
    first = run.loops[0]
    assert all(loop.settled for loop in run.loops)
    assert len(first.samples) < 200 and len(run.loops) == 2
    # What was planned at secret positions still happened: held-out calls, calls returned in
    # full, and the untimed calls under the witnesses.
    assert len(first.held_out) == held_out_count(first.estimate_ms, 8)
    assert len(first.traced) == 2
    full = [c for c in first.calls if not c.held_out and c.output is not None]
    assert len(full) == 2


def test_a_noisy_loop_runs_to_its_count() -> None:
    rng = random.Random(7)
    run, _ = _precision_run(lambda req, n: rng.uniform(0.5, 1.5))
    assert len(run.loops[0].samples) > 900 and not run.loops[0].settled


def test_a_drifting_loop_is_not_cut_short_however_precise() -> None:
    # A level that keeps moving: the median of every stretch is precise, and the halves of the
    # loop never agree.
    run, child = _precision_run(lambda req, n: 1.0 + 0.002 * n)
    assert not run.loops[0].settled
    assert len(run.loops[0].samples) > 900


def test_the_precision_rule_can_be_turned_off() -> None:
    run, _ = _precision_run(lambda req, n: 1.0, precision=0.0)
    assert len(run.loops[0].samples) == 1000 and not run.loops[0].settled


def test_where_a_quiet_loop_stops_and_its_late_checks_fall_cannot_be_counted() -> None:
    # Each run stops at a random point and then runs a random tail, with the traced calls it had
    # not reached drawn again inside it: neither the stop nor the checks sit at a fixed count.
    lengths: set[int] = set()
    offsets: set[int] = set()
    for seed in range(15):
        noise = random.Random(seed)

        def sampler(req: dict[str, Any], n: int, noise: random.Random = noise) -> float:
            return noise.gauss(1.0, 0.01)

        run, _ = _precision_run(sampler)
        first = run.loops[0]
        lengths.add(len(first.samples))
        offsets.update(len(first.samples) - t.position for t in first.traced)
    assert len(lengths) >= 5
    assert len(offsets) >= 8 and max(offsets) > 5
