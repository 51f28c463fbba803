"""The op witnesses that run inside the child: which aten ops the candidate dispatched.

Two witnesses look at the same forward: a ``TorchDispatchMode`` (sees every op dispatched,
including from C++ extensions) and the op profiler (a second witness that dispatch-key tricks do
not blind). The parent decides from their counts (``guards.trace_violations``).
"""

from __future__ import annotations

from typing import Any


class OpTrace:
    """Records the aten ops dispatched while the candidate runs (including from C++ extensions)."""

    def __init__(self) -> None:
        from torch.utils._python_dispatch import TorchDispatchMode

        counts: dict[str, int] = {}
        self.counts = counts

        class _Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                name = str(func.overloadpacket.__name__)
                counts[name] = counts.get(name, 0) + 1
                return func(*args, **(kwargs or {}))

        self.mode = _Mode()

    def canary(self) -> bool:
        """Run one computing op inside the mode and check it was counted: a blinded trace is not."""
        import torch

        before = self.counts.get("mul", 0)
        torch.ones(2).mul(3)
        seen = self.counts.get("mul", 0) == before + 1
        self.counts["mul"] = before  # the canary is the harness's op, not the candidate's
        if self.counts["mul"] == 0:
            del self.counts["mul"]
        return seen


def profiled_ops(prof: Any) -> dict[str, int]:
    """aten ops the profiler saw: a second witness that dispatch-key tricks do not blind."""
    counts: dict[str, int] = {}
    for event in prof.events():
        name = str(event.name)
        if name.startswith("aten::"):
            short = name[len("aten::") :]
            counts[short] = counts.get(short, 0) + 1
    return counts
