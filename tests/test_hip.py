"""The hip backend where hipcc exists without an AMD GPU (this machine, with Debian's hipcc):
``--compile-only`` builds the HIP examples to objects holding code for the AMD targets the
compiler knows, and a HIP error is a ``compile_error`` with hipcc's own message.

The tests that compile need hipcc: ``scripts/test.sh`` installs it (``KERNELWRIGHT_WITH_HIP=1``);
elsewhere they are skipped with that reason. A HIP build here takes 30-50 s, so they are few."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES

from kernelwright.backends import compile_only, hip, infer_backend
from kernelwright.backends.compile_only import CompileError, compile_sources
from kernelwright.backends.hip import DEFAULT_TARGETS, HipBackend, hip_targets, supported_targets

needs_hipcc = pytest.mark.skipif(
    shutil.which("hipcc") is None,
    reason="needs hipcc (KERNELWRIGHT_WITH_HIP=1 bash scripts/setup.sh installs it)",
)
HIP = EXAMPLES / "hip"


def _hip_source(example: Path) -> tuple[str, str]:
    namespace: dict[str, Any] = {}
    text = example.read_text()
    # The module's sources, without running its load_inline.
    exec(text.split("_ext = load_inline(")[0], namespace)
    return namespace["CPP_SOURCE"], namespace["HIP_SOURCE"]


def test_a_hip_source_is_told_from_a_cuda_one() -> None:
    for name in ("relu", "softmax", "row_sum", "matmul"):
        assert infer_backend((HIP / f"{name}.py").read_text()) == "hip"
        assert infer_backend((EXAMPLES / "cuda" / f"{name}.py").read_text()) == "cuda"


def test_without_hipcc_the_backend_is_missing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hip.shutil, "which", lambda name: None)
    status = HipBackend().status()
    assert status.state == "missing"
    assert "hipcc not found" in status.reason


def test_the_targets_are_torchs_rocm_arch_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTORCH_ROCM_ARCH", "gfx90a;gfx1100")
    assert hip_targets() == ("gfx90a", "gfx1100")
    monkeypatch.setenv("PYTORCH_ROCM_ARCH", " ")
    assert hip_targets() == DEFAULT_TARGETS == ("gfx90a", "gfx942")
    # The toolchain id (part of the build-cache key) changes with the targets.
    monkeypatch.setenv("PYTORCH_ROCM_ARCH", "gfx90a")
    one = HipBackend().toolchain_id()
    monkeypatch.setenv("PYTORCH_ROCM_ARCH", "gfx1100")
    assert HipBackend().toolchain_id() != one


@needs_hipcc
def test_status_names_the_targets_this_hipcc_builds_and_those_it_cannot() -> None:
    built, failed = supported_targets(("gfx90a", "gfx_no_such_target"))
    assert built == ("gfx90a",)
    assert set(failed) == {"gfx_no_such_target"} and failed["gfx_no_such_target"]
    status = HipBackend().status()
    assert status.state == "compile-only", status.reason
    assert "--compile-only" in status.reason and "gfx90a" in status.reason


@needs_hipcc
@pytest.mark.slow
def test_the_object_holds_amd_gpu_code_for_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTORCH_ROCM_ARCH", "gfx90a")
    cpp, source = _hip_source(HIP / "relu.py")
    objects = compile_sources(tmp_path, "kw_relu", cpp, source, ["relu_forward"], {}, "hip")
    assert [o.name for o in objects] == ["main.o", "hip.o"]
    # clang's offload bundle names each device image by its target triple and processor.
    assert b"amdgcn-amd-amdhsa--gfx90a" in (tmp_path / "hip.o").read_bytes()


@needs_hipcc
@pytest.mark.slow
@pytest.mark.parametrize(
    ("example", "task"),
    [("softmax", "smoke/softmax"), ("row_sum", "smoke/row_sum"), ("matmul", "smoke/matmul")],
)
def test_examples_compile_only(run_eval: Any, example: str, task: str) -> None:
    # A HIP build of torch's headers takes 30-50 s here, twice that on a busy machine.
    verdict = run_eval(HIP / f"{example}.py", task, "hip", compile_only=True, timeout=600.0)
    assert verdict.status == "compiled", verdict.log
    assert verdict.correctness == {"object_files_only": True}


@needs_hipcc
@pytest.mark.slow
def test_a_hip_error_is_a_compile_error_with_hipccs_message(run_eval: Any, tmp_path: Path) -> None:
    broken = tmp_path / "relu_broken.py"
    text = (HIP / "relu.py").read_text()
    broken.write_text(text.replace("y[i] = v < 0.f ? 0.f : v;", "y[i] = kw_undeclared(v);"))
    verdict = run_eval(broken, "smoke/relu", "hip", compile_only=True, timeout=600.0)
    assert verdict.status == "compile_error", verdict.log
    assert "hipcc compilation failed" in verdict.log
    assert "kw_undeclared" in verdict.log


def test_compile_only_without_hipcc_is_a_compile_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "hipcc" else "/usr/bin/c++")
    with pytest.raises(CompileError, match="hipcc not found"):
        compile_only._compile_hip(tmp_path, "__global__ void k() {}", [], [], {})
