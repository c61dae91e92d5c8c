"""Time-stamp a daemon's output and write it to a size-rotated log file.

A tiny separate process that reads the daemon's stdout+stderr from a pipe, so the daemon and its log
outlive the r2wifi command that started it: :func:`fork_pump` forks it from the calling interpreter
(no new interpreter to start: on the board that is 0.3-0.5 s of CPU per daemon, taken from the
daemon starting beside it) when the caller has a single thread; otherwise (the supervisor's threads: a
fork could inherit a held lock) ``python -m r2wifi.hostap.logpump --max-bytes N --backups K FILE``. Each line is prefixed with the WALL-CLOCK time as ``<epoch>.<usec>: ``,
exactly like ``hostapd -t``, which ``r2wifi diagnose`` reads. Rotation: when the file would exceed
``max_bytes`` it becomes ``FILE.1`` (``FILE.1`` -> ``FILE.2`` ... up to ``backups``; the oldest is
dropped). ``--banner TEXT`` writes one first line (the runner uses ``r2wifi: started <argv>``
so that each run of a daemon is marked in its log). ``--syslog TAG`` also sends each line (unstamped) to
the syslog socket with that tag (:class:`r2wifi.logdir.SyslogSink`). Exits at end of input (the daemon exited).

The writer itself is :class:`r2wifi.logdir.RotatingLog` (re-exported here with :func:`stamp`).
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import BinaryIO

from r2wifi.logdir import LogSink, RotatingLog, SyslogSink, Tee, epoch_stamp

stamp = epoch_stamp  # the old names: the one writer lives in r2wifi.logdir
__all__ = ["RotatingLog", "main", "pump", "stamp"]


def pump(src: BinaryIO, log: LogSink, now: Callable[[], float] = time.time) -> None:
    """Copy lines until end of input (a pty master reports the end as EIO)."""
    try:
        for line in iter(src.readline, b""):
            log.write_line(line.replace(b"\r\n", b"\n"), now())
    except OSError as err:
        if err.errno != errno.EIO:
            raise


def _open(file: str, max_bytes: int, backups: int, banner: str, syslog: str) -> LogSink:
    log: LogSink = RotatingLog(file, max_bytes=max_bytes, backups=backups)
    if syslog:
        log = Tee([log, SyslogSink(syslog)])
    if banner:
        log.write_line(banner.encode(), time.time())
    return log


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="r2wifi-logpump")
    p.add_argument("--max-bytes", type=int, default=1 << 20)
    p.add_argument("--backups", type=int, default=3)
    p.add_argument("--banner", default="", help="first line to write (marks a new run in the log)")
    p.add_argument("--syslog", metavar="TAG", default="", help="also send each line to syslog with this tag")
    p.add_argument("file")
    a = p.parse_args(argv)
    log = _open(a.file, a.max_bytes, a.backups, a.banner, a.syslog)
    try:
        pump(sys.stdin.buffer, log)
    except KeyboardInterrupt:
        pass
    finally:
        log.close()
    return 0


class ForkedPump:
    """A pump forked by :func:`fork_pump`, with the part of ``subprocess.Popen`` the runner uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = 0
                return 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.001
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"logpump {self.pid}", timeout or 0.0)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return self.returncode or 0

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def fork_pump(src_fd: int, file: str, *, max_bytes: int, backups: int, banner: str = "",
              syslog: str = "") -> ForkedPump:
    """Fork a pump reading ``src_fd`` (the caller still closes its copy). Only call with one thread.

    The child starts a session of its own, keeps only ``src_fd`` (every other descriptor, and with it
    any lock the caller holds through one, is pointed at /dev/null), restores default signal handling,
    pumps until end of input and leaves with ``os._exit``: nothing of the caller's runs in it.
    """
    pid = os.fork()
    if pid:
        return ForkedPump(pid)
    rc = 1
    try:
        os.setsid()
        from r2wifi.procutil import detach_descriptors

        detach_descriptors(keep={src_fd}, reset=(signal.SIGTERM, signal.SIGINT, signal.SIGPIPE, signal.SIGHUP))
        log = _open(file, max_bytes, backups, banner, syslog)
        try:
            with os.fdopen(src_fd, "rb", buffering=0) as raw, io.BufferedReader(raw) as src:
                pump(src, log)
        finally:
            log.close()
        rc = 0
    finally:
        os._exit(rc)


if __name__ == "__main__":
    raise SystemExit(main())
