"""Small in-process fakes for the chip unit tests: a driver backend and a clock.

The fake backend follows driver-interface.md closely enough for the loader, launcher, WiFi and
Bluetooth logic: ioctls are decoded with r2wifi.wmt.ioctls.lookup, LPBK_POWER_CTRL(1) posts
``srh_patch`` to the /dev/stpwmt read queue and blocks until the reply arrives.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from r2wifi.wmt import driver, ioctls
from r2wifi.wmt.backend import NodeInfo
from r2wifi.wmt.protocol import unpack_patch_info

MAJORS = driver.MAJORS


class FakeClock:
    """monotonic()/sleep() pair: sleep advances time instantly and records the calls."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


@dataclass
class FakeDriver:
    nodes: dict[str, str] = field(default_factory=lambda: {"/dev/wmtdetect": "char"})
    chip_id: int = -1
    module_init_calls: int = 0
    module_init_creates_wifi: bool = True
    calls: list[tuple[str, object]] = field(default_factory=list)
    stp_mode: int | None = None
    patch_num: int = 0
    patch_infos: list[tuple[int, bytes, str]] = field(default_factory=list)
    pending: bytes = b""
    replies: list[bytes] = field(default_factory=list)
    powered: bool = False
    power_fail: int = 0  # fail this many LPBK(1) calls
    open_failures: int = 0  # EIO on this many opens of /dev/stpwmt
    interfaces: list[str] = field(default_factory=list)
    wifi_writes: list[bytes] = field(default_factory=list)
    wifi_eio: bool = False
    wifi_eio_log: str = ""  # kernel line logged with each EIO
    modprobe_fails: bool = False
    kmsg: list[str] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)
    hci: list[str] = field(default_factory=list)
    reply_timeout: float = 5.0
    kmsg_file: str = "/nonexistent/kmsg"
    cv: threading.Condition = field(default_factory=threading.Condition)

    def log(self, msg: str) -> None:
        """A kernel log record, kept in memory and (when kmsg_file is set) in /dev/kmsg format."""
        self.kmsg.append(msg)
        if not self.kmsg_file.startswith("/nonexistent"):
            with open(self.kmsg_file, "a") as fh:
                fh.write(f"3,{len(self.kmsg)},{len(self.kmsg) * 1000},-;{msg}\n")


