"""The op witnesses that run inside the child: which ops the candidate dispatched.

Two witnesses look at the same forward: a ``TorchDispatchMode`` (sees every op dispatched,
including from C++ extensions) and the op profiler (a second witness that dispatch-key tricks do
not blind). The parent decides from their counts (``guards.trace_violations``).

Both key an aten op by its bare name, an op the candidate registered itself (a Triton kernel
wrapped with ``torch.library.custom_op``, an op of its own C++ extension) as ``namespace::name``,
and any other op as ``namespace.name``. The candidate's own ops are its kernels; what runs inside
them is still counted: the dispatch mode, which is popped while it handles an op, is entered
again around the op's implementation, and the profiler records nested ops anyway.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
from pathlib import Path
from typing import Any

import torch

from kernelwright.verifier.guards import TORCH_NAMESPACES


def registered_ops() -> frozenset[str]:
    """Qualified names (``ns::name``) of every operator the dispatcher knows now."""
    try:
        return frozenset(str(n) for n in torch._C._dispatch_get_all_op_names())
    except Exception:
        return frozenset()


# Taken when the worker imports this module, before any candidate code runs: an op registered
# later was registered by the candidate's import (its own ops, or a library it imported).
PREEXISTING_OPS = registered_ops()

_REGISTERED_AT = re.compile(r"registered at (.+?):\d+")


_TORCH_DIR = Path(torch.__file__).resolve().parent
_STDLIB_DIRS = [
    Path(p).resolve()
    for p in {sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")}
    if p
]


def _neutral(path: str) -> bool:
    """torch's own wrappers and the standard library: registered through, never the origin."""
    if _under(path, [_TORCH_DIR]):
        return True
    parts = Path(path).parts
    return (
        "site-packages" not in parts and "dist-packages" not in parts and _under(path, _STDLIB_DIRS)
    )


def _under(path: str, roots: list[Path]) -> bool:
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return any(resolved == root or root in resolved.parents for root in roots)


class Ownership:
    """Which newly registered ops are the candidate's own, judged by where they were registered from.

    An op is the candidate's when it was registered after the snapshot, its namespace is not
    torch's or a vendor library's, and nothing it was registered from lies outside the
    candidate's file, its extension build directory, torch's own wrappers and the standard
    library: an op that a library registered on import (a C++ kernel built elsewhere, a Python
    function in site-packages) is not the candidate's.
    """

    def __init__(self, candidate: Any = None, preexisting: frozenset[str] | None = None) -> None:
        self.preexisting = PREEXISTING_OPS if preexisting is None else preexisting
        own: list[Path] = []
        source = _source_file(candidate)
        if source:
            own.append(Path(source).resolve())
        ext_dir = os.environ.get("TORCH_EXTENSIONS_DIR")
        if ext_dir:
            own.append(Path(ext_dir).resolve())
        self.own = own
        self.cache: dict[str, bool] = {}

    def owns(self, qualname: str) -> bool:
        known = self.cache.get(qualname)
        if known is None:
            known = self.cache[qualname] = self._decide(qualname)
        return known

    def _decide(self, qualname: str) -> bool:
        ns = qualname.split("::", 1)[0]
        if qualname in self.preexisting or ns in TORCH_NAMESPACES or not self.own:
            return False
        files = _provenance(qualname)
        if files is None:
            return False
        return bool(files) and all(_under(f, self.own) or _neutral(f) for f in files)


# The name the worker imports the candidate's file under.
CANDIDATE_MODULE = "candidate"


def _source_file(candidate: Any) -> str | None:
    """The file the candidate was imported from, given its module or one of its classes (by
    default, the module the worker imported it as)."""
    if candidate is None:
        module = sys.modules.get(CANDIDATE_MODULE)
    elif hasattr(candidate, "__file__"):
        module = candidate
    else:
        module = sys.modules.get(getattr(candidate, "__module__", "") or "")
    path = getattr(module, "__file__", None)
    return str(path) if path else None


def _provenance(qualname: str) -> set[str] | None:
    """Files an op's kernels were registered from, and the files of its Python implementation.

    ``torch.library.custom_op`` registers from torch's own file, so for those ops the functions
    it wraps (followed through closures and ``__wrapped__``) name the real origin.
    """
    try:
        dump = str(torch._C._dispatch_dump(qualname))
    except Exception:
        return None
    files = set(_REGISTERED_AT.findall(dump))
    try:
        from torch._library.custom_ops import OPDEFS
    except ImportError:
        return files
    opdef = OPDEFS.get(qualname)
    if opdef is not None:
        functions = [getattr(opdef, "_init_fn", None)]
        functions += list((getattr(opdef, "_backend_fns", None) or {}).values())
        for fn in functions:
            _function_files(fn, files, set(), 0)
    return files


