"""The launch counter (``verifier/launches.py``, E19): a traced forward of an honest candidate
launches its own kernels, one that computes with torch or numpy launches none.

Every scenario runs in a fresh interpreter, as the worker does: ``TRITON_INTERPRET`` is read when
a kernel is decorated, and the counter must be installed before the candidate is imported. The
forward runs inside the op witness's dispatch mode, as a traced call in the worker does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke"
HONEST = ROOT / "tests" / "honest"

# Installs the counter, imports each candidate, runs its forward twice on its task's inputs inside
# the op witness's mode, and prints as JSON the launches of each forward and those of them that
# are the candidate's own (kernels defined in its file or its extension build directory).
# argv[1]: the backend; argv[2]: a JSON list of [name, candidate path, task id].
DRIVER = r"""
import importlib.util, json, os, sys

from kernelwright.verifier.launches import install

backend = sys.argv[1]
counter = install(backend)
counter = install(backend)  # installing twice must not count twice
if os.environ.get("TRITON_INTERPRET") == "1":
    from kernelwright.backends.triton_interp import install_interpreter_hooks
    install_interpreter_hooks()

import torch
from kernelwright.bench_tasks import resolve_task
from kernelwright.verifier.witness import OpTrace

results = {}
for name, path, task_id in json.loads(sys.argv[2]):
    spec = importlib.util.spec_from_file_location("candidate_" + name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    task = resolve_task(task_id).module()
    torch.manual_seed(0)
    model = module.ModelNew(*task.get_init_inputs())
    calls = []
    for _ in range(2):
        inputs = task.get_inputs()
        trace = OpTrace(module)
        with torch.no_grad(), trace.mode, counter.window() as launches:
            model(*inputs)
        own = counter.own(launches, [path, os.environ["TORCH_EXTENSIONS_DIR"]])
        calls.append({"all": launches, "own": own})
    results[name] = calls
print("LAUNCHES=" + json.dumps(results))
"""


def _launches(
    backend: str, cases: list[tuple[str, Path, str]], tmp_path: Path
) -> dict[str, list[dict[str, int]]]:
    """The candidate's own launches in each case's two forwards."""
    return {
        name: [call["own"] for call in calls]
        for name, calls in _run(backend, cases, tmp_path).items()
    }


def _run(
    backend: str, cases: list[tuple[str, Path, str]], tmp_path: Path
) -> dict[str, list[dict[str, dict[str, int]]]]:
    """Each case's two forwards: all launches (``all``) and the candidate's own (``own``)."""
    env = dict(os.environ)
    if backend == "triton":
        env["TRITON_INTERPRET"] = "1"
    env["TORCH_EXTENSIONS_DIR"] = str(tmp_path / "torch_extensions")
    env.setdefault("OMP_NUM_THREADS", "2")
    payload = json.dumps([[name, str(path), task] for name, path, task in cases])
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, backend, payload],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("LAUNCHES="))
    results: dict[str, list[dict[str, dict[str, int]]]] = json.loads(line[len("LAUNCHES=") :])
    return results


def _write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return path


# ---- Triton: no false alarm on honest candidates ----------------------------------------------

# Honest Triton candidates in tests/honest/ and their tasks. E07_same_stream_twin.py is left out:
# its busy loop (REPEAT=2000) is meant for a GPU and takes minutes on the interpreter.
HONEST_TRITON = {
    "bias_add_broadcast_to": "smoke/bias_add_broadcast",
    "layernorm_item_reshape_as": "smoke/layernorm",
    "linear_relu_custom_op": "smoke/linear_relu",
    "matmul_autotune": "smoke/matmul",
    "matmul_permute_contiguous": "smoke/matmul",
    "relu_custom_op": "smoke/relu",
    "row_sum_triton_op": "smoke/row_sum",
    "softmax_library_op": "smoke/softmax",
}
TRITON_CASES = [
    (f"smoke_{p.stem}", p, f"smoke/{p.stem}") for p in sorted((EXAMPLES / "triton").glob("*.py"))
] + [(f"honest_{stem}", HONEST / f"{stem}.py", task) for stem, task in HONEST_TRITON.items()]


def test_every_honest_triton_file_is_covered() -> None:
    """A new honest Triton candidate in tests/honest/ gets a task here (or a reason to skip)."""
    triton_files = {
        p.stem
        for p in HONEST.glob("*.py")
        if "import triton" in p.read_text() and p.stem != "E07_same_stream_twin"
    }
    assert triton_files == set(HONEST_TRITON)


@pytest.fixture(scope="module")
def honest_triton(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # One interpreter for all of them: each is its own module, and counts are read per window.
    return _launches("triton", TRITON_CASES, tmp_path_factory.mktemp("honest_triton"))


@pytest.mark.parametrize("name", [c[0] for c in TRITON_CASES])
def test_honest_triton_forward_launches_its_kernels(name: str, honest_triton: Any) -> None:
    calls = honest_triton[name]
    assert len(calls) == 2
    for launches in calls:
        assert launches, f"{name}: a forward launched no kernel of its own"
        assert all(key.startswith("triton:") and n > 0 for key, n in launches.items())


# ---- Triton: planted and counting details ------------------------------------------------------

DECOY = """
import numpy as np
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(src, dst, n, BLOCK: tl.constexpr):  # defined, never launched
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=offs < n), 0.0), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, x):
        # triton kernel: relu_kernel[grid](x, y, n, BLOCK=1024)
        return torch.from_numpy(np.maximum(x.numpy(), 0.0))
