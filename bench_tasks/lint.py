"""``tasks lint``: checks that a task can tell a right kernel from a trivial one.

For every config of a task (the default, ``CONFIGS`` and a few drawn by ``sample_config``) a few
input sets are drawn with different seeds for one model, the reference runs on the CPU in float64
(or in the task's own dtype where float64 fails) and its outputs are checked for:

- ``nan_inf``: more than 10% of an output is NaN or Inf;
- ``constant_output``: an output is nearly constant across its elements and across input sets;
- ``input_insensitive``: an output does not change when the inputs change;
- ``loose_tolerance``: an all-zeros output, the output's mean, or the output for another input
  set passes the task's tolerance for more than 99% of the values;
- ``memory_budget``: inputs, parameters and outputs of a config exceed a memory budget
  (measured on the ``meta`` device, so nothing of that size is allocated); the ``SCALES``
  presets are measured so too, and not run;
- ``eager_exceeds_tolerance``: the task in its own dtype misses its float64 reference by more
  than the task's tolerance (forward outputs, and gradients for ``BACKWARD`` tasks);
- ``reference_error``, ``load_error`` and ``invalid_waiver`` when the task cannot be checked.

A task file may waive codes with ``LINT_WAIVERS = {"code": "reason", ...}``; waived findings are
reported but do not fail the task. Like the rest of ``bench_tasks``, this module imports nothing
else from kernelwright.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import multiprocessing
import os
import random
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from kernelwright.bench_tasks.run import as_list, run_model
from kernelwright.bench_tasks.task import (
    SUITES_DIR,
    Task,
    TaskError,
    call_with_config,
    load_task,
    resolve_task,
    suite_dir,
)

CODES = (
    "constant_output",
    "input_insensitive",
    "nan_inf",
    "loose_tolerance",
    "memory_budget",
    "eager_exceeds_tolerance",
    "reference_error",
    "load_error",
    "invalid_waiver",
)
WAIVABLE = frozenset(CODES) - {"load_error", "invalid_waiver"}

DEFAULT_TOLERANCE = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (1e-4, 1e-4),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (3e-2, 3e-2),
}

DEFAULT_MEMORY_BUDGET = 8 * 1024**3
CONSTANT_REL_STD = 1e-3
NONFINITE_FRACTION = 0.10
TRIVIAL_PASS_FRACTION = 0.99
SAMPLED_CONFIGS = 2
SAMPLE_CAP = 65536
SAMPLER_SEED = 20240611


@dataclass
class LintFinding:
    """One problem with a task, under one config."""

    code: str
    message: str
    config: dict[str, Any] = field(default_factory=dict)
    waived: bool = False
    waiver: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "config": _jsonable(self.config),
            "waived": self.waived,
            "waiver": self.waiver,
        }


@dataclass
class LintReport:
    """The lint outcome for one task."""

    task_id: str
    path: str
    findings: list[LintFinding] = field(default_factory=list)
    configs_checked: int = 0
    reference_dtype: str = "float64"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[LintFinding]:
        return [f for f in self.findings if not f.waived]

    @property
    def waived(self) -> list[LintFinding]:
        return [f for f in self.findings if f.waived]

    def codes(self, *, include_waived: bool = True) -> set[str]:
        return {f.code for f in self.findings if include_waived or not f.waived}

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "path": self.path,
            "ok": self.ok,
            "configs_checked": self.configs_checked,
            "reference_dtype": self.reference_dtype,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_json() for f in self.findings],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _seed(*parts: object) -> int:
    digest = hashlib.sha256(("kernelwright-lint" + repr(parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def _upcast(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().to(torch.float64)
    return value


def _nbytes(values: Any) -> int:
    total = 0
    for value in as_list(values):
        if isinstance(value, torch.Tensor):
            total += value.numel() * value.element_size()
        elif isinstance(value, (list, tuple)):
            total += _nbytes(value)
    return total


def _model_bytes(model: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])


def _out_of_memory(exc: BaseException) -> bool:
    """An allocation that failed (torch says so in a RuntimeError of its own)."""
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)
    )


def _gib(n: float) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.2f} GiB"
    if n >= 1024**2:
        return f"{n / 1024**2:.2f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{int(n)} B"


def tolerance(task: Task, dtype: torch.dtype) -> tuple[float, float]:
    """The task's (atol, rtol) for an output of ``dtype``: its own ATOL/RTOL or the default."""
    default = DEFAULT_TOLERANCE.get(dtype, (0.0, 0.0))
    return (
        task.atol if task.atol is not None else default[0],
        task.rtol if task.rtol is not None else default[1],
    )


