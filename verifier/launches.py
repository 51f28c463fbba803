"""Launches of the candidate's own kernels, counted inside the child (E19).

A forward that computes with numpy, scipy's BLAS, another library or a Python loop, with a
``@triton.jit`` kernel defined only for show, launches none of its own kernels. The worker installs
the counter before the candidate is imported, reads a window of counts around each traced forward
call, and the parent rejects a traced forward that launched none.

What is counted, per backend (keys are ``kind:module.name``; ``LaunchCounter.own`` keeps the keys
whose kernels were defined in the candidate's file or its extension build directory, as
``witness.Ownership`` does for ops):

- ``triton:<module>.<kernel>``: every launch of a ``@triton.jit`` kernel, compiled (``JITFunction.run``) or
  on the interpreter (``InterpretedFunction.run``), whether called as ``kernel[grid](...)``,
  through ``triton.autotune``/``triton.heuristics`` (both end in the kernel's ``run``: one launch
  per call, not one per wrapper), through ``torch.library.wrap_triton``, or from inside a
  ``torch.library.custom_op``/``triton_op``. Warm-ups (``warmup=True`` compiles only) and the
  autotuner's benchmark runs are not launches of the forward and are left out.
- ``ext:<module>.<function>``: calls of the functions of a module that
  ``torch.utils.cpp_extension.load_inline`` or ``load`` returned (C++ and CUDA extensions). Ops an
  extension registers with the dispatcher instead (``is_python_module=False``) are seen by the op
  witnesses (``witness.py``), and CUDA kernels by the profiler.
- ``pallas:<module>.<kernel>``: calls of the callables ``jax.experimental.pallas.pallas_call``
  returned. Under ``jax.jit`` those run from the compiled program without calling back into
  Python, only on the call that traces it; so ``jax.jit`` hands out functions that note the
  launches their trace made for each signature of arguments, and count them again on every
  call that runs the compiled program instead (a compiled program always runs what it traced).

The candidate owns its process, so it can forge these counts: this check raises the cost of a
forward that does its work outside any kernel, no more. What backs it from outside is the parent's
import allowlist on the parsed source (a library that does the work cannot be imported) and the op
witnesses, whose counts the parent judges too.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Every launch counted since install, by key. Module-level so that the hooks reach it with one
# global lookup; there is one counter per process.
_COUNTS: dict[str, int] = {}
# The files each key's kernels were defined in (a Triton kernel's function, an extension's shared
# object, a Pallas kernel's function): whose kernels they are.
_ORIGINS: dict[str, set[str]] = {}
# Depth of the autotuner's benchmarking: its runs of each config are not launches of the forward.
_BENCHING = [0]
# Set on every function this module put in place, so that installing twice changes nothing.
_MARK = "_kernelwright_launches"
# Where a Triton kernel keeps its key once computed, so that a launch costs a dict lookup.
_KEY = "_kernelwright_launch_key"


class LaunchCounter:
    """Read the launch counts: all of them, or those between two points."""

    def __init__(self) -> None:
        self.backends: set[str] = set()
        self._started: dict[str, int] | None = None

    def snapshot(self) -> dict[str, int]:
        """Every launch counted since the counter was installed, by key."""
        return dict(_COUNTS)

    @staticmethod
    def since(before: dict[str, int]) -> dict[str, int]:
        """The launches counted after ``before`` (a snapshot), by key; keys with none left out."""
        return {k: n - before.get(k, 0) for k, n in _COUNTS.items() if n != before.get(k, 0)}

    @contextmanager
    def window(self) -> Iterator[dict[str, int]]:
        """``with counter.window() as launches:``; once the block exits, ``launches`` holds the
        launches counted inside it (filled even when the block raises)."""
        before = dict(_COUNTS)
        launches: dict[str, int] = {}
        try:
            yield launches
        finally:
            launches.update(self.since(before))

    @staticmethod
    def origins() -> dict[str, list[str]]:
        """The files each key's kernels were defined in (``"?"`` where unknown)."""
        return {k: sorted(files) for k, files in _ORIGINS.items()}

    @staticmethod
    def own(launches: dict[str, int], roots: list[str]) -> dict[str, int]:
        """The launches whose kernels were all defined under ``roots`` (the candidate's file, its
        extension build directory): a kernel of torch or of a library is not the candidate's."""
        resolved = [Path(r).resolve() for r in roots]

        def under(path: str) -> bool:
            try:
                p = Path(path).resolve()
            except (OSError, RuntimeError, ValueError):
                return False
            return any(p == r or r in p.parents for r in resolved)

        return {
            k: n
            for k, n in launches.items()
            if _ORIGINS.get(k) and all(f != "?" and under(f) for f in _ORIGINS[k])
        }

    def start(self) -> None:
        """Open a window; ``stop`` returns what was launched since."""
        self._started = dict(_COUNTS)

    def stop(self) -> dict[str, int]:
        if self._started is None:
            raise RuntimeError("LaunchCounter.stop() without start()")
        before, self._started = self._started, None
        return self.since(before)


