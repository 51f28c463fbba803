"""A seccomp filter for sandboxed children, built as classic BPF in pure Python.

bubblewrap installs it (``--seccomp FD``) just before it executes the child, so it holds for the
child and everything the child starts. It refuses what a network namespace and a small mount
table do not cover (ROBUSTNESS.md E25, E21):

- ``socket(AF_UNIX, ...)``: EAFNOSUPPORT. Filesystem Unix sockets reach host services whatever
  the network namespace; no host socket directory is bound in either, this is the second wall.
  ``socketpair`` stays allowed (Python's multiprocessing and subprocess plumbing use it), except
  ``socketpair(AF_UNIX, SOCK_DGRAM)``: a datagram socket may ``sendto`` any socket path.
- ``ptrace``, ``process_vm_readv``, ``process_vm_writev``: EPERM. No reading or rewriting of
  another process of the sandbox (a timing helper, a compiler) from outside its address space.
- ``io_uring_setup``, ``io_uring_enter``, ``io_uring_register``: ENOSYS. io_uring can open and
  connect sockets without the ``socket`` system call, out of this filter's sight; ENOSYS is what
  a kernel without io_uring answers, so libraries fall back to plain system calls.
- Foreign system-call ABIs (x32 numbers on x86_64, i386 ``int 0x80``, AArch32): ENOSYS. Their
  numbers differ, and i386 multiplexes sockets through ``socketcall``, whose arguments a filter
  cannot read; no honest 64-bit child uses them.

Everything else is allowed. On machines other than x86_64 and aarch64 there is no filter
(:func:`seccomp_program` returns None) and the other walls stand alone.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

# Classic BPF opcodes (linux/bpf_common.h).
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K

# struct seccomp_data {int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];}
_NR = 0
_ARCH = 4
_ARG0 = 16  # low 32 bits on little-endian machines (both of ours)
_ARG1 = 24

SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_SYSCALL_BIT = 0x40000000

AF_UNIX = 1
SOCK_DGRAM = 2
SOCK_TYPE_MASK = 0xF  # the type without SOCK_NONBLOCK / SOCK_CLOEXEC

# System-call numbers (x86_64: arch/x86/entry/syscalls/syscall_64.tbl; aarch64: the generic
# table, include/uapi/asm-generic/unistd.h).
SYSCALLS = {
    "x86_64": {
        "socket": 41,
        "socketpair": 53,
        "ptrace": 101,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
    },
    "aarch64": {
        "socket": 198,
        "socketpair": 199,
        "ptrace": 117,
        "process_vm_readv": 270,
        "process_vm_writev": 271,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
    },
}
ARCHES = {"x86_64": AUDIT_ARCH_X86_64, "aarch64": AUDIT_ARCH_AARCH64}
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

_DENIED_EPERM = ("ptrace", "process_vm_readv", "process_vm_writev")
_DENIED_ENOSYS = ("io_uring_setup", "io_uring_enter", "io_uring_register")


def errno_action(code: int) -> int:
    return SECCOMP_RET_ERRNO | (code & 0xFFFF)


class _Assembler:
    """Classic BPF with symbolic jump targets, resolved to the 8-bit relative offsets it needs."""

    def __init__(self) -> None:
        self.code: list[tuple[int, object, object, int]] = []
        self.labels: dict[str, int] = {}

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def load(self, offset: int) -> None:
        self.code.append((_LD_W_ABS, 0, 0, offset))

    def and_(self, mask: int) -> None:
        self.code.append((_AND_K, 0, 0, mask))

    def ret(self, action: int) -> None:
        self.code.append((_RET_K, 0, 0, action))

    def jump(self, op: int, value: int, if_true: str | int, if_false: str | int = 0) -> None:
        """A conditional jump; a target is a label or 0 for the next instruction."""
        self.code.append((op, if_true, if_false, value))

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (op, jt, jf, k) in enumerate(self.code):
            offsets = []
            for target in (jt, jf):
                if isinstance(target, str):
                    distance = self.labels[target] - index - 1
                    if not 0 <= distance <= 255:
                        raise ValueError(f"jump to {target} out of range ({distance})")
                    offsets.append(distance)
                else:
                    offsets.append(int(target))  # type: ignore[call-overload]
            out += struct.pack("=HBBI", op, offsets[0], offsets[1], k)
        return bytes(out)


def build_program(
    *, deny_unix: bool = True, deny_inspect: bool = True, deny_io_uring: bool = True
) -> bytes:
    """The filter for both of our architectures (it checks ``seccomp_data.arch`` itself).

    The flags leave one group of rules out each (``deny_unix``: the AF_UNIX socket rules;
    ``deny_inspect``: ptrace and process_vm_*; ``deny_io_uring``); the sandbox uses all three,
    the GPU probe (scripts/gpu_sandbox_probe.py) finds which one a GPU runtime trips on."""
    asm = _Assembler()
    asm.load(_ARCH)
    asm.jump(_JEQ_K, AUDIT_ARCH_X86_64, "x86_64")
    asm.jump(_JEQ_K, AUDIT_ARCH_AARCH64, "aarch64")
    asm.ret(errno_action(errno.ENOSYS))  # a foreign ABI: i386, AArch32, ...
    for arch, numbers in SYSCALLS.items():
        asm.label(arch)
        asm.load(_NR)
        if arch == "x86_64":
            # x32 system calls: the same kernel entry points under other numbers.
            asm.jump(_JGE_K, X32_SYSCALL_BIT, "enosys")
        if deny_unix:
            asm.jump(_JEQ_K, numbers["socket"], "socket")
            asm.jump(_JEQ_K, numbers["socketpair"], "socketpair")
        for name in _DENIED_EPERM if deny_inspect else ():
            asm.jump(_JEQ_K, numbers[name], "eperm")
        for name in _DENIED_ENOSYS if deny_io_uring else ():
            asm.jump(_JEQ_K, numbers[name], "enosys")
        asm.ret(SECCOMP_RET_ALLOW)
    asm.label("socket")
    asm.load(_ARG0)
    asm.jump(_JEQ_K, AF_UNIX, "eafnosupport", "allow")
    asm.label("socketpair")
    asm.load(_ARG0)
    asm.jump(_JEQ_K, AF_UNIX, 0, "allow")
    asm.load(_ARG1)
    asm.and_(SOCK_TYPE_MASK)
    asm.jump(_JEQ_K, SOCK_DGRAM, "eafnosupport", "allow")
    asm.label("allow")
    asm.ret(SECCOMP_RET_ALLOW)
    asm.label("eafnosupport")
    asm.ret(errno_action(errno.EAFNOSUPPORT))
    asm.label("eperm")
    asm.ret(errno_action(errno.EPERM))
    asm.label("enosys")
    asm.ret(errno_action(errno.ENOSYS))
    return asm.assemble()


def native_arch() -> str | None:
    """``x86_64`` or ``aarch64`` when this machine is one of them, else None."""
    return _MACHINES.get(platform.machine().lower())


def seccomp_program(**rules: bool) -> bytes | None:
    """The filter for this machine, or None where there is none (not x86_64 or aarch64)."""
    if native_arch() is None:
        return None
    return build_program(**rules)


def seccomp_fd(**rules: bool) -> int | None:
    """A readable fd holding the filter, for ``bwrap --seccomp FD``, or None without a filter.

    It is the read end of a pipe whose write end is already closed, so bwrap reads the program
    to its end without blocking. The caller passes it to the child (``pass_fds``) and closes its
    own copy once the child has started; each child needs a fresh one.
    """
    program = seccomp_program(**rules)
    if program is None:
        return None
    read_end, write_end = os.pipe()
    try:
        # A few hundred bytes: far below any pipe's buffer, so this cannot block.
        os.write(write_end, program)
    except OSError:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return read_end


def run_filter(program: bytes, nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    """Interpret ``program`` for one system call: the action it returns (for tests, and to check
    the filter for an architecture this machine cannot run)."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, *(list(args) + [0] * 6)[:6])
    code = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    pc = acc = 0
    while pc < len(code):
        op, jt, jf, k = code[pc]
        pc += 1
        if op == _LD_W_ABS:
            (acc,) = struct.unpack_from("=I", data, k)
        elif op == _AND_K:
            acc &= k
        elif op == _RET_K:
            return k
        elif op in (_JEQ_K, _JGE_K):
            hit = acc == k if op == _JEQ_K else acc >= k
            pc += jt if hit else jf
        else:
            raise ValueError(f"unknown BPF opcode {op:#x}")
    raise ValueError("the filter ran off its end")