def _within(got: torch.Tensor, ref: torch.Tensor, atol: float, rtol: float) -> torch.Tensor:
    """Elementwise pass mask of ``got`` against ``ref``: NaN matches NaN, Inf matches equal Inf."""
    if not (got.is_floating_point() or ref.is_floating_point()):
        return got == ref
    a = got.to(torch.float64)
    b = ref.to(torch.float64)
    diff = (a - b).abs_()
    close = diff <= b.abs().mul_(rtol).add_(atol)
    if math.isfinite(float(diff.sum())):
        return close
    both_nan = torch.isnan(a) & torch.isnan(b)
    finite = torch.isfinite(a) & torch.isfinite(b)
    same_inf = torch.isinf(b) & (a == b)
    return both_nan | same_inf | (finite & close)


def _sample_index(numel: int, seed: int) -> torch.Tensor | None:
    """Positions for the statistics of a large output (all of a small one)."""
    if numel <= SAMPLE_CAP:
        return None
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, numel, (SAMPLE_CAP,), generator=gen)


def _flat(t: torch.Tensor, idx: torch.Tensor | None) -> torch.Tensor:
    flat = t.reshape(-1)
    if idx is not None:
        flat = flat[idx]
    return flat.to(torch.float64)


@dataclass
class _Run:
    inputs: list[Any]
    reference: list[Any]
    eager: list[Any]
    grads_ref: dict[str, torch.Tensor] = field(default_factory=dict)
    grads_eager: dict[str, torch.Tensor] = field(default_factory=dict)


def _forward(
    model: torch.nn.Module, inputs: list[Any], grad_outputs: list[torch.Tensor] | None
) -> tuple[list[Any], dict[str, torch.Tensor]]:
    return run_model(model, inputs, "cpu", grad_outputs)


