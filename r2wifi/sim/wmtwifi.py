"""``/dev/wmtWifi`` of the simulated driver (wmt_chrdev_wifi.c + the wlan_gen2 p2p mode handler; §3, §11.2).

Rules:

* A write logs "WIFI_write <text>" and interprets its first character, one row of :data:`COMMANDS` each;
  anything else, and every failure, returns -EIO. ``D<n>`` sets the wlan_gen2 debug level, logs nothing
  more and still returns EIO (the driver's bug).
* The char device keeps its own ``powered`` flag (set only when a WiFi on succeeded). WiFi on/off is a WMT
  function op with the fixed 4 s wait (:meth:`Kernel.func_ctrl`): a power-on that needs the whole chip
  (after a reset left LPBK off) and takes longer returns EIO although it finishes; the next write finds
  "func(3) already on" and succeeds.
* ``0`` with WiFi on always runs the p2p-off handler first ("Turn off p2p/ap mode"), in STA mode too.
* ``A``/``S``/``P`` power on if needed, look up the station netdev by its hard-coded name (10 x 300 ms),
  then switch the mode: "Set wlan mode <old> --> <new>" (0 sta, 1 ap, 2 p2p); the same mode again is
  "WIFI is already in mode N!".
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from r2wifi.sim.kernel import Handle, Kernel, SimFailure
from r2wifi.wmt import driver as D


class WmtWifi:
    path = D.WMTWIFI

    def __init__(self, k: Kernel) -> None:
        self.k = k

    def open(self, h: Handle) -> int:
        return 0

    def release(self, h: Handle) -> None:
        return None

    def write(self, h: Handle | None, data: bytes) -> int:
        """A write to /dev/wmtWifi: ``len(data)`` or -EIO."""
        k = self.k
        with k.op():
            text = data[:12].decode("ascii", "replace").rstrip("\n")
            k.log("wifi_write", cmd=text)
            handler = COMMANDS.get(text[:1])
            if handler is None:
                return -errno.EIO
            try:
                handler(self, text)
            except SimFailure as f:
                return f.ret
            return len(data)

    # ---- rows

    def off(self, text: str) -> None:
        k = self.k
        if not k.wifi_powered:
            k.log("wifi_already_off")
            return
        self._p2p_off()
        k.func_ctrl(D.FUNC_WIFI, False, wait="wifi_op_wait")
        k.wifi_powered = False
        k.log("wifi_off_ok")

    def sta(self, text: str) -> None:
        if self.k.wifi_powered:
            self.k.log("wifi_already_on")
            return
        self.power_on()

    def ap(self, text: str) -> None:
        self._power_then_mode("ap")

    def p2p(self, text: str) -> None:
        self._power_then_mode("p2p")

    def debug(self, text: str) -> None:
        if len(text) >= 2 and text[1] in "0123":
            self.k.wlan_dbg_level = int(text[1])
        raise SimFailure(-errno.EIO)  # the driver bug: applied, but EIO anyway

    # ---- helpers

    def power_on(self) -> None:
        k = self.k
        ok = k.func_ctrl(D.FUNC_WIFI, True, wait="wifi_op_wait", on_timeout=(("wifi_on_fail", {}),))
        if not ok:
            if not k.last_op_timed_out:  # else logged at the 4 s mark
                k.log("wifi_on_fail")
            raise SimFailure(-errno.EIO)
        k.wifi_powered = True
        if k.wifi_mode == "off":
            k.wifi_mode = "sta"
        k.log("wifi_on_ok")

    def _power_then_mode(self, mode: str) -> None:
        if not self.k.wifi_powered:
            self.power_on()
        self.set_mode(mode)

    def set_mode(self, mode: str, *, restore: bool = False) -> None:
        k = self.k
        if "wlan_gen2" not in k.modules:
            k.log("p2p_handler_null")
            raise SimFailure(-errno.EIO)
        sta = k.names["sta"]
        if sta not in k.ifaces:
            for _ in range(D.NETDEV_LOOKUP_TRIES):
                k.log("netdev_wait", dev=sta)
                k.sleep("netdev_wait")
            k.log("netdev_timeout", dev=sta)
            raise SimFailure(-errno.EIO)
        cur = k.wifi_mode
        if cur == mode and not restore:
            k.log("wifi_already_mode", mode=D.WLAN_MODE_NUM[mode])
            return
        if cur in ("ap", "p2p"):
            self._drop_mode_iface()
        k.sleep("mode_switch")
        if restore:
            k.log("wlan_mode_reset", mode=D.WLAN_MODE_NUM[mode])
        else:
            k.log("wlan_mode_switch", old=D.WLAN_MODE_NUM.get(cur, 0), new=D.WLAN_MODE_NUM[mode])
        k.sleep("netdev_create")
        k.ifaces[k.names[mode]] = mode
        k.wifi_mode = mode
        k.sync_net()

    def _p2p_off(self) -> None:
        """The p2p-off handler that ``0`` always runs while WiFi is on."""
        k = self.k
        k.log("p2p_off")
        if k.wifi_mode in ("ap", "p2p"):
            self._drop_mode_iface()

    def _drop_mode_iface(self) -> None:
        k = self.k
        for name, role in list(k.ifaces.items()):
            if role in ("ap", "p2p"):
                del k.ifaces[name]
        k.clear_stall(quiet=True)
        k.wifi_mode = "sta" if k.ifaces else "off"
        k.sync_net()


Command = Callable[[WmtWifi, str], None]

COMMANDS: dict[str, Command] = {
    "0": WmtWifi.off,
    "1": WmtWifi.sta,
    "S": WmtWifi.p2p,
    "P": WmtWifi.p2p,
    "A": WmtWifi.ap,
    "D": WmtWifi.debug,
}
