"""Device backends: the one seam between r2wifi's chip logic and the driver.

Theory of operation: every piece of chip logic (loader, launcher, WiFi mode, Bluetooth, doctor)
talks to the driver only through a :class:`Backend`. ``RealBackend`` (this module) uses the
board's /dev nodes with ``os.open`` and ``fcntl.ioctl``; the simulator's backend
(:mod:`r2wifi.sim.client`) sends the same calls over the simulator's UNIX socket. Which one is used is
decided above both, in :mod:`r2wifi.backends` (this package never imports the simulator). Both follow
``shared/spec/driver-interface.md``:

* ``ioctl`` returns the kernel's non-negative return value; a negative kernel return is raised as
  ``OSError(errno)`` exactly as libc does (``-1`` from a sum of sub-results -> ``EPERM``,
  ``-EINVAL`` -> ``EINVAL``, ``-EFAULT`` -> ``EFAULT``).
* ``arg`` is an ``int`` for commands that pass a value and ``bytes`` for pointer commands
  (e.g. the 264-byte SET_PATCH_INFO struct); request numbers are computed by
  :mod:`r2wifi.wmt.ioctls` for ``backend.abi``.
* A handle may be used from two threads at once (the launcher's power thread blocks in
  LPBK_POWER_CTRL while its main thread polls, reads and writes the same handle).
* ``write`` on /dev/wmtWifi raises ``OSError(EIO)`` for every failure, like the driver.
* Bluetooth: ``hci_devices()`` lists HCI devices (``hci0`` once ``stp_chrdev_bt`` is loaded) and
  ``bt_address(hci)`` gives the BD address in upper case, or None.
* ``load_module`` asks the kernel's module index first (:func:`module_index`): a module the kernel has
  built in needs nothing, one its ``modules.dep`` does not list fails like modprobe would, without a
  modprobe process (about 0.17 s on the twin, on every ``up``); only a listed module, or a system
  without ``modules.dep`` (OpenWrt), runs modprobe.

Imports: ``subprocess`` and ``socket`` only where used (``up`` imports this module before the chip starts).
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import stat
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal, Protocol

from r2wifi.records import record
from r2wifi.wmt.ioctls import host_abi

HCIGETDEVINFO = 0x800448D3  # _IOR('H', 211, int)

NodeKind = Literal["char", "file", "dir", "other"]


@record(frozen=True)
class NodeInfo:
    path: str
    kind: NodeKind
    major: int | None = None
    minor: int | None = None


class DeviceHandle(Protocol):
    def ioctl(self, request: int, arg: int | bytes = 0) -> int: ...
    def read(self, size: int = 256) -> bytes: ...
    def write(self, data: bytes) -> int: ...
    def poll(self, timeout_ms: int) -> bool: ...
    def close(self) -> None: ...


class Backend(Protocol):
    name: str  # "real" or "sim"
    abi: str  # ABI the ioctl numbers are encoded for

    def stat_node(self, path: str) -> NodeInfo | None: ...
    def open(self, path: str) -> DeviceHandle: ...
    def load_module(self, name: str) -> None: ...
    def module_loaded(self, name: str) -> bool: ...
    def interfaces(self) -> list[str]: ...
    def netns(self) -> str | None: ...
    def kmsg_path(self) -> str: ...
    def follow_kmsg(self, from_start: bool = False) -> Iterator[str]: ...
    def hci_devices(self) -> list[str]: ...
    def bt_address(self, hci: str) -> str | None: ...


class RealHandle:
    """A /dev node of the real driver."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)

    def ioctl(self, request: int, arg: int | bytes = 0) -> int:
        if isinstance(arg, bytes):
            buf = bytearray(arg)
            return int(fcntl.ioctl(self.fd, request, buf, True))
        return int(fcntl.ioctl(self.fd, request, arg))

    def read(self, size: int = 256) -> bytes:
        return os.read(self.fd, size)

    def write(self, data: bytes) -> int:
        return os.write(self.fd, data)

    def poll(self, timeout_ms: int) -> bool:
        p = select.poll()
        p.register(self.fd, select.POLLIN | select.POLLRDNORM)
        return any(ev & (select.POLLIN | select.POLLRDNORM) for _fd, ev in p.poll(timeout_ms))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def modules_dir() -> str:
    """The running kernel's module directory (``/lib/modules/<release>``)."""
    return f"/lib/modules/{os.uname().release}"


