"""The agents without a real verifier: the Coder's prompt and code extraction, the Judge's strict
JSON, the strategies, budgets, the response cache and resume, driven through ``AgentRun`` with a
stand-in verifier that reads a speed mark from the candidate (the real verifier is exercised by
test_agent_run.py)."""

from __future__ import annotations

import json
import random
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from kernelwright.agents.calls import request_key
from kernelwright.agents.coder import (
    Feedback,
    coder_request,
    examples_for,
    extract_code,
    pick_example,
)
from kernelwright.agents.facts import DeviceFacts, device_facts
from kernelwright.agents.judge import (
    MalformedJudgement,
    judge_request,
    parse_judgement,
    verdict_facts,
)
from kernelwright.agents.loop import AgentRun, Budget, Node, RunStopped
from kernelwright.agents.providers.base import Provider, ProviderError, Reply, Request
from kernelwright.agents.providers.scripted import queue_for
from kernelwright.agents.strategies import (
    BestOfN,
    Evolve,
    Refine,
    fitness,
    make_strategy,
    select_parents,
)
from kernelwright.backends.roofline import ceiling_for
from kernelwright.bench_tasks import resolve_task
from kernelwright.runs.agent_records import lineage, run_calls, spend
from kernelwright.runs.scheduler import Scheduler
from kernelwright.runs.store import Store
from kernelwright.verifier import EvalOptions
from kernelwright.verifier.verdict import Finding, TimingResult, Verdict

RELU = resolve_task("smoke/relu")
FACTS = DeviceFacts(name="NVIDIA H100 80GB HBM3", backend="cuda", ceiling=ceiling_for("H100"))


def kernel(speed: float | None) -> str:
    mark = "wrong" if speed is None else f"speed={speed}"
    return f"Sure.\n```python\n# {mark}\nclass ModelNew:\n    pass\n```\n"


def fake_verifier(calls: list[str]) -> Any:
    """A verifier that reads ``# speed=X`` (correct, X times eager) or ``# wrong`` from the
    source; it records every source it is asked about."""
    lock = threading.Lock()

    def evaluate(task: Any, source: str, backend: str, options: Any) -> Verdict:
        with lock:
            calls.append(source)
        verdict = Verdict(task=task.id, backend=backend, device="cpu", status="incorrect")
        found = re.search(r"speed=([0-9.]+)", source)
        if found is None:
            verdict.violations.append(Finding("mismatch", "out[0] differs at 12 of 64 values"))
            return verdict
        speed = float(found.group(1))
        verdict.status = "correct"
        verdict.timing = TimingResult(candidate_ms=1.0 / speed, eager_ms=1.0, meaningful=True)
        verdict.speedup = {"eager": speed, "compile": None}
        verdict.extra["work"] = {"bytes": 1e6, "flops": 1e6, "roofline_ms": 0.1 / speed}
        return verdict

    return evaluate


class Scripted(Provider):
    """A provider that answers by a function of the request, counting what it is paid for."""

    name = "fake"

    def __init__(self, answer: Any, cost: float = 0.01) -> None:
        super().__init__("model-x")
        self.answer = answer
        self.cost = cost
        self.paid: list[str] = []
        self.lock = threading.Lock()

    def complete(self, request: Request) -> Reply:
        text = self.answer(request)
        if isinstance(text, Exception):
            raise text
        with self.lock:
            self.paid.append(request.tag)
        return Reply(text, 100, 50, self.cost, 0.0, {}, self.name, self.model)


def judge_json(request: Request) -> str:
    if "critical_issue" in request.messages[0].text[-600:]:
        return json.dumps({"critical_issue": "wrong select", "why": "mismatch", "fix": "swap"})
    return json.dumps(
        {
            "bottleneck": "memory bound",
            "evidence": [{"metric": "roofline_fraction", "value": 0.5}],
            "optimization": "vectorize loads",
            "plan": ["use float4"],
        }
    )


def climbing(request: Request) -> str:
    """Round N of a lineage answers speed N; the Judge answers valid JSON; g/n labels vary."""
    if request.tag.startswith("judge"):
        return judge_json(request)
    label = request.tag.rsplit(":", 1)[-1]
    digits = [int(d) for d in re.findall(r"\d+", label)]
    return kernel(float(sum(digits)))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'runs.db'}")


