"""Importers (bench_tasks/importers.py) and suite sidecars (bench_tasks/sidecar.py).

The task files here are written by the test in each benchmark's layout (KernelBench's level
folders with module-level sizes, MultiKernelBench's category folders, robust-kbench's task
folders with func_forward/func_backward files and no get_init_inputs), as the real repositories
have them; the real checkouts were imported by hand (figures in the issue note).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from kernelwright.bench_tasks import TaskError
from kernelwright.bench_tasks.importers import import_tasks, propose_configs
from kernelwright.bench_tasks.task import load_task, scan_suite
from kernelwright.cli import app

RELU = """import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, x):
        return torch.relu(x)

batch_size = 16
dim = 1024

def get_inputs():
    return [torch.randn(batch_size, dim)]

def get_init_inputs():
    return []
"""
BIAS = """import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, out_channels, bias_shape):
        super(Model, self).__init__()
        self.bias = nn.Parameter(torch.randn(bias_shape))

    def forward(self, x):
        return torch.relu(x + self.bias)

batch_size = 8
out_channels = 16
height = width = 32
bias_shape = (out_channels, 1, 1)

def get_inputs():
    return [torch.rand(batch_size, out_channels, height, width)]

def get_init_inputs():
    return [out_channels, bias_shape]
"""
# Grouped convolution: channels must stay multiples of the group count (16 -> 9 does not).
GROUPED = """import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, channels, groups):
        super(Model, self).__init__()
        self.conv = nn.Conv1d(channels, channels, 3, groups=groups)

    def forward(self, x):
        return self.conv(x)

batch_size = 2
channels = 16
groups = 4
length = 64

def get_inputs():
    return [torch.randn(batch_size, channels, length)]

def get_init_inputs():
    return [channels, groups]
"""
ROBUST_FORWARD = """import torch
import torch.nn as nn
import torch.nn.functional as F

def forward_fn(x, weight, bias):
    return F.linear(x, weight, bias)

class Model(nn.Module):
    def __init__(self, in_features: int = 32, out_features: int = 8):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.randn(out_features))

    def forward(self, x, fn=forward_fn):
        return fn(x, self.weight, self.bias)

def get_inputs(batch_size: int = 4, in_features: int = 32):
    return [torch.randn(batch_size, in_features)]