class _Linter:
    def __init__(self, task: Task, module: ModuleType, samples: int, budget: int) -> None:
        self.task = task
        self.module = module
        self.modules: dict[str, ModuleType] = {}
        self.samples = max(1, samples)
        self.budget = budget
        self.findings: list[LintFinding] = []
        self.reference_dtype = "float64"
        self.io_ratio: float | None = None
        self.seen: dict[tuple[str, str], LintFinding] = {}
        self.repeats: dict[tuple[str, str], int] = {}

    def add(self, code: str, message: str, config: dict[str, Any], key: str = "") -> None:
        """Record a finding once per code and ``key``, counting the configs that repeat it."""
        seen = self.seen.get((code, key))
        if seen is not None:
            self.repeats[(code, key)] = self.repeats.get((code, key), 0) + 1
            return
        finding = LintFinding(code, message, dict(config))
        self.seen[(code, key)] = finding
        self.findings.append(finding)

    def finish(self) -> list[LintFinding]:
        for (code, key), n in self.repeats.items():
            finding = self.seen[(code, key)]
            finding.message += f" (and in {n} more config{'s' if n > 1 else ''})"
        return self.findings

    def build(self, config: dict[str, Any], index: int) -> torch.nn.Module:
        torch.manual_seed(_seed(self.task.id, index, "init_inputs"))
        module = self.module_for(config)
        init_inputs = list(call_with_config(module.get_init_inputs, config))
        torch.manual_seed(_seed(self.task.id, index, "model"))
        model: torch.nn.Module = module.Model(*init_inputs)
        return model

    def inputs(self, config: dict[str, Any], index: int, draw: int) -> list[Any]:
        torch.manual_seed(_seed(self.task.id, index, draw, "inputs"))
        return list(call_with_config(self.module_for(config).get_inputs, config))

    def module_for(self, config: dict[str, Any]) -> ModuleType:
        """The task file run for ``config`` (with the module-level sizes it sets), kept."""
        key = repr(sorted((k, config.get(k)) for k in self.task.global_keys))
        if key not in self.modules:
            self.modules[key] = (
                self.task.module_for(config) if self.task.global_keys else self.module
            )
        return self.modules[key]

    def memory(self, config: dict[str, Any], index: int) -> tuple[int | None, str]:
        """Bytes of inputs, parameters and outputs for ``config``, from the meta device."""
        try:
            with torch.device("meta"):
                inputs = self.inputs(config, index, 0)
        except Exception:
            return None, ""
        in_bytes = _nbytes(inputs)
        params: int | None = None
        out_bytes: int | None = None
        try:
            with torch.device("meta"):
                model = self.build(config, index)
                params = _model_bytes(model)
                with torch.no_grad():
                    out_bytes = _nbytes(model(*inputs))
        except Exception:
            pass
        estimated = ""
        if out_bytes is None:
            out_bytes = int(in_bytes * (self.io_ratio if self.io_ratio is not None else 1.0))
            estimated = " (outputs estimated)"
        parts = f"inputs {_gib(in_bytes)}"
        if params:
            parts += f" + parameters {_gib(params)}"
        parts += f" + outputs {_gib(out_bytes)}{estimated}"
        return in_bytes + (params or 0) + out_bytes, parts

    def check_scale(self, name: str, config: dict[str, Any], index: int) -> None:
        """A size preset is sized for a GPU and not run here: its tensors are only measured, on
        the meta device, against the same budget."""
        total, parts = self.memory(config, index)
        if total is not None and total > self.budget:
            self.add(
                "memory_budget",
                f"scale {name}: {parts} = {_gib(total)} exceeds the {_gib(self.budget)} budget",
                config,
            )

    def run_config(self, config: dict[str, Any], index: int) -> None:
        total, parts = self.memory(config, index)
        if total is not None and total > self.budget:
            self.add(
                "memory_budget",
                f"{parts} = {_gib(total)} exceeds the {_gib(self.budget)} budget",
                config,
            )
            return
        try:
            runs = self.reference_runs(config, index)
        except Exception as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            if _out_of_memory(exc):
                self.add("memory_budget", f"the reference ran out of memory: {text[:200]}", config)
                return
            self.add("reference_error", f"reference failed: {type(exc).__name__}: {text}", config)
            return
        if total is None:
            total = sum(_nbytes(r.inputs) + _nbytes(r.eager) for r in runs[:1])
            if total > self.budget:
                self.add(
                    "memory_budget",
                    f"measured inputs + outputs {_gib(total)} exceed the {_gib(self.budget)} budget",
                    config,
                )
        if index == 0 and runs:
            in_bytes = _nbytes(runs[0].inputs)
            self.io_ratio = _nbytes(runs[0].eager) / in_bytes if in_bytes else 1.0
        self.check_outputs(runs, config)
        self.check_eager(runs, config)

    def reference_runs(self, config: dict[str, Any], index: int) -> list[_Run]:
        model = self.build(config, index)
        runs = []
        for draw in range(self.samples):
            inputs = self.inputs(config, index, draw)
            grad_outputs: list[torch.Tensor] | None = None
            eager, grads_eager = _forward(copy.deepcopy(model), inputs, None)
            if self.task.backward:
                torch.manual_seed(_seed(self.task.id, index, draw, "grad"))
                grad_outputs = [
                    torch.randn(o.shape, dtype=o.dtype)
                    for o in eager
                    if isinstance(o, torch.Tensor) and o.is_floating_point()
                ]
                eager, grads_eager = _forward(copy.deepcopy(model), inputs, grad_outputs)
            try:
                ref_model = copy.deepcopy(model).to(torch.float64)
                ref_go = None if grad_outputs is None else [g.double() for g in grad_outputs]
                reference, grads_ref = _forward(ref_model, [_upcast(x) for x in inputs], ref_go)
            except (RuntimeError, TypeError, NotImplementedError):
                self.reference_dtype = "native"
                reference, grads_ref = eager, grads_eager
            runs.append(_Run(inputs, reference, eager, grads_ref, grads_eager))
        return runs

    def check_outputs(self, runs: list[_Run], config: dict[str, Any]) -> None:
        n_out = len(runs[0].reference)
        label = (lambda i: f"output {i}") if n_out > 1 else (lambda i: "the output")
        for i in range(n_out):
            refs = [r.reference[i] for r in runs]
            eager = runs[0].eager[i] if i < len(runs[0].eager) else None
            if not all(isinstance(t, torch.Tensor) for t in refs) or not isinstance(
                eager, torch.Tensor
            ):
                continue
            if any(t.shape != refs[0].shape for t in refs):
                continue
            if refs[0].numel() == 0 or refs[0].is_complex():
                continue
            idx = _sample_index(refs[0].numel(), _seed(self.task.id, "sample", i))
            flats = [_flat(t, idx) for t in refs]
            values = torch.cat(flats)
            finite = torch.isfinite(values)
            n_bad = int((~finite).sum())
            if n_bad > NONFINITE_FRACTION * values.numel():
                self.add(
                    "nan_inf",
                    f"{label(i)} is {100 * n_bad / values.numel():.0f}% NaN or Inf "
                    f"(over {len(refs)} input sets)",
                    config,
                    label(i),
                )
                continue
            kept = values[finite]
            if kept.numel() == 0:
                continue
            mean_abs = float(kept.abs().mean())
            spread = float(kept.std(unbiased=False)) if kept.numel() > 1 else 0.0
            if spread == 0.0 or (mean_abs > 0 and spread / mean_abs < CONSTANT_REL_STD):
                self.add(
                    "constant_output",
                    f"{label(i)} is nearly constant (std {spread:.3g}, mean |y| {mean_abs:.3g} "
                    f"over {len(refs)} input sets): a constant kernel would pass",
                    config,
                    label(i),
                )
                continue
            if len(refs) > 1 and all(torch.equal(refs[0], t) for t in refs[1:]):
                same_inputs = all(_same_values(runs[0].inputs, r.inputs) for r in runs[1:])
                why = (
                    "get_inputs returns the same values for every seed"
                    if same_inputs
                    else "it does not depend on the inputs"
                )
                self.add(
                    "input_insensitive",
                    f"{label(i)} is identical for {len(refs)} different input draws: {why}",
                    config,
                    label(i),
                )
                continue
            exact = not (eager.is_floating_point() or eager.is_complex())
            self.check_tolerance(flats, eager.dtype, exact, label(i), config)

    def check_tolerance(
        self,
        refs: list[torch.Tensor],
        dtype: torch.dtype,
        exact: bool,
        name: str,
        config: dict[str, Any],
    ) -> None:
        """Would a trivial answer pass? ``refs`` are the same sampled positions of each set."""
        atol, rtol = (0.0, 0.0) if exact else tolerance(self.task, dtype)
        n = len(refs)
        means = []
        for t in refs:
            fin = t[torch.isfinite(t)]
            means.append(float(fin.mean()) if fin.numel() else 0.0)
        probes: list[tuple[str, list[torch.Tensor]]] = [
            ("an all-zeros output", [torch.zeros_like(t) for t in refs]),
            (
                "a constant (the mean of another input set's output)"
                if n > 1
                else "a constant (the output's mean)",
                [torch.full_like(t, means[(k + 1) % n]) for k, t in enumerate(refs)],
            ),
        ]
        if n > 1:
            probes.append(
                ("the output for another input set", [refs[(k + 1) % n] for k in range(n)])
            )
        total = sum(t.numel() for t in refs)
        for what, guesses in probes:
            passed = sum(
                int(_within(g, r, atol, rtol).sum()) for g, r in zip(guesses, refs, strict=True)
            )
            if passed > TRIVIAL_PASS_FRACTION * total:
                shown = "exact match" if exact else f"atol={atol:g} rtol={rtol:g}"
                self.add(
                    "loose_tolerance",
                    f"{shown} ({str(dtype).removeprefix('torch.')}) is loose: "
                    f"{what} passes {100 * passed / total:.1f}% of the values of {name}",
                    config,
                    name,
                )
                return

    def check_eager(self, runs: list[_Run], config: dict[str, Any]) -> None:
        if self.reference_dtype != "float64":
            return
        for run in runs:
            several = len(run.eager) > 1
            pairs = [
                (f"output {i}" if several else "output", e, r)
                for i, (e, r) in enumerate(zip(run.eager, run.reference, strict=False))
            ]
            pairs += [
                (f"gradient {name}", g, run.grads_ref[name])
                for name, g in run.grads_eager.items()
                if name in run.grads_ref
            ]
            for name, got, ref in pairs:
                if not (isinstance(got, torch.Tensor) and isinstance(ref, torch.Tensor)):
                    continue
                if got.dtype == torch.float64 or got.shape != ref.shape:
                    continue
                atol, rtol = tolerance(self.task, got.dtype)
                ok = _within(got, ref, atol, rtol)
                n_bad = int((~ok).sum())
                if n_bad:
                    diff = (got.to(torch.float64) - ref.to(torch.float64)).abs()
                    diff = diff[torch.isfinite(diff)]
                    worst = float(diff.max()) if diff.numel() else float("nan")
                    self.add(
                        "eager_exceeds_tolerance",
                        f"eager {str(got.dtype).removeprefix('torch.')} {name} misses the float64 "
                        f"reference by more than atol={atol:g} rtol={rtol:g}: {n_bad} of "
                        f"{got.numel()} values (max abs err {worst:.3g})",
                        config,
                        name,
                    )
                    return


