"""Compile a candidate's ``load_inline`` sources to object files without linking or loading them.

For a backend whose compiler is present but whose hardware is not (nvcc on a machine without a
GPU): the verdict is ``compiled`` or ``compile_error`` with the compiler's own message.
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


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
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
) -> list[Path]:
    """Compile the C++ translation unit (with its bindings) and the CUDA one to ``.o`` files."""
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
    if cuda_text:
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
