"""Anti-cheat checks that the parent runs: static guards on the source, and the rule for the
aten ops a candidate may dispatch while its forward runs.

Static guards see only what is written; the dispatch trace sees what ran, including calls into
torch made from C++ extensions. Findings that are certain go to violations (status ``rejected``);
findings that are only suspicious go to flags.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kernelwright.verifier.verdict import Finding

# The aten ops plain torch may run around the candidate's kernels: they allocate, view, reshape,
# expand, copy (same dtype, or a dtype conversion that E14's tolerances judge), read metadata or
# return a scalar, and none does the task's arithmetic. Each witness names them its own way: the
# dispatch trace sees what reaches the backend (``view``, ``expand``, ``_local_scalar_dense``),
# the profiler also sees the composite op that was called (``reshape_as``, ``type_as``,
# ``broadcast_to``, ``item``, ``contiguous``), so both spellings are listed. Views that carry
# pending arithmetic (``_neg_view``, ``conj``, ``mH``: a later copy negates or conjugates) and ops
# that pick elements by an index tensor (``index``, ``_unsafe_index``, ``gather``: one call is a
# whole upsampling or embedding task) are not.
_ALLOCATE = [
    "empty",
    "empty_like",
    "empty_strided",
    "empty_permuted",
    "new_empty",
    "new_empty_strided",
    "zeros",
    "zeros_like",
    "new_zeros",
    "ones",
    "ones_like",
    "new_ones",
    "full",
    "full_like",
    "new_full",
    "fill_",
    "zero_",
    "scalar_tensor",
    "arange",
    "lift",
    "lift_fresh",
    "lift_fresh_copy",
    "resize_",
    "resize_as_",
    "set_",
]
_VIEW = [
    "view",
    "_unsafe_view",
    "view_as",
    "reshape",
    "reshape_as",
    "_reshape_alias",
    "alias",
    "as_strided",
    "expand",
    "expand_as",
    "broadcast_to",
    "broadcast_tensors",
    "permute",
    "transpose",
    "swapaxes",
    "swapdims",
    "movedim",
    "moveaxis",
    "t",
    "numpy_T",
    "mT",
    "unsqueeze",
    "squeeze",
    "flatten",
    "unflatten",
    "ravel",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "slice",
    "select",
    "narrow",
    "split",
    "split_with_sizes",
    "tensor_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "chunk",
    "unbind",
    "diagonal",
    "unfold",
    "detach",
    "detach_",
    "real",
    "view_as_real",
    "resolve_conj",
    "resolve_neg",
]
# The same views materialised as a copy (the ``*_copy`` ops of functionalization).
_VIEW_COPY = [
    "view_copy",
    "_reshape_copy",
    "alias_copy",
    "as_strided_copy",
    "expand_copy",
    "permute_copy",
    "transpose_copy",
    "t_copy",
    "unsqueeze_copy",
    "squeeze_copy",
    "slice_copy",
    "select_copy",
    "narrow_copy",
    "split_copy",
    "split_with_sizes_copy",
    "unbind_copy",
    "diagonal_copy",
    "unfold_copy",
    "detach_copy",
]
_COPY = [
    "contiguous",
    "clone",
    "copy_",
    "_to_copy",
    "to",
    "type_as",
    "_copy_from",
    "_copy_from_and_resize",
    "pin_memory",
    "_pin_memory",
    "_has_compatible_shallow_copy_type",
    "requires_grad_",
]
# Metadata and scalars: they read shapes, strides and flags, or move one element to the host.
_QUERY = [
    "item",
    "_local_scalar_dense",
    "size",
    "stride",
    "numel",
    "dim",
    "storage_offset",
    "sym_size",
    "sym_stride",
    "sym_numel",
    "sym_storage_offset",
    "sym_is_contiguous",
    "is_contiguous",
    "is_non_overlapping_and_dense",
    "is_same_size",
    "is_nonzero",
    "is_floating_point",
    "is_complex",
    "is_signed",
    "is_conj",
    "is_neg",
    "is_inference",
    "is_leaf",
    "is_pinned",
    "is_set_to",
    "output_nr",
    "_version",
    "result_type",
    "can_cast",
    "promote_types",
]
ALLOWED_OPS = frozenset(_ALLOCATE + _VIEW + _VIEW_COPY + _COPY + _QUERY)

# Ops of other torch namespaces that do no arithmetic, by qualified name.
ALLOWED_QUALIFIED = frozenset(
    [
        "profiler::_record_function_enter",
        "profiler::_record_function_enter_new",
        "profiler::_record_function_exit",
    ]
)

# Namespaces of torch itself and of the vendor libraries built on it. An op in one of them is never
# the candidate's own, whatever the child reports: only what ``ALLOWED_OPS`` or
# ``ALLOWED_QUALIFIED`` lists passes.
TORCH_NAMESPACES = frozenset(
    [
        "aten",
        "prims",
        "prim",
        "_prims",
        "debugprims",
        "rngprims",
        "inductor",
        "inductor_prims",
        "_inductor_test",
        "higher_order",
        "quantized",
        "_quantized",
        "quantized_decomposed",
        "quantization",
        "mkl",
        "mkldnn",
        "mkldnn_prepacked",
        "onednn",
        "xnnpack",
        "cudnn",
        "miopen",
        "sparse",
        "_native",
        "c10d",
        "c10d_functional",
        "_c10d_functional",
        "_c10d_functional_autograd",
        "_dtensor",
        "symm_mem",
        "fsdp",
        "streams",
        "flex_lib",
        "export",
        "onnx",
        "onnx_symbolic",
        "profiler",
        "static_runtime",
        "debug_mode_ops",
        "_test",
        "torch",
        "_torch_testing",
        "torchvision",
        "torchaudio",
        "torchao",
        "torchrec",
        "fbgemm",
        "xformers",
        "flash_attn",
        "_flash_attn_3",
        "_vllm_fa2_C",
        "_vllm_fa3_C",
        "_C",
        "_moe_C",
        "vllm",
        "sgl_kernel",
        "trtllm",
        "tensorrt_llm",
        "transformer_engine",
        "apex",
        "bitsandbytes",
        "deepspeed",
        "mamba_ssm",
        "causal_conv1d",
        "triton",
    ]
)

# Names whose use in the source means the candidate reaches into the harness (E10, E11, E13).
_TAMPER_ATTRS = {
    "get_objects": "gc.get_objects walks the harness's heap",
    "get_referrers": "gc.get_referrers walks the harness's heap",
    "_getframe": "sys._getframe reads the harness's frames",
    "currentframe": "inspect.currentframe reads the harness's frames",
    "f_back": "frame.f_back reads the harness's frames",
    "_DisableTorchDispatch": "disables the dispatch trace",
    "_unset_dispatch_mode": "disables the dispatch trace",
    "_pop_mode": "pops the dispatch trace",
    "_pop_torch_dispatch_stack": "pops the dispatch trace",
    "_disable_current_modes": "disables the dispatch trace",
    "_pop_mode_temporarily": "pops the dispatch trace",
    "_ExcludeDispatchKeyGuard": "hides ops from the dispatch trace",
    "_IncludeDispatchKeyGuard": "changes the dispatch keys the trace relies on",
    "_disable_infra_mode": "disables the dispatch trace",
    "_set_dispatch_mode": "replaces the dispatch trace",
}
# Modules of the harness itself: a candidate has no business importing or patching them.
_HARNESS_NAMES = {
    "__main__": "reaches into the worker running it",
    "kernelwright": "imports the harness",
}
_CLOCK_OWNERS = {"time", "torch.cuda", "torch.cuda.Event", "triton.testing", "torch"}
_SUSPICIOUS_IMPORTS = {
    "threading": "threads can keep working after the timer stops (E08)",
    "multiprocessing": "processes can keep working after the timer stops (E08)",
    "subprocess": "runs other programs",
    "socket": "network access",
    "ctypes": "raw memory and native calls (timer or harness patching, E10)",
    "concurrent": "background workers (E08)",
}


@dataclass
class StaticReport:
    violations: list[Finding] = field(default_factory=list)
    flags: list[Finding] = field(default_factory=list)
    syntax_error: str | None = None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def static_guards(source: str, kernel_markers: tuple[str, ...], backend: str) -> StaticReport:
    """Inspect the candidate's source without running it."""
    report = StaticReport()
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        report.syntax_error = f"SyntaxError: {exc.msg} (line {exc.lineno})"
        return report
    seen: set[tuple[str, str]] = set()

    def add(kind: list[Finding], check: str, detail: str) -> None:
        if (check, detail) not in seen:
            seen.add((check, detail))
            kind.append(Finding(check, detail))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for name in names:
                root = name.split(".")[0]
                if root in _HARNESS_NAMES:
                    add(
                        report.violations,
                        "harness_tampering",
                        f"line {node.lineno}: {_HARNESS_NAMES[root]}",
                    )
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for harness in _HARNESS_NAMES:
                if node.value == harness or node.value.startswith(harness + "."):
                    add(
                        report.violations,
                        "harness_tampering",
                        f"line {node.lineno}: names {harness!r}: {_HARNESS_NAMES[harness]}",
                    )
        if isinstance(node, ast.Attribute) and node.attr in _TAMPER_ATTRS:
            add(
                report.violations,
                "harness_tampering",
                f"line {node.lineno}: {_TAMPER_ATTRS[node.attr]}",
            )
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, ast.Attribute):
                    continue
                owner = _dotted(target.value)
                if owner in _CLOCK_OWNERS:
                    add(
                        report.violations,
                        "timer_patch",
                        f"line {node.lineno}: assigns {owner}.{target.attr}",
                    )
        elif isinstance(node, ast.Call) and _dotted(node.func) == "setattr" and node.args:
            owner = _dotted(node.args[0])
            if owner in _CLOCK_OWNERS:
                add(report.violations, "timer_patch", f"line {node.lineno}: setattr on {owner}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for name in names:
                root = name.split(".")[0]
                if root in _SUSPICIOUS_IMPORTS:
                    add(
                        report.flags,
                        "suspicious_import",
                        f"line {node.lineno}: imports {root}: {_SUSPICIOUS_IMPORTS[root]}",
                    )
    if kernel_markers and not any(marker in source for marker in kernel_markers):
        wanted = " or ".join(kernel_markers)
        add(
            report.violations,
            "no_kernel",
            f"a {backend} candidate must define its own kernels ({wanted} not found)",
        )
    return report


def split_op_key(key: str) -> tuple[str, str, bool]:
    """``(namespace, name, claimed)`` of a key of the child's op counts.

    The witnesses key an aten op by its bare name (``relu``), an op the candidate registered itself
    as ``namespace::name`` (``mylib::relu``: ``claimed``), and any other op as ``namespace.name``.
    """
    if "::" in key:
        ns, _, name = key.partition("::")
        return ns, name, True
    if "." in key:
        ns, _, name = key.partition(".")
        return ns, name, False
    return "aten", key, False


def candidate_op(key: str) -> bool:
    """Whether a key names one of the candidate's own ops, which are its kernels, not torch's.

    Only the child can tell which ops the candidate registered, so the parent bounds what the
    claim can cover: no namespace of torch or of a vendor library is ever the candidate's, whatever
    the child says. The work inside the candidate's ops is counted by both witnesses as usual.
    """
    ns, name, claimed = split_op_key(key)
    return claimed and ns.isidentifier() and bool(name) and ns not in TORCH_NAMESPACES


def _allowed(ns: str, name: str) -> bool:
    if ns == "aten":
        return name in ALLOWED_OPS
    return f"{ns}::{name}" in ALLOWED_QUALIFIED


def trace_violations(op_counts: dict[str, int]) -> list[Finding]:
    """The ops the candidate dispatched that do arithmetic: torch doing the task's work (E13)."""
    computing = []
    for key, n in sorted(op_counts.items()):
        if candidate_op(key):
            continue
        ns, name, _ = split_op_key(key)
        if not _allowed(ns, name):
            computing.append((f"{ns}.{name}", n))
    if not computing:
        return []
    listed = ", ".join(f"{name} x{n}" for name, n in computing[:12])
    return [
        Finding(
            "torch_compute",
            f"torch or library ops ran the arithmetic instead of the candidate's kernels: {listed}",
        )
    ]


# Symbols a built extension may not import: ATen's per-backend kernels that skip the dispatcher
# (and so the op trace), and vendor math libraries (E13).
_FORBIDDEN_SYMBOLS = re.compile(
    r"at::(cpu|native|meta|cuda::(?!getCurrentCUDAStream|getDefaultCUDAStream|getCurrentDeviceProperties|getDeviceProperties|CUDAStream|detail)[a-z_]+\b)"
    r"|^(cblas_|[sdhcz]gemm|mkl_|cublas|cudnn|dnnl_|mkldnn|rocblas|hipblas|miopen)"
)


def library_violations(shared_objects: list[Path]) -> list[Finding]:
    """Undefined symbols of the candidate's built extensions that bypass the op trace."""
    nm = shutil.which("nm")
    if nm is None:
        return []
    hits: list[str] = []
    for so in shared_objects:
        try:
            done = subprocess.run(
                [nm, "-DC", "--undefined-only", str(so)], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        for line in done.stdout.splitlines():
            symbol = line.split(" U ", 1)[-1].strip()
            if _FORBIDDEN_SYMBOLS.search(symbol) and symbol not in hits:
                hits.append(symbol)
    if not hits:
        return []
    listed = ", ".join(hits[:6])
    return [
        Finding(
            "vendor_library",
            f"the extension calls library code instead of its own kernels: {listed}",
        )
    ]