def _same_values(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor):
            if x.shape != y.shape or not torch.equal(x, y):
                return False
        elif x != y:
            return False
    return True


def _waivers(module: ModuleType) -> tuple[dict[str, str], list[str]]:
    raw = getattr(module, "LINT_WAIVERS", None)
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"LINT_WAIVERS must be a dict of code to reason, got {type(raw).__name__}"]
    waivers: dict[str, str] = {}
    problems: list[str] = []
    for code, reason in raw.items():
        if code not in WAIVABLE:
            problems.append(
                f"LINT_WAIVERS names {code!r}, not a waivable code ({', '.join(sorted(WAIVABLE))})"
            )
        elif not isinstance(reason, str) or not reason.strip():
            problems.append(f"LINT_WAIVERS[{code!r}] needs a reason")
        else:
            waivers[code] = reason.strip()
    return waivers, problems


@contextmanager
def _quiet_rng() -> Iterator[None]:
    with torch.random.fork_rng(devices=[]):
        yield


def lint_task(
    task: Task, *, samples: int = 3, memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET
) -> LintReport:
    """Lint one task: every config, ``samples`` input sets each, on the CPU."""
    start = time.perf_counter()
    report = LintReport(task.id, str(task.path))
    try:
        module = task.module()
        configs = task.correctness_configs(random.Random(SAMPLER_SEED), SAMPLED_CONFIGS)
    except Exception as exc:
        report.findings.append(
            LintFinding("load_error", f"{type(exc).__name__}: {exc}".splitlines()[0])
        )
        report.seconds = time.perf_counter() - start
        return report
    waivers, problems = _waivers(module)
    linter = _Linter(task, module, samples, memory_budget_bytes)
    with _quiet_rng():
        for index, config in enumerate(configs):
            linter.run_config(config, index)
        for index, name in enumerate(sorted(task.scales), start=len(configs)):
            linter.check_scale(name, {**task.default_config, **task.scales[name]}, index)
    for finding in linter.finish():
        if finding.code in waivers:
            finding.waived = True
            finding.waiver = waivers[finding.code]
    report.findings = linter.findings + [LintFinding("invalid_waiver", p) for p in problems]
    report.configs_checked = len(configs)
    report.reference_dtype = linter.reference_dtype
    report.seconds = time.perf_counter() - start
    return report


