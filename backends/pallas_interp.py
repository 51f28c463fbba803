"""Pallas's interpreter in the child: every ``pallas_call`` runs with ``interpret=True``.

On a machine without a TPU or a JAX GPU plugin, a ``pallas_call`` that is not interpreted cannot
be lowered ("Only interpret mode is supported on CPU backend"); a candidate written for a TPU or a
GPU runs here unchanged, as a Triton kernel does under ``TRITON_INTERPRET``.
"""

from __future__ import annotations

import functools
from typing import Any

_INSTALLED = "_kernelwright_interpreted"


def install_interpreter_hooks() -> None:
    """Called by the worker before the candidate is imported, when the interpreter is on."""
    try:
        from jax.experimental import pallas
    except ImportError:
        return
    original = getattr(pallas, "pallas_call", None)
    if original is None or getattr(original, _INSTALLED, False):
        return

    @functools.wraps(original)
    def pallas_call(kernel: Any, *args: Any, **kwargs: Any) -> Any:
        # A TPU's or GPU's interpreter parameters (InterpretParams) are kept; anything else,
        # interpret=False included, becomes the plain interpreter.
        if not kwargs.get("interpret"):
            kwargs["interpret"] = True
        return original(kernel, *args, **kwargs)

    setattr(pallas_call, _INSTALLED, True)
    pallas.pallas_call = pallas_call
