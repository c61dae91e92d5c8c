"""The resident launcher's files in ``state_dir()``: pid file, lock, log and state record.

Theory: exactly one launcher may serve ``/dev/stpwmt`` (a second one confuses the kernel's
patch counter). The launcher takes an exclusive ``flock`` on ``launcher.lock`` for its whole
life and writes its pid to ``launcher.pid``; anyone can tell whether it is alive by trying the
same lock (non-blocking). The kernel drops the lock when the process dies, so a stale pid file
never blocks a new launcher. ``launcher.json`` records what the launcher did (powered, patches,
last exchange, srh_patch count, last error) for ``chip status``, ``doctor`` and the supervisor.

Public API (used by other parts of r2wifi):
* :func:`launcher_pid` -> pid of the live launcher or None.
* :func:`read_state` -> the last ``launcher.json`` record (``{}`` if none) plus ``alive``.
* :func:`chip_ready` -> True when a live launcher reports the chip powered (patches downloaded).
* :func:`vendor_launchers` -> pids of a running vendor ``stp_uart_launcher`` (a conflict too).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from r2wifi.fsutil import atomic_write
from r2wifi.paths import ensure_dir, state_dir
from r2wifi.records import record


@record(frozen=True)
class LauncherFiles:
    pid: Path
    lock: Path
    state: Path

    @property
    def log(self) -> Path:
        """launcher.log where the [log] setting puts it (resolved when asked: a state poll never pays for it)."""
        from r2wifi.logdir import target

        return target().path("launcher", self.pid.parent / "launcher.log")  # [log] dir, else the state dir


ACQUIRE_PATIENCE = 0.5  # seconds a starting launcher retries a refused lock (see LauncherLock.acquire)


def files(base: Path | None = None) -> LauncherFiles:
    d = base or state_dir()
    return LauncherFiles(d / "launcher.pid", d / "launcher.lock", d / "launcher.json")


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def lock_is_held(lock: Path) -> bool:
    """True when a launcher holds the lock.

    The probe takes a *shared* lock without blocking: probes never conflict with each other (two
    ``status`` calls at once both see the truth), only with the launcher's exclusive lock. A launcher
    that starts while a probe holds its shared lock for a few microseconds retries
    (:meth:`LauncherLock.acquire`), so a probe can never make a new launcher fail.
    """
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return True
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def launcher_pid(base: Path | None = None) -> int | None:
    f = files(base)
    if not lock_is_held(f.lock):
        return None
    return _read_pid(f.pid) or -1


class LauncherLock:
    """The exclusive lock a launcher holds for its lifetime."""

    def __init__(self, base: Path | None = None) -> None:
        self.files = files(base)
        self.fd = -1

    def acquire(self, patience: float = ACQUIRE_PATIENCE) -> int | None:
        """Take the lock; returns None on success, else the pid of the holder (-1 if unknown).

        A refusal is retried for up to ``patience`` seconds: probes (:func:`lock_is_held`) hold a
        shared lock for microseconds, a launcher holds its lock for its whole life.
        """
        ensure_dir(self.files.lock.parent)
        fd = os.open(self.files.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return _read_pid(self.files.pid) or -1
                time.sleep(0.01)
        self.fd = fd
        atomic_write(self.files.pid, f"{os.getpid()}\n")
        return None

    def release(self) -> None:
        if self.fd >= 0:
            try:
                if _read_pid(self.files.pid) == os.getpid():
                    self.files.pid.unlink(missing_ok=True)
            finally:
                os.close(self.fd)
                self.fd = -1


def write_state(record: dict[str, Any], base: Path | None = None) -> None:
    record = dict(record, updated_at=time.time())
    atomic_write(files(base).state, json.dumps(record, indent=2, sort_keys=True) + "\n")


def read_state(base: Path | None = None) -> dict[str, Any]:
    f = files(base)
    try:
        data = json.loads(f.state.read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    holder = launcher_pid(base)
    if holder is None:
        data["alive"] = False
        return data
    if holder > 0 and data.get("pid") != holder:
        # the record is from an earlier launcher (e.g. one that was SIGKILLed while powered):
        # the live one has not written its own yet
        return {"pid": holder, "alive": True, "phase": "starting", "powered": False, "stale_record": True}
    data["alive"] = True
    return data


VENDOR_COMM = "stp_uart_launch"  # /proc/PID/comm of stp_uart_launcher (15 characters)


def vendor_launchers(proc: Path = Path("/proc")) -> list[int]:
    """Pids of running vendor ``stp_uart_launcher`` processes (they serve /dev/stpwmt too).

    One ``comm`` read per process with plain ``os`` calls: the launcher runs this before it opens the
    driver, on the critical path of ``up`` (pathlib per entry cost 0.1 s for 115 processes in the twin)."""
    pids = []
    want = VENDOR_COMM.encode()
    try:
        entries = [e.name for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return []
    for name in entries:
        try:
            fd = os.open(f"{proc}/{name}/comm", os.O_RDONLY)
        except OSError:
            continue
        try:
            comm = os.read(fd, 64).strip()
        except OSError:
            continue
        finally:
            os.close(fd)
        if comm == want:
            pids.append(int(name))
    return sorted(pids)


def chip_ready(base: Path | None = None) -> bool:
    st = read_state(base)
    return bool(st.get("alive") and st.get("powered"))
