"""Sandboxed children: the only place candidate code ever runs.

Levels: ``bwrap`` (bubblewrap: no network, read-only root, private /tmp, a scratch dir, an
unprivileged uid, rlimits), ``process`` (own session and rlimits only) and, later, ``docker``.
A child that outlives its time limit is killed with its whole process group. Its stdout and
stderr are drained by the parent and kept as a bounded head and tail, so a child that prints
megabytes cannot stall or flood anything.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kernelwright.verifier import seccomp
from kernelwright.verifier.channel import ChannelClosed, Endpoint

LEVELS = ("bwrap", "process", "docker")
NOBODY = 65534
LOG_HEAD = 16 * 1024
LOG_TAIL = 48 * 1024


class SandboxError(RuntimeError):
    """The sandbox itself could not be set up (an infrastructure error, not the candidate's)."""


@dataclass
class Limits:
    """Resource limits for one child."""

    wall_s: float
    cpu_s: int | None = None
    address_space_bytes: int | None = None
    file_size_bytes: int = 4 << 30
    open_files: int = 4096
    processes: int = 1024
    memory_bytes: int | None = None


@dataclass
class ChildResult:
    """What the parent observed about a child, never what the child says about itself."""

    returncode: int | None
    timed_out: bool
    wall_s: float
    log: str
    log_bytes: int
    signal: int | None = None
    oom_killed: bool = False
    # Why the parent's side of a conversation ended early (the child then was killed), if it did.
    conversation_error: str | None = None

    @property
    def signal_name(self) -> str:
        if self.signal is None:
            return ""
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"


@dataclass
class Mounts:
    """Extra paths a child may see: read-only or writable, beyond the read-only root."""

    read_only: list[Path] = field(default_factory=list)
    writable: list[Path] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    # (source, target): ``source`` appears writable at ``target`` inside the sandbox.
    remapped: list[tuple[Path, Path]] = field(default_factory=list)


class _LogSink:
    """Keeps the first and last bytes of a stream and counts the rest."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self.lock:
            self.total += len(chunk)
            room = LOG_HEAD - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                if len(self.tail) > LOG_TAIL:
                    del self.tail[: len(self.tail) - LOG_TAIL]

    def text(self) -> str:
        with self.lock:
            shown = len(self.head) + len(self.tail)
            head = self.head.decode("utf-8", "replace")
            tail = self.tail.decode("utf-8", "replace")
            if self.total > shown:
                return f"{head}\n[... {self.total - shown} bytes of output truncated ...]\n{tail}"
            return head + tail


def _drain(stream: object, sink: _LogSink) -> None:
    read = stream.read  # type: ignore[attr-defined]
    while True:
        chunk = read(65536)
        if not chunk:
            return
        sink.feed(chunk)


def is_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap exists and can start a child with our flags here, and why not."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bubblewrap (bwrap) is not installed"
    if is_root() and shutil.which("setpriv") is None:
        return False, "setpriv (util-linux) is missing, so the child cannot drop root"
    probe = _bwrap_argv(Path("/tmp"), Mounts(), ["true"])
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap failed to start: {exc}"
    if done.returncode != 0:
        return False, "bwrap cannot create namespaces here: " + done.stderr.decode(
            errors="replace"
        ).strip()[:200]
    return True, "bwrap works"


def choose_level(requested: str = "auto") -> str:
    """Resolve ``auto`` to the strongest level that works here."""
    if requested == "auto":
        ok, _ = bwrap_status()
        return "bwrap" if ok else "process"
    if requested not in LEVELS:
        raise SandboxError(
            f"unknown sandbox level {requested!r} (choose from auto, {', '.join(LEVELS)})"
        )
    if requested == "bwrap":
        ok, why = bwrap_status()
        if not ok:
            raise SandboxError(f"sandbox level bwrap is not usable: {why}")
    if requested == "docker":
        from kernelwright.verifier.docker_sandbox import docker_status

        ok, why = docker_status()
        if not ok:
            raise SandboxError(f"sandbox level docker is not usable: {why}")
    return requested


def process_level_warning() -> str:
    return (
        "sandbox level 'process': candidate code runs with your user's rights, network and files "
        "(own process group and rlimits only); install bubblewrap for isolation"
    )


@functools.lru_cache(maxsize=1)
def _interpreter_paths() -> tuple[Path, ...]:
    """What the child's interpreter reads: its trees, its own ``sys.path`` and the package.

    The child runs ``sys.executable -I``, whose ``sys.path`` has neither the working directory
    nor ``PYTHONPATH``; it is asked for once, since the parent's own ``sys.path`` may hold the
    directory it was started from (``python -m`` from ``/work`` puts ``/work`` there), which must
    not be bound. Top-level directories (``/``, ``/root``, ``/work``) are never bound whole.
    """
    import kernelwright

    wanted = {
        Path(sys.base_prefix),
        Path(sys.prefix),
        Path(sys.executable).resolve().parent.parent,
        Path(kernelwright.__file__).resolve().parent,
    }
    entries: list[str] = []
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", "import sys; print('\\n'.join(sys.path))"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )
        if done.returncode == 0:
            entries = done.stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        pass
    if not entries:
        # The parent's own entries, less the working directory's.
        entries = [e for e in sys.path[1:] if e and Path(e).resolve() != Path.cwd().resolve()]
    for entry in entries:
        if entry and os.path.isabs(entry) and Path(entry).is_dir():
            wanted.add(Path(entry))
    paths = set()
    for path in wanted:
        for candidate in (path, path.resolve()):
            if len(candidate.parts) > 2:
                paths.add(candidate)
    return tuple(sorted(paths))


def _hidden_home_paths() -> list[Path]:
    """Paths the sandbox's own mounts would hide (under /root, mode 700 here, and /tmp) that the
    child needs: the interpreter, the venv and the package."""
    return sorted(p for p in _interpreter_paths() if str(p).startswith(("/root/", "/tmp/")))


# The toolchain: the interpreter's shared libraries, gcc/g++/ld, nvcc's wrappers, /usr/include.
_SYSTEM_TREES = ("/usr",)
# Merged-/usr links on Debian 12 and most others; real directories elsewhere.
_ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the loader, the compiler and libc read from /etc: the loader's cache and config, the
# cc/c++ alternatives links, user and group names (``getpass``, ``pwd``: names only, no hashes),
# the time zone. Not bound: shadow, hosts, hostname, resolv.conf, ssl, the rest.
_ETC_ENTRIES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "nsswitch.conf",
    "passwd",
    "group",
    "localtime",
    "os-release",
    "mtab",
)


def _accelerator_trees() -> list[Path]:
    """CUDA and ROCm installs outside /usr (ROCm's /opt/rocm*, Arch's /opt/cuda)."""
    found = {Path(p) for p in glob.glob("/opt/rocm*") + glob.glob("/opt/cuda*")}
    for var in ("CUDA_HOME", "CUDA_PATH", "ROCM_PATH", "HIP_PATH"):
        value = os.environ.get(var)
        if value and os.path.isabs(value) and len(Path(value).parts) > 2:
            found.add(Path(value))
    return sorted(p for p in found if p.is_dir())


# The compilers torch's extension builds call by these names (nvcc's host compiler comes from CC).
_COMPILER_VARS = ("CC", "CXX", "CUDAHOSTCXX", "NVCC_CCBIN")


def _compiler_trees(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Install prefixes of compilers named by CC/CXX outside /usr (a GPU image's /opt/gcc):
    ``PREFIX/bin/g++`` binds PREFIX, read-only, when PREFIX looks like a toolchain (it has a
    lib or libexec folder) and holds no home directory."""
    environ = os.environ if environ is None else environ
    home = Path(environ.get("HOME") or "/root")
    found: set[Path] = set()
    for var in _COMPILER_VARS:
        value = environ.get(var, "").split(" ")[0]
        exe = value if os.path.isabs(value) else shutil.which(value) if value else None
        if not exe:
            continue
        for path in {Path(exe), Path(os.path.realpath(exe))}:
            prefix = path.parent.parent
            if path.parent.name != "bin" or len(prefix.parts) < 3:
                continue
            if prefix == Path("/usr") or Path("/usr") in prefix.parents:
                continue  # bound already
            if home == prefix or prefix in home.parents or home in prefix.parents:
                continue
            if any((prefix / sub).is_dir() for sub in ("lib", "lib64", "libexec")):
                found.add(prefix)
    return sorted(found)


class _Binds:
    """bwrap mount arguments on an empty root, with the directories their mount points need."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.bound: list[Path] = []  # trees that exist inside the sandbox as on the host
        self.made: set[Path] = set()

    def covered(self, path: Path) -> bool:
        return any(path == b or b in path.parents for b in self.bound)

    def _parents(self, path: Path) -> None:
        # Missing mount points would be root-only dirs; the child's uid must traverse them.
        for parent in reversed(path.parents):
            if parent == Path("/") or parent in self.made or self.covered(parent):
                continue
            self.argv.extend(["--perms", "0755", "--dir", str(parent)])
            self.made.add(parent)

    def system(self, path: Path) -> None:
        """A host path that must look the same inside: symlinks stay symlinks, read-only."""
        if self.covered(path) or not os.path.lexists(path):
            return
        self._parents(path)
        if path.is_symlink():
            self.argv.extend(["--symlink", os.readlink(path), str(path)])
        else:
            self.argv.extend(["--ro-bind", str(path), str(path)])
            self.bound.append(path)
        self.made.add(path)

    def mount(self, flag: str, target: Path, source: Path | None = None) -> None:
        self._parents(target)
        self.argv.extend([flag, str(source or target), str(target)])
        self.made.add(target)
        if flag == "--ro-bind":
            self.bound.append(target)


def _bwrap_argv(
    scratch: Path, mounts: Mounts, command: Sequence[str], seccomp_fd: int | None = None
) -> list[str]:
    """bwrap's command line: an empty root holding only what the child needs (E17, E24, E25).

    Read-only: the toolchain (/usr and the root links into it), a few files of /etc, /sys,
    CUDA/ROCm trees and the compilers named by CC/CXX outside /usr, the interpreter's trees, its ``sys.path`` and the package, and
    ``mounts.read_only``. Writable: ``mounts.writable``, the scratch dir and the remapped binds.
    Fresh: /dev, /proc, an empty /tmp. Nothing else of the host: no /home, /root, /run, /var,
    /srv, /mnt, /opt, project directories, and so no host Unix socket either. With
    ``seccomp_fd``, bwrap installs the filter read from that fd (see ``seccomp.py``).
    """
    argv = ["bwrap"]
    binds = _Binds(argv)
    argv += ["--dev", "/dev", "--proc", "/proc", "--perms", "0755", "--tmpfs", "/tmp"]
    binds.made.update({Path("/dev"), Path("/proc"), Path("/tmp")})
    for name in _SYSTEM_TREES + _ROOT_LINKS:
        binds.system(Path(name))
    for name in _ETC_ENTRIES:
        binds.system(Path("/etc") / name)
    # GPU runtimes and hwloc read device topology there; it holds no files of anyone's.
    binds.system(Path("/sys"))
    for tree_path in _accelerator_trees() + _compiler_trees():
        binds.system(tree_path)
    for path in _interpreter_paths():
        if not binds.covered(path):
            binds.mount("--ro-bind", path)
    # The caller's mounts, outer paths first, so that a path inside another lands on top of it.
    wanted: list[tuple[str, Path, Path | None]] = []
    wanted += [("--ro-bind", Path(p), None) for p in mounts.read_only]
    wanted += [("--bind", Path(p), None) for p in mounts.writable]
    wanted.append(("--bind", Path(scratch), None))
    wanted += [("--bind", Path(target), Path(source)) for source, target in mounts.remapped]
    for flag, target, source in sorted(wanted, key=lambda item: len(item[1].parts)):
        binds.mount(flag, target, source)
    for dev in mounts.devices:
        argv += ["--dev-bind", dev, dev]
    # The empty root itself: nothing may be created in it, by root in the sandbox either.
    argv += ["--remount-ro", "/"]
    argv += ["--chdir", str(scratch)]
    argv += [
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    argv += ["--die-with-parent", "--new-session"]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    if is_root():
        # As root, --unshare-user would make the uid drop below fail; setpriv drops it instead.
        argv += ["--", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        argv += ["--inh-caps=-all", "--bounding-set=-all"]
    else:
        argv += ["--unshare-user", "--"]
    return argv + list(command)


def _seccomp_fd(gpu: bool = False) -> int:
    """A fresh fd holding the seccomp filter for ``bwrap --seccomp``, or -1 where there is none
    (not x86_64 or aarch64). The caller passes it to bwrap and closes its copy once bwrap runs.

    A child with GPU device nodes may create Unix sockets. On an H200 the CUDA driver failed to
    initialize under the full filter (error 304, "OS call failed") and worked without it; of the
    filter's rules only the AF_UNIX one refuses a call that a driver's initialization makes (the
    others refuse ptrace, process_vm_* and io_uring). That this rule alone was the cause has not
    been confirmed on a GPU. Host sockets stay out of reach by the mount table (no host socket
    directory is bound) and abstract ones by the network namespace (E25).
    """
    fd = seccomp.seccomp_fd(deny_unix=not gpu)
    return -1 if fd is None else fd


class Cgroup:
    """A memory and pids cgroup for one child (v2 unified or v1 controllers), where root may make one.

    RLIMIT_NPROC is not enforced for root and counts every process of a uid machine-wide, and
    RLIMIT_AS breaks CUDA's address-space reservations; a cgroup limits both for the child and
    everything it starts, and the kernel's OOM killer ends a memory bomb inside it.
    """

    def __init__(self, name: str, memory_bytes: int | None, pids: int) -> None:
        self.dirs: list[Path] = []
        for controller, settings in self._plan(memory_bytes, pids):
            base = _own_cgroup_dir(controller)
            if base is None:
                continue
            path = base / name
            try:
                path.mkdir()
                for file, value in settings.items():
                    (path / file).write_text(str(value))
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            self.dirs.append(path)

    @staticmethod
    def _plan(memory_bytes: int | None, pids: int) -> list[tuple[str, dict[str, int]]]:
        if Path("/sys/fs/cgroup/cgroup.controllers").is_file():
            settings = {"pids.max": pids}
            if memory_bytes:
                settings.update({"memory.max": memory_bytes, "memory.swap.max": 0})
            return [("", settings)]
        plan = [("pids", {"pids.max": pids})]
        if memory_bytes:
            plan.append(("memory", {"memory.limit_in_bytes": memory_bytes}))
        return plan

    @property
    def limits(self) -> list[str]:
        return [
            p.parent.parent.name if p.parent.parent.name != "fs" else "unified" for p in self.dirs
        ]

    def join(self) -> None:
        """Move the calling process in (called in the child between fork and exec)."""
        for path in self.dirs:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer ended a process in this cgroup."""
        for path in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                with contextlib.suppress(OSError, ValueError):
                    for line in (path / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
        return False

    def remove(self) -> None:
        for path in self.dirs:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)


def _own_cgroup_dir(controller: str) -> Path | None:
    """The writable cgroup directory this process lives in, for a v1 controller or v2 ("")."""
    root = Path("/sys/fs/cgroup") / controller if controller else Path("/sys/fs/cgroup")
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, rel = line.split(":", 2)
            if (controller and controller in names.split(",")) or (not controller and names == ""):
                path = root / rel.lstrip("/")
                return path if os.access(path, os.W_OK) else None
    except (OSError, ValueError):
        return None
    return None


@functools.lru_cache(maxsize=1)
def cgroups_available() -> bool:
    """Whether this process may create memory and pids cgroups for its children."""
    if not is_root():
        return False
    probe = Cgroup(f"kernelwright-probe-{os.getpid()}", 1 << 30, 64)
    ok = len(probe.dirs) == (1 if Path("/sys/fs/cgroup/cgroup.controllers").is_file() else 2)
    probe.remove()
    return ok


def gpu_device_nodes(index: int | None = None) -> list[str]:
    """Device nodes a GPU child needs; with ``index``, only that GPU's numbered node."""
    nodes = glob.glob("/dev/nvidia*") + glob.glob("/dev/dri/*") + glob.glob("/dev/kfd")
    keep = []
    for node in nodes:
        if not os.path.exists(node) or os.path.isdir(node):
            continue
        suffix = node.removeprefix("/dev/nvidia")
        if index is not None and suffix.isdigit() and int(suffix) != index:
            continue
        keep.append(node)
    return sorted(keep)


def _apply_limits(limits: Limits, cgroup: Cgroup | None) -> None:
    if cgroup is not None:
        cgroup.join()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    if limits.cpu_s is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 5))
    if limits.address_space_bytes is not None:
        resource.setrlimit(
            resource.RLIMIT_AS, (limits.address_space_bytes, limits.address_space_bytes)
        )
    if not is_root():
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def prepare_scratch(scratch: Path, level: str) -> None:
    """Make the scratch dir writable for the child's uid."""
    scratch.mkdir(parents=True, exist_ok=True)
    if level == "bwrap" and is_root():
        share_with_child(scratch)


