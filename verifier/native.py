"""Native code the candidate's process mapped, judged from outside by a symbol allowlist (E20).

The candidate owns its process, so what it loaded is read by the parent from ``/proc/<pid>/maps``
rather than asked of the child, and it covers every shared object, wherever it was built or
copied from (a build dir, a scratch dir, a ``memfd``). Files under the trusted roots (the
interpreter, its packages, the system and toolkit libraries: all read-only in the sandbox) are
skipped. Every other ELF file is inspected with ``nm``: each symbol it imports from another
library must be on the allowlist below, which is written as allow patterns minus deny patterns.
An executable mapping the parent cannot read (deleted, ``memfd:``, absent) is a finding of its
own, since nothing about it can be checked.

What this guarantees: the candidate's own code links to nothing outside the allowlist. What it
does not: code that finds addresses at run time by hand (reading ELF tables through memory)
does not import them; the allowlist keeps the tools for that (``dlsym``, ``dl_iterate_phdr``,
``mprotect``) out, which raises the cost, and the op witnesses (the dispatch mode
and the profiler) plus the parent's raw comparison of outputs stay the outside backstop. Nor does it see a
file rewritten in place after it was loaded (bindings already made, names changed on disk):
build outputs should be read-only to the candidate once built.

Helpers that trusted packages compile at run time are untrusted by path: Triton builds its
driver glue (``cuda_utils*.so`` from ``triton/backends/nvidia/driver.c``, ``hip_utils`` on
ROCm) into its cache on first GPU use, and that glue calls the CUDA driver API and
``dlopen``/``dlsym``, so it is a finding here. The harness should build it before the candidate
runs, out of the candidate's reach (read-only), and pass that file or dir as a trusted root (a
root may be a single file).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import site
import stat
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kernelwright.verifier.verdict import Finding

# How many offending symbols a finding names.
_LISTED = 6
_ELF_MAGIC = b"\x7fELF"
_NM_TIMEOUT_S = 60

# ---------------------------------------------------------------------------------------------
# The allowlist. A symbol is allowed when no deny pattern matches and one allow pattern does.
#
# Symbols are judged three ways: the raw (mangled) name with its version tag, the demangled text
# (``c++filt``), and the qualified name of the entity the demangled text names, with template
# arguments, parameters and a template's return type taken off (``float*
# at::TensorBase::data_ptr<float>() const`` is ``at::TensorBase::data_ptr``). Allow patterns are
# anchored on the qualified name, so a return type or a template argument cannot carry a
# symbol in; deny patterns are searched in the whole demangled text as well, so an allowed
# name instantiated on a denied type is still denied.
# ---------------------------------------------------------------------------------------------

# Version tags of the C and C++ runtime: libc/libm/libpthread (GLIBC_), libstdc++ (GLIBCXX_,
# CXXABI_), libgcc_s (GCC_), libgomp (OMP_, GOMP_). A C symbol that carries one of these was
# linked against the runtime: memory, strings, math, stdio, threads, exceptions. GLIBC_PRIVATE
# is the loader's private interface (``__libc_dlopen_mode``...) and is not allowed.
_RUNTIME_VERSION = re.compile(r"(GLIBC_(?!PRIVATE)|GLIBCXX_|CXXABI_|GCC_|OMP_|GOMP_)")

# C names (not mangled) allowed whatever their version tag, by group:
_ALLOW_C = re.compile(
    r"(?:"
    # The Python C-API and its private helpers (pybind11 and torch's bindings use them). It can
    # do whatever Python code can, which the Python-level guards and the op witnesses judge.
    r"_?Py\w*"
    # OpenMP, as gcc (GOMP_, omp_) and clang/Intel (__kmpc_) emit it: the sanctioned way for a
    # CPU kernel to use several cores; the work still runs in the candidate's own code.
    r"|omp_\w+|GOMP_\w+|__kmpc_\w+"
    # The CUDA runtime (cudaMalloc, cudaLaunchKernel, cudaStream*, ...) and the fatbinary and
    # launch registration nvcc emits (__cudaRegisterFatBinary, __cudaPushCallConfiguration...).
    # ``cuda[A-Z]`` leaves out cublas*, cudnn*, cufft*, curand*, cusparse*, cusolver*; the
    # driver API (cu[A-Z]) is not needed by load_inline builds and is left out.
    r"|cuda[A-Z]\w*|__cuda\w*"
    # The HIP runtime and its registration, the same way: hip[A-Z] leaves out hipblas*,
    # hipsparse*, hipfft*, hiprand*; rocblas/miopen are other prefixes.
    r"|hip[A-Z]\w*|__hip\w*"
    # The C++ ABI and unwinder when they appear without a version tag, and the weak hooks every
    # gcc-built shared object references (profiling, finalizers, and libitm's transactional
    # memory entry points, which the parts of libstdc++ that a toolchain links in statically
    # reference: seen in an honest CUDA build on an H200 image whose gcc lives in /opt/gcc).
    r"|__cxa_\w+|__gxx_personality_v0|_Unwind_\w+|__dynamic_cast|__tls_get_addr"
    r"|__gmon_start__|_ITM_\w+|_Jv_RegisterClasses"
    r"|__stack_chk_fail"
    # torch's Python bindings for tensors, devices, dtypes and sizes (THPVariable_Wrap turns the
    # result into a Python tensor).
    r"|THP(?:Variable|Device|Dtype|Layout|MemoryFormat|Size|Utils|QScheme)\w*"
    r")"
)

# C++ entities allowed, by qualified name (template arguments and parameters removed).
_ALLOW_QUALIFIED = re.compile(
    r"(?:"
    # The C++ standard library and ABI (libstdc++ and the copies of its templates torch
    # exports): strings, streams, containers, exceptions, operator new/delete.
    r"(?:std|__gnu_cxx|__cxxabiv1)::.*"
    r"|operator (?:new|delete)(?:\[\])?"
    # pybind11: the module and the type casters for tensors.
    r"|pybind11::.*"
    # c10, by scope: tensor and storage metadata (sizes, strides, data pointers, dtypes,
    # devices), allocators, refcounting, symbolic sizes, scalars and half types, errors and
    # TORCH_CHECK (detail::torchCheckFail), grad mode, the Python interpreter hook that tensor
    # wrapping uses, device guards, and the CUDA/HIP helpers (current stream, device, caching
    # allocator, error checks). Anything else in c10 (the Dispatcher, kernel functions, TLS
    # dispatch-key setters) is not listed.
    r"|c10::(?:TensorImpl|UndefinedTensorImpl|StorageImpl|Storage|Allocator|DataPtr"
    r"|GetAllocator|GetCPUAllocator|intrusive_ptr|weak_intrusive_ptr|intrusive_ptr_target"
    r"|SymInt|SymBool|SymFloat|SymNode|SymNodeImpl|SymbolicShapeMeta|Device|DeviceType"
    r"|DeviceTypeName|isValidDeviceType|Stream|Error|Warning|WarningHandler|ValueError"
    r"|TypeError|IndexError|NotImplementedError|OutOfMemoryError|LinAlgError"
    r"|EnforceFiniteError|AcceleratorError|Scalar|Half|BFloat16|ComplexHalf|Float8_\w+"
    r"|ArrayRef|IntArrayRef|MemoryFormat|Layout|ScalarType|TensorOptions"
    r"|AutogradMetaInterface|VariableVersion|GradMode|AutoGradMode|NoGradGuard"
    r"|InferenceMode|AutoFwGradMode|SourceLocation|str|toString|typeMetaToScalarType"
    r"|get_backtrace|GetExceptionString|detail|cuda|hip"
    # Inline code of torch 2.11's headers: SmallVector growth (sizes, strides) and the error an
    # IValue raises when it holds no tensor; both seen in an honest CUDA build on an H200.
    r"|SmallVectorBase|IValue::reportToTensorTypeError"
    r"|impl::(?:getGlobalPyInterpreter|PyInterpreter|getDeviceGuardImpl"
    r"|device_guard_impl_registry|DeviceGuardImplInterface|VirtualGuardImpl"
    # ExcludeDispatchKeyGuard: torch/extension.h's Python argument helpers
    # (torch::DisableTorchDispatch) reference it, so every honest extension imports it. It can
    # hide ops from the dispatch mode, which is why the profiler witness exists.
    r"|ExcludeDispatchKeyGuard))(?:::.*)?"
    # Type metadata behind dtype checks and data_ptr<T>().
    r"|caffe2::(?:TypeMeta|detail)(?:::.*)?"
    # Tensor accessors and the methods torch exports on Tensor/TensorBase (data_ptr, sizes,
    # __dispatch_contiguous...); the ops a Tensor method runs go through at::_ops.
    r"|at::(?:Tensor|TensorBase)(?:::\w+)*"
    # Dispatcher entry points: at::empty, at::zeros, x.contiguous() and every other op reach
    # at::_ops::<op>::call, where the dispatch mode and the profiler see them and the op rule
    # judges them. Only ``call``: ``redispatch`` starts below the witnesses.
    r"|at::_ops::\w+::call"
    # CPU parallel helpers: at::parallel_for runs the candidate's own lambda on torch's pool.
    r"|at::(?:get_num_threads|get_thread_num|in_parallel_region|init_num_threads"
    r"|get_num_interop_threads|internal::invoke_parallel|internal::lazy_init_num_threads)"
    # The CUDA stream and device property getters a launch needs (and their HIP masquerade).
    r"|at::cuda::(?:getCurrentCUDAStream|getDefaultCUDAStream|getStreamFromPool"
    r"|setCurrentCUDAStream|getCurrentDeviceProperties|getDeviceProperties)"
    # torch's pybind glue: warnings and exceptions back to Python, tensor wrapping, the
    # autograd metadata a returned tensor gets, and TORCH_LIBRARY registration of the
    # candidate's own ops (which the witnesses count as its kernels).
    r"|torch::(?:PyWarningHandler|translate_exception_to_python|detail|utils::\w+"
    r"|autograd::AutogradMeta|Library|CppFunction)(?:::.*)?"
    r"|THP(?:Variable|Device|Dtype|Layout|MemoryFormat|Size|Utils)\w*"
    r")"
)

# Denied wherever they appear in the demangled text or the raw name, even inside a name an
# allow pattern covers (a template argument, a parameter type).
_DENY_ANYWHERE = re.compile(
    r"redispatch|callBoxed|c10::Dispatcher|c10::OperatorHandle|c10::impl::OperatorEntry"
    r"|c10::KernelFunction|c10::BoxedKernel"
    # ATen's kernels and per-backend entry points: calling them skips the dispatcher.
    r"|at::native::|at::cpu::|at::meta::|at::compositeexplicitautograd\w*::"
    r"|at::compositeimplicitautograd\w*::|at::cuda::(?!(?:getCurrentCUDAStream"
    r"|getDefaultCUDAStream|getStreamFromPool|setCurrentCUDAStream|getCurrentDeviceProperties"
    r"|getDeviceProperties)\b)"
    # BLAS/LAPACK and vendor libraries: the real work done by someone else's kernels.
    r"|cblas_|[sdczh]gemm|gemm_|mkl_|cublas|cudnn|dnnl|mkldnn|rocblas|hipblas|miopen"
    r"|openblas|lapack|cusparse|cusolver|cufft|curand|nccl"
)

# Denied on the qualified name only: the dispatch-key set type is a parameter of one allowed
# guard (ExcludeDispatchKeyGuard), but its own methods and anything named for it are not.
_DENY_QUALIFIED = re.compile(r"DispatchKeySet|dispatch_key")

# C runtime functions that are not kernel work, denied although they carry a runtime version
# tag: dl* reach any symbol of any library by name at run time (the allowlist would mean
# nothing), mmap/mprotect/mremap can rewrite the code of torch or of the harness (timers,
# witnesses), ptrace/process_vm_* do the same by another door, and process creation moves work
# out of the process. ``syscall`` is not denied: a raw system call needs no import (inline
# assembly), so refusing the import only rejected honest builds whose toolchain links parts of
# libstdc++ in statically (futex waits, getrandom), and the seccomp filter, not this list, is
# what refuses ptrace and process_vm_* however they are called.
_DENY_C = re.compile(
    r"dlopen|dlmopen|dlsym|dlvsym|dlinfo|dladdr1?|dlerror|dlclose|dl_iterate_phdr|_dl_\w+"
    r"|__libc_dl\w+|ptrace|process_vm_readv|process_vm_writev"
    r"|mprotect|pkey_mprotect|mmap|mmap64|mremap"
    r"|fork|vfork|clone|clone3|execv\w*|execl\w*|fexecve|system|popen|posix_spawnp?|prctl"
)


# ---------------------------------------------------------------------------------------------
# Qualified names out of demangled text.
# ---------------------------------------------------------------------------------------------

_SPECIAL_PREFIX = re.compile(
    r"^(?:(?:vtable|VTT|construction vtable|typeinfo|typeinfo name|guard variable"
    r"|TLS init function|TLS wrapper function|reference temporary #\d+) for "
    r"|(?:non-virtual|virtual|covariant return) thunk to |transaction clone for )+"
)
# Longest first, so that ``operator<<=`` is not read as ``operator<``.
_OPERATOR_PUNCT = tuple(
    sorted(
        ("<=>", "<<=", ">>=", "->*", "()", "[]", "<<", ">>", "<=", ">=", "==", "!=", "&&")
        + ("||", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "->", "+", "-")
        + ("*", "/", "%", "^", "&", "|", "~", "!", "=", "<", ">", ","),
        key=len,
        reverse=True,
    )
)
_OPEN = "<([{"
_CLOSE = ">)]}"


def _ident_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _operator_end(text: str, i: int) -> int:
    """Index just past an operator token whose ``operator`` keyword ends at ``i``."""
    for punct in _OPERATOR_PUNCT:
        if text.startswith(punct, i):
            return i + len(punct)
    for word in (" new[]", " delete[]", " new", " delete"):
        if text.startswith(word, i):
            return i + len(word)
    if text.startswith('""', i):  # user-defined literal: operator"" _x
        j = i + 2
        while j < len(text) and (text[j] == " " or _ident_char(text[j])):
            j += 1
        return j
    # A conversion operator: the type runs to the parameter list.
    depth = 0
    j = i
    while j < len(text):
        c = text[j]
        if c == "(" and depth == 0:
            return j
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        j += 1
    return j


def qualified_name(demangled: str) -> str | None:
    """The entity a demangled symbol names, without template arguments, parameters or return
    type; None when the text does not parse (the caller then denies the symbol)."""
    text = _SPECIAL_PREFIX.sub("", demangled.strip())
    segments = [""]
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("(anonymous namespace)", i):
            if depth == 0:
                segments[-1] += "(anonymous namespace)"
            i += len("(anonymous namespace)")
            continue
        if (
            text.startswith("operator", i)
            and (i == 0 or not _ident_char(text[i - 1]))
            and (i + 8 >= n or not _ident_char(text[i + 8]))
        ):
            end = _operator_end(text, i + 8)
            if depth == 0:
                segments[-1] += text[i:end]
            i = end
            continue
        c = text[i]
        if c == "(" and depth == 0:
            break  # the parameter list; a local entity is judged by its enclosing function
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:
            if c == " ":
                if not text.startswith(" <", i):
                    segments.append("")
            else:
                segments[-1] += c
        i += 1
    if depth != 0:
        return None
    names = [s for s in segments if s]
    return names[-1] if names else None


# ---------------------------------------------------------------------------------------------
# Judging one symbol.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """One undefined dynamic symbol: raw name, version tag (or ""), demangled text."""

    name: str
    version: str
    demangled: str

    def shown(self) -> str:
        tag = f"@{self.version}" if self.version else ""
        return f"{self.demangled}{tag}" if self.demangled != self.name else f"{self.name}{tag}"


def symbol_allowed(symbol: Symbol) -> bool:
    """Whether one imported symbol is on the allowlist."""
    if _DENY_ANYWHERE.search(symbol.demangled) or _DENY_ANYWHERE.search(symbol.name):
        return False
    if symbol.version.startswith("GLIBC_PRIVATE"):
        return False
    mangled = symbol.name.startswith("_Z") and symbol.demangled != symbol.name
    if not mangled:
        if _DENY_C.fullmatch(symbol.name):
            return False
        if _ALLOW_C.fullmatch(symbol.name):
            return True
        return bool(symbol.version) and _RUNTIME_VERSION.match(symbol.version) is not None
    # C++: the version tag proves nothing about the name (a versioned reference also binds to
    # an unversioned definition elsewhere), so only the qualified name counts.
    name = qualified_name(symbol.demangled)
    if name is None or _DENY_QUALIFIED.search(name):
        return False
    return _ALLOW_QUALIFIED.fullmatch(name) is not None


# ---------------------------------------------------------------------------------------------
# Reading symbols, with a cache.
# ---------------------------------------------------------------------------------------------


class _Uninspectable(Exception):
    pass


_CACHE: dict[tuple[int, int, int, int, bool], tuple[str, ...]] = {}


def parse_nm(text: str) -> list[tuple[str, str]]:
    """(name, version) of each undefined symbol in ``nm -D --undefined-only`` output."""
    raw: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[-2] not in ("U", "w", "v"):
            continue
        name, _, version = parts[-1].partition("@")
        raw.append((name, version.lstrip("@")))
    return raw


def demangled_symbols(raw: list[tuple[str, str]]) -> list[Symbol]:
    """Symbols with their demangled text (``c++filt``). Raises _Uninspectable."""
    if not raw:
        return []
    cxxfilt = shutil.which("c++filt")
    if cxxfilt is None:
        raise _Uninspectable("c++filt not found")
    try:
        demangled = subprocess.run(
            [cxxfilt],
            input="\n".join(name for name, _ in raw) + "\n",
            capture_output=True,
            text=True,
            timeout=_NM_TIMEOUT_S,
        ).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _Uninspectable(f"c++filt failed: {exc}") from exc
    if len(demangled) != len(raw):
        raise _Uninspectable("c++filt output does not line up with nm's")
    return [
        Symbol(name, version, text) for (name, version), text in zip(raw, demangled, strict=True)
    ]


def _undefined_symbols(path: str) -> list[Symbol]:
    nm = shutil.which("nm")
    if nm is None:
        raise _Uninspectable("nm not found")
    try:
        done = subprocess.run(
            [nm, "-D", "--undefined-only", path],
            capture_output=True,
            text=True,
            timeout=_NM_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _Uninspectable(f"nm failed: {exc}") from exc
    if done.returncode != 0:
        raise _Uninspectable(f"nm failed: {done.stderr.strip()[:200]}")
    return demangled_symbols(parse_nm(done.stdout))


# Triton before 3.7 compiles a launcher per kernel signature into the child's Triton cache
# (``__triton_launcher*.so``): it sets the CUDA context and the function's attributes and
# launches, with cuLaunchKernel or with cuLaunchKernelEx found by dlopen("libcuda.so.1") and
# dlsym. Its source is generated in the candidate's process, so it cannot be trusted by its
# bytes as the driver glue is. In a Triton evaluation on a GPU, a file of that name may import
# these too, provided the only shared libraries it names are the GPU driver's and the C
# runtime's and Python's; a library name
# computed at run time would pass that test, which only raises the cost, as the rest does.
LAUNCHER_NAME = re.compile(r"__triton_launcher[\w.-]*\.so")
_LAUNCHER_C = re.compile(
    r"cu(?:CtxGetCurrent|CtxSetCurrent|CtxGetDevice|DeviceGet|DeviceGetAttribute"
    r"|DevicePrimaryCtxRetain|FuncGetAttribute|FuncSetAttribute|FuncSetCacheConfig"
    r"|GetErrorString|PointerGetAttributes?|LaunchKernel|LaunchKernelEx|StreamIsCapturing"
    r"|OccupancyMaxActiveClusters|TensorMapEncodeTiled|TensorMapEncodeIm2col)"
    r"|dlopen|dlsym|dlerror"
)
_LIBRARY_NAME = re.compile(rb"lib[A-Za-z0-9_+-]+\.so(?:\.[0-9]+)*")
# What a launcher may name: the GPU driver, and the C runtime and Python it links to.
_LAUNCHER_LIBRARIES = re.compile(
    rb"lib(?:cuda|amdhip64|c|m|pthread|dl|rt|gcc_s|stdc\+\+|python3\.[0-9]+)\.so(?:\.[0-9]+)*"
)


def refused_symbols(symbols: list[Symbol], launcher: bool = False) -> tuple[str, ...]:
    """The symbols off the allowlist, as shown in findings (each once, in order); with
    ``launcher``, judged as a Triton launcher's."""
    bad: list[str] = []
    for symbol in symbols:
        if symbol_allowed(symbol):
            continue
        if (
            launcher
            and _LAUNCHER_C.fullmatch(symbol.name)
            and not symbol.version.startswith("GLIBC_PRIVATE")
        ):
            continue
        shown = symbol.shown()
        if shown not in bad:
            bad.append(shown)
    return tuple(bad)


