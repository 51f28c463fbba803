"""What every command shares: the consoles, one-line messages, exit codes and settings.

Data (labels, task ids, file names, logs) reaches a console only as plain text through
``textsafe.term``: never as rich markup, never with a control character of its own.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from kernelwright.config import ConfigError, Settings, load_settings
from kernelwright.textsafe import term

FreshBaselineOption = Annotated[
    bool,
    typer.Option(
        "--fresh-baseline",
        help="Measure eager and torch.compile again instead of using the baseline store's.",
    ),
]

EXIT_USAGE = 2
EXIT_INFRA = 3
EXIT_INTERRUPTED = 130

# Logs and pipes get a wide table instead of rich's 80-column default (COLUMNS still wins).
out = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)
err = Console(stderr=True)


StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Fail when any file of the suite does not load (by default it is skipped, named "
        "with the reason on stderr).",
    ),
]

ScaleOption = Annotated[
    str | None,
    typer.Option(
        "--scale",
        metavar="PRESET",
        help="Benchmark each task at its size preset of this name (gpu: sizes that fill a "
        "modern GPU); correctness is still checked on the task's other configs too.",
    ),
]

ExecutorOption = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where evaluations run: local (this machine) or ray (a Ray cluster: one evaluation "
        "per GPU of each node, or per CPU on a CPU backend; needs the ray extra).",
    ),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        metavar="ADDR",
        help="With --executor ray: the cluster (auto, or HOST:PORT of its head); default: a "
        "Ray instance started on this machine.",
    ),
]


def check_executor(executor: str, ray_address: str | None) -> None:
    """Refuse an unknown executor, an address without Ray, and Ray where it is not installed,
    each in one line (exit 2), before anything is stored."""
    import importlib.util

    if executor not in ("local", "ray"):
        fail(f"--executor {executor!r}: choose from local, ray")
    if ray_address is not None and executor != "ray":
        fail("--ray-address goes with --executor ray")
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        fail("--executor ray needs Ray: pip install -e '.[ray]' (or pip install 'ray>=2.40')")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """``error: message`` as one line on stderr (the message may hold data: it is shown as
    plain text, never as markup), then exit ``code``."""
    err.print(Text.assemble(("error:", "bold red"), " ", term(message)), soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    err.print(Text.assemble(("warning:", "yellow"), " ", term(message)), soft_wrap=True)


def say(message: str) -> None:
    """One line of output that may hold data, as plain text."""
    out.print(term(message), soft_wrap=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def settings(**flags: Any) -> Settings:
    """The user's settings; a bad one is one line and exit 2."""
    try:
        return load_settings(**flags)
    except ConfigError as exc:
        fail(str(exc))


def check_sandbox(level: str, quiet: bool) -> None:
    """Exit 3 when ``level`` cannot run here; warn when it resolves to the process level."""
    from kernelwright.verifier.sandbox import SandboxError, choose_level, process_level_warning

    try:
        resolved = choose_level(level)
    except SandboxError as exc:
        fail(str(exc), EXIT_INFRA)
    if resolved == "process" and not quiet:
        warn(process_level_warning())