def share_with_child(path: Path, files: bool = True) -> None:
    """Hand a directory tree to the unprivileged uid the child runs as (root parents only);
    with ``files=False`` only its directories, so the files in it stay read-only to the child."""
    if not is_root():
        return
    for root, dirs, names in os.walk(path):
        for entry in [
            root,
            *(os.path.join(root, name) for name in dirs + (names if files else [])),
        ]:
            # Entries vanish under concurrent children; ones the child's uid made are already its.
            with contextlib.suppress(OSError):
                if os.lstat(entry).st_uid != NOBODY:
                    os.lchown(entry, NOBODY, NOBODY)


def run_child(
    command: Sequence[str],
    *,
    scratch: Path,
    level: str,
    limits: Limits,
    env: dict[str, str],
    mounts: Mounts | None = None,
    stdin_data: bytes = b"",
    conversation: Callable[[Endpoint], None] | None = None,
) -> ChildResult:
    """Run ``command`` in the sandbox and wait for it, killing its process group on timeout.

    ``stdin_data`` is written to the child's stdin. Without a ``conversation`` stdin is then
    closed; with one, ``conversation(endpoint)`` runs in a thread of the parent and talks to the
    child in frames: the parent writes to the child's stdin, the child writes to a pipe whose fd
    number ends the first stdin line. If the conversation raises, the child is killed.
    """
    mounts = mounts or Mounts()
    if level == "docker":
        from kernelwright.verifier.docker_sandbox import run_in_docker

        return run_in_docker(
            command,
            scratch=scratch,
            limits=limits,
            env=env,
            mounts=mounts,
            gpu=bool(mounts.devices),
            stdin_data=stdin_data,
            conversation=conversation,
        )
    started = start_child(
        command,
        scratch=scratch,
        level=level,
        limits=limits,
        env=env,
        mounts=mounts,
        stdin_data=stdin_data,
        talks=conversation is not None,
    )
    return started.finish(conversation)


