"""The watch on the tables the harness calls through (E22), in this process: what it reports,
and what it must not (torch's and Python's own bookkeeping)."""

from __future__ import annotations

import io
import pickle

import torch

from kernelwright.verifier.harness_guard import EntryPoints, Watch


def test_shadowing_an_inherited_tensor_method_is_reported() -> None:
    watch = Watch()
    assert watch.changed() == []
    torch.Tensor.clone = lambda self, *a, **k: self  # type: ignore[method-assign]
    try:
        assert "torch.Tensor.clone" in watch.changed()
    finally:
        del torch.Tensor.clone  # the C type's method shows through again
    assert watch.changed() == []


def test_replacing_module_call_and_torch_functions_is_reported() -> None:
    watch = Watch()
    call, empty = torch.nn.Module.__call__, torch.empty
    torch.nn.Module.__call__ = lambda self, *a, **k: None  # type: ignore[method-assign]
    torch.empty = torch.zeros  # type: ignore[assignment]
    try:
        assert {"torch.nn.Module.__call__", "torch.empty"} <= set(watch.changed())
    finally:
        torch.nn.Module.__call__ = call  # type: ignore[method-assign]
        torch.empty = empty
    assert watch.changed() == []


def test_the_harness_own_work_changes_nothing() -> None:
    """Saving, pickling and copying tensors (the harness's replies) leave no mark: no false
    alarm for an honest candidate."""
    watch = Watch()
    buffer = io.BytesIO()
    torch.save({"out": [torch.ones(3)]}, buffer)
    pickle.dumps(torch.ones(2))
    torch.ones(4).clone().to("cpu")
    assert watch.changed() == []


def test_entry_points_survive_a_patched_tensor_class() -> None:
    h = EntryPoints()
    torch.Tensor.clone = lambda self, *a, **k: torch.zeros(1)  # type: ignore[method-assign]
    try:
        x = torch.arange(4.0)
        assert torch.equal(h.clone(x), x)  # through the C type, not the patched method
    finally:
        del torch.Tensor.clone
