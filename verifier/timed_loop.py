"""The parent's side of a timing phase: it drives the child's loop one call at a time.

The parent turns the budgets into counts, picks which calls are spot-checked or returned in full,
and where the held-out calls go: each brings an input set the child has never seen, at a position
after warm-up that the child learns only when the call arrives. Every held-out call goes through
the same prepare / flush / time / release path as a loop call, so an honest kernel is as fast on
it as in the loop, and a kernel that answers from a cache keyed on input values is slow on every
one of them. The parent also brackets every call with its own clock.

Every timing child measures at least ``MIN_LOOPS`` loops; a loop whose halves disagree was
disturbed (another process took the CPU, a clock changed) and another is measured, up to
``MAX_LOOPS``. The fastest loop whose halves agree is reported, with its spread.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kernelwright.verifier.channel import Endpoint
from kernelwright.verifier.timing import Budget, precise_enough

SPOT_POINTS = 16
# Held-out calls per loop: at least this many; more for fast kernels, up to the sets prepared.
MIN_HELD_OUT = 5
MAX_HELD_OUT = 8
FAST_KERNEL_MS = 1.0
# Calls returned in full at random positions of the first loop (E06), besides the held-out calls.
FULL_CALLS = 2
# A loop is disturbed when the medians of its halves differ by more than this fraction.
DISTURBED = 0.05
MIN_LOOPS = 2
MAX_LOOPS = 3
# The held-out check: every held-out call slower than this multiple of the loop's 90th
# percentile, and a one-sided rank test that puts them above the loop.
# Untimed calls of the first loop that run under the op witnesses, at secret positions (E23: a
# candidate cannot keep its honest code for the correctness phase alone).
TRACED_CALLS = 2
# A loop asks whether its median is already precise enough every 1 to this many measured calls,
# at random; once it is, it goes on for a random tail of TAIL_MIN to TAIL_MAX calls.
PRECISION_EVERY = 10
TAIL_MIN = 10
TAIL_MAX = 40
COLD_RATIO = 1.5
COLD_MARGIN_MS = 0.005
COLD_P = 0.01


class CallFailed(Exception):
    """The child could not run a requested call (an error it reported, or a malformed reply)."""


@dataclass
class Call:
    """One timed call as the parent saw it."""

    set_index: int
    ms: float  # the child's sample
    wall_ms: float  # the parent's clock around the request and the reply
    held_out: bool = False
    spots: list[tuple[list[int], list[float]]] | None = None
    output: list[Any] | None = None
    tampered: list[str] = field(default_factory=list)
    launches: int | None = None  # the candidate's own kernels launched, where the child counts


@dataclass
class Traced:
    """One untimed call of the loop that ran under the op witnesses."""

    set_index: int
    position: int  # the measured calls before it
    seen: dict[str, Any]
    spots: list[tuple[list[int], list[float]]] | None = None
    tampered: list[str] = field(default_factory=list)


@dataclass
class Loop:
    """One measured loop: its calls in order (held-out calls among them) and its warm-up."""

    calls: list[Call] = field(default_factory=list)
    traced: list[Traced] = field(default_factory=list)
    warmup_calls: int = 0
    estimate_ms: float = 0.0  # one call, from the warm-up: what the counts were derived from
    wall_ms: float = 0.0  # the parent's clock around the measured part
    settled: bool = False  # it ended because its median was precise enough

    @property
    def samples(self) -> list[float]:
        return [c.ms for c in self.calls if not c.held_out]

    @property
    def held_out(self) -> list[Call]:
        return [c for c in self.calls if c.held_out]

    def halves(self) -> tuple[float, float] | None:
        samples = self.samples
        if len(samples) < 8:
            return None
        half = len(samples) // 2
        return statistics.median(samples[:half]), statistics.median(samples[half:])

    def disagreement(self) -> float:
        halves = self.halves()
        if halves is None or min(halves) <= 0:
            return 0.0
        return abs(halves[0] - halves[1]) / min(halves)

    def summary(self) -> dict[str, Any]:
        samples = self.samples
        halves = self.halves()
        return {
            "samples": len(samples),
            "median_ms": statistics.median(samples) if samples else None,
            "halves_ms": list(halves) if halves else None,
            "disturbed": self.disagreement() > DISTURBED,
            "held_out": len(self.held_out),
            "warmup_calls": self.warmup_calls,
            "wall_ms": round(self.wall_ms, 3),
            "settled": self.settled,
        }


@dataclass
class TimingRun:
    """Everything the parent observed in one timing child."""

    conditions: dict[str, Any] = field(default_factory=dict)
    loops: list[Loop] = field(default_factory=list)
    chosen: int = 0
    final_output: list[Any] | None = None
    compile_loop: Loop | None = None
    compile_error: str | None = None

    @property
    def loop(self) -> Loop:
        return self.loops[self.chosen]

    @property
    def calls(self) -> list[Call]:
        return [c for loop in self.loops for c in loop.calls]

    @property
    def traced(self) -> list[Traced]:
        return [t for loop in self.loops for t in loop.traced]

    def gap_ms(self) -> float | None:
        """The median time per call the parent saw beyond the child's sample: the harness's own
        overhead (pipe, copies, flush), and any work moved out of the timed interval."""
        gaps = self._gaps()
        return statistics.median(gaps) if gaps else None

    def gap_iqr_ms(self) -> float:
        gaps = self._gaps()
        if len(gaps) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(gaps, n=4)
        return q3 - q1

    def _gaps(self) -> list[float]:
        return [c.wall_ms - c.ms for c in self.loop.calls if not c.held_out and c.output is None]


@dataclass
class LoopPlan:
    """What the parent asks of one timing child."""

    budget: Budget
    loop_sets: int  # input sets used in rotation
    # The loop's input sets, each handed to the child on the call that first uses it; empty when
    # the child has them already (tests with a fake child).
    loop_inputs: list[list[Any]] = field(default_factory=list)
    held_out_inputs: list[list[Any]] = field(default_factory=list)  # sent one call at a time
    output_numels: list[int] | None = None  # spot-check every call when given
    compile_model: bool = False  # also time torch.compile of the model (trusted baseline)
    # Loops measured at least (slow stretches of a shared machine last seconds: the fastest of
    # two loops is steadier than one) and at most, when their halves keep disagreeing.
    min_loops: int = MIN_LOOPS
    max_loops: int = MAX_LOOPS
    call_timeout: float = 300.0
    traced_calls: int = TRACED_CALLS


class Driver:
    """Sends one request per call and collects the replies."""

    def __init__(self, endpoint: Endpoint, plan: LoopPlan, rng: random.Random) -> None:
        self.endpoint = endpoint
        self.plan = plan
        self.rng = rng
        self.delivered: set[int] = set()

    def _request(self, set_index: int, model: str) -> dict[str, Any]:
        request: dict[str, Any] = {"op": "call", "set": set_index, "model": model}
        if set_index not in self.delivered and set_index < len(self.plan.loop_inputs):
            request["load"] = self.plan.loop_inputs[set_index]
            self.delivered.add(set_index)
        return request

    def _picks(self) -> list[list[int]] | None:
        if self.plan.output_numels is None:
            return None
        return [
            sorted(self.rng.randrange(n) for _ in range(SPOT_POINTS)) if n else []
            for n in self.plan.output_numels
        ]

    def _exchange(
        self, request: dict[str, Any], timed: bool = False
    ) -> tuple[dict[str, Any], float]:
        """Send one request and take its reply. A timed call goes in two steps: the child
        prepares its copies and flushes, says so, and the parent's clock then brackets only the
        go, the call and the reply."""
        timeout = self.plan.call_timeout
        started = time.perf_counter_ns()
        self.endpoint.send(request, timeout=timeout)
        if timed:
            ready = self.endpoint.recv(timeout=timeout)
            if not isinstance(ready, dict) or ready.get("prepared") is not True:
                if isinstance(ready, dict) and "error" in ready:
                    raise CallFailed(str(ready["error"])[:300])
                raise CallFailed("the child did not report its call prepared")
            started = time.perf_counter_ns()
            self.endpoint.send({"op": "go"}, timeout=timeout)
        reply = self.endpoint.recv(timeout=timeout)
        wall_ms = (time.perf_counter_ns() - started) / 1e6
        if not isinstance(reply, dict):
            raise CallFailed("the child's reply is not a mapping")
        if "error" in reply:
            raise CallFailed(str(reply["error"])[:300])
        return reply, wall_ms

    @staticmethod
    def _spots(reply: dict[str, Any], picks: list[list[int]] | None) -> Any:
        if picks is None:
            return None
        values = reply.get("spots")
        if not isinstance(values, list) or len(values) != len(picks):
            raise CallFailed("the child's spot values do not match the positions asked for")
        return [(idx, list(v)) for idx, v in zip(picks, values, strict=True)]

    @staticmethod
    def _tampered(reply: dict[str, Any]) -> list[str]:
        names = reply.get("tampered") or []
        return [str(n)[:200] for n in names] if isinstance(names, list) else ["(malformed)"]

    def traced(self, set_index: int, position: int) -> Traced:
        """An untimed call under the op witnesses, which the child cannot tell from the
        correctness phase's calls by anything but their position."""
        request = self._request(set_index, "eager")
        request["traced"] = True
        reply, _ = self._exchange(request)
        seen = reply.get("traced")
        if not isinstance(seen, dict):
            raise CallFailed("the child did not report what its witnesses saw")
        picks = self._picks()
        answer = self._inspect(picks, False)
        return Traced(set_index, position, seen, self._spots(answer, picks), self._tampered(reply))

    def _inspect(self, picks: list[list[int]] | None, full: bool) -> dict[str, Any]:
        """After a call: the output values the parent checks, named only now (E06)."""
        request = {"op": "inspect", "spots": picks, "full": full}
        self.endpoint.send(request, timeout=self.plan.call_timeout)
        answer = self.endpoint.recv(timeout=self.plan.call_timeout)
        if not isinstance(answer, dict):
            raise CallFailed("the child's answer to an inspection is not a mapping")
        return answer

    def call(
        self,
        set_index: int,
        *,
        inputs: list[Any] | None = None,
        full: bool = False,
        model: str = "eager",
    ) -> Call:
        request = self._request(set_index, model)
        if inputs is not None:
            request["inputs"] = inputs
        reply, wall_ms = self._exchange(request, timed=True)
        ms = reply.get("ms")
        if not isinstance(ms, float) or not math.isfinite(ms):
            raise CallFailed(f"the child's sample is not a number: {type(ms).__name__}")
        call = Call(set_index, ms, wall_ms, held_out=inputs is not None)
        call.tampered = self._tampered(reply)
        launched = reply.get("launches")
        if isinstance(launched, dict):
            call.launches = sum(int(n) for n in launched.values() if isinstance(n, int))
        picks = self._picks()
        answer = self._inspect(picks, full)
        call.spots = self._spots(answer, picks)
        if full:
            output = answer.get("output")
            if not isinstance(output, list):
                raise CallFailed("the child returned no output for a call asked in full")
            call.output = output
        return call