class StartedChild:
    """A sandboxed child that is running and may still be waiting for its first frame.

    ``finish`` hands it the conversation and waits for it; ``discard`` ends a child that is no
    longer wanted. Exactly one of them is called, once.
    """

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        level: str,
        limits: Limits,
        sink: _LogSink,
        reader: threading.Thread,
        cgroup: Cgroup | None,
        reply_r: int,
    ) -> None:
        self.proc = proc
        self.level = level
        self.limits = limits
        self.sink = sink
        self.reader = reader
        self.cgroup = cgroup
        self.reply_r = reply_r
        self.done = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def finish(
        self, conversation: Callable[[Endpoint], None] | None, wall_s: float | None = None
    ) -> ChildResult:
        """Run ``conversation`` against the child and wait for it to exit, at most ``wall_s``
        (default: the limits' wall time) counted from now; the result's ``wall_s`` counts from
        now too."""
        if self.done:
            raise SandboxError("this child was already finished or discarded")
        if conversation is not None and self.reply_r < 0:
            self.discard()
            raise SandboxError("this child was started without a channel to talk on")
        self.done = True
        proc = self.proc
        assert proc.stdin is not None
        start = time.monotonic()
        talker: threading.Thread | None = None
        failure: list[str] = []
        if conversation is not None:
            endpoint = Endpoint(self.reply_r, proc.stdin.fileno(), trusted=False)
            endpoint.pid = proc.pid
            talker = threading.Thread(
                target=_converse, args=(conversation, endpoint, proc, failure), daemon=True
            )
            talker.start()
        else:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        timed_out = False
        try:
            proc.wait(timeout=self.limits.wall_s if wall_s is None else wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc)
        if talker is not None:
            talker.join(timeout=30)
        self._close()
        wall = time.monotonic() - start
        oom = self.cgroup.oom_killed() if self.cgroup is not None else False
        if self.cgroup is not None:
            self.cgroup.remove()
        rc = proc.returncode
        sig = -rc if rc is not None and rc < 0 else None
        if self.level == "bwrap" and rc is not None and rc > 128 and not timed_out:
            # bwrap reports a child killed by a signal as 128 + signal number.
            sig = rc - 128
        result = ChildResult(rc, timed_out, wall, self.sink.text(), self.sink.total, sig, oom)
        result.conversation_error = failure[0] if failure else None
        return result

    def discard(self) -> None:
        """Kill the child and release what it held, without a result."""
        if self.done:
            return
        self.done = True
        _kill_group(self.proc)
        self._close()
        if self.cgroup is not None:
            self.cgroup.remove()

    def _close(self) -> None:
        if self.reply_r >= 0:
            with contextlib.suppress(OSError):
                os.close(self.reply_r)
            self.reply_r = -1
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        self.reader.join(timeout=5)


