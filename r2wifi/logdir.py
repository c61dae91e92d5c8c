"""Where r2wifi's logs go, and the one rotating writer every log of r2wifi uses.

Every log r2wifi writes (the launcher's, the supervisor's, and the captured output of hostapd, dnsmasq,
wpa_supplicant and udhcpc through :mod:`r2wifi.hostap.logpump`) asks :func:`target` where to go and
writes through :func:`open_log`:

* ``[log] dir`` (:class:`r2wifi.config.LogConfig`): ``"auto"`` (default), ``"syslog"``, ``"state"`` or an
  absolute directory. ``R2WIFI_LOG_DIR`` overrides the key (the test suite sets ``state``).
* ``"auto"``: the system logger on OpenWrt (``/etc/openwrt_release`` exists); ``/var/log/r2wifi`` as root
  elsewhere when it can be written; otherwise (not root, ``R2WIFI_STATE_DIR`` set, or a read-only
  ``/var/log``) ``"state"``.
* ``"state"``: the state dir (``/run``: lost at reboot), where each log keeps its historic place (the
  ``fallback`` its writer passes: ``<state>/launcher.log``, ``<state>/ap/supervisor.log``,
  ``<state>/logs/<daemon>.log``).
* A directory: ``DIR/<name>.log`` for every log (``launcher``, ``supervisor``, ``hostapd-ap0`` ...).
* ``"syslog"``: each line goes to the syslog socket (``/dev/log``; ``R2WIFI_LOG_SOCKET`` overrides) as
  a datagram ``<30>Mmm dd HH:MM:SS TAG[pid]: text`` (daemon.info) tagged with the program's name; a
  runtime copy stays in the state dir (tmpfs) for the supervisor to follow and ``status`` to show.
  Sending never blocks: a full or absent socket drops the line.
* Rotation (files): at ``max_bytes`` (4096 .. 1 GiB) ``NAME.log`` becomes ``NAME.log.1``, ``.1`` -> ``.2``
  ... up to ``backups`` (0 .. 100); the oldest is dropped. Limits come from ``[log] max_bytes/backups``.

The configuration reaches child processes (the resident launcher, each log pump) through the
environment: :func:`adopt` (called by :func:`r2wifi.config.load_config`) exports it as ``R2WIFI_LOG_CONF``.

Time stamps: :func:`iso_stamp` is the one shape of r2wifi's own logs (UTC, milliseconds, ``Z``), which
:mod:`r2wifi.logs.wrappers` reads back; :func:`epoch_stamp` is ``hostapd -t``'s (daemon logs).

API: :func:`target` -> :class:`LogTarget`, :func:`open_log`, :func:`open_file`, :func:`supervisor_log`, :class:`RotatingLog`, :class:`SyslogSink`,
:func:`adopt`, :func:`log_files` (a log with its rotated backups), :func:`search_dirs`.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from r2wifi.records import record

if TYPE_CHECKING:
    import socket

DEFAULT_DIR = Path("/var/log/r2wifi")
OPENWRT_RELEASE = Path("/etc/openwrt_release")
DEV_LOG = "/dev/log"
SYSLOG = "syslog"
STATE = "state"
CHOICES = ("auto", SYSLOG, STATE)  # or an absolute directory
DEFAULT_MAX_BYTES = 1 << 20
DEFAULT_BACKUPS = 3
MAX_BYTES_RANGE = (4096, 1 << 30)
BACKUPS_RANGE = (0, 100)
ENV_DIR = "R2WIFI_LOG_DIR"
ENV_SOCKET = "R2WIFI_LOG_SOCKET"
ENV_CONF = "R2WIFI_LOG_CONF"  # "<dir>\t<max_bytes>\t<backups>", set by adopt() for child processes
FACILITY_DAEMON, SEVERITY_INFO = 3, 6


# -- time stamps ---------------------------------------------------------------------------------
def iso_stamp(now: float) -> str:
    """``2026-12-05T22:26:24.123Z``: UTC to the millisecond (r2wifi's own logs)."""
    return datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch_stamp(now: float) -> bytes:
    """``1700000000.123456: `` for wall-clock time ``now`` (the shape of ``hostapd -t``)."""
    sec = int(now)
    usec = int(round((now - sec) * 1_000_000))
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return f"{sec}.{usec:06d}: ".encode()


def iso_prefix(now: float) -> bytes:
    return (iso_stamp(now) + " ").encode()


# -- writers -------------------------------------------------------------------------------------
class LogSink(Protocol):
    def write_line(self, line: bytes, now: float) -> None: ...

    def close(self) -> None: ...


class RotatingLog:
    """Append-only log file with size-based rotation; each line is prefixed by ``stamp(now)``."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 backups: int = DEFAULT_BACKUPS, stamp: Callable[[float], bytes] = epoch_stamp) -> None:
        self.path = Path(path)
        self.max_bytes = max(1024, max_bytes)
        self.backups = max(0, backups)
        self.stamp = stamp
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
        data = self.stamp(now) + line
        try:  # another writer (an earlier run, a second process) may have rotated the file away
            size = os.fstat(self._fh.fileno()).st_size
            if os.stat(self.path).st_ino != os.fstat(self._fh.fileno()).st_ino:
                self._fh.close()
                self._fh = self._open()
                size = os.fstat(self._fh.fileno()).st_size
        except FileNotFoundError:
            self._fh.close()
            self._fh = self._open()
            size = 0
        if size and size + len(data) > self.max_bytes:
            self._rotate()
        self._fh.write(data)

    def close(self) -> None:
        self._fh.close()


class SyslogSink:
    """Lines as syslog datagrams (``<PRI>Mmm dd HH:MM:SS TAG[pid]: text``) to a unix socket; never blocks."""

    def __init__(self, tag: str, address: str | None = None, *, pid: int | None = None) -> None:
        self.tag = tag
        self.address = address or os.environ.get(ENV_SOCKET) or DEV_LOG
        self.pid = pid if pid is not None else os.getpid()
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket | None:
        import socket

        if self._sock is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                s.connect(self.address)
            except OSError:
                s.close()
                return None
            self._sock = s
        return self._sock

    def write_line(self, line: bytes, now: float) -> None:
        text = line.rstrip(b"\r\n")
        head = time.strftime("%b %d %H:%M:%S", time.localtime(now))
        pri = FACILITY_DAEMON * 8 + SEVERITY_INFO
        msg = f"<{pri}>{head[:4]}{int(head[4:6]):2d}{head[6:]} {self.tag}[{self.pid}]: ".encode() + text
        import socket

        for _ in range(2):  # a restarted syslogd: reconnect once
            s = self._connect()
            if s is None:
                return
            try:
                s.send(msg, socket.MSG_DONTWAIT)
                return
            except OSError as err:
                self.close()
                if err.errno in (errno.EAGAIN, errno.ENOBUFS):
                    return  # the logger is behind: drop the line rather than stall the writer

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Tee:
    """Several sinks as one (the syslog mode's runtime copy)."""

    def __init__(self, sinks: Iterable[LogSink]) -> None:
        self.sinks = list(sinks)

    def write_line(self, line: bytes, now: float) -> None:
        for s in self.sinks:
            try:
                s.write_line(line, now)
            except OSError:
                pass

    def close(self) -> None:
        for s in self.sinks:
            s.close()


# -- where ---------------------------------------------------------------------------------------
@record(frozen=True)
class LogTarget:
    """``mode``: ``"dir"`` (all logs in ``dir``), ``"state"`` (each at its fallback) or ``"syslog"``."""

    mode: str
    dir: Path | None
    max_bytes: int = DEFAULT_MAX_BYTES
    backups: int = DEFAULT_BACKUPS

    def path(self, name: str, fallback: Path) -> Path:
        """The file of log ``name`` (the runtime copy in syslog mode)."""
        if self.mode == "dir" and self.dir is not None:
            return self.dir / f"{name}.log"
        return fallback

    @property
    def syslog(self) -> bool:
        return self.mode == SYSLOG


def is_openwrt(release: Path = OPENWRT_RELEASE) -> bool:
    return release.exists()


def _writable_dir(path: Path) -> bool:
    """``path`` exists or can be made, and this process can write in it."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _clamp(value: int, rng: tuple[int, int]) -> int:
    return min(max(value, rng[0]), rng[1])


def target(setting: str | None = None, max_bytes: int | None = None, backups: int | None = None, *,
           openwrt: bool | None = None) -> LogTarget:
    """Resolve where logs go (see the module docstring); arguments default to the adopted config."""
    conf = os.environ.get(ENV_CONF, "").split("\t")
    if len(conf) == 3:
        setting = setting if setting is not None else conf[0]
        try:
            max_bytes = max_bytes if max_bytes is not None else int(conf[1])
            backups = backups if backups is not None else int(conf[2])
        except ValueError:
            pass
    mb = _clamp(max_bytes if max_bytes is not None else DEFAULT_MAX_BYTES, MAX_BYTES_RANGE)
    bk = _clamp(backups if backups is not None else DEFAULT_BACKUPS, BACKUPS_RANGE)
    choice = os.environ.get(ENV_DIR) or setting or "auto"
    if choice == "auto":
        if openwrt if openwrt is not None else is_openwrt():
            choice = SYSLOG
        elif os.geteuid() == 0 and not os.environ.get("R2WIFI_STATE_DIR") and _writable_dir(DEFAULT_DIR):
            choice = str(DEFAULT_DIR)
        else:  # not root, a test's state dir, or a read-only /var/log (a read-only root file system)
            choice = STATE
    if choice == STATE:
        return LogTarget(STATE, None, mb, bk)
    if choice == SYSLOG:
        return LogTarget(SYSLOG, None, mb, bk)
    return LogTarget("dir", Path(choice), mb, bk)


def adopt(setting: str, max_bytes: int, backups: int) -> None:
    """Make the configuration's ``[log]`` the one this process and its children use."""
    os.environ[ENV_CONF] = f"{setting}\t{max_bytes}\t{backups}"


def open_log(name: str, fallback: Path, *, tag: str, stamp: Callable[[float], bytes] = epoch_stamp,
             where: LogTarget | None = None) -> LogSink:
    """The writer of log ``name``: a rotating file, plus syslog in syslog mode."""
    t = where or target()
    return open_file(t.path(name, fallback), tag=tag, stamp=stamp, where=t)


def open_file(path: Path, *, tag: str, stamp: Callable[[float], bytes] = epoch_stamp,
              where: LogTarget | None = None) -> LogSink:
    """The writer of the log file ``path`` (already resolved) with ``[log]``'s limits and syslog mode."""
    t = where or target()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    f = RotatingLog(path, max_bytes=t.max_bytes, backups=t.backups, stamp=stamp)
    return Tee([f, SyslogSink(tag)]) if t.syslog else f


def supervisor_log(ap_dir: Path, where: LogTarget | None = None) -> Path:
    """The supervisor's log file (``ap_dir``: the AP's state dir, its place without a log dir)."""
    return (where or target()).path("supervisor", ap_dir / "supervisor.log")


def log_files(path: Path) -> list[Path]:
    """``path`` and its rotated backups (``.1``, ``.2`` ...) that exist, newest first."""
    out = [path] if path.is_file() else []
    n = 1
    while (p := path.with_name(f"{path.name}.{n}")).is_file():
        out.append(p)
        n += 1
    return out


def search_dirs(where: LogTarget | None = None) -> list[Path]:
    """Directories that hold r2wifi's logs (the configured one first, then the state dir's)."""
    from r2wifi.paths import state_dir

    t = where or target()
    dirs = [t.dir] if t.dir is not None else []
    st = state_dir()
    for d in (st / "logs", st / "ap", st):
        if d not in dirs:
            dirs.append(d)
    return dirs