def agent_run(
    store: Store,
    provider: Provider,
    strategy: Any,
    verified: list[str],
    run_id: int | None = None,
    **options: Any,
) -> AgentRun:
    if run_id is None:
        run_id = store.create_run(
            "t", "smoke", "cpu", model="fake:model-x", options={"kind": "run"}
        )
    scheduler = Scheduler(
        "cpu",
        EvalOptions(cache_dir=Path("/nonexistent")),
        device_workers=2,
        llm_workers=3,
        evaluate_fn=fake_verifier(verified),
    )
    return AgentRun(
        store,
        run_id,
        provider,
        lambda: strategy,
        scheduler,
        FACTS,
        budget=options.pop("budget", Budget()),
        **options,
    )


# -- the Coder ---------------------------------------------------------------------------------


def test_extract_code_takes_the_first_python_block() -> None:
    reply = "Plan:\n```text\nnot code\n```\n```python\nA = 1\n```\n```python\nB = 2\n```\n"
    assert extract_code(reply) == "A = 1\n"
    assert extract_code("~~~py\nclass ModelNew: ...\n~~~") == "class ModelNew: ...\n"
    assert extract_code("```\nclass ModelNew: ...\n```") == "class ModelNew: ...\n"
    assert extract_code("no code here, sorry") is None
    assert extract_code("```python\n```") is None  # an empty block is no candidate
    assert extract_code("```cpp\nint main() {}\n```") is None


def test_examples_cover_five_categories_per_backend() -> None:
    for backend in ("cpu", "cuda", "triton"):
        assert len(examples_for(backend)) >= 5, backend


def test_the_cpu_examples_and_scripted_kernels_build_without_the_whole_frontend() -> None:
    # What the Coder is shown and what the main job builds: only the headers a kernel uses.
    root = Path(__file__).resolve().parent.parent
    scripted = json.loads((root / "examples" / "agents" / "smoke_cpu_scripted.json").read_text())
    sources = [k.read_text() for kernels in examples_for("cpu").values() for k in kernels]
    sources += [text for replies in scripted.values() for text in replies if "load_inline(" in text]
    assert len(sources) >= 11
    for source in sources:
        assert "#include <torch/extension.h>" not in source
        assert "no_implicit_headers=True" in source and "<ATen/core/Tensor.h>" in source
    assert "no_implicit_headers=True" in coder_request(RELU, "cpu", FACTS).messages[0].text


def test_the_example_is_of_the_category_and_never_the_task_itself() -> None:
    example = pick_example(RELU, "cpu")
    assert example is not None and example.category == "activation"
    assert example.name != "smoke/relu"
    assert "relu_forward" not in example.kernel_source


def test_coder_prompt_holds_task_rules_device_configs_and_feedback() -> None:
    first = coder_request(RELU, "cuda", FACTS, tag="coder:smoke/relu:r1")
    text = first.messages[0].text
    assert RELU.source.strip() in text
    assert "atol=" in text and "rtol=" in text and "own" in text  # rules with the tolerance
    assert "H100" in text and "3.35 TB/s" in text and "132 SMs" in text
    assert "do not hard-code" in text
    assert "A worked example" in text and first.tag == "coder:smoke/relu:r1"
    assert "previous kernel" not in text
    after = (
        coder_request(
            RELU, "cuda", FACTS, feedback=Feedback("OLD SOURCE", "incorrect: mismatch", "SWAP IT")
        )
        .messages[0]
        .text
    )
    assert "OLD SOURCE" in after and "SWAP IT" in after and "incorrect: mismatch" in after


def test_device_facts_of_this_machine() -> None:
    facts = device_facts("cpu")
    assert facts.name.startswith("CPU") and facts.cores and "usable CPU cores" in facts.text()


# -- the Judge ---------------------------------------------------------------------------------


def test_judge_json_is_strict() -> None:
    good = parse_judgement('{"critical_issue": "a", "why": "b", "fix": "c"}', "failure")
    assert good.fields == {"critical_issue": "a", "why": "b", "fix": "c"}
    assert "Smallest fix: c" in good.advice()
    fenced = parse_judgement(
        '```json\n{"bottleneck": "b", "evidence": [{"metric": "m", "value": 1}], '
        '"optimization": "o", "plan": ["p"]}\n```',
        "success",
    )
    assert fenced.fields["evidence"] == [{"metric": "m", "value": 1}]
    for bad in (
        "not json",
        "[1, 2]",
        '{"critical_issue": "a", "why": "b"}',
        '{"critical_issue": "", "why": "b", "fix": "c"}',
        '{"critical_issue": "a", "why": "b", "fix": NaN}',
    ):
        with pytest.raises(MalformedJudgement):
            parse_judgement(bad, "failure")
    for bad in (
        '{"bottleneck": "b", "evidence": [], "optimization": "o", "plan": []}',
        '{"bottleneck": "b", "evidence": [{"metric": "m", "value": true}], "optimization": "o", "plan": []}',
        '{"bottleneck": "b", "evidence": [{"metric": "m", "value": 1}], "optimization": "o", "plan": "x"}',
    ):
        with pytest.raises(MalformedJudgement):
            parse_judgement(bad, "success")


