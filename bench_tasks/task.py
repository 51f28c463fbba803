"""The task format: KernelBench files plus optional keyword configs, tolerances and metadata.

A task file defines ``class Model(nn.Module)``, ``get_inputs()`` and ``get_init_inputs()``.
Optional module-level extensions: keyword parameters with defaults on ``get_inputs`` /
``get_init_inputs`` (the defaults are the benchmark configuration), ``CONFIGS`` (more configs),
``sample_config(rng)`` (random configs), ``SCALES`` (named presets that replace the benchmark
config, ``{"gpu": dict(...)}`` for sizes that fill a GPU), ``CATEGORY``, ``ATOL``, ``RTOL`` and
``BACKWARD``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import itertools
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from kernelwright.bench_tasks import sidecar

CATEGORIES = (
    "activation",
    "broadcast",
    "conv",
    "full_arch",
    "fusion",
    "loss",
    "math",
    "matmul",
    "norm",
    "optimizer",
    "pooling",
    "index",
    "resize",
    "reduce",
    "attention",
)

SUITES_DIR = Path(__file__).resolve().parent / "suites"
# The file-name part of a shipped task id (``smoke/relu``).
SHIPPED_STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# The name of a size preset (``SCALES``, ``--scale``).
SCALE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class TaskError(ValueError):
    """A task file, suite or override that cannot be used; the message is one line for the user.

    ``missing``: the module a task file imports that is not installed, where that is why."""

    def __init__(self, message: str, missing: str | None = None) -> None:
        super().__init__(message)
        self.missing = missing


# Modules that the ``kernelbench`` extra installs (KernelBench's level-3 tasks import them).
KERNELBENCH_EXTRA = frozenset({"einops"})


@dataclass(frozen=True)
class Unloadable:
    """A file of a suite folder that is not a usable task, and why (one line)."""

    path: Path
    reason: str
    missing: str | None = None

    def install_hint(self) -> str | None:
        """The command that installs the module the task needs, for the modules whose package
        is known (a module name is not a package name, and one a task file names is not to be
        trusted as a package to install: ``import yaml`` comes from PyYAML)."""
        top = (self.missing or "").split(".")[0]
        if top in KERNELBENCH_EXTRA:
            return f"pip install {top} (or kernelwright's kernelbench extra: pip install -e '.[kernelbench]')"
        return None

    def line(self) -> str:
        hint = self.install_hint()
        if hint:
            return f"{self.path.name}: {self.reason}; install it: {hint}"
        if self.missing:
            return f"{self.path.name}: {self.reason}; install the package that provides it"
        return f"{self.path.name}: {self.reason}"


@dataclass(frozen=True)
class Task:
    """One benchmark problem: a task file, its overrides, and what its module declares."""

    id: str
    path: Path
    source: str
    category: str | None = None
    atol: float | None = None
    rtol: float | None = None
    backward: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    default_config: dict[str, Any] = field(default_factory=dict)
    configs: list[dict[str, Any]] = field(default_factory=list)
    has_sampler: bool = False
    # Module-level sizes that configs set (the file runs with each config's values).
    global_keys: tuple[str, ...] = ()
    # Named size presets (``SCALES``) and the one applied, if any (``at_scale``).
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)
    scale: str | None = None
    # At a preset: the task's own benchmark config, still checked, and the one configs extend.
    unscaled_config: dict[str, Any] | None = None

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def source_hash(self) -> str:
        text = self.source + repr(sorted(self.overrides.items()))
        if self.scale is not None:  # a preset is another benchmark: nothing measured is shared
            text += f"\nscale={self.scale}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def at_scale(self, name: str | None) -> Task:
        """This task with the preset ``name`` as its benchmark config (its own default and the
        other configs stay: correctness still holds on the small and awkward sizes); ``None`` is
        the task itself."""
        if name is None:
            return self
        if name not in self.scales:
            have = ", ".join(sorted(self.scales)) or "none"
            raise TaskError(f"{self.id} has no {name!r} scale preset (its presets: {have})")
        return replace(
            self,
            default_config={**self.default_config, **self.scales[name]},
            scale=name,
            unscaled_config=dict(self.default_config),
        )

    def module(self) -> ModuleType:
        """Execute the task file in a fresh module, with ``--set`` overrides applied."""
        return load_task_module(self.path, self.overrides)

    def module_for(self, config: dict[str, Any]) -> ModuleType:
        """The task file run for ``config``: with the module-level sizes it sets, if any."""
        sizes = {k: config[k] for k in self.global_keys if k in config}
        if all(self.default_config.get(k) == v for k, v in sizes.items()):
            return self.module()
        return load_task_module(self.path, {**self.overrides, **sizes})

    def correctness_configs(self, rng: random.Random, n_sampled: int) -> list[dict[str, Any]]:
        """The default config, every listed config, then ``n_sampled`` drawn by the task's
        sampler; at a preset, the preset first, then the task's own default, which the listed
        and drawn configs extend (a config never inherits a preset's sizes)."""
        base = self.default_config if self.unscaled_config is None else self.unscaled_config
        chosen = [dict(self.default_config)]
        for cfg in [{}, *self.configs]:
            full = {**base, **cfg}
            if full not in chosen:
                chosen.append(full)
        if self.has_sampler and n_sampled > 0:
            sampler = self.module().sample_config
            for _ in range(n_sampled):
                drawn = sampler(rng)
                if not isinstance(drawn, dict):
                    raise TaskError(
                        f"{self.id}: sample_config must return a dict, got {type(drawn).__name__}"
                    )
                chosen.append({**base, **drawn})
        return chosen

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "category": self.category,
            "atol": self.atol,
            "rtol": self.rtol,
            "backward": self.backward,
            "overrides": self.overrides,
            "default_config": self.default_config,
            "configs": self.configs,
            "has_sampler": self.has_sampler,
            "scales": self.scales,
            "scale": self.scale,
        }


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` strings (values as Python literals where they parse)."""
    result: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise TaskError(f"--set expects NAME=VALUE, got {pair!r}")
        result[name] = _parse_value(value.strip())
    return result


_module_numbers = itertools.count(1)


def load_task_module(path: Path, overrides: dict[str, Any] | None = None) -> ModuleType:
    """Run a task file as a fresh module and apply overrides to its module-level globals."""
    name = f"kernelwright_task_{next(_module_numbers)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TaskError(f"cannot load task file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        side = sidecar.entry(path)
    except sidecar.SidecarError as exc:
        sys.modules.pop(name, None)
        raise TaskError(str(exc)) from None
    try:
        # Run as the import system would, but with overridden module-level sizes assigned where
        # the file assigns them, so that globals computed from them follow.
        tree = ast.parse(path.read_text(), str(path))
        originals = sidecar.apply_overrides(tree, dict(overrides or {}))
        exec(compile(tree, str(path), "exec"), module.__dict__)
        if side.get("init") == "defaults" and not hasattr(module, "get_init_inputs"):
            module.get_init_inputs = _no_init_inputs  # type: ignore[attr-defined]
    except (Exception, SystemExit) as exc:  # a task file that exits at import is one bad file
        sys.modules.pop(name, None)
        missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise TaskError(f"task file {path} failed to import: {text}", missing) from exc
    for attr in ("Model", "get_inputs", "get_init_inputs"):
        if not hasattr(module, attr):
            raise TaskError(f"task file {path} defines no {attr}")
    for key, value in (overrides or {}).items():
        # What the file itself gives the name (before the override) decides what fits it.
        current = originals.get(key)
        if current is None:  # not a literal in the file (or not assigned there)
            current = getattr(module, key, None)
        if (
            current is None
            or key.startswith("_")
            or not isinstance(current, (int, float, str, bool, tuple, list))
        ):
            raise TaskError(
                f"--set {key}: {path.name} has no module-level number or string named {key}"
            )
        if isinstance(current, (int, float)) and not isinstance(value, (int, float)):
            raise TaskError(f"--set {key}={value!r}: expected a number")
        setattr(module, key, value)
    return module


def _no_init_inputs() -> list[Any]:
    """``get_init_inputs`` of a file whose sidecar says its ``Model`` takes its own defaults."""
    return []


def _keyword_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is inspect.Parameter.empty:
            raise TaskError(
                f"{fn.__name__}() parameter {param.name!r} needs a default (the benchmark config)"
            )
        defaults[param.name] = param.default
    return defaults


def call_with_config(fn: Callable[..., Any], config: dict[str, Any]) -> Any:
    """Call ``fn`` with the keys of ``config`` that its signature accepts."""
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return fn(**config)
    return fn(**{k: v for k, v in config.items() if k in params})


def load_task(
    path: Path | str, task_id: str | None = None, overrides: dict[str, Any] | None = None
) -> Task:
    """Load one task file and read its metadata."""
    path = Path(path).resolve()
    if not path.is_file():
        raise TaskError(f"task file not found: {path}")
    overrides = dict(overrides or {})
    module = load_task_module(path, overrides)
    side = sidecar.entry(path)
    default_config = {
        **_keyword_defaults(module.get_init_inputs),
        **_keyword_defaults(module.get_inputs),
    }
    # A preset names keyword sizes only: a module-level one would need the file run with it.
    scales = _scales(path, getattr(module, "SCALES", None), set(default_config))
    configs = list(getattr(module, "CONFIGS", []) or []) + list(side.get("configs", []))
    # A config may also set module-level sizes (KernelBench's files have no keyword sizes): their
    # values now are the benchmark's, and each such config runs the file with its own.
    sizes = {
        k: v
        for k, v in vars(module).items()
        if not k.startswith("_") and isinstance(v, int | float) and not isinstance(v, bool)
    }
    global_keys: set[str] = set()
    for cfg in configs:
        if not isinstance(cfg, dict):
            raise TaskError(f"{path.name}: CONFIGS must be a list of dicts")
        unknown = set(cfg) - set(default_config)
        global_keys |= unknown & set(sizes)
        if unknown - set(sizes):
            raise TaskError(
                f"{path.name}: CONFIGS entry names unknown parameters "
                f"{sorted(unknown - set(sizes))}"
            )
    default_config.update({k: sizes[k] for k in sorted(global_keys)})
    category = getattr(module, "CATEGORY", None) or side.get("category")
    if category is not None and category not in CATEGORIES:
        raise TaskError(f"{path.name}: CATEGORY {category!r} is not one of {', '.join(CATEGORIES)}")

    def _tol(name: str) -> float | None:
        value = getattr(module, name, None)
        if value is None:
            return None
        if not isinstance(value, (int, float)) or value < 0:
            raise TaskError(f"{path.name}: {name} must be a non-negative number")
        return float(value)

    return Task(
        id=task_id or str(path),
        path=path,
        source=path.read_text(),
        category=category,
        atol=_tol("ATOL"),
        rtol=_tol("RTOL"),
        backward=bool(getattr(module, "BACKWARD", False) or side.get("backward", False)),
        overrides=overrides,
        default_config=default_config,
        configs=configs,
        has_sampler=callable(getattr(module, "sample_config", None)),
        global_keys=tuple(sorted(global_keys)),
        scales=scales,
    )


def _scales(path: Path, value: Any, keys: set[str]) -> dict[str, dict[str, Any]]:
    """A task file's ``SCALES``, checked: named presets of the keyword sizes the task has."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaskError(f"{path.name}: SCALES must be a dict of preset names to config dicts")
    scales: dict[str, dict[str, Any]] = {}
    for name, preset in value.items():
        if not isinstance(name, str) or not SCALE_NAME.fullmatch(name):
            raise TaskError(
                f"{path.name}: SCALES preset name {name!r} is not a short lowercase name"
            )
        if not isinstance(preset, dict):
            raise TaskError(f"{path.name}: SCALES[{name!r}] must be a dict of config values")
        unknown = sorted(set(preset) - keys)
        if unknown:
            raise TaskError(
                f"{path.name}: SCALES[{name!r}] names {unknown}, which are not keyword "
                "parameters of get_inputs or get_init_inputs"
            )
        scales[name] = dict(preset)
    return scales


def unscaled_line(scale: str | None, lacking: list[str]) -> str:
    """The one warning line for the tasks that have no ``scale`` preset and keep their sizes."""
    shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more" if len(lacking) > 5 else "")
    return f"{len(lacking)} task(s) have no {scale!r} preset and keep their own sizes: {shown}"


def apply_scale(tasks: list[Task], scale: str | None) -> tuple[list[Task], list[str]]:
    """``tasks`` at the preset ``scale`` where they have it, and the ids of those that have
    not (they keep their own benchmark config; the caller says so)."""
    if scale is None:
        return tasks, []
    if not SCALE_NAME.fullmatch(scale):
        raise TaskError(f"--scale {scale!r}: expected a preset name such as gpu")
    lacking = [t.id for t in tasks if scale not in t.scales]
    if len(lacking) == len(tasks) and tasks:
        raise TaskError(f"--scale {scale}: no task here has that preset")
    return [t.at_scale(scale) if scale in t.scales else t for t in tasks], lacking


def suite_dir(suite: str) -> Path:
    """The folder of a shipped suite id, or the folder itself when ``suite`` is a path."""
    # A shipped id wins over a folder of the same name in the working directory: a suite name
    # read from a store must not pick up whatever folder happens to be there (``./smoke`` names
    # the folder).
    if suite in list_suites():
        return SUITES_DIR / suite
    candidate = Path(suite)
    if candidate.is_dir():
        return candidate.resolve()
    known = ", ".join(list_suites()) or "none"
    raise TaskError(
        f"unknown suite {suite!r} (shipped suites: {known}; or pass a folder of task files)"
    )


def list_suites() -> list[str]:
    return sorted(p.name for p in SUITES_DIR.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _task_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def scan_suite(
    suite: str, overrides: dict[str, Any] | None = None, strict: bool = False
) -> tuple[list[Task], list[Unloadable]]:
    """Every task of a shipped suite or of a folder of task files that loads, in file-name
    order, and every file that does not, with the reason: one file that needs a package the
    user lacks does not hide the others. A suite where nothing loads is an error, and with
    ``strict`` (``--strict``) so is any file that does not load.

    Overrides apply to the tasks that define those globals; naming one that no loaded task
    defines is an error.
    """
    folder = suite_dir(suite)
    shipped = folder.parent == SUITES_DIR
    overrides = dict(overrides or {})
    used: set[str] = set()
    tasks: list[Task] = []
    failed: list[Unloadable] = []
    files = _task_files(folder)
    for path in files:
        task_id = f"{folder.name}/{path.stem}" if shipped else str(path)
        try:
            plain = load_task_module(path)
            mine = {k: v for k, v in overrides.items() if k in vars(plain)}
            tasks.append(load_task(path, task_id, mine))
        except TaskError as exc:
            reason = str(exc).replace(f"task file {path} ", "", 1)
            failed.append(Unloadable(path, reason, exc.missing))
            continue
        except Exception as exc:  # a file the loader trips on (CONFIGS = 3) is one bad file too
            text = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            failed.append(Unloadable(path, f"cannot be read as a task: {text}"))
            continue
        used.update(mine)
    if not files:
        raise TaskError(f"suite {suite!r} holds no task files")
    if not tasks:
        raise TaskError(f"no task of suite {suite!r} loads; the first: {failed[0].line()}")
    if strict and failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise TaskError(f"suite {suite!r}: {failed[0].line()}{more} (--strict)")
    unused = sorted(set(overrides) - used)
    if unused:
        raise TaskError(f"--set {', '.join(unused)}: no task in suite {suite!r} has such a global")
    return tasks, failed


def load_suite(
    suite: str, overrides: dict[str, Any] | None = None, strict: bool = True
) -> list[Task]:
    """The tasks of ``scan_suite``; strict unless asked otherwise."""
    return scan_suite(suite, overrides, strict)[0]


def resolve_task(
    ref: str, overrides: dict[str, Any] | None = None, scale: str | None = None
) -> Task:
    """A task from a shipped id (``smoke/relu``) or a path to a task file, at the preset
    ``scale`` if one is named (a task without it is an error)."""
    if scale is not None and not SCALE_NAME.fullmatch(scale):
        raise TaskError(f"--scale {scale!r}: expected a preset name such as gpu")
    path = Path(ref)
    if path.suffix == ".py" and path.is_file():
        return load_task(path, str(path.resolve()), overrides).at_scale(scale)
    suite, sep, stem = ref.partition("/")
    # A shipped id names a file of a shipped suite and nothing else: no separators, no ``..``.
    if sep and suite in list_suites() and SHIPPED_STEM.fullmatch(stem):
        path = SUITES_DIR / suite / f"{stem}.py"
        if path.is_file():
            return load_task(path, ref, overrides).at_scale(scale)
    raise TaskError(
        f"unknown task {ref!r}: give a shipped id like smoke/relu or a path to a task file"
    )