"""

DECOY_TORCH = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=offs < n), 0.0), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, x):
        relu_kernel.warmup(x, x, x.numel(), BLOCK=1024, grid=(1,))  # compiles, launches nothing
        return torch.relu(x)
"""

# Three launches per forward of one autotuned kernel (two configs, one per call on the
# interpreter, each benchmarked on a GPU), plus one of a plain kernel.
AUTOTUNED = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.autotune(
    configs=[triton.Config({"BLOCK": 1024}), triton.Config({"BLOCK": 2048})], key=["n"]
)
@triton.jit
def relu_tuned(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    keep = offs < n
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=keep), 0.0), mask=keep)


@triton.jit
def copy_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(dst + offs, tl.load(src + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        n = x.numel()
        y = torch.empty_like(x)
        grid = lambda meta: (triton.cdiv(n, meta["BLOCK"]),)
        for _ in range(3):
            relu_tuned[grid](x, y, n)
        out = torch.empty_like(x)
        copy_kernel[(triton.cdiv(n, 4096),)](y, out, n, BLOCK=4096)
        return out
"""


def test_triton_planted_and_autotune(tmp_path: Path) -> None:
    cases = [
        ("decoy_numpy", _write(tmp_path, "decoy_numpy", DECOY), "smoke/relu"),
        ("decoy_torch", _write(tmp_path, "decoy_torch", DECOY_TORCH), "smoke/relu"),
        ("autotuned", _write(tmp_path, "autotuned", AUTOTUNED), "smoke/relu"),
    ]
    results = _launches("triton", cases, tmp_path)
    # A kernel defined (even warmed up) but the work done by numpy or torch: no launch.
    assert results["decoy_numpy"] == [{}, {}]
    assert results["decoy_torch"] == [{}, {}]
    # Autotune wrapping jit counts once per launch, and each kernel under its own name.
    assert (
        results["autotuned"]
        == [
            {
                "triton:candidate_autotuned.relu_tuned": 3,
                "triton:candidate_autotuned.copy_kernel": 1,
            }
        ]
        * 2
    )


# ---- C++ extensions ----------------------------------------------------------------------------

# The honest example with its forward replaced: it builds (the same extension, so the build is
# reused) but computes with torch.
CPP_DECOY_TAIL = """

_honest = ModelNew


class ModelNew(_honest):
    def forward(self, x):
        return torch.relu(x)
"""


@pytest.mark.slow
def test_cpp_extension_calls_counted(tmp_path: Path) -> None:
    honest = EXAMPLES / "cpu" / "relu.py"
    decoy = _write(tmp_path, "cpp_decoy", honest.read_text() + CPP_DECOY_TAIL)
    cases = [("honest", honest, "smoke/relu"), ("decoy", decoy, "smoke/relu")]
    results = _launches("cpu", cases, tmp_path)
    assert results["honest"] == [{"ext:kw_smoke_relu_cpu.relu_forward": 1}] * 2
    assert results["decoy"] == [{}, {}]


def test_cpp_wrapper_keeps_name_doc_and_results() -> None:
    """The counting wrapper of an extension's function: same name, doc and result."""
    import types

    from kernelwright.verifier import launches

    module = types.ModuleType("kw_fake_ext")
    module.twice = len  # type: ignore[attr-defined]  # a builtin, as pybind functions are
    module.Klass = int  # type: ignore[attr-defined]  # classes are left alone
    launches._wrap_module_functions(module)
    launches._wrap_module_functions(module)  # wrapping twice counts once
    counter = launches.counter()
    with counter.window() as seen:
        assert module.twice([1, 2, 3]) == 3
    assert seen == {"ext:kw_fake_ext.twice": 1}
    assert module.twice.__name__ == "len" and module.twice.__doc__ == len.__doc__
    assert module.Klass is int


# ---- Pallas ------------------------------------------------------------------------------------

PALLAS = """
import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def relu_kernel(x_ref, o_ref):
    o_ref[...] = jnp.maximum(x_ref[...], 0.0)


class ModelNew(nn.Module):
    def forward(self, x):
        a = jnp.asarray(x.numpy())
        y = pl.pallas_call(
            relu_kernel, out_shape=jax.ShapeDtypeStruct(a.shape, a.dtype), interpret=True
        )(a)
        return torch.from_numpy(np.asarray(y).copy())
"""


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="jax is not installed in this environment: the pallas hooks are not exercised",
)
def test_pallas_call_counted(tmp_path: Path) -> None:
    path = _write(tmp_path, "pallas_relu", PALLAS)
    results = _launches("pallas", [("pallas", path, "smoke/relu")], tmp_path)
    assert results["pallas"] == [{"pallas:candidate_pallas.relu_kernel": 1}] * 2


# A kernel of a library (here a file next to the candidate): launched, but not the candidate's.
LIBRARY = """
import triton
import triton.language as tl


@triton.jit
def lib_relu(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=offs < n), 0.0), mask=offs < n)
"""

USES_LIBRARY = """
import sys
import torch
import torch.nn as nn
import triton

sys.path.insert(0, {folder!r})
from kw_fake_lib import lib_relu


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        lib_relu[(triton.cdiv(x.numel(), 4096),)](x, y, x.numel(), BLOCK=4096)
        return y
"""


def test_library_kernel_is_not_own(tmp_path: Path) -> None:
    _write(tmp_path, "kw_fake_lib", LIBRARY)
    path = _write(tmp_path, "uses_lib", USES_LIBRARY.format(folder=str(tmp_path)))
    calls = _run("triton", [("uses_lib", path, "smoke/relu")], tmp_path)["uses_lib"]
    assert calls == [{"all": {"triton:kw_fake_lib.lib_relu": 1}, "own": {}}] * 2
