"""The JAX witness inside a pallas child: what JAX computed outside the candidate's Pallas kernels.

A Pallas candidate's kernels are the bodies of its ``pallas_call``s. A forward that does its work
with ``jnp`` around them (``jnp.dot`` on the inputs, a ``jax.nn.softmax`` after an identity
kernel) runs XLA's kernels, not its own (E13, E19). Every JAX computation, eager or traced for
``jax.jit``, goes through one method, ``Primitive.bind``; the witness counts every primitive bound
outside a Pallas kernel, by name, from before the candidate is imported until the child ends.

Counting for the whole life of the child, not only during traced calls, is what makes ``jax.jit``
visible: a jitted function binds its primitives once, when it is traced for a new signature (in
the process that calls it: JAX's caches do not skip tracing across processes), and runs them from
the compiled program afterwards. So a computation is counted on its first call, whenever and
wherever that happens (at import, in an untimed call), and the parent judges the counts with
every witnessed call.

Inside a kernel means: while the callable that ``pallas_call`` returned runs (it traces the kernel
body and its index maps), while ``pallas_call``'s own primitive is bound (its implementation, and
on the interpreter the evaluation of the kernel), and while a ``pallas_call`` is lowered inside a
jitted program (on the interpreter, lowering traces the interpreter's loop over the grid); and
only for primitives bound into a trace: a kernel is traced, never run, so a primitive computed
eagerly is counted wherever it is bound. The static allowlist denies what would compute past
``bind`` (host callbacks, ``ensure_compile_time_eval``, ``device_get``, pytree registration, a
primitive's ``impl``).

The candidate owns its process, so it can unhook this: the canary (one primitive bound outside
any kernel must be counted) and the harness's watch on ``Primitive.bind`` raise the cost. What
backs it from outside is the import allowlist on the parsed source (no library beyond ``jax`` and
torch's bookkeeping), and on a GPU the profiler's kernel names.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import sys
from collections.abc import Callable
from typing import Any

# Primitives bound outside any kernel since install, by name.
_COUNTS: dict[str, int] = {}
# Depth of "inside a Pallas kernel": tracing, binding or lowering a pallas_call.
_INSIDE = [0]
# Set on every function this module put in place, so that installing twice changes nothing.
_MARK = "_kernelwright_jax_witness"
_INSTALLED = [False]

# The canary's primitive: it is bound outside any kernel on purpose, then taken off the counts.
_CANARY = "mul"


def counts() -> dict[str, int]:
    """Primitives bound outside the candidate's kernels since install, keyed ``jax.<name>`` as the
    op witnesses key a library's ops."""
    return {f"jax.{name}": n for name, n in _COUNTS.items()}


def install() -> bool:
    """Hook ``Primitive.bind``, ``pallas_call`` and the lowering of ``pallas_call``; call before the
    candidate is imported. False where jax or Pallas is missing (nothing to witness)."""
    if _INSTALLED[0]:
        return True
    if "jax" not in sys.modules and importlib.util.find_spec("jax") is None:
        return False
    try:
        from jax._src import core
        from jax._src.interpreters import mlir
        from jax._src.pallas import pallas_call as pallas_call_module
        from jax.experimental import pallas
    except ImportError:
        return False
    primitive = pallas_call_module.pallas_call_p
    _hook_bind(core, primitive)
    _hook_pallas_call(pallas)
    _hook_lowerings(mlir, primitive)
    _INSTALLED[0] = True
    return True


@contextlib.contextmanager
def _inside() -> Any:
    _INSIDE[0] += 1
    try:
        yield
    finally:
        _INSIDE[0] -= 1


