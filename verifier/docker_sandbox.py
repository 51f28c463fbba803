"""The ``docker`` sandbox level: one container per child through the ``docker`` SDK.

The container runs the host's own interpreter and packages, bound read-only at the same paths
(so the image only needs a compatible C library: ``kernelwright-base:bookworm``, built locally by
``scripts/docker_image.sh`` from Debian's mirror), with no network, a read-only root, an
executable scratch tmpfs, memory and pids limits, an unprivileged uid, no capabilities, GPUs by
device request, and it is removed afterwards.

A container cannot inherit a pipe, so the parent talks to it through two FIFOs it makes in the
scratch dir under random names: a small ``sh`` wrapper opens them as the child's stdin and fd 3
and execs the command, and the parent removes them once the child holds them. The first stdin
line (the secret result-file name, and ``3`` when a conversation is requested) and the frames
then flow exactly as at the other levels (``sandbox.run_child``).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import secrets
import select
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kernelwright.verifier.channel import Endpoint
from kernelwright.verifier.sandbox import (
    NOBODY,
    ChildResult,
    Limits,
    Mounts,
    SandboxError,
    _LogSink,
    is_root,
)

DEFAULT_IMAGE = "kernelwright-base:bookworm"
# The fd the child writes its frames to; the wrapper opens the child->parent FIFO there.
CHILD_REPLY_FD = 3
# Docker keeps a container's output on disk; a child that prints without end must not fill it.
LOG_MAX_SIZE = "64m"


def docker_image() -> str:
    return os.environ.get("KERNELWRIGHT_DOCKER_IMAGE", DEFAULT_IMAGE)


def docker_status() -> tuple[bool, str]:
    """Whether a Docker engine answers here and has the image, and why not."""
    try:
        import docker
    except ImportError:
        return False, "the docker SDK is not installed (pip install 'kernelwright[docker]')"
    try:
        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as exc:
        return (
            False,
            f"no Docker engine answers ({type(exc).__name__}); run scripts/start_docker.sh",
        )
    image = docker_image()
    try:
        client.images.get(image)
    except Exception as exc:
        return False, (
            f"the image {image} is missing ({type(exc).__name__}); run scripts/docker_image.sh"
        )
    return True, f"a Docker engine answers and has {image}"


@functools.lru_cache(maxsize=1)
def _child_sys_path() -> tuple[str, ...]:
    """The child's ``sys.path``: ``sys.executable -I`` has neither the working directory nor
    ``PYTHONPATH`` on it, unlike the parent's (``python -m`` from a project dir puts that dir
    there, and it must not be bound)."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", "import sys; print('\\n'.join(sys.path))"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )
        if done.returncode == 0:
            return tuple(done.stdout.splitlines())
    except (OSError, subprocess.TimeoutExpired):
        pass
    cwd = Path.cwd().resolve()
    return tuple(e for e in sys.path[1:] if e and Path(e).resolve() != cwd)


def _interpreter_paths() -> list[Path]:
    """What the child needs from the host, bound read-only at the same paths: the interpreter,
    its standard library, the venv, kernelwright and every directory on ``sys.path``.

    A system prefix (``/usr``, ``/usr/local``) is never bound whole, only its Python parts.
    """
    import kernelwright

    wanted = {Path(kernelwright.__file__).resolve().parent}
    # Every link on the way from the venv's ``python`` to the binary, each at its own path.
    exe = Path(sys.executable).absolute()
    for _ in range(40):
        wanted.add(exe)
        if not exe.is_symlink():
            break
        exe = Path(os.path.normpath(exe.parent / os.readlink(exe)))
    wanted.add(Path(sys.executable).resolve())
    if sys.prefix != sys.base_prefix:
        wanted.add(Path(sys.prefix).resolve())
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            wanted.add(Path(sysconfig.get_paths()[key]).resolve())
    libdir, library = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir and library:
        wanted.add(Path(libdir, library).resolve())
    for entry in _child_sys_path():
        if os.path.isabs(entry) and Path(entry).is_dir():
            wanted.add(Path(entry).resolve())
    existing = sorted(p for p in wanted if p.is_file() or (p.is_dir() and len(p.parts) > 2))
    # A path inside another bound path is bound already.
    return [p for p in existing if not any(q in p.parents for q in existing)]


