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

# Ops that allocate, view, copy, convert or query: what plain torch may do around the kernels.
ALLOWED_OPS = frozenset(
    [
        "empty",
        "empty_like",
        "resolve_conj",
        "resolve_neg",
        "empty_strided",
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
        "lift_fresh",
        "view",
        "_unsafe_view",
        "view_as",
        "reshape",
        "_reshape_alias",
        "alias",
        "as_strided",
        "expand",
        "expand_as",
        "permute",
        "transpose",
        "t",
        "unsqueeze",
        "squeeze",
        "flatten",
        "unflatten",
        "slice",
        "select",
        "narrow",
        "split",
        "split_with_sizes",
        "chunk",
        "unbind",
        "detach",
        "contiguous",
        "clone",
        "copy_",
        "_to_copy",
        "to",
        "_copy_from",
        "_copy_from_and_resize",
        "resize_",
        "set_",
        "_local_scalar_dense",
        "is_same_size",
        "is_nonzero",
        "_has_compatible_shallow_copy_type",
        "diagonal",
        "unfold",
        "movedim",
        "_unsafe_index",
        "sym_size",
        "sym_stride",
        "sym_numel",
        "sym_storage_offset",
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


def trace_violations(op_counts: dict[str, int]) -> list[Finding]:
    """The aten ops the candidate dispatched that do arithmetic: torch doing the task's work (E13)."""
    computing = sorted((name, n) for name, n in op_counts.items() if name not in ALLOWED_OPS)
    if not computing:
        return []
    listed = ", ".join(f"aten.{name} x{n}" for name, n in computing[:12])
    return [
        Finding(
            "torch_compute",
            f"torch ran the arithmetic instead of the candidate's kernels: {listed}",
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