def test_judge_request_asks_for_the_shape_the_verdict_needs() -> None:
    calls: list[str] = []
    wrong = fake_verifier(calls)(RELU, "# wrong", "cpu", None)
    request, kind = judge_request(wrong, "SRC", FACTS, tag="judge:x")
    assert kind == "failure" and "critical_issue" in request.messages[0].text
    assert "out[0] differs" in request.messages[0].text
    right = fake_verifier(calls)(RELU, "# speed=2", "cpu", None)
    request, kind = judge_request(right, "SRC", FACTS)
    assert kind == "success" and '"bottleneck"' in request.messages[0].text
    facts = verdict_facts(right)
    assert facts["speedup_vs_eager"] == 2.0 and facts["roofline_fraction"] == pytest.approx(0.1)


# -- strategies and the loop -------------------------------------------------------------------


def test_refine_improves_one_lineage_and_stores_everything(store: Store) -> None:
    provider = Scripted(climbing)
    verified: list[str] = []
    run = agent_run(store, provider, Refine(rounds=3), verified)
    stops = run.run([RELU])
    assert stops == {"smoke/relu": "strategy finished"}
    assert provider.paid == [
        "coder:smoke/relu:r1",
        "judge:smoke/relu:r1",
        "coder:smoke/relu:r2",
        "judge:smoke/relu:r2",
        "coder:smoke/relu:r3",
    ]
    nodes = lineage(store, run.run_id)
    assert [n.parent_id for n in nodes] == [None, nodes[0].candidate_id, nodes[1].candidate_id]
    assert [n.speedup for n in nodes] == [1.0, 2.0, 3.0]
    calls = run_calls(store, run.run_id)
    assert all(c.request_key and c.outcome == "ok" for c in calls)
    assert {c.candidate_id for c in calls} == {n.candidate_id for n in nodes}
    assert spend(store, run.run_id).cost_usd == pytest.approx(0.05)
    # The second Coder prompt carries the first kernel and the Judge's advice.
    second = next(c for c in calls if c.tag == "coder:smoke/relu:r2")
    assert "speed=1.0" in second.prompt and "Bottleneck: memory bound" in second.prompt


def test_resume_pays_for_nothing_stored_and_measures_nothing_twice(store: Store) -> None:
    first = Scripted(climbing)
    verified: list[str] = []
    run = agent_run(store, first, Refine(rounds=2), verified)
    run.run([RELU])
    again = Scripted(climbing)
    verified_again: list[str] = []
    resumed = agent_run(store, again, Refine(rounds=2), verified_again, run_id=run.run_id)
    resumed.run([RELU])
    assert again.paid == [] and verified_again == []
    assert resumed.reused_calls == len(first.paid) == 3
    assert len(run_calls(store, run.run_id)) == 3


def test_a_new_run_reuses_an_earlier_runs_replies_for_free(store: Store) -> None:
    agent_run(store, Scripted(climbing), Refine(rounds=2), []).run([RELU])
    later = Scripted(climbing)
    rerun = agent_run(store, later, Refine(rounds=2), [])
    rerun.run([RELU])
    assert later.paid == []
    calls = run_calls(store, rerun.run_id)
    assert len(calls) == 3 and all(c.cached_from is not None and c.cost_usd == 0 for c in calls)
    uncached = Scripted(climbing)
    agent_run(store, uncached, Refine(rounds=2), [], cache=False).run([RELU])
    assert len(uncached.paid) == 3


def test_a_reply_without_code_is_a_recorded_failure_not_a_crash(store: Store) -> None:
    def answer(request: Request) -> str:
        if request.tag.endswith("r1"):
            return "I would rather explain the algorithm in prose."
        return judge_json(request) if request.tag.startswith("judge") else kernel(1.5)

    provider = Scripted(answer)
    run = agent_run(store, provider, Refine(rounds=2), [])
    run.run([RELU])
    calls = run_calls(store, run.run_id)
    assert calls[0].outcome == "no_code" and calls[0].candidate_id is None
    assert "no fenced code block" in calls[1].prompt  # the next round is told why
    assert [n.speedup for n in lineage(store, run.run_id)] == [1.5]


