"""Importers: another benchmark's task files copied unchanged into suite folders, with a sidecar
(``bench_tasks/sidecar.py``) that says what kernelwright needs and the files do not: a category,
the configs a task is also checked on, whether it is a backward task.

- ``kernelbench``: ``KernelBench/level{1,2,3,4}/<id>_<Name>.py``, one suite folder per level.
  Sizes are module-level globals; configs set them (see ``propose_configs``).
- ``multikernelbench``: ``reference/<category>/<name>.py``, one suite, the folder as category.
  Its ``npukernelbench_level*`` folders (Ascend NPU tasks without ``get_inputs``) are named and
  left out.
- ``robust-kbench``: ``tasks/kernelbench/level_{1,2}/task_<N>/func_forward.py`` and the custom
  ``tasks/<name>/func_{forward,backward}.py``: no ``get_init_inputs`` (their ``Model`` takes its
  defaults) and sizes as keyword defaults of ``get_inputs``; a ``func_backward.py`` is a backward
  task.

Task files are code from a folder the user named: they run here only as ``tasks list`` runs
them, to check the configs proposed for them on the meta device (no memory is allocated).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernelwright.bench_tasks import sidecar
from kernelwright.bench_tasks.task import TaskError, load_task_module

KINDS = ("kernelbench", "multikernelbench", "robust-kbench")

# KernelBench level 1 and robust-kbench level 1 file names, to a category; the first match wins.
_NAME_CATEGORIES: list[tuple[str, str]] = [
    (r"attention", "attention"),
    (r"conv", "conv"),
    (r"pool", "pooling"),
    (r"norm", "norm"),
    (r"loss|entropy|divergence|hinge|huber|triplet|margin", "loss"),
    (
        r"softmax|relu|gelu|sigmoid|tanh|swish|elu|softplus|softsign|hardtanh|activation",
        "activation",
    ),
    (r"matmul|matrix|gemm|bmm|matvec|multiplication|einsum|linear|dot", "matmul"),
    (r"cumsum|cumprod|argmax|argmin|sum|mean|max|min|product|reduction|reduce", "reduce"),
    (r"adam|sgd|rmsprop|adagrad|optimizer", "optimizer"),
    (r"upsample|interpolate|resize|pixel", "resize"),
    (r"gather|scatter|index|embedding|select|mask", "index"),
    (r"broadcast|add|scale|bias", "broadcast"),
]
_MULTIKERNELBENCH = {
    "activation": "activation",
    "arch": "full_arch",
    "attention": "attention",
    "broadcast": "broadcast",
    "convolution": "conv",
    "fuse": "fusion",
    "index": "index",
    "loss": "loss",
    "math": "math",
    "matmul": "matmul",
    "normalization": "norm",
    "optimizer": "optimizer",
    "pooling": "pooling",
    "reduce": "reduce",
    "resize": "resize",
}
_ROBUST_CUSTOM = {
    "layernorm": "norm",
    "llama_rmsnorm": "norm",
    "llama_ffw": "fusion",
    "mnist_conv_relu_pool": "fusion",
    "mnist_cross_entropy": "loss",
    "mnist_linear": "matmul",
    "mnist_linear_relu": "fusion",
    "mnist_pool": "pooling",
    "resnet_block": "full_arch",
    "unet_conv2d": "conv",
    "unet_linear": "matmul",
}
# A module-level integer at least this large is a size a config may change; smaller ones are
# kernel sizes, strides, axes and group counts, which stay.
_SIZE_FLOOR = 8


def category_from_name(stem: str) -> str:
    words = stem.lower()
    return next((cat for pattern, cat in _NAME_CATEGORIES if re.search(pattern, words)), "math")


@dataclass
class SuiteImport:
    """One suite folder written: its task files, the configs attached, the files left out."""

    folder: Path
    tasks: int = 0
    configs: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "tasks": self.tasks,
            "configs": self.configs,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
        }


@dataclass
class _Entry:
    source: Path
    name: str
    category: str | None
    backward: bool = False
    init_defaults: bool = False
    propose: bool = True


def import_tasks(
    kind: str, source: Path, dest: Path, progress: Callable[[str], None] | None = None
) -> list[SuiteImport]:
    """Copy ``kind``'s task files from ``source`` into suite folders under ``dest`` (which must
    not exist yet, or be empty), each with its sidecar."""
    if kind not in KINDS:
        raise TaskError(f"unknown importer {kind!r} (choose from {', '.join(KINDS)})")
    if not source.is_dir():
        raise TaskError(f"{source} is not a folder")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise TaskError(f"{dest} exists and is not an empty folder: nothing was written")
    plan = {"kernelbench": _kernelbench, "multikernelbench": _multikernelbench}.get(
        kind, _robust_kbench
    )(source)
    if not plan:
        raise TaskError(f"no {kind} task files found under {source}")
    return [
        _write(dest / folder, entries, skipped, progress)
        for folder, (entries, skipped) in plan.items()
    ]


_Plan = dict[str, tuple[list[_Entry], list[tuple[str, str]]]]


def _kernelbench(source: Path) -> _Plan:
    root = source / "KernelBench" if (source / "KernelBench").is_dir() else source
    levels = sorted(p for p in root.glob("level*") if p.is_dir())
    if not levels and any(root.glob("*.py")):
        levels = [root]
    plan: _Plan = {}
    for level in levels:
        fixed = {"level2": "fusion", "level3": "full_arch", "level4": "full_arch"}.get(level.name)
        entries = []
        for path in _python_files(level):
            category = fixed or category_from_name(path.stem.split("_", 1)[-1])
            # Level 4 builds Hugging Face configs from the network at import: not run here.
            entries.append(_Entry(path, path.name, category, propose=level.name != "level4"))
        plan[level.name] = (entries, [])
    return plan


def _multikernelbench(source: Path) -> _Plan:
    root = source / "reference" if (source / "reference").is_dir() else source
    entries: list[_Entry] = []
    skipped: list[tuple[str, str]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        category = _MULTIKERNELBENCH.get(folder.name)
        for path in _python_files(folder):
            if category is None:
                skipped.append((f"{folder.name}/{path.name}", _why_not(folder.name)))
            else:
                entries.append(_Entry(path, path.name, category))
    return {"multikernelbench": (entries, skipped)} if entries else {}


def _why_not(folder: str) -> str:
    if folder.startswith("npukernelbench"):
        return "an Ascend NPU task (torch_npu, inputs from a JSON file, no get_inputs)"
    return f"folder {folder!r} is not one of MultiKernelBench's categories"


def _robust_kbench(source: Path) -> _Plan:
    root = source / "tasks" if (source / "tasks").is_dir() else source
    plan: _Plan = {}
    for level in sorted((root / "kernelbench").glob("level_*")):
        entries = []
        for task in sorted(level.glob("task_*"), key=lambda p: _number(p.name)):
            forward = task / "func_forward.py"
            if not forward.is_file():
                continue
            original = next(iter(sorted(task.glob("[0-9]*_*.py"))), None)
            name = original.stem.split("_", 1)[-1] if original else task.name
            category = "fusion" if level.name == "level_2" else category_from_name(name)
            entries.append(_Entry(forward, f"{task.name}_forward.py", category, init_defaults=True))
        if entries:
            plan[level.name] = (entries, [])
    custom = []
    for task in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "kernelbench"):
        category = _ROBUST_CUSTOM.get(task.name) or category_from_name(task.name)
        for part in ("forward", "backward"):
            path = task / f"func_{part}.py"
            if path.is_file():
                custom.append(
                    _Entry(
                        path,
                        f"{task.name}_{part}.py",
                        category,
                        backward=part == "backward",
                        init_defaults=True,
                    )
                )
    if custom:
        plan["custom"] = (custom, [])
    return plan


def _number(name: str) -> int:
    digits = "".join(c for c in name if c.isdigit())
    return int(digits) if digits else 0


def _python_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.glob("*.py") if not p.name.startswith("_") and not p.is_symlink()),
        key=lambda p: (_number(p.name.split("_", 1)[0]), p.name),
    )


def _write(
    folder: Path,
    entries: list[_Entry],
    skipped: list[tuple[str, str]],
    progress: Callable[[str], None] | None,
) -> SuiteImport:
    folder.mkdir(parents=True, exist_ok=True)
    done = SuiteImport(folder, skipped=list(skipped))
    tasks: dict[str, dict[str, Any]] = {}
    for n, item in enumerate(entries, start=1):
        target = folder / item.name
        shutil.copyfile(item.source, target)  # the original, byte for byte
        meta: dict[str, Any] = {}
        if item.category:
            meta["category"] = item.category
        if item.backward:
            meta["backward"] = True
        if item.init_defaults:
            meta["init"] = "defaults"
        configs = propose_configs(target) if item.propose else []
        if configs:
            meta["configs"] = configs
        tasks[item.name] = meta
        done.tasks += 1
        done.configs += len(configs)
        if progress is not None and (n % 25 == 0 or n == len(entries)):
            progress(f"{folder.name}: {n}/{len(entries)} files")
    text = json.dumps({"format": 1, "source": folder.name, "tasks": tasks}, indent=1)
    (folder / sidecar.NAME).write_text(text + "\n")
    return done


def _size_globals(path: Path) -> dict[str, int]:
    """Module-level integer literals that are sizes (``batch_size = 16``, ``height = width =
    128``), from the file's text."""
    try:
        tree = ast.parse(path.read_text())
    except (SyntaxError, ValueError, OSError, UnicodeDecodeError):
        return {}
    sizes = {}
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign):
            continue
        value = _integer(stmt.value)
        if value is None or value < _SIZE_FLOOR:
            continue
        for target in stmt.targets:
            if isinstance(target, ast.Name) and not target.id.startswith("_"):
                sizes[target.id] = value
    return sizes


