"""The static allowlist (``guards.static_guards``): every honest candidate passes it with no
finding, and each planted construct is rejected by its own check, with its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

from kernelwright.verifier.guards import (
    StaticReport,
    allowed_imports,
    denied_imports,
    static_guards,
)

BACKENDS = ("cpu", "cuda", "hip", "triton", "pallas")


def honest_files() -> list[tuple[str, Path]]:
    """Every honest candidate of the repository, with its backend: the examples (one folder per
    backend) and tests/honest (Triton)."""
    found = []
    for path in sorted((ROOT / "examples").rglob("*.py")):
        backend = next((part for part in path.parts if part in BACKENDS), None)
        assert backend, f"{path}: no backend folder above it"
        found.append((backend, path))
    found += [("triton", path) for path in sorted((ROOT / "tests" / "honest").glob("*.py"))]
    return found


def guard(source: str, backend: str = "triton", allow: tuple[str, ...] = ()) -> StaticReport:
    return static_guards(source, (), backend, allow)


def checks(report: StaticReport) -> set[str]:
    return {f.check for f in report.violations}


@pytest.mark.parametrize(
    ("backend", "path"),
    honest_files(),
    ids=[str(p.relative_to(ROOT)) for _, p in honest_files()],
)
def test_honest_candidates_pass(backend: str, path: Path) -> None:
    report = guard(path.read_text(), backend)
    assert report.syntax_error is None
    assert report.violations == [], report.violations
    assert report.flags == [] and report.allowed == []


def test_the_corpus_covers_every_backend() -> None:
    assert {backend for backend, _ in honest_files()} == set(BACKENDS)


# -- honest idioms beyond the corpus -----------------------------------------------------------------

TRITON_HEAD = """
import functools
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
import triton
import triton.language as tl
from triton.language.extra import libdevice
"""

HONEST_IDIOMS = {
    "autograd_function_ctx": TRITON_HEAD
    + """
@triton.jit(do_not_specialize=["n"])
def _scale(x_ptr, y_ptr, n, s, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    keep = offs < n
    tl.store(y_ptr + offs, libdevice.tanh(tl.load(x_ptr + offs, mask=keep)) * s, mask=keep)


def _launch(kernel, x, s):
    y = torch.empty_like(x)
    grid = lambda META: (triton.cdiv(x.numel(), META["BLOCK"]),)  # noqa: E731
    kernel[grid](x, y, x.numel(), s, BLOCK=1024)
    return y


class _Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, s):
        ctx.s = s
        ctx.save_for_backward(x)
        return _launch(_scale, x, s)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.s, None


class ModelNew(nn.Module):
    def __init__(self, scale: float = 2.0, bias: Optional[torch.Tensor] = None):
        super().__init__()
        self.scale = math.sqrt(scale)
        setattr(self, "offset", 0.0)
        self.cache = {}

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        input = F.pad(input, (0, 0)).contiguous()
        if hasattr(torch, "float8_e4m3fn") and getattr(self, "offset") == 0.0:
            pass
        self.cache[input.shape] = True
        return _Scale.apply(input, self.scale)
""",
    "kernel_kept_in_attribute": TRITON_HEAD
    + """
@triton.autotune(configs=[triton.Config({"BLOCK": 256})], key=["n"])
@triton.jit
def _copy(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


@functools.lru_cache(maxsize=None)
def _blocks(n: int) -> int:
    return triton.cdiv(n, 256)


_STATE = {"calls": 0}


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.kernel = _copy

    def forward(self, x):
        global _STATE
        _STATE["calls"] += 1
        y = torch.empty_like(x)
        with torch.cuda.device(x.device) if x.is_cuda else nullcontext():
            self.kernel[(_blocks(x.numel()),)](x, y, x.numel())
        return y


class nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
""",
    "cpp_extension_module_attribute": '''
import textwrap

import torch
import torch.nn as nn
import torch.utils.cpp_extension
from torch.utils import cpp_extension

SOURCE = textwrap.dedent("""
    #include <torch/extension.h>
    torch::Tensor twice(torch::Tensor x) {
        auto y = torch::empty_like(x);
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "twice", [&] {
            auto* s = x.data_ptr<scalar_t>(); auto* d = y.data_ptr<scalar_t>();
            for (int64_t i = 0; i < x.numel(); ++i) d[i] = 2 * s[i];
        });
        return y;
    }
""")
_EXT = None


def _ext():
    global _EXT
    if _EXT is None:
        _EXT = cpp_extension.load_inline("kw_twice", SOURCE, functions=["twice"])
    return _EXT


class ModelNew(nn.Module):
    def forward(self, x):
        assert torch.utils.cpp_extension is not None
        return _ext().twice(x.contiguous())
''',
}


@pytest.mark.parametrize("name", sorted(HONEST_IDIOMS))
def test_honest_idioms_pass(name: str) -> None:
    backend = "cpu" if "cpp_extension" in name else "triton"
    report = guard(HONEST_IDIOMS[name], backend)
    assert report.violations == [], report.violations


# -- planted constructs ------------------------------------------------------------------------------

TRITON = """
import torch
import torch.nn as nn
import triton
import triton.language as tl
{imports}