def test_a_malformed_judgement_is_asked_again_once_then_recorded(store: Store) -> None:
    def answer(request: Request) -> str:
        if request.tag.startswith("judge"):
            return "{not json"
        return kernel(1.0)

    provider = Scripted(answer)
    run = agent_run(store, provider, Refine(rounds=2), [])
    run.run([RELU])
    assert provider.paid.count("judge:smoke/relu:r1") == 1
    assert provider.paid.count("judge:smoke/relu:r1:retry") == 1
    outcomes = [c.outcome for c in run_calls(store, run.run_id) if c.role == "judge"]
    assert outcomes == ["malformed", "malformed"]
    second = run_calls(store, run.run_id)[-1]
    assert second.tag == "coder:smoke/relu:r2" and "candidate_ms" in second.prompt


def test_best_of_n_and_evolve(store: Store) -> None:
    provider = Scripted(climbing)
    run = agent_run(store, provider, BestOfN(n=3), [])
    run.run([RELU])
    assert sorted(provider.paid) == [
        "coder:smoke/relu:n1",
        "coder:smoke/relu:n2",
        "coder:smoke/relu:n3",
    ]
    evolver = Scripted(climbing)
    run = agent_run(store, evolver, Evolve(population=3, generations=3, crossover=0.5), [])
    run.run([RELU])
    coder_tags = [t for t in evolver.paid if t.startswith("coder")]
    assert len(coder_tags) == 9
    nodes = lineage(store, run.run_id)
    later = [n for n in nodes if n.parent_id is not None]
    assert later and all(n.parent_id in {m.candidate_id for m in nodes} for n in later)


def test_evolve_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    def tags(seed: int, name: str) -> list[str]:
        store = Store(f"sqlite:///{tmp_path / name}")
        provider = Scripted(climbing)
        agent_run(store, provider, Evolve(3, 3, 0.5), [], seed=seed, cache=False).run([RELU])
        return sorted(provider.paid)

    assert tags(7, "a.db") == tags(7, "b.db")


def test_parent_selection_keeps_diversity() -> None:
    nodes = [Node(f"n{i}", None, source="x") for i in range(4)]
    for node, status in zip(nodes, ("correct", "correct", "incorrect", "incorrect"), strict=True):
        node.verdict = Verdict(task="t", backend="cpu", device="cpu", status=status)
    nodes[0].verdict.speedup = {"eager": 100.0, "compile": None}  # type: ignore[union-attr]
    nodes[1].verdict.speedup = {"eager": 1.0, "compile": None}  # type: ignore[union-attr]
    chosen = select_parents(nodes, 4, random.Random(1))
    assert sum(1 for n in chosen if n is nodes[0]) == 2  # capped at half despite its weight
    assert fitness(Node("x", None)) == 0.0 and fitness(nodes[2]) == 0.05


def test_budgets_and_targets_stop_a_search(store: Store) -> None:
    provider = Scripted(climbing)
    run = agent_run(store, provider, Refine(rounds=5), [], budget=Budget(target_speedup=2.0))
    stops = run.run([RELU])
    assert stops["smoke/relu"].startswith("target speedup reached")
    assert [t for t in provider.paid if t.startswith("coder")] == [
        "coder:smoke/relu:r1",
        "coder:smoke/relu:r2",
    ]
    capped = Scripted(climbing)
    run = agent_run(store, capped, Refine(rounds=5), [], budget=Budget(candidates=1), cache=False)
    assert run.run([RELU])["smoke/relu"].startswith("candidate budget")
    poor = Scripted(climbing, cost=0.02)
    run = agent_run(store, poor, Refine(rounds=5), [], budget=Budget(usd=0.03), cache=False)
    assert run.run([RELU])["smoke/relu"].startswith("money budget spent")
    assert len(poor.paid) == 2


def test_a_usage_error_stops_the_run_loudly(store: Store) -> None:
    refused = Scripted(lambda r: ProviderError("openai refused the key (401)", usage_error=True))
    with pytest.raises(RunStopped) as stopped:
        agent_run(store, refused, Refine(rounds=2), []).run([RELU])
    assert stopped.value.usage_error and "401" in str(stopped.value)