_ARITHMETIC: dict[type, Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b if b else 0,
}


def _integer(node: ast.expr, depth: int = 0) -> int | None:
    """An integer literal, or arithmetic on them (``N = 2048 * 2``); None for anything else."""
    if depth > 8:
        return None
    if isinstance(node, ast.Constant):
        value = node.value
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _integer(node.left, depth + 1), _integer(node.right, depth + 1)
        if left is None or right is None:
            return None
        value = _ARITHMETIC[type(node.op)](left, right)
        return value if abs(value) < 2**40 else None
    return None


def propose_configs(path: Path) -> list[dict[str, int]]:
    """Configs that give the task's module-level sizes other values than its benchmark's: every
    size about halved and made odd, then about an eighth, each kept only if the task still builds
    and runs its reference on the meta device with them (shapes that no longer fit, a group count
    that no longer divides, are dropped). Sizes that are keyword defaults are the sampler's job."""
    sizes = _size_globals(path)
    if not sizes:
        return []
    proposals = [
        {k: v // 2 + 1 for k, v in sizes.items()},
        {k: max(2, v // 8 + 1) for k, v in sizes.items()},
    ]
    return [config for config in proposals if _runs_on_meta(path, config)]


def _runs_on_meta(path: Path, config: dict[str, int]) -> bool:
    import torch

    try:
        # The task's own prints and warnings are not the importer's output.
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            return _meta_forward(path, config, torch)
    except Exception:
        return False


def _meta_forward(path: Path, config: dict[str, int], torch: Any) -> bool:
    try:
        module = load_task_module(path, config)
        with torch.device("meta"):
            init = list(module.get_init_inputs())
            model = module.Model(*init)
            inputs = list(module.get_inputs())
            with torch.no_grad():
                model(*inputs)
    except Exception:
        return False
    return True
