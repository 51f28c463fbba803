"""Running a task's model on inputs, with gradients when asked: the one way the reference side
(the verifier's float64 reference, the task linter) executes a task."""

from __future__ import annotations

from typing import Any

import torch


def as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def run_model(
    model: torch.nn.Module,
    inputs: list[Any],
    device: str = "cpu",
    grad_outputs: list[torch.Tensor] | None = None,
) -> tuple[list[Any], dict[str, torch.Tensor]]:
    """Outputs on the CPU, and, when ``grad_outputs`` is given, the gradients of every floating
    input (``input.<i>``) and parameter (``param.<name>``) that the outputs reach."""
    model = model.to(device)
    moved = [x.detach().clone().to(device) if isinstance(x, torch.Tensor) else x for x in inputs]
    backward = grad_outputs is not None
    if backward:
        for x in moved:
            if isinstance(x, torch.Tensor) and x.is_floating_point():
                x.requires_grad_(True)
    with torch.set_grad_enabled(backward):
        outputs = as_list(model(*moved))
    grads: dict[str, torch.Tensor] = {}
    if backward:
        wrt = [
            (f"input.{i}", x)
            for i, x in enumerate(moved)
            if isinstance(x, torch.Tensor) and x.requires_grad
        ]
        wrt += [(f"param.{n}", p) for n, p in model.named_parameters() if p.requires_grad]
        diff = [o for o in outputs if isinstance(o, torch.Tensor) and o.requires_grad]
        if diff and wrt:
            go = [
                g.to(device=device, dtype=o.dtype)
                for g, o in zip(grad_outputs or [], diff, strict=False)
            ]
            got = torch.autograd.grad(diff, [t for _, t in wrt], go, allow_unused=True)
            grads = {
                name: g.detach().cpu()
                for (name, _), g in zip(wrt, got, strict=True)
                if g is not None
            }
    return [o.detach().cpu() if isinstance(o, torch.Tensor) else o for o in outputs], grads