def _task_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def _resolve(ref: str) -> list[tuple[str, Path, Task | TaskError]]:
    """Tasks named by ``ref``; a file that fails to load comes back as its error."""
    path = Path(ref)
    if path.is_file():
        try:
            return [(str(path.resolve()), path.resolve(), resolve_task(ref))]
        except TaskError as exc:
            return [(str(path.resolve()), path.resolve(), exc)]
    if path.is_dir() or (SUITES_DIR / ref).is_dir():
        folder = suite_dir(ref)
        shipped = folder.parent == SUITES_DIR
        found: list[tuple[str, Path, Task | TaskError]] = []
        for file in _task_files(folder):
            task_id = f"{folder.name}/{file.stem}" if shipped else str(file)
            try:
                found.append((task_id, file, load_task(file, task_id)))
            except TaskError as exc:
                found.append((task_id, file, exc))
        if not found:
            raise TaskError(f"suite {ref!r} holds no task files")
        return found
    task = resolve_task(ref)
    return [(task.id, task.path, task)]


def lint_paths(
    refs: list[str], *, samples: int = 3, memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET
) -> list[LintReport]:
    """Lint shipped suites, folders, task files and task ids; each task once, in order.

    Raises ``TaskError`` for a ref that names nothing; a task file that fails to load gets a
    report with a ``load_error`` finding.
    """
    reports: list[LintReport] = []
    for task_id, path, item in _each_once(refs):
        if isinstance(item, TaskError):
            reports.append(LintReport(task_id, str(path), [LintFinding("load_error", str(item))]))
        else:
            reports.append(
                lint_task(item, samples=samples, memory_budget_bytes=memory_budget_bytes)
            )
    return reports


