"""``kernelwright keys``: store, list and remove LLM API keys (the keys file, mode 600).

A key is read from standard input (or a prompt that does not echo), never from an argument: an
argument shows in the process list and the shell's history. No command prints a key.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from kernelwright.agents.providers.base import ProviderError
from kernelwright.agents.providers.keys import KEY_ENV, keys_path, load_keys, remove_key, set_key
from kernelwright.commands.common import fail, out, print_json, say
from kernelwright.textsafe import term

keys_app = typer.Typer(help="Store, list and remove LLM API keys.", no_args_is_help=True)

ProviderArgument = Annotated[
    str, typer.Argument(metavar="PROVIDER", help=f"One of {', '.join(KEY_ENV)}.")
]


def _provider(name: str) -> str:
    if name not in KEY_ENV:
        fail(f"unknown provider {name!r}: one of {', '.join(KEY_ENV)}")
    return name


@keys_app.command("set")
def keys_set(provider: ProviderArgument) -> None:
    """Store PROVIDER's key, read from standard input or typed at a prompt that does not echo."""
    name = _provider(provider)
    if sys.stdin.isatty():
        key = typer.prompt(f"{name} key", hide_input=True)
    else:
        key = sys.stdin.readline()
    try:
        path = set_key(name, key)
    except ProviderError as exc:
        fail(str(exc))
    say(f"stored the {name} key in {path} (mode 600)")
    if os.environ.get(KEY_ENV[name]):
        say(f"note: {KEY_ENV[name]} is set and is used before the file")


@keys_app.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Which providers have a key, and where it comes from (never the key itself)."""
    try:
        stored = load_keys()
    except ProviderError as exc:
        fail(str(exc))
    rows = []
    for name, variable in KEY_ENV.items():
        source = (
            "env" if os.environ.get(variable, "").strip() else "file" if name in stored else None
        )
        rows.append({"provider": name, "variable": variable, "source": source})
    if as_json:
        print_json({"file": str(keys_path()), "providers": rows})
        return
    table = Table(title=term(f"keys (file: {keys_path()})"), title_justify="left")
    for column in ("provider", "variable", "key from"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["provider"], row["variable"], row["source"] or "-")
    out.print(table)


@keys_app.command("remove")
def keys_remove(provider: ProviderArgument) -> None:
    """Remove PROVIDER's key from the keys file."""
    name = _provider(provider)
    try:
        removed = remove_key(name)
    except ProviderError as exc:
        fail(str(exc))
    if not removed:
        fail(f"the keys file {keys_path()} holds no {name} key")
    say(f"removed the {name} key from {keys_path()}")
