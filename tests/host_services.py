"""Host services that a sandboxed candidate must not reach, for the tests that plant them."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path


class UnixServer:
    """A server on a filesystem Unix socket, in a thread, that counts the connections it
    accepted. Any uid may connect: only the sandbox may keep a child out (E25)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.accepted = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)
        self.sock.listen()
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
        self.path.unlink(missing_ok=True)
