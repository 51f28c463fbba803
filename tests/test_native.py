"""The native-code check (E20): every shared object the child mapped, judged by a symbol
allowlist from outside the process. The shared objects here are tiny ones compiled from source
written by each test; no torch extension is built."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernelwright.verifier import native
from kernelwright.verifier.native import (
    default_trusted_roots,
    inspect_objects,
    mapped_files,
    parse_maps,
    python_descendant,
)

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("g++") and shutil.which("nm")),
    reason="needs gcc, g++ and binutils",
)


def _build(tmp_path: Path, name: str, source: str, cxx: bool = False) -> Path:
    suffix = ".cpp" if cxx else ".c"
    src = tmp_path / f"{name}{suffix}"
    src.write_text(source)
    out = tmp_path / f"lib{name}.so"
    compiler = "g++" if cxx else "gcc"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", "-o", str(out), str(src), "-lm"],
        check=True,
        capture_output=True,
    )
    return out


def _checks(findings: list) -> list[str]:
    return [f.check for f in findings]


def _inspect(so: Path) -> list:
    # tmp_path is not under any trusted root, so the file is inspected.
    return inspect_objects([str(so)], default_trusted_roots())


HONEST_C = r"""
#include <math.h>
#include <stdio.h>
#include <string.h>
void kernel(float* dst, const float* src, int n) {
    memcpy(dst, src, n * sizeof(float));
    for (int i = 0; i < n; ++i) dst[i] = sqrtf(dst[i]);
    printf("done %d\n", n);
}
"""


def test_libc_only_object_passes(tmp_path: Path) -> None:
    so = _build(tmp_path, "honest", HONEST_C)
    assert _inspect(so) == []


def test_blas_call_is_outside_the_allowlist(tmp_path: Path) -> None:
    so = _build(
        tmp_path,
        "blas",
        r"""
        void cblas_sgemm(int, int, int, int, int, int, float, const float*, int,
                         const float*, int, float, float*, int);
        void kernel(float* c, const float* a, const float* b, int n) {
            cblas_sgemm(101, 111, 111, n, n, n, 1.f, a, n, b, n, 0.f, c, n);
        }
        """,
    )
    findings = _inspect(so)
    assert _checks(findings) == ["native_symbols"]
    assert "cblas_sgemm" in findings[0].detail


_OPS_DECL = "namespace at { namespace _ops { struct relu { static void %s(int); }; } }\n"


def test_redispatch_symbol_is_denied(tmp_path: Path) -> None:
    so = _build(
        tmp_path,
        "redispatch",
        _OPS_DECL % "redispatch" + "void kernel(int x) { at::_ops::relu::redispatch(x); }\n",
        cxx=True,
    )
    findings = _inspect(so)
    assert _checks(findings) == ["native_symbols"]
    assert "at::_ops::relu::redispatch" in findings[0].detail


def test_deny_wins_inside_an_allowed_scope(tmp_path: Path) -> None:
    """at::Tensor methods and data_ptr<T> are allowed; a redispatch method or a kernel type
    from at::native inside them is not."""
    so = _build(
        tmp_path,
        "denywins",
        r"""
        namespace at { namespace native { struct X {}; }
            struct Tensor { void redispatch_relu(int) const; };
            struct TensorBase { template <class T> T* data_ptr() const; }; }
        void kernel(const at::Tensor& t, const at::TensorBase& b) {
            t.redispatch_relu(1);
            b.data_ptr<at::native::X>();
        }
        """,
        cxx=True,
    )
    findings = _inspect(so)
    assert _checks(findings) == ["native_symbols"]
    assert "redispatch_relu" in findings[0].detail
    assert "data_ptr<at::native::X>" in findings[0].detail


def test_dispatcher_entry_point_is_allowed(tmp_path: Path) -> None:
    so = _build(
        tmp_path,
        "opcall",
        _OPS_DECL % "call" + "void kernel(int x) { at::_ops::relu::call(x); }\n",
        cxx=True,
    )
    assert _inspect(so) == []


def test_dlsym_is_denied(tmp_path: Path) -> None:
    so = _build(
        tmp_path,
        "dl",
        r"""
        #include <dlfcn.h>
        void* kernel(const char* name) { return dlsym(RTLD_DEFAULT, name); }
        """,
    )
    findings = _inspect(so)
    assert _checks(findings) == ["native_symbols"]
    assert "dlsym" in findings[0].detail


def test_unknown_namespace_is_not_allowed(tmp_path: Path) -> None:
    """Allowlist, not deny-list: a torch symbol nobody listed is a finding, and so is one
    whose only allowed part is its return type or a template argument."""
    so = _build(
        tmp_path,
        "jit",
        r"""
        namespace c10 { struct Half { float x; }; }
        namespace torch { namespace jit { void run(int); } }
        namespace evil { template <class T> c10::Half* grab(); }
        void kernel(int x) { torch::jit::run(x); evil::grab<int>(); }
        """,
        cxx=True,
    )
    findings = _inspect(so)
    assert _checks(findings) == ["native_symbols"]
    assert "torch::jit::run" in findings[0].detail
    assert "evil::grab" in findings[0].detail


def test_honest_binding_symbols_pass(tmp_path: Path) -> None:
    """What a pybind/torch extension imports (Python C-API, pybind11, tensor accessors, the
    TORCH_CHECK failure path, operator new, exceptions), declared by hand."""
    so = _build(
        tmp_path,
        "binding",
        r"""
        #include <stdexcept>
        #include <string>
        typedef struct _object PyObject;
        extern "C" PyObject* PyLong_FromLong(long);
        namespace pybind11 { struct handle { static void inc_ref_impl(void*); }; }
        namespace c10 { namespace detail {
            [[noreturn]] void torchCheckFail(const char*, const char*, unsigned, const char*);
        } }
        namespace at { struct TensorBase { template <class T> T* data_ptr() const; }; }
        PyObject* kernel(const at::TensorBase& t, long n) {
            if (n < 0) c10::detail::torchCheckFail("f", "file", 1, "negative");
            float* p = t.data_ptr<float>();
            pybind11::handle::inc_ref_impl(p);
            if (n == 7) throw std::runtime_error(std::string("seven"));
            return PyLong_FromLong(n + (long)p[0]);
        }
        """,
        cxx=True,
    )
    assert _inspect(so) == []


MAPS = """\
55d0c8a00000-55d0c8a01000 r--p 00000000 08:01 1234 /usr/bin/python3.11
7f0000000000-7f0000001000 r-xp 00001000 00:05 99 /tmp/build/kernel.so (deleted)
7f0000001000-7f0000002000 r-xp 00000000 00:01 77 /memfd:jit (deleted)
7f0000002000-7f0000003000 rw-p 00000000 00:01 78 /memfd:buffer (deleted)
7f0000003000-7f0000004000 rw-p 00000000 00:00 0
7f0000004000-7f0000005000 rw-p 00000000 00:00 0 [heap]
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0 [vdso]
"""


def test_parse_maps_and_unreadable_executable_mappings() -> None:
    paths = parse_maps(MAPS)
    assert paths == [
        "/usr/bin/python3.11",
        "/tmp/build/kernel.so (deleted)",
        "/memfd:jit (deleted)",
        "/memfd:buffer (deleted)",
    ]
    findings = inspect_objects(paths, [Path("/usr")])
    assert _checks(findings) == ["native_unverifiable", "native_unverifiable"]
    assert "kernel.so (deleted)" in findings[0].detail
    assert "/memfd:jit" in findings[1].detail  # the data-only memfd is not code


def test_missing_executable_file_is_unverifiable(tmp_path: Path) -> None:
    gone = tmp_path / "gone.so"
    paths = parse_maps(f"7f0000000000-7f0000001000 r-xp 00000000 00:05 9 {gone}\n")
    assert _checks(inspect_objects(paths, default_trusted_roots())) == ["native_unverifiable"]


def test_data_files_and_trusted_roots_are_skipped(tmp_path: Path) -> None:
    data = tmp_path / "weights.bin"
    data.write_bytes(b"\x00" * 64)
    bad = _build(tmp_path, "dl2", "#include <dlfcn.h>\nvoid* k(void){return dlopen(0,0);}\n")
    assert inspect_objects([str(data)], default_trusted_roots()) == []
    assert inspect_objects([str(bad)], [tmp_path]) == []  # trusted root: not inspected
    assert _checks(inspect_objects([str(bad)], default_trusted_roots())) == ["native_symbols"]


def test_results_are_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    so = _build(tmp_path, "cached", HONEST_C)
    assert _inspect(so) == []
    calls: list[str] = []

    def counting(path: str) -> list[native.Symbol]:
        calls.append(path)
        return []

    monkeypatch.setattr(native, "_undefined_symbols", counting)
    assert _inspect(so) == []
    assert calls == []


def _spawn(code: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_live_process_only_the_loaded_object_is_flagged(tmp_path: Path) -> None:
    so = _build(tmp_path, "live", '#include <dlfcn.h>\nvoid* k(void){return dlsym(0,"x");}\n')
    code = (
        f"import ctypes, time; ctypes.CDLL({str(so)!r}); print('ready', flush=True); time.sleep(60)"
    )
    for proc in _spawn(code):
        paths = mapped_files(proc.pid)
        assert str(so) in paths
        assert python_descendant(proc.pid) == proc.pid
        findings = inspect_objects(paths, default_trusted_roots())
        assert _checks(findings) == ["native_symbols"]
        assert str(so) in findings[0].detail


def test_python_with_torch_has_no_finding() -> None:
    """The false-alarm check: an interpreter that imported torch maps only trusted code."""
    pytest.importorskip("torch")
    for proc in _spawn("import time, torch; print('ready', flush=True); time.sleep(60)"):
        paths = mapped_files(proc.pid)
        assert any("libtorch" in p for p in paths)
        assert inspect_objects(paths, default_trusted_roots()) == []


def test_python_descendant_finds_the_interpreter_below_a_launcher() -> None:
    launcher = subprocess.Popen(
        ["/bin/sh", "-c", f"{sys.executable} -c 'import time; time.sleep(60)'; true"]
    )
    try:
        deadline = time.monotonic() + 10
        found = None
        while time.monotonic() < deadline and found in (None, launcher.pid):
            found = python_descendant(launcher.pid)
            time.sleep(0.05)
        assert found is not None and found != launcher.pid
        assert Path(f"/proc/{found}/exe").resolve().name.startswith("python")
    finally:
        for child in native.descendants(launcher.pid):
            subprocess.run(["kill", str(child)], check=False)
        launcher.kill()
        launcher.wait()


@pytest.mark.parametrize(
    ("demangled", "qualified"),
    [
        ("float* at::TensorBase::data_ptr<float>() const", "at::TensorBase::data_ptr"),
        (
            "std::basic_ostream<char, std::char_traits<char> >& std::operator<< "
            "<std::char_traits<char> >(std::basic_ostream<char, std::char_traits<char> >&, "
            "char const*)",
            "std::operator<<",
        ),
        ("operator delete(void*, unsigned long)", "operator delete"),
        ("vtable for torch::autograd::AutogradMeta", "torch::autograd::AutogradMeta"),
        ("c10::Half* evil::grab<at::native::X>()", "evil::grab"),
        (
            "(anonymous namespace)::f(int)::{lambda()#1}::operator()() const",
            "(anonymous namespace)::f",
        ),
    ],
)
def test_qualified_name(demangled: str, qualified: str) -> None:
    assert native.qualified_name(demangled) == qualified


# -- honest GPU builds, captured on an H200 (tests/data/native/h200/README.md) ----------------

H200 = Path(__file__).resolve().parent / "data" / "native" / "h200"


def _captured(name: str) -> list[native.Symbol]:
    return native.demangled_symbols(native.parse_nm((H200 / name).read_text()))


def test_an_honest_cuda_build_from_an_h200_image_is_accepted() -> None:
    symbols = _captured("cuda_relu_load_inline.nm.txt")
    assert len(symbols) > 200 and any(s.name == "__cudaLaunchKernel" for s in symbols)
    # Its toolchain links parts of libstdc++ statically: libitm hooks, syscall, iconv, ...
    assert {"_ITM_RU1", "syscall"} <= {s.name for s in symbols}
    assert native.refused_symbols(symbols) == ()


def test_a_triton_launcher_is_accepted_only_as_a_launcher() -> None:
    symbols = _captured("triton_launcher.nm.txt")
    refused = native.refused_symbols(symbols)
    assert "dlopen@GLIBC_2.34" in refused and "cuCtxSetCurrent" in refused
    assert native.refused_symbols(symbols, launcher=True) == ()
    # Triton's driver glue loads modules: not launcher work, trusted only by its bytes.
    glue = native.refused_symbols(_captured("triton_cuda_utils.nm.txt"), launcher=True)
    assert "cuModuleLoadData" in glue and "dlclose@GLIBC_2.34" in glue


LAUNCHER_C = r"""
#include <dlfcn.h>
typedef int (*launch_t)(void*, void*, void**, void**);
int launch(void* config, void* fn) {
    void* lib = dlopen("%s", RTLD_LAZY);
    launch_t go = lib ? (launch_t)dlsym(lib, "%s") : 0;
    return go ? go(config, fn, 0, 0) : -1;
}
"""


def test_a_launcher_that_names_another_library_is_refused(tmp_path: Path) -> None:
    honest = _build(tmp_path, "honest", LAUNCHER_C % ("libcuda.so.1", "cuLaunchKernelEx"))
    planted = _build(tmp_path, "planted", LAUNCHER_C % ("libcublas.so.12", "cublasSgemm_v2"))
    for so in (honest, planted):
        so.rename(so.parent / "__triton_launcher.cpython-312-x86_64-linux-gnu.so")
        moved = so.parent / "__triton_launcher.cpython-312-x86_64-linux-gnu.so"
        as_launcher = inspect_objects([str(moved)], [], triton_launchers=True)
        as_other = inspect_objects([str(moved)], [], triton_launchers=False)
        assert _checks(as_other) == ["native_symbols"]  # dlopen, outside a Triton GPU run
        if so is honest:
            assert as_launcher == []
        else:
            assert _checks(as_launcher) == ["native_symbols"]
            assert "names libcublas.so.12" in as_launcher[0].detail
        moved.unlink()
