"""Anti-cheat checks that the parent runs: static guards on the source, and the rule for the
aten ops a candidate may dispatch while its forward runs.

Static guards see only what is written; the dispatch trace sees what ran, including calls into
torch made from C++ extensions. Findings that are certain go to violations (status ``rejected``);
findings that are only suspicious go to flags.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

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

# JAX primitives a pallas candidate may bind outside its kernels (``verifier/jax_witness.py``), as
# torch's allowlist lets it allocate, view and copy: moving, casting and shaping data, and the
# structure that wraps kernels (a jitted or checkpointed call, a custom derivative). Whatever
# such a structure holds is bound, and judged, on its own.
ALLOWED_JAX_PRIMITIVES = frozenset(
    [
        "pallas_call",
        "jit",
        "pjit",
        "stage",
        "closed_call",
        "core_call",
        "remat",
        "checkpoint",
        "custom_jvp_call",
        "custom_vjp_call",
        "custom_vjp_call_jaxpr",
        "device_put",
        "copy",
        "copy_p",
        "convert_element_type",
        "reshape",
        "broadcast_in_dim",
        "squeeze",
        "expand_dims",
        "transpose",
        "rev",
        "slice",
        "dynamic_slice",
        "dynamic_update_slice",
        "concatenate",
        "stack",
        "tile",
        "split",
        "pad",
        "iota",
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
# A JAX primitive's own entry points: ``impl`` computes without binding, where the JAX witness
# counts; honest Pallas code calls jnp and lax functions, never a primitive directly.
_JAX_PRIMITIVE_ATTRS = {
    "impl": "calls a JAX primitive's implementation directly, past the JAX witness",
    "bind": "binds a JAX primitive directly, past the jnp and lax functions a kernel uses",
}
# Modules of the harness itself: a candidate has no business importing or patching them.
_HARNESS_NAMES = {
    "__main__": "reaches into the worker running it",
    "kernelwright": "imports the harness",
}
_CLOCK_OWNERS = {"time", "torch.cuda", "torch.cuda.Event", "triton.testing", "torch"}

# -- the static allowlist (E19-E23) ----------------------------------------------------------------
# A candidate is a single module that launches its own kernels around plain torch bookkeeping.
# What it may import, call and assign is listed; anything else is rejected before it runs, with a
# line number and the construct. ``allow`` widens the lists for one run (``--allow NAME``).

# Modules every backend may import, with their submodules (unless denied below).
_COMMON_MODULES = (
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.library",
    "math",
    "typing",
    "typing_extensions",
    "functools",
    "dataclasses",
    "itertools",
    "operator",
    "collections",
    "enum",
    "abc",
    "numbers",
    "__future__",
    "textwrap",
)
_CPP_EXTENSION = "torch.utils.cpp_extension"
# What each backend's kernels are written with.
_BACKEND_MODULES: dict[str, tuple[str, ...]] = {
    "triton": ("triton", "triton.language"),
    "cpu": (_CPP_EXTENSION,),
    "cuda": (_CPP_EXTENSION,),
    "hip": (_CPP_EXTENSION,),
    "pallas": ("jax", "jax.numpy", "jax.experimental.pallas"),
}
# Submodules of listed modules that reach the dispatcher's internals, the profiler, timers, other
# processes, or that do the work for the candidate (torch.compile's kernels are not its own). Any
# module with a private component (``torch._C``, ``triton._C``) is denied as well, unless allowed.
_DENIED_MODULES = (
    "torch._C",
    "torch._dynamo",
    "torch._inductor",
    "torch._ops",
    "torch._subclasses",
    "torch.utils._python_dispatch",
    "torch.overrides",
    "torch.profiler",
    "torch.autograd.profiler",
    "torch.autograd.profiler_util",
    "torch.multiprocessing",
    "torch.distributed",
    "torch.testing",
    "torch.utils.benchmark",
    "torch.hub",
    "torch.package",
    "torch.compile",
    "torch.compiler",
    _CPP_EXTENSION,
    "triton._C",
    "triton.testing",
    "triton.profiler",
    "jax.profiler",
    # What computes, or hands data out, past the JAX witness: host callbacks, values made
    # concrete while a kernel is traced, arrays fetched to numpy, arithmetic hidden in a pytree's
    # flattening, and JAX's configuration and internals.
    "jax.pure_callback",
    "jax.experimental.io_callback",
    "jax.debug",
    "jax.ensure_compile_time_eval",
    "jax.device_get",
    "jax.tree_util",
    "jax.tree",
    "jax.monitoring",
    "jax.config",
    "jax.extend",
    "jax.ffi",
    "jax.core",
    "jax.interpreters",
)
# Modules outside every allowlist that listed modules happen to hold as attributes
# (``torch.sys``, ``torch.os``): reaching one that way is importing it.
_REACHABLE_MODULES = frozenset(
    [
        "os",
        "sys",
        "ctypes",
        "gc",
        "inspect",
        "importlib",
        "builtins",
        "subprocess",
        "threading",
        "multiprocessing",
        "socket",
        "pickle",
        "traceback",
        "shutil",
        "platform",
        "sysconfig",
        "weakref",
        "atexit",
        "numpy",
        "scipy",
    ]
)
# Builtins that reach namespaces, frames, code or the file system.
_INTROSPECTION_NAMES = {
    "globals": "reads the module's namespace",
    "vars": "reads an object's namespace",
    "locals": "reads the frame's namespace",
    "__import__": "imports a module the allowlist does not see",
    "exec": "runs code the allowlist does not see",
    "eval": "runs code the allowlist does not see",
    "compile": "builds code the allowlist does not see",
    "breakpoint": "enters a debugger",
    "open": "opens files",
    "input": "reads the worker's stdin",
    "memoryview": "reads raw memory",
    "__builtins__": "reaches every builtin",
    "__loader__": "reaches the import machinery",
    "__spec__": "reaches the import machinery",
}
_ATTRIBUTE_BUILTINS = ("getattr", "setattr", "delattr", "hasattr")
# Attributes of frames, code, closures and classes that reach objects the candidate did not make.
_INTERNAL_ATTRS = frozenset(
    [
        "f_locals",
        "f_globals",
        "f_back",
        "f_builtins",
        "f_code",
        "f_trace",
        "tb_frame",
        "tb_next",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "__globals__",
        "__code__",
        "__closure__",
        "__builtins__",
        "__subclasses__",
        "__dict__",
        "__mro__",
        "__bases__",
        "__base__",
        "__getattribute__",
        "__setattr__",
        "__delattr__",
        "__loader__",
        "__spec__",
        "__self__",
        "__func__",
        "__wrapped__",
        "__defaults__",
        "__kwdefaults__",
        "__reduce__",
        "__reduce_ex__",
        "_getframe",
        "_current_frames",
        "get_referrers",
        "get_referents",
        "get_objects",
    ]
)
# Words that call an op below the dispatcher's entry, where the witnesses cannot see it (E20):
# Python's ``torch._C._dispatch_*`` and C++ redispatch, dispatch key sets and guards, and ATen's
# per-backend kernels, also inside the C++ sources of a ``load_inline`` string.
# Case matters: ``AT_DISPATCH_FLOATING_TYPES`` is how honest C++ picks a dtype.
_DISPATCH_WORDS = re.compile(
    r"redispatch|DispatchKeySet|(?<![A-Za-z0-9_])_dispatch_|c10::Dispatcher|Dispatcher::singleton"
    r"|callBoxed|at::native::|at::cpu::|ExcludeDispatchKeyGuard|IncludeDispatchKeyGuard"
    r"|AutoDispatchBelow"
)
_DISPATCH_IDENTIFIER = re.compile(r"redispatch|dispatchkeyset", re.IGNORECASE)
_JIT = frozenset(["triton.jit", "triton.runtime.jit", "triton.runtime.jit.jit"])
_KERNEL_WRAPPERS = frozenset(["triton.autotune", "triton.heuristics"])
_LOADERS = frozenset([f"{_CPP_EXTENSION}.load_inline", f"{_CPP_EXTENSION}.load"])
_PALLAS_CALL = frozenset(["jax.experimental.pallas.pallas_call"])


@dataclass
class StaticReport:
    violations: list[Finding] = field(default_factory=list)
    flags: list[Finding] = field(default_factory=list)
    syntax_error: str | None = None
    # The names of ``allow`` that let through something the allowlist would have rejected.
    allowed: list[str] = field(default_factory=list)


def allowed_imports(backend: str) -> frozenset[str]:
    """The modules a candidate of this backend may import, each with its submodules (except
    those of ``denied_imports``)."""
    return frozenset(_COMMON_MODULES + _BACKEND_MODULES.get(backend, ()))


def denied_imports(backend: str) -> frozenset[str]:
    """Submodules of allowed modules that stay denied for this backend (with their submodules)."""
    allowed = allowed_imports(backend)
    return frozenset(m for m in _DENIED_MODULES if m not in allowed)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _longest(name: str, prefixes: Iterable[str]) -> int:
    return max((len(p) for p in prefixes if _within(name, p)), default=-1)


def _str_const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


@dataclass
class _Binding:
    """How a name got its value in one scope: ``import`` (``path`` is the dotted name imported),
    ``param`` (``own``: the first parameter of a method, or a ``ctx``), ``value`` (``value`` is
    the assigned expression), or ``local`` (a definition, a loop or ``with`` target...)."""

    kind: str
    path: str = ""
    own: bool = False
    value: ast.expr | None = None


@dataclass
class _Scope:
    kind: str
    parent: _Scope | None
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)

    def bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def module(self) -> _Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str) -> tuple[_Scope, list[_Binding]] | None:
        scope: _Scope | None = self.module() if name in self.global_names else self
        while scope is not None:
            if scope.kind == "class" and scope is not self:
                scope = scope.parent
                continue
            if name in scope.bindings:
                return scope, scope.bindings[name]
            scope = scope.parent
        return None


def _bind_target(scope: _Scope, target: ast.AST, value: ast.expr | None) -> None:
    if isinstance(target, ast.Name):
        owner = scope.module() if target.id in scope.global_names else scope
        owner.bind(target.id, _Binding("value", value=value) if value else _Binding("local"))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _bind_target(scope, element, None)
    elif isinstance(target, ast.Starred):
        _bind_target(scope, target.value, None)


def _shallow(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a scope's body, without the bodies of the scopes nested in it."""
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        yield child
        if isinstance(child, (*_SCOPES, *_COMPREHENSIONS)):
            continue
        todo.extend(ast.iter_child_nodes(child))