def _hook_bind(core: Any, pallas_call_p: Any) -> None:
    cls = core.Primitive
    original = cls.__dict__["bind"]
    if getattr(original, _MARK, False):
        return
    tracing = core.trace_ctx
    eager = core.EvalTrace
    jaxprs_in = core.jaxprs_in_params

    @functools.wraps(original)
    def bind(self: Any, *args: Any, **params: Any) -> Any:
        if self is pallas_call_p:
            with _inside():
                return original(self, *args, **params)
        # A kernel is traced, never run eagerly: a bind that computes a value now is work done
        # outside the kernel, even from inside the kernel's Python body (a value made concrete
        # while the kernel is traced and handed out).
        now = isinstance(tracing.trace, eager)
        if not _INSIDE[0] or now:
            name = str(self.name)
            _COUNTS[name] = _COUNTS.get(name, 0) + 1
            if now:
                # A jitted program run now (jnp's own functions are jitted): what it computes
                # was traced inside its own jit, where a window may have hidden it.
                for jaxpr in jaxprs_in(params):
                    _count_program(jaxpr, pallas_call_p, 0)
        return original(self, *args, **params)

    setattr(bind, _MARK, True)
    cls.bind = bind


def _count_program(jaxpr: Any, pallas_call_p: Any, depth: int) -> None:
    """Count the primitives of a program run eagerly, and of the programs it calls, but not
    what a ``pallas_call`` in it holds (the kernel)."""
    from jax._src import core

    if depth > 16:
        return
    for eqn in jaxpr.eqns:
        if eqn.primitive is pallas_call_p:
            continue
        name = str(eqn.primitive.name)
        _COUNTS[name] = _COUNTS.get(name, 0) + 1
        for inner in core.jaxprs_in_params(eqn.params):
            _count_program(inner, pallas_call_p, depth + 1)


def _hook_pallas_call(pallas: Any) -> None:
    """The callable ``pallas_call`` returns traces the kernel when called: inside."""
    original = getattr(pallas, "pallas_call", None)
    if original is None or getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def pallas_call(kernel: Any, *args: Any, **kwargs: Any) -> Any:
        with _inside():
            staged = original(kernel, *args, **kwargs)

        @functools.wraps(staged)
        def call(*call_args: Any, **call_kwargs: Any) -> Any:
            with _inside():
                return staged(*call_args, **call_kwargs)

        return call

    setattr(pallas_call, _MARK, True)
    pallas.pallas_call = pallas_call


def _hook_lowerings(mlir: Any, pallas_call_p: Any) -> None:
    """Lowering a jitted program that holds a ``pallas_call`` lowers the kernel (on the interpreter,
    by tracing the interpreter): inside. The rules live in two tables, common and per platform."""
    tables = [getattr(mlir, "_lowerings", {})]
    tables += list(getattr(mlir, "_platform_specific_lowerings", {}).values())
    for table in tables:
        entry = table.get(pallas_call_p)
        if entry is None or getattr(entry.rule, _MARK, False):
            continue
        table[pallas_call_p] = type(entry)(_inside_rule(entry.rule), entry.inline)


def _inside_rule(rule: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(rule)
    def lowering(*args: Any, **kwargs: Any) -> Any:
        with _inside():
            return rule(*args, **kwargs)

    setattr(lowering, _MARK, True)
    return lowering


def canary() -> bool:
    """Bind one primitive outside any kernel and check that it was counted; the canary's own count
    is taken off again. A blinded witness fails this."""
    if not _INSTALLED[0]:
        return False
    try:
        import numpy as np
        from jax import lax
    except ImportError:
        return False
    before = _COUNTS.get(_CANARY, 0)
    try:
        lax.mul_p.bind(np.float32(2.0), np.float32(3.0))
    except Exception:
        return False
    # Bound eagerly, the primitive is bound again when JAX compiles it the first time.
    seen = _COUNTS.get(_CANARY, 0) > before
    if before:
        _COUNTS[_CANARY] = before
    else:
        _COUNTS.pop(_CANARY, None)
    return seen


def watched() -> dict[str, Any]:
    """The tables the harness's watch compares after every call: a rebound ``bind`` or
    ``pallas_call`` is tampering (E22)."""
    if not _INSTALLED[0]:
        return {}
    import jax
    from jax._src import core
    from jax.experimental import pallas

    return {
        "jax": vars(jax),  # jax.jit, whose wrapper replays launches
        "jax.core.Primitive": vars(core.Primitive),
        "jax.experimental.pallas": vars(pallas),
    }