_COUNTER = LaunchCounter()


def install(backend: str) -> LaunchCounter:
    """Hook the launch paths of ``backend`` (``triton``, ``cpu``, ``cuda``, ``hip``, ``pallas``);
    call before the candidate is imported. Installing again (any backend) adds only the hooks not
    yet in place, and returns the same counter."""
    if backend == "triton":
        _hook_triton()
    elif backend in ("cpu", "cuda", "hip"):
        _hook_cpp_extension()
    elif backend == "pallas":
        _hook_pallas()
    else:
        raise ValueError(f"no launch hooks for backend {backend!r}")
    _COUNTER.backends.add(backend)
    return _COUNTER


def counter() -> LaunchCounter:
    """The process's counter (counts nothing until ``install``)."""
    return _COUNTER


# ---- Triton -----------------------------------------------------------------------------------


def _hook_triton() -> None:
    try:
        from triton.runtime.jit import JITFunction
    except ImportError:
        return
    _hook_triton_run(JITFunction)
    try:
        from triton.runtime.interpreter import InterpretedFunction
    except ImportError:
        pass
    else:
        _hook_triton_run(InterpretedFunction)
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:
        return
    bench = Autotuner.__dict__.get("_bench")
    if bench is not None and not getattr(bench, _MARK, False):
        Autotuner._bench = _benchmarking(bench)


def _hook_triton_run(cls: type) -> None:
    """Count in ``cls.run``: the one path every launch of a kernel takes."""
    original = cls.__dict__.get("run")
    if original is None or getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("warmup") and not _BENCHING[0]:
            key = getattr(self, _KEY, None) or _triton_key(self)
            _COUNTS[key] = _COUNTS.get(key, 0) + 1
        return original(self, *args, **kwargs)

    setattr(run, _MARK, True)
    cls.run = run  # type: ignore[attr-defined]


def _triton_key(kernel: Any) -> str:
    """The key of a kernel (``triton:<module>.<name>``), noted with its origin and kept on the
    kernel."""
    fn = getattr(kernel, "fn", None)
    key = "triton:" + _qualified(fn)
    _ORIGINS.setdefault(key, set()).add(_defined_in(fn))
    with contextlib.suppress(AttributeError, TypeError):
        setattr(kernel, _KEY, key)
    return key


def _qualified(fn: Any) -> str:
    """``<module>.<name>`` of a Python function (through ``functools.partial``)."""
    fn = getattr(fn, "func", fn)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or "kernel"
    module = getattr(fn, "__module__", None)
    return f"{module}.{name}" if module else str(name)


def _defined_in(fn: Any) -> str:
    """The file a Python function was defined in (through ``functools.partial``)."""
    fn = getattr(fn, "func", fn)
    code = getattr(fn, "__code__", None)
    return str(code.co_filename) if code is not None else "?"


