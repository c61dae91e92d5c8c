"""The simulated driver's shared state and its WMT core (wmt_core.c / wmt_lib.c / wmt_ctrl.c / wmt_exp.c).

Theory of operation: :class:`Kernel` holds what the driver keeps between calls and implements the parts
that no single device node owns; the node modules (:mod:`~r2wifi.sim.wmtdetect`, :mod:`~r2wifi.sim.stpwmt`,
:mod:`~r2wifi.sim.wmtwifi`, :mod:`~r2wifi.sim.stpbt`) call into it. Facts from driver-interface.md §2, §3
and the corrections of §11:

* **Power states.** The core keeps one on/off bit per function (BT 0, WIFI 3, LPBK 4) and whether the chip
  is powered. ``func_on(t)``: "func(t) already on" when the bit is set; otherwise a full power-on first
  when the chip is off (:meth:`Kernel.pwr_on`), then the bit. ``func_off(t)`` clears the bit and powers
  the chip down ("HW_PWR_OFF ok") when it was the last one. The launcher's LPBK(1) therefore powers the
  chip once; a second LPBK(1) is "func(4) already on" and resets nothing. After a whole-chip reset LPBK
  is marked off, so the next WiFi ``0`` powers the chip down and the next ``1``/``A`` does a full
  power-on with ``srh_patch`` and patch download.
* **Full power-on** (``opfunc_pwr_on``): consys on, STP init (``no hif info!`` without SET_STP_MODE),
  version check, ``srh_patch`` to the launcher, patch download; a failed STP init is retried
  (``KERNEL_POWER_ON_TRIES`` in all), so one LPBK(1) posts ``srh_patch`` up to 3 times.
* **Patch download** (``mtk_wcn_soc_patch_dwn``) does not validate the header: it sends whatever follows
  the 28 bytes in 1000-byte fragments and fails only when a file cannot be loaded. ``srh_patch`` answered
  ``ok`` without SET_PATCH_NUM: the committed set of an earlier answer is used, or none (the chip runs
  unpatched). The header line is printed once per power-on, build time cut at 15 characters.
* **User command channel** (``wmt_ctrl_ul_cmd``): one command bit. Posting sets it; a ``read`` clears it;
  a reply timeout leaves it set, and while it is set a new command fails at once with "cmd buf is
  occupied by (srh_patch)" and ``poll`` keeps reporting POLLIN.
* **Op waits** (``mtk_wcn_wmt_func_ctrl``): ``OPID(op) type(driver) start|ok|fail`` with op FUNC_ON=3 /
  FUNC_OFF=4 and driver WIFI=3 / LPBK=4. WiFi ops have a fixed wait (``wifi_op_wait``, 4 s): when the
  work takes longer, "wait completion timeout" and "OPID(..) fail" are logged at the 4 s mark and the
  caller gets a failure, while the work goes on to its end. Simplification: the caller's call returns when
  the work ends, not at the 4 s mark (log order and final state are the driver's).
* **Log lines** come from the one table :mod:`r2wifi.logs.catalog.wmt` (``self.log(key, **fields)``);
  with ``wmt_debug="err"`` (frank-w's default ``gWmtDbgLvl = WMT_LOG_ERR``) the WMT core's
  ``[I]/[W]/[D]`` lines are not printed.
* Blocking: one re-entrant lock; time passes only through the injected clock (which releases the lock),
  so a launcher can answer ``srh_patch`` while its power thread is blocked in LPBK_POWER_CTRL. Driver
  operations are serialised (:meth:`Kernel.op`); the command channel is not.
"""

from __future__ import annotations

import errno
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from r2wifi.logs.catalog import wmt as catalog
from r2wifi.sim.timing import Clock, Timing
from r2wifi.wmt import driver as D

Sink = Callable[[int, int, str], None]

FUNC_NAMES = {D.FUNC_BT: "bt", D.FUNC_WIFI: "wifi", D.FUNC_LPBK: "lpbk"}  # status() keys of the function bits
# WMT core lines that gWmtDbgLvl = WMT_LOG_ERR hides ([I]/[W]/[D]/[L] of the WMT-* tags of the core)
_LEVELLED = re.compile(r"^\[(?:WMT-(?!DETECT\]|MOD-INIT\])[A-Z-]+|STP-BTIF)\]\[([IWDL])\]")


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


