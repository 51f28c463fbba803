"""The op witnesses count arithmetic only (E13 without false alarms).

Unit tests of the rule the parent applies (``guards.trace_violations``) and of the witnesses the
child runs (``witness.OpTrace``, ``witness.profiled_ops``), on real ops: metadata, views, copies and
scalars pass, arithmetic does not, and a candidate's own custom ops are its kernels while what
runs inside them still counts. Then end to end: honest candidates in tests/honest/ that use those
ops, custom ops and autotuned kernels must be ``correct``; planted custom-op cheats in
tests/exploits/ must be ``rejected`` by ``torch_compute``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from prefetch import Prefetch, describe

from kernelwright.verifier import Verdict
from kernelwright.verifier.guards import candidate_op, trace_violations
from kernelwright.verifier.witness import OpTrace, profiled_ops, registered_ops

TESTS = Path(__file__).resolve().parent
QUICK: dict[str, Any] = {"timing": False, "trials": 1, "sampled_configs": 1}


def _witnessed(
    fn: Callable[[], Any], trace: OpTrace | None = None
) -> tuple[OpTrace, dict[str, int]]:
    """Run ``fn`` under both witnesses, as the worker does; the counts merged as the parent does."""
    trace = trace or OpTrace()
    with trace.mode, torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as p:
        fn()
    ops = dict(trace.counts)
    for name, count in profiled_ops(p, trace).items():
        ops[name] = max(ops.get(name, 0), count)
    return trace, ops


# -- the rule on real ops ----------------------------------------------------------------------


def _no_arithmetic(x: torch.Tensor, half: torch.Tensor, row: torch.Tensor) -> None:
    x[0, 0].item()
    float(x[1, 1])
    x.reshape_as(torch.empty(6, 4))
    x.type_as(half)
    x.type_as(x)
    torch.broadcast_to(row, (4, 6))
    row.expand_as(x)
    torch.broadcast_tensors(row, x)
    x.view_as(x)
    x.t().contiguous()
    x.permute(1, 0)
    x.size(), x.stride(), x.numel(), x.dim(), x.storage_offset(), x.is_contiguous()
    x.reshape(-1), x.view(2, 12), x.flatten(), x.ravel(), x.unflatten(1, (2, 3))
    x.unsqueeze(0).squeeze(0), x.transpose(0, 1), x.mT, x.swapaxes(0, 1), x.movedim(0, 1)
    x.narrow(0, 0, 2), x[1:3], x[:, ::2], x[0], x.split(2), x.chunk(2), x.unbind(0)
    x.tensor_split(2), x.hsplit(2), x.unfold(0, 2, 1), x.diagonal(), torch.atleast_2d(x)
    x.to(torch.float64), x.to(x.dtype), x.clone(), x.detach(), torch.empty_like(x).copy_(x)
    x.new_zeros(3), torch.zeros(3), torch.full((2,), 1.0), torch.arange(5)
    x.tolist()
    with torch.profiler.record_function("a label"):
        x.view(-1)


def test_metadata_views_copies_and_scalars_are_not_compute() -> None:
    x, half, row = torch.randn(4, 6), torch.randn(4, 6, dtype=torch.float16), torch.randn(1, 6)
    _, ops = _witnessed(lambda: _no_arithmetic(x, half, row))
    assert trace_violations(ops) == [], ops
    # The composite names only the profiler sees, and the ops they reach the backend as.
    for name in ("item", "_local_scalar_dense", "reshape_as", "type_as", "broadcast_to"):
        assert name in ops, f"{name} was not exercised: {sorted(ops)}"
    for name in ("expand_as", "view_as", "contiguous", "permute", "expand", "_to_copy"):
        assert name in ops, f"{name} was not exercised: {sorted(ops)}"


COMPUTING: list[tuple[str, Callable[[torch.Tensor], Any]]] = [
    ("add", lambda x: x + 1),
    ("mul", lambda x: x * x),
    ("relu", torch.relu),
    ("sum", lambda x: x.sum()),
    ("mm", lambda x: x @ x.t()),
    ("where", lambda x: torch.where(x > 0, x, 0.0)),
    ("sort", lambda x: x.sort(dim=-1)),
    ("gather", lambda x: x.gather(1, x.new_zeros((4, 2), dtype=torch.long))),
    ("index", lambda x: x[x.new_zeros(2, dtype=torch.long)]),
    ("exp", torch.exp),
    ("neg_view", lambda x: torch.empty_like(x).copy_(x._neg_view())),
    ("cumsum", lambda x: x.cumsum(0)),
]


@pytest.mark.parametrize("fn", [f for _, f in COMPUTING], ids=[n for n, _ in COMPUTING])
def test_arithmetic_is_compute(fn: Callable[[torch.Tensor], Any]) -> None:
    x = torch.randn(4, 6)
    _, ops = _witnessed(lambda: fn(x))
    found = trace_violations(ops)
    assert [f.check for f in found] == ["torch_compute"], ops


@pytest.mark.parametrize(
    "name",
    ["add", "mul", "relu", "sum", "mm", "addmm", "where", "sort", "gather", "index",
     "_unsafe_index", "clamp_min", "exp", "neg", "conj_physical", "_neg_view", "conj", "mH"],
)  # fmt: skip
def test_computing_names_are_compute(name: str) -> None:
    assert trace_violations({name: 1}), name
    assert trace_violations({f"aten.{name}": 1}), name


# -- the rule on custom-op keys ----------------------------------------------------------------


def test_candidate_ops_are_its_kernels() -> None:
    assert trace_violations({"kw_mine::relu": 3, "empty_like": 1}) == []
    assert candidate_op("kw_mine::relu")


def test_what_runs_beside_a_candidate_op_still_counts() -> None:
    found = trace_violations({"kw_mine::relu": 1, "relu": 1})
    assert found and "aten.relu x1" in found[0].detail
    assert "kw_mine" not in found[0].detail


@pytest.mark.parametrize(
    "key",
    [
        "aten::relu",  # aten is never the candidate's, however the child spells it
        "aten::kw_new_op",
        "prims::add",
        "mkldnn::_linear_pointwise",
        "quantized::linear",
        "inductor::_mm_plus_mm",
        "_test::leaky_relu",
        "torchvision::nms",
        "flash_attn::_flash_attn_forward",
        "kw_vendor.relu",  # an op the child says is not the candidate's
        "::relu",
        "kw-mine::relu",
        "kw_mine::",
    ],
)
def test_no_exemption_outside_the_candidates_namespaces(key: str) -> None:
    assert not candidate_op(key)
    found = trace_violations({key: 1})
    assert [f.check for f in found] == ["torch_compute"], key


def test_qualified_allowlist_is_exact() -> None:
    assert trace_violations({"profiler._record_function_enter_new": 1}) == []
    assert trace_violations({"profiler._record_function_exit": 1}) == []
    assert trace_violations({"kw_other._record_function_exit": 1})


# -- the witnesses on custom ops ---------------------------------------------------------------


def _numpy_relu(x: torch.Tensor) -> torch.Tensor:
    """Work that no op witness sees: stands in for the candidate's (or a library's) kernel."""
    return torch.from_numpy(np.maximum(x.numpy(), 0))


_VENDOR_SOURCE = """
import numpy as np
import torch

