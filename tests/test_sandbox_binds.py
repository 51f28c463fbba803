"""The bwrap sandbox binds only what the child needs (E24, E25), a seccomp filter refuses Unix
sockets and process inspection (E25, E21), and only a build's products outlive it (E26)."""

from __future__ import annotations

import errno
import os
import secrets
import socket
import sys
from pathlib import Path

import pytest
from host_services import UnixServer

from kernelwright.verifier import sandbox, seccomp
from kernelwright.verifier.buildcache import copy_products

# The package's own directory: bound into the sandbox, unlike anything beside it.
PACKAGE = Path(sandbox.__file__).resolve().parent.parent

BWRAP_OK, BWRAP_WHY = sandbox.bwrap_status()
needs_bwrap = pytest.mark.skipif(not BWRAP_OK, reason=BWRAP_WHY)
needs_filter = pytest.mark.skipif(
    seccomp.seccomp_program() is None, reason="no seccomp filter on this architecture"
)


def _run(tmp_path: Path, code: str, mounts: sandbox.Mounts | None = None) -> sandbox.ChildResult:
    scratch = tmp_path / "scratch"
    sandbox.prepare_scratch(scratch, "bwrap")
    return sandbox.run_child(
        [sys.executable, "-I", "-c", code],
        scratch=scratch,
        level="bwrap",
        limits=sandbox.Limits(wall_s=60),
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(scratch), "LANG": "C.UTF-8"},
        mounts=mounts or sandbox.Mounts(),
    )


def _secret_file(path: Path, token: str) -> Path:
    path.write_text(token)
    path.chmod(0o644)  # world-readable: only the mount table keeps it from the child
    return path


# -- E24: host files ------------------------------------------------------------------------


@needs_bwrap
def test_host_files_outside_the_binds_cannot_be_read(tmp_path: Path) -> None:
    token = secrets.token_hex(16)
    tag = secrets.token_hex(6)
    outside = tmp_path / "outside"
    outside.mkdir()
    # The package is bound; what lies beside it (other projects, the store) must not be.
    beside = PACKAGE.parent
    paths = [
        _secret_file(outside / "secret.txt", token),
        _secret_file(beside / f"kw-test-secret-{tag}", token),
        _secret_file(Path(f"/root/.kw-test-secret-{tag}"), token),
        _secret_file(Path(f"/run/kw-test-{tag}"), token),
    ]
    probes = [str(p) for p in paths] + ["/etc/shadow", "/etc/hostname", "/etc/hosts"]
    code = f"""
import os
for path in {probes!r}:
    try:
        print("GOT", path, open(path).read())
    except OSError as exc:
        print("ERR", path, exc.errno)
for top in ("/home", "/run", "/var", "/srv", "/mnt", "/opt"):
    print("TOP", top, os.path.exists(top))
print("ROOT", sorted(os.listdir("/root")))
print("WORK", sorted(os.listdir({str(beside)!r})))
for path in ("/etc/kw-probe", "/usr/kw-probe", "/kw-probe"):
    try:
        open(path, "w")
        print("WROTE", path)
    except OSError as exc:
        print("NOWRITE", path, exc.errno)
"""
    try:
        child = _run(tmp_path, code)
    finally:
        for path in paths:
            path.unlink(missing_ok=True)
    assert child.returncode == 0, child.log
    assert token not in child.log
    assert "GOT" not in child.log, child.log
    for probe in probes:
        assert f"ERR {probe} {errno.ENOENT}" in child.log, child.log
    for top in ("/home", "/run", "/var", "/srv", "/mnt", "/opt"):
        assert f"TOP {top} False" in child.log, child.log
    # /root holds only the way to the interpreter; the package's parent only the package.
    assert "ROOT ['.pyenv']" in child.log or not sys.base_prefix.startswith("/root/"), child.log
    work_line = next(line for line in child.log.splitlines() if line.startswith("WORK"))
    assert f"kw-test-secret-{tag}" not in work_line
    assert "WROTE" not in child.log, child.log


def test_the_directory_python_started_from_is_not_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # `python -m kernelwright.cli` run from /work puts /work on the parent's sys.path.
    monkeypatch.setattr(sys, "path", ["/work", "/", "/root", *sys.path])
    sandbox._interpreter_paths.cache_clear()
    try:
        argv = sandbox._bwrap_argv(Path("/tmp/kw-scratch"), sandbox.Mounts(), ["true"])
    finally:
        sandbox._interpreter_paths.cache_clear()
    binds = {argv[i + 2] for i, arg in enumerate(argv) if arg in ("--ro-bind", "--bind")}
    assert not binds & {"/", "/work", "/root", "/home", "/run", "/var", "/opt"}, binds
    assert "/usr" in binds


# -- E25: host Unix sockets and the seccomp filter ------------------------------------------


