"""The pallas backend: JAX Pallas kernels, on Pallas's interpreter here (no TPU, no GPU).

Honest examples (examples/smoke/pallas/) must be correct with no violation and no flag; planted
cases (E13, E19 and E22 in Pallas) must be rejected by the check named. The JAX witness's hooks
(verifier/jax_witness.py) and the replay of jitted launches (verifier/launches.py) are also
tested in a plain subprocess, where a removed hook shows as a wrong count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest
from prefetch import Prefetch, describe

from kernelwright.backends import get_backend, infer_backend
from kernelwright.backends import pallas as pallas_backend
from kernelwright.verifier import EvalOptions, Verdict

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke" / "pallas"
EXPLOITS = Path(__file__).resolve().parent / "exploits"
CHECK: dict[str, Any] = {"timing": False, "trials": 1, "sampled_configs": 1}
_DEFAULTS = {f.name: f.default for f in fields(EvalOptions)}
# relu runs eagerly, row_sum under jax.jit: both are timed at the default budgets, so every timed
# call must count the launches of its compiled program.
TIMED: dict[str, Any] = {
    "timing": True,
    "trials": 1,
    "sampled_configs": 1,
    "rep_ms": _DEFAULTS["rep_ms"],
    "warmup_ms": _DEFAULTS["warmup_ms"],
}
TIMED_EXAMPLES = {"relu", "row_sum"}
QUICK: dict[str, Any] = {"timing": False, "trials": 1, "sampled_configs": 0}
# Two trials in one child, each with a model built anew: the second runs programs JAX cached.
TWO_TRIALS: dict[str, Any] = {"timing": False, "trials": 2, "sampled_configs": 0}


@dataclass(frozen=True)
class Case:
    id: str
    path: Path
    task: str
    options: dict[str, Any] = field(default_factory=dict)
    check: str = ""  # the first violation's check, for a planted case
    detail: str = ""  # a word its detail must hold


HONEST = [
    pytest.param(
        Case(
            f"pallas-{p.stem}", p, f"smoke/{p.stem}", TIMED if p.stem in TIMED_EXAMPLES else CHECK
        ),
        id=f"pallas-{p.stem}",
    )
    for p in sorted(EXAMPLES.glob("*.py"))
]
# Honest idioms beyond the examples, on smoke/relu: a jax.jit made anew in every forward with a
# changing Python scalar, a kernel compiled ahead of time per shape (each trial builds a new
# model, whose lowering JAX's trace cache serves), and split/stack around two pallas_calls.
IDIOMS = [
    pytest.param(Case(f"idiom-{p.stem}", p, "smoke/relu", TWO_TRIALS), id=f"idiom-{p.stem}")
    for p in sorted((Path(__file__).resolve().parent / "honest_pallas").glob("*.py"))
]


def _planted(case_id: str, file: str, check: str, detail: str, **options: Any) -> Any:
    case = Case(case_id, EXPLOITS / file, "smoke/relu", {**QUICK, **options}, check, detail)
    return pytest.param(case, id=case_id)


PLANTED = [
    # jnp around a copying kernel, eagerly, under jax.jit, and traced ahead at import.
    _planted("E19-pallas-jnp", "E19_pallas_jnp_outside.py", "torch_compute", "jax.max"),
    _planted("E19-pallas-jit", "E19_pallas_jit_outside.py", "torch_compute", "jax.max"),
    _planted("E19-pallas-warmed", "E19_pallas_jit_warmed.py", "torch_compute", "jax.max"),
    # The JAX witness's TIMED calls: the jitted cheat is judged in the timing loop too.
    _planted(
        "E19-pallas-jit-timed",
        "E19_pallas_jit_outside.py",
        "torch_compute",
        "jax.max",
        timing=True,
    ),
    _planted("E13-pallas-torch", "E13_pallas_torch_fallback.py", "torch_compute", "relu"),
    # What computes past Primitive.bind is outside the static allowlist.
    _planted(
        "E19-pallas-compile-time-eval",
        "E19_pallas_compile_time_eval.py",
        "import_not_allowed",
        "jax.ensure_compile_time_eval",
        static_checks=True,
    ),
    _planted(
        "E19-pallas-pytree",
        "E19_pallas_pytree_flatten.py",
        "import_not_allowed",
        "jax.tree_util",
        static_checks=True,
    ),
    _planted(
        "E19-pallas-device-get",
        "E19_pallas_device_get.py",
        "import_not_allowed",
        "jax.device_get",
        static_checks=True,
    ),
    _planted(
        "E19-pallas-host-callback",
        "E19_pallas_host_callback.py",
        "import_not_allowed",
        "jax.pure_callback",
        static_checks=True,
    ),
    # The static allowlist off: the watch finds the unhooked Primitive.bind.
    _planted(
        "E22-pallas-unhook",
        "E22_pallas_unhook_witness.py",
        "harness_tampering",
        "Primitive.bind",
        static_checks=False,
    ),
    _planted(
        "E22-pallas-unhook-static",
        "E22_pallas_unhook_witness.py",
        "harness_tampering",
        "binds a JAX primitive directly",
        static_checks=True,
    ),
]


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest, run_eval: Any) -> Iterator[Prefetch]:
    def run(case: Case) -> Verdict:
        return run_eval(case.path, case.task, "pallas", **case.options)

    prefetch = Prefetch(run)
    prefetch.start_module(request)
    yield prefetch
    prefetch.close()


def test_at_least_six_examples() -> None:
    assert len(HONEST) >= 6


@pytest.mark.parametrize("case", HONEST + IDIOMS)
def test_example_is_correct(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "correct", describe(verdict)
    assert verdict.violations == [] and verdict.flags == [], describe(verdict)
    assert verdict.device == "pallas-interpreter (cpu)"
    if case.options is TWO_TRIALS:
        assert verdict.correctness["trials"] >= 2
    # pallas_calls per forward, eager or jitted (counted again on every compiled call).
    wanted = 2 if case.id == "idiom-stack_split" else 1
    assert verdict.extra["launches_per_forward"] == wanted, verdict.extra
    if case.options is TIMED:
        # Interpreted: timed, and said to mean nothing.
        assert verdict.timing.samples and verdict.timing.meaningful is False
        assert verdict.speedup == {"eager": None, "compile": None}


@pytest.mark.parametrize("case", PLANTED)
def test_planted_case_is_rejected(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "rejected", describe(verdict)
    first = verdict.violations[0]
    assert first.check == case.check, describe(verdict)
    assert case.detail in first.detail, describe(verdict)


# ---- the backend, without a child --------------------------------------------------------------


def test_backend_is_the_interpreter_here() -> None:
    backend = get_backend("pallas")
    status = backend.status()
    assert status.state == "available", status
    assert status.timing_meaningful is False and "interpreter" in status.reason
    assert backend.device() == "cpu"
    env = backend.child_env("timing", False)
    assert env == {"KERNELWRIGHT_PALLAS": "interpret", "JAX_PLATFORMS": "cpu"}
    # The same in every phase (E23).
    assert backend.child_env("compile", False) == env


def test_old_jax_is_missing_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pallas_backend, "jax_version", lambda: "0.4.30")
    status = get_backend("pallas").status()
    assert status.state == "missing"
    assert "0.4.30 is older than 0.10" in status.reason


def test_pallas_sources_are_inferred() -> None:
    assert infer_backend((EXAMPLES / "relu.py").read_text()) == "pallas"


def test_doctor_lists_pallas() -> None:
    from kernelwright.verifier.doctor import diagnose

    rows = {row["name"]: row for row in diagnose()["backends"]}
    assert rows["pallas"]["state"] == "available"
    assert rows["pallas"]["timing_meaningful"] is False


# ---- the hooks, in a plain subprocess -----------------------------------------------------------

_PROBE = textwrap.dedent(
    """
    import json, os, sys
    os.environ["JAX_PLATFORMS"] = "cpu"
    from kernelwright.backends import pallas_interp
    from kernelwright.verifier import jax_witness, launches
    pallas_interp.install_interpreter_hooks()
    launches.install("pallas")
    assert jax_witness.install()
    import jax, jax.numpy as jnp
    from jax.experimental import pallas as pl

    def kernel(x_ref, o_ref):
        o_ref[...] = jnp.exp(x_ref[...]) * 2.0

    def staged(a):
        return pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct(a.shape, a.dtype))(a)

    x = jnp.ones((8, 128), jnp.float32)
    base = jax_witness.counts()  # the probe's own input: broadcast_in_dim and a cast

    def since():
        now = jax_witness.counts()
        return {k: n - base.get(k, 0) for k, n in now.items() if n != base.get(k, 0)}

    report = {}
    staged(x).block_until_ready()
    report["eager_kernel"] = since()
    jitted = jax.jit(lambda a: staged(a).reshape(-1))
    counter = launches.counter()
    calls = []
    for _ in range(3):
        before = counter.snapshot()
        jitted(x).block_until_ready()
        calls.append(sum(counter.since(before).values()))
    report["jit_kernel"] = since()
    report["jit_launches"] = calls
    jnp.sum(x).block_until_ready()
    report["outside"] = since()
    report["canary"] = jax_witness.canary()
    report["after_canary"] = since()
    print(json.dumps(report))
    """
)


def test_witness_counts_only_what_runs_outside_kernels() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300, cwd="/"
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    # A pallas_call's kernel, its tracing, binding and interpretation are inside.
    assert report["eager_kernel"] == {}, report
    # Under jit: the kernel is lowered with the program (the lowering hook); reshape is allowed
    # data movement, and the jit itself is structure.
    assert set(report["jit_kernel"]) <= {"jax.jit", "jax.pjit", "jax.reshape"}, report
    # Traced once, then served from the compiled program: every call counts its one launch.
    assert report["jit_launches"] == [1, 1, 1], report
    assert "jax.reduce_sum" in report["outside"], report
    assert report["canary"] is True
    assert report["after_canary"] == report["outside"], report