def foreign_libraries(data: bytes) -> list[str]:
    """Shared-library names in a file's bytes other than the GPU driver's and the runtime's."""
    names = {m.group(0) for m in _LIBRARY_NAME.finditer(data)}
    return sorted(n.decode() for n in names if not _LAUNCHER_LIBRARIES.fullmatch(n))


def disallowed_symbols(path: str, launcher: bool = False) -> tuple[str, ...]:
    """The imported symbols of one ELF file that are off the allowlist, cached by inode, size
    and mtime (one nm per distinct file per process). With ``launcher`` (a Triton launcher in a
    Triton evaluation on a GPU), the launcher's imports are allowed too, and a library name
    other than the driver's in the file is refused. Raises _Uninspectable."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _Uninspectable(str(exc)) from exc
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, launcher)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    result = refused_symbols(_undefined_symbols(path), launcher)
    if launcher:
        try:
            with open(path, "rb") as f:
                named = foreign_libraries(f.read())
        except OSError as exc:
            raise _Uninspectable(str(exc)) from exc
        result += tuple(f"names {name}" for name in named)
    _CACHE[key] = result
    return result


# ---------------------------------------------------------------------------------------------
# What a process mapped.
# ---------------------------------------------------------------------------------------------


class MappedPath(str):
    """A mapped file's path as ``/proc/<pid>/maps`` shows it; ``executable`` when any of its
    mappings is executable. A plain str passed to inspect_objects counts as executable."""

    executable: bool

    def __new__(cls, path: str, executable: bool) -> MappedPath:
        obj = super().__new__(cls, path)
        obj.executable = executable
        return obj


def parse_maps(text: str) -> list[str]:
    """Distinct pathnames of the file-backed mappings in a maps text, in first-seen order,
    as ``MappedPath`` values (``/memfd:x (deleted)`` and ``... (deleted)`` kept as shown)."""
    seen: dict[str, bool] = {}
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 6:
            continue  # anonymous
        path = fields[5]
        if not path or path.startswith("[") or path.startswith("anon_inode:"):
            continue  # [heap], [stack], [vdso], anon_inode:...
        executable = "x" in fields[1]
        seen[path] = seen.get(path, False) or executable
    return [MappedPath(path, executable) for path, executable in seen.items()]


def mapped_files(pid: int) -> list[str]:
    """The files process ``pid`` maps now, read from outside (root or the same uid)."""
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="surrogateescape") as f:
        return parse_maps(f.read())


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return out


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid``, breadth first (shallowest first)."""
    order: list[int] = []
    frontier = [pid]
    seen = {pid}
    while frontier:
        nxt: list[int] = []
        for p in frontier:
            for c in _children(p):
                if c not in seen:
                    seen.add(c)
                    order.append(c)
                    nxt.append(c)
        frontier = nxt
    return order


