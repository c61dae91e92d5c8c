"""systemd ``Type=notify`` support without libsystemd: sd_notify over the datagram socket.

Rules: when ``NOTIFY_SOCKET`` is unset every call is a no-op (not under systemd, or not
``Type=notify``). An address starting with ``@`` is in the abstract namespace. ``WATCHDOG_USEC``
(honoured only when ``WATCHDOG_PID`` is unset or ours) gives the watchdog period; the supervisor
pings at half of it. Send errors are swallowed: a lost notification must never kill the service.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = ("\0" + addr[1:]) if addr.startswith("@") else (addr or None)
        self.watchdog_usec: int | None = None
        pid = env.get("WATCHDOG_PID")
        usec = env.get("WATCHDOG_USEC")
        if usec and usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.watchdog_usec = int(usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half the period systemd allows), or None."""
        return self.watchdog_usec / 2e6 if self.watchdog_usec else None

    def notify(self, *fields: str) -> bool:
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.sendto("\n".join(fields).encode(), self.address)
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *( [f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")