def drive(
    endpoint: Endpoint,
    plan: LoopPlan,
    run: TimingRun,
    before_end: Callable[[], None] | None = None,
) -> None:
    """Run the whole timing phase of one child, filling ``run`` as replies arrive.

    ``run`` is filled in place so that what was measured survives a child that dies later (a
    torch.compile baseline that crashes keeps the eager loop).
    """
    rng = random.Random(random.SystemRandom().getrandbits(64))
    driver = Driver(endpoint, plan, rng)
    hello = endpoint.recv(timeout=plan.call_timeout)
    if not isinstance(hello, dict) or hello.get("ready") is not True:
        raise CallFailed("the timing child did not report ready")
    run.conditions = dict(hello.get("conditions") or {})
    held_out = list(enumerate(plan.held_out_inputs, start=plan.loop_sets))
    first = measure_loop(driver, plan, held_out, warm=True)
    run.loops.append(first)
    while len(run.loops) < plan.min_loops or (
        run.loops[-1].disagreement() > DISTURBED and len(run.loops) < plan.max_loops
    ):
        run.loops.append(measure_loop(driver, plan, [], warm=False, estimate=first.estimate_ms))
    run.chosen = steadiest(run.loops)
    if plan.compile_model:
        try:
            run.compile_loop = measure_loop(driver, plan, [], warm=True, model="compiled")
        except CallFailed as exc:
            run.compile_error = str(exc)
    # One more call after the loops, compared in full by the parent (E06).
    run.final_output = driver.call(0, full=True).output
    if before_end is not None:
        before_end()  # the child is alive and idle: the parent inspects it from outside
    endpoint.send({"op": "end"}, timeout=plan.call_timeout)