# A child given device nodes is treated as a GPU child (here /dev/null stands in for a GPU's
# nodes): its filter lets it create Unix sockets, which the CUDA driver needs.
GPU_LIKE = sandbox.Mounts(devices=["/dev/null"])


@needs_bwrap
@pytest.mark.parametrize("mounts", [None, GPU_LIKE], ids=["plain", "device-nodes"])
def test_host_unix_sockets_are_not_reachable(tmp_path: Path, mounts: sandbox.Mounts | None) -> None:
    tag = secrets.token_hex(6)
    servers = [
        UnixServer(Path(f"/run/kw-test-{tag}.sock")),
        UnixServer(PACKAGE.parent / f"kw-test-{tag}.sock"),
    ]
    code = f"""
import os, socket
for path in {[str(s.path) for s in servers]!r}:
    print("EXISTS", path, os.path.exists(path))
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        print("CONNECTED", path)
    except OSError as exc:
        print("REFUSED", path, exc.errno)
"""
    try:
        child = _run(tmp_path, code, mounts)
    finally:
        for server in servers:
            server.close()
    assert child.returncode == 0, child.log
    for server in servers:
        assert f"EXISTS {server.path} False" in child.log, child.log
        assert f"REFUSED {server.path}" in child.log, child.log
        assert server.accepted == 0
    assert "CONNECTED" not in child.log


@needs_bwrap
@needs_filter
def test_seccomp_refuses_unix_sockets_but_not_socketpair_or_inet(tmp_path: Path) -> None:
    fds_before = len(os.listdir("/proc/self/fd"))
    code = """
import socket
def attempt(name, make):
    try:
        make()
        print(name, "ok")
    except OSError as exc:
        print(name, "errno", exc.errno)
attempt("unix_stream", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
attempt("unix_dgram", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
attempt("pair_stream", lambda: socket.socketpair())
attempt("pair_dgram", lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
attempt("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
attempt("inet6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
server = socket.create_server(("127.0.0.1", 0))
socket.create_connection(server.getsockname()).close()
print("loopback ok")
"""
    child = _run(tmp_path, code)
    assert child.returncode == 0, child.log
    refused = f"errno {errno.EAFNOSUPPORT}"
    assert f"unix_stream {refused}" in child.log, child.log
    assert f"unix_dgram {refused}" in child.log, child.log
    assert f"pair_dgram {refused}" in child.log, child.log
    for name in ("pair_stream", "inet", "inet6", "loopback"):
        assert f"{name} ok" in child.log, child.log
    # The filter's fd went to bwrap only: the parent closed its copy.
    assert len(os.listdir("/proc/self/fd")) == fds_before
    # A GPU child may create them (the CUDA driver does); the other rules still hold there.
    gpu = _run(tmp_path, code + PTRACE_PROBE, GPU_LIKE)
    assert gpu.returncode == 0, gpu.log
    for name in ("unix_stream", "unix_dgram", "pair_dgram", "pair_stream", "inet"):
        assert f"{name} ok" in gpu.log, gpu.log
    assert f"ptrace -1 {errno.EPERM}" in gpu.log, gpu.log


PTRACE_PROBE = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("ptrace", libc.ptrace(0, 0, None, None), ctypes.get_errno())  # PTRACE_TRACEME
"""


@needs_bwrap
@needs_filter
def test_seccomp_refuses_ptrace_and_process_vm(tmp_path: Path) -> None:
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("ptrace", libc.ptrace(0, 0, None, None), ctypes.get_errno())  # PTRACE_TRACEME
buf = ctypes.create_string_buffer(8)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
local, remote = iovec(ctypes.addressof(buf), 8), iovec(ctypes.addressof(buf), 8)
ctypes.set_errno(0)
got = libc.process_vm_readv(os.getpid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
print("process_vm_readv", got, ctypes.get_errno())
"""
    child = _run(tmp_path, code)
    assert child.returncode == 0, child.log
    assert f"ptrace -1 {errno.EPERM}" in child.log, child.log
    assert f"process_vm_readv -1 {errno.EPERM}" in child.log, child.log


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_seccomp_program_decisions(arch: str) -> None:
    """The filter read by a small BPF interpreter, for both architectures, whichever this is."""
    program = seccomp.build_program()
    audit = seccomp.ARCHES[arch]
    nr = seccomp.SYSCALLS[arch]
    allow = seccomp.SECCOMP_RET_ALLOW

    def action(name: str | int, *args: int, arch_value: int = audit) -> int:
        number = nr[name] if isinstance(name, str) else name
        return seccomp.run_filter(program, number, arch_value, args)

    eafnosupport = seccomp.errno_action(errno.EAFNOSUPPORT)
    assert action("socket", socket.AF_UNIX, socket.SOCK_STREAM) == eafnosupport
    # SOCK_CLOEXEC and high bits of the 64-bit register do not hide the family.
    assert action("socket", socket.AF_UNIX | (1 << 32), 1 | 0o2000000) == eafnosupport
    assert action("socket", socket.AF_INET, socket.SOCK_STREAM) == allow
    assert action("socketpair", socket.AF_UNIX, socket.SOCK_STREAM) == allow
    assert action("socketpair", socket.AF_UNIX, socket.SOCK_DGRAM | 0o4000) == eafnosupport
    for name in ("ptrace", "process_vm_readv", "process_vm_writev"):
        assert action(name) == seccomp.errno_action(errno.EPERM)
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
        assert action(name) == seccomp.errno_action(errno.ENOSYS)
    for number in (0, 1, 56, 57, 59, 220, 221, 435):  # read, write, clone/openat, execve, ...
        if number not in nr.values():
            assert action(number) == allow
    # Other ABIs on the same kernel: refused as a kernel without them would.
    if arch == "x86_64":
        assert action(seccomp.X32_SYSCALL_BIT | 41, socket.AF_UNIX) == seccomp.errno_action(
            errno.ENOSYS
        )
    assert action(102, arch_value=0x40000003) == seccomp.errno_action(errno.ENOSYS)  # i386


