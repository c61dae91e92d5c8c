"""Watching and stopping processes r2wifi started: one way, used by every part.

Rules:
* r2wifi signals only pids it recorded itself (the callers check identity first: pid file plus
  start time or command line).
* This module is the one place that decides *how* an exit is waited for. With a pidfd
  (``os.pidfd_open``, Linux >= 5.3) the wait is a ``select`` on a descriptor that becomes readable
  when the process exits (also while it is a zombie): no polling, no race with pid reuse. Where
  pidfds do not exist (Linux 4.14 - 5.2: ``ENOSYS``; a Python without ``os.pidfd_open``), or when
  ``R2WIFI_NO_PIDFD=1`` is set (tests, and a way out on odd kernels), a process is identified by
  its pid *and* its start time (field 22 of ``/proc/<pid>/stat``) taken when the wait begins, and
  its exit is noticed by polling that file every :data:`POLL_INTERVAL` seconds: gone, a zombie, or
  a different start time (a recycled pid) all mean "exited".
* :func:`pidfd_available` is decided once per process and cached.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import time
from collections.abc import Collection, Hashable, Mapping
from typing import TypeVar

POLL_INTERVAL = 0.05  # seconds between /proc checks when there is no pidfd
_pidfd_ok: bool | None = None

K = TypeVar("K", bound=Hashable)


def pidfd_available() -> bool:
    """True when ``os.pidfd_open`` works here (and ``R2WIFI_NO_PIDFD`` is not set)."""
    global _pidfd_ok
    if _pidfd_ok is None:
        if os.environ.get("R2WIFI_NO_PIDFD", "") not in ("", "0") or not hasattr(os, "pidfd_open"):
            _pidfd_ok = False
        else:
            try:
                os.close(os.pidfd_open(os.getpid()))
                _pidfd_ok = True
            except OSError as err:
                if err.errno not in (errno.ENOSYS, errno.EPERM, errno.EINVAL):
                    raise
                _pidfd_ok = False
    return _pidfd_ok


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    return data.rsplit(")", 1)[-1].split()


def starttime(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (field 22), or None if it is gone."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _running(pid: int, start: str | None) -> bool:
    """``pid`` still runs (not a zombie) and is the process that had ``start`` (if given)."""
    fields = _stat_fields(pid)
    if not fields or fields[0] in ("Z", "X"):
        return False
    return start is None or (len(fields) > 19 and fields[19] == start)


class ProcessHandle:
    """A handle on one running process for exit checks: a pidfd, or its pid + start time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fd: int | None = None
        self.start: str | None = None
        self.gone = False
        if pidfd_available():
            try:
                self.fd = os.pidfd_open(pid)
            except ProcessLookupError:
                self.gone = True
        else:
            self.start = starttime(pid)
            self.gone = self.start is None or not _running(pid, self.start)

    def exited(self) -> bool:
        """True once the process has exited (checked now, without waiting)."""
        if self.gone:
            return True
        if self.fd is not None:
            ready, _, _ = select.select([self.fd], [], [], 0)
            self.gone = bool(ready)
        else:
            self.gone = not _running(self.pid, self.start)
        return self.gone

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> ProcessHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_any_exit(handles: Mapping[K, ProcessHandle], timeout: float) -> list[K]:
    """Wait up to ``timeout`` s until one of ``handles`` exits; the keys of those that exited."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        done = [k for k, h in handles.items() if h.gone or (h.fd is None and h.exited())]
        if done:
            return done
        fds = {h.fd: k for k, h in handles.items() if h.fd is not None}
        polled = len(fds) < len(handles)
        left = deadline - time.monotonic()
        if left <= 0:
            return []
        wait = min(left, POLL_INTERVAL) if polled else left
        if fds:
            ready, _, _ = select.select(list(fds), [], [], wait)
            if ready:
                for fd in ready:
                    handles[fds[fd]].gone = True
                return [fds[fd] for fd in ready]
        else:
            time.sleep(wait)


def wait_pid_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` s for ``pid`` to exit; True if it is gone."""
    with ProcessHandle(pid) as h:
        return h.exited() or bool(wait_any_exit({0: h}, timeout))


def terminate(pid: int, grace: float = 5.0, kill_wait: float = 2.0) -> bool:
    """SIGTERM, wait up to ``grace`` s, then SIGKILL and wait up to ``kill_wait`` s.

    Returns True when the process exited within the grace period (a polite stop).
    """
    with ProcessHandle(pid) as h:  # taken before the signal: the start time is the process's own
        if h.exited():
            return True
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return True
        if wait_any_exit({0: h}, grace):
            return True
        if h.fd is None and not _running(pid, h.start):
            return True
        try:
            if h.fd is not None:
                signal.pidfd_send_signal(h.fd, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        wait_any_exit({0: h}, kill_wait)
        return False


def detach_descriptors(keep: Collection[int], reset: Collection[signal.Signals] = ()) -> None:
    """In a freshly forked child that must outlive its parent (the launcher, a log pump): every open
    descriptor except ``keep`` is pointed at /dev/null (0-2 stay open, the others close on exec), so no
    pipe, socket or lock of the parent stays held through the child; the signals in ``reset`` get their
    default handling back (the parent's Python handlers must not run in the child)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd != devnull and fd not in keep:
            try:
                os.dup2(devnull, fd, inheritable=fd <= 2)
            except OSError:
                pass
    for sig in reset:
        signal.signal(sig, signal.SIG_DFL)
