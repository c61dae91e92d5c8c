"""The MediaTek connectivity driver (WMT/STP over BTIF, wlan_gen2, stp_chrdev_bt) as a state machine.

Theory of operation: :class:`DriverModel` is the kernel side of ``shared/spec/driver-interface.md``
(corrected by §11) and nothing else: no sockets, no files except the patch files the launcher names
(the real kernel opens them too) and ``WIFI_RAM_CODE_7623`` of ``--firmware-dir``. Userspace reaches
it through ``open`` / ``ioctl`` / ``read`` / ``write`` / ``poll`` / ``close`` on handle ids and through
``load_module``; the daemon (:mod:`r2wifi.sim.daemon`) and the CUSE front end (:mod:`r2wifi.sim.cuse`)
map their protocols onto these calls (a stable API).

Layout: this module is the facade; one module per device node holds that node's handlers beside its
ioctl / command table (:mod:`~r2wifi.sim.wmtdetect`, :mod:`~r2wifi.sim.stpwmt`,
:mod:`~r2wifi.sim.wmtwifi`, :mod:`~r2wifi.sim.stpbt`); :mod:`~r2wifi.sim.kernel` holds the shared state
and the WMT core (power states, op waits, the user command channel, patch download). Driver facts come
from :mod:`r2wifi.wmt.driver`, delays from :mod:`r2wifi.sim.timing`, log lines from
:mod:`r2wifi.logs.catalog.wmt`.

* Returns are kernel returns: ``>= 0`` success, ``-errno`` failure. A kernel ``-1`` (a sum of
  sub-results) is ``-EPERM`` by construction, exactly what libc shows.
* ``wmt_debug``: ``"all"`` (default: every line, as a kernel with the debug level raised) or ``"err"``
  (frank-w's default ``gWmtDbgLvl = WMT_LOG_ERR``: the WMT core prints only its ``[E]`` lines).
* Kernel log lines go to ``sink(prio, usec, message)``; ``usec`` is the simulated uptime; the message
  is what a reader of /dev/kmsg sees (control characters and backslashes escaped as ``\\xNN``).
* ``chip_reset()`` is the kernel's whole-chip reset (STP NoAck/assert -> ``wmt_lib_cmb_rst``): up to 10
  reset tries, each posting ``srh_patch``; on success LPBK is marked off and WiFi comes back in its mode
  ("Set wlan mode N" without an arrow).
* Network side effects (the interfaces of each WiFi mode, the TX stall) are reported to an optional
  :class:`NetHook`; without one, interfaces exist only in the model.
* Observers (the CUSE front end): :meth:`DriverModel.on_nodes_changed` callbacks run when DO_MODULE_INIT, a
  module load or a fault changed the set of device nodes (or a node's kind); :meth:`DriverModel.on_ready`
  callbacks get a handle id when it became readable (a command posted to ``/dev/stpwmt``, BT data queued).
  Both run with the model's lock held: they must return at once and not call the model.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from r2wifi.sim.kernel import FUNC_NAMES, Handle, Kernel, NetHook, SimFailure, Sink, ap_mac
from r2wifi.sim.stpbt import StpBt, bd_addr_for
from r2wifi.sim.stpwmt import StpWmt
from r2wifi.sim.timing import Clock, RealClock, Timing
from r2wifi.sim.wmtdetect import WmtDetect
from r2wifi.sim.wmtwifi import WmtWifi
from r2wifi.wmt import driver as D
from r2wifi.wmt import ioctls

__all__ = ["FAULTS", "RUNTIME_FAULTS", "START_FAULTS", "DriverModel", "Handle", "NetHook", "ap_mac", "mac_for",
           "read_nvram_mac", "PATCH_INFO_LEN", "NAME_SETS", "MAJORS"]

PATCH_INFO_LEN = D.PATCH_INFO_LEN
NAME_SETS = D.NAME_SETS
MAJORS = D.MAJORS

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


def mac_for(seed: str, nvram_mac: str | None = None) -> str:
    """The chip MAC: the NVRAM MAC if given, else 00:08:22:xx:xx:xx stable per ``seed``."""
    if nvram_mac:
        return nvram_mac.lower()
    h = hashlib.sha256(seed.encode()).digest()
    return "00:08:22:" + ":".join(f"{b:02x}" for b in h[:3])


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


def _check_fault(name: str) -> None:
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}: choose one of {', '.join(FAULTS)}")


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
        wmt_debug: str = "all",
    ) -> None:
        fault_set: set[str] = set()
        for f in faults:
            _check_fault(f)
            if f in RUNTIME_FAULTS:
                raise ValueError(f"fault {f!r} can only be injected at run time")
            fault_set.add(f)
        self.abi = abi or ioctls.host_abi()
        self.names_set = names
        self.k = Kernel(timing=timing or Timing(), clock=clock or RealClock(), faults=fault_set,
                        names=dict(NAME_SETS[names]), firmware_dir=firmware_dir, sink=sink, net=net,
                        mac=mac_for(seed, read_nvram_mac(firmware_dir)), wmt_debug=wmt_debug)
        self.cv = self.k.cv
        self.detect = WmtDetect(self.k)
        self.stpwmt = StpWmt(self.k)
        self.wifi = WmtWifi(self.k)
        self.bt = StpBt(self.k, bd_addr_for(seed))
        self.devices: dict[str, WmtDetect | StpWmt | WmtWifi | StpBt] = {
            d.path: d for d in (self.detect, self.stpwmt, self.wifi, self.bt)}
        self._next_hid = 1
        self.detect.boot()
        self.k.log("pinctrl_default", line=1493)  # the consys platform probe: the R2 DT has no pinctrl state
        if "wlan-gen2-module" not in fault_set and "combo-wifi-not-built" not in fault_set:
            self.k.modules.add("wlan_gen2")  # built in: /sys/module/wlan_gen2 exists

    # ------------------------------------------------------------------ views of the state

    @property
    def timing(self) -> Timing:
        return self.k.timing

    @property
    def clock(self) -> Clock:
        return self.k.clock

    @property
    def faults(self) -> set[str]:
        return self.k.faults

    @property
    def names(self) -> dict[str, str]:
        return self.k.names

    @property
    def mac(self) -> str:
        return self.k.mac

    @property
    def bd_addr(self) -> str:
        return self.bt.bd_addr

    @property
    def ifaces(self) -> dict[str, str]:
        return self.k.ifaces

    @property
    def wifi_mode(self) -> str:
        return self.k.wifi_mode

    @property
    def chip_powered(self) -> bool:
        return self.k.chip_on

    @property
    def stalled(self) -> bool:
        return self.k.stalled

    @property
    def hci(self) -> list[str]:
        return self.k.hci

    @property
    def inherent_delay_s(self) -> float:
        return self.k.inherent_delay_s

    @property
    def srh_patch_count(self) -> int:
        return self.k.srh_patch_count

    @property
    def lpbk_power_on_count(self) -> int:
        return self.k.lpbk_power_on_count

    @property
    def chip_reset_count(self) -> int:
        return self.k.chip_reset_count

    @property
    def do_module_init_count(self) -> int:
        return self.k.do_module_init_count

    @property
    def wlan_dbg_level(self) -> int:
        return self.k.wlan_dbg_level

    @property
    def handles(self) -> dict[int, Handle]:
        return self.k.handles

    # ------------------------------------------------------------------ observers

    def on_nodes_changed(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` whenever the set of device nodes changes (see the module docstring)."""
        with self.cv:
            self.k.node_listeners.append(fn)

    def on_ready(self, fn: Callable[[int], None]) -> None:
        """Call ``fn(hid)`` whenever handle ``hid`` becomes readable (see the module docstring)."""
        with self.cv:
            self.k.ready_listeners.append(fn)

    @contextmanager
    def _node_watch(self) -> Iterator[None]:
        """Fire the node listeners when the block changed ``k.nodes``."""
        with self.cv:
            before = dict(self.k.nodes)
        try:
            yield
        finally:
            with self.cv:
                if self.k.nodes != before:
                    self.k.nodes_changed()

    # ------------------------------------------------------------------ nodes and handles

    def stat_node(self, path: str) -> tuple[str, int | None, int | None] | None:
        with self.cv:
            kind = self.k.nodes.get(path)
            if kind is None:
                return None
            if kind == "char":
                return ("char", MAJORS.get(path), 0)
            return (kind, None, None)

    def open(self, path: str, pid: int = 0) -> int:
        """Open a node; returns a handle id or -errno."""
        with self.cv:
            if path not in self.k.nodes or path not in self.devices:
                return -errno.ENOENT
            h = Handle(self._next_hid, path, pid)
            ret = self.devices[path].open(h)
            if ret < 0:
                return ret
            self._next_hid += 1
            self.k.handles[h.hid] = h
            return h.hid

    def close(self, hid: int) -> None:
        with self.cv:
            h = self.k.handles.pop(hid, None)
            if h is None:
                return
            self.devices[h.path].release(h)
            self.cv.notify_all()

    def close_pid_handles(self, hids: list[int]) -> None:
        for hid in hids:
            self.close(hid)

    def launcher_connected(self) -> bool:
        with self.cv:
            return not self.k.launcher_kill and any(h.path == D.STPWMT for h in self.k.handles.values())

    def ioctl(self, hid: int, request: int, arg: int | bytes = 0, abi: str | None = None) -> int:
        """``request`` is decoded for ``abi`` (the caller's; default the model's)."""
        with self.cv:
            h = self.k.handles.get(hid)
            if h is None:
                return -errno.EBADF
            if self.k.nodes.get(h.path) == "file":
                return -errno.ENOTTY
            io = ioctls.lookup(request, abi or self.abi)
            dev = self.devices[h.path]
            if isinstance(dev, WmtWifi):
                return -errno.ENOTTY
            with self._node_watch():  # DO_MODULE_INIT registers /dev/stpwmt and /dev/wmtWifi
                return dev.ioctl(h, io, request, arg)

    def read(self, hid: int, size: int = 256) -> bytes | int:
        with self.cv:
            h = self.k.handles.get(hid)
            if h is None:
                return -errno.EBADF
            if h.path == D.STPBT:
                return self.bt.read(h, size)
            if h.path == D.STPWMT:
                return self.stpwmt.read(h, size)
            return b""

    def poll(self, hid: int, timeout_ms: int) -> bool | int:
        """True when POLLIN (a command is posted and unread). Waits up to ``timeout_ms`` of caller time."""
        with self.cv:
            h = self.k.handles.get(hid)
            if h is None:
                return -errno.EBADF
            if h.path == D.STPBT:
                return bool(h.bt_rx)
            if h.path != D.STPWMT:
                return False

            def readable() -> bool:
                return self.stpwmt.readable() or hid not in self.k.handles

            if readable():
                return hid in self.k.handles
            if timeout_ms <= 0:
                return False
            self.k.clock.wait(self.cv, readable, timeout_ms / 1000.0)
            return readable() and hid in self.k.handles

    def write(self, hid: int, data: bytes) -> int:
        with self.cv:
            h = self.k.handles.get(hid)
            if h is None:
                return -errno.EBADF
            if h.path == D.WMTWIFI:
                return self.wifi.write(h, data)
            if h.path == D.STPBT:
                return self.bt.write(h, data)
            if h.path == D.STPWMT:
                return self.stpwmt.write(h, data)
            return -errno.EINVAL

    def wifi_write(self, data: bytes) -> int:
        """A write to /dev/wmtWifi without a handle (tests, FUNC_ONOFF_CTRL of old callers)."""
        with self.cv:
            return self.wifi.write(None, data)

    # ------------------------------------------------------------------ modules

    def load_module(self, name: str) -> int:
        """modprobe: 0 or -errno."""
        k = self.k
        with self._node_watch(), k.op():
            if name == "wlan_gen2":
                if "combo-wifi-not-built" in k.faults:
                    return -errno.ENOENT
                if name in k.modules:
                    return 0
                if k.core_ready_at is None:
                    k.log("wlan_gen2_too_early")
                    return -errno.ENODEV
                k.modules.add(name)
                k.log("wlan_gen2_module_init", ret=0)
                return 0
            if name == StpBt.module:
                return self.bt.load()
            return -errno.ENOENT

    def module_loaded(self, name: str) -> bool:
        with self.cv:
            return name in self.k.modules

    # ------------------------------------------------------------------ whole-chip reset

    def chip_reset(self) -> bool:
        """The kernel's whole-chip reset; True when the chip came back (WiFi restored in its mode)."""
        k = self.k
        with k.op():
            k.chip_reset_count += 1
            mode, wifi_on = k.wifi_mode, k.funcs[D.FUNC_WIFI]
            k.log("chip_reset_start")
            k.log("stp_noack_assert")
            k.ifaces.clear()
            k.clear_stall(quiet=True)
            k.wifi_mode = "off"
            k.sync_net()
            k.chip_on = False
            k.patched = False
            k.sleep("chip_reset")
            for _ in range(D.KERNEL_RESET_TRIES):
                if k.pwr_on(tries=1):
                    break
            else:
                k.funcs = {f: False for f in k.funcs}
                k.wifi_powered = False
                k.log("chip_reset_fail", line=1642)
                return False
            k.log("chip_reset_ok")
            k.funcs[D.FUNC_LPBK] = False  # §11.2: LPBK is marked off after a reset
            if wifi_on:
                k.funcs[D.FUNC_WIFI] = False
                if k.func_on(D.FUNC_WIFI):
                    k.funcs[D.FUNC_WIFI] = True
                    k.wifi_mode = "sta"
                    if mode in ("ap", "p2p"):
                        try:
                            self.wifi.set_mode(mode, restore=True)
                        except SimFailure:
                            pass
            return True

    # ------------------------------------------------------------------ faults and status

    def inject(self, fault: str) -> str:
        """Apply ``fault`` now; returns a one-line description."""
        _check_fault(fault)
        if fault == "chip-reset":
            ok = self.chip_reset()
            return "chip reset done" if ok else "chip reset failed (no launcher answered srh_patch)"
        k = self.k
        with self.cv, self._node_watch():
            if fault == "txq-stall":
                if not k.stall():
                    raise ValueError("txq-stall needs an AP or P2P interface (write A first)")
                return "AP TX queue stopped"
            if fault == "clear-stall":
                k.clear_stall()
                return "AP TX queue woken"
            k.faults.add(fault)
            if fault == "no-detect":
                k.nodes.pop(D.WMTDETECT, None)
            elif fault == "detect-regular-file":
                k.nodes[D.WMTDETECT] = "file"
            elif fault == "combo-wifi-not-built":
                k.nodes.pop(D.WMTWIFI, None)
                k.modules.discard("wlan_gen2")
            elif fault == "wlan-gen2-module":
                k.modules.discard("wlan_gen2")
            return f"fault {fault} active"

    def node_list(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for path in sorted(self.k.nodes):
            st = self.stat_node(path)
            assert st is not None
            out.append({"path": path, "kind": st[0], "major": st[1], "minor": st[2]})
        return out

    def status(self) -> dict[str, object]:
        k = self.k
        with self.cv:
            return {
                "nodes": self.node_list(),
                "chip_powered": k.chip_on,
                "patched": k.patched,
                "functions": {name: k.funcs[f] for f, name in FUNC_NAMES.items()},
                "cmd_pending": k.cmd_bit,
                "stpwmt_locked_out": k.init_broken,
                "launcher_connected": self.launcher_connected(),
                "wifi_mode": k.wifi_mode,
                "interfaces": sorted(k.ifaces),
                "inherent_delay_s": round(k.inherent_delay_s, 6),
                "do_module_init_count": k.do_module_init_count,
                "lpbk_power_on_count": k.lpbk_power_on_count,
                "power_on_count": k.pwr_on_count,
                "srh_patch_count": k.srh_patch_count,
                "chip_reset_count": k.chip_reset_count,
                "faults": sorted(k.faults),
                "modules": sorted(k.modules),
                "hci": list(k.hci),
                "bd_address": self.bt.bd_addr if k.hci else None,
                "tx_stalled": k.stalled,
                "mac": k.mac,
                "names": self.names_set,
                "timing": k.timing.mode,
                "wmt_debug": k.wmt_debug,
                "abi": self.abi,
            }
