"""``/dev/wmtdetect`` of the simulated driver (wmt_detect.c, drv_init/*; driver-interface.md §1, §11.2).

Rules: every ioctl is one row of :data:`OPS` (keyed by the names of :mod:`r2wifi.wmt.ioctls`); the
argument is passed by value and the operation's result is the ioctl's return. Unknown commands log
"unknown cmd" and return 0. DO_MODULE_INIT registers /dev/stpwmt and /dev/wmtWifi once; a second call
fails the busy major registration (-EBUSY, "abort connectivity driver init"), skips the WLAN part, and
from then on every open of /dev/stpwmt waits 2 s and fails with EIO until the simulator is restarted
("reboot").
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from r2wifi.sim.kernel import Handle, Kernel
from r2wifi.wmt import driver as D
from r2wifi.wmt import ioctls

Arg = int | bytes


def intarg(arg: Arg) -> int:
    if isinstance(arg, bytes):
        return int.from_bytes(arg[:4].ljust(4, b"\0"), "little", signed=True)
    return int(arg)


def argstr(arg: Arg) -> str:
    return str(ioctls.as_signed(arg & 0xFFFFFFFF)) if isinstance(arg, int) else "0xbf8d5c20"


class WmtDetect:
    path = D.WMTDETECT

    def __init__(self, k: Kernel) -> None:
        self.k = k

    def boot(self) -> None:
        k = self.k
        if "no-detect" in k.faults:
            k.log("detect_no_node", line=311, compat="mediatek,mtk_wcn_detect")
            return
        k.nodes[self.path] = "file" if "detect-regular-file" in k.faults else "char"
        k.log("detect_installed", major=D.MAJORS[self.path])

    def open(self, h: Handle) -> int:
        if self.k.nodes.get(self.path) == "char":
            self.k.log("detect_open", major=D.MAJORS[self.path], minor=0, pid=h.pid)
        return 0

    def release(self, h: Handle) -> None:
        if self.k.nodes.get(self.path) == "char":
            self.k.log("detect_close", major=D.MAJORS[self.path], minor=0, pid=h.pid)

    def ioctl(self, h: Handle, io: ioctls.Ioctl | None, request: int, arg: Arg) -> int:
        signed = ioctls.as_signed(request & 0xFFFFFFFF)
        self.k.log("detect_ioctl", cmd=signed, arg=argstr(arg))
        if io is None or io.device != self.path or io.name not in OPS:
            self.k.log("detect_unknown_cmd", cmd=signed)
            return 0
        return OPS[io.name](self, arg)

    # ---- rows

    def get_chip_id(self, arg: Arg) -> int:
        return self.k.chip_id

    def set_chip_id(self, arg: Arg) -> int:
        self.k.chip_id = intarg(arg)
        self.k.log("set_consys_chipid", chip=f"{self.k.chip_id:x}")
        return 0

    def minus_one(self, arg: Arg) -> int:
        return -1

    def zero(self, arg: Arg) -> int:
        return 0

    def soc_chip_id(self, arg: Arg) -> int:
        self.k.log("detect_soc_chip", chip=f"{D.SOC_CHIP_ID:x}")
        return D.SOC_CHIP_ID

    def module_init(self, arg: Arg) -> int:
        k = self.k
        chip = intarg(arg)
        k.do_module_init_count += 1
        k.log("common_init_start", chip=f"{chip & 0xFFFFFFFF:08x}")
        if k.do_module_init_count > 1:  # §11.2: WMT_init re-runs, the major is busy
            k.log("stpwmt_chrdev_busy", line=1528, major=D.MAJORS[D.STPWMT], ret=-errno.EBUSY)
            k.log("common_init_failed", line=58, ret=-errno.EBUSY)
            k.log("abort_connectivity_init", line=61)
            k.init_broken = True
            return -errno.EBUSY
        k.sleep("module_init")
        k.log("wmt_version", version_text="SOC Consys WMT Driver - v1.0", date="2013/01/20")
        k.log("stpwmt_installed", major=D.MAJORS[D.STPWMT])
        for ant in ("mt6620", "mt6628", "mt6630"):
            k.log("conf_unknown_field", line=323, field=f"{ant}.defAnt")
        k.nodes[D.STPWMT] = "char"
        k.core_ready_at = k.clock.now() + k.timing.delay("core_init")
        k.log("common_init_done")
        k.log("common_init_failed", line=58, ret=-1)  # the compiled-out BT part: benign (§11.2)
        if "combo-wifi-not-built" in k.faults:
            k.log("combo_wifi_not_built")
            return -1
        k.log("wlan_init_start", chip=f"{chip:x}")
        k.nodes[D.WMTWIFI] = "char"
        k.log("wifi_chrdev_init", ret=0)
        k.log("wifi_chrdev_installed", major=D.MAJORS[D.WMTWIFI])
        if "wlan-gen2-module" not in k.faults:
            k.log("wlan_gen2_init", ret=0)
        k.log("wlan_init_done")
        return -1


Row = Callable[[WmtDetect, Arg], int]

OPS: dict[str, Row] = {
    "COMBO_IOCTL_GET_CHIP_ID": WmtDetect.get_chip_id,
    "COMBO_IOCTL_SET_CHIP_ID": WmtDetect.set_chip_id,
    "COMBO_IOCTL_EXT_CHIP_DETECT": WmtDetect.minus_one,
    "COMBO_IOCTL_GET_SOC_CHIP_ID": WmtDetect.soc_chip_id,
    "COMBO_IOCTL_DO_MODULE_INIT": WmtDetect.module_init,
    "COMBO_IOCTL_MODULE_CLEANUP": WmtDetect.zero,
    "COMBO_IOCTL_EXT_CHIP_PWR_ON": WmtDetect.minus_one,
    "COMBO_IOCTL_EXT_CHIP_PWR_OFF": WmtDetect.zero,
    "COMBO_IOCTL_DO_SDIO_AUDOK": WmtDetect.zero,
}
