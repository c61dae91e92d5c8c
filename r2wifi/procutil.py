"""Stopping processes r2wifi started: one way, used by every part.

Rules: r2wifi signals only pids it recorded itself (the callers check identity first: pid file plus
start time or command line). Waiting uses a pidfd (``os.pidfd_open``), which becomes readable when
the process exits (also while it is a zombie), so there is no polling loop and no race with pid reuse
during the wait.
"""

from __future__ import annotations

import os
import select
import signal


def wait_pid_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` s for ``pid`` to exit; True if it is gone."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
        return bool(ready)
    finally:
        os.close(fd)


def terminate(pid: int, grace: float = 5.0, kill_wait: float = 2.0) -> bool:
    """SIGTERM, wait up to ``grace`` s, then SIGKILL and wait up to ``kill_wait`` s.

    Returns True when the process exited within the grace period (a polite stop).
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_pid_exit(pid, grace):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    wait_pid_exit(pid, kill_wait)
    return False