input_names = ["x"]
"""
ROBUST_BACKWARD = ROBUST_FORWARD.replace(
    "return [torch.randn(batch_size, in_features)]",
    "return [torch.randn(batch_size, in_features, requires_grad=True)]",
)


def _kernelbench(root: Path) -> Path:
    for level, files in {
        "level1": {"19_ReLU.py": RELU, "88_Grouped_conv1d.py": GROUPED},
        "level2": {"1_Conv2D_ReLU_BiasAdd.py": BIAS},
    }.items():
        folder = root / "KernelBench" / level
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    return root


def test_kernelbench_is_copied_unchanged_with_categories_and_configs(tmp_path: Path) -> None:
    src = _kernelbench(tmp_path / "kb")
    suites = import_tasks("kernelbench", src, tmp_path / "out")
    assert [s.folder.name for s in suites] == ["level1", "level2"]
    for level in ("level1", "level2"):
        for path in (src / "KernelBench" / level).glob("*.py"):
            assert (tmp_path / "out" / level / path.name).read_bytes() == path.read_bytes()
    side = json.loads((tmp_path / "out" / "level1" / "kernelwright-suite.json").read_text())
    relu = side["tasks"]["19_ReLU.py"]
    assert relu["category"] == "activation"
    assert relu["configs"] == [{"batch_size": 9, "dim": 513}, {"batch_size": 3, "dim": 129}]
    # 16 channels become 9 or 3, which 4 groups do not divide: the meta device refuses both.
    grouped = side["tasks"]["88_Grouped_conv1d.py"]
    assert grouped == {"category": "conv"}
    level2 = json.loads((tmp_path / "out" / "level2" / "kernelwright-suite.json").read_text())
    assert level2["tasks"]["1_Conv2D_ReLU_BiasAdd.py"]["category"] == "fusion"


def test_a_config_runs_the_file_with_its_sizes(tmp_path: Path) -> None:
    import_tasks("kernelbench", _kernelbench(tmp_path / "kb"), tmp_path / "out")
    task = load_task(tmp_path / "out" / "level2" / "1_Conv2D_ReLU_BiasAdd.py")
    assert task.category == "fusion"
    assert set(task.global_keys) == {"batch_size", "out_channels", "height", "width"}
    assert task.default_config["out_channels"] == 16
    config = {**task.default_config, **task.configs[0]}
    module = task.module_for(config)
    # A global computed from a size follows it; inputs take the config's shape.
    assert module.bias_shape == (9, 1, 1)
    (x,) = module.get_inputs()
    assert tuple(x.shape) == (5, 9, 17, 17)
    assert task.module_for(dict(task.default_config)).bias_shape == (16, 1, 1)


def test_an_imported_task_is_verified_on_its_configs(tmp_path: Path, run_eval: Any) -> None:
    import_tasks("kernelbench", _kernelbench(tmp_path / "kb"), tmp_path / "out")
    task = tmp_path / "out" / "level1" / "19_ReLU.py"
    candidate = ROOT / "examples" / "smoke" / "triton" / "relu.py"
    verdict = run_eval(candidate, str(task), "triton", timing=False, trials=1, sampled_configs=0)
    assert verdict.status == "correct", verdict.log
    shapes = [(c["batch_size"], c["dim"]) for c in verdict.correctness["configs"]]
    assert shapes == [(16, 1024), (9, 513), (3, 129)]


def test_multikernelbench_leaves_out_the_npu_tasks(tmp_path: Path) -> None:
    ref = tmp_path / "mkb" / "reference"
    (ref / "activation").mkdir(parents=True)
    (ref / "activation" / "relu.py").write_text(RELU)
    (ref / "normalization").mkdir()
    (ref / "normalization" / "bias_relu.py").write_text(BIAS)
    (ref / "npukernelbench_level0").mkdir()
    (ref / "npukernelbench_level0" / "10_relu.py").write_text("def get_input_groups(): pass\n")
    (suite,) = import_tasks("multikernelbench", tmp_path / "mkb", tmp_path / "out")
    assert suite.tasks == 2
    assert suite.skipped == [
        (
            "npukernelbench_level0/10_relu.py",
            "an Ascend NPU task (torch_npu, inputs from a JSON file, no get_inputs)",
        )
    ]
    tasks, failed = scan_suite(str(suite.folder))
    assert not failed
    assert {t.path.name: t.category for t in tasks} == {
        "relu.py": "activation",
        "bias_relu.py": "norm",
    }


def test_robust_kbench_forward_and_backward_tasks_load(tmp_path: Path) -> None:
    root = tmp_path / "rk" / "tasks"
    level = root / "kernelbench" / "level_1" / "task_12"
    level.mkdir(parents=True)
    (level / "12_Matmul_with_bias.py").write_text(RELU)
    (level / "func_forward.py").write_text(ROBUST_FORWARD)
    custom = root / "mnist_linear"
    custom.mkdir()
    (custom / "func_forward.py").write_text(ROBUST_FORWARD)
    (custom / "func_backward.py").write_text(ROBUST_BACKWARD)
    suites = import_tasks("robust-kbench", tmp_path / "rk", tmp_path / "out")
    assert [s.folder.name for s in suites] == ["level_1", "custom"]
    (forward,), _ = scan_suite(str(tmp_path / "out" / "level_1"))
    assert forward.path.name == "task_12_forward.py" and forward.category == "matmul"
    # No get_init_inputs in the file: the sidecar says its Model takes its own defaults.
    module = forward.module()
    assert module.get_init_inputs() == []
    assert module.Model(*module.get_init_inputs()).weight.shape == (8, 32)
    tasks, failed = scan_suite(str(tmp_path / "out" / "custom"))
    assert not failed
    assert {t.path.name: t.backward for t in tasks} == {
        "mnist_linear_backward.py": True,
        "mnist_linear_forward.py": False,
    }


def test_nothing_is_written_over_an_existing_folder(tmp_path: Path) -> None:
    src = _kernelbench(tmp_path / "kb")
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(TaskError, match="not an empty folder"):
        import_tasks("kernelbench", src, out)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    result = CliRunner().invoke(app, ["tasks", "import", "kernelbench", str(src), "-o", str(out)])
    assert result.exit_code == 2 and "nothing was written" in result.output
    result = CliRunner().invoke(
        app, ["tasks", "import", "nosuch", str(src), "-o", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and "unknown importer" in result.output


@pytest.mark.parametrize(
    "sidecar",
    [
        "{not json",
        json.dumps({"format": 2, "tasks": {}}),
        json.dumps({"format": 1, "tasks": {"19_ReLU.py": {"category": "nonsense"}}}),
        json.dumps({"format": 1, "tasks": {"19_ReLU.py": {"configs": [{"dim": [1, 2]}]}}}),
        json.dumps({"format": 1, "tasks": {"19_ReLU.py": {"run": "rm -rf /"}}}),
        json.dumps({"format": 1, "tasks": {"19_ReLU.py": {"backward": "yes"}}}),
    ],
)
def test_a_malformed_sidecar_is_one_bad_file(tmp_path: Path, sidecar: str) -> None:
    (tmp_path / "19_ReLU.py").write_text(RELU)
    (tmp_path / "20_Other.py").write_text(RELU)
    (tmp_path / "kernelwright-suite.json").write_text(sidecar)
    with pytest.raises(TaskError):
        load_task(tmp_path / "19_ReLU.py")
    result = CliRunner().invoke(app, ["tasks", "list", "--suite", str(tmp_path), "--json"])
    assert "kernelwright-suite.json" in result.output


def test_sizes_from_arithmetic_are_proposed(tmp_path: Path) -> None:
    path = tmp_path / "1_Square_matmul.py"
    path.write_text(
        RELU.replace("batch_size = 16\ndim = 1024", "batch_size = 2 * 8\ndim = 512 * 2")
    )
    assert propose_configs(path) == [{"batch_size": 9, "dim": 513}, {"batch_size": 3, "dim": 129}]