def start_child(
    command: Sequence[str],
    *,
    scratch: Path,
    level: str,
    limits: Limits,
    env: dict[str, str],
    mounts: Mounts | None = None,
    stdin_data: bytes = b"",
    talks: bool = True,
) -> StartedChild:
    """Start ``command`` in the sandbox (``bwrap`` or ``process``) and return at once.

    ``stdin_data`` is written at once; with ``talks`` the first stdin line also names the fd of
    the reply pipe, and the child then waits for its first frame, which ``finish`` sends. A
    worker started this way pays its interpreter start-up while the parent does other work.
    """
    mounts = mounts or Mounts()
    filter_fd = -1
    if level == "bwrap":
        if is_root():
            # RLIMIT_NPROC is not enforced for root, so it is applied after the uid drop.
            command = ["prlimit", f"--nproc={limits.processes}:{limits.processes}", "--", *command]
        # bwrap reads the filter from it before the child starts.
        filter_fd = _seccomp_fd(gpu=bool(mounts.devices))
        argv = _bwrap_argv(scratch, mounts, command, filter_fd if filter_fd >= 0 else None)
    elif level == "process":
        argv = list(command)
    else:
        raise SandboxError(f"a child cannot be started ahead at sandbox level {level!r}")
    reply_r = reply_w = -1
    sink = _LogSink()
    cgroup = None
    try:
        if talks:
            reply_r, reply_w = os.pipe()
            stdin_data = stdin_data.rstrip(b"\n") + f" {reply_w}\n".encode()
        if cgroups_available():
            cgroup = Cgroup(
                f"kernelwright-{os.getpid()}-{time.monotonic_ns()}",
                limits.memory_bytes,
                limits.processes,
            )
    except BaseException:
        for fd in (filter_fd, reply_r, reply_w):
            if fd >= 0:
                os.close(fd)
        raise
    if cgroup is not None and not cgroup.dirs:
        cgroup = None
    try:
        proc = subprocess.Popen(
            argv,
            cwd=scratch,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=tuple(fd for fd in (reply_w, filter_fd) if fd >= 0),
            preexec_fn=lambda: _apply_limits(limits, cgroup),
        )
    except OSError as exc:
        if cgroup is not None:
            cgroup.remove()
        for fd in (reply_r, reply_w):
            if fd >= 0:
                os.close(fd)
        raise SandboxError(f"could not start the sandboxed child: {exc}") from exc
    finally:
        if filter_fd >= 0:
            os.close(filter_fd)
    if reply_w >= 0:
        os.close(reply_w)
    reader = threading.Thread(target=_drain, args=(proc.stdout, sink), daemon=True)
    reader.start()
    assert proc.stdin is not None
    with contextlib.suppress(OSError):
        proc.stdin.write(stdin_data)
        proc.stdin.flush()
    return StartedChild(proc, level, limits, sink, reader, cgroup, reply_r)


# How long a child that closed its channel may take to exit before it is killed.
CLOSED_GRACE_S = 10.0


def _converse(
    conversation: Callable[[Endpoint], None],
    endpoint: Endpoint,
    proc: subprocess.Popen[bytes],
    failure: list[str],
) -> None:
    """The parent's side of a conversation; any failure ends the child, whose output is moot.

    A child that closed the channel is exiting on its own (a crash, a signal, the end of its
    job): it gets a moment to do so, so that the status it dies with is its own, not the kill.
    """
    try:
        conversation(endpoint)
    except ChannelClosed as exc:
        failure.append(f"{type(exc).__name__}: {exc}"[:500])
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=CLOSED_GRACE_S)
        _kill_group(proc)
    except Exception as exc:
        failure.append(f"{type(exc).__name__}: {exc}"[:500])
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