def test_a_failing_server_stops_the_run_after_three_calls(store: Store) -> None:
    down = Scripted(lambda r: ProviderError("server error 500 (gave up after 5 attempts)"))
    run = agent_run(store, down, BestOfN(n=5), [])
    with pytest.raises(RunStopped) as stopped:
        run.run([RELU])
    assert not stopped.value.usage_error and "in a row" in str(stopped.value)
    assert {c.outcome for c in run_calls(store, run.run_id)} == {"error"}


def test_request_keys_and_scripted_tags() -> None:
    one = Request.of("p", tag="coder:t:r1")
    assert request_key(one, "id") == request_key(Request.of("p", tag="coder:t:r1"), "id")
    assert request_key(one, "id") != request_key(Request.of("p", tag="coder:t:r2"), "id")
    assert request_key(one, "id") != request_key(one, "other")
    queues: dict[str, list[str]] = {"coder:t": [], "coder": [], "*": []}
    assert queue_for("coder:t:r1", queues) == "coder:t"
    assert queue_for("coder:u:r1", queues) == "coder"
    assert queue_for("judge:t:r1", queues) == "*"


def test_make_strategy_takes_only_its_parameters() -> None:
    refine = make_strategy("refine", rounds=4, population=9)
    assert isinstance(refine, Refine) and refine.rounds == 4
    with pytest.raises(ValueError, match="unknown strategy"):
        make_strategy("annealing")
    with pytest.raises(ValueError):
        make_strategy("evolve", crossover=2.0)


# -- what a resume, a replay and a stop must not do (each found by a review) --------------------


def test_a_verdict_cut_short_by_a_stop_is_not_stored(store: Store) -> None:
    holder: dict[str, AgentRun] = {}

    def interrupted(task: Any, source: str, backend: str, options: Any) -> Verdict:
        # The stop kills the child mid-measurement: what comes back is no verdict on the kernel.
        holder["run"]._stop = RunStopped("interrupted")
        return Verdict(task=task.id, backend=backend, device="cpu", status="crashed")

    run = agent_run(store, Scripted(climbing), Refine(rounds=2), [])
    run.scheduler = Scheduler(
        "cpu",
        EvalOptions(cache_dir=Path("/nonexistent")),
        device_workers=1,
        evaluate_fn=interrupted,
    )
    holder["run"] = run
    with pytest.raises(RunStopped):
        run.run([RELU])
    assert store.evaluation_states(run.run_id) == {"running": 1}


def test_one_source_is_measured_once_however_many_proposals_bring_it(store: Store) -> None:
    verified: list[str] = []
    same = Scripted(lambda r: judge_json(r) if r.tag.startswith("judge") else kernel(2.0))
    run = agent_run(store, same, BestOfN(n=4), verified)
    run.run([RELU])
    assert len(same.paid) == 4 and len(verified) == 1
    assert store.evaluation_states(run.run_id) == {"done": 1}


def test_a_failed_call_fails_again_on_resume_unless_asked_again(store: Store) -> None:
    def flaky_once(state: dict[str, int]) -> Any:
        def answer(request: Request) -> Any:
            if request.tag == "judge:smoke/relu:r1" and state["failures"] > 0:
                state["failures"] -= 1
                return ProviderError("server error 503 (gave up after 5 attempts)")
            return climbing(request)

        return answer

    first = Scripted(flaky_once({"failures": 1}))
    run = agent_run(store, first, Refine(rounds=2), [])
    run.run([RELU])
    assert first.paid == ["coder:smoke/relu:r1", "coder:smoke/relu:r2"]
    again = Scripted(flaky_once({"failures": 0}))
    agent_run(store, again, Refine(rounds=2), [], run_id=run.run_id).run([RELU])
    assert again.paid == []  # the same path as before: the Judge's call fails again, for free
    retried = Scripted(flaky_once({"failures": 0}))
    agent_run(store, retried, Refine(rounds=2), [], run_id=run.run_id, retry_failed=True).run(
        [RELU]
    )
    assert retried.paid[0] == "judge:smoke/relu:r1"