def module_index(name: str, sysroot: str = "/") -> Literal["builtin", "module", "absent", "unknown"]:
    """What the running kernel's module index says of module ``name``: ``builtin`` (in
    ``modules.builtin``), ``module`` (a ``.ko`` in ``modules.dep``), ``absent`` (``modules.dep`` exists
    and lists no such module: modprobe would fail) or ``unknown`` (no ``modules.dep``, e.g. OpenWrt).
    File names may spell ``_`` as ``-``; a listed ``.ko`` may be compressed (``.ko.xz``)."""
    base = os.path.join(sysroot, modules_dir().lstrip("/"))
    spellings = {name, name.replace("_", "-")}

    def listed(fname: str) -> bool | None:
        try:
            with open(os.path.join(base, fname), "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        for spelling in spellings:
            key = f"/{spelling}.ko".encode()
            at = data.find(key)
            while at >= 0:
                end = at + len(key)
                if end == len(data) or data[end:end + 1] in b":.\n":
                    return True
                at = data.find(key, end)
        return False

    if listed("modules.builtin"):
        return "builtin"
    dep = listed("modules.dep")
    return "unknown" if dep is None else "module" if dep else "absent"


class RealBackend:
    """The board: /dev nodes, modprobe, /dev/kmsg, interfaces from /sys/class/net."""

    name = "real"

    def __init__(self, abi: str | None = None, sysroot: str = "/") -> None:
        self.abi = abi or host_abi()
        self.sysroot = sysroot

    def _p(self, path: str) -> str:
        return os.path.join(self.sysroot, path.lstrip("/"))

    def stat_node(self, path: str) -> NodeInfo | None:
        try:
            st = os.stat(self._p(path))
        except FileNotFoundError:
            return None
        if stat.S_ISCHR(st.st_mode):
            return NodeInfo(path, "char", os.major(st.st_rdev), os.minor(st.st_rdev))
        if stat.S_ISREG(st.st_mode):
            return NodeInfo(path, "file")
        if stat.S_ISDIR(st.st_mode):
            return NodeInfo(path, "dir")
        return NodeInfo(path, "other")

    def open(self, path: str) -> RealHandle:
        return RealHandle(self._p(path))

    def load_module(self, name: str) -> None:
        if self.module_loaded(name):
            return
        where = module_index(name, self.sysroot)
        if where == "builtin":
            return
        if where == "absent":
            raise OSError(errno.ENOENT, f"modprobe {name}: module {name} not found in {self._p(modules_dir())}")
        import subprocess

        proc = subprocess.run(["modprobe", name], capture_output=True, text=True)
        if proc.returncode != 0:
            raise OSError(errno.ENOENT, f"modprobe {name}: {proc.stderr.strip() or 'failed'}")

    def module_loaded(self, name: str) -> bool:
        return os.path.isdir(self._p(f"/sys/module/{name}"))

    def interfaces(self) -> list[str]:
        try:
            return sorted(os.listdir(self._p("/sys/class/net")))
        except FileNotFoundError:
            return []

    def netns(self) -> str | None:
        return None

    def kmsg_path(self) -> str:
        return "/dev/kmsg"

    def follow_kmsg(self, from_start: bool = False) -> Iterator[str]:
        """Open /dev/kmsg now; the iterator yields its records (``prio,seq,usec,flags;message``) forever.

        The device is opened (and positioned) before this returns, so every record logged after the
        call is seen: a caller that reports "watching" once this returns does not lose a race.
        """
        fd = os.open(self.kmsg_path(), os.O_RDONLY | os.O_NONBLOCK)
        if not from_start:
            os.lseek(fd, 0, os.SEEK_END)
        return self._kmsg_records(fd)

    @staticmethod
    def _kmsg_records(fd: int) -> Iterator[str]:
        try:
            p = select.poll()
            p.register(fd, select.POLLIN)
            while True:
                try:
                    rec = os.read(fd, 8192)
                except BlockingIOError:
                    p.poll(1000)
                    continue
                except OSError as e:
                    if e.errno == errno.EPIPE:  # overwritten records: skip ahead
                        continue
                    raise
                yield rec.decode("utf-8", "replace").rstrip("\n")
        finally:
            os.close(fd)

    def hci_devices(self) -> list[str]:
        """Bluetooth HCI devices (``hci0``...) from /sys/class/bluetooth."""
        try:
            names = os.listdir(self._p("/sys/class/bluetooth"))
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.startswith("hci") and ":" not in n)

    def bt_address(self, hci: str) -> str | None:
        """BD address of ``hci`` (``AA:BB:CC:DD:EE:FF``) via HCIGETDEVINFO, None if unknown."""
        if not (hci.startswith("hci") and hci[3:].isdigit()):
            return None
        import socket

        try:
            sock = socket.socket(socket.AF_BLUETOOTH, socket.SOCK_RAW, 1)  # BTPROTO_HCI
        except (OSError, AttributeError):
            return None
        try:
            buf = bytearray(128)
            struct.pack_into("<H", buf, 0, int(hci[3:]))
            fcntl.ioctl(sock.fileno(), HCIGETDEVINFO, buf, True)
        except OSError:
            return None
        finally:
            sock.close()
        addr = bytes(buf[10:16])  # u16 dev_id, char name[8], bdaddr_t (little endian)
        if addr == b"\0" * 6:
            return None
        return ":".join(f"{b:02X}" for b in reversed(addr))


if TYPE_CHECKING:  # mypy: RealBackend is a Backend, RealHandle a DeviceHandle
    _backend_check: Backend = RealBackend()
    _handle_check: DeviceHandle = RealHandle("/dev/stpwmt")