@triton.jit
def relu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0), mask=mask)

{module}

class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        relu_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
{forward}
        return y
"""


def triton(imports: str = "", module: str = "", forward: str = "") -> str:
    body = "\n".join("        " + line for line in forward.splitlines())
    return TRITON.format(imports=imports, module=module, forward=body)


CPU = '''
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

SOURCE = """{cpp}"""
{module}

class ModelNew(nn.Module):
    def forward(self, x):
        return {forward}
'''


def cpu(cpp: str = "torch::Tensor f(torch::Tensor x) { return x; }", module: str = "",
        forward: str = "_ext.f(x)") -> str:  # fmt: skip
    ext = '_ext = load_inline("kw", SOURCE, functions=["f"])\n'
    return CPU.format(cpp=cpp, module=ext + module, forward=forward)


# name: (backend, source, check that must fire, words its detail must contain)
PLANTED: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "E19_numpy": (
        "triton",
        triton("import numpy as np", forward="y = torch.from_numpy(np.maximum(x.numpy(), 0))"),
        "import_not_allowed",
        ("imports numpy", "triton kernel may not use", "--allow numpy"),
    ),
    "E19_scipy": (
        "triton",
        triton("from scipy import linalg"),
        "import_not_allowed",
        ("imports scipy",),
    ),
    "E19_scipy_submodule": (
        "triton",
        triton("import scipy.linalg as la"),
        "import_not_allowed",
        ("imports scipy.linalg",),
    ),
    "E19_marker_in_comment": (
        "triton",
        """
import torch
import torch.nn as nn
import triton  # triton.jit kernels are for later


# @triton.jit
def relu_kernel(x):
    return x


class ModelNew(nn.Module):
    def forward(self, x):
        return torch.relu(x)  # triton.jit
""",
        "no_kernel",
        ("no function is decorated with @triton.jit",),
    ),
    "E19_kernel_never_launched": (
        "triton",
        triton().replace(
            "relu_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)",
            "y = torch.relu(x)",
        ),
        "no_kernel",
        ("relu_kernel", "never launched"),
    ),
    "E19_load_inline_only_in_a_string": (
        "cpu",
        """
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

NOTE = "load_inline(name='x', cpp_sources=SOURCE) would build it; load( too"


class ModelNew(nn.Module):
    def forward(self, x):
        return torch.relu(x)