def vendor_relu(x: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.maximum(x.numpy(), 0))
"""


@dataclass
class _Ops:
    before: frozenset[str]
    own: Any
    own_torch: Any
    early: Any
    vendor: Any
    squatter: Any


@pytest.fixture(scope="module")
def custom_ops() -> _Ops:
    """Ops registered in this process: one before the snapshot, the rest after, as a candidate's
    import would; this module plays the candidate's file."""

    def early(x: torch.Tensor) -> torch.Tensor:
        return _numpy_relu(x)

    early_op = torch.library.custom_op("kw_witness_test::early", early, mutates_args=())
    before = registered_ops()

    def own(x: torch.Tensor) -> torch.Tensor:
        return _numpy_relu(x)

    def own_torch(x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) * 1.0

    def squatter(x: torch.Tensor) -> torch.Tensor:
        return _numpy_relu(x)

    vendor_module: dict[str, Any] = {}
    code = compile(_VENDOR_SOURCE, "/opt/env/lib/python3.11/site-packages/kwvendor/ops.py", "exec")
    exec(code, vendor_module)
    return _Ops(
        before=before,
        own=torch.library.custom_op("kw_witness_test::own", own, mutates_args=()),
        own_torch=torch.library.custom_op("kw_witness_test::own_torch", own_torch, mutates_args=()),
        early=early_op,
        vendor=torch.library.custom_op(
            "kw_witness_vendor::relu", vendor_module["vendor_relu"], mutates_args=()
        ),
        squatter=torch.library.custom_op("mkldnn::kw_witness_relu", squatter, mutates_args=()),
    )


def _trace(ops: _Ops) -> OpTrace:
    return OpTrace(sys.modules[__name__], preexisting=ops.before)


def test_own_custom_op_is_counted_under_its_namespace(custom_ops: _Ops) -> None:
    x = torch.randn(64)
    trace, ops = _witnessed(lambda: custom_ops.own(x), _trace(custom_ops))
    assert trace.counts.get("kw_witness_test::own") == 1, trace.counts
    assert ops.get("kw_witness_test::own") == 1, ops
    assert trace_violations(ops) == [], ops


def test_torch_inside_own_custom_op_is_seen_by_both_witnesses(custom_ops: _Ops) -> None:
    x = torch.randn(64)
    trace = _trace(custom_ops)
    with trace.mode, torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as p:
        custom_ops.own_torch(x)
    # The dispatch mode is entered again inside the op: it sees the relu on its own...
    assert trace.counts.get("kw_witness_test::own_torch") == 1
    assert trace.counts.get("relu") == 1 and trace.counts.get("mul") == 1, trace.counts
    # ...and so does the profiler.
    profiled = profiled_ops(p, trace)
    assert profiled.get("relu", 0) >= 1 and profiled.get("kw_witness_test::own_torch") == 1
    for ops in (trace.counts, profiled):
        found = trace_violations(ops)
        assert found and "aten.relu" in found[0].detail


