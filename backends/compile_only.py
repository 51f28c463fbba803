"""Compile a candidate's ``load_inline`` sources to object files without linking or loading them.

For a backend whose compiler is present but whose hardware is not (nvcc or hipcc on a machine
without the GPU): the verdict is ``compiled`` or ``compile_error`` with the compiler's own
message.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class CompileError(RuntimeError):
    """A compiler rejected the candidate's source; the message is the compiler's output."""


def _as_text(sources: str | Sequence[str] | None) -> str:
    if sources is None:
        return ""
    if isinstance(sources, str):
        return sources
    return "\n".join(sources)


def _bindings(functions: Any) -> str:
    if not functions:
        return ""
    if isinstance(functions, str):
        functions = [functions]
    names = functions.items() if isinstance(functions, dict) else [(f, f) for f in functions]
    defs = "\n".join(f'  m.def("{name}", {name}, "{doc}");' for name, doc in names)
    return f"\nPYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {{\n{defs}\n}}\n"


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip()
        first = next((line for line in message.splitlines() if "error" in line.lower()), "")
        raise CompileError(f"{what} failed: {first.strip()[:300]}\n{message[-6000:]}")


def compile_sources(
    build_dir: Path,
    name: str,
    cpp_sources: str | Sequence[str] | None,
    cuda_sources: str | Sequence[str] | None,
    functions: Any,
    options: dict[str, Any],
    backend: str = "cuda",
) -> list[Path]:
    """Compile the C++ translation unit (with its bindings) and the CUDA (or, for ``hip``, the
    HIP) one to ``.o`` files."""
    from torch.utils.cpp_extension import include_paths

    build_dir.mkdir(parents=True, exist_ok=True)
    includes = [f"-I{p}" for p in include_paths()] + [f"-I{sysconfig.get_paths()['include']}"]
    includes += [f"-I{p}" for p in options.get("extra_include_paths") or []]
    defines = [f"-DTORCH_EXTENSION_NAME={name}", "-DTORCH_API_INCLUDE_EXTENSION_H"]
    objects = []
    cpp = build_dir / "main.cpp"
    cpp.write_text("#include <torch/extension.h>\n" + _as_text(cpp_sources) + _bindings(functions))
    cxx = shutil.which("c++") or shutil.which("g++") or "c++"
    flags = list(options.get("extra_cflags") or [])
    _run(
        [
            cxx,
            "-c",
            str(cpp),
            "-o",
            str(build_dir / "main.o"),
            "-std=c++17",
            "-fPIC",
            *includes,
            *defines,
            *flags,
        ],
        "C++ compilation",
    )
    objects.append(build_dir / "main.o")
    cuda_text = _as_text(cuda_sources)
    if cuda_text and backend == "hip":
        objects.extend(_compile_hip(build_dir, cuda_text, includes, defines, options))
    elif cuda_text:
        nvcc = shutil.which("nvcc")
        if nvcc is None:
            raise CompileError("nvcc not found")
        cu = build_dir / "cuda.cu"
        cu.write_text(
            "#include <torch/types.h>\n#include <cuda.h>\n#include <cuda_runtime.h>\n" + cuda_text
        )
        arch = options.get("_arch", "sm_90")
        cuda_flags = list(options.get("extra_cuda_cflags") or [])
        argv = [nvcc, "-c", str(cu), "-o", str(build_dir / "cuda.o"), "-std=c++17", f"-arch={arch}"]
        stubs = Path(__file__).resolve().parent / "cuda_stubs"
        argv += [
            "--compiler-options",
            "-fPIC",
            "-Xcompiler",
            "-idirafter",
            "-Xcompiler",
            str(stubs),
        ]
        argv += [*includes, *defines, *cuda_flags]
        _run(argv, "nvcc compilation")
        objects.append(build_dir / "cuda.o")
    return objects


def _compile_hip(
    build_dir: Path, text: str, includes: list[str], defines: list[str], options: dict[str, Any]
) -> list[Path]:
    """The HIP translation unit, for every target this hipcc knows of the backend's targets."""
    from kernelwright.backends.hip import hip_targets, hipcc_env, supported_targets

    hipcc = shutil.which("hipcc")
    if hipcc is None:
        raise CompileError("hipcc not found")
    targets, _ = supported_targets(hip_targets())
    if not targets:
        raise CompileError(f"hipcc builds for none of {', '.join(hip_targets())}")
    source = build_dir / "hip.hip"
    source.write_text("#include <torch/types.h>\n#include <hip/hip_runtime.h>\n" + text)
    stubs = Path(__file__).resolve().parent / "hip_stubs"
    argv = [hipcc, "-x", "hip", "-c", str(source), "-o", str(build_dir / "hip.o"), "-std=c++17"]
    argv += [f"--offload-arch={t}" for t in targets]
    argv += ["-fPIC", "-w", "-idirafter", str(stubs), *includes, *defines]
    argv += [str(f) for f in options.get("extra_cuda_cflags") or []]
    _run(argv, "hipcc compilation", env=hipcc_env())
    return [build_dir / "hip.o"]
