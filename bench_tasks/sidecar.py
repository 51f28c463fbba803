"""A suite folder's sidecar (``kernelwright-suite.json``): what an importer learned about task
files it copied unchanged, so that the originals need no edit.

``{"format": 1, "source": "kernelbench", "tasks": {"19_ReLU.py": {...}}}``, where a task's entry
may hold ``category`` (one of ``CATEGORIES``; the file's own ``CATEGORY`` wins), ``backward``
(true: gradients are checked and timed), ``configs`` (more configs: for KernelBench's files,
whose sizes are module-level globals, each config sets some of those globals, applied when the
file runs, so that globals computed from them follow), and ``init`` (``"defaults"``: the file
has no ``get_init_inputs`` and its ``Model`` is built with its own defaults).

The sidecar is data from a folder the user named: every field is checked, and a malformed one
is a ``TaskError`` naming the file and the field.
"""

from __future__ import annotations

import ast
import copy
import json
import math
from pathlib import Path
from typing import Any

NAME = "kernelwright-suite.json"
_MAX_BYTES = 8 * 1024 * 1024
_KEYS = {"category", "backward", "configs", "init"}


class SidecarError(ValueError):
    """A sidecar that cannot be used; the message names the file and the field."""


def entry(path: Path) -> dict[str, Any]:
    """The sidecar's entry for task file ``path`` (empty where there is none)."""
    sidecar = path.parent / NAME
    if not sidecar.is_file():
        return {}
    tasks = _read(sidecar)
    found = tasks.get(path.name, {})
    return _checked(found, f"{sidecar}: {path.name}")


def _read(sidecar: Path) -> dict[str, Any]:
    if sidecar.stat().st_size > _MAX_BYTES:
        raise SidecarError(f"{sidecar} is larger than {_MAX_BYTES >> 20} MiB")
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SidecarError(f"{sidecar} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != 1:
        raise SidecarError(f'{sidecar}: expected an object with "format": 1')
    tasks = data.get("tasks")
    if not isinstance(tasks, dict):
        raise SidecarError(f'{sidecar}: "tasks" must map file names to entries')
    return tasks


def _checked(found: Any, where: str) -> dict[str, Any]:
    from kernelwright.bench_tasks.task import CATEGORIES

    if not isinstance(found, dict) or set(found) - _KEYS:
        raise SidecarError(f"{where}: an entry holds only {', '.join(sorted(_KEYS))}")
    category = found.get("category")
    if category is not None and category not in CATEGORIES:
        raise SidecarError(f"{where}: category {str(category)[:40]!r} is not one of the categories")
    if not isinstance(found.get("backward", False), bool):
        raise SidecarError(f"{where}: backward must be true or false")
    if found.get("init", "own") not in ("own", "defaults"):
        raise SidecarError(f'{where}: init must be "defaults" or absent')
    configs = found.get("configs", [])
    if not isinstance(configs, list) or len(configs) > 64:
        raise SidecarError(f"{where}: configs must be a list of at most 64 objects")
    for config in configs:
        if not isinstance(config, dict) or not all(
            isinstance(k, str) and k.isidentifier() and _plain(v) for k, v in config.items()
        ):
            raise SidecarError(f"{where}: a config maps names to numbers, strings or booleans")
    return found


def _plain(value: Any) -> bool:
    if isinstance(value, bool | str):
        return len(value) <= 200 if isinstance(value, str) else True
    if isinstance(value, int):
        return abs(value) < 2**53
    return isinstance(value, float) and math.isfinite(value)


def apply_overrides(tree: ast.Module, overrides: dict[str, Any]) -> dict[str, Any]:
    """Give module-level assignments of ``overrides``' names their overridden values, in the
    parsed file, so that globals computed from them after it follow (``bias_shape =
    (out_channels, 1, 1)``); ``a = b = 3`` is split when only one of them is overridden. The
    values the file gave the names assigned this way, where they are literals."""
    done: dict[str, Any] = {}
    body: list[ast.stmt] = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign):
            body.append(stmt)
            continue
        names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        if len(names) != len(stmt.targets) or not set(names) & set(overrides):
            body.append(stmt)
            continue
        for name in names:
            # ``height = width = 128`` with only height overridden: width keeps 128.
            value = (
                ast.Constant(overrides[name]) if name in overrides else copy.deepcopy(stmt.value)
            )
            assign = ast.Assign([ast.Name(name, ast.Store())], value)
            body.append(ast.copy_location(assign, stmt))
            for node in (assign.targets[0], value):
                if not hasattr(node, "lineno") or isinstance(node, ast.Constant | ast.Name):
                    ast.copy_location(node, stmt)
            if name in overrides:
                try:
                    done[name] = ast.literal_eval(stmt.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    done[name] = None
    tree.body = body
    ast.fix_missing_locations(tree)
    return done