def test_trace_canary_still_works_with_custom_ops(custom_ops: _Ops) -> None:
    trace = _trace(custom_ops)
    with trace.mode:
        custom_ops.own(torch.randn(8))
        assert trace.canary()
    assert "mul" not in trace.counts


@pytest.mark.parametrize(
    ("attr", "key"),
    [
        ("early", "kw_witness_test.early"),  # registered before the candidate's import
        ("vendor", "kw_witness_vendor.relu"),  # registered from a library's file
        ("squatter", "mkldnn.kw_witness_relu"),  # in one of torch's namespaces
    ],
)
def test_ops_that_are_not_the_candidates_are_compute(custom_ops: _Ops, attr: str, key: str) -> None:
    x = torch.randn(64)
    op = getattr(custom_ops, attr)
    trace, ops = _witnessed(lambda: op(x), _trace(custom_ops))
    assert trace.counts.get(key) == 1, trace.counts
    assert ops.get(key) == 1, ops
    found = trace_violations(ops)
    assert found and key in found[0].detail


def test_an_op_registered_from_another_file_is_not_the_candidates(custom_ops: _Ops) -> None:
    elsewhere = types.SimpleNamespace(__file__=str(TESTS / "conftest.py"))
    trace, ops = _witnessed(
        lambda: custom_ops.own(torch.randn(8)), OpTrace(elsewhere, custom_ops.before)
    )
    assert "kw_witness_test.own" in ops and trace_violations(ops)


# -- end to end --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    path: Path
    task: str
    status: str
    detail: str = ""  # for a rejection: expected in the torch_compute finding
    log_contains: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=lambda: dict(QUICK))


HONEST = [
    # .item(), reshape_as, type_as (the profiler's composite names)
    Case("item-reshape_as-type_as", TESTS / "honest/layernorm_item_reshape_as.py",
         "smoke/layernorm", "correct"),
    # broadcast_to, expand_as, view_as
    Case("broadcast_to-expand_as", TESTS / "honest/bias_add_broadcast_to.py",
         "smoke/bias_add_broadcast", "correct"),
    # permute, t, contiguous
    Case("permute-contiguous", TESTS / "honest/matmul_permute_contiguous.py",
         "smoke/matmul", "correct"),
    # @triton.autotune + @triton.heuristics on the interpreter: each config runs in turn
    Case("autotune-heuristics", TESTS / "honest/matmul_autotune.py", "smoke/matmul", "correct",
         log_contains=("ran config 1 of 2 (TILE_M=32", "ran config 2 of 2 (TILE_M=64")),
    # Triton kernels registered as custom ops, three ways, and one with a backward
    Case("custom_op", TESTS / "honest/relu_custom_op.py", "smoke/relu", "correct"),
    Case("triton_op", TESTS / "honest/row_sum_triton_op.py", "smoke/row_sum", "correct"),
    Case("library-fragment", TESTS / "honest/softmax_library_op.py", "smoke/softmax", "correct"),
    Case("custom_op-autograd", TESTS / "honest/linear_relu_custom_op.py",
         "smoke/linear_relu", "correct"),
]  # fmt: skip

# The witnesses are the defence under test: the static allowlist, which rejects these sources
# first (no launched kernel, foreign imports), is off.
DYNAMIC: dict[str, Any] = {**QUICK, "static_checks": False}

PLANTED = [
    Case("E13-custom-op-torch", TESTS / "exploits/E13_custom_op_torch.py", "smoke/relu",
         "rejected", options=DYNAMIC, detail="aten.relu"),
    Case("E13-custom-op-builtin", TESTS / "exploits/E13_custom_op_builtin.py", "smoke/matmul",
         "rejected", options=DYNAMIC, detail="inductor._mm_plus_mm"),
    Case("E13-custom-op-vendor", TESTS / "exploits/E13_custom_op_vendor.py", "smoke/relu",
         "rejected", options=DYNAMIC, detail="vendorlib.relu"),
    Case("E13-custom-op-torch-namespace", TESTS / "exploits/E13_custom_op_torch_namespace.py",
         "smoke/relu", "rejected", options=DYNAMIC, detail="mkldnn.kw_relu"),
]  # fmt: skip


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest, run_eval: Any) -> Iterator[Prefetch]:
    def run(case: Case) -> Verdict:
        return run_eval(case.path, case.task, "triton", **case.options)

    prefetch = Prefetch(run)
    prefetch.start_module(request)
    yield prefetch
    prefetch.close()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in HONEST])
def test_honest_candidate_is_correct(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "correct", describe(verdict)
    assert verdict.violations == [], describe(verdict)
    for text in case.log_contains:
        assert text in verdict.log, verdict.log[-2000:]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in PLANTED])
def test_planted_custom_op_is_rejected(case: Case, verdicts: Prefetch) -> None:
    verdict = verdicts.verdict(case)
    assert verdict.status == "rejected", describe(verdict)
    assert verdict.violations and verdict.violations[0].check == "torch_compute", describe(verdict)
    assert case.detail in verdict.violations[0].detail, describe(verdict)
