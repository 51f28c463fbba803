"""Keys, tokens and database URLs stay out of every child.

Two ways lead from a child to the parent's secrets, and both are closed here:

- The child's own environment. ``child_environment`` builds it from an allowlist of names that
  compilers and the loader need, and drops even those whose value looks like a credential.
- The parent's environment as the kernel shows it: ``/proc/<parent>/environ`` (and
  ``cmdline``) is the block of memory the parent started with, readable by any process of the
  same user, which is what a child at the ``process`` level is. ``withdraw_from_proc`` writes
  zeros over every secret-looking value in that block and over the password of any URL in the
  arguments. Python's ``os.environ`` and ``sys.argv`` are copies made at start-up and keep their
  values, and each withdrawn variable is set again in the C library's environment (a fresh copy
  on the heap, which ``/proc`` does not show), so that libpq's ``PGPASSWORD`` and the like still
  work: the parent itself loses nothing.

A child at the ``process`` level that runs as root can still read the parent's memory; only the
``bwrap`` and ``docker`` levels (own pid namespace, own user) put it out of reach.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Mapping

# What compilers, the loader and the toolkits in a child need from the parent's environment.
PASSTHROUGH = (
    "PATH",
    "LD_LIBRARY_PATH",
    "CUDA_HOME",
    "CUDA_PATH",
    "LANG",
    "LC_ALL",
    "CC",
    "CXX",
    "TORCH_CUDA_ARCH_LIST",
    "OMP_NUM_THREADS",
)

# Names that hold credentials by convention (OPENAI_API_KEY, GITHUB_TOKEN, PGPASSWORD, MYSQL_PWD,
# DB_PASS, GH_PAT, CI_JOB_JWT, AWS_SECRET_ACCESS_KEY, DOCKER_AUTH_CONFIG, ...) and the store's
# own URL.
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASS|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|DSN|JWT|"
    r"_PWD$|(^|_)PAT$|DATABASE_URL|^KERNELWRIGHT_DB$",
    re.IGNORECASE,
)
# ``scheme://user:password@host``: a URL that carries a password, under any name.
_URL_PASSWORD = re.compile(rb"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)([^/\s@]+)(@)")


def is_secret(name: str, value: str = "") -> bool:
    """Whether an environment variable looks like it holds a credential."""
    return bool(_SECRET_NAME.search(name) or _URL_PASSWORD.search(value.encode(errors="replace")))


def child_environment(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a sandboxed child inherits from ``source`` (the parent's environment):
    the allowlisted names only, and none whose value looks like a credential."""
    source = os.environ if source is None else source
    return {
        name: source[name]
        for name in PASSTHROUGH
        if name in source and not is_secret(name, source[name])
    }


def _stat_fields() -> list[str]:
    with open("/proc/self/stat") as stat:
        text = stat.read()
    # Fields after the parenthesized command start with field 3 (state).
    return text[text.rfind(")") + 2 :].split()


def _writable_region(start: int, end: int) -> bool:
    """Whether [start, end) lies inside one writable mapping of this process."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            low, high = (int(x, 16) for x in span.split("-"))
            if low <= start and end <= high:
                return perms.startswith("rw")
    return False


def _scrub(start: int, end: int, shown: str, spans: list[tuple[int, int]]) -> int:
    """Zero ``spans`` (offsets into [start, end)) after checking that the memory there is what
    ``/proc/self/<shown>`` shows; returns the bytes written."""
    if not spans or end <= start or not _writable_region(start, end):
        return 0
    with open(f"/proc/self/{shown}", "rb") as view:
        seen = view.read()
    if ctypes.string_at(start, end - start)[: len(seen)] != seen:
        return 0  # the block was moved (setproctitle and the like): nothing to scrub in place
    for low, high in spans:
        ctypes.memset(start + low, 0, high - low)
    return sum(high - low for low, high in spans)


def _environ_spans(block: bytes) -> tuple[list[tuple[int, int]], list[str]]:
    spans, names = [], []
    offset = 0
    for entry in block.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        text = name.decode(errors="replace")
        if sep and value and is_secret(text, value.decode(errors="replace")):
            low = offset + len(name) + 1
            spans.append((low, low + len(value)))
            names.append(text)
        offset += len(entry) + 1
    return spans, names


def _argv_spans(block: bytes) -> list[tuple[int, int]]:
    return [match.span(2) for match in _URL_PASSWORD.finditer(block)]


def withdraw_from_proc() -> int:
    """Zero secret values in this process's start-up environment block and URL passwords in its
    argument block, as ``/proc/<pid>/environ`` and ``cmdline`` show them to other processes.

    Best effort on Linux; returns the bytes written (0 where there was nothing to do or the
    blocks could not be found safely).
    """
    try:
        fields = _stat_fields()
        arg_start, arg_end, env_start, env_end = (int(fields[i]) for i in (45, 46, 47, 48))
        written = 0
        if env_end > env_start and _writable_region(env_start, env_end):
            block = ctypes.string_at(env_start, env_end - env_start)
            spans, names = _environ_spans(block)
            written += _scrub(env_start, env_end, "environ", spans)
            for name in names:
                # The C library's copy again (zeroed in place above), for getenv() in libraries.
                if name in os.environ:
                    os.putenv(name, os.environ[name])
        if arg_end > arg_start and _writable_region(arg_start, arg_end):
            block = ctypes.string_at(arg_start, arg_end - arg_start)
            written += _scrub(arg_start, arg_end, "cmdline", _argv_spans(block))
        return written
    except (OSError, ValueError, IndexError):
        return 0


__all__ = ["PASSTHROUGH", "child_environment", "is_secret", "withdraw_from_proc"]
