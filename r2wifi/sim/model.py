"""The MediaTek connectivity driver (WMT/STP over BTIF, wlan_gen2, stp_chrdev_bt) as a state machine.

Theory of operation: :class:`DriverModel` is the kernel side of ``shared/spec/driver-interface.md``
and nothing else: no sockets, no files except the patch files the launcher names (the real kernel
opens them too) and ``WIFI_RAM_CODE_7623`` of ``--firmware-dir``. Userspace reaches it through
``open`` / ``ioctl`` / ``read`` / ``write`` / ``poll`` / ``close`` on handle ids and through
``load_module``; the daemon (:mod:`r2wifi.sim.daemon`) maps its socket protocol onto these calls.

* Every ioctl is one row of a table per device (``_DETECT_OPS``, ``_STPWMT_OPS``, ``_STPBT_OPS``,
  keyed by the names of :mod:`r2wifi.wmt.ioctls`); request numbers are decoded with
  ``ioctls.lookup(request, abi)``. Every /dev/wmtWifi command character is one row of
  ``_WIFI_CMDS``. Unknown commands follow the device: /dev/wmtdetect logs "unknown cmd" and returns
  0, /dev/stpwmt returns -EINVAL, /dev/wmtWifi returns -EIO.
* Returns are kernel returns: ``>= 0`` success, ``-errno`` failure. A kernel ``-1`` (a sum of
  sub-results) is ``-EPERM`` by construction, exactly what libc shows.
* Blocking: the model holds one re-entrant lock; delays and waits go through the injected
  :class:`~r2wifi.sim.timing.Clock`, which releases the lock while time passes, so the launcher's
  main thread can poll/read/write while its power thread is blocked in LPBK_POWER_CTRL.
  Driver operations (power, WiFi writes, module loads, chip reset) are serialised like the
  driver's semaphore; the user-command channel (read/write/poll, patch ioctls) is not.
* Kernel log lines go to ``sink(prio, usec, message)`` in the formats of spec section 7;
  ``usec`` is the simulated uptime.
* Network side effects (the interfaces of each WiFi mode, the TX stall) are reported to an
  optional :class:`NetHook`; without one, interfaces exist only in the model.
"""

from __future__ import annotations

import errno
import hashlib
import os
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from r2wifi.sim.timing import Clock, RealClock, Timing
from r2wifi.wmt import ioctls

SOC_CHIP_ID = 0x7623
HW_VERSION = 0x8A00
FW_VERSION = 0x8A00
STP_MODE_BTIF_FULL = 3
PATCH_HEADER_LEN = 28
PATCH_FRAGMENT = 1000
PATCH_INFO_LEN = 264
PATCH_PREFIX = "ROMv2_lm_patch"
WIFI_RAM_CODE = "WIFI_RAM_CODE_7623"
BOOT_UPTIME_S = 7.5  # uptime when the simulated kernel "boots" the driver

MAJORS = {"/dev/wmtdetect": 154, "/dev/stpwmt": 190, "/dev/wmtWifi": 155, "/dev/stpbt": 192}

START_FAULTS = (
    "no-detect",
    "detect-regular-file",
    "combo-wifi-not-built",
    "wlan-gen2-module",
    "btif-dead",
    "wlan0-renamed",
    "wifi-ram-code-missing",
)
RUNTIME_FAULTS = ("chip-reset", "txq-stall", "clear-stall")
FAULTS = START_FAULTS + RUNTIME_FAULTS

NAME_SETS: dict[str, dict[str, str]] = {
    "default": {"sta": "wlan0", "ap": "ap0", "p2p": "p2p0"},
    "mtk": {"sta": "mtkwlan0", "ap": "mtkap0", "p2p": "mtkp2p0"},
}
# wlan_gen2 internal modes for "Set wlan mode %d --> %d"
_MODE_NUM = {"sta": 0, "ap": 1, "p2p": 2}

KERN_ERR, KERN_WARNING, KERN_INFO = 3, 4, 6

Sink = Callable[[int, int, str], None]


class NetHook(Protocol):
    def sync(self, interfaces: dict[str, str], macs: dict[str, str]) -> None:
        """Make the real interfaces match ``interfaces`` (name -> role sta|ap|p2p)."""
        ...

    def set_stall(self, ifname: str, stalled: bool) -> None: ...


@dataclass
class Handle:
    hid: int
    path: str
    pid: int
    bt_rx: list[bytes] = field(default_factory=list)


class _SimFailure(Exception):
    """Internal: an operation failed with kernel return ``ret``."""

    def __init__(self, ret: int) -> None:
        super().__init__(ret)
        self.ret = ret


def mac_for(seed: str, nvram_mac: str | None = None) -> str:
    """The chip MAC: the NVRAM MAC if given, else 00:08:22:xx:xx:xx stable per ``seed``."""
    if nvram_mac:
        return nvram_mac.lower()
    h = hashlib.sha256(seed.encode()).digest()
    return "00:08:22:" + ":".join(f"{b:02x}" for b in h[:3])


def ap_mac(mac: str) -> str:
    """The AP/P2P address: the chip MAC with the locally-administered bit (02:08:22:...)."""
    first = int(mac[:2], 16) | 0x02
    return f"{first:02x}{mac[2:]}"


def read_nvram_mac(firmware_dir: str | None) -> str | None:
    """MAC stored at offset 4 of ``nvram/WIFI`` (None when absent or blank)."""
    if not firmware_dir:
        return None
    try:
        with open(os.path.join(firmware_dir, "nvram", "WIFI"), "rb") as fh:
            data = fh.read(10)
    except OSError:
        return None
    if len(data) < 10:
        return None
    mac = data[4:10]
    if mac in (b"\0" * 6, b"\xff" * 6):
        return None
    return ":".join(f"{b:02x}" for b in mac)