def container_spec(
    command: Sequence[str],
    *,
    scratch: Path,
    limits: Limits,
    env: dict[str, str],
    mounts: Mounts,
    gpu: bool,
    image: str,
) -> dict[str, Any]:
    """Keyword arguments for ``client.containers.run``: everything the isolation rests on."""
    from docker.types import DeviceRequest, LogConfig, Ulimit

    volumes: dict[str, dict[str, str]] = {}
    shared = set(_interpreter_paths()) | {Path(p) for p in mounts.read_only}
    for path in sorted(shared):
        volumes[str(path)] = {"bind": str(path), "mode": "ro"}
    for path in mounts.writable:
        volumes[str(path)] = {"bind": str(path), "mode": "rw"}
    for source, target in mounts.remapped:
        volumes[str(source)] = {"bind": str(target), "mode": "rw"}
    volumes[str(scratch)] = {"bind": str(scratch), "mode": "rw"}
    spec: dict[str, Any] = {
        "image": image,
        "command": list(command),
        "detach": True,
        "network_disabled": True,
        "read_only": True,
        "tmpfs": {"/tmp": "rw,exec,nosuid,size=2g"},
        "user": f"{NOBODY}:{NOBODY}",
        "working_dir": str(scratch),
        "environment": env,
        "volumes": volumes,
        "pids_limit": limits.processes,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "ulimits": [
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
        ],
        "log_config": LogConfig(
            type="json-file", config={"max-size": LOG_MAX_SIZE, "max-file": "2"}
        ),
        "labels": {"kernelwright": "candidate"},
    }
    if limits.memory_bytes:
        spec["mem_limit"] = limits.memory_bytes
        spec["memswap_limit"] = limits.memory_bytes
    if gpu:
        spec["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    return spec


def wrap_command(command: Sequence[str], to_child: Path, to_parent: Path | None) -> list[str]:
    """``command`` run with the parent->child FIFO as stdin and, for a conversation, the
    child->parent FIFO as fd 3. The reply FIFO opens first: the parent holds its read end from the
    start, so that open never blocks, and once the child holds its stdin it holds both."""
    if to_parent is None:
        script = 'p=$1; shift; exec "$@" <"$p"'
        return ["/bin/sh", "-c", script, "kernelwright-child", str(to_child), *command]
    script = f'p=$1; c=$2; shift 2; exec "$@" {CHILD_REPLY_FD}>"$c" <"$p"'
    return ["/bin/sh", "-c", script, "kernelwright-child", str(to_child), str(to_parent), *command]


class _Fifos:
    """The parent's ends of the two FIFOs, made under random names in the scratch dir."""

    def __init__(self, scratch: Path, converse: bool) -> None:
        tag = secrets.token_hex(8)
        self.to_child = scratch / f".kw-in-{tag}"
        self.to_parent = scratch / f".kw-out-{tag}" if converse else None
        self.write_fd = -1
        self.read_fd = -1
        for path in self.paths:
            os.mkfifo(path, 0o600)
            if is_root():
                os.chown(path, NOBODY, NOBODY)
            else:
                # The child's uid is not ours; the scratch dir is private to us and the child.
                os.chmod(path, 0o666)
        if self.to_parent is not None:
            # Opened now, before the container starts: the child's open for writing never
            # blocks, and the parent never reads an end no writer has opened yet.
            self.read_fd = os.open(self.to_parent, os.O_RDONLY | os.O_NONBLOCK)
            os.set_blocking(self.read_fd, True)

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.to_child, self.to_parent) if p is not None]

    def connect(self, deadline: float, stop: threading.Event) -> bool:
        """Open the child's stdin for writing once the child opened it for reading; False if
        the child never did before ``deadline`` or ``stop``. Never blocks for longer."""
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                self.write_fd = os.open(self.to_child, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                stop.wait(0.01)
                continue
            os.set_blocking(self.write_fd, True)
            self.unlink()
            return True
        return False

    def unlink(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.unlink()

    def close(self) -> None:
        for fd in (self.write_fd, self.read_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.write_fd = self.read_fd = -1
        self.unlink()


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([], [fd], [], left)[1]:
            raise TimeoutError("the child did not read its stdin")
        view = view[os.write(fd, view) :]


def _talk(
    fifos: _Fifos,
    stdin_data: bytes,
    conversation: Callable[[Endpoint], None] | None,
    deadline: float,
    stop: threading.Event,
    kill: Callable[[], None],
    failure: list[str],
    host_pid: Callable[[], int | None] = lambda: None,
) -> None:
    """The parent's side: connect, send the first line, then converse. Any failure of the
    conversation ends the container, whose output is moot (as at the other levels)."""
    try:
        if not fifos.connect(deadline, stop):
            if conversation is not None:
                failure.append("the child never opened its channel")
            return
        with contextlib.suppress(OSError, TimeoutError):
            _write_all(fifos.write_fd, stdin_data, deadline)
        if conversation is None:
            os.close(fifos.write_fd)
            fifos.write_fd = -1
            return
        endpoint = Endpoint(fifos.read_fd, fifos.write_fd, trusted=False)
        # The container's process as the host sees it, so the parent can read its maps and
        # threads from outside as at the other levels.
        endpoint.pid = host_pid()
        conversation(endpoint)
    except Exception as exc:
        if conversation is not None:
            failure.append(f"{type(exc).__name__}: {exc}"[:500])
            kill()


def run_in_docker(
    command: Sequence[str],
    *,
    scratch: Path,
    limits: Limits,
    env: dict[str, str],
    mounts: Mounts,
    gpu: bool,
    stdin_data: bytes = b"",
    conversation: Callable[[Endpoint], None] | None = None,
) -> ChildResult:
    """Run one child in a fresh container, wait for it, and remove the container.

    ``stdin_data`` and ``conversation`` mean what they mean for ``sandbox.run_child``: the data
    is the child's first stdin input (its first line names the result file); with a
    conversation, `` 3`` is appended to that line and ``conversation(endpoint)`` runs in a
    thread of the parent, reading the child's frames from its fd 3 and writing to its stdin.
    """
    try:
        import docker
    except ImportError as exc:
        raise SandboxError(
            "sandbox level docker needs the docker SDK (pip install docker)"
        ) from exc
    if conversation is not None:
        stdin_data = stdin_data.rstrip(b"\n") + f" {CHILD_REPLY_FD}\n".encode()
    fifos = _Fifos(scratch, conversation is not None)
    spec = container_spec(
        wrap_command(command, fifos.to_child, fifos.to_parent),
        scratch=scratch,
        limits=limits,
        env=env,
        mounts=mounts,
        gpu=gpu,
        image=docker_image(),
    )
    sink = _LogSink()
    start = time.monotonic()
    try:
        client = docker.from_env()
        container = client.containers.run(**spec)
    except Exception as exc:
        fifos.close()
        raise SandboxError(f"could not start a container: {type(exc).__name__}: {exc}") from exc

    def kill() -> None:
        with contextlib.suppress(Exception):
            container.kill()

    def host_pid() -> int | None:
        with contextlib.suppress(Exception):
            container.reload()
            pid = int(container.attrs.get("State", {}).get("Pid") or 0)
            return pid or None
        return None

    stop = threading.Event()
    failure: list[str] = []
    talker = threading.Thread(
        target=_talk,
        args=(
            fifos,
            stdin_data,
            conversation,
            start + limits.wall_s,
            stop,
            kill,
            failure,
            host_pid,
        ),
        daemon=True,
    )
    talker.start()
    timed_out = False
    try:
        try:
            status = container.wait(timeout=limits.wall_s)
            rc: int | None = int(status.get("StatusCode", -1))
        except Exception:
            timed_out = True
            rc = None
            kill()
            with contextlib.suppress(Exception):
                container.wait(timeout=30)
        stop.set()
        # The child is gone, so its ends of the FIFOs are closed and the conversation ends.
        talker.join(timeout=30)
        with contextlib.suppress(Exception):
            for chunk in container.logs(stdout=True, stderr=True, stream=True, follow=False):
                sink.feed(chunk)
        oom = False
        with contextlib.suppress(Exception):
            container.reload()
            oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            container.remove(force=True)
        if not talker.is_alive():
            fifos.close()
        else:
            fifos.unlink()
    wall = time.monotonic() - start
    sig = rc - 128 if rc is not None and rc > 128 else None
    result = ChildResult(rc, timed_out, wall, sink.text(), sink.total, sig, oom)
    result.conversation_error = failure[0] if failure else None
    return result