def _fill_scope(scope: _Scope, node: ast.AST, method: bool) -> None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        params += [a for a in (args.vararg, args.kwarg) if a is not None]
        positional = [*args.posonlyargs, *args.args]
        for a in params:
            own = a.arg == "ctx" or (method and bool(positional) and a is positional[0])
            scope.bind(a.arg, _Binding("param", own=own))
    body: Iterable[ast.AST]
    if isinstance(node, _COMPREHENSIONS):
        for gen in node.generators:
            _bind_target(scope, gen.target, None)
        body = [n for gen in node.generators for n in [*gen.ifs, gen.iter]]
        body = [n for n in body if n is not node.generators[0].iter]
        for n in body:
            for sub in [n, *_shallow(n)]:
                if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name):
                    _bind_target(scope.parent or scope, sub.target, sub.value)
        return
    body_nodes: list[ast.AST] = (
        [node.body] if isinstance(node, ast.Lambda) else list(getattr(node, "body", []))
    )
    found: list[ast.AST] = []
    for stmt in body_nodes:
        found.append(stmt)
        if not isinstance(stmt, (*_SCOPES, *_COMPREHENSIONS)):
            found.extend(_shallow(stmt))
    for sub in found:
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            scope.global_names.update(sub.names if isinstance(sub, ast.Global) else ())
    for sub in found:
        if isinstance(sub, ast.Import):
            for alias in sub.names:
                if alias.asname:
                    scope.bind(alias.asname, _Binding("import", path=alias.name))
                else:
                    root = alias.name.split(".")[0]
                    scope.bind(root, _Binding("import", path=root))
        elif isinstance(sub, ast.ImportFrom):
            for alias in sub.names:
                path = f"{sub.module}.{alias.name}" if sub.module and not sub.level else ""
                scope.bind(alias.asname or alias.name, _Binding("import", path=path))
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.bind(sub.name, _Binding("local"))
        elif isinstance(sub, ast.Assign):
            for target in sub.targets:
                _bind_target(scope, target, sub.value)
        elif isinstance(sub, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            _bind_target(scope, sub.target, sub.value)
        elif isinstance(sub, (ast.For, ast.AsyncFor, ast.comprehension)):
            _bind_target(scope, sub.target, None)
        elif isinstance(sub, ast.withitem) and sub.optional_vars is not None:
            _bind_target(scope, sub.optional_vars, None)
        elif isinstance(sub, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and sub.name:
            scope.bind(sub.name, _Binding("local"))
        elif isinstance(sub, ast.MatchMapping) and sub.rest:
            scope.bind(sub.rest, _Binding("local"))


class _Guard:
    def __init__(self, backend: str, allow: Sequence[str]) -> None:
        self.backend = backend
        self.allow = tuple(dict.fromkeys(a.strip() for a in allow if a.strip()))
        self.modules_allowed = allowed_imports(backend)
        self.modules_denied = denied_imports(backend)
        self.report = StaticReport()
        self._seen: set[tuple[str, str]] = set()
        self.scopes: dict[ast.AST, _Scope] = {}
        self.called: set[int] = set()  # ids of the nodes that are the function of a call
        self.launched: set[str] = set()  # names of the module's kernels that some code launches
        self.referenced: set[str] = set()  # names of kernels used as a value elsewhere
        self.subscript_calls = 0
        self.kernels: dict[str, int] = {}  # Triton kernels defined at module level, by line
        self.loaders: list[ast.Call] = []
        self.pallas_calls = 0
        self.docstrings: set[int] = set()  # ids of strings that are statements: comments

    # -- reporting -----------------------------------------------------------------------------

    def add(self, check: str, node: ast.AST | int | None, detail: str) -> None:
        line = node if isinstance(node, int) else getattr(node, "lineno", None)
        text = f"line {line}: {detail}" if line else detail
        if (check, text) not in self._seen:
            self._seen.add((check, text))
            self.report.violations.append(Finding(check, text))

    def allowed_by(self, name: str) -> bool:
        """Whether ``allow`` lets ``name`` through; records it when it does."""
        if name in self.allow:
            if name not in self.report.allowed:
                self.report.allowed.append(name)
            return True
        return False

    # -- modules -------------------------------------------------------------------------------

    def module_verdict(self, name: str, imported: bool) -> str | None:
        """``None`` if a candidate may use module (or attribute path) ``name``, else the name of
        the listed entry that decides against it. ``imported``: a private component denies."""
        allow_hit = max((p for p in self.allow if _within(name, p)), key=len, default=None)
        listed = _longest(name, self.modules_allowed)
        denied = _longest(name, self.modules_denied)
        private = imported and any(
            part.startswith("_") and part != "__future__" for part in name.split(".")
        )
        if imported and listed < 0:
            blocked: str | None = name
        elif denied > listed or private:
            blocked = name
        else:
            blocked = None
        if not imported and listed < 0:
            blocked = None  # attribute paths of unlisted roots are judged by their import
        if blocked and allow_hit is not None:
            self.allowed_by(allow_hit)
            return None
        return blocked

    def check_module(self, node: ast.AST, name: str, verb: str) -> None:
        if name.split(".")[0] in _HARNESS_NAMES:
            return  # harness_tampering says it
        if self.module_verdict(name, imported=True) is not None:
            self.add(
                "import_not_allowed",
                node,
                f"{verb} {name}, which a {self.backend} kernel may not use "
                f"(allow it with --allow {name})",
            )

    def check_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.check_module(node, alias.name, "imports")
            return
        if node.level:
            self.add(
                "import_not_allowed",
                node,
                "relative import: a candidate is a single module and may import only listed "
                "modules",
            )
            return
        module = node.module or ""
        self.check_module(node, module, "imports")
        if self.module_verdict(module, imported=True) is None:
            for alias in node.names:
                if alias.name == "*":
                    continue
                full = f"{module}.{alias.name}"
                # ``from torch import _C``: the name may be a denied submodule.
                if self.module_verdict(full, imported=False) is not None or (
                    alias.name.startswith("_")
                    and alias.name != "__future__"
                    and self.module_verdict(full, imported=True) is not None
                ):
                    self.check_module(node, full, "imports")

    # -- names ---------------------------------------------------------------------------------

    def resolve(self, node: ast.AST, scope: _Scope, depth: int = 0) -> str | None:
        """The dotted path of an imported object this expression names (``F.relu`` ->
        ``torch.nn.functional.relu``), following plain aliases; ``None`` if it is not one."""
        if depth > 20:
            return None
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value, scope, depth + 1)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call) and _dotted(node.func) == "getattr" and len(node.args) >= 2:
            attr = _str_const(node.args[1])
            base = self.resolve(node.args[0], scope, depth + 1)
            return f"{base}.{attr}" if base and attr else None
        if not isinstance(node, ast.Name):
            return None
        found = scope.lookup(node.id)
        if found is None:
            return None
        where, bindings = found
        for binding in bindings:
            if binding.kind == "import" and binding.path:
                return binding.path
            if binding.kind == "value" and isinstance(binding.value, (ast.Name, ast.Attribute)):
                path = self.resolve(binding.value, where, depth + 1)
                if path:
                    return path
        return None

    def foreign_root(self, node: ast.AST, scope: _Scope, depth: int = 0) -> str | None:
        """What makes the object ``node`` names one the candidate did not create (an import, a
        builtin, a parameter, ``type(...)`` of one), or ``None`` if the candidate created it."""
        if depth > 20:
            return None
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Attribute) and node.attr == "__class__":
                return self.class_of(node.value, scope, depth)
            node = node.value
        if isinstance(node, ast.Call):
            func = _dotted(node.func)
            if func == "type" and len(node.args) == 1:
                return self.class_of(node.args[0], scope, depth)
            if func == "getattr" and node.args:
                return self.foreign_root(node.args[0], scope, depth + 1)
            return None
        if not isinstance(node, ast.Name):
            return None
        found = scope.lookup(node.id)
        if found is None:
            return f"builtin {node.id}" if hasattr(builtins, node.id) else None
        where, bindings = found
        for binding in bindings:
            if binding.kind == "import":
                return f"imported {node.id}"
            if binding.kind == "param" and not binding.own:
                return f"parameter {node.id}"
            if binding.kind == "value" and isinstance(
                binding.value, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)
            ):
                inner = self.foreign_root(binding.value, where, depth + 1)
                if inner:
                    return inner
        return None

    def class_of(self, node: ast.AST, scope: _Scope, depth: int) -> str | None:
        """Why the class of the object ``node`` names is not the candidate's, or ``None``:
        only ``self``/``cls`` and the candidate's own classes are known to be its own."""
        inner = self.foreign_root(node, scope, depth + 1)
        if inner:
            return f"the class of {inner}"
        found = scope.lookup(node.id) if isinstance(node, ast.Name) else None
        if found and all(b.kind == "local" or (b.kind == "param" and b.own) for b in found[1]):
            return None
        return f"the class of {ast.unparse(node)}"

    def is_builtin(self, name: str, scope: _Scope) -> bool:
        return scope.lookup(name) is None

    # -- the walk ------------------------------------------------------------------------------

    def build_scopes(self, tree: ast.Module) -> None:
        module = _Scope("module", None)
        self.scopes[tree] = module
        _fill_scope(module, tree, method=False)
        todo: list[tuple[ast.AST, _Scope]] = [(tree, module)]
        while todo:
            node, scope = todo.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (*_SCOPES, *_COMPREHENSIONS)):
                    kind = "class" if isinstance(child, ast.ClassDef) else "function"
                    inner = _Scope(kind, scope)
                    method = scope.kind == "class" and not any(
                        _dotted(d) == "staticmethod" for d in getattr(child, "decorator_list", [])
                    )
                    _fill_scope(inner, child, method=method)
                    self.scopes[child] = inner
                    todo.append((child, inner))
                else:
                    todo.append((child, scope))

    def visit(self, node: ast.AST, scope: _Scope) -> None:
        self.check(node, scope)
        inner = self.scopes.get(node)
        if inner is None:
            for child in ast.iter_child_nodes(node):
                self.visit(child, scope)
            return
        outside: list[ast.AST] = []
        inside: list[ast.AST] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            outside += [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
            if not isinstance(node, ast.Lambda):
                outside += [*node.decorator_list]
                outside += [
                    a.annotation
                    for a in ast.walk(args)
                    if isinstance(a, ast.arg) and a.annotation is not None
                ]
                outside += [node.returns] if node.returns else []
                inside += node.body
            else:
                inside.append(node.body)
        elif isinstance(node, ast.ClassDef):
            outside += [*node.decorator_list, *node.bases, *node.keywords]
            inside += node.body
        elif isinstance(node, _COMPREHENSIONS):
            first = node.generators[0]
            outside.append(first.iter)
            inside += [child for child in ast.iter_child_nodes(node) if child is not first.iter]
            inside = [c for c in inside if not isinstance(c, ast.comprehension)]
            for gen in node.generators:
                inside += [gen.target, *gen.ifs] + ([gen.iter] if gen is not first else [])
        for child in outside:
            self.visit(child, scope)
        for child in inside:
            self.visit(child, inner)

    def check(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.check_harness_import(node)
            self.check_import(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.check_string(node)
        elif isinstance(node, ast.Name):
            self.check_name(node, scope)
        elif isinstance(node, ast.Attribute):
            self.check_attribute(node, node.attr, node.value, scope)
        elif isinstance(node, ast.Call):
            self.check_call(node, scope)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            value = getattr(node, "value", None)
            if value is not None:
                self.referenced.update(self.kernel_names(value))
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            else:
                targets = [node.target]
            verb = "deletes" if isinstance(node, ast.Delete) else "assigns"
            for target in targets:
                self.check_target(node, target, scope, verb)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if _DISPATCH_IDENTIFIER.search(node.name):
                self.add("dispatcher_bypass", node, f"defines {node.name}: {_BYPASS}")
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and scope.kind == "module"
                and any(self.is_jit(d, scope) for d in node.decorator_list)
            ):
                self.kernels.setdefault(node.name, node.lineno)

    def check_harness_import(self, node: ast.Import | ast.ImportFrom) -> None:
        names = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        for name in names:
            root = name.split(".")[0]
            if root in _HARNESS_NAMES:
                self.add("harness_tampering", node, _HARNESS_NAMES[root])

    def check_string(self, node: ast.Constant) -> None:
        value = str(node.value)
        for harness in _HARNESS_NAMES:
            if value == harness or value.startswith(harness + "."):
                self.add("harness_tampering", node, f"names {harness!r}: {_HARNESS_NAMES[harness]}")
        hit = None if id(node) in self.docstrings else _DISPATCH_WORDS.search(value)
        if hit:
            self.add("dispatcher_bypass", node, f"a string names {hit.group(0)!r}: {_BYPASS}")

    def check_name(self, node: ast.Name, scope: _Scope) -> None:
        if _DISPATCH_IDENTIFIER.search(node.id):
            self.add("dispatcher_bypass", node, f"names {node.id}: {_BYPASS}")
        if not isinstance(node.ctx, ast.Load) or not self.is_builtin(node.id, scope):
            return
        if node.id in _INTROSPECTION_NAMES and not self.allowed_by(node.id):
            self.add("introspection", node, f"uses {node.id}: {_INTROSPECTION_NAMES[node.id]}")
        elif (
            node.id in _ATTRIBUTE_BUILTINS
            and id(node) not in self.called
            and not self.allowed_by(node.id)
        ):
            self.add(
                "introspection",
                node,
                f"passes {node.id} around: attribute names are read from the source only",
            )

    def check_attribute(self, node: ast.AST, attr: str, value: ast.AST, scope: _Scope) -> None:
        if attr in _TAMPER_ATTRS:
            self.add("harness_tampering", node, _TAMPER_ATTRS[attr])
        elif self.backend == "pallas" and attr in _JAX_PRIMITIVE_ATTRS:
            self.add("harness_tampering", node, _JAX_PRIMITIVE_ATTRS[attr])
        elif attr in _INTERNAL_ATTRS and not self.allowed_by(attr):
            self.add(
                "introspection",
                node,
                f"reads .{attr}: frames, code, closures and class internals are outside the "
                "allowlist",
            )
        if _DISPATCH_IDENTIFIER.search(attr):
            self.add("dispatcher_bypass", node, f"uses .{attr}: {_BYPASS}")
        base = self.resolve(value, scope)
        if base is None:
            return
        path = f"{base}.{attr}"
        if attr.startswith("_dispatch_"):
            self.add("dispatcher_bypass", node, f"uses {path}: {_BYPASS}")
        modules = attr == "modules" and (base == "sys" or base.endswith(".sys"))
        if modules and not self.allowed_by("modules"):
            self.add("introspection", node, f"reads {path}: every loaded module")
        # ``torch.sys`` is a module held by a module; ``torch.Tensor.numpy`` is a method.
        reached = (
            attr in _REACHABLE_MODULES
            and path not in self.modules_allowed
            and not any(part[:1].isupper() for part in base.split("."))
        )
        if reached and self.module_verdict(attr, imported=True) is not None:
            self.add(
                "import_not_allowed",
                node,
                f"reaches module {attr} through {path}, which a {self.backend} kernel may not "
                f"use (allow it with --allow {attr})",
            )
        elif (
            self.module_verdict(path, imported=False) is not None
            and self.module_verdict(base, imported=False) is None
        ):
            self.add(
                "import_not_allowed",
                node,
                f"uses {path}, which a {self.backend} kernel may not use "
                f"(allow it with --allow {path})",
            )

    def check_call(self, node: ast.Call, scope: _Scope) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        builtin = name is not None and self.is_builtin(name, scope)
        if builtin and name in _ATTRIBUTE_BUILTINS:
            attr = _str_const(node.args[1]) if len(node.args) >= 2 else None
            if attr is None:
                if not self.allowed_by(str(name)):
                    self.add(
                        "introspection",
                        node,
                        f"{name}() with a computed attribute name: attribute names are read "
                        "from the source only",
                    )
            else:
                self.check_attribute(node, attr, node.args[0], scope)
                if name in ("setattr", "delattr"):
                    verb = "sets" if name == "setattr" else "deletes"
                    self.check_owner(node, node.args[0], attr, scope, verb)
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in ("__setattr__", "__delattr__")
            and len(node.args) >= 2
        ):
            attr = _str_const(node.args[1])
            if attr is not None:
                self.check_owner(node, node.args[0], attr, scope, "sets")
        target = self.resolve(func, scope)
        if target in ("operator.attrgetter", "operator.methodcaller"):
            for arg in node.args[:1]:
                attr = _str_const(arg)
                if attr is None:
                    if not self.allowed_by("getattr"):
                        self.add(
                            "introspection",
                            node,
                            f"{target}() with a computed name: attribute names are read "
                            "from the source only",
                        )
                else:
                    for part in attr.split("."):
                        self.check_attribute(node, part, arg, scope)
        if target in _LOADERS:
            self.loaders.append(node)
        if target in _PALLAS_CALL:
            self.pallas_calls += 1
        # Triton launches: ``kernel[grid](...)``, ``wrap_triton(kernel)[grid](...)``,
        # ``kernel.run(...)``, or the kernel handed to a helper that launches it.
        if isinstance(func, ast.Subscript):
            self.subscript_calls += 1
            self.launched.update(self.kernel_names(func.value))
        elif isinstance(func, ast.Attribute) and func.attr in ("run", "warmup"):
            self.launched.update(self.kernel_names(func.value))
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            self.launched.update(self.kernel_names(arg))

    def kernel_names(self, node: ast.AST) -> set[str]:
        return {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }

    def check_target(self, stmt: ast.AST, target: ast.AST, scope: _Scope, verb: str) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.check_target(stmt, element, scope, verb)
            return
        if isinstance(target, ast.Starred):
            self.check_target(stmt, target.value, scope, verb)
            return
        if isinstance(target, ast.Name):
            return
        if isinstance(target, ast.Attribute):
            self.check_owner(stmt, target.value, target.attr, scope, verb)
        elif isinstance(target, ast.Subscript):
            # ``torch.x.table[key] = ...``: a table of an imported module.
            inner = target.value
            if isinstance(inner, ast.Attribute):
                self.check_owner(stmt, inner.value, inner.attr, scope, verb, item=True)

    def check_owner(
        self,
        node: ast.AST,
        owner: ast.AST,
        attr: str,
        scope: _Scope,
        verb: str,
        item: bool = False,
    ) -> None:
        raw = _dotted(owner)
        resolved = self.resolve(owner, scope)
        what = f"{raw or ast.unparse(owner)}.{attr}" + ("[...]" if item else "")
        if raw in _CLOCK_OWNERS or resolved in _CLOCK_OWNERS:
            self.add("timer_patch", node, f"{verb} {what}")
            return
        foreign = self.foreign_root(owner, scope)
        if foreign is None:
            return
        if self.allowed_by(attr):
            return
        self.add(
            "foreign_attribute",
            node,
            f"{verb} {what}, an attribute of an object the candidate did not create ({foreign})",
        )

    def is_jit(self, decorator: ast.AST, scope: _Scope) -> bool:
        node = decorator.func if isinstance(decorator, ast.Call) else decorator
        return self.resolve(node, scope) in _JIT

    # -- the kernel ------------------------------------------------------------------------------

    def check_kernel(self, tree: ast.Module, kernel_markers: tuple[str, ...]) -> None:
        if self.backend == "triton":
            if not self.kernels:
                self.add(
                    "no_kernel",
                    None,
                    "a triton candidate must define its own kernels: no function is decorated "
                    "with @triton.jit",
                )
                return
            used = set(self.kernels) & self.launched
            if not used and self.subscript_calls:
                used = set(self.kernels) & self.referenced
            if not used:
                names = ", ".join(sorted(self.kernels))
                self.add(
                    "no_kernel",
                    None,
                    f"a triton candidate must launch its own kernels: {names} "
                    "is defined with @triton.jit but never launched (kernel[grid](...))",
                )
        elif self.backend in ("cpu", "cuda", "hip"):
            calls = self.loaders
            if self.backend != "cpu":
                calls = [c for c in calls if self.builds_device_code(c, tree)]
            if not calls:
                what = "load_inline(...) or load(...) call of torch.utils.cpp_extension"
                if self.backend != "cpu":
                    what += " with cuda_sources (or .cu sources)"
                self.add(
                    "no_kernel",
                    None,
                    f"a {self.backend} candidate must build its own kernels: no {what}",
                )
        elif self.backend == "pallas":
            if not self.pallas_calls:
                self.add(
                    "no_kernel",
                    None,
                    "a pallas candidate must launch its own kernels: no pl.pallas_call(...)",
                )
        elif kernel_markers:
            code = _code_only(tree)
            if not any(marker in code for marker in kernel_markers):
                wanted = " or ".join(kernel_markers)
                self.add(
                    "no_kernel",
                    None,
                    f"a {self.backend} candidate must define its own kernels ({wanted} not found)",
                )

    def builds_device_code(self, call: ast.Call, tree: ast.Module) -> bool:
        if any(k.arg == "cuda_sources" for k in call.keywords):
            return True
        if self.resolve(call.func, self.scopes[tree]) == f"{_CPP_EXTENSION}.load_inline":
            return len(call.args) >= 3
        return any(
            isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and n.value.endswith((".cu", ".cuh", ".hip"))
            for n in ast.walk(tree)
        )


_BYPASS = "calls below the dispatcher's entry are outside the allowlist (E20)"


def _code_only(tree: ast.Module) -> str:
    """The source without its comments."""
    return ast.unparse(tree)


def static_guards(
    source: str,
    kernel_markers: tuple[str, ...],
    backend: str,
    allow: Sequence[str] = (),
) -> StaticReport:
    """Inspect the candidate's source without running it, against the allowlist of ``backend``.

    ``allow``: names that widen the allowlist for this run, a module (with its submodules) or a
    builtin or attribute name; those that let something through are listed in ``allowed``.
    """
    guard = _Guard(backend, allow)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        guard.report.syntax_error = f"SyntaxError: {exc.msg} (line {exc.lineno})"
        return guard.report
    guard.build_scopes(tree)
    # Calls are checked before the names in them: mark which names are called.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            guard.called.add(id(node.func))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            guard.docstrings.add(id(node.value))
    for child in tree.body:
        guard.visit(child, guard.scopes[tree])
    guard.check_kernel(tree, kernel_markers)
    return guard.report


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
    if ns == "jax":
        return name in ALLOWED_JAX_PRIMITIVES
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
