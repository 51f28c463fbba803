"""Host services that a sandboxed candidate must not reach, for the tests that plant them."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path


class _Acceptor:
    """Accepts connections on a bound socket in a thread and counts them."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.accepted = 0
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


class UnixServer(_Acceptor):
    """A server on a filesystem Unix socket. Any uid may connect: only the sandbox may keep a
    child out (E25)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        os.chmod(path, 0o777)
        super().__init__(sock)

    def close(self) -> None:
        super().close()
        self.path.unlink(missing_ok=True)


class TcpListener(_Acceptor):
    """A TCP listener on the host's loopback (F08: the network the sandbox must not reach)."""

    def __init__(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port: int = sock.getsockname()[1]
        super().__init__(sock)
