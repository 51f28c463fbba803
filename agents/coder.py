"""The Coder: one prompt that asks for one candidate, and the code taken from the reply.

The prompt holds what a kernel engineer would need and nothing the verifier would reject: the
task's source, the backend's rules (the arithmetic runs in the candidate's own kernels, what is
rejected and why, the tolerance), a worked example from the task's category for that backend,
the device's facts, every config the task is checked on (so that shapes are not hard-coded),
and, after the first round, the parent's source with the verdict and the Judge's advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from kernelwright.agents.facts import DeviceFacts
from kernelwright.agents.providers.base import Request
from kernelwright.bench_tasks.task import Task
from kernelwright.verifier.reference import tolerance

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples" / "smoke"
SUITE_DIR = Path(__file__).resolve().parent.parent / "bench_tasks" / "suites" / "smoke"
_CATEGORY = re.compile(r"^CATEGORY\s*=\s*[\"']([a-z_]+)[\"']", re.MULTILINE)
# A fenced block: an opening fence with an optional language, the body, a closing fence.
_FENCE = re.compile(
    r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M
)
# Where a task's category has no example for the backend, the nearest kind of work that has one.
_NEAREST = {
    "activation": ("broadcast", "math"),
    "broadcast": ("activation", "math"),
    "math": ("activation", "broadcast"),
    "loss": ("reduce", "norm"),
    "reduce": ("norm", "loss"),
    "norm": ("reduce", "activation"),
    "fusion": ("matmul", "activation"),
    "matmul": ("fusion", "conv"),
    "conv": ("matmul", "pooling"),
    "attention": ("matmul", "norm"),
    "pooling": ("reduce", "conv"),
    "optimizer": ("math", "broadcast"),
    "index": ("broadcast", "resize"),
    "resize": ("index", "broadcast"),
    "full_arch": ("fusion", "matmul"),
}

SYSTEM = (
    "You are an expert performance engineer who writes GPU and CPU kernels. You answer with one "
    "complete Python file in a single fenced code block, and a few sentences at most outside it."
)

_COMMON_RULES = """\
- Write a complete Python file defining `class ModelNew(nn.Module)` with the same constructor
  arguments and the same `forward` signature and outputs as the task's `Model`.
- The arithmetic must run in your own kernels, written in this file. Calling torch (or numpy, scipy, a
  vendor library) to compute the result is rejected: only allocation (`torch.empty*`), views,
  reshapes, dtype/device queries and `.contiguous()` are allowed outside your kernels.
- It is rejected, or caught as wrong, to: return cached or precomputed outputs, compute in
  `__init__` what belongs to `forward`, keep threads or streams running after `forward` returns,
  read the caller's frames, globals or files, touch the timer, or special-case the inputs you
  expect. Correctness is checked on several shapes and seeds, not only the one timed.
- Outputs must match the reference within atol={atol:g} and rtol={rtol:g} (for {dtype}).
"""

BACKEND_RULES = {
    "cpu": """\
- Backend cpu: C++ compiled with `torch.utils.cpp_extension.load_inline` (cpp_sources, a unique
  `name`, `extra_cflags=["-O3", "-fopenmp"]`, `extra_ldflags=["-fopenmp"]`). Use raw pointers,
  OpenMP and SIMD-friendly loops; check contiguity and dtype with TORCH_CHECK. Build time counts:
  pass `no_implicit_headers=True, with_pytorch_error_handling=False` and include only what the
  kernel uses (`<ATen/core/Tensor.h>`, `<ATen/ops/empty.h>`, `<torch/csrc/utils/pybind.h>`, as in
  the example), not `<torch/extension.h>`, which doubles it.
""",
    "cuda": """\
- Backend cuda: CUDA C++ compiled with `torch.utils.cpp_extension.load_inline` (cuda_sources
  with your `__global__` kernels and a launcher, cpp_sources with its declaration). Launch on the
  current stream (`at::cuda::getCurrentCUDAStream()`), check errors, never synchronize.
""",
    "hip": """\
- Backend hip: HIP C++ for AMD GPUs, compiled with `torch.utils.cpp_extension.load_inline`
  (cuda_sources with `#include <hip/hip_runtime.h>`, your `__global__` kernels and a launcher;
  cpp_sources with its declaration). Launch with `hipLaunchKernelGGL`, check `hipGetLastError()`,
  never synchronize. A wavefront is 64 lanes on most AMD GPUs: do not assume 32.
""",
    "triton": """\
- Backend triton: kernels decorated with `@triton.jit`, launched from `forward` with a grid that
  depends on the input sizes. No `torch.compile`, no `triton.testing`, no autotuning caches kept
  between calls that change the result.
""",
    "pallas": """\
- Backend pallas: JAX Pallas kernels (`from jax.experimental import pallas as pl`), run by
  `pl.pallas_call(kernel, out_shape=..., grid=..., in_specs=..., out_specs=...)`; pass tensors
  with `jax.dlpack.from_dlpack(t.contiguous())` and back with `torch.from_dlpack(y)`. All the
  arithmetic happens inside the kernel body: any `jnp`/`jax.nn`/`lax` computation outside a
  `pallas_call` (moving, reshaping and casting data excepted) is rejected, under `jax.jit` too,
  and so is any at module level or in `__init__`: build constants with torch or plain Python.
  Host callbacks, `jax.ensure_compile_time_eval`, `jax.device_get` and `jax.tree_util` are not
  allowed. Where no TPU or GPU is present every `pallas_call` runs interpreted; do not pass
  `interpret`.