def _benchmarking(bench: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(bench)
    def _bench(*args: Any, **kwargs: Any) -> Any:
        _BENCHING[0] += 1
        try:
            return bench(*args, **kwargs)
        finally:
            _BENCHING[0] -= 1

    setattr(_bench, _MARK, True)
    return _bench


# ---- C++ and CUDA extensions ------------------------------------------------------------------


def _hook_cpp_extension() -> None:
    import torch.utils.cpp_extension as cpp_ext

    for name in ("load_inline", "load"):
        builder = getattr(cpp_ext, name, None)
        if builder is None or getattr(builder, _MARK, False):
            continue
        setattr(cpp_ext, name, _counting_builder(builder))


def _counting_builder(builder: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(builder)
    def build(*args: Any, **kwargs: Any) -> Any:
        module = builder(*args, **kwargs)
        if isinstance(module, types.ModuleType):
            _wrap_module_functions(module)
        return module

    setattr(build, _MARK, True)
    return build


def _wrap_module_functions(module: types.ModuleType) -> None:
    """Replace each function of an extension module (pybind builtins) by a counting wrapper."""
    prefix = f"ext:{module.__name__}."
    origin = str(getattr(module, "__file__", None) or "?")
    for attr, value in list(vars(module).items()):
        if attr.startswith("__") or getattr(value, _MARK, False):
            continue
        if isinstance(value, types.BuiltinFunctionType | types.FunctionType):
            setattr(module, attr, _counting_call(value, prefix + attr, origin))


def _counting_call(fn: Callable[..., Any], key: str, origin: str) -> Callable[..., Any]:
    _ORIGINS.setdefault(key, set()).add(origin)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        _COUNTS[key] = _COUNTS.get(key, 0) + 1
        return fn(*args, **kwargs)

    setattr(call, _MARK, True)
    return call


# ---- Pallas -----------------------------------------------------------------------------------


def _hook_pallas() -> None:
    """Wrap ``pallas_call`` so that the callables it returns count their calls.

    Only where jax is installed; importing it takes seconds, so no other backend does.
    """
    if "jax" not in sys.modules and importlib.util.find_spec("jax") is None:
        return
    try:
        from jax.experimental import pallas
    except ImportError:
        return
    original = getattr(pallas, "pallas_call", None)
    if original is None or getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def pallas_call(kernel: Any, *args: Any, **kwargs: Any) -> Any:
        staged = original(kernel, *args, **kwargs)
        key = f"pallas:{_qualified(kernel)}"
        return _counting_call(staged, key, _defined_in(kernel))

    setattr(pallas_call, _MARK, True)
    pallas.pallas_call = pallas_call
    _hook_jit()


def _hook_jit() -> None:
    import jax

    original = jax.jit
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def jit(fun: Any = None, /, **options: Any) -> Any:
        if fun is None:  # ``jax.jit(static_argnums=...)`` as a decorator
            return lambda f: jit(f, **options)
        return _ReplayingJit(original(fun, **options), fun, options)

    setattr(jit, _MARK, True)
    jax.jit = jit


# What each jitted function's traces launched, by signature of arguments ("" holds the latest).
# Kept for the process, not per wrapper: JAX's own cache is shared by every ``jax.jit`` of the
# same function with the same options, so a wrapper made anew in each forward runs a program
# that another wrapper traced. The function is kept alive with its record, so its id stays its.
_JIT_RECORDS: dict[tuple[int, str], tuple[Any, dict[str, dict[str, int]]]] = {}


class _ReplayingJit:
    """A jitted function that counts, on a call served from its compiled program, the launches
    its trace made for the same signature of arguments (or, for a signature it has no record
    of, its latest trace's)."""

    def __init__(self, jitted: Any, fun: Any, options: dict[str, Any]) -> None:
        self._jitted = jitted
        key = (id(fun), repr(sorted(options.items(), key=lambda kv: kv[0])))
        self._records = _JIT_RECORDS.setdefault(key, (fun, {}))[1]
        # Names and docs only: JAX keeps ``lower`` and ``trace`` in the jitted function's own
        # ``__dict__``, which would hide this class's ``lower``; the rest is reached through
        # ``__getattr__``.
        functools.update_wrapper(self, jitted, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        before = dict(_COUNTS)
        out = self._jitted(*args, **kwargs)
        _replay(LaunchCounter.since(before), self._records, _signature(args, kwargs))
        return out

    def lower(self, *args: Any, **kwargs: Any) -> Any:
        """Ahead of time: the launches the trace made are counted on every call of what
        ``.compile()`` returns."""
        before = dict(_COUNTS)
        lowered = self._jitted.lower(*args, **kwargs)
        launched = LaunchCounter.since(before)
        signature = _signature(args, kwargs)
        if launched:
            self._records[signature] = self._records[""] = launched
            # Lowering traces the kernels but runs none: the compiled program's calls count.
            for k in launched:
                _COUNTS[k] = before.get(k, 0)
        else:  # JAX's trace cache served the lowering: what its trace launched
            launched = dict(self._records.get(signature, self._records.get("", {})))
        return _CountingLowered(lowered, launched)

    def __getattr__(self, name: str) -> Any:  # trace, eval_shape, clear_cache, ...
        return getattr(self._jitted, name)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)


def _replay(launched: dict[str, int], records: dict[str, dict[str, int]], signature: str) -> None:
    if launched:
        records[signature] = records[""] = launched
        return
    for k, n in records.get(signature, records.get("", {})).items():
        _COUNTS[k] = _COUNTS.get(k, 0) + n


class _CountingLowered:
    def __init__(self, lowered: Any, launched: dict[str, int]) -> None:
        self._lowered = lowered
        self._launched = launched

    def compile(self, *args: Any, **kwargs: Any) -> Any:
        return _CountingCompiled(self._lowered.compile(*args, **kwargs), self._launched)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lowered, name)


class _CountingCompiled:
    def __init__(self, compiled: Any, launched: dict[str, int]) -> None:
        self._compiled = compiled
        self._launched = launched

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self._compiled(*args, **kwargs)
        for k, n in self._launched.items():
            _COUNTS[k] = _COUNTS.get(k, 0) + n
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compiled, name)


def _signature(args: Any, kwargs: Any) -> str:
    """What a jitted function's cache tells calls apart by: the tree of arguments, the shape and
    dtype of each array, and the value of anything else (a static argument)."""
    import jax

    leaves, tree = jax.tree_util.tree_flatten((args, kwargs))
    parts = [str(tree)]
    for leaf in leaves:
        shape = getattr(leaf, "shape", None)
        if shape is not None and hasattr(leaf, "dtype"):
            parts.append(f"{tuple(shape)}:{leaf.dtype}")
        elif isinstance(leaf, bool | int | float | complex):
            # Traced as a weakly typed scalar unless static: its value does not pick a program.
            parts.append(type(leaf).__name__)
        else:
            parts.append(f"{type(leaf).__name__}={leaf!r:.80}")
    return "|".join(parts)