def _each_once(refs: list[str]) -> list[tuple[str, Path, Task | TaskError]]:
    """The tasks ``refs`` name, each file once, in order (every ref resolved first)."""
    seen: set[Path] = set()
    found = []
    for item in [item for ref in refs for item in _resolve(ref)]:
        if item[1] not in seen:
            seen.add(item[1])
            found.append(item)
    return found


# The lint child's address space beyond what it holds after importing torch: this many times the
# memory budget (the reference keeps float64 copies of several input sets), at most this fraction
# of the machine's memory, so a task that needs more fails in the child, not the machine.
CHILD_BUDGET_FACTOR = 4
CHILD_MEMORY_FRACTION = 0.75
CHILD_TASK_TIMEOUT_S = 900.0


def _machine_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 16 << 30


def _address_space() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def child_headroom(memory_budget_bytes: int) -> int:
    """Bytes of address space a lint child may add to what it holds after start-up."""
    wanted = max(CHILD_BUDGET_FACTOR * memory_budget_bytes, 1 << 30)
    return min(wanted, int(CHILD_MEMORY_FRACTION * _machine_memory()))


def _serve_lint(conn: Any, samples: int, budget: int, headroom: int) -> None:
    """The lint child: its address space capped, it lints one task per request until told to
    stop. A task that needs more memory than the cap fails its allocations here (a finding)
    instead of waking the machine's OOM killer."""
    # What a task prints must not reach the parent's stdout (tasks lint --json writes there).
    os.dup2(2, 1)
    # torch's thread pool (every thread's stack) and allocator exist before the cap.
    torch.ones(1 << 24).add_(1).sum()
    limit = _address_space() + headroom
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    while True:
        request = conn.recv()
        if request is None:
            return
        task_id, path = request
        start = time.perf_counter()
        try:
            report = lint_task(
                load_task(Path(path), task_id), samples=samples, memory_budget_bytes=budget
            )
        except TaskError as exc:
            report = LintReport(task_id, path, [LintFinding("load_error", str(exc))])
        except Exception as exc:
            code = "memory_budget" if _out_of_memory(exc) else "reference_error"
            text = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            report = LintReport(task_id, path, [LintFinding(code, f"lint failed: {text}")])
        report.seconds = time.perf_counter() - start
        conn.send(report)


