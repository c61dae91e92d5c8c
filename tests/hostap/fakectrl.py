"""A scripted stand-in for a hostapd control socket, for client tests without a real daemon.

``FakeDaemon(path, handler)`` binds a UNIX datagram socket at ``path`` and answers each request
with ``handler(command)`` (None = no reply). ATTACH / DETACH are handled here: ``emit(text)``
sends ``<3>text`` to every attached client, as hostapd does. ``close()`` removes the socket.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path


class FakeDaemon:
    def __init__(self, path: Path, handler: Callable[[str], str | None]) -> None:
        self.path = path
        self.handler = handler
        self.attached: set[str] = set()
        self.received: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.fspath(path))
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(4096)
            except OSError:
                return
            cmd = data.decode()
            if cmd == "__STOP__" and not addr:
                return
            with self._lock:
                self.received.append(cmd)
            if cmd == "ATTACH":
                self.attached.add(addr)
                reply: str | None = "OK\n"
            elif cmd == "DETACH":
                self.attached.discard(addr)
                reply = "OK\n"
            else:
                reply = self.handler(cmd)
            if reply is not None and addr:
                try:
                    self.sock.sendto(reply.encode(), addr)
                except OSError:
                    pass

    def emit(self, text: str, level: int = 3) -> None:
        for addr in list(self.attached):
            self.sock.sendto(f"<{level}>{text}".encode(), addr)

    def close(self) -> None:
        """Stop the loop (an unbound sender's stop datagram), close and unlink the socket."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"__STOP__", os.fspath(self.path))
        self._thread.join(timeout=5)
        self.sock.close()
        self.path.unlink(missing_ok=True)
