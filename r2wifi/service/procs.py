"""Pid files of r2wifi's own long-lived processes (the supervisor, ``r2wifi run``).

Rules:
* r2wifi only ever signals a process recorded in ``<dir>/<name>.pid`` together with its start time,
  and that start time must still match ``/proc/PID/stat`` (a recycled pid is not ours). Nothing is
  found by name. (hostapd, dnsmasq and wpa_supplicant are run by :mod:`r2wifi.hostap.daemon`.)
* :meth:`Procs.stop` sends SIGTERM, waits for the exit (:mod:`r2wifi.procutil`: a pidfd, or
  pid + start time polling on kernels without one) and sends SIGKILL after the grace period.
"""

from __future__ import annotations

from pathlib import Path

from r2wifi.procutil import starttime as proc_starttime
from r2wifi.procutil import terminate, wait_pid_exit

__all__ = ["Procs", "proc_starttime", "wait_pid_exit"]


class Procs:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def pidfile(self, name: str) -> Path:
        return self.dir / f"{name}.pid"

    def logfile(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of our live daemon ``name``, or None (stale pid files do not count)."""
        try:
            text = self.pidfile(name).read_text().split()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not text or not text[0].isdigit():
            return None
        pid = int(text[0])
        start = text[1] if len(text) > 1 else ""
        now = proc_starttime(pid)
        if now is None or (start and now != start):
            return None
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    return None
        except OSError:
            return None
        return pid

    def alive(self, name: str) -> bool:
        return self.pid(name) is not None

    def wait_exit(self, pid: int, timeout: float) -> bool:
        return wait_pid_exit(pid, timeout)

    def stop(self, name: str, grace: float = 5.0) -> bool:
        """Stop our daemon ``name``. Returns True if one was running."""
        pid = self.pid(name)
        if pid is None:
            self._forget(name)
            return False
        terminate(pid, grace)
        self._forget(name)
        return True

    def _forget(self, name: str) -> None:
        try:
            self.pidfile(name).unlink()
        except FileNotFoundError:
            pass
