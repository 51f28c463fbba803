"""Triton's interpreter in the child: what a candidate needs from it beyond ``TRITON_INTERPRET``."""

from __future__ import annotations


def install_interpreter_hooks() -> None:
    """Called by the worker before the candidate is imported, when the interpreter is on."""