""",
        "no_kernel",
        ("load_inline(...)",),
    ),
    "E19_cuda_without_cuda_sources": (
        "cuda",
        cpu(),
        "no_kernel",
        ("cuda_sources",),
    ),
    "E19_cpp_extension_under_triton": (
        "triton",
        triton("from torch.utils.cpp_extension import load_inline"),
        "import_not_allowed",
        ("imports torch.utils.cpp_extension",),
    ),
    "E19_torch_compile": (
        "triton",
        triton(module="fast_relu = torch.compile(torch.relu)\n"),
        "import_not_allowed",
        ("uses torch.compile",),
    ),
    "E21_getframe": (
        "triton",
        triton("import sys", forward="caller = sys._getframe(1)"),
        "harness_tampering",
        ("_getframe",),
    ),
    "E21_inspect": (
        "triton",
        triton("import inspect", forward="frame = inspect.stack()"),
        "import_not_allowed",
        ("imports inspect",),
    ),
    "E21_gc_get_objects": (
        "triton",
        triton("import gc", forward="heap = gc.get_objects()"),
        "harness_tampering",
        ("gc.get_objects",),
    ),
    "E21_computed_getattr": (
        "triton",
        triton(forward='name = "re" + "lu"\ny = getattr(torch, name)(x)'),
        "introspection",
        ("getattr() with a computed attribute name",),
    ),
    "E21_getattr_passed_around": (
        "triton",
        triton("import functools", forward='y = functools.reduce(getattr, ["relu"], torch)(x)'),
        "introspection",
        ("passes getattr around",),
    ),
    "E21_globals": (
        "triton",
        triton(forward='table = globals()["__builtins__"]'),
        "introspection",
        ("uses globals",),
    ),
    "E21_f_locals": (
        "triton",
        triton(module="def peek(frame):\n    return frame.f_locals\n"),
        "introspection",
        (".f_locals",),
    ),
    "E21_constant_getattr_of_frame_internals": (
        "triton",
        triton(module='def peek(frame):\n    return getattr(frame, "f_globals")\n'),
        "introspection",
        (".f_globals",),
    ),
    "E21_sys_modules_through_torch": (
        "triton",
        triton(forward="mods = torch.sys.modules"),
        "introspection",
        ("torch.sys.modules",),
    ),
    "E21_sys_reached_through_torch": (
        "triton",
        triton(forward="mods = torch.sys.modules"),
        "import_not_allowed",
        ("reaches module sys through torch.sys",),
    ),
    "E21_dunder_import": (
        "triton",
        triton(forward="np = __import__('numpy')"),
        "introspection",
        ("uses __import__",),
    ),
    "E21_eval": (
        "triton",
        triton(forward="y = eval('torch.relu(x)')"),
        "introspection",
        ("uses eval",),
    ),
    "E21_open": (
        "triton",
        triton(forward="open('/tmp/x', 'w').write('done')"),
        "introspection",
        ("uses open",),
    ),
    "E21_attrgetter_of_internals": (
        "triton",
        triton("import operator", module='peek = operator.attrgetter("f_back.f_locals")\n'),
        "introspection",
        (".f_locals",),
    ),
    "E22_patch_tensor_method": (
        "triton",
        triton(module="torch.Tensor.add = lambda a, b: a\n"),
        "foreign_attribute",
        ("assigns torch.Tensor.add", "imported torch"),
    ),
    "E22_setattr_tensor_method": (
        "triton",
        triton(module='setattr(torch.Tensor, "mul", lambda a, b: a)\n'),
        "foreign_attribute",
        ("sets torch.Tensor.mul",),
    ),
    "E22_patch_through_alias": (
        "triton",
        triton("import torch.nn.functional as F", module="F.relu = lambda x: x\n"),
        "foreign_attribute",
        ("assigns F.relu",),
    ),
    "E22_patch_through_local_alias": (
        "triton",
        triton(module="T = torch.Tensor\nT.clone = lambda a: a\n"),
        "foreign_attribute",
        ("assigns T.clone",),
    ),
    "E22_patch_through_parameter": (
        "triton",
        triton(module="def patch(cls):\n    cls.add = None\n\n\npatch(torch.Tensor)\n"),
        "foreign_attribute",
        ("parameter cls",),
    ),
    "E22_patch_type_of_input": (
        "triton",
        triton(forward="type(x).add = None"),
        "foreign_attribute",
        ("type(x).add",),
    ),
    "E22_patch_module_call": (
        "triton",
        triton(module="nn.Module.__call__ = lambda self, *a: self.forward(*a)\n"),
        "foreign_attribute",
        ("nn.Module.__call__",),
    ),
    "E22_delete_tensor_method": (
        "triton",
        triton(module="del torch.Tensor.add\n"),
        "foreign_attribute",
        ("deletes torch.Tensor.add",),
    ),
    "E22_type_setattr": (
        "triton",
        triton(module='type.__setattr__(torch.Tensor, "add", None)\n'),
        "foreign_attribute",
        ("torch.Tensor.add",),
    ),
    "E22_patch_builtin": (
        "triton",
        triton(module="int.__add__ = None\n"),
        "foreign_attribute",
        ("builtin int",),
    ),
    "E10_timer_patch": (
        "triton",
        triton("import time", module="time.perf_counter = lambda: 0.0\n"),
        "timer_patch",
        ("assigns time.perf_counter",),
    ),
    "E20_python_dispatch_call": (
        "triton",
        triton(forward='y = torch._C._dispatch_call_boxed("aten::relu", x)'),
        "dispatcher_bypass",
        ("_dispatch_call_boxed",),
    ),
    "E20_torch_C": (
        "triton",
        triton("from torch import _C"),
        "import_not_allowed",
        ("imports torch._C",),
    ),
    "E20_cpp_redispatch": (
        "cpu",
        cpu(
            "torch::Tensor f(torch::Tensor x) { return at::_ops::relu::redispatch("
            "c10::DispatchKeySet(c10::DispatchKey::CPU), x); }"
        ),
        "dispatcher_bypass",
        ("redispatch",),
    ),
    "E20_cpp_at_native": (
        "cpu",
        cpu("torch::Tensor f(torch::Tensor x) { return at::native::relu(x); }"),
        "dispatcher_bypass",
        ("at::native::",),
    ),
    "E20_python_redispatch": (
        "triton",
        triton(forward="y = torch.ops.aten.relu.default.redispatch(keys, x)"),
        "dispatcher_bypass",
        ("redispatch",),
    ),
    "E23_environment": (
        "triton",
        triton("import os", forward='timing = "KW_PHASE" in os.environ'),
        "import_not_allowed",
        ("imports os",),
    ),
    "E23_profiler": (
        "triton",
        triton("import torch.profiler"),
        "import_not_allowed",
        ("imports torch.profiler",),
    ),
    "E23_python_dispatch_mode": (
        "triton",
        triton("from torch.utils._python_dispatch import _get_current_dispatch_mode"),
        "import_not_allowed",
        ("imports torch.utils._python_dispatch",),
    ),
    "relative_import": (
        "triton",
        triton("from . import helpers"),
        "import_not_allowed",
        ("relative import",),
    ),
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_construct_is_rejected(name: str) -> None:
    backend, source, check, words = PLANTED[name]
    report = guard(source, backend)
    assert report.syntax_error is None, report.syntax_error
    hits = [f for f in report.violations if f.check == check]
    assert hits, f"{check} did not fire: {report.violations}"
    assert any(all(w in f.detail for w in words) for f in hits), hits
    for finding in report.violations:
        if finding.check != "no_kernel":
            assert re.match(r"line \d+: ", finding.detail), finding.detail


def test_planted_sources_differ_from_an_honest_one_only_by_the_plant() -> None:
    assert guard(triton()).violations == []
    assert guard(cpu(), "cpu").violations == []


def test_allow_lets_a_module_through_and_records_it() -> None:
    source = triton("import numpy as np", forward="y = torch.from_numpy(np.asarray(y))")
    assert checks(guard(source)) == {"import_not_allowed"}
    report = guard(source, allow=("numpy",))
    assert report.violations == []
    assert report.allowed == ["numpy"]


def test_allow_records_only_what_it_let_through() -> None:
    source = triton("import numpy.linalg", forward="open('/dev/null')")
    report = guard(source, allow=("numpy", "open", "scipy"))
    assert report.violations == []
    assert report.allowed == ["numpy", "open"]


def test_allow_widens_a_denied_submodule() -> None:
    source = triton("import torch.profiler")
    assert checks(guard(source)) == {"import_not_allowed"}
    report = guard(source, allow=("torch.profiler",))
    assert report.violations == [] and report.allowed == ["torch.profiler"]


def test_names_bound_by_the_candidate_are_not_builtins() -> None:
    source = triton(
        module="def compile(open, input):\n    return open + input\n",
        forward="y = compile(1, 2) and y",
    )
    assert guard(source).violations == []


def test_attributes_of_objects_the_candidate_made_may_be_assigned() -> None:
    source = triton(
        module=(
            "class Box:\n    pass\n\n\nbox = Box()\nbox.value = 1\nBox.shared = 2\n"
            "table = dict()\ntable['k'] = 3\n"
        ),
        forward="self.last = y\nself.__class__.count = 1",
    )
    assert guard(source).violations == []


def test_kernel_launched_through_wrap_triton_or_a_helper() -> None:
    wrapped = triton(
        "from torch.library import wrap_triton",
        forward="wrap_triton(relu_kernel)[(1,)](x, y, x.numel(), BLOCK=1024)",
    ).replace("relu_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)", "")
    assert guard(wrapped).violations == []


def test_the_words_of_the_kernel_rules_in_docstrings_and_comments_do_not_count() -> None:
    source = '"""Calls no at::native:: kernel and no redispatch."""\n' + triton(
        forward="# redispatch, DispatchKeySet and at::cpu:: are not used"
    )
    assert guard(source).violations == []


def test_syntax_error_is_reported_not_raised() -> None:
    report = guard("import torch\nclass ModelNew(torch.nn.Module:\n    pass\n")
    assert report.syntax_error and "line" in report.syntax_error
    assert report.violations == []


def test_positional_call_of_the_old_signature() -> None:
    report = static_guards(triton(), ("triton.jit",), "triton")
    assert report.violations == [] and report.flags == []


def test_unknown_backend_falls_back_to_its_markers_in_code() -> None:
    source = "import torch\n# my_marker\nclass ModelNew(torch.nn.Module):\n    pass\n"
    report = static_guards(source, ("my_marker",), "other")
    assert checks(report) == {"no_kernel"}


def test_allowlists() -> None:
    assert {"torch", "math", "triton", "triton.language"} <= allowed_imports("triton")
    assert "torch.utils.cpp_extension" in allowed_imports("cpu")
    assert "triton" not in allowed_imports("cpu")
    assert "torch.utils.cpp_extension" in denied_imports("triton")
    assert "torch.utils.cpp_extension" not in denied_imports("cuda")
    assert {"torch._C", "torch.profiler", "torch.testing"} <= denied_imports("cuda")
    for backend in BACKENDS:
        assert not {"numpy", "scipy", "os", "sys", "ctypes", "gc"} & allowed_imports(backend)


def test_methods_named_like_modules_are_not_modules() -> None:
    source = triton(forward="if False:\n    torch.Tensor.numpy(y)")
    assert guard(source).violations == []
    pallas = "import jax\nimport jax.numpy as jnp\nv = jax.numpy.zeros(3)\n"
    assert checks(static_guards(pallas, (), "pallas")) == {"no_kernel"}
