"""Framed messages between the parent and a worker child over a pair of pipes.

A frame is an 8-byte little-endian length followed by ``torch.save`` bytes. The parent reads the
child's frames with ``torch.load(weights_only=True)`` (tensors, numbers, strings, lists and dicts
only) and with a deadline on every read and write, so a child that stops answering, answers
garbage or floods the pipe costs the parent a timeout, never a hang or code execution.
"""

from __future__ import annotations

import io
import os
import select
import struct
import time
from typing import Any

_HEADER = struct.Struct("<Q")
# Larger than any output a task on one device produces; a bigger length is a forged frame.
MAX_FRAME = 1 << 36
_CHUNK = 1 << 20


class ChannelClosed(Exception):
    """The other side closed its end (the child exited or was killed)."""


class ChannelTimeout(Exception):
    """The other side did not answer before the deadline."""


class ChannelError(Exception):
    """The other side sent something that is not a well-formed frame."""


def encode(message: Any) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(message, buffer)
    data = buffer.getvalue()
    return _HEADER.pack(len(data)) + data


def decode(data: bytes, trusted: bool) -> Any:
    import torch

    try:
        return torch.load(io.BytesIO(data), weights_only=not trusted)
    except Exception as exc:
        raise ChannelError(f"unreadable frame: {type(exc).__name__}: {exc}"[:300]) from exc


class Endpoint:
    """One side of the conversation: reads frames from ``read_fd``, writes them to ``write_fd``.

    ``trusted`` says whether frames from the other side may hold arbitrary pickled objects (the
    child reading the parent's frames); the parent reads its children's frames untrusted.
    """

    def __init__(self, read_fd: int, write_fd: int, trusted: bool) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.trusted = trusted
        # The other side's process as the parent started it (the sandbox's outermost process),
        # so the parent can inspect it from outside while it waits; None where unknown.
        self.pid: int | None = None

    def send(self, message: Any, timeout: float | None = None) -> None:
        data = memoryview(encode(message))
        deadline = None if timeout is None else time.monotonic() + timeout
        while data:
            if deadline is not None:
                _wait(self.write_fd, deadline, write=True)
            try:
                written = os.write(self.write_fd, data[:_CHUNK])
            except BrokenPipeError as exc:
                raise ChannelClosed("the other side closed the channel") from exc
            data = data[written:]

    def recv(self, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if size > MAX_FRAME:
            raise ChannelError(f"a frame of {size} bytes is larger than any output")
        return decode(self._read(size, deadline), self.trusted)

    def _read(self, size: int, deadline: float | None) -> bytes:
        buffer = bytearray()
        while len(buffer) < size:
            if deadline is not None:
                _wait(self.read_fd, deadline, write=False)
            chunk = os.read(self.read_fd, min(_CHUNK, size - len(buffer)))
            if not chunk:
                raise ChannelClosed("the other side closed the channel")
            buffer += chunk
        return bytes(buffer)


def _wait(fd: int, deadline: float, write: bool) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ChannelTimeout("no answer before the deadline")
    ready = select.select([], [fd], [], left) if write else select.select([fd], [], [], left)
    if not (ready[1] if write else ready[0]):
        raise ChannelTimeout("no answer before the deadline")