def _is_python(pid: int) -> bool:
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return False
    return exe.startswith("python") or exe.startswith("pypy")


def python_descendant(pid: int) -> int | None:
    """The worker's interpreter under the sandbox launcher (bwrap -> bwrap -> setpriv, which
    execs python): ``pid`` itself or the shallowest descendant running python, since a python
    the candidate started would sit deeper; failing that the deepest descendant; None when
    ``pid`` has none and is not python."""
    if _is_python(pid):
        return pid
    below = descendants(pid)
    for p in below:
        if _is_python(p):
            return p
    return below[-1] if below else None


# ---------------------------------------------------------------------------------------------
# Trusted roots and the check.
# ---------------------------------------------------------------------------------------------


def default_trusted_roots() -> list[Path]:
    """Where this interpreter's own libraries live: its prefixes and package dirs, the system
    library dirs, and the CUDA/ROCm toolkits, resolved. The sandbox binds them read-only."""
    candidates: list[str] = [sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            candidates.append(value)
    with contextlib.suppress(AttributeError):  # virtualenv's old site.py lacks it
        candidates.extend(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        candidates.append(site.getusersitepackages())
    candidates += ["/usr/lib", "/lib", "/lib64", "/usr/lib64", "/usr/lib32", "/lib32"]
    for parent, prefix in (("/usr/local", "cuda"), ("/opt", "rocm")):
        with contextlib.suppress(OSError):
            candidates += [
                os.path.join(parent, d) for d in os.listdir(parent) if d.startswith(prefix)
            ]
    roots: list[Path] = []
    for c in candidates:
        if not c or not os.path.isdir(c):
            continue
        # Both spellings: /lib is often a link to /usr/lib, and maps shows whichever path the
        # loader opened through, resolved by the kernel in the child's mount namespace.
        for form in (Path(os.path.normpath(os.path.abspath(c))), Path(c).resolve()):
            if form != Path(os.sep) and form not in roots:  # "/" would trust everything
                roots.append(form)
    return roots


def _under(path: str, roots: Iterable[Path]) -> bool:
    p = Path(os.path.normpath(path))
    return any(p.is_relative_to(root) for root in roots)


def inspect_objects(
    paths: list[str],
    trusted_roots: list[Path],
    root: str | None = None,
    triton_launchers: bool = False,
) -> list[Finding]:
    """Findings for the untrusted native code among ``paths`` (from ``parse_maps`` or
    ``mapped_files``). ``root``, e.g. ``/proc/<pid>/root``, is where the paths are opened
    when the child sees another mount namespace; trust is decided on the paths as given.
    ``triton_launchers``: a Triton evaluation on a GPU, whose per-kernel launchers are judged
    as such (see ``LAUNCHER_NAME``)."""
    findings: list[Finding] = []
    for path in paths:
        executable = getattr(path, "executable", True)
        name = str(path)
        if name.endswith(" (deleted)") or name.startswith("/memfd:") or not name.startswith("/"):
            if executable:
                findings.append(
                    Finding(
                        "native_unverifiable",
                        f"{name} is executable code the parent cannot read back to inspect",
                    )
                )
            continue
        if _under(name, trusted_roots):
            continue
        opened = os.path.join(root, name.lstrip("/")) if root else name
        try:
            st = os.stat(opened)
            if not stat.S_ISREG(st.st_mode):
                raise _Uninspectable("not a regular file")
            with open(opened, "rb") as f:
                is_elf = f.read(4) == _ELF_MAGIC
        except (OSError, _Uninspectable) as exc:
            if executable:
                findings.append(
                    Finding("native_unverifiable", f"{name} is mapped executable but: {exc}")
                )
            continue
        if not is_elf:
            continue  # a data file: nothing runs from it
        launcher = triton_launchers and LAUNCHER_NAME.fullmatch(os.path.basename(name)) is not None
        try:
            bad = disallowed_symbols(opened, launcher)
        except _Uninspectable as exc:
            findings.append(Finding("native_unverifiable", f"{name} cannot be inspected: {exc}"))
            continue
        if bad:
            listed = ", ".join(bad[:_LISTED]) + (", ..." if len(bad) > _LISTED else "")
            findings.append(
                Finding(
                    "native_symbols",
                    f"{name} calls symbols outside the allowlist: {listed}",
                )
            )
    return findings