def test_a_replay_never_answers_a_live_run_from_the_cache(store: Store) -> None:
    from kernelwright.agents.calls import identity_digest
    from kernelwright.agents.providers.replay import ReplayProvider

    live = Scripted(climbing)
    original = agent_run(store, live, Refine(rounds=2), [])
    original.run([RELU])
    # What the driver records with every agent run: the identity its calls were keyed with.
    with store._transaction() as session:
        from kernelwright.runs.models import Run

        row = session.get(Run, original.run_id)
        assert row is not None
        row.options = {**row.options, "agent": {"identity": original.identity}}
    replay = ReplayProvider(store, original.run_id)
    elsewhere = DeviceFacts(name="NVIDIA H200", backend="cuda", ceiling=ceiling_for("H200"))
    replayed = agent_run(
        store,
        replay,
        Refine(rounds=2),
        [],
        identity=identity_digest(replay),
        source_identity=replay.identity,
    )
    replayed.facts = elsewhere  # other prompts: answered by tag from the stored run
    replayed.run([RELU])
    assert len(run_calls(store, replayed.run_id)) == 3
    later = Scripted(climbing)
    fresh = agent_run(store, later, Refine(rounds=2), [])
    fresh.facts = elsewhere
    fresh.run([RELU])
    assert len(later.paid) == 3  # nothing the replay stored passed for the live model's reply


def test_credentials_in_a_base_url_reach_no_message() -> None:
    from kernelwright.agents.providers.base import RetryPolicy
    from kernelwright.agents.providers.registry import provider_for

    provider = provider_for(
        "openai-compatible:m",
        base_url="http://alice:S3CRETPASS@127.0.0.1:9/v1?api_key=QUERYSECRET",
        retry=RetryPolicy(max_attempts=1),
    )
    assert "S3CRET" not in provider.cache_identity and "QUERY" not in provider.cache_identity
    with pytest.raises(ProviderError) as failed:
        provider.complete(Request.of("hi", timeout_s=5))
    assert "127.0.0.1:9" in str(failed.value)
    assert "S3CRETPASS" not in str(failed.value) and "QUERYSECRET" not in str(failed.value)


def test_a_resume_never_sends_a_key_to_a_url_read_from_the_store(store: Store) -> None:
    from kernelwright.agents.driver import AgentError, AgentPlan, _checked_budget, _resumed_plan

    def planted(model: str) -> int:
        return store.create_run(
            "t",
            "smoke",
            "cpu",
            model=model,
            strategy="refine",
            options={
                "kind": "run",
                "agent": {
                    "identity": "0" * 32,
                    "params": {},
                    "budget": {},
                    "seed": 0,
                    "tasks": ["smoke/relu"],
                    "base_url": "http://attacker.example/v1",
                },
            },
        )

    with pytest.raises(AgentError, match="pass --base-url again"):
        _resumed_plan(store, planted("openai-compatible:m"), AgentPlan())
    plan, _ = _resumed_plan(store, planted("openai:gpt-4o"), AgentPlan())
    assert plan.base_url is None
    given, _ = _resumed_plan(
        store, planted("openai-compatible:m"), AgentPlan(base_url="http://mine:8000/v1")
    )
    assert given.base_url == "http://mine:8000/v1"
    for hostile in ({"usd": "1"}, {"candidates": 1.5}, {"tokens": -3}, {"target_roofline": 4}):
        with pytest.raises(AgentError, match="malformed budget"):
            _checked_budget(1, hostile)


def test_a_money_budget_needs_a_price(store: Store) -> None:
    from kernelwright.agents.driver import AgentError, AgentPlan, run_agents

    plan = AgentPlan(
        suite="smoke",
        backend="cpu",
        model="openai-compatible:no-such-price",
        base_url="http://127.0.0.1:9/v1",
        tasks=("relu",),
        budget=Budget(usd=1.0),
    )
    with pytest.raises(AgentError, match="needs a price for no-such-price"):
        run_agents(store, plan, EvalOptions(cache_dir=Path("/nonexistent")))
    assert store.list_runs() == []


def test_a_suite_file_that_does_not_load_is_skipped_with_a_warning_unless_strict(
    tmp_path: Path,
) -> None:
    from kernelwright.agents.driver import AgentError, _select_tasks
    from kernelwright.bench_tasks.task import SUITES_DIR

    relu = (SUITES_DIR / "smoke" / "relu.py").read_text()
    (tmp_path / "relu.py").write_text(relu)
    (tmp_path / "mamba.py").write_text("import kw_no_such_package\n" + relu)
    said: list[str] = []
    tasks = _select_tasks(str(tmp_path), (), warn=said.append)
    assert [t.stem for t in tasks] == ["relu"]
    assert len(said) == 1 and said[0].startswith("skipped mamba.py: failed to import")
    assert "kw_no_such_package" in said[0]
    with pytest.raises(AgentError, match=r"mamba\.py.*--strict"):
        _select_tasks(str(tmp_path), (), strict=True)