class SimFailure(Exception):
    """An operation failed with kernel return ``ret``."""

    def __init__(self, ret: int) -> None:
        super().__init__(ret)
        self.ret = ret


def ap_mac(mac: str) -> str:
    """The AP/P2P address: the chip MAC with the locally-administered bit (02:08:22:...)."""
    first = int(mac[:2], 16) | 0x02
    return f"{first:02x}{mac[2:]}"


class Kernel:
    """Driver state and the WMT core. See the module docstring for the rules."""

    def __init__(self, *, timing: Timing, clock: Clock, faults: set[str], names: dict[str, str],
                 firmware_dir: str | None, sink: Sink | None, net: NetHook | None, mac: str,
                 wmt_debug: str = "all") -> None:
        if wmt_debug not in ("all", "err"):
            raise ValueError(f"wmt_debug: {wmt_debug!r} is not one of all, err")
        self.timing = timing
        self.clock = clock
        self.faults = faults
        self.names = names
        self.firmware_dir = firmware_dir
        self.sink = sink
        self.net = net
        self.mac = mac
        self.wmt_debug = wmt_debug
        self.cv = threading.Condition(threading.RLock())
        self.kmsg_seq = 0
        self.inherent_delay_s = 0.0
        self.nodes: dict[str, str] = {}  # path -> "char" | "file"
        self.handles: dict[int, Handle] = {}
        self.modules: set[str] = set()
        # WMT core
        self.chip_id = -1
        self.do_module_init_count = 0
        self.core_ready_at: float | None = None
        self.init_broken = False  # a second DO_MODULE_INIT: /dev/stpwmt opens fail until reboot
        self.hif: tuple[int, int] | None = None
        self.launcher_kill = False
        self.chip_on = False
        self.patched = False
        self.ever_powered = False
        self.funcs: dict[int, bool] = {D.FUNC_BT: False, D.FUNC_WIFI: False, D.FUNC_LPBK: False}
        # user command channel
        self.cmd_bit: str | None = None  # the posted, unread command
        self.cmd_waiting = False  # a kernel thread waits for the reply
        self.cmd_reply: bytes | None = None
        # patches
        self.patch_num = 0
        self.patch_infos: dict[int, tuple[bytes, str]] = {}
        self.patch_committed: dict[int, tuple[bytes, str]] = {}
        # wlan_gen2 / chrdev
        self.wifi_powered = False  # wmt_chrdev_wifi's own "powered" flag
        self.wifi_mode = "off"  # off | sta | ap | p2p
        self.ifaces: dict[str, str] = {}
        self.stalled = False
        self.wlan_dbg_level = 0
        self.hci: list[str] = []
        # counters
        self.lpbk_power_on_count = 0
        self.pwr_on_count = 0
        self.srh_patch_count = 0
        self.chip_reset_count = 0
        self._busy = False
        self._deadline: float | None = None
        self._deadline_hit = False
        self.last_op_timed_out = False
        self._deadline_lines: list[tuple[str, dict[str, object]]] = []
        # observers (the CUSE front end): called with the lock held, so they must not block or call back
        self.node_listeners: list[Callable[[], None]] = []
        self.ready_listeners: list[Callable[[int], None]] = []

    # ------------------------------------------------------------------ observers

    def nodes_changed(self) -> None:
        """Tell the node listeners that the set of device nodes (or a node's kind) changed."""
        for fn in list(self.node_listeners):
            fn()

    def ready(self, hid: int) -> None:
        """Tell the readiness listeners that handle ``hid`` has data to read (poll would say POLLIN)."""
        for fn in list(self.ready_listeners):
            fn(hid)

    # ------------------------------------------------------------------ log and time

    def log(self, key: str, **fields: object) -> None:
        msg = catalog.BY_KEY[key]
        text = kmsg_escape(msg.render(**fields))
        if self.wmt_debug == "err":
            m = _LEVELLED.match(text)
            if m:
                return
        self.kmsg_seq += 1
        usec = int((D.BOOT_UPTIME_S + self.clock.now()) * 1_000_000)
        if self.sink:
            self.sink(msg.prio, usec, text)

    def pass_time(self, seconds: float, predicate: Callable[[], bool] | None = None) -> bool:
        """Let ``seconds`` of driver time pass (or until ``predicate``); honours a running op's wait."""
        pred = predicate or (lambda: False)
        end = self.clock.now() + seconds
        got = False
        while True:
            now = self.clock.now()
            dl = self._deadline
            if dl is not None and not self._deadline_hit and dl <= end:
                if self.clock.wait(self.cv, pred, max(0.0, dl - now)):
                    got = True
                    break
                self._hit_deadline()
                continue
            left = end - now
            got = pred() if left <= 0 else self.clock.wait(self.cv, pred, left)
            break
        if not got:  # a delay spent, or a timeout that expired (a wait that was answered costs nothing)
            self.inherent_delay_s += seconds
        return got

    def sleep(self, name: str, times: int = 1) -> None:
        d = self.timing.delay(name) * times
        if d > 0:
            self.pass_time(d)

    def wait(self, predicate: Callable[[], bool], timeout_name: str) -> bool:
        return self.pass_time(self.timing.timeout(timeout_name), predicate)

    def _hit_deadline(self) -> None:
        self._deadline_hit = True
        for key, fields in self._deadline_lines:
            self.log(key, **fields)

    @contextmanager
    def op(self) -> Iterator[None]:
        """Serialise driver operations (the driver's semaphore / wmtd op queue)."""
        with self.cv:
            self.cv.wait_for(lambda: not self._busy)
            self._busy = True
            try:
                yield
            finally:
                self._busy = False
                self.cv.notify_all()

    # ------------------------------------------------------------------ mtk_wcn_wmt_func_ctrl

    def func_ctrl(self, func: int, on: bool, *, wait: str | None = None,
                  on_timeout: tuple[tuple[str, dict[str, object]], ...] = ()) -> bool:
        """One WMT function op with its OPID lines; ``wait``: the op's timeout name (WiFi: 4 s)."""
        op = D.OPID_FUNC_ON if on else D.OPID_FUNC_OFF
        self.log("opid_start", op=op, drv=func)
        if wait is not None:
            self._deadline = self.clock.now() + self.timing.timeout(wait)
            self._deadline_hit = False
            self._deadline_lines = [("op_wait_timeout", {"op": op}), ("opid_failed", {"op": op, "ret": -1}),
                                    ("opid_fail", {"op": op, "drv": func}), *on_timeout]
        try:
            ok = self.func_on(func) if on else self.func_off(func)
        finally:
            timed_out = self.last_op_timed_out = self._deadline_hit
            self._deadline = None
            self._deadline_hit = False
        if timed_out:
            return False
        self.log("opid_ok" if ok else "opid_fail", op=op, drv=func)
        return ok

    # ------------------------------------------------------------------ opfunc_func_on / off

    def func_on(self, func: int) -> bool:
        if self.funcs.get(func):
            self.log("func_already_on", func=func)
            return True
        if not self.chip_on and not self.pwr_on():
            self.log("func_pwr_on_fail", line=1187, func=func, ret=-1)
            self.log("function_on_failed", type=f"{func:x}", ret=-1)
            return False
        if func == D.FUNC_WIFI and not self._wifi_func_on():
            self.log("function_on_failed", type=f"{func:x}", ret=-1)
            return False
        if func == D.FUNC_BT and "btif-dead" in self.faults:
            return False
        self.funcs[func] = True
        if func == D.FUNC_LPBK:
            self.lpbk_power_on_count += 1
        self._status_dump("func_on")
        return True

    def func_off(self, func: int) -> bool:
        if func == D.FUNC_WIFI and self.funcs[func]:
            self.sleep("wifi_off")
            self.log("pmic_on_off")
            self._wlan_remove()
        self.funcs[func] = False
        if self.chip_on and not any(self.funcs.values()):
            self.pwr_off()
        self.cv.notify_all()
        return True

    def _wifi_func_on(self) -> bool:
        """WMT's WiFi function on plus the wlan_gen2 probe it triggers."""
        if "btif-dead" in self.faults:  # no WMT event comes back over STP
            self.log("btif_write_err", line=160, ret=-1)
            for _ in range(2):
                self.wait(lambda: False, "wmt_rx")
                self.log("wmt_rx_timeout", line=1120, jiffies=4294944796,
                         ms=int(self.timing.timeout("wmt_rx") * 1000))
            return False
        self.log("pmic_on_off")
        self.sleep("wifi_on")
        if "wlan_gen2" in self.modules:
            size = self.ram_code_size()
            if size is None:
                self.log("fw_open_file", path=D.WIFI_RAM_CODE_PATH)
                self.log("fw_image_open_fail", name=D.WIFI_RAM_CODE)
                self.log("fw_image_map_fail")
                self.log("glbusinit_fail")
                self.log("wlan_probe_failed")
                return False
            self.log("fw_image_size", size=size)
            self.sleep("netdev_create")
            name = ("wlx" + self.mac.replace(":", "")) if "wlan0-renamed" in self.faults else self.names["sta"]
            self.ifaces[name] = "sta"
            self.sync_net()
        return True

    def _wlan_remove(self) -> None:
        self.ifaces.clear()
        self.clear_stall(quiet=True)
        self.wifi_mode = "off"
        self.sync_net()

    def ram_code_size(self) -> int | None:
        if "wifi-ram-code-missing" in self.faults:
            return None
        if self.firmware_dir:
            try:
                return os.stat(os.path.join(self.firmware_dir, D.WIFI_RAM_CODE)).st_size
            except OSError:
                return None
        return 372736

    # ------------------------------------------------------------------ opfunc_pwr_on / off

    def pwr_on(self, tries: int = D.KERNEL_POWER_ON_TRIES) -> bool:
        """Full chip power-on; ``tries`` STP init attempts (each may post srh_patch)."""
        for _attempt in range(tries):
            self._consys_on()
            ret = self._stp_init()
            if ret == 0:
                self.chip_on = True
                self.pwr_on_count += 1
                self.log("coclock_disabled")
                self._status_dump("pwr_on")
                self.cv.notify_all()
                return True
            self.log("stp_init_fail", line=1004, ret=ret)
            self.log("pwr_off_finish", ret=0)
        return False

    def _consys_on(self) -> None:
        self.log("pwr_on_start")
        self.log("vcn18_mode")
        for value in (0xFFFFF093, 0xFFFFF093, D.SOC_CHIP_ID):
            self.sleep("chipid_read")
            self.log("read_chipid", line=228, chip=f"{value:08x}")
        self.sleep("consys_pwr_on")
        self.log("pwr_on_finish", ret=0)
        self.log("emi_ok", addr="f0a00000")
        self.log("btif_clk_info", line=286, clk="c0f2b540")

    def _stp_init(self) -> int:
        """wmt_core_stp_init: 0 or the failure code."""
        if self.hif is None:
            self.log("no_hif_info", line=648)
            return -1
        self.sleep("stp_init")
        chip = f"{D.SOC_CHIP_ID:x}"
        self.log("hw_ver", chip=chip, ver=f"{D.HW_VERSION:x}")
        self.log("fw_ver", chip=chip, ver=f"{D.ROM_VERSION:x}")
        self.log("ic_info", chip=chip, info=f"E1.{D.PATCH_PREFIX_MT7623}", hw=f"{D.HW_VERSION:x}",
                 fw=f"{D.ROM_VERSION:x}", hwver=0, ext="_hdr.bin")
        self.ever_powered = True
        if not self.ul_cmd("srh_patch"):
            self.log("patch_prepare_fail", line=1120, ret=-1)
            return -2
        return self._download_patches()

    def _download_patches(self) -> int:
        infos = self.patch_committed
        self.patched = False
        for index, seq in enumerate(sorted(infos)):
            _addr, path = infos[seq]
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError as e:
                code = -(e.errno or errno.ENOENT)
                self.log("load_file_fail", line=1031, name=path, ret=code)
                self.log("get_patch_fail", line=1141, ret=-1)
                self.log("patch_dwn_fail", line=1167, ret=-2, index=seq - 1)
                return -3
            hdr = data[:D.PATCH_HEADER_LEN].ljust(D.PATCH_HEADER_LEN, b"\0")
            if index == 0:
                built = hdr[:D.PATCH_BUILT_TIME_LEN].split(b"\0", 1)[0].decode("latin-1")
                self.log("patch_built_time", built=built, hver=f"{hdr[20] << 8 | hdr[21]:x}",
                         sver=f"{hdr[22] << 8 | hdr[23]:x}", phver=f"{hdr[27] | hdr[26]:04x}",
                         platform=hdr[16:20].decode("latin-1"))
            size = max(0, len(data) - D.PATCH_HEADER_LEN)
            frags = (size + D.PATCH_FRAGMENT - 1) // D.PATCH_FRAGMENT
            last = size - (frags - 1) * D.PATCH_FRAGMENT if frags else 0
            self.sleep("patch_frag", frags)
            self.log("patch_dwn_ok", ret=0, frags=frags, last=last)
        self.patched = bool(infos)
        return 0

    def pwr_off(self) -> None:
        self.sleep("chip_pwr_off")
        self.chip_on = False
        self.patched = False
        self.funcs = {f: False for f in self.funcs}
        self.log("pwr_off_finish", ret=0)
        self.log("hw_pwr_off")
        self.cv.notify_all()

    def _status_dump(self, where: str) -> None:
        on = int(self.chip_on)
        self.log("status_dump", where=where, b=int(self.funcs[D.FUNC_BT]), f=0, g=0, w=int(self.funcs[D.FUNC_WIFI]),
                 lpbk=int(self.funcs[D.FUNC_LPBK]), coredump=0, wmt=on, stp=on)

    # ------------------------------------------------------------------ user command channel

    def ul_cmd(self, cmd: str) -> bool:
        """Post a user-land command and wait for the launcher's answer (wmt_ctrl_ul_cmd)."""
        if self.cmd_bit is not None:
            self.log("ul_cmd_occupied", cmd=self.cmd_bit)
            self.log("ul_cmd_fail", ret=-1)
            return False
        self.cmd_bit = cmd
        self.cmd_waiting = True
        self.cmd_reply = None
        if cmd == "srh_patch":
            self.srh_patch_count += 1
        self.cv.notify_all()
        for h in list(self.handles.values()):  # the command is readable on every /dev/stpwmt handle
            if h.path == D.STPWMT:
                self.ready(h.hid)
        try:
            got = self.wait(lambda: self.cmd_reply is not None, "ul_cmd_reply")
            reply = self.cmd_reply
        finally:
            self.cmd_waiting = False
            self.cmd_reply = None
        if not got or reply is None:  # the bit stays set until someone reads it
            self.log("ul_cmd_timeout", line=258)
            self.log("ul_cmd_fail", ret=-1)
            return False
        if reply.lower() != b"ok":  # strncasecmp(buf, "ok", 255) over the whole buffer
            self.log("ul_cmd_bad_resp", resp=printable(reply))
            self.log("ul_cmd_fail", ret=-1)
            return False
        return True

    # ------------------------------------------------------------------ network side effects

    def sync_net(self) -> None:
        if self.net is not None:
            macs = {n: (self.mac if r == "sta" else ap_mac(self.mac)) for n, r in self.ifaces.items()}
            self.net.sync(dict(self.ifaces), macs)

    def ap_iface(self) -> str | None:
        for name, role in self.ifaces.items():
            if role in ("ap", "p2p"):
                return name
        return None

    def stall(self) -> bool:
        ap = self.ap_iface()
        if ap is None:
            return False
        for _ in range(3):
            self.log("txq_stop_p2p", dev=self.names["p2p"], qlen=256)
        self.stalled = True
        if self.net is not None:
            self.net.set_stall(ap, True)
        return True

    def clear_stall(self, quiet: bool = False) -> None:
        if not self.stalled:
            return
        self.stalled = False
        if not quiet:
            self.log("txq_wake", bss=1, qlen=0)
        ap = self.ap_iface()
        if self.net is not None and ap is not None:
            self.net.set_stall(ap, False)


def kmsg_escape(text: str) -> str:
    """The message as /dev/kmsg shows it: control characters, DEL and backslash as ``\\xNN``."""
    if all(" " <= c < "\x7f" and c != "\\" for c in text):
        return text
    return "".join(c if " " <= c < "\x7f" and c != "\\" else f"\\x{ord(c):02x}" for c in text)


def printable(data: bytes) -> str:
    return data[:64].decode("latin-1")
