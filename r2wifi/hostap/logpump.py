"""Time-stamp a daemon's output and write it to a size-rotated log file.

Used as a tiny separate process (``python -m r2wifi.hostap.logpump --max-bytes N --backups K FILE``)
that reads the daemon's stdout+stderr from a pipe, so the daemon and its log outlive the r2wifi
command that started it. Each line is prefixed with the WALL-CLOCK time as ``<epoch>.<usec>: ``,
exactly like ``hostapd -t``, which ``r2wifi diagnose`` reads. Rotation: when the file would exceed
``max_bytes`` it becomes ``FILE.1`` (``FILE.1`` -> ``FILE.2`` ... up to ``backups``; the oldest is
dropped). ``--banner TEXT`` writes one first line (the runner uses ``r2wifi: started <argv>``
so that each run of a daemon is marked in its log). Exits at end of input (the daemon exited).

API: :class:`RotatingLog` (``write_line(bytes, now)``, ``close()``), :func:`stamp`.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def stamp(now: float) -> bytes:
    """``1700000000.123456: `` for wall-clock time ``now``."""
    sec = int(now)
    usec = int(round((now - sec) * 1_000_000))
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return f"{sec}.{usec:06d}: ".encode()


class RotatingLog:
    """Append-only log file with size-based rotation (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = 1 << 20, backups: int = 3) -> None:
        self.path = Path(path)
        self.max_bytes = max(1024, max_bytes)
        self.backups = max(0, backups)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO = self._open()

    def _open(self) -> BinaryIO:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        return os.fdopen(fd, "ab", buffering=0)

    def _rotate(self) -> None:
        self._fh.close()
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            for n in range(self.backups - 1, 0, -1):
                src = self.path.with_name(f"{self.path.name}.{n}")
                if src.exists():
                    os.replace(src, self.path.with_name(f"{self.path.name}.{n + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._fh = self._open()

    def write_line(self, line: bytes, now: float) -> None:
        if not line.endswith(b"\n"):
            line += b"\n"
        data = stamp(now) + line
        size = self._fh.tell() if self._fh.seekable() else self.path.stat().st_size
        if size and size + len(data) > self.max_bytes:
            self._rotate()
        self._fh.write(data)

    def close(self) -> None:
        self._fh.close()


def pump(src: BinaryIO, log: RotatingLog, now: Callable[[], float] = time.time) -> None:
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
    p.add_argument("file")
    a = p.parse_args(argv)
    log = RotatingLog(a.file, max_bytes=a.max_bytes, backups=a.backups)
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
