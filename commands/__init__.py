"""The command layer: the typer commands and what they share (messages, exit codes, settings).

Everything here is a thin face over library functions. May import every other part of
kernelwright; nothing outside ``cli.py`` and this package imports it.
"""