class DriverModel:
    """The simulated vendor driver. See the module docstring for the rules."""

    def __init__(
        self,
        *,
        timing: Timing | None = None,
        clock: Clock | None = None,
        faults: tuple[str, ...] | list[str] = (),
        names: str = "default",
        firmware_dir: str | None = None,
        abi: str | None = None,
        seed: str = "r2wifi-sim",
        sink: Sink | None = None,
        net: NetHook | None = None,
    ) -> None:
        self.timing = timing or Timing()
        self.clock: Clock = clock or RealClock()
        self.abi = abi or ioctls.host_abi()
        self.names = dict(NAME_SETS[names])
        self.names_set = names
        self.firmware_dir = firmware_dir
        self.sink = sink
        self.net = net
        self.cv = threading.Condition(threading.RLock())
        self.faults: set[str] = set()
        for f in faults:
            self._check_fault(f)
            if f in RUNTIME_FAULTS:
                raise ValueError(f"fault {f!r} can only be injected at run time")
            self.faults.add(f)
        self.mac = mac_for(seed, read_nvram_mac(firmware_dir))
        self.bd_addr = "00:0c:e7:" + ":".join(f"{b:02x}" for b in hashlib.sha256(seed.encode()).digest()[3:6])
        self.kmsg_seq = 0
        self.inherent_delay_s = 0.0
        # driver state
        self.nodes: dict[str, str] = {}  # path -> "char" | "file"
        self.chip_id = -1
        self.do_module_init_count = 0
        self.core_ready_at: float | None = None
        self.hif_mode: int | None = None
        self.launcher_kill = False
        self.chip_powered = False
        self.ever_powered = False
        self.pending_cmd: str | None = None
        self.cmd_reply: bytes | None = None
        self.patch_num = 0
        self.patch_infos: dict[int, tuple[bytes, str]] = {}
        self.patch_committed: dict[int, tuple[bytes, str]] = {}
        self.wifi_on = False
        self.wifi_mode = "off"  # off | sta | ap | p2p
        self.ifaces: dict[str, str] = {}  # name -> role
        self.modules: set[str] = set()
        self.hci: list[str] = []
        self.bt_on = False
        self.stalled = False
        self.wlan_dbg_level = 0
        self.lpbk_power_on_count = 0
        self.srh_patch_count = 0
        self.chip_reset_count = 0
        self.opid = 0
        self.handles: dict[int, Handle] = {}
        self._next_hid = 1
        self._busy = False
        self._cmd_read = False
        self._boot()

    # ------------------------------------------------------------------ infrastructure

    @staticmethod
    def _check_fault(name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}: choose one of {', '.join(FAULTS)}")

    def log(self, msg: str, prio: int = KERN_INFO) -> None:
        self.kmsg_seq += 1
        usec = int((BOOT_UPTIME_S + self.clock.now()) * 1_000_000)
        if self.sink:
            self.sink(prio, usec, msg)

    def _sleep(self, name: str, times: int = 1) -> None:
        d = self.timing.delay(name) * times
        self.inherent_delay_s += d
        if d > 0:
            self.clock.wait(self.cv, lambda: False, d)

    def _wait(self, predicate: Callable[[], bool], timeout_name: str) -> bool:
        t = self.timing.timeout(timeout_name)
        ok = self.clock.wait(self.cv, predicate, t)
        if not ok:
            self.inherent_delay_s += t
        return ok

    @contextmanager
    def _op(self) -> Iterator[None]:
        """Serialise driver operations (the driver's semaphore / wmtd op queue)."""
        with self.cv:
            self.cv.wait_for(lambda: not self._busy)
            self._busy = True
            try:
                yield
            finally:
                self._busy = False
                self.cv.notify_all()

    def _boot(self) -> None:
        if "no-detect" not in self.faults:
            self.nodes["/dev/wmtdetect"] = "file" if "detect-regular-file" in self.faults else "char"
            self.log("[WMT-DETECT][I]wmt_detect_driver_init:driver(major 154) installed success")
        else:
            self.log("[WMT-DETECT][E]wmt_detect_driver_init(311):Unable to find node: mediatek,mtk_wcn_detect",
                     KERN_ERR)
        if "wlan-gen2-module" not in self.faults and "combo-wifi-not-built" not in self.faults:
            self.modules.add("wlan_gen2")  # built in: /sys/module/wlan_gen2 exists

    def _wlan_gen2_builtin(self) -> bool:
        return "wlan-gen2-module" not in self.faults and "combo-wifi-not-built" not in self.faults

    # ------------------------------------------------------------------ nodes and handles

    def stat_node(self, path: str) -> tuple[str, int | None, int | None] | None:
        with self.cv:
            kind = self.nodes.get(path)
            if kind is None:
                return None
            if kind == "char":
                return ("char", MAJORS.get(path), 0)
            return (kind, None, None)

    def open(self, path: str, pid: int = 0) -> int:
        """Open a node; returns a handle id or -errno."""
        with self.cv:
            if path not in self.nodes:
                return -errno.ENOENT
            if path == "/dev/stpwmt":
                # WMT_open waits (up to 2000 ms) for the core init that DO_MODULE_INIT started
                limit = self.timing.timeout("stpwmt_open")
                ready = self.core_ready_at
                left = None if ready is None else ready - self.clock.now()
                if left is None or left > limit:
                    self._wait(lambda: False, "stpwmt_open")
                    t = int(limit * 1000)
                    self.log(f"[WMT-DEV][E]WMT_open(1171):wait_event_timeout ({t})ms,({t // 10})jiffies,"
                             "return -EIO", KERN_ERR)
                    return -errno.EIO
                if left > 0:
                    self.inherent_delay_s += left
                    self.clock.wait(self.cv, lambda: False, left)
                if not any(h.path == path for h in self.handles.values()):
                    self.log(f"[WMT-DEV][I]WMT_open:major 190 minor 0 (pid {pid}), 1st call")
            elif path == "/dev/wmtdetect" and self.nodes[path] == "char":
                self.log(f"[WMT-DETECT][I]wmt_detect_open:open major 154 minor 0 (pid {pid})")
            elif path == "/dev/stpbt":
                if not self.chip_powered:
                    self.log("[MTK-BT] BT_open: STP is not ready", KERN_ERR)
                    return -errno.ENODEV
                self._sleep("bt_on")
                if "btif-dead" in self.faults:
                    self.log("[MTK-BT] BT_open: WMT turn on BT fail!", KERN_ERR)
                    return -errno.EIO
                self.bt_on = True
                self.log("[MTK-BT] BT_open: WMT turn on BT OK!")
            hid = self._next_hid
            self._next_hid += 1
            self.handles[hid] = Handle(hid, path, pid)
            return hid

    def close(self, hid: int) -> None:
        with self.cv:
            h = self.handles.pop(hid, None)
            if h is None:
                return
            if h.path == "/dev/stpwmt" and not any(x.path == h.path for x in self.handles.values()):
                self.log(f"[WMT-DEV][I]WMT_close:major 190 minor 0 (pid {h.pid}), last call")
            elif h.path == "/dev/wmtdetect" and self.nodes.get(h.path) == "char":
                self.log(f"[WMT-DETECT][I]wmt_detect_close:close major 154 minor 0 (pid {h.pid})")
            elif h.path == "/dev/stpbt" and self.bt_on:
                self.bt_on = False
                self.log("[MTK-BT] BT_close: WMT turn off BT OK!")
            self.cv.notify_all()

    def close_pid_handles(self, hids: list[int]) -> None:
        for hid in hids:
            self.close(hid)

    def launcher_connected(self) -> bool:
        with self.cv:
            return not self.launcher_kill and any(h.path == "/dev/stpwmt" for h in self.handles.values())

    def _handle(self, hid: int) -> Handle | None:
        return self.handles.get(hid)

    # ------------------------------------------------------------------ ioctl

    def ioctl(self, hid: int, request: int, arg: int | bytes = 0, abi: str | None = None) -> int:
        """``request`` is decoded for ``abi`` (the caller's; default the model's)."""
        with self.cv:
            h = self._handle(hid)
            if h is None:
                return -errno.EBADF
            if self.nodes.get(h.path) == "file":
                return -errno.ENOTTY
            io = ioctls.lookup(request, abi or self.abi)
            signed = ioctls.as_signed(request & 0xFFFFFFFF)
            if h.path == "/dev/wmtdetect":
                self.log(f"[WMT-DETECT][I]wmt_detect_unlocked_ioctl:cmd ({signed}),arg({_argstr(arg)})")
                if io is None or io.device != h.path:
                    self.log(f"[WMT-DETECT][W]wmt_detect_unlocked_ioctl:unknown cmd ({signed})", KERN_WARNING)
                    return 0
                return _DETECT_OPS[io.name](self, h, arg)
            if h.path == "/dev/stpwmt":
                if io is None or io.device != h.path or io.name not in _STPWMT_OPS:
                    self.log(f"[WMT-DEV][W]WMT_unlocked_ioctl:unknown cmd ({signed})", KERN_WARNING)
                    return -errno.EINVAL
                return _STPWMT_OPS[io.name](self, h, arg)
            if h.path == "/dev/stpbt":
                if io is None or io.device != h.path:
                    return -errno.EINVAL
                return _STPBT_OPS[io.name](self, h, arg)
            return -errno.ENOTTY

    # /dev/wmtdetect rows

    def _d_get_chip_id(self, h: Handle, arg: int | bytes) -> int:
        return self.chip_id

    def _d_set_chip_id(self, h: Handle, arg: int | bytes) -> int:
        self.chip_id = _intarg(arg)
        self.log(f"set current consys chipid (0x{self.chip_id:x})")
        return 0

    def _d_ext_detect(self, h: Handle, arg: int | bytes) -> int:
        return -1

    def _d_soc_chip_id(self, h: Handle, arg: int | bytes) -> int:
        self.log(f"[WMT-DETECT][I]wmt_detect_unlocked_ioctl:current SOC chip:0x{SOC_CHIP_ID:x}")
        return SOC_CHIP_ID

    def _d_zero(self, h: Handle, arg: int | bytes) -> int:
        return 0

    def _d_minus_one(self, h: Handle, arg: int | bytes) -> int:
        return -1

    def _d_module_init(self, h: Handle, arg: int | bytes) -> int:
        chip = _intarg(arg)
        self.do_module_init_count += 1
        self.log(f"[WMT-MOD-INIT][I]do_common_drv_init:start to do common driver init, chipid:0x{chip:08x}")
        if self.do_module_init_count > 1:
            self.log("[WMT-DEV][E]WMT_init(1528):fail to register chrdev(190), ret -16 (busy major)", KERN_ERR)
            self.log("[WCN-MOD-INIT][E]do_connectivity_driver_init(58):do common driver init failed, ret:-16",
                     KERN_ERR)
            self.log(f"[WLAN-MOD-INIT][I]do_wlan_drv_init:start to do wlan module init 0x{chip:x}")
            if "combo-wifi-not-built" not in self.faults:
                self.log("[MTK-WIFI] WIFI_init: register_chrdev_region fail, major 155, ret -16", KERN_ERR)
                self.log("[WLAN-MOD-INIT][I]do_wlan_drv_init:WMT-WIFI char dev init, ret:-16")
            self.log("[WLAN-MOD-INIT][I]do_wlan_drv_init:finish wlan module init")
            return -1
        self._sleep("module_init")
        self.log("[WMT-DEV][I]WMT_init:WMT Version= SOC Consys WMT Driver - v1.0 DATE=2013/01/20")
        self.log("[WMT-DEV][I]WMT_init:driver(major 190) installed")
        for ant in ("mt6620", "mt6628", "mt6630"):
            self.log(f"[WMT-CONF][E]wmt_conf_parse_pair(323):unknown field '{ant}.defAnt'.", KERN_ERR)
        self.nodes["/dev/stpwmt"] = "char"
        self.core_ready_at = self.clock.now() + self.timing.delay("core_init")
        self.log("[WMT-MOD-INIT][I]do_common_drv_init:finish common driver init")
        # the disabled BT part returns -1 (harmless, misleading)
        self.log("[WCN-MOD-INIT][E]do_connectivity_driver_init(58):do common driver init failed, ret:-1", KERN_ERR)
        if "combo-wifi-not-built" in self.faults:
            self.log("[WLAN-MOD-INIT][I]do_wlan_drv_init:CONFIG_MTK_COMBO_WIFI is not defined")
            return -1
        self.log(f"[WLAN-MOD-INIT][I]do_wlan_drv_init:start to do wlan module init 0x{chip:x}")
        self.nodes["/dev/wmtWifi"] = "char"
        self.log("[WLAN-MOD-INIT][I]do_wlan_drv_init:WMT-WIFI char dev init, ret:0")
        self.log("[MTK-WIFI] WIFI_init: mtk_wmt_WIFI_chrdev driver(major 155) installed.")
        if self._wlan_gen2_builtin():
            self.log("[WLAN-MOD-INIT][I]do_wlan_drv_init:WLAN-GEN2 driver init, ret:0")
        self.log("[WLAN-MOD-INIT][I]do_wlan_drv_init:finish wlan module init")
        return -1

    # /dev/stpwmt rows

    def _w_set_patch_name(self, h: Handle, arg: int | bytes) -> int:
        if not isinstance(arg, bytes):
            return -errno.EFAULT
        return 0

    def _w_set_stp_mode(self, h: Handle, arg: int | bytes) -> int:
        v = _intarg(arg)
        self.hif_mode = v & 0xF
        self.log(f"[WMT-DEV][I]WMT_unlocked_ioctl:new hifType: {v & 0xF}, fm:{(v >> 4) & 0xF}")
        self.log("[WMT-CORE][I]opfunc_hif_conf:WMT-CORE: WMT HIF info added")
        return 0

    def _w_func_onoff(self, h: Handle, arg: int | bytes) -> int:
        v = _intarg(arg)
        func = v & 0xF
        if func == 4:
            return self._w_lpbk_power(h, 1 if v & 0x80000000 else 0)
        if func == 3:
            return 0 if self.wifi_write(b"1" if v & 0x80000000 else b"0") >= 0 else -errno.EFAULT
        return -errno.EFAULT

    def _w_lpbk_power(self, h: Handle, arg: int | bytes) -> int:
        on = _intarg(arg) & 1
        with self._op():
            if on:
                try:
                    self._power_on()
                except _SimFailure as f:
                    return f.ret
                return 0
            self._power_off()
            return 0

    def _w_lpbk_test(self, h: Handle, arg: int | bytes) -> int:
        return len(arg) if isinstance(arg, bytes) else -errno.EFAULT

    def _w_coredump_raw(self, h: Handle, arg: int | bytes) -> int:
        return 0

    def _w_get_chip_info(self, h: Handle, arg: int | bytes) -> int:
        sel = _intarg(arg)
        if sel == 0:
            return SOC_CHIP_ID
        if sel in (1, 2):  # read from the chip at the first power-on (before srh_patch); 0 until then
            if not self.ever_powered:
                return 0
            return HW_VERSION if sel == 1 else FW_VERSION
        return -errno.EINVAL

    def _w_launcher_kill(self, h: Handle, arg: int | bytes) -> int:
        self.launcher_kill = _intarg(arg) == 1
        if self.launcher_kill:
            self.log("[WMT-DEV][I]WMT_unlocked_ioctl:launcher may be killed,block abnormal stp tx.")
        self.cv.notify_all()
        return 0

    def _w_set_patch_num(self, h: Handle, arg: int | bytes) -> int:
        n = _intarg(arg)
        self.patch_num = n
        self.patch_infos = {}
        self.log(f"[WMT-DEV][I]WMT_unlocked_ioctl:get patch num from launcher = {n}")
        return 0

    def _w_set_patch_info(self, h: Handle, arg: int | bytes) -> int:
        if not isinstance(arg, bytes) or len(arg) < PATCH_INFO_LEN:
            return -errno.EFAULT
        seq = struct.unpack_from("<I", arg, 0)[0]
        addr = bytes(arg[4:8])
        path = arg[8:PATCH_INFO_LEN].split(b"\0", 1)[0].decode("utf-8", "replace")
        if seq == 0 or seq > self.patch_num:
            self.log(f"[WMT-DEV][E]WMT_unlocked_ioctl(812):patch seq({seq}) outside 1..{self.patch_num}: "
                     "stored at index seq-1 without bounds check (kernel memory corrupted)", KERN_ERR)
            return -errno.EFAULT
        self.patch_infos[seq] = (addr, path)
        self.log(f"[WMT-DEV][I]WMT_unlocked_ioctl:get patch info: seq({seq}), addr(0x{addr.hex()}), "
                 f"path({path})")
        if len(self.patch_infos) == self.patch_num:
            self.patch_committed = dict(self.patch_infos)
            self.log(f"[WMT-DEV][I]WMT_unlocked_ioctl:all {self.patch_num} patch infos received")
        return 0

    def _w_query_chipid(self, h: Handle, arg: int | bytes) -> int:
        self.log(f"[WMT-DEV][I]WMT_unlocked_ioctl:chipid = 0x{self.chip_id & 0xFFFFFFFF:x}")
        return self.chip_id

    def _w_einval(self, h: Handle, arg: int | bytes) -> int:
        self.log("[WMT-DEV][W]WMT_unlocked_ioctl:unknown cmd", KERN_WARNING)
        return -errno.EINVAL

    def _w_fw_dbglog(self, h: Handle, arg: int | bytes) -> int:
        return -1

    def _w_pointer_zero(self, h: Handle, arg: int | bytes) -> int:
        return 0 if isinstance(arg, bytes) else -errno.EFAULT

    # /dev/stpbt rows

    def _b_assert(self, h: Handle, arg: int | bytes) -> int:
        self.log("[MTK-BT] BT_unlocked_ioctl: BT Set fw assert......")
        return 0

    def _b_hwver(self, h: Handle, arg: int | bytes) -> int:
        return HW_VERSION

    def _b_fwver(self, h: Handle, arg: int | bytes) -> int:
        return FW_VERSION

    # ------------------------------------------------------------------ user-command channel

    def read(self, hid: int, size: int = 256) -> bytes | int:
        with self.cv:
            h = self._handle(hid)
            if h is None:
                return -errno.EBADF
            if h.path == "/dev/stpbt":
                return h.bt_rx.pop(0)[:size] if h.bt_rx else -errno.EAGAIN
            if h.path != "/dev/stpwmt":
                return b""
            if self.pending_cmd is None or self.cmd_reply is not None or self._cmd_read:
                return b""
            self._cmd_read = True
            return self.pending_cmd.encode()[: min(size, 255)]

    def poll(self, hid: int, timeout_ms: int) -> bool | int:
        """True when a command is pending (POLLIN). Waits up to ``timeout_ms`` of caller time."""
        with self.cv:
            h = self._handle(hid)
            if h is None:
                return -errno.EBADF
            if h.path == "/dev/stpbt":
                return bool(h.bt_rx)

            def readable() -> bool:
                return (self.pending_cmd is not None and not self._cmd_read) \
                    or hid not in self.handles

            if readable():
                return hid in self.handles
            if timeout_ms <= 0:
                return False
            self.clock.wait(self.cv, readable, timeout_ms / 1000.0)
            return readable() and hid in self.handles

    def write(self, hid: int, data: bytes) -> int:
        with self.cv:
            h = self._handle(hid)
            if h is None:
                return -errno.EBADF
            if h.path == "/dev/wmtWifi":
                return self.wifi_write(data)
            if h.path == "/dev/stpbt":
                return self._bt_write(h, data)
            if h.path == "/dev/stpwmt":
                if self.pending_cmd is None:
                    self.log(f"[WMT-DEV][W]WMT_write:no pending command, resp ({_printable(data)}) dropped",
                             KERN_WARNING)
                    return len(data)
                self.cmd_reply = bytes(data)
                self.cv.notify_all()
                return len(data)
            return -errno.EINVAL

    def _ul_cmd(self, cmd: str) -> bool:
        """Post a user-land command and wait for the launcher's answer (wmt_ctrl_ul_cmd)."""
        if self.pending_cmd is not None:
            self.log(f"[WMT-CTRL][W]wmt_ctrl_ul_cmd:cmd buf is occupied by ({self.pending_cmd})", KERN_WARNING)
            return False
        self.pending_cmd = cmd
        self.cmd_reply = None
        self._cmd_read = False
        if cmd == "srh_patch":
            self.srh_patch_count += 1
        self.cv.notify_all()
        got = self._wait(lambda: self.cmd_reply is not None, "ul_cmd_reply")
        reply = self.cmd_reply
        self.pending_cmd = None
        self.cmd_reply = None
        self._cmd_read = False
        if not got or reply is None:
            self.log("[WMT-CTRL][E]wmt_ctrl_ul_cmd(258):wait signal timeout", KERN_ERR)
            self.log("[WMT-CTRL][E]wmt_ctrl_ul_cmd(270):wmt_ctrl_ul_cmd fail(-1)", KERN_ERR)
            return False
        if reply.lower() != b"ok":  # case-insensitive, over the whole buffer
            self.log(f"[WMT-CTRL][W]wmt_ctrl_ul_cmd:warning resp str ({_printable(reply)})", KERN_WARNING)
            return False
        return True

    # ------------------------------------------------------------------ chip power

    def _next_opid(self) -> int:
        self.opid += 1
        return self.opid

    def _power_on(self) -> None:
        opid = self._next_opid()
        self.log(f"[WMT-LIB][I]wmtd_thread:OPID({opid}) type(4) start")
        if self.chip_powered:
            self.log("[WMT-CORE][W]opfunc_pwr_on:WMT-CORE: already powered on...", KERN_WARNING)
            self.log(f"[WMT-LIB][I]wmtd_thread:OPID({opid}) type(4) ok")
            return
        if self.hif_mode is None:
            self.log("[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!", KERN_ERR)
            self.log("[WMT-CORE][E]opfunc_pwr_on(1004):WMT-CORE: wmt_core_stp_init fail (-1)", KERN_ERR)
            self.log(f"[WMT-LIB][E]wmtd_thread(391):OPID({opid}) type(4) fail", KERN_ERR)
            raise _SimFailure(-errno.EFAULT)
        self.log("[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:CONSYS-HW-PWR-ON, start")
        self.log("[WMT-CONSYS-HW][W]mtk_wcn_consys_hw_reg_ctrl:Wmt Cannot find pinctrl default!", KERN_WARNING)
        self.log("[WMT-CONSYS-HW][W]mtk_wcn_consys_hw_reg_ctrl:vcn18: mode operation not allowed", KERN_WARNING)
        for value in (0xFFFFF093, 0xFFFFF093, 0x00007623):
            self._sleep("chipid_read")
            self.log(f"[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:Read CONSYS chipId(0x{value:08x})")
        self._sleep("consys_pwr_on")
        self.log("[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:CONSYS-HW-PWR-ON, finish(0)")
        self.log("[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_init:EMI mapping OK(0xf0a00000)")
        self.log("MTK-BTIF[E]hal_btif_clk_get_and_prepare(286):[CCF]clk_btif=c0f2b540", KERN_ERR)
        self._sleep("stp_init")
        self.log(f"[WMT-IC][I]mt6625_ver_check:0x{SOC_CHIP_ID:x}: read hw_ver (hw version) (0x{HW_VERSION:x})")
        self.log(f"[WMT-IC][I]mt6625_ver_check:0x{SOC_CHIP_ID:x}: read fw_ver (rom version) (0x{FW_VERSION:x})")
        self.log(f"[WMT-IC][I]mt6625_ver_check:0x{SOC_CHIP_ID:x}: ic info: E1.{PATCH_PREFIX} "
                 f"(0x{HW_VERSION:x}/0x{FW_VERSION:x}, WMTHWVER:0, patch_ext:_hdr.bin)")
        self.ever_powered = True
        self.patch_committed = {}
        if not self._ul_cmd("srh_patch"):
            self._fail_power(opid, "wmt_core: WMT_CTRL_GET_PATCH fail:-1")
        self._download_patches(opid)
        self.chip_powered = True
        self.lpbk_power_on_count += 1
        self.log("[WMT-CORE][I]opfunc_pwr_on:co-clock disabled.")
        self.log(f"[WMT-LIB][I]wmtd_thread:OPID({opid}) type(4) ok")
        self._status_dump("pwr_on")
        self.cv.notify_all()

    def _fail_power(self, opid: int, why: str) -> None:
        self.log(f"[WMT-CORE][E]wmt_core_patch_dwn(1156):{why}", KERN_ERR)
        self.log("[WMT-CORE][E]opfunc_pwr_on(1034):func(4) pwr_on fail(-1)", KERN_ERR)
        self.log(f"[WMT-LIB][E]wmtd_thread(391):OPID({opid}) type(4) fail", KERN_ERR)
        self.log("[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:CONSYS-HW-PWR-OFF, finish(0)")
        raise _SimFailure(-errno.EFAULT)

    def _download_patches(self, opid: int) -> None:
        infos = self.patch_committed
        if not infos or len(infos) != self.patch_num:
            self.log(f"[WMT-CORE][E]wmt_core_patch_dwn(1120):patch info perpare fail({-1})", KERN_ERR)
            self._fail_power(opid, "wmt_core: WMT_CTRL_GET_PATCH fail:-1")
        for seq in sorted(infos):
            addr, path = infos[seq]
            problem, payload, header = _check_patch(path, seq, self.patch_num, addr)
            if problem:
                code = -2 if problem.startswith("load file") else -1
                self.log(f"[WMT-CTRL][E]wmt_ctrl_get_patch(1031):{problem}", KERN_ERR)
                self.log(f"[WMT-CORE][E]wmt_core_patch_dwn(1167):patch dwn fail ({code}),patch_index({seq - 1})",
                         KERN_ERR)
                self.log(f"[WMT-CORE][E]wmt_core_patch_dwn(1170):error code:{code}", KERN_ERR)
                self._fail_power(opid, f"wmt_core: patch dwn fail (-1),patch_index({seq - 1})")
            built = header[:16].rstrip(b"\0 ").decode("ascii", "replace")
            self.log(f"[WMT-CORE][I]wmt_core_patch_dwn:[Patch]BuiltTime = {built}, "
                     f"HWVer = 0x{header[20] << 8 | header[21]:x}, SWVer = 0x{header[22] << 8 | header[23]:x}")
            frags = max(1, (len(payload) + PATCH_FRAGMENT - 1) // PATCH_FRAGMENT)
            self._sleep("patch_frag", frags)
            self.log(f"[WMT-CORE][I]wmt_core_patch_dwn:wmt_core: patch dwn:{seq - 1} frag(1, {frags}) ok")
            self.log(f"[WMT-CORE][I]wmt_core_patch_dwn:wmt_core: patch dwn:{seq - 1} frag({frags}, {frags}) ok")

    def _status_dump(self, where: str) -> None:
        self.log(f"[WMT-CORE][I]wmt_core_dump_func_state:[{where}]status(b:{int(self.bt_on)} f:0 g:0 "
                 f"w:{int(self.wifi_on)} lpbk:{int(self.chip_powered)} coredump:0 wmt:{int(self.chip_powered)} "
                 f"stp:{int(self.chip_powered)})")

    def _power_off(self) -> None:
        if self.wifi_on:
            self._wifi_off_now()
        self.bt_on = False
        if self.chip_powered:
            self._sleep("chip_pwr_off")
            self.chip_powered = False
            self.log("[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:CONSYS-HW-PWR-OFF, finish(0)")
            self.log("[WMT-CORE][I]opfunc_pwr_off:HW_PWR_OFF ok")
        self.cv.notify_all()

    def chip_reset(self) -> bool:
        """Whole-chip reset: power-cycle and re-run srh_patch; WiFi comes back only on success."""
        with self._op():
            self.chip_reset_count += 1
            mode = self.wifi_mode
            self.log("[WMT-LIB][W]wmt_lib_trigger_reset:Whole chip reset start!", KERN_WARNING)
            self.log("[STP] mtk_wcn_stp_assert: STP NoAck trigger firmware assert", KERN_ERR)
            if self.wifi_on:
                self._wifi_off_now()
            self.chip_powered = False
            self._sleep("chip_reset")
            try:
                self._power_on()
            except _SimFailure:
                self.log("[WMT-LIB][E]wmt_lib_reset_thread(1642):chip reset fail", KERN_ERR)
                return False
            self.log("[WMT-LIB][I]wmt_lib_reset_thread:chip reset ok")
            if mode != "off":
                try:
                    self._wifi_on_now()
                    if mode in ("ap", "p2p"):
                        self._set_mode(mode)
                except _SimFailure:
                    return True
            return True

    # ------------------------------------------------------------------ /dev/wmtWifi

    def wifi_write(self, data: bytes) -> int:
        """A write to /dev/wmtWifi: ``len(data)`` or -EIO."""
        with self._op():
            text = data[:12].decode("ascii", "replace").rstrip("\n")
            self.log(f"[MTK-WIFI] WIFI_write: WIFI_write {text}")
            key = text[:1]
            handler = _WIFI_CMDS.get(key)
            if handler is None:
                return -errno.EIO
            try:
                handler(self, text)
            except _SimFailure as f:
                return f.ret
            return len(data)

    def _c_off(self, text: str) -> None:
        if not self.wifi_on:
            self.log("[MTK-WIFI] WIFI_write: WIFI is already power off!")
            return
        self._wifi_off_now()

    def _c_sta(self, text: str) -> None:
        if self.wifi_on:
            self.log("[MTK-WIFI] WIFI_write: WIFI is already power on!")
            return
        self._wifi_on_now()

    def _c_ap(self, text: str) -> None:
        self._power_then_mode("ap")

    def _c_p2p(self, text: str) -> None:
        self._power_then_mode("p2p")

    def _c_debug(self, text: str) -> None:
        if len(text) >= 2 and text[1] in "0123":
            self.wlan_dbg_level = int(text[1])
            self.log(f"[MTK-WIFI] WIFI_write: Set wlan debug level {self.wlan_dbg_level}")
        raise _SimFailure(-errno.EIO)  # the driver bug: applied, but EIO anyway

    def _power_then_mode(self, mode: str) -> None:
        if not self.wifi_on:
            self._wifi_on_now()
        self._set_mode(mode)

    def _wifi_fail(self, *lines: str) -> None:
        for line in lines:
            self.log(line, KERN_ERR)
        self.log("[MTK-WIFI] WIFI_write: WMT turn on WIFI fail!", KERN_ERR)
        raise _SimFailure(-errno.EIO)

    def _wifi_on_now(self) -> None:
        opid = self._next_opid()
        if self.hif_mode is None:
            self._wifi_fail("[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!",
                            "[WMT-CORE][E]opfunc_pwr_on(1004):WMT-CORE: wmt_core_stp_init fail (-1)",
                            f"[WMT-LIB][E]wmtd_thread(391):OPID({opid}) type(3) fail")
        if not self.chip_powered:
            self._wifi_fail("[WMT-CORE][E]opfunc_func_on(1187):func(3) pwr_on fail(-1)",
                            "[WMT-CORE][E]wmt_core_func_ctrl_cmd(1290):WMT-CORE:type(0x3) function on failed, "
                            "ret(-1)",
                            f"[WMT-LIB][E]wmtd_thread(391):OPID({opid}) type(3) fail")
        self.log(f"[WMT-LIB][I]wmtd_thread:OPID({opid}) type(3) start")
        if "btif-dead" in self.faults:
            rx = int(self.timing.timeout("ul_cmd_reply") * 1000)
            self.log("[STP-BTIF][E]stp_btif_tx(160):mtk_wcn_btif_write err(-1)", KERN_ERR)
            self.log(f"[WMT-LIB][E]wmt_dev_rx_timeout(1120):wmt_dev_rx_timeout: timeout,jiffies(4294944796),"
                     f"timeoutvalue({rx})", KERN_ERR)
            self._sleep("wifi_op_timeout")
            self._wifi_fail(f"[WMT-LIB][E]wmt_lib_put_act_op(1368):wait completion timeout, opId({opid}), "
                            "show wmtd_thread stack!",
                            f"[WMT-LIB][E]wmt_lib_put_act_op(1380):opid ({opid}) failed, iRet(-1)",
                            f"[WMT-LIB][E]wmtd_thread(391):OPID({opid}) type(3) fail")
        self.log("[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_wifi_paldo_ctrl:WMT do WIFI PMIC on/off")
        self._sleep("wifi_on")
        gen2 = "wlan_gen2" in self.modules
        if gen2:
            ram = self._ram_code_size()
            if ram is None:
                self._wifi_fail(f"[wlan]open file: /etc/firmware/{WIFI_RAM_CODE}",
                                f"[wlan]Open FW image: {WIFI_RAM_CODE} failed",
                                "[wlan]kalFirmwareImageMapping fail!",
                                "[wlan]wlanProbe: glBusInit() fail",
                                "[wlan]wlanProbe failed")
            self.log(f"[wlan]kalFirmwareImageMapping firmware size {ram}", KERN_ERR)
        self.log(f"[WMT-LIB][I]wmtd_thread:OPID({opid}) type(3) ok")
        self.log("[MTK-WIFI] WIFI_write: WMT turn on WIFI success!")
        self.wifi_on = True
        self.wifi_mode = "sta"
        if gen2:
            self._sleep("netdev_create")
            name = self._renamed_sta() if "wlan0-renamed" in self.faults else self.names["sta"]
            self.ifaces[name] = "sta"
            self._sync_net()
        self._status_dump("wifi_on")

    def _renamed_sta(self) -> str:
        return "wlx" + self.mac.replace(":", "")

    def _ram_code_size(self) -> int | None:
        if "wifi-ram-code-missing" in self.faults:
            return None
        if self.firmware_dir:
            try:
                return os.stat(os.path.join(self.firmware_dir, WIFI_RAM_CODE)).st_size
            except OSError:
                return None
        return 372736

    def _set_mode(self, mode: str) -> None:
        if "wlan_gen2" not in self.modules:
            self.log("[MTK-WIFI] WIFI_write: Set p2p mode handler is NULL", KERN_ERR)
            raise _SimFailure(-errno.EIO)
        sta = self.names["sta"]
        if sta not in self.ifaces:
            for _ in range(10):
                self.log(f"[MTK-WIFI] WIFI_write: Fail to get {sta} net device, sleep 300ms", KERN_ERR)
                self._sleep("netdev_wait")
            self.log(f"[MTK-WIFI] WIFI_write: Get {sta} net device timeout", KERN_ERR)
            raise _SimFailure(-errno.EIO)
        cur = self.wifi_mode
        if cur == mode:
            self.log(f"[MTK-WIFI] WIFI_write: WIFI is already in mode {_MODE_NUM[mode]}!")
            return
        if cur in ("ap", "p2p"):
            self._drop_mode_iface()
        self._sleep("mode_switch")
        self.log(f"[MTK-WIFI] WIFI_write: Set wlan mode {_MODE_NUM[cur] if cur in _MODE_NUM else 0} --> "
                 f"{_MODE_NUM[mode]}")
        self._sleep("netdev_create")
        self.ifaces[self.names[mode]] = mode
        self.wifi_mode = mode
        self._sync_net()

    def _drop_mode_iface(self) -> None:
        self.log("[MTK-WIFI] WIFI_write: Turn off p2p/ap mode")
        for name, role in list(self.ifaces.items()):
            if role in ("ap", "p2p"):
                del self.ifaces[name]
        self._clear_stall(quiet=True)
        self.wifi_mode = "sta"
        self._sync_net()

    def _wifi_off_now(self) -> None:
        if self.wifi_mode in ("ap", "p2p"):
            self._drop_mode_iface()
        self._sleep("wifi_off")
        self.ifaces.clear()
        self._clear_stall(quiet=True)
        self.wifi_on = False
        self.wifi_mode = "off"
        self._sync_net()
        self.log("[MTK-WIFI] WIFI_write: WMT turn off WIFI OK!")

    # ------------------------------------------------------------------ network side effects

    def _sync_net(self) -> None:
        if self.net is not None:
            macs = {n: (self.mac if r == "sta" else ap_mac(self.mac)) for n, r in self.ifaces.items()}
            self.net.sync(dict(self.ifaces), macs)

    def ap_iface(self) -> str | None:
        for name, role in self.ifaces.items():
            if role in ("ap", "p2p"):
                return name
        return None

    def _stall(self) -> bool:
        ap = self.ap_iface()
        if ap is None:
            return False
        for _ in range(3):
            self.log(f"p2pHardStartXmit:(TX INFO)netif_stop_subqueue for {self.names['p2p']}, Queue len: 256")
        self.stalled = True
        if self.net is not None:
            self.net.set_stall(ap, True)
        return True

    def _clear_stall(self, quiet: bool = False) -> None:
        if not self.stalled:
            return
        self.stalled = False
        if not quiet:
            self.log("kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0")
        ap = self.ap_iface()
        if self.net is not None and ap is not None:
            self.net.set_stall(ap, False)

    # ------------------------------------------------------------------ modules, bluetooth

    def load_module(self, name: str) -> int:
        """modprobe: 0 or -errno."""
        with self._op():
            if name == "wlan_gen2":
                if "combo-wifi-not-built" in self.faults:
                    return -errno.ENOENT
                if name in self.modules:
                    return 0
                if self.core_ready_at is None:
                    self.log("[wlan]initWlan: WMT exports not initialised (load after wmt_loader)", KERN_ERR)
                    return -errno.ENODEV
                self.modules.add(name)
                self.log("[wlan]initWlan: WLAN-GEN2 driver init, ret:0")
                return 0
            if name == "stp_chrdev_bt":
                if name in self.modules:
                    return 0
                if not self.chip_powered:
                    self.log("[MTK-BT] BT_init: STP is not ready", KERN_ERR)
                    return -errno.ENODEV
                self._sleep("bt_module_init")
                self.modules.add(name)
                self.nodes["/dev/stpbt"] = "char"
                self.log("[MTK-BT] BT_init: mtk_stp_BT_chrdev driver(major 192) installed")
                self.hci = ["hci0"]
                self.log("Bluetooth: hci0: this workaround is applied for mediatek BT")
                return 0
            return -errno.ENOENT

    def module_loaded(self, name: str) -> bool:
        with self.cv:
            return name in self.modules

    def _bt_write(self, h: Handle, data: bytes) -> int:
        if not data:
            return -errno.ENOSPC
        if len(data) > 2048:
            return -errno.EINVAL
        if data[0] == 0x01 and len(data) >= 4:  # HCI command -> Command Complete, status 0
            opcode = data[1:3]
            extra = b""
            if opcode == b"\x09\x10":  # Read BD_ADDR
                extra = bytes(int(x, 16) for x in reversed(self.bd_addr.split(":")))
            h.bt_rx.append(bytes([0x04, 0x0E, 4 + len(extra), 0x01]) + opcode + b"\x00" + extra)
        return len(data)

    # ------------------------------------------------------------------ faults and status

    def inject(self, fault: str) -> str:
        """Apply ``fault`` now; returns a one-line description."""
        self._check_fault(fault)
        if fault == "chip-reset":
            ok = self.chip_reset()
            return "chip reset done" if ok else "chip reset failed (no launcher answered srh_patch)"
        with self.cv:
            if fault == "txq-stall":
                if not self._stall():
                    raise ValueError("txq-stall needs an AP or P2P interface (write A first)")
                return "AP TX queue stopped"
            if fault == "clear-stall":
                self._clear_stall()
                return "AP TX queue woken"
            self.faults.add(fault)
            if fault == "no-detect":
                self.nodes.pop("/dev/wmtdetect", None)
            elif fault == "detect-regular-file":
                self.nodes["/dev/wmtdetect"] = "file"
            elif fault == "combo-wifi-not-built":
                self.nodes.pop("/dev/wmtWifi", None)
                self.modules.discard("wlan_gen2")
            elif fault == "wlan-gen2-module":
                self.modules.discard("wlan_gen2")
            return f"fault {fault} active"

    def node_list(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for path in sorted(self.nodes):
            st = self.stat_node(path)
            assert st is not None
            out.append({"path": path, "kind": st[0], "major": st[1], "minor": st[2]})
        return out

    def status(self) -> dict[str, object]:
        with self.cv:
            return {
                "nodes": self.node_list(),
                "chip_powered": self.chip_powered,
                "launcher_connected": self.launcher_connected(),
                "wifi_mode": self.wifi_mode,
                "interfaces": sorted(self.ifaces),
                "inherent_delay_s": round(self.inherent_delay_s, 6),
                "do_module_init_count": self.do_module_init_count,
                "lpbk_power_on_count": self.lpbk_power_on_count,
                "srh_patch_count": self.srh_patch_count,
                "chip_reset_count": self.chip_reset_count,
                "faults": sorted(self.faults),
                "modules": sorted(self.modules),
                "hci": list(self.hci),
                "bd_address": self.bd_addr if self.hci else None,
                "tx_stalled": self.stalled,
                "mac": self.mac,
                "names": self.names_set,
                "timing": self.timing.mode,
                "abi": self.abi,
            }


# ---------------------------------------------------------------------- helpers


def _intarg(arg: int | bytes) -> int:
    if isinstance(arg, bytes):
        return struct.unpack_from("<i", arg.ljust(4, b"\0"))[0]
    return int(arg)


def _argstr(arg: int | bytes) -> str:
    return str(ioctls.as_signed(arg & 0xFFFFFFFF)) if isinstance(arg, int) else "0xbf8d5c20"


def _printable(data: bytes) -> str:
    return data[:64].decode("ascii", "replace").replace("\n", "\\n").replace("\0", "\\0")


def _check_patch(path: str, seq: int, num: int, addr: bytes) -> tuple[str | None, bytes, bytes]:
    """Check one patch file like the kernel's download: (problem or None, payload, header)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return (f"load file ({path}) fail, iRet(-{e.errno or 2})", b"", b"")
    if len(data) <= PATCH_HEADER_LEN:
        return (f"patch file ({path}) too short ({len(data)} bytes)", b"", b"")
    hdr = data[:PATCH_HEADER_LEN]
    if hdr[16:20] != b"ALPS":
        return (f"patch file ({path}) platform '{_printable(hdr[16:20])}' is not ALPS", b"", hdr)
    if hdr[23] != FW_VERSION & 0xFF:
        return (f"patch file ({path}) fw ver 0x{hdr[22] << 8 | hdr[23]:04x} does not match rom version "
                f"0x{FW_VERSION:04x}", b"", hdr)
    count, fseq = hdr[24] >> 4, hdr[24] & 0xF
    if count != num:
        return (f"patch file ({path}) says {count} patches, launcher announced {num}", b"", hdr)
    if fseq != seq:
        return (f"patch file ({path}) has seq {fseq}, launcher sent {seq}", b"", hdr)
    if addr[1:4] != hdr[25:28]:
        return (f"patch file ({path}) address 0x{hdr[25:28].hex()} != sent 0x{addr[1:4].hex()}", b"", hdr)
    return (None, data[PATCH_HEADER_LEN:], hdr)


_Op = Callable[[DriverModel, Handle, "int | bytes"], int]

_DETECT_OPS: dict[str, _Op] = {
    "COMBO_IOCTL_GET_CHIP_ID": DriverModel._d_get_chip_id,
    "COMBO_IOCTL_SET_CHIP_ID": DriverModel._d_set_chip_id,
    "COMBO_IOCTL_EXT_CHIP_DETECT": DriverModel._d_ext_detect,
    "COMBO_IOCTL_GET_SOC_CHIP_ID": DriverModel._d_soc_chip_id,
    "COMBO_IOCTL_DO_MODULE_INIT": DriverModel._d_module_init,
    "COMBO_IOCTL_MODULE_CLEANUP": DriverModel._d_zero,
    "COMBO_IOCTL_EXT_CHIP_PWR_ON": DriverModel._d_minus_one,
    "COMBO_IOCTL_EXT_CHIP_PWR_OFF": DriverModel._d_zero,
    "COMBO_IOCTL_DO_SDIO_AUDOK": DriverModel._d_zero,
}

_STPWMT_OPS: dict[str, _Op] = {
    "WMT_IOCTL_SET_PATCH_NAME": DriverModel._w_set_patch_name,
    "WMT_IOCTL_SET_STP_MODE": DriverModel._w_set_stp_mode,
    "WMT_IOCTL_FUNC_ONOFF_CTRL": DriverModel._w_func_onoff,
    "WMT_IOCTL_LPBK_POWER_CTRL": DriverModel._w_lpbk_power,
    "WMT_IOCTL_LPBK_TEST": DriverModel._w_lpbk_test,
    "WMT_IOCTL_COREDUMP_START": DriverModel._w_coredump_raw,
    "WMT_IOCTL_COREDUMP_END": DriverModel._w_coredump_raw,
    "WMT_IOCTL_GET_CHIP_INFO": DriverModel._w_get_chip_info,
    "WMT_IOCTL_SET_LAUNCHER_KILL": DriverModel._w_launcher_kill,
    "WMT_IOCTL_SET_PATCH_NUM": DriverModel._w_set_patch_num,
    "WMT_IOCTL_SET_PATCH_INFO": DriverModel._w_set_patch_info,
    "WMT_IOCTL_PORT_NAME": DriverModel._w_einval,
    "WMT_IOCTL_WMT_CFG_NAME": DriverModel._w_einval,
    "WMT_IOCTL_WMT_QUERY_CHIPID": DriverModel._w_query_chipid,
    "WMT_IOCTL_WMT_TELL_CHIPID": DriverModel._w_einval,
    "WMT_IOCTL_WMT_COREDUMP_CTRL": DriverModel._w_coredump_raw,
    "WMT_IOCTL_SEND_BGW_DS_CMD": DriverModel._w_pointer_zero,
    "WMT_IOCTL_ADIE_LPBK_TEST": DriverModel._w_pointer_zero,
    "WMT_IOCTL_GET_APO_FLAG": DriverModel._w_einval,
    "WMT_IOCTL_FW_DBGLOG_CTRL": DriverModel._w_fw_dbglog,
    "WMT_IOCTL_DYNAMIC_DUMP_CTRL": DriverModel._w_pointer_zero,
}

_STPBT_OPS: dict[str, _Op] = {
    "COMBO_IOC_BT_FW_ASSERT": DriverModel._b_assert,
    "COMBO_IOC_BT_IC_HW_VER": DriverModel._b_hwver,
    "COMBO_IOC_BT_IC_FW_VER": DriverModel._b_fwver,
    "COMBO_IOC_BT_HWVER": DriverModel._b_hwver,
}

_WIFI_CMDS: dict[str, Callable[[DriverModel, str], None]] = {
    "0": DriverModel._c_off,
    "1": DriverModel._c_sta,
    "S": DriverModel._c_p2p,
    "P": DriverModel._c_p2p,
    "A": DriverModel._c_ap,
    "D": DriverModel._c_debug,
}