class FakeHandle:
    def __init__(self, drv: FakeDriver, path: str, abi: str) -> None:
        self.drv = drv
        self.path = path
        self.abi = abi
        self.closed = False

    def ioctl(self, request: int, arg: int | bytes = 0) -> int:
        io = ioctls.lookup(request, self.abi)
        assert io is not None, f"unknown request {request:#x}"
        assert io.device == self.path, f"{io.name} sent to {self.path}"
        d = self.drv
        with d.cv:
            d.calls.append((io.name, arg))
        name = io.name
        if name == "COMBO_IOCTL_GET_SOC_CHIP_ID":
            return 0x7623
        if name == "COMBO_IOCTL_SET_CHIP_ID":
            assert isinstance(arg, int)
            d.chip_id = arg
            return 0
        if name == "COMBO_IOCTL_DO_MODULE_INIT":
            d.module_init_calls += 1
            d.nodes["/dev/stpwmt"] = "char"
            if d.module_init_creates_wifi:
                d.nodes["/dev/wmtWifi"] = "char"
            raise OSError(errno.EPERM, "Operation not permitted")
        if name == "WMT_IOCTL_WMT_QUERY_CHIPID":
            if d.chip_id == -1:
                raise OSError(errno.EPERM, "Operation not permitted")
            return d.chip_id
        if name == "WMT_IOCTL_SET_STP_MODE":
            assert isinstance(arg, int)
            d.stp_mode = arg
            return 0
        if name == "WMT_IOCTL_GET_APO_FLAG":
            raise OSError(errno.EINVAL, "Invalid argument")
        if name == "WMT_IOCTL_GET_CHIP_INFO":
            return {0: 0x7623, 1: 0x8A01, 2: 0x8A00}[int(arg)]
        if name == "WMT_IOCTL_SET_PATCH_NUM":
            assert isinstance(arg, int)
            d.patch_num = arg
            return 0
        if name == "WMT_IOCTL_SET_PATCH_INFO":
            assert isinstance(arg, bytes) and len(arg) == 264
            d.patch_infos.append(unpack_patch_info(arg))
            return 0
        if name == "WMT_IOCTL_LPBK_POWER_CTRL":
            if arg == 0:
                d.powered = False
                return 0
            return self._power_on()
        return 0

    def _power_on(self) -> int:
        d = self.drv
        with d.cv:
            if d.stp_mode is None:
                d.log("[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!")
                raise OSError(errno.EFAULT, "Bad address")
            n = len(d.replies)
            d.pending = b"srh_patch"
            d.cv.notify_all()
            if not d.cv.wait_for(lambda: len(d.replies) > n, d.reply_timeout):
                raise OSError(errno.EFAULT, "Bad address")
            ok = d.replies[-1].lower() == b"ok"
            if d.power_fail > 0:
                d.power_fail -= 1
                raise OSError(errno.EFAULT, "Bad address")
            if not ok or not d.patch_infos:
                raise OSError(errno.EFAULT, "Bad address")
            d.powered = True
            return 0

    def read(self, size: int = 256) -> bytes:
        with self.drv.cv:
            data, self.drv.pending = self.drv.pending, b""
            return data[:size]

    def write(self, data: bytes) -> int:
        d = self.drv
        if self.path == "/dev/wmtWifi":
            d.wifi_writes.append(data)
            if d.wifi_eio or not d.powered:
                if d.wifi_eio_log:
                    d.log(d.wifi_eio_log)
                if d.stp_mode is None:
                    d.log("[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!")
                raise OSError(errno.EIO, "Input/output error")
            c = data[:1]
            d.interfaces = {b"0": [], b"1": ["wlan0"], b"A": ["ap0", "wlan0"], b"S": ["p2p0", "wlan0"]}[c]
            return len(data)
        with d.cv:
            d.replies.append(data)
            d.cv.notify_all()
        return len(data)

    def poll(self, timeout_ms: int) -> bool:
        with self.drv.cv:
            return self.drv.cv.wait_for(lambda: bool(self.drv.pending), timeout_ms / 1000)

    def close(self) -> None:
        self.closed = True


class FakeBackend:
    name = "fake"

    def __init__(self, drv: FakeDriver | None = None, abi: str = "armhf") -> None:
        self.drv = drv or FakeDriver()
        self.abi = abi
        self.opened: list[FakeHandle] = []

    def stat_node(self, path: str) -> NodeInfo | None:
        kind = self.drv.nodes.get(path)
        if kind is None:
            return None
        return NodeInfo(path, kind, MAJORS.get(path) if kind == "char" else None, 0 if kind == "char" else None)  # type: ignore[arg-type]

    def open(self, path: str) -> FakeHandle:
        kind = self.drv.nodes.get(path)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        if path == "/dev/stpwmt" and self.drv.open_failures > 0:
            self.drv.open_failures -= 1
            raise OSError(errno.EIO, "Input/output error")
        h = FakeHandle(self.drv, path, self.abi)
        self.opened.append(h)
        return h

    def load_module(self, name: str) -> None:
        if self.drv.modprobe_fails:
            raise OSError(errno.ENOENT, f"modprobe {name}: Module {name} not found")
        if name == "stp_chrdev_bt":
            if not self.drv.powered:
                raise OSError(errno.ENODEV, "No such device")
            self.drv.nodes["/dev/stpbt"] = "char"
            self.drv.hci = ["hci0"]
        self.drv.modules.add(name)

    def module_loaded(self, name: str) -> bool:
        return name in self.drv.modules

    def interfaces(self) -> list[str]:
        return ["lo", *self.drv.interfaces]

    def netns(self) -> str | None:
        return None

    def kmsg_path(self) -> str:
        return self.drv.kmsg_file

    def follow_kmsg(self, from_start: bool = False) -> Iterator[str]:
        yield from self.drv.kmsg

    def hci_devices(self) -> list[str]:
        return list(self.drv.hci)

    def bt_address(self, hci: str) -> str | None:
        return "00:0C:E7:12:34:56" if hci in self.drv.hci else None
