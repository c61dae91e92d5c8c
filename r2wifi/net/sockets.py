"""Is a process listening on a UDP port? Read from procfs, in the process's own network namespace.

Rules: ``/proc/<pid>/net/udp`` and ``udp6`` show the sockets of the namespace ``pid`` lives in, so
this works for a dnsmasq inside the simulator's namespace without entering it. A socket counts as
the process's when its inode is one of the process's open descriptors (``/proc/<pid>/fd``); when
those cannot be read (not root), any socket bound to the port in that namespace counts.
"""

from __future__ import annotations

import os


def _socket_inodes(pid: int) -> set[str] | None:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    out: set[str] = set()
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def udp_listening(pid: int, port: int) -> bool:
    """True when ``pid`` holds a UDP socket bound to ``port`` (IPv4 or IPv6)."""
    mine = _socket_inodes(pid)
    want = f"{port:04X}"
    for table in ("udp", "udp6"):
        try:
            with open(f"/proc/{pid}/net/{table}", encoding="ascii", errors="replace") as fh:
                next(fh, None)  # header
                for line in fh:
                    fields = line.split()
                    if len(fields) < 10 or fields[1].rsplit(":", 1)[-1] != want:
                        continue
                    if mine is None or fields[9] in mine:
                        return True
        except OSError:
            continue
    return False
