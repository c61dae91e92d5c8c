"""sd_notify over a real datagram socket, as systemd would receive it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from r2wifi.service.sdnotify import Notifier


def test_no_socket_means_no_op() -> None:
    """Outside systemd nothing is sent and nothing fails."""
    n = Notifier({})
    assert not n.enabled and n.ready("x") is False and n.watchdog_interval is None


def test_ready_status_and_watchdog_reach_the_socket(tmp_path: Path) -> None:
    """READY/STATUS/WATCHDOG datagrams arrive on NOTIFY_SOCKET; the ping period is half WATCHDOG_USEC."""
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as srv:
        srv.bind(path)
        n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())})
        assert n.watchdog_interval == 10.0
        assert n.ready("AP up")
        assert srv.recv(4096) == b"READY=1\nSTATUS=AP up"
        assert n.watchdog()
        assert srv.recv(4096) == b"WATCHDOG=1"


def test_abstract_socket_and_foreign_watchdog_pid() -> None:
    """'@name' is the abstract namespace; a WATCHDOG_PID of another process disables the watchdog."""
    name = f"r2wifi-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as srv:
        srv.bind("\0" + name)
        n = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
        assert n.watchdog_interval is None
        assert n.stopping() and srv.recv(100) == b"STOPPING=1"
