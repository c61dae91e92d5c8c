"""Time-stamp a daemon's output and write it to a size-rotated log file.

Used as a tiny separate process (``python -m r2wifi.hostap.logpump --max-bytes N --backups K FILE``)
that reads the daemon's stdout+stderr from a pipe, so the daemon and its log outlive the r2wifi
command that started it. Each line is prefixed with the WALL-CLOCK time as ``<epoch>.<usec>: ``,
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="r2wifi-logpump")
    p.add_argument("--max-bytes", type=int, default=1 << 20)
    p.add_argument("--backups", type=int, default=3)
    p.add_argument("--banner", default="", help="first line to write (marks a new run in the log)")
    p.add_argument("--syslog", metavar="TAG", default="", help="also send each line to syslog with this tag")
    p.add_argument("file")
    a = p.parse_args(argv)
    log: LogSink = RotatingLog(a.file, max_bytes=a.max_bytes, backups=a.backups)
    if a.syslog:
        log = Tee([log, SyslogSink(a.syslog)])
    if a.banner:
        log.write_line(a.banner.encode(), time.time())
    try:
        pump(sys.stdin.buffer, log)
    except KeyboardInterrupt:
        pass
    finally:
        log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