# -- the child still works ------------------------------------------------------------------


@needs_bwrap
def test_torch_and_the_toolchain_work_inside(tmp_path: Path) -> None:
    code = r"""
import subprocess
import torch
print("torch", torch.ones(3).sum().item())
with open("hello.c", "w") as f:
    f.write('#include <stdio.h>\nint main(void) { puts("hello from c"); return 0; }\n')
subprocess.run(["cc", "-O1", "hello.c", "-o", "hello"], check=True)
print(subprocess.run(["./hello"], capture_output=True, text=True, check=True).stdout.strip())
"""
    child = _run(tmp_path, code)
    assert child.returncode == 0, child.log
    assert "torch 3.0" in child.log
    assert "hello from c" in child.log


@needs_bwrap
def test_mounts_nest_and_keep_their_modes(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    sandbox.share_with_child(shared)
    task = tmp_path / "task"
    task.mkdir()
    (task / "ref.py").write_text("REFERENCE")
    frozen = tmp_path / "scratch" / "frozen.txt"
    frozen.parent.mkdir()
    frozen.write_text("as written")
    mounts = sandbox.Mounts(read_only=[task, frozen], writable=[shared])
    code = f"""
def write(path):
    try:
        open(path, "w").write("x")
        print("WROTE", path)
    except OSError as exc:
        print("NOWRITE", path, exc.errno)
print("READ", open({str(task / "ref.py")!r}).read())
write({str(shared / "out.txt")!r})
write({str(task / "new.py")!r})
write({str(frozen)!r})
write("in_scratch.txt")
"""
    child = _run(tmp_path, code, mounts)
    assert child.returncode == 0, child.log
    assert "READ REFERENCE" in child.log
    assert f"WROTE {shared / 'out.txt'}" in child.log
    assert f"NOWRITE {task / 'new.py'}" in child.log
    # A read-only path inside the writable scratch dir stays read-only.
    assert f"NOWRITE {frozen}" in child.log, child.log
    assert frozen.read_text() == "as written"
    assert "WROTE in_scratch.txt" in child.log


# -- E26: build products ----------------------------------------------------------------------


def _fake_build(root: Path, name: str, so_bytes: int = 4096) -> dict[str, bytes]:
    ext = root / name
    ext.mkdir(parents=True)
    files = {
        "main.cpp": b"int f() { return 1; }\n",
        "cuda.cu": b"__global__ void k() {}\n",
        "build.ninja": b"rule compile\n",
        ".ninja_log": b"# ninja log v5\n",
        ".ninja_deps": b"# ninjadeps\n",
        "main.o": b"\x7fELF" + b"o" * 100,
        "cuda.cuda.o": b"\x7fELF" + b"c" * 100,
        f"{name}.so": b"\x7fELF" + b"s" * so_bytes,
    }
    for index, (file, content) in enumerate(files.items()):
        (ext / file).write_bytes(content)
        os.utime(
            ext / file, ns=(1_700_000_000_000_000_000 + index, 1_700_000_000_123_456_789 + index)
        )
    return files


def test_copy_products_keeps_the_build_and_drops_the_rest(tmp_path: Path) -> None:
    src, dst = tmp_path / "private", tmp_path / "cache"
    files = _fake_build(src, "kw_ext")
    ext = src / "kw_ext"
    with open(ext / "junk.bin", "wb") as junk:
        junk.truncate(32 << 20)
    (ext / "lock").write_text("")  # torch's baton: copied, it would stall every later load
    (ext / ".bashrc").write_text("echo hi")
    (ext / "deep" / "er").mkdir(parents=True)
    (ext / "deep" / "er" / "x.cpp").write_text("deep")
    (ext / "evil.cpp").symlink_to("/etc/passwd")
    os.mkfifo(ext / "pipe.h")
    (src / "stray.txt").write_text("top level")
    (src / ".hidden").mkdir()

    dropped = copy_products(src, dst)

    assert sorted(p.name for p in (dst / "kw_ext").iterdir()) == sorted(files)
    for file, content in files.items():
        copied = dst / "kw_ext" / file
        assert copied.read_bytes() == content
        assert not copied.is_symlink()
        assert copied.stat().st_mtime_ns == (ext / file).stat().st_mtime_ns
    assert set(dropped) == {
        "kw_ext/junk.bin",
        "kw_ext/lock",
        "kw_ext/.bashrc",
        "kw_ext/deep/",
        "kw_ext/evil.cpp",
        "kw_ext/pipe.h",
        "stray.txt",
        ".hidden/",
    }
    assert sorted(p.name for p in dst.iterdir()) == ["kw_ext"]


def test_copy_products_is_size_capped(tmp_path: Path) -> None:
    src, dst = tmp_path / "private", tmp_path / "cache"
    _fake_build(src, "a_small", so_bytes=1000)
    big = _fake_build(src, "b_big", so_bytes=2 << 20)
    _fake_build(src, "c_after", so_bytes=10)
    dropped = copy_products(src, dst, cap_bytes=1 << 20)
    assert (dst / "a_small" / "a_small.so").is_file()
    # The extension past the cap is skipped whole, and so is everything after it.
    assert not (dst / "b_big").exists()
    assert not (dst / "c_after").exists()
    assert {f"b_big/{name}" for name in big} <= set(dropped)
    assert "c_after/c_after.so" in dropped
    total = sum(p.stat().st_size for p in dst.rglob("*") if p.is_file())
    assert total <= 1 << 20


def test_copy_products_does_not_write_through_links_in_the_cache(tmp_path: Path) -> None:
    src, dst = tmp_path / "private", tmp_path / "cache"
    _fake_build(src, "kw_ext")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dst.mkdir()
    (dst / "kw_ext").symlink_to(elsewhere)
    copy_products(src, dst)
    assert list(elsewhere.iterdir()) == []
    assert (dst / "kw_ext").is_dir() and not (dst / "kw_ext").is_symlink()
    assert (dst / "kw_ext" / "kw_ext.so").is_file()


# -- compilers outside /usr ----------------------------------------------------------------------


def _toolchain(root: Path) -> Path:
    """A compiler installed under its own prefix, as GPU images put gcc in /opt/gcc."""
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir()
    compiler = root / "bin" / "g++"
    compiler.write_text("#!/bin/sh\necho compiled-by-opt-gcc\n")
    compiler.chmod(0o755)
    for path in (root, root / "bin", root / "lib", root.parent):
        path.chmod(0o755)
    return compiler


def test_compiler_trees_are_named_by_cc_and_cxx_only_where_they_are_toolchains(
    tmp_path: Path,
) -> None:
    compiler = _toolchain(tmp_path / "opt" / "gcc")
    home = tmp_path / "home" / "user"
    in_home = _toolchain(home / "gcc")
    found = sandbox._compiler_trees({"CXX": str(compiler), "HOME": str(home)})
    assert found == [tmp_path / "opt" / "gcc"]
    # /usr is bound anyway; a prefix that holds the home directory, or sits in it, is not bound.
    assert sandbox._compiler_trees({"CXX": "/usr/bin/g++", "HOME": str(home)}) == []
    assert sandbox._compiler_trees({"CC": str(in_home), "HOME": str(home)}) == []
    assert sandbox._compiler_trees({"CC": str(in_home), "HOME": str(home / "gcc")}) == []
    bare = tmp_path / "bare" / "bin" / "cc"
    bare.parent.mkdir(parents=True)
    bare.write_text("")
    assert sandbox._compiler_trees({"CC": str(bare), "HOME": str(home)}) == []


@needs_bwrap
def test_a_compiler_named_by_cxx_outside_usr_runs_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiler = _toolchain(tmp_path / "opt" / "gcc")
    for parent in compiler.parents:
        if parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o055)
    monkeypatch.setenv("CXX", str(compiler))
    code = f"import subprocess; print(subprocess.run([{str(compiler)!r}], capture_output=True, text=True).stdout)"  # noqa: E501
    result = _run(tmp_path, code)
    assert result.returncode == 0 and "compiled-by-opt-gcc" in result.log, result.log
    monkeypatch.delenv("CXX")
    result = _run(tmp_path, code)
    assert result.returncode != 0 and "compiled-by-opt-gcc" not in result.log