def steadiest(loops: list[Loop]) -> int:
    """The fastest loop whose halves agree, or the fastest of all when none does: load on a
    shared machine only ever adds time, so the fastest steady loop is the kernel's own speed."""
    steady = [n for n, loop in enumerate(loops) if loop.disagreement() <= DISTURBED]
    return min(steady or range(len(loops)), key=lambda n: statistics.median(loops[n].samples))


def measure_loop(
    driver: Driver,
    plan: LoopPlan,
    held_out: list[tuple[int, list[Any]]],
    *,
    warm: bool,
    model: str = "eager",
    estimate: float | None = None,
) -> Loop:
    """Warm up (the estimate of one call comes from the warm-up's second half), then measure,
    with the held-out calls at secret positions among the measured ones."""
    budget = plan.budget
    rotate = max(1, plan.loop_sets)
    counter = iter(range(1 << 62))

    def loop_call(full: bool = False) -> Call:
        return driver.call(next(counter) % rotate, full=full, model=model)

    loop = Loop()
    warmup: list[Call] = []
    if warm or estimate is None:
        least = min(budget.max_warmup, max(3, rotate))
        started = time.perf_counter_ns()
        while len(warmup) < budget.max_warmup:
            spent = sum(c.ms for c in warmup)
            wall = (time.perf_counter_ns() - started) / 1e6
            if len(warmup) >= least and (
                spent >= budget.warmup_ms or wall >= budget.max_warmup_wall_ms
            ):
                break
            warmup.append(loop_call())
        settled = warmup[len(warmup) // 2 :]
        estimate = statistics.median(c.ms for c in settled)
        per_call_wall = statistics.median(c.wall_ms for c in settled)
    else:
        per_call_wall = estimate
    loop.warmup_calls = len(warmup)
    loop.estimate_ms = estimate = max(estimate, 1e-3)
    per_call_wall = max(per_call_wall, estimate)
    reps = min(budget.max_reps, max(budget.min_reps, math.ceil(budget.rep_ms / estimate)))
    # The calls the wall-clock cap will let through, so the secret positions fall inside them.
    expected = min(reps, max(budget.min_reps, int(budget.max_wall_ms / per_call_wall)))
    wanted = held_out[: held_out_count(estimate, len(held_out))]
    slots = set(driver.rng.sample(range(expected + len(wanted)), len(wanted)))
    full_at = set(driver.rng.sample(range(expected), min(FULL_CALLS, expected))) if warm else set()
    first_loop = warm and model == "eager"
    traced_at = (
        set(driver.rng.sample(range(expected), min(plan.traced_calls, expected)))
        if first_loop
        else set()
    )
    pending = list(wanted)
    started = time.perf_counter_ns()
    position = 0
    precise = False  # the median is known precisely enough: the loop ends after a random tail
    # Where the precision is next asked about: at random points, so neither the point where the
    # loop turns precise nor the checks drawn after it fall on a grid the child could count.
    next_check = budget.precise_min + driver.rng.randrange(PRECISION_EVERY)
    while True:
        elapsed = (time.perf_counter_ns() - started) / 1e6
        measured = len(loop.calls) - (len(wanted) - len(pending))
        if not precise and measured >= next_check:
            next_check = measured + 1 + driver.rng.randrange(PRECISION_EVERY)
            # Only where nothing says the loop was disturbed: its halves agree too.
            precise = loop.disagreement() <= DISTURBED and precise_enough(
                loop.samples, budget.precision
            )
            if precise:
                # The loop ends after a tail of random length, and what was planned at secret
                # positions it has not reached yet is drawn again inside that tail.
                tail = driver.rng.randint(TAIL_MIN, TAIL_MAX)
                reps = min(reps, measured + tail)
                ahead = range(measured, reps)
                traced_at = set(driver.rng.sample(ahead, min(len(traced_at), len(ahead))))
                full_at = set(driver.rng.sample(ahead, min(len(full_at), len(ahead))))
                later = range(position, position + len(ahead) + len(pending))
                slots = set(driver.rng.sample(later, len(pending)))
        done = measured >= reps or (elapsed >= budget.max_wall_ms and measured >= budget.min_reps)
        if done:
            # What was planned at positions the loop did not reach (a loop cut by its wall-clock
            # cap) runs now, at its end.
            if traced_at:
                traced_at.pop()
                loop.traced.append(driver.traced(measured % rotate, measured))
            elif pending:
                set_index, inputs = pending.pop(0)
                loop.calls.append(driver.call(set_index, inputs=inputs, full=True, model=model))
            elif full_at:
                full_at.pop()
                loop.calls.append(loop_call(full=True))
            else:
                break
            continue
        if measured in traced_at:
            traced_at.discard(measured)
            loop.traced.append(driver.traced(measured % rotate, measured))
        if pending and position in slots:
            set_index, inputs = pending.pop(0)
            loop.calls.append(driver.call(set_index, inputs=inputs, full=True, model=model))
        else:
            full = measured in full_at
            full_at.discard(measured)
            loop.calls.append(loop_call(full=full))
        position += 1
    loop.wall_ms = (time.perf_counter_ns() - started) / 1e6
    loop.settled = precise
    return loop


def held_out_count(estimate_ms: float, available: int) -> int:
    """At least ``MIN_HELD_OUT`` held-out calls; more for fast kernels, whose calls are cheap."""
    wanted = MAX_HELD_OUT if estimate_ms < FAST_KERNEL_MS else MIN_HELD_OUT
    return min(wanted, available)


def cached_results(loop: Loop) -> str | None:
    """Why the held-out calls look like a cache at work, or None.

    A cache keyed on input values makes every call on unseen inputs slow; noise makes only some
    slow. So each held-out call is compared with the loop calls measured around it (a burst of
    load slows those too), every one of them must be far slower, and a one-sided rank test must
    also put the held-out calls above the whole loop.
    """
    samples = loop.samples
    cold = loop.held_out
    if len(samples) < 4 or not cold:
        return None
    ratios = [call.ms / max(_local_median(loop.calls, call), 1e-9) for call in cold]
    if min(ratios) <= COLD_RATIO or min(c.ms for c in cold) <= min(samples) + COLD_MARGIN_MS:
        return None
    from scipy.stats import mannwhitneyu

    cold_ms = [c.ms for c in cold]
    p = float(mannwhitneyu(cold_ms, samples, alternative="greater").pvalue)
    if p >= COLD_P:
        return None
    return (
        f"every call on unseen inputs is slow: each of {len(cold)} took at least {min(ratios):.3g}x "
        f"the loop calls around it (fastest {min(cold_ms):.4g} ms, loop median "
        f"{statistics.median(samples):.4g} ms, rank test p={p:.2g}): results are being reused "
        "across timed calls"
    )


def _local_median(calls: list[Call], target: Call, k: int = 6) -> float:
    """The median of the ``k`` loop calls nearest to ``target`` in the order they ran."""
    where = next(n for n, c in enumerate(calls) if c is target)
    near = sorted(
        (abs(n - where), c.ms) for n, c in enumerate(calls) if not c.held_out and n != where
    )
    return statistics.median(ms for _, ms in near[:k])
