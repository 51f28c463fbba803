"""The harness's own entry points, captured before the candidate is imported, and a watch on the
shared tables the candidate could rebind (E22).

The candidate owns its process, so nothing here is a guarantee: it raises the cost of making the
harness do the candidate's work. What backs it from outside is the parent's clock around every
call (work moved into the harness's own calls shows as time the samples do not account for) and
the outputs the parent compares itself.

The harness calls tensor methods through ``torch._C.TensorBase``, an immutable C type whose
methods cannot be replaced from Python, and torch functions through references taken here before
any candidate code ran. The watch compares, after every call, the method tables of
``torch.Tensor`` and ``torch.nn.Module``, the torch functions the harness relies on, and the
harness's own functions with what they were before the candidate was imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Torch functions and namespaces the harness calls while a candidate is loaded.
_TORCH_FUNCTIONS = (
    "empty",
    "tensor",
    "manual_seed",
    "compile",
    "set_num_threads",
    "get_num_threads",
    "use_deterministic_algorithms",
    "is_tensor",
    "save",
    "load",
)


class EntryPoints:
    """References taken before the candidate is imported; the harness calls only these."""

    def __init__(self) -> None:
        import torch
        import torch.autograd
        import torch.profiler

        base = torch._C.TensorBase
        self.Tensor = torch.Tensor
        self.clone: Callable[..., Any] = base.clone
        self.detach: Callable[..., Any] = base.detach
        self.to: Callable[..., Any] = base.to
        self.copy_: Callable[..., Any] = base.copy_
        self.reshape: Callable[..., Any] = base.reshape
        self.index: Callable[..., Any] = base.__getitem__
        self.tolist: Callable[..., Any] = base.tolist
        self.numel: Callable[..., Any] = base.numel
        self.element_size: Callable[..., Any] = base.element_size
        self.fill_: Callable[..., Any] = base.fill_
        self.requires_grad_: Callable[..., Any] = base.requires_grad_
        self.is_floating_point: Callable[..., Any] = base.is_floating_point
        self.size: Callable[..., Any] = base.size
        self.get_device: Callable[..., Any] = base.get_device
        self._dtype: Any = base.dtype
        self._device: Any = base.device
        self._requires_grad: Any = base.requires_grad
        self.empty: Callable[..., Any] = torch.empty
        self.tensor: Callable[..., Any] = torch.tensor
        self.manual_seed: Callable[..., Any] = torch.manual_seed
        self.backward: Callable[..., Any] = torch.autograd.backward
        self.grad: Callable[..., Any] = torch.autograd.grad
        self.profile: Any = torch.profiler.profile
        self.cpu_activity: Any = torch.profiler.ProfilerActivity.CPU
        self.cuda_activity: Any = torch.profiler.ProfilerActivity.CUDA
        from kernelwright.verifier import witness

        self.OpTrace: Any = witness.OpTrace
        self.profiled_ops: Callable[..., Any] = witness.profiled_ops
        self.device_activity: Callable[..., Any] = witness.device_activity
        self.save: Callable[..., Any] = torch.save
        self.synchronize: Callable[..., Any] = torch.cuda.synchronize
        self.uint8 = torch.uint8
        self.float64 = torch.float64

    def dtype(self, t: Any) -> Any:
        return self._dtype.__get__(t)

    def device(self, t: Any) -> Any:
        return self._device.__get__(t)

    def requires_grad(self, t: Any) -> bool:
        return bool(self._requires_grad.__get__(t))

    def shape(self, t: Any) -> list[int]:
        return list(self.size(t))


def _harness_tables(extra: dict[str, Any]) -> dict[str, Any]:
    """The namespaces whose entries the harness relies on, by name."""
    import torch
    import torch.autograd
    import torch.nn

    from kernelwright.verifier import channel, timing, witness

    tables: dict[str, Any] = {
        "torch.Tensor": vars(torch.Tensor),
        "torch.Tensor's metaclass": vars(type(torch.Tensor)),
        "torch.nn.Module": vars(torch.nn.Module),
        "torch": {name: getattr(torch, name) for name in _TORCH_FUNCTIONS if hasattr(torch, name)},
        "torch.autograd": {
            "backward": torch.autograd.backward,
            "grad": torch.autograd.grad,
        },
        "timing": vars(timing),
        "timing.CpuClock": vars(timing.CpuClock),
        "timing.CudaClock": vars(timing.CudaClock),
        "channel": vars(channel),
        "channel.Endpoint": vars(channel.Endpoint),
        "witness": vars(witness),
        "witness.OpTrace": vars(witness.OpTrace),
        "harness_guard.EntryPoints": vars(EntryPoints),
        "harness_guard.Watch": vars(Watch),
        **extra,
    }
    if torch.cuda.is_available():
        tables["torch.cuda"] = {
            "synchronize": torch.cuda.synchronize,
            "Event": torch.cuda.Event,
        }
    return tables


class Watch:
    """What the shared tables held before the candidate was imported, to compare after each call."""

    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        """``extra``: more tables by name (the worker passes its own module's namespace, which
        runs as ``__main__``)."""
        self.extra = dict(extra or {})
        # The objects themselves are kept (not their ids), so a freed id cannot be reused.
        self.before: dict[tuple[str, str], Any] = {}
        tables = _harness_tables(self.extra)
        # A class's own table gains an entry when a method it inherits is shadowed
        # (``torch.Tensor.clone = f`` lands on torch.Tensor, not on the C type it comes from).
        self.keys = {owner: set(tables[owner]) for owner in _CLASS_TABLES if owner in tables}
        for owner, table in tables.items():
            for name, value in list(table.items()):
                if callable(value) or isinstance(value, (staticmethod, classmethod, property)):
                    self.before[(owner, name)] = value

    def changed(self) -> list[str]:
        """Entries replaced or removed since the snapshot, as ``owner.name``."""
        now = _harness_tables(self.extra)
        moved = []
        for (owner, name), value in self.before.items():
            current = now.get(owner, {}).get(name, _MISSING)
            if current is not value:
                moved.append(f"{owner}.{name}")
        for owner, keys in self.keys.items():
            added = set(now[owner]) - keys - _INTERPRETER_CACHES
            moved.extend(f"{owner}.{name}" for name in sorted(added))
        return moved


_MISSING = object()
# Entries Python itself adds to a class (copyreg caches ``__slotnames__`` on the first pickle of
# an instance, which the harness's own replies are).
_INTERPRETER_CACHES = frozenset({"__slotnames__"})
# Class tables watched for entries added after the snapshot, not only replaced ones.
_CLASS_TABLES = ("torch.Tensor", "torch.Tensor's metaclass", "torch.nn.Module")