""",
}


@dataclass(frozen=True)
class Example:
    """A worked example: a task of the smoke suite and an honest kernel for it."""

    category: str
    task_source: str
    kernel_source: str
    name: str


@dataclass(frozen=True)
class Feedback:
    """What a round taught: the candidate it was about, the verdict in words, the Judge's advice."""

    source: str
    verdict: str
    advice: str


def _category_of(path: Path) -> str | None:
    found = _CATEGORY.search(path.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def examples_for(backend: str) -> dict[str, list[Path]]:
    """The shipped example kernels of ``backend`` by their task's category."""
    found: dict[str, list[Path]] = {}
    for kernel in sorted((EXAMPLES_DIR / backend).glob("*.py")):
        task_file = SUITE_DIR / kernel.name
        category = _category_of(task_file) if task_file.is_file() else None
        if category:
            found.setdefault(category, []).append(kernel)
    return found


def pick_example(task: Task, backend: str) -> Example | None:
    """An example from the task's category (or the nearest one) that is not the task itself."""
    shipped = examples_for(backend)
    wanted = task.category or "activation"
    for category in (wanted, *_NEAREST.get(wanted, ()), *sorted(shipped)):
        for kernel in shipped.get(category, []):
            task_file = SUITE_DIR / kernel.name
            if task_file.resolve() == task.path.resolve():
                continue  # never the answer to the task at hand
            return Example(
                category=category,
                task_source=task_file.read_text(encoding="utf-8"),
                kernel_source=kernel.read_text(encoding="utf-8"),
                name=f"smoke/{kernel.stem}",
            )
    return None


def _configs_text(task: Task) -> str:
    configs = [dict(task.default_config)] + [{**task.default_config, **cfg} for cfg in task.configs]
    lines = [f"- {cfg}" for cfg in configs[:8]]
    if task.has_sampler:
        lines.append("- and configs drawn at random by the task's `sample_config`")
    if not task.default_config:
        lines.append("- (the task's sizes are module-level constants)")
    return "\n".join(lines)


def rules_text(task: Task, backend: str) -> str:
    atol, rtol = tolerance(task, torch.float32)
    text = _COMMON_RULES.format(atol=atol, rtol=rtol, dtype="float32 outputs")
    half_atol, half_rtol = tolerance(task, torch.float16)
    text += f"  (fp16/bf16 outputs: atol={half_atol:g}, rtol={half_rtol:g})\n"
    return text + BACKEND_RULES.get(backend, f"- Backend {backend}.\n")


def coder_request(
    task: Task,
    backend: str,
    facts: DeviceFacts,
    *,
    feedback: Feedback | None = None,
    history: tuple[Feedback, ...] = (),
    tag: str = "",
    model: str | None = None,
    max_tokens: int = 8192,
    temperature: float | None = None,
) -> Request:
    """The Coder's request for ``task``: the first attempt, or an improvement of ``feedback``."""
    parts = [
        f"Write a faster kernel for this PyTorch task ({task.id}, category "
        f"{task.category or 'unknown'}) on the {backend} backend.\n",
        f"## Task\n```python\n{task.source.rstrip()}\n```\n",
        f"## Rules\n{rules_text(task, backend)}",
        f"## Device\n{facts.text()}\n",
        f"## Shapes it is checked on (do not hard-code one)\n{_configs_text(task)}\n",
    ]
    example = pick_example(task, backend)
    if example is not None:
        parts.append(
            f"## A worked example ({example.name}, category {example.category})\n"
            f"Task:\n```python\n{example.task_source.rstrip()}\n```\n"
            f"An accepted kernel for it:\n```python\n{example.kernel_source.rstrip()}\n```\n"
        )
    for earlier in history:
        parts.append(
            f"## An earlier attempt\n```python\n{earlier.source.rstrip()}\n```\n"
            f"Verdict: {earlier.verdict}\nAdvice: {earlier.advice}\n"
        )
    if feedback is not None:
        parts.append(
            f"## Your previous kernel\n```python\n{feedback.source.rstrip()}\n```\n"
            f"## Verdict\n{feedback.verdict}\n## The reviewer's advice\n{feedback.advice}\n"
            "Apply the advice. Answer with the complete new file in one fenced code block.\n"
        )
    else:
        parts.append("Answer with the complete file in one fenced code block.\n")
    return Request.of(
        "\n".join(parts),
        system=SYSTEM,
        model=model,
        max_tokens=max_tokens,
        temperature=temperature,
        tag=tag,
    )


def extract_code(text: str) -> str | None:
    """The first fenced code block of a reply (Python preferred over a block in another
    language); None when the reply has none."""
    blocks = [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]
    blocks = [(lang, body) for lang, body in blocks if body.strip()]
    if not blocks:
        return None
    for lang, body in blocks:
        if lang in ("python", "py", "python3"):
            return body
    for lang, body in blocks:
        if lang == "" and "ModelNew" in body:
            return body
    return None