class _LintChild:
    """A spawned lint child and its end of the pipe."""

    def __init__(self, samples: int, budget: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, theirs = context.Pipe()
        self.headroom = child_headroom(budget)
        self.process = context.Process(
            target=_serve_lint, args=(theirs, samples, budget, self.headroom), daemon=True
        )
        self.process.start()
        theirs.close()

    def lint(self, task_id: str, path: str, timeout: float) -> LintReport | str:
        """The child's report on the task, or why there is none (the child is then gone)."""
        answered = False
        try:
            self.conn.send((task_id, path))
            answered = self.conn.poll(timeout)
            if answered:
                report = self.conn.recv()
                if isinstance(report, LintReport):
                    return report
        except (EOFError, OSError):
            pass
        if not answered:
            self.close()
            return f"no answer within {timeout:g} s"
        # The pipe ended: the child is gone or going (its pipe closes before it can be reaped).
        self.process.join(timeout=30)
        self.close()
        code = self.process.exitcode
        if code is not None and code < 0 and -code == 9:
            return "killed (signal 9: out of memory?)"
        return f"exited with {code}"

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, BrokenPipeError):
                self.conn.send(None)
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


def lint_isolated(
    refs: list[str],
    *,
    samples: int = 3,
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET,
    task_timeout_s: float = CHILD_TASK_TIMEOUT_S,
) -> Iterator[LintReport]:
    """``lint_paths``, each task linted in a child process whose address space is capped (see
    ``child_headroom``), one report yielded as each task is done: a task whose reference needs
    more memory than the machine has costs a finding, not the run. A child that dies or stops
    answering gives its task a finding and is replaced for the next task.

    Raises ``TaskError`` for a ref that names nothing, before any task is linted."""
    resolved = _each_once(refs)
    child: _LintChild | None = None
    try:
        for task_id, path, item in resolved:
            if isinstance(item, TaskError):
                yield LintReport(task_id, str(path), [LintFinding("load_error", str(item))])
                continue
            if child is None:
                child = _LintChild(samples, memory_budget_bytes)
            start = time.perf_counter()
            answer = child.lint(task_id, str(path), task_timeout_s)
            if isinstance(answer, LintReport):
                yield answer
                continue
            limit = _gib(child.headroom)
            child = None
            code = "memory_budget" if "out of memory" in answer else "reference_error"
            finding = LintFinding(
                code, f"the lint child (address space capped at +{limit}) {answer}"
            )
            yield LintReport(task_id, str(path), [finding], seconds=time.perf_counter() - start)
    finally:
        if child is not None:
            child.close()


def lint_rows(reports: list[LintReport]) -> list[dict[str, Any]]:
    """One row per finding (and one ``ok`` row per clean task), for a table or JSON lines.

    Keys: ``task``, ``status`` (``ok``, ``fail`` or ``waived``), ``code``, ``config`` (a short
    ``k=v`` string), ``message`` (the finding, or the waiver reason after it).
    """
    rows: list[dict[str, Any]] = []
    for report in reports:
        if not report.findings:
            rows.append(
                {
                    "task": report.task_id,
                    "status": "ok",
                    "code": "",
                    "config": "",
                    "message": f"{report.configs_checked} configs clean",
                }
            )
            continue
        for f in report.findings:
            message = f.message if not f.waived else f"{f.message} [waived: {f.waiver}]"
            rows.append(
                {
                    "task": report.task_id,
                    "status": "waived" if f.waived else "fail",
                    "code": f.code,
                    "config": ", ".join(f"{k}={v}" for k, v in f.config.items()),
                    "message": message,
                }
            )
    return rows
