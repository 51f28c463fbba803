"""The task loader: KernelBench files unchanged, keyword configs, overrides, suites, errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kernelwright.bench_tasks import (
    CATEGORIES,
    TaskError,
    load_suite,
    load_task,
    resolve_task,
    scan_suite,
)
from kernelwright.bench_tasks.task import call_with_config, parse_overrides

KERNELBENCH_STYLE = """
import torch
import torch.nn as nn

batch_size = 16
dim = 4096

class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return torch.relu(x)

def get_inputs():
    return [torch.randn(batch_size, dim)]

def get_init_inputs():
    return []
"""


def write(tmp_path: Path, text: str, name: str = "task.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_kernelbench_file_loads_unchanged(tmp_path: Path) -> None:
    task = load_task(write(tmp_path, KERNELBENCH_STYLE))
    assert task.default_config == {} and task.configs == [] and not task.backward
    assert task.category is None and task.atol is None
    module = task.module()
    (x,) = module.get_inputs()
    assert tuple(x.shape) == (16, 4096)


def test_set_overrides_module_globals(tmp_path: Path) -> None:
    task = load_task(
        write(tmp_path, KERNELBENCH_STYLE), overrides=parse_overrides(["dim=128", "batch_size=3"])
    )
    (x,) = task.module().get_inputs()
    assert tuple(x.shape) == (3, 128)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["nosuch=3"], "no module-level"),
        (["dim=abc"], "expected a number"),
        (["dim"], "NAME=VALUE"),
    ],
)
def test_bad_overrides_are_one_line_errors(tmp_path: Path, pairs: list[str], message: str) -> None:
    with pytest.raises(TaskError, match=message) as info:
        load_task(write(tmp_path, KERNELBENCH_STYLE), overrides=parse_overrides(pairs))
    assert "\n" not in str(info.value)


def test_keyword_configs_and_sampler() -> None:
    task = resolve_task("smoke/matmul")
    assert task.category == "matmul" and task.default_config and task.configs and task.has_sampler
    configs = task.correctness_configs(random.Random(0), n_sampled=3)
    assert configs[0] == task.default_config
    assert len(configs) == 1 + len(task.configs) + 3
    again = task.correctness_configs(random.Random(0), n_sampled=3)
    other = task.correctness_configs(random.Random(1), n_sampled=3)
    assert configs == again and configs != other


def test_call_with_config_passes_only_accepted_keys() -> None:
    def get_init_inputs(dim: int = 4) -> list[int]:
        return [dim]

    assert call_with_config(get_init_inputs, {"dim": 7, "batch": 2}) == [7]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1\n", "defines no Model"),
        (KERNELBENCH_STYLE + "\nCATEGORY = 'nonsense'\n", "CATEGORY"),
        (KERNELBENCH_STYLE + "\nCONFIGS = [dict(zzz=1)]\n", "unknown parameters"),
        (KERNELBENCH_STYLE + "\nATOL = -1\n", "non-negative"),
        ("import nosuchmodule_kw\n", "failed to import"),
    ],
)
def test_malformed_tasks_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        load_task(write(tmp_path, text))


def test_smoke_suite_shape() -> None:
    tasks = load_suite("smoke")
    assert len(tasks) >= 12
    categories = {t.category for t in tasks}
    assert len(categories) >= 8 and categories <= set(CATEGORIES)
    assert any(t.backward for t in tasks)
    assert any(t.configs for t in tasks)
    dtypes = {str(x.dtype) for t in tasks for x in t.module().get_inputs() if hasattr(x, "dtype")}
    assert dtypes & {"torch.float16", "torch.bfloat16"}
    assert all(t.id == f"smoke/{t.stem}" for t in tasks)


def test_folder_is_a_suite(tmp_path: Path) -> None:
    write(tmp_path, KERNELBENCH_STYLE, "a.py")
    write(tmp_path, KERNELBENCH_STYLE, "b.py")
    tasks = load_suite(str(tmp_path))
    assert [t.stem for t in tasks] == ["a", "b"]


BAD_FILES = {
    "needs_pkg.py": "import kw_no_such_package\n" + KERNELBENCH_STYLE,
    "needs_einops.py": "from einops_kw_stand_in import rearrange\n" + KERNELBENCH_STYLE,
    "syntax.py": "def broken(:\n",
    "exits.py": "import sys\nsys.exit(3)\n",
    "no_model.py": "x = 1\n",
    "loud.py": 'raise RuntimeError("\\x1b[31mred\\nsecond line")\n',
    "bad_configs.py": KERNELBENCH_STYLE + "\nCONFIGS = 3\n",
}


def bad_suite(tmp_path: Path) -> Path:
    """A folder of two tasks and one file for each way a task file can fail to load."""
    write(tmp_path, KERNELBENCH_STYLE, "a.py")
    write(tmp_path, KERNELBENCH_STYLE, "z.py")
    for name, text in BAD_FILES.items():
        write(tmp_path, text, name)
    return tmp_path


def test_a_file_that_does_not_load_hides_no_other_task(tmp_path: Path) -> None:
    tasks, failed = scan_suite(str(bad_suite(tmp_path)))
    assert [t.stem for t in tasks] == ["a", "z"]
    reasons = {bad.path.name: bad for bad in failed}
    assert set(reasons) == set(BAD_FILES)
    assert reasons["needs_pkg.py"].missing == "kw_no_such_package"
    # No install command for a module whose package is not known: a task file names it.
    assert reasons["needs_pkg.py"].install_hint() is None
    assert reasons["needs_pkg.py"].line().endswith("install the package that provides it")
    assert reasons["bad_configs.py"].reason.startswith("cannot be read as a task")
    assert "SyntaxError" in reasons["syntax.py"].reason
    assert "SystemExit" in reasons["exits.py"].reason
    assert reasons["no_model.py"].reason == "defines no Model"
    assert reasons["no_model.py"].install_hint() is None
    # One line each, whatever the exception said.
    assert all("\n" not in bad.line() for bad in failed)
    with pytest.raises(TaskError, match=r"bad_configs\.py.*\(and 6 more\)"):
        load_suite(str(tmp_path))  # strict by default for library callers
    assert [t.stem for t in load_suite(str(tmp_path), strict=False)] == ["a", "z"]


def test_a_missing_package_of_kernelbench_names_the_extra(tmp_path: Path) -> None:
    write(tmp_path, KERNELBENCH_STYLE, "a.py")
    write(tmp_path, "import einops\n" + KERNELBENCH_STYLE, "mamba.py")
    try:
        import einops  # noqa: F401
    except ImportError:
        _, failed = scan_suite(str(tmp_path))
        assert [bad.missing for bad in failed] == ["einops"]
        hint = failed[0].install_hint() or ""
        assert hint.startswith("pip install einops") and "kernelbench" in hint
    else:
        tasks, failed = scan_suite(str(tmp_path))
        assert len(tasks) == 2 and failed == []


def test_a_suite_where_nothing_loads_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, BAD_FILES["syntax.py"], "only.py")
    with pytest.raises(TaskError, match="no task of suite .* loads; the first: only.py"):
        scan_suite(str(tmp_path))


def test_unknown_task_and_suite() -> None:
    with pytest.raises(TaskError, match="unknown task"):
        resolve_task("smoke/does_not_exist")
    with pytest.raises(TaskError, match="unknown suite"):
        load_suite("no_such_suite")


def test_suite_overrides_apply_where_the_global_exists() -> None:
    tasks = {t.stem: t for t in load_suite("smoke", parse_overrides(["dim=64"]))}
    assert tasks["relu"].overrides == {"dim": 64}
    assert tasks["matmul"].overrides == {}
    with pytest.raises(TaskError, match="no task in suite"):
        load_suite("smoke", parse_overrides(["no_such_global=3"]))