def _function_files(fn: Any, files: set[str], seen: set[int], depth: int) -> None:
    """The file of ``fn``; through torch's own wrappers, the files of the functions they wrap."""
    if fn is None or id(fn) in seen or depth > 6:
        return
    seen.add(id(fn))
    code = getattr(fn, "__code__", None)
    if code is None:
        inner = getattr(fn, "func", None)  # functools.partial
        if inner is not None:
            _function_files(inner, files, seen, depth + 1)
        return
    files.add(str(code.co_filename))
    if not _under(str(code.co_filename), [_TORCH_DIR]):
        return
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is not None:
        _function_files(wrapped, files, seen, depth + 1)
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if callable(value):
            _function_files(value, files, seen, depth + 1)


def _dispatch_keys_below_python(args: Any, kwargs: Any) -> Any:
    """The backend keys an op would reach once past the Python key, from its tensor arguments."""
    keys = torch._C._dispatch_tls_local_include_set()
    for leaf in torch.utils._pytree.tree_leaves((args, kwargs)):
        if isinstance(leaf, torch.Tensor):
            keys = keys | torch._C._dispatch_keys(leaf)
    keys = keys - torch._C._dispatch_tls_local_exclude_set()
    return keys & torch._C._dispatch_keyset_full_after(torch._C.DispatchKey.BackendSelect)


class OpTrace:
    """Records the ops dispatched while the candidate runs (including from C++ extensions)."""

    def __init__(self, candidate: Any = None, preexisting: frozenset[str] | None = None) -> None:
        from torch.utils._python_dispatch import TorchDispatchMode

        counts: dict[str, int] = {}
        self.counts = counts
        ownership = Ownership(candidate, preexisting)
        self.ownership = ownership

        class _Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                if func.namespace == "aten":
                    name = str(func.overloadpacket.__name__)
                    counts[name] = counts.get(name, 0) + 1
                    return func(*args, **kwargs)
                if not isinstance(func, torch._ops.OpOverload):  # a higher-order op
                    key = f"{func.namespace}.{getattr(func, '__name__', func)}"
                    counts[key] = counts.get(key, 0) + 1
                    return func(*args, **kwargs)
                qualname = str(func._schema.name)
                key = qualname if ownership.owns(qualname) else qualname.replace("::", ".", 1)
                counts[key] = counts.get(key, 0) + 1
                # The mode is popped while it handles an op: enter it again and run the op's
                # kernel below the Python key, so that what the kernel dispatches is counted too.
                keys = _dispatch_keys_below_python(args, kwargs)
                if keys.raw_repr() == 0:
                    return func(*args, **kwargs)
                with self:
                    return func.redispatch(keys, *args, **kwargs)

        self.mode = _Mode()

    def canary(self) -> bool:
        """Run one computing op inside the mode and check it was counted: a blinded trace is not."""
        before = self.counts.get("mul", 0)
        torch.ones(2).mul(3)
        seen = self.counts.get("mul", 0) == before + 1
        self.counts["mul"] = before  # the canary is the harness's op, not the candidate's
        if self.counts["mul"] == 0:
            del self.counts["mul"]
        return seen


def profiled_ops(prof: Any, trace: OpTrace | None = None) -> dict[str, int]:
    """Ops the profiler saw, keyed as the dispatch trace keys them: a second witness that
    dispatch-key tricks do not blind. Events that are not operators (labels) are left out."""
    known = registered_ops()
    ownership = trace.ownership if trace is not None else Ownership()
    counts: dict[str, int] = {}
    for event in prof.events():
        name = str(event.name)
        if name.startswith("aten::"):
            key = name[len("aten::") :]
        elif name in known:
            key = name if ownership.owns(name) else name.replace("::", ".", 1)
        else:
            continue
        counts[key] = counts.get(key, 0) + 1
    return counts


# CUDA runtime and driver calls that launch a kernel, as the profiler names them.
_LAUNCH_CALLS = ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernelEx")


def device_activity(prof: Any) -> dict[str, float]:
    """Kernels the device ran during a profiled forward, their device time and the host time
    spent launching them (microseconds), from the profiler's CUDA activity: what the launch
    overhead figures are made of. Empty where the profiler recorded no device activity."""
    kernels = 0
    device_us = 0.0
    launch_us = 0.0
    for event in prof.events():
        name = str(event.name)
        device_type = str(getattr(event, "device_type", ""))
        if device_type.endswith("CUDA"):
            kernels += 1
            device_us += float(getattr(event, "device_time_total", 0.0) or 0.0)
        elif name.startswith(_LAUNCH_CALLS):
            launch_us += float(getattr(event, "cpu_time_total", 0.0) or 0.0)
    if not kernels:
        return {}
    return {"kernels": kernels, "device_us": device_us, "launch_us": launch_us}
