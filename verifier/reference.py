"""The trusted side of correctness: inputs from secret seeds, float64 references, and the
comparison of a child's raw outputs against them. Runs only in the parent.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import torch

from kernelwright.bench_tasks.run import as_list, run_model
from kernelwright.bench_tasks.task import Task, call_with_config
from kernelwright.verifier.verdict import Finding

DEFAULT_TOLERANCE = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (1e-4, 1e-4),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (3e-2, 3e-2),
}


# torch has one global generator: evaluations on parallel threads take turns drawing from it, so
# that inputs follow from (secret, task, label) alone.
_RNG_LOCK = threading.Lock()


def derive_seed(secret: bytes, *parts: object) -> int:
    """A 63-bit seed from the per-run secret and a label, unguessable without the secret."""
    digest = hashlib.sha256(secret + repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def tensor_hash(t: torch.Tensor) -> str:
    flat = t.detach().to("cpu").contiguous().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    return hashlib.sha256(flat.view(torch.uint8).numpy().tobytes()).hexdigest()


@dataclass
class Trial:
    """One set of inputs for the candidate and the reference's answers for them."""

    config: dict[str, Any]
    payload: dict[str, Any]  # what the child receives: init inputs, weights, inputs, grad outputs
    expected: list[torch.Tensor]  # reference outputs, float64 where possible, on the CPU
    expected_meta: list[dict[str, Any]]  # dtype/shape/device of the eager model's outputs
    expected_grads: dict[str, torch.Tensor] = field(default_factory=dict)
    input_hashes: list[str | None] = field(default_factory=list)
    reference_dtype: str = "float64"
    eager_error: float | None = None


