"""The dependency rule of the design: ``cli → agents → verifier → backends → bench_tasks``, with
``runs`` used by the command layer and ``agents`` only, and the command layer (``cli.py`` and
``commands/``) imported by nothing else. Read from the source, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

# What each part of the package may never import (besides the command layer, which no part may).
FORBIDDEN = {
    "bench_tasks": {"backends", "verifier", "agents", "runs"},
    "backends": {"verifier", "agents", "runs"},
    "verifier": {"agents", "runs"},
    "runs": {"agents"},
    "agents": set(),
}
COMMAND_LAYER = {"cli", "commands"}


def _modules() -> list[tuple[str, Path]]:
    """(part, file) for every module of the package: the root's modules and each folder's."""
    found = [(path.stem, path) for path in sorted(ROOT.glob("*.py"))]
    for folder in sorted({*FORBIDDEN, *COMMAND_LAYER}):
        found += [(folder, path) for path in sorted((ROOT / folder).rglob("*.py"))]
    return found


def _imported_parts(path: Path) -> set[str]:
    """The top-level parts of kernelwright that ``path`` imports, wherever the import stands."""
    parts = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "kernelwright" and len(pieces) > 1:
                parts.add(pieces[1])
    return parts


def test_imports_point_one_way() -> None:
    broken = []
    for part, path in _modules():
        imported = _imported_parts(path)
        if part not in COMMAND_LAYER and imported & COMMAND_LAYER:
            broken.append(f"{path.relative_to(ROOT)} imports the command layer")
        for bad in sorted(imported & FORBIDDEN.get(part, set())):
            broken.append(f"{path.relative_to(ROOT)} imports {bad}")
    assert broken == []


def test_the_rule_sees_a_planted_violation(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "def f():\n    from kernelwright.cli import app\n    import kernelwright.runs\n"
    )
    assert _imported_parts(planted) == {"cli", "runs"}
