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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

LEVELS = ("bwrap", "process")
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


@dataclass
class ChildResult:
    """What the parent observed about a child, never what the child says about itself."""

    returncode: int | None
    timed_out: bool
    wall_s: float
    log: str
    log_bytes: int
    signal: int | None = None

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
    probe = _bwrap_argv(Path("/tmp"), Mounts(), ["true"], scratch_owned=False)
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
    return requested


def process_level_warning() -> str:
    return (
        "sandbox level 'process': candidate code runs with your user's rights, network and files "
        "(own process group and rlimits only); install bubblewrap for isolation"
    )


def _hidden_home_paths() -> list[Path]:
    """Paths under /root (mode 700 here) the child needs: the interpreter, venv and package."""
    import kernelwright

    wanted = {
        Path(sys.base_prefix).resolve(),
        Path(sys.prefix).resolve(),
        Path(sys.executable).resolve().parent.parent,
        Path(kernelwright.__file__).resolve().parent,
    }
    for entry in sys.path:
        if entry and Path(entry).is_dir():
            wanted.add(Path(entry).resolve())
    return sorted(p for p in wanted if str(p).startswith("/root"))


def _bwrap_argv(
    scratch: Path, mounts: Mounts, command: Sequence[str], *, scratch_owned: bool
) -> list[str]:
    argv = [
        "bwrap",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--perms",
        "0755",
        "--tmpfs",
        "/tmp",
    ]
    made: set[Path] = set()

    def bind(flag: str, path: Path, source: Path | None = None) -> None:
        # bwrap creates missing mount points as 0700 root dirs; the child's uid must traverse them.
        for parent in reversed(path.parents):
            if str(parent).startswith(("/root/", "/tmp/")) and parent not in made:
                argv.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(parent)
        argv.extend([flag, str(source or path), str(path)])

    if is_root():
        # /root is private to root; the unprivileged child sees an empty one plus what it needs.
        argv += ["--perms", "0755", "--tmpfs", "/root"]
        for path in _hidden_home_paths():
            bind("--ro-bind", path)
    for path in mounts.read_only:
        bind("--ro-bind", path)
    for path in mounts.writable:
        bind("--bind", path)
    for dev in mounts.devices:
        argv += ["--dev-bind", dev, dev]
    bind("--bind", scratch)
    for source, target in mounts.remapped:
        bind("--bind", target, source)
    argv += ["--chdir", str(scratch)]
    argv += [
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    argv += ["--die-with-parent", "--new-session"]
    if is_root():
        # As root, --unshare-user would make the uid drop below fail; setpriv drops it instead.
        argv += ["--", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        argv += ["--inh-caps=-all", "--bounding-set=-all"]
    else:
        argv += ["--unshare-user", "--"]
    return argv + list(command)


def gpu_device_nodes() -> list[str]:
    nodes = glob.glob("/dev/nvidia*") + glob.glob("/dev/dri/*") + glob.glob("/dev/kfd")
    return sorted(n for n in nodes if os.path.exists(n) and not os.path.isdir(n))


def _apply_limits(limits: Limits) -> None:
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


def share_with_child(path: Path) -> None:
    """Hand a directory tree to the unprivileged uid the child runs as (root parents only)."""
    if not is_root():
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, NOBODY, NOBODY)
        for name in dirs + files:
            with contextlib.suppress(OSError):
                os.lchown(os.path.join(root, name), NOBODY, NOBODY)


def run_child(
    command: Sequence[str],
    *,
    scratch: Path,
    level: str,
    limits: Limits,
    env: dict[str, str],
    mounts: Mounts | None = None,
) -> ChildResult:
    """Run ``command`` in the sandbox and wait for it, killing its process group on timeout."""
    mounts = mounts or Mounts()
    if level == "bwrap":
        if is_root():
            # RLIMIT_NPROC is not enforced for root, so it is applied after the uid drop.
            command = ["prlimit", f"--nproc={limits.processes}:{limits.processes}", "--", *command]
        argv = _bwrap_argv(scratch, mounts, command, scratch_owned=True)
    elif level == "process":
        argv = list(command)
    else:
        raise SandboxError(f"unknown sandbox level {level!r}")
    sink = _LogSink()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=scratch,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: _apply_limits(limits),
        )
    except OSError as exc:
        raise SandboxError(f"could not start the sandboxed child: {exc}") from exc
    reader = threading.Thread(target=_drain, args=(proc.stdout, sink), daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _kill_group(proc)
    reader.join(timeout=5)
    wall = time.monotonic() - start
    rc = proc.returncode
    sig = -rc if rc is not None and rc < 0 else None
    if level == "bwrap" and rc is not None and rc > 128 and not timed_out:
        # bwrap reports a child killed by a signal as 128 + signal number.
        sig = rc - 128
    return ChildResult(rc, timed_out, wall, sink.text(), sink.total, sig)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def warn_if_weak(level: str) -> None:
    if level == "process":
        warnings.warn(process_level_warning(), RuntimeWarning, stacklevel=2)
