"""Copy a build's products, and nothing else, from a compile phase's private build dir into the
persistent build cache (ROBUSTNESS.md E26).

The compile child writes where it likes inside its private dir; what outlives it is chosen by
the parent: per extension directory of torch's cpp_extension JIT, the regular files that a later
load needs in order to find the build up to date and load it without rebuilding, up to a total
size. Everything else (stray files, dotfiles, deeper directories, symlinks, fifos, torch's
``lock`` file, which would make every later load wait forever) is dropped and named.

What a torch build directory holds (``load_inline``/``load`` with ``TORCH_EXTENSIONS_DIR``
set): ``<root>/<name>/`` with ``main.cpp`` (and ``cuda.cu``, ``sycl.sycl``, hipified ``*.hip``),
``build.ninja``, the objects (``main.o``, ``cuda.cuda.o``, ``*.o`` for ``load``'s sources and
a device-link ``dlink.o``), the module ``<name>.so`` (``<name>_v1.so`` for a later version in
the same process), and ninja's ``.ninja_log`` and ``.ninja_deps``. A reload rewrites a source
or ``build.ninja`` only when its content changed and then runs ninja, which rebuilds nothing
when every output is newer than its inputs, the command hashes in ``.ninja_log`` match, and
the dependency records in ``.ninja_deps`` are not older than their outputs. So the sources must
come along, and every modification time is kept to the nanosecond. ``build.ninja`` and
``.ninja_log`` name the build directory by its absolute path: the build must be made at the
path it is loaded from (a private dir bound at the cache's path, as the later phases do).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DEFAULT_CAP = 256 << 20
MAX_LISTED = 200  # names of dropped entries returned at most; the rest are counted

# Names kept in an extension directory, by exact name or suffix.
PRODUCT_NAMES = frozenset({"build.ninja", ".ninja_log", ".ninja_deps"})
PRODUCT_SUFFIXES = (
    ".so",
    ".o",  # also cuda.cuda.o, dlink.o
    ".cpp",
    ".cc",
    ".cxx",
    ".c",
    ".cu",
    ".cuh",
    ".h",
    ".hpp",
    ".hip",
    ".sycl",
)


def is_product(name: str) -> bool:
    """Whether a file of this name in an extension directory is a product of torch's build."""
    if name in PRODUCT_NAMES:
        return True
    if name.startswith(".") or name == "lock":
        return False
    return name.endswith(PRODUCT_SUFFIXES)


class _Dropped:
    """The names of what was not copied: the first ``MAX_LISTED``, then a count."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.more = 0

    def add(self, name: str) -> None:
        if len(self.names) < MAX_LISTED:
            self.names.append(name)
        else:
            self.more += 1

    def result(self) -> list[str]:
        return self.names + ([f"... and {self.more} more"] if self.more else [])


def _regular_entries(directory: Path, dropped: _Dropped, prefix: str) -> list[tuple[str, int]]:
    """(name, size) of the products among ``directory``'s entries; the others are dropped."""
    kept = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        dropped.add(prefix)
        return []
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            dropped.add(prefix + entry.name)
            continue
        if stat.S_ISDIR(info.st_mode):
            dropped.add(prefix + entry.name + "/")
        elif not stat.S_ISREG(info.st_mode) or not is_product(entry.name):
            dropped.add(prefix + entry.name)
        else:
            kept.append((entry.name, info.st_size))
    return kept


def _copy_file(src: Path, dst: Path, limit: int) -> int | None:
    """Copy one regular file's content, mode bits (no setuid) and times, never following a
    link; None when it is no regular file after all or grew past ``limit`` bytes."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(src, flags)
    except OSError:
        return None
    tmp = dst.with_name(f".{dst.name}.partial-{os.getpid()}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        written = 0
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        out_fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(out_fd, "wb") as out:
            while chunk := os.read(fd, 1 << 20):
                written += len(chunk)
                if written > limit:
                    break
                out.write(chunk)
        if written > limit:
            tmp.unlink()
            return None
        os.chmod(tmp, stat.S_IMODE(info.st_mode) & 0o755 | 0o600)
        os.utime(tmp, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.replace(tmp, dst)
        return written
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def copy_products(src: Path, dst: Path, cap_bytes: int = DEFAULT_CAP) -> list[str]:
    """Copy the products of torch's JIT builds from ``src`` into ``dst``; return what was not.

    ``src`` and ``dst`` are roots of ``TORCH_EXTENSIONS_DIR`` layout: one directory per
    extension, files inside it (see the module's docstring for which are kept). An extension is
    copied whole or not at all: once one does not fit in what is left of ``cap_bytes``, it and
    every later one (in name order) are skipped. Files already in ``dst`` with other names are
    left alone; ones with the same name are replaced. The returned names are relative to
    ``src``, a directory with a trailing ``/``; at most ``MAX_LISTED`` of them, then a count.
    """
    dropped = _Dropped()
    if dst.is_symlink():
        raise ValueError(f"refusing to copy build products through a symlink: {dst}")
    try:
        top = sorted(os.scandir(src), key=lambda e: e.name)
    except OSError:
        return []
    extensions = []
    for entry in top:
        if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
            extensions.append(entry.name)
        else:
            dropped.add(entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""))
    used = 0
    full = False
    for name in extensions:
        files = _regular_entries(src / name, dropped, name + "/")
        size = sum(s for _, s in files)
        if full or used + size > cap_bytes:
            full = True
            for file, _ in files:
                dropped.add(f"{name}/{file}")
            continue
        target = dst / name
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            target.unlink()  # never write through a link someone left in the cache
        target.mkdir(parents=True, exist_ok=True)
        for file, _ in files:
            written = _copy_file(src / name / file, target / file, cap_bytes - used)
            if written is None:
                dropped.add(f"{name}/{file}")
            else:
                used += written
    return dropped.result()