def _upcast(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().to(torch.float64)
    return value


def _forward(
    model: torch.nn.Module,
    inputs: list[Any],
    device: str,
    backward: bool,
    grad_outputs: list[torch.Tensor] | None,
) -> tuple[list[Any], dict[str, torch.Tensor]]:
    return run_model(model, inputs, device, (grad_outputs or []) if backward else None)


def make_trial(
    module: Any,
    task: Task,
    config: dict[str, Any],
    secret: bytes,
    label: object,
    device: str,
    model_label: object = None,
    input_scale: float | None = None,
) -> Trial:
    """Draw inputs for ``config`` from a secret seed and compute the reference on them.

    Trials with the same ``model_label`` share the model (init inputs and weights) and differ only
    in their inputs; by default every trial gets a model of its own.
    """
    with _RNG_LOCK:
        return _make_trial(module, task, config, secret, label, device, model_label, input_scale)


def _make_trial(
    module: Any,
    task: Task,
    config: dict[str, Any],
    secret: bytes,
    label: object,
    device: str,
    model_label: object,
    input_scale: float | None,
) -> Trial:
    seed = derive_seed(secret, task.id, label, "inputs")
    model_seed = derive_seed(
        secret, task.id, label if model_label is None else model_label, "model"
    )
    init_seed = derive_seed(secret, task.id, model_seed, "init")
    torch.manual_seed(model_seed)
    init_inputs = list(call_with_config(module.get_init_inputs, config))
    torch.manual_seed(seed)
    inputs = list(call_with_config(module.get_inputs, config))
    if input_scale is not None:
        # A rescaled draw, so a kernel tuned to the task's input distribution shows (E02).
        inputs = [
            x * input_scale if isinstance(x, torch.Tensor) and x.is_floating_point() else x
            for x in inputs
        ]
    torch.manual_seed(init_seed)
    model = module.Model(*init_inputs)
    state_dict = {k: v.detach().clone() for k, v in model.state_dict().items()}
    eager_model = copy.deepcopy(model)
    eager_out, _ = _forward(eager_model, inputs, device, False, None)
    expected_meta = [
        {"dtype": str(o.dtype), "shape": list(o.shape)}
        if isinstance(o, torch.Tensor)
        else {"type": type(o).__name__}
        for o in eager_out
    ]
    grad_outputs: list[torch.Tensor] = []
    if task.backward:
        torch.manual_seed(derive_seed(secret, task.id, label, "grad"))
        grad_outputs = [
            torch.randn(o.shape, dtype=o.dtype)
            for o in eager_out
            if isinstance(o, torch.Tensor) and o.is_floating_point()
        ]
    reference_dtype = "float64"
    try:
        ref_model = copy.deepcopy(model).to(torch.float64)
        ref_inputs = [_upcast(x) for x in inputs]
        ref_grad_outputs = [g.to(torch.float64) for g in grad_outputs]
        expected, grads = _forward(ref_model, ref_inputs, device, task.backward, ref_grad_outputs)
    except (RuntimeError, TypeError, NotImplementedError):
        # Some models pin dtypes internally; then the task's own dtype is the best reference.
        reference_dtype = "native"
        expected, grads = _forward(
            copy.deepcopy(model), inputs, device, task.backward, grad_outputs
        )
    expected = [
        o.to(torch.float64) if isinstance(o, torch.Tensor) and o.is_floating_point() else o
        for o in expected
    ]
    payload = {
        "init_seed": init_seed,
        "init_inputs": init_inputs,
        "state_dict": state_dict,
        "inputs": inputs,
        "grad_outputs": grad_outputs,
    }
    eager_error = _max_abs_error(eager_out, expected)
    hashes = [tensor_hash(x) if isinstance(x, torch.Tensor) else None for x in inputs]
    return Trial(
        config, payload, expected, expected_meta, grads, hashes, reference_dtype, eager_error
    )


def _max_abs_error(outputs: list[Any], expected: list[Any]) -> float | None:
    worst = 0.0
    for out, ref in zip(outputs, expected, strict=False):
        if (
            isinstance(out, torch.Tensor)
            and isinstance(ref, torch.Tensor)
            and out.shape == ref.shape
        ):
            # The largest finite difference: NaN and infinity count as 0 (in place, with no mask
            # to gather by, a few times faster than indexing by torch.isfinite).
            diff = (out.to(torch.float64) - ref.to(torch.float64)).abs_()
            if diff.numel():
                worst = max(worst, float(diff.nan_to_num_(nan=0.0, posinf=0.0).max()))
    return worst


def tolerance(task: Task, dtype: torch.dtype) -> tuple[float, float]:
    default = DEFAULT_TOLERANCE.get(dtype, (0.0, 0.0))
    return (
        task.atol if task.atol is not None else default[0],
        task.rtol if task.rtol is not None else default[1],
    )


_DTYPES = {
    str(d): d
    for d in (
        torch.float64,
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
    )
}


@dataclass
class Comparison:
    """The outcome of comparing one child's outputs for one trial."""

    ok: bool
    reason: str = ""
    violations: list[Finding] = field(default_factory=list)
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0


def compare_values(
    name: str, got: torch.Tensor, ref: torch.Tensor, atol: float, rtol: float
) -> Comparison:
    """Elementwise comparison on raw data with NaN and Inf compared explicitly."""
    a = got.to(torch.float64) if got.is_floating_point() or ref.is_floating_point() else got
    b = ref.to(a.dtype)
    if not a.is_floating_point():
        n_diff = int((a != b).sum())
        return Comparison(
            n_diff == 0, f"{name}: {n_diff} of {a.numel()} values differ" if n_diff else ""
        )
    nan_a, nan_b = torch.isnan(a), torch.isnan(b)
    if not torch.equal(nan_a, nan_b):
        return Comparison(
            False,
            f"{name}: NaN where the reference has {'none' if nan_a.any() else 'NaN'} ({int((nan_a ^ nan_b).sum())} values)",
        )
    inf_a, inf_b = torch.isinf(a), torch.isinf(b)
    if not torch.equal(inf_a, inf_b) or not torch.equal(a[inf_a], b[inf_b]):
        return Comparison(False, f"{name}: Inf values differ from the reference")
    finite = ~(nan_a | inf_a)
    diff = (a - b).abs()[finite]
    scale = b.abs()[finite]
    max_abs = float(diff.max()) if diff.numel() else 0.0
    max_rel = float((diff / scale.clamp_min(1e-12)).max()) if diff.numel() else 0.0
    bad = diff > atol + rtol * scale
    n_bad = int(bad.sum())
    if n_bad:
        first = int(torch.nonzero(bad)[0][0])
        detail = (
            f"{name}: {n_bad} of {a.numel()} values outside atol={atol:g} rtol={rtol:g} "
            f"(max abs err {max_abs:.3g}, first at flat index {first}: got {float(a[finite][first]):.6g}, expected {float(b[finite][first]):.6g})"
        )
        return Comparison(False, detail, max_abs_err=max_abs, max_rel_err=max_rel)
    return Comparison(True, max_abs_err=max_abs, max_rel_err=max_rel)


def check_outputs(
    task: Task,
    trial: Trial,
    meta: list[dict[str, Any]],
    data: list[Any],
    expected_device: str,
    what: str = "output",
) -> Comparison:
    """Type, dtype, shape and device from the child's metadata, then values on raw data."""
    if len(meta) != len(trial.expected_meta):
        return Comparison(
            False, f"returned {len(meta)} {what}s, the reference returns {len(trial.expected_meta)}"
        )
    worst_abs = worst_rel = 0.0
    for i, (m, expected_meta, ref, got) in enumerate(
        zip(meta, trial.expected_meta, trial.expected, data, strict=True)
    ):
        name = f"{what} {i}"
        if m.get("type") == "torch.Tensor" and not m.get("has_storage", False):
            detail = f"{name} has no real storage (device {m.get('device')})"
            return Comparison(False, detail, [Finding("output_type", detail)])
        if (
            m.get("type") != "torch.Tensor"
            or not isinstance(got, torch.Tensor)
            or type(got) is not torch.Tensor
        ):
            detail = f"{name} is {m.get('type')}, not a plain torch.Tensor: tensor subclasses and lazy tensors are not accepted"
            return Comparison(False, detail, [Finding("output_type", detail)])
        if m.get("dtype") != expected_meta.get("dtype") or str(got.dtype) != expected_meta.get(
            "dtype"
        ):
            return Comparison(
                False, f"{name} has dtype {m.get('dtype')}, expected {expected_meta.get('dtype')}"
            )
        if list(got.shape) != expected_meta.get("shape") or m.get("shape") != expected_meta.get(
            "shape"
        ):
            return Comparison(
                False, f"{name} has shape {list(got.shape)}, expected {expected_meta.get('shape')}"
            )
        if not str(m.get("device", "")).startswith(expected_device):
            return Comparison(False, f"{name} is on {m.get('device')}, expected {expected_device}")
        atol, rtol = tolerance(task, _DTYPES.get(expected_meta["dtype"], torch.float32))
        result = compare_values(name, got, ref, atol, rtol)
        if not result.ok:
            return result
        worst_abs, worst_rel = (
            max(worst_abs, result.max_abs_err),
            max(worst_rel, result.max_rel_err),
        )
    return Comparison(True, max_abs_err=worst_abs, max_rel_err=worst_rel)


def check_grads(
    task: Task, trial: Trial, names: list[str], meta: list[dict[str, Any]], data: list[Any]
) -> Comparison:
    got = dict(zip(names, zip(meta, data, strict=True), strict=True))
    worst = 0.0
    for name, ref in trial.expected_grads.items():
        if name not in got or got[name][1] is None:
            return Comparison(False, f"no gradient for {name}")
        m, value = got[name]
        if m.get("type") != "torch.Tensor" or type(value) is not torch.Tensor:
            return Comparison(
                False,
                f"gradient {name} is {m.get('type')}",
                [Finding("output_type", f"gradient {name} is {m.get('type')}")],
            )
        if list(value.shape) != list(ref.shape):
            return Comparison(
                False, f"gradient {name} has shape {list(value.shape)}, expected {list(ref.shape)}"
            )
        atol, rtol = tolerance(task, value.dtype)
        result = compare_values(f"gradient {name}", value, ref, atol, rtol)
        if not result.ok:
            return result
        worst = max(worst, result.max_abs_err)
    return Comparison(True, max_abs_err=worst)


def check_spot(
    task: Task,
    expected: list[torch.Tensor],
    expected_meta: list[dict[str, Any]],
    spots: list[tuple[list[int], list[float]]],
) -> str | None:
    """Compare the sampled values of one timed call against the reference; a reason if they differ."""
    for i, ((idx, values), ref) in enumerate(zip(spots, expected, strict=False)):
        if not idx:
            continue
        if any(not (0 <= j < ref.numel()) for j in idx):
            return f"output {i}: sampled index out of range"
        atol, rtol = tolerance(task, _DTYPES.get(expected_meta[i].get("dtype", ""), torch.float32))
        got = torch.tensor(values, dtype=torch.float64)
        want = ref.reshape(-1)[torch.tensor(idx)].to(torch.float64)
        result = compare_values(f"output {i}", got, want, atol, rtol)
        if not result.ok:
            return result.reason
    return None


def measure_work(module: Any, trial: Trial) -> tuple[int, int]:
    """Bytes a kernel must at least move (inputs, weights, outputs) and FLOPs of the reference."""
    from torch.utils.flop_counter import FlopCounterMode

    payload = trial.payload
    with _RNG_LOCK:
        torch.manual_seed(payload["init_seed"])
        model = module.Model(*payload["init_inputs"])
    model.load_state_dict(payload["state_dict"])
    inputs = [x.clone() if isinstance(x, torch.Tensor) else x for x in payload["inputs"]]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        outputs = as_list(model(*inputs))
    tensors = [*inputs, *model.state_dict().values(), *outputs]
    moved = sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))
    return moved, int(counter.get_total_flops())
